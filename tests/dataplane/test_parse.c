/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The frame parser (dp_parse.h) over crafted frames, raw bytes only (no
 * EAL), and the drop-reason list (dp_drop.def) against docs/dataplane.md.
 * Truncation tests copy each prefix into a buffer of exactly that size, so
 * running this under ASan catches any read past the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dp_parse.h"
#include "dp_test_frames.h"

static const uint8_t payload[] = "sluice: one UDP datagram, one Kafka record";
#define PLEN ((uint32_t)sizeof(payload) - 1)

static uint8_t frame[4096];

static void spec_v4(struct tf_spec *s)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->src, "\x0a\x00\x00\x01", 4);
	memcpy(s->dst, "\x0a\x00\x00\x02", 4);
	s->sport = 40000;
	s->dport = 5000;
	s->payload = payload;
	s->plen = PLEN;
}

static void spec_v6(struct tf_spec *s)
{
	spec_v4(s);
	s->v6 = 1;
	memcpy(s->src, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	memcpy(s->dst, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
}

static void spec_tags(struct tf_spec *s, int n, const uint16_t *tpid, const uint16_t *vid)
{
	s->ntags = n;
	for (int i = 0; i < n; i++) {
		s->tpid[i] = tpid[i];
		s->vid[i] = vid[i];
	}
}

/* Parse @len bytes of frame[] from a buffer of exactly that size. */
static int parse_exact(uint32_t len, uint64_t ol, struct dp_pkt *pk)
{
	uint8_t *copy = malloc(len ? len : 1);
	int r;

	assert_non_null(copy);
	memcpy(copy, frame, len);
	r = dp_parse(copy, len, ol, pk);
	free(copy);
	return r;
}

static void assert_udp_ok(const struct dp_pkt *pk, uint32_t payload_off)
{
	assert_int_equal(pk->is_fragment, 0);
	assert_int_equal(pk->src_port, 40000);
	assert_int_equal(pk->dst_port, 5000);
	assert_int_equal(pk->payload_off, payload_off);
	assert_int_equal(pk->payload_len, PLEN);
	assert_memory_equal(frame + pk->payload_off, payload, PLEN);
}

static void test_parse_ipv4_udp(void **state)
{
	struct tf_spec s;
	struct dp_pkt pk;
	uint32_t len;

	(void)state;
	spec_v4(&s);
	len = tf_build(frame, &s, NULL);
	assert_int_equal(parse_exact(len, 0, &pk), 0);
	assert_int_equal(pk.family, AF_INET);
	assert_int_equal(pk.n_vlan, 0);
	assert_int_equal(pk.vid, 0);
	assert_int_equal(pk.l2_len, 14);
	assert_int_equal(pk.l3_len, 20);
	assert_int_equal(pk.ip_len, 20 + 8 + PLEN);
	assert_memory_equal(pk.src, s.src, 4);
	assert_memory_equal(pk.dst, s.dst, 4);
	assert_udp_ok(&pk, 14 + 20 + 8);
}

/* The fields a parsed, non-fragment datagram carries to the rules and the lcore. */
static void assert_same_pkt(const struct dp_pkt *a, const struct dp_pkt *b)
{
	assert_int_equal(a->n_vlan, b->n_vlan);
	assert_int_equal(a->vid, b->vid);
	assert_int_equal(a->family, b->family);
	assert_int_equal(a->is_fragment, b->is_fragment);
	assert_int_equal(a->l2_len, b->l2_len);
	assert_int_equal(a->l3_len, b->l3_len);
	assert_int_equal(a->ip_len, b->ip_len);
	assert_memory_equal(a->src, b->src, 4);
	assert_memory_equal(a->dst, b->dst, 4);
	assert_int_equal(a->src_port, b->src_port);
	assert_int_equal(a->dst_port, b->dst_port);
	assert_int_equal(a->udp_cksum, b->udp_cksum);
	assert_int_equal(a->payload_off, b->payload_off);
	assert_int_equal(a->payload_len, b->payload_len);
}

/*
 * The fixed-offset IPv4 path takes exactly the frames it should and fills
 * the same fields as the full parse; everything else it leaves to the full
 * parse (whose reasons the other tests check).
 */
static void test_parse_fast_path_same_as_full(void **state)
{
	static const uint16_t tpid[] = { 0x8100 }, vid[] = { 7 };
	struct dp_pkt fast, full;
	struct tf_spec s;
	uint32_t len;

	(void)state;
	for (uint32_t plen = 0; plen <= PLEN; plen += 7) {
		for (uint32_t pad = 0; pad <= 20; pad += 10) {
			spec_v4(&s);
			s.plen = plen;
			s.pad = pad;
			len = tf_build(frame, &s, NULL);
			memset(&fast, 0xee, sizeof(fast));
			memset(&full, 0x11, sizeof(full));
			assert_int_equal(dp_parse_fast4(frame, len, len, 0, &fast), 1);
			assert_int_equal(dp_parse_hdrs(frame, len, len, 0, &full), 0);
			assert_same_pkt(&fast, &full);
			/* a wrong header checksum is left to the full parse, unless the NIC vouched */
			frame[24] ^= 1;
			assert_int_equal(dp_parse_fast4(frame, len, len, 0, &fast), 0);
			assert_int_equal(dp_parse_fast4(frame, len, len, RTE_MBUF_F_RX_IP_CKSUM_GOOD,
							&fast), 1);
			/* cut anywhere inside the headers or the datagram: not the fast path */
			for (uint32_t cut = 0; cut < 14 + 20 + 8 + plen; cut++)
				assert_int_equal(dp_parse_fast4(frame, cut, cut, 0, &fast), 0);
		}
	}
	spec_v4(&s);
	s.optlen = 4;                           /* options */
	assert_int_equal(dp_parse_fast4(frame, tf_build(frame, &s, NULL), 4096, 0, &fast), 0);
	spec_v4(&s);
	spec_tags(&s, 1, tpid, vid);            /* a VLAN tag */
	assert_int_equal(dp_parse_fast4(frame, tf_build(frame, &s, NULL), 4096, 0, &fast), 0);
	spec_v4(&s);
	s.frag = 0x2000;                        /* a first fragment */
	len = tf_build(frame, &s, NULL);
	assert_int_equal(dp_parse_fast4(frame, len, len, 0, &fast), 0);
	spec_v6(&s);
	len = tf_build(frame, &s, NULL);
	assert_int_equal(dp_parse_fast4(frame, len, len, 0, &fast), 0);
}

/* dp_parse_lean4 took @len bytes of frame[]: dp_parse agrees and dp_pkt_from_lean4 matches it. */
static void assert_lean_same_as_full(uint32_t len, uint64_t ol, const struct dp_lean4 *ln)
{
	struct dp_pkt lean, full;

	memset(&lean, 0xee, sizeof(lean));
	memset(&full, 0x11, sizeof(full));
	dp_pkt_from_lean4(frame, ln, &lean);
	assert_int_equal(dp_parse(frame, len, ol, &full), 0);
	assert_same_pkt(&lean, &full);
	if (full.n_vlan)
		assert_int_equal(lean.vlan[0], full.vlan[0]);
}

/*
 * The tap fast path's parse (untagged or one 802.1Q tag, IPv4 without
 * options, UDP) takes exactly those frames when every check passes, with
 * the result of the full parse; a wrong checksum, a cut, anything else is
 * left to the full parse.  Its memo key follows address, port and VLAN id.
 */
static void test_parse_lean_path_same_as_full(void **state)
{
	static const uint16_t tpid[] = { 0x8100, 0x8100 }, vid[] = { 7, 9 }, qinq[] = { 0x88a8 };
	struct dp_lean4 ln, ln2;
	struct tf_spec s;
	uint32_t len;
	size_t l4;

	(void)state;
	for (int tags = 0; tags <= 1; tags++) {
		for (uint32_t plen = 0; plen <= PLEN; plen += 7) {
			for (uint32_t pad = 0; pad <= 20; pad += 10) {
				uint32_t l2 = 14u + 4u * (uint32_t)tags;

				spec_v4(&s);
				spec_tags(&s, tags, tpid, vid);
				s.plen = plen;
				s.pad = pad;
				len = tf_build(frame, &s, &l4);
				assert_int_equal(dp_parse_lean4(frame, len, 0, &ln), 1);
				assert_int_equal(ln.l2_len, l2);
				assert_int_equal(ln.vid, tags ? 7 : 0);
				assert_int_equal(ln.ulen, 8 + plen);
				assert_lean_same_as_full(len, 0, &ln);
				/* a wrong UDP checksum: not taken, unless the NIC vouched */
				frame[l4 + 6] ^= 1;
				assert_int_equal(dp_parse_lean4(frame, len, 0, &ln), 0);
				assert_int_equal(dp_parse_lean4(frame, len, RTE_MBUF_F_RX_L4_CKSUM_GOOD,
								&ln), 1);
				/* none at all is fine over IPv4 */
				frame[l4 + 6] = frame[l4 + 7] = 0;
				assert_int_equal(dp_parse_lean4(frame, len, 0, &ln), 1);
				assert_lean_same_as_full(len, 0, &ln);
				/* a wrong header checksum: not taken, unless the NIC vouched */
				frame[l2 + 10] ^= 1;
				assert_int_equal(dp_parse_lean4(frame, len, 0, &ln), 0);
				assert_int_equal(dp_parse_lean4(frame, len, RTE_MBUF_F_RX_IP_CKSUM_GOOD,
								&ln), 1);
				for (uint32_t cut = 0; cut < l2 + 20 + 8 + plen; cut++)
					assert_int_equal(dp_parse_lean4(frame, cut,
									RTE_MBUF_F_RX_IP_CKSUM_GOOD,
									&ln), 0);
			}
		}
	}
	/* the key: the same for another source port, not for another VLAN id or address */
	spec_v4(&s);
	assert_int_equal(dp_parse_lean4(frame, tf_build(frame, &s, NULL), 0, &ln), 1);
	s.sport = 1234;
	assert_int_equal(dp_parse_lean4(frame, tf_build(frame, &s, NULL), 0, &ln2), 1);
	assert_true(ln.key == ln2.key);
	spec_tags(&s, 1, tpid, vid);
	assert_int_equal(dp_parse_lean4(frame, tf_build(frame, &s, NULL), 0, &ln2), 1);
	assert_true(ln.key != ln2.key);
	spec_v4(&s);
	s.dst[3] = 3;
	assert_int_equal(dp_parse_lean4(frame, tf_build(frame, &s, NULL), 0, &ln2), 1);
	assert_true(ln.key != ln2.key);
	/* left to the full parse: options, QinQ, an 802.1ad tag, a fragment, IPv6, not UDP */
	spec_v4(&s);
	s.optlen = 4;
	assert_int_equal(dp_parse_lean4(frame, tf_build(frame, &s, NULL), 0, &ln), 0);
	spec_v4(&s);
	spec_tags(&s, 2, tpid, vid);
	assert_int_equal(dp_parse_lean4(frame, tf_build(frame, &s, NULL), 0, &ln), 0);
	spec_v4(&s);
	spec_tags(&s, 1, qinq, vid);
	assert_int_equal(dp_parse_lean4(frame, tf_build(frame, &s, NULL), 0, &ln), 0);
	spec_v4(&s);
	s.frag = 0x2000;
	assert_int_equal(dp_parse_lean4(frame, tf_build(frame, &s, NULL), 0, &ln), 0);
	spec_v4(&s);
	s.frag = 0x4000;                        /* DF alone: a whole datagram */
	len = tf_build(frame, &s, NULL);
	assert_int_equal(dp_parse_lean4(frame, len, 0, &ln), 1);
	assert_lean_same_as_full(len, 0, &ln);
	spec_v6(&s);
	assert_int_equal(dp_parse_lean4(frame, tf_build(frame, &s, NULL), 0, &ln), 0);
	spec_v4(&s);
	s.proto = 6;
	assert_int_equal(dp_parse_lean4(frame, tf_build(frame, &s, NULL), 0, &ln), 0);
}

/*
 * The IPv4 header sum against rte_raw_cksum over random headers (carries
 * in every word), and 0xffff exactly when the checksum field is right.
 */
static void test_parse_ipv4_sum20_random(void **state)
{
	uint8_t h[20];
	uint32_t x = 12345;

	(void)state;
	for (int n = 0; n < 100000; n++) {
		for (int i = 0; i < 20; i++) {
			x = x * 1103515245u + 12345u;
			h[i] = (uint8_t)(n & 1 ? 0xff - (x >> 24 & 0x0f) : x >> 24);
		}
		h[0] = 0x45;
		assert_int_equal(dp_ipv4_sum20(h), rte_raw_cksum(h, 20));
		tf_ipv4_fix(h);
		assert_int_equal(dp_ipv4_sum20(h), 0xffff);
		h[n % 20] ^= (uint8_t)(1u << (n % 8));
		assert_int_not_equal(dp_ipv4_sum20(h), 0xffff);
	}
}

static void test_parse_one_vlan(void **state)
{
	static const uint16_t tpid[] = { 0x8100 }, vid[] = { 0x2000 | 100 }; /* PCP 1 */
	struct tf_spec s;
	struct dp_pkt pk;

	(void)state;
	spec_v4(&s);
	spec_tags(&s, 1, tpid, vid);
	assert_int_equal(parse_exact(tf_build(frame, &s, NULL), 0, &pk), 0);
	assert_int_equal(pk.n_vlan, 1);
	assert_int_equal(pk.vlan[0], 100);
	assert_int_equal(pk.vid, 100);
	assert_int_equal(pk.l2_len, 18);
	assert_udp_ok(&pk, 18 + 20 + 8);
}

static void test_parse_qinq(void **state)
{
	static const uint16_t tpid[] = { 0x88a8, 0x8100 }, vid[] = { 10, 20 };
	struct tf_spec s;
	struct dp_pkt pk;

	(void)state;
	spec_v6(&s);
	spec_tags(&s, 2, tpid, vid);
	assert_int_equal(parse_exact(tf_build(frame, &s, NULL), 0, &pk), 0);
	assert_int_equal(pk.n_vlan, 2);
	assert_int_equal(pk.vlan[0], 10);
	assert_int_equal(pk.vlan[1], 20);
	assert_int_equal(pk.vid, 20);           /* rules match the inner tag */
	assert_int_equal(pk.l2_len, 22);
	assert_int_equal(pk.family, AF_INET6);
	assert_udp_ok(&pk, 22 + 40 + 8);
}

static void test_parse_three_tags_malformed(void **state)
{
	static const uint16_t tpid[] = { 0x88a8, 0x8100, 0x8100 }, vid[] = { 1, 2, 3 };
	struct tf_spec s;
	struct dp_pkt pk;

	(void)state;
	spec_v4(&s);
	spec_tags(&s, 3, tpid, vid);
	assert_int_equal(parse_exact(tf_build(frame, &s, NULL), 0, &pk), DP_DROP_malformed_eth);
}

static void test_parse_ipv4_options(void **state)
{
	struct tf_spec s;
	struct dp_pkt pk;

	(void)state;
	spec_v4(&s);
	s.optlen = 12;
	assert_int_equal(parse_exact(tf_build(frame, &s, NULL), 0, &pk), 0);
	assert_int_equal(pk.l3_len, 32);
	assert_udp_ok(&pk, 14 + 32 + 8);
}

static void test_parse_ipv6_extension_headers(void **state)
{
	struct tf_spec s;
	struct dp_pkt pk;

	(void)state;
	spec_v6(&s);
	s.n_ext = 3;
	s.ext[0] = 0;   s.ext_len[0] = 0;      /* hop-by-hop, 8 bytes */
	s.ext[1] = 60;  s.ext_len[1] = 1;      /* destination options, 16 */
	s.ext[2] = 43;  s.ext_len[2] = 2;      /* routing, 24 */
	assert_int_equal(parse_exact(tf_build(frame, &s, NULL), 0, &pk), 0);
	assert_int_equal(pk.l3_len, 40 + 8 + 16 + 24);
	assert_memory_equal(pk.src, s.src, 16);
	assert_memory_equal(pk.dst, s.dst, 16);
	assert_udp_ok(&pk, 14 + 88 + 8);
}

static void test_parse_ipv6_fragment_header(void **state)
{
	struct tf_spec s;
	struct dp_pkt pk;

	(void)state;
	spec_v6(&s);
	s.n_ext = 1;
	s.ext[0] = 44;
	s.frag = 0x0001;                        /* offset 0, M: the first fragment */
	assert_int_equal(parse_exact(tf_build(frame, &s, NULL), 0, &pk), 0);
	assert_int_equal(pk.is_fragment, 1);
	assert_int_equal(pk.frag_hdr_off, 40);
	assert_int_equal(pk.l3_len, 48);
	assert_int_equal(pk.dst_port, 0);

	/* behind a hop-by-hop header */
	s.n_ext = 2;
	s.ext[0] = 0;
	s.ext_len[0] = 0;
	s.ext[1] = 44;
	s.frag = 185 << 3;                      /* offset 1480, last */
	assert_int_equal(parse_exact(tf_build(frame, &s, NULL), 0, &pk), 0);
	assert_int_equal(pk.is_fragment, 1);
	assert_int_equal(pk.frag_hdr_off, 48);
	assert_int_equal(pk.l3_len, 56);

	/* an atomic fragment (offset 0, no M) is a whole datagram */
	s.frag = 0;
	assert_int_equal(parse_exact(tf_build(frame, &s, NULL), 0, &pk), 0);
	assert_int_equal(pk.is_fragment, 0);
	assert_udp_ok(&pk, 14 + 56 + 8);
}

static void test_parse_ipv4_fragments(void **state)
{
	struct tf_spec s;
	struct dp_pkt pk;

	(void)state;
	spec_v4(&s);
	s.frag = 0x2000;                        /* MF, offset 0 */
	assert_int_equal(parse_exact(tf_build(frame, &s, NULL), 0, &pk), 0);
	assert_int_equal(pk.is_fragment, 1);
	assert_int_equal(pk.l3_len, 20);
	s.frag = 100;                           /* last fragment at 800 */
	assert_int_equal(parse_exact(tf_build(frame, &s, NULL), 0, &pk), 0);
	assert_int_equal(pk.is_fragment, 1);
	s.frag = 0x4000;                        /* DF only: not a fragment */
	assert_int_equal(parse_exact(tf_build(frame, &s, NULL), 0, &pk), 0);
	assert_int_equal(pk.is_fragment, 0);
	assert_udp_ok(&pk, 14 + 20 + 8);
}

/* Every prefix of a good frame: the reason names the first layer cut short. */
static void check_truncations(const struct tf_spec *s, uint32_t l2, uint32_t ip_hdr)
{
	uint32_t full = tf_build(frame, s, NULL);
	struct dp_pkt pk;
	int want;

	assert_int_equal(parse_exact(full, 0, &pk), 0);
	for (uint32_t len = 0; len < full; len++) {
		want = len < l2 ? DP_DROP_malformed_eth :
		       len < l2 + ip_hdr ? DP_DROP_malformed_ip : DP_DROP_bad_ip_length;
		if (parse_exact(len, 0, &pk) != want)
			fail_msg("length %u of %u: got %d, want %d", len, full,
				 parse_exact(len, 0, &pk), want);
	}
}

static void test_parse_truncated_every_length(void **state)
{
	static const uint16_t tpid[] = { 0x88a8, 0x8100 }, vid[] = { 10, 20 };
	struct tf_spec s;

	(void)state;
	spec_v4(&s);
	check_truncations(&s, 14, 20);
	s.optlen = 8;
	spec_tags(&s, 2, tpid, vid);
	check_truncations(&s, 22, 28);
	spec_v6(&s);
	spec_tags(&s, 1, tpid + 1, vid);
	s.n_ext = 3;
	s.ext[0] = 0;
	s.ext[1] = 43;
	s.ext[2] = 60;
	s.ext_len[2] = 3;
	check_truncations(&s, 18, 40);
}

/* Headers cut short by the IP length rather than the frame. */
static void test_parse_headers_beyond_ip_length(void **state)
{
	struct tf_spec s;
	struct dp_pkt pk;
	uint32_t len;

	(void)state;
	spec_v4(&s);
	len = tf_build(frame, &s, NULL);
	tf_put16(frame + 14 + 2, 20 + 4);       /* half a UDP header */
	tf_ipv4_fix(frame + 14);
	assert_int_equal(parse_exact(len, 0, &pk), DP_DROP_malformed_udp);
	tf_put16(frame + 14 + 2, 19);           /* shorter than the header */
	tf_ipv4_fix(frame + 14);
	assert_int_equal(parse_exact(len, 0, &pk), DP_DROP_bad_ip_length);

	spec_v6(&s);
	s.n_ext = 1;
	s.ext[0] = 60;
	s.ext_len[0] = 1;
	len = tf_build(frame, &s, NULL);
	tf_put16(frame + 14 + 4, 8);            /* the 16-byte option header sticks out */
	assert_int_equal(parse_exact(len, 0, &pk), DP_DROP_malformed_ip);
}

static void test_parse_bad_ip_header(void **state)
{
	struct tf_spec s;
	struct dp_pkt pk;
	uint32_t len;

	(void)state;
	spec_v4(&s);
	len = tf_build(frame, &s, NULL);
	frame[14] = 0x55;                       /* version 5 */
	assert_int_equal(parse_exact(len, 0, &pk), DP_DROP_malformed_ip);
	frame[14] = 0x44;                       /* IHL 4 */
	assert_int_equal(parse_exact(len, 0, &pk), DP_DROP_malformed_ip);
	spec_v6(&s);
	len = tf_build(frame, &s, NULL);
	frame[14] = 0x40;                       /* IPv4 version behind the IPv6 EtherType */
	assert_int_equal(parse_exact(len, 0, &pk), DP_DROP_malformed_ip);
}

static void test_parse_bad_ipv4_checksum(void **state)
{
	struct tf_spec s;
	struct dp_pkt pk;
	uint32_t len;

	(void)state;
	spec_v4(&s);
	len = tf_build(frame, &s, NULL);
	frame[14 + 8] ^= 1;                     /* TTL changed, checksum not */
	assert_int_equal(parse_exact(len, 0, &pk), DP_DROP_bad_ip_checksum);
	assert_int_equal(parse_exact(len, RTE_MBUF_F_RX_IP_CKSUM_BAD, &pk), DP_DROP_bad_ip_checksum);
	/* the NIC vouched for it: not checked again */
	assert_int_equal(parse_exact(len, RTE_MBUF_F_RX_IP_CKSUM_GOOD, &pk), 0);
}

static void test_parse_bad_udp_checksum(void **state)
{
	struct tf_spec s;
	struct dp_pkt pk;
	uint32_t len;
	size_t l4;

	(void)state;
	for (int v6 = 0; v6 <= 1; v6++) {
		v6 ? spec_v6(&s) : spec_v4(&s);
		len = tf_build(frame, &s, &l4);
		frame[l4 + 8 + 3] ^= 0x40;     /* one payload bit */
		assert_int_equal(parse_exact(len, 0, &pk), DP_DROP_bad_udp_checksum);
		assert_int_equal(parse_exact(len, RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN, &pk),
				 DP_DROP_bad_udp_checksum);
		assert_int_equal(parse_exact(len, RTE_MBUF_F_RX_L4_CKSUM_GOOD, &pk), 0);
	}
}

static void test_parse_odd_payload_checksum(void **state)
{
	struct tf_spec s;
	struct dp_pkt pk;

	(void)state;
	for (uint32_t n = 0; n < 6; n++) {
		spec_v6(&s);
		s.plen = n;
		assert_int_equal(parse_exact(tf_build(frame, &s, NULL), 0, &pk), 0);
		assert_int_equal(pk.payload_len, n);
		spec_v4(&s);
		s.plen = n;
		assert_int_equal(parse_exact(tf_build(frame, &s, NULL), 0, &pk), 0);
	}
}

/* Two mbuf segments by hand (no EAL): frame[0, split) and frame[split, len). */
static void chain_make(struct rte_mbuf *m, uint8_t *a, uint8_t *b, uint32_t len, uint32_t split)
{
	memset(m, 0, 2 * sizeof(*m));
	memcpy(a, frame, split);
	memcpy(b, frame + split, len - split);
	m[0].buf_addr = a;
	m[0].data_len = (uint16_t)split;
	m[0].pkt_len = len;
	m[0].nb_segs = 2;
	m[0].next = &m[1];
	m[1].buf_addr = b;
	m[1].data_len = (uint16_t)(len - split);
	m[1].pkt_len = len - split;
	m[1].nb_segs = 1;
}

/*
 * The UDP checksum over a chain split at every byte of the datagram, the
 * odd splits included: DPDK 22.11's rte_raw_cksum_mbuf truncated the sum
 * of the segment after an odd split, so a valid datagram with large bytes
 * (0xff, the partial sum carries) was dropped.  Found by fuzz_parse.
 */
static void test_parse_chain_checksum_any_split(void **state)
{
	static uint8_t big[600], a[1024], b[1024];
	static struct rte_mbuf m[2] __attribute__((aligned(RTE_CACHE_LINE_SIZE)));
	struct tf_spec s;
	struct dp_pkt pk;
	uint32_t len;
	size_t l4;

	(void)state;
	memset(big, 0xff, sizeof(big));
	for (int v6 = 0; v6 <= 1; v6++) {
		v6 ? spec_v6(&s) : spec_v4(&s);
		s.payload = big;
		s.plen = sizeof(big);
		len = tf_build(frame, &s, &l4);
		for (uint32_t split = (uint32_t)l4 + 8; split < len; split++) {
			chain_make(m, a, b, len, split);
			assert_int_equal(dp_parse_mbuf(m, &pk), 0);
			assert_int_equal(pk.payload_len, sizeof(big));
		}
		frame[len - 1] ^= 0x01;         /* in the second segment: now it is wrong */
		for (uint32_t split = (uint32_t)l4 + 8; split < len; split += 7) {
			chain_make(m, a, b, len, split);
			assert_int_equal(dp_parse_mbuf(m, &pk), DP_DROP_bad_udp_checksum);
		}
	}
}

static void test_parse_zero_udp_checksum(void **state)
{
	struct tf_spec s;
	struct dp_pkt pk;
	uint32_t len;
	size_t l4;

	(void)state;
	spec_v4(&s);
	len = tf_build(frame, &s, &l4);
	frame[l4 + 6] = frame[l4 + 7] = 0;     /* IPv4: "no checksum" */
	frame[l4 + 8] ^= 0xff;                  /* so nothing notices this */
	assert_int_equal(parse_exact(len, 0, &pk), 0);
	spec_v6(&s);
	len = tf_build(frame, &s, &l4);
	frame[l4 + 6] = frame[l4 + 7] = 0;     /* IPv6: forbidden */
	assert_int_equal(parse_exact(len, 0, &pk), DP_DROP_bad_udp_checksum);
}

/* Rewrite the UDP length and a valid checksum for it. */
static void set_udp_len(const struct tf_spec *s, size_t l4, uint16_t ulen)
{
	size_t alen = s->v6 ? 16 : 4;
	uint32_t sum;

	tf_put16(frame + l4 + 4, ulen);
	frame[l4 + 6] = frame[l4 + 7] = 0;
	sum = tf_sum(s->src, alen, 0);
	sum = tf_sum(s->dst, alen, sum);
	sum = tf_sum(frame + l4, ulen, sum + 17 + ulen);
	tf_put16(frame + l4 + 6, tf_fold(sum));
}

static void test_parse_udp_length(void **state)
{
	struct tf_spec s;
	struct dp_pkt pk;
	uint32_t len;
	size_t l4;

	(void)state;
	spec_v4(&s);
	len = tf_build(frame, &s, &l4);
	set_udp_len(&s, l4, (uint16_t)(8 + PLEN + 1));
	assert_int_equal(parse_exact(len, 0, &pk), DP_DROP_bad_udp_length);
	set_udp_len(&s, l4, 7);
	assert_int_equal(parse_exact(len, 0, &pk), DP_DROP_bad_udp_length);
	/* shorter than the IP payload: the UDP length rules, trailing bytes ignored */
	set_udp_len(&s, l4, 8 + 6);
	assert_int_equal(parse_exact(len, 0, &pk), 0);
	assert_int_equal(pk.payload_len, 6);
	spec_v6(&s);
	len = tf_build(frame, &s, &l4);
	set_udp_len(&s, l4, (uint16_t)(8 + PLEN + 2));
	assert_int_equal(parse_exact(len, 0, &pk), DP_DROP_bad_udp_length);
}

static void test_parse_ip_length_beyond_frame(void **state)
{
	struct tf_spec s;
	struct dp_pkt pk;
	uint32_t len;

	(void)state;
	spec_v4(&s);
	len = tf_build(frame, &s, NULL);
	tf_put16(frame + 14 + 2, (uint16_t)(len - 14 + 1));
	tf_ipv4_fix(frame + 14);
	assert_int_equal(parse_exact(len, 0, &pk), DP_DROP_bad_ip_length);
	spec_v6(&s);
	len = tf_build(frame, &s, NULL);
	tf_put16(frame + 14 + 4, (uint16_t)(len - 14 - 40 + 1));
	assert_int_equal(parse_exact(len, 0, &pk), DP_DROP_bad_ip_length);
}

static void test_parse_ethernet_padding(void **state)
{
	struct tf_spec s;
	struct dp_pkt pk;
	uint32_t len;

	(void)state;
	spec_v4(&s);
	s.plen = 4;
	s.pad = 60 - (14 + 20 + 8 + 4) + 4;    /* to the 60-byte minimum, plus an FCS */
	len = tf_build(frame, &s, NULL);
	assert_int_equal(len, 64);
	assert_int_equal(parse_exact(len, 0, &pk), 0);
	assert_int_equal(pk.ip_len, 32);
	assert_int_equal(pk.payload_len, 4);
	assert_memory_equal(frame + pk.payload_off, payload, 4);
}

static void test_parse_not_udp(void **state)
{
	static const uint8_t v6_not_udp[] = { 6, 58, 50, 51, 59, 200 };
	struct tf_spec s;
	struct dp_pkt pk;

	(void)state;
	spec_v4(&s);
	s.proto = 6;                            /* TCP */
	assert_int_equal(parse_exact(tf_build(frame, &s, NULL), 0, &pk), DP_DROP_not_udp);
	s.proto = 1;                            /* ICMP */
	assert_int_equal(parse_exact(tf_build(frame, &s, NULL), 0, &pk), DP_DROP_not_udp);
	s.frag = 0x2000;                        /* even as a fragment: not reassembled */
	assert_int_equal(parse_exact(tf_build(frame, &s, NULL), 0, &pk), DP_DROP_not_udp);
	for (size_t i = 0; i < sizeof(v6_not_udp); i++) {
		spec_v6(&s);
		s.proto = v6_not_udp[i];        /* TCP, ICMPv6, ESP, AH, none, unknown */
		assert_int_equal(parse_exact(tf_build(frame, &s, NULL), 0, &pk), DP_DROP_not_udp);
		s.n_ext = 1;                    /* also behind an extension header */
		assert_int_equal(parse_exact(tf_build(frame, &s, NULL), 0, &pk), DP_DROP_not_udp);
	}
}

static void test_parse_not_ip(void **state)
{
	struct tf_spec s;
	struct dp_pkt pk;
	uint32_t len;

	(void)state;
	memset(&s, 0, sizeof(s));
	len = (uint32_t)tf_eth(frame, &s, 0x0806);      /* ARP request */
	memcpy(frame + len, "\x00\x01\x08\x00\x06\x04\x00\x01", 8);
	memset(frame + len + 8, 0, 20);
	len += 28 + 18;
	assert_int_equal(parse_exact(len, 0, &pk), DP_DROP_not_ip);
	tf_put16(frame + 12, 0x0040);                    /* 802.3 length field */
	assert_int_equal(parse_exact(len, 0, &pk), DP_DROP_not_ip);
}

static void test_parse_drop_names(void **state)
{
	(void)state;
	assert_string_equal(dp_drop_name(DP_DROP_NONE), "none");
	assert_string_equal(dp_drop_name(DP_DROP_no_rule), "no_rule");
	assert_string_equal(dp_drop_name(DP_DROP_rx_nombuf), "rx_nombuf");
	assert_null(dp_drop_name(DP_DROP__COUNT));
	for (unsigned int r = 1; r < DP_DROP__COUNT; r++) {
		assert_non_null(dp_drop_help(r));
		assert_true(strlen(dp_drop_help(r)) > 10);
		for (unsigned int q = 1; q < r; q++)
			assert_string_not_equal(dp_drop_name(q), dp_drop_name(r));
	}
}

/*
 * docs/dataplane.md lists every reason, in dp_drop.def order, as rows
 * "| `name` | ..." between the markers <!-- drop-reasons --> and
 * <!-- /drop-reasons -->.
 */
static void test_parse_drop_docs_in_sync(void **state)
{
	const char *root = getenv("SLUICE_SOURCE_ROOT");
	char path[4096], line[1024];
	unsigned int next = 1;
	int inside = 0;
	FILE *f;

	(void)state;
	if (root == NULL)
		skip();
	snprintf(path, sizeof(path), "%s/docs/dataplane.md", root);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char name[64];

		if (strstr(line, "<!-- drop-reasons -->"))
			inside = 1;
		else if (strstr(line, "<!-- /drop-reasons -->"))
			inside = 0;
		if (!inside || sscanf(line, "| `%63[a-z0-9_]` |", name) != 1)
			continue;
		if (next >= DP_DROP__COUNT)
			fail_msg("docs list an extra reason %s", name);
		if (strcmp(name, dp_drop_name(next)) != 0)
			fail_msg("docs row %u is %s, dp_drop.def says %s", next, name, dp_drop_name(next));
		next++;
	}
	fclose(f);
	if (next != DP_DROP__COUNT)
		fail_msg("docs lack %s and later reasons", dp_drop_name(next));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ipv4_udp),
		cmocka_unit_test(test_parse_fast_path_same_as_full),
		cmocka_unit_test(test_parse_one_vlan),
		cmocka_unit_test(test_parse_qinq),
		cmocka_unit_test(test_parse_three_tags_malformed),
		cmocka_unit_test(test_parse_ipv4_options),
		cmocka_unit_test(test_parse_ipv6_extension_headers),
		cmocka_unit_test(test_parse_ipv6_fragment_header),
		cmocka_unit_test(test_parse_ipv4_fragments),
		cmocka_unit_test(test_parse_truncated_every_length),
		cmocka_unit_test(test_parse_headers_beyond_ip_length),
		cmocka_unit_test(test_parse_bad_ip_header),
		cmocka_unit_test(test_parse_bad_ipv4_checksum),
		cmocka_unit_test(test_parse_bad_udp_checksum),
		cmocka_unit_test(test_parse_odd_payload_checksum),
		cmocka_unit_test(test_parse_chain_checksum_any_split),
		cmocka_unit_test(test_parse_zero_udp_checksum),
		cmocka_unit_test(test_parse_udp_length),
		cmocka_unit_test(test_parse_ip_length_beyond_frame),
		cmocka_unit_test(test_parse_ethernet_padding),
		cmocka_unit_test(test_parse_not_udp),
		cmocka_unit_test(test_parse_lean_path_same_as_full),
		cmocka_unit_test(test_parse_ipv4_sum20_random),
		cmocka_unit_test(test_parse_not_ip),
		cmocka_unit_test(test_parse_drop_names),
		cmocka_unit_test(test_parse_drop_docs_in_sync),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
