/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of retention (st_log_retain): by bytes, by time with an
 * injected clock, everything expired (an empty segment is rolled first),
 * a reader's range surviving the deletion of its segment, and the floor
 * below which the log's owner says every record is superseded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "log_fixture.h"


/* 5 segments of 2 batches (4 offsets each); batch timestamps 1000*i. */
static uint32_t fill(struct lf *f)
{
	uint8_t buf[4096];
	uint32_t len = lf_batch(buf, sizeof(buf), 0, 2, 0, 40);

	f->cfg.segment_bytes = 2 * len;
	assert_int_equal(lf_open(f), 0);
	for (int i = 0; i < 10; i++)
		lf_append(f, 2, 1000 * i, 40);
	assert_int_equal(st_log_segment_count(f->log), 5);
	return len;
}

static void test_retention_by_bytes(void **state)
{
	struct lf *f = *state;
	struct st_log_retain_result res;
	struct st_log_range r;
	uint32_t len;

	f->cfg.retention_ms = -1;
	f->cfg.retention_bytes = 0; /* set below, once the batch size is known */
	len = fill(f);
	st_log_close(f->log);
	f->log = NULL;
	f->cfg.retention_bytes = 5 * len;        /* keep 2.5 segments: 3 stay */
	assert_int_equal(st_log_open(&f->log, f->d, "t", 0, &f->cfg, NULL), 0);
	assert_int_equal(st_log_retain(f->log, 0, &res), 2);
	assert_int_equal(res.segments, 2);
	assert_int_equal(res.bytes, 4 * len);
	assert_int_equal(res.log_start, 8);
	assert_int_equal(st_log_start_offset(f->log), 8);
	assert_int_equal(st_log_segment_count(f->log), 3);
	assert_int_equal(lf_file_size(f->root, 0, ".log"), -1);
	assert_int_equal(lf_file_size(f->root, 4, ".log"), -1);
	assert_int_equal(st_log_read(f->log, 7, 1, -1, &r), -ERANGE);
	assert_int_equal(st_log_read(f->log, 8, 1, -1, &r), 0);
	st_log_range_put(&r);
	/* exactly at the limit: nothing more goes */
	assert_int_equal(st_log_retain(f->log, 0, &res), 0);
	/* the log start survives a reopen (checkpoint) */
	assert_int_equal(lf_close(f), 0);
	assert_int_equal(lf_open(f), 0);
	assert_int_equal(st_log_start_offset(f->log), 8);
	assert_int_equal(st_log_leo(f->log), 20);
}

static void test_retention_by_time(void **state)
{
	struct lf *f = *state;
	struct st_log_retain_result res;

	f->cfg.retention_ms = 5000;
	fill(f);
	/* segment max timestamps: 1001, 3001, 5001, 7001, 9001 */
	assert_int_equal(st_log_retain(f->log, 6001, &res), 0);
	assert_int_equal(st_log_retain(f->log, 6002, &res), 1);
	assert_int_equal(st_log_start_offset(f->log), 4);
	assert_int_equal(st_log_retain(f->log, 10002, &res), 2);
	assert_int_equal(st_log_start_offset(f->log), 12);
	assert_int_equal(st_log_segment_count(f->log), 2);
	assert_int_equal(st_log_leo(f->log), 20);
}

static void test_retention_everything_rolls_empty(void **state)
{
	struct lf *f = *state;
	struct st_log_retain_result res;
	struct st_log_range r;

	f->cfg.retention_ms = 10;
	fill(f);
	assert_int_equal(st_log_retain(f->log, 1 << 30, &res), 5);
	assert_int_equal(st_log_segment_count(f->log), 1);
	assert_int_equal(st_log_start_offset(f->log), 20);
	assert_int_equal(st_log_leo(f->log), 20);
	assert_int_equal(lf_file_size(f->root, 20, ".log"), 0);
	assert_int_equal(st_log_read(f->log, 19, 1, -1, &r), -ERANGE);
	assert_int_equal(st_log_read(f->log, 20, 1, -1, &r), 0);
	assert_int_equal(r.length, 0);
	/* the empty active segment is never deleted, appends continue */
	assert_int_equal(st_log_retain(f->log, 1 << 30, &res), 0);
	assert_int_equal(lf_append(f, 2, 1 << 30, 10), 20);
}

/* A reader keeps its fd across deletion; the files go with its reference. */
static void test_retention_reader_holds_segment(void **state)
{
	struct lf *f = *state;
	struct st_log_retain_result res;
	struct st_log_range r;
	uint8_t hdr[ST_BATCH_HEADER_SIZE];
	char p[256];

	f->cfg.retention_ms = 5000;
	fill(f);
	assert_int_equal(st_log_read(f->log, 1, 1, -1, &r), 0);
	assert_int_equal(st_log_retain(f->log, 6002, &res), 1);
	lf_path(p, sizeof(p), f->root, 0, ".log.deleted");
	assert_int_equal(access(p, F_OK), 0);
	assert_int_equal(pread(r.fd, hdr, sizeof(hdr), (off_t)r.position), sizeof(hdr));
	st_log_range_put(&r);
	assert_int_equal(access(p, F_OK), -1);
}

/* Segments (4 offsets each) start at 0, 4, 8, 12, 16; LEO 20. */
static void test_retention_delete_below(void **state)
{
	struct lf *f = *state;
	struct st_log_retain_result res;
	struct st_log_range r;

	f->cfg.retention_ms = -1;
	fill(f);
	/* a floor inside segment 8 deletes 0 and 4 only */
	st_log_set_delete_below(f->log, 10);
	assert_int_equal(st_log_retain(f->log, 0, &res), 2);
	assert_int_equal(res.log_start, 8);
	assert_int_equal(st_log_start_offset(f->log), 8);
	assert_int_equal(st_log_read(f->log, 7, 1, -1, &r), -ERANGE);
	assert_int_equal(st_log_read(f->log, 8, 1, -1, &r), 0);
	st_log_range_put(&r);
	/* a lower floor afterwards is ignored; the same floor deletes nothing more */
	st_log_set_delete_below(f->log, 2);
	assert_int_equal(st_log_retain(f->log, 0, &res), 0);
	/* exactly at a segment's base: the one before it goes */
	st_log_set_delete_below(f->log, 12);
	assert_int_equal(st_log_retain(f->log, 0, &res), 1);
	assert_int_equal(st_log_start_offset(f->log), 12);
	/* past the end: never the active segment */
	st_log_set_delete_below(f->log, 1000);
	assert_int_equal(st_log_retain(f->log, 0, &res), 1);
	assert_int_equal(st_log_segment_count(f->log), 1);
	assert_int_equal(st_log_start_offset(f->log), 16);
	assert_int_equal(st_log_leo(f->log), 20);
	assert_int_equal(st_log_retain(f->log, 0, &res), 0);
}

/* A hold (the uplink's cursor) keeps every segment at or above it, by time, size and floor. */
static void test_retention_hold_keeps_unshipped(void **state)
{
	struct lf *f = *state;
	struct st_log_retain_result res;

	f->cfg.retention_ms = 10;
	fill(f);
	/* offset 9 is in segment 8: segments 0 and 4 may go, nothing after */
	st_log_set_retain_hold(f->log, 9);
	st_log_set_delete_below(f->log, 1000);
	assert_int_equal(st_log_retain(f->log, 1 << 30, &res), 2);
	assert_int_equal(st_log_start_offset(f->log), 8);
	assert_int_equal(st_log_retain(f->log, 1 << 30, &res), 0);
	assert_int_equal(st_log_segment_count(f->log), 3);
	/* bytes still to ship from 9: segments 8, 12 and 16 */
	assert_int_equal(st_log_bytes_from(f->log, 9), 3 * (lf_file_size(f->root, 8, ".log")));
	assert_int_equal(st_log_bytes_from(f->log, 20), 0);
	assert_int_equal(st_log_bytes_from(f->log, 2), -ERANGE);
	/* the hold moves on: at a segment's base the one before it goes */
	st_log_set_retain_hold(f->log, 16);
	assert_int_equal(st_log_retain(f->log, 1 << 30, &res), 2);
	assert_int_equal(st_log_start_offset(f->log), 16);
	/* removed: everything expired goes, an empty segment is rolled */
	st_log_set_retain_hold(f->log, -1);
	assert_int_equal(st_log_retain(f->log, 1 << 30, &res), 1);
	assert_int_equal(st_log_start_offset(f->log), 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_retention_by_bytes, lf_setup, lf_teardown),
		cmocka_unit_test_setup_teardown(test_retention_hold_keeps_unshipped, lf_setup,
						lf_teardown),
		cmocka_unit_test_setup_teardown(test_retention_by_time, lf_setup, lf_teardown),
		cmocka_unit_test_setup_teardown(test_retention_everything_rolls_empty, lf_setup, lf_teardown),
		cmocka_unit_test_setup_teardown(test_retention_reader_holds_segment, lf_setup, lf_teardown),
		cmocka_unit_test_setup_teardown(test_retention_delete_below, lf_setup, lf_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
