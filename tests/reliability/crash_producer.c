/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * crash_producer - the TCP side of the crash campaign (crash_campaign.sh):
 * an idempotent librdkafka producer (acks=all) that keeps producing
 * "<PREFIX>-<n>" messages at about RATE a second, round-robin over the
 * topic's partitions, across the SIGKILL and restart of the broker, and
 * writes one line per acknowledged message to stdout:
 *
 *   A <value> <partition> <offset>
 *
 * printed from the delivery report callback, so only what the broker
 * acknowledged as durable (acks=all) is listed; the campaign then looks for
 * each of them at exactly that offset.  Failed reports are "F <value> <error>"
 * (no promise was made for them).  SIGTERM stops producing, waits up to
 * FLUSH_MS for the outstanding reports and exits 0; a fatal idempotence
 * error exits 2 (printed as "X <error>").
 *
 * Usage: crash_producer HOST:PORT TOPIC PREFIX RATE [FLUSH_MS]
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	(void)opaque;
	if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
		printf("A %.*s %" PRId32 " %" PRId64 "\n", (int)m->len, (const char *)m->payload,
		       m->partition, m->offset);
	else
		printf("F %.*s %s\n", (int)m->len, (const char *)m->payload,
		       rd_kafka_err2name(m->err));
}

static int set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
	char err[256];

	if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
		fprintf(stderr, "crash_producer: %s=%s: %s\n", k, v, err);
		return -1;
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Produce until SIGTERM, RATE messages a second; @return messages produced or -1. */
static long produce_loop(rd_kafka_t *rk, rd_kafka_topic_t *rkt, const char *prefix, long rate)
{
	double t0 = now_s();
	char val[64], err[256];
	long n = 0;

	while (!stop) {
		long due = (long)((now_s() - t0) * (double)rate);

		for (; n < due && !stop; n++) {
			int len = snprintf(val, sizeof(val), "%s-%ld", prefix, n);

			while (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, val,
						(size_t)len, NULL, 0, NULL) == -1) {
				if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL)
					return -1;
				if (stop)
					return n;
				rd_kafka_poll(rk, 10);
			}
		}
		rd_kafka_poll(rk, 5);
		if (rd_kafka_fatal_error(rk, err, sizeof(err)))
			break;
	}
	return n;
}

int main(int argc, char **argv)
{
	rd_kafka_conf_t *conf;
	rd_kafka_topic_t *rkt;
	rd_kafka_t *rk;
	char err[512];
	long n, rate;
	int flush_ms = 30000, rc = 0;

	if (argc < 5) {
		fprintf(stderr, "Usage: crash_producer HOST:PORT TOPIC PREFIX RATE [FLUSH_MS]\n");
		return 1;
	}
	rate = strtol(argv[4], NULL, 10);
	if (argc > 5)
		flush_ms = (int)strtol(argv[5], NULL, 10);
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGTERM, on_term);
	conf = rd_kafka_conf_new();
	if (set(conf, "bootstrap.servers", argv[1]) | set(conf, "enable.idempotence", "true") |
	    set(conf, "acks", "all") | set(conf, "linger.ms", "5") |
	    set(conf, "message.timeout.ms", "60000") | set(conf, "retry.backoff.ms", "50") |
	    set(conf, "reconnect.backoff.ms", "50") | set(conf, "reconnect.backoff.max.ms", "500") |
	    set(conf, "socket.timeout.ms", "10000") | set(conf, "topic.metadata.refresh.interval.ms", "2000")) {
		rd_kafka_conf_destroy(conf);
		return 1;
	}
	rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (!rk) {
		fprintf(stderr, "crash_producer: %s\n", err);
		return 1;
	}
	rkt = rd_kafka_topic_new(rk, argv[2], NULL);
	n = produce_loop(rk, rkt, argv[3], rate);
	if (n < 0) {
		fprintf(stderr, "crash_producer: produce: %s\n", rd_kafka_err2str(rd_kafka_last_error()));
		rc = 1;
	}
	rd_kafka_flush(rk, flush_ms);
	/* What is left is reported failed (F), not left for destroy to wait on. */
	rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
	rd_kafka_poll(rk, 100);
	if (rd_kafka_fatal_error(rk, err, sizeof(err))) {
		printf("X %s\n", err);
		rc = 2;
	}
	fprintf(stderr, "crash_producer: produced %ld, %d still unreported\n", n < 0 ? 0 : n,
		rd_kafka_outq_len(rk));
	rd_kafka_topic_destroy(rkt);
	rd_kafka_destroy(rk);
	return rc;
}
