/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_producer.c - idempotent producers' state (st_producer.h): Kafka's
 * sequence rules, the five cached batches, wrap, expiry, eviction, and the
 * state rebuilt from snapshots and the log.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "log_fixture.h"
#include "st_producer.h"

#define PID 4242

static struct st_batch_info info(int64_t pid, int16_t epoch, int32_t seq, int32_t n, int64_t ts)
{
	return (struct st_batch_info){ .producer_id = pid, .producer_epoch = epoch,
				       .base_sequence = seq, .last_offset_delta = n - 1,
				       .records_count = n, .base_timestamp = ts,
				       .max_timestamp = ts };
}

/* Check, then append at *@leo as the partition would; @return the verdict. */
static enum st_producer_verdict put(struct st_producers *t, int64_t *leo, int16_t epoch,
				    int32_t seq, int32_t n, int64_t ts, struct st_producer_batch *dup)
{
	struct st_batch_info bi = info(PID, epoch, seq, n, ts);
	struct st_producer_batch d;
	enum st_producer_verdict v = st_producers_check(t, &bi, dup ? dup : &d);

	if (v == ST_PRODUCER_APPEND) {
		st_producers_update(t, &bi, *leo);
		*leo += n;
	}
	return v;
}

static void test_producer_sequence_rules(void **state)
{
	struct st_producers t;
	struct st_producer_batch dup;
	int64_t leo = 100;

	(void)state;
	assert_int_equal(st_producers_init(&t, 16, 0), 0);
	/* Unknown producer: any sequence starts it (Kafka 3.x). */
	assert_int_equal(put(&t, &leo, 0, 7, 3, 1000, NULL), ST_PRODUCER_APPEND);
	assert_int_equal(leo, 103);
	/* In order, then a gap and a repeat of an old first sequence. */
	assert_int_equal(put(&t, &leo, 0, 10, 2, 1001, NULL), ST_PRODUCER_APPEND);
	assert_int_equal(put(&t, &leo, 0, 13, 1, 1002, NULL), ST_PRODUCER_OUT_OF_ORDER);
	assert_int_equal(put(&t, &leo, 0, 10, 1, 1002, NULL), ST_PRODUCER_OUT_OF_ORDER);
	/* A duplicate of either cached batch: its offsets, nothing appended. */
	assert_int_equal(put(&t, &leo, 0, 7, 3, 1003, &dup), ST_PRODUCER_DUPLICATE);
	assert_int_equal(dup.first_offset, 100);
	assert_int_equal(dup.last_offset, 102);
	assert_int_equal(put(&t, &leo, 0, 10, 2, 1003, &dup), ST_PRODUCER_DUPLICATE);
	assert_int_equal(dup.first_offset, 103);
	assert_int_equal(leo, 105);
	/* Stale epoch fenced; a new epoch must start at sequence 0. */
	assert_int_equal(put(&t, &leo, 1, 5, 1, 1004, NULL), ST_PRODUCER_OUT_OF_ORDER);
	assert_int_equal(put(&t, &leo, 1, 0, 1, 1004, NULL), ST_PRODUCER_APPEND);
	assert_int_equal(put(&t, &leo, 0, 12, 1, 1005, NULL), ST_PRODUCER_FENCED);
	/* The old epoch's batches are forgotten with it: no duplicate answer for them. */
	assert_int_equal(put(&t, &leo, 1, 7, 3, 1005, NULL), ST_PRODUCER_OUT_OF_ORDER);
	st_producers_free(&t);
}

static void test_producer_gaps_allowed(void **state)
{
	struct st_producers t;
	struct st_batch_info bi;
	struct st_producer_batch dup;
	int64_t leo = 0;

	(void)state;
	assert_int_equal(st_producers_init(&t, 4, 0), 0);
	assert_int_equal(put(&t, &leo, 0, 0, 2, 1, NULL), ST_PRODUCER_APPEND);
	/* At most once: a gap (sequences 2..4 lost) does not stop what follows. */
	bi = info(PID, 0, 5, 1, 2);
	assert_int_equal(st_producers_check_ex(&t, &bi, true, &dup), ST_PRODUCER_APPEND);
	assert_int_equal(st_producers_check(&t, &bi, &dup), ST_PRODUCER_OUT_OF_ORDER);
	st_producers_update(&t, &bi, leo++);
	/* A network duplicate: cached, or older than the cache, never stored twice. */
	bi = info(PID, 0, 5, 1, 3);
	assert_int_equal(st_producers_check_ex(&t, &bi, true, &dup), ST_PRODUCER_DUPLICATE);
	bi = info(PID, 0, 3, 1, 3);
	assert_int_equal(st_producers_check_ex(&t, &bi, true, &dup), ST_PRODUCER_STALE);
	/* Serial order across the wrap: INT32_MAX is before 0. */
	for (int32_t k = 0; k < 4; k++) {
		bi = info(PID, 0, 6 + k * 0x20000000, 1, 4);
		assert_int_equal(st_producers_check_ex(&t, &bi, true, &dup), ST_PRODUCER_APPEND);
		st_producers_update(&t, &bi, leo++);
	}
	bi = info(PID, 0, INT32_MAX, 1, 5);
	assert_int_equal(st_producers_check_ex(&t, &bi, true, &dup), ST_PRODUCER_APPEND);
	st_producers_update(&t, &bi, leo++);
	bi = info(PID, 0, 3, 1, 6);
	assert_int_equal(st_producers_check_ex(&t, &bi, true, &dup), ST_PRODUCER_APPEND);
	bi = info(PID, 0, INT32_MAX - 10, 1, 6);
	assert_int_equal(st_producers_check_ex(&t, &bi, true, &dup), ST_PRODUCER_STALE);
	/* Epochs still fence. */
	bi = info(PID, -1 + 0, 9, 1, 7);
	bi.producer_epoch = -1;
	assert_int_equal(st_producers_check_ex(&t, &bi, true, &dup), ST_PRODUCER_FENCED);
	st_producers_free(&t);
}

static void test_producer_keeps_five_batches(void **state)
{
	struct st_producers t;
	struct st_producer_batch dup;
	int64_t leo = 0;

	(void)state;
	assert_int_equal(st_producers_init(&t, 4, 0), 0);
	for (int i = 0; i < 7; i++)
		assert_int_equal(put(&t, &leo, 3, i * 2, 2, 10 + i, NULL), ST_PRODUCER_APPEND);
	/* Batches 2..6 are cached, 0 and 1 are not (Kafka's NumBatchesToRetain). */
	for (int i = 2; i < 7; i++) {
		assert_int_equal(put(&t, &leo, 3, i * 2, 2, 20, &dup), ST_PRODUCER_DUPLICATE);
		assert_int_equal(dup.first_offset, i * 2);
	}
	assert_int_equal(put(&t, &leo, 3, 2, 2, 20, NULL), ST_PRODUCER_OUT_OF_ORDER);
	assert_int_equal(leo, 14);
	assert_int_equal(st_producers_find(&t, PID)->n, ST_PRODUCER_BATCHES);
	st_producers_free(&t);
}

static void test_producer_sequence_wraps(void **state)
{
	struct st_producers t;
	int64_t leo = 0;

	(void)state;
	assert_int_equal(st_producers_init(&t, 4, 0), 0);
	assert_int_equal(put(&t, &leo, 0, INT32_MAX - 1, 2, 1, NULL), ST_PRODUCER_APPEND);
	assert_int_equal(put(&t, &leo, 0, 1, 1, 2, NULL), ST_PRODUCER_OUT_OF_ORDER);
	assert_int_equal(put(&t, &leo, 0, 0, 3, 2, NULL), ST_PRODUCER_APPEND);
	assert_int_equal(put(&t, &leo, 0, 3, 1, 3, NULL), ST_PRODUCER_APPEND);
	/* A batch across the wrap: INT32_MAX, 0, 1. */
	st_producers_free(&t);
	assert_int_equal(st_producers_init(&t, 4, 0), 0);
	assert_int_equal(put(&t, &leo, 0, INT32_MAX, 3, 1, NULL), ST_PRODUCER_APPEND);
	assert_int_equal(st_producers_find(&t, PID)->b[0].last_seq, 1);
	assert_int_equal(put(&t, &leo, 0, 2, 1, 1, NULL), ST_PRODUCER_APPEND);
	st_producers_free(&t);
}

/*
 * Headers replayed from a damaged log (st_producers_rebuild reads them
 * without validating) may hold any sequence and lastOffsetDelta: the last
 * sequence is computed without overflow (fuzz_recovery found INT32_MAX - n
 * overflowing for a negative delta; the sanitizer build fails on it).
 */
static void test_producer_update_any_header(void **state)
{
	struct st_producers t;
	struct st_batch_info bi = info(PID, 0, -754974716, 0, 1);

	(void)state;
	assert_int_equal(st_producers_init(&t, 4, 0), 0);
	bi.last_offset_delta = -754974716;
	st_producers_update(&t, &bi, 0);
	assert_int_equal(st_producers_find(&t, PID)->b[0].last_seq, -1509949432);
	bi = info(PID + 1, 0, INT32_MAX, 0, 1);
	bi.last_offset_delta = INT32_MAX;
	st_producers_update(&t, &bi, 0);
	assert_int_equal(st_producers_find(&t, PID + 1)->b[0].last_seq, INT32_MAX - 1);
	st_producers_free(&t);
}

static void test_producer_expiry_and_eviction(void **state)
{
	struct st_producers t;
	struct st_batch_info bi;
	int64_t leo = 0;

	(void)state;
	assert_int_equal(st_producers_init(&t, 3, 60000), 0);
	assert_int_equal(put(&t, &leo, 0, 0, 1, 1000, NULL), ST_PRODUCER_APPEND);
	/* Idle for producer.id.expiration.ms by its own clock: any sequence again. */
	assert_int_equal(put(&t, &leo, 0, 9, 1, 1000 + 59999, NULL), ST_PRODUCER_OUT_OF_ORDER);
	assert_int_equal(put(&t, &leo, 0, 9, 1, 1000 + 60000, NULL), ST_PRODUCER_APPEND);
	/* Three more producers into a table of three: the idlest one goes. */
	for (int64_t pid = 1; pid <= 3; pid++) {
		bi = info(pid, 0, 0, 1, 100000 + pid);
		st_producers_update(&t, &bi, leo++);
	}
	assert_int_equal(t.n, 3);
	assert_int_equal(t.evicted, 1);
	assert_null(st_producers_find(&t, PID));
	for (int64_t pid = 1; pid <= 3; pid++)
		assert_non_null(st_producers_find(&t, pid));
	/* Many producers through a small table keep every lookup chain intact. */
	for (int64_t pid = 10; pid < 1000; pid++) {
		bi = info(pid, 0, 0, 1, 200000 + pid);
		st_producers_update(&t, &bi, leo++);
		assert_non_null(st_producers_find(&t, pid));
		assert_non_null(st_producers_find(&t, pid - 1 >= 10 ? pid - 1 : 3));
	}
	assert_int_equal(t.n, 3);
	st_producers_free(&t);
	/* No table: every batch appends. */
	assert_int_equal(st_producers_init(&t, 0, 0), 0);
	assert_int_equal(put(&t, &leo, 0, 5, 1, 1, NULL), ST_PRODUCER_APPEND);
	assert_int_equal(put(&t, &leo, 0, 5, 1, 1, NULL), ST_PRODUCER_APPEND);
	st_producers_free(&t);
}

/* Append a batch of producer @pid to the fixture's log. */
static int64_t log_put(struct lf *f, int64_t pid, int16_t epoch, int32_t seq, int n, int64_t ts)
{
	uint8_t buf[8192];
	struct st_batch_builder b;
	int size;

	assert_int_equal(st_batch_builder_begin(&b, buf, sizeof(buf), ts), 0);
	for (int i = 0; i < n; i++)
		assert_int_equal(st_batch_builder_add(&b, ts, NULL, 0, "x", 1, NULL, 0), 0);
	b.producer_id = pid;
	b.producer_epoch = epoch;
	b.base_sequence = seq;
	size = st_batch_builder_finish(&b);
	assert_true(size > 0);
	st_batch_assign(buf, st_log_leo(f->log), 0);
	return st_log_append(f->log, buf, (uint32_t)size, ts);
}

static void test_producer_rebuild_from_log_and_snapshot(void **state)
{
	struct lf *f = *state;
	struct st_producers t;
	struct st_producer_batch dup;
	struct st_batch_info bi;
	unsigned int bad = 0;
	const char *dir;
	int64_t loaded;
	char path[256];
	int fd;

	assert_int_equal(lf_open(f), 0);
	dir = st_log_dir(f->log);
	for (int i = 0; i < 8; i++)
		assert_int_equal(log_put(f, PID, 2, i * 3, 3, 5000 + i), i * 3);
	assert_int_equal(log_put(f, 7, 0, 0, 1, 6000), 24);
	assert_true(lf_append(f, 2, 6001, 10) == 25);  /* no producer id */

	/* No snapshot: every batch is read. */
	assert_int_equal(st_producers_init(&t, 16, 0), 0);
	assert_int_equal(st_producers_rebuild(&t, f->log, &bad, &loaded), 10);
	assert_int_equal(loaded, -1);
	assert_int_equal(t.n, 2);
	bi = info(PID, 2, 21, 3, 7000);
	assert_int_equal(st_producers_check(&t, &bi, &dup), ST_PRODUCER_DUPLICATE);
	assert_int_equal(dup.first_offset, 21);
	bi = info(PID, 2, 24, 1, 7000);
	assert_int_equal(st_producers_check(&t, &bi, &dup), ST_PRODUCER_APPEND);
	bi = info(PID, 2, 25, 1, 7000);
	assert_int_equal(st_producers_check(&t, &bi, &dup), ST_PRODUCER_OUT_OF_ORDER);

	/* Snapshot at the log end, two more batches: only those are read. */
	assert_int_equal(st_producers_snapshot(&t, dir, st_log_leo(f->log), st_log_leo(f->log)), 0);
	st_producers_free(&t);
	assert_int_equal(log_put(f, PID, 2, 24, 2, 8000), 27);
	assert_int_equal(log_put(f, 9, 0, 0, 1, 8001), 29);
	assert_int_equal(st_producers_init(&t, 16, 0), 0);
	assert_int_equal(st_producers_rebuild(&t, f->log, &bad, &loaded), 2);
	assert_int_equal(loaded, 27);
	assert_int_equal(bad, 0);
	assert_int_equal(t.n, 3);
	for (int32_t s = 12; s <= 24; s += 3) {            /* the five last batches of PID */
		bi = info(PID, 2, s, s == 24 ? 2 : 3, 9000);
		assert_int_equal(st_producers_check(&t, &bi, &dup), ST_PRODUCER_DUPLICATE);
		assert_int_equal(dup.first_offset, s == 24 ? 27 : s);
	}
	bi = info(PID, 2, 9, 3, 9000);
	assert_int_equal(st_producers_check(&t, &bi, &dup), ST_PRODUCER_OUT_OF_ORDER);
	bi = info(7, 0, 0, 1, 9000);
	assert_int_equal(st_producers_check(&t, &bi, &dup), ST_PRODUCER_DUPLICATE);
	assert_int_equal(dup.first_offset, 24);

	/*
	 * A newer snapshot at the durable end replaces the older; a torn one is
	 * ignored and the log read whole.
	 */
	assert_int_equal(st_producers_snapshot(&t, dir, st_log_leo(f->log), st_log_leo(f->log)), 0);
	lf_path(path, sizeof(path), f->root, 27, ".snapshot");
	assert_int_equal(access(path, F_OK), -1);
	lf_path(path, sizeof(path), f->root, 30, ".snapshot");
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "\xff", 1, 20), 1);
	close(fd);
	st_producers_free(&t);
	assert_int_equal(st_producers_init(&t, 16, 0), 0);
	assert_int_equal(st_producers_rebuild(&t, f->log, &bad, &loaded), 12);
	assert_int_equal(loaded, -1);
	assert_int_equal(bad, 1);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(t.n, 3);

	/* A snapshot beyond the log end (its tail was cut) is removed, not loaded. */
	assert_int_equal(st_producers_snapshot(&t, dir, 1000, 0), 0);
	st_producers_free(&t);
	assert_int_equal(st_producers_init(&t, 16, 0), 0);
	assert_int_equal(st_producers_rebuild(&t, f->log, &bad, &loaded), 12);
	lf_path(path, sizeof(path), f->root, 1000, ".snapshot");
	assert_int_equal(access(path, F_OK), -1);
	st_producers_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_producer_sequence_rules),
		cmocka_unit_test(test_producer_keeps_five_batches),
		cmocka_unit_test(test_producer_gaps_allowed),
		cmocka_unit_test(test_producer_sequence_wraps),
		cmocka_unit_test(test_producer_update_any_header),
		cmocka_unit_test(test_producer_expiry_and_eviction),
		cmocka_unit_test_setup_teardown(test_producer_rebuild_from_log_and_snapshot, lf_setup,
						lf_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
