/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_uplink_resume.c - where an uplink resumes: the durable cursor, or
 * further when the cluster already has more.
 *
 * The idempotent producer's state (producer id, sequences) dies with the
 * process, so after a restart -- or a producer that started over after an
 * error -- records acknowledged (or merely written) after the last durable
 * cursor would be sent again.  Every record carries its local offset in
 * the header sluice.offset, and a partition of the remote topic is written
 * by this uplink alone, in order; so the last record of the remote
 * partition says how far delivery went.  Reading it: the partition's high
 * watermark (ListOffsets through the producer's handle), then one record
 * at high watermark - 1 with a short-lived consumer.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_log.h"
#include "ctl_uplink_int.h"
#include "fwc_config.h"
#include "st_partition.h"

/* The local offset in the record's last sluice.offset header, or -1. */
static int64_t record_offset(const rd_kafka_message_t *m)
{
	rd_kafka_headers_t *h = NULL;
	const void *v;
	size_t len;
	char buf[24];

	if (rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR ||
	    rd_kafka_header_get_last(h, CTL_UPLINK_OFFSET_HEADER, &v, &len) !=
		    RD_KAFKA_RESP_ERR_NO_ERROR || !v || len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, v, len);
	buf[len] = '\0';
	return strtoll(buf, NULL, 10);
}

/* Read the record at @tail[i] (>= 0) of every remote partition into @last[i]. */
static int read_tails(struct ul_topic *t, const int64_t *tail, int64_t *last)
{
	rd_kafka_conf_t *c = ul_conf(t, false);
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(t->n_parts);
	int64_t deadline = ul_now_ms() + UL_RESUME_TIMEOUT_MS;
	int32_t want = 0;
	char err[256];
	rd_kafka_t *rk;

	if (!c || !l || !(rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof(err)))) {
		if (c)
			rd_kafka_conf_destroy(c);
		if (l)
			rd_kafka_topic_partition_list_destroy(l);
		return -ENOMEM;
	}
	for (int32_t i = 0; i < t->n_parts; i++) {
		if (tail[i] < 0)
			continue;
		rd_kafka_topic_partition_list_add(l, t->remote, t->parts[i].remote_partition)->offset =
			tail[i];
		want++;
	}
	if (rd_kafka_assign(rk, l) != RD_KAFKA_RESP_ERR_NO_ERROR)
		want = -1;
	while (want > 0 && ul_now_ms() < deadline && !atomic_load(&t->stop)) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
		int32_t i;

		if (!m)
			continue;
		i = m->partition - t->cfg->partition_offset;
		if (i >= 0 && i < t->n_parts && tail[i] >= 0 && last[i] == -2 &&
		    (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF ||
		     (!m->err && m->offset == tail[i]))) {
			last[i] = m->err ? -1 : record_offset(m);
			want--;
		}
		rd_kafka_message_destroy(m);
	}
	rd_kafka_topic_partition_list_destroy(l);
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	if (want != 0)
		CTL_LOG(WARNING, "uplink %s: %s: could not read the last records of %s; retrying",
			t->name, want < 0 ? "assign failed" : "timed out", t->remote);
	return want != 0 ? -ETIMEDOUT : 0;
}

int ul_resume(struct ul_topic *t)
{
	int64_t *tail = calloc((size_t)t->n_parts, sizeof(*tail));
	int64_t *last = calloc((size_t)t->n_parts, sizeof(*last));
	int rc = tail && last ? 0 : -ENOMEM;

	for (int32_t i = 0; rc == 0 && i < t->n_parts; i++) {
		int64_t lo = 0, hi = 0;
		rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
			t->rk, t->remote, t->parts[i].remote_partition, &lo, &hi, UL_RESUME_TIMEOUT_MS);

		if (err) {
			CTL_LOG(WARNING, "uplink %s: %s [%d]: watermarks: %s; retrying", t->name,
				t->remote, t->parts[i].remote_partition, rd_kafka_err2str(err));
			rc = -EAGAIN;
		}
		tail[i] = hi > lo ? hi - 1 : -1;
		last[i] = -2;
	}
	if (rc == 0)
		rc = read_tails(t, tail, last);
	for (int32_t i = 0; rc == 0 && i < t->n_parts; i++) {
		struct ul_part *up = &t->parts[i];
		int64_t cur = atomic_load(&up->committed), start = cur < 0 ? 0 : cur;
		int64_t leo = st_partition_hw(up->p, ST_VIS_DURABLE);

		if (tail[i] >= 0 && last[i] < 0)
			CTL_LOG(WARNING, "uplink %s-%d: the last record of %s [%d] has no %s header: "
				"resuming from the cursor", t->name, i, t->remote, up->remote_partition,
				CTL_UPLINK_OFFSET_HEADER);
		if (last[i] >= leo) {
			CTL_LOG(ERR, "uplink %s-%d: %s [%d] already holds local offset %" PRId64
				", beyond the local log end %" PRId64 ": not shipping into it", t->name,
				i, t->remote, up->remote_partition, last[i], leo);
			rc = -EEXIST;
			break;
		}
		if (last[i] + 1 > start)
			start = last[i] + 1;
		up->next = start;
		atomic_store(&up->acked, start);
		CTL_LOG(INFO, "uplink %s-%d: resuming at offset %" PRId64 " (cursor %" PRId64
			", remote tail %" PRId64 ")", t->name, i, start, cur, last[i]);
	}
	free(tail);
	free(last);
	return rc;
}
