/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * crash_appender - the two halves of the SIGKILL crash test
 * (tests/storage/test_crash.sh).
 *
 *   crash_appender append DIR   append batches through a partition ring and a
 *                               writer thread, printing "DURABLE <offset>"
 *                               each time the durable watermark moves; runs
 *                               until killed
 *   crash_appender check DIR N  open (recover) the log, read every record
 *                               back, check offsets are contiguous from the
 *                               log start, every value is "v<offset>", and
 *                               the log end is >= N (acknowledged as
 *                               durable); prints "LEO <offset>"
 *
 * Record values name their own offset, so a lost, repeated or misplaced
 * record is caught without keeping any state outside the log.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "st_batch.h"
#include "st_log.h"
#include "st_partition.h"
#include "st_writer.h"

#define TOPIC "crash"

static void open_all(const char *dir, struct st_logdir **ld, struct st_partition **p,
		     struct st_log_recovery *rep)
{
	struct st_log_config lc;
	struct st_partition_cfg pc = { .ring_bytes = 4 << 20, .huge = ST_HUGE_AUTO };
	int rc;

	st_log_config_default(&lc);
	lc.segment_bytes = 256 << 10; /* many rolls */
	lc.index_interval_bytes = 1024;
	if ((rc = st_logdir_open(ld, dir)) < 0 ||
	    (rc = st_partition_open(p, *ld, TOPIC, 0, &lc, &pc, rep)) < 0) {
		fprintf(stderr, "crash_appender: open %s: %s\n", dir, strerror(-rc));
		exit(2);
	}
}

static int make_batch(uint8_t *buf, uint32_t cap, int64_t first, int n, unsigned pad)
{
	struct st_batch_builder b;
	char val[256];

	st_batch_builder_begin(&b, buf, cap, 1700000000000ll + first);
	for (int i = 0; i < n; i++) {
		int len = snprintf(val, sizeof(val), "v%lld", (long long)(first + i));

		/* Values past the offset text carry padding after a NUL. */
		memset(val + len, 0, pad);
		if (st_batch_builder_add(&b, 1700000000000ll + first + i, NULL, -1, val,
					 len + (int)pad, NULL, 0) < 0)
			return -1;
	}
	return st_batch_builder_finish(&b);
}

static int do_append(const char *dir)
{
	struct st_writer_cfg wc = { .cpu = -1, .direct = ST_DIRECT_AUTO, .huge = ST_HUGE_AUTO,
				    .flush_interval_ms = 2, .visibility = ST_VIS_DURABLE };
	static uint8_t batch[64 << 10];
	struct st_logdir *ld;
	struct st_partition *p;
	struct st_writer *w;
	int64_t base, acked = -1;
	unsigned seed = (unsigned)getpid();

	open_all(dir, &ld, &p, NULL);
	if (st_writer_create(&w, &wc) < 0 || st_writer_attach(w, p) < 0)
		return 2;
	printf("START %lld\n", (long long)p->next_offset);
	fflush(stdout);
	for (;;) {
		int n = 1 + rand_r(&seed) % 40;
		int len = make_batch(batch, sizeof(batch), p->next_offset, n, rand_r(&seed) % 200);
		int64_t d;

		while (st_partition_append(p, batch, (uint32_t)len, &base) == -ENOBUFS)
			usleep(50);
		/*
		 * Paced (about 5,000 batches a second, still several rolls
		 * between two kills): every round's check reads the whole log
		 * back, so an unpaced appender would make the test's run time
		 * grow with the square of the writer's speed.
		 */
		usleep(150);
		d = st_partition_hw(p, ST_VIS_DURABLE);
		if (d != acked) {
			acked = d;
			printf("DURABLE %lld\n", (long long)d);
			fflush(stdout);
		}
	}
}

/* Read [from, end) back and check every record names its offset. */
static int check_records(struct st_partition *p, int64_t from, int64_t end)
{
	static uint8_t buf[1 << 20];
	int64_t next = from;

	while (next < end) {
		struct st_log_range r;
		uint64_t pos = 0;
		int rc = st_log_read(p->log, next, sizeof(buf) / 2, end, &r);

		if (rc < 0 || r.length == 0 || r.length > sizeof(buf) ||
		    pread(r.fd, buf, r.length, (off_t)r.position) != (ssize_t)r.length) {
			fprintf(stderr, "check: read at %lld failed (%d)\n", (long long)next, rc);
			return -1;
		}
		while (pos < r.length) {
			struct st_batch_info bi;
			struct st_record_iter it;
			struct st_record rec;

			if (st_batch_validate(buf + pos, r.length - pos, 0, 0, &bi) != ST_BATCH_ERR_OK) {
				fprintf(stderr, "check: invalid batch at offset %lld\n", (long long)next);
				return -1;
			}
			st_record_iter_init(&it, buf + pos, &bi);
			while (st_record_iter_next(&it, &rec)) {
				char want[32];
				int len = snprintf(want, sizeof(want), "v%lld", (long long)rec.offset);

				if (rec.offset < next)
					continue;
				const char *v = rec.value;

				if (rec.offset != next || rec.value_len < len ||
				    memcmp(v, want, (size_t)len) != 0 ||
				    (rec.value_len > len && v[len] != '\0')) {
					fprintf(stderr, "check: offset %lld: got record %lld\n",
						(long long)next, (long long)rec.offset);
					return -1;
				}
				next++;
			}
			pos += st_batch_size(&bi);
		}
		st_log_range_put(&r);
	}
	return 0;
}

static int do_check(const char *dir, int64_t acked)
{
	struct st_log_recovery rep;
	struct st_logdir *ld;
	struct st_partition *p;
	int64_t leo;
	int bad;

	open_all(dir, &ld, &p, &rep);
	leo = p->next_offset;
	if (rep.truncated_at >= 0)
		printf("RECOVERY cut at offset %lld: %llu bytes (%s), %u later segment(s)\n",
		       (long long)rep.truncated_at, (unsigned long long)rep.truncated_bytes,
		       rep.reason ? rep.reason : "?", rep.segments_deleted);
	printf("LEO %lld (acknowledged durable %lld, %u segments)\n", (long long)leo,
	       (long long)acked, st_log_segment_count(p->log));
	bad = leo < acked;
	if (bad)
		fprintf(stderr, "check: log ends at %lld, but %lld was acknowledged durable\n",
			(long long)leo, (long long)acked);
	if (check_records(p, st_partition_log_start(p), leo) < 0)
		bad = 1;
	st_partition_close(p);
	st_logdir_close(ld);
	return bad;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "append"))
		return do_append(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "check"))
		return do_check(argv[2], strtoll(argv[3], NULL, 10));
	fprintf(stderr, "Usage: crash_appender append DIR | check DIR ACKED\n");
	return 2;
}
