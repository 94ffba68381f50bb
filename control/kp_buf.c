/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kp_buf.c - bounds-checked big-endian readers and growable writers for the
 * Kafka protocol (see kp_buf.h for the error model).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kp_buf.h"
#include "st_endian.h"
#include "st_varint.h"

_Static_assert(-EBADMSG == -74, "kp_reader_fail uses the Linux EBADMSG value");

static inline const uint8_t *rd_take(struct kp_reader *r, size_t n)
{
	const uint8_t *p;

	if (r->err || r->len - r->pos < n) {
		kp_reader_fail(r);
		return NULL;
	}
	p = r->buf + r->pos;
	r->pos += n;
	return p;
}

int8_t kp_read_i8(struct kp_reader *r)
{
	const uint8_t *p = rd_take(r, 1);

	return p ? (int8_t)p[0] : 0;
}

int16_t kp_read_i16(struct kp_reader *r)
{
	const uint8_t *p = rd_take(r, 2);

	return p ? (int16_t)st_be16_load(p) : 0;
}

int32_t kp_read_i32(struct kp_reader *r)
{
	const uint8_t *p = rd_take(r, 4);

	return p ? (int32_t)st_be32_load(p) : 0;
}

int64_t kp_read_i64(struct kp_reader *r)
{
	const uint8_t *p = rd_take(r, 8);

	return p ? (int64_t)st_be64_load(p) : 0;
}

bool kp_read_bool(struct kp_reader *r)
{
	return kp_read_i8(r) != 0;
}

/* Varints through the storage codec's decoders (one copy of the format). */
uint32_t kp_read_uvarint(struct kp_reader *r)
{
	uint32_t v = 0;
	int n = r->err ? -1 : st_uvarint32_decode(r->buf + r->pos, r->len - r->pos, &v);

	if (n < 0) {
		kp_reader_fail(r);
		return 0;
	}
	r->pos += (size_t)n;
	return v;
}

int32_t kp_read_varint(struct kp_reader *r)
{
	int32_t v = 0;
	int n = r->err ? -1 : st_varint_decode(r->buf + r->pos, r->len - r->pos, &v);

	if (n < 0) {
		kp_reader_fail(r);
		return 0;
	}
	r->pos += (size_t)n;
	return v;
}

int64_t kp_read_varlong(struct kp_reader *r)
{
	int64_t v = 0;
	int n = r->err ? -1 : st_varlong_decode(r->buf + r->pos, r->len - r->pos, &v);

	if (n < 0) {
		kp_reader_fail(r);
		return 0;
	}
	r->pos += (size_t)n;
	return v;
}

static struct kp_str rd_view(struct kp_reader *r, int64_t len, bool nullable)
{
	struct kp_str s = { NULL, -1 };
	const uint8_t *p;

	if (len == -1 && nullable)
		return s;
	if (len < 0) {
		kp_reader_fail(r);
		return s;
	}
	p = rd_take(r, (size_t)len);
	if (p) {
		s.ptr = (const char *)p;
		s.len = (int32_t)len;
	}
	return s;
}

struct kp_str kp_read_str(struct kp_reader *r)
{
	return rd_view(r, kp_read_i16(r), false);
}

struct kp_str kp_read_nstr(struct kp_reader *r)
{
	return rd_view(r, kp_read_i16(r), true);
}

struct kp_str kp_read_bytes(struct kp_reader *r)
{
	return rd_view(r, kp_read_i32(r), true);
}

struct kp_str kp_read_cstr(struct kp_reader *r)
{
	/* Compact lengths are stored + 1; 0 is null. */
	return rd_view(r, (int64_t)kp_read_uvarint(r) - 1, true);
}

int32_t kp_read_array(struct kp_reader *r, size_t min_elem_size)
{
	int32_t n = kp_read_i32(r);

	if (!kp_reader_ok(r) || n == -1)
		return n;
	if (n < 0 || (min_elem_size && (size_t)n > kp_reader_left(r) / min_elem_size)) {
		kp_reader_fail(r);
		return 0;
	}
	return n;
}

void kp_read_tags_skip(struct kp_reader *r)
{
	uint32_t n = kp_read_uvarint(r);

	for (uint32_t i = 0; i < n && kp_reader_ok(r); i++) {
		(void)kp_read_uvarint(r); /* tag */
		kp_read_skip(r, kp_read_uvarint(r));
	}
}

void kp_read_skip(struct kp_reader *r, size_t n)
{
	(void)rd_take(r, n);
}

bool kp_str_eq(struct kp_str s, const char *c)
{
	size_t n = strlen(c);

	return s.ptr && (size_t)s.len == n && memcmp(s.ptr, c, n) == 0;
}

void kp_writer_init(struct kp_writer *w)
{
	memset(w, 0, sizeof(*w));
}

void kp_writer_free(struct kp_writer *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

static uint8_t *wr_room(struct kp_writer *w, size_t n)
{
	if (w->err)
		return NULL;
	if (w->cap - w->len < n) {
		size_t cap = w->cap ? w->cap : 256;
		uint8_t *nb;

		while (cap - w->len < n)
			cap *= 2;
		nb = realloc(w->buf, cap);
		if (!nb) {
			w->err = -ENOMEM;
			return NULL;
		}
		w->buf = nb;
		w->cap = cap;
	}
	w->len += n;
	return w->buf + w->len - n;
}

void kp_write_raw(struct kp_writer *w, const void *p, size_t n)
{
	uint8_t *d = wr_room(w, n);

	if (d && n)
		memcpy(d, p, n);
}

static void wr_be(struct kp_writer *w, uint64_t v, unsigned int n)
{
	uint8_t *d = wr_room(w, n);

	if (!d)
		return;
	for (unsigned int i = 0; i < n; i++)
		d[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

void kp_write_i8(struct kp_writer *w, int8_t v)
{
	wr_be(w, (uint8_t)v, 1);
}

void kp_write_i16(struct kp_writer *w, int16_t v)
{
	wr_be(w, (uint16_t)v, 2);
}

void kp_write_i32(struct kp_writer *w, int32_t v)
{
	wr_be(w, (uint32_t)v, 4);
}

void kp_write_i64(struct kp_writer *w, int64_t v)
{
	wr_be(w, (uint64_t)v, 8);
}

void kp_write_bool(struct kp_writer *w, bool v)
{
	wr_be(w, v ? 1 : 0, 1);
}

void kp_write_uvarint(struct kp_writer *w, uint32_t v)
{
	uint8_t tmp[5];

	kp_write_raw(w, tmp, (size_t)st_uvarint_encode(tmp, v));
}

void kp_write_strn(struct kp_writer *w, const char *s, int32_t len)
{
	if (!s) {
		kp_write_i16(w, -1);
		return;
	}
	kp_write_i16(w, (int16_t)len);
	kp_write_raw(w, s, (size_t)len);
}

void kp_write_str(struct kp_writer *w, const char *s)
{
	kp_write_strn(w, s, s ? (int32_t)strlen(s) : -1);
}

void kp_write_bytes(struct kp_writer *w, const void *p, int32_t len)
{
	if (!p) {
		kp_write_i32(w, -1);
		return;
	}
	kp_write_i32(w, len);
	kp_write_raw(w, p, (size_t)len);
}

void kp_write_cstr(struct kp_writer *w, const char *s)
{
	size_t n;

	if (!s) {
		kp_write_uvarint(w, 0);
		return;
	}
	n = strlen(s);
	kp_write_uvarint(w, (uint32_t)n + 1);
	kp_write_raw(w, s, n);
}

size_t kp_write_i32_slot(struct kp_writer *w)
{
	size_t slot = w->len;

	kp_write_i32(w, 0);
	return slot;
}

void kp_write_patch_i32(struct kp_writer *w, size_t slot, int32_t v)
{
	uint32_t u = (uint32_t)v;

	if (w->err || slot + 4 > w->len)
		return;
	w->buf[slot] = (uint8_t)(u >> 24);
	w->buf[slot + 1] = (uint8_t)(u >> 16);
	w->buf[slot + 2] = (uint8_t)(u >> 8);
	w->buf[slot + 3] = (uint8_t)u;
}
