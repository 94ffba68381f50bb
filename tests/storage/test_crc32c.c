/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CRC-32C: Kafka's check value, RFC 3720 vectors, chaining, and the SSE4.2
 * and table paths agreeing with a bitwise reference on many lengths and
 * alignments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "st_test_oracle.h"

#include "st_batch.h"
#include "st_crc32c.h"

/* The definition, one bit at a time: independent of both implementations. */

static void test_crc32c_check_value(void **state)
{
	(void)state;
	assert_int_equal(st_crc32c(0, "123456789", 9), 0xe3069283u);
	assert_int_equal(st_crc32c_sw(0, "123456789", 9), 0xe3069283u);
	assert_int_equal(crc_bitwise((const uint8_t *)"123456789", 9), 0xe3069283u);
	assert_int_equal(st_crc32c(0, "", 0), 0);
	assert_int_equal(st_crc32c(0x12345678u, "", 0), 0x12345678u);
}

/* RFC 3720 B.4 (iSCSI), the same polynomial and convention. */
static void test_crc32c_rfc3720_vectors(void **state)
{
	uint8_t buf[32];

	(void)state;
	memset(buf, 0, sizeof(buf));
	assert_int_equal(st_crc32c(0, buf, 32), 0x8a9136aau);
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(st_crc32c(0, buf, 32), 0x62a8ab43u);
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	assert_int_equal(st_crc32c(0, buf, 32), 0x46dd794eu);
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)(31 - i);
	assert_int_equal(st_crc32c(0, buf, 32), 0x113fdb5cu);
}

static void test_crc32c_chains(void **state)
{
	uint8_t buf[1000];
	uint64_t s = 42;

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rnd(&s);
	for (size_t cut = 0; cut <= sizeof(buf); cut += 37) {
		uint32_t c = st_crc32c(0, buf, cut);

		assert_int_equal(st_crc32c(c, buf + cut, sizeof(buf) - cut), st_crc32c(0, buf, sizeof(buf)));
		c = st_crc32c_sw(0, buf, cut);
		assert_int_equal(st_crc32c_sw(c, buf + cut, sizeof(buf) - cut), crc_bitwise(buf, sizeof(buf)));
	}
}

/*
 * Every length 0..300 at every alignment 0..15, plus lengths around the
 * hardware path's 3 x 256 and 3 x 8192 block groups and a few large buffers.
 */
static void test_crc32c_paths_agree(void **state)
{
	static const size_t big[] = { 767, 768, 769, 775, 776, 784, 1535, 1536, 1543, 4095, 4096,
				      6143, 6144, 6151, 6144 + 768 + 5, 16323, 16384,
				      24575, 24576, 24583, 25344, 25351, 49152 + 768 + 7, 65537,
				      1048588 };
	bool hw = st_crc32c_hw_available();
	size_t cap = 1048588 + 16;
	uint8_t *buf = malloc(cap);
	uint64_t s = 0x9e3779b97f4a7c15ull;

	(void)state;
	assert_non_null(buf);
	for (size_t i = 0; i < cap; i++)
		buf[i] = (uint8_t)rnd(&s);
	for (size_t align = 0; align < 16; align++) {
		for (size_t len = 0; len <= 300; len++) {
			uint32_t want = crc_bitwise(buf + align, len);

			assert_int_equal(st_crc32c_sw(0, buf + align, len), want);
			assert_int_equal(st_crc32c(0, buf + align, len), want);
			if (hw)
				assert_int_equal(st_crc32c_hw(0, buf + align, len), want);
		}
	}
	for (size_t i = 0; i < 4 * sizeof(big) / sizeof(big[0]); i++) {
		size_t len = big[i / 4], align = rnd(&s) & 15;
		uint32_t want = st_crc32c_sw(0, buf + align, len);

		assert_int_equal(crc_bitwise(buf + align, len), want);
		assert_int_equal(st_crc32c(0, buf + align, len), want);
		if (hw)
			assert_int_equal(st_crc32c_hw(0, buf + align, len), want);
	}
	if (!hw)
		print_message("no SSE4.2 here: only the table path was checked\n");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c_check_value),
		cmocka_unit_test(test_crc32c_rfc3720_vectors),
		cmocka_unit_test(test_crc32c_chains),
		cmocka_unit_test(test_crc32c_paths_agree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
