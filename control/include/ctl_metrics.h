/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_metrics.h - the Prometheus endpoint: GET /metrics on metrics.listener.
 *
 * libmicrohttpd serves HTTP on its own thread.  That thread never touches
 * the catalog, the server or the dataplane: a scrape asks the control thread
 * for a snapshot (ctl_server_notify() plus a notify callback), the control
 * thread -- which owns the catalog, so no topic can be created or deleted
 * meanwhile -- copies every counter and watermark into a freshly allocated
 * struct ctl_metrics_snap and hands it back under a mutex, and the HTTP
 * thread renders it as text exposition format 0.0.4 and frees it.  Counters
 * written by other threads (storage writers, dataplane lcores, a partition's
 * producer) are copied with relaxed or acquire loads; see ctl_metrics.c.
 *
 * A scrape that the control thread does not answer within 5 s (it is busy
 * opening a large topic, or stopping) gets 503.
 *
 * Consumer groups live on the control thread too: the snapshot copies each
 * group's id, state, generation and member count, and for each committed
 * offset the high watermark a Fetch of that partition would report (the
 * watermark of storage.consumer.visibility), so the lag a scrape shows is
 * the lag a consumer would see.  At most max_group_offsets committed offsets
 * are copied per scrape: a group whose offsets do not all fit in what is
 * left shows none of them (its other series stay), and the gauge
 * sluice_group_offsets_omitted says how many were left out.
 *
 * Names: everything is prefixed sluice_; counters end in _total; labels are
 * api, topic, partition, writer, reason, group, state.  docs/control.md
 * lists them.
 */
#ifndef CTL_METRICS_H
#define CTL_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ctl_group.h"
#include "ctl_server.h"

struct ctl_catalog;
struct ctl_groups;
struct ctl_uplinks;
struct ctl_uplink_stats;
struct ctl_metrics;
struct ctl_store;
struct dp_lcores;
struct dp_stats;
struct dp_lcore_stats;
struct dp_port_stats;
struct kp_api_entry;
struct st_writer_stats;

/*
 * Kafka-side counters of one partition, kept in ctl_partition.stats.  Written
 * by the control thread only (the Fetch handler adds what it sent), read by
 * the control thread when it takes a snapshot: plain fields, no atomics.
 */
struct ctl_partition_stats {
	uint64_t records_out;           /* records sent to consumers by Fetch */
	uint64_t bytes_out;             /* RecordBatch bytes sent by Fetch */
};

/* One catalog partition in a snapshot. */
struct ctl_metrics_part {
	const char *topic;
	int32_t partition;
	int64_t log_start;              /* first offset still on disk */
	int64_t log_end;                /* next offset the producer assigns (incl. the ring) */
	int64_t written, flushed, durable;
	uint64_t records_in, bytes_in;  /* committed into the ring (producer stats) */
	uint64_t ring_full;             /* refused: ring full */
	uint64_t ring_used, ring_size;  /* ring bytes not yet released by the writer; capacity */
	uint64_t ring_huge;             /* bytes of the ring's memory on hugepages (0: ordinary pages) */
	uint64_t records_out, bytes_out;/* struct ctl_partition_stats */
	int err;                        /* sticky -errno of the log (0: appending) */
};

/* One partition a dataplane lcore stores into (dp_stats_foreach_partition). */
struct ctl_metrics_dp_part {
	const char *topic;
	int32_t partition;
	uint64_t records;
};

/* A group's committed offset of one partition, and that partition's end. */
struct ctl_metrics_group_offset {
	const char *topic;
	int32_t partition;
	int64_t committed;              /* as committed (a client may commit -1) */
	int64_t log_end;                /* high watermark Fetch reports; -1: partition gone */
};

/* One consumer group in a snapshot. */
struct ctl_metrics_group {
	const char *id;
	enum ctl_group_state state;
	int32_t generation;
	unsigned int n_members;
	const struct ctl_metrics_group_offset *offsets; /* by (topic, partition); none if omitted */
	size_t n_offsets;
};

/* One hugepage size of the host (/sys/kernel/mm/hugepages/hugepages-<kB>kB). */
#define CTL_METRICS_HUGE_SIZES 4
struct ctl_metrics_hugepages {
	uint64_t size_kb;
	uint64_t total;                 /* nr_hugepages */
	uint64_t free;                  /* free_hugepages */
};

/* Everything a scrape shows, copied at one moment on the control thread. */
struct ctl_metrics_snap {
	struct ctl_server_stats server;
	const struct kp_api_entry *apis;        /* advertised APIs (kp_api_table) */
	size_t n_apis;
	const struct st_writer_stats *writers;  /* per writer thread */
	size_t n_writers;
	const struct dp_stats *dp;              /* NULL: all dataplane counters are 0 */
	const struct ctl_metrics_dp_part *dp_parts;
	size_t n_dp_parts;
	const struct dp_lcore_stats *lcores;    /* per dataplane lcore */
	size_t n_lcores;
	const struct dp_port_stats *ports;      /* per configured port */
	size_t n_ports;
	const struct ctl_metrics_part *parts;
	size_t n_parts;
	struct ctl_groups_stats group_stats;    /* zeros without a coordinator */
	size_t groups_by_state[CTL_GROUP_STATES];
	const struct ctl_metrics_group *groups; /* in id order */
	size_t n_groups;
	size_t group_offsets_omitted;   /* committed offsets not copied: over the cap or no memory */
	bool groups_nomem;              /* allocation failed: no per-group series at all */
	struct ctl_metrics_hugepages huge[CTL_METRICS_HUGE_SIZES]; /* by size, smallest first */
	size_t n_huge;
	uint64_t dpdk_heap_huge;        /* DPDK heap memory on hugepages (rte_malloc, every socket) */
	const struct ctl_uplink_stats *uplinks; /* per uplinked partition */
	size_t n_uplinks;
};

struct ctl_metrics_params {
	const char *listener;           /* metrics.listener "host:port"; "" or NULL = off */
	struct ctl_server *srv;         /* its loop answers snapshot requests */
	const struct ctl_catalog *cat;
	const struct ctl_store *store;  /* writer stats; may be NULL */
	const struct dp_lcores *lcores; /* dataplane counters; may be NULL */
	const struct ctl_groups *groups;/* the coordinator; may be NULL (no group series) */
	const struct ctl_uplinks *uplinks; /* may be NULL (no uplink series) */
	size_t max_group_offsets;       /* committed offsets copied per scrape; 0: 65536 */
	bool eal;                       /* DPDK's EAL is up: read its heap (rte_malloc) */
	const char *hugepages_dir;      /* NULL: /sys/kernel/mm/hugepages */
};

/**
 * Start the endpoint: bind @p->listener and start libmicrohttpd's thread.
 * Control thread, after ctl_server_create() and before ctl_server_run().
 * With the listener off, *@out is NULL and 0 is returned.
 *
 * @return 0, -EINVAL (bad host:port), -EADDRNOTAVAIL (unresolvable host),
 *   -ENOSPC (no notify slot left on the server), -EADDRINUSE (could not
 *   start: usually the port is taken), -ENOMEM.
 */
int ctl_metrics_create(const struct ctl_metrics_params *p, struct ctl_metrics **out);

/** The bound TCP port (useful with port 0), or 0. */
uint16_t ctl_metrics_port(const struct ctl_metrics *m);

/**
 * Stop the HTTP thread (a scrape waiting for a snapshot gets 503) and free.
 * Control thread, after ctl_server_run() has returned (the notify callback
 * stays registered on the server and must not run again) and before the
 * catalog and the server go away.  NULL is a no-op.
 */
void ctl_metrics_destroy(struct ctl_metrics *m);

/**
 * Take a snapshot (control thread: it reads the catalog and the groups).
 * Free it with ctl_metrics_snap_free().  Without @p->store, lag is measured
 * against the durable watermark (the default visibility).  Running out of
 * memory for the group copy only drops the per-group series (groups_nomem).
 * @return NULL on allocation failure.
 */
struct ctl_metrics_snap *ctl_metrics_snap_take(const struct ctl_metrics_params *p);

/** Free a snapshot from ctl_metrics_snap_take(). NULL is a no-op. */
void ctl_metrics_snap_free(struct ctl_metrics_snap *s);

/**
 * Write @s as Prometheus text exposition format 0.0.4 (HELP and TYPE lines
 * for every family, series in a stable order).  Any thread; pure.
 *
 * @return 0 or -EIO (a write to @out failed).
 */
int ctl_metrics_render(const struct ctl_metrics_snap *s, FILE *out);

#endif /* CTL_METRICS_H */
