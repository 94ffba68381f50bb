/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The producer id allocator (ctl_pid.h): ids increase and are unique; a
 * reopen, after a clean close or after a real SIGKILL of the process that
 * handed them out, continues above every id given; the reservation on disk
 * moves one block ahead exactly when the block is used up; a corrupt file
 * is refused and left as it was; a directory that cannot be written gives
 * -errno and no id, and allocation resumes without a gap being reused.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "ctl_pid.h"

struct fx {
	char dir[64];
	char path[128];                 /* dir/producer-id-block */
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_ctl_pid.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, CTL_PIDS_FILE);
	*state = f;
	return 0;
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* The whole block file ("" when missing). */
static const char *file_text(const struct fx *f)
{
	static char buf[256];
	int fd = open(f->path, O_RDONLY);
	ssize_t n = fd < 0 ? 0 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void file_put(const struct fx *f, const char *text, size_t len)
{
	int fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

static int64_t next_id(struct ctl_pids *p)
{
	int64_t id = -7;

	assert_int_equal(ctl_pids_next(p, &id), 0);
	assert_true(id >= 0);
	return id;
}

static void test_ctl_pid_ids_increase_unique(void **state)
{
	struct fx *f = *state;
	struct ctl_pids *p;

	assert_int_equal(ctl_pids_open(f->dir, &p), 0);     /* no file: from 0 */
	for (int64_t i = 0; i < 3 * CTL_PIDS_BLOCK + 17; i++)
		assert_true(next_id(p) == i);                   /* increasing by one: unique */
	ctl_pids_close(p);
	ctl_pids_close(NULL);
}

static void test_ctl_pid_reopen_after_close(void **state)
{
	struct fx *f = *state;
	struct ctl_pids *p;
	int64_t last = -1, id;

	for (int round = 0; round < 3; round++) {
		assert_int_equal(ctl_pids_open(f->dir, &p), 0);
		id = next_id(p);
		assert_true(id > last);
		/* The unused rest of the previous block is skipped. */
		assert_true(id == (int64_t)round * CTL_PIDS_BLOCK);
		for (int i = 0; i < 10; i++)
			last = next_id(p);
		ctl_pids_close(p);
	}
	assert_string_equal(file_text(f), "0\n3000\n");
}

/*
 * A child process hands out @n ids, reports the last one through a pipe and
 * is SIGKILLed: nothing of ctl_pids runs after its last ctl_pids_next.
 */
static int64_t crash_after(const struct fx *f, int n)
{
	int64_t last = -1;
	int pfd[2], status;
	pid_t pid;

	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct ctl_pids *p;
		int64_t id = -1;

		close(pfd[0]);
		if (ctl_pids_open(f->dir, &p) < 0)
			_exit(2);
		for (int i = 0; i < n; i++)
			if (ctl_pids_next(p, &id) < 0)
				_exit(3);
		if (write(pfd[1], &id, sizeof(id)) != (ssize_t)sizeof(id))
			_exit(4);
		raise(SIGKILL);
		_exit(5);
	}
	close(pfd[1]);
	assert_int_equal(read(pfd[0], &last, sizeof(last)), (ssize_t)sizeof(last));
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	return last;
}

static void test_ctl_pid_crash_never_reuses(void **state)
{
	struct fx *f = *state;
	struct ctl_pids *p;
	int64_t last, id;

	last = crash_after(f, 5);                       /* inside the first block */
	assert_true(last == 4);
	last = crash_after(f, CTL_PIDS_BLOCK + 1);      /* just into a second block */
	assert_true(last > 4);
	last = crash_after(f, CTL_PIDS_BLOCK);          /* exactly a whole block */
	/* A crash between writing the temp file and the rename leaves it behind. */
	{
		char tmp[160];
		int fd;

		snprintf(tmp, sizeof(tmp), "%s.tmp", f->path);
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, "0\n12", 4), 4);
		close(fd);
	}
	assert_int_equal(ctl_pids_open(f->dir, &p), 0);
	id = next_id(p);
	assert_true(id > last);
	for (int i = 0; i < 2 * CTL_PIDS_BLOCK; i++)
		assert_true(next_id(p) > id + i);
	ctl_pids_close(p);
}

static void test_ctl_pid_block_boundary_writes_reservation(void **state)
{
	struct fx *f = *state;
	struct ctl_pids *p;

	file_put(f, "0\n5000\n", 7);
	assert_int_equal(ctl_pids_open(f->dir, &p), 0);
	/* Reserved at open, before the first id. */
	assert_string_equal(file_text(f), "0\n6000\n");
	for (int i = 0; i < CTL_PIDS_BLOCK; i++)
		assert_true(next_id(p) == 5000 + i);
	assert_string_equal(file_text(f), "0\n6000\n");     /* the block is used up, not beyond */
	assert_true(next_id(p) == 6000);
	assert_string_equal(file_text(f), "0\n7000\n");
	ctl_pids_close(p);
	assert_string_equal(file_text(f), "0\n7000\n");     /* close writes nothing */
}

static void test_ctl_pid_corrupt_refused(void **state)
{
	static const char *const bad[] = {
		"", "\n", "0", "0\n", "0\n\n", "1\n1000\n", "00\n1000\n", "0\n-5\n", "0\n+5\n",
		"0\n 5\n", "0\nabc\n", "0\n1000\nextra\n", "0\n1000\n\n", "0\r\n1000\r\n",
		"0\n99999999999999999999\n", "0\n9223372036854775808\n",
		"0\n1000000000000000000000000000000000000000000000000000000000000000000000\n",
	};
	struct fx *f = *state;
	struct ctl_pids *p = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		file_put(f, bad[i], strlen(bad[i]));
		assert_int_equal(ctl_pids_open(f->dir, &p), -EBADMSG);
		assert_string_equal(file_text(f), bad[i]);  /* left for the operator */
	}
	file_put(f, "0\n12\0\n", 6);                            /* a NUL inside */
	assert_int_equal(ctl_pids_open(f->dir, &p), -EBADMSG);
	/* No final newline is still the end. */
	file_put(f, "0\n1000", 6);
	assert_int_equal(ctl_pids_open(f->dir, &p), 0);
	assert_true(next_id(p) == 1000);
	ctl_pids_close(p);
	/* Too close to INT64_MAX for another block. */
	file_put(f, "0\n9223372036854775000\n", 22);
	assert_int_equal(ctl_pids_open(f->dir, &p), -EOVERFLOW);
}

static void test_ctl_pid_unwritable_dir(void **state)
{
	struct fx *f = *state;
	struct ctl_pids *p;
	char missing[96];
	int64_t id = -7;

	snprintf(missing, sizeof(missing), "%s/nosuch", f->dir);
	assert_int_equal(ctl_pids_open(missing, &p), -ENOENT);
	file_put(f, "0\n0\n", 4);
	assert_int_equal(ctl_pids_open(f->path, &p), -ENOTDIR); /* a file, not a directory */
	if (geteuid() != 0) {                                   /* root writes anyway */
		assert_int_equal(chmod(f->dir, 0500), 0);
		assert_int_equal(ctl_pids_open(f->dir, &p), -EACCES);
		assert_int_equal(chmod(f->dir, 0700), 0);
	}

	/* The directory goes away while ids are handed out. */
	assert_int_equal(ctl_pids_open(f->dir, &p), 0);
	for (int i = 0; i < CTL_PIDS_BLOCK; i++)
		assert_true(next_id(p) == i);
	assert_int_equal(unlink(f->path), 0);
	assert_int_equal(rmdir(f->dir), 0);
	assert_int_equal(ctl_pids_next(p, &id), -ENOENT);
	assert_int_equal(ctl_pids_next(p, &id), -ENOENT);      /* tried again, still no id */
	assert_true(id == -7);
	assert_int_equal(mkdir(f->dir, 0700), 0);
	assert_true(next_id(p) == CTL_PIDS_BLOCK);              /* resumes: nothing was given */
	assert_string_equal(file_text(f), "0\n2000\n");
	ctl_pids_close(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ctl_pid_ids_increase_unique, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_ctl_pid_reopen_after_close, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_ctl_pid_crash_never_reuses, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_ctl_pid_block_boundary_writes_reservation,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_ctl_pid_corrupt_refused, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_ctl_pid_unwritable_dir, fx_setup,
						fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
