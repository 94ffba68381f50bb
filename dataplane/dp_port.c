/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_port.c - port bring-up and tear-down on the main lcore.
 *
 * Each port gets its own mbuf pool on the port's NUMA socket.  The pool is
 * sized so that every RX descriptor can hold an mbuf, every polling lcore
 * can hold a burst in flight plus its mempool cache, and a pcap replay port
 * (which pre-loads the whole file with infinite_rx=1) can hold every packet
 * of its file.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <pcap/pcap.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dp_eal.h"
#include "dp_port.h"

#define DP_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, dp_logtype, "DP: " fmt "\n", ##__VA_ARGS__)

#define DP_MBUF_CACHE 256
#define DP_TXQ_DESC   512

void dp_port_dev_name(const struct fwc_port *p, char *name, size_t size)
{
	size_t n = strcspn(p->device, ",");

	if (n >= size)
		n = size - 1;
	memcpy(name, p->device, n);
	name[n] = '\0';
}

int dp_port_is_vdev(const struct fwc_port *p)
{
	return strncmp(p->device, "net_", 4) == 0;
}

long dp_pcap_count(const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *hdr;
	const u_char *data;
	long n = 0;
	pcap_t *pc;
	int rc;

	pc = pcap_open_offline(path, errbuf);
	if (!pc)
		return -ENOENT;
	while ((rc = pcap_next_ex(pc, &hdr, &data)) == 1)
		n++;
	pcap_close(pc);
	return rc == PCAP_ERROR ? -EIO : n;
}

/* The rx_pcap=FILE of a net_pcap device with infinite_rx=1, or NULL. */
static const char *replay_file(const struct fwc_port *p, char *buf, size_t size)
{
	const char *f, *end;

	if (strncmp(p->device, "net_pcap", 8) || !strstr(p->device, "infinite_rx=1"))
		return NULL;
	f = strstr(p->device, "rx_pcap=");
	if (!f)
		return NULL;
	f += strlen("rx_pcap=");
	end = f + strcspn(f, ",");
	snprintf(buf, size, "%.*s", (int)(end - f), f);
	return buf;
}

static uint32_t pool_size(const struct fwc_port *p)
{
	char file[FWC_STR_MAX];
	uint32_t n = p->mbufs;
	long pkts;

	if (n == 0)
		n = (uint32_t)p->rx_queues * (p->rx_descriptors + 2 * DP_MBUF_CACHE + 512) +
		    DP_TXQ_DESC;
	if (replay_file(p, file, sizeof(file)) && (pkts = dp_pcap_count(file)) > 0)
		n += (uint32_t)pkts;
	return n;
}

static int port_configure(struct dp_port *dp)
{
	const struct fwc_port *p = dp->conf;
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf = { 0 };
	char pool_name[RTE_MEMPOOL_NAMESIZE];
	int socket = rte_eth_dev_socket_id(dp->port_id);
	int rc;

	if ((rc = rte_eth_dev_info_get(dp->port_id, &info)) < 0)
		return rc;
	if (p->rx_queues > info.max_rx_queues) {
		DP_LOG(ERR, "port %s: %u RX queues configured, device has %u", p->name,
		       p->rx_queues, info.max_rx_queues);
		return -EINVAL;
	}
	if (p->rx_queues > 1) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf =
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
	}
	if ((rc = rte_eth_dev_configure(dp->port_id, p->rx_queues, 1, &conf)) < 0)
		return rc;
	dp->n_mbufs = pool_size(p);
	snprintf(pool_name, sizeof(pool_name), "sluice_mbuf_%u", dp->port_id);
	dp->pool = rte_pktmbuf_pool_create(pool_name, dp->n_mbufs, DP_MBUF_CACHE, 0,
					   RTE_MBUF_DEFAULT_BUF_SIZE, socket < 0 ? 0 : socket);
	if (!dp->pool) {
		DP_LOG(ERR, "port %s: cannot allocate %u mbufs: %s", p->name, dp->n_mbufs,
		       rte_strerror(rte_errno));
		return -ENOMEM;
	}
	for (uint16_t q = 0; q < p->rx_queues; q++)
		if ((rc = rte_eth_rx_queue_setup(dp->port_id, q, p->rx_descriptors, socket, NULL,
						 dp->pool)) < 0)
			return rc;
	if ((rc = rte_eth_tx_queue_setup(dp->port_id, 0, DP_TXQ_DESC, socket, NULL)) < 0)
		return rc;
	dp->n_rxq = p->rx_queues;
	return 0;
}

static int port_start(const struct fwc_port *p, struct dp_port *dp)
{
	char name[FWC_STR_MAX];
	struct rte_ether_addr mac;
	int rc;

	dp->conf = p;
	dp_port_dev_name(p, name, sizeof(name));
	if (rte_eth_dev_get_port_by_name(name, &dp->port_id) < 0) {
		DP_LOG(ERR, "port %s: device %s was not probed by EAL", p->name, name);
		return -ENODEV;
	}
	if ((rc = port_configure(dp)) < 0)
		goto out;
	if (p->promiscuous && (rc = rte_eth_promiscuous_enable(dp->port_id)) < 0 && rc != -ENOTSUP)
		goto out;
	if ((rc = rte_eth_dev_start(dp->port_id)) < 0)
		goto out;
	dp->started = 1;
	rte_eth_macaddr_get(dp->port_id, &mac);
	DP_LOG(INFO, "port %s: %s id %u mac " RTE_ETHER_ADDR_PRT_FMT " rxq %u rxd %u mbufs %u",
	       p->name, name, dp->port_id, RTE_ETHER_ADDR_BYTES(&mac), p->rx_queues,
	       p->rx_descriptors, dp->n_mbufs);
	return 0;
out:
	DP_LOG(ERR, "port %s: setup failed: %s", p->name, rte_strerror(-rc));
	return rc;
}

int dp_ports_start(const struct fwc_config *cfg, struct dp_ports *ports)
{
	int rc;

	memset(ports, 0, sizeof(*ports));
	for (unsigned int i = 0; i < cfg->dataplane.n_ports; i++) {
		ports->n = i + 1;
		if ((rc = port_start(&cfg->dataplane.ports[i], &ports->port[i])) < 0) {
			dp_ports_stop(ports);
			return rc;
		}
	}
	return 0;
}

void dp_ports_stop(struct dp_ports *ports)
{
	for (unsigned int i = 0; i < ports->n; i++) {
		struct dp_port *dp = &ports->port[i];

		if (dp->started) {
			rte_eth_dev_stop(dp->port_id);
			rte_eth_dev_close(dp->port_id);
			dp->started = 0;
			DP_LOG(INFO, "port %s: stopped", dp->conf->name);
		}
		rte_mempool_free(dp->pool);
		dp->pool = NULL;
	}
	ports->n = 0;
}
