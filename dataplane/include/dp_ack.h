/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_ack.h - acknowledgements of produce-mode datagrams (SLA1,
 * docs/wire-format.md), sent back through DPDK TX by the lcore that
 * received the datagram, out of the same port and queue.
 *
 * The lcore queues an ack when it handles a datagram asking for one: the
 * whole reply (Ethernet with the MACs swapped and the VLAN tags kept, IPv4 or
 * IPv6 with the addresses swapped, UDP with the ports swapped, the SLA1 body)
 * is built then, from the received frame, into a fixed-size entry.  The
 * housekeeping pass (every 50 us) sends the entries whose batch the
 * partition's durable watermark has passed, and error acks at once; slots
 * free in order.  No allocation but the mbuf of each ack (from the port's pool),
 * no lock, no system call.
 *
 * The queue holds what waits for a group commit and for any fdatasync stall
 * behind it: 8192 entries are 0.6 s of acks at 14,000 datagrams/s.  What a
 * pass reads to decide is kept apart from the frames (24 bytes an entry), and
 * a pass is skipped when nothing can have become ready: no durable watermark
 * it waited on has moved and nothing was queued but behind a partition
 * already waiting.  A partition's batches become durable in order, so once
 * one entry of a partition is not ready, its later entries for later batches
 * are not looked at (a duplicate's ack names an older batch: it is).
 */
#ifndef DP_ACK_H
#define DP_ACK_H

#include <stdbool.h>
#include <stdint.h>

#include "dp_parse.h"
#include "dp_wire.h"

struct rte_mbuf;
struct rte_mempool;
struct st_batch_info;
struct st_partition;

#define DP_ACK_QUEUE 8192               /* acks waiting per lcore (power of two) */
#define DP_ACK_FRAME_MAX 128            /* Ethernet + 2 VLAN tags + IPv6 + UDP + SLA1 = 114 */
#define DP_ACK_WAITERS 8                /* partitions remembered as waiting between passes */

/* What a pass looks at. */
struct dp_ack_wait {
	struct st_partition *p;         /* NULL: an error ack, ready now */
	int64_t last_offset;            /* ready once p's durable watermark passes it */
	uint8_t done;                   /* sent (or given up): its slot frees once it reaches head */
};

/* The reply itself, built at push. */
struct dp_ack {
	struct rte_mempool *pool;       /* the port's: the ack's mbuf */
	uint16_t port_id, queue_id;     /* sent from where the datagram came in */
	uint16_t len;                   /* frame bytes */
	uint16_t l3_off;                /* IP header offset in frame */
	uint8_t family;
	uint8_t frame[DP_ACK_FRAME_MAX];
};

struct dp_acks {
	uint32_t head, tail;            /* entries [head, tail) wait, mod DP_ACK_QUEUE */
	uint64_t sent;                  /* acks handed to the NIC */
	uint64_t lost;                  /* acks not sent: no mbuf, TX queue full */
	/*
	 * The last pass found an entry of these partitions, ending at
	 * waiting_offset, not durable at these durable watermarks; @rescan:
	 * something was queued since that need not wait behind them.
	 */
	unsigned int n_waiting;
	bool rescan;
	struct st_partition *waiting[DP_ACK_WAITERS];
	int64_t waiting_offset[DP_ACK_WAITERS];
	int64_t waiting_durable[DP_ACK_WAITERS];
	struct dp_ack_wait w[DP_ACK_QUEUE];
	struct dp_ack q[DP_ACK_QUEUE];
};

static inline bool dp_acks_full(const struct dp_acks *a)
{
	return a->tail - a->head == DP_ACK_QUEUE;
}

/**
 * Queue the ack of the datagram in @m (parsed into @pk; @bi: its batch
 * header as the lcore read it, or NULL when it could not be read).  @p and
 * @last_offset: wait for durability; @p NULL: send with @err at once.
 * The caller checked dp_acks_full() first.
 */
void dp_acks_push(struct dp_acks *a, struct rte_mempool *pool, uint16_t port_id, uint16_t queue_id,
		  const struct rte_mbuf *m, const struct dp_pkt *pk, const struct st_batch_info *bi,
		  int32_t partition, struct st_partition *p, int64_t base_offset,
		  int64_t last_offset, int16_t err);

/**
 * Send the acks that are ready (an entry not yet durable holds back no
 * other).  A batch whose partition stopped on a write error is
 * answered KAFKA_STORAGE_ERROR.  @stop: the lcore is stopping -- what is not
 * ready is given up and counted lost (its sender resends; never a false
 * success).  @return acks sent.
 */
unsigned int dp_acks_flush(struct dp_acks *a, bool stop);

/** The Kafka error code an SLA1 ack carries for a produce-mode drop reason. */
int16_t dp_ack_error(int drop_reason);

#endif /* DP_ACK_H */
