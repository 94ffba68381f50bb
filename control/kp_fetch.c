/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kp_fetch.c - Fetch v4-11, sessionless (session_id 0), read up to the
 * high watermark of storage.consumer.visibility.
 *
 * Zero copy: each partition's records are a file range of whole batches
 * from st_log_read(); the response carries the range itself
 * (ctl_resp_add_file), and the connection sends it with sendfile() once
 * the bytes before it are out.  The range holds its segment (even one that
 * retention deletes meanwhile) until it is sent.  Without a server loop
 * (the codec tests' bare dispatch) the bytes are copied instead.
 *
 * Long-poll: when less than min_bytes is readable the request is kept (a
 * copy of its body) for up to max_wait_ms; every watermark notify re-checks
 * it, and the timer answers with whatever is there.  Errors answer at once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_catalog.h"
#include "ctl_store.h"
#include "fwc_config.h"
#include "kp_data.h"
#include "st_log.h"
#include "st_partition.h"

/* The request fields before topics[]. */
struct fetch_head {
	int32_t max_wait_ms;
	int32_t min_bytes;
	int32_t max_bytes;
};

/* One partitions[] entry of the request. */
struct fetch_part {
	int32_t partition;
	int64_t fetch_offset;
	int32_t partition_max_bytes;
};

/* A long-poll waiting for data. */
struct kp_fetch {
	struct kp_fetch *next, *prev;
	struct kp_data *d;
	struct kp_req req;              /* ctx, version, slot */
	struct ctl_timer timer;         /* max_wait_ms */
	struct fetch_head h;
	size_t len;
	uint8_t body[];                 /* the request from topics[] on */
};

static void read_head(struct kp_reader *r, int16_t v, struct fetch_head *h)
{
	(void)kp_read_i32(r);                            /* replica_id */
	h->max_wait_ms = kp_read_i32(r);                 /* max_wait_ms */
	h->min_bytes = kp_read_i32(r);                   /* min_bytes */
	h->max_bytes = kp_read_i32(r);                   /* max_bytes */
	(void)kp_read_i8(r);                             /* isolation_level: LSO = HW here */
	if (v >= 7) {
		(void)kp_read_i32(r);                    /* session_id: sessions unsupported */
		(void)kp_read_i32(r);                    /* session_epoch */
	}
}

static void read_part(struct kp_reader *r, int16_t v, struct fetch_part *fp)
{
	fp->partition = kp_read_i32(r);                  /* partition */
	if (v >= 9)
		(void)kp_read_i32(r);                    /* current_leader_epoch */
	fp->fetch_offset = kp_read_i64(r);               /* fetch_offset */
	if (v >= 5)
		(void)kp_read_i64(r);                    /* log_start_offset (followers) */
	fp->partition_max_bytes = kp_read_i32(r);        /* partition_max_bytes */
}

/* Walk the rest of the request (topics, forgotten, rack) to check its framing. */
static bool body_valid(struct kp_reader r, int16_t v)
{
	int32_t n_topics = kp_read_array(&r, 6);
	struct fetch_part fp;

	for (int32_t i = 0; i < n_topics && kp_reader_ok(&r); i++) {
		int32_t n;

		(void)kp_read_str(&r);                   /* topic */
		n = kp_read_array(&r, 16);               /* partitions */
		for (int32_t j = 0; j < n && kp_reader_ok(&r); j++)
			read_part(&r, v, &fp);
	}
	if (v >= 7) {
		int32_t n = kp_read_array(&r, 6);        /* forgotten_topics_data */

		for (int32_t i = 0; i < n && kp_reader_ok(&r); i++) {
			(void)kp_read_str(&r);           /* topic */
			kp_read_skip(&r, 4u * (size_t)kp_read_array(&r, 4)); /* partitions */
		}
	}
	if (v >= 11)
		(void)kp_read_str(&r);                   /* rack_id */
	return kp_reader_ok(&r);
}

/* The answer for one partition, before it is written. */
struct part_state {
	struct st_partition *p;
	int16_t err;
	int64_t hw, log_start;
};

static void part_state(const struct kp_api_ctx *ctx, const struct ctl_topic *t,
		       const struct fetch_part *fp, struct part_state *ps)
{
	ps->p = ctx->data ? kp_data_partition(t, fp->partition) : NULL;
	ps->hw = ps->log_start = -1;
	if (!ps->p) {
		ps->err = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		return;
	}
	ps->hw = st_partition_hw(ps->p, ctl_store_visibility(ctx->data->store));
	ps->log_start = st_partition_log_start(ps->p);
	/* Kafka's range is [log start, log end]; above the HW there is just nothing yet. */
	if (fp->fetch_offset < ps->log_start ||
	    fp->fetch_offset > st_partition_hw(ps->p, ST_VIS_WRITTEN))
		ps->err = KP_ERR_OFFSET_OUT_OF_RANGE;
	else
		ps->err = KP_ERR_NONE;
}

/*
 * Is the request ready to be answered: an error somewhere (answered at
 * once), or at least min_bytes readable?
 */
static bool fetch_ready(const struct kp_api_ctx *ctx, struct kp_reader r, int16_t v,
			int32_t min_bytes)
{
	int32_t n_topics = kp_read_array(&r, 6);
	int64_t avail = 0;

	for (int32_t i = 0; i < n_topics; i++) {
		struct kp_str name = kp_read_str(&r);    /* topic */
		const struct ctl_topic *t = ctl_catalog_find(ctx->cat, name.ptr, (size_t)name.len);
		int32_t n = kp_read_array(&r, 16);       /* partitions */

		for (int32_t j = 0; j < n; j++) {
			struct st_log_range range;
			struct part_state ps;
			struct fetch_part fp;

			read_part(&r, v, &fp);
			part_state(ctx, t, &fp, &ps);
			if (ps.err != KP_ERR_NONE)
				return true;
			if (fp.fetch_offset >= ps.hw)
				continue;
			if (min_bytes <= 1)
				return true;
			if (st_log_read(ps.p->log, fp.fetch_offset, (uint32_t)fp.partition_max_bytes,
					ps.hw, &range) < 0)
				return true; /* answered with the error */
			avail += range.length;
			st_log_range_put(&range);
			if (avail >= min_bytes)
				return true;
		}
	}
	return false;
}

static void range_release(void *arg)
{
	st_log_range_put(arg);
	free(arg);
}

/* Copy a range into the response (no server loop, or no memory to track it). */
static void records_copy(struct kp_writer *w, const struct st_log_range *range)
{
	uint8_t *buf = calloc(1, range->length ? range->length : 1);
	ssize_t n = -1;

	if (buf)
		n = pread(range->fd, buf, range->length, (off_t)range->position);
	if (n != (ssize_t)range->length)
		w->err = -EIO; /* never send a frame that lies about its length */
	else
		kp_write_raw(w, buf, range->length);
	free(buf);
}

/* records: the length, then the range spliced in (or copied). Consumes @range. */
static void records_attach(struct kp_req *req, struct kp_writer *w, struct st_log_range *range)
{
	struct st_log_range *hold;

	kp_write_i32(w, (int32_t)range->length);         /* records */
	if (req->resp && (hold = malloc(sizeof(*hold)))) {
		*hold = *range;
		if (ctl_resp_add_file(req->resp, hold->fd, hold->position, hold->length,
				      range_release, hold) == 0)
			return;
		free(hold);
	}
	records_copy(w, range);
	st_log_range_put(range);
}

/* Read a partition's records within the budget: @return 0 with @range, or a Kafka error. */
static int16_t part_read(const struct part_state *ps, const struct fetch_part *fp,
			 int64_t *budget, bool *first, struct st_log_range *range)
{
	int64_t limit = fp->partition_max_bytes < *budget ? fp->partition_max_bytes : *budget;
	int rc;

	range->length = 0;
	if (ps->err || fp->fetch_offset >= ps->hw || (!*first && limit <= 0))
		return ps->err;
	rc = st_log_read(ps->p->log, fp->fetch_offset, limit > 0 ? (uint32_t)limit : 0, ps->hw,
			 range);
	if (rc < 0) {
		range->length = 0;
		return rc == -ERANGE ? KP_ERR_OFFSET_OUT_OF_RANGE : KP_ERR_KAFKA_STORAGE_ERROR;
	}
	/* Only the first partition with data may exceed the limits (one whole batch). */
	if (range->length && !*first && range->length > limit) {
		st_log_range_put(range);
		range->length = 0;
	}
	if (range->length) {
		*first = false;
		*budget -= range->length;
	}
	return KP_ERR_NONE;
}

/* One partitions[] entry of the response. */
static void write_part(struct kp_req *req, struct kp_writer *w, struct ctl_topic *t,
		       const struct fetch_part *fp, int64_t *budget, bool *first, bool denied)
{
	int16_t v = req->api_version;
	struct st_log_range range = { 0 };
	struct part_state ps = { .hw = -1, .log_start = -1 };
	int16_t err = KP_ERR_TOPIC_AUTHORIZATION_FAILED;

	if (!denied) {
		part_state(req->ctx, t, fp, &ps);
		err = part_read(&ps, fp, budget, first, &range);
	}
	kp_write_i32(w, fp->partition);                  /* partition_index */
	kp_write_err(req, w, err);                       /* error_code */
	kp_write_i64(w, ps.hw);                          /* high_watermark */
	kp_write_i64(w, ps.hw);                          /* last_stable_offset: no transactions */
	if (v >= 5)
		kp_write_i64(w, ps.log_start);           /* log_start_offset */
	kp_write_i32(w, 0);                              /* aborted_transactions: empty */
	if (v >= 11)
		kp_write_i32(w, -1);                     /* preferred_read_replica */
	if (!range.length) {
		kp_write_i32(w, 0);                      /* records: none */
		return;
	}
	t->partitions[fp->partition].stats.bytes_out += range.length;
	t->partitions[fp->partition].stats.records_out += (uint64_t)(range.next_offset -
		(range.first_offset > fp->fetch_offset ? range.first_offset : fp->fetch_offset));
	records_attach(req, w, &range);
}

/* The response body; @r is at topics[]. */
static void fetch_write(struct kp_req *req, struct kp_reader *r, struct kp_writer *w,
			const struct fetch_head *h)
{
	int16_t v = req->api_version;
	int32_t cap = req->ctx->cfg ? req->ctx->cfg->broker.fetch_max_bytes : INT32_MAX;
	int64_t budget = h->max_bytes < cap ? h->max_bytes : cap; /* as Kafka: the smaller */
	bool first = true;
	int32_t n_topics;

	kp_write_i32(w, 0);                              /* throttle_time_ms */
	if (v >= 7) {
		kp_write_err(req, w, KP_ERR_NONE);       /* error_code */
		kp_write_i32(w, 0);                      /* session_id: none */
	}
	n_topics = kp_read_array(r, 6);
	kp_write_i32(w, n_topics);                       /* responses */
	for (int32_t i = 0; i < n_topics; i++) {
		struct kp_str name = kp_read_str(r);     /* topic */
		struct ctl_topic *t = ctl_catalog_find(req->ctx->cat, name.ptr, (size_t)name.len);
		int32_t n = kp_read_array(r, 16);        /* partitions */
		bool denied = !kp_authorized(req, CTL_ACL_READ, CTL_ACL_TOPIC, name);

		kp_write_strn(w, name.ptr, name.len);    /* topic */
		kp_write_i32(w, n);                      /* partitions */
		for (int32_t j = 0; j < n; j++) {
			struct fetch_part fp;

			read_part(r, v, &fp);
			write_part(req, w, t, &fp, &budget, &first, denied);
		}
	}
}

/* ---- long-poll ------------------------------------------------------------ */

static void fetch_unlink(struct kp_data *d, struct kp_fetch *f)
{
	if (f->prev)
		f->prev->next = f->next;
	else if (d->fetches == f)
		d->fetches = f->next;
	if (f->next)
		f->next->prev = f->prev;
	f->next = f->prev = NULL;
	if (d->srv)
		ctl_timer_cancel(d->srv, &f->timer);
}

static void fetch_answer(struct kp_fetch *f)
{
	struct ctl_resp *resp = f->req.resp;
	struct kp_reader r;

	fetch_unlink(f->d, f);
	kp_reader_init(&r, f->body, f->len);
	f->req.errors = 0;
	fetch_write(&f->req, &r, ctl_resp_writer(resp), &f->h);
	ctl_resp_add_errors(resp, f->req.errors);
	ctl_resp_complete(resp, true);
	free(f);
}

static void fetch_timer(void *arg, struct ctl_timer *t)
{
	(void)t;
	fetch_answer(arg);
}

static void fetch_cancel(void *arg, struct ctl_resp *resp)
{
	struct kp_fetch *f = arg;

	fetch_unlink(f->d, f);
	ctl_resp_complete(resp, false);
	free(f);
}

void kp_fetch_recheck(struct kp_data *d)
{
	struct kp_fetch *f;

	/* As kp_produce_recheck: an answer may free other entries; restart. */
restart:
	for (f = d->fetches; f; f = f->next) {
		struct kp_reader r;

		kp_reader_init(&r, f->body, f->len);
		if (fetch_ready(f->req.ctx, r, f->req.api_version, f->h.min_bytes)) {
			fetch_answer(f);
			goto restart;
		}
	}
}

void kp_fetch_free_all(struct kp_data *d)
{
	while (d->fetches) {
		struct kp_fetch *f = d->fetches;

		d->fetches = f->next;
		free(f);
	}
}

/* Keep the request until data or max_wait_ms. @return false: no memory. */
static bool fetch_defer(struct kp_req *req, const struct kp_reader *topics,
			const struct fetch_head *h)
{
	struct kp_data *d = req->ctx->data;
	size_t len = topics->len - topics->pos;
	struct kp_fetch *f = malloc(sizeof(*f) + len);

	if (!f)
		return false;
	memset(f, 0, sizeof(*f));
	memcpy(f->body, topics->buf + topics->pos, len);
	f->len = len;
	f->d = d;
	f->req = *req;
	f->req.client_id = (struct kp_str){ NULL, -1 }; /* points into the frame */
	f->h = *h;
	f->next = d->fetches;
	if (d->fetches)
		d->fetches->prev = f;
	d->fetches = f;
	ctl_timer_init(&f->timer, fetch_timer, f);
	ctl_timer_arm(d->srv, &f->timer, (uint64_t)h->max_wait_ms);
	ctl_resp_set_cancel(req->resp, fetch_cancel, f);
	return true;
}

/* A topic the principal may not Read: answered at once (29), never parked. */
static bool fetch_denied(struct kp_req *req, struct kp_reader r)
{
	int32_t n_topics = kp_read_array(&r, 6);

	for (int32_t i = 0; i < n_topics; i++) {
		struct kp_str name = kp_read_str(&r);    /* topic */
		int32_t n = kp_read_array(&r, 16);       /* partitions */
		struct fetch_part fp;

		if (!kp_authorized(req, CTL_ACL_READ, CTL_ACL_TOPIC, name))
			return true;
		for (int32_t j = 0; j < n; j++)
			read_part(&r, req->api_version, &fp);
	}
	return false;
}

enum ctl_disp kp_handle_fetch(struct kp_req *req, struct kp_reader *r, struct kp_writer *w)
{
	struct kp_data *d = req->ctx->data;
	struct kp_reader topics;
	struct fetch_head h;

	read_head(r, req->api_version, &h);
	topics = *r;
	if (!kp_reader_ok(r) || !body_valid(topics, req->api_version))
		return CTL_DISP_CLOSE;
	if (!d) {
		h.max_wait_ms = 0; /* no storage: every partition is unknown */
	} else if (h.max_wait_ms > 0 && req->resp && !fetch_denied(req, topics) &&
		   kp_data_bind(d, ctl_resp_server(req->resp), req->ctx->cat) == 0 &&
		   !fetch_ready(req->ctx, topics, req->api_version, h.min_bytes) &&
		   fetch_defer(req, &topics, &h)) {
		return CTL_DISP_PENDING;
	}
	fetch_write(req, &topics, w, &h);
	return CTL_DISP_RESPOND;
}
