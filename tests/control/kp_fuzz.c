/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kp_fuzz.c - test_kp_fuzz's mutation engine and its valid frames (see
 * kp_fuzz.h): a seeded generator, producer batches from the storage
 * builder, the mutations, and one or two valid requests of every API and
 * version kp_api advertises.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kp_api.h"
#include "kp_fuzz.h"

/* ---- deterministic randomness -------------------------------------------- */

uint64_t fz_rnd64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);   /* splitmix64 */

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint32_t fz_rnd(uint64_t *s, uint32_t n)
{
	return n ? (uint32_t)(fz_rnd64(s) % n) : 0;
}

/* SLUICE_FUZZ_SEED varies the campaign; the default run is always the same. */
uint64_t fz_seed(uint64_t salt)
{
	const char *e = getenv("SLUICE_FUZZ_SEED");

	return (e ? strtoull(e, NULL, 0) : FZ_SEED) ^ salt;
}

long fz_iters(void)
{
	const char *e = getenv("SLUICE_FUZZ_ITERS");
	long n = e ? strtol(e, NULL, 10) : 0;

	return n > 0 ? n : FZ_ITERS_DEFAULT;
}

uint32_t fz_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void fz_put_be(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* ---- batches --------------------------------------------------------------- */

/*
 * A valid producer batch of 1..@max_records records (keys, null keys,
 * values, headers) from the storage builder, or with @codec a header over
 * random "compressed" bytes, as a producer's gzip/lz4/zstd batch looks to
 * a broker that does not open it.  @return its size.
 */
uint32_t fz_make_batch(uint64_t *s, uint8_t *buf, uint32_t cap, int max_records, int codec)
{
	struct st_batch_builder b;
	struct st_record_header h[3] = { { "h0", 2, "v0", 2 }, { "", 0, NULL, 0 },
					 { "trace", 5, "abcdefgh", 8 } };
	uint8_t val[300];
	int n = 1 + (int)fz_rnd(s, (uint32_t)max_records);

	for (size_t i = 0; i < sizeof(val); i++)
		val[i] = (uint8_t)fz_rnd(s, 256);
	assert_int_equal(st_batch_builder_begin(&b, buf, cap, FZ_TS0), 0);
	for (int i = 0; i < n; i++) {
		uint32_t vl = fz_rnd(s, 4) ? fz_rnd(s, 40) : fz_rnd(s, sizeof(val));
		bool key = fz_rnd(s, 2);

		if (st_batch_builder_add(&b, FZ_TS0 + (int64_t)fz_rnd(s, 1000), key ? "key" : NULL, 3,
					 fz_rnd(s, 8) ? val : NULL, (int32_t)vl, h, fz_rnd(s, 4)) < 0)
			break;
	}
	if (codec) {
		b.attributes = (int16_t)codec;
		if (fz_rnd(s, 2)) {                 /* an idempotent producer's fields */
			b.producer_id = 1000;
			b.producer_epoch = 0;
			b.base_sequence = 0;
		}
	}
	assert_true(st_batch_builder_finish(&b) > 0);
	if (codec) {
		/* The records are opaque to the broker: random bytes, CRC over them. */
		for (uint32_t i = ST_BATCH_HEADER_SIZE; i < b.len; i++)
			buf[i] = (uint8_t)fz_rnd(s, 256);
		st_batch_crc_update(buf);
	}
	return b.len;
}

/* Recompute a (mutated) batch's CRC if its batchLength lies within @len. */
void fz_crc_fix(uint8_t *batch, size_t len)
{
	int32_t l;

	if (len < ST_BATCH_HEADER_SIZE)
		return;
	l = (int32_t)fz_be32(batch + ST_BATCH_OFF_LENGTH);
	if (l >= ST_BATCH_HEADER_SIZE - ST_BATCH_LOG_OVERHEAD &&
	    (size_t)l + ST_BATCH_LOG_OVERHEAD <= len)
		fz_put_be(batch + ST_BATCH_OFF_CRC,
		       crc_bitwise(batch + ST_BATCH_OFF_ATTRIBUTES,
				  (size_t)l + ST_BATCH_LOG_OVERHEAD - ST_BATCH_OFF_ATTRIBUTES), 4);
}

/* ---- mutations ------------------------------------------------------------- */

static const uint8_t fz_special[] = { 0x00, 0xff, 0x7f, 0x80 };
static const uint32_t big32[] = { 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 0x10000,
				  0x0fffffff, 0x7ffffff0, 0x40000000 };
static const uint16_t big16[] = { 0x7fff, 0x8000, 0xffff, 0xfffe, 0x4000, 0x0100 };

/* A position that holds a small count or length (likely an ARRAY count or a STRING length). */
static size_t field_pos(uint64_t *s, const struct gb *m, int width)
{
	for (int tries = 0; tries < 32; tries++) {
		size_t p = 4 + fz_rnd(s, (uint32_t)(m->n - 4));
		uint32_t v;

		if (p + (size_t)width > m->n)
			continue;
		v = width == 4 ? fz_be32(m->b + p) : (uint32_t)(m->b[p] << 8 | m->b[p + 1]);
		if (v <= 300)
			return p;
	}
	return m->n;
}

/* Overwrite a varint inside a batch with an overlong one (continuation bytes, maybe unending). */
static void overlong_varint(uint64_t *s, uint8_t *p, size_t room)
{
	size_t k = 2 + fz_rnd(s, 11);

	if (k > room)
		k = room;
	for (size_t i = 0; i < k; i++)
		p[i] = 0x80 | (uint8_t)fz_rnd(s, 2);
	if (k && fz_rnd(s, 2))
		p[k - 1] = (uint8_t)fz_rnd(s, 0x80);   /* terminated, but too long */
}

/* One mutation inside batch @i of @m, then (usually) its CRC fixed so validation goes on. */
void fz_mutate_batch(uint64_t *s, struct gb *m, const struct fz_base *b, int i)
{
	size_t at = b->batch_at[i], len = b->batch_len[i], p;

	if (at + len > m->n)
		return;
	p = at + (fz_rnd(s, 3) ? ST_BATCH_HEADER_SIZE + fz_rnd(s, (uint32_t)(len - ST_BATCH_HEADER_SIZE))
			    : fz_rnd(s, ST_BATCH_HEADER_SIZE));
	if (p >= at + len)
		p = at + len - 1;
	switch (fz_rnd(s, 5)) {
	case 0:
		m->b[p] ^= (uint8_t)(1u << fz_rnd(s, 8));
		break;
	case 1:
		m->b[p] = fz_special[fz_rnd(s, sizeof(fz_special))];
		break;
	case 2:
		overlong_varint(s, m->b + p, at + len - p);
		break;
	case 3:                         /* a count or length field of the header */
		p = at + (fz_rnd(s, 2) ? ST_BATCH_OFF_RECORDS_COUNT : fz_rnd(s, 2) ?
			  ST_BATCH_OFF_LAST_OFFSET_DELTA : ST_BATCH_OFF_LENGTH);
		fz_put_be(m->b + p, big32[fz_rnd(s, sizeof(big32) / 4)] + fz_rnd(s, 3), 4);
		break;
	default:                        /* a zigzag varint made negative or huge */
		m->b[p] = (uint8_t)(fz_rnd(s, 2) ? 0x01 : 0x7f);
		break;
	}
	if (fz_rnd(s, 4))
		fz_crc_fix(m->b + at, m->n - at);
}

static void mutate_one(uint64_t *s, struct gb *m, const struct fz_base *b)
{
	size_t p = 4 + fz_rnd(s, (uint32_t)(m->n - 4)), q, k;

	switch (fz_rnd(s, 12)) {
	case 0:
		m->b[p] ^= (uint8_t)(1u << fz_rnd(s, 8));
		break;
	case 1:
		m->b[p] = fz_special[fz_rnd(s, sizeof(fz_special))];
		break;
	case 2:                         /* a STRING length: huge, negative, past the end */
		p = field_pos(s, m, 2);
		if (p < m->n)
			fz_put_be(m->b + p, fz_rnd(s, 2) ? big16[fz_rnd(s, sizeof(big16) / 2)]
						   : (uint16_t)(m->n - p - 2 + 1 + fz_rnd(s, 4)), 2);
		break;
	case 3:                         /* an ARRAY count or BYTES length */
		p = field_pos(s, m, 4);
		if (p < m->n)
			fz_put_be(m->b + p, fz_rnd(s, 2) ? big32[fz_rnd(s, sizeof(big32) / 4)]
						   : (uint32_t)(m->n - p - 4 + 1 + fz_rnd(s, 8)), 4);
		break;
	case 4:                         /* truncation */
		m->n = 4 + fz_rnd(s, (uint32_t)(m->n - 4));
		break;
	case 5:
	case 6:
		if (b->n_batches)
			fz_mutate_batch(s, m, b, (int)fz_rnd(s, (uint32_t)b->n_batches));
		else
			m->b[p] = (uint8_t)fz_rnd(s, 256);
		break;
	case 7:                         /* delete a span */
		k = 1 + fz_rnd(s, 16);
		if (p + k > m->n)
			k = m->n - p;
		memmove(m->b + p, m->b + p + k, m->n - p - k);
		m->n -= k;
		break;
	case 8:                         /* repeat a span */
		k = 1 + fz_rnd(s, 16);
		if (p + k > m->n)
			k = m->n - p;
		if (m->n + k <= sizeof(m->b)) {
			memmove(m->b + p + k, m->b + p, m->n - p);
			m->n += k;
		}
		break;
	case 9: {                       /* the header names another API or version */
		size_t n;
		const struct kp_api_entry *t = kp_api_table(&n), *e = &t[fz_rnd(s, (uint32_t)n)];

		if (m->n < 8)
			break;
		if (fz_rnd(s, 2))
			fz_put_be(m->b + 4, (uint16_t)e->api_key, 2);
		fz_put_be(m->b + 6, (uint16_t)(e->min_version - 1 + (int)fz_rnd(s, (uint32_t)(
			e->max_version - e->min_version + 3))), 2);
		break;
	}
	case 10:                        /* random bytes over a span */
		q = p + 1 + fz_rnd(s, 8);
		for (; p < q && p < m->n; p++)
			m->b[p] = (uint8_t)fz_rnd(s, 256);
		break;
	default:                        /* trailing garbage */
		k = 1 + fz_rnd(s, 16);
		for (; k && m->n < sizeof(m->b); k--)
			m->b[m->n++] = (uint8_t)fz_rnd(s, 256);
		break;
	}
}

/* A mutated copy of @b: one mutation half the time, else two to four; size prefix fixed. */
void fz_mutate(uint64_t *s, const struct fz_base *b, struct gb *m)
{
	int k = fz_rnd(s, 2) ? 1 : 2 + (int)fz_rnd(s, 3);

	memcpy(m->b, b->g.b, b->g.n);
	m->n = b->g.n;
	for (int i = 0; i < k && m->n > 4; i++)
		mutate_one(s, m, b);
	g_end(m);
}

/* ---- the valid frames ------------------------------------------------------ */

static struct fz_base *base_add(struct fz_base *bs, int *n, int key, int ver)
{
	struct fz_base *b = &bs[(*n)++];

	assert_true(*n <= FZ_BASES_MAX);
	b->g.n = 0;
	b->key = (int16_t)key;
	b->ver = (int16_t)ver;
	b->n_batches = 0;
	return b;
}

/* A partition's records: a batch, remembered for mutate_batch. */
static void base_batch(struct fz_base *b, const uint8_t *batch, uint32_t len)
{
	g_i32(&b->g, (int32_t)len);                     /* records */
	b->batch_at[b->n_batches] = b->g.n;
	b->batch_len[b->n_batches++] = len;
	g_raw(&b->g, batch, len);
}

/* Produce v3-7 to "g" [0] and "h" [1, 2]: builder batches, one compressed-flagged. */
static void base_produce(uint64_t *s, struct fz_base *b, int v, int16_t acks)
{
	static uint8_t bb[3][4096];
	uint32_t l0 = fz_make_batch(s, bb[0], sizeof(bb[0]), 5, 0);
	uint32_t l1 = fz_make_batch(s, bb[1], sizeof(bb[1]), 3, 1 + (int)fz_rnd(s, 4));
	uint32_t l2 = fz_make_batch(s, bb[2], sizeof(bb[2]), 1, 0);

	g_req(&b->g, 0, v, 100 + v);
	g_str(&b->g, NULL);                             /* transactional_id */
	g_i16(&b->g, acks);                             /* acks */
	g_i32(&b->g, 1000);                             /* timeout_ms */
	g_i32(&b->g, 2);                                /* topics */
	g_str(&b->g, "g");
	g_i32(&b->g, 1);
	g_i32(&b->g, 0);
	base_batch(b, bb[0], l0);
	g_str(&b->g, "h");
	g_i32(&b->g, 2);
	g_i32(&b->g, 1);
	base_batch(b, bb[1], l1);
	g_i32(&b->g, 2);
	base_batch(b, bb[2], l2);
	g_end(&b->g);
}

/* Fetch v4-11 of "g" [0] and "h" [0, 2], forgotten topics from v7. */
static void base_fetch(struct fz_base *b, int v)
{
	static const int32_t parts[] = { 0, 2 };

	g_req(&b->g, 1, v, 200 + v);
	g_i32(&b->g, -1);                               /* replica_id */
	g_i32(&b->g, 0);                                /* max_wait_ms */
	g_i32(&b->g, 1);                                /* min_bytes */
	g_i32(&b->g, G_MIB);                            /* max_bytes */
	g_i8(&b->g, 0);                                 /* isolation_level */
	if (v >= 7) {
		g_i32(&b->g, 0);                        /* session_id */
		g_i32(&b->g, -1);                       /* session_epoch */
	}
	g_i32(&b->g, 2);                                /* topics */
	for (int t = 0; t < 2; t++) {
		g_str(&b->g, t ? "h" : "g");
		g_i32(&b->g, t ? 2 : 1);
		for (int i = 0; i < (t ? 2 : 1); i++) {
			g_i32(&b->g, t ? parts[i] : 0);         /* partition */
			if (v >= 9)
				g_i32(&b->g, -1);       /* current_leader_epoch */
			g_i64(&b->g, i);                /* fetch_offset */
			if (v >= 5)
				g_i64(&b->g, -1);       /* log_start_offset */
			g_i32(&b->g, 4096);             /* partition_max_bytes */
		}
	}
	if (v >= 7) {
		g_i32(&b->g, 1);                        /* forgotten_topics_data */
		g_str(&b->g, "h");
		g_i32(&b->g, 2);
		g_i32(&b->g, 0);
		g_i32(&b->g, 1);
	}
	if (v >= 11)
		g_str(&b->g, "rack");                   /* rack_id */
	g_end(&b->g);
}

static void base_admin(struct fz_base *bs, int *n, int node)
{
	struct fz_base *b;

	for (int v = 0; v <= 5; v++) {                  /* Metadata */
		b = base_add(bs, n, 3, v);
		g_req(&b->g, 3, v, 300 + v);
		g_i32(&b->g, 3);
		g_str(&b->g, "g");
		g_str(&b->g, "h");
		g_str(&b->g, "nosuch");
		if (v >= 4)
			g_i8(&b->g, 1);                 /* allow_auto_topic_creation */
		g_end(&b->g);
	}
	for (int v = 0; v <= 4; v++) {                  /* CreateTopics */
		b = base_add(bs, n, 19, v);
		g_req(&b->g, 19, v, 400 + v);
		g_i32(&b->g, 3);
		g_create_topic(&b->g, "fz", 2, 1, "retention.ms", "5000");
		g_create_topic(&b->g, "g", 1, 1, NULL, NULL);
		g_str(&b->g, "fa");                     /* with a manual assignment */
		g_i32(&b->g, -1);
		g_i16(&b->g, -1);
		g_i32(&b->g, 1);
		g_i32(&b->g, 0);
		g_i32(&b->g, 1);
		g_i32(&b->g, node);
		g_i32(&b->g, 0);
		g_i32(&b->g, 1000);                     /* timeout_ms */
		if (v >= 1)
			g_i8(&b->g, v < 4);             /* validate_only (creating costs a delete) */
		g_end(&b->g);
	}
	for (int v = 0; v <= 3; v++) {                  /* DeleteTopics */
		b = base_add(bs, n, 20, v);
		g_req(&b->g, 20, v, 500 + v);
		g_i32(&b->g, 2);
		g_str(&b->g, v < 2 ? "zz" : "nosuch2");        /* deleting costs a re-create */
		g_str(&b->g, "nosuch");
		g_i32(&b->g, 1000);
		g_end(&b->g);
	}
	for (int v = 0; v <= 1; v++) {                  /* DescribeConfigs */
		b = base_add(bs, n, 32, v);
		g_req(&b->g, 32, v, 600 + v);
		g_i32(&b->g, 3);
		g_i8(&b->g, 2);
		g_str(&b->g, "g");
		g_i32(&b->g, 2);
		g_str(&b->g, "segment.bytes");
		g_str(&b->g, "retention.ms");
		g_i8(&b->g, 2);
		g_str(&b->g, "nosuch");
		g_i32(&b->g, -1);
		g_i8(&b->g, 4);
		g_str(&b->g, "0");
		g_i32(&b->g, 1);
		g_str(&b->g, "max.connections");
		if (v >= 1)
			g_i8(&b->g, 1);                 /* include_synonyms */
		g_end(&b->g);
	}
	for (int v = 0; v <= 2; v++) {                  /* DescribeGroups */
		b = base_add(bs, n, 15, v);
		g_req(&b->g, 15, v, 700 + v);
		g_i32(&b->g, 2);
		g_str(&b->g, "grp");
		g_str(&b->g, "");
		g_end(&b->g);
	}
	for (int v = 0; v <= 2; v++) {                  /* ListGroups */
		b = base_add(bs, n, 16, v);
		g_req(&b->g, 16, v, 800 + v);
		g_end(&b->g);
	}
}

/* Valid frames of every API and version kp_api advertises (and ApiVersions v3). @return n. */
int fz_bases_build(uint64_t *s, struct fz_base *bs)
{
	static const int64_t ts[] = { -1, -2, FZ_TS0 + 5 };
	struct fz_base *b;
	int n = 0;

	for (int v = 0; v <= 3; v++) {                  /* ApiVersions; v3 is the fallback */
		b = base_add(bs, &n, 18, v);
		g_req(&b->g, 18, v, 10 + v);
		if (v == 3) {
			g_i8(&b->g, 0);                 /* header tagged fields */
			g_i8(&b->g, 4);
			g_raw(&b->g, "abc", 3);         /* client_software_name */
			g_i8(&b->g, 2);
			g_raw(&b->g, "1", 1);
			g_i8(&b->g, 0);
		}
		g_end(&b->g);
	}
	for (int v = 0; v <= 7; v++) {                  /* Produce */
		b = base_add(bs, &n, 0, v);
		g_req_produce(&b->g, v, 20 + v, "g", (int16_t)(v % 3 - 1), FZ_TS0, false);
		b->batch_at[0] = b->g.n - G_BATCH_LEN;
		b->batch_len[0] = G_BATCH_LEN;
		b->n_batches = 1;
		if (v >= 3)
			base_produce(s, base_add(bs, &n, 0, v), v, (int16_t)(1 - (int)fz_rnd(s, 3)));
	}
	for (int v = 4; v <= 11; v++) {                 /* Fetch */
		g_req_fetch(&base_add(bs, &n, 1, v)->g, v, 30 + v, 0, 0);
		base_fetch(base_add(bs, &n, 1, v), v);
	}
	for (int v = 1; v <= 2; v++)                    /* ListOffsets */
		g_req_list_offsets(&base_add(bs, &n, 2, v)->g, v, 40 + v, ts, 3);
	base_admin(bs, &n, 0);
	for (int v = 0; v <= 1; v++) {                  /* InitProducerId: idempotent, transactional */
		g_req_init_producer_id(&base_add(bs, &n, 22, v)->g, v, 50 + v, NULL, -1);
		g_req_init_producer_id(&base_add(bs, &n, 22, v)->g, v, 60 + v, "txn", 60000);
	}
	return n;
}
