/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_lcore.c - the lcore poll loop (RX queue -> parse -> rule -> partition
 * ring) and the control-thread code that sets the lcores up, launches and
 * stops them.  The design and the partition mapping are in dp_lcore.h and
 * docs/dataplane.md.
 */
/* rte_eth_read_clock (housekeeping) is still experimental in 22.11 */
#define ALLOW_EXPERIMENTAL_API

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "dp_ack.h"
#include "dp_eal.h"
#include "dp_frag.h"
#include "dp_lcore.h"
#include "dp_lcore_int.h"
#include "dp_parse.h"
#include "dp_rules.h"
#include "dp_wire.h"
#include "st_inbox.h"
#include "st_writer.h"
#include "st_partition.h"

#define DP_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, dp_logtype, "DP: " fmt "\n", ##__VA_ARGS__)

#define DP_PREFETCH_AHEAD 3
#define DP_BURST_MAX      512u    /* dataplane.burst.size upper bound */

/* ---------------------------------------------------------------- hot path */

/* The UDP payload as contiguous bytes: in the first segment, or copied to scratch. */
static inline const uint8_t *dp_payload(struct dp_lcore *c, const struct rte_mbuf *m,
					const struct dp_pkt *pk)
{
	if (likely(pk->payload_off + pk->payload_len <= m->data_len))
		return rte_pktmbuf_mtod_offset(m, const uint8_t *, pk->payload_off);
	return rte_pktmbuf_read(m, pk->payload_off, pk->payload_len, c->scratch);
}

static inline int dp_part_err(int rc)
{
	switch (rc) {
	case -ENOBUFS:
		return DP_DROP_ring_full;
	case -EMSGSIZE:
		return DP_DROP_too_large;
	case ST_ERR_OUT_OF_ORDER:
		return DP_DROP_out_of_order_sequence;
	case ST_ERR_FENCED:
		return DP_DROP_fenced_producer;
	default:
		return DP_DROP_storage_error;
	}
}

/* The address headers' values into their template; @return it. */
static inline struct dp_tap_tpl *dp_tap_addresses(struct dp_lcore *c, const struct dp_pkt *pk)
{
	struct dp_tap_tpl *t = &c->tpl[pk->family == AF_INET ? DP_TPL_ADDR4 : DP_TPL_ADDR6];
	uint32_t alen = pk->family == AF_INET ? 4 : 16;
	rte_be16_t sp = rte_cpu_to_be_16(pk->src_port), dpt = rte_cpu_to_be_16(pk->dst_port);

	memcpy(t->b + t->val_off[1], pk->src, alen);
	memcpy(t->b + t->val_off[2], &sp, 2);
	memcpy(t->b + t->val_off[3], pk->dst, alen);
	memcpy(t->b + t->val_off[4], &dpt, 2);
	return t;
}

/*
 * Tap mode: one record, value = the UDP payload, headers from the lcore's
 * template (see dp_tap_tpl).  @now: the lcore's clock (linger); @ns, @ms:
 * the burst's receive time, replaced by the NIC's when the frame has one.
 * @return 0 or a drop reason.
 */
static inline int dp_tap(struct dp_lcore *c, const struct dp_lcore_queue *q,
			 const struct dp_rule *ru, const struct rte_mbuf *m,
			 const struct dp_pkt *pk, uint64_t now, uint64_t ns, int64_t ms)
{
	struct st_partition *p = q->part[ru->topic];
	const uint8_t *val = dp_payload(c, m, pk);
	struct dp_tap_tpl *t = &c->tpl[DP_TPL_NS];
	uint8_t key[18];
	const void *k = NULL;
	uint32_t klen = 0;
	rte_be64_t be;
	int rc;

	if (unlikely(val == NULL))
		return DP_DROP_malformed_udp;
	/* The NIC's receive time when it gave one (a reassembled datagram: its head's). */
	if (m->ol_flags & q->clock.flag) {
		ns = dp_rx_clock_ns(&q->clock, *RTE_MBUF_DYNFIELD(m, q->clock.off, const uint64_t *));
		ms = (int64_t)(ns / 1000000u);
	}
	if (ru->conf->headers & FWC_HDR_ADDRESSES)
		t = dp_tap_addresses(c, pk);
	be = rte_cpu_to_be_64(ns);
	memcpy(t->b + t->val_off[0], &be, 8);
	if (unlikely(ru->conf->key == FWC_KEY_SOURCE)) {
		rte_be16_t sp = rte_cpu_to_be_16(pk->src_port);

		klen = pk->family == AF_INET ? 4 : 16;
		memcpy(key, pk->src, klen);
		memcpy(key + klen, &sp, 2);
		klen += 2;
		k = key;
	}
	rc = st_partition_tap_add_enc(p, now, ms, k, klen, val, pk->payload_len, t->b, t->len);
	if (unlikely(rc < 0))
		return dp_part_err(rc);
	c->records++;
	c->part_records[q->slot[ru->topic]]++;
	return 0;
}

static inline int dp_batch_drop(enum st_batch_err e)
{
	switch (e) {
	case ST_BATCH_ERR_TRUNCATED:
	case ST_BATCH_ERR_BAD_LENGTH:
		return DP_DROP_bad_length;
	case ST_BATCH_ERR_BAD_MAGIC:
		return DP_DROP_bad_magic;
	case ST_BATCH_ERR_BAD_CRC:
		return DP_DROP_bad_crc;
	default:
		return DP_DROP_bad_batch;
	}
}

/* Produce mode, after the SLC1 magic: partition, batch, append.  @return 0 or a drop reason. */
static inline int dp_produce_batch(struct dp_lcore *c, const struct dp_topic_map *t,
				   struct st_partition **p, uint32_t *slot, int32_t part,
				   const uint8_t *batch, uint32_t len, unsigned int flags,
				   uint64_t rx_ns, struct st_batch_info *bi, int64_t *base)
{
	enum st_batch_err e;
	int rc;

	if (part != DP_SLC_PARTITION_ANY) {
		if (unlikely(part < 0 || part >= t->n_parts || t->owner[part] != c->idx))
			return DP_DROP_bad_partition;
		*p = t->part[part];
		*slot = t->slot_base + (uint32_t)part;
	}
	e = st_batch_validate(batch, len, ST_BATCH_V_PRODUCE | ST_BATCH_V_EXACT, 0, bi);
	if (unlikely(e != ST_BATCH_ERR_OK))
		return dp_batch_drop(e);
	rc = st_partition_append_rx(*p, batch, len, flags, rx_ns, base);
	if (unlikely(rc != 0))
		return rc == ST_APPEND_DUPLICATE ? DP_DROP_duplicate : dp_part_err(rc);
	return 0;
}

/*
 * Produce mode: an SLC1 header and one RecordBatch.  @return 0 or a drop
 * reason.  When the header asks for an ack, one is queued whatever the
 * outcome (dp_ack.h); a full ack queue refuses the datagram before anything
 * is stored, so that its sender resends it.
 */
static inline int dp_produce(struct dp_lcore *c, const struct dp_lcore_queue *q,
			     const struct dp_rule *ru, const struct rte_mbuf *m,
			     const struct dp_pkt *pk, uint64_t ns)
{
	const struct dp_topic_map *t = &c->all->topic[ru->topic];
	struct st_partition *p = q->part[ru->topic];
	uint32_t slot = q->slot[ru->topic];
	const uint8_t *d = dp_payload(c, m, pk);
	struct st_batch_info bi;
	struct dp_slc_hdr h;
	int64_t base = -1;
	int32_t part;
	uint16_t flags;
	bool ack;
	int r;

	if (unlikely(d == NULL))
		return DP_DROP_bad_length;
	r = dp_slc_decode(d, pk->payload_len, &h);
	if (unlikely(r))
		return r;
	flags = h.flags;
	ack = flags & DP_SLC_FLAG_ACK;
	if (unlikely(ack && dp_acks_full(c->acks)))
		return DP_DROP_ack_queue_full;
	part = h.partition;
	r = dp_produce_batch(c, t, &p, &slot, part, d + DP_SLC_HDR_SIZE,
			     pk->payload_len - DP_SLC_HDR_SIZE,
			     flags & DP_SLC_FLAG_GAPS_OK ? ST_APPEND_F_GAPS_OK : 0, ns, &bi, &base);
	if (ack) {
		/* Stored, or a duplicate with the original's offsets: wait for durability. */
		bool wait = r == 0 || (r == DP_DROP_duplicate && base >= 0);
		bool have_bi = r != DP_DROP_bad_partition &&
			       pk->payload_len - DP_SLC_HDR_SIZE >= ST_BATCH_HEADER_SIZE;

		dp_acks_push(c->acks, c->all->ports->port[q->port_idx].pool, q->port_id,
			     q->queue_id, m, pk, have_bi ? &bi : NULL,
			     part == DP_SLC_PARTITION_ANY ? (p ? p->partition : -1) : part,
			     wait ? p : NULL, base, wait ? base + bi.last_offset_delta : -1,
			     r == DP_DROP_duplicate && !wait ? 46 /* DUPLICATE_SEQUENCE_NUMBER: stale */
							     : dp_ack_error(r));
	}
	if (unlikely(r))
		return r;
	c->records += (uint64_t)bi.records_count;
	c->part_records[slot] += (uint64_t)bi.records_count;
	return 0;
}

/*
 * One frame, parsed (@r: dp_parse_mbuf's result into @pk; @ru: its rule
 * unless a fragment).  @return the mbuf to free (possibly a reassembled
 * chain), or NULL when the fragment table kept it.  Counts it stored or
 * dropped, with the weight of the frames it stands for.  Always inline: out
 * of line, the call cost produce frames ~30 instructions each.
 */
static inline __attribute__((always_inline)) struct rte_mbuf *
dp_frame(struct dp_lcore *c, const struct dp_lcore_queue *q, struct rte_mbuf *m, int r,
	 struct dp_pkt *pk, const struct dp_rule *ru, uint64_t tsc, uint64_t ns, int64_t ms)
{
	uint32_t weight = 1;

	if (unlikely(r))
		goto drop;
	if (unlikely(pk->is_fragment)) {
		m = dp_frag_feed(c->frag, m, pk, tsc, c->drops);
		if (m == NULL)
			return NULL;            /* held, or dropped and counted */
		weight = m->nb_segs;            /* the fragments merged (dp_frag_stats.merged) */
		r = dp_parse_mbuf(m, pk);
		if (unlikely(r == 0 && pk->is_fragment))
			r = DP_DROP_bad_fragment;
		if (unlikely(r))
			goto drop;
		ru = dp_rules_lookup(c->rules, pk);
	}
	if (unlikely(ru == NULL)) {
		r = DP_DROP_no_rule;
		goto drop;
	}
	if (ru->mode == FWC_MODE_TAP)
		r = dp_tap(c, q, ru, m, pk, ns, ns, ms);
	else
		r = dp_produce(c, q, ru, m, pk, ns);
	if (unlikely(r))
		goto drop;
	c->stored += weight;
	return m;
drop:
	c->drops[r] += weight;
	return m;
}

/*
 * Tap records of one burst bound for one partition: the frames that need
 * nothing per packet but their payload (rx.ns headers only, no key, the
 * burst's receive time, the payload in the first segment).  Encoded
 * together by dp_tap_run_flush, before any other frame of the burst is
 * handled, so records keep the frames' order.  The values are in an array
 * of the caller's; this local's address is never taken, so it lives in
 * registers through the burst loop.
 */
struct dp_tap_run {
	struct st_partition *p;
	uint32_t slot;
	uint32_t n;                     /* values in the caller's array */
};

static inline int dp_tap_plain(uint64_t clock_flag, const struct dp_rule *ru,
			       const struct rte_mbuf *m, const struct dp_pkt *pk)
{
	return ru->tap_plain && !(m->ol_flags & clock_flag) &&
	       pk->payload_off + pk->payload_len <= m->data_len;
}

/*
 * The rule of the burst's last IPv4 datagram: the lookup is a function of
 * destination port, innermost VLAN id and destination address only, and a
 * burst's datagrams mostly share them.
 */
struct dp_rule_memo {
	uint32_t port_vid;              /* dst_port | vid << 16; UINT32_MAX: none */
	uint32_t dst4;
	const struct dp_rule *ru;
};

static inline const struct dp_rule *dp_rule_memo_lookup(struct dp_rule_memo *mm,
							const struct dp_rules *rules,
							const struct dp_pkt *pk)
{
	uint32_t pv = (uint32_t)pk->dst_port | (uint32_t)pk->vid << 16, d;

	if (pk->family != AF_INET)
		return dp_rules_lookup(rules, pk);
	memcpy(&d, pk->dst, 4);
	if (pv != mm->port_vid || d != mm->dst4) {
		mm->port_vid = pv;
		mm->dst4 = d;
		mm->ru = dp_rules_lookup(rules, pk);
	}
	return mm->ru;
}

/*
 * A miss of the fast path's memo (the burst's last rule of a frame that
 * dp_parse_lean4 took, by its key): the rule lookup, out of line as it runs
 * once per burst and key.
 */
static __attribute__((noinline)) const struct dp_rule *dp_lean_rule(const struct dp_lcore *c,
								   const uint8_t *frame,
								   struct dp_lean4 ln)
{
	struct dp_pkt pk;

	memset(&pk, 0, sizeof(pk));
	dp_pkt_from_lean4(frame, &ln, &pk);
	return dp_rules_lookup(c->rules, &pk);
}

/*
 * The mbuf as a PMD hands it out: one segment, referenced once, direct,
 * from @mp, and none of @ol_bad (VLAN stripped, the NIC's receive time) --
 * so its payload is contiguous, its record plain, and rte_mempool_put_bulk
 * may free it.  The reference count and segment count as one word.
 */
static inline int dp_mbuf_lean(const struct rte_mbuf *m, const struct rte_mempool *mp,
			       uint64_t ol_bad)
{
	static const uint16_t one_ref_seg[2] = { 1, 1 };
	uint32_t w, want;

	_Static_assert(offsetof(struct rte_mbuf, nb_segs) == offsetof(struct rte_mbuf, refcnt) + 2,
		       "refcnt, nb_segs: one 4-byte word");
	memcpy(&w, (const uint8_t *)m + offsetof(struct rte_mbuf, refcnt), 4);
	memcpy(&want, one_ref_seg, 4);
	return w == want && m->pool == mp && !(m->ol_flags & ol_bad);
}

/*
 * Store the run of values @v (the counters once for all of it); records that
 * cannot be stored are drops.
 */
static void dp_tap_run_flush(struct dp_lcore *c, struct dp_tap_run run, const struct st_val *v,
			     uint64_t ns, int64_t ms)
{
	struct dp_tap_tpl *t = &c->tpl[DP_TPL_NS];
	rte_be64_t be = rte_cpu_to_be_64(ns);
	uint32_t i = 0, stored = 0;

	memcpy(t->b + t->val_off[0], &be, 8);
	while (i < run.n) {
		uint32_t k = st_partition_tap_add_vals(run.p, ms, v + i, run.n - i, t->b, t->len);
		int rc;

		stored += k;
		i += k;
		if (i == run.n)
			break;
		/* The open batch is full (or none is open): seal, open, or count the drop. */
		rc = st_partition_tap_add_enc(run.p, ns, ms, NULL, 0, v[i].p, v[i].len, t->b,
					      t->len);
		if (unlikely(rc < 0))
			c->drops[dp_part_err(rc)]++;
		else
			stored++;
		i++;
	}
	c->records += stored;
	c->stored += stored;
	c->part_records[run.slot] += stored;
}

/*
 * Free a burst.  Frames the PMD gave are direct, single-segment, referenced
 * once and from one pool: back to the pool's per-lcore cache in one call,
 * the check reading only fields of the mbuf's first cache line.  Anything
 * else (a reassembled chain, another pool) takes rte_pktmbuf_free_bulk.
 */
static inline void dp_free_burst(struct rte_mbuf **m, unsigned int n)
{
	struct rte_mempool *mp = m[0]->pool;

	for (unsigned int i = 0; i < n; i++)
		if (unlikely(m[i]->pool != mp || m[i]->nb_segs != 1 ||
			     rte_mbuf_refcnt_read(m[i]) != 1 ||
			     (m[i]->ol_flags & (RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL)))) {
			rte_pktmbuf_free_bulk(m, n);
			return;
		}
	rte_mempool_put_bulk(mp, (void **)m, n);
}

/* One plain tap record into the burst's run, flushing the run first when it is bound elsewhere. */
static inline void dp_run_add(struct dp_lcore *c, struct dp_tap_run *run, struct st_val *v,
			      struct st_partition *p, uint32_t slot, const uint8_t *val,
			      uint32_t len, uint64_t ns, int64_t ms)
{
	if (unlikely(p != run->p)) {
		if (run->n)
			dp_tap_run_flush(c, *run, v, ns, ms);
		run->n = 0;
		run->p = p;
		run->slot = slot;
	}
	v[run->n].p = val;
	v[run->n++].len = len;
}

/* The frames the burst still holds: @pkts without the NULLs the fragment table left. */
static unsigned int dp_burst_compact(struct rte_mbuf **pkts, unsigned int n)
{
	unsigned int nd = 0;

	for (unsigned int i = 0; i < n; i++)
		if (pkts[i] != NULL)
			pkts[nd++] = pkts[i];
	return nd;
}

/*
 * The burst loop.  A frame whose mbuf is lean (dp_mbuf_lean) and whose
 * headers dp_parse_lean4 takes is read without a struct dp_pkt: with a plain
 * tap rule it only joins the run.  Anything else takes the full parse and,
 * unless plain, dp_frame, whose mbuf (a reassembled chain, or NULL when the
 * fragment table kept it) replaces the frame's in @pkts.  When every frame
 * was lean, the burst goes back to its pool without the per-mbuf check of
 * dp_free_burst.  One function on purpose (the hot loop, ~80 lines): the
 * run and the memo are locals the compiler keeps in registers.
 */
void dp_lcore_rx(struct dp_lcore *c, unsigned int qi, struct rte_mbuf **pkts, uint16_t n,
		 uint64_t now_tsc)
{
	const struct dp_lcore_queue *q = &c->q[qi];
	uint64_t ns = dp_lcore_tsc_ns(c, now_tsc);
	int64_t ms = (int64_t)(ns / 1000000u);   /* once per burst: all share the receive time */
	uint64_t clock_flag = q->clock.flag;      /* locals: stores in the loop cannot alias them */
	uint64_t ol_bad = clock_flag | RTE_MBUF_F_RX_VLAN_STRIPPED | RTE_MBUF_F_RX_QINQ_STRIPPED |
			  RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL;
	struct rte_mempool *mp = n ? pkts[0]->pool : NULL;
	/* the fast path's memo: key, rule, and the partition of a plain tap rule (else NULL) */
	uint64_t lm_key = UINT64_MAX;
	const struct dp_rule *lm_ru = NULL;
	struct st_partition *lm_part = NULL;
	uint32_t lm_slot = 0;
	struct dp_rule_memo memo = { UINT32_MAX, 0, NULL };
	struct dp_tap_run run = { NULL, 0, 0 };
	struct st_val rv[DP_BURST_MAX];
	uint64_t bytes = 0;
	unsigned int nd = n, mixed = 0, replaced = 0;

	RTE_ASSERT(n <= DP_BURST_MAX);
	for (uint16_t i = 0; i < n && i < DP_PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i], *m2;
		const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
		const struct dp_rule *ru = NULL;
		struct dp_lean4 ln;
		struct dp_pkt pk;
		int r = 0;

		if (i + DP_PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + DP_PREFETCH_AHEAD], void *));
		bytes += m->pkt_len;
		if (likely(dp_mbuf_lean(m, mp, ol_bad) &&
			   dp_parse_lean4(d, m->data_len, m->ol_flags, &ln))) {
			if (unlikely(ln.key != lm_key)) {
				lm_key = ln.key;
				lm_ru = dp_lean_rule(c, d, ln);
				lm_part = lm_ru && lm_ru->tap_plain ? q->part[lm_ru->topic] : NULL;
				lm_slot = lm_ru ? q->slot[lm_ru->topic] : 0;
			}
			if (likely(lm_part != NULL)) {
				dp_run_add(c, &run, rv, lm_part, lm_slot,
					   d + ln.l2_len + DP_IPV4_HLEN + DP_UDP_HLEN,
					   ln.ulen - DP_UDP_HLEN, ns, ms);
				continue;
			}
			dp_pkt_from_lean4(d, &ln, &pk);
			ru = lm_ru;
		} else {
			mixed = 1;
			r = dp_parse_mbuf(m, &pk);
			if (likely(r == 0 && !pk.is_fragment))
				ru = dp_rule_memo_lookup(&memo, c->rules, &pk);
			if (likely(ru != NULL && dp_tap_plain(clock_flag, ru, m, &pk))) {
				dp_run_add(c, &run, rv, q->part[ru->topic], q->slot[ru->topic],
					   d + pk.payload_off, pk.payload_len, ns, ms);
				continue;
			}
		}
		if (run.n)
			dp_tap_run_flush(c, run, rv, ns, ms);
		run.n = 0;
		m2 = dp_frame(c, q, m, r, &pk, ru, now_tsc, ns, ms);
		if (unlikely(m2 != m)) {
			pkts[i] = m2;
			replaced = 1;
		}
	}
	if (run.n)
		dp_tap_run_flush(c, run, rv, ns, ms);
	c->rx_packets += n;
	c->rx_bytes += bytes;
	if (unlikely(replaced))
		nd = dp_burst_compact(pkts, n);
	if (nd && !mixed)
		rte_mempool_put_bulk(mp, (void **)pkts, nd);
	else if (nd)
		dp_free_burst(pkts, nd);
	dp_frag_flush(c->frag);
}

/* Re-anchor the NIC clocks of the lcore's queues to its Unix time (rare: not per packet). */
static void dp_lcore_clocks_update(struct dp_lcore *c, uint64_t now_ns)
{
	for (uint16_t i = 0; i < c->n_queues; i++) {
		struct dp_lcore_queue *q = &c->q[i];
		uint64_t ticks;

		if (q->clock.kind == DP_RX_TS_DEVICE && rte_eth_read_clock(q->port_id, &ticks) == 0)
			dp_rx_clock_update(&q->clock, ticks, now_ns,
					   DP_LCORE_CLOCK_MS / 2 * 1000000ull);
	}
}

void dp_lcore_housekeep(struct dp_lcore *c, uint64_t now_tsc, int force)
{
	uint64_t ns = dp_lcore_tsc_ns(c, now_tsc);

	for (unsigned int i = 0; i < c->n_owned; i++)
		st_partition_tap_flush(c->owned[i], ns, force);
	if (now_tsc >= c->clock_next) {
		c->clock_next = now_tsc + c->clock_period;
		dp_lcore_clocks_update(c, ns);
	}
	if (c->inbox)
		st_inbox_serve(c->inbox, DP_LCORE_INBOX);
	if (c->acks->head != c->acks->tail)
		dp_acks_flush(c->acks, false);
}

unsigned int dp_lcore_poll(struct dp_lcore *c, uint64_t now_tsc)
{
	struct rte_mbuf *pkts[DP_BURST_MAX];
	unsigned int total = 0;

	for (uint16_t i = 0; i < c->n_queues; i++) {
		uint16_t n = rte_eth_rx_burst(c->q[i].port_id, c->q[i].queue_id, pkts, c->burst);

		if (n) {
			dp_lcore_rx(c, i, pkts, n, now_tsc);
			total += n;
		}
	}
	if (unlikely(now_tsc >= c->hk_next)) {
		c->hk_next = now_tsc + c->hk_period;
		dp_lcore_housekeep(c, now_tsc, 0);
		if (now_tsc >= c->expire_next) {
			c->expire_next = now_tsc + c->expire_period;
			dp_frag_expire(c->frag, now_tsc, c->drops);
			dp_frag_flush(c->frag);
		}
	}
	return total;
}

int dp_lcore_main(void *arg)
{
	struct dp_lcore *c = arg;

	while (!atomic_load_explicit(&c->all->stop, memory_order_relaxed))
		dp_lcore_poll(c, rte_rdtsc());
	/* Seal what linger still holds and answer pending produce requests. */
	dp_lcore_housekeep(c, rte_rdtsc(), 1);
	/*
	 * The writers still run: give the acks waiting for durability up to a
	 * second, then count what is left lost (its senders resend).
	 */
	for (uint64_t end = rte_rdtsc() + rte_get_tsc_hz(); c->acks->head != c->acks->tail &&
							     rte_rdtsc() < end;)
		dp_acks_flush(c->acks, false);
	dp_acks_flush(c->acks, true);
	return 0;
}

/* ----------------------------------------------------------- control side */

unsigned int dp_lcores_count(const struct dp_lcores *l)
{
	return l ? l->n : 0;
}

struct dp_lcore *dp_lcores_at(const struct dp_lcores *l, unsigned int i)
{
	return l && i < l->n ? l->lc[i] : NULL;
}

/* Encode the tap headers once: rx.ns alone, or with the addresses of @alen bytes. */
static int tpl_build(struct dp_tap_tpl *t, uint32_t alen)
{
	static const uint8_t zero[16];
	const struct st_record_header h[5] = {
		{ DP_HDR_RX_NS, sizeof(DP_HDR_RX_NS) - 1, zero, 8 },
		{ DP_HDR_SRC_ADDR, sizeof(DP_HDR_SRC_ADDR) - 1, zero, (int32_t)alen },
		{ DP_HDR_SRC_PORT, sizeof(DP_HDR_SRC_PORT) - 1, zero, 2 },
		{ DP_HDR_DST_ADDR, sizeof(DP_HDR_DST_ADDR) - 1, zero, (int32_t)alen },
		{ DP_HDR_DST_PORT, sizeof(DP_HDR_DST_PORT) - 1, zero, 2 },
	};
	uint32_t n = alen ? 5 : 1, off = 1;     /* after the count: one byte below 64 */
	int len = st_record_headers_encode(t->b, h, n);

	/* names and values under 64 bytes: every length is a one-byte varint */
	for (uint32_t i = 0; i < n; i++) {
		off += 1 + h[i].key_len + 1;
		t->val_off[i] = (uint16_t)off;
		off += (uint32_t)h[i].value_len;
	}
	if (len < 0 || (uint32_t)len != off || off > sizeof(t->b))
		return -EINVAL;
	t->len = (uint16_t)len;
	return 0;
}

/* The context of @lcore_id, created on first use. */
static struct dp_lcore *lcore_get(struct dp_lcores *l, unsigned int lcore_id)
{
	const struct fwc_dataplane *dp = &l->cfg->dataplane;
	struct dp_lcore *c;
	uint64_t hz = rte_get_tsc_hz();
	struct timespec ts;
	int socket;

	for (unsigned int i = 0; i < l->n; i++)
		if (l->lc[i]->lcore_id == lcore_id)
			return l->lc[i];
	if (l->n == DP_LCORE_MAX)
		return NULL;
	socket = (int)rte_lcore_to_socket_id(lcore_id);
	if (lcore_id >= RTE_MAX_LCORE || socket < 0)
		socket = SOCKET_ID_ANY;
	c = rte_zmalloc_socket("dp_lcore", sizeof(*c), RTE_CACHE_LINE_SIZE, socket);
	if (c == NULL)
		return NULL;
	l->lc[l->n] = c;
	c->idx = l->n++;
	c->all = l;
	c->lcore_id = lcore_id;
	c->burst = (uint16_t)RTE_MIN(dp->burst_size ? dp->burst_size : 32u, DP_BURST_MAX);
	c->scratch = rte_malloc_socket("dp_scratch", DP_LCORE_SCRATCH, RTE_CACHE_LINE_SIZE, socket);
	c->acks = rte_zmalloc_socket("dp_acks", sizeof(*c->acks), RTE_CACHE_LINE_SIZE, socket);
	c->frag = dp_frag_create(dp->frag_table_entries ? dp->frag_table_entries : 4096,
				 dp->frag_timeout_ms ? dp->frag_timeout_ms : 2000, 0, socket);
	if (c->scratch == NULL || c->acks == NULL || c->frag == NULL ||
	    st_inbox_create(&c->inbox, DP_LCORE_INBOX) < 0)
		return NULL;
	if (tpl_build(&c->tpl[DP_TPL_NS], 0) < 0 || tpl_build(&c->tpl[DP_TPL_ADDR4], 4) < 0 ||
	    tpl_build(&c->tpl[DP_TPL_ADDR6], 16) < 0)
		return NULL;
	/* Unix time base for the TSC: no division per packet, 32.32 fixed point. */
	clock_gettime(CLOCK_REALTIME, &ts);
	c->base_tsc = rte_rdtsc();
	c->base_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	c->ns_mult = (uint64_t)(((unsigned __int128)1000000000u << 32) / hz);
	c->hk_period = hz / (1000000u / DP_LCORE_HK_US);
	c->expire_period = hz / 1000u * DP_LCORE_EXPIRE_MS;
	c->clock_period = hz / 1000u * DP_LCORE_CLOCK_MS;
	return c;
}

/* Queues of every port, numbered globally; each to the context of its lcore. */
static int assign_queues(struct dp_lcores *l, const struct dp_ports *ports, uint16_t *gq_lcore,
			 unsigned int *n_gq)
{
	const struct fwc_dataplane *dp = &l->cfg->dataplane;
	unsigned int g = 0;

	for (unsigned int pi = 0; pi < dp->n_ports && pi < ports->n; pi++) {
		const struct fwc_port *fp = &dp->ports[pi];

		for (uint16_t qi = 0; qi < fp->rx_queues; qi++, g++) {
			int lc_id = qi < fp->n_rx_lcores ? fp->rx_lcores[qi] : -1;
			struct dp_lcore *c = lc_id >= 0 ? lcore_get(l, (unsigned int)lc_id) : NULL;
			struct dp_lcore_queue *q;

			if (c == NULL || g >= DP_LCORE_MAX_QUEUES) {
				DP_LOG(ERR, "port %s queue %u: no lcore context (lcore %d)",
				       fp->name, qi, lc_id);
				return -ENOMEM;
			}
			q = &c->q[c->n_queues++];
			q->port_id = ports->port[pi].port_id;
			q->queue_id = qi;
			q->gidx = (uint16_t)g;
			q->port_idx = (uint16_t)pi;
			q->clock = ports->port[pi].clock;
			gq_lcore[g] = (uint16_t)c->idx;
		}
	}
	*n_gq = g;
	return 0;
}

/* Tap limits of the topic's first tap rule onto a partition about to be owned. */
static void tap_limits(const struct fwc_topic *ft, struct st_partition *p)
{
	for (unsigned int r = 0; r < ft->n_rules; r++) {
		if (ft->rules[r].mode != FWC_MODE_TAP)
			continue;
		p->batch_size = ft->rules[r].batch_size ? ft->rules[r].batch_size : p->batch_size;
		p->linger_ns = (uint64_t)ft->rules[r].linger_ms * 1000000u;
		return;
	}
}

/* Partitions of one rule-fed topic: owners, and every queue's target. */
static int map_topic(struct dp_lcores *l, unsigned int t, const struct dp_lcores_params *prm,
		     const uint16_t *gq_lcore, unsigned int n_gq)
{
	const struct fwc_topic *ft = &l->cfg->topics[t];
	struct dp_topic_map *tm = &l->topic[t];
	int32_t n;

	tm->name = ft->name;
	n = prm->topic_parts(prm->topic_parts_arg, ft->name, NULL, 0);
	if (n <= 0) {
		DP_LOG(ERR, "topic %s: has traffic rules but no partitions", ft->name);
		return -EINVAL;
	}
	tm->part = calloc((size_t)n, sizeof(*tm->part));
	tm->owner = calloc((size_t)n, sizeof(*tm->owner));
	if (!tm->part || !tm->owner)
		return -ENOMEM;
	tm->n_parts = prm->topic_parts(prm->topic_parts_arg, ft->name, tm->part, n);
	if (tm->n_parts != n)
		return -EINVAL;
	tm->slot_base = l->n_slots;
	l->n_slots += (uint32_t)n;
	for (int32_t i = 0; i < n; i++)
		tm->owner[i] = gq_lcore[(uint32_t)i % n_gq];
	for (unsigned int g = 0; g < n_gq; g++) {
		if (tm->owner[g % (uint32_t)n] != gq_lcore[g]) {
			DP_LOG(ERR, "topic %s: partition %u would be fed by lcores %u and %u; "
			       "give it at least %u partitions", ft->name, g % (uint32_t)n,
			       l->lc[tm->owner[g % (uint32_t)n]]->lcore_id,
			       l->lc[gq_lcore[g]]->lcore_id, n_gq);
			return -EINVAL;
		}
	}
	return 0;
}

/* Per-lcore tables that depend on the topic maps: queue targets, owned list, counters. */
static int lcore_finish(struct dp_lcores *l, struct dp_lcore *c)
{
	unsigned int n_owned = 0;

	c->part_records = rte_zmalloc("dp_part_records", (l->n_slots + 1) * sizeof(uint64_t),
				      RTE_CACHE_LINE_SIZE);
	c->owned = calloc(l->n_slots + 1, sizeof(*c->owned));
	if (!c->part_records || !c->owned)
		return -ENOMEM;
	for (unsigned int t = 0; t < l->n_topics; t++) {
		const struct dp_topic_map *tm = &l->topic[t];

		for (uint16_t qi = 0; qi < c->n_queues; qi++) {
			uint32_t i = tm->n_parts ? c->q[qi].gidx % (uint32_t)tm->n_parts : 0;

			c->q[qi].part[t] = tm->n_parts ? tm->part[i] : NULL;
			c->q[qi].slot[t] = tm->slot_base + i;
		}
		for (int32_t i = 0; i < tm->n_parts; i++) {
			if (tm->owner[i] != c->idx)
				continue;
			tm->part[i]->inbox = c->inbox;
			/* Its writer must learn that this ring is now polled, not kicked. */
			st_writer_kick(tm->part[i]->writer);
			tap_limits(&l->cfg->topics[t], tm->part[i]);
			c->owned[n_owned++] = tm->part[i];
		}
	}
	c->n_owned = n_owned;
	return 0;
}

int dp_lcores_create(const struct dp_lcores_params *prm, struct dp_lcores **out)
{
	uint16_t gq_lcore[DP_LCORE_MAX_QUEUES];
	struct dp_lcores *l;
	unsigned int n_gq = 0;
	int rc;

	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return -ENOMEM;
	l->cfg = prm->cfg;
	l->ports = prm->ports;
	l->n_topics = prm->cfg->n_topics;
	if ((rc = assign_queues(l, prm->ports, gq_lcore, &n_gq)) < 0)
		goto out;
	for (unsigned int t = 0; t < l->n_topics && n_gq; t++)
		if (prm->cfg->topics[t].n_rules && (rc = map_topic(l, t, prm, gq_lcore, n_gq)) < 0)
			goto out;
	for (unsigned int i = 0; i < l->n; i++) {
		l->lc[i]->rules = prm->rules;
		if ((rc = lcore_finish(l, l->lc[i])) < 0)
			goto out;
	}
	rc = 0;
out:
	if (rc < 0) {
		dp_lcores_stop(l);
		dp_lcores_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

int dp_lcores_launch(struct dp_lcores *l)
{
	int rc;

	for (unsigned int i = 0; i < l->n; i++) {
		rc = rte_eal_remote_launch(dp_lcore_main, l->lc[i], l->lc[i]->lcore_id);
		if (rc < 0) {
			DP_LOG(ERR, "lcore %u: cannot launch: %s", l->lc[i]->lcore_id,
			       strerror(-rc));
			dp_lcores_stop(l);
			return rc;
		}
		l->launched = (int)i + 1;
	}
	return 0;
}

void dp_lcores_stop(struct dp_lcores *l)
{
	if (l == NULL)
		return;
	atomic_store_explicit(&l->stop, 1, memory_order_release);
	for (int i = 0; i < l->launched; i++)
		rte_eal_wait_lcore(l->lc[i]->lcore_id);
	l->launched = 0;
	/* The control thread produces into them again. */
	for (unsigned int t = 0; t < l->n_topics; t++)
		for (int32_t i = 0; i < l->topic[t].n_parts; i++)
			if (l->topic[t].part[i])
				l->topic[t].part[i]->inbox = NULL;
}

void dp_lcores_free(struct dp_lcores *l)
{
	if (l == NULL)
		return;
	for (unsigned int i = 0; i < l->n; i++) {
		struct dp_lcore *c = l->lc[i];

		/*
		 * Requests still in the inbox are not served here: their owner (the
		 * control plane) may already have freed them at shutdown, and none
		 * was acknowledged, so dropping them loses nothing a client was told.
		 */
		dp_frag_free(c->frag);
		st_inbox_free(c->inbox);
		rte_free(c->scratch);
		rte_free(c->acks);
		rte_free(c->part_records);
		free(c->owned);
		rte_free(c);
	}
	for (unsigned int t = 0; t < l->n_topics; t++) {
		free(l->topic[t].part);
		free(l->topic[t].owner);
	}
	free(l);
}
