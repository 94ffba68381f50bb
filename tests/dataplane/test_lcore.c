/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The lcore poll loop (dp_lcore.h) over crafted mbufs: what lands in the
 * partition rings (records, headers, offsets, produce-mode batches) and
 * what is counted (dp_stats.h), one burst at a time on the test thread.
 * The last test runs real poll iterations on a net_ring port that loops
 * its TX queue back to its RX queue.  EAL runs with --no-huge.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "dp_ack.h"

#include "dp_lcore.h"
#include "dp_port.h"
#include "dp_rules.h"
#include "dp_stats.h"
#include "dp_test_frames.h"
#include "dp_wire.h"
#include "st_batch.h"
#include "st_log.h"
#include "st_partition.h"
#include "st_ring.h"
#include "../storage/log_fixture.h"

#define NB_MBUFS 2048

static const char yaml[] =
	"dataplane:\n"
	"  ports:\n"
	"    - name: r0\n"
	"      device: net_ring0\n"
	"      rx.queues: 1\n"
	"      rx.lcores: [1]\n"
	"topics:\n"
	"  - name: tap\n"
	"    partitions: 1\n"
	"    rules:\n"
	"      - udp.port: 5000\n"
	"        headers: [addresses]\n"
	"      - udp.port: 5002\n"
	"        key: source\n"
	"      - udp.port: 5003\n"
	"      - udp.port: 5003\n"
	"        address: 198.51.100.7\n"
	"        headers: [addresses]\n"
	"  - name: prod\n"
	"    partitions: 2\n"
	"    rules:\n"
	"      - udp.port: 5001\n"
	"        mode: produce\n";

static struct rte_mempool *pool;

struct fx {
	struct fwc_config cfg;
	char root[64];
	struct st_logdir *d;
	struct st_partition *tap, *prod[2];
	struct dp_rules *rules;
	struct dp_ports ports;
	struct dp_lcores *l;
	struct dp_lcore *c;
};

static int32_t parts_cb(void *arg, const char *topic, struct st_partition **out, int32_t max)
{
	struct fx *f = arg;

	if (strcmp(topic, "tap") == 0) {
		if (max >= 1)
			out[0] = f->tap;
		return 1;
	}
	for (int32_t i = 0; i < 2 && i < max; i++)
		out[i] = f->prod[i];
	return 2;
}

static int open_part(struct fx *f, const char *topic, int32_t i, uint64_t ring,
		     struct st_partition **out)
{
	struct st_partition_cfg pc = { .ring_bytes = ring, .huge = ST_HUGE_OFF,
				       .batch_size = 16384, .linger_ms = 5 };
	struct st_log_config lc;
	struct st_log_recovery rep;

	st_log_config_default(&lc);
	return st_partition_open(out, f->d, topic, i, &lc, &pc, &rep) < 0 ? -1 : 0;
}

/* Lcores on a configured port id (the net_ring port, or a made-up one). */
static int fx_setup(struct fx *f, uint64_t ring, int real_port)
{
	struct dp_lcores_params prm = { .cfg = &f->cfg, .ports = &f->ports,
					.topic_parts = parts_cb, .topic_parts_arg = f };

	memset(f, 0, sizeof(*f));
	if (fwc_config_load_buf(&f->cfg, "test", yaml, sizeof(yaml) - 1, NULL) < 0)
		return -1;
	f->cfg.dataplane.ports[0].rx_lcores[0] = (int16_t)rte_lcore_id();
	strcpy(f->root, "/tmp/sluice-lcore-XXXXXX");
	if (!mkdtemp(f->root) || st_logdir_open(&f->d, f->root) < 0)
		return -1;
	if (open_part(f, "tap", 0, ring, &f->tap) || open_part(f, "prod", 0, ring, &f->prod[0]) ||
	    open_part(f, "prod", 1, ring, &f->prod[1]))
		return -1;
	if (dp_rules_create(&f->cfg, SOCKET_ID_ANY, &f->rules) < 0)
		return -1;
	if (real_port) {
		if (dp_ports_start(&f->cfg, &f->ports) < 0)
			return -1;
	} else {
		f->ports.n = 1;
		f->ports.port[0].conf = &f->cfg.dataplane.ports[0];
		f->ports.port[0].port_id = RTE_MAX_ETHPORTS - 1;
	}
	prm.rules = f->rules;
	if (dp_lcores_create(&prm, &f->l) < 0)
		return -1;
	f->c = dp_lcores_at(f->l, 0);
	return 0;
}

static int setup(void **state)
{
	static struct fx f;

	*state = &f;
	return fx_setup(&f, 1 << 20, 0);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	dp_lcores_stop(f->l);
	dp_lcores_free(f->l);
	dp_rules_free(f->rules);
	if (f->ports.port[0].started)
		dp_ports_stop(&f->ports);
	for (unsigned int i = 0; i < 3; i++) {
		struct st_partition *p = i == 0 ? f->tap : f->prod[i - 1];

		if (p)
			st_partition_close(p);
	}
	if (f->d)
		st_logdir_close(f->d);
	if (f->root[0])
		lf_rmrf(f->root);
	memset(f, 0, sizeof(*f));
	return 0;
}

static struct rte_mbuf *mk(const uint8_t *frame, uint32_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

	assert_non_null(m);
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), frame, len);
	return m;
}

static struct rte_mbuf *udp4(uint16_t dport, const void *payload, uint32_t plen, int ntags)
{
	static uint8_t frame[9000];
	struct tf_spec s = { .ntags = ntags, .tpid = { 0x8100 }, .vid = { 7 },
			     .src = { 192, 0, 2, 1 }, .dst = { 192, 0, 2, 2 },
			     .sport = 40000, .dport = dport, .payload = payload, .plen = plen };

	return mk(frame, tf_build(frame, &s, NULL));
}

/* As udp4, to 198.51.100.7 (the address rule on port 5003). */
static struct rte_mbuf *udp4_b(uint16_t dport, const void *payload, uint32_t plen, int ntags)
{
	static uint8_t frame[9000];
	struct tf_spec s = { .ntags = ntags, .tpid = { 0x8100 }, .vid = { 7 },
			     .src = { 192, 0, 2, 1 }, .dst = { 198, 51, 100, 7 },
			     .sport = 40000, .dport = dport, .payload = payload, .plen = plen };

	return mk(frame, tf_build(frame, &s, NULL));
}

/* An SLC1 datagram with @nrec records for @partition. */
static struct rte_mbuf *slc1(int32_t partition, unsigned int nrec, int damage)
{
	static uint8_t p[4096];
	struct st_batch_builder b;
	struct dp_slc_hdr h = { rte_cpu_to_be_32(DP_SLC_MAGIC), 0, 0,
				(int32_t)rte_cpu_to_be_32((uint32_t)partition) };
	int n;

	memcpy(p, &h, sizeof(h));
	st_batch_builder_begin(&b, p + sizeof(h), sizeof(p) - 64, 1000);
	for (unsigned int r = 0; r < nrec; r++)
		assert_int_equal(st_batch_builder_add(&b, 1000, "k", 1, "value", 5, NULL, 0), 0);
	n = st_batch_builder_finish(&b);
	assert_true(n > 0);
	n += (int)sizeof(h);
	if (damage == 1)
		p[0] = 'X';                     /* magic */
	if (damage == 2)
		p[n - 1] ^= 1;                  /* CRC */
	if (damage == 3)
		p[n++] = 0;                     /* does not fill the datagram exactly */
	if (damage >= 4)
		p[5] |= DP_SLC_FLAG_ACK;        /* 4: ack asked; 5: and a bad CRC */
	if (damage == 5)
		p[n - 1] ^= 1;
	return udp4(5001, p, (uint32_t)n, 0);
}

/* Every record in @p's ring, in order (at most @max); @return the count. */
static int ring_records(struct st_partition *p, struct st_record *out, int max, int64_t *first)
{
	uint8_t *ptr;
	uint64_t n = st_ring_peek(p->ring, &ptr), pos = 0;
	int got = 0;

	while (pos < n) {
		struct st_batch_info bi;
		struct st_record_iter it;

		assert_int_equal(st_batch_validate(ptr + pos, n - pos, 0, 0, &bi), ST_BATCH_ERR_OK);
		if (pos == 0 && first)
			*first = bi.base_offset;
		st_record_iter_init(&it, ptr + pos, &bi);
		while (got < max && st_record_iter_next(&it, &out[got]))
			got++;
		pos += st_batch_size(&bi);
	}
	return got;
}

static void assert_balanced(const struct fx *f)
{
	struct dp_stats s;
	uint64_t drops = 0;

	dp_stats_read(f->l, &s);
	for (unsigned int r = 1; r < DP_DROP__COUNT; r++)
		drops += s.drops[r];
	assert_int_equal(s.rx_packets, s.stored + s.frag_held + drops);
}

static void test_lcore_tap_records_headers_counters(void **state)
{
	struct fx *f = *state;
	struct rte_mbuf *m[6];
	struct st_record rec[8];
	struct st_record_header h;
	const uint8_t *pos;
	uint64_t tsc = rte_rdtsc(), ns = dp_lcore_tsc_ns(f->c, tsc), be;
	struct dp_stats s;
	int n;

	m[0] = udp4(5000, "alpha", 5, 0);
	m[1] = udp4(5000, "beta", 4, 1);          /* VLAN 7: the rule takes any */
	m[2] = udp4(9999, "nomatch", 7, 0);
	m[3] = udp4(5002, "keyed", 5, 0);
	m[4] = udp4(5000, "bad", 3, 0);
	rte_pktmbuf_mtod(m[4], uint8_t *)[m[4]->data_len - 1] ^= 0xff;  /* UDP checksum */
	m[5] = udp4(5000, "cut", 3, 0);
	rte_pktmbuf_trim(m[5], 5);                /* inside the UDP header */
	dp_lcore_rx(f->c, 0, m, 6, tsc);
	dp_lcore_housekeep(f->c, tsc, 1);

	n = ring_records(f->tap, rec, 8, NULL);
	assert_int_equal(n, 3);
	assert_memory_equal(rec[0].value, "alpha", 5);
	assert_memory_equal(rec[1].value, "beta", 4);
	assert_memory_equal(rec[2].value, "keyed", 5);
	assert_null(rec[0].key);
	assert_int_equal(rec[2].key_len, 6);      /* IPv4 address + port */
	assert_memory_equal(rec[2].key, "\xc0\x00\x02\x01\x9c\x40", 6);
	assert_int_equal(rec[0].timestamp, (int64_t)(ns / 1000000));
	assert_int_equal(rec[0].n_headers, 5);
	assert_int_equal(rec[2].n_headers, 1);
	pos = rec[0].headers;
	assert_true(st_record_header_next(&rec[0], &pos, &h));
	assert_int_equal(h.key_len, 5);
	assert_memory_equal(h.key, "rx.ns", 5);
	assert_int_equal(h.value_len, 8);
	be = rte_cpu_to_be_64(ns);
	assert_memory_equal(h.value, &be, 8);
	assert_true(st_record_header_next(&rec[0], &pos, &h));
	assert_memory_equal(h.key, "src.addr", 8);
	assert_memory_equal(h.value, "\xc0\x00\x02\x01", 4);

	dp_stats_read(f->l, &s);
	assert_int_equal(s.rx_packets, 6);
	assert_int_equal(s.stored, 3);
	assert_int_equal(s.records, 3);
	assert_int_equal(s.drops[DP_DROP_no_rule], 1);
	assert_int_equal(s.drops[DP_DROP_bad_udp_checksum], 1);
	assert_int_equal(s.drops[DP_DROP_bad_ip_length], 1);
	assert_balanced(f);
}

/*
 * Plain tap frames (rx.ns only, no key: encoded a run at a time) between
 * frames that take the per-frame path keep the frames' order, and every
 * frame is stored or dropped once.
 */
static void test_lcore_tap_runs_keep_order(void **state)
{
	static const char *const val[10] = { "p0", "p1", "addr", "p3", "keyed", "bad",
					     "p6", "p7", "nomatch", "p9" };
	static const uint16_t port[10] = { 5003, 5003, 5000, 5003, 5002, 5003,
					   5003, 5003, 9999, 5003 };
	static const int stored[10] = { 1, 1, 1, 1, 1, 0, 1, 1, 0, 1 };
	struct fx *f = *state;
	struct rte_mbuf *m[10];
	struct st_record rec[16];
	uint64_t tsc = rte_rdtsc(), ns = dp_lcore_tsc_ns(f->c, tsc), be = rte_cpu_to_be_64(ns);
	struct dp_stats s;
	int n, j = 0;

	for (int i = 0; i < 10; i++)
		m[i] = udp4(port[i], val[i], (uint32_t)strlen(val[i]), 0);
	rte_pktmbuf_trim(m[5], 5);                /* inside the UDP header */
	dp_lcore_rx(f->c, 0, m, 10, tsc);
	dp_lcore_housekeep(f->c, tsc, 1);

	n = ring_records(f->tap, rec, 16, NULL);
	assert_int_equal(n, 8);
	for (int i = 0; i < 10; i++) {
		if (!stored[i])
			continue;
		assert_int_equal(rec[j].value_len, (int32_t)strlen(val[i]));
		assert_memory_equal(rec[j].value, val[i], strlen(val[i]));
		assert_int_equal(rec[j].offset - rec[0].offset, j);
		assert_int_equal(rec[j].n_headers, port[i] == 5000 ? 5 : 1);
		assert_int_equal(rec[j].timestamp, (int64_t)(ns / 1000000));
		if (port[i] == 5003) {
			const uint8_t *pos = rec[j].headers;
			struct st_record_header h;

			assert_null(rec[j].key);
			assert_true(st_record_header_next(&rec[j], &pos, &h));
			assert_int_equal(h.key_len, 5);
			assert_memory_equal(h.key, "rx.ns", 5);
			assert_int_equal(h.value_len, 8);
			assert_memory_equal(h.value, &be, 8);
		}
		j++;
	}
	dp_stats_read(f->l, &s);
	assert_int_equal(s.rx_packets, 10);
	assert_int_equal(s.stored, 8);
	assert_int_equal(s.records, 8);
	assert_int_equal(s.drops[DP_DROP_no_rule], 1);
	assert_int_equal(s.drops[DP_DROP_bad_ip_length], 1);
	assert_balanced(f);
}

/*
 * The burst's rule memo: frames to the same port alternate between the
 * port's address rule (198.51.100.7: address headers) and its plain rule,
 * with and without a VLAN tag, and each lands under its own rule.
 */
static void test_lcore_rule_memo_follows_address(void **state)
{
	static const int to_b[9] = { 0, 1, 0, 0, 1, 1, 0, 1, 0 };
	static const int tags[9] = { 0, 0, 0, 1, 1, 0, 0, 0, 1 };
	struct fx *f = *state;
	struct rte_mbuf *m[9];
	struct st_record rec[16];
	uint64_t tsc = rte_rdtsc();
	char v[9][4];
	int n;

	for (int i = 0; i < 9; i++) {
		snprintf(v[i], sizeof(v[i]), "v%d", i);
		m[i] = to_b[i] ? udp4_b(5003, v[i], 2, tags[i]) : udp4(5003, v[i], 2, tags[i]);
	}
	dp_lcore_rx(f->c, 0, m, 9, tsc);
	dp_lcore_housekeep(f->c, tsc, 1);
	n = ring_records(f->tap, rec, 16, NULL);
	assert_int_equal(n, 9);
	for (int i = 0; i < 9; i++) {
		assert_memory_equal(rec[i].value, v[i], 2);
		assert_int_equal(rec[i].n_headers, to_b[i] ? 5 : 1);
	}
	assert_balanced(f);
}

/*
 * A burst of plain frames with one mbuf the application still references:
 * every frame is stored, and that mbuf is only released (refcnt 2 -> 1),
 * not put back to its pool with the others.
 */
static void test_lcore_shared_mbuf_not_recycled(void **state)
{
	struct fx *f = *state;
	struct rte_mbuf *m[8], *shared;
	struct dp_stats s;
	unsigned int avail;

	for (int i = 0; i < 8; i++)
		m[i] = udp4(5003, "shared", 6, i & 1);
	shared = m[5];
	rte_mbuf_refcnt_update(shared, 1);
	avail = rte_mempool_avail_count(pool);
	dp_lcore_rx(f->c, 0, m, 8, rte_rdtsc());
	assert_int_equal(rte_mempool_avail_count(pool), avail + 7);
	assert_int_equal(rte_mbuf_refcnt_read(shared), 1);
	assert_memory_equal(rte_pktmbuf_mtod_offset(shared, const char *, 14 + 4 + 20 + 8),
			    "shared", 6);
	rte_pktmbuf_free(shared);
	dp_stats_read(f->l, &s);
	assert_int_equal(s.stored, 8);
	assert_int_equal(s.records, 8);
	assert_balanced(f);
}

/* A run larger than the ring takes: what fits is stored, the rest counted as ring_full. */
static void test_lcore_tap_run_ring_full(void **state)
{
	static uint8_t big[600];
	struct fx *f = *state;
	struct rte_mbuf *m[32];
	struct dp_stats s;

	teardown(state);
	assert_int_equal(fx_setup(f, 65536, 0), 0);  /* 64 KiB ring, no writer */
	memset(big, 'v', sizeof(big));
	for (int round = 0; round < 8; round++) {
		for (unsigned int i = 0; i < 32; i++)
			m[i] = udp4(5003, big, sizeof(big), 0);
		dp_lcore_rx(f->c, 0, m, 32, rte_rdtsc());
	}
	dp_stats_read(f->l, &s);
	assert_true(s.drops[DP_DROP_ring_full] > 0);
	assert_true(s.stored > 0);
	assert_int_equal(s.stored, s.records);
	assert_int_equal(s.stored + s.drops[DP_DROP_ring_full], 256);
	assert_balanced(f);
}

/* NIC timestamps (dp_rx_clock): a device clock at 500 MHz, and frames without one. */
static void test_lcore_tap_nic_timestamps(void **state)
{
	struct fx *f = *state;
	struct dp_rx_clock *k = &f->c->q[0].clock;
	struct rte_mbuf *m[3];
	struct st_record rec[4];
	struct st_record_header h;
	const uint8_t *pos;
	uint64_t tsc = rte_rdtsc(), ns = dp_lcore_tsc_ns(f->c, tsc), be;
	uint64_t base = 1764374400123456789ull;
	int off;

	assert_int_equal(rte_mbuf_dyn_rx_timestamp_register(&off, &k->flag), 0);
	k->off = off;
	k->kind = DP_RX_TS_DEVICE;
	k->base_ticks = 1000;
	k->base_ns = base;
	k->mult = 2ull << 32;                     /* 2 ns a tick */
	/* 1 s of ticks took 1 s + 20 ns of Unix time: the rate follows */
	dp_rx_clock_update(k, 1000 + 500000000, base + 1000000020, 1);
	assert_int_equal(k->base_ns, base + 1000000020);
	assert_int_equal(dp_rx_clock_ns(k, 1000), base);          /* before the anchor */
	dp_rx_clock_update(k, 1000 + 500000000, base + 2000000000, 1);   /* no time: kept */
	assert_int_equal(k->base_ns, base + 1000000020);

	for (int i = 0; i < 3; i++)
		m[i] = udp4(5000, "t", 1, 0);
	*RTE_MBUF_DYNFIELD(m[0], off, uint64_t *) = 1000 + 500000000 + 5;   /* anchor + 10 ns */
	m[0]->ol_flags |= k->flag;
	*RTE_MBUF_DYNFIELD(m[1], off, uint64_t *) = 1000;
	m[1]->ol_flags |= k->flag;
	dp_lcore_rx(f->c, 0, m, 3, tsc);          /* m[2]: no flag, the TSC time */
	dp_lcore_housekeep(f->c, tsc, 1);
	assert_int_equal(ring_records(f->tap, rec, 4, NULL), 3);
	for (int i = 0; i < 3; i++) {
		uint64_t want = i == 0 ? base + 1000000030 : i == 1 ? base : ns;

		pos = rec[i].headers;
		assert_true(st_record_header_next(&rec[i], &pos, &h));
		be = rte_cpu_to_be_64(want);
		assert_memory_equal(h.value, &be, 8);
		assert_int_equal(rec[i].timestamp, (int64_t)(want / 1000000));
	}
	k->kind = DP_RX_TS_UNIX_US;               /* net_pcap: microseconds */
	assert_int_equal(dp_rx_clock_ns(k, 1764374400123456ull), 1764374400123456000ull);
	assert_balanced(f);
}

static void count_part(void *arg, const char *topic, int32_t partition, uint64_t records)
{
	uint64_t *v = arg;

	if (strcmp(topic, "prod") == 0)
		v[partition] = records;
	else
		v[2] = records;
}

static void test_lcore_produce_batches_and_drops(void **state)
{
	struct fx *f = *state;
	struct rte_mbuf *m[7];
	struct st_record rec[16];
	uint64_t per[3] = { 0 };
	int64_t first = -1;
	struct dp_stats s;

	m[0] = slc1(-1, 3, 0);                     /* the queue's partition: 0 */
	m[1] = slc1(1, 2, 0);
	m[2] = slc1(5, 1, 0);                      /* no such partition */
	m[3] = slc1(0, 1, 1);
	m[4] = slc1(0, 1, 2);
	m[5] = slc1(0, 1, 3);
	m[6] = slc1(0, 4, 0);
	dp_lcore_rx(f->c, 0, m, 7, rte_rdtsc());

	assert_int_equal(ring_records(f->prod[0], rec, 16, &first), 7);
	assert_int_equal(first, 0);
	assert_int_equal(rec[3].offset, 3);        /* the second batch follows densely */
	assert_int_equal(ring_records(f->prod[1], rec, 16, NULL), 2);
	dp_stats_read(f->l, &s);
	assert_int_equal(s.stored, 3);
	assert_int_equal(s.records, 9);
	assert_int_equal(s.drops[DP_DROP_bad_partition], 1);
	assert_int_equal(s.drops[DP_DROP_bad_magic], 1);
	assert_int_equal(s.drops[DP_DROP_bad_crc], 1);
	assert_int_equal(s.drops[DP_DROP_bad_length], 1);
	dp_stats_foreach_partition(f->l, count_part, per);
	assert_int_equal(per[0], 7);
	assert_int_equal(per[1], 2);
	assert_balanced(f);
}

static void test_lcore_fragments_count_each_frame(void **state)
{
	struct fx *f = *state;
	static uint8_t payload[2000], frame[9000], fr[2][1600];
	struct tf_spec sp = { .src = { 192, 0, 2, 1 }, .dst = { 192, 0, 2, 2 },
			      .sport = 1, .dport = 5000, .payload = payload, .plen = 2000 };
	struct rte_mbuf *m[2];
	struct st_record rec[2];
	uint32_t len, l1 = 14 + 20 + 1480;
	struct dp_stats s;

	for (unsigned int i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)i;
	len = tf_build(frame, &sp, NULL);
	/* two fragments: 1480 bytes of UDP header + data, then the rest; last one first */
	memcpy(fr[0], frame, l1);
	tf_put16(fr[0] + 14 + 2, 20 + 1480);
	tf_put16(fr[0] + 14 + 6, 0x2000);
	tf_ipv4_fix(fr[0] + 14);
	memcpy(fr[1], frame, 34);
	memcpy(fr[1] + 34, frame + l1, len - l1);
	tf_put16(fr[1] + 14 + 2, (uint16_t)(20 + len - l1));
	tf_put16(fr[1] + 14 + 6, 1480 / 8);
	tf_ipv4_fix(fr[1] + 14);
	m[0] = mk(fr[1], 34 + len - l1);
	m[1] = mk(fr[0], l1);
	dp_lcore_rx(f->c, 0, m, 1, rte_rdtsc());
	dp_stats_read(f->l, &s);
	assert_int_equal(s.frag_held, 1);
	assert_balanced(f);
	dp_lcore_rx(f->c, 0, m + 1, 1, rte_rdtsc());
	dp_lcore_housekeep(f->c, rte_rdtsc(), 1);
	assert_int_equal(ring_records(f->tap, rec, 2, NULL), 1);
	assert_int_equal(rec[0].value_len, 2000);
	assert_memory_equal(rec[0].value, payload, 2000);   /* copied out of the chain */
	dp_stats_read(f->l, &s);
	assert_int_equal(s.rx_packets, 2);
	assert_int_equal(s.stored, 2);
	assert_int_equal(s.records, 1);
	assert_balanced(f);
}

static void test_lcore_ring_full_counted(void **state)
{
	struct fx *f = *state;
	struct rte_mbuf *m[32];
	struct dp_stats s;

	teardown(state);
	assert_int_equal(fx_setup(f, 4096, 0), 0);   /* a 4 KiB ring, no writer */
	for (unsigned int i = 0; i < 32; i++)
		m[i] = slc1(0, 8, 0);
	dp_lcore_rx(f->c, 0, m, 32, rte_rdtsc());
	dp_stats_read(f->l, &s);
	assert_true(s.drops[DP_DROP_ring_full] > 0);
	assert_true(s.stored > 0);
	assert_int_equal(s.stored + s.drops[DP_DROP_ring_full], 32);
	assert_balanced(f);
}

/* The next SLA1 ack looped back by net_ring, into @a; @return 1 if one came. */
static int next_ack(struct fx *f, struct dp_sla *a)
{
	struct rte_mbuf *m;
	const uint8_t *d;
	const struct rte_ipv4_hdr *ip;
	const struct rte_udp_hdr *u;

	if (rte_eth_rx_burst(f->ports.port[0].port_id, 0, &m, 1) == 0)
		return 0;
	d = rte_pktmbuf_mtod(m, const uint8_t *);
	assert_int_equal(m->pkt_len, 14 + 20 + 8 + DP_SLA_SIZE);
	ip = (const struct rte_ipv4_hdr *)(d + 14);
	u = (const struct rte_udp_hdr *)(d + 34);
	/* Back to the sender: addresses and ports swapped, checksums right. */
	assert_int_equal(rte_be_to_cpu_32(ip->src_addr), 0xc0000202);
	assert_int_equal(rte_be_to_cpu_32(ip->dst_addr), 0xc0000201);
	assert_int_equal(rte_be_to_cpu_16(u->src_port), 5001);
	assert_int_equal(rte_be_to_cpu_16(u->dst_port), 40000);
	assert_int_equal(rte_ipv4_cksum(ip), 0);
	{
		uint8_t copy[64];
		struct rte_udp_hdr *cu = (struct rte_udp_hdr *)copy;

		memcpy(copy, u, 8 + DP_SLA_SIZE);
		cu->dgram_cksum = 0;
		assert_int_equal(rte_ipv4_udptcp_cksum(ip, copy), u->dgram_cksum);
	}
	memcpy(a, d + 42, sizeof(*a));
	a->magic = rte_be_to_cpu_32(a->magic);
	a->error_code = (int16_t)rte_be_to_cpu_16((uint16_t)a->error_code);
	a->partition = (int32_t)rte_be_to_cpu_32((uint32_t)a->partition);
	a->base_offset = (int64_t)rte_be_to_cpu_64((uint64_t)a->base_offset);
	a->record_count = (int32_t)rte_be_to_cpu_32((uint32_t)a->record_count);
	rte_pktmbuf_free(m);
	return 1;
}

/* On the net_ring port: SLA1 acks, an error at once, a stored batch once durable. */
static void check_acks(struct fx *f)
{
	struct rte_mbuf *m[2];
	struct dp_stats s0, s;
	struct dp_sla a;
	int64_t base = f->prod[0]->next_offset;
	unsigned int got = 0;

	dp_stats_read(f->l, &s0);
	m[0] = slc1(-1, 3, 4);                      /* good, ack asked */
	m[1] = slc1(-1, 2, 5);                      /* bad CRC, ack asked */
	assert_int_equal(rte_eth_tx_burst(f->ports.port[0].port_id, 0, m, 2), 2);
	for (int i = 0; i < 100 && got < 2; i++)
		got += dp_lcore_poll(f->c, rte_rdtsc());
	assert_int_equal(got, 2);
	/* The error is answered at once; the stored batch waits for durability. */
	dp_lcore_housekeep(f->c, rte_rdtsc(), 0);
	assert_int_equal(next_ack(f, &a), 1);
	assert_int_equal(a.magic, DP_SLA_MAGIC);
	assert_int_equal(a.error_code, 2);
	assert_int_equal(a.base_offset, -1);
	assert_int_equal(a.record_count, 2);
	dp_lcore_housekeep(f->c, rte_rdtsc(), 0);
	assert_int_equal(next_ack(f, &a), 0);
	/* The writer's part, played here: the batch is durable. */
	atomic_store_explicit(&f->prod[0]->durable, base + 3, memory_order_release);
	dp_lcore_housekeep(f->c, rte_rdtsc(), 0);
	assert_int_equal(next_ack(f, &a), 1);
	assert_int_equal(a.error_code, 0);
	assert_int_equal(a.partition, 0);
	assert_int_equal(a.base_offset, base);
	assert_int_equal(a.record_count, 3);
	dp_stats_read(f->l, &s);
	assert_int_equal(s.acks_sent - s0.acks_sent, 2);
	assert_int_equal(s.acks_lost, 0);
	assert_int_equal(s.drops[DP_DROP_bad_crc] - s0.drops[DP_DROP_bad_crc], 1);
	assert_int_equal(s.stored - s0.stored, 1);
	assert_int_equal(f->c->acks->head, f->c->acks->tail);   /* every slot free again */
}

/* Send @m over net_ring and let the lcore take it. */
static void rx_one(struct fx *f, struct rte_mbuf *m)
{
	unsigned int got = 0;

	assert_int_equal(rte_eth_tx_burst(f->ports.port[0].port_id, 0, &m, 1), 1);
	for (int i = 0; i < 100 && !got; i++)
		got = dp_lcore_poll(f->c, rte_rdtsc());
	assert_int_equal(got, 1);
}

/*
 * Acks behind one that waits: a later batch of the same partition waits
 * too, an error queued after them goes at once, and each batch is answered
 * as soon as the durable watermark passes it -- passes that find nothing
 * new send nothing.
 */
static void check_acks_waiting(struct fx *f)
{
	int64_t base = f->prod[0]->next_offset;
	struct dp_sla a;

	rx_one(f, slc1(-1, 3, 4));                      /* [base, base + 3) */
	rx_one(f, slc1(-1, 4, 4));                      /* [base + 3, base + 7) */
	for (int i = 0; i < 3; i++) {
		dp_lcore_housekeep(f->c, rte_rdtsc(), 0);
		assert_int_equal(next_ack(f, &a), 0);
	}
	rx_one(f, slc1(-1, 2, 5));                      /* bad CRC: answered at once */
	dp_lcore_housekeep(f->c, rte_rdtsc(), 0);
	assert_int_equal(next_ack(f, &a), 1);
	assert_int_equal(a.error_code, 2);
	assert_int_equal(next_ack(f, &a), 0);
	/* The first batch durable: its ack only. */
	atomic_store_explicit(&f->prod[0]->durable, base + 3, memory_order_release);
	dp_lcore_housekeep(f->c, rte_rdtsc(), 0);
	assert_int_equal(next_ack(f, &a), 1);
	assert_int_equal(a.base_offset, base);
	assert_int_equal(a.record_count, 3);
	assert_int_equal(next_ack(f, &a), 0);
	dp_lcore_housekeep(f->c, rte_rdtsc(), 0);
	assert_int_equal(next_ack(f, &a), 0);
	/* The second one too. */
	atomic_store_explicit(&f->prod[0]->durable, base + 7, memory_order_release);
	dp_lcore_housekeep(f->c, rte_rdtsc(), 0);
	assert_int_equal(next_ack(f, &a), 1);
	assert_int_equal(a.base_offset, base + 3);
	assert_int_equal(a.record_count, 4);
	assert_int_equal(f->c->acks->head, f->c->acks->tail);
}

static void test_lcore_net_ring_poll(void **state)
{
	struct fx *f = *state;
	struct rte_mbuf *m[4];
	struct st_record rec[4];
	struct dp_stats s;
	unsigned int got = 0;

	teardown(state);
	if (fx_setup(f, 1 << 20, 1) < 0)
		skip();
	m[0] = udp4(5000, "one", 3, 0);
	m[1] = udp4(5000, "two", 3, 0);
	m[2] = udp4(1, "x", 1, 0);
	m[3] = slc1(-1, 2, 0);
	/* net_ring without arguments: TX queue 0 and RX queue 0 are one ring */
	assert_int_equal(rte_eth_tx_burst(f->ports.port[0].port_id, 0, m, 4), 4);
	for (int i = 0; i < 100 && got < 4; i++)
		got += dp_lcore_poll(f->c, rte_rdtsc());
	assert_int_equal(got, 4);
	assert_int_equal(dp_lcore_poll(f->c, rte_rdtsc()), 0);
	dp_lcore_housekeep(f->c, rte_rdtsc(), 1);
	assert_int_equal(ring_records(f->tap, rec, 4, NULL), 2);
	assert_memory_equal(rec[1].value, "two", 3);
	assert_int_equal(ring_records(f->prod[0], rec, 4, NULL), 2);
	dp_stats_read(f->l, &s);
	assert_int_equal(s.rx_packets, 4);
	assert_int_equal(s.drops[DP_DROP_no_rule], 1);
	assert_int_equal(s.drops[DP_DROP_imissed] + s.drops[DP_DROP_rx_nombuf], 0);
	assert_balanced(f);
	check_acks(f);
	assert_balanced(f);
	check_acks_waiting(f);
	assert_balanced(f);
}

int main(int argc, char **argv)
{
	char *eal[] = { argv[0], "--no-huge", "-m", "256", "--no-shconf", "--no-pci",
			"--vdev=net_ring0", "--log-level=*:error", NULL };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lcore_tap_records_headers_counters, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lcore_produce_batches_and_drops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lcore_tap_runs_keep_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lcore_rule_memo_follows_address, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lcore_tap_run_ring_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lcore_shared_mbuf_not_recycled, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lcore_tap_nic_timestamps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lcore_fragments_count_each_frame, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lcore_ring_full_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lcore_net_ring_poll, setup, teardown),
	};
	int ret;

	(void)argc;
	if (geteuid() != 0) {
		printf("SKIP: EAL with --no-huge needs root\n");
		return 77;
	}
	if (rte_eal_init((int)(sizeof(eal) / sizeof(eal[0])) - 1, eal) < 0) {
		printf("SKIP: EAL init failed\n");
		return 77;
	}
	pool = rte_pktmbuf_pool_create("test_lcore", NB_MBUFS, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	if (pool == NULL) {
		printf("SKIP: no mbuf pool\n");
		rte_eal_cleanup();
		return 77;
	}
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return ret;
}
