/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * st_inbox.c - two SPSC pointer rings between the control thread and a
 * partition's producer thread (see st_inbox.h).
 */
#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "st_inbox.h"
#include "st_partition.h"

struct spsc {
	alignas(64) _Atomic uint32_t head;  /* written by the consumer */
	alignas(64) _Atomic uint32_t tail;  /* written by the producer */
	alignas(64) uint32_t mask;
	void **slot;
};

struct st_inbox {
	struct spsc req;   /* requester -> owner */
	struct spsc done;  /* owner -> requester */
};

static bool spsc_push(struct spsc *q, void *v)
{
	uint32_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);

	if (t - atomic_load_explicit(&q->head, memory_order_acquire) > q->mask)
		return false;
	q->slot[t & q->mask] = v;
	atomic_store_explicit(&q->tail, t + 1, memory_order_release);
	return true;
}

static void *spsc_peek(struct spsc *q)
{
	uint32_t h = atomic_load_explicit(&q->head, memory_order_relaxed);

	if (h == atomic_load_explicit(&q->tail, memory_order_acquire))
		return NULL;
	return q->slot[h & q->mask];
}

static void spsc_pop(struct spsc *q)
{
	atomic_store_explicit(&q->head, atomic_load_explicit(&q->head, memory_order_relaxed) + 1,
			      memory_order_release);
}

static bool spsc_full(struct spsc *q)
{
	return atomic_load_explicit(&q->tail, memory_order_relaxed) -
	       atomic_load_explicit(&q->head, memory_order_acquire) > q->mask;
}

int st_inbox_create(struct st_inbox **out, uint32_t size)
{
	struct st_inbox *ib;

	if (size < 2 || (size & (size - 1)))
		return -EINVAL;
	if (posix_memalign((void **)&ib, 64, sizeof(*ib)))
		return -ENOMEM;
	memset(ib, 0, sizeof(*ib));
	ib->req.slot = calloc(size, sizeof(void *));
	ib->done.slot = calloc(size, sizeof(void *));
	if (!ib->req.slot || !ib->done.slot) {
		st_inbox_free(ib);
		return -ENOMEM;
	}
	ib->req.mask = ib->done.mask = size - 1;
	*out = ib;
	return 0;
}

void st_inbox_free(struct st_inbox *ib)
{
	if (!ib)
		return;
	free(ib->req.slot);
	free(ib->done.slot);
	free(ib);
}

bool st_inbox_submit(struct st_inbox *ib, struct st_produce_req *r)
{
	return spsc_push(&ib->req, r);
}

unsigned st_inbox_serve(struct st_inbox *ib, unsigned max)
{
	struct st_produce_req *r;
	unsigned n = 0;

	/* Serve only what can be posted back, so no request is ever stranded. */
	while (n < max && !spsc_full(&ib->done) && (r = spsc_peek(&ib->req)) != NULL) {
		r->rc = st_partition_append(r->p, r->batch, r->len, &r->base_offset);
		spsc_pop(&ib->req);
		spsc_push(&ib->done, r);
		n++;
	}
	return n;
}

struct st_produce_req *st_inbox_done(struct st_inbox *ib)
{
	struct st_produce_req *r = spsc_peek(&ib->done);

	if (r)
		spsc_pop(&ib->done);
	return r;
}
