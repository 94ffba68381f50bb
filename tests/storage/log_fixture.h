/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * log_fixture.h - shared helpers of the partition log tests: temporary log
 * directories under /tmp, batches built with st_batch_builder, file sizes.
 */
#ifndef LOG_FIXTURE_H
#define LOG_FIXTURE_H


#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "st_batch.h"
#include "st_log.h"

struct lf {
	char root[64];
	struct st_logdir *d;
	struct st_log *log;
	struct st_log_config cfg;
	struct st_log_recovery rep;
};

static inline int lf_rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static inline void lf_rmrf(const char *dir)
{
	nftw(dir, lf_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static inline void lf_mkroot(struct lf *f)
{
	strcpy(f->root, "/tmp/sluice-log-XXXXXX");
	if (!mkdtemp(f->root))
		abort();
	st_log_config_default(&f->cfg);
}

/* Open the directory and the log "t"/0 with f->cfg. */
static inline int lf_open(struct lf *f)
{
	int rc = st_logdir_open(&f->d, f->root);

	if (rc == 0)
		rc = st_log_open(&f->log, f->d, "t", 0, &f->cfg, &f->rep);
	return rc;
}

static inline int lf_close(struct lf *f)
{
	int rc = 0, r;

	if (f->log)
		rc = st_log_close(f->log);
	f->log = NULL;
	if (f->d) {
		r = st_logdir_close(f->d);
		rc = rc ? rc : r;
	}
	f->d = NULL;
	return rc;
}

/*
 * Close, then make it look like a crash before anything was flushed: no
 * clean-shutdown marker, no recovery point.
 */
static inline void lf_crash(struct lf *f)
{
	char p[128];

	lf_close(f);
	snprintf(p, sizeof(p), "%s/%s", f->root, ST_LOG_CLEAN_SHUTDOWN);
	unlink(p);
	snprintf(p, sizeof(p), "%s/%s", f->root, ST_LOG_RECOVERY_CKPT);
	unlink(p);
}

/*
 * Build a batch of @n records ("v<offset>" values padded to @vlen bytes)
 * with timestamps @ts, @ts+1, ... and baseOffset @base into @buf.
 * @return its size.
 */
static inline uint32_t lf_batch(void *buf, uint32_t cap, int64_t base, int n, int64_t ts,
				uint32_t vlen)
{
	struct st_batch_builder b;
	char val[4096];
	int size;

	if (st_batch_builder_begin(&b, buf, cap, ts) < 0)
		abort();
	for (int i = 0; i < n; i++) {
		memset(val, 'a' + (int)((base + i) % 26), sizeof(val));
		snprintf(val, sizeof(val), "v%" PRId64, base + i);
		val[strlen(val)] = '-';
		if (st_batch_builder_add(&b, ts + i, NULL, 0, val, (int32_t)vlen, NULL, 0) < 0)
			abort();
	}
	size = st_batch_builder_finish(&b);
	if (size < 0)
		abort();
	st_batch_assign(buf, base, 0);
	return (uint32_t)size;
}

/* Append one batch at the LEO; @return its base offset. */
static inline int64_t lf_append(struct lf *f, int n, int64_t ts, uint32_t vlen)
{
	uint8_t buf[65536];
	uint32_t len = lf_batch(buf, sizeof(buf), st_log_leo(f->log), n, ts, vlen);

	return st_log_append(f->log, buf, len, ts);
}

static inline int64_t lf_file_size(const char *root, int64_t base, const char *ext)
{
	char p[256];
	struct stat st;

	snprintf(p, sizeof(p), "%s/t-0/%020" PRId64 "%s", root, base, ext);
	return stat(p, &st) == 0 ? (int64_t)st.st_size : -1;
}

static inline void lf_path(char *p, size_t len, const char *root, int64_t base, const char *ext)
{
	snprintf(p, len, "%s/t-0/%020" PRId64 "%s", root, base, ext);
}

/* cmocka setup/teardown: a fresh root per test, removed afterwards. */
static inline int lf_setup(void **state)
{
	struct lf *f = calloc(1, sizeof(*f));

	lf_mkroot(f);
	*state = f;
	return 0;
}

static inline int lf_teardown(void **state)
{
	struct lf *f = *state;

	lf_close(f);
	lf_rmrf(f->root);
	free(f);
	return 0;
}

#endif /* LOG_FIXTURE_H */
