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

struct dp_port {
	const struct fwc_port *conf;
	uint16_t port_id;
	uint16_t n_rxq;
	uint32_t n_mbufs;
	struct rte_mempool *pool;
	int started;
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
 * Configure and start every port of @cfg.
 *
 * @return 0, or -errno with the failing port logged; ports already started
 *   are stopped again.
 */
int dp_ports_start(const struct fwc_config *cfg, struct dp_ports *ports);

/** Stop and close every started port; free the pools. */
void dp_ports_stop(struct dp_ports *ports);

#endif /* DP_PORT_H */
