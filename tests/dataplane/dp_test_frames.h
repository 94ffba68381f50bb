/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_test_frames.h - craft Ethernet/VLAN/IPv4/IPv6/UDP frames byte by byte
 * for the parser and reassembly tests.  Checksums are computed here with a
 * plain byte-wise one's complement sum, independent of the code under test.
 */
#ifndef DP_TEST_FRAMES_H
#define DP_TEST_FRAMES_H

#include <stdint.h>
#include <string.h>

#define TF_MAX_TAGS 3
#define TF_MAX_EXT  4

struct tf_spec {
	int ntags;
	uint16_t tpid[TF_MAX_TAGS];
	uint16_t vid[TF_MAX_TAGS];
	int v6;
	int optlen;                     /* IPv4 options, a multiple of 4 */
	int n_ext;                      /* IPv6 extension headers before the payload */
	uint8_t ext[TF_MAX_EXT];        /* their types (0, 43, 60, 44) */
	uint8_t ext_len[TF_MAX_EXT];    /* Hdr Ext Len (8-byte units beyond the first 8) */
	uint16_t frag;                  /* IPv4: flags|offset field; IPv6: the fragment header's */
	uint8_t proto;                  /* 0 = UDP */
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	const uint8_t *payload;
	uint32_t plen;
	uint32_t pad;                   /* bytes after the IP packet (Ethernet padding, FCS) */
};

static inline void tf_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint32_t tf_sum(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i < n; i++)
		sum += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	return sum;
}

static inline uint16_t tf_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Recompute the IPv4 header checksum of the header at @ip. */
static inline void tf_ipv4_fix(uint8_t *ip)
{
	size_t ihl = (size_t)(ip[0] & 0xf) * 4;

	ip[10] = ip[11] = 0;
	tf_put16(ip + 10, tf_fold(tf_sum(ip, ihl, 0)));
}

static inline size_t tf_eth(uint8_t *f, const struct tf_spec *s, uint16_t etype)
{
	size_t off = 12;

	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	for (int i = 0; i < s->ntags; i++) {
		tf_put16(f + off, s->tpid[i]);
		tf_put16(f + off + 2, s->vid[i]);
		off += 4;
	}
	tf_put16(f + off, etype);
	return off + 2;
}

/* IPv6 extension headers at @p; returns their length, *first = first type. */
static inline size_t tf_ext(uint8_t *p, const struct tf_spec *s, uint8_t last)
{
	size_t off = 0, hl;

	for (int i = 0; i < s->n_ext; i++) {
		uint8_t nh = i + 1 < s->n_ext ? s->ext[i + 1] : last;

		hl = s->ext[i] == 44 ? 8 : ((size_t)s->ext_len[i] + 1) * 8;
		memset(p + off, 0, hl);
		p[off] = nh;
		if (s->ext[i] == 44) {
			tf_put16(p + off + 2, s->frag);
			memcpy(p + off + 4, "\x12\x34\x56\x78", 4);
		} else {
			p[off + 1] = s->ext_len[i];
			if (s->ext[i] != 43) {          /* PadN over the option area */
				p[off + 2] = 1;
				p[off + 3] = (uint8_t)(hl - 4);
			}
		}
		off += hl;
	}
	return off;
}

/*
 * Build the frame of @s into @f; returns its length.  *l4 gets the offset
 * of the UDP (or other L4) header.
 */
static inline uint32_t tf_build(uint8_t *f, const struct tf_spec *s, size_t *l4_out)
{
	uint8_t proto = s->proto ? s->proto : 17;
	size_t alen = s->v6 ? 16 : 4, l2, l3, l4, ulen = 8 + s->plen;
	uint8_t *ip, *u;
	uint32_t sum;

	l2 = tf_eth(f, s, s->v6 ? 0x86DD : 0x0800);
	ip = f + l2;
	if (s->v6) {
		memset(ip, 0, 40);
		ip[0] = 0x60;
		ip[6] = s->n_ext ? s->ext[0] : proto;
		ip[7] = 64;
		memcpy(ip + 8, s->src, 16);
		memcpy(ip + 24, s->dst, 16);
		l3 = 40 + tf_ext(ip + 40, s, proto);
		tf_put16(ip + 4, (uint16_t)(l3 - 40 + ulen));
	} else {
		l3 = 20 + (size_t)s->optlen;
		memset(ip, 0, l3);
		ip[0] = (uint8_t)(0x40 | (l3 / 4));
		tf_put16(ip + 2, (uint16_t)(l3 + ulen));
		tf_put16(ip + 4, 0x4242);
		tf_put16(ip + 6, s->frag);
		ip[8] = 64;
		ip[9] = proto;
		memcpy(ip + 12, s->src, 4);
		memcpy(ip + 16, s->dst, 4);
		if (s->optlen)
			memset(ip + 20, 1, (size_t)s->optlen);  /* NOP options */
		tf_ipv4_fix(ip);
	}
	l4 = l2 + l3;
	u = f + l4;
	tf_put16(u, s->sport);
	tf_put16(u + 2, s->dport);
	tf_put16(u + 4, (uint16_t)ulen);
	u[6] = u[7] = 0;
	if (s->plen)
		memcpy(u + 8, s->payload, s->plen);
	sum = tf_sum(s->src, alen, 0);
	sum = tf_sum(s->dst, alen, sum);
	sum += proto + (uint32_t)ulen;
	sum = tf_sum(u, ulen, sum);
	tf_put16(u + 6, tf_fold(sum) ? tf_fold(sum) : 0xffff);
	memset(f + l4 + ulen, 0xee, s->pad);
	if (l4_out)
		*l4_out = l4;
	return (uint32_t)(l4 + ulen + s->pad);
}

#endif /* DP_TEST_FRAMES_H */
