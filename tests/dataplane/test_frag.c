/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fragment reassembly (dp_frag.h) and the mbuf entry of the parser, on real
 * mbufs: EAL runs with --no-huge, so root is needed (skip 77 otherwise).
 * Time is passed explicitly in units of 1 ms (tsc_hz = 1000): nothing sleeps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dp_frag.h"
#include "dp_parse.h"
#include "dp_test_frames.h"

#define NB_MBUFS    256
#define CHUNK       800                 /* IP payload bytes per fragment */
#define UDP_LEN     (3 * CHUNK)
#define PLEN        (UDP_LEN - 8)
#define TIMEOUT_MS  10

static struct rte_mempool *pool;
static struct dp_frag *frag;
static uint64_t drops[DP_DROP__COUNT];
static uint8_t data[PLEN];
static uint8_t whole[4096];             /* the unfragmented frame */
static size_t whole_l4;

static void build_whole(int v6)
{
	struct tf_spec s;

	memset(&s, 0, sizeof(s));
	s.v6 = v6;
	if (v6) {
		memcpy(s.src, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
		memcpy(s.dst, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
	} else {
		memcpy(s.src, "\x0a\x00\x00\x01", 4);
		memcpy(s.dst, "\x0a\x00\x00\x02", 4);
	}
	s.sport = 40000;
	s.dport = 5000;
	s.payload = data;
	s.plen = PLEN;
	tf_build(whole, &s, &whole_l4);
}

/*
 * A fragment of the datagram in whole[] (built by build_whole): @len bytes
 * of IP payload from offset @off, @more: MF/M flag, @id: identification.
 */
static struct rte_mbuf *make_frag(int v6, uint32_t off, uint32_t len, int more, uint32_t id)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint32_t hdr = v6 ? 14 + 40 + 8 : 14 + 20;
	uint8_t *p;

	assert_non_null(m);
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(hdr + len));
	assert_non_null(p);
	memcpy(p, whole, v6 ? 14 + 40 : 14 + 20);
	if (v6) {
		tf_put16(p + 14 + 4, (uint16_t)(8 + len));
		p[14 + 6] = 44;
		p[54] = 17;
		p[55] = 0;
		tf_put16(p + 56, (uint16_t)(off | (more ? 1 : 0)));
		tf_put16(p + 58, (uint16_t)(id >> 16));
		tf_put16(p + 60, (uint16_t)id);
	} else {
		tf_put16(p + 14 + 2, (uint16_t)(20 + len));
		tf_put16(p + 14 + 4, (uint16_t)id);
		tf_put16(p + 14 + 6, (uint16_t)((more ? 0x2000 : 0) | off / 8));
		tf_ipv4_fix(p + 14);
	}
	if (off + len <= UDP_LEN)
		memcpy(p + hdr, whole + whole_l4 + off, len);
	else
		memset(p + hdr, 0, len);
	return m;
}

/* Parse fragment @m (must be one) and feed it at time @now. */
static struct rte_mbuf *feed(struct rte_mbuf *m, uint64_t now)
{
	struct dp_pkt pk;

	assert_int_equal(dp_parse_mbuf(m, &pk), 0);
	assert_int_equal(pk.is_fragment, 1);
	return dp_frag_feed(frag, m, &pk, now, drops);
}

/* The reassembled datagram parses and carries the original payload. */
static void check_datagram(struct rte_mbuf *m, int v6)
{
	static uint8_t buf[PLEN];
	struct dp_pkt pk;
	const void *got;

	assert_non_null(m);
	assert_int_equal(m->nb_segs, 3);
	assert_int_equal(dp_parse_mbuf(m, &pk), 0);
	assert_int_equal(pk.is_fragment, 0);
	assert_int_equal(pk.family, v6 ? AF_INET6 : AF_INET);
	assert_int_equal(pk.dst_port, 5000);
	assert_int_equal(pk.payload_len, PLEN);
	got = rte_pktmbuf_read(m, pk.payload_off, PLEN, buf);
	assert_non_null(got);
	assert_memory_equal(got, data, PLEN);
	rte_pktmbuf_free(m);
}

static uint64_t total_drops(void)
{
	uint64_t n = 0;

	for (unsigned int r = 0; r < DP_DROP__COUNT; r++)
		n += drops[r];
	return n;
}

static int setup(void **state)
{
	(void)state;
	memset(drops, 0, sizeof(drops));
	frag = dp_frag_create(64, TIMEOUT_MS, 1000, SOCKET_ID_ANY);
	return frag == NULL ? -1 : 0;
}

/* Everything held or dropped is freed: the pool is whole again. */
static int teardown(void **state)
{
	(void)state;
	dp_frag_free(frag);
	frag = NULL;
	return rte_mempool_avail_count(pool) == NB_MBUFS ? 0 : -1;
}

static void reassemble(int v6, const int order[3])
{
	struct rte_mbuf *out = NULL;
	struct dp_frag_stats st;

	build_whole(v6);
	for (int i = 0; i < 3; i++) {
		int k = order[i];

		assert_null(out);
		out = feed(make_frag(v6, (uint32_t)k * CHUNK, CHUNK, k < 2, 77), (uint64_t)i);
	}
	check_datagram(out, v6);
	dp_frag_stats_get(frag, &st);
	assert_int_equal(st.fragments, 3);
	assert_int_equal(st.reassembled, 1);
	assert_int_equal(st.merged, 3);
	assert_int_equal(st.held, 0);
	assert_int_equal(total_drops(), 0);
}

static void test_frag_ipv4_in_order(void **state)
{
	static const int order[3] = { 0, 1, 2 };

	(void)state;
	reassemble(0, order);
}

static void test_frag_ipv4_out_of_order(void **state)
{
	static const int order[3] = { 2, 0, 1 };

	(void)state;
	reassemble(0, order);
}

static void test_frag_ipv6_in_order(void **state)
{
	static const int order[3] = { 0, 1, 2 };

	(void)state;
	reassemble(1, order);
}

static void test_frag_ipv6_out_of_order(void **state)
{
	static const int order[3] = { 1, 2, 0 };

	(void)state;
	reassemble(1, order);
}

static void test_frag_duplicate(void **state)
{
	struct dp_frag_stats st;

	(void)state;
	for (int v6 = 0; v6 <= 1; v6++) {
		build_whole(v6);
		assert_null(feed(make_frag(v6, 0, CHUNK, 1, 5), 0));
		assert_null(feed(make_frag(v6, CHUNK, CHUNK, 1, 5), 0));
		assert_null(feed(make_frag(v6, CHUNK, CHUNK, 1, 5), 0));
		assert_null(feed(make_frag(v6, 2 * CHUNK, CHUNK, 0, 5), 0));
	}
	/* the whole inconsistent set goes, each fragment counted once */
	assert_int_equal(drops[DP_DROP_bad_fragment], 8);
	assert_int_equal(total_drops(), 8);
	dp_frag_stats_get(frag, &st);
	assert_int_equal(st.held, 0);
	dp_frag_flush(frag);
}

static void test_frag_overlap(void **state)
{
	(void)state;
	build_whole(0);
	assert_null(feed(make_frag(0, 0, CHUNK, 1, 6), 0));
	assert_null(feed(make_frag(0, CHUNK / 2, CHUNK, 1, 6), 0));
	assert_null(feed(make_frag(0, 2 * CHUNK, CHUNK, 0, 6), 0));
	assert_int_equal(drops[DP_DROP_bad_fragment], 3);
	assert_int_equal(total_drops(), 3);
}

static void test_frag_bad_fragments(void **state)
{
	struct rte_mbuf *m;
	struct dp_pkt pk;

	(void)state;
	build_whole(0);
	/* a non-last fragment must be a multiple of 8 bytes */
	assert_null(feed(make_frag(0, 0, CHUNK - 4, 1, 7), 0));
	/* ending past 64 KiB */
	assert_null(feed(make_frag(0, 65528, 16, 0, 7), 0));
	/* IPv6: the fragment header behind another header is not supported */
	build_whole(1);
	m = make_frag(1, CHUNK, CHUNK, 1, 8);
	assert_int_equal(dp_parse_mbuf(m, &pk), 0);
	pk.frag_hdr_off = 48;
	assert_null(dp_frag_feed(frag, m, &pk, 0, drops));
	assert_int_equal(drops[DP_DROP_bad_fragment], 3);
	assert_int_equal(total_drops(), 3);
}

static void test_frag_timeout_expire(void **state)
{
	struct dp_frag_stats st;

	(void)state;
	build_whole(0);
	assert_null(feed(make_frag(0, 0, CHUNK, 1, 9), 0));
	assert_null(feed(make_frag(0, 2 * CHUNK, CHUNK, 0, 9), 1));
	dp_frag_expire(frag, TIMEOUT_MS, drops);        /* not yet */
	assert_int_equal(total_drops(), 0);
	dp_frag_stats_get(frag, &st);
	assert_int_equal(st.held, 2);
	dp_frag_expire(frag, TIMEOUT_MS + 1, drops);
	assert_int_equal(drops[DP_DROP_fragment_timeout], 2);
	assert_int_equal(total_drops(), 2);
	dp_frag_stats_get(frag, &st);
	assert_int_equal(st.held, 0);
	dp_frag_flush(frag);
}

static void test_frag_timeout_on_late_fragment(void **state)
{
	struct dp_frag_stats st;

	(void)state;
	build_whole(1);
	assert_null(feed(make_frag(1, 0, CHUNK, 1, 10), 0));
	assert_null(feed(make_frag(1, CHUNK, CHUNK, 1, 10), 0));
	/* the last one comes too late: the two before it time out, it starts anew */
	assert_null(feed(make_frag(1, 2 * CHUNK, CHUNK, 0, 10), 2 * TIMEOUT_MS));
	assert_int_equal(drops[DP_DROP_fragment_timeout], 2);
	assert_int_equal(total_drops(), 2);
	dp_frag_stats_get(frag, &st);
	assert_int_equal(st.held, 1);
}

static void test_frag_table_full(void **state)
{
	struct dp_frag_stats st;

	(void)state;
	dp_frag_free(frag);
	frag = dp_frag_create(1, TIMEOUT_MS, 1000, SOCKET_ID_ANY);
	assert_non_null(frag);
	build_whole(0);
	assert_null(feed(make_frag(0, 0, CHUNK, 1, 11), 0));
	assert_null(feed(make_frag(0, 0, CHUNK, 1, 12), 1));  /* another datagram */
	assert_int_equal(drops[DP_DROP_fragment_table_full], 1);
	assert_int_equal(total_drops(), 1);
	/* once the first has expired its slot is taken over */
	assert_null(feed(make_frag(0, 0, CHUNK, 1, 13), TIMEOUT_MS + 1));
	assert_int_equal(drops[DP_DROP_fragment_timeout], 1);
	dp_frag_stats_get(frag, &st);
	assert_int_equal(st.fragments, 3);
	assert_int_equal(st.dropped, 2);
	assert_int_equal(st.held, 1);
}

static void test_frag_corrupt_payload_fails_checksum(void **state)
{
	struct rte_mbuf *m, *out;
	struct dp_pkt pk;

	(void)state;
	build_whole(0);
	assert_null(feed(make_frag(0, 0, CHUNK, 1, 14), 0));
	m = make_frag(0, CHUNK, CHUNK, 1, 14);
	rte_pktmbuf_mtod_offset(m, uint8_t *, 14 + 20 + 100)[0] ^= 0x10;
	assert_null(feed(m, 0));
	out = feed(make_frag(0, 2 * CHUNK, CHUNK, 0, 14), 0);
	assert_non_null(out);
	assert_int_equal(out->nb_segs, 3);
	/* the checksum is checked across the chain */
	assert_int_equal(dp_parse_mbuf(out, &pk), DP_DROP_bad_udp_checksum);
	rte_pktmbuf_free(out);
}

static void test_parse_mbuf_vlan_stripped(void **state)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *p;
	struct tf_spec s;
	struct dp_pkt pk;
	uint32_t len;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.dport = 5000;
	s.payload = data;
	s.plen = 100;
	len = tf_build(whole, &s, NULL);
	assert_non_null(m);
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	assert_non_null(p);
	memcpy(p, whole, len);
	m->ol_flags = RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED;
	m->vlan_tci = 0x6000 | 42;
	assert_int_equal(dp_parse_mbuf(m, &pk), 0);
	assert_int_equal(pk.n_vlan, 1);
	assert_int_equal(pk.vid, 42);
	m->ol_flags |= RTE_MBUF_F_RX_QINQ | RTE_MBUF_F_RX_QINQ_STRIPPED;
	m->vlan_tci_outer = 7;
	assert_int_equal(dp_parse_mbuf(m, &pk), 0);
	assert_int_equal(pk.n_vlan, 2);
	assert_int_equal(pk.vlan[0], 7);
	assert_int_equal(pk.vlan[1], 42);
	assert_int_equal(pk.vid, 42);
	assert_int_equal(pk.payload_len, 100);
	rte_pktmbuf_free(m);
}

int main(int argc, char **argv)
{
	char *eal[] = { argv[0], "--no-huge", "-m", "128", "--no-shconf", "--no-pci",
			"--log-level=*:error", NULL };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_frag_ipv4_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frag_ipv4_out_of_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frag_ipv6_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frag_ipv6_out_of_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frag_duplicate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frag_overlap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frag_bad_fragments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frag_timeout_expire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frag_timeout_on_late_fragment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frag_table_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frag_corrupt_payload_fails_checksum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_mbuf_vlan_stripped, setup, teardown),
	};
	int ret;

	(void)argc;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + (i >> 8));
	if (geteuid() != 0) {
		printf("SKIP: EAL with --no-huge needs root\n");
		return 77;
	}
	if (rte_eal_init((int)(sizeof(eal) / sizeof(eal[0])) - 1, eal) < 0) {
		printf("SKIP: EAL init failed\n");
		return 77;
	}
	pool = rte_pktmbuf_pool_create("test_frag", NB_MBUFS, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
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
