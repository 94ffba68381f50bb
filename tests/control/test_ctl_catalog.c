/* SPDX-License-Identifier: BSD-3-Clause */
/* The topic catalog: name rules, storage hooks, persistence, cluster id. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ctl_catalog.h"
#include "fwc_config.h"

struct hooks {
	int opened, closed, deleted, fail_at;
};

static int h_open(void *arg, const struct ctl_topic *t, struct ctl_partition *p)
{
	struct hooks *h = arg;

	(void)t;
	if (h->fail_at >= 0 && h->opened == h->fail_at)
		return -ENOSPC;
	h->opened++;
	p->store = h;
	return 0;
}

static void h_close(void *arg, const struct ctl_topic *t, struct ctl_partition *p)
{
	struct hooks *h = arg;

	(void)t;
	assert_ptr_equal(p->store, h);
	h->closed++;
}

static int h_delete(void *arg, const struct ctl_topic *t)
{
	(void)t;
	((struct hooks *)arg)->deleted++;
	return 0;
}

static const struct ctl_catalog_ops ops = { h_open, h_close, h_delete };

static void test_ctl_catalog_topic_names(void **state)
{
	char longname[251];

	(void)state;
	memset(longname, 'a', sizeof(longname));
	assert_true(ctl_topic_name_valid("a.b_c-D9", 8));
	assert_false(ctl_topic_name_valid(".", 1));
	assert_false(ctl_topic_name_valid("..", 2));
	assert_true(ctl_topic_name_valid("...", 3));
	assert_false(ctl_topic_name_valid("", 0));
	assert_false(ctl_topic_name_valid("a b", 3));
	assert_false(ctl_topic_name_valid("a/b", 3));
	assert_true(ctl_topic_name_valid(longname, 249));
	assert_false(ctl_topic_name_valid(longname, 250));
}

static void test_ctl_catalog_hooks_and_rollback(void **state)
{
	static struct fwc_config cfg;
	struct hooks h = { .fail_at = -1 };
	struct ctl_topic_spec spec = { "t", 1, 4, NULL, 0, false };
	struct ctl_catalog *cat;
	char msg[256];

	(void)state;
	fwc_config_defaults(&cfg);
	cfg.broker.log_dirs[0] = '\0';
	assert_int_equal(ctl_catalog_create(&cfg, &ops, &h, &cat), 0);
	assert_int_equal(ctl_catalog_topic_create(cat, &spec, false, NULL, msg, sizeof(msg)),
			 KP_ERR_NONE);
	assert_int_equal(h.opened, 4);
	/* Storage refuses the third partition of the next topic: nothing is left open. */
	h.fail_at = 6;
	spec.name = "u";
	assert_int_equal(ctl_catalog_topic_create(cat, &spec, false, NULL, msg, sizeof(msg)),
			 KP_ERR_UNKNOWN_SERVER_ERROR);
	assert_int_equal(h.closed, 2);
	assert_null(ctl_catalog_find(cat, "u", 1));
	assert_int_equal(ctl_catalog_topic_delete(cat, "t", 1), KP_ERR_NONE);
	assert_int_equal(h.closed, 6);
	assert_int_equal(h.deleted, 1);
	assert_int_equal(ctl_catalog_topic_delete(cat, "t", 1), KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	spec.name = "__consumer_offsets";
	spec.name_len = strlen(spec.name);
	h.fail_at = -1;
	assert_int_equal(ctl_catalog_topic_create(cat, &spec, false, NULL, msg, sizeof(msg)),
			 KP_ERR_NONE);
	assert_true(ctl_catalog_find(cat, spec.name, spec.name_len)->internal);
	assert_int_equal(ctl_catalog_topic_delete(cat, spec.name, spec.name_len),
			 KP_ERR_TOPIC_DELETION_DISABLED);
	ctl_catalog_destroy(cat);
	assert_int_equal(h.closed, 10);
}

static void test_ctl_catalog_persists_created_topics(void **state)
{
	static struct fwc_config cfg;
	struct ctl_cfg_kv kv = { "segment.bytes", 13, "1048576", 7 };
	struct ctl_topic_spec spec = { "kept", 4, 3, &kv, 1, false };
	char dir[] = "/tmp/ctl-catalog-XXXXXX", id1[64], id2[64], msg[256];
	struct ctl_catalog *cat;
	struct ctl_topic *t;

	(void)state;
	assert_non_null(mkdtemp(dir));
	fwc_config_defaults(&cfg);
	strcpy(cfg.broker.log_dirs, dir);
	assert_int_equal(ctl_catalog_create(&cfg, NULL, NULL, &cat), 0);
	assert_int_equal(ctl_catalog_topic_create(cat, &spec, false, NULL, msg, sizeof(msg)),
			 KP_ERR_NONE);
	spec.name = "gone";
	assert_int_equal(ctl_catalog_topic_create(cat, &spec, false, NULL, msg, sizeof(msg)),
			 KP_ERR_NONE);
	assert_int_equal(ctl_catalog_topic_delete(cat, "gone", 4), KP_ERR_NONE);
	ctl_catalog_destroy(cat);

	assert_int_equal(ctl_catalog_create(&cfg, NULL, NULL, &cat), 0);
	assert_int_equal(ctl_catalog_count(cat), 1);
	t = ctl_catalog_find(cat, "kept", 4);
	assert_non_null(t);
	assert_int_equal(t->n_partitions, 3);
	assert_true(t->cfg.v[CTL_TCFG_SEGMENT_BYTES] == 1048576);
	assert_true(t->cfg.set_mask & (1u << CTL_TCFG_SEGMENT_BYTES));
	ctl_catalog_destroy(cat);

	assert_int_equal(ctl_cluster_id_load(dir, 0, id1, sizeof(id1)), 0);
	assert_int_equal(strlen(id1), 22);
	assert_int_equal(ctl_cluster_id_load(dir, 0, id2, sizeof(id2)), 0);
	assert_string_equal(id1, id2);
	snprintf(msg, sizeof(msg), "rm -rf %s", dir);
	assert_int_equal(system(msg), 0);
}

static void test_ctl_catalog_config_values(void **state)
{
	int64_t v;
	char buf[32];

	(void)state;
	assert_int_equal(ctl_tcfg_parse(CTL_TCFG_RETENTION_MS, "-1", 2, &v), 0);
	assert_true(v == -1);
	assert_int_equal(ctl_tcfg_parse(CTL_TCFG_RETENTION_MS, "-2", 2, &v), -EINVAL);
	assert_int_equal(ctl_tcfg_parse(CTL_TCFG_SEGMENT_BYTES, "13", 2, &v), -EINVAL);
	assert_int_equal(ctl_tcfg_parse(CTL_TCFG_SEGMENT_BYTES, "99999999999", 11, &v), -EINVAL);
	assert_int_equal(ctl_tcfg_parse(CTL_TCFG_RETENTION_BYTES, "1x", 2, &v), -EINVAL);
	assert_int_equal(ctl_tcfg_parse(CTL_TCFG_RETENTION_BYTES, "", 0, &v), -EINVAL);
	assert_int_equal(ctl_tcfg_parse(CTL_TCFG_CLEANUP_POLICY, "compact", 7, &v), -EINVAL);
	assert_int_equal(ctl_tcfg_parse(CTL_TCFG_MESSAGE_TIMESTAMP_TYPE, "LogAppendTime", 13, &v), 0);
	assert_int_equal(ctl_tcfg_format(CTL_TCFG_MESSAGE_TIMESTAMP_TYPE, v, buf, sizeof(buf)), 13);
	assert_string_equal(buf, "LogAppendTime");
	assert_int_equal(ctl_tcfg_find("retention.ms", 12), CTL_TCFG_RETENTION_MS);
	assert_int_equal(ctl_tcfg_find("retention", 9), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ctl_catalog_topic_names),
		cmocka_unit_test(test_ctl_catalog_hooks_and_rollback),
		cmocka_unit_test(test_ctl_catalog_persists_created_topics),
		cmocka_unit_test(test_ctl_catalog_config_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
