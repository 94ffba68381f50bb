/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_dpu_producer - the UDP produce-mode producer against a scripted peer
 * on loopback: the datagrams it sends (SLC1 header, a valid RecordBatch
 * holding the records in order, sequences), and what it does with the
 * acks the peer sends or withholds (reports, resends, the exactly-once
 * window and its fatal failure, timeouts).  The appliance's side is tested
 * with the real daemon in tests/integration/test_udp_acks.sh.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "dp_wire.h"
#include "dpu_producer.h"
#include "st_endian.h"

#define MAX_REPORTS 4096

struct fx {
	int peer;                       /* the appliance's side */
	struct sockaddr_in peer_addr, prod_addr;
	struct dpu_producer *p;
	struct dpu_report rep[MAX_REPORTS];
	int n_rep;
};

/* One datagram as the peer saw it. */
struct dgram {
	uint8_t buf[65536];
	ssize_t len;
	uint16_t flags;
	int32_t partition;
	struct st_batch_info bi;
};

static void on_report(void *opaque, const struct dpu_report *r)
{
	struct fx *f = opaque;

	assert_true(f->n_rep < MAX_REPORTS);
	f->rep[f->n_rep++] = *r;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	socklen_t l = sizeof(f->peer_addr);

	f->peer = socket(AF_INET, SOCK_DGRAM, 0);
	f->peer_addr.sin_family = AF_INET;
	f->peer_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(f->peer, (struct sockaddr *)&f->peer_addr, l), 0);
	assert_int_equal(getsockname(f->peer, (struct sockaddr *)&f->peer_addr, &l), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	dpu_producer_free(f->p);
	close(f->peer);
	free(f);
	return 0;
}

static void start(struct fx *f, struct dpu_conf *c)
{
	socklen_t l = sizeof(f->prod_addr);

	c->dr_cb = on_report;
	c->opaque = f;
	assert_int_equal(dpu_producer_new(c, (struct sockaddr *)&f->peer_addr,
					  sizeof(f->peer_addr), NULL, 0, &f->p), 0);
	assert_int_equal(getsockname(dpu_producer_fd(f->p), (struct sockaddr *)&f->prod_addr, &l), 0);
}

/* Receive one datagram within @ms; false on timeout.  Checks the batch is a valid produce batch. */
static bool peer_recv(struct fx *f, struct dgram *d, int ms)
{
	struct pollfd pfd = { .fd = f->peer, .events = POLLIN };

	if (poll(&pfd, 1, ms) != 1)
		return false;
	d->len = recv(f->peer, d->buf, sizeof(d->buf), 0);
	assert_true(d->len >= DP_SLC_HDR_SIZE + ST_BATCH_HEADER_SIZE);
	assert_int_equal(st_be32_load(d->buf), DP_SLC_MAGIC);
	d->flags = st_be16_load(d->buf + 4);
	assert_int_equal(st_be16_load(d->buf + 6), 0);
	d->partition = (int32_t)st_be32_load(d->buf + 8);
	assert_int_equal(st_batch_validate(d->buf + DP_SLC_HDR_SIZE,
					   (size_t)d->len - DP_SLC_HDR_SIZE,
					   ST_BATCH_V_PRODUCE | ST_BATCH_V_EXACT | ST_BATCH_V_RECORDS,
					   0, &d->bi), ST_BATCH_ERR_OK);
	return true;
}

static void peer_ack(struct fx *f, const struct dgram *d, int16_t err, int64_t base_offset)
{
	uint8_t a[DP_SLA_SIZE];

	st_be32_store(a, DP_SLA_MAGIC);
	st_be16_store(a + 4, (uint16_t)err);
	st_be16_store(a + 6, 0);
	st_be32_store(a + 8, 3);                           /* partition */
	st_be64_store(a + 12, (uint64_t)base_offset);
	st_be64_store(a + 20, (uint64_t)d->bi.producer_id);
	st_be32_store(a + 28, (uint32_t)d->bi.base_sequence);
	st_be32_store(a + 32, d->bi.crc);
	st_be32_store(a + 36, (uint32_t)d->bi.records_count);
	assert_int_equal(sendto(f->peer, a, sizeof(a), 0, (struct sockaddr *)&f->prod_addr,
				sizeof(f->prod_addr)), sizeof(a));
}

static void produce_n(struct fx *f, int from, int n)
{
	char v[32];

	for (int i = from; i < from + n; i++) {
		int len = snprintf(v, sizeof(v), "m-%d", i);

		assert_int_equal(dpu_produce(f->p, 1700000000000 + i, NULL, 0, v, len, NULL, 0), 0);
	}
}

static uint64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Batches hold the records in order; acked ones are reported in order with the ack's offsets. */
static void test_dpu_at_least_once_batches_and_reports(void **state)
{
	struct fx *f = *state;
	struct dpu_conf c;
	struct dgram *d = malloc(sizeof(*d));
	int seen = 0, batches = 0;
	int64_t off = 100;

	dpu_conf_defaults(&c, DPU_AT_LEAST_ONCE);
	c.batch_bytes = 512;
	c.partition = 3;
	start(f, &c);
	produce_n(f, 0, 500);
	dpu_seal(f->p);
	while (seen < 500) {
		struct st_record_iter it;
		struct st_record r;

		assert_true(dpu_poll(f->p, 0) >= 0);
		if (!peer_recv(f, d, 1000))
			fail_msg("no datagram after %d records", seen);
		assert_int_equal(d->flags, DP_SLC_FLAG_ACK);
		assert_int_equal(d->partition, 3);
		assert_int_equal(d->bi.producer_id, -1);
		assert_true((size_t)d->len <= c.batch_bytes);
		st_record_iter_init(&it, d->buf + DP_SLC_HDR_SIZE, &d->bi);
		while (st_record_iter_next(&it, &r)) {
			char want[32];

			snprintf(want, sizeof(want), "m-%d", seen++);
			assert_int_equal(r.value_len, strlen(want));
			assert_memory_equal(r.value, want, r.value_len);
			assert_null(r.key);
		}
		assert_int_equal(it.err, 0);
		peer_ack(f, d, 0, off);
		off += d->bi.records_count;
		batches++;
	}
	assert_int_equal(dpu_flush(f->p, 2000), 0);
	assert_true(batches > 5);                          /* 512-byte datagrams: several */
	assert_int_equal(f->n_rep, batches);
	for (int i = 0, next = 0; i < f->n_rep; i++) {
		assert_int_equal(f->rep[i].error, 0);
		assert_int_equal(f->rep[i].first_msg, next);
		assert_int_equal(f->rep[i].base_offset, 100 + next);
		assert_int_equal(f->rep[i].partition, 3);
		assert_int_equal(f->rep[i].sends, 1);
		next += f->rep[i].count;
	}
	assert_int_equal(dpu_producer_stats(f->p)->delivered, 500);
	free(d);
}

/* A batch whose ack never comes is sent again after the ack timeout, then acked once. */
static void test_dpu_at_least_once_resends_unacked(void **state)
{
	struct fx *f = *state;
	struct dpu_conf c;
	struct dgram *d = malloc(sizeof(*d)), *d2 = malloc(sizeof(*d2));
	uint64_t t0;

	dpu_conf_defaults(&c, DPU_AT_LEAST_ONCE);
	c.ack_timeout_ms = 50;
	start(f, &c);
	produce_n(f, 0, 10);
	assert_int_equal(dpu_poll(f->p, 0), 0);            /* linger 5 ms not over yet */
	t0 = ms_now();
	assert_int_equal(dpu_flush(f->p, 0), -ETIMEDOUT);  /* sealed and sent, not acked */
	assert_true(peer_recv(f, d, 1000));
	assert_false(peer_recv(f, d2, 20));                /* no resend before the timeout */
	while (!peer_recv(f, d2, 1))
		assert_true(dpu_poll(f->p, 5) >= 0);
	assert_true(ms_now() - t0 >= 45);
	assert_int_equal(d2->len, d->len);
	assert_memory_equal(d2->buf, d->buf, d->len);      /* the same datagram */
	peer_ack(f, d2, 0, 7);
	peer_ack(f, d, 0, 7);                              /* a late ack of the first send */
	assert_int_equal(dpu_flush(f->p, 1000), 0);
	assert_int_equal(f->n_rep, 1);
	assert_int_equal(f->rep[0].sends, 2);
	assert_int_equal(f->rep[0].base_offset, 7);
	assert_int_equal(dpu_producer_stats(f->p)->resends, 1);
	assert_int_equal(dpu_producer_stats(f->p)->acks_unmatched, 1);
	free(d);
	free(d2);
}

/* Exactly once: contiguous sequences, and never more than 5 batches past the oldest unacked. */
static void test_dpu_exactly_once_sequences_and_window(void **state)
{
	struct fx *f = *state;
	struct dpu_conf c;
	struct dgram *d = calloc(8, sizeof(*d));
	int n = 0, rc = 0;
	char v[64];

	dpu_conf_defaults(&c, DPU_EXACTLY_ONCE);
	c.producer_id = 4242;
	c.producer_epoch = 3;
	c.batch_bytes = 200;
	c.ack_timeout_ms = 10000;
	start(f, &c);
	memset(v, 'x', sizeof(v));
	/* Fill until the window and the waiting slot are full. */
	for (int i = 0; i < 1000 && (rc = dpu_produce(f->p, 0, NULL, 0, v, 60, NULL, 0)) == 0; i++)
		;
	assert_int_equal(rc, -ENOBUFS);
	assert_int_equal(dpu_poll(f->p, 0), 0);
	while (n < 8 && peer_recv(f, &d[n], 100))
		n++;
	assert_int_equal(n, DPU_EXACTLY_ONCE_WINDOW);
	for (int i = 0; i < n; i++) {
		assert_int_equal(d[i].flags, DP_SLC_FLAG_ACK);
		assert_int_equal(d[i].bi.producer_id, 4242);
		assert_int_equal(d[i].bi.producer_epoch, 3);
		assert_int_equal(d[i].bi.base_sequence,
				 i ? d[i - 1].bi.base_sequence + d[i - 1].bi.records_count : 0);
	}
	/* Acking batches 1..4 frees nothing: batch 0 still holds the window. */
	for (int i = 1; i < n; i++)
		peer_ack(f, &d[i], 0, 10 * i);
	assert_int_equal(dpu_poll(f->p, 50), 0);
	assert_false(peer_recv(f, &d[5], 50));
	/* Acking batch 0 reports all five and lets the next one go. */
	peer_ack(f, &d[0], 0, 0);
	assert_int_equal(dpu_poll(f->p, 1000), 5);
	assert_true(peer_recv(f, &d[5], 1000));
	assert_int_equal(d[5].bi.base_sequence, d[4].bi.base_sequence + d[4].bi.records_count);
	free(d);
}

/*
 * Exactly once with producer id @pid: two sealed batches of 10 records, both
 * sent and received by the peer into @d[0] and @d[1].
 */
static void start_two_batches(struct fx *f, struct dpu_conf *c, int64_t pid, struct dgram *d)
{
	c->producer_id = pid;
	c->producer_epoch = 0;
	c->batch_bytes = 200;
	start(f, c);
	produce_n(f, 0, 10);
	dpu_seal(f->p);
	produce_n(f, 10, 10);
	dpu_seal(f->p);
	assert_int_equal(dpu_poll(f->p, 0), 0);
	assert_true(peer_recv(f, &d[0], 1000));
	assert_true(peer_recv(f, &d[1], 1000));
	assert_int_equal(d[1].bi.base_sequence, 10);
}

/*
 * Exactly once: batch 0 lost, batch 1 answered OUT_OF_ORDER_SEQUENCE (45);
 * batch 0 goes again at once (not after its 10 s timer), and batch 1 as soon
 * as batch 0 is acked.
 */
static void test_dpu_exactly_once_out_of_order_resends(void **state)
{
	struct fx *f = *state;
	struct dpu_conf c;
	struct dgram *d = calloc(4, sizeof(*d));

	dpu_conf_defaults(&c, DPU_EXACTLY_ONCE);
	c.ack_timeout_ms = 10000;
	c.retry_backoff_ms = 0;
	start_two_batches(f, &c, 1, d);                    /* d[0] is "lost" */
	peer_ack(f, &d[1], 45, -1);
	assert_true(dpu_poll(f->p, 200) >= 0);
	assert_true(peer_recv(f, &d[2], 200));
	assert_int_equal(d[2].bi.base_sequence, 0);        /* batch 0 again */
	peer_ack(f, &d[2], 0, 0);
	assert_int_equal(dpu_poll(f->p, 200), 1);
	assert_true(peer_recv(f, &d[3], 200));             /* batch 1 again */
	assert_int_equal(d[3].bi.base_sequence, d[1].bi.base_sequence);
	peer_ack(f, &d[3], 0, 20);
	assert_int_equal(dpu_flush(f->p, 1000), 0);
	assert_int_equal(f->n_rep, 2);
	assert_int_equal(f->rep[1].sends, 2);
	free(d);
}

/* Exactly once: a batch refused for good fails every batch after it and the producer. */
static void test_dpu_exactly_once_failure_is_fatal(void **state)
{
	struct fx *f = *state;
	struct dpu_conf c;
	struct dgram *d = calloc(2, sizeof(*d));

	dpu_conf_defaults(&c, DPU_EXACTLY_ONCE);
	start_two_batches(f, &c, 5, d);
	peer_ack(f, &d[0], 47, -1);                        /* INVALID_PRODUCER_EPOCH */
	assert_int_equal(dpu_flush(f->p, 1000), 0);
	assert_int_equal(f->n_rep, 2);
	assert_int_equal(f->rep[0].error, 47);
	assert_int_equal(f->rep[1].error, DPU_ERR_FATAL);
	assert_int_equal(dpu_produce(f->p, 0, NULL, 0, "x", 1, NULL, 0), -ENOTRECOVERABLE);
	assert_int_equal(dpu_producer_stats(f->p)->failed, 20);
	free(d);
}

/* At most once: no ack asked, gaps allowed with a producer id, reported at once, never resent. */
static void test_dpu_at_most_once_sends_once(void **state)
{
	struct fx *f = *state;
	struct dpu_conf c;
	struct dgram *d = malloc(sizeof(*d));

	dpu_conf_defaults(&c, DPU_AT_MOST_ONCE);
	c.producer_id = 9;
	c.producer_epoch = 0;
	c.ack_timeout_ms = 10;
	start(f, &c);
	produce_n(f, 0, 10);
	assert_int_equal(dpu_flush(f->p, 1000), 0);
	assert_int_equal(f->n_rep, 1);
	assert_int_equal(f->rep[0].error, 0);
	assert_int_equal(f->rep[0].base_offset, -1);
	assert_true(peer_recv(f, d, 1000));
	assert_int_equal(d->flags, DP_SLC_FLAG_GAPS_OK);
	assert_int_equal(d->bi.producer_id, 9);
	assert_int_equal(dpu_poll(f->p, 50), 0);
	assert_false(peer_recv(f, d, 50));                 /* never again */
	free(d);
}

/* No ack within the delivery timeout: reported DPU_ERR_TIMED_OUT. */
static void test_dpu_delivery_timeout(void **state)
{
	struct fx *f = *state;
	struct dpu_conf c;

	dpu_conf_defaults(&c, DPU_AT_LEAST_ONCE);
	c.ack_timeout_ms = 10;
	c.delivery_timeout_ms = 60;
	start(f, &c);
	produce_n(f, 0, 3);
	assert_int_equal(dpu_flush(f->p, 2000), 0);
	assert_int_equal(f->n_rep, 1);
	assert_int_equal(f->rep[0].error, DPU_ERR_TIMED_OUT);
	assert_true(f->rep[0].sends >= 3);
	assert_int_equal(dpu_producer_stats(f->p)->failed, 3);
}

static void test_dpu_rejects_bad_conf_and_records(void **state)
{
	struct fx *f = *state;
	struct dpu_conf c;
	struct dpu_producer *p = NULL;
	static char big[2000];
	const struct sockaddr *a = (struct sockaddr *)&f->peer_addr;

	dpu_conf_defaults(&c, DPU_EXACTLY_ONCE);          /* no producer id */
	assert_int_equal(dpu_producer_new(&c, a, sizeof(f->peer_addr), NULL, 0, &p), -EINVAL);
	c.producer_id = 1;
	c.producer_epoch = 0;
	c.window = DPU_EXACTLY_ONCE_WINDOW + 1;
	assert_int_equal(dpu_producer_new(&c, a, sizeof(f->peer_addr), NULL, 0, &p), -EINVAL);
	dpu_conf_defaults(&c, DPU_AT_LEAST_ONCE);
	c.producer_id = 1;                                 /* that would be exactly once */
	assert_int_equal(dpu_producer_new(&c, a, sizeof(f->peer_addr), NULL, 0, &p), -EINVAL);
	c.producer_id = -1;
	c.batch_bytes = DPU_DATAGRAM_MAX + 1;
	assert_int_equal(dpu_producer_new(&c, a, sizeof(f->peer_addr), NULL, 0, &p), -EINVAL);
	dpu_conf_defaults(&c, DPU_AT_LEAST_ONCE);
	start(f, &c);
	assert_int_equal(dpu_produce(f->p, 0, NULL, 0, big, sizeof(big), NULL, 0), -EMSGSIZE);
	assert_int_equal(dpu_produce(f->p, 0, NULL, 0, big, 100, NULL, 0), 0);
	assert_null(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dpu_at_least_once_batches_and_reports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dpu_at_least_once_resends_unacked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dpu_exactly_once_sequences_and_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dpu_exactly_once_out_of_order_resends, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dpu_exactly_once_failure_is_fatal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dpu_at_most_once_sends_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dpu_delivery_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dpu_rejects_bad_conf_and_records, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
