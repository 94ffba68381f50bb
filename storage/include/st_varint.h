/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * st_varint.h - Kafka's variable-length integers (ByteUtils.java).
 *
 * Records inside a RecordBatch v2 and the tagged fields of flexible protocol
 * versions use unsigned LEB128: 7 bits per byte, low group first, top bit set
 * while more bytes follow.  Signed values are zigzag-mapped first so that
 * small negative numbers (-1 = null length) stay one byte.  An int takes at
 * most 5 bytes, a long at most 10.
 *
 * Encoders write without bounds checks: the caller reserves room with the
 * matching _size() function (or ST_VARINT_MAX / ST_VARLONG_MAX bytes); that
 * keeps the builder's per-record path branch-light.  Decoders are bounded and
 * return the bytes consumed (>= 1) or
 *   -ENODATA  the input ends inside the number (truncated),
 *   -EBADMSG  more bytes than the type allows, or bits beyond its width in
 *             the last byte (Java drops those bits; a canonical encoder never
 *             sets them, so here they mark garbage).
 */
#ifndef ST_VARINT_H
#define ST_VARINT_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#define ST_VARINT_MAX  5   /* bytes of a 32-bit varint */
#define ST_VARLONG_MAX 10  /* bytes of a 64-bit varint */

static inline uint32_t st_zigzag32(int32_t v)
{
	return ((uint32_t)v << 1) ^ (uint32_t)(v >> 31);
}

static inline int32_t st_unzigzag32(uint32_t u)
{
	return (int32_t)((u >> 1) ^ (0u - (u & 1)));
}

static inline uint64_t st_zigzag64(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t st_unzigzag64(uint64_t u)
{
	return (int64_t)((u >> 1) ^ (0ull - (u & 1)));
}

/* Encoded size of an unsigned value: one byte per started 7-bit group. */
static inline int st_uvarint_size(uint64_t u)
{
	return 1 + (63 - __builtin_clzll(u | 1)) / 7;
}

static inline int st_varint_size(int32_t v)
{
	return st_uvarint_size(st_zigzag32(v));
}

static inline int st_varlong_size(int64_t v)
{
	return st_uvarint_size(st_zigzag64(v));
}

/* Write @u as unsigned LEB128 at @dst; @return bytes written (1..10). */
static inline int st_uvarint_encode(uint8_t *dst, uint64_t u)
{
	int n = 0;

	while (u >= 0x80) {
		dst[n++] = (uint8_t)(u | 0x80);
		u >>= 7;
	}
	dst[n++] = (uint8_t)u;
	return n;
}

static inline int st_varint_encode(uint8_t *dst, int32_t v)
{
	return st_uvarint_encode(dst, st_zigzag32(v));
}

static inline int st_varlong_encode(uint8_t *dst, int64_t v)
{
	return st_uvarint_encode(dst, st_zigzag64(v));
}

/*
 * Shared decoder: at most @max_bytes bytes, and the last of them may carry
 * only @last_bits value bits (4 for 32-bit, 1 for 64-bit).
 */
static inline int st_uvarint_decode_n(const uint8_t *src, size_t len, unsigned int max_bytes,
				      unsigned int last_bits, uint64_t *out)
{
	size_t n = len < max_bytes ? len : max_bytes;
	uint64_t u = 0;

	if (n && src[0] < 0x80) {
		*out = src[0];
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t b = src[i];

		u |= (b & 0x7f) << (7 * i);
		if (b & 0x80)
			continue;
		if (i == max_bytes - 1 && (b >> last_bits) != 0)
			return -EBADMSG;
		*out = u;
		return (int)i + 1;
	}
	return len < max_bytes ? -ENODATA : -EBADMSG;
}

static inline int st_uvarint32_decode(const uint8_t *src, size_t len, uint32_t *out)
{
	uint64_t u;
	int n = st_uvarint_decode_n(src, len, ST_VARINT_MAX, 4, &u);

	if (n > 0)
		*out = (uint32_t)u;
	return n;
}

static inline int st_uvarint64_decode(const uint8_t *src, size_t len, uint64_t *out)
{
	return st_uvarint_decode_n(src, len, ST_VARLONG_MAX, 1, out);
}

static inline int st_varint_decode(const uint8_t *src, size_t len, int32_t *out)
{
	uint32_t u;
	int n = st_uvarint32_decode(src, len, &u);

	if (n > 0)
		*out = st_unzigzag32(u);
	return n;
}

static inline int st_varlong_decode(const uint8_t *src, size_t len, int64_t *out)
{
	uint64_t u;
	int n = st_uvarint64_decode(src, len, &u);

	if (n > 0)
		*out = st_unzigzag64(u);
	return n;
}

#endif /* ST_VARINT_H */
