/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_eal.h - bring up the DPDK Environment Abstraction Layer from the
 * appliance configuration.
 *
 * The EAL command line is assembled from, in order: the program name, the
 * config's dataplane.eal list, an lcore list derived from the config (the
 * control cpu as main lcore plus every lcore named in rx.lcores) unless the
 * operator already gave -l/-c/--lcores, one --vdev per virtual port
 * ("net_*" devices) and one -a per PCI port, and finally the arguments given
 * after "--" on sluiced's command line, which win over everything before them.
 *
 * Unless a --file-prefix is given, "--file-prefix=sluice" is added: EAL's
 * default prefix "rte" is shared by every DPDK program on the host, and a
 * second process on one prefix blocks in rte_telemetry_init() connecting to
 * the first one's telemetry socket whenever that process is not accepting
 * (stopped, traced, under valgrind).  A fixed name of our own keeps
 * `dpdk-telemetry.py -f sluice` and the other secondary tools simple;
 * several sluiced on one host give each its own prefix after "--".
 *
 * Memory: when neither the configuration nor "--" gives a memory mode
 * (--in-memory, --no-shconf, --no-huge, --huge-dir), EAL keeps its hugepages
 * in files of a hugetlbfs mount (<mount>/<prefix>map_*) and its runtime
 * state in /var/run/dpdk/<prefix>/, so secondary processes -- dpdk-dumpcap
 * for packet capture, dpdk-proc-info -- can attach; with no hugetlbfs
 * mounted, "--in-memory" is added instead (hugepages without files, nothing
 * to attach to).  dp_eal_init() calls rte_pdump_init() for dpdk-dumpcap.
 * docs/operations.md has the costs of each mode.
 *
 * "--no-huge" given anywhere drops a configured --in-memory (EAL refuses the
 * pair) and adds --no-shconf and "-m 512" unless a memory size is given, so
 * any configuration runs on a machine without hugepages by appending
 * "-- --no-huge".
 */
#ifndef DP_EAL_H
#define DP_EAL_H

#include <stdio.h>
#include "fwc_config.h"

#define DP_EAL_ARGV_MAX 128
#define DP_EAL_NO_HUGE_MB "512"  /* -m for --no-huge when none is given */
#define DP_EAL_FILE_PREFIX "--file-prefix=sluice"  /* unless one is given */

struct dp_eal_args {
	int argc;
	char *argv[DP_EAL_ARGV_MAX + 1];
	char store[DP_EAL_ARGV_MAX][FWC_STR_MAX + 16];
};

/** Log type of the dataplane module (rte_log). */
extern int dp_logtype;

/**
 * Assemble the EAL argument vector.
 *
 * @return 0, or -E2BIG when it would exceed DP_EAL_ARGV_MAX arguments.
 */
int dp_eal_args_build(const struct fwc_config *cfg, int extra_argc, char *const extra_argv[],
		      struct dp_eal_args *out);

/** Print the argument vector on one line (for the startup log and --dry-run). */
void dp_eal_args_print(const struct dp_eal_args *args, FILE *out);

/**
 * rte_eal_init() with @args (the vector is consumed by EAL, so pass a copy),
 * then rte_pdump_init() (packet capture; unavailable without shared files:
 * logged, not an error).
 *
 * @return 0, or -errno (rte_errno) with an error logged.
 */
int dp_eal_init(struct dp_eal_args *args);

/** The EAL file prefix @args name (the last --file-prefix), "rte" without one. */
const char *dp_eal_file_prefix(const struct dp_eal_args *args);

/** 1 if a hugetlbfs is mounted (/proc/mounts), else 0. */
int dp_eal_hugetlbfs_mounted(void);

/**
 * rte_pdump_uninit(), rte_eal_cleanup(), then remove the primary's
 * hugepage files (<hugetlbfs dir>/<prefix>map_*), which EAL leaves behind
 * holding their pages until the next start on that prefix.
 */
void dp_eal_fini(void);

#endif /* DP_EAL_H */
