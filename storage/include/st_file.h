/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * st_file.h - small files replaced durably: the data directory's
 * checkpoints and markers, producer-state snapshots, the control plane's
 * metadata and producer-id block.
 */
#ifndef ST_FILE_H
#define ST_FILE_H

#include <stddef.h>
#include <stdint.h>

/** fsync a directory (a rename or an unlink in it made durable).  @return 0 or -errno. */
int st_fsync_dir(const char *dir);

/**
 * Replace @path with @len bytes of @data so that a crash leaves either the
 * old file or the new one: write `<path>.tmp`, fsync it, rename it over
 * @path, fsync the directory holding it.  The temp file is removed on
 * failure.  @return 0 or -errno.
 */
int st_file_replace(const char *path, const void *data, size_t len);

/** pwrite all @len bytes at @pos (short writes continued).  @return 0 or -errno. */
int st_pwrite_all(int fd, const void *buf, size_t len, uint64_t pos);

/**
 * Make [@from, @to) of @fd durable even after a failed fdatasync: read the
 * bytes back and write them again, then fdatasync.  After a writeback error
 * Linux may have marked those pages clean without writing them, so a second
 * bare fdatasync could report success for data that never reached the
 * device; rewriting them dirties them again.  @return 0 or -errno.
 */
int st_file_resync(int fd, uint64_t from, uint64_t to);

#endif /* ST_FILE_H */
