/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Golden frames for the group admin views - DescribeGroups v0-2 and
 * ListGroups v0-2 - through the real server loop and the real coordinator
 * (a temporary log.dirs, __consumer_offsets on real storage): a member
 * joins (JoinGroup v0) and syncs (SyncGroup v0) from a loopback client,
 * and the views are checked byte for byte in each state Kafka tells apart:
 * unknown (Kafka's DeadGroup: error 0, "Dead"), CompletingRebalance (no
 * protocol, empty metadata and assignment), Stable (all of them), a
 * standalone commit's group (protocol type ""), and Empty after the leave.
 * The member id is the coordinator's (client id + random suffix), taken
 * from the JoinGroup answer; everything else is built by hand.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "ctl_group.h"
#include "kp_data_fx.h"
#include "kp_golden.h"

struct fx {
	struct kd_fx k;
	struct ctl_groups *gs;
	int fd;
	char member[128];               /* the id JoinGroup gave */
};

/* A ConsumerProtocol subscription to "t" and an assignment of t[0, 1]. */
static void g_subscription(struct gb *g)
{
	g_i32(g, 2 + 4 + 3 + 4);                        /* BYTES length */
	g_i16(g, 0);                                    /* version */
	g_i32(g, 1);                                    /* topics */
	g_str(g, "t");
	g_i32(g, -1);                                   /* user_data */
}

static void g_assignment(struct gb *g)
{
	g_i32(g, 2 + 4 + 3 + 4 + 8 + 4);                /* BYTES length */
	g_i16(g, 0);                                    /* version */
	g_i32(g, 1);                                    /* assigned_partitions */
	g_str(g, "t");
	g_i32(g, 2);
	g_i32(g, 0);
	g_i32(g, 1);
	g_i32(g, -1);                                   /* user_data */
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct ctl_server_params sp = { .dispatch = kp_api_serve };
	struct ctl_topic_spec spec = { "t", 1, 2, NULL, 0, false };
	char msg[256];

	kd_config(&f->k, "test_kp_group");
	f->k.cfg.broker.log_flush_interval_ms = 5;
	f->k.cfg.broker.offsets_topic_num_partitions = 1;
	f->k.cfg.broker.group_initial_rebalance_delay_ms = 0;
	kd_start(&f->k);
	assert_int_equal(ctl_catalog_topic_create(f->k.cat, &spec, false, NULL, msg, sizeof(msg)), 0);
	assert_int_equal(ctl_groups_create(f->k.cat, &f->k.cfg, &f->gs), 0);
	f->k.ctx.groups = f->gs;
	sp.broker = &f->k.cfg.broker;
	sp.dispatch_arg = &f->k.ctx;
	assert_int_equal(ctl_server_create(&sp, &f->k.srv), 0);
	assert_int_equal(ctl_groups_start(f->gs, f->k.srv), 0);
	ctl_store_set_server(f->k.store, f->k.srv);
	assert_int_equal(pthread_create(&f->k.thr, NULL, kd_loop_thread, &f->k), 0);
	f->fd = kd_client(&f->k);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	close(f->fd);
	kd_server_down(&f->k);
	ctl_groups_destroy(f->gs);      /* after the server, as sluiced */
	kd_down(&f->k);
	kd_remove_dir(&f->k);
	free(f);
	return 0;
}

/* Read one response frame (up to 30 s); @return its total length. */
static size_t read_frame(int fd, uint8_t *buf, size_t cap)
{
	size_t got = 0, need = 4;

	while (got < need) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t k;

		assert_true(poll(&pfd, 1, 30000) > 0);
		k = read(fd, buf + got, need - got);
		assert_true(k > 0);
		got += (size_t)k;
		if (got == 4) {
			need = 4 + ((size_t)buf[0] << 24 | (size_t)buf[1] << 16 | buf[2] << 8 | buf[3]);
			assert_true(need <= cap);
		}
	}
	return got;
}

static void roundtrip(struct fx *f, struct gb *req, uint8_t *resp, size_t *n)
{
	g_end(req);
	assert_int_equal(write(f->fd, req->b, req->n), (ssize_t)req->n);
	*n = read_frame(f->fd, resp, 16384);
}

static void expect(struct fx *f, struct gb *req, struct gb *want)
{
	static uint8_t got[16384];
	size_t n;

	g_end(want);
	roundtrip(f, req, got, &n);
	if (n != want->n || memcmp(got, want->b, n) != 0) {
		g_hexdump("expected", want->b, want->n);
		g_hexdump("got", got, n);
	}
	assert_int_equal(n, want->n);
	assert_memory_equal(got, want->b, n);
}

static int16_t be16(const uint8_t *p)
{
	return (int16_t)(p[0] << 8 | p[1]);
}

/* JoinGroup v0 "g1" as a new member; keep the id it gets. */
static void join(struct fx *f)
{
	static uint8_t r[16384];
	struct gb req;
	size_t n, pos = 4 + 4 + 2 + 4;                  /* size, corr, error_code, generation */

	g_req(&req, 11, 0, 1);
	g_str(&req, "g1");                              /* group_id */
	g_i32(&req, 30000);                             /* session_timeout_ms */
	g_str(&req, "");                                /* member_id */
	g_str(&req, "consumer");                        /* protocol_type */
	g_i32(&req, 1);                                 /* protocols */
	g_str(&req, "range");
	g_subscription(&req);
	roundtrip(f, &req, r, &n);
	assert_int_equal(be16(r + 8), 0);
	pos += 2 + (size_t)be16(r + pos);               /* protocol_name */
	pos += 2 + (size_t)be16(r + pos);               /* leader */
	assert_true(be16(r + pos) > 0 && (size_t)be16(r + pos) < sizeof(f->member));
	memcpy(f->member, r + pos + 2, (size_t)be16(r + pos));
	assert_memory_equal(f->member, "golden-", 7);
}

static void sync_group(struct fx *f)
{
	struct gb req, want;

	g_req(&req, 14, 0, 2);
	g_str(&req, "g1");                              /* group_id */
	g_i32(&req, 1);                                 /* generation_id */
	g_str(&req, f->member);                         /* member_id */
	g_i32(&req, 1);                                 /* assignments */
	g_str(&req, f->member);
	g_assignment(&req);
	g_begin(&want);
	g_i32(&want, 2);
	g_i16(&want, 0);                                /* error_code */
	g_assignment(&want);
	expect(f, &req, &want);
}

static void req_describe(struct gb *req, int v, int32_t corr, const char *g1, const char *g2)
{
	g_req(req, 15, v, corr);
	g_i32(req, g2 ? 2 : 1);                         /* groups */
	g_str(req, g1);
	if (g2)
		g_str(req, g2);
}

/* DescribedGroup without members. */
static void exp_group(struct gb *g, const char *id, const char *state, const char *ptype)
{
	g_i16(g, 0);                                    /* error_code */
	g_str(g, id);                                   /* group_id */
	g_str(g, state);                                /* group_state */
	g_str(g, ptype);                                /* protocol_type */
	g_str(g, "");                                   /* protocol_data */
	g_i32(g, 0);                                    /* members */
}

static void exp_head(struct gb *g, int v, int32_t corr)
{
	g_begin(g);
	g_i32(g, corr);
	if (v >= 1)
		g_i32(g, 0);                            /* throttle_time_ms */
}

static void test_kp_group_describe_unknown_is_dead(void **state)
{
	for (int v = 0; v <= 2; v++) {
		struct gb req, want;

		req_describe(&req, v, 10 + v, "nosuch", "");
		exp_head(&want, v, 10 + v);
		g_i32(&want, 2);
		exp_group(&want, "nosuch", "Dead", "");
		exp_group(&want, "", "Dead", "");
		expect(*state, &req, &want);
	}
}

static void exp_list(struct gb *g, int v, int32_t corr, int n, const char *const *ids,
		     const char *const *ptypes)
{
	exp_head(g, v, corr);
	g_i16(g, 0);                                    /* error_code */
	g_i32(g, n);                                    /* groups */
	for (int i = 0; i < n; i++) {
		g_str(g, ids[i]);                       /* group_id */
		g_str(g, ptypes[i]);                    /* protocol_type */
	}
}

static void test_kp_group_list_empty(void **state)
{
	for (int v = 0; v <= 2; v++) {
		struct gb req, want;

		g_req(&req, 16, v, 20 + v);
		exp_list(&want, v, 20 + v, 0, NULL, NULL);
		expect(*state, &req, &want);
	}
}

/* One member, in CompletingRebalance or Stable. */
static void exp_member_group(struct gb *g, const struct fx *f, const char *state, bool stable)
{
	g_i16(g, 0);                                    /* error_code */
	g_str(g, "g1");                                 /* group_id */
	g_str(g, state);                                /* group_state */
	g_str(g, "consumer");                           /* protocol_type */
	g_str(g, stable ? "range" : "");                /* protocol_data */
	g_i32(g, 1);                                    /* members */
	g_str(g, f->member);                            /* member_id */
	g_str(g, "golden");                             /* client_id */
	g_str(g, "/127.0.0.1");                         /* client_host */
	if (stable) {
		g_subscription(g);                      /* member_metadata */
		g_assignment(g);                        /* member_assignment */
	} else {
		g_i32(g, 0);
		g_i32(g, 0);
	}
}

/*
 * The last member's leave starts a join phase that ends (Empty) on the
 * loop's next pass, not inside the LeaveGroup: wait for @state (5 s).
 */
static void wait_state(struct fx *f, const char *state)
{
	static uint8_t r[16384];
	size_t n, len = strlen(state);

	for (int i = 0; i < 500; i++) {
		struct gb req;

		req_describe(&req, 0, 1, "g1", NULL);
		roundtrip(f, &req, r, &n);
		/* size, corr, groups, error_code, group_id "g1", then group_state */
		if (n >= 20 + len && (size_t)be16(r + 18) == len && !memcmp(r + 20, state, len))
			return;
		usleep(10000);
	}
	fail_msg("group g1 never reached %s", state);
}

static void test_kp_group_describe_and_list_through_a_life(void **state)
{
	static const char *const ids[] = { "g1", "solo" }, *const ptypes[] = { "consumer", "" };
	struct fx *f = *state;
	struct gb req, want;

	join(f);
	for (int v = 0; v <= 2; v++) {                  /* joined, not synced */
		req_describe(&req, v, 30 + v, "g1", NULL);
		exp_head(&want, v, 30 + v);
		g_i32(&want, 1);
		exp_member_group(&want, f, "CompletingRebalance", false);
		expect(f, &req, &want);
	}
	sync_group(f);
	for (int v = 0; v <= 2; v++) {
		req_describe(&req, v, 40 + v, "g1", "nosuch");
		exp_head(&want, v, 40 + v);
		g_i32(&want, 2);
		exp_member_group(&want, f, "Stable", true);
		exp_group(&want, "nosuch", "Dead", "");
		expect(f, &req, &want);
	}

	g_req(&req, 8, 2, 50);                          /* OffsetCommit v2, a simple consumer */
	g_str(&req, "solo");
	g_i32(&req, -1);                                /* generation_id */
	g_str(&req, "");                                /* member_id */
	g_i64(&req, -1);                                /* retention_time_ms */
	g_i32(&req, 1);
	g_str(&req, "t");
	g_i32(&req, 1);
	g_i32(&req, 0);
	g_i64(&req, 5);
	g_str(&req, "");
	g_begin(&want);
	g_i32(&want, 50);
	g_i32(&want, 1);
	g_str(&want, "t");
	g_i32(&want, 1);
	g_i32(&want, 0);
	g_i16(&want, 0);
	expect(f, &req, &want);
	for (int v = 0; v <= 2; v++) {
		g_req(&req, 16, v, 60 + v);
		exp_list(&want, v, 60 + v, 2, ids, ptypes);
		expect(f, &req, &want);
		req_describe(&req, v, 70 + v, "solo", NULL);
		exp_head(&want, v, 70 + v);
		g_i32(&want, 1);
		exp_group(&want, "solo", "Empty", "");
		expect(f, &req, &want);
	}

	g_req(&req, 13, 0, 80);                         /* LeaveGroup v0 */
	g_str(&req, "g1");
	g_str(&req, f->member);
	g_begin(&want);
	g_i32(&want, 80);
	g_i16(&want, 0);
	expect(f, &req, &want);
	wait_state(f, "Empty");
	for (int v = 0; v <= 2; v++) {
		req_describe(&req, v, 90 + v, "g1", NULL);
		exp_head(&want, v, 90 + v);
		g_i32(&want, 1);
		exp_group(&want, "g1", "Empty", "consumer");
		expect(f, &req, &want);
	}
}

/* Without a coordinator: 15 for the list and for each group, Kafka's groupError. */
static void test_kp_group_no_coordinator(void **state)
{
	struct fx *f = *state;
	struct kp_api_ctx ctx = f->k.ctx;
	struct kp_writer w;
	struct gb req, want;

	ctx.groups = NULL;
	for (int v = 0; v <= 2; v++) {
		for (int list = 0; list <= 1; list++) {
			if (list) {
				g_req(&req, 16, v, 1);
			} else {
				req_describe(&req, v, 1, "g1", NULL);
			}
			g_end(&req);
			exp_head(&want, v, 1);
			if (list) {
				g_i16(&want, 15);
				g_i32(&want, 0);
			} else {
				g_i32(&want, 1);
				g_i16(&want, 15);
				g_str(&want, "g1");
				g_str(&want, "");
				g_str(&want, "");
				g_str(&want, "");
				g_i32(&want, 0);
			}
			g_end(&want);
			kp_writer_init(&w);
			assert_int_equal(kp_api_dispatch(&ctx, req.b + 4, req.n - 4, &w, NULL),
					 CTL_DISP_RESPOND);
			assert_int_equal(w.len, want.n);
			assert_memory_equal(w.buf, want.b, want.n);
			kp_writer_free(&w);
		}
	}
	/* A groups array claiming more than the frame holds closes. */
	g_req(&req, 15, 0, 1);
	g_i32(&req, 1000);
	g_end(&req);
	kp_writer_init(&w);
	assert_int_equal(kp_api_dispatch(&ctx, req.b + 4, req.n - 4, &w, NULL), CTL_DISP_CLOSE);
	kp_writer_free(&w);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_kp_group_describe_unknown_is_dead),
		T(test_kp_group_list_empty),
		T(test_kp_group_describe_and_list_through_a_life),
		T(test_kp_group_no_coordinator),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
