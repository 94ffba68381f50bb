/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * st_recovery.c - loading a partition log at open (Kafka's LogLoader and
 * LogSegment.recover) and the log directory's checkpoint files and
 * clean-shutdown marker.
 *
 * After a clean shutdown the files are trusted; each segment still gets
 * cheap checks (index sizes, the last index entry points at the batch it
 * names) and the last one a header scan from its last index entry, which
 * also yields LEO.  Any failed check falls back to a walk.  After an
 * unclean one, every segment holding offsets at or above the recovery
 * point is walked batch by batch (header, fits in the file, magic, CRC-32C,
 * contiguous offsets), its indexes rebuilt; at the first invalid batch the
 * .log is cut there and every later segment deleted, so a torn batch is
 * never served or kept.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "st_file.h"
#include "st_log_int.h"

/* ---- segment files of a partition directory ---- */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Base offset of "<20 digits><ext>", or -1. */
static int64_t name_base(const char *name, const char *ext)
{
	size_t len = strlen(name);
	int64_t base = 0;

	if (len != 20 + strlen(ext) || strcmp(name + 20, ext))
		return -1;
	for (int i = 0; i < 20; i++) {
		if (name[i] < '0' || name[i] > '9' || base > (INT64_MAX - 9) / 10)
			return -1;
		base = base * 10 + (name[i] - '0');
	}
	return base;
}

int st_log_list_segments(const char *dir, bool cleanup, int64_t **out, uint32_t *count)
{
	uint32_t n = 0, cap = 0;
	int64_t *bases = NULL, b;
	struct dirent *de;
	char path[4096];
	DIR *dh;

	dh = opendir(dir);
	if (!dh)
		return -errno;
	while ((de = readdir(dh))) {
		size_t len = strlen(de->d_name);

		if (cleanup && len > 8 && !strcmp(de->d_name + len - 8, ".deleted")) {
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			unlink(path);
			continue;
		}
		b = name_base(de->d_name, ".log");
		if (b < 0)
			continue;
		if (n == cap) {
			int64_t *nb = realloc(bases, (cap = cap ? 2 * cap : 16) * sizeof(*nb));

			if (!nb) {
				closedir(dh);
				free(bases);
				return -ENOMEM;
			}
			bases = nb;
		}
		bases[n++] = b;
	}
	closedir(dh);
	if (n)
		qsort(bases, n, sizeof(*bases), cmp_i64);
	*out = bases;
	*count = n;
	return 0;
}

/* ---- trusted segments: cheap checks ---- */

static bool index_size_ok(const struct st_index *ix)
{
	struct stat st;

	return fstat(ix->fd, &st) == 0 &&
	       (uint64_t)st.st_size == (uint64_t)st_index_entries(ix) * ix->entry_size;
}

/*
 * Scan headers from @pos (a batch start) to the end of the file: the first
 * batch has baseOffset @first_base or lastOffset @first_last (whichever is
 * >= 0), offsets are contiguous, the last batch ends exactly at the file
 * size.  Sets next_offset, max_ts, first_ts.  @return 0 or -EBADMSG.
 */
static int tail_scan(struct st_segment *seg, uint64_t pos, int64_t first_base, int64_t first_last)
{
	struct st_batch_info bi;
	int64_t expect = first_base;
	int rc;

	if (seg->size && st_segment_batch_at(seg, 0, seg->size, &bi) == 0)
		seg->first_ts = bi.max_timestamp;
	while ((rc = st_segment_batch_at(seg, pos, seg->size, &bi)) == 0) {
		if (expect >= 0 && bi.base_offset != expect)
			return -EBADMSG;
		if (expect < 0 && st_batch_last_offset(&bi) != first_last)
			return -EBADMSG;
		if (bi.max_timestamp > seg->max_ts) {
			seg->max_ts = bi.max_timestamp;
			seg->offset_of_max_ts = st_batch_last_offset(&bi);
		}
		expect = st_batch_last_offset(&bi) + 1;
		seg->next_offset = expect;
		pos += st_batch_size(&bi);
	}
	return rc == -ENODATA ? 0 : -EBADMSG;
}

static int trusted_check(struct st_segment *seg, bool last, int64_t next_base)
{
	uint32_t n = st_index_entries(&seg->oidx), nt = st_index_entries(&seg->tidx);
	uint32_t rel = 0, pos = 0, prel = 0, ppos = 0, trel = 0;
	int64_t ts = -1;

	if (!index_size_ok(&seg->oidx) || !index_size_ok(&seg->tidx))
		return -EBADMSG;
	if (n) {
		st_index_offset_entry(&seg->oidx, n - 1, &rel, &pos);
		if (n > 1)
			st_index_offset_entry(&seg->oidx, n - 2, &prel, &ppos);
		if (pos >= seg->size || (n > 1 && (rel <= prel || pos <= ppos)))
			return -EBADMSG;
	}
	if (nt) {
		st_index_time_entry(&seg->tidx, nt - 1, &ts, &trel);
		seg->max_ts = ts;
		seg->offset_of_max_ts = seg->base + trel;
	}
	if (!last) {
		seg->next_offset = next_base;
		if (!seg->size)
			return next_base == seg->base ? 0 : -EBADMSG;
		if (nt && seg->base + trel < next_base)
			return 0;
		/* No time index entry: find the max timestamp from the headers. */
		if (tail_scan(seg, 0, seg->base, -1) < 0 || seg->next_offset != next_base)
			return -EBADMSG;
		return 0;
	}
	if (tail_scan(seg, pos, n ? -1 : seg->base, seg->base + rel) < 0)
		return -EBADMSG;
	if (nt && seg->base + trel >= seg->next_offset)
		return -EBADMSG;
	seg->since_index = seg->size - pos;
	return 0;
}

/* ---- walking a segment ---- */

struct walk_buf {
	uint8_t *p;
	size_t cap;
};

/* Read and check the batch at @pos; NULL when valid, else why not. */
static const char *walk_batch(struct st_segment *seg, struct walk_buf *wb, uint64_t pos,
			      uint64_t file_size, int64_t expect, struct st_batch_info *bi)
{
	uint8_t hdr[ST_BATCH_HEADER_SIZE];
	enum st_batch_err err;
	uint32_t size;

	if (file_size - pos < sizeof(hdr))
		return "torn batch header";
	if (pread(seg->fd, hdr, sizeof(hdr), (off_t)pos) != (ssize_t)sizeof(hdr))
		return "read error";
	err = st_batch_header_read(hdr, sizeof(hdr), bi);
	if (err != ST_BATCH_ERR_OK && err != ST_BATCH_ERR_TRUNCATED)
		return st_batch_err_str(err);
	size = st_batch_size(bi);
	if (size > file_size - pos)
		return "batch extends past the end of the file";
	if (size > wb->cap) {
		uint8_t *p = realloc(wb->p, size);

		if (!p)
			return "out of memory";
		wb->p = p;
		wb->cap = size;
	}
	if (pread(seg->fd, wb->p, size, (off_t)pos) != (ssize_t)size)
		return "read error";
	err = st_batch_validate(wb->p, size, ST_BATCH_V_EXACT, 0, bi);
	if (err != ST_BATCH_ERR_OK)
		return st_batch_err_str(err);
	if (bi->base_offset != expect)
		return "offsets not contiguous";
	if (st_batch_last_offset(bi) - seg->base > INT32_MAX)
		return "offset out of the segment's range";
	return NULL;
}

/*
 * Rebuild @seg's indexes from its batches, expecting offsets from @expect.
 * @return 0 when every byte was valid, 1 when the .log was cut, -errno.
 */
static int walk_segment(struct st_segment *seg, struct walk_buf *wb, int64_t expect,
			const struct st_log_config *cfg, struct st_log_recovery *rep)
{
	uint64_t file_size = seg->size, pos = 0;
	struct st_batch_info bi;
	const char *why = NULL;

	st_index_reset(&seg->oidx);
	st_index_reset(&seg->tidx);
	seg->since_index = 0;
	seg->max_ts = seg->first_ts = seg->offset_of_max_ts = -1;
	seg->next_offset = seg->base;
	rep->segments_walked++;
	if (seg->base != expect)
		why = "segment base offset not contiguous with the previous segment";
	while (!why && pos < file_size) {
		why = walk_batch(seg, wb, pos, file_size, expect, &bi);
		if (why)
			break;
		st_segment_account(seg, &bi, pos, cfg);
		pos += st_batch_size(&bi);
		expect = st_batch_last_offset(&bi) + 1;
		rep->batches_walked++;
	}
	seg->size = pos;
	if (!why)
		return 0;
	rep->truncated_at = seg->next_offset;
	rep->truncated_segment = seg->base;
	rep->truncated_position = pos;
	rep->truncated_bytes = file_size - pos;
	rep->reason = why;
	if (ftruncate(seg->fd, (off_t)pos) < 0 || fdatasync(seg->fd) < 0)
		return -errno;
	return 1;
}

/* Delete the files of the segments @bases[from..n) (after a cut). */
static void delete_later(const char *dir, const int64_t *bases, uint32_t from, uint32_t n,
			 struct st_log_recovery *rep)
{
	static const char *const exts[] = { ".log", ".index", ".timeindex" };
	char path[4096];
	struct stat st;

	for (uint32_t i = from; i < n; i++) {
		for (size_t e = 0; e < 3; e++) {
			if (st_segment_name(path, sizeof(path), dir, bases[i], exts[e]) < 0)
				continue;
			if (e == 0 && stat(path, &st) == 0)
				rep->deleted_bytes += (uint64_t)st.st_size;
			unlink(path);
		}
		rep->segments_deleted++;
	}
}

/* Open segment @base, trusted when @walk is false and its checks pass. */
static int load_one(struct st_log *log, int64_t base, bool walk, bool last, int64_t next_base,
		    int64_t expect, struct walk_buf *wb, struct st_log_recovery *rep,
		    struct st_segment **out)
{
	struct st_segment *seg;
	int rc;

	if (!walk) {
		rc = st_segment_open(&seg, log->dir, base, false, false, &log->cfg);
		if (rc < 0)
			return rc;
		if (trusted_check(seg, last, next_base) == 0) {
			*out = seg;
			return 0;
		}
		st_segment_put(seg);
		rep->clean = false;
	}
	rc = st_segment_open(&seg, log->dir, base, true, true, &log->cfg);
	if (rc < 0)
		return rc;
	rc = walk_segment(seg, wb, expect, &log->cfg, rep);
	if (rc >= 0 && fdatasync(seg->fd) < 0)
		rc = -errno;
	if (rc < 0) {
		st_segment_put(seg);
		return rc;
	}
	*out = seg;
	return rc;
}

/* After loading: seal all but the last segment, make the last one active. */
static int load_finish(struct st_log *log, int64_t log_start)
{
	struct st_segment *seg;
	int rc = 0;

	for (uint32_t i = 0; i + 1 < log->nsegs && rc == 0; i++)
		rc = st_segment_seal(log->segs[i]);
	seg = st_log_active(log);
	if (rc == 0 && !seg->active)
		rc = st_segment_activate(seg, &log->cfg);
	if (rc < 0)
		return rc;
	for (uint32_t i = 0; i < log->nsegs; i++)
		log->segs[i]->readable = log->segs[i]->size;
	log->leo = seg->next_offset;
	if (log_start < log->segs[0]->base || log_start > log->leo)
		log_start = log->segs[0]->base;
	log->log_start = log_start;
	log->readable_end = log->leo;
	log->recovery_point = log->leo;
	return 0;
}

/* Size of segment @base's .log in @dir as found (0 when it cannot be read). */
static uint64_t seg_file_size(const char *dir, int64_t base)
{
	char path[4096];
	struct stat sb;

	if (st_segment_name(path, sizeof(path), dir, base, ".log") < 0 || stat(path, &sb) < 0)
		return 0;
	return (uint64_t)sb.st_size;
}

int st_log_load(struct st_log *log, bool clean, int64_t recovery_point, int64_t log_start,
		struct st_log_recovery *rep)
{
	struct walk_buf wb = { 0 };
	struct st_segment *seg;
	int64_t *bases = NULL, expect;
	uint64_t size;
	uint32_t n = 0, i;
	int rc;

	memset(rep, 0, sizeof(*rep));
	rep->clean = clean;
	rep->recovery_point = recovery_point < 0 ? 0 : recovery_point;
	rep->truncated_at = rep->truncated_segment = -1;
	rc = st_log_list_segments(log->dir, true, &bases, &n);
	if (rc < 0)
		return rc;
	for (i = 0; i < n; i++) {
		bool last = i + 1 == n;
		bool walk = !clean && (last || bases[i + 1] > rep->recovery_point);

		expect = i ? st_log_active(log)->next_offset : bases[0];
		if (bases[i] != expect) {
			/* A gap or overlap between segments: the rest cannot be served. */
			rep->clean = false;
			rep->truncated_at = expect;
			rep->truncated_segment = bases[i];
			rep->reason = "segment base offset not contiguous with the previous segment";
			delete_later(log->dir, bases, i, n, rep);
			break;
		}
		size = log->ld->progress ? seg_file_size(log->dir, bases[i]) : 0;
		rc = load_one(log, bases[i], walk, last, last ? -1 : bases[i + 1], expect, &wb, rep,
			      &seg);
		if (rc < 0)
			goto out;
		if (log->ld->progress)
			log->ld->progress(log->ld->progress_arg, size);
		if (st_log_seg_push(log, seg) < 0) {
			st_segment_put(seg);
			rc = -ENOMEM;
			goto out;
		}
		if (rc == 1) {
			rep->clean = false;
			delete_later(log->dir, bases, i + 1, n, rep);
			break;
		}
	}
	if (log->nsegs == 0) {
		rc = st_segment_open(&seg, log->dir, log_start > 0 ? log_start : 0, true, true,
				     &log->cfg);
		if (rc < 0)
			goto out;
		if (st_log_seg_push(log, seg) < 0) {
			st_segment_put(seg);
			rc = -ENOMEM;
			goto out;
		}
	}
	rc = load_finish(log, log_start);
	rep->segments = log->nsegs;
	if (log->ld->progress && rep->deleted_bytes)
		log->ld->progress(log->ld->progress_arg, rep->deleted_bytes); /* cut off: checked too */
out:
	free(wb.p);
	free(bases);
	return rc < 0 ? rc : 0;
}

/* ---- the log directory: checkpoints and the clean-shutdown marker ---- */

struct st_logdir_entry *st_logdir_entry(struct st_logdir *d, const char *topic, int32_t partition)
{
	struct st_logdir_entry *e;

	for (size_t i = 0; i < d->n; i++) {
		if (d->ents[i].partition == partition && !strcmp(d->ents[i].topic, topic))
			return &d->ents[i];
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 16;

		e = realloc(d->ents, cap * sizeof(*e));
		if (!e)
			return NULL;
		d->ents = e;
		d->cap = cap;
	}
	e = &d->ents[d->n];
	*e = (struct st_logdir_entry){ .partition = partition, .recovery_point = -1,
				       .log_start = -1 };
	e->topic = strdup(topic);
	if (!e->topic)
		return NULL;
	d->n++;
	return e;
}

/* Kafka's CheckpointFile: "0\n<count>\n" then "<topic> <partition> <offset>\n". */
static int ckpt_read(struct st_logdir *d, const char *name, bool recovery)
{
	char path[4096], line[512], topic[256];
	long long version, count, off;
	struct st_logdir_entry *e;
	int rc = -EINVAL, part;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", d->root, name);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	if (!fgets(line, sizeof(line), f) || sscanf(line, "%lld", &version) != 1 || version != 0)
		goto out;
	if (!fgets(line, sizeof(line), f) || sscanf(line, "%lld", &count) != 1 || count < 0)
		goto out;
	for (long long i = 0; i < count; i++) {
		if (!fgets(line, sizeof(line), f) ||
		    sscanf(line, "%255s %d %lld", topic, &part, &off) != 3 || part < 0)
			goto out;
		e = st_logdir_entry(d, topic, part);
		if (!e) {
			rc = -ENOMEM;
			goto out;
		}
		if (recovery)
			e->recovery_point = off;
		else
			e->log_start = off;
	}
	rc = 0;
out:
	fclose(f);
	return rc;
}

static void logdir_free(struct st_logdir *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->ents[i].topic);
	free(d->ents);
	free(d->root);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

int st_logdir_open(struct st_logdir **out, const char *root)
{
	struct st_logdir *d = calloc(1, sizeof(*d));
	char path[4096];
	int rc;

	if (!d)
		return -ENOMEM;
	pthread_mutex_init(&d->lock, NULL);
	d->root = strdup(root);
	rc = d->root ? 0 : -ENOMEM;
	if (rc == 0 && mkdir(root, 0755) < 0 && errno != EEXIST)
		rc = -errno;
	if (rc == 0)
		rc = ckpt_read(d, ST_LOG_RECOVERY_CKPT, true);
	if (rc == 0)
		rc = ckpt_read(d, ST_LOG_START_CKPT, false);
	if (rc == 0) {
		snprintf(path, sizeof(path), "%s/%s", root, ST_LOG_CLEAN_SHUTDOWN);
		d->was_clean = access(path, F_OK) == 0;
		/* From here on a crash is unclean (a crash while loading too: safe). */
		if (d->was_clean && (unlink(path) < 0 || st_fsync_dir(root) < 0))
			rc = -errno;
	}
	if (rc < 0) {
		logdir_free(d);
		return rc;
	}
	*out = d;
	return 0;
}

bool st_logdir_was_clean(const struct st_logdir *d)
{
	return d->was_clean;
}

void st_logdir_set_progress(struct st_logdir *d, st_logdir_progress_fn fn, void *arg)
{
	d->progress = fn;
	d->progress_arg = arg;
}

/* "<topic>-<digits>": a partition directory's name. */
static bool partition_dir_name(const char *name)
{
	const char *dash = strrchr(name, '-');

	return dash && dash > name && dash[1] && strspn(dash + 1, "0123456789") == strlen(dash + 1);
}

int st_logdir_scan(const char *root, uint32_t *partitions, uint64_t *log_bytes)
{
	DIR *dh = opendir(root);
	struct dirent *de;
	char dir[4096];

	*partitions = 0;
	*log_bytes = 0;
	if (!dh)
		return -errno;
	while ((de = readdir(dh))) {
		int64_t *bases = NULL;
		uint32_t n = 0;

		if (!partition_dir_name(de->d_name) ||
		    snprintf(dir, sizeof(dir), "%s/%s", root, de->d_name) >= (int)sizeof(dir) ||
		    st_log_list_segments(dir, false, &bases, &n) < 0)
			continue;
		if (n)
			(*partitions)++;
		for (uint32_t i = 0; i < n; i++)
			*log_bytes += seg_file_size(dir, bases[i]);
		free(bases);
	}
	closedir(dh);
	return 0;
}

static int ckpt_write(struct st_logdir *d, const char *name, bool recovery)
{
	char path[4096], tmp[4200];
	size_t count = 0;
	int rc = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", d->root, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	for (size_t i = 0; i < d->n; i++)
		count += (recovery ? d->ents[i].recovery_point : d->ents[i].log_start) >= 0;
	fprintf(f, "0\n%zu\n", count);
	for (size_t i = 0; i < d->n; i++) {
		const struct st_logdir_entry *e = &d->ents[i];
		int64_t v = recovery ? e->recovery_point : e->log_start;

		if (v >= 0)
			fprintf(f, "%s %" PRId32 " %" PRId64 "\n", e->topic, e->partition, v);
	}
	if (fflush(f) != 0 || fsync(fileno(f)) < 0)
		rc = -errno;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	return rc;
}

int st_logdir_checkpoint(struct st_logdir *d)
{
	int rc;

	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < d->n; i++) {
		struct st_logdir_entry *e = &d->ents[i];

		if (e->log) {
			e->recovery_point = st_log_recovery_point(e->log);
			e->log_start = st_log_start_offset(e->log);
		}
	}
	rc = ckpt_write(d, ST_LOG_RECOVERY_CKPT, true);
	if (rc == 0)
		rc = ckpt_write(d, ST_LOG_START_CKPT, false);
	if (rc == 0)
		rc = st_fsync_dir(d->root);
	pthread_mutex_unlock(&d->lock);
	return rc;
}

void st_logdir_set_dirty(struct st_logdir *d)
{
	pthread_mutex_lock(&d->lock);
	d->dirty = true;
	pthread_mutex_unlock(&d->lock);
}

int st_logdir_close(struct st_logdir *d)
{
	char path[4096];
	int rc = 0, fd;

	for (size_t i = 0; i < d->n; i++) {
		if (d->ents[i].log)
			return -EBUSY;
	}
	rc = st_logdir_checkpoint(d);
	/* The marker says every log was closed whole: not after an error. */
	if (!d->dirty && rc == 0) {
		snprintf(path, sizeof(path), "%s/%s", d->root, ST_LOG_CLEAN_SHUTDOWN);
		fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0 || fsync(fd) < 0)
			rc = -errno;
		if (fd >= 0)
			close(fd);
		if (rc == 0)
			rc = st_fsync_dir(d->root);
	}
	logdir_free(d);
	return rc;
}
