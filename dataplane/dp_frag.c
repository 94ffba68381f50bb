/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_frag.c - per-lcore fragment reassembly over librte_ip_frag, with every
 * fragment accounted for (dp_frag.h).  Runs on the lcore for fragments only,
 * which are rare next to whole datagrams, so it lives out of line.
 */
/* rte_ip_frag_table_del_expired_entries is still experimental in 22.11 */
#define ALLOW_EXPERIMENTAL_API

#include <errno.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ip_frag.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "dp_frag.h"

#define DP_FRAG_BUCKET_ENTRIES 16       /* associativity; a power of two */
#define DP_FRAG_SLOTS_PER_ENTRY 4       /* table slots per allowed datagram: few collisions */
/* Most a single call can put on the death row: an evicted datagram plus a
 * rejected one plus the new fragment. */
#define DP_FRAG_DR_HEADROOM (2 * (RTE_LIBRTE_IP_FRAG_MAX_FRAG + 1))
#define DP_FRAG_DR_LIMIT (RTE_IP_FRAG_DEATH_ROW_MBUF_LEN - DP_FRAG_DR_HEADROOM)

struct dp_frag {
	struct rte_ip_frag_tbl *tbl;
	struct dp_frag_stats st;
	struct rte_ip_frag_death_row dr;
} __rte_cache_aligned;

struct dp_frag *dp_frag_create(uint32_t entries, uint32_t timeout_ms, uint64_t tsc_hz,
			       int socket_id)
{
	uint32_t buckets = (entries + DP_FRAG_SLOTS_PER_ENTRY - 1) / DP_FRAG_SLOTS_PER_ENTRY;
	uint64_t max_cycles;
	struct dp_frag *f;

	if (entries == 0 || timeout_ms == 0 || entries > (UINT32_MAX >> 5)) {
		rte_errno = EINVAL;
		return NULL;
	}
	if (tsc_hz == 0)
		tsc_hz = rte_get_tsc_hz();
	max_cycles = RTE_MAX(tsc_hz * timeout_ms / 1000, (uint64_t)1);
	f = rte_zmalloc_socket("dp_frag", sizeof(*f), RTE_CACHE_LINE_SIZE, socket_id);
	if (f == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	f->tbl = rte_ip_frag_table_create(buckets, DP_FRAG_BUCKET_ENTRIES, entries, max_cycles,
					  socket_id);
	if (f->tbl == NULL) {
		rte_free(f);
		rte_errno = ENOMEM;
		return NULL;
	}
	return f;
}

void dp_frag_free(struct dp_frag *f)
{
	if (f == NULL)
		return;
	dp_frag_flush(f);
	rte_ip_frag_table_destroy(f->tbl);
	rte_free(f);
}

void dp_frag_flush(struct dp_frag *f)
{
	if (f->dr.cnt)
		rte_ip_frag_free_death_row(&f->dr, 3);
}

/*
 * Count what the library put on the death row since @before, one per
 * fragment (a failed reassembly may leave fragments chained to each other,
 * so segments are counted), and tell why from whether @m is among them.
 * @m NULL: only expiry ran.
 */
static void dp_frag_account(struct dp_frag *f, uint32_t before, const struct rte_mbuf *m,
			    uint64_t *drops)
{
	enum dp_drop why = DP_DROP_fragment_timeout;
	uint64_t n = 0;
	int ours = 0;

	for (uint32_t i = before; i < f->dr.cnt; i++) {
		for (const struct rte_mbuf *s = f->dr.row[i]; s != NULL; s = s->next) {
			n++;
			ours |= s == m;
		}
	}
	if (n == 0)
		return;
	if (ours)
		why = n == 1 ? DP_DROP_fragment_table_full : DP_DROP_bad_fragment;
	drops[why] += n;
	f->st.dropped += n;
	f->st.held -= n;
}

/*
 * What librte_ip_frag 22.11 does not check itself: an empty fragment, one
 * ending past 64 KiB, a non-last one not a multiple of 8 bytes, and an IPv6
 * fragment header not right after the fixed header (it would rebuild a
 * corrupt datagram).
 */
static int dp_frag_sane(const uint8_t *ip, const struct dp_pkt *pk)
{
	uint32_t len = pk->ip_len - pk->l3_len;
	uint32_t fo, ofs, more;

	if (pk->family == AF_INET) {
		fo = dp_rd16(ip + 6);
		ofs = (fo & RTE_IPV4_HDR_OFFSET_MASK) * 8;
		more = fo & RTE_IPV4_HDR_MF_FLAG;
	} else {
		if (pk->frag_hdr_off != DP_IPV6_HLEN)
			return 0;
		fo = dp_rd16(ip + DP_IPV6_HLEN + 2);
		ofs = fo & 0xfff8;
		more = fo & 1;
	}
	if (len == 0 || (more && len % 8 != 0))
		return 0;
	return ofs + len + (pk->family == AF_INET ? pk->l3_len : 0) <= UINT16_MAX;
}

/* A whole datagram came out: fix what the library leaves for us. */
static void dp_frag_done(struct dp_frag *f, struct rte_mbuf *out, const struct dp_pkt *pk)
{
	struct rte_ipv4_hdr *h;

	f->st.reassembled++;
	f->st.merged += out->nb_segs;
	f->st.held -= out->nb_segs;
	/* the NIC's L4 verdict was about the first fragment only */
	out->ol_flags &= ~RTE_MBUF_F_RX_L4_CKSUM_MASK;
	if (pk->family == AF_INET) {
		/* the library zeroes the header checksum after rewriting the header */
		h = rte_pktmbuf_mtod_offset(out, struct rte_ipv4_hdr *, out->l2_len);
		h->hdr_checksum = 0;
		h->hdr_checksum = rte_ipv4_cksum(h);
	}
}

struct rte_mbuf *dp_frag_feed(struct dp_frag *f, struct rte_mbuf *m, const struct dp_pkt *pk,
			      uint64_t now, uint64_t drops[DP_DROP__COUNT])
{
	uint8_t *ip = rte_pktmbuf_mtod_offset(m, uint8_t *, pk->l2_len);
	struct rte_mbuf *out;
	uint32_t before;

	f->st.fragments++;
	f->st.held++;
	if (f->dr.cnt > DP_FRAG_DR_LIMIT)
		dp_frag_flush(f);
	if (!dp_frag_sane(ip, pk)) {
		f->dr.row[f->dr.cnt++] = m;
		drops[DP_DROP_bad_fragment]++;
		f->st.dropped++;
		f->st.held--;
		return NULL;
	}
	m->l2_len = pk->l2_len;
	m->l3_len = pk->l3_len;
	before = f->dr.cnt;
	if (pk->family == AF_INET)
		out = rte_ipv4_frag_reassemble_packet(f->tbl, &f->dr, m, now,
						      (struct rte_ipv4_hdr *)ip);
	else
		out = rte_ipv6_frag_reassemble_packet(f->tbl, &f->dr, m, now,
						      (struct rte_ipv6_hdr *)ip,
						      (struct rte_ipv6_fragment_ext *)(ip + DP_IPV6_HLEN));
	dp_frag_account(f, before, m, drops);
	if (out != NULL)
		dp_frag_done(f, out, pk);
	return out;
}

void dp_frag_expire(struct dp_frag *f, uint64_t now, uint64_t drops[DP_DROP__COUNT])
{
	uint32_t before;

	/* the library stops early when the death row cannot take a whole datagram */
	do {
		if (f->dr.cnt > DP_FRAG_DR_LIMIT)
			dp_frag_flush(f);
		before = f->dr.cnt;
		rte_ip_frag_table_del_expired_entries(f->tbl, &f->dr, now);
		dp_frag_account(f, before, NULL, drops);
	} while (f->dr.cnt > DP_FRAG_DR_LIMIT);
}

void dp_frag_stats_get(const struct dp_frag *f, struct dp_frag_stats *out)
{
	*out = f->st;
}
