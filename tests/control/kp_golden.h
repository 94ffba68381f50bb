/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kp_golden.h - a tiny independent big-endian byte builder for golden
 * frames, so expected bytes are not produced by the code under test.
 */
#ifndef KP_GOLDEN_H
#define KP_GOLDEN_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

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

static inline void g_hexdump(const char *what, const uint8_t *p, size_t n)
{
	fprintf(stderr, "%s (%zu):", what, n);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "%s%02x", i % 32 ? " " : "\n  ", p[i]);
	fputc('\n', stderr);
}

#endif /* KP_GOLDEN_H */
