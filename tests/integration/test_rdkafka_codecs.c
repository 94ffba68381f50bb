/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_rdkafka_codecs - librdkafka against the real sluiced: for each
 * compression codec (none, gzip, snappy, lz4, zstd) produce keyed messages
 * with a header, acks=all, into topic "<prefix>-<codec>" (auto-created), then
 * read the partition back from the beginning with the simple consumer and
 * compare every key, value, header and offset.  Run by test_kafka_data.sh.
 *
 * Usage: test_rdkafka_codecs HOST:PORT PREFIX COUNT
 * Exit 0 when everything matched, 1 otherwise (with the reason on stderr).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "rdk_test.h"

static const char *const codecs[] = { "none", "gzip", "snappy", "lz4", "zstd" };

static rd_kafka_conf_t *conf_new(const char *brokers)
{
	rd_kafka_conf_t *c = rd_kafka_conf_new();
	char err[256];

	if (rd_kafka_conf_set(c, "bootstrap.servers", brokers, err, sizeof(err)) != RD_KAFKA_CONF_OK)
		fprintf(stderr, "conf: %s\n", err);
	return c;
}

static void fill_value(char *buf, size_t len, const char *codec, long i)
{
	/* Repetitive text so that every codec really compresses. */
	int n = snprintf(buf, len, "%s value %ld ", codec, i);

	for (size_t k = (size_t)n; k < len - 1; k++)
		buf[k] = (char)('a' + (k + (size_t)i) % 7);
	buf[len - 1] = '\0';
}

static int produce(const char *brokers, const char *topic, const char *codec, long count)
{
	rd_kafka_conf_t *c = conf_new(brokers);
	struct rdk_dr s = { 0 };
	char err[256], key[32], val[200];
	rd_kafka_t *rk;

	rd_kafka_conf_set(c, "compression.codec", codec, err, sizeof(err));
	rd_kafka_conf_set(c, "acks", "all", err, sizeof(err));
	rd_kafka_conf_set(c, "linger.ms", "5", err, sizeof(err));
	rd_kafka_conf_set_dr_msg_cb(c, rdk_dr_cb);
	rd_kafka_conf_set_opaque(c, &s);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof(err));
	if (!rk) {
		fprintf(stderr, "producer: %s\n", err);
		return -1;
	}
	for (long i = 0; i < count; i++) {
		rd_kafka_resp_err_t e;

		snprintf(key, sizeof(key), "k%ld", i);
		fill_value(val, sizeof(val), codec, i);
		do {
			e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
					      RD_KAFKA_V_KEY(key, strlen(key)),
					      RD_KAFKA_V_VALUE(val, strlen(val)),
					      RD_KAFKA_V_HEADER("codec", codec, (ssize_t)strlen(codec)),
					      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
			if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL)
				rd_kafka_poll(rk, 10);
		} while (e == RD_KAFKA_RESP_ERR__QUEUE_FULL);
		if (e) {
			fprintf(stderr, "%s: produce: %s\n", codec, rd_kafka_err2str(e));
			break;
		}
		rd_kafka_poll(rk, 0);
	}
	rd_kafka_flush(rk, 60000);
	rd_kafka_destroy(rk);
	if (s.ok != count) {
		fprintf(stderr, "%s: %ld delivered, %ld failed (%s)\n", codec, s.ok, s.failed,
			rd_kafka_err2str(s.first_err));
		return -1;
	}
	return 0;
}

/* Check one consumed message against what message @i must be. */
static int check_message(const rd_kafka_message_t *m, const char *codec, long i)
{
	char key[32], val[200];
	rd_kafka_headers_t *hdrs = NULL;
	const void *hv = NULL;
	size_t hlen = 0;

	snprintf(key, sizeof(key), "k%ld", i);
	fill_value(val, sizeof(val), codec, i);
	if (m->offset != i || m->key_len != strlen(key) || memcmp(m->key, key, m->key_len) ||
	    m->len != strlen(val) || memcmp(m->payload, val, m->len)) {
		fprintf(stderr, "%s: message %ld differs (offset %" PRId64 ")\n", codec, i, m->offset);
		return -1;
	}
	if (rd_kafka_message_headers(m, &hdrs) || rd_kafka_header_get_last(hdrs, "codec", &hv, &hlen) ||
	    hlen != strlen(codec) || memcmp(hv, codec, hlen)) {
		fprintf(stderr, "%s: message %ld: header missing or wrong\n", codec, i);
		return -1;
	}
	return 0;
}

static int consume(const char *brokers, const char *topic, const char *codec, long count)
{
	rd_kafka_conf_t *c = conf_new(brokers);
	rd_kafka_topic_t *rkt;
	char err[256];
	long next = 0, idle = 0;
	int rc = 0;
	rd_kafka_t *rk;

	rd_kafka_conf_set(c, "enable.partition.eof", "true", err, sizeof(err));
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof(err));
	if (!rk) {
		fprintf(stderr, "consumer: %s\n", err);
		return -1;
	}
	rkt = rd_kafka_topic_new(rk, topic, NULL);
	rd_kafka_consume_start(rkt, 0, RD_KAFKA_OFFSET_BEGINNING);
	while (next < count && idle < 30 && rc == 0) {
		rd_kafka_message_t *m = rd_kafka_consume(rkt, 0, 1000);

		if (!m) {
			idle++;
			continue;
		}
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			idle++;
		} else if (m->err) {
			fprintf(stderr, "%s: consume: %s\n", codec, rd_kafka_message_errstr(m));
			rc = -1;
		} else {
			idle = 0;
			rc = check_message(m, codec, next++);
		}
		rd_kafka_message_destroy(m);
	}
	rd_kafka_consume_stop(rkt, 0);
	rd_kafka_topic_destroy(rkt);
	rd_kafka_destroy(rk);
	if (rc == 0 && next != count) {
		fprintf(stderr, "%s: consumed %ld of %ld\n", codec, next, count);
		rc = -1;
	}
	return rc;
}

int main(int argc, char **argv)
{
	char topic[128];
	long count;
	int bad = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: %s HOST:PORT PREFIX COUNT\n", argv[0]);
		return 2;
	}
	count = strtol(argv[3], NULL, 10);
	for (size_t i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++) {
		snprintf(topic, sizeof(topic), "%s-%s", argv[2], codecs[i]);
		if (produce(argv[1], topic, codecs[i], count) < 0 ||
		    consume(argv[1], topic, codecs[i], count) < 0) {
			bad++;
			continue;
		}
		printf("ok - %s: %ld messages produced (acks=all) and read back\n", codecs[i], count);
	}
	return bad ? 1 : 0;
}
