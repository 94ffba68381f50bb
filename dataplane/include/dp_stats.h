/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_stats.h - the dataplane's counters as the control thread sees them.
 *
 * Each lcore counts into its own cache-line-aligned context (dp_lcore.h)
 * with plain stores; nobody else writes there.  The control thread (metrics
 * endpoint, final log line) sums them with relaxed loads, so a snapshot is
 * a consistent-enough view of monotonically growing counters, never torn
 * per counter, and costs the lcores nothing.  The port's own drops
 * (rte_eth_stats imissed and rx_nombuf) are read here too and reported as
 * drops[DP_DROP_imissed] and drops[DP_DROP_rx_nombuf].
 *
 * Everything but `records` counts received frames, so that always
 *   rx_packets == stored + frag_held + sum(drops) - drops[imissed] - drops[rx_nombuf]
 * where rx_packets counts what rte_eth_rx_burst handed the lcores (imissed
 * and rx_nombuf never reached them).  A datagram reassembled from k
 * fragments counts k, stored or dropped.  `records` counts Kafka records: one
 * per tap-mode datagram, recordsCount per produce-mode batch.
 */
#ifndef DP_STATS_H
#define DP_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dp_drop.h"

struct dp_lcores;

struct dp_stats {
	uint64_t rx_packets;            /* frames received by the lcores (rx_burst) */
	uint64_t rx_bytes;              /* their bytes (pkt_len, no FCS) */
	uint64_t stored;                /* frames whose datagram was stored */
	uint64_t records;               /* Kafka records stored, all partitions */
	uint64_t frag_held;             /* fragments waiting in reassembly tables */
	uint64_t acks_sent;             /* SLA1 acks handed to the NIC */
	uint64_t acks_lost;             /* SLA1 acks not sent (no mbuf, TX full, stopping) */
	uint64_t drops[DP_DROP__COUNT]; /* by enum dp_drop; [0] unused */
};

/**
 * Sum every lcore's counters into @out (relaxed reads) and add the ports'
 * imissed and rx_nombuf.  Control thread; safe while the lcores run.
 * @l may be NULL (no dataplane): @out is zeroed.
 */
void dp_stats_read(const struct dp_lcores *l, struct dp_stats *out);

/* One lcore's own counters (dp_stats_lcores). */
struct dp_lcore_stats {
	unsigned int lcore_id;
	unsigned int n_queues;          /* RX queues it polls */
	struct dp_stats s;              /* its counters; imissed and rx_nombuf stay 0 (ports') */
};

/* One port's counters as its PMD reports them (rte_eth_stats_get). */
struct dp_port_stats {
	const char *name;               /* the configuration's port name; valid while @l lives */
	uint16_t port_id;
	bool started;                   /* false: not running, counters 0 */
	uint64_t ipackets, ibytes;      /* received by the NIC (before the lcores' burst) */
	uint64_t imissed;               /* dropped by the NIC: RX queue full */
	uint64_t ierrors;               /* erroneous frames */
	uint64_t rx_nombuf;             /* RX mbuf allocation failures */
};

/**
 * Each lcore's counters into @out[0..max) (relaxed reads, as dp_stats_read).
 * Any thread while @l lives.  @return the number of lcores (may exceed @max).
 */
unsigned int dp_stats_lcores(const struct dp_lcores *l, struct dp_lcore_stats *out,
			     unsigned int max);

/**
 * Each configured port's counters into @out[0..max), in configuration
 * order.  Any thread while @l lives (rte_eth_stats_get reads the PMD's
 * counters).  @return the number of ports (may exceed @max).
 */
unsigned int dp_stats_ports(const struct dp_lcores *l, struct dp_port_stats *out,
			    unsigned int max);

/**
 * Call @fn once per (topic, partition) that any lcore may store into, with
 * the records stored there so far (summed over lcores).  Partitions are
 * reported in topic order, then partition order; @topic stays valid while
 * @l lives.  Control thread; safe while the lcores run.
 */
void dp_stats_foreach_partition(const struct dp_lcores *l,
				void (*fn)(void *arg, const char *topic, int32_t partition,
					   uint64_t records),
				void *arg);

/**
 * The stop-time summary line, e.g.
 *   "DP: rx 120, stored 100, drops: no_rule=5 bad_crc=1 ..."
 * (only non-zero reasons, in dp_drop.def order; "drops: none" when none).
 * @return the length written (snprintf semantics).
 */
int dp_stats_format(const struct dp_stats *s, char *buf, size_t size);

/** A multi-line dump of @l's counters, per lcore and per partition, for debugging. */
void dp_stats_dump(const struct dp_lcores *l, FILE *out);

#endif /* DP_STATS_H */
