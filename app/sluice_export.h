/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice_export.h - the pieces of `sluice export` that stand on their own:
 * decoding a tap-mode record (its receive time and addresses), rebuilding
 * the frame it came from, writing pcapng, and parsing the --from/--to
 * times.  The command itself (sources: a data directory or a broker;
 * sinks: pcap, pcapng, raw, json) is sluice_export.c.
 *
 * A tap record (docs/dataplane.md) keeps the UDP payload as its value and,
 * as headers, `rx.ns` (8 bytes big-endian, ns since the epoch) and with
 * `headers: [addresses]` `src.addr`/`dst.addr` (4 or 16 bytes, network
 * order) and `src.port`/`dst.port` (2 bytes big-endian).  MAC addresses and
 * VLAN tags are not stored, so a rebuilt frame is untagged with fixed
 * locally administered MACs (a multicast group gets its multicast MAC).
 *
 * Int functions return >= 0 or -errno; nothing here prints.
 */
#ifndef SLUICE_EXPORT_H
#define SLUICE_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "st_batch.h"

/* Header names written by the dataplane's tap mode (dp_lcore.h). */
#define SLUICE_HDR_RX_NS    "rx.ns"
#define SLUICE_HDR_SRC_ADDR "src.addr"
#define SLUICE_HDR_SRC_PORT "src.port"
#define SLUICE_HDR_DST_ADDR "dst.addr"
#define SLUICE_HDR_DST_PORT "dst.port"

/* Ethernet (14) + IPv6 (40) + UDP (8): the most a rebuilt frame adds. */
#define SLUICE_FRAME_OVERHEAD 62
/* The largest frame: an IPv6 UDP datagram of 65,535 bytes. */
#define SLUICE_FRAME_MAX      (14 + 40 + 65535)

/* Addresses of a datagram; family 4 or 6. */
struct sluice_addrs {
	int family;
	uint8_t src[16], dst[16];       /* network order, 4 bytes used for IPv4 */
	uint16_t src_port, dst_port;    /* host order */
};

/* One record as export sees it, whichever source it came from. */
struct sluice_xrec {
	int32_t partition;
	int64_t offset;
	int64_t timestamp;              /* record timestamp, ms */
	bool has_rx_ns;
	int64_t rx_ns;                  /* rx.ns header */
	bool has_addrs;                 /* all four address headers, one family */
	struct sluice_addrs addrs;
	const void *key;                /* NULL: null key */
	int32_t key_len;
	const void *value;              /* NULL: null value */
	int32_t value_len;
};

/** Placeholder addresses for records without them: 192.0.2.1:0 -> 192.0.2.2:0 (RFC 5737). */
void sluice_addrs_placeholder(struct sluice_addrs *a);

/**
 * Fill @x from a decoded storage record: offset, timestamp, key, value,
 * and the tap headers when present and well formed (an `rx.ns` that is not
 * 8 bytes is ignored; addresses count only when all four are there, the
 * ports 2 bytes and both addresses of one family).  @x points into @rec.
 */
void sluice_xrec_from_record(struct sluice_xrec *x, int32_t partition, const struct st_record *rec);

/**
 * Take one header (name @key of @key_len bytes, value @val of @val_len
 * bytes, @val_len < 0 for null) into @x; sluice_xrec_finish() afterwards
 * decides whether the addresses are complete.  For sources that walk
 * headers themselves (librdkafka).  *@seen collects which were present.
 */
void sluice_xrec_header(struct sluice_xrec *x, unsigned int *seen, const char *key, size_t key_len,
			const void *val, int32_t val_len);
void sluice_xrec_finish(struct sluice_xrec *x, unsigned int seen);

/** The time export filters and stamps with: rx.ns, else the record timestamp in ns. */
static inline int64_t sluice_xrec_time_ns(const struct sluice_xrec *x)
{
	return x->has_rx_ns ? x->rx_ns : x->timestamp * 1000000;
}

/**
 * Rebuild the Ethernet/IPv4 or IPv6/UDP frame of a datagram carrying
 * @payload: IPv4 with DF set, TTL 64, id 0 and its header checksum; IPv6
 * with hop limit 64; the UDP checksum over the pseudo-header (0 becomes
 * 0xffff, as RFC 768 says).  Source MAC 02:00:00:00:00:02, destination
 * 02:00:00:00:00:01 (as sluice-trafgen writes them), or the multicast MAC
 * of a multicast destination.
 * @return the frame length, -EMSGSIZE when the payload does not fit one IP
 *   datagram or @cap, -EINVAL for an unknown family.
 */
int sluice_frame_build(uint8_t *frame, size_t cap, const struct sluice_addrs *a,
		       const void *payload, size_t len);

/** The Internet checksum of @len bytes, folded, not complemented, seeded with @sum. */
uint32_t sluice_csum_add(uint32_t sum, const void *p, size_t len);

/*
 * pcapng (draft-ietf-opsawg-pcapng): one section, one Ethernet interface
 * with nanosecond resolution (if_tsresol 9), one Enhanced Packet Block per
 * frame, in host byte order (readers go by the byte-order magic).  libpcap
 * 1.10 reads pcapng but has no writer for it.
 */

/** Section Header Block (shb_userappl "sluice export") and Interface Description Block. */
int sluice_pcapng_begin(FILE *f, uint32_t snaplen);
/** An Enhanced Packet Block; @comment (may be NULL) becomes its opt_comment. */
int sluice_pcapng_packet(FILE *f, uint64_t ts_ns, const void *frame, uint32_t len,
			 const char *comment);

/**
 * Parse a --from/--to time into ns since the epoch: RFC 3339
 * ("2026-12-07T10:00:00Z", "2026-12-07T10:00:00.123456789+01:00"; 't', 'z'
 * and a space for 'T' accepted), or an integer with an optional unit
 * suffix s, ms, us, ns; a bare integer is ms below 10^15 and ns from there
 * (10^15 ms is the year 33658, 10^15 ns is January 1970).
 * @return 0 or -EINVAL.
 */
int sluice_time_parse(const char *s, int64_t *ns);

/** Format @ns as RFC 3339 UTC with 9 fractional digits ("...T10:00:00.000000001Z"). */
void sluice_time_format(int64_t ns, char *buf, size_t size);

#endif /* SLUICE_EXPORT_H */
