/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * st_ring.h - per-partition single-producer/single-consumer byte ring of
 * RecordBatches, zero copy on both sides.
 *
 * Data flow: a dataplane lcore (the producer) reserves room for a batch,
 * builds or copies it in place, assigns its offset and commits it; the
 * partition's writer thread (the consumer) peeks at the committed bytes and
 * hands them to the io_uring appender as one gathered write, then releases
 * them once the write no longer needs the memory.  The bytes in the ring are
 * exactly the bytes of the segment file, so a buffered appender writes
 * straight from ring memory (the rings are io_uring fixed buffers).
 *
 * Layout.  Positions are free-running 64-bit byte counters; the index in
 * memory is pos & mask.  A batch never straddles the end of the memory: a
 * reservation that would is placed at the start of the next lap, and the
 * bytes left at the end of the old lap become padding.  The producer
 * publishes where that padding starts (pad_pos) together with the commit
 * that covers it, so the consumer learns of it with the same acquire; no
 * marker is written into the data, which stays byte-identical to the file.
 *
 * Producer (one thread):
 *   p = st_ring_reserve(r, max);     NULL when full: count a drop or retry
 *   ...fill up to max bytes at p, record by record if need be...
 *   st_ring_commit(r, used);         used <= max; 0 abandons the slot
 * Consumer (one thread):
 *   n = st_ring_peek(r, &p);         contiguous committed bytes at p
 *   st_ring_consume(r, k);           optional: k <= n taken, in flight
 *   st_ring_release(r, k);           k bytes done with, room for the producer
 * Without st_ring_consume() a peek always restarts at the released position,
 * which suits a consumer with one write in flight per ring.  With it, the
 * consumer can have several ranges in flight and release them in order.
 *
 * Ordering: commit is a release store of prod_tail, peek an acquire load;
 * release is a release store of cons_tail, reserve an acquire load (taken
 * only when the cached value says the ring looks full).  Producer and
 * consumer fields sit on separate cache lines.  Offsets, batch boundaries
 * and drop counters are the caller's business.
 *
 * The hot-path calls are inline and never block, allocate or syscall.
 */
#ifndef ST_RING_H
#define ST_RING_H

#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "st_hugemem.h"

#define ST_RING_CACHE_LINE 64
/* io_uring refuses fixed buffers larger than 1 GiB. */
#define ST_RING_SIZE_MAX   (1ull << 30)
#define ST_RING_SIZE_MIN   64

struct st_ring {
	/* Written by the producer. */
	alignas(ST_RING_CACHE_LINE) _Atomic uint64_t prod_tail; /* end of committed bytes */
	_Atomic uint64_t pad_pos;  /* start of the latest wrap padding, UINT64_MAX if none */
	uint64_t resv_pos;         /* producer only: start of the open reservation */
	uint64_t resv_len;         /* producer only: its length, 0 if none */
	uint64_t cons_cache;       /* producer only: last cons_tail seen */

	/* Written by the consumer. */
	alignas(ST_RING_CACHE_LINE) _Atomic uint64_t cons_tail; /* end of released bytes */
	uint64_t cons_head;        /* consumer only: end of consumed bytes */
	uint64_t cons_pads[2];     /* consumer only: pads skipped by head, not yet by tail */
	unsigned cons_npads;

	/* Set at creation, read-only afterwards. */
	alignas(ST_RING_CACHE_LINE) uint8_t *base;
	uint64_t size;             /* power of two */
	uint64_t mask;
	struct st_hugemem mem;
};

/**
 * Create a ring of @size bytes (a power of two, ST_RING_SIZE_MIN ..
 * ST_RING_SIZE_MAX) in memory from st_hugemem_alloc(@policy).
 *
 * @return 0 on hugepages, ST_HUGEMEM_FALLBACK on ordinary pages (the caller
 *   logs one warning), -EINVAL bad size, -ENOMEM, or an st_hugemem_alloc()
 *   error (policy ON without hugepages).  *@out is set only on success.
 */
int st_ring_create(struct st_ring **out, uint64_t size, enum st_huge_policy policy);

/** Free a ring (NULL is fine).  Neither side may be using it. */
void st_ring_free(struct st_ring *r);

/** The ring memory as one iovec, for io_uring buffer registration. */
static inline struct iovec st_ring_iovec(const struct st_ring *r)
{
	return (struct iovec){ .iov_base = r->base, .iov_len = (size_t)r->size };
}

/**
 * Producer: reserve @len contiguous bytes.  An open reservation is replaced
 * (abandoned) by a new one.  Never blocks.  Keep @len <= size / 2 (a ring of
 * at least twice the largest batch): only then does room always come back
 * once the consumer catches up, wherever the write position stands.
 *
 * @return where to write, or NULL when the ring lacks room now (try later,
 *   or count a drop) or @len is 0 or larger than the ring.
 */
static inline void *st_ring_reserve(struct st_ring *r, uint64_t len)
{
	uint64_t pos = atomic_load_explicit(&r->prod_tail, memory_order_relaxed);
	uint64_t idx = pos & r->mask;
	uint64_t start = pos;

	if (len == 0 || len > r->size)
		return NULL;
	if (idx + len > r->size)
		start = pos + (r->size - idx); /* next lap; the rest becomes padding */
	if (start + len - r->cons_cache > r->size) {
		/* Acquire: the consumer's reads of that space are finished. */
		r->cons_cache = atomic_load_explicit(&r->cons_tail, memory_order_acquire);
		if (start + len - r->cons_cache > r->size)
			return NULL;
	}
	r->resv_pos = start;
	r->resv_len = len;
	return r->base + (start & r->mask);
}

/**
 * Producer: publish the first @len bytes of the open reservation (@len <=
 * the reserved length; the rest is given back).  0 abandons it.
 *
 * @return 0, or -EINVAL when @len exceeds the reservation (nothing published).
 */
static inline int st_ring_commit(struct st_ring *r, uint64_t len)
{
	uint64_t pos = atomic_load_explicit(&r->prod_tail, memory_order_relaxed);

	if (len > r->resv_len)
		return -EINVAL;
	r->resv_len = 0;
	if (len == 0)
		return 0;
	/* Only now is the padding real; the release below publishes it too. */
	if (r->resv_pos != pos)
		atomic_store_explicit(&r->pad_pos, pos, memory_order_relaxed);
	atomic_store_explicit(&r->prod_tail, r->resv_pos + len, memory_order_release);
	return 0;
}

/**
 * Consumer: find the committed bytes at the consume position.  Padding at
 * the end of a lap is skipped here.
 *
 * @return the number of contiguous bytes at *@ptr (0 = nothing committed;
 *   *@ptr is then left unchanged).  Never crosses the end of the memory.
 */
static inline uint64_t st_ring_peek(struct st_ring *r, uint8_t **ptr)
{
	uint64_t c = r->cons_head;
	uint64_t t = atomic_load_explicit(&r->prod_tail, memory_order_acquire);
	uint64_t pad, n;

	if (t == c)
		return 0;
	pad = atomic_load_explicit(&r->pad_pos, memory_order_relaxed);
	if (pad == c && pad < t) {
		/* Skip the padding; the tail skips it too when it gets there. */
		c = (c | r->mask) + 1;
		r->cons_head = c;
		if (atomic_load_explicit(&r->cons_tail, memory_order_relaxed) == pad)
			atomic_store_explicit(&r->cons_tail, c, memory_order_release);
		else
			r->cons_pads[r->cons_npads++] = pad;
		if (t == c)
			return 0;
		n = t - c;
	} else if (pad > c && pad < t) {
		n = pad - c;
	} else {
		n = t - c;
	}
	if (n > r->size - (c & r->mask))
		n = r->size - (c & r->mask);
	*ptr = r->base + (c & r->mask);
	return n;
}

/** Consumer: mark @len peeked bytes as taken (in flight, not yet released). */
static inline void st_ring_consume(struct st_ring *r, uint64_t len)
{
	r->cons_head += len;
}

/**
 * Consumer: give back the oldest @len consumed (or, without
 * st_ring_consume(), peeked) bytes to the producer.  Releases happen in
 * consume order; @len counts data bytes only (as peek returned them), so
 * one release may span several peeks, padding included.
 */
static inline void st_ring_release(struct st_ring *r, uint64_t len)
{
	uint64_t t = atomic_load_explicit(&r->cons_tail, memory_order_relaxed) + len;

	/* Released data that reaches a skipped pad also frees the pad. */
	while (r->cons_npads && t >= r->cons_pads[0]) {
		t += ((r->cons_pads[0] | r->mask) + 1) - r->cons_pads[0];
		r->cons_pads[0] = r->cons_pads[1];
		r->cons_npads--;
	}
	if (r->cons_head < t)
		r->cons_head = t;
	atomic_store_explicit(&r->cons_tail, t, memory_order_release);
}

/**
 * Consumer: take back everything consumed and not released, so that the
 * next peek starts at the released position again (a writer whose writes
 * failed writes the same bytes again).  Pads skipped since are met again.
 */
static inline void st_ring_rewind(struct st_ring *r)
{
	r->cons_head = atomic_load_explicit(&r->cons_tail, memory_order_relaxed);
	r->cons_npads = 0;
}

/** Consumer: committed bytes not yet released (padding included). */
static inline uint64_t st_ring_used(const struct st_ring *r)
{
	return atomic_load_explicit(&r->prod_tail, memory_order_acquire) -
	       atomic_load_explicit(&r->cons_tail, memory_order_relaxed);
}

#endif /* ST_RING_H */
