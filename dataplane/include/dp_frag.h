/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_frag.h - IPv4/IPv6 fragment reassembly for one lcore, a thin wrapper
 * over DPDK's librte_ip_frag.
 *
 * Each lcore owns one table (no sharing, no locks), bounded by
 * dataplane.frag.table.entries datagrams in reassembly, each waiting at most
 * dataplane.frag.timeout.ms.  The poll loop hands every fragment dp_parse()
 * reported to dp_frag_feed(); when it returns a datagram, the loop parses
 * that again (dp_parse_mbuf) and carries on as for any datagram.
 *
 * Accounting, so that received packets = records + drops always holds: every
 * fragment fed is either still held, part of a returned datagram, or dropped
 * and counted in the caller's drops[] array under one of
 * DP_DROP_fragment_timeout, DP_DROP_fragment_table_full or
 * DP_DROP_bad_fragment (one count per fragment).  The reason is inferred from
 * which mbufs librte_ip_frag put on the death row: not ours -> an expired
 * datagram evicted; only ours -> no room; ours and others -> the set was
 * inconsistent (overlap, duplicate, too many).
 *
 * Limits of librte_ip_frag (DPDK 22.11): at most RTE_LIBRTE_IP_FRAG_MAX_FRAG
 * (8) fragments per datagram, so ~11 KiB at a 1500-byte MTU; IPv6 only with
 * the fragment header right after the fixed header (anything else is
 * bad_fragment).  Freed mbufs are batched on a death row: call
 * dp_frag_flush() once per burst.
 */
#ifndef DP_FRAG_H
#define DP_FRAG_H

#include <stdint.h>

#include "dp_drop.h"
#include "dp_parse.h"

struct rte_mbuf;
struct dp_frag;

struct dp_frag_stats {
	uint64_t fragments;     /* fed to dp_frag_feed */
	uint64_t reassembled;   /* datagrams returned */
	uint64_t merged;        /* fragments inside the returned datagrams */
	uint64_t dropped;       /* fragments counted into drops[] */
	uint64_t held;          /* fragments in the table now */
};

/**
 * Create a reassembly table.
 *
 * @param entries    datagrams in reassembly at once (frag.table.entries)
 * @param timeout_ms how long one may wait for its missing fragments
 * @param tsc_hz     units of the timestamps given later per second;
 *                   0 = rte_get_tsc_hz() (pass rte_rdtsc() values then)
 * @param socket_id  NUMA socket of the polling lcore, or SOCKET_ID_ANY
 * @return the table, or NULL with rte_errno set (EINVAL, ENOMEM).
 */
struct dp_frag *dp_frag_create(uint32_t entries, uint32_t timeout_ms, uint64_t tsc_hz,
			       int socket_id);

/** Free the table and every mbuf it holds (NULL is fine). */
void dp_frag_free(struct dp_frag *f);

/**
 * Add one fragment.  @m is consumed in every case; @pk is dp_parse's result
 * for it (is_fragment set).  Sets m->l2_len/l3_len.
 *
 * @param now    arrival time in the units of tsc_hz (rte_rdtsc())
 * @param drops  the caller's counters, indexed by enum dp_drop
 * @return the reassembled datagram (possibly a chain of mbufs; its IPv4
 *   header checksum is valid again, L4 checksum flags cleared), or NULL.
 */
struct rte_mbuf *dp_frag_feed(struct dp_frag *f, struct rte_mbuf *m, const struct dp_pkt *pk,
			      uint64_t now, uint64_t drops[DP_DROP__COUNT]);

/**
 * Drop every datagram whose first fragment came more than the timeout
 * before @now, counting DP_DROP_fragment_timeout per fragment.  Without
 * this, an expired datagram lingers until its table slot is wanted; call it
 * every few milliseconds.
 */
void dp_frag_expire(struct dp_frag *f, uint64_t now, uint64_t drops[DP_DROP__COUNT]);

/** Free the mbufs dropped so far (the death row); once per burst. */
void dp_frag_flush(struct dp_frag *f);

/** The table's counters (a copy). */
void dp_frag_stats_get(const struct dp_frag *f, struct dp_frag_stats *out);

#endif /* DP_FRAG_H */
