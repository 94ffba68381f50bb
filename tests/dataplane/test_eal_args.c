/* SPDX-License-Identifier: BSD-3-Clause */
/* The EAL command line assembled from the configuration (no EAL started). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "fwc_config.h"
#include "dp_eal.h"
#include "dp_port.h"

static void join(const struct dp_eal_args *a, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < a->argc && off < size; i++)
		off += (size_t)snprintf(buf + off, size - off, "%s%s", i ? " " : "", a->argv[i]);
}

static void base_config(struct fwc_config *cfg)
{
	fwc_config_defaults(cfg);
	cfg->control.cpu = 0;
	cfg->dataplane.n_eal_args = 2;
	strcpy(cfg->dataplane.eal_args[0], "--no-pci");
	strcpy(cfg->dataplane.eal_args[1], "--in-memory");
	cfg->dataplane.n_ports = 2;
	strcpy(cfg->dataplane.ports[0].name, "p0");
	strcpy(cfg->dataplane.ports[0].device, "net_null0,size=64");
	cfg->dataplane.ports[0].rx_queues = 2;
	cfg->dataplane.ports[0].rx_lcores[0] = 1;
	cfg->dataplane.ports[0].rx_lcores[1] = 3;
	strcpy(cfg->dataplane.ports[1].name, "p1");
	strcpy(cfg->dataplane.ports[1].device, "0000:03:00.0");
	cfg->dataplane.ports[1].rx_queues = 1;
	cfg->dataplane.ports[1].rx_lcores[0] = 1;
}

static void test_eal_args_from_config(void **state)
{
	static struct fwc_config cfg;
	struct dp_eal_args a;
	char line[1024];

	(void)state;
	base_config(&cfg);
	assert_int_equal(dp_eal_args_build(&cfg, 0, NULL, &a), 0);
	join(&a, line, sizeof(line));
	assert_string_equal(line, "sluiced --no-pci --in-memory -l 0,1,3 --main-lcore 0 "
				  "--vdev=net_null0,size=64 --allow=0000:03:00.0 --file-prefix=sluice");
	assert_null(a.argv[a.argc]);
}

static void test_eal_args_extra_and_no_huge(void **state)
{
	static struct fwc_config cfg;
	char *extra[] = { "--no-huge", "--log-level=*:error" };
	struct dp_eal_args a;
	char line[1024];

	(void)state;
	base_config(&cfg);
	assert_int_equal(dp_eal_args_build(&cfg, 2, extra, &a), 0);
	join(&a, line, sizeof(line));
	/* --in-memory dropped, --no-shconf and -m added, extra args last. */
	assert_string_equal(line, "sluiced --no-pci --no-shconf -m 512 -l 0,1,3 --main-lcore 0 "
				  "--vdev=net_null0,size=64 --allow=0000:03:00.0 --file-prefix=sluice "
				  "--no-huge --log-level=*:error");
}

static void test_eal_args_operator_lcores_win(void **state)
{
	static struct fwc_config cfg;
	char *extra[] = { "-l", "0-1" };
	struct dp_eal_args a;
	char line[1024];

	(void)state;
	base_config(&cfg);
	assert_int_equal(dp_eal_args_build(&cfg, 2, extra, &a), 0);
	join(&a, line, sizeof(line));
	assert_null(strstr(line, "--main-lcore"));
	assert_non_null(strstr(line, " -l 0-1"));
}

static void test_eal_args_operator_file_prefix_wins(void **state)
{
	static struct fwc_config cfg;
	char *extra[] = { "--file-prefix", "two" };
	struct dp_eal_args a;
	char line[1024];

	(void)state;
	base_config(&cfg);
	assert_int_equal(dp_eal_args_build(&cfg, 2, extra, &a), 0);
	join(&a, line, sizeof(line));
	assert_null(strstr(line, "--file-prefix=sluice"));
	assert_non_null(strstr(line, " --file-prefix two"));
	/* ... and so does one in the config's dataplane.eal list. */
	strcpy(cfg.dataplane.eal_args[cfg.dataplane.n_eal_args++], "--file-prefix=one");
	assert_int_equal(dp_eal_args_build(&cfg, 0, NULL, &a), 0);
	join(&a, line, sizeof(line));
	assert_null(strstr(line, "--file-prefix=sluice"));
	assert_non_null(strstr(line, "--file-prefix=one"));
}

/* No memory mode given: shared files with a hugetlbfs mounted, else --in-memory. */
static void test_eal_args_memory_mode_follows_hugetlbfs(void **state)
{
	static struct fwc_config cfg;
	char *huge_dir[] = { "--huge-dir=/mnt/huge" };
	struct dp_eal_args a;
	char line[1024];

	(void)state;
	base_config(&cfg);
	cfg.dataplane.n_eal_args = 1;           /* --no-pci only */
	assert_int_equal(dp_eal_args_build(&cfg, 0, NULL, &a), 0);
	join(&a, line, sizeof(line));
	if (dp_eal_hugetlbfs_mounted())
		assert_null(strstr(line, "--in-memory"));
	else
		assert_non_null(strstr(line, " --in-memory "));
	/* a memory option of the operator's (here --huge-dir) is left alone */
	assert_int_equal(dp_eal_args_build(&cfg, 1, huge_dir, &a), 0);
	join(&a, line, sizeof(line));
	assert_null(strstr(line, "--in-memory"));
}

static void test_eal_args_too_many(void **state)
{
	static struct fwc_config cfg;
	static char *extra[DP_EAL_ARGV_MAX + 1];
	struct dp_eal_args a;

	(void)state;
	base_config(&cfg);
	for (int i = 0; i <= DP_EAL_ARGV_MAX; i++)
		extra[i] = "--no-telemetry";
	assert_int_equal(dp_eal_args_build(&cfg, DP_EAL_ARGV_MAX + 1, extra, &a), -E2BIG);
}

static void test_port_dev_name(void **state)
{
	struct fwc_port p = { 0 };
	char name[64];

	(void)state;
	strcpy(p.device, "net_pcap0,rx_pcap=x.pcap,infinite_rx=1");
	dp_port_dev_name(&p, name, sizeof(name));
	assert_string_equal(name, "net_pcap0");
	assert_true(dp_port_is_vdev(&p));
	strcpy(p.device, "0000:03:00.1");
	dp_port_dev_name(&p, name, sizeof(name));
	assert_string_equal(name, "0000:03:00.1");
	assert_false(dp_port_is_vdev(&p));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eal_args_from_config),
		cmocka_unit_test(test_eal_args_extra_and_no_huge),
		cmocka_unit_test(test_eal_args_operator_lcores_win),
		cmocka_unit_test(test_eal_args_operator_file_prefix_wins),
		cmocka_unit_test(test_eal_args_memory_mode_follows_hugetlbfs),
		cmocka_unit_test(test_eal_args_too_many),
		cmocka_unit_test(test_port_dev_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
