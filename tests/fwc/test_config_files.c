/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_config_files.c - the configs we ship: the embedded default, the
 * default.yaml on disk, and every firmware-config/examples file (the bad-* ones must
 * fail the way their comments say).
 */
#include <glob.h>

#include "fwc_test.h"

static void test_config_files_default_embedded_valid(void **state)
{
	struct capture *c = capture_new();
	struct fwc_config *cfg = config_new();

	(void)state;
	assert_int_equal(fwc_config_load_default(cfg, &c->diag), 0);
	assert_int_equal(fwc_config_validate(cfg, 2, &c->diag), 0);
	assert_errors(c, 0);
	assert_string_equal(cfg->path, FWC_DEFAULT_NAME);
	assert_int_equal(cfg->dataplane.n_ports, 1);
	assert_non_null(fwc_config_topic(cfg, "telemetry"));
	free(cfg);
	free(c);
}

/* The embedded copy is the file: same configuration either way. */
static void test_config_files_default_on_disk_same(void **state)
{
	struct capture *c = capture_new();
	struct fwc_config *a = config_new(), *b = config_new();
	char path[PATH_MAX];

	(void)state;
	source_path(path, sizeof(path), "firmware-config/default.yaml");
	assert_int_equal(fwc_config_load(a, path, &c->diag), 0);
	assert_int_equal(fwc_config_load_default(b, &c->diag), 0);
	config_strip_origins(a);
	config_strip_origins(b);
	assert_memory_equal(a, b, sizeof(*a));
	free(a);
	free(b);
	free(c);
}

static void test_config_files_examples_valid(void **state)
{
	char pattern[PATH_MAX];
	glob_t g;
	unsigned int n = 0;

	(void)state;
	source_path(pattern, sizeof(pattern), "firmware-config/examples/*.yaml");
	assert_int_equal(glob(pattern, 0, NULL, &g), 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *base = strrchr(g.gl_pathv[i], '/') + 1;
		struct capture *c = capture_new();
		struct fwc_config *cfg = config_new();

		if (strncmp(base, "bad-", 4) != 0) {
			fwc_config_load(cfg, g.gl_pathv[i], &c->diag);
			fwc_config_validate(cfg, 64, &c->diag);
			if (c->n) {
				capture_print(c);
				fail_msg("%s does not validate", g.gl_pathv[i]);
			}
			n++;
		}
		free(cfg);
		free(c);
	}
	globfree(&g);
	assert_true(n >= 1);
}

static void test_config_files_bare_metal_shape(void **state)
{
	struct capture *c = capture_new();
	struct fwc_config *cfg = config_new();
	char path[PATH_MAX];

	(void)state;
	source_path(path, sizeof(path), "firmware-config/examples/bare-metal.yaml");
	assert_int_equal(fwc_config_load(cfg, path, &c->diag), 0);
	assert_int_equal(cfg->dataplane.n_ports, 2);
	assert_true(cfg->dataplane.exclusive_lcores);
	for (unsigned int i = 0; i < 2; i++) {
		assert_int_equal(cfg->dataplane.ports[i].rx_queues, 4);
		assert_int_equal(cfg->dataplane.ports[i].n_rx_lcores, 4);
	}
	assert_int_equal(fwc_config_topic(cfg, "syslog")->partitions, cfg->broker.num_partitions);
	/* On a 2-CPU machine its lcores do not exist, which validate must say. */
	assert_int_equal(fwc_config_validate(cfg, 2, &c->diag), -EINVAL);
	free(cfg);
	free(c);
}

static void test_config_files_bad_three_errors(void **state)
{
	struct capture *c = capture_new();
	struct fwc_config *cfg = config_new();
	char path[PATH_MAX], msg[PATH_MAX + 256];

	(void)state;
	source_path(path, sizeof(path), "firmware-config/examples/bad-three-errors.yaml");
	assert_int_equal(fwc_config_load(cfg, path, &c->diag), -EINVAL);
	assert_int_equal(fwc_config_validate(cfg, 2, &c->diag), -EINVAL);
	assert_errors(c, 3);
	snprintf(msg, sizeof(msg), "%s:12: log.retention.hourz: unknown key", path);
	assert_reported(c, msg);
	snprintf(msg, sizeof(msg), "%s:23: dataplane.ports.sample0.rx.descriptors: expected an "
		 "integer (got \"many\")", path);
	assert_reported(c, msg);
	snprintf(msg, sizeof(msg), "%s:24: dataplane.ports.sample0.rx.lcores: lcore 200 does not "
		 "exist on this machine (available CPUs: 0-1)", path);
	assert_reported(c, msg);
	free(cfg);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_files_default_embedded_valid),
		cmocka_unit_test(test_config_files_default_on_disk_same),
		cmocka_unit_test(test_config_files_examples_valid),
		cmocka_unit_test(test_config_files_bare_metal_shape),
		cmocka_unit_test(test_config_files_bad_three_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
