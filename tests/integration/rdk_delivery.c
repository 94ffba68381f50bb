/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rdk_delivery - a librdkafka producer with one of Kafka's three delivery
 * semantics, for test_delivery_tcp.sh:
 *
 *   at-most-once    message.send.max.retries=0, no idempotence: sent once
 *   at-least-once   retries (librdkafka's default, unbounded here), no idempotence
 *   exactly-once    enable.idempotence=true (acks=all, retries, sequence numbers)
 *   transactional   transactional.id set: init_transactions() must fail at once
 *                   (Sluice has no transaction coordinator); prints its error
 *
 * Produces COUNT messages "m-<n>" (n = START, START+1, ...) round-robin over
 * the topic's partitions, waits for every delivery report, and prints one
 * line "delivered D failed F idempotent I" (I: enable.idempotence as the
 * producer runs with it; the duplicates counted afterwards show whether
 * the broker honoured it).
 *
 * Usage: rdk_delivery HOST:PORT TOPIC COUNT SEMANTICS [START]
 * Exit 0 once every report came, 1 on a setup error or a fatal error.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "rdk_test.h"

static int set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
	char err[256];

	if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
		fprintf(stderr, "rdk_delivery: %s=%s: %s\n", k, v, err);
		return -1;
	}
	return 0;
}

static int configure(rd_kafka_conf_t *conf, const char *brokers, const char *semantics)
{
	int rc = set(conf, "bootstrap.servers", brokers) | set(conf, "linger.ms", "5") |
		 set(conf, "batch.num.messages", "500") | set(conf, "message.timeout.ms", "120000") |
		 set(conf, "retry.backoff.ms", "50") | set(conf, "socket.timeout.ms", "10000") |
		 set(conf, "reconnect.backoff.max.ms", "500");

	if (!strcmp(semantics, "at-most-once"))
		return rc | set(conf, "acks", "1") | set(conf, "message.send.max.retries", "0") |
		       set(conf, "enable.idempotence", "false");
	if (!strcmp(semantics, "at-least-once"))
		return rc | set(conf, "acks", "all") | set(conf, "message.send.max.retries", "1000000") |
		       set(conf, "enable.idempotence", "false") |
		       set(conf, "max.in.flight.requests.per.connection", "5");
	if (!strcmp(semantics, "exactly-once"))
		return rc | set(conf, "enable.idempotence", "true");
	if (!strcmp(semantics, "transactional"))
		return rc | set(conf, "transactional.id", "rdk-delivery") |
		       set(conf, "transaction.timeout.ms", "120000");
	fprintf(stderr, "rdk_delivery: unknown semantics '%s'\n", semantics);
	return -1;
}

int main(int argc, char **argv)
{
	struct rdk_dr st = { 0 };
	rd_kafka_conf_t *conf;
	rd_kafka_topic_t *rkt;
	rd_kafka_t *rk;
	long count, start = 0;
	char err[512], val[32];
	int fatal = 0, idem = 0;

	if (argc < 5) {
		fprintf(stderr, "Usage: rdk_delivery HOST:PORT TOPIC COUNT SEMANTICS [START]\n");
		return 1;
	}
	count = strtol(argv[3], NULL, 10);
	if (argc > 5)
		start = strtol(argv[5], NULL, 10);
	conf = rd_kafka_conf_new();
	if (configure(conf, argv[1], argv[4])) {
		rd_kafka_conf_destroy(conf);
		return 1;
	}
	rd_kafka_conf_set_dr_msg_cb(conf, rdk_dr_cb);
	rd_kafka_conf_set_opaque(conf, &st);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (!rk) {
		fprintf(stderr, "rdk_delivery: %s\n", err);
		return 1;
	}
	if (!strcmp(argv[4], "transactional")) {
		rd_kafka_error_t *e = rd_kafka_init_transactions(rk, 30000);

		printf("init_transactions: %s fatal %d\n",
		       e ? rd_kafka_err2name(rd_kafka_error_code(e)) : "NO_ERROR",
		       e ? rd_kafka_error_is_fatal(e) : 0);
		if (e)
			rd_kafka_error_destroy(e);
		rd_kafka_destroy(rk);
		return 0;
	}
	rkt = rd_kafka_topic_new(rk, argv[2], NULL);
	for (long i = 0; i < count; i++) {
		int n = snprintf(val, sizeof(val), "m-%ld", start + i);

		while (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, val,
					(size_t)n, NULL, 0, NULL) == -1) {
			if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
				fprintf(stderr, "rdk_delivery: produce: %s\n",
					rd_kafka_err2str(rd_kafka_last_error()));
				return 1;
			}
			rd_kafka_poll(rk, 10);
		}
		rd_kafka_poll(rk, 0);
	}
	while (st.ok + st.failed < count) {
		rd_kafka_poll(rk, 100);
		if (rd_kafka_fatal_error(rk, err, sizeof(err))) {
			fprintf(stderr, "rdk_delivery: fatal: %s\n", err);
			fatal = 1;
			break;
		}
	}
	{
		/* The setting the producer ran with (librdkafka shows no producer id). */
		char buf[64];
		size_t sz = sizeof(buf);
		rd_kafka_conf_res_t r = rd_kafka_conf_get(rd_kafka_conf(rk), "enable.idempotence",
							   buf, &sz);

		idem = r == RD_KAFKA_CONF_OK && !strcmp(buf, "true");
	}
	printf("delivered %ld failed %ld idempotent %d\n", st.ok, st.failed, idem);
	if (st.failed)
		fprintf(stderr, "rdk_delivery: first failure: %s\n", rd_kafka_err2str(st.first_err));
	rd_kafka_topic_destroy(rkt);
	rd_kafka_flush(rk, 10000);
	rd_kafka_destroy(rk);
	return fatal;
}
