/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice produce-udp - records from standard input, one per line (as kcat
 * -P reads them), into the appliance's UDP produce mode with the chosen
 * delivery semantics (dataplane/producer/include/dpu_producer.h).
 *
 * One poll loop: standard input and the producer's socket, with the
 * producer's own timers (linger, resends) as the timeout.  Input stops being
 * read while the producer's window is full, so a slow or lossy path slows
 * the reader instead of growing a queue.  The exit status says whether every
 * record was delivered (0), some failed (1), or the command was wrong (2).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dpu_producer.h"
#include "sluice_cmds.h"

#define LINE_MAX_BYTES   65536

struct pu_opts {
	struct dpu_conf conf;
	const char *dst, *src, *bootstrap;
	int key_delim;                  /* -1: none */
	bool idempotent, verbose;
	int64_t pid;
	int16_t epoch;
};

struct pu_in {
	char buf[2 * LINE_MAX_BYTES];
	size_t start, end;
	uint64_t line;
	bool eof;
};

static int pu_usage(FILE *out, int rc)
{
	fprintf(out,
		"Usage: sluice produce-udp [OPTIONS] HOST:PORT\n"
		"Send the lines of standard input as records, in SLC1 datagrams, to the\n"
		"appliance's produce-mode rule at HOST:PORT (docs/wire-format.md).\n\n"
		"  -s, --semantics S       at-most-once | at-least-once (default) | exactly-once\n"
		"  -p, --partition N       target partition (default -1: the receiving queue's)\n"
		"  -b, --bootstrap H:P     Kafka listener that hands out the producer id\n"
		"                          (InitProducerId; default 127.0.0.1:9092)\n"
		"      --producer-id ID:EPOCH  use this producer id instead of asking for one\n"
		"      --idempotent        at most once: send with a producer id and sequences, so\n"
		"                          datagrams duplicated on the wire are stored once\n"
		"  -K, --key-delimiter C   split each line at the first C into key and value\n"
		"  -w, --window N          batches in flight (default 32; exactly once: 5)\n"
		"      --batch-bytes N     datagram payload at most (default 1472)\n"
		"      --linger-ms MS      send a batch this old even if not full (default 5)\n"
		"      --ack-timeout-ms MS resend a batch not acked within this (default 100)\n"
		"      --delivery-timeout-ms MS  then give up on it (default 30000)\n"
		"      --source ADDR[:PORT]  local address to send from\n"
		"  -v, --verbose           one line per batch: first count partition offset error sends\n\n"
		"Exit status: 0 when every record was delivered (at most once: sent), 1 when\n"
		"some failed, 2 for a usage error.\n");
	return rc;
}

/* "host:port", "[v6]:port"; @port_opt: a port is optional (NULL then). */
static int split_hostport(const char *s, char *host, size_t hsize, const char **port,
			  bool port_opt)
{
	const char *colon, *h = s;
	size_t hl;

	if (*s == '[') {
		colon = strchr(s, ']');
		if (!colon || (colon[1] && colon[1] != ':'))
			return -EINVAL;
		h = s + 1;
		hl = (size_t)(colon - h);
		colon = colon[1] ? colon + 1 : NULL;
	} else {
		colon = strrchr(s, ':');
		hl = colon ? (size_t)(colon - s) : strlen(s);
	}
	if (hl == 0 || hl >= hsize || (!colon && !port_opt) || (colon && !colon[1]))
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = colon ? colon + 1 : NULL;
	return 0;
}

static int resolve_udp(const char *s, bool port_opt, struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res;
	char host[256];
	const char *port;

	if (split_hostport(s, host, sizeof(host), &port, port_opt))
		return -EINVAL;
	if (getaddrinfo(host, port ? port : "0", &hints, &res))
		return -EHOSTUNREACH;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static bool parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *s == '-' || end == s || *end || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

static int parse_semantics(const char *s, enum dpu_semantics *sem)
{
	if (!strcmp(s, "at-most-once"))
		*sem = DPU_AT_MOST_ONCE;
	else if (!strcmp(s, "at-least-once"))
		*sem = DPU_AT_LEAST_ONCE;
	else if (!strcmp(s, "exactly-once"))
		*sem = DPU_EXACTLY_ONCE;
	else
		return -EINVAL;
	return 0;
}

enum { O_PID = 256, O_IDEMP, O_BATCH, O_LINGER, O_ACK_TO, O_DELIV_TO, O_SOURCE };

static const struct option pu_longopts[] = {
	{ "semantics", required_argument, NULL, 's' },
	{ "partition", required_argument, NULL, 'p' },
	{ "bootstrap", required_argument, NULL, 'b' },
	{ "producer-id", required_argument, NULL, O_PID },
	{ "idempotent", no_argument, NULL, O_IDEMP },
	{ "key-delimiter", required_argument, NULL, 'K' },
	{ "window", required_argument, NULL, 'w' },
	{ "batch-bytes", required_argument, NULL, O_BATCH },
	{ "linger-ms", required_argument, NULL, O_LINGER },
	{ "ack-timeout-ms", required_argument, NULL, O_ACK_TO },
	{ "delivery-timeout-ms", required_argument, NULL, O_DELIV_TO },
	{ "source", required_argument, NULL, O_SOURCE },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* One option into @o.  @return 0, or -EINVAL naming nothing (the caller says which). */
static int pu_opt(struct pu_opts *o, int c, const char *arg, bool *window_set)
{
	struct dpu_conf *cf = &o->conf;
	char *end, extra;

	switch (c) {
	case 'p':
		errno = 0;
		cf->partition = (int32_t)strtol(arg, &end, 10);
		return errno || *end || end == arg || cf->partition < -1 ? -EINVAL : 0;
	case 'b': o->bootstrap = arg; return 0;
	case O_PID:
		if (sscanf(arg, "%" SCNd64 ":%" SCNd16 "%c", &o->pid, &o->epoch, &extra) != 2 ||
		    o->pid < 0 || o->epoch < 0)
			return -EINVAL;
		return 0;
	case O_IDEMP: o->idempotent = true; return 0;
	case 'K': o->key_delim = (unsigned char)arg[0]; return arg[0] && !arg[1] ? 0 : -EINVAL;
	case 'w': *window_set = true; return parse_u32(arg, &cf->window) ? 0 : -EINVAL;
	case O_BATCH: return parse_u32(arg, &cf->batch_bytes) ? 0 : -EINVAL;
	case O_LINGER: return parse_u32(arg, &cf->linger_ms) ? 0 : -EINVAL;
	case O_ACK_TO: return parse_u32(arg, &cf->ack_timeout_ms) && cf->ack_timeout_ms ? 0 : -EINVAL;
	case O_DELIV_TO: return parse_u32(arg, &cf->delivery_timeout_ms) ? 0 : -EINVAL;
	case O_SOURCE: o->src = arg; return 0;
	case 'v': o->verbose = true; return 0;
	}
	return -EINVAL;
}

/* @return 0, 1 for --help, or 2 after printing the error. */
static int pu_parse(int argc, char **argv, struct pu_opts *o)
{
	enum dpu_semantics sem = DPU_AT_LEAST_ONCE;
	bool window_set = false;
	int c;

	/* The semantics choose the defaults that the other options change: a first pass finds it. */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "s:p:b:K:w:vh", pu_longopts, NULL)) != -1)
		if (c == 's' && parse_semantics(optarg, &sem)) {
			fprintf(stderr, "sluice produce-udp: unknown semantics '%s'\n", optarg);
			return 2;
		}
	dpu_conf_defaults(&o->conf, sem);
	o->bootstrap = "127.0.0.1:9092";
	o->key_delim = -1;
	o->pid = -1;
	opterr = 1;
	optind = 0;                     /* GNU: start over */
	while ((c = getopt_long(argc, argv, "s:p:b:K:w:vh", pu_longopts, NULL)) != -1) {
		if (c == 'h')
			return 1;
		if (c == '?')
			return 2;
		if (c != 's' && pu_opt(o, c, optarg, &window_set)) {
			fprintf(stderr, "sluice produce-udp: bad value '%s' for %s\n", optarg,
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "sluice produce-udp: one HOST:PORT expected\n");
		return 2;
	}
	o->dst = argv[optind];
	if (o->conf.semantics == DPU_EXACTLY_ONCE && window_set &&
	    o->conf.window > DPU_EXACTLY_ONCE_WINDOW) {
		fprintf(stderr, "sluice produce-udp: exactly once allows a window of at most %d "
				"(the appliance remembers a producer's last %d batches)\n",
			DPU_EXACTLY_ONCE_WINDOW, DPU_EXACTLY_ONCE_WINDOW);
		return 2;
	}
	return 0;
}

/* The producer id: given, or InitProducerId from the broker. */
static int pu_producer_id(struct pu_opts *o)
{
	char host[256];
	const char *port;
	int16_t kerr = 0;
	int rc;

	if (o->pid >= 0) {
		o->conf.producer_id = o->pid;
		o->conf.producer_epoch = o->epoch;
		return 0;
	}
	if (split_hostport(o->bootstrap, host, sizeof(host), &port, false)) {
		fprintf(stderr, "sluice produce-udp: bad --bootstrap '%s'\n", o->bootstrap);
		return -EINVAL;
	}
	rc = dpu_init_producer_id(host, port, 5000, &o->conf.producer_id, &o->conf.producer_epoch,
				  &kerr);
	if (rc == -EREMOTEIO)
		fprintf(stderr, "sluice produce-udp: InitProducerId at %s: Kafka error %d\n",
			o->bootstrap, kerr);
	else if (rc)
		fprintf(stderr, "sluice produce-udp: InitProducerId at %s: %s\n", o->bootstrap,
			strerror(-rc));
	return rc;
}

static void pu_report(void *opaque, const struct dpu_report *r)
{
	const struct pu_opts *o = opaque;

	if (o->verbose)
		printf("%" PRIu64 " %d %d %" PRId64 " %d %u\n", r->first_msg, r->count, r->partition,
		       r->base_offset, r->error, r->sends);
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Produce the complete lines in the buffer.  @return 0 (all taken, or the
 * window is full: the rest waits), or -errno for a record that can never go.
 */
static int pu_lines(struct dpu_producer *p, const struct pu_opts *o, struct pu_in *in)
{
	for (;;) {
		char *l = in->buf + in->start, *nl, *k = NULL, *v = l;
		size_t n = in->end - in->start;
		int32_t kl = 0;
		int rc;

		nl = memchr(l, '\n', n);
		if (!nl && n >= LINE_MAX_BYTES)
			return -E2BIG;
		if (!nl && !(in->eof && n))
			return 0;
		n = nl ? (size_t)(nl - l) : n;
		if (o->key_delim >= 0 && (k = memchr(l, o->key_delim, n))) {
			kl = (int32_t)(k - l);
			v = k + 1;
			k = l;
		}
		rc = dpu_produce(p, wall_ms(), k, kl, v, (int32_t)(n - (size_t)(v - l)), NULL, 0);
		if (rc == -ENOBUFS)
			return 0;
		if (rc) {
			fprintf(stderr, "sluice produce-udp: line %" PRIu64 ": %s\n", in->line + 1,
				rc == -EMSGSIZE ? "record larger than --batch-bytes allows"
						: strerror(-rc));
			return rc;
		}
		in->line++;
		in->start += n + (nl != NULL);
	}
}

/* Read more of standard input.  @return 0 or -errno. */
static int pu_read(struct pu_in *in)
{
	ssize_t n;

	if (in->start > 0) {
		memmove(in->buf, in->buf + in->start, in->end - in->start);
		in->end -= in->start;
		in->start = 0;
	}
	if (in->end == sizeof(in->buf))
		return -E2BIG;
	n = read(STDIN_FILENO, in->buf + in->end, sizeof(in->buf) - in->end);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -errno;
	if (n == 0)
		in->eof = true;
	in->end += (size_t)n;
	return 0;
}

static int pu_run(struct dpu_producer *p, const struct pu_opts *o, struct pu_in *in)
{
	int rc = 0;

	while (!(in->eof && in->start == in->end)) {
		struct pollfd pfd[2] = {
			{ .fd = dpu_producer_fd(p), .events = POLLIN },
			{ .fd = STDIN_FILENO, .events = POLLIN },
		};
		/* Read input only when the window has room for what is buffered. */
		bool want_in = !in->eof && in->end - in->start < LINE_MAX_BYTES &&
			       dpu_in_flight(p) < o->conf.window;

		if (poll(pfd, want_in ? 2 : 1, dpu_timeout_ms(p)) < 0 && errno != EINTR)
			return -errno;
		rc = dpu_poll(p, 0);
		if (rc < 0)
			return rc;
		if (want_in && (pfd[1].revents & (POLLIN | POLLHUP))) {
			rc = pu_read(in);
			if (rc)
				return rc;
		}
		rc = pu_lines(p, o, in);
		if (rc == -E2BIG)
			fprintf(stderr, "sluice produce-udp: line %" PRIu64 " longer than %d bytes\n",
				in->line + 1, LINE_MAX_BYTES);
		if (rc)
			return rc;
	}
	rc = dpu_flush(p, (int)o->conf.delivery_timeout_ms + 1000);
	return rc;
}

int sluice_cmd_produce_udp(int argc, char **argv)
{
	struct pu_opts o;
	struct sockaddr_storage dst, src;
	socklen_t dst_len, src_len = 0;
	struct dpu_producer *p;
	const struct dpu_stats *st;
	struct pu_in *in;
	int rc;

	memset(&o, 0, sizeof(o));
	rc = pu_parse(argc, argv, &o);
	if (rc)
		return rc == 1 ? pu_usage(stdout, 0) :
		       (fprintf(stderr, "see 'sluice produce-udp --help'\n"), 2);
	if (resolve_udp(o.dst, false, &dst, &dst_len) ||
	    (o.src && resolve_udp(o.src, true, &src, &src_len))) {
		fprintf(stderr, "sluice produce-udp: cannot resolve '%s'\n",
			resolve_udp(o.dst, false, &dst, &dst_len) ? o.dst : o.src);
		return 2;
	}
	if ((o.conf.semantics == DPU_EXACTLY_ONCE || o.idempotent) && pu_producer_id(&o))
		return 1;
	o.conf.dr_cb = pu_report;
	o.conf.opaque = &o;
	rc = dpu_producer_new(&o.conf, (struct sockaddr *)&dst, dst_len,
			      o.src ? (struct sockaddr *)&src : NULL, src_len, &p);
	if (rc) {
		fprintf(stderr, "sluice produce-udp: %s\n", rc == -EINVAL ?
			"invalid settings (see --help)" : strerror(-rc));
		return rc == -EINVAL ? 2 : 1;
	}
	in = calloc(1, sizeof(*in));
	rc = in ? pu_run(p, &o, in) : -ENOMEM;
	if (rc && rc != -EMSGSIZE && rc != -E2BIG)
		fprintf(stderr, "sluice produce-udp: %s\n", strerror(-rc));
	st = dpu_producer_stats(p);
	fprintf(stderr, "produce-udp: %" PRIu64 " records in %" PRIu64 " batches: %" PRIu64
		" %s, %" PRIu64 " failed; %" PRIu64 " datagrams (%" PRIu64 " resends), %" PRIu64
		" acks (%" PRIu64 " for batches already settled)\n",
		st->records, st->batches, st->delivered,
		o.conf.semantics == DPU_AT_MOST_ONCE ? "sent" : "delivered", st->failed, st->sends,
		st->resends, st->acks, st->acks_unmatched);
	if (st->failed || st->delivered != st->records)
		rc = rc ? rc : -EIO;
	dpu_producer_free(p);
	free(in);
	return rc ? 1 : 0;
}
