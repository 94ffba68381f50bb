/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_util.h - what the libFuzzer targets in tests/fuzz share: a check that
 * aborts with its condition and place (libFuzzer then keeps the input as a
 * crash artifact), an exact-size heap copy of the input (so ASan sees a read
 * one byte past it), and big-endian readers and writers for building frames.
 */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FZ_CHECK(cond)                                                                   \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                  \
			abort();                                                         \
		}                                                                        \
	} while (0)

/* A copy of @n bytes in a buffer of exactly that size (1 byte for none). */
static inline uint8_t *fz_dup(const uint8_t *p, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);

	FZ_CHECK(c != NULL);
	if (n)
		memcpy(c, p, n);
	return c;
}

static inline uint32_t fz_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint16_t fz_get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void fz_set_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The directory scratch files go to: tmpfs when there is one (fsync is free there). */
static inline const char *fz_tmp_root(void)
{
	const char *e = getenv("SLUICE_FUZZ_TMP");

	if (e && *e)
		return e;
	return access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
}

#endif /* FUZZ_UTIL_H */
