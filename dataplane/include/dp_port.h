/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_port.h - the NIC ports of the appliance: look up each configured port
 * after EAL probing, size its mbuf pool, configure RX queues (RSS over
 * IP/UDP when there are several) and one TX queue (for acks later), start
 * it, and stop it at exit.
 *
 * Runs on the main lcore during startup and shutdown only.
 */
#ifndef DP_PORT_H
#define DP_PORT_H

#include <stdint.h>
#include "fwc_config.h"

struct rte_mempool;

/* Where a port's receive timestamps come from (rx.timestamp, docs/dataplane.md). */
enum dp_rx_ts {
	DP_RX_TS_SOFTWARE = 0,          /* none: the lcore's TSC converted to Unix time */
	DP_RX_TS_UNIX_US,               /* net_pcap: the pcap record time, us since the epoch */
	DP_RX_TS_DEVICE,                /* the NIC's clock, calibrated against Unix time */
};

/*
 * A port's receive timestamps as the lcore reads them: the mbuf dynfield
 * (rte_mbuf_dyn_rx_timestamp_register) is valid when its flag is set.
 * DEVICE: ns = base_ns + ((ticks - base_ticks) * mult) >> 32 (signed),
 * mult = 2^32 * 1e9 / clock Hz; each lcore keeps its own copy per queue and
 * re-anchors it in housekeeping (dp_rx_clock_update).
 */
struct dp_rx_clock {
	uint64_t flag;                  /* the ol_flags bit; 0 with DP_RX_TS_SOFTWARE */
	int32_t off;                    /* the dynfield offset */
	uint8_t kind;                   /* enum dp_rx_ts */
	uint64_t base_ticks, base_ns, mult;
};

/** Unix ns of NIC timestamp @v under @k (DP_RX_TS_UNIX_US or DP_RX_TS_DEVICE). */
static inline uint64_t dp_rx_clock_ns(const struct dp_rx_clock *k, uint64_t v)
{
	if (k->kind == DP_RX_TS_UNIX_US)
		return v * 1000u;
	return k->base_ns + (uint64_t)(((__int128)(int64_t)(v - k->base_ticks) *
					(__int128)k->mult) >> 32);
}

/**
 * Re-anchor a DEVICE clock: the NIC read @ticks when Unix time was @now_ns.
 * The rate is re-measured from the previous anchor when it is at least
 * @min_ns old (the clock ran forwards), so drift between the NIC and the
 * host clock stays bounded.  Pure: the caller reads both clocks.
 */
void dp_rx_clock_update(struct dp_rx_clock *k, uint64_t ticks, uint64_t now_ns, uint64_t min_ns);

struct dp_port {
	const struct fwc_port *conf;
	uint16_t port_id;
	uint16_t n_rxq;
	uint32_t n_mbufs;
	struct rte_mempool *pool;
	int started;
	struct dp_rx_clock clock;       /* receive timestamps, from rx.timestamp */
	int link_seen;                  /* dp_ports_link_check: -1 unknown, 0 down, 1 up */
	uint32_t link_speed;            /* Mbps when last seen up */
};

struct dp_ports {
	unsigned int n;
	struct dp_port port[FWC_MAX_PORTS];
};

/**
 * The DPDK device name of a configured port: a PCI address as given, or the
 * vdev name before the first comma ("net_pcap0,rx_pcap=x" -> "net_pcap0").
 */
void dp_port_dev_name(const struct fwc_port *p, char *name, size_t size);

/** 1 if the port's device is a virtual device (net_*), else 0. */
int dp_port_is_vdev(const struct fwc_port *p);

/**
 * Count the packets of a pcap file (replay ports need one mbuf per packet
 * with infinite_rx=1).
 *
 * @return the count, or -errno.
 */
long dp_pcap_count(const char *path);

/**
 * Configure and start every port of @cfg.  Receive timestamps per port's
 * rx.timestamp: auto/hardware use the NIC's when the PMD offers them
 * (RTE_ETH_RX_OFFLOAD_TIMESTAMP and a readable clock, calibrated here over
 * a few ms; or net_pcap reading a file, whose record times are Unix us);
 * hardware refuses to start a port without them (-ENOTSUP).
 *
 * @return 0, or -errno with the failing port logged; ports already started
 *   are stopped again.
 */
int dp_ports_start(const struct fwc_config *cfg, struct dp_ports *ports);

/** Stop and close every started port; free the pools. */
void dp_ports_stop(struct dp_ports *ports);

/**
 * Look at each started port's link (rte_eth_link_get_nowait: no wait, safe
 * while the lcores poll) and log one line per change -- up with its speed
 * and duplex, down -- naming the port; the first call logs every port's
 * state.  Control thread, about once a second.  @return the number of
 * ports whose link is down.
 */
unsigned int dp_ports_link_check(struct dp_ports *ports);

#endif /* DP_PORT_H */
