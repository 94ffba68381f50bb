/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * st_index.h - Kafka's sparse offset index (.index) and time index
 * (.timeindex), kept in memory-mapped files.  Internal to storage.
 *
 *   .index      8-byte entries:  i32 relativeOffset, i32 position
 *   .timeindex 12-byte entries:  i64 timestamp, i32 relativeOffset
 *
 * All big-endian, in increasing order.  The active segment's files are
 * sized to index_max_bytes (Kafka preallocates segment.index.bytes) and
 * trimmed to their entries when the segment rolls or the log closes.
 *
 * One writer appends; readers on other threads look entries up.  An entry
 * is written into the mapping before the entry count is published with a
 * release store, and readers load the count with acquire, so a reader
 * never sees a half-written entry.  The mapping is never moved or shrunk
 * while the segment is in the log (trimming shortens the file, not the
 * mapping, and nothing beyond the entries is touched).
 */
#ifndef ST_INDEX_H
#define ST_INDEX_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define ST_INDEX_OFFSET_ENTRY 8u
#define ST_INDEX_TIME_ENTRY   12u

struct st_index {
	int fd;
	uint8_t *map;              /* NULL while map_len is 0 */
	uint64_t map_len;
	uint32_t entry_size;
	uint32_t cap;              /* entries the file may hold now */
	_Atomic uint32_t n;        /* published entries */
	uint64_t backed;           /* bytes from 0 known to have blocks behind them */
};

/**
 * Open or create @path.  Entries = file size / entry size (a partial tail
 * entry is ignored; st_index_sane() reports it).  With @max_bytes > 0 the
 * file is grown to @max_bytes (rounded down to whole entries) for
 * appending; 0 leaves it at its size (read-only use).  @reset empties it.
 * @return 0 or -errno.
 */
int st_index_open(struct st_index *ix, const char *path, uint32_t entry_size,
		  uint64_t max_bytes, bool reset);
/**
 * Grow the file (and mapping) to @max_bytes for appending; 0 trims the file
 * to its entries and stops appends.  Growing moves the mapping: only while
 * no reader can see the segment (open, recovery).  @return 0 or -errno.
 */
int st_index_resize(struct st_index *ix, uint64_t max_bytes);
/** Drop every entry (recovery rebuild). @return 0 or -errno. */
int st_index_reset(struct st_index *ix);
/**
 * Keep the first @n entries (the writer rewinding after an I/O error; the
 * entries dropped indexed bytes no reader was ever shown).  Entries past @n
 * stay in the file until appends overwrite them or a trim cuts them.
 */
void st_index_truncate(struct st_index *ix, uint32_t n);
/** msync the entries. @return 0 or -errno. */
int st_index_flush(struct st_index *ix);
void st_index_close(struct st_index *ix);

static inline uint32_t st_index_entries(const struct st_index *ix)
{
	return atomic_load_explicit(&ix->n, memory_order_acquire);
}

static inline bool st_index_full(const struct st_index *ix)
{
	return atomic_load_explicit(&ix->n, memory_order_relaxed) >= ix->cap;
}

/** Offset index: append (relative offset, position). @return 0 or -ENOSPC. */
int st_index_offset_append(struct st_index *ix, uint32_t rel, uint32_t pos);
/** Offset index entry @i. */
void st_index_offset_entry(const struct st_index *ix, uint32_t i, uint32_t *rel, uint32_t *pos);
/**
 * Largest entry with relative offset <= @rel among the first @n (binary
 * search).  @return its index, or -1 when there is none (start at 0).
 */
int64_t st_index_offset_lookup(const struct st_index *ix, uint32_t n, uint32_t rel);

/** Time index: append when @ts grows past the last entry. @return 1 added, 0 not, -ENOSPC. */
int st_index_time_maybe_append(struct st_index *ix, int64_t ts, uint32_t rel);
void st_index_time_entry(const struct st_index *ix, uint32_t i, int64_t *ts, uint32_t *rel);
/** Largest entry with timestamp <= @ts among the first @n.  @return index or -1. */
int64_t st_index_time_lookup(const struct st_index *ix, uint32_t n, int64_t ts);

#endif /* ST_INDEX_H */
