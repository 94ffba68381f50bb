/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * st_partition.c - the producer side of a partition: batches into the ring
 * with their offsets assigned, and tap-mode batches built in place.
 *
 * Runs on dataplane lcores: no locks, no allocation, no system calls.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "st_partition.h"

static inline int sticky_err(const struct st_partition *p)
{
	return atomic_load_explicit(&p->err, memory_order_relaxed);
}

/* The batch just committed was received at @rx_ns (0: unknown): tell the writer (lossy when full). */
static inline void rx_stamp(struct st_partition *p, uint64_t rx_ns)
{
	struct st_rx_stamps *s = &p->stamps;
	uint32_t h = atomic_load_explicit(&s->head, memory_order_relaxed);

	if (rx_ns == 0)
		return;                 /* not the dataplane's */
	if (h - s->tail_cache >= ST_RX_STAMPS) {
		s->tail_cache = atomic_load_explicit(&s->tail, memory_order_acquire);
		if (h - s->tail_cache >= ST_RX_STAMPS) {
			s->lost++;
			return;
		}
	}
	s->s[h % ST_RX_STAMPS] = (struct st_rx_stamp){
		.ring_end = atomic_load_explicit(&p->ring->prod_tail, memory_order_relaxed),
		.rx_ns = rx_ns,
	};
	atomic_store_explicit(&s->head, h + 1, memory_order_release);
}

/* Seal the open tap batch: header, CRC, offsets, commit. */
static int tap_seal(struct st_partition *p)
{
	int32_t n = p->tap.count;
	int len;

	if (!p->tap_open)
		return 0;
	p->tap_open = false;
	len = st_batch_builder_finish(&p->tap);
	if (len < 0) {
		st_ring_commit(p->ring, 0); /* empty: give the slot back */
		return 0;
	}
	st_batch_assign(p->tap.buf, p->next_offset, p->leader_epoch);
	st_ring_commit(p->ring, (uint64_t)len);
	rx_stamp(p, p->tap_opened_ns);
	p->next_offset += n;
	p->pstats.batches++;
	p->pstats.records += (uint64_t)n;
	p->pstats.bytes += (uint64_t)len;
	return n;
}

int st_partition_append(struct st_partition *p, const void *batch, uint32_t len,
			int64_t *base_offset)
{
	return st_partition_append_ex(p, batch, len, 0, base_offset);
}

int st_partition_append_ex(struct st_partition *p, const void *batch, uint32_t len,
			   unsigned int flags, int64_t *base_offset)
{
	return st_partition_append_rx(p, batch, len, flags, 0, base_offset);
}

int st_partition_append_rx(struct st_partition *p, const void *batch, uint32_t len,
			   unsigned int flags, uint64_t rx_ns, int64_t *base_offset)
{
	struct st_batch_info bi;
	void *slot;
	int err = sticky_err(p);

	if (err)
		return err;
	tap_seal(p);
	if (len > p->ring->size / 2) {
		p->pstats.too_large++;
		return -EMSGSIZE;
	}
	if (st_batch_header_read(batch, len, &bi) != ST_BATCH_ERR_OK)
		return -EINVAL;
	if (bi.producer_id >= 0) {
		struct st_producer_batch dup;

		switch (st_producers_check_ex(&p->producers, &bi, flags & ST_APPEND_F_GAPS_OK, &dup)) {
		case ST_PRODUCER_DUPLICATE:
			p->pstats.duplicates++;
			*base_offset = dup.first_offset;
			return ST_APPEND_DUPLICATE;
		case ST_PRODUCER_STALE:
			p->pstats.duplicates++;
			*base_offset = -1;
			return ST_APPEND_DUPLICATE;
		case ST_PRODUCER_OUT_OF_ORDER:
			p->pstats.out_of_order++;
			return ST_ERR_OUT_OF_ORDER;
		case ST_PRODUCER_FENCED:
			p->pstats.fenced++;
			return ST_ERR_FENCED;
		case ST_PRODUCER_APPEND:
			break;
		}
	}
	slot = st_ring_reserve(p->ring, len);
	if (!slot) {
		p->pstats.ring_full++;
		return -ENOBUFS;
	}
	memcpy(slot, batch, len);
	st_batch_assign(slot, p->next_offset, p->leader_epoch);
	st_ring_commit(p->ring, len);
	rx_stamp(p, rx_ns);
	if (bi.producer_id >= 0)
		st_producers_update(&p->producers, &bi, p->next_offset);
	*base_offset = p->next_offset;
	p->next_offset += (int64_t)bi.last_offset_delta + 1;
	p->pstats.batches++;
	p->pstats.records += (uint64_t)bi.records_count;
	p->pstats.bytes += len;
	return 0;
}

/* Open a tap batch with room for at least @need bytes of records. */
static int tap_open(struct st_partition *p, uint64_t now_ns, int64_t ts, uint32_t need)
{
	uint64_t size = p->batch_size;
	void *slot;

	if (need + ST_BATCH_HEADER_SIZE > size)
		size = need + ST_BATCH_HEADER_SIZE; /* one oversized record: a batch of its own */
	if (size > p->ring->size / 2) {
		p->pstats.too_large++;
		return -EMSGSIZE;
	}
	slot = st_ring_reserve(p->ring, size);
	if (!slot) {
		p->pstats.ring_full++;
		return -ENOBUFS;
	}
	st_batch_builder_begin(&p->tap, slot, (uint32_t)size, ts);
	p->tap_open = true;
	p->tap_opened_ns = now_ns;
	return 0;
}

int st_partition_tap_add(struct st_partition *p, uint64_t now_ns, int64_t timestamp_ms,
			 const void *key, int32_t key_len, const void *value, int32_t value_len,
			 const struct st_record_header *hdrs, uint32_t n_hdrs)
{
	int err = sticky_err(p);
	int rc;

	if (err)
		return err;
	if (p->tap_open) {
		rc = st_batch_builder_add(&p->tap, timestamp_ms, key, key_len, value, value_len,
					  hdrs, n_hdrs);
		if (rc != -ENOSPC)
			return rc;
		tap_seal(p);
	}
	rc = tap_open(p, now_ns, timestamp_ms,
		      st_record_size_max(key ? (uint32_t)key_len : 0,
					 value ? (uint32_t)value_len : 0, hdrs, n_hdrs));
	if (rc < 0)
		return rc;
	return st_batch_builder_add(&p->tap, timestamp_ms, key, key_len, value, value_len, hdrs,
				    n_hdrs);
}

int st_partition_tap_add_enc_slow(struct st_partition *p, uint64_t now_ns, int64_t timestamp_ms,
				  const void *key, uint32_t key_len, const void *value,
				  uint32_t value_len, const void *hdrs, uint32_t hdrs_len)
{
	/* length, attributes, timestampDelta, offsetDelta, keyLen, valueLen */
	uint64_t need = ST_VARINT_MAX + 1 + ST_VARLONG_MAX + 3 * ST_VARINT_MAX +
			(uint64_t)key_len + value_len + hdrs_len;
	int err = sticky_err(p);
	int rc;

	if (err)
		return err;
	if (p->tap_open) {
		rc = st_batch_builder_add_enc(&p->tap, timestamp_ms, key, key_len, value, value_len,
					      hdrs, hdrs_len);
		if (rc != -ENOSPC)
			return rc;
		tap_seal(p);
	}
	rc = tap_open(p, now_ns, timestamp_ms, need > UINT32_MAX ? UINT32_MAX : (uint32_t)need);
	if (rc < 0)
		return rc;
	return st_batch_builder_add_enc(&p->tap, timestamp_ms, key, key_len, value, value_len,
					hdrs, hdrs_len);
}

int st_partition_tap_flush(struct st_partition *p, uint64_t now_ns, bool force)
{
	if (!p->tap_open || (!force && now_ns - p->tap_opened_ns < p->linger_ns))
		return 0;
	return tap_seal(p);
}

/*
 * The idempotent producers' state as of the log end: snapshot, then the
 * batches after it.  The log gets its own copy, which it keeps as of LEO
 * and writes at every roll (st_log_set_producers): a roll is decided on the
 * writer thread, at an offset the producer thread cannot know in advance,
 * and by then the producer's table already holds the batches still in the
 * ring.
 */
static int rebuild_producers(struct st_partition *p, struct st_log_recovery *rep)
{
	unsigned int bad = 0;
	int64_t loaded;
	int64_t n = st_producers_rebuild(&p->producers, p->log, &bad, &loaded);
	int rc;

	if (n < 0)
		return (int)n;
	if (rep) {
		rep->producer_batches_read = n;
		rep->producer_snapshots_bad = bad;
		rep->producer_snapshot = loaded;
	}
	rc = st_producers_clone(&p->log_producers, &p->producers);
	if (rc == 0 && p->log_producers.slot)
		st_log_set_producers(p->log, &p->log_producers);
	return rc;
}

int st_partition_open(struct st_partition **out, struct st_logdir *d, const char *topic,
		      int32_t partition, const struct st_log_config *lc,
		      const struct st_partition_cfg *pc, struct st_log_recovery *rep)
{
	struct st_partition *p;
	int64_t leo;
	int rc, ring_rc;

	/* The struct holds cache-line-aligned members: allocate it aligned. */
	if (posix_memalign((void **)&p, ST_RING_CACHE_LINE, sizeof(*p)))
		return -ENOMEM;
	memset(p, 0, sizeof(*p));
	snprintf(p->topic, sizeof(p->topic), "%s", topic);
	p->partition = partition;
	p->segment_bytes = lc->segment_bytes;
	p->batch_size = pc->batch_size ? pc->batch_size : 16384;
	p->linger_ns = (uint64_t)pc->linger_ms * 1000000u;
	p->leader_epoch = pc->leader_epoch;
	ring_rc = st_ring_create(&p->ring, pc->ring_bytes, pc->huge);
	if (ring_rc < 0) {
		rc = ring_rc;
		goto out;
	}
	rc = st_log_open(&p->log, d, topic, partition, lc, rep);
	if (rc < 0)
		goto out;
	/* What recovery kept may sit in the page cache only: make it durable. */
	rc = st_log_sync(p->log);
	if (rc < 0) {
		st_log_close(p->log);
		goto out;
	}
	rc = st_producers_init(&p->producers, pc->max_producers, pc->producer_expiration_ms);
	if (rc == 0)
		rc = rebuild_producers(p, rep);
	if (rc < 0) {
		st_producers_free(&p->producers);
		st_producers_free(&p->log_producers);
		st_log_close(p->log);
		goto out;
	}
	leo = st_log_leo(p->log);
	p->next_offset = leo;
	atomic_store_explicit(&p->written, leo, memory_order_relaxed);
	atomic_store_explicit(&p->flushed, leo, memory_order_relaxed);
	atomic_store_explicit(&p->durable, leo, memory_order_relaxed);
	atomic_store_explicit(&p->log_start, st_log_start_offset(p->log), memory_order_release);
	*out = p;
	return ring_rc; /* 0 or ST_HUGEMEM_FALLBACK */
out:
	st_ring_free(p->ring);
	free(p);
	return rc;
}

int st_partition_close(struct st_partition *p)
{
	int rc = 0;

	if (!p)
		return 0;
	if (p->log) {
		/*
		 * Next start loads the table instead of reading the log for it.
		 * The log's copy, at its LEO: after a writer failure the
		 * producer's table holds batches that never reached the log.  The
		 * older snapshots go only once the log is durable up to it.
		 */
		if (p->log_producers.slot) {
			st_log_sync(p->log);
			rc = st_producers_snapshot(&p->log_producers, st_log_dir(p->log),
						   st_log_leo(p->log), st_log_recovery_point(p->log));
		}
		int crc = st_log_close(p->log);

		rc = rc ? rc : crc;
	}
	st_producers_free(&p->producers);
	st_producers_free(&p->log_producers);
	st_ring_free(p->ring);
	free(p);
	return rc;
}
