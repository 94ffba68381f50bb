/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kp_golden.h - a tiny independent big-endian byte builder for golden
 * frames, so expected bytes are not produced by the code under test, and
 * the request frames the control tests share (test_kp_api, test_kp_data,
 * test_kp_fuzz).  Only the CRC-32C of a batch comes from storage.
 */
#ifndef KP_GOLDEN_H
#define KP_GOLDEN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "st_batch.h" /* st_crc32c() */

struct gb {
	uint8_t b[16384];
	size_t n;
};

static inline void g_u(struct gb *g, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--)
		g->b[g->n++] = (uint8_t)(v >> (8 * i));
}
static inline void g_i8(struct gb *g, int v) { g_u(g, (uint8_t)v, 1); }
static inline void g_i16(struct gb *g, int v) { g_u(g, (uint16_t)v, 2); }
static inline void g_i32(struct gb *g, int32_t v) { g_u(g, (uint32_t)v, 4); }
static inline void g_i64(struct gb *g, int64_t v) { g_u(g, (uint64_t)v, 8); }
static inline void g_raw(struct gb *g, const void *p, size_t n)
{
	memcpy(g->b + g->n, p, n);
	g->n += n;
}
/* STRING / NULLABLE_STRING (NULL = -1). */
static inline void g_str(struct gb *g, const char *s)
{
	if (!s) {
		g_i16(g, -1);
		return;
	}
	g_i16(g, (int)strlen(s));
	g_raw(g, s, strlen(s));
}
/* Start a frame: size placeholder; g_end fills it. */
static inline void g_begin(struct gb *g)
{
	g->n = 0;
	g_i32(g, 0);
}
static inline void g_end(struct gb *g)
{
	uint32_t v = (uint32_t)(g->n - 4);

	g->b[0] = (uint8_t)(v >> 24);
	g->b[1] = (uint8_t)(v >> 16);
	g->b[2] = (uint8_t)(v >> 8);
	g->b[3] = (uint8_t)v;
}
/* Request header v1: api_key, api_version, correlation_id, client_id. */
static inline void g_req(struct gb *g, int key, int ver, int32_t corr)
{
	g_begin(g);
	g_i16(g, key);
	g_i16(g, ver);
	g_i32(g, corr);
	g_str(g, "golden");
}

#define G_BATCH_LEN 70          /* g_batch: one record "k" = "v", no headers */
#define G_MIB (1 << 20)

/* One RecordBatch v2 as a producer sends it: one record "k" = "v" at @ts. */
static inline void g_batch(struct gb *g, int64_t base_offset, int32_t epoch, int64_t ts,
			   bool bad_crc)
{
	static const uint8_t rec[] = { 0x10, 0, 0, 0, 0x02, 'k', 0x02, 'v', 0 };
	size_t crc_at, end;
	uint32_t crc;

	g_i64(g, base_offset);                          /* baseOffset */
	g_i32(g, G_BATCH_LEN - 12);                     /* batchLength */
	g_i32(g, epoch);                                /* partitionLeaderEpoch */
	g_i8(g, 2);                                     /* magic */
	crc_at = g->n;
	g_i32(g, 0);                                    /* crc, below */
	g_i16(g, 0);                                    /* attributes */
	g_i32(g, 0);                                    /* lastOffsetDelta */
	g_i64(g, ts);                                   /* baseTimestamp */
	g_i64(g, ts);                                   /* maxTimestamp */
	g_i64(g, -1);                                   /* producerId */
	g_i16(g, -1);                                   /* producerEpoch */
	g_i32(g, -1);                                   /* baseSequence */
	g_i32(g, 1);                                    /* recordsCount */
	g_raw(g, rec, sizeof(rec));
	crc = st_crc32c(0, g->b + crc_at + 4, g->n - crc_at - 4) ^ (bad_crc ? 1 : 0);
	end = g->n;
	g->n = crc_at;
	g_u(g, crc, 4);
	g->n = end;
}

/* Produce of one g_batch to @t partition 0 (v0-2 have no transactional_id). */
static inline void g_req_produce(struct gb *g, int v, int32_t corr, const char *t, int16_t acks,
				 int64_t ts, bool bad_crc)
{
	g_req(g, 0, v, corr);
	if (v >= 3)
		g_str(g, NULL);                         /* transactional_id */
	g_i16(g, acks);                                 /* acks */
	g_i32(g, 30000);                                /* timeout_ms */
	g_i32(g, 1);                                    /* topics */
	g_str(g, t);
	g_i32(g, 1);                                    /* partitions */
	g_i32(g, 0);                                    /* index */
	g_i32(g, G_BATCH_LEN);                          /* records */
	g_batch(g, 0, -1, ts, bad_crc);
	g_end(g);
}

/* Fetch v4-11 of topic "g" partition 0 from @offset. */
static inline void g_req_fetch(struct gb *g, int v, int32_t corr, int32_t max_wait,
			       int64_t offset)
{
	g_req(g, 1, v, corr);
	g_i32(g, -1);                                   /* replica_id */
	g_i32(g, max_wait);                             /* max_wait_ms */
	g_i32(g, 1);                                    /* min_bytes */
	g_i32(g, G_MIB);                                /* max_bytes */
	g_i8(g, 1);                                     /* isolation_level */
	if (v >= 7) {
		g_i32(g, 0);                            /* session_id */
		g_i32(g, -1);                           /* session_epoch */
	}
	g_i32(g, 1);                                    /* topics */
	g_str(g, "g");
	g_i32(g, 1);                                    /* partitions */
	g_i32(g, 0);                                    /* partition */
	if (v >= 9)
		g_i32(g, -1);                           /* current_leader_epoch */
	g_i64(g, offset);                               /* fetch_offset */
	if (v >= 5)
		g_i64(g, -1);                           /* log_start_offset */
	g_i32(g, G_MIB);                                /* partition_max_bytes */
	if (v >= 7)
		g_i32(g, 0);                            /* forgotten_topics_data */
	if (v >= 11)
		g_str(g, "");                           /* rack_id */
	g_end(g);
}

/* ListOffsets v1-2: "g" partition 0 at each of @ts[@n], then "nope" partition 3. */
static inline void g_req_list_offsets(struct gb *g, int v, int32_t corr, const int64_t *ts, int n)
{
	g_req(g, 2, v, corr);
	g_i32(g, -1);                                   /* replica_id */
	if (v >= 2)
		g_i8(g, 0);                             /* isolation_level */
	g_i32(g, 2);                                    /* topics */
	g_str(g, "g");
	g_i32(g, n);                                    /* partitions */
	for (int i = 0; i < n; i++) {
		g_i32(g, 0);                            /* partition_index */
		g_i64(g, ts[i]);                        /* timestamp */
	}
	g_str(g, "nope");
	g_i32(g, 1);
	g_i32(g, 3);
	g_i64(g, -1);
	g_end(g);
}

/* DeleteTopics v1 of one topic. */
static inline void g_req_delete_topics(struct gb *g, int32_t corr, const char *t)
{
	g_req(g, 20, 1, corr);
	g_i32(g, 1);                                    /* topic_names */
	g_str(g, t);
	g_i32(g, 30000);                                /* timeout_ms */
	g_end(g);
}

/* InitProducerId v0-1 (@tid NULL: an idempotent producer, as librdkafka sends it). */
static inline void g_req_init_producer_id(struct gb *g, int v, int32_t corr, const char *tid,
					  int32_t timeout_ms)
{
	g_req(g, 22, v, corr);
	g_str(g, tid);                                  /* transactional_id */
	g_i32(g, timeout_ms);                           /* transaction_timeout_ms */
	g_end(g);
}

/* One CreatableTopic of a CreateTopics request, with at most one config. */
static inline void g_create_topic(struct gb *g, const char *name, int parts, int rf,
				  const char *cfg_name, const char *cfg_value)
{
	g_str(g, name);
	g_i32(g, parts);
	g_i16(g, rf);
	g_i32(g, 0);                                    /* assignments */
	g_i32(g, cfg_name ? 1 : 0);                     /* configs */
	if (cfg_name) {
		g_str(g, cfg_name);
		g_str(g, cfg_value);
	}
}

static inline void g_hexdump(const char *what, const uint8_t *p, size_t n)
{
	fprintf(stderr, "%s (%zu):", what, n);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "%s%02x", i % 32 ? " " : "\n  ", p[i]);
	fputc('\n', stderr);
}

#endif /* KP_GOLDEN_H */
