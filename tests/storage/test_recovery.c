/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of log recovery (st_log_open after a crash or a clean
 * shutdown): a last batch torn at every byte, a flipped bit mid-log,
 * zero padding, the clean-shutdown marker and its sanity checks, the
 * recovery point and the checkpoint files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "log_fixture.h"
#include "st_dump.h"

static FILE *devnull;


static void file_truncate(struct lf *f, int64_t base, int64_t size)
{
	char p[256];

	lf_path(p, sizeof(p), f->root, base, ".log");
	assert_int_equal(truncate(p, size), 0);
}

static void file_xor(struct lf *f, int64_t base, int64_t pos, uint8_t mask)
{
	char p[256];
	uint8_t c;
	int fd;

	lf_path(p, sizeof(p), f->root, base, ".log");
	fd = open(p, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, pos), 1);
	c ^= mask;
	assert_int_equal(pwrite(fd, &c, 1, pos), 1);
	close(fd);
}

/* The log reads back whole: every batch from 0 to LEO, each record's value. */
static void check_readable(struct lf *f)
{
	struct st_log_range r;
	int64_t o = 0, leo = st_log_leo(f->log);

	while (o < leo) {
		assert_int_equal(st_log_read(f->log, o, 1 << 20, -1, &r), 0);
		assert_int_equal(r.first_offset, o);
		o = r.next_offset;
		st_log_range_put(&r);
	}
	assert_int_equal(o, leo);
}

/*
 * Crash with the last batch cut at every byte boundary: each case
 * recovers to the previous batch end, verifies clean and keeps appending
 * at the right offset.
 */
static void test_recovery_torn_last_batch_every_byte(void **state)
{
	struct lf *f = *state;
	uint8_t buf[4096];
	uint32_t last = lf_batch(buf, sizeof(buf), 0, 3, 7, 12);
	struct st_log_range r;
	int64_t good_end, seg;

	f->cfg.segment_bytes = 600;
	f->cfg.index_interval_bytes = 50;
	for (uint32_t cut = 0; cut < last; cut++) {
		lf_rmrf(f->root);
		assert_int_equal(mkdir(f->root, 0700), 0);
		assert_int_equal(lf_open(f), 0);
		for (int i = 0; i < 6; i++)
			lf_append(f, 3, 7, 12);
		assert_int_equal(st_log_leo(f->log), 18);
		assert_int_equal(st_log_read(f->log, 15, 1, -1, &r), 0);
		seg = r.segment_base;
		assert_true(seg > 0);              /* more than one segment */
		st_log_range_put(&r);
		good_end = lf_file_size(f->root, seg, ".log") - last;
		lf_crash(f);
		file_truncate(f, seg, good_end + cut);

		assert_int_equal(lf_open(f), 0);
		assert_false(f->rep.clean);
		assert_int_equal(st_log_leo(f->log), 15);
		assert_int_equal(lf_file_size(f->root, seg, ".log"), good_end);
		assert_int_equal(f->rep.truncated_bytes, cut);
		if (cut) {
			assert_int_equal(f->rep.truncated_at, 15);
			assert_int_equal(f->rep.truncated_segment, seg);
			assert_int_equal(f->rep.truncated_position, good_end);
			assert_non_null(f->rep.reason);
		}
		check_readable(f);
		assert_int_equal(st_verify_dir(getenv("V") ? stdout : devnull, f->root), 0);
		assert_int_equal(lf_append(f, 2, 8, 12), 15);
		assert_int_equal(st_log_leo(f->log), 17);
		check_readable(f);
		assert_int_equal(lf_close(f), 0);
		assert_int_equal(st_verify_dir(getenv("V") ? stdout : devnull, f->root), 0);
	}
}

/* A bit flipped mid-log: cut at that batch, later segments deleted. */
static void test_recovery_bitflip_mid_segment(void **state)
{
	struct lf *f = *state;
	uint8_t buf[4096];
	uint32_t len = lf_batch(buf, sizeof(buf), 0, 2, 7, 40);

	f->cfg.segment_bytes = 4 * len;
	f->cfg.index_interval_bytes = 1;
	assert_int_equal(lf_open(f), 0);
	for (int i = 0; i < 12; i++)
		lf_append(f, 2, 7, 40);             /* segments 0, 8, 16 of 4 batches */
	assert_int_equal(st_log_segment_count(f->log), 3);
	lf_crash(f);
	file_xor(f, 8, 2 * len + len / 2, 0x10);    /* third batch of segment 8: 12..13 */

	assert_int_equal(lf_open(f), 0);
	assert_int_equal(st_log_leo(f->log), 12);
	assert_int_equal(f->rep.truncated_at, 12);
	assert_int_equal(f->rep.truncated_segment, 8);
	assert_int_equal(f->rep.truncated_position, 2 * len);
	assert_int_equal(f->rep.truncated_bytes, 2 * len);
	assert_int_equal(f->rep.segments_deleted, 1);
	assert_int_equal(f->rep.deleted_bytes, 4 * len);
	assert_string_equal(f->rep.reason, "CRC-32C mismatch");
	assert_int_equal(st_log_segment_count(f->log), 2);
	assert_int_equal(lf_file_size(f->root, 16, ".log"), -1);
	assert_int_equal(lf_file_size(f->root, 16, ".index"), -1);
	assert_int_equal(lf_file_size(f->root, 8, ".log"), 2 * len);
	check_readable(f);
	assert_int_equal(lf_append(f, 2, 9, 40), 12);
	assert_int_equal(lf_close(f), 0);
	assert_int_equal(st_verify_dir(getenv("V") ? stdout : devnull, f->root), 0);
}

/* The O_DIRECT appender's zero padding after a crash is cut like a torn batch. */
static void test_recovery_zero_tail(void **state)
{
	struct lf *f = *state;
	int64_t size;

	assert_int_equal(lf_open(f), 0);
	for (int i = 0; i < 3; i++)
		lf_append(f, 2, 7, 40);
	size = (int64_t)st_log_size(f->log);
	lf_crash(f);
	file_truncate(f, 0, 4096);
	assert_int_equal(lf_open(f), 0);
	assert_int_equal(st_log_leo(f->log), 6);
	assert_int_equal(f->rep.truncated_bytes, 4096 - size);
	assert_int_equal(lf_file_size(f->root, 0, ".log"), size);
}

/* After a clean shutdown the batches are not walked (a bad CRC stays unseen). */
static void test_recovery_clean_marker_skips_walk(void **state)
{
	struct lf *f = *state;
	char p[256];

	f->cfg.index_interval_bytes = 100;
	assert_int_equal(lf_open(f), 0);
	for (int i = 0; i < 10; i++)
		lf_append(f, 2, 7, 40);
	assert_int_equal(lf_close(f), 0);
	snprintf(p, sizeof(p), "%s/%s", f->root, ST_LOG_CLEAN_SHUTDOWN);
	assert_int_equal(access(p, F_OK), 0);
	file_xor(f, 0, 200, 0x01);                  /* a value byte: only the CRC sees it */

	assert_int_equal(lf_open(f), 0);
	assert_true(st_logdir_was_clean(f->d));
	assert_true(f->rep.clean);
	assert_int_equal(f->rep.segments_walked, 0);
	assert_int_equal(f->rep.batches_walked, 0);
	assert_int_equal(st_log_leo(f->log), 20);
	assert_int_equal(access(p, F_OK), -1);      /* removed while running */
	lf_crash(f);
	assert_int_equal(lf_open(f), 0);            /* unclean: walked and cut */
	assert_false(f->rep.clean);
	assert_int_equal(f->rep.segments_walked, 1);
	assert_true(st_log_leo(f->log) < 20);
	assert_int_equal(f->rep.truncated_at, st_log_leo(f->log));
}

/* Marker present but the tail is torn: the cheap checks catch it and walk. */
static void test_recovery_clean_marker_sanity_fallback(void **state)
{
	struct lf *f = *state;
	int64_t size;

	f->cfg.index_interval_bytes = 100;
	assert_int_equal(lf_open(f), 0);
	for (int i = 0; i < 10; i++)
		lf_append(f, 2, 7, 40);
	size = (int64_t)st_log_size(f->log);
	assert_int_equal(lf_close(f), 0);
	file_truncate(f, 0, size - 5);
	assert_int_equal(lf_open(f), 0);
	assert_false(f->rep.clean);
	assert_int_equal(f->rep.segments_walked, 1);
	assert_int_equal(st_log_leo(f->log), 18);
	check_readable(f);
}

/* Segments wholly below the recovery point are trusted after a crash. */
static void test_recovery_point_limits_walk(void **state)
{
	struct lf *f = *state;
	uint8_t buf[4096];
	uint32_t len = lf_batch(buf, sizeof(buf), 0, 2, 7, 40);
	char p[256], text[256];
	FILE *ck;

	f->cfg.segment_bytes = 2 * len;
	assert_int_equal(lf_open(f), 0);
	for (int i = 0; i < 6; i++)
		lf_append(f, 2, 7, 40);             /* segments 0, 4, 8 */
	assert_int_equal(lf_close(f), 0);
	snprintf(p, sizeof(p), "%s/%s", f->root, ST_LOG_RECOVERY_CKPT);
	ck = fopen(p, "r");
	assert_non_null(ck);
	size_t n = fread(text, 1, sizeof(text) - 1, ck);

	text[n] = 0;
	fclose(ck);
	assert_string_equal(text, "0\n1\nt 0 12\n");
	snprintf(p, sizeof(p), "%s/%s", f->root, ST_LOG_START_CKPT);
	assert_int_equal(access(p, F_OK), 0);
	/* pretend only offsets below 5 were flushed when it crashed */
	snprintf(p, sizeof(p), "%s/%s", f->root, ST_LOG_RECOVERY_CKPT);
	ck = fopen(p, "w");
	fputs("0\n1\nt 0 5\n", ck);
	fclose(ck);
	snprintf(p, sizeof(p), "%s/%s", f->root, ST_LOG_CLEAN_SHUTDOWN);
	unlink(p);
	assert_int_equal(lf_open(f), 0);
	assert_int_equal(f->rep.recovery_point, 5);
	assert_int_equal(f->rep.segments_walked, 2);    /* 4 and 8, not 0 */
	assert_int_equal(st_log_leo(f->log), 12);
	assert_int_equal(st_log_recovery_point(f->log), 12);
}

static void test_recovery_bad_checkpoint(void **state)
{
	struct lf *f = *state;
	char p[256];
	FILE *ck;

	snprintf(p, sizeof(p), "%s/%s", f->root, ST_LOG_RECOVERY_CKPT);
	ck = fopen(p, "w");
	fputs("1\n0\n", ck);
	fclose(ck);
	assert_int_equal(st_logdir_open(&f->d, f->root), -EINVAL);
	f->d = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_recovery_torn_last_batch_every_byte, lf_setup, lf_teardown),
		cmocka_unit_test_setup_teardown(test_recovery_bitflip_mid_segment, lf_setup, lf_teardown),
		cmocka_unit_test_setup_teardown(test_recovery_zero_tail, lf_setup, lf_teardown),
		cmocka_unit_test_setup_teardown(test_recovery_clean_marker_skips_walk, lf_setup, lf_teardown),
		cmocka_unit_test_setup_teardown(test_recovery_clean_marker_sanity_fallback, lf_setup, lf_teardown),
		cmocka_unit_test_setup_teardown(test_recovery_point_limits_walk, lf_setup, lf_teardown),
		cmocka_unit_test_setup_teardown(test_recovery_bad_checkpoint, lf_setup, lf_teardown),
	};
	int rc;

	devnull = fopen("/dev/null", "w");
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	fclose(devnull);
	return rc;
}
