/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * st_log_int.h - the structures behind st_log.h, shared by st_log.c,
 * st_recovery.c and st_retention.c.  Not a public header.
 */
#ifndef ST_LOG_INT_H
#define ST_LOG_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "st_log.h"
#include "st_segment.h"

/* One partition known to the log directory (checkpoints, open logs). */
struct st_logdir_entry {
	char *topic;
	int32_t partition;
	int64_t recovery_point;    /* -1 when not in the checkpoint */
	int64_t log_start;         /* -1 when not in the checkpoint */
	struct st_log *log;        /* open log, or NULL */
};

struct st_logdir {
	char *root;
	bool was_clean;
	bool dirty;                /* a log closed with an error */
	pthread_mutex_t lock;      /* entries: logs of several writer threads */
	struct st_logdir_entry *ents;
	size_t n, cap;
	st_logdir_progress_fn progress; /* st_logdir_set_progress */
	void *progress_arg;
};

struct st_log {
	struct st_logdir *ld;
	char *topic;
	int32_t partition;
	char *dir;
	struct st_log_config cfg;
	pthread_mutex_t lock;      /* segs/nsegs: changed by the writer, read by readers */
	struct st_segment **segs;  /* by base offset; the last is the active one */
	uint32_t nsegs, cap;
	int64_t leo;               /* writer */
	int64_t last_slot_base;    /* writer: active base at the last prepare */
	int err;                   /* writer: sticky */
	struct st_producers *producers; /* writer: state as of LEO (st_log_set_producers) */
	uint64_t snapshot_errors;  /* writer: roll snapshots that could not be written */
	int snapshot_err;          /* the last one's -errno */
	_Atomic int64_t log_start;
	_Atomic int64_t readable_end;
	_Atomic int64_t recovery_point;
	_Atomic int64_t delete_below;  /* st_log_set_delete_below: any thread, only grows */
	_Atomic int64_t retain_hold;   /* st_log_set_retain_hold: INT64_MAX = none */
};

static inline struct st_segment *st_log_active(const struct st_log *log)
{
	return log->segs[log->nsegs - 1];
}

/* st_log.c */
int st_log_seg_push(struct st_log *log, struct st_segment *seg);
/** Remove the oldest segment from the list (writer; takes the lock). */
struct st_segment *st_log_seg_shift(struct st_log *log);

/* st_recovery.c */
/**
 * Sorted base offsets of the "<20 digits>.log" files in @dir (*@out is
 * malloc'ed, free it); @cleanup unlinks leftover `.deleted` files.
 */
int st_log_list_segments(const char *dir, bool cleanup, int64_t **out, uint32_t *count);
/** Load the segments of log->dir (empty list on entry); fills @rep. */
int st_log_load(struct st_log *log, bool clean, int64_t recovery_point, int64_t log_start,
		struct st_log_recovery *rep);
/** The remembered entry of a partition, created when missing (caller holds d->lock). */
struct st_logdir_entry *st_logdir_entry(struct st_logdir *d, const char *topic, int32_t partition);

#endif /* ST_LOG_INT_H */
