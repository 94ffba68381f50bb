/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_group_int.h - coordinator internals shared by the state machine
 * (ctl_group.c, ctl_group_rebalance.c), its log (ctl_group_log.c) and the
 * wire handlers (kp_group.c).  Control thread only.
 */
#ifndef CTL_GROUP_INT_H
#define CTL_GROUP_INT_H

#include "ctl_group.h"
#include "fwc_log.h"
#include "kp_buf.h"
#include "kp_err.h"

struct st_partition;
struct grp_write;

/* Per partition of __consumer_offsets: what compaction needs. */
struct grp_part {
	int64_t live;                   /* keys whose latest record is not a tombstone */
	int64_t floor;                  /* offsets below are superseded (handed to storage) */
	bool compacting;                /* a copy-forward pass is being written */
};

struct ctl_groups {
	struct ctl_catalog *cat;
	const struct fwc_config *cfg;
	struct ctl_server *srv;         /* NULL until ctl_groups_start */
	struct ctl_topic *topic;        /* __consumer_offsets, NULL until first needed */
	struct grp_part *parts;         /* topic->n_partitions */
	struct ctl_group **groups;      /* sorted by id */
	size_t n_groups, cap_groups;
	struct grp_write *w_head, *w_tail; /* appends in flight, in order */
	struct ctl_timer tick;          /* retries appends refused by a full ring */
	struct ctl_timer maint;         /* offsets.retention.check.interval.ms */
	struct ctl_groups_stats st;
	uint64_t replay_bad;            /* records that did not parse at replay */
	struct fwc_ratelimit state_log; /* the groups' state-change lines (clients cause them) */
};

/* ---- ctl_group.c: the groups ---------------------------------------------- */

int64_t grp_wall_ms(void);
char *grp_strdup(struct kp_str s);
/** Does the C string @c equal the view @s?  (Never when either is NULL.) */
bool grp_str_is(const char *c, struct kp_str s);
/** Find or (with @create) add a group; NULL: absent, or no memory. */
struct ctl_group *grp_get(struct ctl_groups *gs, struct kp_str id, bool create);
/*
 * group.max.count reached: a request may not create another group (groups
 * replayed from __consumer_offsets are not refused: they exist already).
 */
bool grp_count_full(const struct ctl_groups *gs);
/** Remove a Dead group with nothing in flight and free it. */
void grp_remove(struct ctl_group *g);
struct ctl_member *grp_member(const struct ctl_group *g, struct kp_str id);
struct ctl_offset *grp_offset_find(const struct ctl_group *g, const char *topic, size_t len,
				   int32_t partition);
/** Set (insert) an offset; the strings are copied. @return it, or NULL: no memory. */
struct ctl_offset *grp_offset_set(struct ctl_group *g, const char *topic, size_t tlen,
				  int32_t partition, int64_t offset, int32_t leader_epoch,
				  const char *meta, size_t mlen, int64_t commit_ts, int64_t record);
void grp_offset_delete(struct ctl_group *g, struct ctl_offset *o);
void grp_member_free(struct ctl_member *m);
void grp_set_state(struct ctl_group *g, enum ctl_group_state s);
/**
 * OffsetCommit's group checks (Kafka's handleCommitOffsets): the group to
 * store into in *@g (created for a standalone commit), or the error for
 * every partition.  @can_wait: a server loop will see the append through.
 */
int16_t grp_commit_begin(struct ctl_groups *gs, struct kp_str group_id, int32_t generation,
			 struct kp_str member_id, bool can_wait, struct ctl_group **g);

/* ---- ctl_group_rebalance.c: the membership protocol ----------------------- */

/** @m's protocol named @name (its metadata), or NULL. */
const struct ctl_member_proto *grp_member_proto(const struct ctl_member *m, const char *name);
/** Refresh a member's session (any join/sync/heartbeat/commit). */
void grp_member_touch(struct ctl_member *m);
/** A member's session timer fired. */
void grp_session_fire(void *arg, struct ctl_timer *t);
/** A group's join timer fired: end the join phase (or the initial delay) if it is time. */
void grp_join_fire(void *arg, struct ctl_timer *t);

/* JoinGroup as parsed (views into the frame). */
struct grp_join {
	struct kp_str group_id, member_id, instance_id, protocol_type, client_id;
	const char *client_host;
	int32_t session_timeout_ms, rebalance_timeout_ms;
	int16_t version;
	int32_t n_protos;
	struct { struct kp_str name, meta; } *protos;
};

/*
 * JoinGroup.  Either answers now (returns an error or, for a rejoin that
 * changes nothing, KP_ERR_NONE with *@now_member set: the caller writes the
 * current generation's answer) or parks @resp on the member (returns
 * KP_ERR_NONE, *@now_member NULL): the join phase answers it.  For
 * MEMBER_ID_REQUIRED, *@new_id is the id given (owned by the group).
 */
int16_t grp_join(struct ctl_groups *gs, const struct grp_join *j, struct ctl_resp *resp,
		 struct ctl_member **now_member, const char **new_id);

/* SyncGroup: an error now, or KP_ERR_NONE with *@now (answer the stored assignment) or parked. */
struct grp_assign { struct kp_str member_id, assignment; };
int16_t grp_sync(struct ctl_groups *gs, struct kp_str group_id, int32_t generation,
		 struct kp_str member_id, const struct grp_assign *as, int32_t n_as,
		 struct ctl_resp *resp, int16_t version, struct ctl_member **now);
int16_t grp_heartbeat(struct ctl_groups *gs, struct kp_str group_id, int32_t generation,
		      struct kp_str member_id);
int16_t grp_leave(struct ctl_groups *gs, struct kp_str group_id, struct kp_str member_id);

/* ---- kp_group.c: answers written into parked slots ------------------------ */

/** Write the JoinGroup response body for @m (error @err) into @w. */
void kp_group_join_body(struct kp_writer *w, int16_t version, const struct ctl_member *m,
			int16_t err);
/** Complete @m's parked JoinGroup with @err (0: the generation's answer). */
void kp_group_join_answer(struct ctl_member *m, int16_t err);
/** Complete @m's parked SyncGroup with @err (0: its assignment). */
void kp_group_sync_answer(struct ctl_member *m, int16_t err);

/* ---- ctl_group_log.c: records in __consumer_offsets ------------------------- */

void grp_log_init(struct ctl_groups *gs);
/** Ensure the topic exists (created on first need). @return 0 or KP error to answer. */
int16_t grp_log_ready(struct ctl_groups *gs);
/**
 * Append @g's metadata record (a tombstone with @tombstone); @done runs
 * once it is durable (err 0) or failed, never before this returns.
 * @return 0, or a KP error now (@done not called).
 */
int16_t grp_log_store_group(struct ctl_group *g, bool tombstone,
			    void (*done)(void *arg, int16_t err), void *arg);

/* One partition of an OffsetCommit. */
struct grp_commit_part {
	struct kp_str topic;
	int32_t partition;
	int64_t offset;
	int32_t leader_epoch;
	struct kp_str metadata;
	int16_t err;                    /* set before (validation) or by the store */
};
/**
 * Append the commits of @parts whose err is 0 as one batch; once durable the
 * group's offsets are updated and @done runs (err 0, or the error for them).
 * @return 0, or a KP error now (@done not called).
 */
int16_t grp_log_store_offsets(struct ctl_group *g, struct grp_commit_part *parts, int32_t n,
			      void (*done)(void *arg, int16_t err), void *arg);
/** Replay the topic if it exists (ctl_groups_create). @return 0 or -errno. */
int grp_log_replay(struct ctl_groups *gs);
/** Drop the appends' callbacks (teardown). */
void grp_log_free_all(struct ctl_groups *gs);
/** Durable watermarks moved: finish what they cover. */
void grp_log_recheck(struct ctl_groups *gs);
/** Offset expiry and compaction, from the maintenance timer. */
void grp_log_maintain(struct ctl_groups *gs);
/** A key's latest record changed in @part: keep the live count (+1/-1/0). */
void grp_log_live(struct ctl_groups *gs, int32_t part, int delta);

#endif /* CTL_GROUP_INT_H */
