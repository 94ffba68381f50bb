/* SPDX-License-Identifier: BSD-3-Clause */
/* Kafka protocol cursors: bounds, sticky errors, every type, backpatching. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "kp_buf.h"

static void test_kp_buf_roundtrip_types(void **state)
{
	struct kp_writer w;
	struct kp_reader r;
	struct kp_str s;
	size_t slot;

	(void)state;
	kp_writer_init(&w);
	kp_write_i8(&w, -2);
	kp_write_i16(&w, -300);
	kp_write_i32(&w, INT32_MIN);
	kp_write_i64(&w, INT64_MAX);
	kp_write_bool(&w, true);
	kp_write_str(&w, "topic");
	kp_write_str(&w, NULL);
	kp_write_bytes(&w, "\x00\x01", 2);
	kp_write_bytes(&w, NULL, 0);
	kp_write_uvarint(&w, 300);
	kp_write_cstr(&w, "abc");
	kp_write_cstr(&w, NULL);
	slot = kp_write_i32_slot(&w);
	kp_write_tags_empty(&w);
	kp_write_patch_i32(&w, slot, 7);
	assert_int_equal(w.err, 0);

	kp_reader_init(&r, w.buf, w.len);
	assert_int_equal(kp_read_i8(&r), -2);
	assert_int_equal(kp_read_i16(&r), -300);
	assert_int_equal(kp_read_i32(&r), INT32_MIN);
	assert_true(kp_read_i64(&r) == INT64_MAX);
	assert_true(kp_read_bool(&r));
	assert_true(kp_str_eq(kp_read_str(&r), "topic"));
	s = kp_read_nstr(&r);
	assert_null(s.ptr);
	assert_int_equal(s.len, -1);
	s = kp_read_bytes(&r);
	assert_int_equal(s.len, 2);
	assert_memory_equal(s.ptr, "\x00\x01", 2);
	assert_null(kp_read_bytes(&r).ptr);
	assert_int_equal(kp_read_uvarint(&r), 300);
	assert_true(kp_str_eq(kp_read_cstr(&r), "abc"));
	assert_null(kp_read_cstr(&r).ptr);
	assert_int_equal(kp_read_i32(&r), 7);
	kp_read_tags_skip(&r);
	assert_true(kp_reader_ok(&r));
	assert_int_equal(kp_reader_left(&r), 0);
	kp_writer_free(&w);
}

static void test_kp_buf_big_endian_layout(void **state)
{
	static const uint8_t want[] = { 0x12, 0x34, 0x56, 0x78, 0x00, 0x02, 'h', 'i' };
	struct kp_writer w;

	(void)state;
	kp_writer_init(&w);
	kp_write_i32(&w, 0x12345678);
	kp_write_str(&w, "hi");
	assert_int_equal(w.len, sizeof(want));
	assert_memory_equal(w.buf, want, sizeof(want));
	kp_writer_free(&w);
}

static void test_kp_buf_sticky_error_offset(void **state)
{
	static const uint8_t frame[] = { 0x00, 0x01, 0x00, 0x05, 'a', 'b' };
	struct kp_reader r;

	(void)state;
	kp_reader_init(&r, frame, sizeof(frame));
	assert_int_equal(kp_read_i16(&r), 1);
	/* string claims 5 bytes, 2 are there */
	assert_null(kp_read_str(&r).ptr);
	assert_false(kp_reader_ok(&r));
	assert_int_equal(r.err, -EBADMSG);
	assert_int_equal(r.err_pos, 4);
	/* everything after reads as zero and does not move */
	assert_int_equal(kp_read_i32(&r), 0);
	assert_int_equal(r.err_pos, 4);
	assert_int_equal(kp_reader_left(&r), 0);
}

static void test_kp_buf_array_count_bounded(void **state)
{
	static const uint8_t huge[] = { 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0 };
	static const uint8_t null_arr[] = { 0xff, 0xff, 0xff, 0xff };
	static const uint8_t neg[] = { 0xff, 0xff, 0xff, 0xfe };
	struct kp_reader r;

	(void)state;
	kp_reader_init(&r, huge, sizeof(huge));
	assert_int_equal(kp_read_array(&r, 4), 0);
	assert_false(kp_reader_ok(&r));
	kp_reader_init(&r, null_arr, sizeof(null_arr));
	assert_int_equal(kp_read_array(&r, 4), -1);
	assert_true(kp_reader_ok(&r));
	kp_reader_init(&r, neg, sizeof(neg));
	kp_read_array(&r, 4);
	assert_false(kp_reader_ok(&r));
}

static void test_kp_buf_varints(void **state)
{
	static const uint8_t too_long[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };
	static const uint8_t zz[] = { 0x01, 0x02, 0xfe, 0xff, 0xff, 0xff, 0x0f };
	struct kp_reader r;

	(void)state;
	kp_reader_init(&r, zz, sizeof(zz));
	assert_int_equal(kp_read_varint(&r), -1);
	assert_int_equal(kp_read_varint(&r), 1);
	assert_int_equal(kp_read_varint(&r), INT32_MAX);
	assert_true(kp_reader_ok(&r));
	kp_reader_init(&r, too_long, sizeof(too_long));
	kp_read_uvarint(&r);
	assert_false(kp_reader_ok(&r));
}

static void test_kp_buf_null_string_not_nullable(void **state)
{
	static const uint8_t null_str[] = { 0xff, 0xff };
	struct kp_reader r;

	(void)state;
	kp_reader_init(&r, null_str, sizeof(null_str));
	kp_read_str(&r);
	assert_false(kp_reader_ok(&r));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kp_buf_roundtrip_types),
		cmocka_unit_test(test_kp_buf_big_endian_layout),
		cmocka_unit_test(test_kp_buf_sticky_error_offset),
		cmocka_unit_test(test_kp_buf_array_count_bounded),
		cmocka_unit_test(test_kp_buf_varints),
		cmocka_unit_test(test_kp_buf_null_string_not_nullable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
