/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control loop over real loopback sockets: pipelined requests answered
 * in order behind a deferred one, oversized and invalid frames close only
 * their connection, max.connections, connections.max.idle.ms, cross-thread
 * notify and stop, timer order.  The dispatch here is a stub (the Kafka codec has its own
 * golden tests): a frame "KK c IIII" (api key, command, id) is answered with
 * the id, at once for 'I', from a 20 ms timer for 'D', never for 'N'.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "ctl_server.h"
#include "fwc_config.h"
#include "kp_buf.h"

#define MAX_DEFER 16

struct fx {
	struct fwc_config cfg;
	struct ctl_server *srv;
	pthread_t thr;
	int run_rc;
	struct ctl_timer timers[MAX_DEFER];
	struct ctl_resp *deferred[MAX_DEFER];
	int n_deferred;
	int notified;
};

static void defer_fire(void *arg, struct ctl_timer *t)
{
	struct fx *f = arg;
	int i = (int)(t - f->timers);

	ctl_resp_complete(f->deferred[i], true);
}

static enum ctl_disp stub_dispatch(void *arg, const uint8_t *frame, size_t len,
				   struct ctl_resp *resp)
{
	struct fx *f = arg;
	struct kp_writer *w = ctl_resp_writer(resp);
	struct kp_reader r;
	int8_t cmd;
	int32_t id;

	kp_reader_init(&r, frame, len);
	(void)kp_read_i16(&r);
	cmd = kp_read_i8(&r);
	id = kp_read_i32(&r);
	if (!kp_reader_ok(&r) || cmd == 'X')
		return CTL_DISP_CLOSE;
	kp_write_i32_slot(w);
	kp_write_i32(w, id);
	if (cmd == 'N')
		return CTL_DISP_NO_RESPONSE;
	if (cmd == 'D' && f->n_deferred < MAX_DEFER) {
		int i = f->n_deferred++;

		f->deferred[i] = resp;
		ctl_timer_init(&f->timers[i], defer_fire, f);
		ctl_timer_arm(ctl_resp_server(resp), &f->timers[i], 20);
		return CTL_DISP_PENDING;
	}
	kp_write_patch_i32(w, 0, (int32_t)(w->len - 4));
	return CTL_DISP_RESPOND;
}

static void *loop_thread(void *arg)
{
	struct fx *f = arg;

	f->run_rc = ctl_server_run(f->srv);
	return NULL;
}

static struct fx *fx_start(int max_conn, int64_t idle_ms)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct ctl_server_params p = { .dispatch = stub_dispatch };

	fwc_config_defaults(&f->cfg);
	strcpy(f->cfg.broker.listeners[0], "PLAINTEXT://127.0.0.1:0");
	f->cfg.broker.socket_request_max_bytes = 1024;
	f->cfg.broker.max_connections = max_conn;
	f->cfg.broker.connections_max_idle_ms = idle_ms;
	p.broker = &f->cfg.broker;
	p.dispatch_arg = f;
	assert_int_equal(ctl_server_create(&p, &f->srv), 0);
	assert_int_not_equal(ctl_server_port(f->srv, 0), 0);
	assert_int_equal(pthread_create(&f->thr, NULL, loop_thread, f), 0);
	return f;
}

static void fx_stop(struct fx *f)
{
	ctl_server_stop(f->srv);
	pthread_join(f->thr, NULL);
	assert_int_equal(f->run_rc, 0);
}

static void fx_free(struct fx *f)
{
	ctl_server_destroy(f->srv);
	free(f);
}

static int client(struct fx *f)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(ctl_server_port(f->srv, 0)) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static void put_frame(uint8_t *p, char cmd, int32_t id)
{
	static const uint8_t hdr[] = { 0, 0, 0, 7, 0, 3 };

	memcpy(p, hdr, sizeof(hdr));
	p[6] = (uint8_t)cmd;
	p[7] = (uint8_t)(id >> 24);
	p[8] = (uint8_t)(id >> 16);
	p[9] = (uint8_t)(id >> 8);
	p[10] = (uint8_t)id;
}

static void send_all(int fd, const void *p, size_t n)
{
	assert_int_equal(write(fd, p, n), (ssize_t)n);
}

/* Read exactly @n bytes; @return n, or 0 on EOF/reset (waits up to 10 s). */
static size_t read_full(int fd, uint8_t *p, size_t n)
{
	size_t got = 0;

	while (got < n) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t k;

		if (poll(&pfd, 1, 10000) <= 0)
			return got;
		k = read(fd, p + got, n - got);
		if (k <= 0)
			return 0;
		got += (size_t)k;
	}
	return got;
}

/* Expect one response frame carrying @id. */
static void expect_id(int fd, int32_t id)
{
	uint8_t b[8];

	assert_int_equal(read_full(fd, b, 8), 8);
	assert_memory_equal(b, "\x00\x00\x00\x04", 4);
	assert_int_equal((int32_t)((uint32_t)b[4] << 24 | b[5] << 16 | b[6] << 8 | b[7]), id);
}

static void expect_eof(int fd)
{
	uint8_t b[8];

	assert_int_equal(read_full(fd, b, sizeof(b)), 0);
}

static void test_ctl_server_pipeline_in_order_behind_deferred(void **state)
{
	struct fx *f = fx_start(16, 600000);
	uint8_t buf[11 * 5];
	int fd = client(f);

	(void)state;
	put_frame(buf, 'D', 1);
	put_frame(buf + 11, 'I', 2);
	put_frame(buf + 22, 'N', 3);            /* no response: must not block the queue */
	put_frame(buf + 33, 'D', 4);
	put_frame(buf + 44, 'I', 5);
	send_all(fd, buf, sizeof(buf));
	expect_id(fd, 1);
	expect_id(fd, 2);
	expect_id(fd, 4);
	expect_id(fd, 5);
	close(fd);
	fx_stop(f);
	assert_int_equal(ctl_server_stats(f->srv)->api[3].requests, 5);
	fx_free(f);
}

static void test_ctl_server_bad_frames_close_only_their_connection(void **state)
{
	static const uint8_t huge[] = { 0x7f, 0xff, 0xff, 0xff, 0, 3 };
	static const uint8_t zero[] = { 0, 0, 0, 0 };
	static const uint8_t neg[] = { 0xff, 0xff, 0xff, 0xfe };
	struct fx *f = fx_start(16, 600000);
	int good = client(f), a = client(f), b = client(f), c = client(f), d = client(f);
	uint8_t fr[11];
	const struct ctl_server_stats *st;

	(void)state;
	send_all(a, huge, sizeof(huge));
	send_all(b, zero, sizeof(zero));
	send_all(c, neg, sizeof(neg));
	put_frame(fr, 'X', 9);                  /* the dispatcher refuses it */
	send_all(d, fr, sizeof(fr));
	expect_eof(a);
	expect_eof(b);
	expect_eof(c);
	expect_eof(d);
	put_frame(fr, 'I', 42);
	send_all(good, fr, sizeof(fr));
	expect_id(good, 42);
	close(a), close(b), close(c), close(d), close(good);
	fx_stop(f);
	st = ctl_server_stats(f->srv);
	assert_int_equal(st->frames_too_large, 1);
	assert_int_equal(st->frames_invalid, 2);
	assert_int_equal(st->requests_refused, 1);
	assert_int_equal(st->conn_accepted, 5);
	fx_free(f);
}

static void test_ctl_server_max_connections_rejects_extra(void **state)
{
	struct fx *f = fx_start(2, 600000);
	int a = client(f), b = client(f), c;
	uint8_t fr[11];

	(void)state;
	put_frame(fr, 'I', 1);
	send_all(a, fr, sizeof(fr));
	expect_id(a, 1);                        /* a and b are both accepted by now */
	send_all(b, fr, sizeof(fr));
	expect_id(b, 1);
	c = client(f);
	expect_eof(c);
	send_all(a, fr, sizeof(fr));
	expect_id(a, 1);
	close(a), close(b), close(c);
	fx_stop(f);
	assert_int_equal(ctl_server_stats(f->srv)->conn_rejected, 1);
	fx_free(f);
}

static void test_ctl_server_idle_connection_closed(void **state)
{
	struct fx *f = fx_start(16, 100);
	int fds[3] = { client(f), client(f), client(f) };

	(void)state;
	for (int i = 0; i < 3; i++) {
		expect_eof(fds[i]);             /* waits for the sweep, however long */
		close(fds[i]);
	}
	fx_stop(f);
	assert_int_equal(ctl_server_stats(f->srv)->conn_idle_closed, 3);
	fx_free(f);
}

static void on_notify(void *arg)
{
	struct fx *f = arg;

	f->notified++;
	ctl_server_stop(f->srv);
}

static void *notifier(void *arg)
{
	ctl_server_notify(arg);
	return NULL;
}

static void test_ctl_server_notify_from_another_thread(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct ctl_server_params p = { .dispatch = stub_dispatch };
	pthread_t t;

	(void)state;
	fwc_config_defaults(&f->cfg);
	f->cfg.broker.n_listeners = 0;
	p.broker = &f->cfg.broker;
	p.dispatch_arg = f;
	assert_int_equal(ctl_server_create(&p, &f->srv), 0);
	assert_int_equal(ctl_server_on_notify(f->srv, on_notify, f), 0);
	assert_int_equal(pthread_create(&t, NULL, notifier, f->srv), 0);
	assert_int_equal(ctl_server_run(f->srv), 0);  /* returns once on_notify stopped it */
	pthread_join(t, NULL);
	assert_int_equal(f->notified, 1);
	fx_free(f);
}

struct order_fx {
	struct ctl_server *srv;
	struct ctl_timer t[8];
	int order[8], n, want;
};

static void order_fire(void *arg, struct ctl_timer *t)
{
	struct order_fx *o = arg;

	o->order[o->n++] = (int)(t - o->t);
	if (o->n == o->want)
		ctl_server_stop(o->srv);
}

/*
 * Timers fire by deadline, equal delays in arming order, whatever the
 * arming order; cancelling the latest one (the list's tail, where arming
 * starts its search) and one in the middle leaves the list consistent.
 */
static void test_ctl_server_timers_fire_in_deadline_order(void **state)
{
	static const uint64_t delay[] = { 30, 10, 20, 10, 30, 5 };
	static const int want[] = { 2, 5, 1, 3, 0, 6 };
	struct order_fx o = { .want = 6 };
	struct fwc_config cfg;
	struct ctl_server_params p = { .dispatch = stub_dispatch, .broker = &cfg.broker };

	(void)state;
	fwc_config_defaults(&cfg);
	cfg.broker.n_listeners = 0;
	assert_int_equal(ctl_server_create(&p, &o.srv), 0);
	for (int i = 0; i < 7; i++)
		ctl_timer_init(&o.t[i], order_fire, &o);
	for (int i = 0; i < 6; i++)
		ctl_timer_arm(o.srv, &o.t[i], delay[i]);
	ctl_timer_cancel(o.srv, &o.t[2]);               /* a middle one */
	ctl_timer_cancel(o.srv, &o.t[4]);               /* the latest: the tail */
	ctl_timer_arm(o.srv, &o.t[2], 1);               /* now the earliest */
	ctl_timer_arm(o.srv, &o.t[6], 40);              /* the new tail */
	assert_int_equal(ctl_server_run(o.srv), 0);
	assert_memory_equal(o.order, want, sizeof(want));
	ctl_server_destroy(o.srv);
}

struct hammer {
	struct ctl_notifier *n;
	atomic_bool stop;
};

/* A writer thread's part: signal, over and over, whatever server there is. */
static void *hammer_main(void *arg)
{
	struct hammer *h = arg;

	while (!atomic_load(&h->stop))
		ctl_notifier_signal(h->n);
	return NULL;
}

static struct ctl_server *notify_server(struct fx *f)
{
	struct ctl_server_params p = { .dispatch = stub_dispatch, .broker = &f->cfg.broker,
				       .dispatch_arg = f };

	assert_int_equal(ctl_server_create(&p, &f->srv), 0);
	assert_int_equal(ctl_server_on_notify(f->srv, on_notify, f), 0);
	return f->srv;
}

/*
 * The notifier belongs to the signalling threads, not to the server: a
 * server watching it is destroyed while a thread keeps signalling (which
 * ASan/valgrind would flag if a signal reached freed server memory), and a
 * second server watching the same notifier is woken by it.
 */
static void test_ctl_server_notifier_outlives_server(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct hammer h = { .stop = false };
	struct ctl_server *watcher;
	pthread_t t;

	(void)state;
	fwc_config_defaults(&f->cfg);
	f->cfg.broker.n_listeners = 0;
	assert_int_equal(ctl_notifier_create(&h.n), 0);
	assert_int_equal(pthread_create(&t, NULL, hammer_main, &h), 0);
	for (int round = 1; round <= 2; round++) {
		int before = f->notified;

		watcher = notify_server(f);
		assert_int_equal(ctl_server_watch(f->srv, h.n), 0);
		assert_int_equal(ctl_server_watch(f->srv, h.n), 0); /* already: no-op */
		assert_int_equal(ctl_server_run(f->srv), 0);  /* on_notify stops it */
		assert_true(f->notified > before);      /* more than once before stop lands */
		if (round == 1) {
			ctl_server_destroy(watcher);    /* still watched: destroy unwatches */
			continue;
		}
		notify_server(f);                       /* a third, never watching */
		assert_int_equal(ctl_server_watch(f->srv, h.n), -EBUSY);
		ctl_server_destroy(f->srv);
		ctl_server_unwatch(watcher, h.n);
		ctl_server_destroy(watcher);
	}
	atomic_store(&h.stop, true);
	pthread_join(t, NULL);
	ctl_notifier_destroy(h.n);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ctl_server_pipeline_in_order_behind_deferred),
		cmocka_unit_test(test_ctl_server_bad_frames_close_only_their_connection),
		cmocka_unit_test(test_ctl_server_max_connections_rejects_extra),
		cmocka_unit_test(test_ctl_server_idle_connection_closed),
		cmocka_unit_test(test_ctl_server_notify_from_another_thread),
		cmocka_unit_test(test_ctl_server_timers_fire_in_deadline_order),
		cmocka_unit_test(test_ctl_server_notifier_outlives_server),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
