/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kp_fuzz.h - the mutation engine of test_kp_fuzz (kp_fuzz.c): valid
 * request frames of every advertised API and version, and the mutations
 * applied to them and to RecordBatches.  Deterministic: everything draws
 * from one splitmix64 state.
 */
#ifndef KP_FUZZ_H
#define KP_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../storage/st_test_oracle.h"
#include "kp_golden.h"

#define FZ_SEED 0x5eed2026f00dULL
#define FZ_ITERS_DEFAULT 30000
#define FZ_TS0 1700000000000LL
#define FZ_BASES_MAX 96

/* A frame to mutate: its bytes and, for a produce, where its batches lie. */
struct fz_base {
	struct gb g;
	int16_t key, ver;
	int n_batches;
	size_t batch_at[4], batch_len[4];
};

uint64_t fz_rnd64(uint64_t *s);
/** Uniform in [0, n); 0 when n is 0. */
uint32_t fz_rnd(uint64_t *s, uint32_t n);
/** FZ_SEED, or SLUICE_FUZZ_SEED when set, xor @salt. */
uint64_t fz_seed(uint64_t salt);
/** SLUICE_FUZZ_ITERS, default FZ_ITERS_DEFAULT. */
long fz_iters(void);
uint32_t fz_be32(const uint8_t *p);
void fz_put_be(uint8_t *p, uint64_t v, int bytes);
/**
 * A valid producer batch of 1..@max_records records from the storage
 * builder, or with @codec (1-4) a header over random "compressed" bytes.
 * @return its size.
 */
uint32_t fz_make_batch(uint64_t *s, uint8_t *buf, uint32_t cap, int max_records, int codec);
/** Recompute a (mutated) batch's CRC if its batchLength lies within @len. */
void fz_crc_fix(uint8_t *batch, size_t len);
/** One mutation inside batch @i of @m (its CRC usually fixed after). */
void fz_mutate_batch(uint64_t *s, struct gb *m, const struct fz_base *b, int i);
/** A mutated copy of @b in @m, size prefix fixed. */
void fz_mutate(uint64_t *s, const struct fz_base *b, struct gb *m);
/** Fill @bs (FZ_BASES_MAX) with valid frames of every advertised API and version. @return n. */
int fz_bases_build(uint64_t *s, struct fz_base *bs);

#endif /* KP_FUZZ_H */
