/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * st_ring.c - creation and destruction of partition rings; the hot path is
 * inline in st_ring.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "st_ring.h"

int st_ring_create(struct st_ring **out, uint64_t size, enum st_huge_policy policy)
{
	struct st_ring *r;
	int ret;

	if (size < ST_RING_SIZE_MIN || size > ST_RING_SIZE_MAX || (size & (size - 1)))
		return -EINVAL;
	r = aligned_alloc(ST_RING_CACHE_LINE, sizeof(*r));
	if (!r)
		return -ENOMEM;
	memset(r, 0, sizeof(*r));
	ret = st_hugemem_alloc(&r->mem, size, policy);
	if (ret < 0)
		goto out;
	r->base = r->mem.base;
	r->size = size;
	r->mask = size - 1;
	atomic_init(&r->prod_tail, 0);
	atomic_init(&r->cons_tail, 0);
	atomic_init(&r->pad_pos, UINT64_MAX);
	*out = r;
out:
	if (ret < 0)
		free(r);
	return ret;
}

void st_ring_free(struct st_ring *r)
{
	if (!r)
		return;
	st_hugemem_free(&r->mem);
	free(r);
}
