/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * st_file.c - small files replaced durably, and whole writes (see st_file.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "st_file.h"

int st_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int st_file_replace(const char *path, const void *data, size_t len)
{
	char tmp[PATH_MAX + 8], dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, rc;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	if (!slash || slash == path)
		snprintf(dir, sizeof(dir), "%s", slash ? "/" : ".");
	else if (snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	rc = write_all(fd, data, len);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		return rc;
	}
	return st_fsync_dir(dir);
}

int st_pwrite_all(int fd, const void *buf, size_t len, uint64_t pos)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)pos);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		pos += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

#define RESYNC_CHUNK (1u << 20)

int st_file_resync(int fd, uint64_t from, uint64_t to)
{
	uint8_t *buf = from < to ? malloc(RESYNC_CHUNK) : NULL;
	int rc = 0;

	if (from < to && !buf)
		return -ENOMEM;
	while (from < to && rc == 0) {
		size_t n = to - from < RESYNC_CHUNK ? (size_t)(to - from) : RESYNC_CHUNK;
		ssize_t r = pread(fd, buf, n, (off_t)from);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			rc = r < 0 ? -errno : -EIO;
		else
			rc = st_pwrite_all(fd, buf, (size_t)r, from);
		from += r > 0 ? (uint64_t)r : 0;
	}
	free(buf);
	if (rc == 0 && fdatasync(fd) < 0)
		rc = -errno;
	return rc;
}
