/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_ack.c - SLA1 acknowledgements through DPDK TX (see dp_ack.h).
 */
#include <string.h>
#include <sys/socket.h>

#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "dp_ack.h"
#include "dp_drop.h"
#include "st_batch.h"
#include "st_partition.h"

#define ACK_TTL 64
#define ACK_TX_BURST 32

int16_t dp_ack_error(int r)
{
	switch (r) {
	case 0:
	case DP_DROP_duplicate:
		return 0;                       /* NONE: the original's offsets */
	case DP_DROP_bad_crc:
		return 2;                       /* CORRUPT_MESSAGE */
	case DP_DROP_bad_partition:
		return 3;                       /* UNKNOWN_TOPIC_OR_PARTITION */
	case DP_DROP_ring_full:
	case DP_DROP_ack_queue_full:
		return 7;                       /* REQUEST_TIMED_OUT: resend later */
	case DP_DROP_too_large:
		return 10;                      /* MESSAGE_TOO_LARGE */
	case DP_DROP_out_of_order_sequence:
		return 45;                      /* OUT_OF_ORDER_SEQUENCE_NUMBER */
	case DP_DROP_fenced_producer:
		return 47;                      /* INVALID_PRODUCER_EPOCH */
	case DP_DROP_storage_error:
		return 56;                      /* KAFKA_STORAGE_ERROR */
	default:
		return 87;                      /* INVALID_RECORD */
	}
}

static inline void put_be16(uint8_t *p, uint16_t v)
{
	v = rte_cpu_to_be_16(v);
	memcpy(p, &v, 2);
}

static inline void put_be32(uint8_t *p, uint32_t v)
{
	v = rte_cpu_to_be_32(v);
	memcpy(p, &v, 4);
}

static inline void put_be64(uint8_t *p, uint64_t v)
{
	v = rte_cpu_to_be_64(v);
	memcpy(p, &v, 8);
}

/*
 * Whether an entry of @p ending at @last_offset waits behind one the pass
 * found not durable (a partition's batches become durable in order; the ack
 * of a duplicate names an older batch, which may be ready already).
 */
static bool waiting(const struct dp_acks *a, const struct st_partition *p, int64_t last_offset)
{
	for (unsigned int i = 0; i < a->n_waiting; i++)
		if (a->waiting[i] == p)
			return last_offset >= a->waiting_offset[i];
	return false;
}

void dp_acks_push(struct dp_acks *a, struct rte_mempool *pool, uint16_t port_id, uint16_t queue_id,
		  const struct rte_mbuf *m, const struct dp_pkt *pk, const struct st_batch_info *bi,
		  int32_t partition, struct st_partition *p, int64_t base_offset,
		  int64_t last_offset, int16_t err)
{
	struct dp_ack *e = &a->q[a->tail % DP_ACK_QUEUE];
	struct dp_ack_wait *wt = &a->w[a->tail % DP_ACK_QUEUE];
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t alen = pk->family == AF_INET ? 4 : 16, l3 = pk->l2_len;
	uint8_t *o = e->frame, *ip = o + l3, *udp, *sla;

	/* Ethernet and VLAN tags as received, the MAC addresses swapped. */
	memcpy(o, f + RTE_ETHER_ADDR_LEN, RTE_ETHER_ADDR_LEN);
	memcpy(o + RTE_ETHER_ADDR_LEN, f, RTE_ETHER_ADDR_LEN);
	memcpy(o + 2 * RTE_ETHER_ADDR_LEN, f + 2 * RTE_ETHER_ADDR_LEN, l3 - 2 * RTE_ETHER_ADDR_LEN);
	if (pk->family == AF_INET) {
		memset(ip, 0, 20);
		ip[0] = 0x45;
		put_be16(ip + 2, 20 + 8 + DP_SLA_SIZE);         /* total length */
		put_be16(ip + 6, 0x4000);                       /* DF */
		ip[8] = ACK_TTL;
		ip[9] = IPPROTO_UDP;
		memcpy(ip + 12, pk->dst, alen);
		memcpy(ip + 16, pk->src, alen);
		udp = ip + 20;
	} else {
		memset(ip, 0, 40);
		put_be32(ip, 0x60000000u);
		put_be16(ip + 4, 8 + DP_SLA_SIZE);              /* payload length */
		ip[6] = IPPROTO_UDP;
		ip[7] = ACK_TTL;
		memcpy(ip + 8, pk->dst, alen);
		memcpy(ip + 24, pk->src, alen);
		udp = ip + 40;
	}
	put_be16(udp, pk->dst_port);
	put_be16(udp + 2, pk->src_port);
	put_be16(udp + 4, 8 + DP_SLA_SIZE);
	put_be16(udp + 6, 0);                                   /* checksum: at send */
	sla = udp + 8;
	put_be32(sla, DP_SLA_MAGIC);
	put_be16(sla + 4, (uint16_t)err);
	put_be16(sla + 6, 0);
	put_be32(sla + 8, (uint32_t)partition);
	put_be64(sla + 12, (uint64_t)(err ? -1 : base_offset));
	put_be64(sla + 20, (uint64_t)(bi ? bi->producer_id : -1));
	put_be32(sla + 28, (uint32_t)(bi ? bi->base_sequence : -1));
	put_be32(sla + 32, bi ? bi->crc : 0);
	put_be32(sla + 36, (uint32_t)(bi ? bi->records_count : 0));
	e->len = (uint16_t)(sla + DP_SLA_SIZE - o);
	e->l3_off = (uint16_t)l3;
	e->family = pk->family;
	e->pool = pool;
	e->port_id = port_id;
	e->queue_id = queue_id;
	wt->p = err ? NULL : p;
	wt->last_offset = last_offset;
	wt->done = 0;
	if (!a->rescan && (!wt->p || !waiting(a, wt->p, last_offset)))
		a->rescan = true;       /* may be ready before what the last pass waited on */
	a->tail++;
}

/* A storage error after the batch was queued: the ack says so instead. */
static void set_error(struct dp_ack *e, struct dp_ack_wait *wt, int16_t err)
{
	uint8_t *sla = e->frame + e->len - DP_SLA_SIZE;

	put_be16(sla + 4, (uint16_t)err);
	put_be64(sla + 12, (uint64_t)-1);
	wt->p = NULL;
}

/* 0: wait (@durable: the watermark that said so); 1: send it. */
static int ack_ready(struct dp_ack *e, struct dp_ack_wait *wt, int64_t *durable)
{
	if (!wt->p)
		return 1;
	*durable = atomic_load_explicit(&wt->p->durable, memory_order_acquire);
	if (*durable > wt->last_offset)
		return 1;
	if (atomic_load_explicit(&wt->p->err, memory_order_acquire)) {
		set_error(e, wt, 56);
		return 1;
	}
	return 0;
}

/*
 * Whether a pass can send anything: something was queued that the last
 * pass did not wait behind, or a partition it waited on has moved (durable
 * watermark or a sticky error).
 */
static bool worth_a_pass(const struct dp_acks *a)
{
	if (a->rescan)
		return true;
	for (unsigned int i = 0; i < a->n_waiting; i++) {
		const struct st_partition *p = a->waiting[i];

		if (atomic_load_explicit(&p->durable, memory_order_acquire) != a->waiting_durable[i] ||
		    atomic_load_explicit(&p->err, memory_order_acquire))
			return true;
	}
	return false;
}

/*
 * Remember @wt's partition as waiting, found so at @durable (the value read,
 * not a newer one: a watermark that moved since must trigger the next pass).
 * False when the table is full (then always rescan).
 */
static bool remember_waiting(struct dp_acks *a, const struct dp_ack_wait *wt, int64_t durable)
{
	unsigned int i = a->n_waiting;

	if (i == DP_ACK_WAITERS)
		return false;
	a->waiting[i] = wt->p;
	a->waiting_offset[i] = wt->last_offset;
	a->waiting_durable[i] = durable;
	a->n_waiting++;
	return true;
}

static struct rte_mbuf *ack_mbuf(const struct dp_ack *e)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(e->pool);
	uint8_t *d, *l4;

	if (!m)
		return NULL;
	d = (uint8_t *)rte_pktmbuf_append(m, e->len);
	if (!d) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memcpy(d, e->frame, e->len);
	l4 = d + e->l3_off + (e->family == AF_INET ? 20 : 40);
	if (e->family == AF_INET) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(d + e->l3_off);
		uint16_t ck = rte_ipv4_udptcp_cksum(ip, l4);

		memcpy(l4 + 6, &ck, 2);
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	} else {
		uint16_t ck = rte_ipv6_udptcp_cksum((const struct rte_ipv6_hdr *)(d + e->l3_off), l4);

		memcpy(l4 + 6, &ck, 2);
	}
	return m;
}

static unsigned int tx_burst(struct dp_acks *a, uint16_t port, uint16_t queue,
			     struct rte_mbuf **tx, uint16_t n)
{
	uint16_t k = n ? rte_eth_tx_burst(port, queue, tx, n) : 0;

	if (k < n) {
		rte_pktmbuf_free_bulk(tx + k, n - k);
		a->lost += n - k;
	}
	a->sent += k;
	return k;
}

unsigned int dp_acks_flush(struct dp_acks *a, bool stop)
{
	struct rte_mbuf *tx[ACK_TX_BURST];
	uint16_t port = 0, queue = 0, n = 0;
	unsigned int sent = 0;
	bool overflow = false;

	if (!stop && !worth_a_pass(a))
		return 0;
	a->n_waiting = 0;
	a->rescan = false;
	/*
	 * Every ready entry goes, wherever it waits: one partition's batches
	 * become durable in order, but a partition slower to sync must not hold
	 * back the acks of others, nor an error ack.
	 */
	for (uint32_t i = a->head; i != a->tail; i++) {
		struct dp_ack_wait *wt = &a->w[i % DP_ACK_QUEUE];
		struct dp_ack *e = &a->q[i % DP_ACK_QUEUE];
		int64_t durable = 0;

		if (wt->done || (!stop && wt->p && waiting(a, wt->p, wt->last_offset)))
			continue;
		if (!ack_ready(e, wt, &durable)) {
			if (stop) {
				wt->done = 1;           /* given up: never a false ack */
				a->lost++;
			} else if (!waiting(a, wt->p, INT64_MAX) && !remember_waiting(a, wt, durable)) {
				overflow = true;
			}
			continue;
		}
		wt->done = 1;
		if (n && (n == ACK_TX_BURST || e->port_id != port || e->queue_id != queue)) {
			sent += tx_burst(a, port, queue, tx, n);
			n = 0;
		}
		port = e->port_id;
		queue = e->queue_id;
		if ((tx[n] = ack_mbuf(e)) != NULL)
			n++;
		else
			a->lost++;
	}
	sent += tx_burst(a, port, queue, tx, n);
	while (a->head != a->tail && a->w[a->head % DP_ACK_QUEUE].done)
		a->head++;
	if (overflow)
		a->rescan = true;       /* more partitions waiting than remembered: look again */
	return sent;
}
