/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * st_batch.h - Kafka RecordBatch v2 (magic 2), the one format on the wire and
 * on disk.
 *
 * A batch is a 61-byte header followed by its records (compressed as one
 * block when the codec bits of the attributes are set).  The broker never
 * re-encodes a batch: it validates it in place, then rewrites baseOffset and
 * partitionLeaderEpoch, which both lie before the CRC'd range [21, end), so
 * the CRC stays valid.  Compressed batches are stored exactly as they came.
 *
 * Tap mode builds batches record by record straight into a ring slot with
 * struct st_batch_builder; the control plane and the dataplane validate
 * produced batches with st_batch_validate().  The storage writer, recovery
 * and the reader walk batches with st_batch_header_read().
 *
 * All functions here are pure (no allocation, no I/O) and safe on any thread,
 * including DPDK lcores.
 */
#ifndef ST_BATCH_H
#define ST_BATCH_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "st_varint.h"

/* Byte offsets of the v2 header fields (big-endian). */
#define ST_BATCH_OFF_BASE_OFFSET      0   /* i64 */
#define ST_BATCH_OFF_LENGTH           8   /* i32: bytes after this field */
#define ST_BATCH_OFF_LEADER_EPOCH     12  /* i32 */
#define ST_BATCH_OFF_MAGIC            16  /* i8 = 2 */
#define ST_BATCH_OFF_CRC              17  /* u32 CRC-32C of [21, end) */
#define ST_BATCH_OFF_ATTRIBUTES       21  /* i16 */
#define ST_BATCH_OFF_LAST_OFFSET_DELTA 23 /* i32 */
#define ST_BATCH_OFF_BASE_TIMESTAMP   27  /* i64 */
#define ST_BATCH_OFF_MAX_TIMESTAMP    35  /* i64 */
#define ST_BATCH_OFF_PRODUCER_ID      43  /* i64 */
#define ST_BATCH_OFF_PRODUCER_EPOCH   51  /* i16 */
#define ST_BATCH_OFF_BASE_SEQUENCE    53  /* i32 */
#define ST_BATCH_OFF_RECORDS_COUNT    57  /* i32 */
#define ST_BATCH_HEADER_SIZE          61
#define ST_BATCH_LOG_OVERHEAD         12  /* baseOffset + batchLength */
#define ST_BATCH_MAGIC                2

/* attributes */
#define ST_BATCH_ATTR_CODEC_MASK      0x07
#define ST_BATCH_ATTR_LOG_APPEND_TIME 0x08
#define ST_BATCH_ATTR_TRANSACTIONAL   0x10
#define ST_BATCH_ATTR_CONTROL         0x20

enum st_codec { ST_CODEC_NONE = 0, ST_CODEC_GZIP, ST_CODEC_SNAPPY, ST_CODEC_LZ4, ST_CODEC_ZSTD };

/*
 * Why a batch was refused.  Not errno values and not Kafka error codes;
 * st_batch_err_kafka() maps each to the Kafka error a broker answers with.
 */
#define ST_BATCH_ERRORS(X) \
	X(OK,            0,  "ok")                                   \
	X(TRUNCATED,     87, "shorter than its header or batchLength") \
	X(BAD_LENGTH,    87, "batchLength inconsistent with the buffer") \
	X(BAD_MAGIC,     43, "magic is not 2")                       \
	X(BAD_CRC,       2,  "CRC-32C mismatch")                     \
	X(BAD_COUNT,     87, "recordsCount != lastOffsetDelta + 1 or <= 0") \
	X(BAD_OFFSET,    87, "baseOffset is not 0 in a produced batch") \
	X(CONTROL,       87, "control batch from a producer")        \
	X(BAD_SEQUENCE,  87, "producerId set but baseSequence < 0")  \
	X(TOO_LARGE,     10, "larger than message.max.bytes")        \
	X(BAD_RECORDS,   87, "records do not decode (uncompressed batch)")

enum st_batch_err {
#define ST_BATCH_ERR_ENUM(name, kafka, text) ST_BATCH_ERR_##name,
	ST_BATCH_ERRORS(ST_BATCH_ERR_ENUM)
#undef ST_BATCH_ERR_ENUM
	ST_BATCH_ERR_MAX
};

/** Text of an st_batch_err, for logs and dump-log. */
const char *st_batch_err_str(enum st_batch_err err);
/** The Kafka error code a broker answers a produce with for @err (0 for OK). */
int16_t st_batch_err_kafka(enum st_batch_err err);

/* The header fields, decoded to host order. */
struct st_batch_info {
	int64_t base_offset;
	int32_t length;            /* batchLength: total size is length + 12 */
	int32_t leader_epoch;
	int8_t magic;
	uint32_t crc;
	int16_t attributes;
	int32_t last_offset_delta;
	int64_t base_timestamp;
	int64_t max_timestamp;
	int64_t producer_id;
	int16_t producer_epoch;
	int32_t base_sequence;
	int32_t records_count;
};

static inline uint32_t st_batch_size(const struct st_batch_info *bi)
{
	return (uint32_t)bi->length + ST_BATCH_LOG_OVERHEAD;
}

static inline int64_t st_batch_last_offset(const struct st_batch_info *bi)
{
	return bi->base_offset + bi->last_offset_delta;
}

/**
 * Decode the header of the batch at @buf without checking the CRC.
 *
 * @return ST_BATCH_ERR_OK; TRUNCATED when @len < 61 or < the batch size it
 *   claims (bi is still filled when the 61 bytes are there, so callers can
 *   tell a torn tail from garbage); BAD_LENGTH when batchLength < 49;
 *   BAD_MAGIC.  Kafka's order: from 17 bytes on (batchLength and magic
 *   present) BAD_LENGTH, then BAD_MAGIC, win over TRUNCATED, so TRUNCATED
 *   always means "more bytes could complete this".  @bi is zeroed when
 *   @len < 61.
 */
enum st_batch_err st_batch_header_read(const void *buf, size_t len, struct st_batch_info *bi);

/* Flags for st_batch_validate(). */
#define ST_BATCH_V_PRODUCE   (1u << 0) /* from a producer: baseOffset 0, no control batch */
#define ST_BATCH_V_EXACT     (1u << 1) /* the batch must fill @len exactly */
#define ST_BATCH_V_RECORDS   (1u << 2) /* also walk the records of an uncompressed batch */

/**
 * Validate one batch in place: header, batchLength vs @len, magic, CRC-32C,
 * counts, and with @flags the producer rules; @max_bytes = message.max.bytes
 * (0 = no limit).  Fills @bi.
 *
 * Order (Kafka's): header_read errors, BAD_LENGTH (V_EXACT and @len !=
 * size), BAD_OFFSET (PRODUCE), TOO_LARGE, BAD_CRC, BAD_COUNT, CONTROL and
 * BAD_SEQUENCE (PRODUCE), BAD_RECORDS (V_RECORDS, uncompressed batches only).
 * Without V_EXACT, bytes after the batch are ignored.
 * Counts: with PRODUCE recordsCount == lastOffsetDelta + 1 > 0; without it
 * only 0 <= recordsCount <= lastOffsetDelta + 1, since compaction leaves
 * batches with fewer records (even none) than their offset range.
 * V_RECORDS: every record's varints and lengths (headers included) are in
 * bounds, exactly recordsCount records fill the batch; null is -1 only.
 */
enum st_batch_err st_batch_validate(const void *buf, size_t len, uint32_t flags,
				    uint32_t max_bytes, struct st_batch_info *bi);

/**
 * Assign offsets: rewrite baseOffset and partitionLeaderEpoch.  Both precede
 * the CRC range, so the batch stays valid.
 */
void st_batch_assign(void *buf, int64_t base_offset, int32_t leader_epoch);

/** Recompute and store the CRC of a complete batch (builders, tests). */
void st_batch_crc_update(void *buf);

/* CRC-32C (Castagnoli), as Kafka: crc = st_crc32c(0, buf, len). */
uint32_t st_crc32c(uint32_t crc, const void *buf, size_t len);

/* A record header (key + nullable value). */
struct st_record_header {
	const char *key;
	uint32_t key_len;
	const void *value;         /* NULL = null value */
	int32_t value_len;
};

/* A decoded record (views into the batch). */
struct st_record {
	int64_t offset;            /* base_offset + offsetDelta */
	int64_t timestamp;         /* base_timestamp + timestampDelta */
	const void *key;           /* NULL = null key */
	int32_t key_len;           /* -1 when null, as on the wire */
	const void *value;         /* NULL = null value */
	int32_t value_len;         /* -1 when null */
	uint32_t n_headers;
	const uint8_t *headers;    /* encoded headers; walk with st_record_header_next() */
	const uint8_t *headers_end;
};

/* Iterate the records of an uncompressed batch (already validated). */
struct st_record_iter {
	const uint8_t *p, *end;
	struct st_batch_info bi;
	int32_t remaining;
	int err;                   /* sticky: 0, -EBADMSG at the first bad record (p
				    * stays on it), -ENOTSUP for a compressed batch */
};

void st_record_iter_init(struct st_record_iter *it, const void *batch, const struct st_batch_info *bi);
/** @return true and fills @rec, or false at the end or on error (it->err). */
bool st_record_iter_next(struct st_record_iter *it, struct st_record *rec);
/** Walk headers: *@pos starts at rec->headers. @return true while one was read. */
bool st_record_header_next(const struct st_record *rec, const uint8_t **pos, struct st_record_header *hdr);

/*
 * Building a batch record by record, straight into caller memory (a ring
 * slot): begin, add records, finish.  finish writes the header fields,
 * lengths and the CRC.  Nothing is allocated; add fails with -ENOSPC when the
 * record does not fit and leaves the batch as it was.
 */
struct st_batch_builder {
	uint8_t *buf;
	uint32_t cap;
	uint32_t len;              /* bytes used, header included */
	int32_t count;
	int64_t base_timestamp;
	int64_t max_timestamp;
	int64_t producer_id;
	int16_t producer_epoch;
	int32_t base_sequence;
	int16_t attributes;
};

/** Upper bound of the encoded size of one record, for reserving space. */
uint32_t st_record_size_max(uint32_t key_len, uint32_t value_len,
			    const struct st_record_header *hdrs, uint32_t n_hdrs);

/**
 * Start a batch at @buf; sets producerId/epoch/baseSequence to -1 and
 * attributes to 0 (set the fields in @b before finish to change them).
 * @return 0 or -ENOSPC (cap < header size).
 */
int st_batch_builder_begin(struct st_batch_builder *b, void *buf, uint32_t cap, int64_t base_timestamp);

/**
 * Append one record; key NULL = null key, value NULL = null value (their
 * lengths are then ignored).  The record's timestamp is stored as a delta to
 * the base timestamp given to begin (negative is fine).
 * @return 0, -ENOSPC (nothing written), or -EINVAL for a negative length with
 *   non-NULL data or a header with a NULL key and key_len != 0.
 */
int st_batch_builder_add(struct st_batch_builder *b, int64_t timestamp,
			 const void *key, int32_t key_len,
			 const void *value, int32_t value_len,
			 const struct st_record_header *hdrs, uint32_t n_hdrs);

/**
 * Encode the headers section of a record -- the count, then each header's
 * key and value -- at @dst (room: st_record_size_max's share for them).
 * st_batch_builder_add_enc takes the result, so callers that send the same
 * header names with every record encode them once and patch the values.
 * @return bytes written, or -EINVAL (as st_batch_builder_add).
 */
int st_record_headers_encode(uint8_t *dst, const struct st_record_header *hdrs, uint32_t n_hdrs);

/* Copy @n bytes (any n) with a few unaligned moves when small: record fields are. */
static inline void st_copy_small(uint8_t *dst, const uint8_t *src, uint32_t n)
{
	uint64_t a, b;

	if (n > 32) {
		memcpy(dst, src, n);
	} else if (n >= 16) {
		uint64_t c, d;

		memcpy(&a, src, 8), memcpy(&b, src + 8, 8);
		memcpy(&c, src + n - 16, 8), memcpy(&d, src + n - 8, 8);
		memcpy(dst, &a, 8), memcpy(dst + 8, &b, 8);
		memcpy(dst + n - 16, &c, 8), memcpy(dst + n - 8, &d, 8);
	} else if (n >= 8) {
		memcpy(&a, src, 8), memcpy(&b, src + n - 8, 8);
		memcpy(dst, &a, 8), memcpy(dst + n - 8, &b, 8);
	} else if (n >= 4) {
		uint32_t x, y;

		memcpy(&x, src, 4), memcpy(&y, src + n - 4, 4);
		memcpy(dst, &x, 4), memcpy(dst + n - 4, &y, 4);
	} else {
		for (uint32_t i = 0; i < n; i++)
			dst[i] = src[i];
	}
}

/* st_uvarint_size with the one- and two-byte cases first: most record fields. */
static inline int st_uvarint_size_fast(uint64_t u)
{
	if (u < 0x80)
		return 1;
	return u < 0x4000 ? 2 : st_uvarint_size(u);
}

/* An unsigned varint, with the one- and two-byte cases (most record fields) inline. */
static inline uint8_t *st_uvarint_put(uint8_t *p, uint64_t u)
{
	if (u < 0x80) {
		*p = (uint8_t)u;
		return p + 1;
	}
	if (u < 0x4000) {
		p[0] = (uint8_t)(u | 0x80);
		p[1] = (uint8_t)(u >> 7);
		return p + 2;
	}
	return p + st_uvarint_encode(p, u);
}

/**
 * st_batch_builder_add for the per-packet path: the same bytes, with the
 * headers section already encoded (@hdrs, @hdrs_len: st_record_headers_encode)
 * and a non-null @value.  Inline: sizes from the varint lengths, one space
 * check, then straight writes.
 * @return 0 or -ENOSPC (nothing written).
 */
static inline int st_batch_builder_add_enc(struct st_batch_builder *b, int64_t timestamp,
					   const void *key, uint32_t key_len,
					   const void *value, uint32_t value_len,
					   const void *hdrs, uint32_t hdrs_len)
{
	uint64_t tz = st_zigzag64((int64_t)((uint64_t)timestamp - (uint64_t)b->base_timestamp));
	uint32_t oz = (uint32_t)b->count << 1;   /* zigzag of a non-negative offsetDelta */
	uint32_t kz = key ? key_len << 1 : 1;    /* 1: zigzag(-1), the null key */
	uint64_t body;
	uint8_t *p;

	body = 1 + (uint64_t)st_uvarint_size_fast(tz) + st_uvarint_size_fast(oz) +
	       st_uvarint_size_fast(kz) + (key ? key_len : 0) +
	       st_uvarint_size_fast((uint64_t)value_len << 1) + value_len + hdrs_len;
	if (__builtin_expect(body + st_uvarint_size_fast(body << 1) > b->cap - b->len ||
			     b->count == INT32_MAX || key_len > INT32_MAX ||
			     value_len > INT32_MAX, 0))
		return -ENOSPC;
	p = st_uvarint_put(b->buf + b->len, body << 1);
	*p++ = 0;                                /* attributes */
	p = st_uvarint_put(p, tz);
	p = st_uvarint_put(p, oz);
	p = st_uvarint_put(p, kz);
	if (key) {
		st_copy_small(p, key, key_len);
		p += key_len;
	}
	p = st_uvarint_put(p, (uint64_t)value_len << 1);
	st_copy_small(p, value, value_len);
	p += value_len;
	st_copy_small(p, hdrs, hdrs_len);
	b->len = (uint32_t)(p + hdrs_len - b->buf);
	b->count++;
	if (timestamp > b->max_timestamp)
		b->max_timestamp = timestamp;
	return 0;
}

/* One record value for st_batch_builder_add_vals: bytes in place, never NULL. */
struct st_val {
	const uint8_t *p;
	uint32_t len;
};

/* @x < 0x4000 as an unsigned varint in the low bytes of the result, *@n of them. */
static inline uint32_t st_uvarint14(uint32_t x, uint32_t *n)
{
	uint32_t big = x >= 0x80;

	*n = 1 + big;
	return big ? (x & 0x7f) | 0x80 | (x >> 7) << 8 : x;
}

/*
 * Encode records with a null key, timestampDelta @tz (< 0x4000) and
 * @hdrs_len in 16..32 -- the tap lcore's records -- into @buf from *@len_io,
 * offsetDelta from @count.  Locals only: the stores through @buf cannot
 * alias the builder or the headers, which stay in registers across records.
 * Each record's varints (every one of them one or two bytes: values under
 * 4 KiB, offsetDelta under 8192) are assembled in two registers and stored
 * as two 8-byte words that the value and headers then overwrite in part.
 * @return the records encoded (stops at one that does not fit or is
 *   larger), their bytes added to *@len_io.
 */
static inline uint32_t st_batch_builder_enc_vals_any(uint8_t *buf, uint32_t cap, uint32_t *len_io,
						 uint32_t count, uint64_t tz,
						 const struct st_val *v, uint32_t n,
						 const uint8_t *hdrs, uint32_t hdrs_len)
{
	uint64_t h0, h1, h2, h3, tzw;
	uint32_t len = *len_io, tzn, fixed, i;

	memcpy(&h0, hdrs, 8), memcpy(&h1, hdrs + 8, 8);
	memcpy(&h2, hdrs + hdrs_len - 16, 8), memcpy(&h3, hdrs + hdrs_len - 8, 8);
	tzw = (uint64_t)st_uvarint14((uint32_t)tz, &tzn) << 8;   /* attributes 0, then it */
	fixed = 1 + tzn + 1 + hdrs_len;  /* + the null key's length (zigzag -1: 1) */
	for (i = 0; i < n; i++, count++) {
		uint32_t vl = v[i].len, on, vn, bn, body;
		uint64_t a, b;
		uint8_t *p;

		if (__builtin_expect(vl >= 0x1000 || count >= 0x2000, 0))
			break;
		b = st_uvarint14(count << 1, &on);
		b |= ((uint64_t)1 | (uint64_t)st_uvarint14(vl << 1, &vn) << 8) << (8 * on);
		body = fixed + on + vn + vl;
		a = st_uvarint14(body << 1, &bn);
		if (__builtin_expect(bn + body > cap - len, 0))
			break;
		a |= tzw << (8 * bn);
		p = buf + len;
		memcpy(p, &a, 8);                /* length, attributes, timestampDelta */
		p += bn + 1 + tzn;
		memcpy(p, &b, 8);                /* offsetDelta, keyLength, valueLength */
		p += on + 1 + vn;
		st_copy_small(p, v[i].p, vl);
		p += vl;
		memcpy(p, &h0, 8), memcpy(p + 8, &h1, 8);
		memcpy(p + hdrs_len - 16, &h2, 8), memcpy(p + hdrs_len - 8, &h3, 8);
		len += bn + body;
	}
	*len_io = len;
	return i;
}

/*
 * st_batch_builder_enc_vals_any for small records: a timestampDelta under
 * 64 (zigzag @tz < 0x80: one byte), a body under 64 bytes (one-byte length
 * and value length) and offsetDeltas of @on bytes (a constant: 1 below 64,
 * 2 below 8192), so every field has a fixed place and each record is two
 * 8-byte stores of varints, the value and the headers.  Pointers and an
 * offsetDelta varint that steps by 2 keep the loop in registers.  Stops
 * before a record that does not fit, a larger one, or offsetDelta @end.
 * Preconditions, checked by its one caller st_batch_builder_enc_vals: the
 * headers are 16..32 bytes (the last 16 are re-read as two words) and @tz
 * is below 0x80.
 * @return the records encoded.
 */
static inline __attribute__((always_inline)) uint32_t
st_batch_builder_enc_small(uint8_t *buf, uint32_t cap, uint32_t *len_io, uint32_t count,
			   uint32_t end, uint64_t tz, const struct st_val *v, uint32_t n,
			   const uint8_t *hdrs, uint32_t hdrs_len, const uint32_t on)
{
	/* attributes, timestampDelta, offsetDelta, keyLength, valueLength, headers */
	const uint32_t fixed = 1 + 1 + on + 1 + 1 + hdrs_len;
	const uint64_t tzw = tz << 16;          /* after length and attributes */
	uint8_t *p = buf + *len_io, *lim = buf + cap;
	uint32_t x = count << 1, i;
	uint64_t h0, h1, h2, h3;

	if (count >= end)
		return 0;
	if (n > end - count)
		n = end - count;
	memcpy(&h0, hdrs, 8), memcpy(&h1, hdrs + 8, 8);
	memcpy(&h2, hdrs + hdrs_len - 16, 8), memcpy(&h3, hdrs + hdrs_len - 8, 8);
	for (i = 0; i < n; i++, x += 2) {
		uint32_t vl = v[i].len, body = fixed + vl;
		uint64_t a, b;

		if (__builtin_expect(body >= 64 || body + 1 > (uint64_t)(lim - p), 0))
			break;
		a = (uint64_t)(body << 1) | tzw;
		b = on == 1 ? x : x + (x & 0x3f80) + 0x80;      /* the two-byte varint of x */
		b |= ((uint64_t)1 | (uint64_t)(vl << 1) << 8) << (8 * on);
		memcpy(p, &a, 8);                /* length, attributes, timestampDelta */
		memcpy(p + 3, &b, 8);            /* offsetDelta, keyLength, valueLength */
		st_copy_small(p + 3 + on + 2, v[i].p, vl);
		memcpy(p + 5 + on + vl, &h0, 8), memcpy(p + 13 + on + vl, &h1, 8);
		p += body + 1;
		memcpy(p - 16, &h2, 8), memcpy(p - 8, &h3, 8);
	}
	*len_io = (uint32_t)(p - buf);
	return i;
}

/*
 * Encode @n records as st_batch_builder_enc_vals_any does (same contract,
 * same bytes): runs of small records through st_batch_builder_enc_small,
 * anything else one record at a time through the general loop.
 */
static inline uint32_t st_batch_builder_enc_vals(uint8_t *buf, uint32_t cap, uint32_t *len_io,
						 uint32_t count, uint64_t tz,
						 const struct st_val *v, uint32_t n,
						 const uint8_t *hdrs, uint32_t hdrs_len)
{
	uint32_t i = 0, k;

	while (i < n) {
		k = 0;
		if (tz < 0x80 && count < 64)
			k = st_batch_builder_enc_small(buf, cap, len_io, count, 64, tz, v + i, n - i,
						       hdrs, hdrs_len, 1);
		else if (tz < 0x80)
			k = st_batch_builder_enc_small(buf, cap, len_io, count, 0x2000, tz, v + i,
						       n - i, hdrs, hdrs_len, 2);
		if (k == 0)
			k = st_batch_builder_enc_vals_any(buf, cap, len_io, count, tz, v + i, 1,
							  hdrs, hdrs_len);
		if (k == 0)
			break;
		i += k;
		count += k;
	}
	return i;
}

/**
 * st_batch_builder_add_enc for @n records at once, all with a null key, the
 * same @timestamp and the same encoded headers: the same bytes as @n calls,
 * with what the records share computed once.  Stops at the first record
 * that does not fit.
 * @return the records added (0..n).
 */
static inline uint32_t st_batch_builder_add_vals(struct st_batch_builder *b, int64_t timestamp,
						 const struct st_val *v, uint32_t n,
						 const void *hdrs, uint32_t hdrs_len)
{
	uint64_t tz = st_zigzag64((int64_t)((uint64_t)timestamp - (uint64_t)b->base_timestamp));
	uint32_t i = 0;

	if (__builtin_expect(tz < 0x4000 && hdrs_len >= 16 && hdrs_len <= 32 &&
			     b->count >= 0 && b->len <= b->cap, 1)) {
		i = st_batch_builder_enc_vals(b->buf, b->cap, &b->len, (uint32_t)b->count, tz,
					      v, n, hdrs, hdrs_len);
		b->count += (int32_t)i;
	}
	/* What the fast encoder does not take (a large value or offsetDelta, a full batch). */
	while (i < n && st_batch_builder_add_enc(b, timestamp, NULL, 0, v[i].p, v[i].len,
						 hdrs, hdrs_len) == 0)
		i++;
	if (i && timestamp > b->max_timestamp)
		b->max_timestamp = timestamp;
	return i;
}

/**
 * Seal the batch: baseOffset 0, partitionLeaderEpoch -1 (none yet; assign
 * sets both), magic 2, attributes/producer fields from @b, counts, batchLength
 * and CRC.  More records may be added and finish called again.
 * @return its size in bytes, or -EINVAL if empty.
 */
int st_batch_builder_finish(struct st_batch_builder *b);

#endif /* ST_BATCH_H */
