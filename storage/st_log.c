/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * st_log.c - a partition log: the segment list, the three-step append used
 * by the writer thread (prepare, the caller's write, commit; then publish),
 * rolling, and the reader side (fetch ranges, ListOffsets).  Recovery and
 * the log directory live in st_recovery.c, retention in st_retention.c.
 * The thread rule is at the top of st_log.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "st_file.h"
#include "st_log_int.h"
#include "st_producer.h"

void st_log_config_default(struct st_log_config *cfg)
{
	*cfg = (struct st_log_config){
		.segment_bytes = 1ull << 30,
		.segment_ms = 7ll * 24 * 3600 * 1000,
		.retention_bytes = -1,
		.retention_ms = 7ll * 24 * 3600 * 1000,
		.index_interval_bytes = 4096,
		.index_max_bytes = 10u << 20,
		.preallocate = false,
	};
}

static bool config_ok(const struct st_log_config *cfg)
{
	return cfg->segment_bytes >= ST_BATCH_HEADER_SIZE && cfg->segment_bytes <= INT32_MAX &&
	       cfg->index_max_bytes >= 2 * ST_INDEX_TIME_ENTRY;
}

static bool topic_ok(const char *topic)
{
	size_t len = strlen(topic);

	return len > 0 && len <= 249 && !strchr(topic, '/') && strcmp(topic, ".") &&
	       strcmp(topic, "..");
}

int st_log_seg_push(struct st_log *log, struct st_segment *seg)
{
	struct st_segment **segs = log->segs;

	if (log->nsegs == log->cap) {
		uint32_t cap = log->cap ? log->cap * 2 : 8;

		/* Readers index segs under the lock, so a move is safe under it. */
		pthread_mutex_lock(&log->lock);
		segs = realloc(log->segs, cap * sizeof(*segs));
		if (segs) {
			log->segs = segs;
			log->cap = cap;
		}
		pthread_mutex_unlock(&log->lock);
		if (!segs)
			return -ENOMEM;
	}
	pthread_mutex_lock(&log->lock);
	log->segs[log->nsegs++] = seg;
	pthread_mutex_unlock(&log->lock);
	return 0;
}

struct st_segment *st_log_seg_shift(struct st_log *log)
{
	struct st_segment *seg;

	pthread_mutex_lock(&log->lock);
	seg = log->segs[0];
	memmove(log->segs, log->segs + 1, (log->nsegs - 1) * sizeof(*log->segs));
	log->nsegs--;
	if (log->nsegs && log->segs[0]->base > st_log_start_offset(log))
		atomic_store_explicit(&log->log_start, log->segs[0]->base, memory_order_release);
	pthread_mutex_unlock(&log->lock);
	return seg;
}

static void log_free(struct st_log *log)
{
	for (uint32_t i = 0; i < log->nsegs; i++)
		st_segment_put(log->segs[i]);
	pthread_mutex_destroy(&log->lock);
	free(log->segs);
	free(log->dir);
	free(log->topic);
	free(log);
}

static int log_alloc(struct st_log **out, struct st_logdir *d, const char *topic,
		     int32_t partition, const struct st_log_config *cfg)
{
	struct st_log *log = calloc(1, sizeof(*log));

	if (!log)
		return -ENOMEM;
	pthread_mutex_init(&log->lock, NULL);
	log->ld = d;
	log->cfg = *cfg;
	log->partition = partition;
	log->last_slot_base = -1;
	atomic_init(&log->retain_hold, INT64_MAX);
	log->topic = strdup(topic);
	if (!log->topic || asprintf(&log->dir, "%s/%s-%" PRId32, d->root, topic, partition) < 0) {
		log->dir = NULL;
		log_free(log);
		return -ENOMEM;
	}
	*out = log;
	return 0;
}

int st_log_open(struct st_log **out, struct st_logdir *d, const char *topic, int32_t partition,
		const struct st_log_config *cfg, struct st_log_recovery *rep)
{
	struct st_log_recovery dummy;
	struct st_logdir_entry *e;
	int64_t rp, ls;
	struct st_log *log;
	int rc;

	if (!config_ok(cfg) || !topic_ok(topic) || partition < 0)
		return -EINVAL;
	rc = log_alloc(&log, d, topic, partition, cfg);
	if (rc < 0)
		return rc;
	if (mkdir(log->dir, 0755) < 0 && errno != EEXIST) {
		rc = -errno;
		log_free(log);
		return rc;
	}
	pthread_mutex_lock(&d->lock);
	e = st_logdir_entry(d, topic, partition);
	rc = !e ? -ENOMEM : e->log ? -EBUSY : 0;
	if (rc == 0) {
		e->log = log;
		rp = e->recovery_point;
		ls = e->log_start;
	}
	pthread_mutex_unlock(&d->lock);
	if (rc == 0)
		rc = st_log_load(log, d->was_clean, rp, ls, rep ? rep : &dummy);
	if (rc < 0) {
		if (e && e->log == log) {
			pthread_mutex_lock(&d->lock);
			e->log = NULL;
			pthread_mutex_unlock(&d->lock);
		}
		log_free(log);
		return rc;
	}
	*out = log;
	return 0;
}

/* fdatasync every segment that may hold data above the recovery point. */
static int log_sync_from(struct st_log *log, int64_t from)
{
	int rc = 0;

	for (uint32_t i = log->nsegs; i-- > 0;) {
		struct st_segment *seg = log->segs[i];

		if (seg->next_offset <= from && seg->size)
			break;
		if (fdatasync(seg->fd) < 0 && rc == 0)
			rc = -errno;
		if (st_index_flush(&seg->oidx) < 0 || st_index_flush(&seg->tidx) < 0)
			rc = rc ? rc : -EIO;
	}
	return rc;
}

int st_log_close(struct st_log *log)
{
	struct st_logdir *d = log->ld;
	struct st_logdir_entry *e;
	int rc = log->err;

	if (log->nsegs) {
		int r = st_segment_seal(st_log_active(log));

		rc = rc ? rc : r;
		r = log_sync_from(log, st_log_recovery_point(log));
		rc = rc ? rc : r;
	}
	pthread_mutex_lock(&d->lock);
	e = st_logdir_entry(d, log->topic, log->partition);
	if (e) {
		e->recovery_point = rc == 0 ? log->leo : st_log_recovery_point(log);
		e->log_start = st_log_start_offset(log);
		e->log = NULL;
	}
	if (rc < 0 || !e)
		d->dirty = true;
	pthread_mutex_unlock(&d->lock);
	log_free(log);
	return rc;
}

/* ---- writer ---- */

static bool should_roll(const struct st_log *log, const struct st_segment *seg, uint32_t len,
			int64_t last_offset, int64_t max_ts, int64_t now_ms)
{
	const struct st_log_config *cfg = &log->cfg;
	int64_t waited;

	if (seg->size == 0)
		return false;
	if (seg->size > (len >= cfg->segment_bytes ? 0 : cfg->segment_bytes - len))
		return true;
	/*
	 * Producers choose timestamps: a batch far in the past after one far in
	 * the future must not overflow; saturated, a negative wait never rolls.
	 */
	if (seg->first_ts < 0)
		waited = now_ms - seg->created_ms;
	else if (__builtin_sub_overflow(max_ts, seg->first_ts, &waited))
		waited = INT64_MIN;
	if (cfg->segment_ms > 0 && waited > cfg->segment_ms)
		return true;
	return !st_segment_fits(seg, last_offset);
}

/*
 * The producers' state as of the new segment's base, so that recovery after
 * a crash reads the log from the newest roll instead of from the last clean
 * stop.  The table holds exactly the batches committed below LEO: the
 * producer thread's own table runs ahead by what is still in the ring, so
 * it cannot be the source (and an lcore makes no system call).  Written
 * synchronously on the writer thread: one small file and two fsyncs per
 * segment.bytes of data.
 */
static void roll_snapshot(struct st_log *log)
{
	int rc;

	if (!log->producers)
		return;
	rc = st_producers_snapshot(log->producers, log->dir, log->leo,
				   st_log_recovery_point(log));
	if (rc < 0) {
		log->snapshot_errors++;
		log->snapshot_err = rc;
	}
}

int st_log_roll(struct st_log *log, int64_t now_ms)
{
	struct st_segment *old = st_log_active(log), *seg;
	int rc;

	if (old->size == 0)
		return 0;
	rc = st_segment_seal(old);
	if (rc < 0)
		return rc;
	rc = st_segment_open(&seg, log->dir, log->leo, true, true, &log->cfg);
	if (rc < 0)
		return rc;
	/* Nothing at or above LEO is part of the log: a leftover file is junk. */
	if (seg->size && ftruncate(seg->fd, 0) == 0)
		seg->size = seg->prealloc_end = 0;
	seg->readable = 0;
	seg->created_ms = now_ms;
	rc = seg->size ? -EEXIST : st_log_seg_push(log, seg);
	if (rc < 0) {
		st_segment_put(seg);
		return rc;
	}
	roll_snapshot(log);
	return 0;
}

void st_log_set_producers(struct st_log *log, struct st_producers *t)
{
	log->producers = t;
}

uint64_t st_log_snapshot_errors(const struct st_log *log, int *last_err)
{
	if (last_err)
		*last_err = log->snapshot_err;
	return log->snapshot_errors;
}

int st_log_append_prepare(struct st_log *log, uint32_t len, int64_t last_offset,
			  int64_t max_timestamp, int64_t now_ms, struct st_log_slot *slot)
{
	struct st_segment *seg;
	int rc;

	if (log->err)
		return log->err;
	/* A batch larger than segment.bytes gets a segment of its own, as in Kafka. */
	if (len == 0 || last_offset < log->leo)
		return -EINVAL;
	if (should_roll(log, st_log_active(log), len, last_offset, max_timestamp, now_ms)) {
		rc = st_log_roll(log, now_ms);
		if (rc < 0)
			return rc;
	}
	seg = st_log_active(log);
	st_segment_prealloc(seg, seg->size + len, &log->cfg);
	slot->path = seg->log_path;
	slot->fd = seg->fd;
	slot->segment_base = seg->base;
	slot->position = seg->size;
	slot->rolled = seg->base != log->last_slot_base;
	log->last_slot_base = seg->base;
	return 0;
}

/*
 * Walk the batch headers of a write: whole batches, offsets contiguous from
 * @first, each indexable in @seg.  @return the count, or -EINVAL.
 */
static int batches_check(const uint8_t *p, uint32_t len, int64_t first,
			 const struct st_segment *seg, int64_t *last, int64_t *max_ts)
{
	struct st_batch_info bi;
	uint32_t at = 0;
	int n = 0;

	*max_ts = -1;
	while (at < len) {
		if (st_batch_header_read(p + at, len - at, &bi) != ST_BATCH_ERR_OK ||
		    bi.base_offset != first || bi.last_offset_delta < 0 ||
		    (seg && st_batch_last_offset(&bi) - seg->base > INT32_MAX))
			return -EINVAL;
		first = st_batch_last_offset(&bi) + 1;
		if (bi.max_timestamp > *max_ts)
			*max_ts = bi.max_timestamp;
		at += st_batch_size(&bi);
		n++;
	}
	*last = first - 1;
	return n ? n : -EINVAL;
}

int64_t st_log_append_commit(struct st_log *log, uint64_t position, const void *batches,
			     uint32_t len)
{
	struct st_segment *seg = st_log_active(log);
	const uint8_t *p = batches;
	struct st_batch_info bi;
	int64_t last, max_ts;
	uint32_t at = 0;
	int rc;

	if (log->err)
		return log->err;
	if (position != seg->size || seg->size + len > UINT32_MAX)
		return -EINVAL;
	rc = batches_check(p, len, log->leo, seg, &last, &max_ts);
	if (rc < 0)
		return rc;
	while (at < len) {
		st_batch_header_read(p + at, len - at, &bi);
		st_segment_account(seg, &bi, position + at, &log->cfg);
		/* As st_producers_rebuild reads them back: control batches carry no sequence. */
		if (log->producers && bi.producer_id >= 0 && !(bi.attributes & ST_BATCH_ATTR_CONTROL))
			st_producers_update(log->producers, &bi, bi.base_offset);
		at += st_batch_size(&bi);
	}
	log->leo = last + 1;
	return log->leo;
}

int st_log_publish(struct st_log *log, int64_t segment_base, uint64_t end_position,
		   int64_t end_offset)
{
	struct st_segment *seg = NULL;

	/* The writer owns the list: no lock to read it here. */
	for (uint32_t i = log->nsegs; i-- > 0;) {
		if (log->segs[i]->base == segment_base) {
			seg = log->segs[i];
			break;
		}
	}
	if (!seg || end_position > seg->size || end_offset > log->leo)
		return -EINVAL;
	if (end_position > atomic_load_explicit(&seg->readable, memory_order_relaxed))
		atomic_store_explicit(&seg->readable, end_position, memory_order_release);
	if (end_offset > atomic_load_explicit(&log->readable_end, memory_order_relaxed))
		atomic_store_explicit(&log->readable_end, end_offset, memory_order_release);
	return 0;
}

int64_t st_log_append(struct st_log *log, const void *batches, uint32_t len, int64_t now_ms)
{
	struct st_log_slot slot;
	int64_t base = log->leo, last, max_ts, leo;
	int rc;

	rc = batches_check(batches, len, base, NULL, &last, &max_ts);
	if (rc < 0)
		return rc;
	rc = st_log_append_prepare(log, len, last, max_ts, now_ms, &slot);
	if (rc < 0)
		return rc;
	rc = st_pwrite_all(slot.fd, batches, len, slot.position);
	if (rc < 0) {
		/* Leave no partial batch behind; appends stop (ENOSPC, EIO). */
		if (ftruncate(slot.fd, (off_t)slot.position) < 0)
			rc = rc ? rc : -errno;
		log->err = rc;
		return rc;
	}
	leo = st_log_append_commit(log, slot.position, batches, len);
	if (leo < 0)
		return leo;
	rc = st_log_publish(log, slot.segment_base, slot.position + len, leo);
	return rc < 0 ? rc : base;
}

int st_log_rewind(struct st_log *log, int64_t segment_base, uint64_t position,
		  int64_t next_offset)
{
	struct st_segment *seg = st_log_active(log);

	if (seg->base != segment_base || position > seg->size || next_offset < seg->base ||
	    next_offset > log->leo)
		return -EINVAL;
	if (ftruncate(seg->fd, (off_t)position) < 0)
		return -errno;
	st_segment_rewind(seg, position, next_offset);
	seg->prealloc_end = position;   /* the cut dropped the preallocation too */
	log->leo = next_offset;
	log->err = 0;
	return 0;
}

int st_log_sync(struct st_log *log)
{
	int rc = log_sync_from(log, st_log_recovery_point(log));

	if (rc == 0)
		st_log_set_recovery_point(log, log->leo);
	return rc;
}

void st_log_set_recovery_point(struct st_log *log, int64_t offset)
{
	if (offset > atomic_load_explicit(&log->recovery_point, memory_order_relaxed))
		atomic_store_explicit(&log->recovery_point, offset, memory_order_release);
}

/* ---- readers ---- */

/* The segment holding @offset (largest base <= offset), referenced; lock held by caller. */
static struct st_segment *seg_lookup(const struct st_log *log, int64_t offset)
{
	uint32_t lo = 0, hi = log->nsegs;

	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (log->segs[mid]->base <= offset)
			lo = mid;
		else
			hi = mid;
	}
	st_segment_get(log->segs[lo]);
	return log->segs[lo];
}

int st_log_read(struct st_log *log, int64_t offset, uint32_t max_bytes, int64_t upto_offset,
		struct st_log_range *range)
{
	int64_t end = atomic_load_explicit(&log->readable_end, memory_order_acquire);
	struct st_batch_info bi;
	struct st_segment *seg;
	uint64_t limit, pos, at;
	int rc;

	memset(range, 0, sizeof(*range));
	range->fd = -1;
	if (upto_offset >= 0 && upto_offset < end)
		end = upto_offset;
	pthread_mutex_lock(&log->lock);
	if (offset < atomic_load_explicit(&log->log_start, memory_order_acquire) || offset > end) {
		pthread_mutex_unlock(&log->lock);
		return -ERANGE;
	}
	range->first_offset = range->next_offset = offset;
	if (offset == end) {
		pthread_mutex_unlock(&log->lock);
		return 0;
	}
	seg = seg_lookup(log, offset);
	pthread_mutex_unlock(&log->lock);
	limit = atomic_load_explicit(&seg->readable, memory_order_acquire);
	rc = st_segment_find(seg, offset, limit, &pos, &bi);
	if (rc < 0) {
		st_segment_put(seg);
		return rc == -ENODATA || rc == -EBADMSG ? -EIO : rc;
	}
	range->first_offset = bi.base_offset;
	/* Always the whole first batch, then more while they fit. */
	at = pos + st_batch_size(&bi);
	range->next_offset = st_batch_last_offset(&bi) + 1;
	while (range->next_offset < end && st_segment_batch_at(seg, at, limit, &bi) == 0 &&
	       at + st_batch_size(&bi) - pos <= max_bytes) {
		at += st_batch_size(&bi);
		range->next_offset = st_batch_last_offset(&bi) + 1;
	}
	range->fd = seg->fd;
	range->seg = seg;
	range->segment_base = seg->base;
	range->position = pos;
	range->length = (uint32_t)(at - pos);
	return 0;
}

void st_log_range_put(struct st_log_range *range)
{
	if (range->seg)
		st_segment_put(range->seg);
	range->seg = NULL;
	range->fd = -1;
}

/* First record offset with timestamp >= @ts in the batch at @pos. */
static int64_t batch_offset_for_time(const struct st_segment *seg, uint64_t pos,
				     const struct st_batch_info *bi, int64_t ts)
{
	int64_t found = bi->base_offset;
	struct st_batch_info vbi;
	struct st_record_iter it;
	struct st_record rec;
	uint8_t *buf;

	if (bi->attributes & (ST_BATCH_ATTR_CODEC_MASK | ST_BATCH_ATTR_LOG_APPEND_TIME))
		return found;
	buf = malloc(st_batch_size(bi));
	if (!buf)
		return -ENOMEM;
	if (pread(seg->fd, buf, st_batch_size(bi), (off_t)pos) == (ssize_t)st_batch_size(bi) &&
	    st_batch_validate(buf, st_batch_size(bi), ST_BATCH_V_RECORDS, 0, &vbi) ==
		    ST_BATCH_ERR_OK) {
		st_record_iter_init(&it, buf, bi);
		while (st_record_iter_next(&it, &rec)) {
			if (rec.timestamp >= ts) {
				found = rec.offset;
				break;
			}
		}
	}
	free(buf);
	return found;
}

/* Kafka's findOffsetByTimestamp within one segment; -1 when not below the ends. */
static int64_t seg_offset_for_time(const struct st_segment *seg, int64_t ts, int64_t end)
{
	uint64_t limit = atomic_load_explicit(&seg->readable, memory_order_acquire);
	uint32_t n = st_index_entries(&seg->tidx), rel = 0;
	int64_t i = st_index_time_lookup(&seg->tidx, n, ts), t, start = seg->base;
	struct st_batch_info bi;
	uint64_t pos;

	for (; i >= 0; i--) {
		st_index_time_entry(&seg->tidx, (uint32_t)i, &t, &rel);
		if (seg->base + rel < end)
			break;
	}
	if (i >= 0)
		start = seg->base + rel;
	if (st_segment_find(seg, start, limit, &pos, &bi) < 0)
		return -1;
	for (;;) {
		if (bi.base_offset >= end)
			return -1;
		if (bi.max_timestamp >= ts)
			return batch_offset_for_time(seg, pos, &bi, ts);
		pos += st_batch_size(&bi);
		if (st_segment_batch_at(seg, pos, limit, &bi) < 0)
			return -1;
	}
}

int64_t st_log_offset_for_time(struct st_log *log, int64_t ts)
{
	int64_t end = atomic_load_explicit(&log->readable_end, memory_order_acquire), off;
	struct st_segment *seg = NULL;

	pthread_mutex_lock(&log->lock);
	for (uint32_t i = 0; i < log->nsegs; i++) {
		if (atomic_load_explicit(&log->segs[i]->max_ts, memory_order_acquire) >= ts) {
			seg = log->segs[i];
			st_segment_get(seg);
			break;
		}
	}
	pthread_mutex_unlock(&log->lock);
	if (!seg)
		return -1;
	off = seg_offset_for_time(seg, ts, end);
	st_segment_put(seg);
	return off;
}

int64_t st_log_start_offset(const struct st_log *log)
{
	return atomic_load_explicit(&log->log_start, memory_order_acquire);
}

int64_t st_log_end_offset(const struct st_log *log)
{
	return atomic_load_explicit(&log->readable_end, memory_order_acquire);
}

int64_t st_log_leo(const struct st_log *log)
{
	return log->leo;
}

int64_t st_log_recovery_point(const struct st_log *log)
{
	return atomic_load_explicit(&log->recovery_point, memory_order_acquire);
}

uint64_t st_log_size(const struct st_log *log)
{
	uint64_t total = 0;

	for (uint32_t i = 0; i < log->nsegs; i++)
		total += log->segs[i]->size;
	return total;
}

int64_t st_log_bytes_from(struct st_log *log, int64_t offset)
{
	struct st_log_range r;
	int64_t total = 0;
	int rc = st_log_read(log, offset, 0, -1, &r);

	if (rc < 0)
		return rc;
	if (r.length == 0)
		return 0;
	pthread_mutex_lock(&log->lock);
	for (uint32_t i = 0; i < log->nsegs; i++) {
		const struct st_segment *seg = log->segs[i];
		uint64_t readable = atomic_load_explicit(&seg->readable, memory_order_acquire);

		if (seg->base == r.segment_base && readable > r.position)
			total += (int64_t)(readable - r.position);
		else if (seg->base > r.segment_base)
			total += (int64_t)readable;
	}
	pthread_mutex_unlock(&log->lock);
	st_log_range_put(&r);
	return total;
}

uint32_t st_log_segment_count(const struct st_log *log)
{
	uint32_t n;

	pthread_mutex_lock((pthread_mutex_t *)&log->lock);
	n = log->nsegs;
	pthread_mutex_unlock((pthread_mutex_t *)&log->lock);
	return n;
}

const char *st_log_dir(const struct st_log *log)
{
	return log->dir;
}

void st_log_set_error(struct st_log *log, int err)
{
	if (!log->err)
		log->err = err < 0 ? err : -EIO;
}

void st_log_clear_error(struct st_log *log)
{
	log->err = 0;
}
