/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_uplink.h - mirror topics into a Kafka cluster (topics.<t>.uplink;
 * docs/scale-out.md).
 *
 * One thread per uplinked topic, never a dataplane lcore nor the control
 * thread, reads the topic's durable records with the storage read path the
 * Fetch handler uses (st_log_read) and produces every record -- key, value,
 * headers plus "sluice.offset" (the local offset, decimal), timestamp,
 * explicit partition (local + partition.offset) -- with librdkafka's
 * idempotent producer (acks=all, no message timeout).  Its queue is
 * bounded: while the cluster is away or slow the thread simply stops
 * reading, and capture goes on locally.
 *
 * The cursor of a partition -- the next local offset the cluster has not
 * acknowledged -- is an offset commit of the group "__sluice.uplink.<topic>"
 * in __consumer_offsets (ctl_groups_commit), written by the control thread
 * when the uplink thread posts a newer acknowledgement, and taken as the
 * cursor only once durable.  Retention is held at the durable cursor
 * (st_log_set_retain_hold) unless uplink.retention.override is true; then
 * what retention removed before it was shipped is counted as lost.
 *
 * After a start or a producer error the thread resumes from the cursor,
 * but first reads the last record of every remote partition: its
 * sluice.offset says what was delivered beyond the cursor (the producer's
 * idempotence state does not survive a restart), and that is skipped.
 *
 * Threads: create/start/stop/destroy and the commit path run on the control
 * thread; ctl_uplinks_stats() on any thread (atomics).
 */
#ifndef CTL_UPLINK_H
#define CTL_UPLINK_H

#include <stddef.h>
#include <stdint.h>

struct ctl_catalog;
struct ctl_groups;
struct ctl_server;
struct fwc_config;
struct ctl_uplinks;

#define CTL_UPLINK_GROUP_PREFIX "__sluice.uplink."
#define CTL_UPLINK_OFFSET_HEADER "sluice.offset"

/* One partition's uplink, as the metrics show it. */
struct ctl_uplink_stats {
	const char *topic;              /* local topic (lives as long as the uplinks) */
	const char *remote_topic;
	int32_t partition;              /* local partition */
	int32_t remote_partition;
	int64_t cursor;                 /* durable cursor: next offset to ship (-1: none yet) */
	int64_t acked;                  /* next offset not acknowledged by the cluster */
	int64_t lag_records;            /* durable log end - acked */
	int64_t lag_bytes;              /* log bytes from the batch holding acked to the end */
	double lag_seconds;             /* age of the batch holding acked (0 without lag) */
	uint64_t records;               /* acknowledged by the cluster */
	uint64_t errors;                /* delivery errors, producer errors, failed resumes */
	uint64_t lost;                  /* deleted by retention before shipped (override) */
	int connected;                  /* 1 when a producer runs and has resumed */
};

/**
 * Prepare an uplink per topic with one (no thread yet): look up each topic's
 * partitions in @cat, read the durable cursors from @gs (replayed at its
 * creation), and hold retention at them.  Control thread.  *@out is NULL
 * when no topic has an uplink.
 * @return 0, -ENOMEM, -ENOENT (a topic is missing from the catalog).
 */
int ctl_uplinks_create(const struct fwc_config *cfg, struct ctl_catalog *cat,
		       struct ctl_groups *gs, struct ctl_uplinks **out);

/**
 * Start the threads; their cursor commits run on @srv's loop.  Control
 * thread, after ctl_groups_start.  NULL is a no-op.
 * @return 0, -ENOSPC (notify hooks full), -errno of pthread_create.
 */
int ctl_uplinks_start(struct ctl_uplinks *u, struct ctl_server *srv);

/**
 * Stop and join the threads (each gives its producer one second to flush),
 * and unhook from the server.  Control thread, after ctl_server_run()
 * returned and before the server is destroyed.  NULL is a no-op.
 */
void ctl_uplinks_stop(struct ctl_uplinks *u);

/** Free, after ctl_groups_destroy (commit callbacks are gone).  NULL is a no-op. */
void ctl_uplinks_destroy(struct ctl_uplinks *u);

/** Number of uplinked partitions (all topics). */
size_t ctl_uplinks_count(const struct ctl_uplinks *u);

/** The i-th partition's figures.  Any thread.  @return 0 or -ENOENT. */
int ctl_uplinks_stats(const struct ctl_uplinks *u, size_t i, struct ctl_uplink_stats *out);

#endif /* CTL_UPLINK_H */
