/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice export -b HOST:PORT - the records from a running broker, over
 * Kafka like any client (librdkafka): one cursor per partition with the
 * simple consumer API (rd_kafka_consume_start / rd_kafka_consume), which
 * reads one partition at a time, as the time merge needs; no consumer group,
 * nothing committed.  Each cursor starts at ListOffsets by time (--from) or
 * the log start and stops at the high watermark seen at start.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "sluice_export_int.h"

#define XK_TIMEOUT_MS 10000

struct sluice_xkafka {
	rd_kafka_t *rk;
	rd_kafka_topic_t *rkt;
};

struct kpart {
	rd_kafka_topic_t *rkt;
	rd_kafka_message_t *msg;        /* the record handed out last */
	int64_t start, next, end;       /* offsets: [start, end) */
	bool started;
};

static void xk_quiet_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk, (void)level, (void)fac, (void)buf;
}

static void xrec_from_message(struct sluice_xrec *x, int32_t partition,
			      const rd_kafka_message_t *m)
{
	rd_kafka_headers_t *hdrs = NULL;
	const char *name;
	const void *val;
	unsigned int seen = 0;
	size_t size;

	memset(x, 0, sizeof(*x));
	x->partition = partition;
	x->offset = m->offset;
	x->timestamp = rd_kafka_message_timestamp(m, NULL);
	x->key = m->key;
	x->key_len = m->key ? (int32_t)m->key_len : -1;
	x->value = m->payload;
	x->value_len = m->payload ? (int32_t)m->len : -1;
	if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR)
		for (size_t i = 0; !rd_kafka_header_get_all(hdrs, i, &name, &val, &size); i++)
			sluice_xrec_header(x, &seen, name, strlen(name), val,
					   val ? (int32_t)size : -1);
	sluice_xrec_finish(x, seen);
}

static int kpart_next(struct sluice_xpart *p, struct sluice_xrec *x)
{
	struct kpart *k = p->impl;

	if (k->msg)
		rd_kafka_message_destroy(k->msg);
	k->msg = NULL;
	while (k->next < k->end) {
		rd_kafka_message_t *m = rd_kafka_consume(k->rkt, p->partition, XK_TIMEOUT_MS);

		if (!m)
			return -ETIMEDOUT;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			rd_kafka_message_destroy(m);
			return 0;
		}
		if (m->err) {
			fprintf(stderr, "sluice export: %s-%d: %s\n", p->topic, p->partition,
				rd_kafka_message_errstr(m));
			rd_kafka_message_destroy(m);
			return -EIO;
		}
		k->next = m->offset + 1;
		p->done = (uint64_t)(k->next - k->start);
		if (m->offset >= k->end)
			break;
		k->msg = m;
		xrec_from_message(x, p->partition, m);
		return 1;
	}
	return 0;
}

static void kpart_close(struct sluice_xpart *p)
{
	struct kpart *k = p->impl;

	if (!k)
		return;
	if (k->msg)
		rd_kafka_message_destroy(k->msg);
	if (k->started)
		rd_kafka_consume_stop(k->rkt, p->partition);
	free(k);
	p->impl = NULL;
}

/* Where @p's cursor starts and ends. @return 0 or -1 (printed). */
static int kpart_range(struct sluice_xkafka *kc, const char *topic, int32_t part, int64_t from_ns,
		       struct kpart *k)
{
	rd_kafka_resp_err_t err;
	int64_t lo, hi;

	err = rd_kafka_query_watermark_offsets(kc->rk, topic, part, &lo, &hi, XK_TIMEOUT_MS);
	if (err) {
		fprintf(stderr, "sluice export: %s-%d: %s\n", topic, part, rd_kafka_err2str(err));
		return -1;
	}
	k->start = lo;
	k->end = hi;
	if (from_ns != INT64_MIN && from_ns > 0) {
		rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);

		/* Record timestamps are rx.ns in ms, rounded down: never past a match. */
		rd_kafka_topic_partition_list_add(l, topic, part)->offset = from_ns / 1000000;
		err = rd_kafka_offsets_for_times(kc->rk, l, XK_TIMEOUT_MS);
		if (!err && l->elems[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
			k->start = l->elems[0].offset < 0 ? hi : l->elems[0].offset;
		rd_kafka_topic_partition_list_destroy(l);
		if (err) {
			fprintf(stderr, "sluice export: %s-%d: offsets by time: %s\n", topic, part,
				rd_kafka_err2str(err));
			return -1;
		}
	}
	k->next = k->start;
	return 0;
}

static rd_kafka_t *xk_client(const char *bootstrap)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char err[256];
	rd_kafka_t *rk;

	if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof(err)) ||
	    rd_kafka_conf_set(conf, "client.id", "sluice-export", err, sizeof(err)) ||
	    rd_kafka_conf_set(conf, "enable.partition.eof", "true", err, sizeof(err)) ||
	    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err))) {
		fprintf(stderr, "sluice export: %s\n", err);
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rd_kafka_conf_set_log_cb(conf, xk_quiet_log);
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	if (!rk)
		fprintf(stderr, "sluice export: %s\n", err);
	return rk;
}

/* One cursor per partition of the topic in @md. */
static int xk_parts(struct sluice_xkafka *kc, const rd_kafka_metadata_topic_t *mt, int32_t only,
		    int64_t from_ns, struct sluice_xpart **parts, size_t *n_parts)
{
	*parts = calloc((size_t)mt->partition_cnt + 1, sizeof(**parts));
	if (!*parts)
		return -1;
	for (int i = 0; i < mt->partition_cnt; i++) {
		int32_t id = mt->partitions[i].id;
		struct sluice_xpart *p = &(*parts)[*n_parts];
		struct kpart *k;

		if (only >= 0 && id != only)
			continue;
		k = calloc(1, sizeof(*k));
		if (!k)
			return -1;
		k->rkt = kc->rkt;
		*p = (struct sluice_xpart){ .topic = mt->topic, .partition = id, .impl = k,
					    .next = kpart_next, .close = kpart_close };
		(*n_parts)++;
		if (kpart_range(kc, mt->topic, id, from_ns, k) < 0)
			return -1;
		p->total = (uint64_t)(k->end - k->start);
		if (k->start < k->end) {
			if (rd_kafka_consume_start(kc->rkt, id, k->start) < 0) {
				fprintf(stderr, "sluice export: %s-%d: %s\n", mt->topic, id,
					rd_kafka_err2str(rd_kafka_last_error()));
				return -1;
			}
			k->started = true;
		}
	}
	if (!*n_parts) {
		fprintf(stderr, "sluice export: topic '%s' has no partition %d\n", mt->topic, only);
		return -1;
	}
	return 0;
}

int sluice_export_kafka_open(const char *bootstrap, const char *topic, int32_t partition,
			     int64_t from_ns, struct sluice_xpart **parts, size_t *n_parts,
			     struct sluice_xkafka **kcp)
{
	struct sluice_xkafka *kc = calloc(1, sizeof(*kc));
	const rd_kafka_metadata_t *md = NULL;
	rd_kafka_resp_err_t err;
	int rc = -1;

	*kcp = kc;
	if (!kc || !(kc->rk = xk_client(bootstrap)))
		return -1;
	kc->rkt = rd_kafka_topic_new(kc->rk, topic, NULL);
	if (!kc->rkt)
		return -1;
	err = rd_kafka_metadata(kc->rk, 0, kc->rkt, &md, XK_TIMEOUT_MS);
	if (err)
		fprintf(stderr, "sluice export: cannot reach the broker at %s: %s\n", bootstrap,
			rd_kafka_err2str(err));
	else if (md->topic_cnt != 1 || md->topics[0].err)
		fprintf(stderr, "sluice export: topic '%s': %s\n", topic,
			md->topic_cnt ? rd_kafka_err2str(md->topics[0].err) : "not found");
	else
		rc = xk_parts(kc, &md->topics[0], partition, from_ns, parts, n_parts);
	/* The cursors keep the topic name: point them at the caller's copy. */
	for (size_t i = 0; i < *n_parts; i++)
		(*parts)[i].topic = topic;
	if (md)
		rd_kafka_metadata_destroy(md);
	return rc;
}

void sluice_export_kafka_close(struct sluice_xkafka *kc)
{
	if (kc->rkt)
		rd_kafka_topic_destroy(kc->rkt);
	if (kc->rk)
		rd_kafka_destroy(kc->rk);
	free(kc);
}
