/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Produce requests through an inbox: a requester thread posts batches for a
 * partition owned by another thread, which appends them in order; results
 * come back with the offsets assigned; full rings refuse, never block.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "st_batch.h"
#include "st_inbox.h"
#include "st_log.h"
#include "st_partition.h"

#define N_REQ 20000

struct owner {
	struct st_inbox *ib;
	_Atomic int stop;
	unsigned served;
};

static void *owner_main(void *arg)
{
	struct owner *o = arg;

	while (!atomic_load(&o->stop)) {
		unsigned n = st_inbox_serve(o->ib, 32);

		o->served += n;
		if (!n)
			usleep(10);
	}
	return NULL;
}

static void test_inbox_requests_in_order(void **state)
{
	char dir[] = "/tmp/sluice-inbox.XXXXXX", cmd[64];
	struct st_partition_cfg pc = { .ring_bytes = 64 << 20, .huge = ST_HUGE_OFF };
	static struct st_produce_req reqs[N_REQ];
	struct st_log_config lc;
	struct st_logdir *ld;
	struct st_partition *p;
	struct st_batch_builder b;
	struct owner o = { 0 };
	uint8_t batch[256];
	pthread_t th;
	int len, done = 0, posted = 0, refused = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	st_log_config_default(&lc);
	assert_int_equal(st_logdir_open(&ld, dir), 0);
	assert_true(st_partition_open(&p, ld, "ib", 0, &lc, &pc, NULL) >= 0);
	assert_int_equal(st_inbox_create(&o.ib, 64), 0);
	p->inbox = o.ib;
	st_batch_builder_begin(&b, batch, sizeof(batch), 1);
	st_batch_builder_add(&b, 1, "k", 1, "v", 1, NULL, 0);
	st_batch_builder_add(&b, 2, "k", 1, "w", 1, NULL, 0);
	len = st_batch_builder_finish(&b);
	assert_int_equal(pthread_create(&th, NULL, owner_main, &o), 0);
	while (done < N_REQ) {
		struct st_produce_req *r;

		if (posted < N_REQ) {
			reqs[posted] = (struct st_produce_req){ .p = p, .batch = batch,
								.len = (uint32_t)len,
								.owner = &reqs[posted] };
			if (st_inbox_submit(o.ib, &reqs[posted]))
				posted++;
			else
				refused++;
		}
		while ((r = st_inbox_done(o.ib)) != NULL) {
			assert_ptr_equal(r, &reqs[done]);     /* completions in order */
			assert_int_equal(r->rc, 0);
			assert_int_equal(r->base_offset, (int64_t)done * 2);
			done++;
		}
	}
	atomic_store(&o.stop, 1);
	pthread_join(th, NULL);
	assert_int_equal(o.served, N_REQ);
	assert_true(refused > 0); /* the 64-entry inbox filled up at times */
	assert_int_equal(p->next_offset, 2 * N_REQ);
	st_inbox_free(o.ib);
	p->inbox = NULL;
	/* Nothing was written (no writer): close without the ring's contents. */
	st_partition_close(p);
	st_logdir_close(ld);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inbox_requests_in_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
