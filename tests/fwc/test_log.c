/* SPDX-License-Identifier: BSD-3-Clause */
/* fwc_log: level specs for sluiced --log-level, and the log rate limiter. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fwc_log.h"

#define MS 1000000ull

static void test_log_levels_global_and_modules(void **state)
{
	struct fwc_log_levels lv;
	char err[256] = "";

	(void)state;
	assert_int_equal(fwc_log_levels_parse("info", &lv, err, sizeof(err)), 0);
	assert_int_equal(lv.global, 6);
	for (int m = 0; m < FWC_LOG_MODULES; m++)
		assert_int_equal(lv.module[m], -1);
	assert_int_equal(fwc_log_levels_parse("storage=debug,control=info,dataplane=warn", &lv,
					      err, sizeof(err)), 0);
	assert_int_equal(lv.global, -1);
	assert_int_equal(lv.module[FWC_LOG_STORAGE], 7);
	assert_int_equal(lv.module[FWC_LOG_CONTROL], 6);
	assert_int_equal(lv.module[FWC_LOG_DATAPLANE], 4);
	assert_int_equal(lv.module[FWC_LOG_DAEMON], -1);
	assert_int_equal(fwc_log_levels_parse("error,daemon=notice,storage=emerg", &lv, err,
					      sizeof(err)), 0);
	assert_int_equal(lv.global, 3);
	assert_int_equal(lv.module[FWC_LOG_DAEMON], 5);
	assert_int_equal(lv.module[FWC_LOG_STORAGE], 0);
	assert_string_equal(fwc_log_module_name(FWC_LOG_DATAPLANE), "dataplane");
}

static void test_log_levels_bad_input_says_why(void **state)
{
	struct fwc_log_levels lv;
	char err[256];

	(void)state;
	assert_int_equal(fwc_log_levels_parse("storag=debug", &lv, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown module 'storag' in 'storag=debug'"));
	assert_non_null(strstr(err, "dataplane"));
	assert_int_equal(fwc_log_levels_parse("storage=loud", &lv, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown level 'loud'"));
	assert_int_equal(fwc_log_levels_parse("infos", &lv, err, sizeof(err)), -EINVAL);
	assert_int_equal(fwc_log_levels_parse("", &lv, err, sizeof(err)), -EINVAL);
	assert_int_equal(fwc_log_levels_parse("info,", &lv, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "empty item"));
	assert_int_equal(fwc_log_levels_parse("info,,debug", &lv, err, sizeof(err)), -EINVAL);
	assert_int_equal(fwc_log_levels_parse("=debug", &lv, err, sizeof(err)), -EINVAL);
	assert_int_equal(fwc_log_levels_parse("storage=", &lv, err, sizeof(err)), -EINVAL);
	assert_int_equal(fwc_log_level_parse("DEBUG", 5), -EINVAL); /* lower case only */
}

static void test_ratelimit_burst_then_one_per_interval(void **state)
{
	struct fwc_ratelimit rl = FWC_RATELIMIT_INIT(3, 1000);  /* 3 at once, then 1 per 333 ms */
	uint64_t t = 5000 * MS, sup = 99;
	int passed = 0;

	(void)state;
	for (int i = 0; i < 10; i++)
		passed += fwc_ratelimit_ok(&rl, t, &sup);
	assert_int_equal(passed, 3);
	assert_int_equal(rl.suppressed, 7);
	assert_false(fwc_ratelimit_ok(&rl, t + 300 * MS, &sup));   /* not a token yet */
	assert_true(fwc_ratelimit_ok(&rl, t + 340 * MS, &sup));    /* one token back */
	assert_int_equal(sup, 8);                                  /* the refused ones, reported once */
	assert_int_equal(rl.suppressed, 0);
	assert_false(fwc_ratelimit_ok(&rl, t + 400 * MS, &sup));
	/* Quiet for a long time: the bucket is full again, never fuller. */
	passed = 0;
	for (int i = 0; i < 10; i++)
		passed += fwc_ratelimit_ok(&rl, t + 60000 * MS, &sup);
	assert_int_equal(passed, 3);
}

static void test_ratelimit_keys_are_independent(void **state)
{
	struct fwc_ratelimit a = FWC_RATELIMIT_INIT(1, 1000), b = FWC_RATELIMIT_INIT(1, 1000);
	uint64_t sup;

	(void)state;
	assert_true(fwc_ratelimit_ok(&a, 1 * MS, &sup));
	assert_false(fwc_ratelimit_ok(&a, 2 * MS, &sup));
	assert_true(fwc_ratelimit_ok(&b, 2 * MS, &sup));
	assert_int_equal(sup, 0);
	assert_true(fwc_ratelimit_ok(&a, 1002 * MS, &sup));
	assert_int_equal(sup, 1);
}

static void test_ratelimit_zero_is_unlimited(void **state)
{
	struct fwc_ratelimit rl = FWC_RATELIMIT_INIT(0, 0);
	uint64_t sup;

	(void)state;
	for (int i = 0; i < 1000; i++)
		assert_true(fwc_ratelimit_ok(&rl, 1, &sup));
	assert_int_equal(sup, 0);
}

static void test_log_progress_interval_from_env(void **state)
{
	(void)state;
	unsetenv(FWC_PROGRESS_ENV);
	assert_int_equal(fwc_log_progress_ms(), 1000);
	setenv(FWC_PROGRESS_ENV, "", 1);
	assert_int_equal(fwc_log_progress_ms(), 1000);
	setenv(FWC_PROGRESS_ENV, "1", 1);
	assert_int_equal(fwc_log_progress_ms(), 1);
	setenv(FWC_PROGRESS_ENV, "3600000", 1);
	assert_int_equal(fwc_log_progress_ms(), 3600000);
	for (const char *const *bad = (const char *const[]){ "0", "3600001", "1s", "-5", "x", NULL };
	     *bad; bad++) {
		setenv(FWC_PROGRESS_ENV, *bad, 1);
		assert_int_equal(fwc_log_progress_ms(), -EINVAL);
	}
	unsetenv(FWC_PROGRESS_ENV);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log_levels_global_and_modules),
		cmocka_unit_test(test_log_levels_bad_input_says_why),
		cmocka_unit_test(test_ratelimit_burst_then_one_per_interval),
		cmocka_unit_test(test_ratelimit_keys_are_independent),
		cmocka_unit_test(test_ratelimit_zero_is_unlimited),
		cmocka_unit_test(test_log_progress_interval_from_env),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
