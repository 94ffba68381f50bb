/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * st_hugemem.c - hugepage buffers through libhugetlbfs, ordinary pages as the
 * fallback.  See st_hugemem.h for the contract.
 *
 * libhugetlbfs prints a warning on stderr whenever get_huge_pages() fails, and
 * this module must not log; so the free hugepage count is read from sysfs
 * first and libhugetlbfs is only asked when the pages are there.  The check
 * races with other users of the pool, which is fine: a lost race still fails
 * cleanly, only louder.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <hugetlbfs.h>

#include "st_hugemem.h"

static size_t round_up(size_t v, size_t align)
{
	return (v + align - 1) / align * align;
}

/* Free hugepages of @page_size bytes, or -errno. */
static long huge_free_pages(long page_size)
{
	char path[96];
	long n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/hugepages-%ldkB/free_hugepages",
		 page_size / 1024);
	f = fopen(path, "re");
	if (!f)
		return -EOPNOTSUPP;
	if (fscanf(f, "%ld", &n) != 1)
		n = -EIO;
	fclose(f);
	return n;
}

/* Try hugepages.  @return 0 and fills @m, or -errno (nothing allocated). */
static int alloc_huge(struct st_hugemem *m, size_t len)
{
	long hps = gethugepagesize();
	size_t map_len;
	long nfree;
	uint8_t *p;

	if (hps <= 0)
		return -EOPNOTSUPP;
	map_len = round_up(len, (size_t)hps);
	nfree = huge_free_pages(hps);
	if (nfree < 0)
		return (int)nfree;
	if ((size_t)nfree < map_len / (size_t)hps)
		return -ENOMEM;
	p = get_huge_pages(map_len, GHP_DEFAULT);
	if (!p)
		return -ENOMEM;
	/* The mapping reserved the pages; touch each so none faults later. */
	for (size_t off = 0; off < map_len; off += (size_t)hps)
		((volatile uint8_t *)p)[off] = 0;
	m->base = p;
	m->map_len = map_len;
	m->kind = ST_HUGEMEM_HUGE;
	return 0;
}

static int alloc_pages(struct st_hugemem *m, size_t len)
{
	size_t map_len = round_up(len, (size_t)sysconf(_SC_PAGESIZE));
	void *p;

	p = mmap(NULL, map_len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	m->base = p;
	m->map_len = map_len;
	m->kind = ST_HUGEMEM_PAGES;
	return 0;
}

int st_hugemem_alloc(struct st_hugemem *m, size_t len, enum st_huge_policy policy)
{
	struct st_hugemem t = { .len = len };
	int ret;

	if (len == 0 || (policy != ST_HUGE_AUTO && policy != ST_HUGE_ON && policy != ST_HUGE_OFF))
		return -EINVAL;
	if (policy != ST_HUGE_OFF) {
		ret = alloc_huge(&t, len);
		if (ret == 0)
			goto out;
		if (policy == ST_HUGE_ON)
			return ret;
		t.fallback_errno = -ret;
	}
	ret = alloc_pages(&t, len);
	if (ret < 0)
		return ret;
	ret = ST_HUGEMEM_FALLBACK;
out:
	*m = t;
	return ret;
}

void st_hugemem_free(struct st_hugemem *m)
{
	if (m->kind == ST_HUGEMEM_HUGE)
		free_huge_pages(m->base);
	else if (m->kind == ST_HUGEMEM_PAGES)
		munmap(m->base, m->map_len);
	memset(m, 0, sizeof(*m));
}

static const char *const policy_names[] = {
	[ST_HUGE_AUTO] = "auto",
	[ST_HUGE_ON] = "on",
	[ST_HUGE_OFF] = "off",
};

int st_huge_policy_parse(const char *s, enum st_huge_policy *out)
{
	for (unsigned i = 0; i < sizeof(policy_names) / sizeof(policy_names[0]); i++) {
		if (s && strcmp(s, policy_names[i]) == 0) {
			*out = (enum st_huge_policy)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *st_huge_policy_name(enum st_huge_policy p)
{
	if ((unsigned)p < sizeof(policy_names) / sizeof(policy_names[0]))
		return policy_names[p];
	return "?";
}
