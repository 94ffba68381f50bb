/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the partition byte ring (st_ring.h) and of the hugepage
 * allocator under it (st_hugemem.h).  No hugepages are needed: the rings
 * are created with ST_HUGE_OFF except where the policy itself is tested.
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

#include <cmocka.h>

#include "st_hugemem.h"
#include "st_ring.h"

/* Byte i of the reference stream. */
static uint8_t stream_byte(uint64_t i)
{
	uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull;

	return (uint8_t)(x >> 56 ^ x >> 29);
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static struct st_ring *ring_new(uint64_t size)
{
	struct st_ring *r = NULL;
	int ret = st_ring_create(&r, size, ST_HUGE_OFF);

	assert_int_equal(ret, ST_HUGEMEM_FALLBACK);
	assert_non_null(r);
	return r;
}

static void test_ring_create_rejects_bad_size(void **state)
{
	struct st_ring *r = NULL;

	(void)state;
	assert_int_equal(st_ring_create(&r, 1000, ST_HUGE_OFF), -EINVAL);
	assert_int_equal(st_ring_create(&r, 32, ST_HUGE_OFF), -EINVAL);
	assert_int_equal(st_ring_create(&r, ST_RING_SIZE_MAX * 2, ST_HUGE_OFF), -EINVAL);
	assert_null(r);
}

static void test_ring_full_returns_null(void **state)
{
	struct st_ring *r = ring_new(256);
	uint8_t *p;

	(void)state;
	assert_null(st_ring_reserve(r, 0));
	assert_null(st_ring_reserve(r, 257));
	p = st_ring_reserve(r, 200);
	assert_ptr_equal(p, r->base);
	assert_int_equal(st_ring_commit(r, 200), 0);
	assert_null(st_ring_reserve(r, 57));          /* 56 left */
	assert_non_null(st_ring_reserve(r, 56));
	assert_int_equal(st_ring_commit(r, 56), 0);
	assert_null(st_ring_reserve(r, 1));           /* exactly full */
	assert_int_equal(st_ring_peek(r, &p), 256);
	st_ring_release(r, 100);
	assert_non_null(st_ring_reserve(r, 100));
	assert_null(st_ring_reserve(r, 101));
	st_ring_free(r);
}

static void test_ring_commit_shrinks_reservation(void **state)
{
	struct st_ring *r = ring_new(1024);
	uint8_t *p, *q;

	(void)state;
	p = st_ring_reserve(r, 500);
	memset(p, 0xab, 37);
	assert_int_equal(st_ring_commit(r, 37), 0);
	assert_int_equal(st_ring_commit(r, 1), -EINVAL); /* no reservation left */
	q = st_ring_reserve(r, 10);
	assert_ptr_equal(q, p + 37);                     /* the rest was given back */
	assert_int_equal(st_ring_commit(r, 0), 0);       /* abandoned */
	assert_non_null(st_ring_reserve(r, 10));
	assert_int_equal(st_ring_commit(r, 11), -EINVAL);
	assert_int_equal(st_ring_peek(r, &q), 37);
	assert_ptr_equal(q, p);
	st_ring_free(r);
}

static void test_ring_straddling_batch_wraps(void **state)
{
	struct st_ring *r = ring_new(256);
	uint8_t *p;

	(void)state;
	p = st_ring_reserve(r, 200);
	memset(p, 1, 200);
	st_ring_commit(r, 200);
	assert_int_equal(st_ring_peek(r, &p), 200);
	st_ring_release(r, 200);
	/* 56 bytes remain before the end: a 100-byte batch goes to offset 0. */
	p = st_ring_reserve(r, 100);
	assert_ptr_equal(p, r->base);
	memset(p, 2, 100);
	/* Not visible, nor the padding, before the commit. */
	assert_int_equal(st_ring_peek(r, &p), 0);
	st_ring_commit(r, 100);
	assert_int_equal(st_ring_peek(r, &p), 100);
	assert_ptr_equal(p, r->base);
	assert_int_equal(p[0], 2);
	assert_int_equal(p[99], 2);
	st_ring_release(r, 100);
	assert_int_equal(st_ring_used(r), 0);
	/* A wrapped reservation abandoned leaves no padding behind. */
	p = st_ring_reserve(r, 100);
	assert_ptr_equal(p, r->base + 100);
	st_ring_commit(r, 100);
	assert_int_equal(st_ring_peek(r, &p), 100);
	st_ring_release(r, 100);
	assert_ptr_equal(st_ring_reserve(r, 100), r->base);
	st_ring_commit(r, 0);
	assert_ptr_equal(st_ring_reserve(r, 50), r->base + 200);
	st_ring_commit(r, 50);
	assert_int_equal(st_ring_peek(r, &p), 50);
	assert_ptr_equal(p, r->base + 200);
	st_ring_free(r);
}

/*
 * One thread, random interleaving of produce and consume with random sizes;
 * every byte read must be the next byte of the reference stream.
 */
static void test_ring_wraparound_cycles(void **state)
{
	struct st_ring *r = ring_new(4096);
	uint64_t seed = 42, wpos = 0, rpos = 0, wraps = 0, fulls = 0;
	uint8_t *p, *last = NULL;

	(void)state;
	for (int it = 0; it < 200000; it++) {
		if (xorshift(&seed) % 2) {
			uint64_t max = 1 + xorshift(&seed) % 1500;
			uint64_t used = 1 + xorshift(&seed) % max;

			p = st_ring_reserve(r, max);
			if (!p) {
				fulls++;
				continue;
			}
			assert_true(p + max <= r->base + r->size);
			for (uint64_t i = 0; i < used; i++)
				p[i] = stream_byte(wpos + i);
			assert_int_equal(st_ring_commit(r, used), 0);
			wpos += used;
		} else {
			uint64_t n = st_ring_peek(r, &p), take;

			if (!n)
				continue;
			assert_true(p + n <= r->base + r->size);
			if (last && p < last)
				wraps++;
			take = 1 + xorshift(&seed) % n;
			for (uint64_t i = 0; i < take; i++)
				assert_int_equal(p[i], stream_byte(rpos + i));
			rpos += take;
			last = p + take;
			st_ring_release(r, take);
		}
	}
	assert_true(wraps > 100);
	assert_true(fulls > 0);
	assert_true(rpos <= wpos);
	st_ring_free(r);
}

/* Several consumed ranges in flight across wraps, released later in order. */
static void test_ring_consume_then_release_in_order(void **state)
{
	struct st_ring *r = ring_new(1024);
	uint64_t seed = 7, wpos = 0, rpos = 0, inflight[64], nin = 0, inflight_bytes = 0;
	uint64_t pads_pending = 0;
	uint8_t *p;

	(void)state;
	for (int it = 0; it < 100000; it++) {
		uint64_t n, len = 1 + xorshift(&seed) % 300;

		p = st_ring_reserve(r, len);
		if (p) {
			for (uint64_t i = 0; i < len; i++)
				p[i] = stream_byte(wpos + i);
			st_ring_commit(r, len);
			wpos += len;
		}
		n = st_ring_peek(r, &p);
		if (n && nin < 64) {
			for (uint64_t i = 0; i < n; i++)
				assert_int_equal(p[i], stream_byte(rpos + i));
			st_ring_consume(r, n);
			rpos += n;
			inflight[nin++] = n;
			inflight_bytes += n;
		}
		pads_pending += r->cons_npads != 0; /* head skipped a pad the tail has not reached */
		if (nin && (xorshift(&seed) % 3 == 0 || nin == 64)) {
			/* Release the oldest k ranges in one call. */
			uint64_t k = 1 + xorshift(&seed) % nin, sum = 0;

			for (uint64_t i = 0; i < k; i++)
				sum += inflight[i];
			memmove(inflight, inflight + k, (nin - k) * sizeof(inflight[0]));
			nin -= k;
			inflight_bytes -= sum;
			st_ring_release(r, sum);
		}
		/* Released plus in flight plus unread = committed. */
		assert_true(st_ring_used(r) >= inflight_bytes);
	}
	assert_true(rpos > 100 * 1024);
	assert_true(pads_pending > 0);
	st_ring_free(r);
}

struct spsc {
	struct st_ring *r;
	uint64_t batches;
	uint64_t bytes;
	uint64_t sum;
	uint64_t drops;
	int done;
};

static uint64_t sum_step(uint64_t sum, uint8_t b)
{
	return (sum ^ b) * 0x100000001B3ull; /* FNV-1a */
}

static void *spsc_producer(void *arg)
{
	struct spsc *s = arg;
	uint64_t seed = 12345, pos = 0, sum = 0xcbf29ce484222325ull;

	for (uint64_t b = 0; b < s->batches; b++) {
		uint64_t max = 61 + xorshift(&seed) % 4000, len = 61 + xorshift(&seed) % (max - 60);
		uint8_t *p;

		while (!(p = st_ring_reserve(s->r, max)))
			s->drops++; /* spin: a real lcore would count a drop */
		for (uint64_t i = 0; i < len; i++) {
			p[i] = stream_byte(pos + i);
			sum = sum_step(sum, p[i]);
		}
		st_ring_commit(s->r, len);
		pos += len;
	}
	s->bytes = pos;
	s->sum = sum;
	__atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_ring_spsc_two_threads_checksum(void **state)
{
	struct spsc s = { .r = ring_new(1 << 16), .batches = 200000 };
	uint64_t pos = 0, sum = 0xcbf29ce484222325ull, bad = 0;
	pthread_t th;

	(void)state;
	assert_int_equal(pthread_create(&th, NULL, spsc_producer, &s), 0);
	for (;;) {
		uint8_t *p;
		uint64_t n = st_ring_peek(s.r, &p);

		if (!n) {
			/* Done only once the producer finished and nothing is left. */
			if (__atomic_load_n(&s.done, __ATOMIC_ACQUIRE) && !st_ring_peek(s.r, &p))
				break;
			continue;
		}
		for (uint64_t i = 0; i < n; i++) {
			bad += p[i] != stream_byte(pos + i);
			sum = sum_step(sum, p[i]);
		}
		pos += n;
		st_ring_release(s.r, n);
	}
	pthread_join(th, NULL);
	assert_int_equal(bad, 0);
	assert_int_equal(pos, s.bytes);
	assert_int_equal(sum, s.sum);
	st_ring_free(s.r);
}

static void test_hugemem_off_uses_ordinary_pages(void **state)
{
	struct st_hugemem m;

	(void)state;
	assert_int_equal(st_hugemem_alloc(&m, 10000, ST_HUGE_OFF), ST_HUGEMEM_FALLBACK);
	assert_int_equal(m.kind, ST_HUGEMEM_PAGES);
	assert_int_equal(m.fallback_errno, 0);
	assert_true(m.map_len >= 10000);
	assert_int_equal((uintptr_t)m.base % 4096, 0);
	assert_int_equal(((uint8_t *)m.base)[9999], 0);
	st_hugemem_free(&m);
	assert_null(m.base);
	st_hugemem_free(&m); /* idempotent */
	assert_int_equal(st_hugemem_alloc(&m, 0, ST_HUGE_OFF), -EINVAL);
}

static long hugepages_free(void)
{
	FILE *f = fopen("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "r");
	long n = 0;

	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = 0;
		fclose(f);
	}
	return n;
}

static void test_hugemem_on_without_hugepages_fails(void **state)
{
	struct st_hugemem m = { 0 };
	struct st_ring *r = NULL;

	(void)state;
	if (hugepages_free() > 0) {
		fprintf(stderr, "hugepages are available: the failure path cannot be tested\n");
		skip();
	}
	assert_int_equal(st_hugemem_alloc(&m, 1 << 20, ST_HUGE_ON), -ENOMEM);
	assert_null(m.base);
	assert_int_equal(st_ring_create(&r, 1 << 20, ST_HUGE_ON), -ENOMEM);
	assert_null(r);
	/* auto falls back once and says why */
	assert_int_equal(st_hugemem_alloc(&m, 1 << 20, ST_HUGE_AUTO), ST_HUGEMEM_FALLBACK);
	assert_int_equal(m.kind, ST_HUGEMEM_PAGES);
	assert_int_equal(m.fallback_errno, ENOMEM);
	st_hugemem_free(&m);
}

static void test_hugemem_on_with_hugepages_succeeds(void **state)
{
	struct st_hugemem m;

	(void)state;
	if (hugepages_free() < 2) {
		fprintf(stderr, "no free hugepages (nr_hugepages): skipped\n");
		skip();
	}
	assert_int_equal(st_hugemem_alloc(&m, 3 << 20, ST_HUGE_ON), 0);
	assert_int_equal(m.kind, ST_HUGEMEM_HUGE);
	assert_int_equal((uintptr_t)m.base % (2 << 20), 0);
	((uint8_t *)m.base)[(3 << 20) - 1] = 1;
	st_hugemem_free(&m);
}

static void test_hugemem_policy_parse(void **state)
{
	enum st_huge_policy p;

	(void)state;
	assert_int_equal(st_huge_policy_parse("on", &p), 0);
	assert_int_equal(p, ST_HUGE_ON);
	assert_int_equal(st_huge_policy_parse("off", &p), 0);
	assert_int_equal(p, ST_HUGE_OFF);
	assert_int_equal(st_huge_policy_parse("auto", &p), 0);
	assert_int_equal(p, ST_HUGE_AUTO);
	assert_int_equal(st_huge_policy_parse("yes", &p), -EINVAL);
	assert_int_equal(st_huge_policy_parse(NULL, &p), -EINVAL);
	assert_string_equal(st_huge_policy_name(ST_HUGE_ON), "on");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_create_rejects_bad_size),
		cmocka_unit_test(test_ring_full_returns_null),
		cmocka_unit_test(test_ring_commit_shrinks_reservation),
		cmocka_unit_test(test_ring_straddling_batch_wraps),
		cmocka_unit_test(test_ring_wraparound_cycles),
		cmocka_unit_test(test_ring_consume_then_release_in_order),
		cmocka_unit_test(test_ring_spsc_two_threads_checksum),
		cmocka_unit_test(test_hugemem_off_uses_ordinary_pages),
		cmocka_unit_test(test_hugemem_on_without_hugepages_fails),
		cmocka_unit_test(test_hugemem_on_with_hugepages_succeeds),
		cmocka_unit_test(test_hugemem_policy_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
