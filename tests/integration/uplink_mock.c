/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * uplink_mock - the remote Kafka cluster of test_uplink.sh: librdkafka's
 * mock cluster (3 brokers) inside this process, driven by commands on
 * standard input, one answer line each on standard output.
 *
 *   (at start)                       -> "bootstrap HOST:PORT,..."
 *   produce BOOTSTRAP TOPIC NPART FROM N TS
 *                                    produce records FROM..FROM+N-1 into sluiced
 *                                    (idempotent; key, value, headers derived from
 *                                    the number, timestamp TS + number)
 *                                    -> "produced D failed F"
 *   down B | up B                    mock broker B down / up -> "ok"
 *   errors N CODE                    the next N Produce requests fail with CODE -> "ok"
 *   count                            records in the mock topic -> "count N"
 *   verify BOOTSTRAP LOCALTOPIC      read sluiced's topic and the mock topic back
 *                                    and compare -> "verify ok N FULL" or "verify FAIL ..."
 *   quit
 *
 * Usage: uplink_mock TOPIC PARTITIONS.  Every partition's leader is broker 1.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "rdk_test.h"


static rd_kafka_mock_cluster_t *mc;
static const char *mtopic;
static int mparts;
static char mboot[1024];

static rd_kafka_conf_t *conf(const char *bootstrap)
{
	rd_kafka_conf_t *c = rd_kafka_conf_new();
	char err[256];

	rd_kafka_conf_set(c, "bootstrap.servers", bootstrap, err, sizeof(err));
	rd_kafka_conf_set(c, "log_level", "3", err, sizeof(err));
	return c;
}

static void produce(const char *boot, const char *topic, int nparts, long from, long n,
		    long long ts_base)
{
	rd_kafka_conf_t *c = conf(boot);
	struct rdk_dr dr = { 0 };
	char err[256], key[32], val[256], h1[32];
	rd_kafka_t *rk;

	rd_kafka_conf_set(c, "enable.idempotence", "true", err, sizeof(err));
	rd_kafka_conf_set(c, "linger.ms", "5", err, sizeof(err));
	rd_kafka_conf_set_opaque(c, &dr);
	rd_kafka_conf_set_dr_msg_cb(c, rdk_dr_cb);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof(err));
	if (!rk) {
		printf("produced 0 failed %ld (%s)\n", n, err);
		return;
	}
	for (long i = from; i < from + n; i++) {
		rd_kafka_headers_t *h = rd_kafka_headers_new(2);
		int vlen = 10 + (int)(i * 7919 % 50);
		const char *k = i % 11 == 0 ? NULL : key;  /* some null keys */
		size_t klen;
		rd_kafka_resp_err_t e;

		for (int j = 0; j < vlen; j++)
			val[j] = (char)('a' + (i + j) % 26);
		klen = k ? (size_t)snprintf(key, sizeof(key), "k%ld", i) : 0;
		snprintf(h1, sizeof(h1), "%ld", i * 3);
		rd_kafka_header_add(h, "h1", -1, h1, -1);
		if (i % 5 == 0)
			rd_kafka_header_add(h, "empty", -1, NULL, 0);
		do {
			e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
					      RD_KAFKA_V_PARTITION((int32_t)(i % nparts)),
					      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
					      RD_KAFKA_V_KEY(k, klen),
					      RD_KAFKA_V_VALUE(val, (size_t)vlen),
					      RD_KAFKA_V_TIMESTAMP(ts_base + i), RD_KAFKA_V_HEADERS(h),
					      RD_KAFKA_V_END);
			if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL)
				rd_kafka_poll(rk, 10);
		} while (e == RD_KAFKA_RESP_ERR__QUEUE_FULL);
		if (e) {
			rd_kafka_headers_destroy(h);
			dr.failed++;
		}
		rd_kafka_poll(rk, 0);
	}
	rd_kafka_flush(rk, 60000);
	rd_kafka_destroy(rk);
	printf("produced %ld failed %ld\n", dr.ok, dr.failed);
}

/* One record as read back: comparable fields. */
struct rec {
	char *key, *val, *hdrs;
	int klen, vlen, hlen;
	int64_t ts, offset, sluice_offset;
};

static char *dup_bytes(const void *p, size_t n, int *len)
{
	char *d = malloc(n + 1);

	if (p && n)
		memcpy(d, p, n);
	*len = p ? (int)n : -1;
	return d;
}

/* Headers as "name=value;" (value "(null)" for a null); sluice.offset taken out. */
static void take_headers(const rd_kafka_message_t *m, struct rec *r)
{
	rd_kafka_headers_t *h = NULL;
	char buf[4096];
	size_t n = 0, len;
	const char *name;
	const void *v;

	r->sluice_offset = -1;
	buf[0] = '\0';
	if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR) {
		for (size_t i = 0; rd_kafka_header_get_all(h, i, &name, &v, &len) == 0; i++) {
			if (!strcmp(name, "sluice.offset")) {
				r->sluice_offset = strtoll(v ? (const char *)v : "-1", NULL, 10);
				continue;
			}
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s=%.*s;", name,
					      v ? (int)len : 6, v ? (const char *)v : "(null)");
			if (n >= sizeof(buf))
				n = sizeof(buf) - 1;
		}
	}
	r->hdrs = dup_bytes(buf, n, &r->hlen);
}

static void free_recs(struct rec *rs, long n)
{
	for (long i = 0; i < n; i++) {
		free(rs[i].key);
		free(rs[i].val);
		free(rs[i].hdrs);
	}
	free(rs);
}

/* Every record of @topic [@part] from the start to the high watermark. */
static struct rec *read_all(const char *boot, const char *topic, int32_t part, long *n_out,
			    int64_t *start_out)
{
	rd_kafka_conf_t *c = conf(boot);
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
	int64_t lo = 0, hi = 0;
	struct rec *rs = NULL;
	long n = 0, cap = 0;
	char err[256];
	rd_kafka_t *rk;

	*n_out = 0;
	rd_kafka_conf_set(c, "enable.partition.eof", "true", err, sizeof(err));
	rd_kafka_conf_set(c, "group.id", "uplink-verify", err, sizeof(err)); /* assign() needs one */
	rd_kafka_conf_set(c, "enable.auto.commit", "false", err, sizeof(err));
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof(err));
	if (!rk || rd_kafka_query_watermark_offsets(rk, topic, part, &lo, &hi, 10000)) {
		*n_out = -1;
		return NULL;
	}
	rd_kafka_topic_partition_list_add(l, topic, part)->offset = RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_assign(rk, l);
	while (hi > lo) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 1000);

		if (!m)
			continue;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF && m->offset >= hi) {
			rd_kafka_message_destroy(m);
			break;
		}
		if (!m->err) {
			struct rec *r;

			if (n == cap) {
				cap = cap ? cap * 2 : 4096;
				rs = realloc(rs, (size_t)cap * sizeof(*rs));
			}
			r = &rs[n++];
			r->key = dup_bytes(m->key, m->key_len, &r->klen);
			r->val = dup_bytes(m->payload, m->len, &r->vlen);
			r->ts = rd_kafka_message_timestamp(m, NULL);
			r->offset = m->offset;
			take_headers(m, r);
		}
		rd_kafka_message_destroy(m);
	}
	rd_kafka_topic_partition_list_destroy(l);
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	/* Where the log starts now: its first record (retention may run meanwhile). */
	*start_out = n ? rs[0].offset : hi;
	for (long i = 1; i < n; i++)
		if (rs[i].offset != rs[0].offset + i)
			*n_out = -1;
	if (*n_out != -1 && n && rs[n - 1].offset != hi - 1)
		*n_out = -1;
	if (*n_out == -1) {
		fprintf(stderr, "uplink_mock: %s [%d]: watermarks %" PRId64 "..%" PRId64 ", read %ld "
			"records, not consecutive up to the high watermark\n", topic, part, lo, hi, n);
		free_recs(rs, n);
		return NULL;
	}
	*n_out = n;
	return rs;
}

static bool same(const char *a, int alen, const char *b, int blen)
{
	return alen == blen && (alen <= 0 || memcmp(a, b, (size_t)alen) == 0);
}

/*
 * Remote partition p must hold exactly local offsets 0..end-1 in order
 * (sluice.offset == position), and equal the local record wherever the
 * local log still has it (retention may have removed shipped records).
 */
static int verify_part(const char *boot, const char *ltopic, int32_t p, long *total, long *full)
{
	int64_t lstart = 0, rstart = 0;
	long nl, nr;
	struct rec *l = read_all(boot, ltopic, p, &nl, &lstart);
	struct rec *r = read_all(mboot, mtopic, p, &nr, &rstart);
	int rc = 0;

	if (nl < 0 || nr < 0) {
		printf("verify FAIL partition %d: cannot read (local %ld remote %ld)\n", p, nl, nr);
		rc = -1;
		goto out;
	}
	/* The mock keeps a few MB per partition: it must still hold all of it. */
	if (nr > 0 && r[0].offset != 0) {
		printf("verify FAIL partition %d: the mock cluster trimmed its log (starts at %" PRId64
		       "): use more partitions or fewer records\n", p, r[0].offset);
		rc = -1;
		goto out;
	}
	if (nr != lstart + nl) {
		printf("verify FAIL partition %d: remote holds %ld records, local end is %" PRId64
		       "\n", p, nr, lstart + nl);
		rc = -1;
		goto out;
	}
	for (long j = 0; j < nr && rc == 0; j++) {
		const struct rec *a = &r[j], *b = j >= lstart ? &l[j - lstart] : NULL;

		if (a->sluice_offset != j)
			rc = -1;
		else if (b && (b->offset != j || !same(a->key, a->klen, b->key, b->klen) ||
			       !same(a->val, a->vlen, b->val, b->vlen) ||
			       !same(a->hdrs, a->hlen, b->hdrs, b->hlen) || a->ts != b->ts))
			rc = -1;
		if (rc)
			printf("verify FAIL partition %d: remote record %ld (sluice.offset %" PRId64
			       ") differs from local offset %ld\n", p, j, a->sluice_offset, j);
		*full += b != NULL;
	}
	*total += nr;
out:
	free_recs(l, nl);
	free_recs(r, nr);
	return rc;
}

static long count_remote(void)
{
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf(mboot), NULL, 0);
	long total = 0;

	for (int p = 0; rk && p < mparts; p++) {
		int64_t lo, hi;

		if (rd_kafka_query_watermark_offsets(rk, mtopic, p, &lo, &hi, 5000)) {
			total = -1;
			break;
		}
		total += hi;
	}
	if (rk)
		rd_kafka_destroy(rk);
	return total;
}

static void command(char *line)
{
	char a[512], b[256];
	long x, y;
	int np;

	long long ts;

	if (sscanf(line, "produce %511s %255s %d %ld %ld %lld", a, b, &np, &x, &y, &ts) == 6) {
		produce(a, b, np, x, y, ts);
	} else if (sscanf(line, "down %ld", &x) == 1) {
		printf("%s\n", rd_kafka_mock_broker_set_down(mc, (int32_t)x) ? "error" : "ok");
	} else if (sscanf(line, "up %ld", &x) == 1) {
		printf("%s\n", rd_kafka_mock_broker_set_up(mc, (int32_t)x) ? "error" : "ok");
	} else if (sscanf(line, "errors %ld %ld", &x, &y) == 2) {
		rd_kafka_resp_err_t errs[1000];

		for (long i = 0; i < x && i < 1000; i++)
			errs[i] = (rd_kafka_resp_err_t)y;
		rd_kafka_mock_push_request_errors_array(mc, 0 /* Produce */, x < 1000 ? (size_t)x : 1000,
							errs);
		printf("ok\n");
	} else if (!strncmp(line, "count", 5)) {
		printf("count %ld\n", count_remote());
	} else if (sscanf(line, "verify %511s %255s", a, b) == 2) {
		long total = 0, full = 0;
		int rc = 0;

		for (int p = 0; p < mparts && rc == 0; p++)
			rc = verify_part(a, b, p, &total, &full);
		if (rc == 0)
			printf("verify ok %ld %ld\n", total, full);
	} else {
		printf("unknown command\n");
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	char line[1024], err[256];
	rd_kafka_t *rk;

	if (argc != 3) {
		fprintf(stderr, "usage: uplink_mock TOPIC PARTITIONS\n");
		return 2;
	}
	mtopic = argv[1];
	mparts = atoi(argv[2]);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), err, sizeof(err));
	if (!rk || !(mc = rd_kafka_mock_cluster_new(rk, 3)) ||
	    rd_kafka_mock_topic_create(mc, mtopic, mparts, 3)) {
		fprintf(stderr, "uplink_mock: cannot create the mock cluster\n");
		return 1;
	}
	for (int p = 0; p < mparts; p++)
		rd_kafka_mock_partition_set_leader(mc, mtopic, p, 1);
	snprintf(mboot, sizeof(mboot), "%s", rd_kafka_mock_cluster_bootstraps(mc));
	printf("bootstrap %s\n", mboot);
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin) && strncmp(line, "quit", 4))
		command(line);
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return 0;
}
