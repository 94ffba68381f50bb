/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_uplink_ship.c - an uplinked topic's thread: read the local log,
 * produce to the cluster, count what it acknowledges.
 *
 * The loop: connect (a producer, then ul_resume) unless connected; for
 * every partition read durable batches from `next` while the producer's
 * queue has room, produce their records; serve delivery reports (which move
 * `acked`); every UL_STATS_MS post the acknowledgements to the control
 * thread, refresh the lag figures and the retention hold.  Any delivery
 * error or fatal producer error ends the producer: the thread waits
 * UL_RETRY_MS, connects again and resumes from the remote tail, so nothing
 * is shipped twice or skipped.  Only durable records are shipped: a crash
 * can never take back, and offsets never reuse, what the cluster has.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_log.h"
#include "ctl_server.h"
#include "ctl_uplink_int.h"
#include "fwc_config.h"
#include "st_batch.h"
#include "st_partition.h"

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct ul_topic *t = opaque;
	int32_t i = m->partition - t->cfg->partition_offset;
	int64_t off = (int64_t)(intptr_t)m->_private;
	struct ul_part *up;

	(void)rk;
	if (i < 0 || i >= t->n_parts)
		return;
	up = &t->parts[i];
	if (m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE || m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT ||
	    m->err == RD_KAFKA_RESP_ERR__DESTROY)
		return;  /* ours: the producer is starting over or stopping */
	if (m->err) {
		if (!t->reset)
			CTL_LOG(WARNING, "uplink %s-%d: offset %" PRId64 " not delivered: %s; "
				"the producer starts over", t->name, i, off, rd_kafka_err2str(m->err));
		atomic_fetch_add(&up->errors, 1);
		t->reset = true;
		return;
	}
	/* Idempotence keeps a partition's reports in order: acked only grows. */
	if (off + 1 > atomic_load(&up->acked))
		atomic_store(&up->acked, off + 1);
	atomic_fetch_add(&up->records, 1);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct ul_topic *t = opaque;
	char buf[256];

	if (err == RD_KAFKA_RESP_ERR__FATAL) {
		rd_kafka_fatal_error(rk, buf, sizeof(buf));
		CTL_LOG(ERR, "uplink %s: fatal producer error: %s; the producer starts over",
			t->name, buf);
		atomic_fetch_add(&t->parts[0].errors, 1);
		t->reset = true;
	}
	/* Others (brokers down, transports) librdkafka retries itself. */
	(void)reason;
}

static void set(rd_kafka_conf_t *c, const char *k, const char *v)
{
	char err[256];

	if (rd_kafka_conf_set(c, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK)
		CTL_LOG(WARNING, "uplink: %s=%s: %s", k, v, err);
}

rd_kafka_conf_t *ul_conf(const struct ul_topic *t, bool producer)
{
	rd_kafka_conf_t *c = rd_kafka_conf_new();
	char err[256];

	if (!c)
		return NULL;
	set(c, "client.id", "sluice-uplink");
	set(c, "log_level", "4");
	if (producer) {
		set(c, "queue.buffering.max.messages", "100000");
		set(c, "linger.ms", "5");
	}
	for (unsigned int i = 0; i < t->cfg->n_props; i++)
		if (rd_kafka_conf_set(c, t->cfg->props[i].name, t->cfg->props[i].value, err,
				      sizeof(err)) != RD_KAFKA_CONF_OK && producer) {
			CTL_LOG(ERR, "uplink %s: %s: %s", t->name, t->cfg->props[i].name, err);
			rd_kafka_conf_destroy(c);
			return NULL;
		}
	set(c, "bootstrap.servers", t->cfg->bootstrap_servers);
	if (producer) {
		set(c, "enable.idempotence", "true");
		set(c, "acks", "all");
		set(c, "message.timeout.ms", "0");
	} else {
		set(c, "enable.auto.commit", "false");
		set(c, "enable.partition.eof", "true");
		set(c, "group.id", t->group); /* assign() needs one; never joined nor committed */
	}
	return c;
}

static void disconnect(struct ul_topic *t)
{
	if (!t->rk)
		return;
	rd_kafka_flush(t->rk, t->reset ? 0 : UL_FLUSH_MS);
	rd_kafka_purge(t->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
	rd_kafka_poll(t->rk, 0);
	if (t->rkt)
		rd_kafka_topic_destroy(t->rkt);
	rd_kafka_destroy(t->rk);
	t->rk = NULL;
	t->rkt = NULL;
	atomic_store(&t->connected, false);
}

static int connect_producer(struct ul_topic *t)
{
	rd_kafka_conf_t *c = ul_conf(t, true);
	char err[512], buf[32];
	size_t len = sizeof(buf);
	int rc;

	if (!c)
		return -EINVAL;
	rd_kafka_conf_set_opaque(c, t);
	rd_kafka_conf_set_dr_msg_cb(c, on_delivery);
	rd_kafka_conf_set_error_cb(c, on_error);
	t->qmax = rd_kafka_conf_get(c, "queue.buffering.max.messages", buf, &len) == RD_KAFKA_CONF_OK
			  ? strtoull(buf, NULL, 10) : 100000;
	t->rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof(err));
	if (!t->rk) {
		CTL_LOG(ERR, "uplink %s: producer: %s", t->name, err);
		rd_kafka_conf_destroy(c);
		return -EINVAL;
	}
	t->rkt = rd_kafka_topic_new(t->rk, t->remote, NULL);
	t->reset = false;
	rc = t->rkt ? ul_resume(t) : -ENOMEM;
	if (rc < 0) {
		atomic_fetch_add(&t->parts[0].errors, 1);
		disconnect(t);
		return rc;
	}
	atomic_store(&t->connected, true);
	return 0;
}

/* One record: its headers, then ours (sluice.offset). @return 0 or an rd_kafka error. */
static rd_kafka_resp_err_t produce(struct ul_topic *t, struct ul_part *up,
				   const struct st_record *rec, int64_t ts)
{
	rd_kafka_headers_t *h = rd_kafka_headers_new(rec->n_headers + 1);
	const uint8_t *pos = rec->headers;
	struct st_record_header hdr;
	rd_kafka_resp_err_t err;
	char off[24];

	while (st_record_header_next(rec, &pos, &hdr))
		rd_kafka_header_add(h, hdr.key, (ssize_t)hdr.key_len, hdr.value,
				    hdr.value ? (ssize_t)hdr.value_len : 0);
	rd_kafka_header_add(h, CTL_UPLINK_OFFSET_HEADER, -1, off,
			    snprintf(off, sizeof(off), "%" PRId64, rec->offset));
	err = rd_kafka_producev(t->rk, RD_KAFKA_V_RKT(t->rkt),
				RD_KAFKA_V_PARTITION(up->remote_partition),
				RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
				RD_KAFKA_V_KEY(rec->key, rec->key ? (size_t)rec->key_len : 0),
				RD_KAFKA_V_VALUE((void *)rec->value,
						 rec->value ? (size_t)rec->value_len : 0),
				RD_KAFKA_V_TIMESTAMP(ts), RD_KAFKA_V_HEADERS(h),
				RD_KAFKA_V_OPAQUE((void *)(intptr_t)rec->offset), RD_KAFKA_V_END);
	if (err)
		rd_kafka_headers_destroy(h);
	return err;
}

/* The records of one batch from up->next on. @return false when the queue is full. */
static bool ship_batch(struct ul_topic *t, struct ul_part *up, const uint8_t *b,
		       const struct st_batch_info *bi)
{
	struct st_record_iter it;
	struct st_record rec;
	rd_kafka_resp_err_t err;

	if (bi->attributes & ST_BATCH_ATTR_CONTROL) {
		up->next = st_batch_last_offset(bi) + 1;
		return true;
	}
	if (bi->attributes & ST_BATCH_ATTR_CODEC_MASK) {
		CTL_LOG(ERR, "uplink %s-%d: offset %" PRId64 " is in a compressed batch, which the "
			"uplink cannot ship: this partition's uplink stops", t->name, up->partition,
			up->next);
		atomic_fetch_add(&up->errors, 1);
		up->stalled = true;
		return false;
	}
	st_record_iter_init(&it, b, bi);
	while (st_record_iter_next(&it, &rec)) {
		if (rec.offset < up->next)
			continue;
		err = produce(t, up, &rec, bi->attributes & ST_BATCH_ATTR_LOG_APPEND_TIME
						   ? bi->max_timestamp : rec.timestamp);
		if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
			return false;
		if (err) {
			CTL_LOG(ERR, "uplink %s-%d: produce: %s", t->name, up->partition,
				rd_kafka_err2str(err));
			atomic_fetch_add(&up->errors, 1);
			t->reset = true;
			return false;
		}
		up->next = rec.offset + 1;
	}
	if (it.err) {
		CTL_LOG(ERR, "uplink %s-%d: offset %" PRId64 ": records do not decode: this "
			"partition's uplink stops", t->name, up->partition, up->next);
		atomic_fetch_add(&up->errors, 1);
		up->stalled = true;
		return false;
	}
	up->next = st_batch_last_offset(bi) + 1;
	return true;
}

/* Before the log start: deleted by retention (allowed by the override, or before a cursor). */
static void skip_deleted(struct ul_topic *t, struct ul_part *up)
{
	int64_t start = st_partition_log_start(up->p);

	if (up->next >= start)
		return;
	CTL_LOG(WARNING, "uplink %s-%d: offsets %" PRId64 "..%" PRId64 " were deleted by "
		"retention before they were shipped", t->name, up->partition, up->next, start - 1);
	atomic_fetch_add(&up->lost, (uint64_t)(start - up->next));
	up->next = start;
	if (atomic_load(&up->acked) < start)
		atomic_store(&up->acked, start);
}

/* Read and produce what the queue has room for. @return records produced. */
static uint64_t pump(struct ul_topic *t, struct ul_part *up, uint8_t **bufp, size_t *cap)
{
	uint8_t *buf;
	int64_t hw = st_partition_hw(up->p, ST_VIS_DURABLE), before = up->next;
	struct st_log_range r;
	struct st_batch_info bi;
	uint32_t at = 0;

	if (up->stalled || up->next >= hw || (uint64_t)rd_kafka_outq_len(t->rk) >= t->qmax)
		return 0;
	skip_deleted(t, up);
	if (st_log_read(up->p->log, up->next, UL_READ_BYTES, hw, &r) < 0 || r.length == 0) {
		st_log_range_put(&r);
		return 0;
	}
	if (r.length > *cap) {  /* one batch larger than a read */
		buf = realloc(*bufp, r.length);
		if (buf) {
			*bufp = buf;
			*cap = r.length;
		}
	}
	buf = *bufp;
	if (r.length > *cap || pread(r.fd, buf, r.length, (off_t)r.position) != (ssize_t)r.length) {
		st_log_range_put(&r);
		return 0;
	}
	st_log_range_put(&r);
	while (at < r.length &&
	       st_batch_header_read(buf + at, r.length - at, &bi) == ST_BATCH_ERR_OK &&
	       ship_batch(t, up, buf + at, &bi))
		at += st_batch_size(&bi);
	return (uint64_t)(up->next - before);
}

/* Lag figures, the hold, and a post to the control thread when acked moved. */
static void tick(struct ul_topic *t)
{
	int64_t now = ul_now_ms();
	bool moved = false;

	for (int32_t i = 0; i < t->n_parts; i++) {
		struct ul_part *up = &t->parts[i];
		int64_t hw = st_partition_hw(up->p, ST_VIS_DURABLE);
		int64_t acked = atomic_load(&up->acked), cur = atomic_load(&up->committed);
		int64_t bytes = 0, age = 0;
		struct st_log_range r;
		uint8_t hdr[ST_BATCH_HEADER_SIZE];
		struct st_batch_info bi;

		if (acked < hw && st_log_read(up->p->log, acked, 0, hw, &r) == 0 && r.length) {
			if (pread(r.fd, hdr, sizeof(hdr), (off_t)r.position) == sizeof(hdr) &&
			    st_batch_header_read(hdr, sizeof(hdr), &bi) != ST_BATCH_ERR_BAD_MAGIC)
				age = now - bi.max_timestamp;
			st_log_range_put(&r);
			bytes = st_log_bytes_from(up->p->log, acked);
		}
		atomic_store(&up->lag_records, hw > acked ? hw - acked : 0);
		atomic_store(&up->lag_bytes, bytes > 0 ? bytes : 0);
		atomic_store(&up->lag_ms, age > 0 ? age : 0);
		if (!t->cfg->retention_override)
			st_log_set_retain_hold(up->p->log, cur < 0 ? 0 : cur);
		moved |= acked > cur;
	}
	if (moved)
		ctl_notifier_signal(t->u->notifier);
}

void *ul_thread(void *arg)
{
	struct ul_topic *t = arg;
	size_t cap = UL_READ_BYTES * 2;
	uint8_t *buf = malloc(cap);
	int64_t next_tick = 0, retry_at = 0;

	while (buf && !atomic_load(&t->stop)) {
		uint64_t n = 0;

		if (ul_now_ms() >= next_tick) {
			tick(t);
			next_tick = ul_now_ms() + UL_STATS_MS;
		}
		if (!t->rk) {
			if (ul_now_ms() < retry_at || connect_producer(t) < 0) {
				if (ul_now_ms() >= retry_at)
					retry_at = ul_now_ms() + UL_RETRY_MS;
				usleep(50000);
				continue;
			}
		}
		for (int32_t i = 0; i < t->n_parts && !t->reset; i++)
			n += pump(t, &t->parts[i], &buf, &cap);
		rd_kafka_poll(t->rk, n ? 0 : 10);
		if (t->reset) {
			disconnect(t);
			retry_at = ul_now_ms() + UL_RETRY_MS;
		}
	}
	disconnect(t);
	tick(t);
	free(buf);
	return NULL;
}
