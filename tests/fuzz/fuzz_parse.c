/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_parse - whole Ethernet frames through the packet parser (dp_parse.h),
 * every entry point: dp_parse over raw bytes, the fixed-offset fast path
 * (dp_parse_fast4), the lcore's lean tap path (dp_parse_lean4) and
 * dp_parse_mbuf over an mbuf made by hand (no EAL), single-segment or
 * chained, with the NIC offload flags the first byte picks.
 *
 * Input: byte 0 = offload selector (below), byte 1 = where a chain splits
 * the frame, then the frame.  Every buffer is a heap copy of exactly its
 * size, so ASan catches a read one byte past the frame or a segment.
 *
 * What must hold besides "no crash": every result is a drop reason; an
 * accepted datagram's payload lies in the frame; the fast and lean paths
 * accept only what the full parse accepts, with the same fields; the mbuf
 * entry point agrees with dp_parse, chained or not, and merges stripped
 * VLAN tags outside the ones in the frame.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#include "dp_parse.h"
#include "fuzz_util.h"

#define SEL_IP_GOOD   0x01
#define SEL_L4_GOOD   0x02
#define SEL_IP_BAD    0x04
#define SEL_VLAN      0x08     /* RX_VLAN_STRIPPED, vlan_tci 0x123 */
#define SEL_QINQ      0x10     /* and RX_QINQ_STRIPPED, vlan_tci_outer 0x456 */
#define SEL_CHAIN     0x20     /* two segments, split at byte 1 */

static void check_same(const struct dp_pkt *a, const struct dp_pkt *b)
{
	size_t alen = a->family == AF_INET ? 4 : 16;

	FZ_CHECK(a->n_vlan == b->n_vlan && a->vid == b->vid);
	FZ_CHECK(memcmp(a->vlan, b->vlan, a->n_vlan * sizeof(a->vlan[0])) == 0);
	FZ_CHECK(a->family == b->family && a->is_fragment == b->is_fragment);
	FZ_CHECK(a->l2_len == b->l2_len && a->l3_len == b->l3_len && a->ip_len == b->ip_len);
	FZ_CHECK(memcmp(a->src, b->src, alen) == 0 && memcmp(a->dst, b->dst, alen) == 0);
	if (a->is_fragment)
		return;
	FZ_CHECK(a->src_port == b->src_port && a->dst_port == b->dst_port);
	FZ_CHECK(a->udp_cksum == b->udp_cksum);
	FZ_CHECK(a->payload_off == b->payload_off && a->payload_len == b->payload_len);
}

/* What an accepted frame (or fragment) must look like. */
static void check_accepted(const struct dp_pkt *pk, uint32_t len)
{
	FZ_CHECK(pk->family == AF_INET || pk->family == AF_INET6);
	FZ_CHECK(pk->n_vlan <= DP_VLAN_MAX);
	FZ_CHECK(pk->l2_len == DP_ETH_HLEN + DP_VLAN_HLEN * pk->n_vlan);
	FZ_CHECK(pk->ip_len <= len - pk->l2_len);
	FZ_CHECK((uint32_t)pk->l2_len + pk->l3_len <= len);
	if (pk->is_fragment)
		return;
	FZ_CHECK(pk->payload_off == (uint32_t)pk->l2_len + pk->l3_len + DP_UDP_HLEN);
	FZ_CHECK(pk->payload_off + pk->payload_len <= pk->l2_len + pk->ip_len);
	FZ_CHECK(pk->payload_off + pk->payload_len <= len);
}

/* A segment over an exact-size copy of @n bytes of @p. */
static struct rte_mbuf *seg_new(const uint8_t *p, uint32_t n)
{
	struct rte_mbuf *m = aligned_alloc(RTE_CACHE_LINE_SIZE, sizeof(*m));

	FZ_CHECK(m != NULL);
	memset(m, 0, sizeof(*m));
	m->buf_addr = fz_dup(p, n);
	m->buf_len = (uint16_t)n;
	m->data_off = 0;
	m->data_len = (uint16_t)n;
	m->pkt_len = n;
	m->nb_segs = 1;
	return m;
}

static void mbuf_free(struct rte_mbuf *m)
{
	while (m) {
		struct rte_mbuf *next = m->next;

		free(m->buf_addr);
		free(m);
		m = next;
	}
}

/* The frame as an mbuf: one segment, or two split at @split. */
static struct rte_mbuf *mbuf_make(const uint8_t *f, uint32_t len, uint32_t split, uint64_t ol)
{
	struct rte_mbuf *m;

	if (split > 0 && split < len) {
		m = seg_new(f, split);
		m->next = seg_new(f + split, len - split);
		m->nb_segs = 2;
		m->pkt_len = len;
	} else {
		m = seg_new(f, len);
	}
	m->ol_flags = ol;
	m->vlan_tci = 0x123;
	m->vlan_tci_outer = 0x456;
	return m;
}

static uint64_t sel_flags(uint8_t sel)
{
	uint64_t ol = 0;

	if (sel & SEL_IP_GOOD)
		ol |= RTE_MBUF_F_RX_IP_CKSUM_GOOD;
	else if (sel & SEL_IP_BAD)
		ol |= RTE_MBUF_F_RX_IP_CKSUM_BAD;
	if (sel & SEL_L4_GOOD)
		ol |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	return ol;
}

/* The fast paths take a subset of what the full parse takes, with its result. */
static void check_fast_paths(const uint8_t *f, uint32_t len, uint64_t ol, int r,
			     const struct dp_pkt *pk)
{
	struct dp_pkt a, b;
	struct dp_lean4 o;

	if (dp_parse_fast4(f, len, len, ol, &a)) {
		FZ_CHECK(dp_parse_hdrs(f, len, len, ol, &b) == 0);
		check_same(&a, &b);
	}
	if (dp_parse_lean4(f, len, ol, &o)) {
		FZ_CHECK(r == 0 && !pk->is_fragment);
		FZ_CHECK(o.l2_len == pk->l2_len && o.ulen == pk->payload_len + DP_UDP_HLEN);
		memset(&a, 0, sizeof(a));
		dp_pkt_from_lean4(f, &o, &a);
		check_same(&a, pk);
	}
}

/* dp_parse_mbuf with stripped tags: the frame's own tags follow the stripped ones. */
static void check_stripped(const uint8_t *f, uint32_t len, uint8_t sel, uint64_t ol, int r,
			   const struct dp_pkt *pk)
{
	uint64_t vol = ol | RTE_MBUF_F_RX_VLAN_STRIPPED | (sel & SEL_QINQ ? RTE_MBUF_F_RX_QINQ_STRIPPED : 0);
	unsigned int ns = sel & SEL_QINQ ? 2 : 1;
	struct rte_mbuf *m = mbuf_make(f, len, 0, vol);
	struct dp_pkt v;
	int rv = dp_parse_mbuf(m, &v);

	if (r != 0 && !(r == DP_DROP_bad_udp_checksum && pk->n_vlan + ns > DP_VLAN_MAX)) {
		FZ_CHECK(rv == r);
	} else if (pk->n_vlan + ns > DP_VLAN_MAX) {
		FZ_CHECK(rv == DP_DROP_malformed_eth);
	} else {
		FZ_CHECK(rv == 0 && v.n_vlan == pk->n_vlan + ns);
		FZ_CHECK(v.vlan[0] == (ns == 2 ? 0x456 : 0x123));
		FZ_CHECK(ns == 1 || v.vlan[1] == 0x123);
		FZ_CHECK(pk->n_vlan == 0 || v.vlan[ns] == pk->vlan[0]);
		FZ_CHECK(v.vid == v.vlan[v.n_vlan - 1]);
		FZ_CHECK(v.payload_off == pk->payload_off && v.payload_len == pk->payload_len);
	}
	mbuf_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dp_pkt pk, pm;
	struct rte_mbuf *m;
	uint8_t sel, *f;
	uint32_t len, split;
	uint64_t ol;
	int r, rm;

	if (size < 2 || size > 2 + 65535)
		return -1;
	sel = data[0];
	split = data[1];
	len = (uint32_t)(size - 2);
	f = fz_dup(data + 2, len);
	ol = sel_flags(sel);

	/* Raw bytes, no offload help: the reference. */
	r = dp_parse(f, len, 0, &pk);
	FZ_CHECK(r >= 0 && r < DP_DROP__COUNT);
	if (r == 0)
		check_accepted(&pk, len);
	check_fast_paths(f, len, 0, r, &pk);

	/* With the offload flags the selector picks. */
	r = dp_parse(f, len, ol, &pk);
	FZ_CHECK(r >= 0 && r < DP_DROP__COUNT);
	if (r == 0)
		check_accepted(&pk, len);
	check_fast_paths(f, len, ol, r, &pk);

	/* The mbuf entry point: one segment, then maybe a chain. */
	m = mbuf_make(f, len, 0, ol);
	rm = dp_parse_mbuf(m, &pm);
	mbuf_free(m);
	FZ_CHECK(rm == r);
	if (r == 0)
		check_same(&pm, &pk);
	if (sel & SEL_CHAIN && split > 0 && split < len) {
		m = mbuf_make(f, len, split, ol);
		rm = dp_parse_mbuf(m, &pm);
		mbuf_free(m);
		FZ_CHECK(rm >= 0 && rm < DP_DROP__COUNT);
		/* Headers within the first segment: the same verdict as contiguous. */
		if (r == 0 && (pk.is_fragment ? pk.l2_len + pk.l3_len : pk.payload_off) <= split)
			FZ_CHECK(rm == 0);
		if (rm == 0) {
			FZ_CHECK(r == 0);
			check_same(&pm, &pk);
		}
	}
	if (sel & SEL_VLAN)
		check_stripped(f, len, sel, ol, r, &pk);
	free(f);
	return 0;
}
