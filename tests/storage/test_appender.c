/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the io_uring appender (st_appender.h): byte-exact files in
 * O_DIRECT mode (/tmp, when its file system takes O_DIRECT) and buffered
 * mode (/dev/shm), the tail-page rewrite, watermarks, ENOSPC on a tiny
 * tmpfs (root only), preallocation and the drain at close.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cmocka.h>

#include "st_appender.h"
#include "st_hugemem.h"

#define SRC_SIZE (12u << 20)

struct fixture {
	struct st_uring *u;
	struct st_hugemem src;   /* reference bytes, page aligned */
	char dir[64];
	char path[96];
	char mnt[64];            /* tiny tmpfs mounted by the ENOSPC test */
};

/* Events seen by the callback. */
struct events {
	unsigned n;
	struct st_appender_event last;
	bool monotonic;
	bool ordered;            /* written >= flushed >= durable every time */
};

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void on_event(void *arg, struct st_appender *a, const struct st_appender_event *ev)
{
	struct events *e = arg;

	(void)a;
	if (e->n && (ev->written < e->last.written || ev->flushed < e->last.flushed ||
		     ev->durable < e->last.durable))
		e->monotonic = false;
	if (ev->written < ev->flushed || ev->flushed < ev->durable)
		e->ordered = false;
	e->last = *ev;
	e->n++;
}

static int setup(void **state)
{
	struct st_uring_cfg cfg = { .entries = 64, .staging_count = 4, .write_max = 256 << 10,
				    .huge = ST_HUGE_OFF };
	struct fixture *f = calloc(1, sizeof(*f));
	uint64_t seed = 99;

	assert_non_null(f);
	assert_int_equal(st_uring_create(&f->u, &cfg), ST_HUGEMEM_FALLBACK);
	assert_int_equal(st_hugemem_alloc(&f->src, SRC_SIZE, ST_HUGE_OFF), ST_HUGEMEM_FALLBACK);
	for (size_t i = 0; i < SRC_SIZE / 8; i++)
		((uint64_t *)f->src.base)[i] = xorshift(&seed);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->path[0])
		unlink(f->path);
	if (f->dir[0])
		rmdir(f->dir);
	if (f->mnt[0]) {
		umount2(f->mnt, MNT_DETACH); /* a failed ENOSPC test left it mounted */
		rmdir(f->mnt);
	}
	st_hugemem_free(&f->src);
	st_uring_destroy(f->u);
	free(f);
	return 0;
}

/* A fresh file path in a new directory under @parent. */
static const char *new_path(struct fixture *f, const char *parent)
{
	snprintf(f->dir, sizeof(f->dir), "%s/st_app.XXXXXX", parent);
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/00000000000000000000.log", f->dir);
	return f->path;
}

static bool fs_is_tmpfs(const char *dir)
{
	struct statfs s;

	return statfs(dir, &s) == 0 && s.f_type == TMPFS_MAGIC;
}

/* Can the file system of @dir take O_DIRECT (and is it a real device)? */
static bool fs_takes_direct(const char *dir)
{
	char p[128];
	int fd;

	snprintf(p, sizeof(p), "%s/probe", dir);
	fd = open(p, O_RDWR | O_CREAT | O_DIRECT, 0644);
	if (fd >= 0) {
		close(fd);
		unlink(p);
	}
	return fd >= 0 && !fs_is_tmpfs(dir);
}

static void assert_file_equals(const char *path, const void *want, size_t len)
{
	uint8_t *buf = malloc(len + 1);
	struct stat sb;
	ssize_t n;
	int fd;

	assert_non_null(buf);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &sb), 0);
	assert_int_equal(sb.st_size, len);
	n = pread(fd, buf, len + 1, 0);
	assert_int_equal(n, len);
	assert_memory_equal(buf, want, len);
	close(fd);
	free(buf);
}

/* Read back the first @len bytes while the appender is still open. */
static void assert_prefix_equals(const char *path, const void *want, size_t len)
{
	uint8_t *buf = malloc(len);
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, len, 0), len);
	assert_memory_equal(buf, want, len);
	close(fd);
	free(buf);
}

/* Wait until the appender has nothing in flight. */
static void settle(struct st_uring *u)
{
	while (st_uring_in_flight(u))
		assert_true(st_uring_wait(u, 1) >= 0);
}

/*
 * Append @total bytes of f->src in random ranges of 1..@max bytes.
 * @return the sticky error if one happened, else 0.
 */
static int write_random(struct fixture *f, struct st_appender *a, size_t total, size_t max,
			uint64_t seed)
{
	const uint8_t *src = f->src.base;
	size_t off = st_appender_pos(a);

	total += off;
	while (off < total) {
		size_t len = 1 + xorshift(&seed) % max;
		int ret;

		if (len > total - off)
			len = total - off;
		ret = st_appender_write(a, src + off, len);
		if (ret == -EAGAIN) {
			assert_true(st_uring_wait(f->u, 1) >= 0);
			continue;
		}
		if (ret < 0)
			return ret;
		off += len;
		if (xorshift(&seed) % 4 == 0)
			assert_true(st_uring_submit(f->u) >= 0);
		st_uring_reap(f->u);
	}
	return 0;
}

static void test_appender_direct_file_equals_source(void **state)
{
	struct fixture *f = *state;
	struct st_appender_cfg cfg = { .direct = ST_DIRECT_AUTO, .prealloc_chunk = 1 << 20 };
	struct st_appender_stats st;
	struct st_appender *a;
	struct stat sb;

	if (!fs_takes_direct("/tmp")) {
		fprintf(stderr, "/tmp takes no O_DIRECT: buffered test only\n");
		skip();
	}
	new_path(f, "/tmp");
	assert_int_equal(st_appender_open(&a, f->u, f->path, &cfg), 0);
	assert_true(st_appender_is_direct(a));   /* O_DIRECT actually taken */
	assert_int_equal(write_random(f, a, 8 << 20, 200000, 1), 0);
	assert_int_equal(st_appender_sync(a), 0);
	settle(f->u);
	assert_int_equal(st_appender_written(a), 8 << 20);
	assert_int_equal(st_appender_flushed(a), 8 << 20);
	assert_int_equal(st_appender_durable(a), 8 << 20);
	st_appender_stats_get(a, &st);
	assert_int_equal(st.bytes_copied + st.bytes_zero_copy, 8 << 20);
	assert_true(st.bytes_device >= 8 << 20);  /* tail pages written again */
	assert_true(st.preallocs > 0);
	assert_int_equal(st.prealloc_err, 0);
	assert_int_equal(st_appender_close(a), 0);
	assert_file_equals(f->path, f->src.base, 8 << 20);
	/* close trimmed the preallocation beyond the end */
	assert_int_equal(stat(f->path, &sb), 0);
	assert_true((uint64_t)sb.st_blocks * 512 < (8u << 20) + (1u << 20) / 2);
}

static void test_appender_buffered_shm_writes_from_fixed_buffer(void **state)
{
	struct fixture *f = *state;
	struct st_appender_cfg cfg = { .direct = ST_DIRECT_AUTO };
	struct st_appender_stats st;
	struct st_uring_stats us;
	struct st_appender *a;
	int slot;

	new_path(f, "/dev/shm");
	assert_true(fs_is_tmpfs(f->dir));
	/* The source plays a partition ring registered as a fixed buffer. */
	slot = st_uring_buf_add(f->u, f->src.base, SRC_SIZE);
	assert_true(slot > 0);
	assert_int_equal(st_uring_buf_find(f->u, (uint8_t *)f->src.base + 10, 100), slot);
	assert_int_equal(st_appender_open(&a, f->u, f->path, &cfg), 0);
	assert_false(st_appender_is_direct(a)); /* tmpfs: buffered */
	assert_int_equal(write_random(f, a, 10 << 20, 256 << 10, 2), 0);
	settle(f->u);
	st_appender_stats_get(a, &st);
	assert_int_equal(st.bytes_copied, 0);
	assert_int_equal(st.bytes_zero_copy, 10 << 20);
	st_uring_stats_get(f->u, &us);
	assert_true(us.sqes >= st.writes);
	assert_int_equal(st_appender_close(a), 0);
	assert_file_equals(f->path, f->src.base, 10 << 20);
	assert_int_equal(st_uring_buf_del(f->u, slot), 0);
	assert_int_equal(st_uring_buf_find(f->u, f->src.base, 1), -1);
}

static void test_appender_direct_on_tmpfs_forced(void **state)
{
	struct fixture *f = *state;
	struct st_appender_cfg cfg = { .direct = ST_DIRECT_ON };
	struct st_appender *a;
	int ret;

	new_path(f, "/dev/shm");
	ret = st_appender_open(&a, f->u, f->path, &cfg);
	if (ret == -EINVAL) {
		fprintf(stderr, "tmpfs refuses O_DIRECT here (Linux < 6.6)\n");
		skip();
	}
	assert_int_equal(ret, 0);
	assert_true(st_appender_is_direct(a));
	assert_int_equal(write_random(f, a, 3 << 20, 70000, 3), 0);
	assert_int_equal(st_appender_close(a), 0);
	assert_file_equals(f->path, f->src.base, 3 << 20);
}

/* The partial page is written, then rewritten with what follows it. */
static void test_appender_tail_page_rewrite(void **state)
{
	struct fixture *f = *state;
	struct st_appender_cfg cfg = { .direct = ST_DIRECT_ON };
	const uint8_t *src = f->src.base;
	struct st_appender *a;
	struct stat sb;

	if (!fs_takes_direct("/tmp"))
		skip();
	new_path(f, "/tmp");
	assert_int_equal(st_appender_open(&a, f->u, f->path, &cfg), 0);
	assert_int_equal(st_appender_write(a, src, 100), ST_APPENDER_COPIED);
	settle(f->u);
	assert_int_equal(st_appender_written(a), 100);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_size, 4096);       /* padded page on disk meanwhile */
	assert_prefix_equals(f->path, src, 100);
	assert_int_equal(st_appender_write(a, src + 100, 5000), ST_APPENDER_COPIED);
	assert_int_equal(st_appender_write(a, src + 5100, 3), ST_APPENDER_COPIED);
	settle(f->u);
	assert_int_equal(st_appender_written(a), 5103);
	assert_prefix_equals(f->path, src, 5103);
	assert_int_equal(st_appender_close(a), 0);
	assert_file_equals(f->path, src, 5103);

	/* Reopen at an unaligned size: the tail page is read back from disk. */
	assert_int_equal(st_appender_open(&a, f->u, f->path, &cfg), 0);
	assert_int_equal(st_appender_pos(a), 5103);
	assert_int_equal(st_appender_durable(a), 5103);
	assert_int_equal(st_appender_write(a, src + 5103, 3000), ST_APPENDER_COPIED);
	assert_int_equal(st_appender_close(a), 0);
	assert_file_equals(f->path, src, 8103);
}

/* Page-aligned source in a registered buffer at a page-aligned position. */
static void test_appender_direct_zero_copy_when_aligned(void **state)
{
	struct fixture *f = *state;
	struct st_appender_cfg cfg = { .direct = ST_DIRECT_ON };
	const uint8_t *src = f->src.base;
	struct st_appender_stats st;
	struct st_appender *a;
	int slot;

	if (!fs_takes_direct("/tmp"))
		skip();
	new_path(f, "/tmp");
	slot = st_uring_buf_add(f->u, f->src.base, SRC_SIZE);
	assert_true(slot > 0);
	assert_int_equal(st_appender_open(&a, f->u, f->path, &cfg), 0);
	assert_int_equal(st_appender_write(a, src, 3 * 4096 + 100), 0); /* caller keeps src */
	assert_int_equal(st_appender_write(a, src + 3 * 4096 + 100, 50), ST_APPENDER_COPIED);
	settle(f->u);
	st_appender_stats_get(a, &st);
	assert_int_equal(st.bytes_zero_copy, 3 * 4096);
	assert_int_equal(st.bytes_copied, 150);
	assert_int_equal(st_appender_close(a), 0);
	assert_file_equals(f->path, src, 3 * 4096 + 150);
	assert_int_equal(st_uring_buf_del(f->u, slot), 0);
}

static void check_watermarks(struct fixture *f, const char *parent, enum st_direct_policy pol)
{
	struct events ev = { .monotonic = true, .ordered = true };
	struct st_appender_cfg cfg = { .direct = pol, .cb = on_event, .cb_arg = &ev };
	struct st_appender *a;

	new_path(f, parent);
	assert_int_equal(st_appender_open(&a, f->u, f->path, &cfg), 0);
	assert_int_equal(write_random(f, a, 1 << 20, 50000, 4), 0);
	settle(f->u);
	assert_int_equal(st_appender_written(a), 1 << 20);
	assert_int_equal(st_appender_durable(a), 0);  /* no fdatasync yet */
	if (st_appender_is_direct(a)) {
		assert_int_equal(st_appender_flushed(a), 1 << 20);
	} else {
		assert_int_equal(st_appender_flushed(a), 0);
		assert_int_equal(st_appender_flush(a), 0);  /* sync_file_range */
		settle(f->u);
		assert_int_equal(st_appender_flushed(a), 1 << 20);
		assert_int_equal(st_appender_durable(a), 0);
	}
	assert_int_equal(write_random(f, a, 1000, 1000, 5), 0);
	assert_int_equal(st_appender_sync(a), 0);
	assert_int_equal(st_appender_sync(a), 0);     /* shares the same fdatasync */
	settle(f->u);
	assert_int_equal(st_appender_durable(a), (1 << 20) + 1000);
	assert_true(ev.n > 0);
	assert_true(ev.monotonic);
	assert_true(ev.ordered);
	assert_true(ev.last.moved & ST_WM_DURABLE);
	assert_int_equal(ev.last.durable, (1 << 20) + 1000);
	assert_int_equal(ev.last.err, 0);
	assert_int_equal(st_appender_close(a), 0);
	unlink(f->path);
	rmdir(f->dir);
	f->path[0] = f->dir[0] = 0;
}

static void test_appender_watermarks_monotonic_durable_after_sync(void **state)
{
	struct fixture *f = *state;

	check_watermarks(f, "/dev/shm", ST_DIRECT_OFF);
	check_watermarks(f, "/tmp", ST_DIRECT_OFF);
	if (fs_takes_direct("/tmp"))
		check_watermarks(f, "/tmp", ST_DIRECT_ON);
}

/* Close right after queuing: everything lands, the pending sync included. */
static void test_appender_drain_at_close(void **state)
{
	struct fixture *f = *state;
	struct events ev = { .monotonic = true, .ordered = true };
	struct st_appender_cfg cfg = { .direct = ST_DIRECT_AUTO, .cb = on_event, .cb_arg = &ev };
	const uint8_t *src = f->src.base;
	struct st_appender *a;
	size_t off = 0;

	new_path(f, "/tmp");
	assert_int_equal(st_appender_open(&a, f->u, f->path, &cfg), 0);
	for (int i = 0; i < ST_APPENDER_MAX_WRITES && off < SRC_SIZE; i++) {
		int ret = st_appender_write(a, src + off, 100000 + (size_t)i);

		if (ret == -EAGAIN)
			break;
		assert_true(ret >= 0);
		off += 100000 + (size_t)i;
	}
	assert_int_equal(st_appender_sync(a), 0);
	assert_true(st_uring_in_flight(f->u) > 0);
	assert_int_equal(st_appender_close(a), 0);
	assert_int_equal(st_uring_in_flight(f->u), 0);
	assert_int_equal(ev.last.written, off);
	assert_int_equal(ev.last.durable, off);
	assert_file_equals(f->path, src, off);
}

/* Six files on one small io_uring: operations wait for room and still land. */
static void test_appender_many_files_share_one_uring(void **state)
{
	struct fixture *f = *state;
	struct st_uring_cfg ucfg = { .entries = 4, .staging_count = 2, .write_max = 64 << 10,
				     .huge = ST_HUGE_OFF };
	struct st_appender_cfg cfg = { .direct = ST_DIRECT_AUTO, .prealloc_chunk = 256 << 10 };
	const uint8_t *src = f->src.base;
	struct st_appender *a[6];
	struct st_uring_stats us;
	struct st_uring *u;
	char path[6][128];
	size_t off[6] = { 0 }, total = 1 << 20;
	uint64_t seed = 11;
	bool more = true;

	new_path(f, "/tmp");
	assert_true(st_uring_create(&u, &ucfg) >= 0);
	for (int i = 0; i < 6; i++) {
		snprintf(path[i], sizeof(path[i]), "%s/%d.log", f->dir, i);
		cfg.direct = i % 2 ? ST_DIRECT_OFF : ST_DIRECT_AUTO;
		assert_int_equal(st_appender_open(&a[i], u, path[i], &cfg), 0);
	}
	while (more) {
		more = false;
		for (int i = 0; i < 6; i++) {
			size_t len = 1 + xorshift(&seed) % (64 << 10);
			int ret;

			if (off[i] == total)
				continue;
			more = true;
			if (len > total - off[i])
				len = total - off[i];
			ret = st_appender_write(a[i], src + off[i], len);
			if (ret == -EAGAIN)
				continue;
			assert_true(ret >= 0);
			off[i] += len;
			if (xorshift(&seed) % 8 == 0)
				assert_int_equal(st_appender_sync(a[i]), 0);
		}
		assert_true(st_uring_wait(u, 1) >= 0);
	}
	st_uring_stats_get(u, &us);
	assert_true(us.stalls > 0);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(st_appender_close(a[i]), 0);
		assert_file_equals(path[i], src, total);
		unlink(path[i]);
	}
	assert_int_equal(st_uring_in_flight(u), 0);
	st_uring_destroy(u);
}

static void test_appender_rejects_bad_length(void **state)
{
	struct fixture *f = *state;
	struct st_appender_cfg cfg = { .direct = ST_DIRECT_OFF };
	struct st_appender *a;

	new_path(f, "/dev/shm");
	assert_int_equal(st_appender_open(&a, f->u, f->path, &cfg), 0);
	assert_int_equal(st_appender_write(a, f->src.base, 0), -EINVAL);
	assert_int_equal(st_appender_write(a, f->src.base, (256 << 10) + 1), -EINVAL);
	assert_int_equal(st_appender_close(a), 0);
}

/* Fill a 1 MiB tmpfs until ENOSPC: sticky failure, intact prefix. */
static void enospc_run(struct fixture *f, enum st_direct_policy pol)
{
	struct events ev = { .monotonic = true, .ordered = true };
	struct st_appender_cfg cfg = { .direct = pol, .prealloc_chunk = 4 << 20, .cb = on_event,
				       .cb_arg = &ev };
	struct st_appender_stats st;
	struct st_appender *a;
	uint64_t written;
	int ret;

	snprintf(f->path, sizeof(f->path), "%s/seg.log", f->mnt);
	assert_int_equal(st_appender_open(&a, f->u, f->path, &cfg), 0);
	ret = write_random(f, a, 4 << 20, 100000, 6);
	if (ret == 0) {
		assert_int_equal(st_appender_sync(a), 0);
		settle(f->u);
		ret = st_appender_error(a);
	}
	assert_int_equal(ret, -ENOSPC);
	assert_int_equal(st_appender_write(a, f->src.base, 10), -ENOSPC);  /* sticky */
	assert_int_equal(st_appender_sync(a), -ENOSPC);
	st_appender_stats_get(a, &st);
	assert_int_equal(st.prealloc_err, -ENOSPC);  /* 4 MiB never fit: not fatal */
	written = st_appender_written(a);
	assert_true(written > 0 && written <= 1 << 20);
	assert_true(ev.last.moved & ST_WM_ERROR || ev.last.err == -ENOSPC);
	assert_true(ev.monotonic);
	assert_int_equal(st_appender_close(a), -ENOSPC);
	assert_file_equals(f->path, f->src.base, written);
	unlink(f->path);
	f->path[0] = 0;
}

static void test_appender_enospc_fails_cleanly(void **state)
{
	struct fixture *f = *state;

	if (geteuid() != 0) {
		fprintf(stderr, "not root: cannot mount a tiny tmpfs\n");
		skip();
	}
	snprintf(f->mnt, sizeof(f->mnt), "/tmp/st_enospc.XXXXXX");
	assert_non_null(mkdtemp(f->mnt));
	if (mount("tmpfs", f->mnt, "tmpfs", 0, "size=1m") < 0) {
		fprintf(stderr, "mount tmpfs: %s\n", strerror(errno));
		rmdir(f->mnt);
		f->mnt[0] = 0;
		skip();
	}
	enospc_run(f, ST_DIRECT_OFF);
	enospc_run(f, ST_DIRECT_ON);
	assert_int_equal(umount2(f->mnt, 0), 0);
	assert_int_equal(rmdir(f->mnt), 0);
	f->mnt[0] = 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_appender_direct_file_equals_source, setup, teardown),
		cmocka_unit_test_setup_teardown(test_appender_buffered_shm_writes_from_fixed_buffer, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_appender_direct_on_tmpfs_forced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_appender_tail_page_rewrite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_appender_direct_zero_copy_when_aligned, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_appender_watermarks_monotonic_durable_after_sync,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_appender_drain_at_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_appender_many_files_share_one_uring, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_appender_rejects_bad_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_appender_enospc_fails_cleanly, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
