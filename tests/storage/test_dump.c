/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of dump-log and verify (st_dump.h): the kafka-dump-log style
 * lines, records as text or hex, index dumps, and the exit status for
 * corrupt, torn and inconsistent segments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "log_fixture.h"
#include "st_dump.h"
#include "st_endian.h"

struct dump_fx {
	struct lf f;
	char *text;
	size_t len;
	FILE *out;
};

static int setup(void **state)
{
	struct dump_fx *x = calloc(1, sizeof(*x));
	struct st_record_header h = { .key = "h", .key_len = 1, .value = "hv", .value_len = 2 };
	struct st_batch_builder b;
	uint8_t buf[4096];
	int len;

	lf_mkroot(&x->f);
	x->f.cfg.index_interval_bytes = 10;
	assert_int_equal(lf_open(&x->f), 0);
	for (int i = 0; i < 3; i++)
		lf_append(&x->f, 10, 1000, 8);
	/* one batch with a key, a binary value and a header */
	st_batch_builder_begin(&b, buf, sizeof(buf), 5000);
	st_batch_builder_add(&b, 5000, "key", 3, "\x01\x02", 2, &h, 1);
	len = st_batch_builder_finish(&b);
	st_batch_assign(buf, 30, 0);
	assert_int_equal(st_log_append(x->f.log, buf, (uint32_t)len, 5000), 30);
	assert_int_equal(lf_close(&x->f), 0);
	x->out = open_memstream(&x->text, &x->len);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct dump_fx *x = *state;

	fclose(x->out);
	free(x->text);
	lf_close(&x->f);
	lf_rmrf(x->f.root);
	free(x);
	return 0;
}

static const char *output(struct dump_fx *x)
{
	fflush(x->out);
	return x->text;
}

static void test_dump_batches(void **state)
{
	struct dump_fx *x = *state;
	char p[256];

	lf_path(p, sizeof(p), x->f.root, 0, ".log");
	assert_int_equal(st_dump_log(x->out, p, false), 0);
	assert_non_null(strstr(output(x), "Log starting offset: 0\n"));
	assert_non_null(strstr(output(x), "baseOffset: 0 lastOffset: 9 count: 10 baseSequence: -1"
				     " lastSequence: -1 producerId: -1 producerEpoch: -1"
				     " partitionLeaderEpoch: 0 isTransactional: false"
				     " isControl: false position: 0 CreateTime: 1009"
				     " baseTimestamp: 1000 maxTimestamp: 1009 size: "));
	assert_non_null(strstr(output(x), "baseOffset: 30 lastOffset: 30 count: 1"));
	assert_non_null(strstr(output(x), "compresscodec: none crc: "));
	assert_null(strstr(output(x), "isvalid: false"));
	assert_null(strstr(output(x), "| offset"));
}

static void test_dump_records(void **state)
{
	struct dump_fx *x = *state;
	char p[256];

	lf_path(p, sizeof(p), x->f.root, 0, ".log");
	assert_int_equal(st_dump_log(x->out, p, true), 0);
	assert_non_null(strstr(output(x), "| offset: 3 CreateTime: 1003 keySize: -1 valueSize: 8"
				     " headers: [] key: null payload: v3-ddddd\n"));
	assert_non_null(strstr(output(x), "| offset: 30 CreateTime: 5000 keySize: 3 valueSize: 2"
				     " headers: [h=hv] key: key payload: 0x0102\n"));
}

static void test_dump_corrupt_and_torn(void **state)
{
	struct dump_fx *x = *state;
	char p[256];
	uint8_t c;
	int fd;

	lf_path(p, sizeof(p), x->f.root, 0, ".log");
	fd = open(p, O_RDWR);
	assert_int_equal(pread(fd, &c, 1, 100), 1);
	c ^= 0x40;
	assert_int_equal(pwrite(fd, &c, 1, 100), 1);
	assert_int_equal(st_dump_log(x->out, p, true), 1);
	assert_non_null(strstr(output(x), "isvalid: false"));
	assert_non_null(strstr(output(x), "| invalid: CRC-32C mismatch"));
	assert_int_equal(st_verify_dir(x->out, x->f.root), 1);
	assert_non_null(strstr(output(x), "CRC-32C mismatch"));
	assert_non_null(strstr(output(x), ": 1 problems\n"));
	/* restore, then tear the tail */
	c ^= 0x40;
	assert_int_equal(pwrite(fd, &c, 1, 100), 1);
	assert_int_equal(ftruncate(fd, lf_file_size(x->f.root, 0, ".log") - 3), 0);
	close(fd);
	assert_int_equal(st_dump_log(x->out, p, false), 1);
	assert_non_null(strstr(output(x), "invalid bytes at the end of"));
	assert_int_equal(st_verify_dir(x->out, x->f.root), 1);
}

static void test_verify_clean_and_bad_index(void **state)
{
	struct dump_fx *x = *state;
	uint8_t e[8];
	char p[256];
	int fd;

	assert_int_equal(st_verify_dir(x->out, x->f.root), 0);
	assert_non_null(strstr(output(x), "verified 1 partitions, 1 segments, 4 batches: 0 problems\n"));
	/* a partition directory works too */
	snprintf(p, sizeof(p), "%s/t-0", x->f.root);
	assert_int_equal(st_verify_dir(x->out, p), 0);
	/* the offset index dump, then an entry pointing inside a batch */
	lf_path(p, sizeof(p), x->f.root, 0, ".index");
	assert_int_equal(st_dump_log(x->out, p, false), 0);
	assert_non_null(strstr(output(x), "offset: 19 position: "));
	fd = open(p, O_RDWR);
	assert_int_equal(pread(fd, e, 8, 0), 8);
	st_be32_store(e + 4, st_be32_load(e + 4) + 1);
	assert_int_equal(pwrite(fd, e, 8, 0), 8);
	close(fd);
	assert_int_equal(st_verify_dir(x->out, x->f.root), 1);
	assert_non_null(strstr(output(x), "is not a batch start"));
	lf_path(p, sizeof(p), x->f.root, 0, ".timeindex");
	assert_int_equal(st_dump_log(x->out, p, false), 0);
	assert_non_null(strstr(output(x), "timestamp: 5000 offset: 30\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dump_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dump_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dump_corrupt_and_torn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_clean_and_bad_index, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
