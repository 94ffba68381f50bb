/* SPDX-License-Identifier: BSD-3-Clause */
/* ctl_textfile.c - read and atomically replace control/'s text files (ctl_textfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl_textfile.h"

int ctl_textfile_read(const char *path, int (*fn)(char *line, void *arg), void *arg,
		      unsigned int *bad_line)
{
	char line[1024];
	unsigned int ln = 0;
	FILE *f = fopen(path, "re");
	int rc = 0;

	*bad_line = 0;
	if (!f)
		return -errno;
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		char *p = line + strspn(line, " \t");

		ln++;
		if (*p == '#' || *p == '\n' || *p == '\0')
			continue;
		if (!strchr(line, '\n') && !feof(f))
			rc = -EINVAL; /* longer than any valid entry */
		else
			rc = fn(p, arg);
	}
	if (rc < 0)
		*bad_line = ln;
	fclose(f);
	return rc;
}

int ctl_textfile_changed(const char *path, const struct stat *seen, struct stat *now)
{
	if (stat(path, now) < 0)
		return -errno;
	return !seen || now->st_ino != seen->st_ino || now->st_size != seen->st_size ||
	       now->st_mtim.tv_sec != seen->st_mtim.tv_sec ||
	       now->st_mtim.tv_nsec != seen->st_mtim.tv_nsec;
}

int ctl_textfile_replace(const char *path, void (*fn)(FILE *f, const void *arg), const void *arg)
{
	char tmp[4096];
	int fd, rc = 0;
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (!(f = fdopen(fd, "w"))) {
		rc = -errno;
		close(fd);
		unlink(tmp);
		return rc;
	}
	fn(f, arg);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		rc = -errno;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	return rc;
}
