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

#define DP_SLC_MAGIC          0x534C4331u
#define DP_SLC_FLAG_ACK       0x0001u
#define DP_SLC_HDR_SIZE       12
#define DP_SLC_PARTITION_ANY  (-1)

struct dp_slc_hdr {
	uint32_t magic;
	uint16_t flags;
	uint16_t reserved;
	int32_t partition;
} __attribute__((packed));

_Static_assert(sizeof(struct dp_slc_hdr) == DP_SLC_HDR_SIZE, "SLC1 header is 12 bytes");

#endif /* DP_WIRE_H */
