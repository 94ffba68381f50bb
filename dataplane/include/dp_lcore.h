/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_lcore.h - the dataplane lcores: from NIC RX queues into partition rings.
 *
 * Each lcore named in a port's rx.lcores runs dp_lcore_main(): it polls its
 * RX queues with rte_eth_rx_burst, parses every frame (dp_parse.h),
 * reassembles fragments in its own table (dp_frag.h), finds the traffic rule
 * (dp_rules.h) and then
 *   - tap mode: appends one record (value = the UDP payload) to the open
 *     RecordBatch of the queue's partition (st_partition_tap_add_enc);
 *   - produce mode: validates the SLC1 header and the RecordBatch in place in
 *     the mbuf and copies it once into the ring (st_partition_append).
 * Every frame ends stored or counted under one enum dp_drop reason
 * (dp_stats.h has the invariant).  The loop takes no lock, makes no system
 * call, allocates nothing and logs nothing; every few microseconds (by TSC)
 * it seals tap batches older than linger, serves its st_inbox (Kafka
 * produce requests for its partitions), and every few milliseconds expires
 * stale fragments.
 *
 * Partitions.  The RX queues of all ports are numbered globally in
 * configuration order (port by port, queue by queue; for one port the
 * global number is the queue number).  Queue g feeds partition g % P of a
 * rule's topic with P partitions: one queue -> one partition keeps arrival
 * order.  Partition i is owned -- produced into, exclusively -- by the lcore
 * polling queue i % Q (Q queues in all); with P < Q every queue feeding a
 * partition must be polled by its owner, else dp_lcores_create refuses the
 * configuration.  A produce-mode datagram naming a partition another lcore
 * owns counts as bad_partition.  Owned partitions get the lcore's inbox
 * (st_partition.inbox) and the tap batch limits of the topic's first tap
 * rule (batch.size, linger.ms).
 */
#ifndef DP_LCORE_H
#define DP_LCORE_H

#include <stdalign.h>
#include <stdint.h>

#include <rte_common.h>

#include "dp_drop.h"
#include "dp_port.h"
#include "fwc_config.h"

struct rte_mbuf;
struct st_partition;
struct st_inbox;
struct dp_rules;
struct dp_frag;
struct dp_lcores;

#define DP_LCORE_MAX       64                      /* lcores polling queues */
#define DP_LCORE_MAX_QUEUES (FWC_MAX_PORTS * FWC_MAX_QUEUES)
#define DP_LCORE_SCRATCH   65536                   /* largest UDP payload, contiguous */
#define DP_LCORE_HK_US     50                      /* housekeeping period: linger, inbox */
#define DP_LCORE_EXPIRE_MS 2                       /* fragment expiry period */
#define DP_LCORE_INBOX     256                     /* produce requests in flight per lcore */
#define DP_LCORE_CLOCK_MS  1000                    /* NIC clocks re-anchored to Unix time */

/* Record header names of tap mode (docs/dataplane.md). */
#define DP_HDR_RX_NS    "rx.ns"      /* u64 BE: receive time, ns since the Unix epoch */
#define DP_HDR_SRC_ADDR "src.addr"   /* 4 or 16 bytes, network order */
#define DP_HDR_SRC_PORT "src.port"   /* u16 BE */
#define DP_HDR_DST_ADDR "dst.addr"
#define DP_HDR_DST_PORT "dst.port"

/* One RX queue of an lcore and where its traffic goes, per topic. */
struct dp_acks;

struct dp_lcore_queue {
	uint16_t port_id;
	uint16_t queue_id;
	uint16_t gidx;                                  /* global queue number */
	uint16_t port_idx;                              /* index in dp_ports */
	struct dp_rx_clock clock;                       /* the port's receive timestamps */
	struct st_partition *part[FWC_MAX_TOPICS];      /* by cfg topic index; NULL: no rules */
	uint32_t slot[FWC_MAX_TOPICS];                  /* its records counter */
};

/*
 * The headers of a tap record as they go on the wire (count, then each
 * name and value), encoded once at start; per packet only the values are
 * written over (rx.ns, and the addresses and ports).
 */
struct dp_tap_tpl {
	uint16_t len;                   /* encoded bytes */
	uint16_t val_off[5];            /* value offsets: rx.ns, src.addr, src.port, dst.addr, dst.port */
	uint8_t b[112];
};

enum { DP_TPL_NS = 0, DP_TPL_ADDR4, DP_TPL_ADDR6, DP_TPL__COUNT };

/*
 * One lcore's context.  The counters come first, on their own cache lines;
 * only this lcore writes them, the control thread reads them (dp_stats.h).
 */
struct dp_lcore {
	alignas(RTE_CACHE_LINE_SIZE) uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t stored;                /* frames stored (a reassembled datagram: its fragments) */
	uint64_t records;               /* Kafka records stored */
	uint64_t drops[DP_DROP__COUNT];
	uint64_t *part_records;         /* [n_slots], indexed by dp_lcore_queue.slot */

	alignas(RTE_CACHE_LINE_SIZE) const struct dp_lcores *all;
	const struct dp_rules *rules;
	struct dp_frag *frag;
	struct st_inbox *inbox;
	struct dp_acks *acks;           /* SLA1 acks waiting for durability (dp_ack.h) */
	uint8_t *scratch;               /* DP_LCORE_SCRATCH bytes for chained payloads */
	unsigned int lcore_id;
	unsigned int idx;               /* in dp_lcores */
	uint16_t burst;
	uint16_t n_queues;
	unsigned int n_owned;
	struct st_partition **owned;    /* partitions this lcore produces into */
	/* receive time: ns = base_ns + ((tsc - base_tsc) * ns_mult) >> 32 */
	uint64_t base_ns, base_tsc, ns_mult;
	uint64_t hk_period, hk_next;    /* TSC ticks */
	uint64_t expire_period, expire_next;
	uint64_t clock_period, clock_next;
	struct dp_tap_tpl tpl[DP_TPL__COUNT]; /* rx.ns only; with addresses over IPv4, IPv6 */
	struct dp_lcore_queue q[DP_LCORE_MAX_QUEUES];
};

/*
 * How an lcore finds the partitions of a topic: fill @out with up to @max
 * partitions in partition order, return how many the topic has (0: no such
 * topic).  sluiced implements it over the catalog (ctl_catalog_find +
 * ctl_store_partition); tests over partitions they open themselves.
 */
typedef int32_t (*dp_topic_parts_fn)(void *arg, const char *topic, struct st_partition **out,
				     int32_t max);

struct dp_lcores_params {
	const struct fwc_config *cfg;   /* must outlive the lcores */
	const struct dp_ports *ports;   /* started; port i is cfg->dataplane.ports[i] */
	const struct dp_rules *rules;
	dp_topic_parts_fn topic_parts;
	void *topic_parts_arg;
};

/**
 * Create one context per lcore in the ports' rx.lcores, assign queues and
 * partitions (see above), create fragment tables and inboxes, and hand the
 * owned partitions to their lcores (inbox, tap limits).  Control thread,
 * before traffic; logs what it refuses.
 *
 * @return 0 with *@out set; -EINVAL (a partition fed by two lcores, a rule's
 *   topic without partitions), -ENOMEM, or a dp_frag_create error.
 */
int dp_lcores_create(const struct dp_lcores_params *prm, struct dp_lcores **out);

/** rte_eal_remote_launch(dp_lcore_main) on every lcore.  @return 0 or -errno. */
int dp_lcores_launch(struct dp_lcores *l);

/**
 * Stop: raise the stop flag and wait for every launched lcore
 * (rte_eal_wait_lcore); each seals its open tap batches and serves its
 * inbox before returning.  Then owned partitions go back to the control
 * thread (inbox NULL).  Idempotent.
 */
void dp_lcores_stop(struct dp_lcores *l);

/** Free everything (after dp_lcores_stop; NULL is fine). */
void dp_lcores_free(struct dp_lcores *l);

/** Number of lcore contexts and the i-th one (tests, dumps). */
unsigned int dp_lcores_count(const struct dp_lcores *l);
struct dp_lcore *dp_lcores_at(const struct dp_lcores *l, unsigned int i);

/** The lcore entry point: poll until the stop flag is raised.  @arg: struct dp_lcore *. */
int dp_lcore_main(void *arg);

/**
 * One iteration of the loop: one rx_burst on each queue, then housekeeping
 * when due.  @now_tsc: rte_rdtsc().  @return frames received.
 */
unsigned int dp_lcore_poll(struct dp_lcore *c, uint64_t now_tsc);

/**
 * Handle @n frames as if queue @qi (index in c->q) had just received them
 * at @now_tsc; every mbuf is consumed.  The body of dp_lcore_poll, exposed
 * for tests that craft mbufs without a port.  @pkts is scratch: its entries
 * are undefined afterwards.  @n is at most 512, dataplane.burst.size's
 * upper bound (the burst's scratch lives on the stack).
 */
void dp_lcore_rx(struct dp_lcore *c, unsigned int qi, struct rte_mbuf **pkts, uint16_t n,
		 uint64_t now_tsc);

/** Housekeeping now: seal tap batches older than linger (all with @force), serve the inbox. */
void dp_lcore_housekeep(struct dp_lcore *c, uint64_t now_tsc, int force);

/** Receive time in ns since the Unix epoch for TSC @tsc. */
static inline uint64_t dp_lcore_tsc_ns(const struct dp_lcore *c, uint64_t tsc)
{
	return c->base_ns + (uint64_t)(((unsigned __int128)(tsc - c->base_tsc) * c->ns_mult) >> 32);
}

#endif /* DP_LCORE_H */
