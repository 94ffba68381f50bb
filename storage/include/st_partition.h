/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * st_partition.h - one topic-partition as the rest of the appliance sees it:
 * the producer side of its ring, and its published watermarks.
 *
 * Exactly one thread produces into a partition at a time (a dataplane lcore
 * for rule-fed partitions, the control thread otherwise; see
 * docs/architecture.md).  The producer assigns offsets as it commits batches
 * into the ring, so offsets are dense and in ring order; the partition's
 * writer thread (st_writer) moves the ring into the segment files and
 * publishes, in offsets, how far the log is
 *
 *   written  >= flushed >= durable        (each "next offset not yet covered")
 *
 * and readers take the one matching storage.consumer.visibility as their
 * high watermark.  Every hot-path call here is inline or lock-free, never
 * blocks, allocates or makes a system call: a full ring is reported at once
 * (-ENOBUFS) for the caller to count a drop or to wait.
 *
 * Tap mode builds batches in place: st_partition_tap_add() opens a batch of
 * batch.size bytes in the ring, appends records to it, and seals it (offsets
 * assigned, CRC computed, committed) when the next record does not fit or
 * when st_partition_tap_flush() finds it older than linger.  A sealed tap
 * batch is stamped (struct st_rx_stamps) with the @now_ns its first record
 * came with: tap mode is the dataplane's.
 */
#ifndef ST_PARTITION_H
#define ST_PARTITION_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "st_batch.h"
#include "st_log.h"
#include "st_producer.h"
#include "st_ring.h"

struct st_inbox;
struct st_log;
struct st_writer;

/*
 * Receive times of dataplane batches, handed from the producer to the
 * partition's writer: one {ring position after the batch, receive time}
 * per batch committed by a dataplane lcore (tap batches, produce-mode
 * datagrams; not Kafka produce).  The writer takes an entry once the durable
 * watermark covers that ring position and observes the latency
 * (sluice_dataplane_receive_to_durable_seconds).  A single-producer,
 * single-consumer array: the producer writes a slot and publishes head
 * (release), reading the writer's tail only when its cached copy says full;
 * when it is full the stamp is dropped and counted (a sample lost, never a
 * record).  Per batch: two stores and a release store, no lock, no syscall.
 */
#define ST_RX_STAMPS 1024u          /* power of two */

struct st_rx_stamp {
	uint64_t ring_end;         /* ring position after the batch (st_ring prod_tail) */
	uint64_t rx_ns;            /* receive time, CLOCK_REALTIME ns (the lcore's clock) */
};

struct st_rx_stamps {
	alignas(ST_RING_CACHE_LINE) _Atomic uint32_t head; /* producer: next slot */
	uint32_t tail_cache;       /* producer only: the writer's tail, as last read */
	uint64_t lost;             /* producer: stamps dropped, the array full */
	alignas(ST_RING_CACHE_LINE) _Atomic uint32_t tail; /* writer: next slot to take */
	struct st_rx_stamp s[ST_RX_STAMPS];
};

/* Per-partition counters, written by the producer only. */
struct st_partition_pstats {
	uint64_t batches;          /* committed into the ring */
	uint64_t records;
	uint64_t bytes;
	uint64_t ring_full;        /* batches/records refused: ring had no room */
	uint64_t too_large;        /* a record or batch larger than the ring allows */
	uint64_t duplicates;       /* idempotent batches already appended: not again */
	uint64_t out_of_order;     /* idempotent batches refused: sequence gap */
	uint64_t fenced;           /* idempotent batches refused: stale producer epoch */
};

struct st_partition {
	/* ---- producer side (one thread) ---- */
	alignas(ST_RING_CACHE_LINE) struct st_ring *ring;
	int64_t next_offset;       /* next offset to assign (log end offset incl. the ring) */
	int32_t leader_epoch;
	uint32_t batch_size;       /* tap batches: bytes reserved per batch */
	uint64_t linger_ns;        /* tap batches: seal when this old */
	uint64_t tap_opened_ns;    /* when the open tap batch got its first record */
	bool tap_open;
	struct st_batch_builder tap;
	struct st_producers producers; /* idempotent producers' sequences */
	struct st_partition_pstats pstats;

	/* ---- published by the writer thread, read by anyone ---- */
	alignas(ST_RING_CACHE_LINE) _Atomic int64_t written;  /* next offset not yet written */
	_Atomic int64_t flushed;
	_Atomic int64_t durable;
	_Atomic int64_t log_start; /* first offset still on disk */
	_Atomic int err;           /* sticky -errno: appends stopped (ENOSPC, EIO) */

	/* ---- set at open, read-only afterwards ---- */
	alignas(ST_RING_CACHE_LINE) char topic[256];
	int32_t partition;
	uint64_t segment_bytes;    /* the log's segment.bytes: writes are cut to fit */
	struct st_inbox *inbox;    /* NULL: the control thread produces; else post to it */
	struct st_log *log;        /* owned by the writer thread once attached */
	/*
	 * The producers' state as of the log end, a second table kept by the
	 * log's owner (st_log_set_producers) for the snapshots at rolls: the
	 * producer thread's table above runs ahead of the log by the ring.
	 */
	struct st_producers log_producers;
	struct st_writer *writer;
	void *writer_priv;         /* the writer's per-partition state */

	/* ---- producer -> writer: receive times of dataplane batches ---- */
	struct st_rx_stamps stamps;
};

/* How to open a partition. */
struct st_partition_cfg {
	uint64_t ring_bytes;       /* storage.ring.bytes (power of two) */
	enum st_huge_policy huge;  /* storage.hugepages */
	uint32_t batch_size;       /* tap batches: batch.size */
	uint32_t linger_ms;        /* tap batches: linger.ms */
	int32_t leader_epoch;      /* stamped into every batch */
	uint32_t max_producers;    /* idempotent producers tracked (0: no de-duplication) */
	int64_t producer_expiration_ms; /* producer.id.expiration.ms */
};

/**
 * Open a partition: open (recover) its log under @d, make what recovery kept
 * durable, create its ring.  The producer continues at the log end offset.
 * Not hot: runs on the control thread at start or topic creation.
 *
 * @return 0, ST_HUGEMEM_FALLBACK (opened, ring on ordinary pages: log one
 *   warning), or -errno (st_log_open, st_ring_create).
 */
int st_partition_open(struct st_partition **out, struct st_logdir *d, const char *topic,
		      int32_t partition, const struct st_log_config *lc,
		      const struct st_partition_cfg *pc, struct st_log_recovery *rep);

/**
 * Close a partition that no writer holds (see st_writer_detach): clean
 * close of its log (recovery point, trimmed files), free the ring.
 * @return 0 or -errno from st_log_close.
 */
int st_partition_close(struct st_partition *p);

/* Which watermark readers may read up to (storage.consumer.visibility). */
enum st_visibility { ST_VIS_DURABLE = 0, ST_VIS_FLUSHED, ST_VIS_WRITTEN };

/** The high watermark readers see under @vis (acquire load). */
static inline int64_t st_partition_hw(const struct st_partition *p, enum st_visibility vis)
{
	switch (vis) {
	case ST_VIS_WRITTEN:
		return atomic_load_explicit(&p->written, memory_order_acquire);
	case ST_VIS_FLUSHED:
		return atomic_load_explicit(&p->flushed, memory_order_acquire);
	default:
		return atomic_load_explicit(&p->durable, memory_order_acquire);
	}
}

static inline int64_t st_partition_log_start(const struct st_partition *p)
{
	return atomic_load_explicit(&p->log_start, memory_order_acquire);
}

/**
 * Let retention delete the whole segments below @offset (st_log_set_delete_below).
 * Any thread; pair with st_writer_retain_soon() not to wait for the next
 * retention check.
 */
static inline void st_partition_delete_below(struct st_partition *p, int64_t offset)
{
	st_log_set_delete_below(p->log, offset);
}

/**
 * Producer: append one complete, already validated RecordBatch (produce mode
 * and the Kafka produce path).  Copies it once into the ring and assigns its
 * offsets there.  Seals an open tap batch first so offsets stay in order.
 *
 * A batch with a producer id is checked against the partition's producer
 * state first (st_producer.h): a duplicate is not appended and returns
 * ST_APPEND_DUPLICATE with the original batch's base offset.
 *
 * @return 0 and *@base_offset, ST_APPEND_DUPLICATE and *@base_offset,
 *   -ENOBUFS (ring full now: count or wait), -EMSGSIZE (larger than half the
 *   ring: can never fit), ST_ERR_OUT_OF_ORDER (a sequence gap),
 *   ST_ERR_FENCED (a stale producer epoch), or the partition's sticky error.
 */
#define ST_APPEND_DUPLICATE 1
#define ST_ERR_OUT_OF_ORDER (-EILSEQ)
#define ST_ERR_FENCED (-ESTALE)

int st_partition_append(struct st_partition *p, const void *batch, uint32_t len,
			int64_t *base_offset);

/*
 * As st_partition_append, with ST_APPEND_F_GAPS_OK: an at-most-once sender's
 * batch (sequence gaps allowed; a stale sequence is ST_APPEND_DUPLICATE with
 * *@base_offset -1).  See st_producers_check_ex.
 */
#define ST_APPEND_F_GAPS_OK 0x1u
int st_partition_append_ex(struct st_partition *p, const void *batch, uint32_t len,
			   unsigned int flags, int64_t *base_offset);

/*
 * As st_partition_append_ex, for a batch the dataplane received at @rx_ns
 * (CLOCK_REALTIME ns): the batch's receive time goes to the writer
 * (struct st_rx_stamps) once it is in the ring.  @rx_ns 0: no stamp.
 */
int st_partition_append_rx(struct st_partition *p, const void *batch, uint32_t len,
			   unsigned int flags, uint64_t rx_ns, int64_t *base_offset);

/**
 * Writer: take the stamps of the batches that end at or before ring position
 * @ring_end (now durable), calling @fn(@arg, rx_ns) for each, oldest first.
 * @return stamps taken.
 */
static inline unsigned st_partition_rx_stamps_take(struct st_partition *p, uint64_t ring_end,
						   void (*fn)(void *arg, uint64_t rx_ns),
						   void *arg)
{
	struct st_rx_stamps *s = &p->stamps;
	uint32_t t = atomic_load_explicit(&s->tail, memory_order_relaxed);
	uint32_t h = atomic_load_explicit(&s->head, memory_order_acquire);
	unsigned n = 0;

	for (; t != h && s->s[t % ST_RX_STAMPS].ring_end <= ring_end; t++, n++)
		fn(arg, s->s[t % ST_RX_STAMPS].rx_ns);
	if (n)
		atomic_store_explicit(&s->tail, t, memory_order_release);
	return n;
}

/**
 * Producer, tap mode: add one record to the open batch (opening one as
 * needed); seals the batch when the record does not fit.  @now_ns is the
 * caller's clock for linger.
 *
 * @return 0, -ENOBUFS (ring full: the record is not stored), -EMSGSIZE.
 */
int st_partition_tap_add(struct st_partition *p, uint64_t now_ns, int64_t timestamp_ms,
			 const void *key, int32_t key_len, const void *value, int32_t value_len,
			 const struct st_record_header *hdrs, uint32_t n_hdrs);

/**
 * st_partition_tap_add with the headers section already encoded
 * (st_record_headers_encode) and a non-null @value: the lcore's per-packet
 * path.  The common case -- a batch is open and the record fits -- is inline;
 * sealing, opening and the sticky error are out of line in
 * st_partition_tap_add_enc_slow.  Same records, same returns.
 */
int st_partition_tap_add_enc_slow(struct st_partition *p, uint64_t now_ns, int64_t timestamp_ms,
				  const void *key, uint32_t key_len, const void *value,
				  uint32_t value_len, const void *hdrs, uint32_t hdrs_len);

static inline int st_partition_tap_add_enc(struct st_partition *p, uint64_t now_ns,
					   int64_t timestamp_ms, const void *key, uint32_t key_len,
					   const void *value, uint32_t value_len,
					   const void *hdrs, uint32_t hdrs_len)
{
	if (__builtin_expect(p->tap_open, 1) &&
	    __builtin_expect(!atomic_load_explicit(&p->err, memory_order_relaxed), 1) &&
	    __builtin_expect(st_batch_builder_add_enc(&p->tap, timestamp_ms, key, key_len, value,
						      value_len, hdrs, hdrs_len) == 0, 1))
		return 0;
	return st_partition_tap_add_enc_slow(p, now_ns, timestamp_ms, key, key_len, value,
					     value_len, hdrs, hdrs_len);
}

/**
 * Producer, tap mode: as many of @n records (null key, the same timestamp
 * and encoded headers, see st_batch_builder_add_vals) as fit the open batch,
 * in order, without sealing or opening one.  The caller gives the first
 * record left to st_partition_tap_add_enc, which seals, opens or reports.
 * @return records added (0 when no batch is open or appends have stopped).
 */
static inline uint32_t st_partition_tap_add_vals(struct st_partition *p, int64_t timestamp_ms,
						 const struct st_val *v, uint32_t n,
						 const void *hdrs, uint32_t hdrs_len)
{
	if (__builtin_expect(!p->tap_open, 0) ||
	    __builtin_expect(atomic_load_explicit(&p->err, memory_order_relaxed) != 0, 0))
		return 0;
	return st_batch_builder_add_vals(&p->tap, timestamp_ms, v, n, hdrs, hdrs_len);
}

/**
 * Producer, tap mode: seal the open batch if it is older than linger (or
 * unconditionally with @force).  Call from the poll loop when idle.
 *
 * @return records sealed (0 if none).
 */
int st_partition_tap_flush(struct st_partition *p, uint64_t now_ns, bool force);

#endif /* ST_PARTITION_H */
