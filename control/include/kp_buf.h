/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kp_buf.h - the Kafka protocol codec, lower layer: bounds-checked
 * big-endian cursors.
 *
 * Reading: struct kp_reader walks a request frame.  Every read checks bounds;
 * the first failure makes the reader sticky-failed (err = -EBADMSG) and
 * records the byte offset where it happened, after which every read returns
 * zero values, so a handler reads its fields in spec order and checks
 * kp_reader_ok() once at the end.  Strings and bytes are views into the
 * frame, never copied.
 *
 * Writing: struct kp_writer appends to a growable heap buffer (the control
 * thread may allocate).  Lengths and counts not known in advance are
 * reserved with kp_write_i32_slot() and patched with kp_write_patch_i32().
 * Allocation failure is sticky too (err = -ENOMEM).
 *
 * Kafka types: int8..int64 big-endian; STRING = i16 length + bytes;
 * NULLABLE_STRING length -1 = null; BYTES = i32 length (+ -1 = null);
 * ARRAY = i32 count (-1 = null); varint/varlong zigzag (records, tagged
 * fields); COMPACT_* = unsigned varint length + 1 (flexible versions).
 */
#ifndef KP_BUF_H
#define KP_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A string or byte view into a frame; ptr == NULL means null. */
struct kp_str {
	const char *ptr;
	int32_t len;
};

struct kp_reader {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	int err;         /* 0 or -EBADMSG, sticky */
	size_t err_pos;  /* where the first error happened */
};

static inline void kp_reader_init(struct kp_reader *r, const void *buf, size_t len)
{
	r->buf = (const uint8_t *)buf;
	r->len = len;
	r->pos = 0;
	r->err = 0;
	r->err_pos = 0;
}

static inline bool kp_reader_ok(const struct kp_reader *r)
{
	return r->err == 0;
}

static inline size_t kp_reader_left(const struct kp_reader *r)
{
	return r->err ? 0 : r->len - r->pos;
}

/* Mark the reader failed at the current position (first failure wins). */
static inline void kp_reader_fail(struct kp_reader *r)
{
	if (!r->err) {
		r->err = -74; /* -EBADMSG; literal keeps this header free of errno.h */
		r->err_pos = r->pos;
	}
}

int8_t kp_read_i8(struct kp_reader *r);
int16_t kp_read_i16(struct kp_reader *r);
int32_t kp_read_i32(struct kp_reader *r);
int64_t kp_read_i64(struct kp_reader *r);
bool kp_read_bool(struct kp_reader *r);
/** zigzag varint (int32), as in records and tagged fields. */
int32_t kp_read_varint(struct kp_reader *r);
int64_t kp_read_varlong(struct kp_reader *r);
/** unsigned varint (compact lengths, tag numbers). */
uint32_t kp_read_uvarint(struct kp_reader *r);
/** STRING: a null (-1) is an error; NULLABLE_STRING: null allowed. */
struct kp_str kp_read_str(struct kp_reader *r);
struct kp_str kp_read_nstr(struct kp_reader *r);
/** BYTES / nullable BYTES (i32 length). */
struct kp_str kp_read_bytes(struct kp_reader *r);
/** COMPACT_STRING / COMPACT_NULLABLE_STRING (flexible versions). */
struct kp_str kp_read_cstr(struct kp_reader *r);
/**
 * ARRAY count: -1 (null) is returned as -1; a count that cannot fit in the
 * bytes left (each element >= @min_elem_size bytes) fails the reader.
 */
int32_t kp_read_array(struct kp_reader *r, size_t min_elem_size);
/** Skip a tagged-fields block (flexible versions). */
void kp_read_tags_skip(struct kp_reader *r);
/** Skip @n raw bytes. */
void kp_read_skip(struct kp_reader *r, size_t n);

/** Compare a view with a C string. */
bool kp_str_eq(struct kp_str s, const char *c);

struct kp_writer {
	uint8_t *buf;
	size_t len;
	size_t cap;
	int err;         /* 0 or -ENOMEM, sticky */
};

void kp_writer_init(struct kp_writer *w);
void kp_writer_free(struct kp_writer *w);
/** Forget the content, keep the memory. */
static inline void kp_writer_reset(struct kp_writer *w)
{
	w->len = 0;
	w->err = 0;
}

void kp_write_raw(struct kp_writer *w, const void *p, size_t n);
void kp_write_i8(struct kp_writer *w, int8_t v);
void kp_write_i16(struct kp_writer *w, int16_t v);
void kp_write_i32(struct kp_writer *w, int32_t v);
void kp_write_i64(struct kp_writer *w, int64_t v);
void kp_write_bool(struct kp_writer *w, bool v);
void kp_write_uvarint(struct kp_writer *w, uint32_t v);
/** STRING from a C string; NULL writes a null NULLABLE_STRING. */
void kp_write_str(struct kp_writer *w, const char *s);
void kp_write_strn(struct kp_writer *w, const char *s, int32_t len);
/** BYTES; NULL writes -1. */
void kp_write_bytes(struct kp_writer *w, const void *p, int32_t len);
/** COMPACT_STRING (NULL: compact null). */
void kp_write_cstr(struct kp_writer *w, const char *s);
/** An empty tagged-fields block. */
static inline void kp_write_tags_empty(struct kp_writer *w)
{
	kp_write_uvarint(w, 0);
}

/** Reserve 4 bytes for a length/count; @return the slot's position. */
size_t kp_write_i32_slot(struct kp_writer *w);
/** Fill a reserved slot. */
void kp_write_patch_i32(struct kp_writer *w, size_t slot, int32_t v);

#endif /* KP_BUF_H */
