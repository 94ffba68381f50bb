/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * st_index.c - memory-mapped offset and time indexes of a segment (Kafka's
 * OffsetIndex/TimeIndex).  Contract and the reader/writer rule: st_index.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "st_endian.h"
#include "st_index.h"

static int index_map(struct st_index *ix, uint64_t len)
{
	uint64_t used;
	void *m;

	if (ix->map)
		munmap(ix->map, ix->map_len);
	ix->map = NULL;
	ix->map_len = 0;
	if (len == 0)
		return 0;
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, ix->fd, 0);
	if (m == MAP_FAILED)
		return -errno;
	/*
	 * The file is sparse past its entries, and a write fault on a hole
	 * would otherwise read ahead -- zero-fill -- up to megabytes of page
	 * cache around it: most of the writer's time under load.  Entries are
	 * appended a page at a time; nothing gains from read-ahead there.  The
	 * entries already in the file keep it (recovery reads them in order).
	 * Advice only: ignore a refusal.
	 */
	used = ((uint64_t)ix->n * ix->entry_size + 4095) & ~(uint64_t)4095;
	if (used < len)
		(void)madvise((uint8_t *)m + used, len - used, MADV_RANDOM);
	ix->map = m;
	ix->map_len = len;
	ix->backed = (uint64_t)ix->n * ix->entry_size; /* the entries already written */
	return 0;
}

/*
 * Give the bytes up to @end blocks before an entry is stored there.  The
 * file is sparse past its entries, and a store into a hole of a mapping
 * that the file system cannot back (tmpfs or a disk full) is a SIGBUS, not
 * an error: so blocks are allocated ahead with fallocate, 64 KiB at a time
 * (one call per ~8k offset entries), and ENOSPC comes back as a return
 * value.  A file system without fallocate gets the old behaviour.
 */
#define INDEX_BACK_CHUNK (64u << 10)

static int index_back(struct st_index *ix, uint64_t end)
{
	uint64_t len;

	if (end <= ix->backed)
		return 0;
	len = ix->backed + INDEX_BACK_CHUNK > ix->map_len ? ix->map_len - ix->backed
							 : INDEX_BACK_CHUNK;
	if (len < end - ix->backed)
		len = end - ix->backed;
	if (fallocate(ix->fd, 0, (off_t)ix->backed, (off_t)len) < 0) {
		if (errno != EOPNOTSUPP)
			return -errno;
		len = ix->map_len - ix->backed; /* nothing to reserve with: store and hope */
	}
	ix->backed += len;
	return 0;
}

int st_index_open(struct st_index *ix, const char *path, uint32_t entry_size,
		  uint64_t max_bytes, bool reset)
{
	struct stat st;
	int rc;

	memset(ix, 0, sizeof(*ix));
	ix->entry_size = entry_size;
	ix->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (ix->fd < 0)
		return -errno;
	if (reset && ftruncate(ix->fd, 0) < 0)
		goto fail;
	if (fstat(ix->fd, &st) < 0)
		goto fail;
	ix->n = (uint32_t)((uint64_t)st.st_size / entry_size);
	ix->cap = ix->n;
	if (max_bytes)
		rc = st_index_resize(ix, max_bytes);
	else
		rc = index_map(ix, (uint64_t)ix->n * entry_size);
	if (rc < 0) {
		errno = -rc;
		goto fail;
	}
	return 0;
fail:
	rc = -errno;
	st_index_close(ix);
	return rc;
}

int st_index_resize(struct st_index *ix, uint64_t max_bytes)
{
	uint32_t n = atomic_load_explicit(&ix->n, memory_order_relaxed);
	uint64_t used = (uint64_t)n * ix->entry_size;
	uint64_t len;

	if (max_bytes == 0) {
		if (ftruncate(ix->fd, (off_t)used) < 0)
			return -errno;
		ix->cap = n;
		return 0;
	}
	len = max_bytes - max_bytes % ix->entry_size;
	if (len < used)
		len = used;
	if (len / ix->entry_size > UINT32_MAX)
		return -EINVAL;
	if (ftruncate(ix->fd, (off_t)len) < 0)
		return -errno;
	ix->cap = (uint32_t)(len / ix->entry_size);
	return index_map(ix, len);
}

int st_index_reset(struct st_index *ix)
{
	atomic_store_explicit(&ix->n, 0, memory_order_release);
	/* Only what has blocks can hold old entries; holes read as zeros. */
	if (ix->map_len)
		memset(ix->map, 0, ix->backed < ix->map_len ? ix->backed : ix->map_len);
	return 0;
}

void st_index_truncate(struct st_index *ix, uint32_t n)
{
	if (n < atomic_load_explicit(&ix->n, memory_order_relaxed))
		atomic_store_explicit(&ix->n, n, memory_order_release);
}

int st_index_flush(struct st_index *ix)
{
	uint64_t used = (uint64_t)st_index_entries(ix) * ix->entry_size;

	if (used && msync(ix->map, used, MS_SYNC) < 0)
		return -errno;
	return 0;
}

void st_index_close(struct st_index *ix)
{
	if (ix->map)
		munmap(ix->map, ix->map_len);
	if (ix->fd >= 0)
		close(ix->fd);
	ix->map = NULL;
	ix->map_len = 0;
	ix->fd = -1;
}

int st_index_offset_append(struct st_index *ix, uint32_t rel, uint32_t pos)
{
	uint32_t n = atomic_load_explicit(&ix->n, memory_order_relaxed);
	uint8_t *p;

	if (n >= ix->cap)
		return -ENOSPC;
	if (index_back(ix, (uint64_t)(n + 1) * ST_INDEX_OFFSET_ENTRY) < 0)
		return -ENOSPC; /* the entry is left out: a sparser index, a correct log */
	p = ix->map + (uint64_t)n * ST_INDEX_OFFSET_ENTRY;
	st_be32_store(p, rel);
	st_be32_store(p + 4, pos);
	atomic_store_explicit(&ix->n, n + 1, memory_order_release);
	return 0;
}

void st_index_offset_entry(const struct st_index *ix, uint32_t i, uint32_t *rel, uint32_t *pos)
{
	const uint8_t *p = ix->map + (uint64_t)i * ST_INDEX_OFFSET_ENTRY;

	*rel = st_be32_load(p);
	*pos = st_be32_load(p + 4);
}

int64_t st_index_offset_lookup(const struct st_index *ix, uint32_t n, uint32_t rel)
{
	int64_t lo = 0, hi = (int64_t)n - 1, best = -1;
	uint32_t r, pos;

	while (lo <= hi) {
		int64_t mid = lo + (hi - lo) / 2;

		st_index_offset_entry(ix, (uint32_t)mid, &r, &pos);
		if (r <= rel) {
			best = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return best;
}

void st_index_time_entry(const struct st_index *ix, uint32_t i, int64_t *ts, uint32_t *rel)
{
	const uint8_t *p = ix->map + (uint64_t)i * ST_INDEX_TIME_ENTRY;

	*ts = (int64_t)st_be64_load(p);
	*rel = st_be32_load(p + 8);
}

int st_index_time_maybe_append(struct st_index *ix, int64_t ts, uint32_t rel)
{
	uint32_t n = atomic_load_explicit(&ix->n, memory_order_relaxed);
	uint8_t *p;
	int64_t last_ts;
	uint32_t last_rel;

	if (n) {
		st_index_time_entry(ix, n - 1, &last_ts, &last_rel);
		if (ts <= last_ts)
			return 0;
	}
	if (n >= ix->cap)
		return -ENOSPC;
	if (index_back(ix, (uint64_t)(n + 1) * ST_INDEX_TIME_ENTRY) < 0)
		return -ENOSPC; /* the entry is left out: a sparser index, a correct log */
	p = ix->map + (uint64_t)n * ST_INDEX_TIME_ENTRY;
	st_be64_store(p, (uint64_t)ts);
	st_be32_store(p + 8, rel);
	atomic_store_explicit(&ix->n, n + 1, memory_order_release);
	return 1;
}

int64_t st_index_time_lookup(const struct st_index *ix, uint32_t n, int64_t ts)
{
	int64_t lo = 0, hi = (int64_t)n - 1, best = -1;
	int64_t t;
	uint32_t rel;

	while (lo <= hi) {
		int64_t mid = lo + (hi - lo) / 2;

		st_index_time_entry(ix, (uint32_t)mid, &t, &rel);
		if (t <= ts) {
			best = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return best;
}
