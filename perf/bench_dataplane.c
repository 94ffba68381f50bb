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
 *   -z SECS   tap mode: after the flat-out phase, search for the highest
 *             offered rate the appliance stores with no loss at all (RFC
 *             2544's throughput), in trials of SECS each (see pacer below);
 *             the flat-out phase is judged the same way first
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
#define RFC2544_TRIAL_S 60      /* the standard trial: a pass must hold this long */

/*
 * The pacer: net_pcap with infinite_rx hands out frames as fast as it is
 * polled, so to offer a given rate the benchmark wraps the port's receive
 * function (rte_eth_fp_ops[port].rx_pkt_burst, what rte_eth_rx_burst calls)
 * with a NIC model: frames "arrive" at @pps into an RX ring of @ring_desc
 * descriptors; a poll gets at most what has arrived; what arrives while the
 * ring is full is missed (imissed on a real NIC) and counted.  The PMD is
 * asked for no more than that, so the lcore pays for nothing it does not
 * get.  @pps 0 pauses the source.  The wrapper also counts the lcore's busy
 * cycles: from the return of a burst that brought frames to the next poll,
 * plus that poll itself, so cycles per packet hold at any offered rate.
 * Only this benchmark's lcore calls it.
 */
struct pacer {
	eth_rx_burst_t pmd_rx;
	_Atomic uint64_t pps;           /* offered rate; 0: paused */
	double credit, ring_desc;       /* frames arrived and not yet polled */
	uint64_t last;                  /* tsc of the previous credit update */
	uint64_t busy_from;             /* tsc a burst with frames returned; 0: idle */
	_Atomic uint64_t missed, busy_cycles, polled;
	_Atomic uint64_t max_gap;       /* longest time between two polls (tsc); main resets it */
	_Atomic int tid;                /* the lcore thread's, for its context switches */
};

#define PACER_FLAT_OUT UINT64_MAX    /* pps: every poll gets what it asks for */

static struct pacer g_pacer;

/* Counters with one writer (the lcore): a relaxed load and store, no locked add. */
static inline uint64_t relaxed(_Atomic uint64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

static uint16_t paced_rx(void *rxq, struct rte_mbuf **pkts, uint16_t n)
{
	struct pacer *pc = &g_pacer;
	uint64_t now = rte_rdtsc(), pps = atomic_load_explicit(&pc->pps, memory_order_relaxed);
	uint64_t busy = 0;
	uint16_t k = 0;

	if (unlikely(!atomic_load_explicit(&pc->tid, memory_order_relaxed)))
		atomic_store(&pc->tid, rte_sys_gettid());       /* once */
	if (now - pc->last > relaxed(&pc->max_gap))
		atomic_store_explicit(&pc->max_gap, now - pc->last, memory_order_relaxed);
	if (pc->busy_from)
		busy = now - pc->busy_from;
	pc->busy_from = 0;
	if (pps == PACER_FLAT_OUT) {
		pc->credit = 0;
		k = pc->pmd_rx(rxq, pkts, n);
	} else {
		pc->credit += (double)(now - pc->last) * (double)pps / (double)rte_get_tsc_hz();
		if (pc->credit > pc->ring_desc) {
			uint64_t lost = (uint64_t)(pc->credit - pc->ring_desc);

			atomic_store_explicit(&pc->missed, relaxed(&pc->missed) + lost,
					      memory_order_relaxed);
			pc->credit -= (double)lost;
		}
		if (pc->credit >= 1)
			k = pc->pmd_rx(rxq, pkts, pc->credit < n ? (uint16_t)pc->credit : n);
		pc->credit -= k;
	}
	pc->last = now;
	if (k) {
		pc->busy_from = rte_rdtsc();
		busy += pc->busy_from - now;
		atomic_store_explicit(&pc->polled, relaxed(&pc->polled) + k, memory_order_relaxed);
	}
	if (busy)
		atomic_store_explicit(&pc->busy_cycles, relaxed(&pc->busy_cycles) + busy,
				      memory_order_relaxed);
	return k;
}

static void pacer_install(uint16_t port, uint16_t ring_desc)
{
	g_pacer.pmd_rx = rte_eth_fp_ops[port].rx_pkt_burst;
	g_pacer.ring_desc = ring_desc;
	g_pacer.last = rte_rdtsc();
	rte_eth_fp_ops[port].rx_pkt_burst = paced_rx;
}

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

/* Group commit as sluiced's default configuration has it (log.flush.interval.ms). */
static int open_storage(const struct fwc_config *cfg, const char *dir, uint64_t ring,
			struct st_logdir **ld, struct st_writer **w)
{
	struct st_writer_cfg wc = { .cpu = 0, .direct = ST_DIRECT_AUTO, .huge = ST_HUGE_AUTO,
				    .flush_interval_ms = cfg->broker.log_flush_interval_ms,
				    .visibility = ST_VIS_DURABLE };
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

/* ------------------------------------------------ zero-loss rate (RFC 2544) */

struct trial {
	double offered_mpps, secs, rx_mpps, records_mps, written_mps, cpp;
	uint64_t lost, missed, ring_full;
	double max_gap_us;              /* longest the lcore went without polling */
	long preempted;                 /* the lcore thread's involuntary context switches */
	int64_t backlog_a, backlog_b, backlog_max; /* records accepted, not yet written */
	int pass;
};

/* The lcore thread's involuntary context switches so far (-1: unknown). */
static long lcore_preempted(void)
{
	char path[64], line[128];
	long n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", atomic_load(&g_pacer.tid));
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "nonvoluntary_ctxt_switches: %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

static int64_t backlog(const struct st_partition *p)
{
	return (int64_t)__atomic_load_n(&p->next_offset, __ATOMIC_RELAXED) -
	       st_partition_hw(p, ST_VIS_WRITTEN);
}

/* Pause the source and wait until the writer has taken everything accepted. */
static void drain(const struct st_partition *p)
{
	atomic_store(&g_pacer.pps, 0);
	for (int i = 0; i < 2000 && backlog(p) > 0; i++)
		usleep(5000);
	usleep(20000);                  /* linger: the last open tap batch is sealed and written */
}

/*
 * One trial at @pps: the appliance passes when nothing was lost (no drop of
 * any reason, nothing missed by the NIC model) and the writer keeps up: the
 * backlog in the ring, growing at the trial's rate, would still fit the
 * ring after a standard 60-second trial.
 */
static void run_trial(struct dp_lcores *l, const struct st_partition *p, uint64_t ring_bytes,
		      uint64_t pps, double secs, struct trial *t)
{
	struct dp_stats a, b;
	uint64_t m0, busy0, pol0, t0;
	int64_t w0;
	uint64_t bytes0 = p->pstats.bytes, recs0 = p->pstats.records;
	double rec_bytes, cap, growth;

	drain(p);
	memset(t, 0, sizeof(*t));
	dp_stats_read(l, &a);
	m0 = atomic_load(&g_pacer.missed), busy0 = atomic_load(&g_pacer.busy_cycles);
	pol0 = atomic_load(&g_pacer.polled);
	t->backlog_a = backlog(p);
	t->preempted = lcore_preempted();
	atomic_store(&g_pacer.max_gap, 0);
	w0 = st_partition_hw(p, ST_VIS_WRITTEN);
	t0 = rte_rdtsc();
	atomic_store(&g_pacer.pps, pps);
	for (double left = secs; left > 0; left -= 0.05) {
		int64_t bl;

		usleep(50000);
		if ((bl = backlog(p)) > t->backlog_max)
			t->backlog_max = bl;
	}
	dp_stats_read(l, &b);
	t->secs = (double)(rte_rdtsc() - t0) / (double)rte_get_tsc_hz();
	t->backlog_b = backlog(p);
	t->max_gap_us = (double)atomic_load(&g_pacer.max_gap) * 1e6 / (double)rte_get_tsc_hz();
	t->preempted = t->preempted < 0 ? -1 : lcore_preempted() - t->preempted;
	atomic_store(&g_pacer.pps, 0);
	t->written_mps = (double)(st_partition_hw(p, ST_VIS_WRITTEN) - w0) / t->secs / 1e6;
	t->rx_mpps = (double)(b.rx_packets - a.rx_packets) / t->secs / 1e6;
	t->offered_mpps = pps == PACER_FLAT_OUT ? t->rx_mpps : (double)pps / 1e6;
	t->missed = atomic_load(&g_pacer.missed) - m0;
	for (unsigned int r = 1; r < DP_DROP__COUNT; r++)
		t->lost += b.drops[r] - a.drops[r];
	t->ring_full = b.drops[DP_DROP_ring_full] - a.drops[DP_DROP_ring_full];
	t->records_mps = (double)(b.records - a.records) / t->secs / 1e6;
	if (atomic_load(&g_pacer.polled) > pol0)
		t->cpp = (double)(atomic_load(&g_pacer.busy_cycles) - busy0) /
			 (double)(atomic_load(&g_pacer.polled) - pol0);
	rec_bytes = p->pstats.records > recs0 ? (double)(p->pstats.bytes - bytes0) /
						(double)(p->pstats.records - recs0) : 64;
	cap = (double)ring_bytes / rec_bytes;
	growth = (double)(t->backlog_b - t->backlog_a) / t->secs;
	t->pass = t->lost == 0 && t->missed == 0 &&
		  (double)t->backlog_b + (growth > 0 ? growth * (RFC2544_TRIAL_S - t->secs) : 0) <= cap;
	printf("trial %s offered_mpps %.3f  records_mps %.3f  written_mps %.3f  "
	       "cycles_per_packet %.1f  lost %llu  missed %llu  backlog %lld -> %lld (max %lld, "
	       "ring holds %.0f)  lcore: longest gap %.0f us, preempted %ld  %s\n",
	       pps == PACER_FLAT_OUT ? "flat-out" : "paced",
	       t->offered_mpps, t->records_mps, t->written_mps, t->cpp, (unsigned long long)t->lost,
	       (unsigned long long)t->missed, (long long)t->backlog_a, (long long)t->backlog_b,
	       (long long)t->backlog_max, cap, t->max_gap_us, t->preempted, t->pass ? "pass" : "FAIL");
	fflush(stdout);
}

/*
 * RFC 2544's throughput: the flat-out rate first (the lcore's own bound: it
 * passes when storage keeps up with it); if that loses anything, a binary
 * search for the highest offered rate that passes, between 0 and the
 * flat-out receive rate, starting at the flat-out write rate (the writer's
 * estimate), until the bracket is within 2 % or 10 trials.  @return trials.
 */
static int zero_loss_search(struct dp_lcores *l, const struct st_partition *p, uint64_t ring_bytes,
			    double secs, struct trial *best)
{
	struct trial t;
	double lo = 0, hi, guess;
	int n = 1;

	memset(best, 0, sizeof(*best));
	run_trial(l, p, ring_bytes, PACER_FLAT_OUT, secs, &t);
	if (t.pass) {
		*best = t;
		drain(p);
		return n;
	}
	hi = t.rx_mpps * 1e6;
	guess = t.written_mps > 0 && t.written_mps < t.rx_mpps ? t.written_mps * 1e6 : hi / 2;
	for (; n < 11 && hi - lo > 0.02 * hi; n++) {
		run_trial(l, p, ring_bytes, (uint64_t)guess, secs, &t);
		if (t.pass) {
			lo = guess;
			*best = t;
		} else {
			hi = guess;
		}
		guess = (lo + hi) / 2;
	}
	drain(p);
	return n;
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
	int burst = BURST, no_ceiling = 0, trials = 0;
	double zl_secs = 0;
	struct trial zl;
	uint32_t wire = 64;
	uint64_t t0;
	double secs = 3;
	int produce, c;

	while ((c = getopt(argc, argv, "+s:r:b:f:Cz:")) != -1) {
		if (c == 's')
			secs = atof(optarg);
		else if (c == 'z')
			zl_secs = atof(optarg);
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
			"[-f WIRE_BYTES] [-C] [-z TRIAL_SECONDS] DIR tap|produce [EAL-ARGS...]\n");
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
	    open_storage(&cfg, data, ring, &ld, &w) < 0) {
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

	if (zl_secs > 0 && !produce) {
		atomic_store(&g_pacer.pps, PACER_FLAT_OUT);
		pacer_install(cl.port, cfg.dataplane.ports[0].rx_descriptors);
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
	if (zl_secs > 0 && !produce)
		trials = zero_loss_search(l, g_parts[0], ring, zl_secs, &zl);
	dp_lcores_stop(l);
	report(produce, wire, &cl, &win);
	if (trials)
		printf("RESULT mode=zero_loss wire_bytes=%u trial_secs=%.2f trials=%d "
		       "ceiling_mpps=%.4f zl_mpps=%.4f records_mps=%.4f cpp=%.1f backlog_max=%lld\n",
		       wire, zl.secs, trials, cl.pkts ? (double)cl.pkts /
		       ((double)cl.tsc / (double)rte_get_tsc_hz()) / 1e6 : 0, zl.offered_mpps,
		       zl.records_mps, zl.cpp, (long long)zl.backlog_max);
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
