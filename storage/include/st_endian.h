/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * st_endian.h - big-endian loads and stores at any alignment.
 *
 * Kafka's wire and disk formats are big-endian and its fields sit at odd
 * offsets (the batch CRC is at byte 17), so every access goes through
 * memcpy, which compilers turn into one mov plus a bswap.
 */
#ifndef ST_ENDIAN_H
#define ST_ENDIAN_H

#include <endian.h>
#include <stdint.h>
#include <string.h>

static inline uint16_t st_be16_load(const void *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return be16toh(v);
}

static inline uint32_t st_be32_load(const void *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return be32toh(v);
}

static inline uint64_t st_be64_load(const void *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return be64toh(v);
}

static inline void st_be16_store(void *p, uint16_t v)
{
	v = htobe16(v);
	memcpy(p, &v, sizeof(v));
}

static inline void st_be32_store(void *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, sizeof(v));
}

static inline void st_be64_store(void *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, sizeof(v));
}

#endif /* ST_ENDIAN_H */
