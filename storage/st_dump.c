/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * st_dump.c - offline inspection of segment files for `sluice dump-log`
 * and `sluice verify` (kafka-dump-log.sh's output style).  Reads only; the
 * one place in storage that prints.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "st_dump.h"
#include "st_endian.h"
#include "st_log_int.h"

static const char *const codec_names[] = { "none", "gzip", "snappy", "lz4", "zstd" };

/* A .log file read batch by batch. */
struct batch_file {
	int fd;
	uint64_t size;
	uint8_t *buf;
	size_t cap;
	const char *why;           /* why the last read failed */
};

static int bf_open(struct batch_file *bf, const char *path)
{
	struct stat st;

	memset(bf, 0, sizeof(*bf));
	bf->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (bf->fd < 0 || fstat(bf->fd, &st) < 0)
		return -errno;
	bf->size = (uint64_t)st.st_size;
	return 0;
}

static void bf_close(struct batch_file *bf)
{
	if (bf->fd >= 0)
		close(bf->fd);
	free(bf->buf);
}

/*
 * Read the batch at @pos into bf->buf.  @return 0 (*@verr = validation
 * result, CRC included), 1 at the end of the file, -EBADMSG when it is torn
 * or its header does not parse (bf->why), -errno.
 */
static int bf_next(struct batch_file *bf, uint64_t pos, struct st_batch_info *bi,
		   enum st_batch_err *verr)
{
	uint8_t hdr[ST_BATCH_HEADER_SIZE];
	enum st_batch_err err;
	uint32_t size;

	if (pos >= bf->size)
		return 1;
	bf->why = "torn batch header";
	if (bf->size - pos < sizeof(hdr))
		return -EBADMSG;
	if (pread(bf->fd, hdr, sizeof(hdr), (off_t)pos) != (ssize_t)sizeof(hdr))
		return -EIO;
	err = st_batch_header_read(hdr, sizeof(hdr), bi);
	bf->why = st_batch_err_str(err);
	if (err != ST_BATCH_ERR_OK && err != ST_BATCH_ERR_TRUNCATED)
		return -EBADMSG;
	size = st_batch_size(bi);
	bf->why = "batch extends past the end of the file";
	if (size > bf->size - pos)
		return -EBADMSG;
	if (size > bf->cap) {
		uint8_t *p = realloc(bf->buf, size);

		if (!p)
			return -ENOMEM;
		bf->buf = p;
		bf->cap = size;
	}
	if (pread(bf->fd, bf->buf, size, (off_t)pos) != (ssize_t)size)
		return -EIO;
	*verr = st_batch_validate(bf->buf, size, ST_BATCH_V_EXACT, 0, bi);
	return 0;
}

/* Text when every byte is printable, else hex. */
static void print_bytes(FILE *out, const void *data, int64_t len)
{
	const uint8_t *p = data;
	bool text = true;

	if (!data || len < 0) {
		fputs("null", out);
		return;
	}
	for (int64_t i = 0; i < len && text; i++)
		text = isprint(p[i]) || p[i] == ' ';
	if (text) {
		fprintf(out, "%.*s", (int)len, (const char *)p);
		return;
	}
	fputs("0x", out);
	for (int64_t i = 0; i < len; i++)
		fprintf(out, "%02x", p[i]);
}

static void print_batch(FILE *out, const struct st_batch_info *bi, uint64_t pos, bool valid)
{
	bool lat = bi->attributes & ST_BATCH_ATTR_LOG_APPEND_TIME;
	int codec = bi->attributes & ST_BATCH_ATTR_CODEC_MASK;
	int32_t last_seq = bi->base_sequence < 0 ? -1 : bi->base_sequence + bi->last_offset_delta;

	fprintf(out, "baseOffset: %" PRId64 " lastOffset: %" PRId64 " count: %" PRId32
		" baseSequence: %" PRId32 " lastSequence: %" PRId32 " producerId: %" PRId64
		" producerEpoch: %d partitionLeaderEpoch: %" PRId32
		" isTransactional: %s isControl: %s position: %" PRIu64 " %s: %" PRId64
		" baseTimestamp: %" PRId64 " maxTimestamp: %" PRId64 " size: %" PRIu32
		" magic: %d compresscodec: %s crc: %" PRIu32 " isvalid: %s\n",
		bi->base_offset, st_batch_last_offset(bi), bi->records_count, bi->base_sequence,
		last_seq, bi->producer_id, bi->producer_epoch, bi->leader_epoch,
		bi->attributes & ST_BATCH_ATTR_TRANSACTIONAL ? "true" : "false",
		bi->attributes & ST_BATCH_ATTR_CONTROL ? "true" : "false", pos,
		lat ? "LogAppendTime" : "CreateTime", bi->max_timestamp, bi->base_timestamp,
		bi->max_timestamp, st_batch_size(bi), bi->magic,
		codec < 5 ? codec_names[codec] : "unknown", bi->crc, valid ? "true" : "false");
}

static void print_records(FILE *out, const uint8_t *batch, const struct st_batch_info *bi)
{
	bool lat = bi->attributes & ST_BATCH_ATTR_LOG_APPEND_TIME;
	struct st_record_header h;
	struct st_record_iter it;
	struct st_record rec;
	const uint8_t *hp;

	if (bi->attributes & ST_BATCH_ATTR_CODEC_MASK) {
		fprintf(out, "| records compressed (%s): not shown\n",
			codec_names[(bi->attributes & ST_BATCH_ATTR_CODEC_MASK) % 5]);
		return;
	}
	st_record_iter_init(&it, batch, bi);
	while (st_record_iter_next(&it, &rec)) {
		fprintf(out, "| offset: %" PRId64 " %s: %" PRId64 " keySize: %" PRId32
			" valueSize: %" PRId32 " headers: [", rec.offset,
			lat ? "LogAppendTime" : "CreateTime", rec.timestamp, rec.key_len,
			rec.value_len);
		hp = rec.headers;
		for (uint32_t i = 0; st_record_header_next(&rec, &hp, &h); i++) {
			fputs(i ? ", " : "", out);
			print_bytes(out, h.key, h.key_len);
			fputc('=', out);
			print_bytes(out, h.value, h.value_len);
		}
		fputs("] key: ", out);
		print_bytes(out, rec.key, rec.key_len);
		fputs(" payload: ", out);
		print_bytes(out, rec.value, rec.value_len);
		fputc('\n', out);
	}
	if (it.err)
		fprintf(out, "| records do not decode: %s\n", strerror(-it.err));
}

static int dump_batches(FILE *out, const char *path, bool records)
{
	struct st_batch_info bi;
	struct batch_file bf;
	enum st_batch_err verr;
	uint64_t pos = 0;
	int rc, bad = 0;

	rc = bf_open(&bf, path);
	if (rc < 0)
		goto out;
	while ((rc = bf_next(&bf, pos, &bi, &verr)) == 0) {
		print_batch(out, &bi, pos, verr == ST_BATCH_ERR_OK);
		if (verr != ST_BATCH_ERR_OK) {
			fprintf(out, "| invalid: %s\n", st_batch_err_str(verr));
			bad = 1;
		} else if (records) {
			print_records(out, bf.buf, &bi);
		}
		pos += st_batch_size(&bi);
	}
	if (rc == -EBADMSG) {
		fprintf(out, "Found %" PRIu64 " invalid bytes at the end of %s (%s)\n",
			bf.size - pos, path, bf.why);
		bad = 1;
	}
	rc = rc == 1 || rc == -EBADMSG ? bad : rc;
out:
	bf_close(&bf);
	return rc;
}

/* Base offset from a segment file name (for index dumps). */
static int64_t path_base(const char *path)
{
	const char *name = strrchr(path, '/');

	return strtoll(name ? name + 1 : path, NULL, 10);
}

static int dump_index(FILE *out, const char *path, bool time)
{
	uint32_t es = time ? ST_INDEX_TIME_ENTRY : ST_INDEX_OFFSET_ENTRY;
	int64_t base = path_base(path);
	uint8_t e[ST_INDEX_TIME_ENTRY];
	int rc = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fread(e, es, 1, f) == 1) {
		if (time)
			fprintf(out, "timestamp: %" PRId64 " offset: %" PRId64 "\n",
				(int64_t)st_be64_load(e), base + st_be32_load(e + 8));
		else
			fprintf(out, "offset: %" PRId64 " position: %" PRIu32 "\n",
				base + st_be32_load(e), st_be32_load(e + 4));
	}
	if (ferror(f))
		rc = -EIO;
	fclose(f);
	return rc;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

int st_dump_log(FILE *out, const char *path, bool records)
{
	fprintf(out, "Dumping %s\n", path);
	if (ends_with(path, ".index"))
		return dump_index(out, path, false);
	if (ends_with(path, ".timeindex"))
		return dump_index(out, path, true);
	fprintf(out, "Log starting offset: %" PRId64 "\n", path_base(path));
	return dump_batches(out, path, records);
}

/* ---- verify ---- */

struct verify {
	FILE *out;
	unsigned problems, partitions, segments;
	uint64_t batches;
};

/* A batch start found while walking a segment. */
struct batch_pos {
	uint64_t pos;
	int64_t base, last;
};

__attribute__((format(printf, 3, 4)))
static void problem(struct verify *v, const char *path, const char *fmt, ...)
{
	va_list ap;

	fprintf(v->out, "%s: ", path);
	va_start(ap, fmt);
	vfprintf(v->out, fmt, ap);
	va_end(ap);
	fputc('\n', v->out);
	v->problems++;
}

static const struct batch_pos *batch_find(const struct batch_pos *b, size_t n, uint64_t pos)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (b[mid].pos == pos)
			return &b[mid];
		if (b[mid].pos < pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Read a whole index file; NULL (and a problem) when missing or ragged. */
static uint8_t *index_load(struct verify *v, const char *path, uint32_t es, size_t *n)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		problem(v, path, "cannot open: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if ((uint64_t)st.st_size % es)
		problem(v, path, "size %lld is not a multiple of %u", (long long)st.st_size, es);
	*n = (size_t)st.st_size / es;
	buf = malloc(*n * es + 1);
	if (buf && pread(fd, buf, *n * es, 0) != (ssize_t)(*n * es)) {
		problem(v, path, "read error");
		free(buf);
		buf = NULL;
	}
	close(fd);
	/* All-zero entries at the end are the preallocation of an active (or
	 * crashed) segment's index, not entries. */
	while (buf && *n) {
		size_t i;

		for (i = 0; i < es && !buf[(*n - 1) * es + i]; i++)
			;
		if (i < es)
			break;
		(*n)--;
	}
	return buf;
}

static void verify_offset_index(struct verify *v, const char *path, int64_t base,
				const struct batch_pos *b, size_t nb)
{
	const struct batch_pos *bp;
	uint32_t rel, pos, prev = 0;
	uint8_t *ix;
	size_t n;

	ix = index_load(v, path, ST_INDEX_OFFSET_ENTRY, &n);
	for (size_t i = 0; ix && i < n; i++) {
		rel = st_be32_load(ix + i * 8);
		pos = st_be32_load(ix + i * 8 + 4);
		bp = batch_find(b, nb, pos);
		if (i && rel <= prev)
			problem(v, path, "entry %zu: offset %" PRId64 " not increasing", i, base + rel);
		else if (!bp)
			problem(v, path, "entry %zu: position %" PRIu32 " is not a batch start", i, pos);
		else if (base + rel < bp->base || base + rel > bp->last)
			problem(v, path, "entry %zu: offset %" PRId64 " not in the batch at %" PRIu32,
				i, base + rel, pos);
		prev = rel;
	}
	free(ix);
}

static void verify_time_index(struct verify *v, const char *path, int64_t base, int64_t next)
{
	int64_t ts, prev_ts = INT64_MIN;
	uint8_t *ix;
	size_t n;

	ix = index_load(v, path, ST_INDEX_TIME_ENTRY, &n);
	for (size_t i = 0; ix && i < n; i++) {
		ts = (int64_t)st_be64_load(ix + i * 12);
		int64_t off = base + st_be32_load(ix + i * 12 + 8);

		if (ts <= prev_ts)
			problem(v, path, "entry %zu: timestamp %" PRId64 " not increasing", i, ts);
		else if (off < base || off >= next)
			problem(v, path, "entry %zu: offset %" PRId64 " outside the segment", i, off);
		prev_ts = ts;
	}
	free(ix);
}

/* Walk one segment's batches; *@expect is the next offset (-1: none yet). */
static int verify_segment(struct verify *v, const char *dir, int64_t base, int64_t *expect)
{
	struct batch_pos *b = NULL, *nbp;
	size_t nb = 0, cap = 0;
	struct st_batch_info bi;
	struct batch_file bf;
	enum st_batch_err verr;
	char path[4096];
	uint64_t pos = 0;
	int rc;

	st_segment_name(path, sizeof(path), dir, base, ".log");
	if (*expect >= 0 && base != *expect)
		problem(v, path, "base offset %" PRId64 ", expected %" PRId64, base, *expect);
	*expect = base;
	rc = bf_open(&bf, path);
	while (rc == 0 && (rc = bf_next(&bf, pos, &bi, &verr)) == 0) {
		if (verr != ST_BATCH_ERR_OK)
			problem(v, path, "batch at %" PRIu64 ": %s", pos, st_batch_err_str(verr));
		if (bi.base_offset != *expect)
			problem(v, path, "batch at %" PRIu64 ": baseOffset %" PRId64 ", expected %" PRId64,
				pos, bi.base_offset, *expect);
		if (nb == cap) {
			nbp = realloc(b, (cap = cap ? 2 * cap : 64) * sizeof(*b));
			if (!nbp) {
				rc = -ENOMEM;
				break;
			}
			b = nbp;
		}
		b[nb++] = (struct batch_pos){ pos, bi.base_offset, st_batch_last_offset(&bi) };
		*expect = st_batch_last_offset(&bi) + 1;
		pos += st_batch_size(&bi);
		v->batches++;
	}
	if (rc == -EBADMSG)
		problem(v, path, "%" PRIu64 " invalid bytes at %" PRIu64 " (%s)", bf.size - pos, pos,
			bf.why);
	else if (rc < 0)
		problem(v, path, "%s", strerror(-rc));
	bf_close(&bf);
	st_segment_name(path, sizeof(path), dir, base, ".index");
	verify_offset_index(v, path, base, b, nb);
	st_segment_name(path, sizeof(path), dir, base, ".timeindex");
	verify_time_index(v, path, base, *expect);
	free(b);
	v->segments++;
	return rc == -ENOMEM ? rc : 0;
}

static int verify_partition(struct verify *v, const char *dir)
{
	int64_t *bases, expect = -1;
	uint32_t n;
	int rc;

	rc = st_log_list_segments(dir, false, &bases, &n);
	if (rc < 0) {
		problem(v, dir, "cannot list: %s", strerror(-rc));
		return 0;
	}
	if (n == 0)
		problem(v, dir, "no segments");
	for (uint32_t i = 0; i < n && rc == 0; i++)
		rc = verify_segment(v, dir, bases[i], &expect);
	free(bases);
	v->partitions++;
	return rc;
}

/* "<topic>-<digits>" */
static bool partition_dir_name(const char *name)
{
	const char *dash = strrchr(name, '-');

	if (!dash || dash == name || !dash[1])
		return false;
	for (const char *p = dash + 1; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return false;
	}
	return true;
}

int st_verify_dir(FILE *out, const char *dir)
{
	struct verify v = { .out = out };
	int64_t *bases;
	uint32_t n;
	char path[4096];
	struct dirent *de;
	DIR *dh;
	int rc;

	rc = st_log_list_segments(dir, false, &bases, &n);
	if (rc < 0)
		return rc;
	free(bases);
	if (n) {
		rc = verify_partition(&v, dir);   /* a partition directory itself */
	} else {
		dh = opendir(dir);
		if (!dh)
			return -errno;
		while (rc == 0 && (de = readdir(dh))) {
			if (de->d_name[0] == '.' || !partition_dir_name(de->d_name))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			rc = verify_partition(&v, path);
		}
		closedir(dh);
	}
	fprintf(out, "verified %u partitions, %u segments, %" PRIu64 " batches: %u problems\n",
		v.partitions, v.segments, v.batches, v.problems);
	if (rc < 0)
		return rc;
	return v.problems ? 1 : 0;
}
