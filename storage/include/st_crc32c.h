/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * st_crc32c.h - the two CRC-32C implementations behind st_crc32c().
 *
 * st_crc32c() (declared in st_batch.h) picks the SSE4.2 instruction when the
 * CPU has it and the table-driven code otherwise.  Both are exported so tests
 * can check they agree and benchmarks can time each; nothing else should
 * call them directly.  All share Kafka's convention: pass 0 to start, pass
 * the previous result to continue over more bytes.
 */
#ifndef ST_CRC32C_H
#define ST_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Portable byte-at-a-time table implementation. */
uint32_t st_crc32c_sw(uint32_t crc, const void *buf, size_t len);

/** True when st_crc32c_hw() may be called on this CPU. */
bool st_crc32c_hw_available(void);

/** SSE4.2 crc32 instruction; only when st_crc32c_hw_available(). */
uint32_t st_crc32c_hw(uint32_t crc, const void *buf, size_t len);

#endif /* ST_CRC32C_H */
