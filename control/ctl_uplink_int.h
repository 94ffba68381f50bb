/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_uplink_int.h - the uplink's internals, shared by its lifecycle and
 * cursor commits (ctl_uplink.c, control thread), the shipping thread
 * (ctl_uplink_ship.c) and the resume from the remote tail
 * (ctl_uplink_resume.c).  Private to control/.
 */
#ifndef CTL_UPLINK_INT_H
#define CTL_UPLINK_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "ctl_uplink.h"

struct st_partition;
struct fwc_uplink;

#define UL_READ_BYTES (256u << 10)      /* local bytes read per partition per pass */
#define UL_STATS_MS 250                 /* lag figures, cursor posts and holds */
#define UL_RETRY_MS 1000                /* after a failed connect or a producer reset */
#define UL_RESUME_TIMEOUT_MS 10000      /* reading the remote tail */
#define UL_FLUSH_MS 1000                /* at stop */

/* One partition.  "thread" fields belong to the topic's thread. */
struct ul_part {
	struct st_partition *p;
	int32_t partition, remote_partition;
	int64_t next;                   /* thread: next local offset to read */
	bool stalled;                   /* thread: a batch it cannot ship (compressed) */
	_Atomic int64_t acked;          /* next offset not acknowledged (thread writes) */
	_Atomic int64_t committed;      /* durable cursor (control thread writes; -1: none) */
	int64_t posting;                /* control: offset of the commit in flight */
	_Atomic uint64_t records, errors, lost;
	_Atomic int64_t lag_records, lag_bytes, lag_ms;
};

/* One uplinked topic: its thread, producer and partitions. */
struct ul_topic {
	struct ctl_uplinks *u;
	const struct fwc_uplink *cfg;
	const char *name;               /* local topic */
	const char *remote;             /* remote topic */
	char group[300];                /* CTL_UPLINK_GROUP_PREFIX + name */
	int32_t n_parts;
	struct ul_part *parts;
	pthread_t thread;
	bool started;
	atomic_bool stop;
	atomic_bool connected;
	bool committing;                /* control: a cursor commit in flight */
	/* thread only */
	rd_kafka_t *rk;
	rd_kafka_topic_t *rkt;
	bool reset;                     /* a delivery or fatal error: start over */
	uint64_t qmax;                  /* queue.buffering.max.messages */
};

struct ctl_uplinks {
	struct ctl_groups *gs;
	struct ctl_server *srv;
	struct ctl_notifier *notifier;  /* threads -> control thread: acked moved */
	size_t n_topics, n_parts;
	struct ul_topic *topics;
};

/* ctl_uplink_ship.c: the thread. */
void *ul_thread(void *arg);
/* Producer configuration: ours, then the user's properties. NULL on error (logged). */
rd_kafka_conf_t *ul_conf(const struct ul_topic *t, bool producer);

/* ctl_uplink_resume.c */
/**
 * Where each partition resumes: max(durable cursor, 1 + the sluice.offset
 * of the remote partition's last record).  Sets next and acked.
 * @return 0, or -errno (the cluster could not be read: try later).
 */
int ul_resume(struct ul_topic *t);

int64_t ul_now_ms(void);

#endif /* CTL_UPLINK_INT_H */
