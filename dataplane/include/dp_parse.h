/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_parse.h - parse and validate one received frame: Ethernet, up to two
 * VLAN tags, IPv4 (with options) or IPv6 (with extension headers), UDP.
 *
 * This is the first step of the lcore poll loop (docs/dataplane.md): the
 * result says where the UDP payload is and carries what the traffic rules
 * match on (dp_rules.h); a non-zero result is the enum dp_drop reason the
 * caller counts before freeing the mbuf.  IP fragments are not an error:
 * they come back with is_fragment set and no UDP fields, for dp_frag.h to
 * reassemble, after which the whole datagram is parsed again.
 *
 * Everything here is static inline and per packet: no allocation, no
 * syscalls, no logging, no counters (the caller's).  Header reads go through
 * byte loads, so no alignment is assumed, and no byte at or past @len is
 * ever read.  Checks run outside-in and each layer is bounds-checked before
 * it is read, so a frame cut at any byte gives one well-defined reason:
 *
 *   shorter than Ethernet header + tags        malformed_eth
 *   shorter than the IP header (incl. options) malformed_ip
 *   shorter than the IP total length           bad_ip_length
 *
 * A frame longer than the IP total length is Ethernet padding and fine; the
 * IP length is trusted then.  A UDP length shorter than the IP payload is
 * trusted too (the trailing bytes are ignored), a longer one is an error.
 * The UDP checksum is verified over the UDP length, as RFC 768 defines it.
 *
 * Checksums are verified in software unless the mbuf offload flags say the
 * NIC found them good (RTE_MBUF_F_RX_IP_CKSUM_GOOD, RTE_MBUF_F_RX_L4_CKSUM_GOOD);
 * a NIC's BAD or UNKNOWN is re-checked in software, because NICs cannot check
 * L4 on fragments and some report those as bad.
 *
 * Two entry points: dp_parse() over raw bytes (unit-testable without EAL)
 * and dp_parse_mbuf(), which also handles stripped VLAN tags and chained
 * mbufs (reassembled datagrams), as long as all headers are in the first
 * segment.
 */
#ifndef DP_PARSE_H
#define DP_PARSE_H

#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dp_drop.h"

#define DP_ETH_HLEN        14
#define DP_VLAN_HLEN       4
#define DP_VLAN_MAX        2        /* QinQ; a third tag is malformed_eth */
#define DP_IPV4_HLEN       20
#define DP_IPV6_HLEN       40
#define DP_IPV6_FRAG_HLEN  8
#define DP_UDP_HLEN        8
#define DP_IPV6_EXT_MAX    8        /* extension headers walked before giving up */

#define DP_ETYPE_IPV4      0x0800
#define DP_ETYPE_IPV6      0x86DD
#define DP_ETYPE_VLAN      0x8100   /* 802.1Q C-tag */
#define DP_ETYPE_QINQ      0x88A8   /* 802.1ad S-tag */
#define DP_ETYPE_QINQ_OLD  0x9100   /* pre-standard S-tag, still seen */

/*
 * One parsed frame.  Offsets are from the first byte of the frame.  For
 * IPv4 only the first 4 bytes of src/dst are written.
 */
struct dp_pkt {
	uint8_t src[16];                /* IP source address */
	uint8_t dst[16];                /* IP destination address (rules match it) */
	uint16_t vlan[DP_VLAN_MAX];     /* VLAN ids, outermost first */
	uint8_t n_vlan;                 /* 0, 1 or 2 */
	uint8_t family;                 /* AF_INET or AF_INET6 */
	uint8_t is_fragment;            /* an IP fragment: only L2/L3 fields are set */
	uint8_t reserved;
	uint16_t vid;                   /* innermost VLAN id, 0 = untagged; rules match it */
	uint16_t l2_len;                /* Ethernet header + VLAN tags */
	uint16_t l3_len;                /* IPv4 header with options; IPv6 header + extension
					 * headers (up to and including the fragment header) */
	uint16_t frag_hdr_off;          /* IPv6 fragments: fragment header offset from the IPv6 header */
	uint16_t src_port;              /* UDP ports, host order */
	uint16_t dst_port;
	uint16_t udp_cksum;             /* as in the header (network order bytes) */
	uint32_t ip_len;                /* IP total length (IPv6: 40 + payload length) */
	uint32_t payload_off;           /* UDP payload */
	uint32_t payload_len;
};

static inline uint16_t dp_rd16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline int dp_is_vlan_tpid(uint16_t t)
{
	return t == DP_ETYPE_VLAN || t == DP_ETYPE_QINQ || t == DP_ETYPE_QINQ_OLD;
}

/* Ethernet and VLAN tags; *etype gets the EtherType after the tags. */
static inline int dp_parse_eth(const uint8_t *p, uint32_t len, struct dp_pkt *pk, uint16_t *etype)
{
	uint32_t off = 12;              /* the EtherType/TPID field */
	uint16_t t;

	pk->n_vlan = 0;
	pk->vid = 0;
	if (unlikely(len < DP_ETH_HLEN))
		return DP_DROP_malformed_eth;
	t = dp_rd16(p + off);
	while (dp_is_vlan_tpid(t)) {
		/* TCI and the next EtherType must both be present */
		if (unlikely(pk->n_vlan == DP_VLAN_MAX || len < off + 2 + DP_VLAN_HLEN))
			return DP_DROP_malformed_eth;
		pk->vlan[pk->n_vlan++] = dp_rd16(p + off + 2) & 0x0fff;
		off += DP_VLAN_HLEN;
		t = dp_rd16(p + off);
	}
	if (pk->n_vlan)
		pk->vid = pk->vlan[pk->n_vlan - 1];
	pk->l2_len = (uint16_t)(off + 2);
	*etype = t;
	return 0;
}

/* Fold a 32-bit one's complement sum to 16 bits. */
static inline uint16_t dp_cksum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/*
 * 1 if @udp_sum (the raw sum over the UDP header and payload, UDP-length
 * bytes) plus the pseudo-header sums to all ones.  Words are summed in
 * memory order, so constants are added in network order.
 */
static inline int dp_udp_cksum_ok(const struct dp_pkt *pk, uint16_t udp_sum)
{
	size_t alen = pk->family == AF_INET ? 4 : 16;
	uint32_t sum = udp_sum;

	sum += rte_raw_cksum(pk->src, alen);
	sum += rte_raw_cksum(pk->dst, alen);
	sum += rte_cpu_to_be_16(IPPROTO_UDP);
	sum += rte_cpu_to_be_16((uint16_t)(pk->payload_len + DP_UDP_HLEN));
	return dp_cksum_fold(sum) == 0xffff;
}

/* An IP fragment: no L4 fields until it is reassembled. */
static inline int dp_pkt_fragment(struct dp_pkt *pk)
{
	pk->is_fragment = 1;
	pk->src_port = 0;
	pk->dst_port = 0;
	pk->payload_off = 0;
	pk->payload_len = 0;
	return 0;
}

/* The UDP header after the IP header (l2_len + l3_len into the frame). */
static inline int dp_parse_udp(const uint8_t *p, uint32_t len, struct dp_pkt *pk)
{
	uint32_t l4 = (uint32_t)pk->l2_len + pk->l3_len;
	uint32_t ip_payload = pk->ip_len - pk->l3_len;
	const uint8_t *u = p + l4;
	uint32_t ulen;

	if (unlikely(ip_payload < DP_UDP_HLEN || len < l4 + DP_UDP_HLEN))
		return DP_DROP_malformed_udp;
	ulen = dp_rd16(u + 4);
	if (unlikely(ulen < DP_UDP_HLEN || ulen > ip_payload))
		return DP_DROP_bad_udp_length;
	pk->src_port = dp_rd16(u);
	pk->dst_port = dp_rd16(u + 2);
	memcpy(&pk->udp_cksum, u + 6, 2);
	pk->payload_off = l4 + DP_UDP_HLEN;
	pk->payload_len = ulen - DP_UDP_HLEN;
	/* RFC 8200 8.1: IPv6 receivers discard a zero UDP checksum. */
	if (unlikely(pk->udp_cksum == 0 && pk->family == AF_INET6))
		return DP_DROP_bad_udp_checksum;
	return 0;
}

static inline int dp_parse_ipv4(const uint8_t *p, uint32_t len, uint32_t frame_len,
				uint64_t ol_flags, struct dp_pkt *pk)
{
	const uint8_t *ip = p + pk->l2_len;
	uint32_t avail = len - pk->l2_len;
	uint32_t ihl, tot;

	if (unlikely(avail < DP_IPV4_HLEN || (ip[0] >> 4) != 4))
		return DP_DROP_malformed_ip;
	ihl = (uint32_t)(ip[0] & 0x0f) * 4;
	if (unlikely(ihl < DP_IPV4_HLEN || avail < ihl))
		return DP_DROP_malformed_ip;
	if ((ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) != RTE_MBUF_F_RX_IP_CKSUM_GOOD &&
	    unlikely(rte_raw_cksum(ip, ihl) != 0xffff))
		return DP_DROP_bad_ip_checksum;
	tot = dp_rd16(ip + 2);
	if (unlikely(tot < ihl || tot > frame_len - pk->l2_len))
		return DP_DROP_bad_ip_length;
	pk->family = AF_INET;
	pk->l3_len = (uint16_t)ihl;
	pk->ip_len = tot;
	memcpy(pk->src, ip + 12, 4);
	memcpy(pk->dst, ip + 16, 4);
	if (unlikely(ip[9] != IPPROTO_UDP))
		return DP_DROP_not_udp;
	/* MF set or a non-zero offset (the low 14 bits; DF does not count) */
	if (unlikely(dp_rd16(ip + 6) & 0x3fff))
		return dp_pkt_fragment(pk);
	return dp_parse_udp(p, len, pk);
}

/* The IPv6 extension headers a UDP datagram may sit behind. */
static inline int dp_ipv6_is_ext(uint8_t nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_DSTOPTS;
}

/*
 * A real IPv6 fragment (non-zero offset or M set) at @off ends the walk:
 * what it carries is reassembled first.  Anything but UDP or an extension
 * header that may precede UDP can be dropped right away.
 */
static inline int dp_parse_ipv6_frag(const uint8_t *ip, uint32_t off, struct dp_pkt *pk)
{
	uint8_t nh = ip[off];

	if (unlikely(nh != IPPROTO_UDP && nh != IPPROTO_DSTOPTS && nh != IPPROTO_ROUTING))
		return DP_DROP_not_udp;
	pk->frag_hdr_off = (uint16_t)off;
	pk->l3_len = (uint16_t)(off + DP_IPV6_FRAG_HLEN);
	return dp_pkt_fragment(pk);
}

static inline int dp_parse_ipv6(const uint8_t *p, uint32_t len, uint32_t frame_len,
				struct dp_pkt *pk)
{
	const uint8_t *ip = p + pk->l2_len;
	uint32_t avail = len - pk->l2_len;
	uint32_t tot, end, off = DP_IPV6_HLEN;
	uint8_t nh;

	if (unlikely(avail < DP_IPV6_HLEN || (ip[0] >> 4) != 6))
		return DP_DROP_malformed_ip;
	tot = DP_IPV6_HLEN + (uint32_t)dp_rd16(ip + 4);
	if (unlikely(tot > frame_len - pk->l2_len))
		return DP_DROP_bad_ip_length;
	pk->family = AF_INET6;
	pk->ip_len = tot;
	memcpy(pk->src, ip + 8, 16);
	memcpy(pk->dst, ip + 24, 16);
	end = tot < avail ? tot : avail;        /* headers must be in the packet and contiguous */
	nh = ip[6];
	for (unsigned int n = 0; nh != IPPROTO_UDP; n++) {
		/* every extension header we walk is at least 8 bytes */
		if (unlikely(n == DP_IPV6_EXT_MAX || end < off + 8))
			return dp_ipv6_is_ext(nh) || nh == IPPROTO_FRAGMENT ?
			       DP_DROP_malformed_ip : DP_DROP_not_udp;
		if (nh == IPPROTO_FRAGMENT) {
			if (dp_rd16(ip + off + 2) & 0xfff9)     /* offset or M set */
				return dp_parse_ipv6_frag(ip, off, pk);
			/* an atomic fragment (RFC 6946) is a whole datagram: skip the header */
			nh = ip[off];
			off += DP_IPV6_FRAG_HLEN;
			continue;
		}
		if (unlikely(!dp_ipv6_is_ext(nh)))
			return DP_DROP_not_udp;         /* TCP, ICMPv6, ESP, AH, none, unknown */
		nh = ip[off];
		off += ((uint32_t)ip[off + 1] + 1) * 8;
		if (unlikely(off > end))
			return DP_DROP_malformed_ip;
	}
	pk->l3_len = (uint16_t)off;
	return dp_parse_udp(p, len, pk);
}

/*
 * The 20-byte IPv4 header without options, as the three words @a (bytes
 * 0-7), @b (8-15) and @w (16-19) loaded from it, summed and folded: 0xffff
 * when its checksum is right.  64-bit adds with end-around carry, then the
 * 32-to-16 fold as one rotate-and-add: fewer instructions than splitting
 * every word into halves.
 */
static inline uint16_t dp_ipv4_sum20_w(uint64_t a, uint64_t b, uint32_t w)
{
	uint64_t s;
	uint32_t t;

	s = a + b;
	s += s < b;                     /* end-around carry */
	s += w;
	s += s < w;
	t = (uint32_t)s + (uint32_t)(s >> 32);
	t += t < (uint32_t)s;
	return (uint16_t)((t + (t << 16 | t >> 16)) >> 16);
}

/* The 20-byte IPv4 header without options summed and folded: 0xffff when its checksum is right. */
static inline uint16_t dp_ipv4_sum20(const uint8_t *ip)
{
	uint64_t a, b;
	uint32_t w;

	/* Straight into registers: a copy to the stack and back stalls store forwarding. */
	memcpy(&a, ip, 8), memcpy(&b, ip + 8, 8), memcpy(&w, ip + 16, 4);
	return dp_ipv4_sum20_w(a, b, w);
}

/*
 * The common frame -- untagged IPv4 without options, not a fragment, UDP,
 * every length consistent -- parsed with fixed offsets.  @return 1 with @pk
 * filled as the full parse would, or 0: anything else, including every
 * fault, goes through the full parse, which names the drop reason.
 */
static inline __attribute__((always_inline)) int dp_parse_fast4(const uint8_t *p, uint32_t len,
								 uint32_t frame_len,
				 uint64_t ol_flags, struct dp_pkt *pk)
{
	const uint8_t *ip = p + DP_ETH_HLEN, *u = ip + DP_IPV4_HLEN;
	uint32_t tot, ulen;

	if (len < DP_ETH_HLEN + DP_IPV4_HLEN + DP_UDP_HLEN || p[12] != 0x08 || p[13] != 0x00 ||
	    ip[0] != 0x45 || ip[9] != IPPROTO_UDP || (dp_rd16(ip + 6) & 0x3fff))
		return 0;
	if ((ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) != RTE_MBUF_F_RX_IP_CKSUM_GOOD &&
	    dp_ipv4_sum20(ip) != 0xffff)
		return 0;
	tot = dp_rd16(ip + 2);
	ulen = dp_rd16(u + 4);
	if (tot < DP_IPV4_HLEN + DP_UDP_HLEN || tot > frame_len - DP_ETH_HLEN ||
	    ulen < DP_UDP_HLEN || ulen > tot - DP_IPV4_HLEN)
		return 0;
	pk->n_vlan = 0;
	pk->vid = 0;
	pk->family = AF_INET;
	pk->is_fragment = 0;
	pk->l2_len = DP_ETH_HLEN;
	pk->l3_len = DP_IPV4_HLEN;
	pk->ip_len = tot;
	memcpy(pk->src, ip + 12, 4);
	memcpy(pk->dst, ip + 16, 4);
	pk->src_port = dp_rd16(u);
	pk->dst_port = dp_rd16(u + 2);
	memcpy(&pk->udp_cksum, u + 6, 2);
	pk->payload_off = DP_ETH_HLEN + DP_IPV4_HLEN + DP_UDP_HLEN;
	pk->payload_len = ulen - DP_UDP_HLEN;
	return 1;
}

/*
 * The lcore's tap fast path (dp_lcore_rx) reads a common frame through
 * dp_parse_lean4 instead of filling a struct dp_pkt: what a plain tap record
 * needs is the payload (right after the UDP header) and the rule memo's key.
 */
struct dp_lean4 {
	uint64_t key;                   /* dp_lean4_key: destination address, VLAN id, port */
	uint32_t ulen;                  /* UDP length, >= 8 */
	uint16_t l2_len;                /* 14, or 18 with one 802.1Q tag */
	uint16_t vid;                   /* that tag's VLAN id, else 0 */
};

/*
 * The memo key of an IPv4 datagram: the 8 bytes from the destination
 * address (address, source port, destination port, as on the wire) with the
 * VLAN id over the source port.  VLAN ids are 12 bits, so no key is all ones.
 */
static inline uint64_t dp_lean4_key(uint64_t dst_sport_dport, uint16_t vid)
{
	uint16_t k[4];

	memcpy(k, &dst_sport_dport, 8);
	k[2] = vid;
	memcpy(&dst_sport_dport, k, 8);
	return dst_sport_dport;
}

/* The UDP checksum of a datagram over IPv4 without options at @ip, @ulen bytes, contiguous. */
static __attribute__((noinline, unused)) int dp_udp4_cksum_ok(const uint8_t *ip, uint32_t ulen)
{
	uint32_t sum = rte_raw_cksum(ip + 12, 8);       /* source and destination address */

	sum += rte_raw_cksum(ip + DP_IPV4_HLEN, ulen);
	sum += rte_cpu_to_be_16(IPPROTO_UDP);
	sum += rte_cpu_to_be_16((uint16_t)ulen);
	return dp_cksum_fold(sum) == 0xffff;
}

/*
 * The common frame, fully validated -- untagged or one 802.1Q tag, IPv4
 * without options, not a fragment, UDP, lengths consistent and inside the
 * @len contiguous bytes, the header checksum and a non-zero UDP checksum
 * right (unless @ol_flags vouch for them) -- and nothing stored but @o.
 * Accepts a subset of what dp_parse accepts with the same result (see
 * dp_pkt_from_lean4); @return 1, or 0 for anything else, every fault
 * included: the full parse names the drop reason.
 */
static inline __attribute__((always_inline)) int dp_parse_lean4(const uint8_t *p, uint32_t len,
								  uint64_t ol_flags,
								  struct dp_lean4 *o)
{
	const uint64_t hdr_mask = rte_cpu_to_be_64(0xff00000000003fffull);
	const uint64_t hdr_want = rte_cpu_to_be_64(0x4500000000000000ull);
	const uint64_t proto_mask = rte_cpu_to_be_64(0x00ff000000000000ull);
	const uint64_t proto_want = rte_cpu_to_be_64((uint64_t)IPPROTO_UDP << 48);
	const uint8_t *ip = p + DP_ETH_HLEN;
	uint32_t l2 = DP_ETH_HLEN, w2, tot, ulen;
	uint64_t w0, w1, k, vkey = 0;
	uint16_t et, vid = 0, ucks;

	if (unlikely(len < DP_ETH_HLEN + DP_IPV4_HLEN + DP_UDP_HLEN))
		return 0;
	memcpy(&et, p + 12, 2);
	if (unlikely(et != RTE_BE16(DP_ETYPE_IPV4))) {
		if (et != RTE_BE16(DP_ETYPE_VLAN) ||
		    len < DP_ETH_HLEN + DP_VLAN_HLEN + DP_IPV4_HLEN + DP_UDP_HLEN)
			return 0;
		memcpy(&et, p + 16, 2);
		if (et != RTE_BE16(DP_ETYPE_IPV4))
			return 0;
		vid = dp_rd16(p + 14) & 0x0fff;
		vkey = dp_lean4_key(0, vid);
		l2 += DP_VLAN_HLEN;
		ip += DP_VLAN_HLEN;
	}
	memcpy(&w0, ip, 8), memcpy(&w1, ip + 8, 8), memcpy(&w2, ip + 16, 4);
	/* version 4, IHL 5, MF and fragment offset clear (DF may be set); UDP */
	if ((w0 & hdr_mask) != hdr_want || (w1 & proto_mask) != proto_want)
		return 0;
	if ((ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) != RTE_MBUF_F_RX_IP_CKSUM_GOOD &&
	    dp_ipv4_sum20_w(w0, w1, w2) != 0xffff)
		return 0;
	tot = dp_rd16(ip + 2);
	ulen = dp_rd16(ip + DP_IPV4_HLEN + 4);
	if (tot < DP_IPV4_HLEN + DP_UDP_HLEN || tot > len - l2 ||
	    ulen < DP_UDP_HLEN || ulen > tot - DP_IPV4_HLEN)
		return 0;
	memcpy(&ucks, ip + DP_IPV4_HLEN + 6, 2);
	if (ucks != 0 &&
	    (ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) != RTE_MBUF_F_RX_L4_CKSUM_GOOD &&
	    !dp_udp4_cksum_ok(ip, ulen))
		return 0;
	memcpy(&k, ip + 16, 8);
	o->key = (dp_lean4_key(k, 0)) | vkey;
	o->ulen = ulen;
	o->l2_len = (uint16_t)l2;
	o->vid = vid;
	return 1;
}

/* The struct dp_pkt that dp_parse gives for the frame @p that dp_parse_lean4 took as @o. */
static inline void dp_pkt_from_lean4(const uint8_t *p, const struct dp_lean4 *o,
				     struct dp_pkt *pk)
{
	const uint8_t *ip = p + o->l2_len, *u = ip + DP_IPV4_HLEN;

	pk->n_vlan = o->l2_len != DP_ETH_HLEN;
	pk->vlan[0] = o->vid;
	pk->vid = o->vid;
	pk->family = AF_INET;
	pk->is_fragment = 0;
	pk->l2_len = o->l2_len;
	pk->l3_len = DP_IPV4_HLEN;
	pk->ip_len = dp_rd16(ip + 2);
	memcpy(pk->src, ip + 12, 4);
	memcpy(pk->dst, ip + 16, 4);
	pk->src_port = dp_rd16(u);
	pk->dst_port = dp_rd16(u + 2);
	memcpy(&pk->udp_cksum, u + 6, 2);
	pk->payload_off = (uint32_t)o->l2_len + DP_IPV4_HLEN + DP_UDP_HLEN;
	pk->payload_len = o->ulen - DP_UDP_HLEN;
}

/*
 * Parse headers with @len contiguous bytes at @p out of a @frame_len-byte
 * frame; no UDP checksum check.  The building block of both entry points.
 */
static inline int dp_parse_hdrs(const uint8_t *p, uint32_t len, uint32_t frame_len,
				uint64_t ol_flags, struct dp_pkt *pk)
{
	uint16_t etype;
	int r;

	r = dp_parse_eth(p, len, pk, &etype);
	if (unlikely(r))
		return r;
	pk->is_fragment = 0;
	if (likely(etype == DP_ETYPE_IPV4))
		return dp_parse_ipv4(p, len, frame_len, ol_flags, pk);
	if (etype == DP_ETYPE_IPV6)
		return dp_parse_ipv6(p, len, frame_len, pk);
	return DP_DROP_not_ip;
}

/* 1 when the UDP checksum of a parsed, non-fragment datagram needs a software check. */
static inline int dp_udp_cksum_needed(const struct dp_pkt *pk, uint64_t ol_flags)
{
	return pk->udp_cksum != 0 &&
	       (ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) != RTE_MBUF_F_RX_L4_CKSUM_GOOD;
}

/**
 * Parse and validate a frame held in @len contiguous bytes.
 *
 * @param p        the frame, from the destination MAC address
 * @param len      its length (may include Ethernet padding and the FCS)
 * @param ol_flags mbuf offload flags (0 when there are none: verify all)
 * @param pk       filled in as far as parsing got
 * @return 0 (accepted, or a fragment: pk->is_fragment) or an enum dp_drop reason.
 */
static inline int dp_parse(const uint8_t *p, uint32_t len, uint64_t ol_flags, struct dp_pkt *pk)
{
	uint32_t l4;
	int r;

	if (likely(dp_parse_fast4(p, len, len, ol_flags, pk)))
		r = 0;
	else
		r = dp_parse_hdrs(p, len, len, ol_flags, pk);
	if (r || pk->is_fragment || !dp_udp_cksum_needed(pk, ol_flags))
		return r;
	l4 = pk->payload_off - DP_UDP_HLEN;
	if (unlikely(!dp_udp_cksum_ok(pk, rte_raw_cksum(p + l4, pk->payload_len + DP_UDP_HLEN))))
		return DP_DROP_bad_udp_checksum;
	return 0;
}

/*
 * Tags the NIC stripped are outside any left in the frame: with QinQ
 * stripping vlan_tci_outer is the outer one and vlan_tci the inner.
 */
static inline int dp_parse_vlan_offload(const struct rte_mbuf *m, struct dp_pkt *pk)
{
	uint16_t tags[DP_VLAN_MAX * 2];
	unsigned int n = 0;

	if (m->ol_flags & RTE_MBUF_F_RX_QINQ_STRIPPED)
		tags[n++] = m->vlan_tci_outer & 0x0fff;
	tags[n++] = m->vlan_tci & 0x0fff;
	if (unlikely(n + pk->n_vlan > DP_VLAN_MAX))
		return DP_DROP_malformed_eth;
	for (unsigned int i = 0; i < pk->n_vlan; i++)
		tags[n + i] = pk->vlan[i];
	pk->n_vlan = (uint8_t)(n + pk->n_vlan);
	memcpy(pk->vlan, tags, pk->n_vlan * sizeof(tags[0]));
	pk->vid = pk->vlan[pk->n_vlan - 1];
	return 0;
}

/*
 * The raw sum (folded, not complemented) of @len bytes from @off of the
 * chain @m, as rte_raw_cksum_mbuf() means to compute it.  DPDK 22.11's
 * truncates the 32-bit partial sum of a segment that starts an odd number
 * of bytes into the range to 16 bits before byte-swapping it, instead of
 * folding it, so a datagram whose chain is split at an odd byte was summed
 * wrong (found by tests/fuzz/fuzz_parse).  @return 0, or -1 when the range
 * is not inside @m.
 */
static inline int dp_raw_cksum_mbuf(const struct rte_mbuf *m, uint32_t off, uint32_t len,
				    uint16_t *cksum)
{
	const struct rte_mbuf *seg = m;
	uint32_t sum = 0, done = 0;

	if ((uint64_t)off + len > m->pkt_len)
		return -1;
	while (seg->next && off >= seg->data_len) {
		off -= seg->data_len;
		seg = seg->next;
	}
	while (done < len) {
		uint32_t n, part;

		if (seg == NULL || off > seg->data_len)
			return -1;
		n = seg->data_len - off;
		if (n > len - done)
			n = len - done;
		part = rte_raw_cksum(rte_pktmbuf_mtod_offset(seg, const uint8_t *, off), n);
		if (done & 1)           /* this segment's bytes sit in the other half of each word */
			part = rte_bswap16((uint16_t)part);
		sum += part;
		done += n;
		off = 0;
		seg = seg->next;
	}
	*cksum = dp_cksum_fold(sum);
	return 0;
}

/* The UDP checksum of a parsed datagram in @m, over a chain too. */
static inline int dp_parse_mbuf_l4(const struct rte_mbuf *m, const struct dp_pkt *pk)
{
	uint16_t sum;

	if (unlikely(dp_raw_cksum_mbuf(m, pk->payload_off - DP_UDP_HLEN,
				       pk->payload_len + DP_UDP_HLEN, &sum) != 0 ||
		     !dp_udp_cksum_ok(pk, sum)))
		return DP_DROP_bad_udp_checksum;
	return 0;
}

/* Everything but the fast path: out of line, so the per-packet loop stays small. */
static __attribute__((noinline, unused)) int dp_parse_mbuf_full(const struct rte_mbuf *m,
								  struct dp_pkt *pk)
{
	int r;

	r = dp_parse_hdrs(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, m->pkt_len,
			  m->ol_flags, pk);
	if (unlikely(r))
		return r;
	if (unlikely(m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED)) {
		r = dp_parse_vlan_offload(m, pk);
		if (r)
			return r;
	}
	if (pk->is_fragment || !dp_udp_cksum_needed(pk, m->ol_flags))
		return 0;
	return dp_parse_mbuf_l4(m, pk);
}

/**
 * Parse and validate the frame in @m (dp_parse() for an mbuf).  Headers
 * must be in the first segment; the payload and the UDP checksum may span
 * a chain.  VLAN tags stripped by the NIC are merged into pk->vlan.
 *
 * @return 0 or an enum dp_drop reason, as dp_parse().
 */
static inline __attribute__((always_inline)) int dp_parse_mbuf(const struct rte_mbuf *m,
								      struct dp_pkt *pk)
{
	if (likely(!(m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) &&
		   dp_parse_fast4(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, m->pkt_len,
				  m->ol_flags, pk)))
		return dp_udp_cksum_needed(pk, m->ol_flags) ? dp_parse_mbuf_l4(m, pk) : 0;
	return dp_parse_mbuf_full(m, pk);
}

#endif /* DP_PARSE_H */
