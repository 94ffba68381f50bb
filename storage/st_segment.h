/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * st_segment.h - one segment of a partition log: the .log file, its offset
 * index and time index, and what the writer knows about it.  Internal to
 * storage (st_log, st_recovery, st_retention, st_dump).
 *
 * Fields under "writer" are touched only by the log's writer thread (or by
 * open/recovery before the log is shared); the atomics are what readers
 * may look at.  Lifetime is a reference count: the log's list holds one,
 * each reader range holds one; the last put closes everything and, for a
 * segment removed by retention, unlinks its `.deleted` files.
 */
#ifndef ST_SEGMENT_H
#define ST_SEGMENT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "st_batch.h"
#include "st_index.h"
#include "st_log.h"

struct st_segment {
	int64_t base;
	int fd;                       /* .log, O_RDWR */
	struct st_index oidx, tidx;
	_Atomic uint64_t readable;    /* published byte end */
	_Atomic int64_t max_ts;       /* largest batch maxTimestamp so far, -1 none */
	_Atomic int refs;
	/* writer */
	uint64_t size;                /* committed bytes (logical end) */
	int64_t next_offset;          /* lastOffset + 1 of the last batch, base if empty */
	int64_t offset_of_max_ts;
	int64_t first_ts;             /* first batch's maxTimestamp (roll by time), -1 none */
	int64_t created_ms;
	uint64_t since_index;         /* bytes appended since the last index entry */
	uint64_t prealloc_end;        /* fallocate'd (KEEP_SIZE) up to here */
	bool active;
	bool deleted;                 /* files renamed to .deleted */
	const char *log_path;         /* "<stem>.log", in the same allocation */
	char stem[];                  /* "<dir>/<20-digit base>" */
};

/** "<dir>/<20-digit base><ext>" into @buf. @return 0 or -ENAMETOOLONG. */
int st_segment_name(char *buf, size_t len, const char *dir, int64_t base, const char *ext);
/** The path of one of @seg's files (static buffer of @buf). */
int st_segment_path(const struct st_segment *seg, const char *ext, char *buf, size_t len);

/**
 * Open (create when missing) the segment @base in @dir.  @active sizes the
 * indexes for appending (cfg->index_max_bytes); @reset_indexes empties
 * them for a rebuild.  size = the .log's file size; next_offset, max_ts are
 * left for the caller (recovery) to establish.  One reference.
 */
int st_segment_open(struct st_segment **out, const char *dir, int64_t base, bool active,
		    bool reset_indexes, const struct st_log_config *cfg);
void st_segment_get(struct st_segment *seg);
void st_segment_put(struct st_segment *seg);
/** Rename the files to .deleted (they are unlinked at the last put). */
int st_segment_mark_deleted(struct st_segment *seg);

/**
 * Read the header of the batch at @pos, which must lie whole below @limit.
 * @return 0 and @bi; -ENODATA at @pos == @limit; -EBADMSG for a header that
 *   does not parse or a batch that does not fit (a torn or corrupt tail);
 *   -errno from pread.
 */
int st_segment_batch_at(const struct st_segment *seg, uint64_t pos, uint64_t limit,
			struct st_batch_info *bi);
/**
 * Find the batch containing @offset (lastOffset >= @offset) below @limit:
 * index lookup, then a header scan.  @return 0 with *@pos and @bi,
 * -ENODATA when no batch below @limit contains it, -EBADMSG, -errno.
 */
int st_segment_find(const struct st_segment *seg, int64_t offset, uint64_t limit,
		    uint64_t *pos, struct st_batch_info *bi);

/**
 * Account one batch at @pos (already in the file): Kafka's sparse index
 * rule (entry = this batch's lastOffset, start position, when more than
 * index_interval_bytes were added since the last entry), time index entry
 * when the max timestamp grows, size, next_offset.  @return 0 or -ENOSPC.
 */
int st_segment_account(struct st_segment *seg, const struct st_batch_info *bi, uint64_t pos,
		       const struct st_log_config *cfg);
/** Can a batch ending at @last_offset still be indexed here? */
bool st_segment_fits(const struct st_segment *seg, int64_t last_offset);
/**
 * Writer: forget the batches at and after @pos (the first of them starts
 * there, @next_offset is its base offset): index entries, size, next offset.
 * The file is not touched.  For a rewind after a failed write, where the same
 * batches are appended again (so the maximum timestamp is kept).
 */
void st_segment_rewind(struct st_segment *seg, uint64_t pos, int64_t next_offset);
/** Make the segment the appendable one (open/recovery only). */
int st_segment_activate(struct st_segment *seg, const struct st_log_config *cfg);
/**
 * Stop appending (roll, close): final time index entry, trim both indexes
 * and the .log preallocation.  @return 0 or -errno.
 */
int st_segment_seal(struct st_segment *seg);
/** fallocate(KEEP_SIZE) ahead of @need bytes; failures only stop it. */
void st_segment_prealloc(struct st_segment *seg, uint64_t need, const struct st_log_config *cfg);

#endif /* ST_SEGMENT_H */
