/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dpu_producer.c - batches, the in-flight window, acks, resends and reports
 * of the UDP produce-mode producer (dpu_producer.h).
 *
 * Batches are numbered in produce order; the live ones, [lo, hi), sit in a
 * ring of window + 1 slots (the extra one holds the batch being filled, or
 * a sealed one waiting for the window).  A slot goes OPEN -> READY (sealed)
 * -> SENT -> DONE, and batches are reported and their slots freed in
 * number order, so reports come in produce order even when acks do not.
 * Batch n may be sent while n < lo + window: the window counts from the
 * oldest batch not yet reported, which is what keeps an exactly-once
 * resend among the five batches the appliance remembers.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dp_wire.h"
#include "dpu_producer.h"
#include "st_endian.h"

/* Kafka error codes an SLA1 ack can carry that the producer treats apart. */
#define KERR_REQUEST_TIMED_OUT        7   /* ring full: the writer is behind */
#define KERR_OUT_OF_ORDER_SEQUENCE    45  /* an earlier batch is missing */
#define KERR_DUPLICATE_SEQUENCE       46  /* stored before, no longer cached */

enum dpu_slot_state { SLOT_OPEN = 1, SLOT_READY, SLOT_SENT, SLOT_DONE };

struct dpu_slot {
	uint8_t *dgram;                 /* SLC1 header, then the batch */
	uint32_t len;                   /* datagram bytes once sealed */
	uint8_t state;
	bool out_of_order;              /* refused: a batch before it is missing */
	struct st_batch_builder b;      /* while OPEN */
	int32_t base_seq;
	uint32_t crc;                   /* the batch's, as the ack copies it */
	uint64_t opened_ns, first_sent_ns, last_sent_ns, next_ns;
	struct dpu_report rep;          /* filled as it is settled */
};

struct dpu_producer {
	struct dpu_conf conf;
	int fd;
	int fatal;                      /* 0 or -ENOTRECOVERABLE */
	uint32_t nslots;
	uint64_t lo, hi;                /* live batches, by number */
	int32_t next_seq;
	uint64_t next_msg;
	struct dpu_stats st;
	struct dpu_slot slot[];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t ms_ns(uint32_t ms)
{
	return (uint64_t)ms * 1000000u;
}

/* Milliseconds from @now to @at, rounded up. */
static int64_t due_in(uint64_t at, uint64_t now)
{
	return at <= now ? 0 : (int64_t)((at - now + 999999u) / 1000000u);
}

static inline struct dpu_slot *slot_of(struct dpu_producer *p, uint64_t n)
{
	return &p->slot[n % p->nslots];
}

void dpu_conf_defaults(struct dpu_conf *conf, enum dpu_semantics semantics)
{
	memset(conf, 0, sizeof(*conf));
	conf->semantics = semantics;
	conf->partition = DP_SLC_PARTITION_ANY;
	conf->producer_id = -1;
	conf->producer_epoch = -1;
	conf->batch_bytes = 1472;
	conf->window = semantics == DPU_EXACTLY_ONCE ? DPU_EXACTLY_ONCE_WINDOW : 32;
	conf->linger_ms = 5;
	conf->ack_timeout_ms = 100;
	conf->retry_backoff_ms = 10;
	conf->delivery_timeout_ms = 30000;
}

static int conf_check(const struct dpu_conf *c)
{
	bool pid = c->producer_id >= 0;

	if (c->batch_bytes < 128 || c->batch_bytes > DPU_DATAGRAM_MAX || c->window == 0 ||
	    c->window > 65536 || c->partition < DP_SLC_PARTITION_ANY)
		return -EINVAL;
	switch (c->semantics) {
	case DPU_AT_MOST_ONCE:
		return pid && c->producer_epoch < 0 ? -EINVAL : 0;
	case DPU_AT_LEAST_ONCE:
		return pid ? -EINVAL : 0;
	case DPU_EXACTLY_ONCE:
		return pid && c->producer_epoch >= 0 && c->window <= DPU_EXACTLY_ONCE_WINDOW ?
		       0 : -EINVAL;
	}
	return -EINVAL;
}

static int open_socket(const struct sockaddr *dst, socklen_t dst_len, const struct sockaddr *src,
		       socklen_t src_len)
{
	int fd = socket(dst->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int err;

	if (fd < 0)
		return -errno;
	if ((src && bind(fd, src, src_len) < 0) || connect(fd, dst, dst_len) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int dpu_producer_new(const struct dpu_conf *conf, const struct sockaddr *dst, socklen_t dst_len,
		     const struct sockaddr *src, socklen_t src_len, struct dpu_producer **out)
{
	struct dpu_producer *p;
	uint32_t n, i;
	int rc = conf_check(conf);

	if (rc)
		return rc;
	/* At most once never waits for acks: the batch being filled and one being sent. */
	n = conf->semantics == DPU_AT_MOST_ONCE ? 2 : conf->window + 1;
	p = calloc(1, sizeof(*p) + n * sizeof(p->slot[0]));
	if (!p)
		return -ENOMEM;
	p->conf = *conf;
	p->nslots = n;
	p->fd = -1;
	for (i = 0; i < n; i++) {
		p->slot[i].dgram = malloc(conf->batch_bytes);
		if (!p->slot[i].dgram) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	rc = open_socket(dst, dst_len, src, src_len);
	if (rc < 0)
		goto fail;
	p->fd = rc;
	*out = p;
	return 0;
fail:
	dpu_producer_free(p);
	return rc;
}

void dpu_producer_free(struct dpu_producer *p)
{
	if (!p)
		return;
	if (p->fd >= 0)
		close(p->fd);
	for (uint32_t i = 0; i < p->nslots; i++)
		free(p->slot[i].dgram);
	free(p);
}

/* ---- settling batches ------------------------------------------------------ */

static void settle(struct dpu_slot *s, int16_t err, int32_t partition,
		   int64_t base_offset)
{
	s->state = SLOT_DONE;
	s->rep.error = err;
	s->rep.partition = partition;
	s->rep.base_offset = err ? -1 : base_offset;
}

/*
 * A batch failed for good.  Exactly once, its sequence range can never be
 * stored now, so no later batch of this producer id can be either: fail
 * them all (the batch being filled too) and refuse further records.
 */
static void fail_batch(struct dpu_producer *p, struct dpu_slot *s, int16_t err)
{
	settle(s, err, p->conf.partition, -1);
	if (p->conf.semantics != DPU_EXACTLY_ONCE)
		return;
	p->fatal = -ENOTRECOVERABLE;
	for (uint64_t n = p->lo; n < p->hi; n++) {
		struct dpu_slot *o = slot_of(p, n);

		if (o->state != SLOT_DONE)
			settle(o, DPU_ERR_FATAL, p->conf.partition, -1);
	}
}

/* Report and free the settled batches at the front.  @return how many. */
static int retire(struct dpu_producer *p)
{
	int k = 0;

	while (p->lo < p->hi) {
		struct dpu_slot *s = slot_of(p, p->lo);

		if (s->state != SLOT_DONE)
			break;
		if (s->rep.count > 0) {
			if (s->rep.error)
				p->st.failed += (uint64_t)s->rep.count;
			else
				p->st.delivered += (uint64_t)s->rep.count;
			if (p->conf.dr_cb)
				p->conf.dr_cb(p->conf.opaque, &s->rep);
			k++;
		}
		s->state = 0;
		p->lo++;
	}
	return k;
}

/* ---- batches: open, seal, send ---------------------------------------------- */

/* The open batch, or a new one; NULL when every slot is taken. */
static struct dpu_slot *open_batch(struct dpu_producer *p, int64_t ts_ms, uint64_t now)
{
	struct dpu_slot *s;

	if (p->hi > p->lo && slot_of(p, p->hi - 1)->state == SLOT_OPEN)
		return slot_of(p, p->hi - 1);
	if (p->hi - p->lo == p->nslots) {
		retire(p);
		if (p->hi - p->lo == p->nslots)
			return NULL;
	}
	s = slot_of(p, p->hi++);
	memset(&s->rep, 0, sizeof(s->rep));
	s->rep.first_msg = p->next_msg;
	s->state = SLOT_OPEN;
	s->out_of_order = false;
	s->opened_ns = now;
	s->len = 0;
	st_batch_builder_begin(&s->b, s->dgram + DP_SLC_HDR_SIZE,
			       p->conf.batch_bytes - DP_SLC_HDR_SIZE, ts_ms);
	return s;
}

/* Kafka's sequences wrap from INT32_MAX to 0. */
static int32_t seq_add(int32_t seq, int32_t n)
{
	return (int32_t)(((int64_t)seq + n) % ((int64_t)INT32_MAX + 1));
}

static void seal_batch(struct dpu_producer *p, struct dpu_slot *s)
{
	const struct dpu_conf *c = &p->conf;
	uint16_t flags = 0;

	s->b.producer_id = c->producer_id;
	if (c->producer_id >= 0) {
		s->b.producer_epoch = c->producer_epoch;
		s->b.base_sequence = p->next_seq;
		p->next_seq = seq_add(p->next_seq, s->b.count);
	}
	s->base_seq = s->b.base_sequence;
	s->rep.count = s->b.count;
	s->len = (uint32_t)st_batch_builder_finish(&s->b) + DP_SLC_HDR_SIZE;
	s->crc = st_be32_load(s->dgram + DP_SLC_HDR_SIZE + ST_BATCH_OFF_CRC);
	if (c->semantics != DPU_AT_MOST_ONCE)
		flags |= DP_SLC_FLAG_ACK;
	else if (c->producer_id >= 0)
		flags |= DP_SLC_FLAG_GAPS_OK;
	st_be32_store(s->dgram, DP_SLC_MAGIC);
	st_be16_store(s->dgram + 4, flags);
	st_be16_store(s->dgram + 6, 0);
	st_be32_store(s->dgram + 8, (uint32_t)c->partition);
	s->state = SLOT_READY;
	p->st.batches++;
}

void dpu_seal(struct dpu_producer *p)
{
	struct dpu_slot *s;

	if (p->hi == p->lo)
		return;
	s = slot_of(p, p->hi - 1);
	if (s->state == SLOT_OPEN && s->b.count > 0)
		seal_batch(p, s);
}

/*
 * One datagram.  A full socket buffer (-EAGAIN) leaves the batch as it was;
 * any other failure counts as sent, since the resend timer covers it as it
 * covers a datagram lost on the wire.
 */
static int send_batch(struct dpu_producer *p, struct dpu_slot *s, uint64_t now)
{
	if (send(p->fd, s->dgram, s->len, 0) < 0) {
		if (errno == EAGAIN || errno == ENOBUFS)
			return -EAGAIN;
		p->st.send_errors++;
	}
	p->st.sends++;
	if (s->rep.sends++ == 0)
		s->first_sent_ns = now;
	else
		p->st.resends++;
	s->last_sent_ns = now;
	s->next_ns = now + ms_ns(p->conf.ack_timeout_ms);
	if (p->conf.semantics == DPU_AT_MOST_ONCE)
		settle(s, 0, p->conf.partition, -1);  /* sent: all it will ever be */
	else
		s->state = SLOT_SENT;
	return 0;
}

/* Send the sealed batches the window allows, in order. */
static void pump(struct dpu_producer *p, uint64_t now)
{
	uint64_t lim = p->conf.semantics == DPU_AT_MOST_ONCE ? p->hi : p->lo + p->conf.window;

	for (uint64_t n = p->lo; n < p->hi && n < lim; n++) {
		struct dpu_slot *s = slot_of(p, n);

		if (s->state == SLOT_READY && send_batch(p, s, now) < 0)
			return;
	}
}

/* Seal a lingering batch; resend what was not acked in time; give up on the too old. */
static void timers(struct dpu_producer *p, uint64_t now)
{
	for (uint64_t n = p->lo; n < p->hi; n++) {
		struct dpu_slot *s = slot_of(p, n);

		if (s->state == SLOT_OPEN && s->b.count > 0 &&
		    now - s->opened_ns >= ms_ns(p->conf.linger_ms))
			seal_batch(p, s);
		if (s->state != SLOT_SENT)
			continue;
		if (now - s->first_sent_ns >= ms_ns(p->conf.delivery_timeout_ms))
			fail_batch(p, s, DPU_ERR_TIMED_OUT);
		else if (now >= s->next_ns && send_batch(p, s, now) < 0)
			return;
	}
}

/* ---- acks ------------------------------------------------------------------ */

struct dpu_ack {
	int16_t error;
	int32_t partition;
	int64_t base_offset;
	int64_t producer_id;
	int32_t base_sequence;
	uint32_t crc;
	int32_t record_count;
};

static bool ack_parse(const uint8_t *b, ssize_t len, struct dpu_ack *a)
{
	if (len < DP_SLA_SIZE || st_be32_load(b) != DP_SLA_MAGIC)
		return false;
	a->error = (int16_t)st_be16_load(b + 4);
	a->partition = (int32_t)st_be32_load(b + 8);
	a->base_offset = (int64_t)st_be64_load(b + 12);
	a->producer_id = (int64_t)st_be64_load(b + 20);
	a->base_sequence = (int32_t)st_be32_load(b + 28);
	a->crc = st_be32_load(b + 32);
	a->record_count = (int32_t)st_be32_load(b + 36);
	return true;
}

/* The batch in flight an ack answers: by sequence with a producer id, else the oldest with its CRC. */
static struct dpu_slot *ack_match(struct dpu_producer *p, const struct dpu_ack *a)
{
	bool by_seq = p->conf.producer_id >= 0;

	if (by_seq && a->producer_id != p->conf.producer_id)
		return NULL;
	for (uint64_t n = p->lo; n < p->hi; n++) {
		struct dpu_slot *s = slot_of(p, n);

		if (s->state != SLOT_SENT)
			continue;
		if (by_seq ? a->base_sequence == s->base_seq
			   : a->crc == s->crc && a->record_count == s->rep.count)
			return s;
	}
	return NULL;
}

/*
 * OUT_OF_ORDER_SEQUENCE: a batch before @s is missing at the appliance, so
 * @s was not stored.  Resend the oldest unacked batch now, at most once per
 * backoff, rather than wait for its own timer; @s itself goes again once
 * everything before it is acked (release_out_of_order), or on its timer.
 */
static void ack_out_of_order(struct dpu_producer *p, struct dpu_slot *s, uint64_t now)
{
	s->out_of_order = true;
	for (uint64_t n = p->lo; n < p->hi; n++) {
		struct dpu_slot *o = slot_of(p, n);

		if (o == s)
			break;
		if (o->state == SLOT_SENT && !o->out_of_order) {
			if (now - o->last_sent_ns >= ms_ns(p->conf.retry_backoff_ms))
				o->next_ns = now;
			break;
		}
	}
}

/* After an ack: the refused batches now first in line go again at once, in order. */
static void release_out_of_order(struct dpu_producer *p, uint64_t now)
{
	for (uint64_t n = p->lo; n < p->hi; n++) {
		struct dpu_slot *o = slot_of(p, n);

		if (o->state == SLOT_DONE)
			continue;
		if (o->state != SLOT_SENT || !o->out_of_order)
			break;
		o->out_of_order = false;
		o->next_ns = now;
	}
}

static void ack_in(struct dpu_producer *p, const uint8_t *buf, ssize_t len, uint64_t now)
{
	struct dpu_ack a;
	struct dpu_slot *s;

	if (!ack_parse(buf, len, &a)) {
		p->st.acks_bad++;
		return;
	}
	s = ack_match(p, &a);
	if (!s) {
		p->st.acks_unmatched++;   /* the ack of a resend already answered */
		return;
	}
	p->st.acks++;
	switch (a.error) {
	case 0:
		settle(s, 0, a.partition, a.base_offset);
		release_out_of_order(p, now);
		break;
	case KERR_DUPLICATE_SEQUENCE:     /* stored by an earlier send: delivered */
		settle(s, 0, a.partition, -1);
		release_out_of_order(p, now);
		break;
	case KERR_REQUEST_TIMED_OUT:      /* the writer is behind: later */
		s->next_ns = now + ms_ns(p->conf.retry_backoff_ms);
		break;
	case KERR_OUT_OF_ORDER_SEQUENCE:
		ack_out_of_order(p, s, now);
		break;
	default:
		fail_batch(p, s, a.error);
		break;
	}
}

static int read_acks(struct dpu_producer *p)
{
	uint8_t buf[256];
	ssize_t n;

	for (;;) {
		n = recv(p->fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR || errno == ECONNREFUSED)
				continue;  /* an ICMP unreachable: the resend timer covers it */
			return -errno;
		}
		ack_in(p, buf, n, now_ns());
	}
}

/* ---- the caller's API ------------------------------------------------------ */

int dpu_produce(struct dpu_producer *p, int64_t ts_ms, const void *key, int32_t key_len,
		const void *value, int32_t value_len, const struct st_record_header *hdrs,
		uint32_t n_hdrs)
{
	uint64_t now = now_ns();
	struct dpu_slot *s;
	int rc;

	if (p->fatal)
		return p->fatal;
	s = open_batch(p, ts_ms, now);
	if (!s)
		return -ENOBUFS;
	rc = st_batch_builder_add(&s->b, ts_ms, key, key_len, value, value_len, hdrs, n_hdrs);
	if (rc == -ENOSPC && s->b.count > 0) {
		seal_batch(p, s);
		pump(p, now);
		s = open_batch(p, ts_ms, now);
		if (!s)
			return -ENOBUFS;
		rc = st_batch_builder_add(&s->b, ts_ms, key, key_len, value, value_len, hdrs,
					  n_hdrs);
	}
	if (rc == -ENOSPC)
		return -EMSGSIZE;
	if (rc < 0)
		return rc;
	p->next_msg++;
	p->st.records++;
	return 0;
}

int dpu_poll(struct dpu_producer *p, int timeout_ms)
{
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
	int k, rc, due;

	/* Retire before pumping: the window counts from the oldest batch not reported. */
	timers(p, now_ns());
	k = retire(p);
	pump(p, now_ns());
	if (k == 0 && timeout_ms != 0) {
		due = dpu_timeout_ms(p);
		if (due >= 0 && (timeout_ms < 0 || due < timeout_ms))
			timeout_ms = due;
		if (poll(&pfd, 1, timeout_ms) < 0 && errno != EINTR)
			return -errno;
	}
	rc = read_acks(p);
	if (rc < 0)
		return rc;
	timers(p, now_ns());
	k += retire(p);
	pump(p, now_ns());
	return k;
}

uint32_t dpu_in_flight(const struct dpu_producer *p)
{
	uint32_t k = 0;

	for (uint64_t n = p->lo; n < p->hi; n++)
		k += p->slot[n % p->nslots].state != SLOT_OPEN;
	return k;
}

int dpu_flush(struct dpu_producer *p, int timeout_ms)
{
	uint64_t deadline = timeout_ms < 0 ? UINT64_MAX : now_ns() + ms_ns((uint32_t)timeout_ms);
	int rc;

	dpu_seal(p);
	for (;;) {
		uint64_t now = now_ns();

		rc = dpu_poll(p, now >= deadline ? 0 : due_in(deadline, now) > 1000 ? 1000 :
							 (int)due_in(deadline, now));
		if (rc < 0)
			return rc;
		if (dpu_in_flight(p) == 0)
			return 0;
		if (now_ns() >= deadline)
			return -ETIMEDOUT;
	}
}

int dpu_timeout_ms(const struct dpu_producer *p)
{
	uint64_t now = now_ns();
	int64_t best = -1, t;

	for (uint64_t n = p->lo; n < p->hi; n++) {
		const struct dpu_slot *s = &p->slot[n % p->nslots];

		if (s->state == SLOT_OPEN && s->b.count > 0)
			t = due_in(s->opened_ns + ms_ns(p->conf.linger_ms), now);
		else if (s->state == SLOT_READY && (p->conf.semantics == DPU_AT_MOST_ONCE ||
						      n < p->lo + p->conf.window))
			t = 1;                  /* the socket was full: try again soon */
		else if (s->state == SLOT_SENT)
			t = due_in(s->next_ns, now);
		else
			continue;
		if (best < 0 || t < best)
			best = t;
	}
	return best > INT32_MAX ? INT32_MAX : (int)best;
}

int dpu_producer_fd(const struct dpu_producer *p)
{
	return p->fd;
}

const struct dpu_stats *dpu_producer_stats(const struct dpu_producer *p)
{
	return &p->st;
}
