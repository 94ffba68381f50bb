/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * st_hugemem.h - buffers in hugepage memory, with an honest fallback.
 *
 * Partition rings and the io_uring staging buffers live here.  Hugepages cut
 * TLB misses on the ring and make io_uring buffer registration cheap (one
 * pinned page per 2 MiB).  When the host has none reserved the buffer comes
 * from ordinary anonymous pages, pre-faulted with MAP_POPULATE so the first
 * pass over the ring does not pay the page-fault cost (first touch runs at
 * ~1 GB/s on these machines against ~10 GB/s for memcpy).
 *
 * The allocator never logs: it returns ST_HUGEMEM_FALLBACK and records why in
 * the descriptor, and the caller logs one warning.  Allocation is a slow-path
 * call (startup, partition creation), never on an lcore poll loop.
 */
#ifndef ST_HUGEMEM_H
#define ST_HUGEMEM_H

#include <stdbool.h>
#include <stddef.h>

enum st_huge_policy {
	ST_HUGE_AUTO = 0, /* hugepages if the host has them free, else ordinary pages */
	ST_HUGE_ON,       /* hugepages or fail */
	ST_HUGE_OFF,      /* ordinary pages only */
};

/* How a buffer was obtained; st_hugemem_free() needs it. */
enum st_hugemem_kind {
	ST_HUGEMEM_NONE = 0,
	ST_HUGEMEM_HUGE,  /* libhugetlbfs get_huge_pages() */
	ST_HUGEMEM_PAGES, /* mmap of ordinary pages, MAP_POPULATE */
};

struct st_hugemem {
	void *base;               /* page aligned (hugepage aligned when huge) */
	size_t len;               /* bytes asked for */
	size_t map_len;           /* bytes mapped (rounded up to the page size) */
	enum st_hugemem_kind kind;
	int fallback_errno;       /* why hugepages were not used (0 if they were or policy off) */
};

/* Positive return of st_hugemem_alloc(): it worked, on ordinary pages. */
#define ST_HUGEMEM_FALLBACK 1

/**
 * Allocate @len bytes (zero-filled, pre-faulted).
 *
 * @param m       descriptor to fill; untouched on error.
 * @param len     bytes (> 0); rounded up to the page size used.
 * @param policy  see enum st_huge_policy.
 * @return 0 on hugepages; ST_HUGEMEM_FALLBACK on ordinary pages under
 *   ST_HUGE_AUTO (m->fallback_errno says why: ENOMEM no free hugepages,
 *   EOPNOTSUPP no hugepage support) or ST_HUGE_OFF (fallback_errno 0);
 *   -EINVAL bad @len or @policy; -ENOMEM (policy ON) not enough free
 *   hugepages; -EOPNOTSUPP (policy ON) kernel without hugepages; other
 *   -errno from mmap.
 */
int st_hugemem_alloc(struct st_hugemem *m, size_t len, enum st_huge_policy policy);

/** Release a buffer from st_hugemem_alloc(); safe on a zeroed descriptor. */
void st_hugemem_free(struct st_hugemem *m);

/** Parse "auto" | "on" | "off".  @return 0 or -EINVAL. */
int st_huge_policy_parse(const char *s, enum st_huge_policy *out);

/** Name of a policy, for logs. */
const char *st_huge_policy_name(enum st_huge_policy p);

#endif /* ST_HUGEMEM_H */
