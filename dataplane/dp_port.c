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
/* rte_eth_read_clock is still experimental in 22.11 */
#define ALLOW_EXPERIMENTAL_API

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <pcap/pcap.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_mempool.h>

#include "dp_eal.h"
#include "dp_port.h"

#define DP_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, dp_logtype, "DP: " fmt "\n", ##__VA_ARGS__)

#define DP_MBUF_CACHE 256
#define DP_TXQ_DESC   512
#define DP_CLOCK_CAL_NS 50000000u  /* first NIC clock rate measurement at start */

static const char *const rx_ts_names[] = { "software", "pcap record time", "NIC clock" };

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
		n = (uint32_t)p->rx_queues * (p->rx_descriptors + 2 * DP_MBUF_CACHE + 512 +
					      DP_TXQ_DESC);
	if (replay_file(p, file, sizeof(file)) && (pkts = dp_pcap_count(file)) > 0)
		n += (uint32_t)pkts;
	return n;
}

void dp_rx_clock_update(struct dp_rx_clock *k, uint64_t ticks, uint64_t now_ns, uint64_t min_ns)
{
	uint64_t dt = ticks - k->base_ticks, dns = now_ns - k->base_ns;

	if ((int64_t)dt <= 0 || (int64_t)dns < (int64_t)min_ns)
		return;
	k->mult = (uint64_t)(((unsigned __int128)dns << 32) / dt);
	k->base_ticks = ticks;
	k->base_ns = now_ns;
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Which timestamps the PMD can give (before configure: the offload must be
 * requested there).  net_pcap in DPDK 22.11 fills the dynfield of every
 * frame it reads from a file or an interface with the pcap record time in
 * microseconds since the epoch, without advertising the offload; its
 * infinite_rx replay copies frames and leaves no timestamp.  Other PMDs
 * advertise RTE_ETH_RX_OFFLOAD_TIMESTAMP and count device clock ticks.
 */
static int rx_ts_choose(struct dp_port *dp, const struct rte_eth_dev_info *info,
			struct rte_eth_conf *conf)
{
	const struct fwc_port *p = dp->conf;
	struct dp_rx_clock *k = &dp->clock;
	char file[FWC_STR_MAX];
	int rc;

	memset(k, 0, sizeof(*k));
	if (p->rx_timestamp == FWC_RX_TS_SOFTWARE)
		return 0;
	if (strcmp(info->driver_name, "net_pcap") == 0) {
		if (!replay_file(p, file, sizeof(file)))
			k->kind = DP_RX_TS_UNIX_US;
	} else if (info->rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP) {
		conf->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TIMESTAMP;
		k->kind = DP_RX_TS_DEVICE;
	}
	if (k->kind == DP_RX_TS_SOFTWARE) {
		if (p->rx_timestamp != FWC_RX_TS_HARDWARE)
			return 0;
		DP_LOG(ERR, "port %s: rx.timestamp hardware: %s gives no receive timestamps%s",
		       p->name, info->driver_name,
		       strcmp(info->driver_name, "net_pcap") ? "" : " with infinite_rx=1");
		return -ENOTSUP;
	}
	rc = rte_mbuf_dyn_rx_timestamp_register(&k->off, &k->flag);
	if (rc < 0) {
		DP_LOG(ERR, "port %s: cannot register the mbuf timestamp field: %s", p->name,
		       rte_strerror(rte_errno));
		return -rte_errno;
	}
	return 0;
}

/*
 * A NIC clock: its rate against CLOCK_REALTIME over DP_CLOCK_CAL_NS, then
 * the lcores keep re-anchoring it (dp_lcore housekeeping).  A PMD without
 * rte_eth_read_clock has timestamps of unknown unit: software time then,
 * unless hardware was demanded.
 */
static int rx_ts_calibrate(struct dp_port *dp)
{
	struct dp_rx_clock *k = &dp->clock;
	struct timespec pause = { 0, DP_CLOCK_CAL_NS };
	uint64_t t0, t1;
	int rc;

	if (k->kind != DP_RX_TS_DEVICE)
		return 0;
	rc = rte_eth_read_clock(dp->port_id, &t0);
	k->base_ns = realtime_ns();
	if (rc == 0) {
		nanosleep(&pause, NULL);
		rc = rte_eth_read_clock(dp->port_id, &t1);
	}
	if (rc == 0) {
		k->base_ticks = t0;
		k->mult = 1;            /* any rate: the update below measures it */
		dp_rx_clock_update(k, t1, realtime_ns(), 1);
		if (k->base_ticks != t0)
			return 0;
		rc = -EIO;              /* the clock did not move */
	}
	rte_log(dp->conf->rx_timestamp == FWC_RX_TS_HARDWARE ? RTE_LOG_ERR : RTE_LOG_NOTICE,
		dp_logtype, "DP: port %s: NIC clock unreadable (%s): no hardware receive timestamps\n",
		dp->conf->name, rte_strerror(-rc));
	memset(k, 0, sizeof(*k));
	return dp->conf->rx_timestamp == FWC_RX_TS_HARDWARE ? rc : 0;
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
	if ((rc = rx_ts_choose(dp, &info, &conf)) < 0)
		return rc;
	/* One TX queue per RX queue: an lcore acks produce datagrams out of the queue they came in. */
	if (p->rx_queues > info.max_tx_queues) {
		DP_LOG(ERR, "port %s: %u RX queues need as many TX queues, device has %u", p->name,
		       p->rx_queues, info.max_tx_queues);
		return -EINVAL;
	}
	if ((rc = rte_eth_dev_configure(dp->port_id, p->rx_queues, p->rx_queues, &conf)) < 0)
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
	for (uint16_t q = 0; q < p->rx_queues; q++)
		if ((rc = rte_eth_tx_queue_setup(dp->port_id, q, DP_TXQ_DESC, socket, NULL)) < 0)
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
	dp->link_seen = -1;
	if ((rc = rx_ts_calibrate(dp)) < 0)
		goto out;
	rte_eth_macaddr_get(dp->port_id, &mac);
	DP_LOG(INFO, "port %s: %s id %u mac " RTE_ETHER_ADDR_PRT_FMT " rxq %u rxd %u mbufs %u "
	       "rx timestamps: %s", p->name, name, dp->port_id, RTE_ETHER_ADDR_BYTES(&mac),
	       p->rx_queues, p->rx_descriptors, dp->n_mbufs, rx_ts_names[dp->clock.kind]);
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

unsigned int dp_ports_link_check(struct dp_ports *ports)
{
	unsigned int down = 0;

	for (unsigned int i = 0; i < ports->n; i++) {
		struct dp_port *dp = &ports->port[i];
		struct rte_eth_link link;
		char str[RTE_ETH_LINK_MAX_STR_LEN];
		int up;

		if (!dp->started || rte_eth_link_get_nowait(dp->port_id, &link) != 0)
			continue;
		up = link.link_status == RTE_ETH_LINK_UP;
		down += !up;
		if (dp->link_seen == up && (!up || dp->link_speed == link.link_speed))
			continue;
		rte_eth_link_to_str(str, sizeof(str), &link);
		rte_log(up ? RTE_LOG_NOTICE : RTE_LOG_WARNING, dp_logtype, "DP: port %s (%u): %s%s\n",
			dp->conf->name, dp->port_id, str,
			dp->link_seen == 1 && !up ? ": no traffic until it comes back" : "");
		dp->link_seen = up;
		dp->link_speed = up ? link.link_speed : 0;
	}
	return down;
}
