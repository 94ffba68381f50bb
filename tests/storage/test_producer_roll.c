/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_producer_roll.c - idempotent producers' snapshots at segment rolls:
 * the writer thread writes the log's copy of the table at every roll, a
 * crash image reopens from the newest roll snapshot (de-duplication intact,
 * only the batches after it read), a snapshot above a cut tail is not used,
 * a corrupt one falls back to the one before, and retention and the durable
 * point bound how many stay.
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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "st_batch.h"
#include "st_log.h"
#include "st_partition.h"
#include "st_producer.h"
#include "st_writer.h"

#define PID_A 1001                  /* batches of 3 records */
#define PID_B 2002                  /* batches of 2 records */
#define EPOCH 4
#define NBATCH 60                   /* alternating A, B: ~10 segments of 1 KiB */
#define MAXF 256

struct fixture {
	char root[64];
	char crash[80];
	struct st_log_config lc;
	struct st_partition_cfg pc;
	/* What phase one appended, in order. */
	int64_t base[NBATCH];
	int64_t pid[NBATCH];
	int32_t seq[NBATCH];
	int n_rec[NBATCH];
	int64_t seg[MAXF];          /* segment bases of the crash image */
	int n_seg;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	strcpy(f->root, "/tmp/sluice-psnap.XXXXXX");
	assert_non_null(mkdtemp(f->root));
	snprintf(f->crash, sizeof(f->crash), "%s-crash", f->root);
	st_log_config_default(&f->lc);
	f->lc.segment_bytes = 1024;
	f->lc.index_max_bytes = 1024;
	f->pc = (struct st_partition_cfg){ .ring_bytes = 1 << 20, .huge = ST_HUGE_OFF,
					   .max_producers = 16 };
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[200];

	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", f->root, f->crash);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", f->root);
	free(f);
	return 0;
}

/* An idempotent batch of @n records (baseOffset 0, as produced). @return its size. */
static uint32_t idem_batch(uint8_t *buf, uint32_t cap, int64_t pid, int32_t seq, int n,
			   int64_t ts)
{
	struct st_batch_builder b;
	char val[40];
	int size;

	assert_int_equal(st_batch_builder_begin(&b, buf, cap, ts), 0);
	for (int i = 0; i < n; i++) {
		memset(val, 'a' + (seq + i) % 26, sizeof(val));
		assert_int_equal(st_batch_builder_add(&b, ts, NULL, -1, val, sizeof(val), NULL, 0),
				 0);
	}
	b.producer_id = pid;
	b.producer_epoch = EPOCH;
	b.base_sequence = seq;
	size = st_batch_builder_finish(&b);
	assert_true(size > 0);
	return (uint32_t)size;
}

/* Batch @i of phase one: A and B alternate, each in sequence. */
static void plan(struct fixture *f, int i)
{
	f->pid[i] = i % 2 ? PID_B : PID_A;
	f->n_rec[i] = i % 2 ? 2 : 3;
	f->seq[i] = i < 2 ? 0 : f->seq[i - 2] + f->n_rec[i - 2];
}

/* Offsets named `<20 digits><ext>` in @dir, ascending.  @return how many. */
static int list_offsets(const char *dir, const char *ext, int64_t *out, int cap)
{
	char cmd[256];
	FILE *ls;
	int n = 0;
	long long b;

	snprintf(cmd, sizeof(cmd), "ls %s | grep '^[0-9]\\{20\\}%s$' | sort", dir, ext);
	ls = popen(cmd, "r");
	assert_non_null(ls);
	while (n < cap && fscanf(ls, "%lld%*s\n", &b) == 1)
		out[n++] = b;
	pclose(ls);
	return n;
}

/*
 * Until every batch is written and every rolled segment trimmed and synced
 * (its O_DIRECT padding gone): what a kill then leaves behind is the whole
 * log.  The bound is a hang guard, not a timing check.
 */
static void wait_settled(struct st_writer *w, struct st_partition *p)
{
	struct st_writer_stats st;

	for (int i = 0; i < 10000; i++) {
		st_writer_stats_get(w, &st);
		if (st_partition_hw(p, ST_VIS_WRITTEN) >= p->next_offset &&
		    st.segments_synced == st.rolls)
			break;
		usleep(1000);
	}
	assert_true(st_partition_hw(p, ST_VIS_WRITTEN) >= p->next_offset);
	assert_int_equal(st.segments_synced, st.rolls);
}

/*
 * Phase one: the real writer thread rolls ~10 segments of idempotent
 * batches, with no group commit (so the recovery point stays behind and
 * the roll snapshots above it stay); the root is copied to f->crash while
 * the partition is open (no clean close, no close snapshot: what a kill
 * leaves), then closed.
 */
static void make_crash_image(struct fixture *f)
{
	struct st_writer_cfg wc = { .cpu = -1, .direct = ST_DIRECT_AUTO, .huge = ST_HUGE_OFF,
				    .flush_interval_ms = 600000, .visibility = ST_VIS_WRITTEN };
	static uint8_t buf[4096];
	struct st_logdir *d;
	struct st_writer *w;
	struct st_partition *p;
	int64_t snaps[MAXF];
	char dir[128], cmd[256];
	int n_snap;

	assert_int_equal(st_logdir_open(&d, f->root), 0);
	assert_true(st_writer_create(&w, &wc) >= 0);
	assert_true(st_partition_open(&p, d, "t", 0, &f->lc, &f->pc, NULL) >= 0);
	assert_int_equal(st_writer_attach(w, p), 0);
	for (int i = 0; i < NBATCH; i++) {
		uint32_t len;

		plan(f, i);
		len = idem_batch(buf, sizeof(buf), f->pid[i], f->seq[i], f->n_rec[i], 1000 + i);
		while (st_partition_append(p, buf, len, &f->base[i]) == -ENOBUFS)
			usleep(100);
	}
	wait_settled(w, p);
	snprintf(dir, sizeof(dir), "%s/t-0", f->root);
	f->n_seg = list_offsets(dir, ".log", f->seg, MAXF);
	n_snap = list_offsets(dir, ".snapshot", snaps, MAXF);
	assert_true(f->n_seg >= 5);
	/* The roll that opened the active segment wrote the newest snapshot. */
	assert_true(n_snap >= 1);
	assert_int_equal(snaps[n_snap - 1], f->seg[f->n_seg - 1]);
	snprintf(cmd, sizeof(cmd), "cp -a %s %s", f->root, f->crash);
	assert_int_equal(system(cmd), 0);
	st_writer_destroy(w);
	assert_int_equal(st_partition_close(p), 0);
	assert_int_equal(st_logdir_close(d), 0);
}

/* Batches of phase one at offsets in [@from, @to). */
static int64_t batches_in(const struct fixture *f, int64_t from, int64_t to)
{
	int64_t n = 0;

	for (int i = 0; i < NBATCH; i++)
		n += f->base[i] >= from && f->base[i] < to;
	return n;
}

/* Resend batch @i of phase one to @p. @return st_partition_append's code, *@base. */
static int resend(struct fixture *f, struct st_partition *p, int i, int64_t *base)
{
	static uint8_t buf[4096];
	uint32_t len = idem_batch(buf, sizeof(buf), f->pid[i], f->seq[i], f->n_rec[i], 5000);

	return st_partition_append(p, buf, len, base);
}

static int send_seq(struct st_partition *p, int64_t pid, int32_t seq, int n, int64_t *base)
{
	static uint8_t buf[4096];
	uint32_t len = idem_batch(buf, sizeof(buf), pid, seq, n, 5000);

	return st_partition_append(p, buf, len, base);
}

static void test_producer_roll_crash_reopens_from_roll_snapshot(void **state)
{
	struct fixture *f = *state;
	struct st_log_recovery rep;
	struct st_logdir *d;
	struct st_partition *p;
	int64_t last_seg, base, end;
	int found = 0;

	make_crash_image(f);
	last_seg = f->seg[f->n_seg - 1];
	assert_int_equal(st_logdir_open(&d, f->crash), 0);
	assert_false(st_logdir_was_clean(d));
	memset(&rep, 0, sizeof(rep));
	assert_true(st_partition_open(&p, d, "t", 0, &f->lc, &f->pc, &rep) >= 0);
	end = p->next_offset;
	assert_int_equal(end, f->base[NBATCH - 1] + f->n_rec[NBATCH - 1]);
	/* Loaded the newest roll snapshot; read only the batches after it. */
	assert_int_equal(rep.producer_snapshot, last_seg);
	assert_int_equal(rep.producer_batches_read, batches_in(f, last_seg, end));
	assert_true(rep.producer_batches_read < NBATCH);
	assert_int_equal(rep.producer_snapshots_bad, 0);

	/* The last five batches of each producer are duplicates with their offsets... */
	for (int i = NBATCH - 1; i >= 0 && found < 10; i--, found++) {
		assert_int_equal(resend(f, p, i, &base), ST_APPEND_DUPLICATE);
		assert_int_equal(base, f->base[i]);
	}
	/* ...the sixth last is no longer cached: out of order, as in Kafka. */
	assert_int_equal(resend(f, p, NBATCH - 11, &base), ST_ERR_OUT_OF_ORDER);
	/* The next sequence is appended at the log end, a gap is refused. */
	assert_int_equal(send_seq(p, PID_A, f->seq[NBATCH - 2] + 3, 1, &base), 0);
	assert_int_equal(base, end);
	assert_int_equal(send_seq(p, PID_B, f->seq[NBATCH - 1] + 5, 1, &base),
			 ST_ERR_OUT_OF_ORDER);
	assert_int_equal(p->next_offset, end + 1);
	assert_int_equal(st_partition_close(p), 0);
	assert_int_equal(st_logdir_close(d), 0);
}

static void test_producer_roll_snapshot_above_cut_tail_ignored(void **state)
{
	struct fixture *f = *state;
	struct st_log_recovery rep;
	struct st_logdir *d;
	struct st_partition *p;
	int64_t cut_seg, last_seg, end, base;
	int first = -1;
	char path[160];
	uint8_t h[ST_BATCH_HEADER_SIZE];
	struct st_batch_info bi;
	enum st_batch_err e;
	int fd;

	make_crash_image(f);
	cut_seg = f->seg[f->n_seg - 2];
	last_seg = f->seg[f->n_seg - 1];
	/* Tear the second batch of the segment before the active one. */
	snprintf(path, sizeof(path), "%s/t-0/%020lld.log", f->crash, (long long)cut_seg);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, h, sizeof(h), 0), sizeof(h));
	e = st_batch_header_read(h, sizeof(h), &bi);
	assert_true(e == ST_BATCH_ERR_OK || e == ST_BATCH_ERR_TRUNCATED);
	assert_int_equal(ftruncate(fd, (off_t)st_batch_size(&bi) + 20), 0);
	close(fd);
	for (int i = 0; i < NBATCH && first < 0; i++)
		if (f->base[i] == cut_seg)
			first = i;
	assert_true(first >= 0);

	assert_int_equal(st_logdir_open(&d, f->crash), 0);
	memset(&rep, 0, sizeof(rep));
	assert_true(st_partition_open(&p, d, "t", 0, &f->lc, &f->pc, &rep) >= 0);
	end = p->next_offset;
	assert_int_equal(end, f->base[first + 1]);
	assert_int_equal(rep.truncated_at, end);
	/* The newest snapshot is past the cut: deleted, the one at the cut segment used. */
	assert_int_equal(rep.producer_snapshot, cut_seg);
	assert_int_equal(rep.producer_batches_read, 1);
	snprintf(path, sizeof(path), "%s/t-0/%020lld.snapshot", f->crash, (long long)last_seg);
	assert_int_equal(access(path, F_OK), -1);
	/* The batch kept is a duplicate; the one cut is new again, not a duplicate. */
	assert_int_equal(resend(f, p, first, &base), ST_APPEND_DUPLICATE);
	assert_int_equal(base, f->base[first]);
	assert_int_equal(resend(f, p, first + 1, &base), 0);
	assert_int_equal(base, end);
	/* A gap after the batch kept is refused. */
	assert_int_equal(send_seq(p, f->pid[first], f->seq[first] + f->n_rec[first] + 7, 1, &base),
			 ST_ERR_OUT_OF_ORDER);
	assert_int_equal(st_partition_close(p), 0);
	assert_int_equal(st_logdir_close(d), 0);
}

/* Append batch @i (pid A only, in sequence) to @p's log directly, synchronously. */
static void log_put(struct st_partition *p, int i)
{
	static uint8_t buf[4096];
	uint32_t len = idem_batch(buf, sizeof(buf), PID_A, i * 3, 3, 1000 + i);

	st_batch_assign(buf, st_log_leo(p->log), 0);
	assert_true(st_log_append(p->log, buf, len, 1000 + i) >= 0);
}

static void test_producer_roll_snapshots_retention_and_durable_bound(void **state)
{
	struct fixture *f = *state;
	struct st_log_retain_result res;
	struct st_producers t;
	const struct st_producer *e;
	struct st_logdir *d;
	struct st_partition *p;
	int64_t segs[MAXF], snaps[MAXF], loaded;
	unsigned int bad = 0;
	char dir[128], path[192];
	int n_seg, n_snap, fd;

	assert_int_equal(st_logdir_open(&d, f->root), 0);
	assert_true(st_partition_open(&p, d, "t", 0, &f->lc, &f->pc, NULL) >= 0);
	for (int i = 0; i < 40; i++)
		log_put(p, i);
	snprintf(dir, sizeof(dir), "%s/t-0", f->root);
	n_seg = list_offsets(dir, ".log", segs, MAXF);
	n_snap = list_offsets(dir, ".snapshot", snaps, MAXF);
	assert_true(n_seg >= 6);
	/* Nothing synced since the open: every roll's snapshot is kept. */
	assert_int_equal(n_snap, n_seg - 1);
	for (int i = 0; i < n_snap; i++)
		assert_int_equal(snaps[i], segs[i + 1]);

	/* A corrupt newest snapshot: the one before it is loaded. */
	snprintf(path, sizeof(path), "%s/%020lld.snapshot", dir, (long long)snaps[n_snap - 1]);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "\x7f", 1, 12), 1);
	close(fd);
	assert_int_equal(st_producers_init(&t, 16, 0), 0);
	assert_int_equal(st_producers_rebuild(&t, p->log, &bad, &loaded),
			 40 - (snaps[n_snap - 2] / 3));
	assert_int_equal(loaded, snaps[n_snap - 2]);
	assert_int_equal(bad, 1);
	e = st_producers_find(&t, PID_A);
	assert_non_null(e);
	assert_int_equal(e->n, ST_PRODUCER_BATCHES);
	assert_int_equal(e->b[(e->head + e->n - 1) % ST_PRODUCER_BATCHES].last_seq, 40 * 3 - 1);
	st_producers_free(&t);

	/* Retention moves the log start to the fourth segment: snapshots below it go. */
	st_log_set_delete_below(p->log, segs[3]);
	assert_int_equal(st_log_retain(p->log, 2000, &res), 3);
	assert_int_equal(res.log_start, segs[3]);
	n_snap = list_offsets(dir, ".snapshot", snaps, MAXF);
	assert_int_equal(n_snap, n_seg - 4);            /* the corrupt newest was deleted */
	assert_int_equal(snaps[0], segs[3]);

	/* Once the log is durable up to a roll, the snapshots before it are superseded. */
	assert_int_equal(st_log_sync(p->log), 0);
	assert_int_equal(st_log_roll(p->log, 3000), 0);
	n_snap = list_offsets(dir, ".snapshot", snaps, MAXF);
	assert_int_equal(n_snap, 1);
	assert_int_equal(snaps[0], st_log_leo(p->log));
	assert_int_equal(st_log_snapshot_errors(p->log, NULL), 0);
	assert_int_equal(st_partition_close(p), 0);
	assert_int_equal(st_logdir_close(d), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_producer_roll_crash_reopens_from_roll_snapshot,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_producer_roll_snapshot_above_cut_tail_ignored,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_producer_roll_snapshots_retention_and_durable_bound, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
