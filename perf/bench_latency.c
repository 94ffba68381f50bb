/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_latency - how long a datagram takes to become durable and to become
 * visible to a Kafka consumer, under a steady load.
 *
 * A sender thread sends produce-mode datagrams (SLC1 with the ack flag, one
 * RecordBatch of one record of --size bytes) from --bind to --target at a
 * steady --rate (0: as fast as it can, to measure the path's capacity).
 * Every record's value starts with its send time (CLOCK_REALTIME, ns) and
 * the batch carries its sequence number in baseSequence (producerId -1: the
 * appliance checks no sequence then and copies it into the ack).
 *   send -> durable: the SLA1 ack, which the appliance sends once an
 *     fdatasync covers the batch (docs/wire-format.md), received on the
 *     sending socket: ack time - send time;
 *   send -> visible: a librdkafka consumer (legacy API, no group) on the
 *     topic, from its end: time the message is returned - send time.
 * Both start at the sender's sendto(), so they include the kernel's way into
 * the appliance's port (and, for the ack, back): upper bounds of the
 * receive -> durable and receive -> visible times.  Datagrams sent in the
 * first --warmup seconds are not counted.
 *
 *   bench_latency --bind IP --target IP:PORT --brokers HOST:PORT --topic T
 *                 [--rate N] [--seconds S] [--size B] [--warmup S]
 *
 * Output: percentiles, then one "RESULT key=value ..." line.  Exit 0 when
 * every counted datagram was acked without error and consumed, 1 otherwise
 * (rate 0 excepted: flat out, losses are expected and only counted).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "dp_wire.h"
#include "st_batch.h"

#define MAX_SENT (1u << 23)

struct lat {
	const char *bind_ip, *target, *brokers, *topic;
	double rate, seconds, warmup;
	int size, fd;
	uint64_t *sent_ns;              /* by sequence; 0 = not sent */
	uint64_t *ack_ns, *vis_ns;      /* latency by sequence; 0 = none yet */
	_Atomic uint32_t n_sent;
	_Atomic int stop_rx;            /* acks and consumer: stop */
	uint32_t first_counted;         /* sequence of the first datagram past the warm-up */
	_Atomic uint64_t ack_errors, acks, consumed;
};

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* One datagram: SLC1 header, then a one-record batch stamped with @seq and the time. */
static int datagram(uint8_t *buf, uint32_t cap, const uint8_t *val, int size, uint32_t seq,
		    uint64_t *t)
{
	struct dp_slc_hdr h = { htonl(DP_SLC_MAGIC), htons(DP_SLC_FLAG_ACK), 0,
				(int32_t)htonl((uint32_t)DP_SLC_PARTITION_ANY) };
	uint8_t v[16384];
	struct st_batch_builder b;
	int len;

	*t = now_ns(CLOCK_REALTIME);
	memcpy(v, val, (size_t)size);
	memcpy(v, t, 8);
	memcpy(v + 8, &seq, 4);
	memcpy(buf, &h, sizeof(h));
	st_batch_builder_begin(&b, buf + sizeof(h), cap - sizeof(h), (int64_t)(*t / 1000000));
	if (st_batch_builder_add(&b, (int64_t)(*t / 1000000), NULL, 0, v, size, NULL, 0) < 0)
		return -ENOSPC;
	b.base_sequence = (int32_t)seq;
	len = st_batch_builder_finish(&b);
	return len < 0 ? len : (int)sizeof(h) + len;
}

static void *sender(void *arg)
{
	struct lat *l = arg;
	static uint8_t buf[16384 + 256], val[16384];
	uint64_t t0 = now_ns(CLOCK_MONOTONIC), end = t0 + (uint64_t)(l->seconds * 1e9);
	uint64_t warm = t0 + (uint64_t)(l->warmup * 1e9);
	uint32_t seq = 0;

	memset(val, 'v', sizeof(val));
	l->first_counted = UINT32_MAX;
	for (;;) {
		uint64_t now = now_ns(CLOCK_MONOTONIC), t;
		int len;

		if (now >= end || seq >= MAX_SENT)
			break;
		if (l->rate > 0) {              /* steady: datagram seq leaves at t0 + seq / rate */
			uint64_t due = t0 + (uint64_t)((double)seq * 1e9 / l->rate);

			if (due > now + 50000) {
				struct timespec ts = { 0, (long)(due - now - 20000) };

				nanosleep(&ts, NULL);
				continue;
			}
			while (now_ns(CLOCK_MONOTONIC) < due)
				;
		}
		if (l->first_counted == UINT32_MAX && now >= warm)
			l->first_counted = seq;
		if ((len = datagram(buf, sizeof(buf), val, l->size, seq, &t)) < 0)
			break;
		/* published before the send: the ack may beat send()'s return */
		l->sent_ns[seq] = t;
		atomic_store_explicit(&l->n_sent, seq + 1, memory_order_release);
		if (send(l->fd, buf, (size_t)len, 0) != len) {
			if (errno == ENOBUFS || errno == EAGAIN)
				continue;               /* flat out: the kernel's queue is full */
			perror("bench_latency: send");
			break;
		}
		seq++;
	}
	return NULL;
}

static void *acker(void *arg)
{
	struct lat *l = arg;
	struct dp_sla a;

	while (!atomic_load(&l->stop_rx)) {
		ssize_t n = recv(l->fd, &a, sizeof(a), 0);
		uint64_t now = now_ns(CLOCK_REALTIME);
		uint32_t seq;

		if (n != (ssize_t)sizeof(a) || ntohl(a.magic) != DP_SLA_MAGIC)
			continue;               /* timeout (SO_RCVTIMEO) or not an ack */
		if (a.error_code) {
			atomic_fetch_add(&l->ack_errors, 1);
			continue;
		}
		seq = ntohl((uint32_t)a.base_sequence);
		if (seq < atomic_load_explicit(&l->n_sent, memory_order_acquire) && !l->ack_ns[seq]) {
			l->ack_ns[seq] = now - l->sent_ns[seq] + 1;
			atomic_fetch_add(&l->acks, 1);
		}
	}
	return NULL;
}

static void *consumer(void *arg)
{
	rd_kafka_t *rk = arg;
	struct lat *l = rd_kafka_opaque(rk);
	rd_kafka_topic_t *t = rd_kafka_topic_new(rk, l->topic, NULL);
	rd_kafka_message_t *m[1024];

	while (!atomic_load(&l->stop_rx)) {
		ssize_t n = rd_kafka_consume_batch(t, 0, 100, m, 1024);
		uint64_t now = now_ns(CLOCK_REALTIME);

		for (ssize_t i = 0; i < n; i++) {
			uint64_t sent;
			uint32_t seq;

			if (!m[i]->err && m[i]->len >= 12) {
				memcpy(&sent, m[i]->payload, 8);
				memcpy(&seq, (uint8_t *)m[i]->payload + 8, 4);
				if (seq < atomic_load(&l->n_sent) && l->sent_ns[seq] == sent &&
				    !l->vis_ns[seq]) {
					l->vis_ns[seq] = now - sent + 1;
					atomic_fetch_add(&l->consumed, 1);
				}
			}
			rd_kafka_message_destroy(m[i]);
		}
	}
	rd_kafka_topic_destroy(t);
	return NULL;
}

static rd_kafka_t *consumer_new(struct lat *l)
{
	rd_kafka_conf_t *c = rd_kafka_conf_new();
	char err[256];
	rd_kafka_t *rk;

	if (rd_kafka_conf_set(c, "bootstrap.servers", l->brokers, err, sizeof(err)) ||
	    rd_kafka_conf_set(c, "fetch.wait.max.ms", "100", err, sizeof(err)) ||
	    rd_kafka_conf_set(c, "fetch.error.backoff.ms", "10", err, sizeof(err)) ||
	    rd_kafka_conf_set(c, "enable.partition.eof", "false", err, sizeof(err))) {
		fprintf(stderr, "bench_latency: %s\n", err);
		return NULL;
	}
	rd_kafka_conf_set_opaque(c, l);
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof(err));
	if (!rk)
		fprintf(stderr, "bench_latency: %s\n", err);
	return rk;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Percentiles of the counted latencies; @return how many there were. */
static size_t pct(const struct lat *l, const uint64_t *v, uint32_t n, double out[5])
{
	uint64_t *s = malloc(sizeof(*s) * (n + 1));
	static const double q[4] = { 0.50, 0.99, 0.999, 1.0 };
	size_t k = 0;

	for (uint32_t i = l->first_counted; i < n; i++)
		if (v[i])
			s[k++] = v[i] - 1;
	qsort(s, k, sizeof(*s), cmp_u64);
	for (int i = 0; i < 4; i++)
		out[i] = k ? (double)s[(size_t)(q[i] * (double)(k - 1) + 0.5)] / 1e3 : 0;
	free(s);
	return k;
}

static int setup_socket(struct lat *l)
{
	struct sockaddr_in me = { .sin_family = AF_INET }, to = { .sin_family = AF_INET };
	struct timeval tv = { 0, 100000 };
	char host[64];
	const char *colon = strrchr(l->target, ':');
	int buf = 4 << 20;

	if (!colon || (size_t)(colon - l->target) >= sizeof(host))
		return -EINVAL;
	memcpy(host, l->target, (size_t)(colon - l->target));
	host[colon - l->target] = 0;
	to.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &to.sin_addr) != 1 || inet_pton(AF_INET, l->bind_ip, &me.sin_addr) != 1)
		return -EINVAL;
	l->fd = socket(AF_INET, SOCK_DGRAM, 0);
	setsockopt(l->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* past net.core.rmem_max as root: acks must not be lost in this socket */
	if (setsockopt(l->fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(l->fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	setsockopt(l->fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	if (bind(l->fd, (struct sockaddr *)&me, sizeof(me)) < 0 ||
	    connect(l->fd, (struct sockaddr *)&to, sizeof(to)) < 0)
		return -errno;
	return 0;
}

static int parse(int argc, char **argv, struct lat *l)
{
	static const struct option lo[] = {
		{ "bind", 1, 0, 'B' }, { "target", 1, 0, 'T' }, { "brokers", 1, 0, 'b' },
		{ "topic", 1, 0, 't' }, { "rate", 1, 0, 'r' }, { "seconds", 1, 0, 's' },
		{ "size", 1, 0, 'z' }, { "warmup", 1, 0, 'w' }, { 0, 0, 0, 0 },
	};
	int c;

	*l = (struct lat){ .topic = "orders", .seconds = 5, .size = 1024, .warmup = 1 };
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'B': l->bind_ip = optarg; break;
		case 'T': l->target = optarg; break;
		case 'b': l->brokers = optarg; break;
		case 't': l->topic = optarg; break;
		case 'r': l->rate = atof(optarg); break;
		case 's': l->seconds = atof(optarg); break;
		case 'z': l->size = atoi(optarg); break;
		case 'w': l->warmup = atof(optarg); break;
		default: return -1;
		}
	}
	if (!l->bind_ip || !l->target || !l->brokers || l->size < 12 || l->size > 16384 ||
	    l->warmup >= l->seconds) {
		fprintf(stderr, "Usage: bench_latency --bind IP --target IP:PORT --brokers HOST:PORT "
			"[--topic T] [--rate N] [--seconds S] [--size 12..16384] [--warmup S]\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct lat l;
	pthread_t ts, ta, tc;
	rd_kafka_t *rk;
	double d[5], v[5], secs;
	uint32_t n, counted;
	size_t nd, nv;
	int rc;

	if (parse(argc, argv, &l) < 0)
		return 2;
	l.sent_ns = calloc(MAX_SENT, 8), l.ack_ns = calloc(MAX_SENT, 8), l.vis_ns = calloc(MAX_SENT, 8);
	if ((rc = setup_socket(&l)) < 0 || !(rk = consumer_new(&l))) {
		fprintf(stderr, "bench_latency: setup: %s\n", strerror(rc < 0 ? -rc : EINVAL));
		return 2;
	}
	if (rd_kafka_consume_start(rd_kafka_topic_new(rk, l.topic, NULL), 0, RD_KAFKA_OFFSET_END) < 0) {
		fprintf(stderr, "bench_latency: consume_start: %s\n", rd_kafka_err2str(rd_kafka_last_error()));
		return 2;
	}
	pthread_create(&tc, NULL, consumer, rk);
	pthread_create(&ta, NULL, acker, &l);
	sleep(1);                               /* the consumer finds its offset */
	pthread_create(&ts, NULL, sender, &l);
	pthread_join(ts, NULL);
	n = atomic_load(&l.n_sent);
	counted = l.first_counted == UINT32_MAX ? 0 : n - l.first_counted;
	/* the stragglers: up to 5 s (flat out, where some are lost for sure: 1 s) */
	for (int i = 0; i < (l.rate > 0 ? 50 : 10) &&
	     (atomic_load(&l.acks) < n || atomic_load(&l.consumed) < n); i++)
		usleep(100000);
	atomic_store(&l.stop_rx, 1);
	pthread_join(ta, NULL);
	pthread_join(tc, NULL);
	nd = pct(&l, l.ack_ns, n, d);
	nv = pct(&l, l.vis_ns, n, v);
	secs = l.seconds - l.warmup;
	printf("sent %u datagrams of one %d-byte record (%u counted, %.0f/s), acks %zu, "
	       "ack errors %llu, consumed %zu\n", n, l.size, counted, counted / secs, nd,
	       (unsigned long long)atomic_load(&l.ack_errors), nv);
	printf("send->durable ack us: p50 %.0f p99 %.0f p99.9 %.0f max %.0f\n", d[0], d[1], d[2], d[3]);
	printf("send->visible us:     p50 %.0f p99 %.0f p99.9 %.0f max %.0f\n", v[0], v[1], v[2], v[3]);
	printf("RESULT rate=%.0f sent=%u counted=%u sent_per_s=%.0f acked=%zu acked_per_s=%.0f "
	       "ack_errors=%llu consumed=%zu durable_p50_us=%.0f durable_p99_us=%.0f "
	       "durable_p999_us=%.0f durable_max_us=%.0f visible_p50_us=%.0f visible_p99_us=%.0f "
	       "visible_p999_us=%.0f visible_max_us=%.0f\n", l.rate, n, counted, counted / secs, nd,
	       nd / secs, (unsigned long long)atomic_load(&l.ack_errors), nv, d[0], d[1], d[2], d[3],
	       v[0], v[1], v[2], v[3]);
	rd_kafka_destroy(rk);
	if (l.rate > 0 && (nd != counted || nv != counted || atomic_load(&l.ack_errors)))
		return 1;
	return 0;
}
