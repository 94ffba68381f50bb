/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * st_producer.h - idempotent producers' state of one partition (Kafka's
 * ProducerStateManager): per producer id, its epoch and the sequence ranges
 * and offsets of its last ST_PRODUCER_BATCHES batches.
 *
 * The table belongs to the partition's producer thread (the control thread
 * or a dataplane lcore), which checks every batch carrying a producer id
 * before it is appended and records it after; so de-duplication needs no
 * lock on either ingest path.  Its memory is allocated once, when the
 * partition opens: a full table evicts the producer idle the longest
 * (counted), it never allocates on the hot path.
 *
 * The rules, in Kafka's order, for a batch of producer id P, epoch E and
 * sequences [first, last]:
 *   1. same epoch and one of the cached batches has [first, last]: a
 *      duplicate -- not appended, answered with the cached offsets;
 *   2. E below P's epoch: a stale (fenced) producer;
 *   3. E above it: a new epoch, whose first sequence must be 0;
 *   4. same epoch: first must follow the last cached sequence (wrapping
 *      at INT32_MAX to 0);
 *   5. P unknown here (or idle longer than producer.id.expiration.ms by
 *      the batches' own timestamps): any sequence starts it.
 *
 * Snapshots keep the table across restarts in Kafka's `.snapshot` format
 * (ProducerSnapshot v1, CRC-32C), one entry per cached batch, named by the
 * offset they are valid at (`<20-digit offset>.snapshot`); at open the
 * newest one at or below the log end is loaded and the batches after it are
 * read from the log (st_producers_rebuild).  They are written at every
 * segment roll from a second table that the log keeps (st_log_set_producers,
 * writer thread) and at a clean close.
 */
#ifndef ST_PRODUCER_H
#define ST_PRODUCER_H

#include <stdbool.h>
#include <stdint.h>

#include "st_batch.h"

struct st_log;

#define ST_PRODUCER_BATCHES 5        /* Kafka's NumBatchesToRetain */

/* One appended batch of a producer. */
struct st_producer_batch {
	int32_t first_seq, last_seq;
	int64_t first_offset, last_offset;
};

struct st_producer {
	int64_t pid;                    /* -1: free slot */
	int64_t last_ts;                /* max timestamp of its last batch (ms) */
	int16_t epoch;
	uint8_t n;                      /* cached batches, oldest first from head */
	uint8_t head;
	struct st_producer_batch b[ST_PRODUCER_BATCHES];
};

struct st_producers {
	struct st_producer *slot;       /* open addressing, linear probing */
	uint32_t mask;                  /* capacity - 1; no table when slot is NULL */
	uint32_t n;
	uint32_t max;                   /* entries before eviction (3/4 of the capacity) */
	int64_t expiration_ms;          /* producer.id.expiration.ms */
	uint64_t evicted;               /* producers dropped to make room */
};

enum st_producer_verdict {
	ST_PRODUCER_APPEND = 0,         /* not a duplicate, in sequence: append it */
	ST_PRODUCER_DUPLICATE,          /* already appended: answer the cached offsets */
	ST_PRODUCER_OUT_OF_ORDER,       /* Kafka's OUT_OF_ORDER_SEQUENCE_NUMBER (45) */
	ST_PRODUCER_FENCED,             /* Kafka's INVALID_PRODUCER_EPOCH (47) */
	ST_PRODUCER_STALE,              /* gaps allowed: at or below the last sequence */
};

/**
 * Allocate a table for @max_producers (0: none; every batch is then appended
 * unchecked).  @return 0 or -ENOMEM.
 */
int st_producers_init(struct st_producers *t, uint32_t max_producers, int64_t expiration_ms);
void st_producers_free(struct st_producers *t);

/**
 * Make @dst an equal copy of @src with its own memory (not hot: at open).
 * @return 0 or -ENOMEM.
 */
int st_producers_clone(struct st_producers *dst, const struct st_producers *src);

/**
 * Producer thread, before appending @bi (producer_id >= 0).  For a
 * duplicate, *@dup gets the original batch.  Never allocates.
 */
enum st_producer_verdict st_producers_check_ex(const struct st_producers *t,
					       const struct st_batch_info *bi, bool gaps_ok,
					       struct st_producer_batch *dup);

/*
 * @gaps_ok: an at-most-once sender (UDP produce mode, docs/delivery.md)
 * never resends, so a lost batch leaves a gap that must not stop the ones
 * after it: a sequence after the last one (serial-number order over the
 * 31-bit space) is appended, one at or before it that is not a cached
 * duplicate is ST_PRODUCER_STALE (a late network duplicate).
 */
static inline enum st_producer_verdict st_producers_check(const struct st_producers *t,
							  const struct st_batch_info *bi,
							  struct st_producer_batch *dup)
{
	return st_producers_check_ex(t, bi, false, dup);
}

/** Producer thread: @bi was appended at @base_offset; remember it. */
void st_producers_update(struct st_producers *t, const struct st_batch_info *bi,
			 int64_t base_offset);

/** The entry of @pid, or NULL (views; for tests and tools). */
const struct st_producer *st_producers_find(const struct st_producers *t, int64_t pid);

/**
 * Write the table as `<dir>/<offset>.snapshot` (temp file, fsync, rename,
 * directory fsync).  Then delete the snapshots older than the newest one at
 * or below @durable (the log's recovery point: a crash keeps at least that
 * much of the log, so that one stays loadable); the ones above it stay as
 * fall-backs for a crash that cuts the log below the newest.
 * @return 0 or -errno (the old snapshots are then all kept).
 */
int st_producers_snapshot(const struct st_producers *t, const char *dir, int64_t offset,
			  int64_t durable);

/**
 * Delete the snapshots of @dir below @offset (retention moved the log start
 * there: they could only be loaded without the batches after them).
 * @return snapshots deleted, or -errno.
 */
int st_producers_snapshots_delete_below(const char *dir, int64_t offset);

/**
 * Rebuild the table of @log (at open, before any append): load the newest
 * snapshot at or below the log end, delete the ones above it (a torn tail
 * was cut) or below the log start, then apply every batch from the
 * snapshot's offset (or the log start) to the end.  Expiry is left to
 * st_producers_check, by the batches' timestamps.  Without a table (@t
 * made for 0 producers) only the stale snapshots are deleted.
 *
 * @return batches read from the log (>= 0), or -errno; *@loaded is the
 *   offset of the snapshot loaded (-1: none).  A corrupt snapshot is
 *   deleted and counted in *@bad_snapshots, and the next older one tried
 *   (the log is read from its start when none is left).
 */
int64_t st_producers_rebuild(struct st_producers *t, struct st_log *log,
			     unsigned int *bad_snapshots, int64_t *loaded);

#endif /* ST_PRODUCER_H */
