/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Storage end to end inside one process: a producer thread (the test)
 * appends batches and tap records into partitions, a writer thread moves
 * them into Kafka-layout segments through io_uring, and the test checks the
 * watermarks, the files (read back with st_log_read), rolls, reopening,
 * ring-full back-pressure and an I/O error stopping one partition; rolls
 * that do not wait for the old segment's sync yet never publish it durable
 * early.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "st_batch.h"
#include "st_dump.h"
#include "st_log.h"
#include "st_partition.h"
#include "st_writer.h"

struct fixture {
	char dir[64];
	char mnt[96];
	struct st_logdir *ld;
	struct st_writer *w;
	struct st_log_config lc;
	struct st_partition_cfg pc;
};

static void quiet_log(void *arg, int level, const char *msg)
{
	(void)arg;
	if (level <= ST_LOG_WARNING)
		fprintf(stderr, "writer: %s\n", msg);
}

static void writer_start_cfg(struct fixture *f, const char *root, const struct st_writer_cfg *wc)
{
	assert_int_equal(st_logdir_open(&f->ld, root), 0);
	assert_true(st_writer_create(&f->w, wc) >= 0);
}

static void writer_start(struct fixture *f, const char *root, int64_t flush_ms)
{
	struct st_writer_cfg wc = {
		.cpu = -1, .direct = ST_DIRECT_AUTO, .huge = ST_HUGE_OFF,
		.flush_interval_ms = flush_ms, .visibility = ST_VIS_DURABLE,
		.log = quiet_log,
	};

	writer_start_cfg(f, root, &wc);
}

/* A writer whose producers kick, with no timed duty at all: it sleeps until kicked. */
static void writer_start_kicked(struct fixture *f)
{
	struct st_writer_cfg wc = {
		.cpu = -1, .direct = ST_DIRECT_AUTO, .huge = ST_HUGE_OFF,
		.flush_interval_ms = 0, .retention_check_ms = 0, .visibility = ST_VIS_WRITTEN,
		.kicked = true, .log = quiet_log,
	};

	writer_start_cfg(f, f->dir, &wc);
}

static uint64_t writer_sleeps(const struct st_writer *w)
{
	struct st_writer_stats st;

	st_writer_stats_get(w, &st);
	return st.sleeps;
}

/* Until the writer has gone to sleep at least once more than @than. */
static uint64_t wait_asleep(const struct st_writer *w, uint64_t than)
{
	for (int i = 0; i < 10000 && writer_sleeps(w) <= than; i++)
		usleep(1000); /* hang guard only */
	assert_true(writer_sleeps(w) > than);
	return writer_sleeps(w);
}

/* Until @p is written up to @offset; the bound is a hang guard, not a timing check. */
static void wait_written(struct st_partition *p, int64_t offset)
{
	for (int i = 0; i < 10000 && st_partition_hw(p, ST_VIS_WRITTEN) < offset; i++)
		usleep(1000);
	assert_true(st_partition_hw(p, ST_VIS_WRITTEN) >= offset);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/sluice-wr.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	st_log_config_default(&f->lc);
	f->pc = (struct st_partition_cfg){ .ring_bytes = 1 << 20, .huge = ST_HUGE_OFF,
					   .batch_size = 4096, .linger_ms = 1 };
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[160];

	if (f->mnt[0]) {
		umount2(f->mnt, MNT_DETACH);
		rmdir(f->mnt);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", f->dir);
	free(f);
	return 0;
}

/* A batch of @n records whose values are "v<offset>" for offsets from @first. */
static int make_batch(uint8_t *buf, uint32_t cap, int64_t first, int n, int64_t ts)
{
	struct st_batch_builder b;
	char val[32];

	assert_int_equal(st_batch_builder_begin(&b, buf, cap, ts), 0);
	for (int i = 0; i < n; i++) {
		int len = snprintf(val, sizeof(val), "v%lld", (long long)(first + i));

		assert_int_equal(st_batch_builder_add(&b, ts + i, NULL, -1, val, len, NULL, 0), 0);
	}
	return st_batch_builder_finish(&b);
}

static void wait_durable(struct st_partition *p, int64_t offset)
{
	for (int i = 0; i < 5000 && st_partition_hw(p, ST_VIS_DURABLE) < offset; i++)
		usleep(1000);
	assert_true(st_partition_hw(p, ST_VIS_DURABLE) >= offset);
}

/* Read back every record from @from to the high watermark and check values. */
static int64_t check_values(struct st_partition *p, int64_t from)
{
	int64_t hw = st_partition_hw(p, ST_VIS_DURABLE), next = from;

	while (next < hw) {
		struct st_log_range r;
		uint8_t *buf;
		uint64_t pos = 0;

		assert_int_equal(st_log_read(p->log, next, 1 << 16, hw, &r), 0);
		assert_true(r.length > 0);
		buf = malloc(r.length);
		assert_int_equal(pread(r.fd, buf, r.length, (off_t)r.position), (ssize_t)r.length);
		while (pos < r.length) {
			struct st_batch_info bi;
			struct st_record_iter it;
			struct st_record rec;

			assert_int_equal(st_batch_validate(buf + pos, r.length - pos, 0, 0, &bi),
					 ST_BATCH_ERR_OK);
			st_record_iter_init(&it, buf + pos, &bi);
			while (st_record_iter_next(&it, &rec)) {
				char want[32];
				int len = snprintf(want, sizeof(want), "v%lld", (long long)rec.offset);

				if (rec.offset < next)
					continue; /* the batch started before @from */
				assert_int_equal(rec.offset, next);
				assert_int_equal(rec.value_len, len);
				assert_memory_equal(rec.value, want, (size_t)len);
				next++;
			}
			assert_int_equal(it.err, 0);
			pos += st_batch_size(&bi);
		}
		free(buf);
		st_log_range_put(&r);
	}
	return next;
}

static void test_writer_append_durable_and_reopen(void **state)
{
	struct fixture *f = *state;
	static uint8_t batch[8192];
	struct st_partition *p;
	int64_t base;
	int len;

	writer_start(f, f->dir, 2);
	assert_true(st_partition_open(&p, f->ld, "t", 0, &f->lc, &f->pc, NULL) >= 0);
	assert_int_equal(st_writer_attach(f->w, p), 0);
	for (int i = 0; i < 500; i++) {
		len = make_batch(batch, sizeof(batch), p->next_offset, 10, 1000 + i);
		while (st_partition_append(p, batch, (uint32_t)len, &base) == -ENOBUFS)
			usleep(100);
		assert_int_equal(base, (int64_t)i * 10);
	}
	wait_durable(p, 5000);
	assert_true(st_partition_hw(p, ST_VIS_WRITTEN) >= 5000);
	{
		struct st_writer_stats ws;
		uint64_t in_buckets = 0;

		st_writer_stats_get(f->w, &ws);
		for (unsigned int b = 0; b <= ST_LAT_BUCKETS; b++)
			in_buckets += ws.sync.bucket[b];
		assert_true(ws.sync.count >= 1);          /* the fdatasyncs that made it durable */
		assert_int_equal(in_buckets, ws.sync.count);
		assert_true(ws.sync.sum_ns > 0);
		assert_int_equal(ws.rx_durable.count, 0); /* Kafka-path appends carry no receive time */
		assert_int_equal(ws.queue_bytes, 0);      /* everything written */
	}
	assert_int_equal(check_values(p, 0), 5000);
	assert_int_equal(check_values(p, 4321), 5000);
	assert_int_equal(st_writer_detach(f->w, p), 0);
	assert_int_equal(st_partition_close(p), 0);
	st_writer_destroy(f->w);
	assert_int_equal(st_logdir_close(f->ld), 0);

	/* Reopen: a clean shutdown; offsets continue. */
	writer_start(f, f->dir, 2);
	assert_true(st_partition_open(&p, f->ld, "t", 0, &f->lc, &f->pc, NULL) >= 0);
	assert_true(st_logdir_was_clean(f->ld));
	assert_int_equal(p->next_offset, 5000);
	assert_int_equal(st_writer_attach(f->w, p), 0);
	len = make_batch(batch, sizeof(batch), 5000, 3, 99);
	assert_int_equal(st_partition_append(p, batch, (uint32_t)len, &base), 0);
	assert_int_equal(base, 5000);
	wait_durable(p, 5003);
	assert_int_equal(check_values(p, 0), 5003);
	st_writer_destroy(f->w); /* detaches */
	assert_int_equal(st_partition_close(p), 0);
	assert_int_equal(st_logdir_close(f->ld), 0);
	assert_int_equal(st_verify_dir(fopen("/dev/null", "w"), f->dir), 0);
}

static void test_writer_rolls_segments(void **state)
{
	struct fixture *f = *state;
	static uint8_t batch[8192];
	struct st_partition *p;
	int64_t base;

	f->lc.segment_bytes = 64 << 10;
	writer_start(f, f->dir, 0);
	assert_true(st_partition_open(&p, f->ld, "roll", 3, &f->lc, &f->pc, NULL) >= 0);
	assert_int_equal(st_writer_attach(f->w, p), 0);
	for (int i = 0; i < 2000; i++) {
		int len = make_batch(batch, sizeof(batch), p->next_offset, 20, i);

		while (st_partition_append(p, batch, (uint32_t)len, &base) == -ENOBUFS)
			usleep(100);
	}
	wait_durable(p, 40000);
	assert_true(st_log_segment_count(p->log) > 5);
	assert_int_equal(check_values(p, 0), 40000);
	st_writer_destroy(f->w);
	assert_int_equal(st_partition_close(p), 0);
	assert_int_equal(st_logdir_close(f->ld), 0);
	assert_int_equal(st_verify_dir(fopen("/dev/null", "w"), f->dir), 0);
}

#define ROLL_SAMPLES (1 << 16)

/* What the writer thread saw at each notify (its own stats: no race). */
struct roll_watch {
	struct st_writer *w;
	struct st_partition *a;
	unsigned n;
	struct { int64_t durable; uint64_t synced; } s[ROLL_SAMPLES];
};

static void roll_notify(void *arg)
{
	struct roll_watch *rw = arg;
	struct st_writer_stats st;

	if (!rw->w || !rw->a || rw->n == ROLL_SAMPLES)
		return;
	st_writer_stats_get(rw->w, &st);
	rw->s[rw->n].durable = st_partition_hw(rw->a, ST_VIS_DURABLE);
	rw->s[rw->n].synced = st.segments_synced;
	rw->n++;
}

/* Base offsets of the segments in @dir, ascending. @return how many. */
static int segment_bases(const char *dir, int64_t *bases, int cap)
{
	char cmd[256];
	FILE *ls;
	int n = 0;
	long long b;

	snprintf(cmd, sizeof(cmd), "ls %s | grep '\\.log$' | sort", dir);
	ls = popen(cmd, "r");
	assert_non_null(ls);
	while (n < cap && fscanf(ls, "%lld.log\n", &b) == 1)
		bases[n++] = b;
	pclose(ls);
	return n;
}

static void append_all(struct st_partition *p, int from, int to)
{
	static uint8_t batch[8192];
	int64_t base;

	for (int i = from; i < to; i++) {
		int len = make_batch(batch, sizeof(batch), p->next_offset, 10, 1000 + i);

		while (st_partition_append(p, batch, (uint32_t)len, &base) == -ENOBUFS)
			usleep(100);
		assert_int_equal(base, (int64_t)i * 10);
	}
}

/*
 * Segments of 4 KiB (a roll every ~25 batches) on partition a, one large
 * segment on partition b, same writer.  A roll never waits for the old
 * segment's sync (rolls_overlapped: the new segment was written while the
 * old one still had I/O to do -- a ring filled before attach makes the
 * first pass roll several times in a row), yet at every notify the durable
 * watermark of a covers only segments whose final fdatasync completed, and
 * every record of both partitions arrives durable and in order.
 */
static void test_writer_roll_does_not_wait_for_old_sync(void **state)
{
	struct fixture *f = *state;
	static struct roll_watch rw;
	static int64_t bases[4096];
	struct st_writer_cfg wc = {
		.cpu = -1, .direct = ST_DIRECT_AUTO, .huge = ST_HUGE_OFF, .flush_interval_ms = 0,
		.visibility = ST_VIS_DURABLE, .log = quiet_log, .notify = roll_notify,
		.notify_arg = &rw,
	};
	struct st_log_config lca = f->lc;
	struct st_writer_stats st;
	struct st_partition *a, *b;
	char dir[128];
	int nsegs;

	memset(&rw, 0, sizeof(rw));
	lca.segment_bytes = 4096;
	lca.index_max_bytes = 4096;
	assert_int_equal(st_logdir_open(&f->ld, f->dir), 0);
	assert_true(st_writer_create(&f->w, &wc) >= 0);
	assert_true(st_partition_open(&a, f->ld, "a", 0, &lca, &f->pc, NULL) >= 0);
	assert_true(st_partition_open(&b, f->ld, "b", 0, &f->lc, &f->pc, NULL) >= 0);
	append_all(a, 0, 1000);                         /* ~40 segments waiting in the ring */
	rw.w = f->w;
	rw.a = a;
	assert_int_equal(st_writer_attach(f->w, a), 0);
	assert_int_equal(st_writer_attach(f->w, b), 0);
	for (int k = 0; k < 4; k++) {                   /* both partitions busy at once */
		append_all(a, 1000 + 250 * k, 1250 + 250 * k);
		append_all(b, 250 * k, 250 * (k + 1));
	}
	wait_durable(a, 20000);
	wait_durable(b, 10000);
	assert_int_equal(check_values(a, 0), 20000);
	assert_int_equal(check_values(b, 0), 10000);
	st_writer_stats_get(f->w, &st);
	assert_true(st.rolls > 40);
	assert_true(st.rolls_overlapped > 0);
	assert_int_equal(st.segments_synced, st.rolls);  /* only a rolls */
	st_writer_destroy(f->w);
	assert_int_equal(st_partition_close(a), 0);
	assert_int_equal(st_partition_close(b), 0);
	assert_int_equal(st_logdir_close(f->ld), 0);

	snprintf(dir, sizeof(dir), "%s/a-0", f->dir);
	nsegs = segment_bases(dir, bases, 4096);
	assert_int_equal((uint64_t)nsegs, st.rolls + 1);
	assert_true(rw.n > 0);
	for (unsigned i = 0; i < rw.n; i++) {
		uint64_t whole = 0; /* segments entirely below the durable offset */

		while ((int)whole + 1 < nsegs && bases[whole + 1] <= rw.s[i].durable)
			whole++;
		assert_true(whole <= rw.s[i].synced);
	}
	assert_int_equal(st_verify_dir(fopen("/dev/null", "w"), f->dir), 0);
}

static void test_writer_tap_records(void **state)
{
	struct fixture *f = *state;
	struct st_partition *p;
	char val[32];
	uint64_t now = 1;

	writer_start(f, f->dir, 1);
	assert_true(st_partition_open(&p, f->ld, "tap", 0, &f->lc, &f->pc, NULL) >= 0);
	assert_int_equal(st_writer_attach(f->w, p), 0);
	for (int i = 0; i < 3000; i++) {
		int len = snprintf(val, sizeof(val), "v%d", i);

		while (st_partition_tap_add(p, now, 1000 + i, NULL, -1, val, len, NULL, 0) == -ENOBUFS)
			usleep(100);
		now += 1000;
	}
	/* linger is 1 ms: not yet sealed at now, sealed 1 ms later */
	assert_int_equal(st_partition_tap_flush(p, now, false) > 0, false);
	assert_true(st_partition_tap_flush(p, now + 2000000, false) > 0);
	wait_durable(p, 3000);
	assert_int_equal(check_values(p, 0), 3000);
	assert_true(p->pstats.batches >= 5 && p->pstats.batches < 100); /* 4 KiB batches */
	st_writer_destroy(f->w);
	assert_int_equal(st_partition_close(p), 0);
	assert_int_equal(st_logdir_close(f->ld), 0);
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The writer's stats once its receive -> durable count reached @n (or a timeout). */
static struct st_writer_stats wait_rx_durable(const struct st_writer *w, uint64_t n)
{
	struct st_writer_stats ws;

	for (int i = 0; i < 5000; i++) {
		st_writer_stats_get(w, &ws);
		if (ws.rx_durable.count >= n)
			break;
		usleep(1000);
	}
	return ws;
}

/*
 * Batches stamped with a receive time 50 ms ago: one sample each once
 * durable, each at least 50 ms; a full stamp array drops stamps (counted),
 * never records; a tap batch is stamped with its first record's time.
 */
static void test_writer_receive_to_durable_histogram(void **state)
{
	struct fixture *f = *state;
	static uint8_t batch[512];
	struct st_writer_stats ws;
	struct st_partition *p;
	uint64_t in_buckets = 0, rx;
	int64_t base;
	int len;

	writer_start(f, f->dir, 1);
	assert_true(st_partition_open(&p, f->ld, "rx", 0, &f->lc, &f->pc, NULL) >= 0);
	/* Not attached yet: nobody takes the stamps, so the array fills. */
	rx = realtime_ns() - 50000000u;
	for (unsigned int i = 0; i < ST_RX_STAMPS + 6; i++) {
		len = make_batch(batch, sizeof(batch), p->next_offset, 2, 1000);
		assert_int_equal(st_partition_append_rx(p, batch, (uint32_t)len, 0, rx, &base), 0);
	}
	assert_int_equal(p->stamps.lost, 6);
	len = make_batch(batch, sizeof(batch), p->next_offset, 2, 1000);
	assert_int_equal(st_partition_append(p, batch, (uint32_t)len, &base), 0); /* no stamp */
	assert_int_equal(st_writer_attach(f->w, p), 0);
	wait_durable(p, 2 * (ST_RX_STAMPS + 7));
	ws = wait_rx_durable(f->w, ST_RX_STAMPS);
	assert_int_equal(ws.rx_durable.count, ST_RX_STAMPS);
	for (unsigned int b = 0; b <= ST_LAT_BUCKETS; b++)
		in_buckets += ws.rx_durable.bucket[b];
	assert_int_equal(in_buckets, ST_RX_STAMPS);
	for (unsigned int b = 0; st_lat_bucket_us[b] < 50000; b++)
		assert_int_equal(ws.rx_durable.bucket[b], 0); /* none under 50 ms */
	assert_true(ws.rx_durable.sum_ns >= (uint64_t)ST_RX_STAMPS * 50000000u);
	assert_true(ws.rx_durable.bucket[ST_LAT_BUCKETS] < ST_RX_STAMPS); /* not all beyond 2.5 s */
	assert_int_equal(ws.rx_stamps_lost, 6);

	/* Tap: the batch carries the time its first record came with. */
	rx = realtime_ns();
	assert_int_equal(st_partition_tap_add(p, rx, 1000, NULL, -1, "a", 1, NULL, 0), 0);
	assert_int_equal(st_partition_tap_add(p, rx + 1000, 1000, NULL, -1, "b", 1, NULL, 0), 0);
	assert_true(st_partition_tap_flush(p, rx, true) > 0);
	wait_durable(p, 2 * (ST_RX_STAMPS + 7) + 2);
	ws = wait_rx_durable(f->w, ST_RX_STAMPS + 1);
	assert_int_equal(ws.rx_durable.count, ST_RX_STAMPS + 1);
	st_writer_destroy(f->w);
	assert_int_equal(st_partition_close(p), 0);
	assert_int_equal(st_logdir_close(f->ld), 0);
}

static void test_writer_ring_full_never_blocks(void **state)
{
	struct fixture *f = *state;
	static uint8_t batch[65536];
	struct st_partition *p;
	int64_t base;
	int full = 0, len;

	/* No writer attached: the ring fills and the producer is told at once. */
	writer_start(f, f->dir, 0);
	f->pc.ring_bytes = 128 << 10;
	assert_true(st_partition_open(&p, f->ld, "full", 0, &f->lc, &f->pc, NULL) >= 0);
	len = make_batch(batch, sizeof(batch), 0, 3000, 1);
	for (int i = 0; i < 10; i++)
		full += st_partition_append(p, batch, (uint32_t)len, &base) == -ENOBUFS;
	assert_true(full >= 6);
	assert_int_equal(p->pstats.ring_full, (uint64_t)full);
	/* Larger than half the ring: can never fit. */
	make_batch(batch, sizeof(batch), 0, 1, 1);
	assert_int_equal(st_partition_append(p, batch, 70000, &base), -EMSGSIZE);
	assert_int_equal(st_writer_attach(f->w, p), 0);
	wait_durable(p, (int64_t)(10 - full) * 3000);
	st_writer_destroy(f->w);
	assert_int_equal(st_partition_close(p), 0);
	assert_int_equal(st_logdir_close(f->ld), 0);
}

/*
 * With log.flush.interval.* at their maximum no timed sync ever comes; the
 * writer must still sync when its in-flight list fills, or the partition
 * would stall after a few dozen writes.
 */
static void test_writer_no_flush_interval_never_stalls(void **state)
{
	struct fixture *f = *state;
	static uint8_t batch[4096];
	struct st_partition *p;
	int64_t base;
	int len;

	writer_start(f, f->dir, INT64_MAX);
	assert_true(st_partition_open(&p, f->ld, "noflush", 0, &f->lc, &f->pc, NULL) >= 0);
	assert_int_equal(st_writer_attach(f->w, p), 0);
	for (int i = 0; i < 300; i++) {
		len = make_batch(batch, sizeof(batch), p->next_offset, 2, i);
		while (st_partition_append(p, batch, (uint32_t)len, &base) == -ENOBUFS)
			usleep(100);
		/* One write per batch: wait until this one is written. */
		wait_written(p, p->next_offset);
		assert_int_equal(st_partition_hw(p, ST_VIS_WRITTEN), p->next_offset);
	}
	assert_true(st_partition_hw(p, ST_VIS_DURABLE) > 0);
	st_writer_destroy(f->w);
	assert_int_equal(st_partition_close(p), 0);
	assert_int_equal(st_logdir_close(f->ld), 0);
}

/* A tmpfs of @size at <dir>/mnt (skips the test when it cannot be mounted). */
static void mount_tiny(struct fixture *f, const char *size)
{
	char opt[32];

	if (geteuid() != 0) {
		fprintf(stderr, "not root: cannot mount a tiny tmpfs\n");
		skip();
	}
	snprintf(f->mnt, sizeof(f->mnt), "%s/mnt", f->dir);
	assert_int_equal(mkdir(f->mnt, 0755), 0);
	snprintf(opt, sizeof(opt), "size=%s", size);
	if (mount("tmpfs", f->mnt, "tmpfs", 0, opt) < 0) {
		fprintf(stderr, "mount tmpfs: %s\n", strerror(errno));
		f->mnt[0] = '\0';
		skip();
	}
}

/* Append batches of 100 records until the partition refuses them with ENOSPC. */
static void fill_until_enospc(struct st_partition *p)
{
	static uint8_t batch[16384];
	int64_t base;
	int rc = 0, len;

	for (int i = 0; i < 20000 && rc != -ENOSPC; i++) { /* bound: a hang guard */
		len = make_batch(batch, sizeof(batch), p->next_offset, 100, 1);
		rc = st_partition_append(p, batch, (uint32_t)len, &base);
		if (rc == -ENOBUFS)
			usleep(200);
	}
	assert_int_equal(rc, -ENOSPC);
}

static void test_writer_enospc_stops_partition(void **state)
{
	struct fixture *f = *state;
	struct st_partition *p;
	int64_t durable;

	mount_tiny(f, "2m");
	f->lc.index_max_bytes = 64 << 10;
	f->lc.preallocate = false;
	writer_start_cfg(f, f->mnt, &(struct st_writer_cfg){
		.cpu = -1, .direct = ST_DIRECT_AUTO, .huge = ST_HUGE_OFF, .flush_interval_ms = 0,
		.visibility = ST_VIS_DURABLE, .heal_interval_ms = -1, .log = quiet_log });
	assert_true(st_partition_open(&p, f->ld, "nospace", 0, &f->lc, &f->pc, NULL) >= 0);
	assert_int_equal(st_writer_attach(f->w, p), 0);
	fill_until_enospc(p);
	assert_int_equal(atomic_load(&p->err), -ENOSPC);
	durable = st_partition_hw(p, ST_VIS_DURABLE);
	assert_true(durable > 0);
	/* What was durable before the error reads back intact. */
	assert_int_equal(check_values(p, 0) >= durable, true);
	st_writer_destroy(f->w);
	st_partition_close(p);
	st_logdir_close(f->ld);
}

static uint64_t writer_heals(const struct st_writer *w)
{
	struct st_writer_stats st;

	st_writer_stats_get(w, &st);
	return st.heals;
}

/*
 * Disk full, then space again: the partition stops with ENOSPC, stays
 * stopped while the disk is full, and resumes by itself once a ballast file
 * is deleted; every batch the ring took -- those whose writes failed
 * included -- is in the log once, at its offset, and more go after it.
 */
static void test_writer_enospc_heals_when_space_returns(void **state)
{
	struct fixture *f = *state;
	static uint8_t batch[16384];
	char ballast[160];
	struct st_partition *p;
	int64_t base, taken;
	int rc, len, fd;

	mount_tiny(f, "8m");
	snprintf(ballast, sizeof(ballast), "%s/ballast", f->mnt);
	fd = open(ballast, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(posix_fallocate(fd, 0, 5 << 20), 0);
	close(fd);
	f->lc.index_max_bytes = 64 << 10;
	f->lc.preallocate = false;
	writer_start_cfg(f, f->mnt, &(struct st_writer_cfg){
		.cpu = -1, .direct = ST_DIRECT_AUTO, .huge = ST_HUGE_OFF, .flush_interval_ms = 0,
		.visibility = ST_VIS_DURABLE, .heal_interval_ms = 20, .log = quiet_log });
	assert_true(st_partition_open(&p, f->ld, "heal", 0, &f->lc, &f->pc, NULL) >= 0);
	assert_int_equal(st_writer_attach(f->w, p), 0);
	fill_until_enospc(p);
	taken = p->next_offset;
	assert_true(st_partition_hw(p, ST_VIS_WRITTEN) < taken);  /* some writes failed */
	usleep(200 * 1000);                     /* ten heal intervals, the disk still full */
	assert_int_equal(atomic_load(&p->err), -ENOSPC);
	assert_int_equal(writer_heals(f->w), 0);
	assert_int_equal(unlink(ballast), 0);
	for (int i = 0; i < 10000 && st_partition_hw(p, ST_VIS_DURABLE) < taken; i++)
		usleep(1000);                   /* hang guard */
	assert_int_equal(atomic_load(&p->err), 0);
	assert_true(writer_heals(f->w) >= 1);
	assert_true(st_partition_hw(p, ST_VIS_DURABLE) >= taken);
	for (int i = 0; i < 50; i++) {
		len = make_batch(batch, sizeof(batch), p->next_offset, 100, 2);
		while ((rc = st_partition_append(p, batch, (uint32_t)len, &base)) == -ENOBUFS)
			usleep(200);
		assert_int_equal(rc, 0);
	}
	wait_durable(p, p->next_offset);
	assert_int_equal(check_values(p, 0), p->next_offset);
	st_writer_destroy(f->w);
	assert_int_equal(st_partition_close(p), 0);
	assert_int_equal(st_logdir_close(f->ld), 0);
	assert_int_equal(st_verify_dir(fopen("/dev/null", "w"), f->mnt), 0);
}

/*
 * Producers that kick: the idle writer sleeps with no timeout (no group
 * commit interval, no retention), so the only way a record gets written
 * is the kick's doorbell.  Several rounds, each produced after the writer
 * has gone back to sleep.
 */
static void test_writer_kick_wakes_sleeping_writer(void **state)
{
	struct fixture *f = *state;
	static uint8_t batch[4096];
	struct st_partition *p;
	uint64_t sleeps;
	int64_t base;

	writer_start_kicked(f);
	assert_true(st_partition_open(&p, f->ld, "kick", 0, &f->lc, &f->pc, NULL) >= 0);
	assert_int_equal(st_writer_attach(f->w, p), 0);
	sleeps = wait_asleep(f->w, 0);
	for (int round = 0; round < 20; round++) {
		int len = make_batch(batch, sizeof(batch), p->next_offset, 5, round);

		assert_int_equal(st_partition_append(p, batch, (uint32_t)len, &base), 0);
		st_writer_kick(f->w);
		wait_written(p, base + 5);
		/* The sync that follows (flush interval 0) makes it durable too. */
		wait_durable(p, base + 5);
		sleeps = wait_asleep(f->w, sleeps);
	}
	/* Asleep with nothing to do, it does not wake up on its own: no polling. */
	usleep(100000);
	assert_int_equal(writer_sleeps(f->w), sleeps);
	assert_int_equal(check_values(p, 0), 100);
	st_writer_destroy(f->w); /* the stop request rings the bell too */
	assert_int_equal(st_partition_close(p), 0);
	assert_int_equal(st_logdir_close(f->ld), 0);
}

/*
 * Attach and detach requests wake a sleeping writer; a partition fed by
 * an lcore (inbox set: its producer never kicks) is polled even though
 * the writer's producers kick.
 */
static void test_writer_kicked_still_polls_inbox_partitions(void **state)
{
	struct fixture *f = *state;
	static uint8_t batch[4096];
	struct st_partition *p, *q;
	int64_t base;
	int len;

	writer_start_kicked(f);
	assert_true(st_partition_open(&p, f->ld, "lcore", 0, &f->lc, &f->pc, NULL) >= 0);
	assert_true(st_partition_open(&q, f->ld, "lcore", 1, &f->lc, &f->pc, NULL) >= 0);
	assert_int_equal(st_writer_attach(f->w, p), 0);
	wait_asleep(f->w, 0);
	assert_int_equal(st_writer_attach(f->w, q), 0); /* served while it slept */
	p->inbox = (struct st_inbox *)f; /* opaque to the writer: only "an lcore feeds it" */
	st_writer_kick(f->w);             /* what the dataplane does once it sets inboxes */
	for (int i = 0; i < 10; i++) {
		len = make_batch(batch, sizeof(batch), p->next_offset, 3, i);
		assert_int_equal(st_partition_append(p, batch, (uint32_t)len, &base), 0);
		wait_written(p, base + 3); /* no kick: found by polling */
	}
	p->inbox = NULL;
	assert_int_equal(st_writer_detach(f->w, q), 0);
	assert_int_equal(st_partition_close(q), 0);
	wait_durable(p, 30); /* written is not yet durable: check_values reads to durable */
	assert_int_equal(check_values(p, 0), 30);
	st_writer_destroy(f->w);
	assert_int_equal(st_partition_close(p), 0);
	assert_int_equal(st_logdir_close(f->ld), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_writer_append_durable_and_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer_rolls_segments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer_roll_does_not_wait_for_old_sync, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_writer_tap_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer_receive_to_durable_histogram, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_writer_ring_full_never_blocks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer_no_flush_interval_never_stalls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer_enospc_stops_partition, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer_enospc_heals_when_space_returns, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_writer_kick_wakes_sleeping_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer_kicked_still_polls_inbox_partitions, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
