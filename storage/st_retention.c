/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * st_retention.c - delete old segments by time and by size (Kafka's
 * deleteRetentionMsBreachedSegments / deleteRetentionSizeBreachedSegments),
 * and below a floor set by the log's owner (st_log_set_delete_below: Kafka's
 * deleteLogStartOffsetBreachedSegments, whole segments only).
 *
 * Runs on the log's writer thread.  Only a prefix of the segment list is
 * ever deleted; each segment leaves the list under the lock (the log start
 * offset moves with it) and has its files renamed to `.deleted`.  Readers
 * that still hold a range keep the fd and mapping; the files are unlinked
 * at the last reference (st_segment_put).
 *
 * A hold (st_log_set_retain_hold: the uplink's cursor) caps all three: a
 * segment holding an offset at or above the hold stays, whatever its age,
 * the log's size or the floor.
 */
#include <errno.h>

#include "st_log_int.h"
#include "st_producer.h"

/* Largest timestamp of a segment; the creation time when it has none (Kafka: mtime). */
static int64_t seg_largest_ts(const struct st_segment *seg)
{
	int64_t ts = atomic_load_explicit(&seg->max_ts, memory_order_relaxed);

	return ts >= 0 ? ts : seg->created_ms;
}

/*
 * May segment @i go?  The active one only when non-empty and every byte of
 * it is published (an io_uring write may still target it otherwise).
 */
static bool seg_deletable(const struct st_log *log, uint32_t i)
{
	const struct st_segment *seg = log->segs[i];

	if (i + 1 < log->nsegs)
		return true;
	return seg->size > 0 &&
	       atomic_load_explicit(&seg->readable, memory_order_acquire) == seg->size &&
	       seg->next_offset == log->leo;
}

static uint32_t count_by_time(const struct st_log *log, int64_t now_ms)
{
	uint32_t k = 0;

	if (log->cfg.retention_ms < 0)
		return 0;
	while (k < log->nsegs && seg_deletable(log, k) &&
	       seg_largest_ts(log->segs[k]) < now_ms - log->cfg.retention_ms)
		k++;
	return k;
}

/* Segments wholly below the floor: the next segment starts at or below it. */
static uint32_t count_by_floor(const struct st_log *log)
{
	int64_t floor = atomic_load_explicit(&log->delete_below, memory_order_acquire);
	uint32_t k = 0;

	while (k + 1 < log->nsegs && log->segs[k + 1]->base <= floor)
		k++;
	return k;
}

void st_log_set_delete_below(struct st_log *log, int64_t offset)
{
	int64_t cur = atomic_load_explicit(&log->delete_below, memory_order_relaxed);

	while (offset > cur && !atomic_compare_exchange_weak_explicit(&log->delete_below, &cur, offset,
								       memory_order_release,
								       memory_order_relaxed))
		;
}

static uint32_t count_by_size(const struct st_log *log)
{
	int64_t diff;
	uint32_t k = 0;

	if (log->cfg.retention_bytes < 0)
		return 0;
	diff = (int64_t)st_log_size(log) - log->cfg.retention_bytes;
	while (k < log->nsegs && seg_deletable(log, k) &&
	       diff - (int64_t)log->segs[k]->size >= 0) {
		diff -= (int64_t)log->segs[k]->size;
		k++;
	}
	return k;
}

void st_log_set_retain_hold(struct st_log *log, int64_t offset)
{
	atomic_store_explicit(&log->retain_hold, offset < 0 ? INT64_MAX : offset,
			      memory_order_release);
}

/* Of the @k oldest segments, those wholly below the hold (all their offsets < it). */
static uint32_t cap_by_hold(const struct st_log *log, uint32_t k)
{
	int64_t hold = atomic_load_explicit(&log->retain_hold, memory_order_acquire);
	uint32_t n = 0;

	while (n < k) {
		int64_t next = n + 1 < log->nsegs ? log->segs[n + 1]->base : log->leo;

		if (next > hold)
			break;
		n++;
	}
	return n;
}

static int delete_prefix(struct st_log *log, uint32_t k, int64_t now_ms,
			 struct st_log_retain_result *res)
{
	int rc = 0;

	k = cap_by_hold(log, k);
	if (k == 0)
		return 0;
	/* Never leave the log without a segment: roll an empty one first. */
	if (k == log->nsegs) {
		rc = st_log_roll(log, now_ms);
		if (rc < 0)
			return rc;
	}
	for (uint32_t j = 0; j < k; j++) {
		struct st_segment *seg = st_log_seg_shift(log);
		int r = st_segment_mark_deleted(seg);

		rc = rc ? rc : r;
		res->segments++;
		res->bytes += seg->size;
		st_segment_put(seg);
	}
	return rc;
}

int st_log_retain(struct st_log *log, int64_t now_ms, struct st_log_retain_result *res)
{
	struct st_log_retain_result dummy;
	int rc;

	if (!res)
		res = &dummy;
	res->segments = 0;
	res->bytes = 0;
	rc = delete_prefix(log, count_by_time(log, now_ms), now_ms, res);
	if (rc == 0)
		rc = delete_prefix(log, count_by_size(log), now_ms, res);
	if (rc == 0)
		rc = delete_prefix(log, count_by_floor(log), now_ms, res);
	res->log_start = st_log_start_offset(log);
	/*
	 * A snapshot below the log start could only be loaded without the
	 * batches after it (Kafka deletes them too).  The newest one, from the
	 * roll that opened the active segment, is at or above the new log
	 * start.  Best effort: the next open deletes them anyway.
	 */
	if (res->segments)
		st_producers_snapshots_delete_below(log->dir, res->log_start);
	return rc < 0 ? rc : (int)res->segments;
}
