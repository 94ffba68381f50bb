/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_recovery - a partition directory holding arbitrary bytes, opened the
 * way sluiced opens it (st_logdir_open, st_partition_open: log recovery,
 * then the idempotent producers' state rebuilt from the log), closed
 * cleanly, and checked the way `sluice verify` checks (st_verify_dir).
 *
 * Input (a 17-byte header, then the files):
 *   u8 flags   1: .kafka_cleanshutdown present (the trusted path)
 *              2: a recovery-point checkpoint naming t-0
 *              4: a log-start checkpoint naming t-0
 *              8: the .log split in two segments at `split`
 *   u16 index length, u16 timeindex length,
 *   i32 recovery point, i32 log start, u32 split  (all big-endian)
 *   index bytes, timeindex bytes, then the .log bytes.
 * The second segment is named after the baseOffset field found at the
 * split (skipped when that is not a valid file name).  tests/fuzz/
 * gen_corpus.c writes real segments in this format.
 *
 * What must hold besides "no crash": recovery never fails on what is in
 * the files (it cuts); after it, verify finds the directory clean; a second
 * open is trusted, cuts nothing and ends at the same offset.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "st_batch.h"
#include "st_dump.h"
#include "st_log.h"
#include "st_partition.h"

#define HDR 17

static char root[256];

static void put_file(const char *dir, const char *name, const void *p, size_t n)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	FZ_CHECK(fd >= 0);
	FZ_CHECK(n == 0 || write(fd, p, n) == (ssize_t)n);
	close(fd);
}

static void put_ckpt(const char *name, int32_t off)
{
	char text[64];

	snprintf(text, sizeof(text), "0\n1\nt 0 %" PRId32 "\n", off);
	put_file(root, name, text, strlen(text));
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(p);
}

/*
 * Open (@marker: the clean-shutdown marker is there), close cleanly;
 * @return the log end offset, or -1 for the known failure below; *@cut:
 * whether recovery cut anything, *@trusted: whether it trusted every file.
 */
static int64_t open_close(bool marker, bool *cut, bool *trusted)
{
	struct st_partition_cfg pc = { .ring_bytes = 1 << 16, .huge = ST_HUGE_OFF,
				       .max_producers = 16, .producer_expiration_ms = INT32_MAX };
	struct st_log_recovery rep;
	struct st_log_config lc;
	struct st_partition *p;
	struct st_logdir *d;
	int64_t leo;
	int rc;

	st_log_config_default(&lc);
	lc.index_max_bytes = 1 << 16;
	rc = st_logdir_open(&d, root);
	FZ_CHECK(rc == 0 || rc == -EINVAL);     /* -EINVAL: a checkpoint it cannot parse */
	if (rc < 0)
		return -1;
	memset(&rep, 0, sizeof(rep));
	rc = st_partition_open(&p, d, "t", 0, &lc, &pc, &rep);
	if (rc < 0) {
		/*
		 * Known limit (docs/reliability.md): segments trusted after a clean
		 * shutdown are not walked (only cheap checks, which an empty index
		 * passes), so a batch whose header lies about its length or its
		 * offsets is first met by the producer-state replay
		 * (st_producers_rebuild), which refuses the partition (-EIO, or
		 * -ERANGE from st_log_read) instead of cutting it.  Anything else
		 * that fails to open is a finding.
		 */
		bool known = marker && (rc == -EIO || rc == -ERANGE);

		if (!known)
			fprintf(stderr, "st_partition_open: %s (clean %d, segments %u, cut at %lld, "
				"%u deleted, producer batches read %lld)\n", strerror(-rc), rep.clean,
				rep.segments, (long long)rep.truncated_at, rep.segments_deleted,
				(long long)rep.producer_batches_read);
		FZ_CHECK(known);
		st_logdir_set_dirty(d);
		FZ_CHECK(st_logdir_close(d) == 0);
		return -1;
	}
	leo = st_log_leo(p->log);
	FZ_CHECK(leo >= st_log_start_offset(p->log) || leo == 0);
	*cut = rep.truncated_at >= 0 || rep.segments_deleted;
	*trusted = rep.clean;
	FZ_CHECK(st_partition_close(p) == 0);
	FZ_CHECK(st_logdir_close(d) == 0);
	return leo;
}

/* `sluice verify` on the directory; @return 0 when clean. */
static int verify(bool quiet)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	int rc;

	FZ_CHECK(out != NULL);
	rc = st_verify_dir(out, root);
	fclose(out);
	if (rc != 0 && !quiet)
		fprintf(stderr, "verify after recovery:\n%s", text);
	free(text);
	FZ_CHECK(rc == 0 || rc == 1);
	return rc;
}

/* The .log bytes, maybe in two segments (the second named by the baseOffset at @split). */
static void put_log(const char *dir, const uint8_t *log, size_t n, uint8_t flags, uint32_t split)
{
	put_file(dir, "00000000000000000000.log", log, n);
	if (!(flags & 8) || n == 0)
		return;
	split %= (uint32_t)n;
	if (split > 0 && n - split >= 8) {
		int64_t base = (int64_t)((uint64_t)fz_get_be32(log + split) << 32 |
					 fz_get_be32(log + split + 4));
		char name[64];

		if (base <= 0)
			return;
		snprintf(name, sizeof(name), "%020" PRId64 ".log", base);
		put_file(dir, "00000000000000000000.log", log, split);
		put_file(dir, name, log + split, n - split);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	snprintf(root, sizeof(root), "%s/sluice-fuzz-recovery-%d", fz_tmp_root(), (int)getpid());
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char dir[300];
	size_t ilen, tlen;
	uint8_t flags;
	int64_t leo, leo2;
	bool cut, trusted;

	if (size < HDR || size > (1u << 20))
		return -1;
	flags = data[0];
	ilen = fz_get_be16(data + 1);
	tlen = fz_get_be16(data + 3);
	if (HDR + ilen + tlen > size)
		return -1;
	nftw(root, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	FZ_CHECK(mkdir(root, 0755) == 0);
	snprintf(dir, sizeof(dir), "%s/t-0", root);
	FZ_CHECK(mkdir(dir, 0755) == 0);
	put_file(dir, "00000000000000000000.index", data + HDR, ilen);
	put_file(dir, "00000000000000000000.timeindex", data + HDR + ilen, tlen);
	put_log(dir, data + HDR + ilen + tlen, size - HDR - ilen - tlen, flags,
		fz_get_be32(data + 13));
	if (flags & 1)
		put_file(root, ST_LOG_CLEAN_SHUTDOWN, "", 0);
	if (flags & 2)
		put_ckpt(ST_LOG_RECOVERY_CKPT, (int32_t)fz_get_be32(data + 5));
	if (flags & 4)
		put_ckpt(ST_LOG_START_CKPT, (int32_t)fz_get_be32(data + 9));

	leo = open_close(flags & 1, &cut, &trusted);
	if (leo < 0)
		goto out;
	/*
	 * A walk leaves only valid batches.  Segments a clean shutdown left are
	 * trusted after cheap checks (as Kafka does): a bad CRC inside stays
	 * for verify to find, and only the walk of an unclean start cuts it.
	 */
	if (verify(flags & 1) != 0) {
		FZ_CHECK(flags & 1);
		goto out;
	}
	/* Closed cleanly: trusted now, nothing more to cut, the same end. */
	leo2 = open_close(true, &cut, &trusted);
	FZ_CHECK(leo2 == leo && !cut && trusted);
	FZ_CHECK(verify(false) == 0);
out:
	nftw(root, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}
