/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kp_produce.c - Produce v3-7 (v0-2 are advertised so that librdkafka keeps
 * compression on, and answered with UNSUPPORTED_VERSION per partition).
 *
 * Each partition's records are validated in place (exactly one magic-2
 * batch, CRC, counts, max.message.bytes, and the records of an uncompressed
 * batch decoding) before anything touches the log.
 * A partition whose producer is the control thread is appended to at once
 * (st_partition_append copies the batch into its ring and assigns the
 * offsets); one fed by a dataplane lcore gets a copy of the batch through
 * the lcore's inbox, so the partition keeps a single producer.  A full ring
 * or inbox queues the batch (in arrival order per partition) for the 1 ms
 * tick until timeout_ms.  The response is written at once with the fields
 * still unknown patched later, and sent when every partition's batch is
 * covered by the watermark its acks ask for: acks=1 `written`, acks=-1
 * `durable`; acks=0 sends nothing.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_catalog.h"
#include "ctl_store.h"
#include "kp_data.h"
#include "st_inbox.h"
#include "st_partition.h"
#include "st_writer.h"

enum pp_state {
	PP_DONE,        /* answered (error or watermark passed) */
	PP_QUEUED,      /* waiting for ring or inbox room (d->q_head list) */
	PP_INBOX,       /* posted to the owning lcore */
	PP_WAIT,        /* appended; waiting for the acks watermark */
};

/* One partition of a produce request. */
struct kp_pp {
	struct kp_produce *pr;
	struct st_partition *p;
	size_t err_pos, base_pos;       /* response fields patched later */
	int32_t last_delta;             /* the batch's lastOffsetDelta */
	int64_t last_offset;            /* once appended */
	void *copy;                     /* the batch while it waits to be appended */
	uint32_t len;
	struct st_produce_req req;
	enum pp_state state;
	struct kp_pp *q_next;
};

struct kp_produce {
	struct kp_produce *next, *prev;
	struct kp_data *d;
	struct ctl_resp *resp;          /* NULL: acks=0 or the client went away */
	struct kp_writer *w;            /* the response being patched; NULL once gone */
	struct ctl_timer timer;         /* timeout_ms */
	bool can_wait;                  /* on a server loop (not a bare dispatch in tests) */
	unsigned int errors;            /* error codes patched in */
	int16_t acks;
	uint64_t deadline_ns;
	unsigned int n;
	struct kp_pp parts[];
};

/* ---- per-partition outcome ------------------------------------------------ */

static void pp_fail(struct kp_pp *pp, int16_t err)
{
	struct kp_produce *pr = pp->pr;

	free(pp->copy);
	pp->copy = NULL;
	pp->state = PP_DONE;
	pr->errors++;
	if (pr->w)
		kp_patch_i16(pr->w, pp->err_pos, err);
}

static int16_t append_err(int rc)
{
	switch (rc) {
	case -EMSGSIZE:
		return KP_ERR_MESSAGE_TOO_LARGE;
	case ST_ERR_OUT_OF_ORDER:
		return KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
	case ST_ERR_FENCED:
		return KP_ERR_INVALID_PRODUCER_EPOCH;
	default:
		return KP_ERR_KAFKA_STORAGE_ERROR;
	}
}

static void pp_appended(struct kp_pp *pp, int64_t base)
{
	struct kp_produce *pr = pp->pr;

	free(pp->copy);
	pp->copy = NULL;
	pp->last_offset = base + pp->last_delta;
	pp->state = pr->resp ? PP_WAIT : PP_DONE;
	if (pr->w)
		kp_patch_i64(pr->w, pp->base_pos, base);
}

/* A waiting partition: is its batch covered by the watermark acks asks for? */
static void pp_check_wait(struct kp_pp *pp)
{
	enum st_visibility vis = pp->pr->acks == 1 ? ST_VIS_WRITTEN : ST_VIS_DURABLE;

	if (atomic_load_explicit(&pp->p->err, memory_order_acquire))
		pp_fail(pp, KP_ERR_KAFKA_STORAGE_ERROR);
	else if (st_partition_hw(pp->p, vis) > pp->last_offset)
		pp->state = PP_DONE;
}

/* ---- the append queue (full ring or inbox) -------------------------------- */

static bool queued_for(const struct kp_data *d, const struct st_partition *p,
		       const struct kp_pp *before)
{
	for (const struct kp_pp *q = d->q_head; q && q != before; q = q->q_next)
		if (q->p == p)
			return true;
	return false;
}

static void queue_push(struct kp_data *d, struct kp_pp *pp)
{
	pp->state = PP_QUEUED;
	pp->q_next = NULL;
	if (d->q_tail)
		d->q_tail->q_next = pp;
	else
		d->q_head = pp;
	d->q_tail = pp;
}

static void queue_remove(struct kp_data *d, struct kp_pp *pp)
{
	struct kp_pp **at = &d->q_head, *prev = NULL;

	for (; *at && *at != pp; at = &(*at)->q_next)
		prev = *at;
	if (!*at)
		return;
	*at = pp->q_next;
	if (d->q_tail == pp)
		d->q_tail = prev;
	pp->q_next = NULL;
}

static bool inbox_post(struct kp_data *d, struct kp_pp *pp)
{
	unsigned int i, free_i = KP_DATA_INBOXES;

	for (i = 0; i < KP_DATA_INBOXES; i++) {
		if (d->inboxes[i].ib == pp->p->inbox)
			break;
		if (!d->inboxes[i].in_flight && free_i == KP_DATA_INBOXES)
			free_i = i;
	}
	if (i == KP_DATA_INBOXES && (i = free_i) == KP_DATA_INBOXES)
		return false;
	pp->req = (struct st_produce_req){ .p = pp->p, .batch = pp->copy, .len = pp->len,
					   .owner = pp };
	if (!st_inbox_submit(pp->p->inbox, &pp->req))
		return false;
	d->inboxes[i].ib = pp->p->inbox;
	d->inboxes[i].in_flight++;
	pp->state = PP_INBOX;
	return true;
}

/* Try to hand a batch to its partition's producer. @return false: no room, keep it queued. */
static bool pp_try_append(struct kp_data *d, struct kp_pp *pp, const void *batch)
{
	int64_t base;
	int rc;

	if (pp->p->inbox)
		return inbox_post(d, pp);
	rc = st_partition_append(pp->p, batch, pp->len, &base);
	if (rc == -ENOBUFS)
		return false;
	if (rc < 0) {
		pp_fail(pp, append_err(rc));
	} else {
		if (rc != ST_APPEND_DUPLICATE)
			st_writer_kick(pp->p->writer); /* its writer does not poll our rings */
		pp_appended(pp, base);      /* a duplicate: the original's offsets */
	}
	return true;
}

/* Collect what the lcores appended. */
static void inbox_collect(struct kp_data *d)
{
	for (unsigned int i = 0; i < KP_DATA_INBOXES; i++) {
		struct st_produce_req *req;

		while (d->inboxes[i].in_flight && (req = st_inbox_done(d->inboxes[i].ib))) {
			struct kp_pp *pp = req->owner;

			d->inboxes[i].in_flight--;
			if (req->rc < 0)
				pp_fail(pp, append_err(req->rc));
			else
				pp_appended(pp, req->base_offset);
		}
	}
}

bool kp_produce_busy(const struct kp_data *d)
{
	if (d->q_head)
		return true;
	for (unsigned int i = 0; i < KP_DATA_INBOXES; i++)
		if (d->inboxes[i].in_flight)
			return true;
	return false;
}

/* ---- finishing a produce -------------------------------------------------- */

static void produce_free(struct kp_produce *pr)
{
	for (unsigned int i = 0; i < pr->n; i++)
		free(pr->parts[i].copy);
	free(pr);
}

static void produce_unlink(struct kp_data *d, struct kp_produce *pr)
{
	if (pr->prev)
		pr->prev->next = pr->next;
	else if (d->produces == pr)
		d->produces = pr->next;
	if (pr->next)
		pr->next->prev = pr->prev;
	pr->next = pr->prev = NULL;
}

/*
 * Re-check one produce: time out what is overdue, and answer once every
 * partition is done.  Batches queued or in an inbox keep it alive even
 * without a response to send (acks=0, client gone).
 * @return true when it was finished and freed.
 */
static bool produce_done(struct kp_data *d, struct kp_produce *pr)
{
	bool overdue = ctl_now_ns() >= pr->deadline_ns, done = true;

	for (unsigned int i = 0; i < pr->n; i++) {
		struct kp_pp *pp = &pr->parts[i];

		if (pp->state == PP_WAIT)
			pp_check_wait(pp);
		if (pp->state == PP_QUEUED && atomic_load_explicit(&pp->p->err, memory_order_acquire)) {
			/* Its partition stopped (I/O error): 56 now, as the waiting ones get. */
			queue_remove(d, pp);
			pp_fail(pp, KP_ERR_KAFKA_STORAGE_ERROR);
		}
		if (overdue && pp->state == PP_QUEUED) {
			queue_remove(d, pp);
			pp_fail(pp, KP_ERR_REQUEST_TIMED_OUT);
		} else if (overdue && pp->state == PP_WAIT) {
			pp_fail(pp, KP_ERR_REQUEST_TIMED_OUT);
		}
		if (pp->state == PP_WAIT && !pr->resp)
			pp->state = PP_DONE; /* nobody to answer */
		if (pp->state != PP_DONE)
			done = false;
	}
	return done;
}

/* Re-check a waiting produce; answer and free it once done. @return true if freed. */
static bool produce_check(struct kp_data *d, struct kp_produce *pr)
{
	if (!produce_done(d, pr))
		return false;
	produce_unlink(d, pr);
	if (d->srv)
		ctl_timer_cancel(d->srv, &pr->timer);
	if (pr->resp) {
		ctl_resp_add_errors(pr->resp, pr->errors);
		ctl_resp_complete(pr->resp, true);
	}
	produce_free(pr);
	return true;
}

void kp_produce_recheck(struct kp_data *d)
{
	struct kp_produce *pr;

	/*
	 * Answering one produce can close its connection, whose cancel
	 * callbacks free other produces of this list: after every answer,
	 * start again from the head instead of trusting a saved next pointer.
	 */
restart:
	for (pr = d->produces; pr; pr = pr->next)
		if (produce_check(d, pr))
			goto restart;
}

void kp_produce_tick(struct kp_data *d)
{
	struct kp_pp *pp = d->q_head, *next;

	for (; pp; pp = next) {
		next = pp->q_next;
		/* Keep per-partition order: nothing passes an earlier queued batch. */
		if (queued_for(d, pp->p, pp))
			continue;
		if (pp_try_append(d, pp, pp->copy))
			queue_remove(d, pp);
	}
	inbox_collect(d);
	kp_produce_recheck(d);
}

static void produce_timer(void *arg, struct ctl_timer *t)
{
	struct kp_produce *pr = arg;

	(void)t;
	produce_check(pr->d, pr);
}

static void produce_cancel(void *arg, struct ctl_resp *resp)
{
	struct kp_produce *pr = arg;

	pr->resp = NULL;
	pr->w = NULL;
	ctl_resp_complete(resp, false); /* orphaned: just frees the slot */
	produce_check(pr->d, pr);
}

void kp_produce_free_all(struct kp_data *d)
{
	while (d->produces) {
		struct kp_produce *pr = d->produces;

		d->produces = pr->next;
		produce_free(pr);
	}
	d->q_head = d->q_tail = NULL;
}

/* ---- a partition going away ---------------------------------------------- */

static bool inbox_holds(const struct kp_data *d, const struct st_partition *p)
{
	for (const struct kp_produce *pr = d->produces; pr; pr = pr->next)
		for (unsigned int i = 0; i < pr->n; i++)
			if (pr->parts[i].p == p && pr->parts[i].state == PP_INBOX)
				return true;
	return false;
}

/*
 * @p is about to be closed and freed (DeleteTopics): no batch may point at
 * it afterwards.  Kafka completes a produce waiting in purgatory whose
 * partition went away with ReplicaManager.getPartitionOrError()'s answer:
 * UNKNOWN_TOPIC_OR_PARTITION (3) when the topic is no longer in the
 * metadata, which is the delete case; NOT_LEADER_OR_FOLLOWER (6) is for a
 * topic that still exists with its replica moved elsewhere, which a single
 * broker never sees.  base_offset stays as assigned, as Kafka only sets the
 * error on the partition's status.
 */
void kp_produce_partition_gone(struct kp_data *d, const struct st_partition *p)
{
	/*
	 * A batch in an lcore's inbox is being appended by that lcore, which
	 * dereferences @p: wait for it (lcores serve their inbox every poll).
	 * Today it cannot happen -- inboxes feed rule-fed topics, which
	 * DeleteTopics refuses -- so this loop never runs.
	 */
	while (inbox_holds(d, p)) {
		inbox_collect(d);
		sched_yield();
	}
	for (struct kp_produce *pr = d->produces; pr; pr = pr->next) {
		for (unsigned int i = 0; i < pr->n; i++) {
			struct kp_pp *pp = &pr->parts[i];

			if (pp->p != p)
				continue;
			if (pp->state == PP_QUEUED)
				queue_remove(d, pp);
			if (pp->state == PP_QUEUED || pp->state == PP_WAIT)
				pp_fail(pp, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
			pp->p = NULL;
		}
	}
	kp_produce_recheck(d); /* answer those now complete */
}

/* ---- the request ---------------------------------------------------------- */

/* The topic a produce names, auto-created when allowed (as Metadata does). */
static struct ctl_topic *produce_topic(struct ctl_catalog *cat, struct kp_str name)
{
	struct ctl_topic *t = ctl_catalog_find(cat, name.ptr, (size_t)name.len);
	struct ctl_topic_spec spec = { name.ptr, (size_t)name.len,
				       ctl_catalog_default_partitions(cat), NULL, 0, false };
	char msg[256];

	if (t || !ctl_catalog_auto_create_enabled(cat))
		return t;
	if (ctl_catalog_topic_create(cat, &spec, false, &t, msg, sizeof(msg)) != KP_ERR_NONE)
		return NULL;
	return t;
}

/* Validate and hand over one partition's batch; @return the error to answer now. */
static int16_t pp_start(struct kp_req *req, struct kp_pp *pp, const struct ctl_topic *t,
			int32_t index, struct kp_str records)
{
	struct kp_data *d = req->ctx->data;
	struct st_batch_info bi;
	enum st_batch_err be;

	if (t->internal)
		return KP_ERR_INVALID_TOPIC_EXCEPTION; /* only the coordinator writes them (Kafka) */
	pp->p = kp_data_partition(t, index);
	if (!pp->p || !d)
		return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	if (!records.ptr)
		return KP_ERR_INVALID_RECORD;
	/* V_RECORDS: a CRC-valid batch whose records do not decode is refused, as Kafka's
	 * LogValidator does (INVALID_RECORD), rather than stored and served to consumers. */
	be = st_batch_validate(records.ptr, (size_t)records.len,
			       ST_BATCH_V_PRODUCE | ST_BATCH_V_EXACT | ST_BATCH_V_RECORDS,
			       (uint32_t)t->cfg.v[CTL_TCFG_MAX_MESSAGE_BYTES], &bi);
	if (be == ST_BATCH_ERR_BAD_MAGIC)
		return KP_ERR_INVALID_RECORD; /* v3+ carry magic 2 only (Kafka's ProduceRequest) */
	if (be != ST_BATCH_ERR_OK)
		return st_batch_err_kafka(be);
	if (bi.attributes & ST_BATCH_ATTR_TRANSACTIONAL)
		return KP_ERR_INVALID_REQUEST; /* no transaction coordinator here */
	if (atomic_load_explicit(&pp->p->err, memory_order_acquire))
		return KP_ERR_KAFKA_STORAGE_ERROR;
	pp->last_delta = bi.last_offset_delta;
	pp->len = (uint32_t)records.len;
	if (!pp->p->inbox && !queued_for(d, pp->p, NULL) &&
	    pp_try_append(d, pp, records.ptr))
		return KP_ERR_NONE;
	/* Full ring, or an lcore's partition: it waits in the queue with a copy. */
	if (!pp->pr->can_wait)
		return KP_ERR_REQUEST_TIMED_OUT; /* no loop to wait on (tests) */
	pp->copy = malloc(pp->len);
	if (!pp->copy)
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	memcpy(pp->copy, records.ptr, pp->len);
	queue_push(d, pp);
	return KP_ERR_NONE;
}

/* One partitions[] entry of the response, with slots patched by what follows. */
static void pp_answer(struct kp_req *req, struct kp_writer *w, struct kp_pp *pp, int32_t index,
		      const struct ctl_topic *t)
{
	struct st_partition *p = kp_data_partition(t, index);

	kp_write_i32(w, index);                          /* index */
	pp->err_pos = w->len;
	kp_write_i16(w, KP_ERR_NONE);                    /* error_code */
	pp->base_pos = w->len;
	kp_write_i64(w, -1);                             /* base_offset */
	kp_write_i64(w, -1);                             /* log_append_time_ms (CreateTime) */
	if (req->api_version >= 5)                       /* log_start_offset */
		kp_write_i64(w, p ? st_partition_log_start(p) : -1);
}

/* Count the partitions (and check the framing) before allocating. */
static int32_t count_partitions(struct kp_reader r)
{
	int32_t n_topics = kp_read_array(&r, 6), total = 0;

	for (int32_t i = 0; i < n_topics && kp_reader_ok(&r); i++) {
		int32_t n;

		(void)kp_read_str(&r);                   /* name */
		n = kp_read_array(&r, 8);                /* partition_data */
		for (int32_t j = 0; j < n && kp_reader_ok(&r); j++) {
			(void)kp_read_i32(&r);           /* index */
			(void)kp_read_bytes(&r);         /* records */
			total++;
		}
	}
	return kp_reader_ok(&r) && kp_reader_left(&r) == 0 ? total : -1;
}

/* Walk topics[] again, answering (or starting) each partition. */
static void produce_topics(struct kp_req *req, struct kp_reader *r, struct kp_writer *w,
			   struct kp_produce *pr, int16_t req_err)
{
	int32_t n_topics = kp_read_array(r, 6);
	unsigned int k = 0;

	kp_write_i32(w, n_topics);                       /* responses */
	for (int32_t i = 0; i < n_topics; i++) {
		struct kp_str name = kp_read_str(r);     /* name */
		int32_t n = kp_read_array(r, 8);         /* partition_data */
		int16_t terr = req_err ? req_err
				       : !kp_authorized(req, CTL_ACL_WRITE, CTL_ACL_TOPIC, name)
					       ? KP_ERR_TOPIC_AUTHORIZATION_FAILED : KP_ERR_NONE;
		struct ctl_topic *t = terr ? NULL : produce_topic(req->ctx->cat, name);

		kp_write_strn(w, name.ptr, name.len);    /* name */
		kp_write_i32(w, n);                      /* partition_responses */
		for (int32_t j = 0; j < n; j++) {
			int32_t index = kp_read_i32(r);  /* index */
			struct kp_str records = kp_read_bytes(r); /* records */
			struct kp_pp *pp = &pr->parts[k++];
			int16_t err = terr;

			pp->pr = pr;
			pp->state = PP_DONE;
			pp_answer(req, w, pp, index, t);
			if (!err && !t)
				err = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
			if (!err)
				err = pp_start(req, pp, t, index, records);
			if (err)
				pp_fail(pp, err);
		}
	}
}

/*
 * v0-2 (acks, timeout_ms, topics[name, [index, records]]): advertised only
 * so that librdkafka keeps compression on; every partition gets
 * UNSUPPORTED_VERSION in the version's own layout.
 */
static enum ctl_disp produce_old(struct kp_req *req, struct kp_reader *r, struct kp_writer *w)
{
	int16_t acks = kp_read_i16(r);                   /* acks */
	int32_t n_topics;

	(void)kp_read_i32(r);                            /* timeout_ms */
	n_topics = kp_read_array(r, 6);                  /* topics */
	kp_write_i32(w, n_topics);                       /* responses */
	for (int32_t i = 0; i < n_topics && kp_reader_ok(r); i++) {
		struct kp_str name = kp_read_str(r);     /* name */
		int32_t n = kp_read_array(r, 8);         /* partitions */

		kp_write_strn(w, name.ptr, name.len);    /* name */
		kp_write_i32(w, n);                      /* partition_responses */
		for (int32_t j = 0; j < n && kp_reader_ok(r); j++) {
			kp_write_i32(w, kp_read_i32(r)); /* index */
			(void)kp_read_bytes(r);          /* records */
			kp_write_err(req, w, KP_ERR_UNSUPPORTED_VERSION); /* error_code */
			kp_write_i64(w, -1);             /* base_offset */
			if (req->api_version >= 2)
				kp_write_i64(w, -1);     /* log_append_time_ms */
		}
	}
	if (req->api_version >= 1)
		kp_write_i32(w, 0);                      /* throttle_time_ms */
	if (!kp_reader_ok(r))
		return CTL_DISP_CLOSE;
	return acks ? CTL_DISP_RESPOND : CTL_DISP_NO_RESPONSE;
}

/* Keep a produce that still waits; @return what dispatch answers. */
static enum ctl_disp produce_defer(struct kp_data *d, struct kp_produce *pr, int32_t timeout_ms)
{
	pr->next = d->produces;
	if (d->produces)
		d->produces->prev = pr;
	d->produces = pr;
	if (!pr->resp)
		pr->w = NULL; /* acks=0: the slot leaves with dispatch, nothing to patch */
	ctl_timer_init(&pr->timer, produce_timer, pr);
	ctl_timer_arm(d->srv, &pr->timer, (uint64_t)(timeout_ms > 0 ? timeout_ms : 0));
	if (pr->resp)
		ctl_resp_set_cancel(pr->resp, produce_cancel, pr);
	if (kp_produce_busy(d))
		kp_data_tick_arm(d);
	return pr->resp ? CTL_DISP_PENDING : CTL_DISP_NO_RESPONSE;
}

enum ctl_disp kp_handle_produce(struct kp_req *req, struct kp_reader *r, struct kp_writer *w)
{
	struct kp_data *d = req->ctx->data;
	struct kp_produce *pr;
	struct kp_str txn;
	int32_t timeout_ms, n;
	int16_t acks, err = KP_ERR_NONE;
	enum ctl_disp disp;

	if (req->api_version < 3)
		return produce_old(req, r, w);
	txn = kp_read_nstr(r);                           /* transactional_id */
	acks = kp_read_i16(r);                           /* acks */
	timeout_ms = kp_read_i32(r);                     /* timeout_ms */
	n = count_partitions(*r);
	if (!kp_reader_ok(r) || n < 0)
		return CTL_DISP_CLOSE;
	pr = calloc(1, sizeof(*pr) + (size_t)n * sizeof(pr->parts[0]));
	if (!pr)
		return CTL_DISP_CLOSE;
	pr->d = d;
	pr->acks = acks;
	pr->w = w;
	pr->resp = acks ? req->resp : NULL;
	pr->n = (unsigned int)n;
	pr->can_wait = d && req->resp && kp_data_bind(d, ctl_resp_server(req->resp), req->ctx->cat) == 0;
	pr->deadline_ns = ctl_now_ns() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000u;
	if (acks != 0 && acks != 1 && acks != -1)
		err = KP_ERR_INVALID_REQUIRED_ACKS;
	else if (txn.ptr)
		err = KP_ERR_INVALID_REQUEST;            /* transactions are not supported */
	produce_topics(req, r, w, pr, err);
	kp_write_i32(w, 0);                              /* throttle_time_ms (last) */
	disp = acks ? CTL_DISP_RESPOND : CTL_DISP_NO_RESPONSE;
	if (pr->can_wait && !produce_done(d, pr))
		return produce_defer(d, pr, timeout_ms);
	req->errors += pr->errors;
	produce_free(pr);
	return disp;
}
