/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tmpfs_fill - how fast can anything fill fresh pages of a memory file
 * system on this machine?  The storage benchmark compares the writer's
 * tmpfs rate with single-core memcpy; this tool measures, in the same run,
 * the kernel's own ceiling for getting new bytes into tmpfs through the
 * interfaces a writer could use, so the two limits can be told apart:
 *
 *   pwrite   1 MiB pwrite()s into a new file (what a buffered writer does)
 *   mmap     fallocate + MAP_POPULATE + memcpy into the mapping (no
 *            syscall per write; the kernel only allocates and clears pages)
 *
 *   tmpfs_fill DIR [MB]
 *
 * Output: "key value" lines (GB/s, 10^9 bytes), the best of three rounds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (1u << 20)
#define ROUNDS 3

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fill_pwrite(const char *path, const char *src, size_t total, double *secs)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
	double t0 = now_s();
	int rc = 0;

	if (fd < 0)
		return -errno;
	for (size_t off = 0; off < total && rc == 0; off += CHUNK)
		if (pwrite(fd, src, CHUNK, (off_t)off) != CHUNK)
			rc = -EIO;
	*secs = now_s() - t0;
	close(fd);
	unlink(path);
	return rc;
}

static int fill_mmap(const char *path, const char *src, size_t total, double *secs)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0600);
	double t0 = now_s();
	char *map = MAP_FAILED;
	int rc = 0;

	if (fd < 0)
		return -errno;
	if (fallocate(fd, 0, 0, (off_t)total) < 0) {
		rc = -errno;
		goto out;
	}
	map = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
	if (map == MAP_FAILED) {
		rc = -errno;
		goto out;
	}
	for (size_t off = 0; off < total; off += CHUNK)
		memcpy(map + off, src, CHUNK);
	__asm__ volatile("" : : "r"(map) : "memory");
	*secs = now_s() - t0;
	munmap(map, total);
out:
	close(fd);
	unlink(path);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fill)(const char *, const char *, size_t, double *);
	} ways[] = { { "pwrite", fill_pwrite }, { "mmap", fill_mmap } };
	size_t total = (size_t)(argc > 2 ? strtoull(argv[2], NULL, 0) : 1024) << 20;
	char path[4096], *src;

	if (argc < 2 || argc > 3 || total == 0) {
		fprintf(stderr, "Usage: tmpfs_fill DIR [MB]\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/tmpfs_fill.%d", argv[1], (int)getpid());
	src = malloc(CHUNK);
	if (!src)
		return 1;
	memset(src, 'x', CHUNK);
	for (size_t w = 0; w < sizeof(ways) / sizeof(ways[0]); w++) {
		double best = 0, secs;

		for (int r = 0; r < ROUNDS; r++) {
			int rc = ways[w].fill(path, src, total, &secs);

			if (rc < 0) {
				fprintf(stderr, "tmpfs_fill: %s into %s: %s\n", ways[w].name, argv[1],
					strerror(-rc));
				return 1;
			}
			if ((double)total / secs / 1e9 > best)
				best = (double)total / secs / 1e9;
		}
		printf("%s_gbs %.3f\n", ways[w].name, best);
	}
	free(src);
	return 0;
}
