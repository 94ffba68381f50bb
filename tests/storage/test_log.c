/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the partition log (st_log.h): Kafka file layout, appends,
 * index lookups at segment edges, fetch ranges, rolling on size / time /
 * full index, the three-step writer API, ListOffsets by time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "log_fixture.h"
#include "st_dump.h"
#include "st_endian.h"


/* The batch header at a range's position names the range's first offset. */
static void check_range(const struct st_log_range *r, int64_t offset)
{
	uint8_t hdr[ST_BATCH_HEADER_SIZE];
	struct st_batch_info bi;

	assert_true(r->length > 0);
	assert_true(r->first_offset <= offset && offset < r->next_offset);
	assert_int_equal(pread(r->fd, hdr, sizeof(hdr), (off_t)r->position), sizeof(hdr));
	st_batch_header_read(hdr, sizeof(hdr), &bi);
	assert_int_equal(bi.base_offset, r->first_offset);
	assert_true(r->segment_base <= r->first_offset);
}

static void test_log_append_layout(void **state)
{
	struct lf *f = *state;
	struct st_log_range r;
	int64_t size = 0;

	assert_int_equal(lf_open(f), 0);
	assert_false(st_logdir_was_clean(f->d));
	for (int i = 0; i < 10; i++)
		assert_int_equal(lf_append(f, 5, 1000 + i, 20), i * 5);
	assert_int_equal(st_log_leo(f->log), 50);
	assert_int_equal(st_log_end_offset(f->log), 50);
	assert_int_equal(st_log_start_offset(f->log), 0);
	size = lf_file_size(f->root, 0, ".log");
	assert_int_equal((uint64_t)size, st_log_size(f->log));
	/* The active indexes are preallocated to segment.index.bytes... */
	assert_int_equal(lf_file_size(f->root, 0, ".index"), 10 << 20);
	assert_int_equal(lf_file_size(f->root, 0, ".timeindex"), (10 << 20) / 12 * 12);
	assert_int_equal(st_log_read(f->log, 7, 1 << 20, -1, &r), 0);
	check_range(&r, 7);
	assert_int_equal(r.first_offset, 5);
	assert_int_equal(r.position + r.length, (uint64_t)size);
	st_log_range_put(&r);
	/* ...and trimmed at close. */
	assert_int_equal(lf_close(f), 0);
	assert_int_equal(lf_file_size(f->root, 0, ".index"), 0); /* 4096 B interval: none */
	assert_int_equal(lf_file_size(f->root, 0, ".log"), size);
	assert_int_equal(st_verify_dir(fopen("/dev/null", "w"), f->root), 0);
}

/* Every offset of a multi-segment log, before and after a reopen. */
static void lookups_all(struct lf *f, int64_t leo)
{
	struct st_log_range r;
	uint64_t prev_end = 0;

	for (int64_t o = 0; o < leo; o++) {
		assert_int_equal(st_log_read(f->log, o, 1, -1, &r), 0);
		check_range(&r, o);
		/* max_bytes 1: exactly one whole batch, inside its segment file */
		assert_int_equal(r.next_offset - r.first_offset, 3);
		assert_true(r.position + r.length <=
			    (uint64_t)lf_file_size(f->root, r.segment_base, ".log"));
		if (o == r.segment_base)
			assert_int_equal(r.position, 0);
		if (o > r.first_offset)
			assert_true(r.position + r.length == prev_end);
		prev_end = r.position + r.length;
		st_log_range_put(&r);
	}
	assert_int_equal(st_log_read(f->log, -1, 1, -1, &r), -ERANGE);
	assert_int_equal(st_log_read(f->log, leo, 1, -1, &r), 0);
	assert_int_equal(r.length, 0);
	assert_int_equal(st_log_read(f->log, leo + 1, 1, -1, &r), -ERANGE);
	assert_int_equal(st_log_read(f->log, leo + 1000, 1, -1, &r), -ERANGE);
}

static void test_log_index_lookup_segment_edges(void **state)
{
	struct lf *f = *state;
	FILE *devnull = fopen("/dev/null", "w");

	f->cfg.segment_bytes = 1200;
	f->cfg.index_interval_bytes = 100;
	assert_int_equal(lf_open(f), 0);
	for (int i = 0; i < 40; i++)
		assert_int_equal(lf_append(f, 3, 5000 + 10 * i, 50), i * 3);
	assert_true(st_log_segment_count(f->log) >= 8);
	lookups_all(f, 120);
	assert_int_equal(lf_close(f), 0);
	assert_int_equal(st_verify_dir(devnull, f->root), 0);
	assert_int_equal(lf_open(f), 0);
	assert_true(f->rep.clean);
	assert_int_equal(f->rep.segments_walked, 0);
	assert_int_equal(st_log_leo(f->log), 120);
	lookups_all(f, 120);
	/* upto_offset (the high watermark) bounds reads like the end does */
	struct st_log_range r;

	assert_int_equal(st_log_read(f->log, 30, 1 << 20, 33, &r), 0);
	assert_int_equal(r.next_offset, 33);
	st_log_range_put(&r);
	assert_int_equal(st_log_read(f->log, 34, 1 << 20, 33, &r), -ERANGE);
	fclose(devnull);
}

static void test_log_read_tiny_max_bytes(void **state)
{
	struct lf *f = *state;
	struct st_log_range r;
	uint8_t buf[65536];
	uint32_t big;

	assert_int_equal(lf_open(f), 0);
	big = lf_batch(buf, sizeof(buf), 0, 10, 1, 1000);
	assert_int_equal(st_log_append(f->log, buf, big, 1), 0);
	for (int i = 0; i < 5; i++)
		lf_append(f, 2, 2, 10);
	assert_int_equal(st_log_read(f->log, 3, 10, -1, &r), 0);
	assert_int_equal(r.length, big);
	assert_int_equal(r.first_offset, 0);
	assert_int_equal(r.next_offset, 10);
	st_log_range_put(&r);
	assert_int_equal(st_log_read(f->log, 0, 0, -1, &r), 0);
	assert_int_equal(r.length, big);
	st_log_range_put(&r);
	/* more than one batch when they fit, never past the end */
	assert_int_equal(st_log_read(f->log, 10, 1 << 20, -1, &r), 0);
	assert_int_equal(r.next_offset, 20);
	assert_int_equal(r.position, big);
	st_log_range_put(&r);
}

static void test_log_roll_on_size(void **state)
{
	struct lf *f = *state;
	uint8_t buf[4096];
	uint32_t len = lf_batch(buf, sizeof(buf), 0, 2, 1, 100);

	f->cfg.segment_bytes = 3 * len + len / 2;
	f->cfg.index_interval_bytes = 0;
	assert_int_equal(lf_open(f), 0);
	for (int i = 0; i < 7; i++)
		lf_append(f, 2, 1, 100);
	/* 3 batches fit in a segment: bases 0, 6, 12 */
	assert_int_equal(st_log_segment_count(f->log), 3);
	assert_int_equal(lf_file_size(f->root, 0, ".log"), 3 * len);
	assert_int_equal(lf_file_size(f->root, 6, ".log"), 3 * len);
	assert_int_equal(lf_file_size(f->root, 12, ".log"), len);
	/* rolled segments' indexes are trimmed, the active one preallocated */
	assert_int_equal(lf_file_size(f->root, 0, ".index"), 2 * 8);
	assert_int_equal(lf_file_size(f->root, 12, ".index"), 10 << 20);
}

static void test_log_roll_on_time(void **state)
{
	struct lf *f = *state;
	struct st_log_range r;

	f->cfg.segment_ms = 1000;
	assert_int_equal(lf_open(f), 0);
	lf_append(f, 1, 10000, 10);
	lf_append(f, 1, 10500, 10);
	lf_append(f, 1, 11000, 10); /* 11000 - 10000 = segment.ms: not yet */
	assert_int_equal(st_log_segment_count(f->log), 1);
	lf_append(f, 1, 11001, 10);
	assert_int_equal(st_log_segment_count(f->log), 2);
	assert_int_equal(st_log_read(f->log, 3, 1, -1, &r), 0);
	assert_int_equal(r.segment_base, 3);
	st_log_range_put(&r);
	/* an empty segment never rolls, however old */
	struct st_log_slot slot;

	assert_int_equal(st_log_roll(f->log, 0), 0);
	assert_int_equal(st_log_segment_count(f->log), 3);
	assert_int_equal(st_log_append_prepare(f->log, 100, 4, 99999999, 99999999, &slot), 0);
	assert_int_equal(slot.segment_base, 4);
	assert_int_equal(slot.position, 0);
	assert_int_equal(st_log_segment_count(f->log), 3);
}

/*
 * Found by test_kp_fuzz under UBSan: the writer passes a write's first
 * maxTimestamp as is, and one near INT64_MIN after a segment whose first
 * batch said near INT64_MAX made the time-roll check overflow (signed,
 * undefined).  Time going backwards is no time-based roll.
 */
static void test_log_roll_on_time_extreme_timestamps(void **state)
{
	const int64_t first = 9151316142816847872;      /* the fuzz run's two timestamps */
	struct lf *f = *state;
	struct st_log_slot slot;

	f->cfg.segment_ms = 1000;
	assert_int_equal(lf_open(f), 0);
	lf_append(f, 1, first, 10);
	assert_int_equal(st_log_append_prepare(f->log, 100, 1, -9115143252591167232, 0, &slot), 0);
	assert_int_equal(st_log_segment_count(f->log), 1);
	assert_int_equal(st_log_append_prepare(f->log, 100, 1, first + 1000, 0, &slot), 0);
	assert_int_equal(st_log_segment_count(f->log), 1);      /* segment.ms: not yet */
	assert_int_equal(st_log_append_prepare(f->log, 100, 1, first + 1001, 0, &slot), 0);
	assert_int_equal(st_log_segment_count(f->log), 2);
}

static void test_log_roll_on_index_full(void **state)
{
	struct lf *f = *state;
	struct st_log_range r;

	f->cfg.index_max_bytes = 24;     /* 3 offset entries, 2 time entries */
	f->cfg.index_interval_bytes = 0; /* an entry for every batch but the first */
	assert_int_equal(lf_open(f), 0);
	for (int i = 0; i < 3; i++)
		lf_append(f, 2, 100 + i, 10);
	assert_int_equal(st_log_segment_count(f->log), 1);
	lf_append(f, 2, 200, 10);       /* the time index is full: roll */
	assert_int_equal(st_log_segment_count(f->log), 2);
	assert_int_equal(st_log_read(f->log, 6, 1, -1, &r), 0);
	assert_int_equal(r.segment_base, 6);
	assert_int_equal(r.position, 0);
	st_log_range_put(&r);
	assert_int_equal(lf_file_size(f->root, 0, ".timeindex"), 24);
	assert_int_equal(lf_file_size(f->root, 0, ".index"), 16);
	assert_int_equal(lf_close(f), 0);
	assert_int_equal(st_verify_dir(fopen("/dev/null", "w"), f->root), 0);
}

static void test_log_three_step_append(void **state)
{
	struct lf *f = *state;
	struct st_log_range r;
	struct st_log_slot slot;
	uint8_t buf[8192];
	uint32_t l1, l2;

	assert_int_equal(lf_open(f), 0);
	l1 = lf_batch(buf, sizeof(buf), 0, 4, 50, 10);
	l2 = lf_batch(buf + l1, sizeof(buf) - l1, 4, 3, 60, 10);
	assert_int_equal(st_log_append_prepare(f->log, l1 + l2, 6, 62, 62, &slot), 0);
	assert_true(slot.rolled);
	assert_int_equal(slot.position, 0);
	assert_non_null(strstr(slot.path, "/t-0/00000000000000000000.log"));
	assert_int_equal(pwrite(slot.fd, buf, l1 + l2, 0), l1 + l2);
	assert_int_equal(st_log_append_commit(f->log, 1, buf, l1 + l2), -EINVAL);
	assert_int_equal(st_log_append_commit(f->log, 0, buf + l1, l2), -EINVAL);
	assert_int_equal(st_log_append_commit(f->log, 0, buf, l1 + l2 - 1), -EINVAL);
	assert_int_equal(st_log_append_commit(f->log, 0, buf, l1 + l2), 7);
	assert_int_equal(st_log_leo(f->log), 7);
	/* not published yet: readers do not see it */
	assert_int_equal(st_log_end_offset(f->log), 0);
	assert_int_equal(st_log_read(f->log, 0, 1, -1, &r), 0);
	assert_int_equal(r.length, 0);
	assert_int_equal(st_log_publish(f->log, 0, l1, 4), 0);
	assert_int_equal(st_log_read(f->log, 0, 1 << 20, -1, &r), 0);
	assert_int_equal(r.length, l1);
	st_log_range_put(&r);
	assert_int_equal(st_log_read(f->log, 4, 1, -1, &r), 0);
	assert_int_equal(r.length, 0);
	assert_int_equal(st_log_read(f->log, 5, 1, -1, &r), -ERANGE);
	assert_int_equal(st_log_publish(f->log, 0, l1 + l2 + 1, 7), -EINVAL);
	assert_int_equal(st_log_publish(f->log, 0, l1 + l2, 7), 0);
	assert_int_equal(st_log_read(f->log, 5, 1, -1, &r), 0);
	assert_int_equal(r.first_offset, 4);
	st_log_range_put(&r);
	assert_int_equal(st_log_append_prepare(f->log, 100, 7, 70, 70, &slot), 0);
	assert_false(slot.rolled);
	assert_int_equal(slot.position, l1 + l2);
	assert_int_equal(st_log_append_prepare(f->log, 100, 6, 70, 70, &slot), -EINVAL);
}

static void test_log_offset_for_time(void **state)
{
	struct lf *f = *state;

	f->cfg.segment_bytes = 400;
	f->cfg.index_interval_bytes = 50;
	assert_int_equal(lf_open(f), 0);
	for (int i = 0; i < 6; i++)
		lf_append(f, 5, 1000 * (i + 1), 20); /* records at 1000*(i+1) + 0..4 */
	assert_true(st_log_segment_count(f->log) >= 3);
	assert_int_equal(st_log_offset_for_time(f->log, 0), 0);
	assert_int_equal(st_log_offset_for_time(f->log, 1000), 0);
	assert_int_equal(st_log_offset_for_time(f->log, 1003), 3);
	assert_int_equal(st_log_offset_for_time(f->log, 1005), 5);
	assert_int_equal(st_log_offset_for_time(f->log, 2002), 7);
	assert_int_equal(st_log_offset_for_time(f->log, 4500), 20);
	assert_int_equal(st_log_offset_for_time(f->log, 6004), 29);
	assert_int_equal(st_log_offset_for_time(f->log, 6005), -1);
}

static void test_log_preallocate(void **state)
{
	struct lf *f = *state;
	struct stat st;
	char p[256];

	f->cfg.preallocate = true;
	f->cfg.segment_bytes = 4 << 20;
	assert_int_equal(lf_open(f), 0);
	lf_append(f, 3, 1, 100);
	lf_path(p, sizeof(p), f->root, 0, ".log");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal((uint64_t)st.st_size, st_log_size(f->log)); /* KEEP_SIZE */
	if ((uint64_t)st.st_blocks * 512 < (2u << 20))
		skip(); /* the file system ignored fallocate */
	assert_int_equal(lf_close(f), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_true((uint64_t)st.st_blocks * 512 < (1u << 20));
}

static void test_log_bad_config(void **state)
{
	struct lf *f = *state;

	f->cfg.segment_bytes = 10;
	assert_int_equal(st_logdir_open(&f->d, f->root), 0);
	assert_int_equal(st_log_open(&f->log, f->d, "t", 0, &f->cfg, NULL), -EINVAL);
	st_log_config_default(&f->cfg);
	assert_int_equal(st_log_open(&f->log, f->d, "../x", 0, &f->cfg, NULL), -EINVAL);
	assert_int_equal(st_log_open(&f->log, f->d, "t", 0, &f->cfg, NULL), 0);
	struct st_log *again;

	assert_int_equal(st_log_open(&again, f->d, "t", 0, &f->cfg, NULL), -EBUSY);
	assert_int_equal(st_logdir_close(f->d), -EBUSY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_log_append_layout, lf_setup, lf_teardown),
		cmocka_unit_test_setup_teardown(test_log_index_lookup_segment_edges, lf_setup, lf_teardown),
		cmocka_unit_test_setup_teardown(test_log_read_tiny_max_bytes, lf_setup, lf_teardown),
		cmocka_unit_test_setup_teardown(test_log_roll_on_size, lf_setup, lf_teardown),
		cmocka_unit_test_setup_teardown(test_log_roll_on_time, lf_setup, lf_teardown),
		cmocka_unit_test_setup_teardown(test_log_roll_on_time_extreme_timestamps, lf_setup,
						lf_teardown),
		cmocka_unit_test_setup_teardown(test_log_roll_on_index_full, lf_setup, lf_teardown),
		cmocka_unit_test_setup_teardown(test_log_three_step_append, lf_setup, lf_teardown),
		cmocka_unit_test_setup_teardown(test_log_offset_for_time, lf_setup, lf_teardown),
		cmocka_unit_test_setup_teardown(test_log_preallocate, lf_setup, lf_teardown),
		cmocka_unit_test_setup_teardown(test_log_bad_config, lf_setup, lf_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
