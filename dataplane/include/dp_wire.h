/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_wire.h - the produce-mode datagram: a Kafka RecordBatch carried in UDP.
 *
 *   u32 magic 0x534C4331 ("SLC1") | u16 flags | u16 reserved (0) |
 *   i32 partition (-1: the partition of the receiving queue) |
 *   one RecordBatch v2, exactly as a Kafka producer builds it
 *
 * All fields big-endian.  Flag bit 0 asks for an acknowledgement once the
 * batch is durable (sent back through DPDK TX; idempotent producers).  The
 * batch must fill the rest of the datagram exactly.  See docs/wire-format.md.
 */
#ifndef DP_WIRE_H
#define DP_WIRE_H

#include <stdint.h>

#include "dp_drop.h"

#define DP_SLC_MAGIC          0x534C4331u
#define DP_SLC_FLAG_ACK       0x0001u
#define DP_SLC_FLAG_GAPS_OK   0x0002u  /* at most once: sequence gaps allowed */
#define DP_SLC_HDR_SIZE       12
#define DP_SLC_PARTITION_ANY  (-1)

struct dp_slc_hdr {
	uint32_t magic;
	uint16_t flags;
	uint16_t reserved;
	int32_t partition;
} __attribute__((packed));

_Static_assert(sizeof(struct dp_slc_hdr) == DP_SLC_HDR_SIZE, "SLC1 header is 12 bytes");

/*
 * Decode the SLC1 header of a produce-mode datagram of @len bytes at @d
 * (any alignment) into @h, host order.  The lcore calls it per datagram.
 * @return 0, DP_DROP_bad_length (shorter than the header) or
 *   DP_DROP_bad_magic.
 */
static inline int dp_slc_decode(const uint8_t *d, uint32_t len, struct dp_slc_hdr *h)
{
	if (len < DP_SLC_HDR_SIZE)
		return DP_DROP_bad_length;
	h->magic = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
	if (h->magic != DP_SLC_MAGIC)
		return DP_DROP_bad_magic;
	h->flags = (uint16_t)(d[4] << 8 | d[5]);
	h->reserved = (uint16_t)(d[6] << 8 | d[7]);
	h->partition = (int32_t)((uint32_t)d[8] << 24 | (uint32_t)d[9] << 16 |
				 (uint32_t)d[10] << 8 | d[11]);
	return 0;
}

/*
 * The acknowledgement ("SLA1"), sent back to the sender's address and port
 * once the batch is durable, or at once with an error (docs/wire-format.md).
 */
#define DP_SLA_MAGIC          0x534C4131u
#define DP_SLA_SIZE           40

struct dp_sla {
	uint32_t magic;
	int16_t error_code;             /* Kafka error code */
	uint16_t reserved;
	int32_t partition;
	int64_t base_offset;            /* -1 with an error */
	int64_t producer_id;            /* copied from the batch */
	int32_t base_sequence;
	uint32_t crc;                   /* the batch's CRC-32C */
	int32_t record_count;
} __attribute__((packed));

_Static_assert(sizeof(struct dp_sla) == DP_SLA_SIZE, "SLA1 ack is 40 bytes");

#endif /* DP_WIRE_H */
