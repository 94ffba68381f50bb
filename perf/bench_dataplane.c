/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_dataplane - the lcore poll loop's throughput next to its ceilings,
 * measured in the same run.
 *
 * Tap mode: 60-byte frames (64 on the wire with the FCS) from a net_pcap
 * infinite_rx port, one lcore, records into a partition ring that a storage
 * writer moves to segment files under DIR (tmpfs).  Ceiling: a loop on the
 * same lcore that only rx_bursts the same port and frees the mbufs.
 * Produce mode: SLC1 datagrams of one 1 KiB record each; ceiling: memcpy of
 * 1 KiB blocks.  Prints rates, cycles per packet and the ratios, and last
 * one "RESULT key=value ..." line for perf/run.
 *
 *   -f BYTES  tap frames of BYTES on the wire, FCS included (64 ... 1518)
 *   -C        no ceiling phase (for callgrind: only the dataplane runs)
 */
#include <errno.h>
#include <getopt.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_launch.h>
#include <rte_mbuf.h>

#include "dp_eal.h"
#include "dp_lcore.h"
#include "dp_port.h"
#include "dp_rules.h"
#include "dp_stats.h"
#include "dp_wire.h"
#include "st_batch.h"
#include "st_writer.h"

#define LCORE 1
#define BURST 32

struct ceiling {
	_Atomic int stop;
	uint16_t port;
	uint64_t pkts, tsc;
};

static struct st_partition *g_parts[2];

static int32_t parts_cb(void *arg, const char *topic, struct st_partition **out, int32_t max)
{
	(void)arg;
	if (max >= 1)
		out[0] = g_parts[strcmp(topic, "tap") == 0 ? 0 : 1];
	return 1;
}

/* One Ethernet/IPv4/UDP frame (UDP checksum 0: none, valid over IPv4). */
static uint32_t frame(uint8_t *f, uint16_t dport, const uint8_t *pl, uint32_t plen)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(f + 14);
	uint8_t *u = f + 34;

	memset(f, 0, 42);
	f[0] = 2, f[6] = 2, f[12] = 0x08;
	ip->version_ihl = 0x45;
	ip->total_length = htons((uint16_t)(28 + plen));
	ip->time_to_live = 64;
	ip->next_proto_id = 17;
	ip->src_addr = htonl(0xc0000201);
	ip->dst_addr = htonl(0xc0000202);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	*(uint16_t *)u = htons(40000);
	*(uint16_t *)(u + 2) = htons(dport);
	*(uint16_t *)(u + 4) = htons((uint16_t)(8 + plen));
	memcpy(u + 8, pl, plen);
	return 42 + plen;
}

/* @wire: tap frame size on the wire with the 4-byte FCS (the pcap holds wire - 4). */
static int write_pcap(const char *path, int produce, uint32_t wire)
{
	static uint8_t f[2048], pl[1536], val[1024];
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *d = p ? pcap_dump_open(p, path) : NULL;
	struct pcap_pkthdr h = { 0 };
	unsigned int n = produce ? 256 : 1024;

	if (!d)
		return -1;
	for (unsigned int i = 0; i < n; i++) {
		uint32_t plen = wire - 4 - 42;

		memset(pl, 'a' + i % 26, sizeof(pl));
		if (produce) {
			struct dp_slc_hdr s = { htonl(DP_SLC_MAGIC), 0, 0, (int32_t)htonl(~0u) };
			struct st_batch_builder b;

			memcpy(pl, &s, sizeof(s));
			st_batch_builder_begin(&b, pl + 12, sizeof(pl) - 12, 1000);
			st_batch_builder_add(&b, 1000, NULL, 0, val, 1024, NULL, 0);
			plen = 12 + (uint32_t)st_batch_builder_finish(&b);
		}
		h.caplen = h.len = frame(f, produce ? 5001 : 5000, pl, plen);
		pcap_dump((u_char *)d, &h, f);
	}
	pcap_dump_close(d);
	pcap_close(p);
	return 0;
}

static int ceiling_loop(void *arg)
{
	struct ceiling *c = arg;
	struct rte_mbuf *m[BURST];
	uint64_t t0 = rte_rdtsc();

	while (!atomic_load_explicit(&c->stop, memory_order_relaxed)) {
		uint16_t n = rte_eth_rx_burst(c->port, 0, m, BURST);

		if (n)
			rte_pktmbuf_free_bulk(m, n);
		c->pkts += n;
	}
	c->tsc = rte_rdtsc() - t0;
	return 0;
}

static double memcpy_mbs(void)
{
	size_t sz = 64u << 20;
	uint8_t *a = malloc(sz), *b = malloc(sz);
	uint64_t t0, n = 0;

	memset(a, 1, sz), memset(b, 2, sz);
	t0 = rte_rdtsc();
	for (int rep = 0; rep < 8; rep++)
		for (size_t off = 0; off + 1024 <= sz; off += 1024, n += 1024)
			memcpy(b + off, a + off, 1024);
	t0 = rte_rdtsc() - t0;
	free(a), free(b);
	return (double)n / ((double)t0 / (double)rte_get_tsc_hz()) / 1e6;
}

static int load_cfg(struct fwc_config *cfg, const char *pcap, int burst)
{
	char y[2048];
	int n = snprintf(y, sizeof(y),
		"dataplane:\n  eal: [--no-pci, --no-shconf, \"--log-level=*:error\"]\n"
		"  burst.size: %d\n  ports:\n    - name: b0\n"
		"      device: net_pcap0,rx_pcap=%s,infinite_rx=1\n      rx.lcores: [%d]\n"
		"control:\n  cpu: 0\n"
		"topics:\n  - name: tap\n    partitions: 1\n    rules:\n      - udp.port: 5000\n"
		"  - name: prod\n    partitions: 1\n    rules:\n      - udp.port: 5001\n"
		"        mode: produce\n", burst, pcap, LCORE);

	return fwc_config_load_buf(cfg, "bench", y, (size_t)n, NULL);
}

static int open_storage(const char *dir, uint64_t ring, struct st_logdir **ld,
			struct st_writer **w)
{
	struct st_writer_cfg wc = { .cpu = 0, .direct = ST_DIRECT_AUTO, .huge = ST_HUGE_AUTO,
				    .flush_interval_ms = 5, .visibility = ST_VIS_DURABLE };
	struct st_partition_cfg pc = { .ring_bytes = ring, .huge = ST_HUGE_AUTO,
				       .batch_size = 16384, .linger_ms = 5 };
	struct st_log_config lc;

	st_log_config_default(&lc);
	if (st_logdir_open(ld, dir) < 0 || st_writer_create(w, &wc) < 0)
		return -1;
	if (st_partition_open(&g_parts[0], *ld, "tap", 0, &lc, &pc, NULL) < 0 ||
	    st_partition_open(&g_parts[1], *ld, "prod", 0, &lc, &pc, NULL) < 0)
		return -1;
	return st_writer_attach(*w, g_parts[0]) < 0 || st_writer_attach(*w, g_parts[1]) < 0 ? -1 : 0;
}

struct window {
	double secs;
	struct dp_stats a, b;
	int64_t durable_a, durable_b;   /* the partition's durable watermark at a and b */
};

static void report(int produce, uint32_t wire, const struct ceiling *cl, const struct window *w)
{
	double hz = (double)rte_get_tsc_hz(), secs = w->secs;
	double cl_pps = cl->pkts ? (double)cl->pkts / ((double)cl->tsc / hz) : 0;
	double pps = (double)(w->b.rx_packets - w->a.rx_packets) / secs;
	double rps = (double)(w->b.records - w->a.records) / secs;
	double dps = (double)(w->durable_b - w->durable_a) / secs;
	uint64_t drops = 0, ring_full = w->b.drops[DP_DROP_ring_full] - w->a.drops[DP_DROP_ring_full];
	double mbs = 0, mc = 0;

	for (unsigned int r = 1; r < DP_DROP__COUNT; r++)
		drops += w->b.drops[r] - w->a.drops[r];
	printf("mode %s, %.1f s per phase, 1 lcore\n", produce ? "produce (1 KiB records)" :
	       "tap", secs);
	if (cl->pkts)
		printf("ceiling_rx_burst_mpps %.2f  cycles_per_packet %.1f\n", cl_pps / 1e6,
		       (double)cl->tsc / (double)cl->pkts);
	printf("dataplane_rx_mpps %.2f  records_mps %.2f  durable_records_mps %.2f  "
	       "cycles_per_packet %.1f\n", pps / 1e6, rps / 1e6, dps / 1e6, hz / pps);
	printf("ratio_to_ceiling %.2f  ratio_to_14.88Mpps %.2f  drops %llu  ring_full %llu\n",
	       cl_pps ? pps / cl_pps : 0, rps / 14.88e6, (unsigned long long)drops,
	       (unsigned long long)ring_full);
	if (produce) {
		mbs = rps * 1024 / 1e6, mc = memcpy_mbs();
		printf("produce_record_mbs %.1f  memcpy_1k_mbs %.1f  ratio %.2f\n", mbs, mc, mbs / mc);
	}
	/* one line for perf/run; drops in the window only, all reasons but ring_full apart */
	printf("RESULT mode=%s wire_bytes=%u secs=%.2f ceiling_mpps=%.4f ceiling_cpp=%.1f "
	       "rx_mpps=%.4f records_mps=%.4f durable_records_mps=%.4f cpp=%.1f drops=%llu "
	       "ring_full=%llu record_mbs=%.1f durable_mbs=%.1f memcpy_1k_mbs=%.1f\n",
	       produce ? "produce" : "tap", wire, secs, cl_pps / 1e6,
	       cl->pkts ? (double)cl->tsc / (double)cl->pkts : 0, pps / 1e6, rps / 1e6, dps / 1e6,
	       hz / pps, (unsigned long long)(drops - ring_full), (unsigned long long)ring_full,
	       mbs, produce ? dps * 1024 / 1e6 : 0, mc);
}

int main(int argc, char **argv)
{
	static struct fwc_config cfg;
	struct dp_lcores_params prm = { .cfg = &cfg, .topic_parts = parts_cb };
	struct ceiling cl = { 0 };
	struct window win = { 0 };
	struct dp_stats b;
	struct dp_eal_args eal;
	struct dp_ports ports;
	struct dp_rules *rules;
	struct dp_lcores *l;
	struct st_logdir *ld;
	struct st_writer *w;
	char pcap[512], data[512];
	uint64_t ring = 64u << 20;
	int burst = BURST, no_ceiling = 0;
	uint32_t wire = 64;
	uint64_t t0;
	double secs = 3;
	int produce, c;

	while ((c = getopt(argc, argv, "+s:r:b:f:C")) != -1) {
		if (c == 's')
			secs = atof(optarg);
		else if (c == 'f')
			wire = (uint32_t)strtoul(optarg, NULL, 0);
		else if (c == 'C')
			no_ceiling = 1;
		else if (c == 'r')
			ring = strtoull(optarg, NULL, 0);
		else if (c == 'b')
			burst = atoi(optarg);
	}
	if (argc - optind < 2 || (strcmp(argv[optind + 1], "tap") && strcmp(argv[optind + 1], "produce"))) {
		fprintf(stderr, "Usage: bench_dataplane [-s SECONDS] [-r RING_BYTES] [-b BURST] "
			"[-f WIRE_BYTES] [-C] DIR tap|produce [EAL-ARGS...]\n");
		return 2;
	}
	produce = strcmp(argv[optind + 1], "produce") == 0;
	if (wire < 64 || wire > 1518) {
		fprintf(stderr, "bench_dataplane: -f: 64 ... 1518 (2 KiB mbufs, no scatter)\n");
		return 2;
	}
	snprintf(pcap, sizeof(pcap), "%s/bench.pcap", argv[optind]);
	snprintf(data, sizeof(data), "%s/data", argv[optind]);
	if (write_pcap(pcap, produce, wire) < 0 || load_cfg(&cfg, pcap, burst) < 0 ||
	    dp_eal_args_build(&cfg, argc - optind - 2, argv + optind + 2, &eal) < 0 ||
	    dp_eal_init(&eal) < 0 || dp_ports_start(&cfg, &ports) < 0 ||
	    open_storage(data, ring, &ld, &w) < 0) {
		fprintf(stderr, "bench_dataplane: setup failed\n");
		return 1;
	}
	/* ceiling: the same port and lcore, rx_burst and free only */
	cl.port = ports.port[0].port_id;
	if (!no_ceiling) {
		rte_eal_remote_launch(ceiling_loop, &cl, LCORE);
		usleep((useconds_t)(secs * 1e6));
		atomic_store(&cl.stop, 1);
		rte_eal_wait_lcore(LCORE);
	}

	prm.ports = &ports;
	if (dp_rules_create(&cfg, SOCKET_ID_ANY, &rules) < 0 || (prm.rules = rules, 0) ||
	    dp_lcores_create(&prm, &l) < 0 || dp_lcores_launch(l) < 0) {
		fprintf(stderr, "bench_dataplane: lcores failed\n");
		return 1;
	}
	usleep(500000);                  /* warm up: rings, writer, caches */
	win.durable_a = st_partition_hw(g_parts[produce], ST_VIS_DURABLE);
	dp_stats_read(l, &win.a);
	t0 = rte_rdtsc();
	usleep((useconds_t)(secs * 1e6));
	dp_stats_read(l, &win.b);
	win.secs = (double)(rte_rdtsc() - t0) / (double)rte_get_tsc_hz();
	win.durable_b = st_partition_hw(g_parts[produce], ST_VIS_DURABLE);
	dp_lcores_stop(l);
	report(produce, wire, &cl, &win);
	/* every packet the lcore took, warm-up included: the divisor for instruction counts */
	dp_stats_read(l, &b);
	printf("lcore_rx_packets_total %llu\n", (unsigned long long)b.rx_packets);
	dp_lcores_free(l);
	dp_rules_free(rules);
	st_writer_destroy(w);
	st_partition_close(g_parts[0]);
	st_partition_close(g_parts[1]);
	st_logdir_close(ld);
	dp_ports_stop(&ports);
	dp_eal_fini();
	return 0;
}
