/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Varints (st_varint.h): Kafka's encodings of edge values, size limits,
 * truncated and overlong input, and round trips.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "st_varint.h"

struct vec32 {
	int32_t v;
	uint8_t len;
	uint8_t bytes[5];
};

struct vec64 {
	int64_t v;
	uint8_t len;
	uint8_t bytes[10];
};

/* Encodings as Kafka's ByteUtils writes them (zigzag, then LEB128). */
static const struct vec32 vec32[] = {
	{ 0, 1, { 0x00 } },
	{ -1, 1, { 0x01 } },
	{ 1, 1, { 0x02 } },
	{ 63, 1, { 0x7e } },
	{ -64, 1, { 0x7f } },
	{ 64, 2, { 0x80, 0x01 } },
	{ -65, 2, { 0x81, 0x01 } },
	{ 300, 2, { 0xd8, 0x04 } },
	{ 8191, 2, { 0xfe, 0x7f } },
	{ 8192, 3, { 0x80, 0x80, 0x01 } },
	{ INT32_MAX, 5, { 0xfe, 0xff, 0xff, 0xff, 0x0f } },
	{ INT32_MIN, 5, { 0xff, 0xff, 0xff, 0xff, 0x0f } },
};

static const struct vec64 vec64[] = {
	{ 0, 1, { 0x00 } },
	{ -1, 1, { 0x01 } },
	{ 1, 1, { 0x02 } },
	{ 1700000000000ll, 6, { 0x80, 0xa0, 0xab, 0xfe, 0xf9, 0x62 } },
	{ (int64_t)INT32_MAX + 1, 5, { 0x80, 0x80, 0x80, 0x80, 0x10 } },
	{ INT64_MAX, 10, { 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 } },
	{ INT64_MIN, 10, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 } },
};

static void test_varint_known_encodings(void **state)
{
	uint8_t buf[16];

	(void)state;
	for (size_t i = 0; i < sizeof(vec32) / sizeof(vec32[0]); i++) {
		int32_t out = 0x5a5a5a5a;

		memset(buf, 0xee, sizeof(buf));
		assert_int_equal(st_varint_size(vec32[i].v), vec32[i].len);
		assert_int_equal(st_varint_encode(buf, vec32[i].v), vec32[i].len);
		assert_memory_equal(buf, vec32[i].bytes, vec32[i].len);
		assert_int_equal(buf[vec32[i].len], 0xee);
		assert_int_equal(st_varint_decode(vec32[i].bytes, vec32[i].len, &out), vec32[i].len);
		assert_int_equal(out, vec32[i].v);
	}
	for (size_t i = 0; i < sizeof(vec64) / sizeof(vec64[0]); i++) {
		int64_t out = 0x5a5a5a5a;

		memset(buf, 0xee, sizeof(buf));
		assert_int_equal(st_varlong_size(vec64[i].v), vec64[i].len);
		assert_int_equal(st_varlong_encode(buf, vec64[i].v), vec64[i].len);
		assert_memory_equal(buf, vec64[i].bytes, vec64[i].len);
		assert_int_equal(buf[vec64[i].len], 0xee);
		assert_int_equal(st_varlong_decode(vec64[i].bytes, vec64[i].len, &out), vec64[i].len);
		assert_true(out == vec64[i].v);
	}
}

static void test_varint_unsigned_limits(void **state)
{
	uint8_t buf[16];
	uint32_t u32;
	uint64_t u64;

	(void)state;
	assert_int_equal(st_uvarint_encode(buf, UINT32_MAX), 5);
	assert_int_equal(st_uvarint32_decode(buf, 5, &u32), 5);
	assert_true(u32 == UINT32_MAX);
	assert_int_equal(st_uvarint_encode(buf, UINT64_MAX), 10);
	assert_int_equal(st_uvarint_size(UINT64_MAX), 10);
	assert_int_equal(st_uvarint64_decode(buf, 10, &u64), 10);
	assert_true(u64 == UINT64_MAX);
	/* A 64-bit value past 32 bits is too wide for the 32-bit decoder. */
	assert_int_equal(st_uvarint_encode(buf, (uint64_t)UINT32_MAX + 1), 5);
	assert_int_equal(st_uvarint32_decode(buf, 5, &u32), -EBADMSG);
	assert_int_equal(st_uvarint_size(127), 1);
	assert_int_equal(st_uvarint_size(128), 2);
	assert_int_equal(st_uvarint_size(0), 1);
}

/* Each proper prefix of a multi-byte varint is truncated, not malformed. */
static void test_varint_truncated(void **state)
{
	int32_t v32;
	int64_t v64;

	(void)state;
	assert_int_equal(st_varint_decode(NULL, 0, &v32), -ENODATA);
	assert_int_equal(st_varlong_decode(NULL, 0, &v64), -ENODATA);
	for (size_t i = 0; i < sizeof(vec32) / sizeof(vec32[0]); i++)
		for (uint8_t n = 0; n < vec32[i].len; n++)
			assert_int_equal(st_varint_decode(vec32[i].bytes, n, &v32), -ENODATA);
	for (size_t i = 0; i < sizeof(vec64) / sizeof(vec64[0]); i++)
		for (uint8_t n = 0; n < vec64[i].len; n++)
			assert_int_equal(st_varlong_decode(vec64[i].bytes, n, &v64), -ENODATA);
}

static void test_varint_overlong(void **state)
{
	/* Five continuation bytes: a 32-bit varint may not have a sixth. */
	static const uint8_t six[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 };
	/* Fifth byte with bits above bit 31. */
	static const uint8_t wide32[] = { 0xff, 0xff, 0xff, 0xff, 0x1f };
	static const uint8_t eleven[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
					  0x80, 0x80, 0x00 };
	static const uint8_t wide64[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					  0xff, 0x02 };
	/* Non-minimal but in range: Java accepts it, so do we. */
	static const uint8_t padded[] = { 0x82, 0x80, 0x00 };
	int32_t v32;
	int64_t v64;

	(void)state;
	assert_int_equal(st_varint_decode(six, sizeof(six), &v32), -EBADMSG);
	assert_int_equal(st_varint_decode(six, 5, &v32), -EBADMSG);
	assert_int_equal(st_varint_decode(wide32, sizeof(wide32), &v32), -EBADMSG);
	assert_int_equal(st_varlong_decode(eleven, sizeof(eleven), &v64), -EBADMSG);
	assert_int_equal(st_varlong_decode(eleven, 10, &v64), -EBADMSG);
	assert_int_equal(st_varlong_decode(wide64, sizeof(wide64), &v64), -EBADMSG);
	assert_int_equal(st_varlong_decode(six, sizeof(six), &v64), 6);
	assert_true(v64 == 0);
	assert_int_equal(st_varint_decode(padded, sizeof(padded), &v32), 3);
	assert_int_equal(v32, 1);
}

/* Decoding stops at the end of the number, whatever follows. */
static void test_varint_roundtrip(void **state)
{
	uint8_t buf[32];
	uint64_t s = 0x243f6a8885a308d3ull;

	(void)state;
	for (int i = 0; i < 100000; i++) {
		int64_t v64, o64;
		int32_t v32, o32;
		int n;

		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		/* Spread the magnitudes so every encoded length appears. */
		v64 = (int64_t)(s >> (s & 63));
		v32 = (int32_t)(v64 >> (s & 31));
		memset(buf, 0xff, sizeof(buf));
		n = st_varlong_encode(buf, v64);
		assert_int_equal(n, st_varlong_size(v64));
		assert_int_equal(st_varlong_decode(buf, sizeof(buf), &o64), n);
		assert_true(o64 == v64);
		n = st_varint_encode(buf, v32);
		assert_int_equal(n, st_varint_size(v32));
		assert_int_equal(st_varint_decode(buf, sizeof(buf), &o32), n);
		assert_int_equal(o32, v32);
		assert_int_equal(st_unzigzag32(st_zigzag32(v32)), v32);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_varint_known_encodings),
		cmocka_unit_test(test_varint_unsigned_limits),
		cmocka_unit_test(test_varint_truncated),
		cmocka_unit_test(test_varint_overlong),
		cmocka_unit_test(test_varint_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
