/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_eal.c - EAL command line from the configuration, and EAL bring-up.
 *
 * The operator's own EAL arguments (config "eal:" list and the arguments
 * after "--") are passed through untouched; we only add what the rest of the
 * configuration implies, so that a port or an lcore is named in one place.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <mntent.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_memory.h>
#include <rte_pdump.h>

#include "dp_eal.h"
#include "dp_port.h"

RTE_LOG_REGISTER(dp_logtype, sluice.dataplane, INFO);

static int args_push(struct dp_eal_args *a, const char *s)
{
	if (a->argc >= DP_EAL_ARGV_MAX)
		return -E2BIG;
	snprintf(a->store[a->argc], sizeof(a->store[0]), "%s", s);
	a->argv[a->argc] = a->store[a->argc];
	a->argc++;
	a->argv[a->argc] = NULL;
	return 0;
}

static int args_has_lcores(const char *const *v, int n)
{
	for (int i = 0; i < n; i++) {
		const char *s = v[i];

		if (!strcmp(s, "-l") || !strcmp(s, "-c") || !strncmp(s, "--lcores", 8) ||
		    (s[0] == '-' && (s[1] == 'l' || s[1] == 'c') && s[2] != '\0' && s[1] != '-'))
			return 1;
	}
	return 0;
}

/* "-l <main>,<lcore>..." and "--main-lcore <main>" from control.cpu and rx.lcores. */
static int args_push_lcores(const struct fwc_config *cfg, struct dp_eal_args *a)
{
	char list[FWC_STR_MAX] = "";
	char main_lcore[16];
	int seen[FWC_MAX_CPUS] = { 0 };
	int main_id = cfg->control.cpu >= 0 ? cfg->control.cpu : 0;
	size_t off = 0;
	int rc;

	if (main_id >= FWC_MAX_CPUS)
		return -EINVAL;
	seen[main_id] = 1;
	off += snprintf(list + off, sizeof(list) - off, "%d", main_id);
	for (unsigned int p = 0; p < cfg->dataplane.n_ports; p++) {
		const struct fwc_port *port = &cfg->dataplane.ports[p];

		for (unsigned int q = 0; q < port->rx_queues; q++) {
			int l = port->rx_lcores[q];

			if (l < 0 || l >= FWC_MAX_CPUS || seen[l])
				continue;
			seen[l] = 1;
			off += snprintf(list + off, sizeof(list) - off, ",%d", l);
			if (off >= sizeof(list))
				return -E2BIG;
		}
	}
	snprintf(main_lcore, sizeof(main_lcore), "%d", main_id);
	if ((rc = args_push(a, "-l")) < 0 || (rc = args_push(a, list)) < 0 ||
	    (rc = args_push(a, "--main-lcore")) < 0 || (rc = args_push(a, main_lcore)) < 0)
		return rc;
	return 0;
}

static int args_push_ports(const struct fwc_config *cfg, struct dp_eal_args *a)
{
	char arg[FWC_STR_MAX + 16];
	int rc;

	for (unsigned int p = 0; p < cfg->dataplane.n_ports; p++) {
		const struct fwc_port *port = &cfg->dataplane.ports[p];

		if (dp_port_is_vdev(port))
			snprintf(arg, sizeof(arg), "--vdev=%s", port->device);
		else
			snprintf(arg, sizeof(arg), "--allow=%s", port->device);
		if ((rc = args_push(a, arg)) < 0)
			return rc;
	}
	return 0;
}

static int args_find(const char *const *v, int n, const char *opt)
{
	size_t len = strlen(opt);

	for (int i = 0; i < n; i++)
		if (!strncmp(v[i], opt, len) && (v[i][len] == '\0' || v[i][len] == '='))
			return 1;
	return 0;
}

/*
 * "--no-huge" anywhere (typically "sluiced -- --no-huge" on a machine with no
 * hugepages reserved) turns the configured memory mode into one EAL accepts
 * without hugepages: EAL refuses --in-memory together with --no-huge, and
 * needs --no-shconf and a memory size instead.
 */
static int args_push_no_huge(const char *const *eal, int n_eal, int extra_argc,
			     char *const extra_argv[], struct dp_eal_args *out)
{
	const char *const *extra = (const char *const *)extra_argv;
	int rc = 0;

	if (!args_find(eal, n_eal, "--no-shconf") && !args_find(extra, extra_argc, "--no-shconf"))
		rc = args_push(out, "--no-shconf");
	if (rc == 0 && !args_find(eal, n_eal, "-m") && !args_find(extra, extra_argc, "-m") &&
	    !args_find(eal, n_eal, "--socket-mem") && !args_find(extra, extra_argc, "--socket-mem")) {
		if ((rc = args_push(out, "-m")) == 0)
			rc = args_push(out, DP_EAL_NO_HUGE_MB);
	}
	return rc;
}

int dp_eal_hugetlbfs_mounted(void)
{
	FILE *f = setmntent("/proc/mounts", "r");
	struct mntent *e;
	int found = 0;

	if (f == NULL)
		return 0;
	while (!found && (e = getmntent(f)) != NULL)
		found = strcmp(e->mnt_type, "hugetlbfs") == 0;
	endmntent(f);
	return found;
}

/*
 * No memory mode given (neither --in-memory, --no-shconf, --no-huge nor
 * --huge-dir): shared hugepage files when a hugetlbfs is mounted, so that
 * secondary processes (dpdk-dumpcap, dpdk-proc-info) can attach; else
 * --in-memory, which needs no mount.
 */
static int args_memory_mode(const char *const *eal, int n_eal, const char *const *extra,
			    int extra_argc)
{
	static const char *const modes[] = { "--in-memory", "--no-shconf", "--no-huge",
					     "--huge-dir" };

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (args_find(eal, n_eal, modes[i]) || args_find(extra, extra_argc, modes[i]))
			return 0;
	return dp_eal_hugetlbfs_mounted() ? 0 : 1;
}

int dp_eal_args_build(const struct fwc_config *cfg, int extra_argc, char *const extra_argv[],
		      struct dp_eal_args *out)
{
	const char *eal[FWC_MAX_EAL_ARGS] = { NULL };
	int n_eal = 0, no_huge;
	int rc;

	memset(out, 0, sizeof(*out));
	for (unsigned int i = 0; i < cfg->dataplane.n_eal_args; i++)
		eal[n_eal++] = cfg->dataplane.eal_args[i];
	no_huge = args_find(eal, n_eal, "--no-huge") ||
		  args_find((const char *const *)extra_argv, extra_argc, "--no-huge");
	if ((rc = args_push(out, "sluiced")) < 0)
		return rc;
	for (int i = 0; i < n_eal; i++) {
		if (no_huge && !strcmp(eal[i], "--in-memory"))
			continue;
		if ((rc = args_push(out, eal[i])) < 0)
			return rc;
	}
	if (no_huge && (rc = args_push_no_huge(eal, n_eal, extra_argc, extra_argv, out)) < 0)
		return rc;
	if (args_memory_mode(eal, n_eal, (const char *const *)extra_argv, extra_argc) &&
	    (rc = args_push(out, "--in-memory")) < 0)
		return rc;
	if (!args_has_lcores(eal, n_eal) &&
	    !args_has_lcores((const char *const *)extra_argv, extra_argc) &&
	    (rc = args_push_lcores(cfg, out)) < 0)
		return rc;
	if ((rc = args_push_ports(cfg, out)) < 0)
		return rc;
	if (!args_find(eal, n_eal, "--file-prefix") &&
	    !args_find((const char *const *)extra_argv, extra_argc, "--file-prefix") &&
	    (rc = args_push(out, DP_EAL_FILE_PREFIX)) < 0)
		return rc;
	for (int i = 0; i < extra_argc; i++)
		if ((rc = args_push(out, extra_argv[i])) < 0)
			return rc;
	return 0;
}

void dp_eal_args_print(const struct dp_eal_args *args, FILE *out)
{
	for (int i = 0; i < args->argc; i++)
		fprintf(out, "%s%s", i ? " " : "", args->argv[i]);
	fputc('\n', out);
}

int dp_eal_init(struct dp_eal_args *args)
{
	/* EAL permutes and keeps pointers into argv: hand it a private copy. */
	char *argv[DP_EAL_ARGV_MAX + 1];
	int rc;

	memcpy(argv, args->argv, sizeof(argv));
	rc = rte_eal_init(args->argc, argv);
	if (rc < 0) {
		rc = rte_errno ? -rte_errno : -EINVAL;
		rte_log(RTE_LOG_ERR, dp_logtype, "DP: EAL initialisation failed: %s\n",
			rte_strerror(-rc));
		return rc;
	}
	/*
	 * Packet capture by dpdk-dumpcap / dpdk-pdump: they ask us, as secondary
	 * processes, to copy what a port receives into their ring.  Without
	 * shared files (--in-memory, --no-shconf, --no-huge) there is no IPC
	 * and no secondary process: say so once and run on.
	 */
	if (rte_pdump_init() < 0)
		rte_log(RTE_LOG_NOTICE, dp_logtype, "DP: packet capture (dpdk-dumpcap) unavailable: "
			"%s (EAL runs without shared files: --in-memory, --no-shconf or --no-huge)\n",
			rte_strerror(rte_errno));
	else
		rte_log(RTE_LOG_INFO, dp_logtype, "DP: packet capture ready: dpdk-dumpcap "
			"--file-prefix=%s -i PORT\n", dp_eal_file_prefix(args));
	return 0;
}

const char *dp_eal_file_prefix(const struct dp_eal_args *args)
{
	const char *p = "rte";

	for (int i = 1; i < args->argc; i++) {
		const char *a = args->argv[i];

		if (!strncmp(a, "--file-prefix=", 14))
			p = a + 14;
		else if (!strcmp(a, "--file-prefix") && i + 1 < args->argc)
			p = args->argv[i + 1];
	}
	return p;
}

/* Where our hugepage files are: the directory and the "<prefix>map_" name start. */
struct huge_files {
	char dir[PATH_MAX];
	char start[NAME_MAX];
};

/* rte_memseg_walk: the first segment backed by a hugetlbfs file of ours names the directory. */
static int huge_files_find(const struct rte_memseg_list *msl, const struct rte_memseg *ms,
			   void *arg)
{
	struct huge_files *h = arg;
	char link[64], path[PATH_MAX];
	int fd = rte_memseg_get_fd_thread_unsafe(ms);
	const char *base;
	ssize_t n;

	(void)msl;
	if (fd < 0)
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return 0;
	path[n] = '\0';
	base = strrchr(path, '/');
	/* memfd segments (--in-memory) read "/memfd:..." and have no file to remove */
	if (!base || base == path || strncmp(base + 1, h->start, strlen(h->start)) != 0)
		return 0;
	snprintf(h->dir, sizeof(h->dir), "%.*s", (int)(base - path), path);
	return 1;
}

/* Unlink <dir>/<prefix>map_*: EAL keeps them (and their pages) after rte_eal_cleanup. */
static void huge_files_remove(const struct huge_files *h)
{
	DIR *d = opendir(h->dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (!strncmp(e->d_name, h->start, strlen(h->start)))
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
}

void dp_eal_fini(void)
{
	struct huge_files h = { .dir = "" };
	const char *rt = rte_eal_get_runtime_dir();
	const char *prefix = rt ? strrchr(rt, '/') : NULL;

	rte_pdump_uninit();
	if (prefix && rte_eal_process_type() == RTE_PROC_PRIMARY) {
		snprintf(h.start, sizeof(h.start), "%smap_", prefix + 1);
		rte_memseg_walk(huge_files_find, &h);
	}
	rte_eal_cleanup();
	if (h.dir[0])
		huge_files_remove(&h);
}
