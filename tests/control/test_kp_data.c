/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Golden frames for the record APIs - Produce v0-7, Fetch v4-11,
 * ListOffsets v1-2 - through the real server loop over loopback, with real
 * storage (a temporary log.dirs, a writer thread): hand-built request bytes
 * in, exact response bytes out.  Fetch records therefore travel the
 * zero-copy path (sendfile from the segment file).  Also: the produce
 * errors (10, 2, 3, 21, acks=0 silent), offset out of range, a
 * long-poll woken by a produce on another connection, and DeleteTopics of
 * a topic with an acks=all produce and a long-poll waiting on it.
 */
#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "ctl_catalog.h"
#include "ctl_server.h"
#include "ctl_store.h"
#include "fwc_config.h"
#include "kp_api.h"
#include "kp_data_fx.h"
#include "kp_golden.h"
#include "st_batch.h"
#include "st_partition.h"

#define TS0 1700000000000LL
#define BATCH_LEN G_BATCH_LEN   /* one record "k" = "v", no headers */

static void topic(struct kd_fx *f, const char *name, const char *max_msg)
{
	struct ctl_cfg_kv kv = { "max.message.bytes", 17, max_msg, max_msg ? strlen(max_msg) : 0 };
	struct ctl_topic_spec spec = { name, strlen(name), 1, max_msg ? &kv : NULL, max_msg ? 1 : 0,
				       false };
	char msg[256];

	assert_int_equal(ctl_catalog_topic_create(f->cat, &spec, false, NULL, msg, sizeof(msg)), 0);
}

static int fx_open(void **state, int64_t flush_ms)
{
	struct kd_fx *f = calloc(1, sizeof(*f));

	kd_config(f, "test_kp_data");
	f->cfg.broker.log_flush_interval_ms = flush_ms;
	kd_start(f);
	topic(f, "g", NULL);
	topic(f, "small", "60");
	kd_server_up(f);
	*state = f;
	return 0;
}

static int fx_setup(void **state)
{
	return fx_open(state, 5);
}

/* No fdatasync for an hour: acks=all produces wait until something else ends them. */
static int fx_setup_no_sync(void **state)
{
	return fx_open(state, 3600000);
}

static int fx_teardown(void **state)
{
	struct kd_fx *f = *state;

	kd_down(f);
	kd_remove_dir(f);
	free(f);
	return 0;
}

static void send_frame(int fd, const struct gb *g)
{
	assert_int_equal(write(fd, g->b, g->n), (ssize_t)g->n);
}

/* Read one response frame (waits up to 30 s); @return its total length or 0. */
static size_t read_frame(int fd, uint8_t *buf, size_t cap, int timeout_ms)
{
	size_t got = 0, need = 4;

	while (got < need) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t k;

		if (poll(&pfd, 1, timeout_ms) <= 0)
			return 0;
		k = read(fd, buf + got, need - got);
		if (k <= 0)
			return 0;
		got += (size_t)k;
		if (got == 4) {
			need = 4 + ((size_t)buf[0] << 24 | (size_t)buf[1] << 16 | buf[2] << 8 | buf[3]);
			assert_true(need <= cap);
		}
	}
	return got;
}

static void expect_frame(int fd, const struct gb *want)
{
	static uint8_t got[65536];
	size_t n = read_frame(fd, got, sizeof(got), 30000);

	if (n != want->n || memcmp(got, want->b, n) != 0) {
		g_hexdump("expected", want->b, want->n);
		g_hexdump("got", got, n);
	}
	assert_int_equal(n, want->n);
	assert_memory_equal(got, want->b, n);
}

static void resp_produce(struct gb *g, int v, int32_t corr, const char *t, int16_t err,
			 int64_t base)
{
	g_begin(g);
	g_i32(g, corr);
	g_i32(g, 1);                                    /* responses */
	g_str(g, t);
	g_i32(g, 1);                                    /* partition_responses */
	g_i32(g, 0);                                    /* index */
	g_i16(g, err);                                  /* error_code */
	g_i64(g, base);                                 /* base_offset */
	g_i64(g, -1);                                   /* log_append_time_ms */
	if (v >= 5)
		/* log_start_offset: -1 where Kafka never reached the partition */
		g_i64(g, err == 3 || err == 21 ? -1 : 0);
	g_i32(g, 0);                                    /* throttle_time_ms */
	g_end(g);
}

static void produce_ok(int fd, int v, int32_t corr, int64_t ts, int64_t base)
{
	struct gb req, want;

	g_req_produce(&req, v, corr, "g", -1, ts, false);
	resp_produce(&want, v, corr, "g", 0, base);
	send_frame(fd, &req);
	expect_frame(fd, &want);
}

static void test_kp_data_produce_golden_v3_to_v7(void **state)
{
	int fd = kd_client(*state);

	for (int v = 3; v <= 7; v++)
		produce_ok(fd, v, 100 + v, TS0, v - 3);
	close(fd);
}

static void test_kp_data_produce_v0_to_v2_unsupported(void **state)
{
	int fd = kd_client(*state);

	for (int v = 0; v <= 2; v++) {
		struct gb req, want;

		g_req(&req, 0, v, 7);
		g_i16(&req, 1);                         /* acks */
		g_i32(&req, 1000);                      /* timeout */
		g_i32(&req, 1);
		g_str(&req, "g");
		g_i32(&req, 1);
		g_i32(&req, 0);
		g_i32(&req, BATCH_LEN);
		g_batch(&req, 0, -1, TS0, false);
		g_end(&req);
		g_begin(&want);
		g_i32(&want, 7);
		g_i32(&want, 1);
		g_str(&want, "g");
		g_i32(&want, 1);
		g_i32(&want, 0);
		g_i16(&want, 35);                       /* UNSUPPORTED_VERSION */
		g_i64(&want, -1);
		if (v >= 2)
			g_i64(&want, -1);
		if (v >= 1)
			g_i32(&want, 0);
		g_end(&want);
		send_frame(fd, &req);
		expect_frame(fd, &want);
	}
	close(fd);
}

static void test_kp_data_produce_errors(void **state)
{
	int fd = kd_client(*state);
	struct gb req, want;

	/* 70-byte batch, max.message.bytes 60: MESSAGE_TOO_LARGE. */
	g_req_produce(&req, 7, 1, "small", 1, TS0, false);
	resp_produce(&want, 7, 1, "small", 10, -1);
	send_frame(fd, &req);
	expect_frame(fd, &want);
	/* CRC mismatch: CORRUPT_MESSAGE, nothing appended. */
	g_req_produce(&req, 7, 2, "g", 1, TS0, true);
	resp_produce(&want, 7, 2, "g", 2, -1);
	send_frame(fd, &req);
	expect_frame(fd, &want);
	/* Unknown topic, auto-create off. */
	g_req_produce(&req, 7, 3, "nope", 1, TS0, false);
	resp_produce(&want, 7, 3, "nope", 3, -1);
	send_frame(fd, &req);
	expect_frame(fd, &want);
	/* acks=2: INVALID_REQUIRED_ACKS. */
	g_req_produce(&req, 7, 4, "g", 2, TS0, false);
	resp_produce(&want, 7, 4, "g", 21, -1);
	send_frame(fd, &req);
	expect_frame(fd, &want);
	/* acks=0 is silent: the next answer is the next request's (offset 0: nothing else got in). */
	g_req_produce(&req, 7, 5, "g", 0, TS0, false);
	send_frame(fd, &req);
	produce_ok(fd, 7, 6, TS0, 1);
	close(fd);
}

/*
 * Found by test_kp_fuzz: a batch whose CRC is right but whose records do not
 * decode (here the one record claims a header it does not carry) was
 * appended and then served to consumers.  Kafka's LogValidator walks the
 * records of an uncompressed batch and answers INVALID_RECORD (87).
 */
static void test_kp_data_produce_undecodable_records_refused(void **state)
{
	int fd = kd_client(*state);
	struct gb req, want;
	size_t batch;
	uint32_t crc;

	g_req_produce(&req, 7, 1, "g", 1, TS0, false);
	batch = req.n - BATCH_LEN;
	req.b[req.n - 1] = 0x02;                        /* headers count: 1, none follows */
	crc = st_crc32c(0, req.b + batch + 21, BATCH_LEN - 21);
	for (int i = 0; i < 4; i++)
		req.b[batch + 17 + i] = (uint8_t)(crc >> (24 - 8 * i));
	resp_produce(&want, 7, 1, "g", 87, -1);
	send_frame(fd, &req);
	expect_frame(fd, &want);
	produce_ok(fd, 7, 2, TS0, 0);                   /* nothing was appended */
	close(fd);
}

/* A Fetch answer with @n_batches stored batches from @first (timestamps TS0 + 10 * offset). */
static void resp_fetch(struct gb *g, int v, int32_t corr, int16_t err, int64_t hw,
		       int64_t first, int n_batches)
{
	g_begin(g);
	g_i32(g, corr);
	g_i32(g, 0);                                    /* throttle_time_ms */
	if (v >= 7) {
		g_i16(g, 0);                            /* error_code */
		g_i32(g, 0);                            /* session_id */
	}
	g_i32(g, 1);                                    /* responses */
	g_str(g, "g");
	g_i32(g, 1);                                    /* partitions */
	g_i32(g, 0);                                    /* partition_index */
	g_i16(g, err);                                  /* error_code */
	g_i64(g, hw);                                   /* high_watermark */
	g_i64(g, hw);                                   /* last_stable_offset */
	if (v >= 5)
		g_i64(g, 0);                            /* log_start_offset */
	g_i32(g, 0);                                    /* aborted_transactions */
	if (v >= 11)
		g_i32(g, -1);                           /* preferred_read_replica */
	g_i32(g, n_batches * BATCH_LEN);                /* records */
	for (int i = 0; i < n_batches; i++)
		g_batch(g, first + i, 0, TS0 + 10 * (first + i), false);
	g_end(g);
}

static void test_kp_data_fetch_golden_v4_to_v11(void **state)
{
	int fd = kd_client(*state);
	struct gb req, want;

	produce_ok(fd, 7, 1, TS0, 0);
	produce_ok(fd, 7, 2, TS0 + 10, 1);
	for (int v = 4; v <= 11; v++) {
		g_req_fetch(&req, v, 10 + v, 0, 0);
		resp_fetch(&want, v, 10 + v, 0, 2, 0, 2);
		send_frame(fd, &req);
		expect_frame(fd, &want);
		/* From the second batch on. */
		g_req_fetch(&req, v, 20 + v, 0, 1);
		resp_fetch(&want, v, 20 + v, 0, 2, 1, 1);
		send_frame(fd, &req);
		expect_frame(fd, &want);
	}
	close(fd);
}

static void test_kp_data_fetch_out_of_range(void **state)
{
	int fd = kd_client(*state);
	struct gb req, want;

	produce_ok(fd, 7, 1, TS0, 0);
	g_req_fetch(&req, 11, 2, 500, 5);
	resp_fetch(&want, 11, 2, 1, 1, 0, 0);
	send_frame(fd, &req);
	expect_frame(fd, &want);
	close(fd);
}

/* The broker's fetch.max.bytes caps a response below the request's max_bytes (whole batches). */
static void test_kp_data_fetch_capped_by_broker_fetch_max_bytes(void **state)
{
	struct kd_fx *f = *state;
	int fd = kd_client(f);
	struct gb req, want;

	for (int i = 0; i < 20; i++)
		produce_ok(fd, 7, 1 + i, TS0 + 10 * i, i);
	f->cfg.broker.fetch_max_bytes = 1024;   /* set before the request: the loop reads it then */
	g_req_fetch(&req, 11, 30, 0, 0);
	resp_fetch(&want, 11, 30, 0, 20, 0, 1024 / BATCH_LEN);
	send_frame(fd, &req);
	expect_frame(fd, &want);
	/* Below one batch: still the first whole batch, as Kafka does. */
	f->cfg.broker.fetch_max_bytes = BATCH_LEN - 1;
	g_req_fetch(&req, 11, 31, 0, 3);
	resp_fetch(&want, 11, 31, 0, 20, 3, 1);
	send_frame(fd, &req);
	expect_frame(fd, &want);
	close(fd);
}

static void test_kp_data_fetch_long_poll_woken_by_produce(void **state)
{
	int fd = kd_client(*state), pfd = kd_client(*state);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct gb req, want;

	produce_ok(pfd, 7, 1, TS0, 0);
	g_req_fetch(&req, 11, 2, 60000, 1);             /* at the end: waits */
	send_frame(fd, &req);
	assert_int_equal(poll(&p, 1, 200), 0);          /* nothing yet: 60 s to go */
	produce_ok(pfd, 7, 3, TS0 + 10, 1);
	resp_fetch(&want, 11, 2, 0, 2, 1, 1);
	expect_frame(fd, &want);
	close(fd);
	close(pfd);
}

static void resp_delete_topics(struct gb *g, int32_t corr, const char *t, int16_t err)
{
	g_begin(g);
	g_i32(g, corr);
	g_i32(g, 0);                                    /* throttle_time_ms */
	g_i32(g, 1);                                    /* responses */
	g_str(g, t);
	g_i16(g, err);                                  /* error_code */
	g_end(g);
}

/*
 * Found by test_kp_fuzz: a client that resets its connection while its
 * requests wait gets their answers written to a dead socket.  The write
 * raised SIGPIPE, whose default action ends the whole process -- the broker
 * (here the test).  It must only close that connection.  256 long-polls
 * make the broker stop reading the connection (backpressure), so it cannot
 * see the reset before it writes.
 */
static void test_kp_data_client_reset_while_requests_wait(void **state)
{
	struct linger rst = { .l_onoff = 1, .l_linger = 0 };
	struct pollfd none = { .fd = -1 };
	int fd = kd_client(*state);
	struct gb req;

	produce_ok(fd, 7, 1, TS0, 0);
	for (int i = 0; i < 256; i++) {
		g_req_fetch(&req, 11, 2 + i, 100, 1);   /* at the end: waits 100 ms */
		send_frame(fd, &req);
	}
	poll(&none, 1, 20);                             /* the broker has them */
	shutdown(fd, SHUT_WR);                          /* FIN: the broker's side is in CLOSE_WAIT */
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst)), 0);
	close(fd);                                      /* RST: writes now fail with EPIPE */
	poll(&none, 1, 300);                            /* the answers meet the dead socket */
	fd = kd_client(*state);
	produce_ok(fd, 7, 3, TS0 + 10, 1);              /* still serving */
	close(fd);
}

/*
 * An acks=all produce waits for an fdatasync that is an hour away, and a
 * long-poll waits for data, when DeleteTopics closes and frees the
 * partition: the produce is answered at once with UNKNOWN_TOPIC_OR_PARTITION
 * (its batch got offset 0), the long-poll too, and nothing touches the
 * freed partition afterwards (ASan/valgrind would see it).
 */
static void test_kp_data_delete_topic_fails_waiting_produce(void **state)
{
	int pfd = kd_client(*state), ffd = kd_client(*state), afd = kd_client(*state);
	struct pollfd p = { .fd = pfd, .events = POLLIN };
	struct gb req, want;

	g_req_produce(&req, 3, 1, "g", -1, TS0, false);
	send_frame(pfd, &req);
	g_req_fetch(&req, 4, 2, 60000, 0);                /* nothing durable: waits */
	send_frame(ffd, &req);
	assert_int_equal(poll(&p, 1, 200), 0);          /* waiting for durable */
	g_req_delete_topics(&req, 3, "g");
	send_frame(afd, &req);
	resp_produce(&want, 3, 1, "g", 3, 0);
	expect_frame(pfd, &want);
	resp_delete_topics(&want, 3, "g", 0);
	expect_frame(afd, &want);
	resp_fetch(&want, 4, 2, 3, -1, -1, 0);
	expect_frame(ffd, &want);
	/* The loop still serves: the topic is gone for a later produce. */
	g_req_produce(&req, 3, 4, "g", -1, TS0, false);
	send_frame(pfd, &req);
	resp_produce(&want, 3, 4, "g", 3, -1);
	expect_frame(pfd, &want);
	close(pfd);
	close(ffd);
	close(afd);
}

struct appender {
	struct st_partition *p;
	atomic_bool stop;
	int appended;
};

/* The partition's producer (the control thread is idle): batches as fast as the ring takes them. */
static void *append_main(void *arg)
{
	struct appender *a = arg;
	struct gb g = { .n = 0 };
	int64_t base;

	g_batch(&g, 0, -1, TS0, false);
	while (!atomic_load(&a->stop) || a->appended == 0) {
		if (st_partition_append(a->p, g.b, (uint32_t)g.n, &base) == 0)
			a->appended++;
		else
			usleep(50);
	}
	return NULL;
}

/*
 * sluiced's shutdown order: the server goes while the writers still run and
 * still report moved watermarks.  They signal the store's notifier, never
 * the server, so a writer caught between noticing a move and waking the
 * loop touches nothing freed (run under ASan or valgrind to see it).
 */
static void test_kp_data_server_destroyed_while_writers_notify(void **state)
{
	struct kd_fx *f = *state;
	struct appender a = { .stop = false };
	struct pollfd none = { .fd = -1 };
	pthread_t t;

	a.p = ctl_store_partition(&ctl_catalog_find(f->cat, "g", 1)->partitions[0]);
	assert_non_null(a.p);
	assert_int_equal(pthread_create(&t, NULL, append_main, &a), 0);
	poll(&none, 1, 50);                             /* writers notifying the loop */
	kd_server_down(f);
	poll(&none, 1, 50);                             /* ... and nobody */
	atomic_store(&a.stop, true);
	pthread_join(t, NULL);
	assert_true(a.appended > 0);
}

static void test_kp_data_list_offsets_golden_v1_v2(void **state)
{
	static const int64_t ts[] = { -1, -2, TS0 + 5, TS0 + 10, TS0 + 100 };
	static const int64_t want_ts[] = { -1, -1, TS0 + 10, TS0 + 10, -1 };
	static const int64_t want_off[] = { 2, 0, 1, 1, -1 };
	int fd = kd_client(*state);
	struct gb req, want;

	produce_ok(fd, 7, 1, TS0, 0);
	produce_ok(fd, 7, 2, TS0 + 10, 1);
	for (int v = 1; v <= 2; v++) {
		g_req_list_offsets(&req, v, 30 + v, ts, 5);
		g_begin(&want);
		g_i32(&want, 30 + v);
		if (v >= 2)
			g_i32(&want, 0);                /* throttle_time_ms */
		g_i32(&want, 2);                        /* topics */
		g_str(&want, "g");
		g_i32(&want, 5);
		for (int i = 0; i < 5; i++) {
			g_i32(&want, 0);                /* partition_index */
			g_i16(&want, 0);                /* error_code */
			g_i64(&want, want_ts[i]);       /* timestamp */
			g_i64(&want, want_off[i]);      /* offset */
		}
		g_str(&want, "nope");
		g_i32(&want, 1);
		g_i32(&want, 3);
		g_i16(&want, 3);                        /* UNKNOWN_TOPIC_OR_PARTITION */
		g_i64(&want, -1);
		g_i64(&want, -1);
		g_end(&want);
		send_frame(fd, &req);
		expect_frame(fd, &want);
	}
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_kp_data_produce_golden_v3_to_v7, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_kp_data_produce_v0_to_v2_unsupported, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_kp_data_produce_errors, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_kp_data_produce_undecodable_records_refused,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_kp_data_fetch_golden_v4_to_v11, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_kp_data_fetch_capped_by_broker_fetch_max_bytes,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_kp_data_fetch_out_of_range, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_kp_data_fetch_long_poll_woken_by_produce, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_kp_data_client_reset_while_requests_wait, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_kp_data_list_offsets_golden_v1_v2, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_kp_data_delete_topic_fails_waiting_produce,
						fx_setup_no_sync, fx_teardown),
		cmocka_unit_test_setup_teardown(test_kp_data_server_destroyed_while_writers_notify,
						fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
