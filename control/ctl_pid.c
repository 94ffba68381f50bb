/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_pid.c - producer ids for InitProducerId (kp_init_pid.c), reserved in
 * blocks recorded in <log.dirs>/producer-id-block before use (ctl_pid.h).
 * Control thread; the only system calls are the reservation's, once per
 * CTL_PIDS_BLOCK ids.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_log.h"
#include "ctl_pid.h"
#include "st_file.h"

/* Longest valid file: "0\n" + 19 digits + "\n"; anything that fills this is corrupt. */
#define PIDS_TEXT_MAX 64

struct ctl_pids {
	char path[PATH_MAX];
	int64_t next;                   /* the next id to hand out */
	int64_t end;                    /* first id not reserved on disk */
	bool failing;                   /* the last reservation failed (logged once) */
};

/*
 * Record @end as the reserved end: temp file, fsync, rename over the old
 * one, fsync the directory.  Until all of it succeeded the caller hands out
 * nothing above the old end; a rename that happened before a failed
 * directory sync only leaves a larger end behind, which is safe.
 */
static int block_write(const struct ctl_pids *p, int64_t end)
{
	char text[PIDS_TEXT_MAX];
	int n = snprintf(text, sizeof(text), "0\n%" PRId64 "\n", end);

	return st_file_replace(p->path, text, (size_t)n);
}

/* "0\n<end>\n" (final newline optional), 0 <= end <= INT64_MAX. */
static int block_parse(const char *s, size_t n, int64_t *end)
{
	size_t digits;
	long long v;

	if (n < 3 || s[0] != '0' || s[1] != '\n')
		return -EBADMSG;
	digits = strspn(s + 2, "0123456789");
	if (digits == 0 || digits > 19 || !(2 + digits == n || (2 + digits + 1 == n && s[n - 1] == '\n')))
		return -EBADMSG;
	errno = 0;
	v = strtoll(s + 2, NULL, 10);
	if (errno)
		return -EBADMSG;
	*end = v;
	return 0;
}

/* The stored end, 0 without a file. */
static int block_read(const struct ctl_pids *p, int64_t *end)
{
	char text[PIDS_TEXT_MAX + 1];
	size_t n = 0;
	int fd = open(p->path, O_RDONLY | O_CLOEXEC), rc = 0;

	*end = 0;
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	while (n < PIDS_TEXT_MAX) {
		ssize_t r = read(fd, text + n, PIDS_TEXT_MAX - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	text[n] = '\0';
	if (rc == 0)
		rc = n < PIDS_TEXT_MAX ? block_parse(text, n, end) : -EBADMSG;
	return rc;
}

/* Reserve the block starting at p->next. */
static int block_reserve(struct ctl_pids *p)
{
	int rc;

	if (p->next > INT64_MAX - CTL_PIDS_BLOCK)
		return -EOVERFLOW;
	rc = block_write(p, p->next + CTL_PIDS_BLOCK);
	if (rc == 0)
		p->end = p->next + CTL_PIDS_BLOCK;
	return rc;
}

int ctl_pids_open(const char *dir, struct ctl_pids **out)
{
	struct ctl_pids *p = calloc(1, sizeof(*p));
	int rc;

	if (!p)
		return -ENOMEM;
	if (snprintf(p->path, sizeof(p->path), "%s/%s", dir, CTL_PIDS_FILE) >= (int)sizeof(p->path)) {
		rc = -ENAMETOOLONG;
		CTL_LOG(ERR, "%s/%s: %s", dir, CTL_PIDS_FILE, strerror(-rc));
		goto out;
	}
	rc = block_read(p, &p->next);
	if (rc == -EBADMSG) {
		CTL_LOG(ERR, "%s: corrupt (expected a line \"0\" and a line with the end of the "
			"reserved producer id block); refusing to start, since starting over "
			"would hand out producer ids again", p->path);
		goto out;
	}
	if (rc == 0)
		rc = block_reserve(p);
	if (rc < 0) {
		CTL_LOG(ERR, "%s: cannot reserve producer ids: %s", p->path, strerror(-rc));
		goto out;
	}
	CTL_LOG(INFO, "%s: producer ids from %" PRId64 " (reserved up to %" PRId64 ")", p->path,
		p->next, p->end);
out:
	if (rc < 0) {
		free(p);
		return rc;
	}
	*out = p;
	return 0;
}

int ctl_pids_next(struct ctl_pids *p, int64_t *id)
{
	int rc;

	if (p->next >= p->end) {
		rc = block_reserve(p);
		if (rc < 0) {
			if (!p->failing)
				CTL_LOG(WARNING, "%s: cannot reserve producer ids: %s; InitProducerId "
					"answers errors until it can", p->path, strerror(-rc));
			p->failing = true;
			return rc;
		}
		if (p->failing)
			CTL_LOG(INFO, "%s: producer ids reserved again, up to %" PRId64, p->path,
				p->end);
		p->failing = false;
	}
	*id = p->next++;
	return 0;
}

void ctl_pids_close(struct ctl_pids *p)
{
	free(p);
}
