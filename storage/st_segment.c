/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * st_segment.c - a segment's files and bookkeeping (Kafka's LogSegment):
 * opening, the per-batch index rule shared by append and recovery, batch
 * lookup for readers, sealing on roll, and deletion by reference count.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "st_segment.h"

#define PREALLOC_CHUNK (64ull << 20)

static const char *const seg_exts[] = { ".log", ".index", ".timeindex" };

int st_segment_name(char *buf, size_t len, const char *dir, int64_t base, const char *ext)
{
	int n = snprintf(buf, len, "%s/%020" PRId64 "%s", dir, base, ext);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int st_segment_path(const struct st_segment *seg, const char *ext, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s%s", seg->stem, ext);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int st_segment_open(struct st_segment **out, const char *dir, int64_t base, bool active,
		    bool reset_indexes, const struct st_log_config *cfg)
{
	uint64_t imax = active ? cfg->index_max_bytes : 0;
	size_t stem_len = strlen(dir) + 22;
	struct st_segment *seg;
	char path[4096];
	struct stat st;
	int rc;

	seg = calloc(1, sizeof(*seg) + 2 * stem_len + 4);
	if (!seg)
		return -ENOMEM;
	seg->fd = seg->oidx.fd = seg->tidx.fd = -1;
	snprintf(seg->stem, stem_len, "%s/%020" PRId64, dir, base);
	seg->log_path = seg->stem + stem_len;
	memcpy(seg->stem + stem_len, seg->stem, stem_len);
	strcat(seg->stem + stem_len, ".log");
	seg->base = seg->next_offset = base;
	seg->max_ts = seg->first_ts = seg->offset_of_max_ts = -1;
	seg->created_ms = wall_ms();
	seg->active = active;
	seg->refs = 1;
	rc = st_segment_path(seg, ".log", path, sizeof(path));
	if (rc < 0)
		goto fail;
	seg->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (seg->fd < 0 || fstat(seg->fd, &st) < 0) {
		rc = -errno;
		goto fail;
	}
	seg->size = seg->prealloc_end = (uint64_t)st.st_size;
	seg->readable = seg->size;
	st_segment_path(seg, ".index", path, sizeof(path));
	rc = st_index_open(&seg->oidx, path, ST_INDEX_OFFSET_ENTRY, imax, reset_indexes);
	if (rc < 0)
		goto fail;
	st_segment_path(seg, ".timeindex", path, sizeof(path));
	rc = st_index_open(&seg->tidx, path, ST_INDEX_TIME_ENTRY, imax, reset_indexes);
	if (rc < 0)
		goto fail;
	*out = seg;
	return 0;
fail:
	st_segment_put(seg);
	return rc;
}

void st_segment_get(struct st_segment *seg)
{
	atomic_fetch_add_explicit(&seg->refs, 1, memory_order_relaxed);
}

void st_segment_put(struct st_segment *seg)
{
	char path[4096];

	if (atomic_fetch_sub_explicit(&seg->refs, 1, memory_order_acq_rel) != 1)
		return;
	st_index_close(&seg->oidx);
	st_index_close(&seg->tidx);
	if (seg->fd >= 0)
		close(seg->fd);
	for (size_t i = 0; seg->deleted && i < 3; i++) {
		snprintf(path, sizeof(path), "%s%s.deleted", seg->stem, seg_exts[i]);
		unlink(path);
	}
	free(seg);
}

int st_segment_mark_deleted(struct st_segment *seg)
{
	char from[4096], to[4096];
	int rc = 0;

	for (size_t i = 0; i < 3; i++) {
		snprintf(from, sizeof(from), "%s%s", seg->stem, seg_exts[i]);
		snprintf(to, sizeof(to), "%s%s.deleted", seg->stem, seg_exts[i]);
		if (rename(from, to) < 0 && errno != ENOENT && rc == 0)
			rc = -errno;
	}
	seg->deleted = true;
	return rc;
}

int st_segment_batch_at(const struct st_segment *seg, uint64_t pos, uint64_t limit,
			struct st_batch_info *bi)
{
	uint8_t hdr[ST_BATCH_HEADER_SIZE];
	size_t want = sizeof(hdr);
	enum st_batch_err err;
	ssize_t n;

	if (pos >= limit)
		return -ENODATA;
	if (limit - pos < want)
		want = (size_t)(limit - pos);
	n = pread(seg->fd, hdr, want, (off_t)pos);
	if (n < 0)
		return -errno;
	if ((size_t)n < sizeof(hdr))
		return -EBADMSG;
	err = st_batch_header_read(hdr, sizeof(hdr), bi);
	if (err != ST_BATCH_ERR_OK && err != ST_BATCH_ERR_TRUNCATED)
		return -EBADMSG;
	if (pos + st_batch_size(bi) > limit)
		return -EBADMSG;
	return 0;
}

int st_segment_find(const struct st_segment *seg, int64_t offset, uint64_t limit,
		    uint64_t *pos, struct st_batch_info *bi)
{
	uint32_t n = st_index_entries(&seg->oidx), rel, p = 0;
	int64_t i = -1;
	uint64_t at;
	int rc;

	if (offset > seg->base && offset - seg->base <= INT32_MAX)
		i = st_index_offset_lookup(&seg->oidx, n, (uint32_t)(offset - seg->base));
	else if (offset > seg->base)
		i = (int64_t)n - 1;
	/* An entry past @limit belongs to a batch readers may not see yet. */
	for (; i >= 0; i--) {
		st_index_offset_entry(&seg->oidx, (uint32_t)i, &rel, &p);
		if (p < limit)
			break;
	}
	at = i >= 0 ? p : 0;
	for (;;) {
		rc = st_segment_batch_at(seg, at, limit, bi);
		if (rc < 0)
			return rc;
		if (st_batch_last_offset(bi) >= offset)
			break;
		at += st_batch_size(bi);
	}
	*pos = at;
	return 0;
}

int st_segment_account(struct st_segment *seg, const struct st_batch_info *bi, uint64_t pos,
		       const struct st_log_config *cfg)
{
	int64_t last = st_batch_last_offset(bi);
	int64_t max_ts = atomic_load_explicit(&seg->max_ts, memory_order_relaxed);

	if (pos == 0)
		seg->first_ts = bi->max_timestamp;
	if (bi->max_timestamp > max_ts) {
		atomic_store_explicit(&seg->max_ts, bi->max_timestamp, memory_order_release);
		seg->offset_of_max_ts = last;
	}
	/* Kafka's rule: an entry once more than the interval was added since
	 * the last one; a full index only makes lookups scan further (the next
	 * prepare rolls). */
	if (seg->since_index > cfg->index_interval_bytes) {
		if (st_index_offset_append(&seg->oidx, (uint32_t)(last - seg->base), (uint32_t)pos) == 0)
			st_index_time_maybe_append(&seg->tidx,
				atomic_load_explicit(&seg->max_ts, memory_order_relaxed),
				(uint32_t)(seg->offset_of_max_ts - seg->base));
		seg->since_index = 0;
	}
	seg->since_index += st_batch_size(bi);
	seg->size = pos + st_batch_size(bi);
	seg->next_offset = last + 1;
	return 0;
}

bool st_segment_fits(const struct st_segment *seg, int64_t last_offset)
{
	return last_offset - seg->base <= INT32_MAX && !st_index_full(&seg->oidx) &&
	       !st_index_full(&seg->tidx);
}

void st_segment_rewind(struct st_segment *seg, uint64_t pos, int64_t next_offset)
{
	uint32_t n = st_index_entries(&seg->oidx), rel, at;
	int64_t ts;

	while (n > 0) {
		st_index_offset_entry(&seg->oidx, n - 1, &rel, &at);
		if (at < pos)
			break;
		n--;
	}
	st_index_truncate(&seg->oidx, n);
	n = st_index_entries(&seg->tidx);
	while (n > 0) {
		st_index_time_entry(&seg->tidx, n - 1, &ts, &rel);
		if (seg->base + rel < next_offset)
			break;
		n--;
	}
	st_index_truncate(&seg->tidx, n);
	if (pos == 0)
		seg->first_ts = -1;
	seg->since_index = 0;   /* the next entry comes an interval later: still a valid index */
	seg->size = pos;
	seg->next_offset = next_offset;
}

int st_segment_activate(struct st_segment *seg, const struct st_log_config *cfg)
{
	int rc = st_index_resize(&seg->oidx, cfg->index_max_bytes);

	if (rc == 0)
		rc = st_index_resize(&seg->tidx, cfg->index_max_bytes);
	seg->active = rc == 0;
	return rc;
}

void st_segment_prealloc(struct st_segment *seg, uint64_t need, const struct st_log_config *cfg)
{
	uint64_t chunk = cfg->segment_bytes < PREALLOC_CHUNK ? cfg->segment_bytes : PREALLOC_CHUNK;

	if (!cfg->preallocate || seg->prealloc_end >= need + chunk / 2)
		return;
	if (fallocate(seg->fd, FALLOC_FL_KEEP_SIZE, (off_t)seg->prealloc_end,
		      (off_t)(need + chunk - seg->prealloc_end)) == 0)
		seg->prealloc_end = need + chunk;
	else
		seg->prealloc_end = UINT64_MAX; /* not supported or no space: stop trying */
}

int st_segment_seal(struct st_segment *seg)
{
	int64_t max_ts = atomic_load_explicit(&seg->max_ts, memory_order_relaxed);
	int rc = 0;

	if (!seg->active)
		return 0;
	if (max_ts >= 0)
		st_index_time_maybe_append(&seg->tidx, max_ts,
					   (uint32_t)(seg->offset_of_max_ts - seg->base));
	rc = st_index_resize(&seg->oidx, 0);
	if (rc == 0)
		rc = st_index_resize(&seg->tidx, 0);
	if (ftruncate(seg->fd, (off_t)seg->size) < 0 && rc == 0)
		rc = -errno;
	/* KEEP_SIZE blocks past EOF survive a same-size truncate: punch them. */
	if (seg->prealloc_end > seg->size && seg->prealloc_end != UINT64_MAX)
		fallocate(seg->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)seg->size,
			  (off_t)(seg->prealloc_end - seg->size));
	seg->prealloc_end = seg->size;
	seg->active = false;
	return rc;
}
