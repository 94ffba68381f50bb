/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_telemetry.h - Sluice's commands on DPDK's telemetry socket
 * (<runtime dir>/dpdk_telemetry.v2, e.g. /var/run/dpdk/sluice/), next to
 * DPDK's own /ethdev/stats and friends, so `dpdk-telemetry.py -f sluice`
 * shows the appliance:
 *
 *   /sluice/stats       dataplane counters: totals, drops by reason, and per
 *                       lcore and per port (columns: lcore_*, port_*)
 *   /sluice/partitions  per partition (columns): records and bytes in,
 *                       watermarks written/flushed/durable, ring fill, I/O
 *                       error; a parameter names one topic
 *   /sluice/config      the effective configuration: ports, topics, rules,
 *                       the key broker and storage settings
 *
 * DPDK 22.11 can nest only arrays of scalars in a reply, so lists of objects
 * are given as columns: equal-length arrays, one per field, index i of each
 * describing the same lcore, port or partition.
 *
 * The callbacks run on DPDK's telemetry threads (one per client).  They
 * never read the catalog: /sluice/stats and /sluice/partitions ask the
 * control thread for the same snapshot a metrics scrape gets (ctl_snapq.h),
 * so the lcores are read with relaxed loads and never locked.  /sluice/config
 * reads the configuration, which does not change after start.
 *
 * DPDK 22.11's callbacks take no argument and cannot be unregistered, so
 * the running instance is found through one static pointer under a mutex;
 * after ctl_telemetry_stop() the commands answer null.
 */
#ifndef CTL_TELEMETRY_H
#define CTL_TELEMETRY_H

#include "ctl_metrics.h"
#include "fwc_config.h"

struct ctl_telemetry;

/**
 * Register the commands (once per process) and make them answer from @cfg
 * and snapshots taken with @mp (its srv, cat, store, lcores, groups).
 * Control thread, before ctl_server_run().  One instance at a time.
 *
 * @return 0, -EBUSY (another instance runs), -ENOSPC (no notify slot on
 *   the server), -ENOMEM, or rte_telemetry_register_cmd's error.
 */
int ctl_telemetry_start(const struct fwc_config *cfg, const struct ctl_metrics_params *mp,
			struct ctl_telemetry **out);

/**
 * Detach: a command running now returns at once (null), later ones answer
 * null.  Control thread, after ctl_server_run() has returned and before
 * anything @mp points to goes away.  NULL is a no-op.
 */
void ctl_telemetry_stop(struct ctl_telemetry *t);

#endif /* CTL_TELEMETRY_H */
