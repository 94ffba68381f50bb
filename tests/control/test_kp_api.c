/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Golden frames for every advertised API and version: a request frame in,
 * the exact response bytes out.  Expected bytes are written by hand from
 * the spec layouts (kp_golden.h), never with the codec under test.  Also:
 * the ApiVersions v3 fallback byte for byte, and requests that close.
 * InitProducerId gets a real allocator (ctl_pids) in a temporary directory.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "ctl_catalog.h"
#include "ctl_pid.h"
#include "fwc_config.h"
#include "kp_api.h"
#include "kp_golden.h"

#define NODE 7

struct fx {
	struct fwc_config cfg;
	struct ctl_catalog *cat;
	struct kp_api_ctx ctx;
};

/* Broker 7 on 127.0.0.1:9092, auto-create off, no log.dirs (nothing persisted);
 * topics alpha (2 partitions, retention.ms=1000) and beta (1). */
static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct fwc_topic *t;

	fwc_config_defaults(&f->cfg);
	f->cfg.broker.broker_id = NODE;
	f->cfg.broker.log_dirs[0] = '\0';
	f->cfg.broker.auto_create_topics_enable = false;
	t = &f->cfg.topics[f->cfg.n_topics++];
	strcpy(t->name, "alpha");
	t->partitions = 2;
	t->n_configs = 1;
	strcpy(t->configs[0].name, "retention.ms");
	strcpy(t->configs[0].value, "1000");
	t = &f->cfg.topics[f->cfg.n_topics++];
	strcpy(t->name, "beta");
	t->partitions = 1;
	assert_int_equal(ctl_catalog_create(&f->cfg, NULL, NULL, &f->cat), 0);
	assert_int_equal(kp_api_ctx_init(&f->ctx, &f->cfg, f->cat), 0);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	ctl_catalog_destroy(f->cat);
	free(f);
	return 0;
}

/* Dispatch @req (a whole frame) and expect exactly @exp back. */
static void expect_frame(struct fx *f, const struct gb *req, const struct gb *exp)
{
	struct kp_writer w;

	kp_writer_init(&w);
	assert_int_equal(kp_api_dispatch(&f->ctx, req->b + 4, req->n - 4, &w, NULL),
			 CTL_DISP_RESPOND);
	if (w.len != exp->n || memcmp(w.buf, exp->b, exp->n) != 0) {
		g_hexdump("got", w.buf, w.len);
		g_hexdump("expected", exp->b, exp->n);
	}
	assert_int_equal(w.len, exp->n);
	assert_memory_equal(w.buf, exp->b, exp->n);
	kp_writer_free(&w);
}

static enum ctl_disp dispatch_raw(struct fx *f, const uint8_t *frame, size_t len)
{
	struct kp_writer w;
	enum ctl_disp d;

	kp_writer_init(&w);
	d = kp_api_dispatch(&f->ctx, frame, len, &w, NULL);
	kp_writer_free(&w);
	return d;
}

/* ---- ApiVersions --------------------------------------------------------- */

static void test_kp_api_api_versions_all_versions(void **state)
{
	struct gb req, exp;

	for (int v = 0; v <= 2; v++) {
		g_req(&req, 18, v, 100 + v);
		g_end(&req);
		g_begin(&exp);
		g_i32(&exp, 100 + v);
		g_i16(&exp, 0);
		g_i32(&exp, 20);
		g_i16(&exp, 0); g_i16(&exp, 0); g_i16(&exp, 7);
		g_i16(&exp, 1); g_i16(&exp, 4); g_i16(&exp, 11);
		g_i16(&exp, 2); g_i16(&exp, 1); g_i16(&exp, 2);
		g_i16(&exp, 3); g_i16(&exp, 0); g_i16(&exp, 5);
		g_i16(&exp, 8); g_i16(&exp, 2); g_i16(&exp, 7);
		g_i16(&exp, 9); g_i16(&exp, 1); g_i16(&exp, 5);
		g_i16(&exp, 10); g_i16(&exp, 0); g_i16(&exp, 2);
		g_i16(&exp, 11); g_i16(&exp, 0); g_i16(&exp, 5);
		g_i16(&exp, 12); g_i16(&exp, 0); g_i16(&exp, 3);
		g_i16(&exp, 13); g_i16(&exp, 0); g_i16(&exp, 1);
		g_i16(&exp, 14); g_i16(&exp, 0); g_i16(&exp, 3);
		g_i16(&exp, 15); g_i16(&exp, 0); g_i16(&exp, 2);
		g_i16(&exp, 16); g_i16(&exp, 0); g_i16(&exp, 2);
		g_i16(&exp, 17); g_i16(&exp, 0); g_i16(&exp, 1);
		g_i16(&exp, 18); g_i16(&exp, 0); g_i16(&exp, 2);
		g_i16(&exp, 19); g_i16(&exp, 0); g_i16(&exp, 4);
		g_i16(&exp, 20); g_i16(&exp, 0); g_i16(&exp, 3);
		g_i16(&exp, 22); g_i16(&exp, 0); g_i16(&exp, 1);
		g_i16(&exp, 32); g_i16(&exp, 0); g_i16(&exp, 1);
		g_i16(&exp, 36); g_i16(&exp, 0); g_i16(&exp, 2);
		if (v >= 1)
			g_i32(&exp, 0);
		g_end(&exp);
		expect_frame(*state, &req, &exp);
	}
}

/* librdkafka's first request: ApiVersions v3, header v2, compact body. */
static void test_kp_api_api_versions_v3_fallback_bytes(void **state)
{
	static const uint8_t expected[] = {
		0x00, 0x00, 0x00, 0x10, 0x12, 0x34, 0x56, 0x78, 0x00, 0x23,
		0x00, 0x00, 0x00, 0x01, 0x00, 0x12, 0x00, 0x00, 0x00, 0x02,
	};
	struct gb req, exp;

	g_begin(&req);
	g_i16(&req, 18);
	g_i16(&req, 3);
	g_i32(&req, 0x12345678);
	g_str(&req, "rdkafka");
	g_i8(&req, 0);                                  /* header tagged fields */
	g_i8(&req, 9); g_raw(&req, "librdkafka", 8);    /* deliberately odd: ignored */
	g_end(&req);
	exp.n = sizeof(expected);
	memcpy(exp.b, expected, sizeof(expected));
	expect_frame(*state, &req, &exp);
}

static void test_kp_api_unsupported_closes(void **state)
{
	struct fx *f = *state;
	struct gb req;

	g_req(&req, 0, 8, 1);                           /* Produce v8: not advertised */
	g_end(&req);
	assert_int_equal(dispatch_raw(f, req.b + 4, req.n - 4), CTL_DISP_UNSUPPORTED);
	g_req(&req, 3, 6, 1);                           /* Metadata v6 */
	g_i32(&req, -1);
	g_i8(&req, 0);
	g_end(&req);
	assert_int_equal(dispatch_raw(f, req.b + 4, req.n - 4), CTL_DISP_UNSUPPORTED);
	g_req(&req, 32, 2, 1);                          /* DescribeConfigs v2 */
	g_end(&req);
	assert_int_equal(dispatch_raw(f, req.b + 4, req.n - 4), CTL_DISP_UNSUPPORTED);
	g_req_init_producer_id(&req, 2, 1, NULL, -1);   /* InitProducerId v2: flexible */
	assert_int_equal(dispatch_raw(f, req.b + 4, req.n - 4), CTL_DISP_UNSUPPORTED);
	g_req(&req, 1000, 0, 1);                        /* no such key */
	g_end(&req);
	assert_int_equal(dispatch_raw(f, req.b + 4, req.n - 4), CTL_DISP_UNSUPPORTED);
	/* Malformed, not unsupported: a truncated header, a body claiming more than it has. */
	assert_int_equal(dispatch_raw(f, (const uint8_t *)"\x00\x03\x00", 3), CTL_DISP_CLOSE);
	g_req(&req, 3, 1, 1);
	g_i32(&req, 1000);
	g_end(&req);
	assert_int_equal(dispatch_raw(f, req.b + 4, req.n - 4), CTL_DISP_CLOSE);
}

/* ---- Metadata ------------------------------------------------------------ */

static void exp_md_head(struct gb *g, int v, int32_t corr)
{
	g_begin(g);
	g_i32(g, corr);
	if (v >= 3)
		g_i32(g, 0);                            /* throttle_time_ms */
	g_i32(g, 1);                                    /* brokers */
	g_i32(g, NODE);
	g_str(g, "127.0.0.1");
	g_i32(g, 9092);
	if (v >= 1)
		g_str(g, NULL);                         /* rack */
	if (v >= 2)
		g_str(g, "sluice-7");                   /* cluster_id */
	if (v >= 1)
		g_i32(g, NODE);                         /* controller_id */
}

static void exp_md_topic(struct gb *g, int v, const char *name, int parts)
{
	g_i16(g, 0);
	g_str(g, name);
	if (v >= 1)
		g_i8(g, 0);                             /* is_internal */
	g_i32(g, parts);
	for (int p = 0; p < parts; p++) {
		g_i16(g, 0);
		g_i32(g, p);
		g_i32(g, NODE);                         /* leader */
		g_i32(g, 1); g_i32(g, NODE);            /* replicas */
		g_i32(g, 1); g_i32(g, NODE);            /* isr */
		if (v >= 5)
			g_i32(g, 0);                    /* offline_replicas */
	}
}

static void exp_md_missing(struct gb *g, int v, const char *name, int err)
{
	g_i16(g, err);
	g_str(g, name);
	if (v >= 1)
		g_i8(g, 0);
	g_i32(g, 0);
}

static void test_kp_api_metadata_all_versions(void **state)
{
	struct gb req, exp;

	for (int v = 0; v <= 5; v++) {
		g_req(&req, 3, v, 200 + v);
		g_i32(&req, 2);
		g_str(&req, "alpha");
		g_str(&req, "nosuch");
		if (v >= 4)
			g_i8(&req, 1);                  /* allowed, but the broker has it off */
		g_end(&req);
		exp_md_head(&exp, v, 200 + v);
		g_i32(&exp, 2);
		exp_md_topic(&exp, v, "alpha", 2);
		exp_md_missing(&exp, v, "nosuch", 3);
		g_end(&exp);
		expect_frame(*state, &req, &exp);
	}
}

static void test_kp_api_metadata_all_and_none(void **state)
{
	struct gb req, exp;

	/* v0: empty list = all topics. */
	g_req(&req, 3, 0, 1);
	g_i32(&req, 0);
	g_end(&req);
	exp_md_head(&exp, 0, 1);
	g_i32(&exp, 2);
	exp_md_topic(&exp, 0, "alpha", 2);
	exp_md_topic(&exp, 0, "beta", 1);
	g_end(&exp);
	expect_frame(*state, &req, &exp);
	/* v1: null = all. */
	g_req(&req, 3, 1, 2);
	g_i32(&req, -1);
	g_end(&req);
	exp_md_head(&exp, 1, 2);
	g_i32(&exp, 2);
	exp_md_topic(&exp, 1, "alpha", 2);
	exp_md_topic(&exp, 1, "beta", 1);
	g_end(&exp);
	expect_frame(*state, &req, &exp);
	/* v1: empty = none. */
	g_req(&req, 3, 1, 3);
	g_i32(&req, 0);
	g_end(&req);
	exp_md_head(&exp, 1, 3);
	g_i32(&exp, 0);
	g_end(&exp);
	expect_frame(*state, &req, &exp);
}

static void test_kp_api_metadata_auto_create(void **state)
{
	struct fx *f = *state;
	struct gb req, exp;

	f->cfg.broker.auto_create_topics_enable = true;
	f->cfg.broker.num_partitions = 3;
	/* v4 with allow_auto_topic_creation false: still unknown. */
	g_req(&req, 3, 4, 9);
	g_i32(&req, 1);
	g_str(&req, "fresh");
	g_i8(&req, 0);
	g_end(&req);
	exp_md_head(&exp, 4, 9);
	g_i32(&exp, 1);
	exp_md_missing(&exp, 4, "fresh", 3);
	g_end(&exp);
	expect_frame(f, &req, &exp);
	/* v1: created with num.partitions, answered at once; bad names get 17. */
	g_req(&req, 3, 1, 10);
	g_i32(&req, 2);
	g_str(&req, "fresh");
	g_str(&req, "no/slash");
	g_end(&req);
	exp_md_head(&exp, 1, 10);
	g_i32(&exp, 2);
	exp_md_topic(&exp, 1, "fresh", 3);
	exp_md_missing(&exp, 1, "no/slash", 17);
	g_end(&exp);
	expect_frame(f, &req, &exp);
	assert_non_null(ctl_catalog_find(f->cat, "fresh", 5));
}

/* ---- CreateTopics -------------------------------------------------------- */

static void exp_create_result(struct gb *g, int v, const char *name, int err, const char *msg)
{
	g_str(g, name);
	g_i16(g, err);
	if (v >= 1)
		g_str(g, msg);
}

static void test_kp_api_create_topics_all_versions(void **state)
{
	struct fx *f = *state;
	struct gb req, exp;
	char name[16];

	for (int v = 0; v <= 4; v++) {
		snprintf(name, sizeof(name), "gamma%d", v);
		g_req(&req, 19, v, 300 + v);
		g_i32(&req, 2);
		g_create_topic(&req, name, 3, 1, "retention.ms", "5000");
		g_create_topic(&req, "alpha", 1, 1, NULL, NULL);
		g_i32(&req, 1000);                      /* timeout_ms */
		if (v >= 1)
			g_i8(&req, 0);                  /* validate_only */
		g_end(&req);
		g_begin(&exp);
		g_i32(&exp, 300 + v);
		if (v >= 2)
			g_i32(&exp, 0);
		g_i32(&exp, 2);
		exp_create_result(&exp, v, name, 0, NULL);
		exp_create_result(&exp, v, "alpha", 36, "Topic 'alpha' already exists.");
		g_end(&exp);
		expect_frame(f, &req, &exp);
		assert_non_null(ctl_catalog_find(f->cat, name, strlen(name)));
		assert_int_equal(ctl_catalog_find(f->cat, name, strlen(name))->n_partitions, 3);
		assert_true(ctl_catalog_find(f->cat, name, strlen(name))->cfg.v[CTL_TCFG_RETENTION_MS]
			    == 5000);
	}
}

static void test_kp_api_create_topics_errors(void **state)
{
	struct fx *f = *state;
	struct gb req, exp;

	g_req(&req, 19, 4, 77);
	g_i32(&req, 10);
	g_create_topic(&req, "p0", 0, 1, NULL, NULL);
	g_create_topic(&req, "rf3", 1, 3, NULL, NULL);
	g_create_topic(&req, "cfg", 1, 1, "retention.ms", "soon");
	g_create_topic(&req, "unk", 1, 1, "no.such.config", "1");
	g_create_topic(&req, "bad name", 1, 1, NULL, NULL);
	g_create_topic(&req, "dup", 1, 1, NULL, NULL);
	g_create_topic(&req, "dup", 1, 1, NULL, NULL);
	g_create_topic(&req, "defaults", -1, -1, NULL, NULL);
	g_create_topic(&req, "dup", 1, 1, NULL, NULL);  /* a third time, not next to the others */
	g_create_topic(&req, "dun", 1, 1, NULL, NULL);  /* same length, once */
	g_i32(&req, 1000);
	g_i8(&req, 1);                                  /* validate_only */
	g_end(&req);
	g_begin(&exp);
	g_i32(&exp, 77);
	g_i32(&exp, 0);
	g_i32(&exp, 10);
	exp_create_result(&exp, 4, "p0", 37, "Number of partitions must be larger than 0.");
	exp_create_result(&exp, 4, "rf3", 38, "Replication factor: 3 larger than available brokers: 1.");
	exp_create_result(&exp, 4, "cfg", 40, "Invalid value soon for configuration retention.ms");
	exp_create_result(&exp, 4, "unk", 40, "Unknown topic config name: no.such.config");
	exp_create_result(&exp, 4, "bad name", 17, "Topic name is invalid: it must be 1 to 249 "
			  "characters of [a-zA-Z0-9._-] and not '.' or '..'");
	exp_create_result(&exp, 4, "dup", 42, "Create topics request from client `golden` contains "
			  "multiple entries for the following topics: dup");
	exp_create_result(&exp, 4, "dup", 42, "Create topics request from client `golden` contains "
			  "multiple entries for the following topics: dup");
	exp_create_result(&exp, 4, "defaults", 0, NULL);
	exp_create_result(&exp, 4, "dup", 42, "Create topics request from client `golden` contains "
			  "multiple entries for the following topics: dup");
	exp_create_result(&exp, 4, "dun", 0, NULL);
	g_end(&exp);
	expect_frame(f, &req, &exp);
	/* validate_only created nothing. */
	assert_null(ctl_catalog_find(f->cat, "defaults", 8));
	assert_int_equal(ctl_catalog_count(f->cat), 2);
}

/* ---- DeleteTopics -------------------------------------------------------- */

static void test_kp_api_delete_topics_all_versions(void **state)
{
	struct fx *f = *state;
	struct gb req, exp;

	for (int v = 0; v <= 3; v++) {
		const char *victim = v % 2 ? "beta" : "alpha";

		g_req(&req, 20, v, 400 + v);
		g_i32(&req, 2);
		g_str(&req, victim);
		g_str(&req, "nosuch");
		g_i32(&req, 1000);
		g_end(&req);
		g_begin(&exp);
		g_i32(&exp, 400 + v);
		if (v >= 1)
			g_i32(&exp, 0);
		g_i32(&exp, 2);
		g_str(&exp, victim);
		g_i16(&exp, v < 2 ? 0 : 3);             /* deleted the first time only */
		g_str(&exp, "nosuch");
		g_i16(&exp, 3);
		g_end(&exp);
		expect_frame(f, &req, &exp);
		assert_null(ctl_catalog_find(f->cat, victim, strlen(victim)));
	}
}

/* ---- DescribeConfigs ----------------------------------------------------- */

static void exp_dc_entry(struct gb *g, int v, const char *name, const char *value, bool set,
			 const char *broker_name, const char *dflt)
{
	g_str(g, name);
	g_str(g, value);
	g_i8(g, 0);                                     /* read_only */
	if (v == 0)
		g_i8(g, !set);                          /* is_default */
	if (v >= 1)
		g_i8(g, set ? 1 : 5);                   /* config_source */
	g_i8(g, 0);                                     /* is_sensitive */
	if (v >= 1) {
		g_i32(g, set ? 2 : 1);                  /* synonyms */
		if (set) {
			g_str(g, name);
			g_str(g, value);
			g_i8(g, 1);
		}
		g_str(g, broker_name);
		g_str(g, dflt);
		g_i8(g, 5);
	}
}

static void test_kp_api_describe_configs_all_versions(void **state)
{
	struct gb req, exp;

	for (int v = 0; v <= 1; v++) {
		g_req(&req, 32, v, 500 + v);
		g_i32(&req, 3);
		g_i8(&req, 2);                          /* topic alpha, two keys */
		g_str(&req, "alpha");
		g_i32(&req, 2);
		g_str(&req, "segment.bytes");
		g_str(&req, "retention.ms");
		g_i8(&req, 2);                          /* unknown topic, all keys */
		g_str(&req, "nosuch");
		g_i32(&req, -1);
		g_i8(&req, 4);                          /* broker 7, one key */
		g_str(&req, "7");
		g_i32(&req, 1);
		g_str(&req, "max.connections");
		if (v >= 1)
			g_i8(&req, 1);                  /* include_synonyms */
		g_end(&req);

		g_begin(&exp);
		g_i32(&exp, 500 + v);
		g_i32(&exp, 0);                         /* throttle_time_ms */
		g_i32(&exp, 3);
		g_i16(&exp, 0);
		g_str(&exp, NULL);
		g_i8(&exp, 2);
		g_str(&exp, "alpha");
		g_i32(&exp, 2);                         /* table order */
		exp_dc_entry(&exp, v, "retention.ms", "1000", true, "log.retention.ms", "604800000");
		exp_dc_entry(&exp, v, "segment.bytes", "1073741824", false, "log.segment.bytes",
			     "1073741824");
		g_i16(&exp, 3);
		g_str(&exp, "Topic 'nosuch' does not exist.");
		g_i8(&exp, 2);
		g_str(&exp, "nosuch");
		g_i32(&exp, 0);
		g_i16(&exp, 0);
		g_str(&exp, NULL);
		g_i8(&exp, 4);
		g_str(&exp, "7");
		g_i32(&exp, 1);
		g_str(&exp, "max.connections");
		g_str(&exp, "4096");
		g_i8(&exp, 1);                          /* read_only */
		if (v == 0)
			g_i8(&exp, 0);                  /* is_default */
		else
			g_i8(&exp, 4);                  /* STATIC_BROKER_CONFIG */
		g_i8(&exp, 0);
		if (v >= 1) {
			g_i32(&exp, 1);
			g_str(&exp, "max.connections");
			g_str(&exp, "4096");
			g_i8(&exp, 4);
		}
		g_end(&exp);
		expect_frame(*state, &req, &exp);
	}
}

static void test_kp_api_describe_configs_bad_resource(void **state)
{
	struct gb req, exp;

	g_req(&req, 32, 1, 600);
	g_i32(&req, 2);
	g_i8(&req, 9);
	g_str(&req, "x");
	g_i32(&req, -1);
	g_i8(&req, 4);
	g_str(&req, "3");
	g_i32(&req, -1);
	g_i8(&req, 0);
	g_end(&req);
	g_begin(&exp);
	g_i32(&exp, 600);
	g_i32(&exp, 0);
	g_i32(&exp, 2);
	g_i16(&exp, 42);
	g_str(&exp, "Unsupported resource type 9");
	g_i8(&exp, 9);
	g_str(&exp, "x");
	g_i32(&exp, 0);
	g_i16(&exp, 42);
	g_str(&exp, "Unexpected broker id, expected 7");
	g_i8(&exp, 4);
	g_str(&exp, "3");
	g_i32(&exp, 0);
	g_end(&exp);
	expect_frame(*state, &req, &exp);
}

/* ---- InitProducerId ------------------------------------------------------ */

/* A real allocator in a fresh directory, as f->ctx.pids. */
static void pids_up(struct fx *f, char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/test_kp_api.XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(ctl_pids_open(dir, &f->ctx.pids), 0);
}

static void pids_down(struct fx *f, const char *dir)
{
	char path[128];

	ctl_pids_close(f->ctx.pids);
	f->ctx.pids = NULL;
	snprintf(path, sizeof(path), "%s/%s", dir, CTL_PIDS_FILE);
	unlink(path);
	rmdir(dir);
}

static void exp_init_pid(struct gb *g, int32_t corr, int16_t err, int64_t id, int16_t epoch)
{
	g_begin(g);
	g_i32(g, corr);
	g_i32(g, 0);                                    /* throttle_time_ms */
	g_i16(g, err);                                  /* error_code */
	g_i64(g, id);                                   /* producer_id */
	g_i16(g, epoch);                                /* producer_epoch */
	g_end(g);
}

static void test_kp_api_init_producer_id_all_versions(void **state)
{
	static const uint8_t v1_bytes[] = {             /* corr 0x2201, id 3, epoch 0 */
		0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x22, 0x01, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00,
	};
	struct fx *f = *state;
	struct gb req, exp;
	char dir[64];

	pids_up(f, dir, sizeof(dir));
	for (int v = 0; v <= 1; v++) {
		/* librdkafka's idempotent producer: null id, timeout -1; a new id each time. */
		g_req_init_producer_id(&req, v, 0x2200 + v, NULL, -1);
		exp_init_pid(&exp, 0x2200 + v, 0, 2 * v, 0);
		expect_frame(f, &req, &exp);
		g_req_init_producer_id(&req, v, 0x2200 + v, NULL, 60000);
		if (v == 1) {
			exp.n = sizeof(v1_bytes);
			memcpy(exp.b, v1_bytes, sizeof(v1_bytes));
		} else {
			exp_init_pid(&exp, 0x2200 + v, 0, 2 * v + 1, 0);
		}
		expect_frame(f, &req, &exp);
		/* Transactions: 53 TRANSACTIONAL_ID_AUTHORIZATION_FAILED, no id used up. */
		g_req_init_producer_id(&req, v, 0x2300 + v, "txn-1", 60000);
		exp_init_pid(&exp, 0x2300 + v, 53, -1, -1);
		expect_frame(f, &req, &exp);
		g_req_init_producer_id(&req, v, 0x2300 + v, "", 60000);
		expect_frame(f, &req, &exp);
	}
	g_req_init_producer_id(&req, 1, 9, NULL, -1);
	exp_init_pid(&exp, 9, 0, 4, 0);
	expect_frame(f, &req, &exp);
	pids_down(f, dir);
}

static void test_kp_api_init_producer_id_errors(void **state)
{
	struct fx *f = *state;
	struct gb req, exp;
	char dir[64], path[128];
	int64_t id;

	/* No allocator: 15 COORDINATOR_NOT_AVAILABLE. */
	g_req_init_producer_id(&req, 0, 5, NULL, -1);
	exp_init_pid(&exp, 5, 15, -1, -1);
	expect_frame(f, &req, &exp);

	/* The next block cannot be reserved: -1 UNKNOWN_SERVER_ERROR, then ids resume. */
	pids_up(f, dir, sizeof(dir));
	for (int i = 0; i < CTL_PIDS_BLOCK; i++)
		assert_int_equal(ctl_pids_next(f->ctx.pids, &id), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, CTL_PIDS_FILE);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	for (int v = 0; v <= 1; v++) {
		g_req_init_producer_id(&req, v, 6, NULL, -1);
		exp_init_pid(&exp, 6, -1, -1, -1);
		expect_frame(f, &req, &exp);
	}
	assert_int_equal(mkdir(dir, 0700), 0);
	g_req_init_producer_id(&req, 1, 7, NULL, -1);
	exp_init_pid(&exp, 7, 0, CTL_PIDS_BLOCK, 0);
	expect_frame(f, &req, &exp);

	/* Malformed bodies close: no timeout, a string longer than the frame, nothing. */
	g_req(&req, 22, 1, 8);
	g_str(&req, NULL);
	g_end(&req);
	assert_int_equal(dispatch_raw(f, req.b + 4, req.n - 4), CTL_DISP_CLOSE);
	g_req(&req, 22, 0, 8);
	g_i16(&req, 10);
	g_raw(&req, "abc", 3);
	g_i32(&req, -1);
	g_end(&req);
	assert_int_equal(dispatch_raw(f, req.b + 4, req.n - 4), CTL_DISP_CLOSE);
	g_req(&req, 22, 0, 8);
	g_end(&req);
	assert_int_equal(dispatch_raw(f, req.b + 4, req.n - 4), CTL_DISP_CLOSE);
	assert_int_equal(ctl_pids_next(f->ctx.pids, &id), 0);
	assert_true(id == CTL_PIDS_BLOCK + 1);          /* none was used by those */
	pids_down(f, dir);
}

/* ---- SaslHandshake, SaslAuthenticate ------------------------------------- */

#define NO_SASL "SaslAuthenticate outside a SASL exchange"

/*
 * Without a SASL listener (here: no server at all) both answer
 * ILLEGAL_SASL_STATE (34): the handshake with no mechanisms, authenticate
 * with its error_message and an empty token.  The SASL exchange itself is
 * test_scram.c's and test_sasl.sh's.
 */
static void test_kp_api_sasl_all_versions(void **state)
{
	struct gb req, exp;

	for (int v = 0; v <= 1; v++) {
		g_req(&req, 17, v, 0x1700 + v);
		g_str(&req, "SCRAM-SHA-256");                   /* mechanism */
		g_end(&req);
		g_begin(&exp);
		g_i32(&exp, 0x1700 + v);
		g_i16(&exp, 34);                                /* error_code */
		g_i32(&exp, 0);                                 /* mechanisms */
		g_end(&exp);
		expect_frame(*state, &req, &exp);
	}
	for (int v = 0; v <= 2; v++) {
		g_req(&req, 36, v, 0x3600 + v);
		if (v < 2) {
			g_i32(&req, 3);                         /* auth_bytes */
			g_raw(&req, "abc", 3);
		} else {
			g_i8(&req, 0);                          /* header tagged fields */
			g_i8(&req, 4);                          /* auth_bytes (compact) */
			g_raw(&req, "abc", 3);
			g_i8(&req, 0);                          /* tagged fields */
		}
		g_end(&req);
		g_begin(&exp);
		g_i32(&exp, 0x3600 + v);
		if (v == 2)
			g_i8(&exp, 0);                          /* response header tags */
		g_i16(&exp, 34);                                /* error_code */
		if (v < 2) {
			g_str(&exp, NO_SASL);                   /* error_message */
			g_i32(&exp, 0);                         /* auth_bytes */
		} else {
			g_i8(&exp, (int)strlen(NO_SASL) + 1);
			g_raw(&exp, NO_SASL, strlen(NO_SASL));
			g_i8(&exp, 1);                          /* empty compact bytes */
		}
		if (v >= 1)
			g_i64(&exp, 0);                         /* session_lifetime_ms */
		if (v == 2)
			g_i8(&exp, 0);
		g_end(&exp);
		expect_frame(*state, &req, &exp);
	}
	/* A truncated mechanism closes, as any malformed request. */
	g_req(&req, 17, 1, 1);
	g_i16(&req, 20);
	g_raw(&req, "PLAIN", 5);
	g_end(&req);
	assert_int_equal(dispatch_raw(*state, req.b + 4, req.n - 4), CTL_DISP_CLOSE);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_kp_api_api_versions_all_versions),
		T(test_kp_api_api_versions_v3_fallback_bytes),
		T(test_kp_api_unsupported_closes),
		T(test_kp_api_metadata_all_versions),
		T(test_kp_api_metadata_all_and_none),
		T(test_kp_api_metadata_auto_create),
		T(test_kp_api_create_topics_all_versions),
		T(test_kp_api_create_topics_errors),
		T(test_kp_api_delete_topics_all_versions),
		T(test_kp_api_describe_configs_all_versions),
		T(test_kp_api_describe_configs_bad_resource),
		T(test_kp_api_init_producer_id_all_versions),
		T(test_kp_api_init_producer_id_errors),
		T(test_kp_api_sasl_all_versions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
