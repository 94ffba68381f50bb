/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * st_producer.c - idempotent producers' state of a partition: the table,
 * Kafka's sequence rules, snapshots and the rebuild from the log (see
 * st_producer.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "st_endian.h"
#include "st_file.h"
#include "st_log.h"
#include "st_producer.h"

#define SNAP_SUFFIX ".snapshot"
#define SNAP_VERSION 1
#define SNAP_HEADER 10               /* version i16, crc u32, entry count i32 */
#define SNAP_ENTRY 46                /* ProducerSnapshot v1 entry */
#define SNAP_MAX_ENTRIES (1u << 24)

/* ---- the table -------------------------------------------------------------- */

static uint32_t pid_hash(int64_t pid)
{
	uint64_t h = (uint64_t)pid * 0x9e3779b97f4a7c15ull;

	return (uint32_t)(h >> 32);
}

int st_producers_init(struct st_producers *t, uint32_t max_producers, int64_t expiration_ms)
{
	uint32_t cap = 8;

	memset(t, 0, sizeof(*t));
	t->expiration_ms = expiration_ms;
	if (max_producers == 0)
		return 0;
	if (max_producers > (1u << 28))
		return -EINVAL;
	while (cap / 4 * 3 < max_producers)
		cap <<= 1;
	t->slot = malloc((size_t)cap * sizeof(*t->slot));
	if (!t->slot)
		return -ENOMEM;
	for (uint32_t i = 0; i < cap; i++)
		t->slot[i].pid = -1;
	t->mask = cap - 1;
	t->max = max_producers;
	return 0;
}

int st_producers_clone(struct st_producers *dst, const struct st_producers *src)
{
	*dst = *src;
	dst->slot = NULL;
	if (!src->slot)
		return 0;
	dst->slot = malloc(((size_t)src->mask + 1) * sizeof(*dst->slot));
	if (!dst->slot)
		return -ENOMEM;
	memcpy(dst->slot, src->slot, ((size_t)src->mask + 1) * sizeof(*dst->slot));
	return 0;
}

void st_producers_free(struct st_producers *t)
{
	free(t->slot);
	t->slot = NULL;
	t->n = 0;
}

static struct st_producer *find_slot(const struct st_producers *t, int64_t pid)
{
	for (uint32_t i = pid_hash(pid) & t->mask;; i = (i + 1) & t->mask) {
		struct st_producer *e = &t->slot[i];

		if (e->pid == pid)
			return e;
		if (e->pid < 0)
			return NULL;
	}
}

const struct st_producer *st_producers_find(const struct st_producers *t, int64_t pid)
{
	return t->slot && pid >= 0 ? find_slot(t, pid) : NULL;
}

/* Backward-shift deletion keeps every probe chain unbroken. */
static void remove_slot(struct st_producers *t, struct st_producer *e)
{
	uint32_t i = (uint32_t)(e - t->slot), j = i;

	for (;;) {
		j = (j + 1) & t->mask;
		if (t->slot[j].pid < 0)
			break;
		uint32_t home = pid_hash(t->slot[j].pid) & t->mask;

		/* j's entry may move into the hole at i unless its home lies in (i, j]. */
		if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
			t->slot[i] = t->slot[j];
			i = j;
		}
	}
	t->slot[i].pid = -1;
	t->n--;
}

/* The producer idle the longest (by its batches' timestamps) makes room. */
static void evict_one(struct st_producers *t)
{
	struct st_producer *old = NULL;

	for (uint32_t i = 0; i <= t->mask; i++) {
		struct st_producer *e = &t->slot[i];

		if (e->pid >= 0 && (!old || e->last_ts < old->last_ts))
			old = e;
	}
	if (old) {
		remove_slot(t, old);
		t->evicted++;
	}
}

static struct st_producer *get_slot(struct st_producers *t, int64_t pid)
{
	struct st_producer *e = find_slot(t, pid);
	uint32_t i;

	if (e)
		return e;
	if (t->n >= t->max)
		evict_one(t);
	for (i = pid_hash(pid) & t->mask; t->slot[i].pid >= 0; i = (i + 1) & t->mask)
		;
	e = &t->slot[i];
	memset(e, 0, sizeof(*e));
	e->pid = pid;
	e->epoch = -1;
	t->n++;
	return e;
}

static int32_t seq_add(int32_t seq, int32_t n)
{
	/*
	 * Sequences wrap from INT32_MAX to 0 (Kafka's DefaultRecordBatch.incrementSequence).
	 * In 64 bits: a header replayed from a damaged log may carry any values
	 * (a negative lastOffsetDelta overflowed INT32_MAX - n; fuzz_recovery).
	 */
	int64_t s = (int64_t)seq + n;

	return (int32_t)(s > INT32_MAX ? s - INT32_MAX - 1 : s);
}

static const struct st_producer_batch *batch_at(const struct st_producer *e, unsigned int k)
{
	return &e->b[(e->head + k) % ST_PRODUCER_BATCHES];
}

static void push_batch(struct st_producer *e, const struct st_producer_batch *b)
{
	if (e->n == ST_PRODUCER_BATCHES) {
		e->head = (uint8_t)((e->head + 1) % ST_PRODUCER_BATCHES);
		e->n--;
	}
	e->b[(e->head + e->n) % ST_PRODUCER_BATCHES] = *b;
	e->n++;
}

/* @seq follows or equals @next in serial-number order over [0, INT32_MAX]. */
static bool seq_at_or_after(int32_t seq, int32_t next)
{
	uint32_t diff = ((uint32_t)seq - (uint32_t)next) & 0x7fffffffu;

	return diff < 0x40000000u;
}

enum st_producer_verdict st_producers_check_ex(const struct st_producers *t,
					       const struct st_batch_info *bi, bool gaps_ok,
					       struct st_producer_batch *dup)
{
	const struct st_producer *e;
	int32_t last_seq;

	if (!t->slot || bi->producer_id < 0 || !(e = find_slot(t, bi->producer_id)))
		return ST_PRODUCER_APPEND;
	if (t->expiration_ms > 0 && bi->max_timestamp - e->last_ts >= t->expiration_ms)
		return ST_PRODUCER_APPEND;              /* expired: as if unknown */
	last_seq = seq_add(bi->base_sequence, bi->last_offset_delta);
	if (bi->producer_epoch == e->epoch)
		for (unsigned int k = 0; k < e->n; k++) {
			const struct st_producer_batch *b = batch_at(e, k);

			if (b->first_seq == bi->base_sequence && b->last_seq == last_seq) {
				*dup = *b;
				return ST_PRODUCER_DUPLICATE;
			}
		}
	if (bi->producer_epoch < e->epoch)
		return ST_PRODUCER_FENCED;
	if (bi->producer_epoch > e->epoch)
		return bi->base_sequence == 0 || gaps_ok ? ST_PRODUCER_APPEND
							 : ST_PRODUCER_OUT_OF_ORDER;
	if (e->n) {
		int32_t next = seq_add(batch_at(e, e->n - 1u)->last_seq, 1);

		if (gaps_ok)
			return seq_at_or_after(bi->base_sequence, next) ? ST_PRODUCER_APPEND
									: ST_PRODUCER_STALE;
		if (bi->base_sequence != next)
			return ST_PRODUCER_OUT_OF_ORDER;
	}
	return ST_PRODUCER_APPEND;
}

static void update(struct st_producers *t, int64_t pid, int16_t epoch, int64_t ts,
		   const struct st_producer_batch *b)
{
	struct st_producer *e = get_slot(t, pid);

	/*
	 * Offsets only grow, so a batch at or below the newest one recorded is
	 * already here: the log commits the same batches again after the writer
	 * rewound a failed write (st_log_rewind).
	 */
	if (e->n && b->first_offset <= e->b[(e->head + e->n - 1) % ST_PRODUCER_BATCHES].last_offset)
		return;
	if (e->epoch != epoch) {
		e->epoch = epoch;
		e->n = 0;
		e->head = 0;
	}
	push_batch(e, b);
	e->last_ts = ts;
}

void st_producers_update(struct st_producers *t, const struct st_batch_info *bi,
			 int64_t base_offset)
{
	struct st_producer_batch b = {
		.first_seq = bi->base_sequence,
		.last_seq = seq_add(bi->base_sequence, bi->last_offset_delta),
		.first_offset = base_offset,
		.last_offset = base_offset + bi->last_offset_delta,
	};

	if (t->slot && bi->producer_id >= 0)
		update(t, bi->producer_id, bi->producer_epoch, bi->max_timestamp, &b);
}

/* ---- snapshots ---------------------------------------------------------------- */

static void put_entry(uint8_t *p, const struct st_producer *e, const struct st_producer_batch *b)
{
	st_be64_store(p, (uint64_t)e->pid);                    /* producer_id */
	st_be16_store(p + 8, (uint16_t)e->epoch);              /* epoch */
	st_be32_store(p + 10, (uint32_t)b->last_seq);          /* last_sequence */
	st_be64_store(p + 14, (uint64_t)b->last_offset);       /* last_offset */
	st_be32_store(p + 22, (uint32_t)(b->last_offset - b->first_offset)); /* offset_delta */
	st_be64_store(p + 26, (uint64_t)e->last_ts);           /* timestamp */
	st_be32_store(p + 34, (uint32_t)-1);                   /* coordinator_epoch */
	st_be64_store(p + 38, (uint64_t)-1);                   /* current_txn_first_offset */
}

/* Snapshot files of @dir, by offset ascending. @return count, or -errno. */
static int list_snapshots(const char *dir, int64_t **out)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int64_t *v = NULL;
	int n = 0, cap = 0;

	*out = NULL;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char *end;
		int64_t off;

		if (len != 20 + strlen(SNAP_SUFFIX) || strcmp(de->d_name + 20, SNAP_SUFFIX))
			continue;
		off = (int64_t)strtoll(de->d_name, &end, 10);
		if (end != de->d_name + 20 || off < 0)
			continue;
		if (n == cap) {
			int64_t *nv = realloc(v, (size_t)(cap = cap ? cap * 2 : 8) * sizeof(*v));

			if (!nv) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
		}
		int i = n++;

		for (; i > 0 && v[i - 1] > off; i--)
			v[i] = v[i - 1];
		v[i] = off;
	}
	closedir(d);
	*out = v;
	return n;
}

static void snapshot_path(char *buf, size_t size, const char *dir, int64_t offset)
{
	snprintf(buf, size, "%s/%020" PRId64 SNAP_SUFFIX, dir, offset);
}

int st_producers_snapshot(const struct st_producers *t, const char *dir, int64_t offset,
			  int64_t durable)
{
	char path[4096];
	uint32_t n = 0;
	uint8_t *buf, *p;
	int64_t *offs;
	int rc, k, keep;

	for (uint32_t i = 0; t->slot && i <= t->mask; i++)
		if (t->slot[i].pid >= 0)
			n += t->slot[i].n;
	buf = malloc(SNAP_HEADER + (size_t)n * SNAP_ENTRY);
	if (!buf)
		return -ENOMEM;
	p = buf + SNAP_HEADER;
	for (uint32_t i = 0; t->slot && i <= t->mask; i++) {
		const struct st_producer *e = &t->slot[i];

		for (unsigned int j = 0; e->pid >= 0 && j < e->n; j++, p += SNAP_ENTRY)
			put_entry(p, e, batch_at(e, j));
	}
	st_be16_store(buf, SNAP_VERSION);
	st_be32_store(buf + 6, n);
	st_be32_store(buf + 2, st_crc32c(0, buf + 6, (size_t)(p - buf - 6)));
	snapshot_path(path, sizeof(path), dir, offset);
	rc = st_file_replace(path, buf, (size_t)(p - buf));
	free(buf);
	if (rc)
		return rc;
	/*
	 * A crash keeps the log at least up to @durable, so the newest snapshot
	 * at or below it stays loadable and the older ones are never needed.
	 * The ones above it are kept: a crash may cut the log below the newest
	 * of them, and recovery then falls back to the next one down.
	 */
	k = list_snapshots(dir, &offs);
	for (keep = k; keep > 0 && offs[keep - 1] > durable; keep--)
		;
	for (int i = 0; i + 1 < keep; i++) {
		snapshot_path(path, sizeof(path), dir, offs[i]);
		unlink(path);
	}
	free(offs);
	return 0;
}

int st_producers_snapshots_delete_below(const char *dir, int64_t offset)
{
	char path[4096];
	int64_t *offs;
	int k = list_snapshots(dir, &offs), n = 0;

	for (int i = 0; i < k && offs[i] < offset; i++, n++) {
		snapshot_path(path, sizeof(path), dir, offs[i]);
		unlink(path);
	}
	free(offs);
	return k < 0 ? k : n;
}

/* Load one snapshot into @t (empty).  @return 0, -EBADMSG (corrupt), -errno. */
static int load_snapshot(struct st_producers *t, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;
	struct stat st;
	uint8_t *buf = NULL;
	uint32_t n;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if (st.st_size < SNAP_HEADER ||
	    st.st_size > SNAP_HEADER + (off_t)SNAP_MAX_ENTRIES * SNAP_ENTRY) {
		rc = -EBADMSG;
		goto out;
	}
	buf = malloc((size_t)st.st_size);
	if (!buf) {
		rc = -ENOMEM;
		goto out;
	}
	if (pread(fd, buf, (size_t)st.st_size, 0) != st.st_size) {
		rc = -EBADMSG;
		goto out;
	}
	n = st_be32_load(buf + 6);
	if (st_be16_load(buf) != SNAP_VERSION ||
	    (off_t)SNAP_HEADER + (off_t)n * SNAP_ENTRY != st.st_size ||
	    st_be32_load(buf + 2) != st_crc32c(0, buf + 6, (size_t)st.st_size - 6)) {
		rc = -EBADMSG;
		goto out;
	}
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *p = buf + SNAP_HEADER + (size_t)i * SNAP_ENTRY;
		int64_t pid = (int64_t)st_be64_load(p);
		int32_t delta = (int32_t)st_be32_load(p + 22);
		struct st_producer_batch b = {
			.last_seq = (int32_t)st_be32_load(p + 10),
			.last_offset = (int64_t)st_be64_load(p + 14),
		};

		if (pid < 0 || delta < 0 || b.last_seq < 0) {
			rc = -EBADMSG;
			goto out;
		}
		b.first_offset = b.last_offset - delta;
		b.first_seq = b.last_seq >= delta ? b.last_seq - delta
						  : INT32_MAX - (delta - b.last_seq - 1);
		update(t, pid, (int16_t)st_be16_load(p + 8), (int64_t)st_be64_load(p + 26), &b);
	}
out:
	if (rc == -EBADMSG) {
		/* A torn or foreign file: start from an empty table, the log tells the rest. */
		for (uint32_t i = 0; i <= t->mask; i++)
			t->slot[i].pid = -1;
		t->n = 0;
	}
	free(buf);
	close(fd);
	return rc;
}

/* Apply the batch headers of [@from, end) to @t.  @return batches, or -errno. */
static int64_t replay_log(struct st_producers *t, struct st_log *log, int64_t from)
{
	int64_t off = from, end = st_log_end_offset(log), n = 0;

	while (off < end) {
		struct st_log_range rg;
		uint64_t pos;
		int rc = st_log_read(log, off, 1u << 20, -1, &rg);

		if (rc < 0)
			return rc;
		if (rg.length == 0)
			break;
		for (pos = rg.position; pos < rg.position + rg.length;) {
			uint8_t h[ST_BATCH_HEADER_SIZE];
			struct st_batch_info bi;

			enum st_batch_err e;

			/* The header alone: TRUNCATED only says the records are not in @h. */
			if (pread(rg.fd, h, sizeof(h), (off_t)pos) != (ssize_t)sizeof(h) ||
			    ((e = st_batch_header_read(h, sizeof(h), &bi)) != ST_BATCH_ERR_OK &&
			     e != ST_BATCH_ERR_TRUNCATED) ||
			    pos + st_batch_size(&bi) > rg.position + rg.length) {
				st_log_range_put(&rg);
				return -EIO;
			}
			if (bi.producer_id >= 0 && !(bi.attributes & ST_BATCH_ATTR_CONTROL))
				st_producers_update(t, &bi, bi.base_offset);
			pos += st_batch_size(&bi);
			n++;
		}
		/* A damaged log whose batches do not move past @off: stop, never spin. */
		if (rg.next_offset <= off) {
			st_log_range_put(&rg);
			return -EIO;
		}
		off = rg.next_offset;
		st_log_range_put(&rg);
	}
	return n;
}

int64_t st_producers_rebuild(struct st_producers *t, struct st_log *log,
			     unsigned int *bad_snapshots, int64_t *loaded)
{
	const char *dir = st_log_dir(log);
	int64_t end = st_log_end_offset(log), start = st_log_start_offset(log), from = start;
	int64_t *offs;
	char path[4096];
	int k;

	*loaded = -1;
	k = list_snapshots(dir, &offs);
	if (k < 0)
		return k;
	for (int i = k; i-- > 0;) {
		snapshot_path(path, sizeof(path), dir, offs[i]);
		if (offs[i] > end || offs[i] < start) {
			unlink(path);                   /* beyond a cut tail, or below the log start */
			continue;
		}
		if (!t->slot || *loaded >= 0)
			continue;                       /* only stale ones are looked for now */
		int rc = load_snapshot(t, path);

		if (rc == 0) {
			*loaded = from = offs[i];
			continue;
		}
		if (rc == -EBADMSG) {
			(*bad_snapshots)++;
			unlink(path);
			continue;
		}
		free(offs);
		return rc;
	}
	free(offs);
	return t->slot ? replay_log(t, log, from) : 0;
}
