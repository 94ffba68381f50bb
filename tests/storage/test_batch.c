/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RecordBatch v2 (st_batch.h): the builder against a byte array written from
 * the spec and against batches made by a real client (kafka-python), every
 * validation error and the order Kafka reports them in, offset assignment,
 * record and header iteration, and the builder's -ENOSPC guarantee.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "st_test_oracle.h"

#include "st_batch.h"
#include "st_endian.h"

#define TS0 1700000000000ll /* 0x0000018bcfe56800 */
#define MAX_MSG 1048588u    /* Kafka's default message.max.bytes */
#define ALL_CHECKS (ST_BATCH_V_PRODUCE | ST_BATCH_V_EXACT | ST_BATCH_V_RECORDS)

/*
 * Three records, written field by field from the spec (kafka-protocol.md
 * section 3): what the builder must produce for
 *   ts0   key "k1"  value "hello"
 *   ts0+5 key null  value "v"
 *   ts0+2 key "key" value null   headers h1="x", h2=null
 * The CRC (bytes 17..20) is left zero and filled in by crc_bitwise().
 */
static const uint8_t spec_batch[102] = {
	0, 0, 0, 0, 0, 0, 0, 0,                         /* baseOffset 0 */
	0x00, 0x00, 0x00, 0x5a,                         /* batchLength 90 = 102 - 12 */
	0xff, 0xff, 0xff, 0xff,                         /* partitionLeaderEpoch -1 */
	0x02,                                           /* magic */
	0x00, 0x00, 0x00, 0x00,                         /* crc, computed below */
	0x00, 0x00,                                     /* attributes */
	0x00, 0x00, 0x00, 0x02,                         /* lastOffsetDelta 2 */
	0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, /* baseTimestamp ts0 */
	0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x05, /* maxTimestamp ts0+5 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* producerId -1 */
	0xff, 0xff,                                     /* producerEpoch -1 */
	0xff, 0xff, 0xff, 0xff,                         /* baseSequence -1 */
	0x00, 0x00, 0x00, 0x03,                         /* recordsCount 3 */
	/* record 0 */
	0x1a,                                           /* length 13 */
	0x00,                                           /* attributes */
	0x00,                                           /* timestampDelta 0 */
	0x00,                                           /* offsetDelta 0 */
	0x04, 'k', '1',                                 /* key, 2 bytes */
	0x0a, 'h', 'e', 'l', 'l', 'o',                  /* value, 5 bytes */
	0x00,                                           /* 0 headers */
	/* record 1 */
	0x0e,                                           /* length 7 */
	0x00,                                           /* attributes */
	0x0a,                                           /* timestampDelta 5 */
	0x02,                                           /* offsetDelta 1 */
	0x01,                                           /* key null (-1) */
	0x02, 'v',                                      /* value, 1 byte */
	0x00,                                           /* 0 headers */
	/* record 2 */
	0x24,                                           /* length 18 */
	0x00,                                           /* attributes */
	0x04,                                           /* timestampDelta 2 */
	0x04,                                           /* offsetDelta 2 */
	0x06, 'k', 'e', 'y',                            /* key, 3 bytes */
	0x01,                                           /* value null */
	0x04,                                           /* 2 headers */
	0x04, 'h', '1', 0x02, 'x',                      /* h1 = "x" */
	0x04, 'h', '2', 0x01,                           /* h2 = null */
};

/*
 * The same three records from kafka-python 2.0.2's DefaultRecordBatchBuilder
 * (bytes captured once; the test needs no Python).  It writes
 * partitionLeaderEpoch 0 where we write -1; everything else must match.
 */
static const uint8_t kp_plain[102] = {
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x5a,
	0x00, 0x00, 0x00, 0x00, 0x02, 0x95, 0xb3, 0x06, 0x3c, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x02, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, 0x00,
	0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x05, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00,
	0x03, 0x1a, 0x00, 0x00, 0x00, 0x04, 0x6b, 0x31, 0x0a, 0x68, 0x65, 0x6c,
	0x6c, 0x6f, 0x00, 0x0e, 0x00, 0x0a, 0x02, 0x01, 0x02, 0x76, 0x00, 0x24,
	0x00, 0x04, 0x04, 0x06, 0x6b, 0x65, 0x79, 0x01, 0x04, 0x04, 0x68, 0x31,
	0x02, 0x78, 0x04, 0x68, 0x32, 0x01,
};

/* producer_id=1234, producer_epoch=5, base_sequence=10, same records. */
static const uint8_t kp_idem[102] = {
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x5a,
	0x00, 0x00, 0x00, 0x00, 0x02, 0xd5, 0xf2, 0x05, 0x41, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x02, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, 0x00,
	0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x04, 0xd2, 0x00, 0x05, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00,
	0x03, 0x1a, 0x00, 0x00, 0x00, 0x04, 0x6b, 0x31, 0x0a, 0x68, 0x65, 0x6c,
	0x6c, 0x6f, 0x00, 0x0e, 0x00, 0x0a, 0x02, 0x01, 0x02, 0x76, 0x00, 0x24,
	0x00, 0x04, 0x04, 0x06, 0x6b, 0x65, 0x79, 0x01, 0x04, 0x04, 0x68, 0x31,
	0x02, 0x78, 0x04, 0x68, 0x32, 0x01,
};

/*
 * kafka-python, gzip: two records of value "a" x 100, null key, ts0 and
 * ts0+1.  Stored compressed; we validate it but never look inside.
 */
static const uint8_t kp_gzip[101] = {
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x59,
	0x00, 0x00, 0x00, 0x00, 0x02, 0x66, 0xf2, 0xe7, 0x2c, 0x00, 0x01, 0x00,
	0x00, 0x00, 0x01, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, 0x00,
	0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00,
	0x02, 0x1f, 0x8b, 0x08, 0x00, 0x6b, 0xb9, 0x0b, 0x6b, 0x02, 0xff, 0xbb,
	0xc6, 0xc8, 0xc0, 0xc0, 0xc0, 0x78, 0x82, 0x31, 0x91, 0x0e, 0x80, 0xe1,
	0x1a, 0x23, 0x03, 0x13, 0x13, 0xbd, 0x2c, 0x03, 0x00, 0x12, 0xf3, 0x30,
	0x71, 0xda, 0x00, 0x00, 0x00,
};

/* CRC-32C by its definition, independent of st_crc32c(). */

static const struct st_record_header rec2_hdrs[] = {
	{ .key = "h1", .key_len = 2, .value = "x", .value_len = 1 },
	{ .key = "h2", .key_len = 2, .value = NULL, .value_len = 0 },
};

/* The three records of spec_batch, through the builder. */
static int build_spec(uint8_t *buf, uint32_t cap, struct st_batch_builder *b)
{
	assert_int_equal(st_batch_builder_begin(b, buf, cap, TS0), 0);
	assert_int_equal(st_batch_builder_add(b, TS0, "k1", 2, "hello", 5, NULL, 0), 0);
	assert_int_equal(st_batch_builder_add(b, TS0 + 5, NULL, 0, "v", 1, NULL, 0), 0);
	assert_int_equal(st_batch_builder_add(b, TS0 + 2, "key", 3, NULL, 0, rec2_hdrs, 2), 0);
	return st_batch_builder_finish(b);
}

/* A writable copy of a golden batch with room to grow. */
static uint8_t *copy_of(const uint8_t *src, size_t len)
{
	uint8_t *p = malloc(len + 64);

	assert_non_null(p);
	memset(p, 0, len + 64);
	memcpy(p, src, len);
	return p;
}

static enum st_batch_err validate(const uint8_t *buf, size_t len, uint32_t flags)
{
	struct st_batch_info bi;

	return st_batch_validate(buf, len, flags, MAX_MSG, &bi);
}

/* Set lastOffsetDelta and recordsCount, re-seal. */
static void set_counts(uint8_t *buf, int32_t last_offset_delta, int32_t count)
{
	st_be32_store(buf + ST_BATCH_OFF_LAST_OFFSET_DELTA, (uint32_t)last_offset_delta);
	st_be32_store(buf + ST_BATCH_OFF_RECORDS_COUNT, (uint32_t)count);
	st_batch_crc_update(buf);
}

static void test_batch_builder_matches_spec_bytes(void **state)
{
	uint8_t want[sizeof(spec_batch)], buf[256];
	struct st_batch_builder b;

	(void)state;
	memcpy(want, spec_batch, sizeof(want));
	st_be32_store(want + ST_BATCH_OFF_CRC,
		      crc_bitwise(want + ST_BATCH_OFF_ATTRIBUTES, sizeof(want) - ST_BATCH_OFF_ATTRIBUTES));
	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(build_spec(buf, sizeof(buf), &b), (int)sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(buf[sizeof(want)], 0xaa);
	/* kafka-python computed the same checksum for the same bytes. */
	assert_int_equal(st_be32_load(want + ST_BATCH_OFF_CRC), 0x95b3063cu);
}

static void test_batch_builder_matches_kafka_python(void **state)
{
	uint8_t buf[256];
	struct st_batch_builder b;

	(void)state;
	assert_int_equal(build_spec(buf, sizeof(buf), &b), (int)sizeof(kp_plain));
	st_batch_assign(buf, 0, 0);
	assert_memory_equal(buf, kp_plain, sizeof(kp_plain));

	/* Idempotent producer fields are the caller's to set before finish. */
	assert_int_equal(st_batch_builder_begin(&b, buf, sizeof(buf), TS0), 0);
	b.producer_id = 1234;
	b.producer_epoch = 5;
	b.base_sequence = 10;
	assert_int_equal(st_batch_builder_add(&b, TS0, "k1", 2, "hello", 5, NULL, 0), 0);
	assert_int_equal(st_batch_builder_add(&b, TS0 + 5, NULL, 0, "v", 1, NULL, 0), 0);
	assert_int_equal(st_batch_builder_add(&b, TS0 + 2, "key", 3, NULL, 0, rec2_hdrs, 2), 0);
	assert_int_equal(st_batch_builder_finish(&b), (int)sizeof(kp_idem));
	st_batch_assign(buf, 0, 0);
	assert_memory_equal(buf, kp_idem, sizeof(kp_idem));
}

static void test_batch_kafka_python_validates(void **state)
{
	struct st_batch_info bi;

	(void)state;
	assert_int_equal(st_batch_validate(kp_plain, sizeof(kp_plain), ALL_CHECKS, MAX_MSG, &bi),
			 ST_BATCH_ERR_OK);
	assert_int_equal(bi.base_offset, 0);
	assert_int_equal(bi.length, 90);
	assert_int_equal(st_batch_size(&bi), 102);
	assert_int_equal(bi.magic, 2);
	assert_int_equal(bi.crc, 0x95b3063cu);
	assert_int_equal(bi.attributes, 0);
	assert_int_equal(bi.last_offset_delta, 2);
	assert_true(bi.base_timestamp == TS0);
	assert_true(bi.max_timestamp == TS0 + 5);
	assert_true(bi.producer_id == -1);
	assert_int_equal(bi.producer_epoch, -1);
	assert_int_equal(bi.base_sequence, -1);
	assert_int_equal(bi.records_count, 3);

	assert_int_equal(st_batch_validate(kp_idem, sizeof(kp_idem), ALL_CHECKS, MAX_MSG, &bi),
			 ST_BATCH_ERR_OK);
	assert_true(bi.producer_id == 1234);
	assert_int_equal(bi.producer_epoch, 5);
	assert_int_equal(bi.base_sequence, 10);

	/* Compressed: V_RECORDS does not look inside. */
	assert_int_equal(st_batch_validate(kp_gzip, sizeof(kp_gzip), ALL_CHECKS, MAX_MSG, &bi),
			 ST_BATCH_ERR_OK);
	assert_int_equal(bi.attributes & ST_BATCH_ATTR_CODEC_MASK, ST_CODEC_GZIP);
	assert_int_equal(bi.records_count, 2);
}

static void test_batch_iter_records_and_headers(void **state)
{
	struct st_record_iter it;
	struct st_record_header h;
	struct st_batch_info bi;
	struct st_record r;
	const uint8_t *pos;

	(void)state;
	assert_int_equal(st_batch_header_read(kp_plain, sizeof(kp_plain), &bi), ST_BATCH_ERR_OK);
	st_record_iter_init(&it, kp_plain, &bi);

	assert_true(st_record_iter_next(&it, &r));
	assert_int_equal(r.offset, 0);
	assert_true(r.timestamp == TS0);
	assert_int_equal(r.key_len, 2);
	assert_memory_equal(r.key, "k1", 2);
	assert_int_equal(r.value_len, 5);
	assert_memory_equal(r.value, "hello", 5);
	assert_int_equal(r.n_headers, 0);
	pos = r.headers;
	assert_false(st_record_header_next(&r, &pos, &h));

	assert_true(st_record_iter_next(&it, &r));
	assert_int_equal(r.offset, 1);
	assert_true(r.timestamp == TS0 + 5);
	assert_null(r.key);
	assert_int_equal(r.key_len, -1);
	assert_int_equal(r.value_len, 1);
	assert_memory_equal(r.value, "v", 1);

	assert_true(st_record_iter_next(&it, &r));
	assert_int_equal(r.offset, 2);
	assert_true(r.timestamp == TS0 + 2);
	assert_memory_equal(r.key, "key", 3);
	assert_null(r.value);
	assert_int_equal(r.value_len, -1);
	assert_int_equal(r.n_headers, 2);
	pos = r.headers;
	assert_true(st_record_header_next(&r, &pos, &h));
	assert_int_equal(h.key_len, 2);
	assert_memory_equal(h.key, "h1", 2);
	assert_int_equal(h.value_len, 1);
	assert_memory_equal(h.value, "x", 1);
	assert_true(st_record_header_next(&r, &pos, &h));
	assert_memory_equal(h.key, "h2", 2);
	assert_null(h.value);
	assert_int_equal(h.value_len, -1);
	assert_false(st_record_header_next(&r, &pos, &h));

	assert_false(st_record_iter_next(&it, &r));
	assert_int_equal(it.err, 0);
	assert_ptr_equal(it.p, it.end);

	/* A compressed batch is not iterated. */
	assert_int_equal(st_batch_header_read(kp_gzip, sizeof(kp_gzip), &bi), ST_BATCH_ERR_OK);
	st_record_iter_init(&it, kp_gzip, &bi);
	assert_false(st_record_iter_next(&it, &r));
	assert_int_equal(it.err, -ENOTSUP);
}

/* Every proper prefix is a torn tail; the header is decoded once it is whole. */
static void test_batch_truncated_at_each_byte(void **state)
{
	struct st_batch_info bi;

	(void)state;
	for (size_t len = 0; len < sizeof(kp_plain); len++) {
		assert_int_equal(st_batch_validate(kp_plain, len, ALL_CHECKS, MAX_MSG, &bi),
				 ST_BATCH_ERR_TRUNCATED);
		assert_int_equal(st_batch_header_read(kp_plain, len, &bi), ST_BATCH_ERR_TRUNCATED);
		if (len >= ST_BATCH_HEADER_SIZE) {
			assert_int_equal(bi.length, 90);
			assert_int_equal(bi.records_count, 3);
		} else {
			assert_int_equal(bi.length, 0);
		}
	}
	assert_int_equal(st_batch_err_kafka(ST_BATCH_ERR_TRUNCATED), 87);
}

static void test_batch_bad_length(void **state)
{
	uint8_t *buf = copy_of(kp_plain, sizeof(kp_plain));
	struct st_batch_info bi;

	(void)state;
	/* Trailing bytes: fine for a stream, wrong for an exact buffer. */
	assert_int_equal(validate(buf, sizeof(kp_plain) + 1, ST_BATCH_V_PRODUCE), ST_BATCH_ERR_OK);
	assert_int_equal(validate(buf, sizeof(kp_plain) + 1, ALL_CHECKS), ST_BATCH_ERR_BAD_LENGTH);

	/* Below the header size: garbage, judged from the first 17 bytes. */
	st_be32_store(buf + ST_BATCH_OFF_LENGTH, 48);
	assert_int_equal(validate(buf, sizeof(kp_plain), 0), ST_BATCH_ERR_BAD_LENGTH);
	assert_int_equal(st_batch_header_read(buf, 17, &bi), ST_BATCH_ERR_BAD_LENGTH);
	assert_int_equal(st_batch_header_read(buf, 16, &bi), ST_BATCH_ERR_TRUNCATED);
	st_be32_store(buf + ST_BATCH_OFF_LENGTH, 0x80000000u);
	assert_int_equal(validate(buf, sizeof(kp_plain), 0), ST_BATCH_ERR_BAD_LENGTH);

	/* Claims more than there is. */
	st_be32_store(buf + ST_BATCH_OFF_LENGTH, 91);
	assert_int_equal(validate(buf, sizeof(kp_plain), 0), ST_BATCH_ERR_TRUNCATED);
	st_be32_store(buf + ST_BATCH_OFF_LENGTH, INT32_MAX);
	assert_int_equal(validate(buf, sizeof(kp_plain), 0), ST_BATCH_ERR_TRUNCATED);

	/* A bare header claiming 3 records: the walk finds none. */
	st_be32_store(buf + ST_BATCH_OFF_LENGTH, 49);
	st_batch_crc_update(buf);
	assert_int_equal(st_batch_header_read(buf, 61, &bi), ST_BATCH_ERR_OK);
	assert_int_equal(validate(buf, 61, ST_BATCH_V_EXACT), ST_BATCH_ERR_OK);
	assert_int_equal(validate(buf, 61, ALL_CHECKS), ST_BATCH_ERR_BAD_RECORDS);
	/* Emptied by compaction: valid when stored, never from a producer. */
	set_counts(buf, 2, 0);
	assert_int_equal(validate(buf, 61, ST_BATCH_V_EXACT | ST_BATCH_V_RECORDS), ST_BATCH_ERR_OK);
	assert_int_equal(validate(buf, 61, ALL_CHECKS), ST_BATCH_ERR_BAD_COUNT);
	free(buf);
}

static void test_batch_bad_magic(void **state)
{
	static const uint8_t magics[] = { 0, 1, 3, 0x82, 0xff };
	uint8_t *buf = copy_of(kp_plain, sizeof(kp_plain));
	struct st_batch_info bi;

	(void)state;
	for (size_t i = 0; i < sizeof(magics); i++) {
		buf[ST_BATCH_OFF_MAGIC] = magics[i];
		assert_int_equal(validate(buf, sizeof(kp_plain), ALL_CHECKS), ST_BATCH_ERR_BAD_MAGIC);
		assert_int_equal(st_batch_header_read(buf, 17, &bi), ST_BATCH_ERR_BAD_MAGIC);
		assert_int_equal(st_batch_header_read(buf, sizeof(kp_plain), &bi), ST_BATCH_ERR_BAD_MAGIC);
		assert_int_equal(bi.magic, (int8_t)magics[i]);
	}
	assert_int_equal(st_batch_err_kafka(ST_BATCH_ERR_BAD_MAGIC), 43);
	free(buf);
}

/* Any flipped bit from the CRC field on is caught; bytes before it are not covered. */
static void test_batch_crc_each_byte(void **state)
{
	uint8_t *buf = copy_of(kp_plain, sizeof(kp_plain));

	(void)state;
	for (size_t i = 0; i < sizeof(kp_plain); i++) {
		enum st_batch_err want = ST_BATCH_ERR_BAD_CRC;

		if (i < ST_BATCH_OFF_CRC)
			continue; /* offset, length, epoch, magic: own checks */
		for (int bit = 0; bit < 8; bit += 3) {
			buf[i] ^= (uint8_t)(1u << bit);
			assert_int_equal(validate(buf, sizeof(kp_plain), 0), want);
			buf[i] ^= (uint8_t)(1u << bit);
		}
	}
	/* baseOffset and partitionLeaderEpoch lie outside the CRC. */
	buf[3] ^= 0x10;
	buf[ST_BATCH_OFF_LEADER_EPOCH + 2] ^= 0x01;
	assert_int_equal(validate(buf, sizeof(kp_plain), 0), ST_BATCH_ERR_OK);
	assert_int_equal(st_batch_err_kafka(ST_BATCH_ERR_BAD_CRC), 2);
	free(buf);
}

static void test_batch_crc_update_repairs(void **state)
{
	uint8_t *buf = copy_of(kp_plain, sizeof(kp_plain));

	(void)state;
	st_be32_store(buf + ST_BATCH_OFF_CRC, 0);
	assert_int_equal(validate(buf, sizeof(kp_plain), 0), ST_BATCH_ERR_BAD_CRC);
	st_batch_crc_update(buf);
	assert_memory_equal(buf, kp_plain, sizeof(kp_plain));
	free(buf);
}

static void test_batch_count_rules(void **state)
{
	uint8_t *buf = copy_of(kp_plain, sizeof(kp_plain));
	size_t n = sizeof(kp_plain);

	(void)state;
	set_counts(buf, 3, 3);
	assert_int_equal(validate(buf, n, ST_BATCH_V_PRODUCE), ST_BATCH_ERR_BAD_COUNT);
	/* Compacted: fewer records than the offset range is fine when stored. */
	assert_int_equal(validate(buf, n, 0), ST_BATCH_ERR_OK);
	set_counts(buf, 1, 3);
	assert_int_equal(validate(buf, n, ST_BATCH_V_PRODUCE), ST_BATCH_ERR_BAD_COUNT);
	assert_int_equal(validate(buf, n, 0), ST_BATCH_ERR_BAD_COUNT);
	set_counts(buf, -1, 0);
	assert_int_equal(validate(buf, n, ST_BATCH_V_PRODUCE), ST_BATCH_ERR_BAD_COUNT);
	assert_int_equal(validate(buf, n, 0), ST_BATCH_ERR_BAD_COUNT);
	set_counts(buf, 2, -1);
	assert_int_equal(validate(buf, n, 0), ST_BATCH_ERR_BAD_COUNT);
	set_counts(buf, INT32_MAX, INT32_MIN);
	assert_int_equal(validate(buf, n, ST_BATCH_V_PRODUCE), ST_BATCH_ERR_BAD_COUNT);
	set_counts(buf, INT32_MIN, 3);
	assert_int_equal(validate(buf, n, 0), ST_BATCH_ERR_BAD_COUNT);
	set_counts(buf, 2, 3);
	assert_int_equal(validate(buf, n, ALL_CHECKS), ST_BATCH_ERR_OK);
	free(buf);
}

static void test_batch_produce_rules(void **state)
{
	uint8_t *buf = copy_of(kp_plain, sizeof(kp_plain));
	size_t n = sizeof(kp_plain);

	(void)state;
	st_batch_assign(buf, 5, 0);
	assert_int_equal(validate(buf, n, ST_BATCH_V_PRODUCE), ST_BATCH_ERR_BAD_OFFSET);
	assert_int_equal(validate(buf, n, 0), ST_BATCH_ERR_OK);
	st_batch_assign(buf, 0, 0);

	st_be16_store(buf + ST_BATCH_OFF_ATTRIBUTES, ST_BATCH_ATTR_CONTROL);
	st_batch_crc_update(buf);
	assert_int_equal(validate(buf, n, ST_BATCH_V_PRODUCE), ST_BATCH_ERR_CONTROL);
	assert_int_equal(validate(buf, n, 0), ST_BATCH_ERR_OK);

	/* Transactional is a producer's right. */
	st_be16_store(buf + ST_BATCH_OFF_ATTRIBUTES, ST_BATCH_ATTR_TRANSACTIONAL);
	st_batch_crc_update(buf);
	assert_int_equal(validate(buf, n, ALL_CHECKS), ST_BATCH_ERR_OK);

	/* producerId set, no sequence. */
	st_be16_store(buf + ST_BATCH_OFF_ATTRIBUTES, 0);
	st_be64_store(buf + ST_BATCH_OFF_PRODUCER_ID, 0);
	st_batch_crc_update(buf);
	assert_int_equal(validate(buf, n, ST_BATCH_V_PRODUCE), ST_BATCH_ERR_BAD_SEQUENCE);
	assert_int_equal(validate(buf, n, 0), ST_BATCH_ERR_OK);
	st_be32_store(buf + ST_BATCH_OFF_BASE_SEQUENCE, 0);
	st_batch_crc_update(buf);
	assert_int_equal(validate(buf, n, ALL_CHECKS), ST_BATCH_ERR_OK);
	/* No producerId: a sequence of -1 is expected. */
	st_be64_store(buf + ST_BATCH_OFF_PRODUCER_ID, (uint64_t)-1);
	st_be32_store(buf + ST_BATCH_OFF_BASE_SEQUENCE, (uint32_t)-1);
	st_batch_crc_update(buf);
	assert_int_equal(validate(buf, n, ALL_CHECKS), ST_BATCH_ERR_OK);
	free(buf);
}

static void test_batch_too_large(void **state)
{
	struct st_batch_info bi;

	(void)state;
	assert_int_equal(st_batch_validate(kp_plain, sizeof(kp_plain), ALL_CHECKS, 102, &bi),
			 ST_BATCH_ERR_OK);
	assert_int_equal(st_batch_validate(kp_plain, sizeof(kp_plain), ALL_CHECKS, 101, &bi),
			 ST_BATCH_ERR_TOO_LARGE);
	assert_int_equal(st_batch_validate(kp_plain, sizeof(kp_plain), 0, 0, &bi), ST_BATCH_ERR_OK);
	assert_int_equal(st_batch_err_kafka(ST_BATCH_ERR_TOO_LARGE), 10);
}

/* With several faults, the first in Kafka's order is the one reported. */
static void test_batch_error_order(void **state)
{
	uint8_t *buf = copy_of(kp_idem, sizeof(kp_idem));
	size_t n = sizeof(kp_idem);
	struct st_batch_info bi;

	(void)state;
	/* control + sequence: CONTROL */
	st_be16_store(buf + ST_BATCH_OFF_ATTRIBUTES, ST_BATCH_ATTR_CONTROL);
	st_be32_store(buf + ST_BATCH_OFF_BASE_SEQUENCE, (uint32_t)-1);
	st_batch_crc_update(buf);
	assert_int_equal(validate(buf, n, ST_BATCH_V_PRODUCE), ST_BATCH_ERR_CONTROL);
	/* + count: BAD_COUNT */
	set_counts(buf, 2, 2);
	assert_int_equal(validate(buf, n, ST_BATCH_V_PRODUCE), ST_BATCH_ERR_BAD_COUNT);
	/* + CRC: BAD_CRC */
	buf[ST_BATCH_OFF_CRC] ^= 1;
	assert_int_equal(validate(buf, n, ST_BATCH_V_PRODUCE), ST_BATCH_ERR_BAD_CRC);
	/* + size: TOO_LARGE */
	assert_int_equal(st_batch_validate(buf, n, ST_BATCH_V_PRODUCE, 64, &bi), ST_BATCH_ERR_TOO_LARGE);
	/* + baseOffset: BAD_OFFSET */
	st_batch_assign(buf, 1, 0);
	assert_int_equal(st_batch_validate(buf, n, ST_BATCH_V_PRODUCE, 64, &bi), ST_BATCH_ERR_BAD_OFFSET);
	/* + trailing byte: BAD_LENGTH */
	assert_int_equal(st_batch_validate(buf, n + 1, ALL_CHECKS, 64, &bi), ST_BATCH_ERR_BAD_LENGTH);
	/* + magic: BAD_MAGIC */
	buf[ST_BATCH_OFF_MAGIC] = 1;
	assert_int_equal(st_batch_validate(buf, n + 1, ALL_CHECKS, 64, &bi), ST_BATCH_ERR_BAD_MAGIC);
	/* + length below a header: BAD_LENGTH */
	st_be32_store(buf + ST_BATCH_OFF_LENGTH, 10);
	assert_int_equal(st_batch_validate(buf, n + 1, ALL_CHECKS, 64, &bi), ST_BATCH_ERR_BAD_LENGTH);
	free(buf);
}

/*
 * Replace bytes [at, at + old_len) of spec_batch's records with @repl, fix
 * batchLength and the CRC, and return the new size.
 */
static size_t splice(uint8_t *buf, size_t at, size_t old_len, const uint8_t *repl, size_t new_len)
{
	uint8_t tmp[256];
	size_t n = st_be32_load(buf + ST_BATCH_OFF_LENGTH) + ST_BATCH_LOG_OVERHEAD;

	memcpy(tmp, buf, n);
	memcpy(buf + at, repl, new_len);
	memcpy(buf + at + new_len, tmp + at + old_len, n - at - old_len);
	n = n - old_len + new_len;
	st_be32_store(buf + ST_BATCH_OFF_LENGTH, (uint32_t)(n - ST_BATCH_LOG_OVERHEAD));
	st_batch_crc_update(buf);
	return n;
}

/* Offsets in kp_plain: record 0 at 61 (14 bytes), 1 at 75 (8), 2 at 83 (19). */
#define REC0 61
#define REC1 75
#define REC2 83

static void expect_bad_records(const uint8_t *buf, size_t n)
{
	struct st_record_iter it;
	struct st_batch_info bi;
	struct st_record r;

	/* Header, CRC and counts are fine: only the walk finds it. */
	assert_int_equal(validate(buf, n, ST_BATCH_V_PRODUCE | ST_BATCH_V_EXACT), ST_BATCH_ERR_OK);
	assert_int_equal(st_batch_validate(buf, n, ALL_CHECKS, MAX_MSG, &bi), ST_BATCH_ERR_BAD_RECORDS);
	st_record_iter_init(&it, buf, &bi);
	while (st_record_iter_next(&it, &r))
		;
	assert_true(it.err == -EBADMSG || it.p != it.end);
	if (it.err) {
		/* Sticky, and p stays on the bad record. */
		const uint8_t *p = it.p;

		assert_false(st_record_iter_next(&it, &r));
		assert_int_equal(it.err, -EBADMSG);
		assert_ptr_equal(it.p, p);
	}
}

static void test_batch_bad_records(void **state)
{
	static const struct {
		size_t at, old_len, new_len;
		uint8_t repl[8];
	} cases[] = {
		{ REC0, 1, 1, { 0x1c } },             /* record 0 length 14: one byte too long */
		{ REC0, 1, 1, { 0x18 } },             /* 12: fields overrun it */
		{ REC2, 1, 1, { 0x7e } },             /* last record runs past the batch */
		{ REC0, 1, 1, { 0x00 } },             /* length 0 */
		{ REC0, 1, 1, { 0x01 } },             /* length -1 */
		{ REC0, 1, 6, { 0x9a, 0x80, 0x80, 0x80, 0x80, 0x00 } }, /* 6-byte varint */
		{ REC0 + 4, 1, 1, { 0x03 } },         /* key length -2 */
		{ REC0 + 4, 1, 1, { 0x08 } },         /* key length 4: eats into value */
		{ REC1 + 5, 1, 1, { 0x7e } },         /* value length 63 */
		{ REC0 + 13, 1, 1, { 0x01 } },        /* header count -1 */
		{ REC0 + 13, 1, 1, { 0x02 } },        /* header count 1, none there */
		{ REC2 + 9, 1, 1, { 0x06 } },         /* 3 headers, 2 there */
		{ REC2 + 10, 1, 1, { 0x01 } },        /* header key null */
		{ REC2 + 18, 1, 1, { 0x03 } },        /* header value length -2 */
		{ 102, 0, 1, { 0x00 } },              /* a stray byte after the last record */
		{ REC2, 19, 0, { 0 } },               /* 3 counted, 2 there */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t *buf = copy_of(kp_plain, sizeof(kp_plain));
		size_t n;

		n = splice(buf, cases[i].at, cases[i].old_len, cases[i].repl, cases[i].new_len);
		print_message("case %zu\n", i);
		expect_bad_records(buf, n);
		free(buf);
	}
	assert_int_equal(st_batch_err_kafka(ST_BATCH_ERR_BAD_RECORDS), 87);
}

/* Fewer counted records than present: the walk stops with bytes left over. */
static void test_batch_records_left_over(void **state)
{
	uint8_t *buf = copy_of(kp_plain, sizeof(kp_plain));

	(void)state;
	set_counts(buf, 1, 2);
	expect_bad_records(buf, sizeof(kp_plain));
	free(buf);
}

/*
 * Random damage to the records, re-sealed so only the walk can object: any
 * batch the walk accepts iterates to exactly its count, headers included,
 * and nothing reads outside the exactly-sized buffer (run under ASan).
 */
static void test_batch_mutated_records_stay_in_bounds(void **state)
{
	uint64_t s = 99;
	int accepted = 0;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		uint8_t *buf = malloc(sizeof(kp_plain));
		struct st_record_iter it;
		struct st_batch_info bi;
		struct st_record r;
		int n = 0;

		assert_non_null(buf);
		memcpy(buf, kp_plain, sizeof(kp_plain));
		for (int k = 1 + (int)(rnd(&s) % 3); k > 0; k--)
			buf[REC0 + rnd(&s) % (sizeof(kp_plain) - REC0)] = (uint8_t)rnd(&s);
		st_batch_crc_update(buf);
		if (st_batch_validate(buf, sizeof(kp_plain), ALL_CHECKS, MAX_MSG, &bi) != ST_BATCH_ERR_OK) {
			free(buf);
			continue;
		}
		accepted++;
		st_record_iter_init(&it, buf, &bi);
		for (; st_record_iter_next(&it, &r); n++) {
			struct st_record_header h;
			const uint8_t *pos = r.headers;
			uint32_t nh = 0;

			while (st_record_header_next(&r, &pos, &h))
				nh++;
			assert_int_equal(nh, r.n_headers);
			assert_ptr_equal(pos, r.headers_end);
		}
		assert_int_equal(it.err, 0);
		assert_int_equal(n, 3);
		free(buf);
	}
	/* Changing key or value bytes alone keeps a batch valid. */
	assert_true(accepted > 0);
}

static void test_batch_assign_keeps_crc(void **state)
{
	uint8_t *buf = copy_of(kp_plain, sizeof(kp_plain));
	struct st_record_iter it;
	struct st_batch_info bi;
	struct st_record r;
	int64_t want = 1234567890123ll;

	(void)state;
	st_batch_assign(buf, want, 7);
	assert_int_equal(st_batch_validate(buf, sizeof(kp_plain), ST_BATCH_V_EXACT | ST_BATCH_V_RECORDS,
					   MAX_MSG, &bi), ST_BATCH_ERR_OK);
	assert_true(bi.base_offset == want);
	assert_int_equal(bi.leader_epoch, 7);
	assert_int_equal(bi.crc, 0x95b3063cu);
	assert_true(st_batch_last_offset(&bi) == want + 2);
	assert_memory_equal(buf + ST_BATCH_OFF_MAGIC, kp_plain + ST_BATCH_OFF_MAGIC,
			    sizeof(kp_plain) - ST_BATCH_OFF_MAGIC);
	st_record_iter_init(&it, buf, &bi);
	while (st_record_iter_next(&it, &r))
		assert_true(r.offset == want++);
	assert_int_equal(it.err, 0);
	assert_true(want == bi.base_offset + 3);
	assert_int_equal(validate(buf, sizeof(kp_plain), ST_BATCH_V_PRODUCE), ST_BATCH_ERR_BAD_OFFSET);
	free(buf);
}

/* LogAppendTime: every record reads as the batch's maxTimestamp. */
static void test_batch_iter_log_append_time(void **state)
{
	uint8_t *buf = copy_of(kp_plain, sizeof(kp_plain));
	struct st_record_iter it;
	struct st_batch_info bi;
	struct st_record r;
	int n = 0;

	(void)state;
	st_be16_store(buf + ST_BATCH_OFF_ATTRIBUTES, ST_BATCH_ATTR_LOG_APPEND_TIME);
	st_be64_store(buf + ST_BATCH_OFF_MAX_TIMESTAMP, (uint64_t)(TS0 + 1000));
	st_batch_crc_update(buf);
	assert_int_equal(st_batch_validate(buf, sizeof(kp_plain), ALL_CHECKS, 0, &bi), ST_BATCH_ERR_OK);
	st_record_iter_init(&it, buf, &bi);
	for (; st_record_iter_next(&it, &r); n++)
		assert_true(r.timestamp == TS0 + 1000);
	assert_int_equal(n, 3);
	free(buf);
}

static void test_batch_builder_enospc_keeps_batch(void **state)
{
	uint8_t buf[512], value[40];
	struct st_batch_builder b;
	struct st_batch_info bi;
	uint32_t cap = 300, len;
	int count = 0, rc;

	(void)state;
	memset(value, 'v', sizeof(value));
	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(st_batch_builder_begin(&b, buf, cap, TS0), 0);
	while ((rc = st_batch_builder_add(&b, TS0 + count, "key", 3, value, sizeof(value), NULL, 0)) == 0)
		count++;
	assert_int_equal(rc, -ENOSPC);
	assert_true(count > 0);
	len = b.len;
	assert_int_equal(b.count, count);
	assert_true(len <= cap);
	/* Nothing written past the last record that fitted. */
	for (uint32_t i = len; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xaa);
	/* A smaller record may still fit; a failed add changes nothing. */
	assert_int_equal(st_batch_builder_add(&b, TS0, NULL, 0, value, sizeof(value), NULL, 0), -ENOSPC);
	assert_int_equal(b.len, len);
	assert_int_equal(st_batch_builder_finish(&b), (int)len);
	assert_int_equal(st_batch_validate(buf, len, ALL_CHECKS, MAX_MSG, &bi), ST_BATCH_ERR_OK);
	assert_int_equal(bi.records_count, count);
	assert_true(bi.max_timestamp == TS0 + count - 1);

	/* A record that exactly fills the buffer fits. */
	assert_int_equal(st_batch_builder_begin(&b, buf, 61 + 14, TS0), 0);
	assert_int_equal(st_batch_builder_add(&b, TS0, "k1", 2, "hello", 5, NULL, 0), 0);
	assert_int_equal(st_batch_builder_finish(&b), 75);
	assert_int_equal(st_batch_builder_begin(&b, buf, 61 + 13, TS0), 0);
	assert_int_equal(st_batch_builder_add(&b, TS0, "k1", 2, "hello", 5, NULL, 0), -ENOSPC);

	assert_int_equal(st_batch_builder_begin(&b, buf, 60, TS0), -ENOSPC);
	assert_int_equal(st_batch_builder_begin(&b, buf, 61, TS0), 0);
	assert_int_equal(st_batch_builder_finish(&b), -EINVAL);
}

/*
 * The per-packet encoder (pre-encoded headers) writes exactly the bytes of
 * st_batch_builder_add, and refuses exactly the same records for space:
 * random keys, values (0..300 bytes: one- and two-byte varints), headers,
 * timestamps either side of the base, into small and large batches.
 */
static void test_batch_builder_add_enc_same_bytes(void **state)
{
	static uint8_t a[70000], b[70000], data[400], enc[512];
	uint64_t seed = 0x5eed;

	(void)state;
	for (int i = 0; i < (int)sizeof(data); i++)
		data[i] = (uint8_t)rnd(&seed);
	for (int round = 0; round < 40; round++) {
		uint32_t cap = round % 4 == 0 ? 70000 : 61 + (uint32_t)(rnd(&seed) % 2000);
		struct st_batch_builder x, y;
		int ra, rb;

		assert_int_equal(st_batch_builder_begin(&x, a, cap, TS0), 0);
		assert_int_equal(st_batch_builder_begin(&y, b, cap, TS0), 0);
		do {
			struct st_record_header h[3] = {
				{ "rx.ns", 5, data + 1, 8 }, { "k", 1, NULL, 0 },
				{ "long.header.name", 16, data, (int32_t)(rnd(&seed) % 200) },
			};
			uint32_t nh = (uint32_t)(rnd(&seed) % 4), vl = (uint32_t)(rnd(&seed) % 300);
			uint32_t kl = (uint32_t)(rnd(&seed) % 40);
			const void *k = rnd(&seed) % 3 ? NULL : data + 7;
			int64_t ts = TS0 + (int64_t)(rnd(&seed) % 200000) - 100000;
			int hl = st_record_headers_encode(enc, h, nh);

			assert_true(hl > 0);
			ra = st_batch_builder_add(&x, ts, k, (int32_t)kl, data + 3, (int32_t)vl, h, nh);
			rb = st_batch_builder_add_enc(&y, ts, k, kl, data + 3, vl, enc, (uint32_t)hl);
			assert_int_equal(ra, rb);
		} while (ra == 0 && x.count < 3000);
		assert_int_equal(st_batch_builder_finish(&x), st_batch_builder_finish(&y));
		assert_int_equal(x.count, y.count);
		assert_memory_equal(a, b, x.len);
	}
}

/*
 * The tap burst encoder writes exactly the bytes of one st_batch_builder_add_enc
 * call per record and stops at the record add_enc first refuses: chunks of
 * up to 40 values (0..120 bytes, now and then up to 5000: past its fast
 * path), headers of 16 (rx.ns), 27 and 35 bytes, timestamp deltas of one,
 * two and three varint bytes, batches from 61 bytes to past 8192 records.
 */
static void test_batch_builder_add_vals_same_bytes(void **state)
{
	static uint8_t a[400000], b[400000], data[5000], enc[512];
	static struct st_val v[12000];
	static const int64_t dts[] = { 0, 1, 63, 64, 8191, 8192, -1, -8193, 1000000 };
	uint64_t seed = 0x7a95;

	(void)state;
	for (int i = 0; i < (int)sizeof(data); i++)
		data[i] = (uint8_t)rnd(&seed);
	for (int round = 0; round < 60; round++) {
		uint32_t cap = round % 5 == 0 ? 400000 : 61 + (uint32_t)(rnd(&seed) % 20000);
		struct st_record_header h[2] = { { "rx.ns", 5, data, 8 },
						  { "x", 1, data, (int32_t)(round % 3 * 8) } };
		int64_t ts = TS0 + dts[round % 9];
		int hl = st_record_headers_encode(enc, h, round % 3 ? 2 : 1);
		struct st_batch_builder x, y;
		uint32_t nx = 0, ny = 0, m = round % 5 == 0 ? 12000 : 2000;

		assert_true(hl == 16 || hl == 27 || hl == 35);
		for (uint32_t i = 0; i < m; i++) {
			v[i].len = (uint32_t)(rnd(&seed) % 50 ? rnd(&seed) % (round % 5 ? 121 : 8)
						: rnd(&seed) % 5000);
			v[i].p = data + rnd(&seed) % (sizeof(data) - v[i].len + 1);
		}
		assert_int_equal(st_batch_builder_begin(&x, a, cap, TS0), 0);
		assert_int_equal(st_batch_builder_begin(&y, b, cap, TS0), 0);
		while (nx < m && st_batch_builder_add_enc(&x, ts, NULL, 0, v[nx].p, v[nx].len, enc,
							  (uint32_t)hl) == 0)
			nx++;
		while (ny < m) {
			uint32_t chunk = 1 + (uint32_t)(rnd(&seed) % 40), k;

			chunk = chunk < m - ny ? chunk : m - ny;
			k = st_batch_builder_add_vals(&y, ts, v + ny, chunk, enc, (uint32_t)hl);
			ny += k;
			if (k < chunk)
				break;
		}
		assert_int_equal(nx, ny);
		assert_int_equal(x.count, y.count);
		assert_int_equal(x.len, y.len);
		assert_memory_equal(a, b, x.len);
		if (nx) {
			assert_int_equal(st_batch_builder_finish(&x), st_batch_builder_finish(&y));
			assert_memory_equal(a, b, x.len);
		}
	}
}

static void test_batch_builder_rejects_bad_args(void **state)
{
	static const struct st_record_header bad_hdr = { .key = NULL, .key_len = 3 };
	static const struct st_record_header empty_key = { .key = NULL, .key_len = 0, .value = "x",
							   .value_len = 1 };
	uint8_t buf[256];
	struct st_batch_builder b;

	(void)state;
	assert_int_equal(st_batch_builder_begin(&b, buf, sizeof(buf), TS0), 0);
	assert_int_equal(st_batch_builder_add(&b, TS0, "k", -1, "v", 1, NULL, 0), -EINVAL);
	assert_int_equal(st_batch_builder_add(&b, TS0, "k", 1, "v", -5, NULL, 0), -EINVAL);
	assert_int_equal(st_batch_builder_add(&b, TS0, "k", 1, "v", 1, &bad_hdr, 1), -EINVAL);
	assert_int_equal(b.len, ST_BATCH_HEADER_SIZE);
	assert_int_equal(b.count, 0);
	/* Null key and value ignore their lengths; an empty header key is fine. */
	assert_int_equal(st_batch_builder_add(&b, TS0, NULL, -7, NULL, 99, &empty_key, 1), 0);
	assert_int_equal(st_batch_builder_finish(&b), (int)b.len);
	assert_int_equal(validate(buf, b.len, ALL_CHECKS), ST_BATCH_ERR_OK);
}

struct rt_record {
	int64_t ts;
	int32_t key_len, value_len;     /* -1 = null */
	uint32_t n_hdrs;
	struct st_record_header hdrs[3];
	uint8_t key[40], value[300];
	char hkey[3][8];
	uint8_t hval[3][16];
};

static void rt_make(struct rt_record *r, uint64_t *s)
{
	memset(r, 0, sizeof(*r));
	/* Timestamps either side of the base: negative deltas too. */
	r->ts = TS0 + (int64_t)(rnd(s) % 2000000) - 1000000;
	r->key_len = (int32_t)(rnd(s) % 42) - 1;
	r->value_len = (int32_t)(rnd(s) % 301) - 1;
	for (int i = 0; i < r->key_len; i++)
		r->key[i] = (uint8_t)rnd(s);
	for (int i = 0; i < r->value_len; i++)
		r->value[i] = (uint8_t)rnd(s);
	r->n_hdrs = (uint32_t)(rnd(s) % 4);
	for (uint32_t h = 0; h < r->n_hdrs; h++) {
		int vlen = (int)(rnd(s) % 17) - 1;

		r->hdrs[h].key_len = (uint32_t)(rnd(s) % 8);
		memset(r->hkey[h], 'a' + (int)h, r->hdrs[h].key_len);
		r->hdrs[h].key = r->hkey[h];
		r->hdrs[h].value = vlen < 0 ? NULL : r->hval[h];
		r->hdrs[h].value_len = vlen;
		for (int i = 0; i < vlen; i++)
			r->hval[h][i] = (uint8_t)rnd(s);
	}
}

static void rt_check(const struct rt_record *want, const struct st_record *got)
{
	struct st_record_header h;
	const uint8_t *pos = got->headers;

	assert_true(got->timestamp == want->ts);
	assert_int_equal(got->key_len, want->key_len);
	assert_int_equal(got->value_len, want->value_len);
	if (want->key_len < 0)
		assert_null(got->key);
	else if (want->key_len > 0)
		assert_memory_equal(got->key, want->key, (size_t)want->key_len);
	if (want->value_len < 0)
		assert_null(got->value);
	else if (want->value_len > 0)
		assert_memory_equal(got->value, want->value, (size_t)want->value_len);
	assert_int_equal(got->n_headers, want->n_hdrs);
	for (uint32_t i = 0; i < want->n_hdrs; i++) {
		assert_true(st_record_header_next(got, &pos, &h));
		assert_int_equal(h.key_len, want->hdrs[i].key_len);
		assert_memory_equal(h.key, want->hkey[i], h.key_len);
		assert_int_equal(h.value_len, want->hdrs[i].value_len);
		if (h.value_len > 0)
			assert_memory_equal(h.value, want->hval[i], (size_t)h.value_len);
	}
	assert_false(st_record_header_next(got, &pos, &h));
}

/* Random records through the builder and back; size_max bounds each one. */
static void test_batch_builder_roundtrip(void **state)
{
	enum { N = 200 };
	struct rt_record *recs = calloc(N, sizeof(*recs));
	uint32_t cap = 1 << 17;
	uint8_t *buf = malloc(cap);
	struct st_batch_builder b;
	struct st_record_iter it;
	struct st_batch_info bi;
	struct st_record r;
	int64_t max_ts = INT64_MIN;
	uint64_t s = 7;
	int n = 0;

	(void)state;
	assert_non_null(recs);
	assert_non_null(buf);
	assert_int_equal(st_batch_builder_begin(&b, buf, cap, TS0), 0);
	for (int i = 0; i < N; i++) {
		uint32_t before = b.len, bound;

		rt_make(&recs[i], &s);
		bound = st_record_size_max(recs[i].key_len < 0 ? 0 : (uint32_t)recs[i].key_len,
					   recs[i].value_len < 0 ? 0 : (uint32_t)recs[i].value_len,
					   recs[i].hdrs, recs[i].n_hdrs);
		assert_int_equal(st_batch_builder_add(&b, recs[i].ts,
						      recs[i].key_len < 0 ? NULL : recs[i].key, recs[i].key_len,
						      recs[i].value_len < 0 ? NULL : recs[i].value,
						      recs[i].value_len, recs[i].hdrs, recs[i].n_hdrs), 0);
		assert_true(b.len - before <= bound);
		if (recs[i].ts > max_ts)
			max_ts = recs[i].ts;
	}
	assert_int_equal(st_batch_builder_finish(&b), (int)b.len);
	assert_int_equal(st_batch_validate(buf, b.len, ALL_CHECKS, MAX_MSG, &bi), ST_BATCH_ERR_OK);
	assert_true(bi.max_timestamp == max_ts);
	assert_true(bi.base_timestamp == TS0);
	assert_int_equal(bi.records_count, N);
	assert_int_equal(bi.last_offset_delta, N - 1);
	assert_int_equal(bi.leader_epoch, -1);
	assert_int_equal(bi.crc, crc_bitwise(buf + ST_BATCH_OFF_ATTRIBUTES, b.len - ST_BATCH_OFF_ATTRIBUTES));
	st_record_iter_init(&it, buf, &bi);
	for (; st_record_iter_next(&it, &r); n++) {
		assert_int_equal(r.offset, n);
		rt_check(&recs[n], &r);
	}
	assert_int_equal(it.err, 0);
	assert_int_equal(n, N);
	free(buf);
	free(recs);
}

static void test_batch_err_tables(void **state)
{
	(void)state;
	for (int e = 0; e < ST_BATCH_ERR_MAX; e++) {
		assert_non_null(st_batch_err_str((enum st_batch_err)e));
		assert_true(st_batch_err_kafka((enum st_batch_err)e) >= 0);
	}
	assert_int_equal(st_batch_err_kafka(ST_BATCH_ERR_OK), 0);
	assert_string_equal(st_batch_err_str(ST_BATCH_ERR_BAD_CRC), "CRC-32C mismatch");
	assert_non_null(st_batch_err_str(ST_BATCH_ERR_MAX));
	assert_int_equal(st_batch_err_kafka(ST_BATCH_ERR_MAX), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_builder_matches_spec_bytes),
		cmocka_unit_test(test_batch_builder_matches_kafka_python),
		cmocka_unit_test(test_batch_kafka_python_validates),
		cmocka_unit_test(test_batch_iter_records_and_headers),
		cmocka_unit_test(test_batch_truncated_at_each_byte),
		cmocka_unit_test(test_batch_bad_length),
		cmocka_unit_test(test_batch_bad_magic),
		cmocka_unit_test(test_batch_crc_each_byte),
		cmocka_unit_test(test_batch_crc_update_repairs),
		cmocka_unit_test(test_batch_count_rules),
		cmocka_unit_test(test_batch_produce_rules),
		cmocka_unit_test(test_batch_too_large),
		cmocka_unit_test(test_batch_error_order),
		cmocka_unit_test(test_batch_bad_records),
		cmocka_unit_test(test_batch_records_left_over),
		cmocka_unit_test(test_batch_mutated_records_stay_in_bounds),
		cmocka_unit_test(test_batch_assign_keeps_crc),
		cmocka_unit_test(test_batch_iter_log_append_time),
		cmocka_unit_test(test_batch_builder_add_enc_same_bytes),
		cmocka_unit_test(test_batch_builder_enospc_keeps_batch),
		cmocka_unit_test(test_batch_builder_add_vals_same_bytes),
		cmocka_unit_test(test_batch_builder_rejects_bad_args),
		cmocka_unit_test(test_batch_builder_roundtrip),
		cmocka_unit_test(test_batch_err_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
