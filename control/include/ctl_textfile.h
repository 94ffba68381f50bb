/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_textfile.h - the line-per-entry text files of control/ (the SASL
 * credentials, the ACLs): read them line by line, skipping blank lines and
 * '#' comments, and replace them atomically (temporary file, fsync,
 * rename(), mode 0600: they are secrets or policy).
 */
#ifndef CTL_TEXTFILE_H
#define CTL_TEXTFILE_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>

/**
 * Call @fn on each entry line of @path (leading blanks skipped, newline
 * kept).  A line longer than 1023 bytes, or @fn < 0, stops with *@bad_line
 * set to its 1-based number.
 * @return 0, -errno (open), -EINVAL (too long) or @fn's error.
 */
int ctl_textfile_read(const char *path, int (*fn)(char *line, void *arg), void *arg,
		      unsigned int *bad_line);

/**
 * Write @path anew: @fn writes the content to the temporary file.
 * @return 0 or -errno (nothing replaced).
 */
int ctl_textfile_replace(const char *path, void (*fn)(FILE *f, const void *arg), const void *arg);

/**
 * Has @path changed since *@seen (inode, size, mtime)?  *@now gets its stat.
 * @return 1 changed (or @seen NULL), 0 the same, -errno (stat failed).
 */
int ctl_textfile_changed(const char *path, const struct stat *seen, struct stat *now);

#endif /* CTL_TEXTFILE_H */
