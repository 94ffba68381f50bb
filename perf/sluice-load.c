/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-load - many Kafka connections at once against one broker: N
 * consumers long-polling Fetch and M producers looping Produce, from one
 * thread (level-triggered epoll), speaking the protocol directly.
 *
 * Versions are ones the broker advertises (control/kp_api.c), so no
 * ApiVersions round trip: CreateTopics v0 (setup), ListOffsets v1, Fetch v4,
 * Produce v3 with RecordBatch v2 built by storage's st_batch_builder.
 *
 * Each connection has one request in flight and sends the next as soon as
 * the answer is read (closed loop).  Consumers first ask ListOffsets for the
 * latest offset, then Fetch from there (max_wait_ms, min_bytes 1); a
 * consumer told OFFSET_OUT_OF_RANGE (retention raced it) asks again.  The
 * first --tap-consumers consumers read partition 0 of --tap-topic (the
 * dataplane's topic), the others partition i % --partitions of --topic,
 * which the producers write (producer i: partition i % --partitions).
 *
 * Starvation is the longest a consumer waited for a Fetch answer beyond
 * max_wait_ms, including requests still unanswered when the run ends.
 * Exit codes: 0 pass; 1 a connection failed or was closed, a consumer was
 * never served, a Kafka error other than OFFSET_OUT_OF_RANGE, or starvation
 * beyond --margin-ms; 2 usage or setup failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "st_batch.h"

#define SL_API_PRODUCE 0
#define SL_API_FETCH 1
#define SL_API_LIST_OFFSETS 2
#define SL_API_CREATE_TOPICS 19
#define SL_ERR_OFFSET_OUT_OF_RANGE 1
#define SL_ERR_TOPIC_EXISTS 36
#define SL_NERR 130                     /* codes -1..128 counted */
#define SL_HBUCKETS 1920                /* log-linear latency buckets (µs) */
#define SL_FRAME_MAX (64u << 20)        /* a bigger answer is a protocol error */

struct sl_opts {
	struct sockaddr_in addr;
	int consumers, producers, tap_consumers, partitions;
	int duration_s, max_wait_ms, margin_ms, connect_timeout_s;
	bool progress;                  /* a line a second on stderr */
	int partition_max_bytes, records, value_size, acks;
	const char *topic, *tap_topic;
};

enum sl_kind { SL_CONSUMER, SL_PRODUCER };
enum sl_req { SL_REQ_NONE, SL_REQ_LIST, SL_REQ_FETCH, SL_REQ_PRODUCE };

/* One connection: one request in flight, its bytes out, its answer in. */
struct sl_conn {
	int fd;
	uint8_t kind, req;
	bool connected, dead, want_out;
	const char *topic;
	int32_t partition, corr;
	int64_t offset;                 /* consumers: next fetch_offset */
	uint64_t sent_ns;
	uint8_t *out;
	uint32_t out_cap, out_len, out_off;
	uint8_t *in;
	uint32_t in_cap, in_len, in_need;   /* in_need 0: still reading the size */
	uint8_t size_buf[4];
	uint64_t answers;               /* Fetch or Produce answers */
};

struct sl_hist {
	uint64_t n, max_us, b[SL_HBUCKETS];
};

struct sl_run {
	struct sl_opts o;
	int ep;
	struct sl_conn *c;
	int nconn;
	bool stopping;
	uint64_t t0, next_progress, last_fetch, last_produce;
	uint64_t established, connect_failed, closed, never_served;
	uint64_t n_fetch, n_produce, n_list, rec_produced, rec_fetched, bytes_fetched;
	int64_t worst_wait_ms;          /* longest Fetch wait seen */
	uint64_t errors[SL_NERR];
	struct sl_hist h_fetch, h_produce;
	uint8_t *value;                 /* the record value producers send */
};

/* ---- time, histogram ---- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static unsigned int hist_idx(uint64_t us)
{
	int m;

	if (us < 32)
		return (unsigned int)us;
	m = 63 - __builtin_clzll(us);
	return (unsigned int)((m - 4) * 32 + ((us >> (m - 5)) & 31));
}

static uint64_t hist_val(unsigned int i)
{
	unsigned int m = i / 32 + 4;

	return i < 32 ? i : (uint64_t)(32 + i % 32) << (m - 5);
}

static void hist_add(struct sl_hist *h, uint64_t ns)
{
	uint64_t us = ns / 1000;

	h->b[hist_idx(us)]++;
	h->n++;
	if (us > h->max_us)
		h->max_us = us;
}

/* The value (µs, bucket floor) below which a fraction @q of samples lie. */
static uint64_t hist_q(const struct sl_hist *h, double q)
{
	uint64_t want = (uint64_t)(q * (double)h->n), seen = 0;

	for (unsigned int i = 0; i < SL_HBUCKETS; i++) {
		seen += h->b[i];
		if (seen > want)
			return hist_val(i);
	}
	return h->max_us;
}

/* ---- a bounds-checked big-endian reader with a sticky error ---- */

struct sl_rd {
	const uint8_t *p, *end;
	int err;
};

static uint64_t rd_u(struct sl_rd *r, int n)
{
	uint64_t v = 0;

	if (r->err || r->end - r->p < n) {
		r->err = -EBADMSG;
		return 0;
	}
	for (int i = 0; i < n; i++)
		v = v << 8 | *r->p++;
	return v;
}

static int16_t rd_i16(struct sl_rd *r) { return (int16_t)rd_u(r, 2); }
static int32_t rd_i32(struct sl_rd *r) { return (int32_t)rd_u(r, 4); }
static int64_t rd_i64(struct sl_rd *r) { return (int64_t)rd_u(r, 8); }

static void rd_skip(struct sl_rd *r, int64_t n)
{
	if (r->err || n < 0 || r->end - r->p < n) {
		r->err = -EBADMSG;
		return;
	}
	r->p += n;
}

static void rd_str(struct sl_rd *r)
{
	int16_t n = rd_i16(r);

	if (n > 0)
		rd_skip(r, n);
}

/* ---- a writer for request frames (the caller sizes the buffer) ---- */

struct sl_wr {
	uint8_t *b;
	uint32_t n;
};

static void wr_u(struct sl_wr *w, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--)
		w->b[w->n++] = (uint8_t)(v >> (8 * i));
}

static void wr_str(struct sl_wr *w, const char *s)
{
	size_t n = strlen(s);

	wr_u(w, n, 2);
	memcpy(w->b + w->n, s, n);
	w->n += (uint32_t)n;
}

/* Size placeholder and request header v1. */
static void wr_req(struct sl_wr *w, int key, int ver, int32_t corr)
{
	w->n = 0;
	wr_u(w, 0, 4);
	wr_u(w, (uint16_t)key, 2);
	wr_u(w, (uint16_t)ver, 2);
	wr_u(w, (uint32_t)corr, 4);
	wr_str(w, "sluice-load");
}

static void wr_end(struct sl_wr *w)
{
	uint32_t n = w->n;

	w->n = 0;
	wr_u(w, n - 4, 4);
	w->n = n;
}

/* ---- requests ---- */

static void req_list_offsets(struct sl_conn *c, struct sl_wr *w)
{
	wr_req(w, SL_API_LIST_OFFSETS, 1, c->corr);
	wr_u(w, (uint32_t)-1, 4);               /* replica_id */
	wr_u(w, 1, 4);                          /* topics */
	wr_str(w, c->topic);
	wr_u(w, 1, 4);                          /* partitions */
	wr_u(w, (uint32_t)c->partition, 4);     /* partition */
	wr_u(w, (uint64_t)-1, 8);               /* timestamp: latest */
}

static void req_fetch(const struct sl_run *r, struct sl_conn *c, struct sl_wr *w)
{
	wr_req(w, SL_API_FETCH, 4, c->corr);
	wr_u(w, (uint32_t)-1, 4);               /* replica_id */
	wr_u(w, (uint32_t)r->o.max_wait_ms, 4); /* max_wait_ms */
	wr_u(w, 1, 4);                          /* min_bytes */
	wr_u(w, (uint32_t)r->o.partition_max_bytes, 4); /* max_bytes */
	wr_u(w, 0, 1);                          /* isolation_level */
	wr_u(w, 1, 4);                          /* topics */
	wr_str(w, c->topic);
	wr_u(w, 1, 4);                          /* partitions */
	wr_u(w, (uint32_t)c->partition, 4);     /* partition */
	wr_u(w, (uint64_t)c->offset, 8);        /* fetch_offset */
	wr_u(w, (uint32_t)r->o.partition_max_bytes, 4); /* partition_max_bytes */
}

/* Produce v3 of one batch of --records records, built in place. */
static void req_produce(const struct sl_run *r, struct sl_conn *c, struct sl_wr *w)
{
	struct st_batch_builder b;
	int64_t ts = (int64_t)time(NULL) * 1000;
	uint32_t len_at;
	int n;

	wr_req(w, SL_API_PRODUCE, 3, c->corr);
	wr_u(w, 0xffff, 2);                     /* transactional_id: null */
	wr_u(w, (uint16_t)r->o.acks, 2);        /* acks */
	wr_u(w, 30000, 4);                      /* timeout_ms */
	wr_u(w, 1, 4);                          /* topics */
	wr_str(w, c->topic);
	wr_u(w, 1, 4);                          /* partitions */
	wr_u(w, (uint32_t)c->partition, 4);     /* index */
	len_at = w->n;
	wr_u(w, 0, 4);                          /* records: length below */
	st_batch_builder_begin(&b, w->b + w->n, c->out_cap - w->n, ts);
	for (int i = 0; i < r->o.records; i++)
		st_batch_builder_add(&b, ts, NULL, 0, r->value, r->o.value_size, NULL, 0);
	n = st_batch_builder_finish(&b);
	w->n = len_at;
	wr_u(w, (uint32_t)n, 4);
	w->n += (uint32_t)n;
}

static void conn_watch(struct sl_run *r, struct sl_conn *c, bool out)
{
	struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0),
				  .data.ptr = c };

	if (out != c->want_out) {
		epoll_ctl(r->ep, EPOLL_CTL_MOD, c->fd, &ev);
		c->want_out = out;
	}
}

static void conn_kill(struct sl_run *r, struct sl_conn *c, const char *why)
{
	if (c->dead)
		return;
	if (!r->stopping || c->req != SL_REQ_NONE) {
		r->closed++;
		fprintf(stderr, "sluice-load: connection %ld (%s): %s\n", (long)(c - r->c),
			c->kind == SL_CONSUMER ? "consumer" : "producer", why);
	}
	epoll_ctl(r->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->dead = true;
}

static void conn_flush(struct sl_run *r, struct sl_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL);

		if (n < 0 && errno == EAGAIN) {
			conn_watch(r, c, true);
			return;
		}
		if (n <= 0) {
			conn_kill(r, c, strerror(errno));
			return;
		}
		c->out_off += (uint32_t)n;
	}
	conn_watch(r, c, false);
}

/* Build and send the connection's next request (none once stopping). */
static void conn_next(struct sl_run *r, struct sl_conn *c, bool list)
{
	struct sl_wr w = { c->out, 0 };

	c->req = SL_REQ_NONE;
	if (r->stopping || c->dead)
		return;
	c->corr++;
	if (c->kind == SL_PRODUCER)
		req_produce(r, c, &w), c->req = SL_REQ_PRODUCE;
	else if (list)
		req_list_offsets(c, &w), c->req = SL_REQ_LIST;
	else
		req_fetch(r, c, &w), c->req = SL_REQ_FETCH;
	wr_end(&w);
	c->out_len = w.n;
	c->out_off = 0;
	c->sent_ns = now_ns();
	conn_flush(r, c);
}

/* ---- answers ---- */

static void count_err(struct sl_run *r, int16_t e)
{
	if (e)
		r->errors[(e < -1 || e > 128) ? 129 : e + 1]++;
}

/* Records of a Fetch answer's record set at or above @c->offset. */
static void walk_records(struct sl_run *r, struct sl_conn *c, const uint8_t *p, int32_t len)
{
	struct st_batch_info bi;

	r->bytes_fetched += (uint64_t)len;
	while (len >= ST_BATCH_HEADER_SIZE) {
		int64_t first, last;

		if (st_batch_header_read(p, (size_t)len, &bi) != ST_BATCH_ERR_OK)
			break;                  /* a truncated last batch is allowed */
		last = st_batch_last_offset(&bi);
		first = bi.base_offset > c->offset ? bi.base_offset : c->offset;
		if (last >= first)
			r->rec_fetched += (uint64_t)(last - first + 1);
		if (last + 1 > c->offset)
			c->offset = last + 1;
		p += st_batch_size(&bi);
		len -= (int32_t)st_batch_size(&bi);
	}
}

/* Fetch v4 answer: one topic, one partition.  @return its error code. */
static int16_t on_fetch(struct sl_run *r, struct sl_conn *c, struct sl_rd *d)
{
	int16_t err = 0;
	int32_t nt, np, na, len;

	rd_i32(d);                              /* throttle_time_ms */
	nt = rd_i32(d);
	for (int32_t t = 0; t < nt && !d->err; t++) {
		rd_str(d);                      /* topic */
		np = rd_i32(d);
		for (int32_t i = 0; i < np && !d->err; i++) {
			rd_i32(d);              /* partition */
			err = rd_i16(d);        /* error_code */
			rd_i64(d);              /* high_watermark */
			rd_i64(d);              /* last_stable_offset */
			na = rd_i32(d);         /* aborted_transactions */
			rd_skip(d, na > 0 ? 16 * (int64_t)na : 0);
			len = rd_i32(d);        /* records */
			if (len > 0 && !d->err && d->end - d->p >= len)
				walk_records(r, c, d->p, len);
			rd_skip(d, len > 0 ? len : 0);
		}
	}
	return err;
}

/* Produce v3 / ListOffsets v1 answers: one topic, one partition. */
static int16_t on_produce(struct sl_run *r, struct sl_rd *d)
{
	int16_t err = -1;

	if (rd_i32(d) != 1)                     /* topics */
		return d->err = -EBADMSG, -1;
	rd_str(d);
	if (rd_i32(d) != 1)                     /* partitions */
		return d->err = -EBADMSG, -1;
	rd_i32(d);                              /* index */
	err = rd_i16(d);                        /* error_code */
	rd_i64(d);                              /* base_offset */
	rd_i64(d);                              /* log_append_time_ms */
	rd_i32(d);                              /* throttle_time_ms */
	if (!err && !d->err)
		r->rec_produced += (uint64_t)r->o.records;
	return err;
}

static int16_t on_list(struct sl_conn *c, struct sl_rd *d)
{
	int16_t err;
	int64_t off;

	if (rd_i32(d) != 1)                     /* topics */
		return d->err = -EBADMSG, -1;
	rd_str(d);
	if (rd_i32(d) != 1)                     /* partitions */
		return d->err = -EBADMSG, -1;
	rd_i32(d);                              /* partition */
	err = rd_i16(d);                        /* error_code */
	rd_i64(d);                              /* timestamp */
	off = rd_i64(d);                        /* offset */
	if (!err)
		c->offset = off;
	return err;
}

/* A whole answer of @len bytes is in c->in: account for it, send the next request. */
static void on_answer(struct sl_run *r, struct sl_conn *c, uint32_t len)
{
	struct sl_rd d = { c->in, c->in + len, 0 };
	uint64_t lat = now_ns() - c->sent_ns;
	int16_t err = 0;

	if (rd_i32(&d) != c->corr) {
		conn_kill(r, c, "correlation id mismatch");
		return;
	}
	if (c->req == SL_REQ_FETCH) {
		err = on_fetch(r, c, &d);
		r->n_fetch++, c->answers++;
		hist_add(&r->h_fetch, lat);
		if ((int64_t)(lat / 1000000) > r->worst_wait_ms)
			r->worst_wait_ms = (int64_t)(lat / 1000000);
	} else if (c->req == SL_REQ_PRODUCE) {
		err = on_produce(r, &d);
		r->n_produce++, c->answers++;
		hist_add(&r->h_produce, lat);
	} else {
		err = on_list(c, &d);
		r->n_list++;
	}
	if (d.err) {
		conn_kill(r, c, "malformed answer");
		return;
	}
	count_err(r, err);
	conn_next(r, c, err == SL_ERR_OFFSET_OUT_OF_RANGE || (c->req == SL_REQ_LIST && err));
}

/* Read what is there; each complete frame goes to on_answer. */
static void conn_read(struct sl_run *r, struct sl_conn *c)
{
	for (int budget = 16; budget > 0 && !c->dead; budget--) {
		uint8_t *dst = c->in_need ? c->in + c->in_len : c->size_buf + c->in_len;
		uint32_t want = (c->in_need ? c->in_need : 4) - c->in_len;
		ssize_t n = recv(c->fd, dst, want, 0);

		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			conn_kill(r, c, n == 0 ? "closed by the broker" : strerror(errno));
			return;
		}
		c->in_len += (uint32_t)n;
		if (!c->in_need && c->in_len == 4) {
			uint32_t sz = (uint32_t)c->size_buf[0] << 24 | c->size_buf[1] << 16 |
				      c->size_buf[2] << 8 | c->size_buf[3];

			if (sz < 4 || sz > SL_FRAME_MAX || c->req == SL_REQ_NONE) {
				conn_kill(r, c, "bad frame size or unrequested answer");
				return;
			}
			if (sz > c->in_cap) {
				free(c->in);
				c->in = malloc(sz);
				c->in_cap = c->in ? sz : 0;
				if (!c->in) {
					conn_kill(r, c, "out of memory");
					return;
				}
			}
			c->in_need = sz, c->in_len = 0;
		} else if (c->in_need && c->in_len == c->in_need) {
			uint32_t len = c->in_need;

			c->in_need = 0, c->in_len = 0;
			on_answer(r, c, len);
		}
	}
}

/* ---- connections ---- */

static int conn_open(struct sl_run *r, struct sl_conn *c)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (const struct sockaddr *)&r->o.addr, sizeof(r->o.addr)) < 0 &&
	    errno != EINPROGRESS) {
		int e = -errno;

		close(c->fd);
		return e;
	}
	c->want_out = true;
	if (epoll_ctl(r->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
		int e = -errno;

		close(c->fd);
		return e;
	}
	return 0;
}

static void on_connected(struct sl_run *r, struct sl_conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		fprintf(stderr, "sluice-load: connect: %s\n", strerror(err));
		r->connect_failed++;
		epoll_ctl(r->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->dead = true;
		return;
	}
	c->connected = true;
	r->established++;
	conn_watch(r, c, false);
	conn_next(r, c, c->kind == SL_CONSUMER);
}

static void on_event(struct sl_run *r, struct epoll_event *ev)
{
	struct sl_conn *c = ev->data.ptr;

	if (c->dead)
		return;
	if (!c->connected) {
		on_connected(r, c);
		return;
	}
	if (ev->events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		conn_read(r, c);
	if (!c->dead && (ev->events & EPOLLOUT))
		conn_flush(r, c);
}

static bool in_flight(const struct sl_run *r)
{
	for (int i = 0; i < r->nconn; i++)
		if (!r->c[i].dead && r->c[i].connected && r->c[i].req != SL_REQ_NONE)
			return true;
	return false;
}

static int connecting(const struct sl_run *r)
{
	int n = 0;

	for (int i = 0; i < r->nconn; i++)
		n += !r->c[i].dead && !r->c[i].connected;
	return n;
}

/* --progress: answers in the last second and the oldest request in flight. */
static void progress(struct sl_run *r, uint64_t t)
{
	uint64_t oldest = 0;
	int who = -1;

	for (int i = 0; i < r->nconn; i++) {
		const struct sl_conn *c = &r->c[i];

		if (!c->dead && c->connected && c->req != SL_REQ_NONE && t - c->sent_ns > oldest)
			oldest = t - c->sent_ns, who = i;
	}
	fprintf(stderr, "progress: %5.1f s fetch %" PRIu64 "/s produce %" PRIu64 "/s,"
		" oldest in flight %" PRIu64 " ms (connection %d)\n", (double)(t - r->t0) / 1e9,
		r->n_fetch - r->last_fetch, r->n_produce - r->last_produce, oldest / 1000000, who);
	r->last_fetch = r->n_fetch, r->last_produce = r->n_produce;
	r->next_progress += 1000000000u;
}

/* Serve events until @until; with @done_fn, also stop once it says so. */
static void loop_until(struct sl_run *r, uint64_t until, bool (*done_fn)(const struct sl_run *))
{
	struct epoll_event evs[256];

	while (now_ns() < until) {
		int n = epoll_wait(r->ep, evs, 256, 20);

		for (int i = 0; i < n; i++)
			on_event(r, &evs[i]);
		if (r->o.progress && now_ns() >= r->next_progress)
			progress(r, now_ns());
		if (done_fn && done_fn(r))
			return;
	}
}

/* Connections still not up after --connect-timeout count as failed. */
static void conns_give_up(struct sl_run *r)
{
	for (int i = 0; i < r->nconn; i++) {
		struct sl_conn *c = &r->c[i];

		if (c->dead || c->connected)
			continue;
		r->connect_failed++;
		epoll_ctl(r->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->dead = true;
	}
}

static bool all_connected(const struct sl_run *r)
{
	return connecting(r) == 0;
}

static bool drained(const struct sl_run *r)
{
	return !in_flight(r);
}

/* Requests still unanswered at the end: their age counts as a wait. */
static uint64_t count_unanswered(struct sl_run *r)
{
	uint64_t t = now_ns(), n = 0;

	for (int i = 0; i < r->nconn; i++) {
		struct sl_conn *c = &r->c[i];
		int64_t age_ms = (int64_t)((t - c->sent_ns) / 1000000);

		if (c->dead || !c->connected || c->req == SL_REQ_NONE)
			continue;
		n++;
		if (c->req == SL_REQ_FETCH && age_ms > r->worst_wait_ms)
			r->worst_wait_ms = age_ms;
		fprintf(stderr, "sluice-load: connection %d: request unanswered after %" PRId64
			" ms\n", i, age_ms);
	}
	return n;
}

/* ---- setup: the producers' topic, over a blocking connection ---- */

static int read_full(int fd, uint8_t *b, size_t n)
{
	while (n) {
		ssize_t k = recv(fd, b, n, 0);

		if (k <= 0)
			return k < 0 ? -errno : -ECONNRESET;
		b += k, n -= (size_t)k;
	}
	return 0;
}

static int setup_topic(const struct sl_opts *o)
{
	uint8_t buf[512], ans[512];
	struct sl_wr w = { buf, 0 };
	struct timeval tv = { 60, 0 };
	uint64_t t0 = now_ns();
	struct sl_rd d;
	uint32_t sz;
	int fd, rc = -EIO;
	int16_t err;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (const struct sockaddr *)&o->addr, sizeof(o->addr)) < 0) {
		rc = -errno;
		goto out;
	}
	wr_req(&w, SL_API_CREATE_TOPICS, 0, 1);
	wr_u(&w, 1, 4);                         /* topics */
	wr_str(&w, o->topic);                   /* name */
	wr_u(&w, (uint32_t)o->partitions, 4);   /* num_partitions */
	wr_u(&w, 1, 2);                         /* replication_factor */
	wr_u(&w, 0, 4);                         /* assignments */
	wr_u(&w, 0, 4);                         /* configs */
	wr_u(&w, 10000, 4);                     /* timeout_ms */
	wr_end(&w);
	if (send(fd, buf, w.n, MSG_NOSIGNAL) != (ssize_t)w.n || read_full(fd, ans, 4) < 0)
		goto out;
	sz = (uint32_t)ans[0] << 24 | ans[1] << 16 | ans[2] << 8 | ans[3];
	if (sz > sizeof(ans) || read_full(fd, ans, sz) < 0)
		goto out;
	d = (struct sl_rd){ ans, ans + sz, 0 };
	rd_i32(&d);                             /* correlation_id */
	rd_i32(&d);                             /* topics */
	rd_str(&d);                             /* name */
	err = rd_i16(&d);                       /* error_code */
	if (!d.err && (err == 0 || err == SL_ERR_TOPIC_EXISTS)) {
		printf("setup: CreateTopics %s (%d partitions): error %d in %" PRIu64 " ms\n",
		       o->topic, o->partitions, err, (now_ns() - t0) / 1000000);
		rc = 0;
	} else {
		fprintf(stderr, "sluice-load: CreateTopics %s: error %d\n", o->topic, err);
	}
out:
	close(fd);
	return rc;
}

/* ---- report ---- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Answers per connection over c[from, to): min / median / max; counts the unserved. */
static void answers_line(struct sl_run *r, const char *what, int from, int to)
{
	uint64_t *v;
	int n = to - from;

	if (n <= 0)
		return;
	v = calloc((size_t)n, sizeof(*v));
	if (!v)
		return;
	for (int i = 0; i < n; i++) {
		v[i] = r->c[from + i].answers;
		r->never_served += v[i] == 0;
	}
	qsort(v, (size_t)n, sizeof(*v), cmp_u64);
	printf("answers per connection, %s (%d): min %" PRIu64 " median %" PRIu64
	       " max %" PRIu64 "\n", what, n, v[0], v[n / 2], v[n - 1]);
	free(v);
}

static void latency_line(const char *what, const struct sl_hist *h)
{
	printf("%s latency ms: p50 %.1f p99 %.1f max %.1f (%" PRIu64 " answers)\n", what,
	       (double)hist_q(h, 0.50) / 1000, (double)hist_q(h, 0.99) / 1000,
	       (double)h->max_us / 1000, h->n);
}

static void errors_line(const struct sl_run *r)
{
	bool any = false;

	printf("errors by Kafka code:");
	for (int i = 0; i < SL_NERR; i++)
		if (r->errors[i]) {
			printf(" %d=%" PRIu64, i == 129 ? 999 : i - 1, r->errors[i]);
			any = true;
		}
	printf("%s\n", any ? "" : " none");
}

/* Print every figure; @return the exit code. */
static int report(struct sl_run *r, double secs, uint64_t connect_ms, uint64_t unanswered)
{
	const struct sl_opts *o = &r->o;
	int64_t starve = r->worst_wait_ms - o->max_wait_ms;
	uint64_t bad_err = 0;
	struct rusage ru;
	int rc = 0;

	printf("connections: %" PRIu64 "/%d established (consumers %d, of which %d on %s;"
	       " producers %d) in %" PRIu64 " ms; connect failures %" PRIu64
	       ", closed unexpectedly %" PRIu64 "\n", r->established, r->nconn, o->consumers,
	       o->tap_consumers, o->tap_topic, o->producers, connect_ms, r->connect_failed,
	       r->closed);
	printf("run: %.1f s\n", secs);
	printf("requests: fetch %" PRIu64 " (%.0f/s), produce %" PRIu64 " (%.0f/s),"
	       " list_offsets %" PRIu64 "\n", r->n_fetch, (double)r->n_fetch / secs,
	       r->n_produce, (double)r->n_produce / secs, r->n_list);
	printf("records: produced %" PRIu64 " (%.0f/s), fetched %" PRIu64 " (%.0f/s, %.1f MB/s)\n",
	       r->rec_produced, (double)r->rec_produced / secs, r->rec_fetched,
	       (double)r->rec_fetched / secs, (double)r->bytes_fetched / secs / 1e6);
	latency_line("fetch", &r->h_fetch);
	latency_line("produce", &r->h_produce);
	answers_line(r, "tap consumers", 0, o->tap_consumers);
	answers_line(r, "topic consumers", o->tap_consumers, o->consumers);
	answers_line(r, "producers", o->consumers, r->nconn);
	printf("starvation: worst fetch wait %" PRId64 " ms = max_wait_ms %d %+" PRId64
	       " ms (limit +%d ms); unanswered at end %" PRIu64 "\n", r->worst_wait_ms,
	       o->max_wait_ms, starve, o->margin_ms, unanswered);
	errors_line(r);
	for (int i = 0; i < SL_NERR; i++)
		if (i != SL_ERR_OFFSET_OUT_OF_RANGE + 1)
			bad_err += r->errors[i];
	getrusage(RUSAGE_SELF, &ru);
	printf("client: peak RSS %.1f MiB, CPU %.1f s\n", (double)ru.ru_maxrss / 1024,
	       (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	printf("result:");
	if (r->connect_failed || r->established != (uint64_t)r->nconn)
		printf(" connections-failed"), rc = 1;
	if (r->closed)
		printf(" closed-unexpectedly"), rc = 1;
	if (r->never_served)
		printf(" %" PRIu64 "-never-served", r->never_served), rc = 1;
	if (starve > o->margin_ms || unanswered)
		printf(" starved"), rc = 1;
	if (bad_err)
		printf(" kafka-errors"), rc = 1;
	printf(" %s\n", rc ? "FAIL" : "PASS");
	return rc;
}

/* ---- options, main ---- */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: sluice-load [-b HOST:PORT] [-c CONSUMERS] [-p PRODUCERS] [-d SECONDS]\n"
		"         [--tap-consumers N] [--tap-topic T] [--topic T] [--partitions N]\n"
		"         [--max-wait-ms MS] [--margin-ms MS] [--partition-max-bytes B]\n"
		"         [--records N] [--value-size B] [--acks 1|-1] [--connect-timeout S]\n"
		"         [--progress]\n"
		"defaults: 127.0.0.1:9092, 1000 consumers (tap: a tenth), 100 producers, 30 s,\n"
		"  topic load (16 partitions), tap topic telemetry, max_wait 500 ms, margin\n"
		"  1000 ms, 65536 bytes per fetch, 10 records of 100 bytes, acks 1\n");
}

static int parse_addr(const char *s, struct sockaddr_in *a)
{
	char host[64];
	const char *colon = strrchr(s, ':');

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)atoi(colon + 1));
	return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -EINVAL;
}

static int parse_opts(int argc, char **argv, struct sl_opts *o)
{
	static const struct option lo[] = {
		{ "brokers", 1, 0, 'b' }, { "consumers", 1, 0, 'c' }, { "producers", 1, 0, 'p' },
		{ "duration", 1, 0, 'd' }, { "tap-consumers", 1, 0, 'T' },
		{ "tap-topic", 1, 0, 'A' }, { "topic", 1, 0, 't' }, { "partitions", 1, 0, 'P' },
		{ "max-wait-ms", 1, 0, 'w' }, { "margin-ms", 1, 0, 'm' },
		{ "partition-max-bytes", 1, 0, 'B' }, { "records", 1, 0, 'r' },
		{ "value-size", 1, 0, 's' }, { "acks", 1, 0, 'a' },
		{ "connect-timeout", 1, 0, 'C' }, { "progress", 0, 0, 'G' },
		{ "help", 0, 0, 'h' }, { 0, 0, 0, 0 },
	};
	const char *brokers = "127.0.0.1:9092";
	int c;

	while ((c = getopt_long(argc, argv, "b:c:p:d:t:h", lo, NULL)) != -1) {
		switch (c) {
		case 'b': brokers = optarg; break;
		case 'c': o->consumers = atoi(optarg); break;
		case 'p': o->producers = atoi(optarg); break;
		case 'd': o->duration_s = atoi(optarg); break;
		case 'T': o->tap_consumers = atoi(optarg); break;
		case 'A': o->tap_topic = optarg; break;
		case 't': o->topic = optarg; break;
		case 'P': o->partitions = atoi(optarg); break;
		case 'w': o->max_wait_ms = atoi(optarg); break;
		case 'm': o->margin_ms = atoi(optarg); break;
		case 'B': o->partition_max_bytes = atoi(optarg); break;
		case 'r': o->records = atoi(optarg); break;
		case 's': o->value_size = atoi(optarg); break;
		case 'a': o->acks = atoi(optarg); break;
		case 'C': o->connect_timeout_s = atoi(optarg); break;
		case 'G': o->progress = true; break;
		case 'h': usage(stdout); exit(0);
		default: return -EINVAL;
		}
	}
	if (o->tap_consumers < 0)
		o->tap_consumers = o->consumers / 10;
	if (optind != argc || parse_addr(brokers, &o->addr) < 0 || o->consumers < 0 ||
	    o->producers < 0 || o->tap_consumers > o->consumers || o->partitions < 1 ||
	    o->duration_s < 1 || o->max_wait_ms < 0 || o->records < 1 || o->value_size < 0 ||
	    o->value_size > 65536 || o->records > 1000 || o->partition_max_bytes < 1 ||
	    (o->acks != 1 && o->acks != -1) || o->consumers + o->producers < 1)
		return -EINVAL;
	return 0;
}

/* Connection i: consumers first (tap ones leading), then producers. */
static int conns_create(struct sl_run *r)
{
	const struct sl_opts *o = &r->o;
	uint32_t prod_cap = 256 + (uint32_t)o->records * ((uint32_t)o->value_size + 32) +
			    ST_BATCH_HEADER_SIZE;

	r->nconn = o->consumers + o->producers;
	r->c = calloc((size_t)r->nconn, sizeof(*r->c));
	r->value = malloc((size_t)o->value_size + 1);
	if (!r->c || !r->value)
		return -ENOMEM;
	memset(r->value, 'v', (size_t)o->value_size + 1);
	for (int i = 0; i < r->nconn; i++) {
		struct sl_conn *c = &r->c[i];
		bool tap = i < o->tap_consumers;

		c->kind = i < o->consumers ? SL_CONSUMER : SL_PRODUCER;
		c->topic = tap ? o->tap_topic : o->topic;
		c->partition = tap ? 0 : (i - o->tap_consumers) % o->partitions;
		c->out_cap = c->kind == SL_PRODUCER ? prod_cap : 512;
		c->out = malloc(c->out_cap);
		if (!c->out)
			return -ENOMEM;
		if (conn_open(r, c) < 0) {
			r->connect_failed++;
			c->dead = true;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sl_run *r = calloc(1, sizeof(*r));
	uint64_t t0, t_conn, t_stop, unanswered;
	int rc;

	if (!r)
		return 2;
	r->o = (struct sl_opts){ .consumers = 1000, .producers = 100, .tap_consumers = -1,
				 .partitions = 16, .duration_s = 30, .max_wait_ms = 500,
				 .margin_ms = 1000, .connect_timeout_s = 15,
				 .partition_max_bytes = 65536, .records = 10, .value_size = 100,
				 .acks = 1, .topic = "load", .tap_topic = "telemetry" };
	if (parse_opts(argc, argv, &r->o) < 0) {
		usage(stderr);
		return 2;
	}
	if (r->o.producers && setup_topic(&r->o) < 0) {
		fprintf(stderr, "sluice-load: cannot create topic %s\n", r->o.topic);
		return 2;
	}
	r->ep = epoll_create1(EPOLL_CLOEXEC);
	t0 = r->t0 = now_ns();
	r->next_progress = t0 + 1000000000u;
	if (r->ep < 0 || conns_create(r) < 0) {
		fprintf(stderr, "sluice-load: setup: %s\n", strerror(errno));
		return 2;
	}
	loop_until(r, t0 + (uint64_t)r->o.connect_timeout_s * 1000000000u, all_connected);
	t_conn = now_ns();
	conns_give_up(r);
	loop_until(r, t0 + (uint64_t)r->o.duration_s * 1000000000u, NULL);
	t_stop = now_ns();
	r->stopping = true;
	loop_until(r, t_stop + (uint64_t)(r->o.max_wait_ms + r->o.margin_ms + 1000) * 1000000u,
		   drained);
	unanswered = count_unanswered(r);
	rc = report(r, (double)(t_stop - t0) / 1e9, (t_conn - t0) / 1000000, unanswered);
	for (int i = 0; i < r->nconn; i++) {
		if (!r->c[i].dead)
			close(r->c[i].fd);
		free(r->c[i].out);
		free(r->c[i].in);
	}
	free(r->c);
	free(r->value);
	close(r->ep);
	free(r);
	return rc;
}
