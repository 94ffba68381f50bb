/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_group.h - the group coordinator: consumer groups, their members and
 * their committed offsets, kept in the internal topic __consumer_offsets.
 *
 * This broker coordinates every group (FindCoordinator answers ourselves).
 * The state machine is Kafka's GroupCoordinator (docs/control.md, "Consumer
 * groups"):
 *
 *   Empty --join--> PreparingRebalance --all joined / rebalance timeout-->
 *   CompletingRebalance --leader's SyncGroup, stored--> Stable
 *   Stable/CompletingRebalance --join, leave, session expiry--> PreparingRebalance
 *   PreparingRebalance --no member left--> Empty;  Empty, offsets expired --> Dead
 *
 * JoinGroup and SyncGroup responses are parked (CTL_DISP_PENDING) until the
 * phase completes; heartbeats are one ctl_timer per member, the join phase
 * one per group, so nothing polls.
 *
 * Durability: an offset commit and the group's metadata after each
 * completed rebalance are records of __consumer_offsets (Kafka's key and
 * value schemas), appended by the control thread like any Produce and
 * acknowledged only once the partition's durable watermark covers them.
 * At start the coordinator replays every partition of the topic (last
 * record per key wins, a null value is a tombstone) and restores the groups
 * and their offsets.  The topic is created on the first group request with
 * offsets.topic.num.partitions partitions; a group lives in partition
 * abs(javaHashCode(group_id)) % partitions.
 *
 * Retention of that topic is compaction by copy: time and size retention
 * are off for it; when most of a partition's records are superseded, the
 * coordinator appends the live records again and, once they are durable,
 * lets storage delete the whole segments below the oldest live record
 * (st_partition_delete_below).  The last record of every live key is never
 * deleted.  Offsets of an Empty group expire offsets.retention.minutes after
 * the group emptied (of a group with no protocol, the simple consumer's,
 * after their commit), checked every offsets.retention.check.interval.ms.
 *
 * Threads: everything runs on the control thread.
 */
#ifndef CTL_GROUP_H
#define CTL_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl_server.h"
#include "kp_buf.h"

struct ctl_catalog;
struct ctl_topic;
struct fwc_config;

#define CTL_GROUP_TOPIC "__consumer_offsets"
/*
 * Group ids the appliance keeps for itself (the uplink's cursors,
 * "__sluice.uplink.<topic>"): their offsets never expire, and a client's
 * OffsetCommit to one is refused (INVALID_GROUP_ID).
 */
#define CTL_GROUP_INTERNAL_PREFIX "__sluice."

enum ctl_group_state {
	CTL_GROUP_EMPTY = 0,
	CTL_GROUP_PREPARING_REBALANCE,
	CTL_GROUP_COMPLETING_REBALANCE,
	CTL_GROUP_STABLE,
	CTL_GROUP_DEAD,
	CTL_GROUP_STATES
};

/** Kafka's name of a state ("PreparingRebalance"). */
const char *ctl_group_state_name(enum ctl_group_state s);

/* A protocol a member supports: name and its metadata (the subscription). */
struct ctl_member_proto {
	char *name;
	uint8_t *meta;
	int32_t meta_len;
};

struct ctl_group;

struct ctl_member {
	struct ctl_member *next;
	struct ctl_group *g;
	char *id;
	char *instance_id;              /* group.instance.id, or NULL (kept, not used for identity) */
	char *client_id;
	char *client_host;
	int32_t session_timeout_ms;
	int32_t rebalance_timeout_ms;
	struct ctl_member_proto *protos;
	unsigned int n_protos;
	uint8_t *assignment;            /* from the leader's SyncGroup */
	int32_t assignment_len;
	struct ctl_resp *join_resp;     /* parked JoinGroup response, or NULL */
	int16_t join_version;
	struct ctl_resp *sync_resp;     /* parked SyncGroup response, or NULL */
	int16_t sync_version;
	bool pending;                   /* MEMBER_ID_REQUIRED given, not yet joined */
	bool is_new;                    /* joined in the current rebalance */
	struct ctl_timer session;       /* heartbeat expiry */
};

/* A committed offset. */
struct ctl_offset {
	char *topic;
	int32_t partition;
	int64_t offset;
	int32_t leader_epoch;
	char *metadata;
	int64_t commit_ts;
	int64_t record;                 /* its record's offset in __consumer_offsets */
};

struct ctl_groups;

struct ctl_group {
	struct ctl_groups *gs;
	char *id;
	enum ctl_group_state state;
	int32_t generation;
	char *protocol_type;            /* NULL: none yet (standalone commits only) */
	char *protocol;                 /* chosen at the last join, or NULL */
	char *leader;                   /* member id, or NULL */
	int64_t state_ts;               /* when the state last changed (ms, wall clock) */
	int32_t coord_partition;        /* its partition of __consumer_offsets */
	struct ctl_member *members;     /* joined members, in join order */
	unsigned int n_members;
	struct ctl_member *pendings;    /* MEMBER_ID_REQUIRED, awaiting their second join */
	struct ctl_offset *offsets;     /* sorted by (topic, partition) */
	size_t n_offsets, cap_offsets;
	int64_t meta_record;            /* offset of its latest metadata record, -1: none */
	struct ctl_timer join_timer;    /* the join phase's deadline */
	int64_t join_deadline_ns;       /* initial delay: the rebalance timeout caps extensions */
	bool initial_delay;             /* the join phase is group.initial.rebalance.delay.ms's */
	unsigned int storing;           /* its writes in flight (it is not removed meanwhile) */
};

/* Coordinator counters (control thread; read by metrics snapshots). */
struct ctl_groups_stats {
	uint64_t rebalances;            /* join phases completed */
	uint64_t members_expired;       /* removed after their session timeout */
	uint64_t commits;               /* OffsetCommit partitions stored */
	uint64_t offsets_expired;       /* removed by offsets.retention.minutes */
	uint64_t compactions;           /* copy-forward passes over a partition */
	uint64_t records_replayed;      /* at start */
};

/**
 * Create the coordinator over @cat (whose configuration gives the group
 * settings) and replay __consumer_offsets if the topic exists.  Records
 * that do not parse are counted, logged once per partition, and skipped.
 * @return 0, -ENOMEM, -errno from reading the log.
 */
int ctl_groups_create(struct ctl_catalog *cat, const struct fwc_config *cfg,
		      struct ctl_groups **out);

/**
 * Bind to the server loop: arms the restored members' session timers, the
 * expiry and compaction timer, and the durable-watermark notify hook.
 * Before this (and without a server) group requests are answered with
 * COORDINATOR_NOT_AVAILABLE.  @return 0 or -ENOSPC (notify hooks full).
 */
int ctl_groups_start(struct ctl_groups *gs, struct ctl_server *srv);

/**
 * Free everything, after the server is destroyed (parked responses are
 * then orphans, completed here).  NULL is a no-op.
 */
void ctl_groups_destroy(struct ctl_groups *gs);

/** Groups in id order; the i-th. */
size_t ctl_groups_count(const struct ctl_groups *gs);
struct ctl_group *ctl_groups_at(const struct ctl_groups *gs, size_t i);
/** Find by id (view), or NULL. */
struct ctl_group *ctl_groups_find(const struct ctl_groups *gs, const char *id, size_t len);
const struct ctl_groups_stats *ctl_groups_stats(const struct ctl_groups *gs);

/** Is @id (view) one of the appliance's own group ids? */
bool ctl_group_id_internal(const char *id, size_t len);

/**
 * Commit offsets for the appliance's own group @group (a simple consumer's
 * commit: no member, no generation), @n partitions of @topic in one record
 * batch of __consumer_offsets.  @done runs on the control thread once the
 * batch is durable and the offsets are applied (err 0), or failed; never
 * before this returns.  Control thread, after ctl_groups_start.
 * @return 0, or a Kafka error now (@done not called).
 */
int16_t ctl_groups_commit(struct ctl_groups *gs, const char *group, const char *topic,
			  const int32_t *partitions, const int64_t *offsets, int32_t n,
			  void (*done)(void *arg, int16_t err), void *arg);

/** The committed offset of @group for @topic / @partition, or -1 (none). */
int64_t ctl_groups_committed(const struct ctl_groups *gs, const char *group, const char *topic,
			     int32_t partition);

/** The partition of __consumer_offsets for @group (Java String.hashCode over UTF-16). */
int32_t ctl_group_partition_for(const char *group, size_t len, int32_t n_partitions);

#endif /* CTL_GROUP_H */
