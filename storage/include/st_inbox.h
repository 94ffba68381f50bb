/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * st_inbox.h - produce requests handed to a partition's single producer.
 *
 * Every partition has exactly one producer thread.  For a partition fed by
 * traffic rules that is a dataplane lcore; a Kafka Produce for it arrives on
 * the control thread, which must not write the ring itself.  It posts a
 * struct st_produce_req to the owning lcore's inbox instead; the lcore
 * serves its inbox in its poll loop (st_partition_append on its own
 * partitions) and posts the request back; the control thread collects
 * finished requests with st_inbox_done() (it polls on a timer: an lcore
 * makes no system call, so it cannot wake anybody).
 *
 * Two single-producer/single-consumer pointer rings, lock-free, no
 * allocation after creation: control -> owner (requests), owner -> control
 * (completions).  A partition whose producer is the control thread has no
 * inbox (st_partition.inbox == NULL) and is appended to directly.
 */
#ifndef ST_INBOX_H
#define ST_INBOX_H

#include <stdbool.h>
#include <stdint.h>

struct st_partition;

struct st_produce_req {
	struct st_partition *p;     /* target, owned by the inbox's thread */
	const void *batch;          /* one validated RecordBatch, kept alive by the requester */
	uint32_t len;
	int rc;                     /* result: st_partition_append()'s return */
	int64_t base_offset;        /* result: assigned base offset when rc == 0 */
	void *owner;                /* the requester's token (e.g. a deferred response) */
};

struct st_inbox;

/** Create an inbox holding up to @size requests each way (power of two). */
int st_inbox_create(struct st_inbox **out, uint32_t size);
void st_inbox_free(struct st_inbox *ib);

/** Requester: post @r.  @return false when the inbox is full (try later). */
bool st_inbox_submit(struct st_inbox *ib, struct st_produce_req *r);

/**
 * Owner (producer thread): append up to @max posted requests to their
 * partitions and post them back.  Never blocks; a request whose completion
 * cannot be posted back yet stays queued.  @return requests served.
 */
unsigned st_inbox_serve(struct st_inbox *ib, unsigned max);

/** Requester: the next finished request, or NULL. */
struct st_produce_req *st_inbox_done(struct st_inbox *ib);

#endif /* ST_INBOX_H */
