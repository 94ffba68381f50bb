/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test oracles shared by the storage codec tests, test_kp_fuzz and
 * fuzz_batch: a bitwise CRC-32C written straight from the definition
 * (independent of the code under test) and a deterministic xorshift, so a
 * failure reproduces.
 */
#ifndef ST_TEST_ORACLE_H
#define ST_TEST_ORACLE_H

#include <stddef.h>
#include <stdint.h>

static inline uint32_t crc_bitwise(const uint8_t *p, size_t len)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < len; i++) {
		c ^= p[i];
		for (int b = 0; b < 8; b++)
			c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1)));
	}
	return ~c;
}

static inline uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

#endif /* ST_TEST_ORACLE_H */
