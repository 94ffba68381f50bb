/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_storage - sustained durable write rate of the storage path: a
 * producer thread appends RecordBatches into partition rings, a writer
 * thread moves them into segment files through io_uring with group commit,
 * and the clock stops when the durable watermark covers everything.
 *
 * It also measures single-core memcpy bandwidth in the same run (the
 * ceiling for tmpfs); perf/bench_storage.sh adds fio's io_uring figure for
 * the disk and prints the ratios.
 *
 *   bench_storage DIR [--mb N] [--record B] [--partitions P] [--memcpy]
 *   bench_storage DIR --memcpy-only        (the memcpy ceiling alone)
 *
 * Output: one "key value" per line, machine-readable.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "st_batch.h"
#include "st_log.h"
#include "st_partition.h"
#include "st_writer.h"

#define MAX_PARTS 16

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* Single-core memcpy bandwidth over a buffer far larger than the caches. */
static double memcpy_gbs(void)
{
	size_t len = 256u << 20;
	char *a = malloc(len), *b = malloc(len);
	double t0, gbs, best = 0;

	memset(a, 1, len);
	memset(b, 2, len); /* pre-fault both */
	for (int r = 0; r < 5; r++) {
		t0 = now_s();
		memcpy(b, a, len);
		__asm__ volatile("" : : "r"(b) : "memory");
		gbs = (double)len / (now_s() - t0) / 1e9;
		if (gbs > best)
			best = gbs;
	}
	free(a);
	free(b);
	return best;
}

/* A writer error stops appends for good: say so instead of waiting forever. */
static int bench_failed(const struct st_partition *p, int err)
{
	fprintf(stderr, "bench_storage: partition %d: %s\n", p->partition, strerror(-err));
	return 1;
}

static int build_batch(uint8_t *buf, uint32_t cap, uint32_t record, uint32_t batch_bytes)
{
	struct st_batch_builder b;
	uint8_t *val = malloc(record);
	int n = 0;

	memset(val, 'x', record);
	st_batch_builder_begin(&b, buf, cap, 1700000000000ll);
	while (b.len + record + 32 <= batch_bytes &&
	       st_batch_builder_add(&b, 1700000000000ll, NULL, -1, val, (int32_t)record, NULL, 0) == 0)
		n++;
	free(val);
	return n ? st_batch_builder_finish(&b) : -1;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "mb", 1, 0, 'm' }, { "record", 1, 0, 'r' }, { "partitions", 1, 0, 'p' },
		{ "memcpy", 0, 0, 'c' }, { "write-max", 1, 0, 'w' }, { "memcpy-only", 0, 0, 'C' },
		{ 0, 0, 0, 0 },
	};
	struct st_writer_cfg wc = { .cpu = getenv("BW_CPU") ? atoi(getenv("BW_CPU")) : 1, .direct = ST_DIRECT_AUTO, .huge = ST_HUGE_AUTO,
				    .flush_interval_ms = 5, .visibility = ST_VIS_DURABLE };
	struct st_partition_cfg pc = { .ring_bytes = 64 << 20, .huge = ST_HUGE_AUTO };
	struct st_partition *parts[MAX_PARTS];
	static uint8_t batch[1 << 20];
	uint64_t mb = 2048, record = 1024, nparts = 1, bytes = 0;
	struct st_log_config lc;
	struct st_logdir *ld;
	struct st_writer *w;
	int c, len, do_memcpy = 0;
	double t0, t1;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'm': mb = strtoull(optarg, NULL, 0); break;
		case 'r': record = strtoull(optarg, NULL, 0); break;
		case 'p': nparts = strtoull(optarg, NULL, 0); break;
		case 'c': do_memcpy = 1; break;
		case 'C': do_memcpy = 2; break;    /* the ceiling alone, for perf/run */
		case 'w': wc.write_max = (uint32_t)strtoul(optarg, NULL, 0); break;
		default: return 2;
		}
	}
	if (optind != argc - 1 || nparts < 1 || nparts > MAX_PARTS) {
		fprintf(stderr, "Usage: bench_storage DIR [--mb N] [--record B] [--partitions P] [--memcpy]\n");
		return 2;
	}
	pin(0);
	if (do_memcpy)
		printf("memcpy_gbs %.3f\n", memcpy_gbs());
	if (do_memcpy == 2)
		return 0;
	st_log_config_default(&lc);
	len = build_batch(batch, sizeof(batch), (uint32_t)record, 256 << 10);
	if (len < 0 || st_logdir_open(&ld, argv[optind]) < 0 || st_writer_create(&w, &wc) < 0) {
		fprintf(stderr, "bench_storage: setup failed\n");
		return 1;
	}
	for (unsigned i = 0; i < nparts; i++) {
		if (st_partition_open(&parts[i], ld, "bench", (int32_t)i, &lc, &pc, NULL) < 0 ||
		    st_writer_attach(w, parts[i]) < 0) {
			fprintf(stderr, "bench_storage: partition %u failed\n", i);
			return 1;
		}
	}
	t0 = now_s();
	for (unsigned i = 0; bytes < mb << 20; i = (i + 1) % (unsigned)nparts) {
		int64_t base;

		int rc;

		while ((rc = st_partition_append(parts[i], batch, (uint32_t)len, &base)) == -ENOBUFS)
			sched_yield();
		if (rc < 0)
			return bench_failed(parts[i], rc);
		bytes += (uint64_t)len;
	}
	for (unsigned i = 0; i < nparts; i++)
		while (st_partition_hw(parts[i], ST_VIS_DURABLE) < parts[i]->next_offset) {
			int err = atomic_load(&parts[i]->err);

			if (err)
				return bench_failed(parts[i], err); /* e.g. ENOSPC: never durable */
			usleep(100);
		}
	t1 = now_s();
	printf("bytes %llu\nseconds %.3f\ndurable_mbs %.1f\n", (unsigned long long)bytes, t1 - t0,
	       (double)bytes / (t1 - t0) / 1e6);
	st_writer_destroy(w);
	for (unsigned i = 0; i < nparts; i++)
		st_partition_close(parts[i]);
	st_logdir_close(ld);
	return 0;
}
