/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_kafka - Kafka produce and fetch throughput of a broker, with
 * librdkafka's in-process mock cluster measured in the same run as the
 * ceiling to compare against.
 *
 * For each target (the mock, then --brokers if given):
 *   1. a topic with --partitions partitions is created (mock: a fresh
 *      cluster with it; a broker: CreateTopics through the admin API, a new
 *      topic per round);
 *   2. produce: one librdkafka producer sends --messages messages of
 *      --size bytes (acks=1), round-robin over the partitions; timed from
 *      the first produce() to the end of flush(), every delivery checked;
 *   3. fetch: a librdkafka consumer (legacy per-partition API: no group
 *      coordinator involved) reads the last -k messages of every partition,
 *      timed from consume_start to the last message; -r passes, each with a
 *      new consumer, and the times summed.
 *
 * The mock keeps only about 5 MiB per partition (older message sets are
 * pruned), so the fetch phase reads a window that both targets still hold:
 * by default 30,000 messages of 100 bytes (about 3.4 MiB) per partition;
 * the 2,000,000 produced over 32 partitions leave 62,500 in each.
 * Producer and consumer settings are identical for both targets.  MB/s
 * counts message payload bytes (10^6 bytes per MB).
 *
 * The machine's own speed drifts from second to second (other work, page
 * cache, CPU frequency), so --rounds R runs both targets R times,
 * interleaved and in alternating order (mock first in odd rounds, the
 * broker first in even ones), prints every round, and then the median
 * rate of each target and the ratio of those medians.
 *
 * --idempotence-compare adds, per round, two more produce phases against
 * the broker with acks=all: enable.idempotence=false and =true (alternating
 * order), and prints the ratio idempotent/plain of their medians.
 * --tls-brokers HOST:PORT --tls-ca FILE adds, per round, the same produce
 * and fetch against that listener of the same broker over TLS
 * (security.protocol=SSL, the broker's CA in FILE) and prints the ratio
 * TLS/plaintext of their medians.
 * The last line, "RESULT key=value ...", is for perf/run.
 *
 * Exit codes: 0 done (ratios printed, no target asserted), 1 a phase
 * failed (delivery error, timeout), 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define BENCH_TIMEOUT_MS 120000         /* a phase that takes longer has failed */
#define BENCH_BATCH 10000               /* messages per consume_batch call */
#define BENCH_ROUNDS_MAX 15

struct opts {
	const char *brokers;            /* the broker under test; NULL = mock only */
	const char *topic;
	long messages;
	int partitions;
	long fetch;                     /* messages fetched per partition */
	int passes;                     /* fetch passes over that window */
	int size;
	int rounds;                     /* interleaved runs of each target */
	const char *acks;               /* producer acks (default 1) */
	bool idempotence;               /* producer enable.idempotence */
	bool idem_compare;              /* also plain vs idempotent, acks=all, broker only */
	const char *tls_brokers;        /* also the broker's TLS listener; NULL: no */
	const char *tls_ca;             /* the CA its certificate verifies against */
};

struct result {
	double produce_s, fetch_s;
	long produced, fetched;
};

struct dr_state {
	long delivered, failed;
	rd_kafka_resp_err_t first_err;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int conf_set(rd_kafka_conf_t *c, const char *k, const char *v)
{
	char err[256];

	if (rd_kafka_conf_set(c, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
		fprintf(stderr, "bench_kafka: %s=%s: %s\n", k, v, err);
		return -EINVAL;
	}
	return 0;
}

/* The client settings, the same for both targets. */
static rd_kafka_conf_t *client_conf(const char *brokers, bool producer, const struct opts *o)
{
	static const char *const common[][2] = {
		{ "client.id", "bench_kafka" },
		{ "log.connection.close", "false" },
		{ "api.version.request", "true" },
	};
	static const char *const prod[][2] = {
		{ "acks", "1" },
		{ "linger.ms", "5" },
		{ "batch.num.messages", "10000" },
		{ "batch.size", "1000000" },
		{ "queue.buffering.max.messages", "1000000" },
		{ "queue.buffering.max.kbytes", "1048576" },
		{ "compression.type", "none" },
		{ "enable.idempotence", "false" },
		{ "message.timeout.ms", "60000" },   /* fail, rather than wait forever */
	};
	static const char *const cons[][2] = {
		{ "fetch.wait.max.ms", "100" },
		{ "fetch.message.max.bytes", "1048576" },
		{ "fetch.max.bytes", "52428800" },
		{ "queued.min.messages", "200000" },
		{ "enable.partition.eof", "false" },
	};
	rd_kafka_conf_t *c = rd_kafka_conf_new();
	int rc = conf_set(c, "bootstrap.servers", brokers);

	for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
		rc |= conf_set(c, common[i][0], common[i][1]);
	for (size_t i = 0; producer && i < sizeof(prod) / sizeof(prod[0]); i++)
		rc |= conf_set(c, prod[i][0], prod[i][1]);
	for (size_t i = 0; !producer && i < sizeof(cons) / sizeof(cons[0]); i++)
		rc |= conf_set(c, cons[i][0], cons[i][1]);
	if (o->tls_brokers && strcmp(brokers, o->tls_brokers) == 0) {
		rc |= conf_set(c, "security.protocol", "SSL");
		rc |= conf_set(c, "ssl.ca.location", o->tls_ca);
	}
	if (producer) {
		rc |= conf_set(c, "acks", o->acks);
		rc |= conf_set(c, "enable.idempotence", o->idempotence ? "true" : "false");
	}
	if (rc) {
		rd_kafka_conf_destroy(c);
		return NULL;
	}
	return c;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct dr_state *d = opaque;

	(void)rk;
	if (m->err) {
		if (!d->failed++)
			d->first_err = m->err;
	} else {
		d->delivered++;
	}
}

static rd_kafka_t *client_new(const char *brokers, bool producer, const struct opts *o,
			      void *opaque)
{
	rd_kafka_conf_t *c = client_conf(brokers, producer, o);
	char err[256];
	rd_kafka_t *rk;

	if (!c)
		return NULL;
	if (producer)
		rd_kafka_conf_set_dr_msg_cb(c, on_delivery);
	rd_kafka_conf_set_opaque(c, opaque);
	rk = rd_kafka_new(producer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER, c, err, sizeof(err));
	if (!rk)
		fprintf(stderr, "bench_kafka: rd_kafka_new: %s\n", err);
	return rk;
}

/* CreateTopics through the admin API; an existing topic is fine. */
static int topic_create(rd_kafka_t *rk, const char *topic, int partitions)
{
	rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, partitions, 1, NULL, 0);
	rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
	const rd_kafka_CreateTopics_result_t *res;
	const rd_kafka_topic_result_t **tr;
	rd_kafka_event_t *ev;
	size_t n;
	int rc = -ETIMEDOUT;

	rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
	ev = rd_kafka_queue_poll(q, 30000);
	if (ev && (res = rd_kafka_event_CreateTopics_result(ev))) {
		tr = rd_kafka_CreateTopics_result_topics(res, &n);
		rc = n == 1 && (rd_kafka_topic_result_error(tr[0]) == RD_KAFKA_RESP_ERR_NO_ERROR ||
				rd_kafka_topic_result_error(tr[0]) ==
					RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) ? 0 : -EIO;
		if (rc)
			fprintf(stderr, "bench_kafka: CreateTopics %s: %s\n", topic,
				n ? rd_kafka_topic_result_error_string(tr[0]) : "no result");
	}
	if (ev)
		rd_kafka_event_destroy(ev);
	rd_kafka_queue_destroy(q);
	rd_kafka_NewTopic_destroy(nt);
	return rc;
}

/* Produce o->messages round-robin; @return 0 or -EIO (a delivery failed). */
static int produce(const char *brokers, const struct opts *o, bool create, struct result *r)
{
	struct dr_state d = { 0 };
	rd_kafka_t *rk = client_new(brokers, true, o, &d);
	char *payload = malloc((size_t)o->size);
	rd_kafka_topic_t *t = NULL;
	double t0;
	int rc = -EIO;

	if (!rk || !payload)
		goto out;
	memset(payload, 'x', (size_t)o->size);
	if (create && topic_create(rk, o->topic, o->partitions) < 0)
		goto out;
	t = rd_kafka_topic_new(rk, o->topic, NULL);
	t0 = now_s();
	for (long i = 0; i < o->messages; i++) {
		while (rd_kafka_produce(t, (int32_t)(i % o->partitions), RD_KAFKA_MSG_F_COPY,
					payload, (size_t)o->size, NULL, 0, NULL) < 0) {
			if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL)
				goto out;
			rd_kafka_poll(rk, 1);
		}
		rd_kafka_poll(rk, 0);
	}
	if (rd_kafka_flush(rk, BENCH_TIMEOUT_MS) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		fprintf(stderr, "bench_kafka: flush timed out\n");
		goto out;
	}
	r->produce_s = now_s() - t0;
	r->produced = d.delivered;
	if (d.failed)
		fprintf(stderr, "bench_kafka: %ld deliveries failed: %s\n", d.failed,
			rd_kafka_err2str(d.first_err));
	else
		rc = 0;
out:
	if (t)
		rd_kafka_topic_destroy(t);
	if (rk)
		rd_kafka_destroy(rk);
	free(payload);
	return rc;
}

/* Where each partition's window starts; @return messages expected, or -1. */
static long fetch_window(rd_kafka_t *rk, const struct opts *o, int64_t *from)
{
	long expect = 0;

	for (int p = 0; p < o->partitions; p++) {
		int64_t lo, hi;

		if (rd_kafka_query_watermark_offsets(rk, o->topic, p, &lo, &hi, 10000)) {
			fprintf(stderr, "bench_kafka: watermarks of partition %d unknown\n", p);
			return -1;
		}
		from[p] = hi - o->fetch > lo ? hi - o->fetch : lo;
		expect += (long)(hi - from[p]);
	}
	return expect;
}

static int fetch(const char *brokers, const struct opts *o, struct result *r)
{
	rd_kafka_t *rk = client_new(brokers, false, o, NULL);
	rd_kafka_message_t **msgs = calloc(BENCH_BATCH, sizeof(*msgs));
	int64_t *from = calloc((size_t)o->partitions, sizeof(*from));
	rd_kafka_topic_t *t = NULL;
	rd_kafka_queue_t *q = NULL;
	long expect, got = 0;
	double t0, deadline;
	int rc = -EIO;

	if (!rk || !msgs || !from)
		goto out;
	t = rd_kafka_topic_new(rk, o->topic, NULL);
	q = rd_kafka_queue_new(rk);
	if ((expect = fetch_window(rk, o, from)) < 0)
		goto out;
	t0 = now_s();
	deadline = t0 + BENCH_TIMEOUT_MS / 1000.0;
	for (int p = 0; p < o->partitions; p++)
		if (rd_kafka_consume_start_queue(t, p, from[p], q) < 0)
			goto out;
	while (got < expect && now_s() < deadline) {
		ssize_t n = rd_kafka_consume_batch_queue(q, 1000, msgs, BENCH_BATCH);

		for (ssize_t i = 0; i < n; i++) {
			if (msgs[i]->err)
				fprintf(stderr, "bench_kafka: fetch: %s\n", rd_kafka_message_errstr(msgs[i]));
			else
				got++;
			rd_kafka_message_destroy(msgs[i]);
		}
	}
	r->fetch_s += now_s() - t0;
	r->fetched += got;
	if (got >= expect && expect > 0)
		rc = 0;
	else
		fprintf(stderr, "bench_kafka: fetched %ld of %ld messages\n", got, expect);
	for (int p = 0; p < o->partitions; p++)
		rd_kafka_consume_stop(t, p);
out:
	if (q)
		rd_kafka_queue_destroy(q);
	if (t)
		rd_kafka_topic_destroy(t);
	if (rk)
		rd_kafka_destroy(rk);
	free(from);
	free(msgs);
	return rc;
}

static double produce_rate(const struct result *r)
{
	return r->produced / r->produce_s;
}

static double fetch_rate(const struct result *r)
{
	return r->fetched / r->fetch_s;
}

static void report(const char *name, const struct opts *o, const struct result *r)
{
	printf("%-8s produce %10.0f msgs/s %8.1f MB/s (%ld msgs, %.2f s)   "
	       "fetch %10.0f msgs/s %8.1f MB/s (%ld msgs, %.2f s)\n", name,
	       r->produced / r->produce_s, r->produced * (double)o->size / r->produce_s / 1e6,
	       r->produced, r->produce_s, r->fetched / r->fetch_s,
	       r->fetched * (double)o->size / r->fetch_s / 1e6, r->fetched, r->fetch_s);
	fflush(stdout);
}

/* The mock cluster lives in a throwaway producer handle of its own. */
static int run_mock(const struct opts *o, struct result *r)
{
	rd_kafka_conf_t *c = rd_kafka_conf_new();
	rd_kafka_mock_cluster_t *mc = NULL;
	char err[256];
	rd_kafka_t *host;
	int rc = -EIO;

	conf_set(c, "log_level", "4");  /* no notice about the absent bootstrap.servers */
	host = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof(err));
	if (!host || !(mc = rd_kafka_mock_cluster_new(host, 1)))
		goto out;
	if (rd_kafka_mock_topic_create(mc, o->topic, o->partitions, 1))
		goto out;
	rc = produce(rd_kafka_mock_cluster_bootstraps(mc), o, false, r);
	for (int i = 0; i < o->passes && rc == 0; i++)
		rc = fetch(rd_kafka_mock_cluster_bootstraps(mc), o, r);
out:
	if (mc)
		rd_kafka_mock_cluster_destroy(mc);
	if (host)
		rd_kafka_destroy(host);
	return rc;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: bench_kafka [--brokers HOST:PORT] [--smoke] [-n MESSAGES] [-p PARTITIONS]\n"
		"                   [-k FETCH-PER-PARTITION] [-r FETCH-PASSES] [-s SIZE] [-t TOPIC]\n"
		"                   [-R ROUNDS] [--acks A] [--idempotence-compare]\n"
		"                   [--tls-brokers HOST:PORT --tls-ca CA.pem]\n"
		"Produce and fetch throughput against librdkafka's mock cluster and, with\n"
		"--brokers, against that broker, ROUNDS times interleaved; prints msgs/s,\n"
		"MB/s, the medians and the ratios of the medians.\n"
		"Defaults: -n 2000000 -p 32 -k 30000 -r 3 -s 100 -R 3;\n"
		"--smoke: -n 20000 -p 2 -k 5000 -r 1 -R 1.\n");
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "brokers", required_argument, NULL, 'b' }, { "smoke", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' }, { "acks", required_argument, NULL, 'a' },
		{ "idempotence-compare", no_argument, NULL, 'I' },
		{ "tls-brokers", required_argument, NULL, 'T' }, { "tls-ca", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct opts){ .topic = "bench", .messages = 2000000, .partitions = 32,
			    .fetch = 30000, .passes = 3, .size = 100, .rounds = 3, .acks = "1" };
	while ((c = getopt_long(argc, argv, "b:n:p:k:r:s:t:R:h", lo, NULL)) != -1) {
		switch (c) {
		case 'b': o->brokers = optarg; break;
		case 'S':
			o->messages = 20000;
			o->partitions = 2;
			o->fetch = 5000;
			o->passes = 1;
			o->rounds = 1;
			break;
		case 'n': o->messages = atol(optarg); break;
		case 'p': o->partitions = atoi(optarg); break;
		case 'k': o->fetch = atol(optarg); break;
		case 'r': o->passes = atoi(optarg); break;
		case 's': o->size = atoi(optarg); break;
		case 't': o->topic = optarg; break;
		case 'R': o->rounds = atoi(optarg); break;
		case 'a': o->acks = optarg; break;
		case 'I': o->idem_compare = true; break;
		case 'T': o->tls_brokers = optarg; break;
		case 'C': o->tls_ca = optarg; break;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return -1;
		}
	}
	if (optind != argc || o->messages <= 0 || o->partitions <= 0 || o->fetch <= 0 || o->passes <= 0 ||
	    o->size <= 0 || o->rounds <= 0 || o->rounds > BENCH_ROUNDS_MAX ||
	    !o->tls_brokers != !o->tls_ca || (o->tls_brokers && !o->brokers)) {
		usage(stderr);
		return -1;
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One round of one target; @return 0 or -EIO. */
static int run_target(const struct opts *o, bool mock, int round, struct result *r)
{
	struct opts ro = *o;
	char topic[256];
	char name[16];
	int rc;

	/* A fresh topic per round, as the mock gets a fresh cluster. */
	if (o->rounds > 1)
		snprintf(topic, sizeof(topic), "%s-%d", o->topic, round + 1);
	else
		snprintf(topic, sizeof(topic), "%s", o->topic);
	ro.topic = topic;
	*r = (struct result){ 0 };
	if (mock) {
		rc = run_mock(&ro, r);
	} else {
		rc = produce(o->brokers, &ro, true, r);
		for (int i = 0; i < o->passes && rc == 0; i++)
			rc = fetch(o->brokers, &ro, r);
	}
	if (rc < 0) {
		fprintf(stderr, "bench_kafka: %s run failed\n", mock ? "mock cluster" : o->brokers);
		return rc;
	}
	snprintf(name, sizeof(name), "%s", mock ? "mock" : "sluiced");
	if (o->rounds > 1)
		snprintf(name, sizeof(name), "%s#%d", mock ? "mock" : "sluiced", round + 1);
	report(name, o, r);
	return 0;
}

static void report_median(const char *name, const struct opts *o, double prod, double fetch_r)
{
	printf("%-8s produce %10.0f msgs/s %8.1f MB/s (median of %d)   "
	       "fetch %10.0f msgs/s %8.1f MB/s (median of %d)\n", name, prod, prod * o->size / 1e6,
	       o->rounds, fetch_r, fetch_r * o->size / 1e6, o->rounds);
}

/* Round @round of plain vs idempotent produce (acks=all) against the broker. */
static int run_idem(const struct opts *o, int round, double *plain, double *idem)
{
	for (int k = 0; k < 2; k++) {
		bool on = (round % 2 == 0) == (k == 1);   /* alternate who goes first */
		struct opts io = *o;
		struct result r = { 0 };
		char topic[256];

		snprintf(topic, sizeof(topic), "%s-%s-%d", o->topic, on ? "idem" : "plain", round + 1);
		io.topic = topic;
		io.acks = "all";
		io.idempotence = on;
		if (produce(o->brokers, &io, true, &r) < 0) {
			fprintf(stderr, "bench_kafka: %s produce failed\n", on ? "idempotent" : "plain");
			return -EIO;
		}
		*(on ? idem : plain) = produce_rate(&r);
		printf("%-8s produce %10.0f msgs/s (acks=all, enable.idempotence=%s, round %d)\n",
		       on ? "idem" : "plain", produce_rate(&r), on ? "true" : "false", round + 1);
	}
	return 0;
}

/* Round @round of produce and fetch against the broker's TLS listener. */
static int run_tls(const struct opts *o, int round, double *prod, double *fetch_r)
{
	struct opts to = *o;
	struct result r = { 0 };
	char topic[256];
	int rc;

	snprintf(topic, sizeof(topic), "%s-tls-%d", o->topic, round + 1);
	to.topic = topic;
	rc = produce(o->tls_brokers, &to, true, &r);
	for (int i = 0; i < o->passes && rc == 0; i++)
		rc = fetch(o->tls_brokers, &to, &r);
	if (rc < 0) {
		fprintf(stderr, "bench_kafka: TLS run against %s failed\n", o->tls_brokers);
		return rc;
	}
	snprintf(topic, sizeof(topic), "tls#%d", round + 1);
	report(topic, o, &r);
	*prod = produce_rate(&r);
	*fetch_r = fetch_rate(&r);
	return 0;
}

int main(int argc, char **argv)
{
	double rate[2][2][BENCH_ROUNDS_MAX];    /* [mock, broker][produce, fetch][round] */
	double idem[2][BENCH_ROUNDS_MAX];       /* [plain, idempotent][round] */
	double tls[2][BENCH_ROUNDS_MAX];        /* [produce, fetch][round] over TLS */
	double med[2][2], med_idem[2] = { 0, 0 }, med_tls[2] = { 0, 0 };
	struct opts o;
	int rc = parse(argc, argv, &o);
	int targets;

	if (rc)
		return rc > 0 ? 0 : 2;
	printf("bench_kafka: %ld messages of %d bytes, %d partitions, acks=%s; fetch %d x %ld per "
	       "partition; %d round(s) (librdkafka %s)\n", o.messages, o.size, o.partitions,
	       o.acks, o.passes, o.fetch, o.rounds, rd_kafka_version_str());
	targets = o.brokers ? 2 : 1;
	for (int i = 0; i < o.rounds; i++) {
		for (int k = 0; k < targets; k++) {
			/* Alternate who goes first, so a drift hits both alike. */
			bool mock = targets == 1 || (i % 2 == 0 ? k == 0 : k == 1);
			struct result r;

			if (run_target(&o, mock, i, &r) < 0)
				return 1;
			rate[mock ? 0 : 1][0][i] = produce_rate(&r);
			rate[mock ? 0 : 1][1][i] = fetch_rate(&r);
		}
		if (o.brokers && o.idem_compare && run_idem(&o, i, &idem[0][i], &idem[1][i]) < 0)
			return 1;
		if (o.tls_brokers && run_tls(&o, i, &tls[0][i], &tls[1][i]) < 0)
			return 1;
	}
	for (int t = 0; t < targets; t++)
		for (int d = 0; d < 2; d++)
			med[t][d] = median(rate[t][d], o.rounds);
	if (o.rounds > 1)
		for (int t = 0; t < targets; t++)
			report_median(t ? "sluiced" : "mock", &o, med[t][0], med[t][1]);
	if (!o.brokers)
		return 0;
	printf("ratio sluiced/mock: produce %.2f  fetch %.2f\n", med[1][0] / med[0][0],
	       med[1][1] / med[0][1]);
	if (o.idem_compare) {
		med_idem[0] = median(idem[0], o.rounds);
		med_idem[1] = median(idem[1], o.rounds);
		printf("ratio idempotent/plain (acks=all): %.2f\n", med_idem[1] / med_idem[0]);
	}
	if (o.tls_brokers) {
		med_tls[0] = median(tls[0], o.rounds);
		med_tls[1] = median(tls[1], o.rounds);
		printf("ratio TLS/plaintext (same broker): produce %.2f  fetch %.2f\n",
		       med_tls[0] / med[1][0], med_tls[1] / med[1][1]);
	}
	printf("RESULT size=%d rounds=%d mock_produce_mps=%.0f mock_fetch_mps=%.0f "
	       "sluiced_produce_mps=%.0f sluiced_fetch_mps=%.0f plain_all_mps=%.0f idem_mps=%.0f "
	       "tls_produce_mps=%.0f tls_fetch_mps=%.0f\n",
	       o.size, o.rounds, med[0][0], med[0][1], med[1][0], med[1][1], med_idem[0], med_idem[1],
	       med_tls[0], med_tls[1]);
	return 0;
}
