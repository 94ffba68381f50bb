/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice top - a live view of a running appliance, from its Prometheus
 * endpoint (metrics.listener, default 127.0.0.1:9644).
 *
 * Every second it scrapes GET /metrics, keeps the previous scrape, and shows
 * rates over the interval between the two: per port and per lcore packets/s
 * and Gbit/s, drops by reason, writer MB/s and syncs/s (the metrics have no
 * flush latency yet), per partition records/s, ring fill and durable lag
 * (records accepted -- log end -- but not yet durable), the uplink's lag into
 * its Kafka cluster (records not acknowledged, age), consumer-group lag,
 * and on top the worst problem found: a partition stopped by an I/O error,
 * drops rising, durable lag growing, a group's lag growing.
 *
 * `--once` prints one snapshot as text, `--json` one as JSON; both take two
 * scrapes one second apart.  The view is plain ANSI (clear screen, reverse
 * video for the problem line); q or Ctrl-C quits.
 *
 * The text format parser is small and bounded: at most TOP_MAX_BODY bytes
 * per scrape, series whose name this view does not use are skipped, and
 * every table has a fixed size (what does not fit is left out).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "sluice_cmds.h"

#define TOP_MAX_BODY   (16u << 20)      /* bytes per scrape */
#define TOP_MAX_PORTS  16
#define TOP_MAX_LCORES 64
#define TOP_MAX_PARTS  512
#define TOP_MAX_GROUPS 256
#define TOP_MAX_DROPS  64
#define TOP_NAME       96
#define TOP_TIMEOUT_MS 3000

struct top_port { char name[TOP_NAME]; double pkts, bytes, missed, nombuf, errors; };
struct top_lcore { char id[16]; double pkts, bytes, drops; };
struct top_part {
	char topic[TOP_NAME]; char partition[16];
	double records, bytes, log_end, written, flushed, durable, ring_used, ring_size, io_error;
	double uplink, uplink_lag, uplink_lag_s; /* uplink: 1 when the partition has one */
};
struct top_group { char group[TOP_NAME]; char topic[TOP_NAME]; double lag; };
struct top_drop { char reason[48]; double n; };

/* One scrape, reduced to what the view shows. */
struct top_snap {
	double t;                       /* CLOCK_MONOTONIC seconds */
	double rx_pkts, rx_bytes, stored, records;
	double write_bytes, syncs, io_errors;
	unsigned int n_ports, n_lcores, n_parts, n_groups, n_drops;
	struct top_port ports[TOP_MAX_PORTS];
	struct top_lcore lcores[TOP_MAX_LCORES];
	struct top_part parts[TOP_MAX_PARTS];
	struct top_group groups[TOP_MAX_GROUPS];
	struct top_drop drops[TOP_MAX_DROPS];
};

enum top_sev { TOP_OK = 0, TOP_WARN, TOP_CRIT };

struct top_problem {
	enum top_sev sev;
	char text[256];
};

/* ---- HTTP ------------------------------------------------------------------- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "host:port" -> a connected TCP socket, or -errno. */
static int dial(const char *hostport)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	const char *colon = strrchr(hostport, ':');
	char host[256];
	int fd = -ECONNREFUSED;

	if (!colon || (size_t)(colon - hostport) >= sizeof(host))
		return -EINVAL;
	memcpy(host, hostport, (size_t)(colon - hostport));
	host[colon - hostport] = '\0';
	if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
		return -EADDRNOTAVAIL;
	for (ai = res; ai; ai = ai->ai_next) {
		struct timeval tv = { .tv_sec = TOP_TIMEOUT_MS / 1000 };

		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -errno;
	}
	freeaddrinfo(res);
	return fd;
}

/* GET /metrics: the body in *@body (malloc'd, NUL-terminated).  @return length or -errno. */
static long scrape(const char *hostport, char **body)
{
	char req[320];
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap), *p;
	ssize_t n;
	int fd = dial(hostport);

	*body = NULL;
	if (fd < 0 || !buf) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return fd < 0 ? fd : -ENOMEM;
	}
	n = snprintf(req, sizeof(req), "GET /metrics HTTP/1.0\r\nHost: %s\r\n\r\n", hostport);
	if (write(fd, req, (size_t)n) != n)
		goto fail;
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (len + 1 == cap) {
			if (cap >= TOP_MAX_BODY || !(p = realloc(buf, cap * 2)))
				goto fail;
			buf = p;
			cap *= 2;
		}
	}
	if (n < 0)
		goto fail;
	close(fd);
	buf[len] = '\0';
	if (strncmp(buf, "HTTP/1.", 7) != 0 || strncmp(buf + 9, "200", 3) != 0 ||
	    !(p = strstr(buf, "\r\n\r\n"))) {
		free(buf);
		return -EPROTO;
	}
	p += 4;
	len -= (size_t)(p - buf);
	memmove(buf, p, len + 1);
	*body = buf;
	return (long)len;
fail:
	close(fd);
	free(buf);
	return -EIO;
}

/* ---- text format ---------------------------------------------------------------- */

/* The value of label @key in "{a=\"x\",b=\"y\"}" into @out ("" if absent). */
static void label(const char *labels, const char *key, char *out, size_t size)
{
	size_t kl = strlen(key), o = 0;
	const char *p = labels;

	out[0] = '\0';
	while (p && *p) {
		if ((p == labels || p[-1] == '{' || p[-1] == ',') && !strncmp(p, key, kl) &&
		    p[kl] == '=' && p[kl + 1] == '"') {
			for (p += kl + 2; *p && *p != '"' && o + 1 < size; p++) {
				if (*p == '\\' && p[1])
					p++;
				out[o++] = *p;
			}
			out[o] = '\0';
			return;
		}
		p++;
	}
}

static struct top_part *part_at(struct top_snap *s, const char *labels)
{
	char t[TOP_NAME], pa[16];

	label(labels, "topic", t, sizeof(t));
	label(labels, "partition", pa, sizeof(pa));
	for (unsigned int i = 0; i < s->n_parts; i++)
		if (!strcmp(s->parts[i].topic, t) && !strcmp(s->parts[i].partition, pa))
			return &s->parts[i];
	if (s->n_parts == TOP_MAX_PARTS)
		return NULL;
	snprintf(s->parts[s->n_parts].topic, TOP_NAME, "%s", t);
	snprintf(s->parts[s->n_parts].partition, 16, "%s", pa);
	return &s->parts[s->n_parts++];
}

static struct top_port *port_at(struct top_snap *s, const char *labels)
{
	char n[TOP_NAME];

	label(labels, "port", n, sizeof(n));
	for (unsigned int i = 0; i < s->n_ports; i++)
		if (!strcmp(s->ports[i].name, n))
			return &s->ports[i];
	if (s->n_ports == TOP_MAX_PORTS)
		return NULL;
	snprintf(s->ports[s->n_ports].name, TOP_NAME, "%s", n);
	return &s->ports[s->n_ports++];
}

static struct top_lcore *lcore_at(struct top_snap *s, const char *labels)
{
	char n[16];

	label(labels, "lcore", n, sizeof(n));
	for (unsigned int i = 0; i < s->n_lcores; i++)
		if (!strcmp(s->lcores[i].id, n))
			return &s->lcores[i];
	if (s->n_lcores == TOP_MAX_LCORES)
		return NULL;
	snprintf(s->lcores[s->n_lcores].id, 16, "%s", n);
	return &s->lcores[s->n_lcores++];
}

/* Partition families: name suffix after "sluice_partition_" -> field. */
static double *part_field(struct top_part *p, const char *suffix)
{
	static const struct { const char *name; size_t off; } f[] = {
		{ "records_in_total", offsetof(struct top_part, records) },
		{ "bytes_in_total", offsetof(struct top_part, bytes) },
		{ "log_end_offset", offsetof(struct top_part, log_end) },
		{ "written_offset", offsetof(struct top_part, written) },
		{ "flushed_offset", offsetof(struct top_part, flushed) },
		{ "durable_offset", offsetof(struct top_part, durable) },
		{ "ring_used_bytes", offsetof(struct top_part, ring_used) },
		{ "ring_size_bytes", offsetof(struct top_part, ring_size) },
		{ "io_error", offsetof(struct top_part, io_error) },
	};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (!strcmp(suffix, f[i].name))
			return (double *)((char *)p + f[i].off);
	return NULL;
}

static double *port_field(struct top_port *p, const char *suffix)
{
	if (!strcmp(suffix, "rx_packets_total")) return &p->pkts;
	if (!strcmp(suffix, "rx_bytes_total")) return &p->bytes;
	if (!strcmp(suffix, "rx_missed_total")) return &p->missed;
	if (!strcmp(suffix, "rx_nombuf_total")) return &p->nombuf;
	if (!strcmp(suffix, "rx_errors_total")) return &p->errors;
	return NULL;
}

#define PFX(s, lit) (!strncmp((s), lit, sizeof(lit) - 1))

/* One sample line into @s (unknown names are ignored). */
static void sample(struct top_snap *s, const char *name, const char *labels, double v)
{
	double *f = NULL;
	struct top_part *p;
	struct top_port *po;
	struct top_lcore *lc;

	if (!strcmp(name, "sluice_dataplane_rx_packets_total")) {
		s->rx_pkts = v;
	} else if (!strcmp(name, "sluice_dataplane_rx_bytes_total")) {
		s->rx_bytes = v;
	} else if (!strcmp(name, "sluice_dataplane_stored_packets_total")) {
		s->stored = v;
	} else if (!strcmp(name, "sluice_dataplane_records_total")) {
		s->records += v;
	} else if (!strcmp(name, "sluice_dataplane_drops_total") && s->n_drops < TOP_MAX_DROPS) {
		label(labels, "reason", s->drops[s->n_drops].reason, sizeof(s->drops[0].reason));
		s->drops[s->n_drops++].n = v;
	} else if (!strcmp(name, "sluice_storage_write_bytes_total")) {
		s->write_bytes += v;
	} else if (!strcmp(name, "sluice_storage_syncs_total")) {
		s->syncs += v;
	} else if (!strcmp(name, "sluice_storage_io_errors_total")) {
		s->io_errors += v;
	} else if (PFX(name, "sluice_partition_")) {
		if ((p = part_at(s, labels)) && (f = part_field(p, name + 17)))
			*f = v;
	} else if (!strcmp(name, "sluice_uplink_lag_records") ||
		   !strcmp(name, "sluice_uplink_lag_seconds")) {
		if ((p = part_at(s, labels))) {
			p->uplink = 1;
			*(name[18] == 'r' ? &p->uplink_lag : &p->uplink_lag_s) = v;
		}
	} else if (PFX(name, "sluice_port_")) {
		if ((po = port_at(s, labels)) && (f = port_field(po, name + 12)))
			*f = v;
	} else if (PFX(name, "sluice_dataplane_lcore_") && (lc = lcore_at(s, labels))) {
		if (!strcmp(name + 23, "rx_packets_total"))
			lc->pkts = v;
		else if (!strcmp(name + 23, "rx_bytes_total"))
			lc->bytes = v;
		else if (!strcmp(name + 23, "drops_total"))
			lc->drops += v;
	} else if (!strcmp(name, "sluice_group_lag_sum") && s->n_groups < TOP_MAX_GROUPS) {
		struct top_group *g = &s->groups[s->n_groups++];

		label(labels, "group", g->group, sizeof(g->group));
		label(labels, "topic", g->topic, sizeof(g->topic));
		g->lag = v;
	}
}

/* Prometheus text format 0.0.4: "name{labels} value [timestamp]" per line, # comments. */
static void parse(struct top_snap *s, char *body)
{
	char *line, *save = NULL;

	for (line = strtok_r(body, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[128], labels[512] = "", *p = line, *end;
		size_t n = strcspn(p, "{ ");
		double v;

		if (*p == '#' || n == 0 || n >= sizeof(name) || !PFX(p, "sluice_"))
			continue;
		memcpy(name, p, n);
		name[n] = '\0';
		p += n;
		if (*p == '{') {
			/* label values may hold '}' inside quotes: find the closing one */
			bool q = false;
			char *c = p + 1;

			for (; *c && (q || *c != '}'); c++) {
				if (*c == '\\' && c[1])
					c++;
				else if (*c == '"')
					q = !q;
			}
			if (*c != '}' || (size_t)(c - p + 1) >= sizeof(labels))
				continue;
			memcpy(labels, p, (size_t)(c - p + 1));
			labels[c - p + 1] = '\0';
			p = c + 1;
		}
		v = strtod(p, &end);
		if (end == p)
			continue;
		sample(s, name, labels, v);
	}
}

static int snap_take(const char *hostport, struct top_snap *s)
{
	char *body;
	long n;

	memset(s, 0, sizeof(*s));
	n = scrape(hostport, &body);
	s->t = now_s();
	if (n < 0)
		return (int)n;
	parse(s, body);
	free(body);
	return 0;
}

/* ---- rates and the worst problem ------------------------------------------------- */

static double rate(double cur, double prev, double dt)
{
	return dt > 0 && cur >= prev ? (cur - prev) / dt : 0;
}

static const struct top_port *prev_port(const struct top_snap *a, const char *name)
{
	for (unsigned int i = 0; i < a->n_ports; i++)
		if (!strcmp(a->ports[i].name, name))
			return &a->ports[i];
	return NULL;
}

static const struct top_lcore *prev_lcore(const struct top_snap *a, const char *id)
{
	for (unsigned int i = 0; i < a->n_lcores; i++)
		if (!strcmp(a->lcores[i].id, id))
			return &a->lcores[i];
	return NULL;
}

static const struct top_part *prev_part(const struct top_snap *a, const struct top_part *p)
{
	for (unsigned int i = 0; i < a->n_parts; i++)
		if (!strcmp(a->parts[i].topic, p->topic) &&
		    !strcmp(a->parts[i].partition, p->partition))
			return &a->parts[i];
	return NULL;
}

static double prev_drop(const struct top_snap *a, const char *reason, double dflt)
{
	for (unsigned int i = 0; i < a->n_drops; i++)
		if (!strcmp(a->drops[i].reason, reason))
			return a->drops[i].n;
	return dflt;
}

static double prev_group(const struct top_snap *a, const struct top_group *g)
{
	for (unsigned int i = 0; i < a->n_groups; i++)
		if (!strcmp(a->groups[i].group, g->group) && !strcmp(a->groups[i].topic, g->topic))
			return a->groups[i].lag;
	return g->lag;
}

static double dur_lag(const struct top_part *p)
{
	return p->log_end > p->durable ? p->log_end - p->durable : 0;
}

/* Drops a deployment must act on (capacity, storage) rather than traffic it does not want. */
static bool drop_critical(const char *reason)
{
	return !strcmp(reason, "ring_full") || !strcmp(reason, "storage_error") ||
	       !strcmp(reason, "imissed") || !strcmp(reason, "rx_nombuf");
}

/*
 * The worst thing between scrapes @a and @b, in this order: a partition
 * stopped by an I/O error; drops rising (the fastest of ring_full,
 * storage_error, imissed, rx_nombuf -- critical -- else the fastest other
 * reason); a durable watermark that
 * did not move while records wait; durable lag growing; a group's lag growing.
 */
static void problem_find(const struct top_snap *a, const struct top_snap *b,
			 struct top_problem *pr)
{
	double dt = b->t - a->t, worst = 0;
	const char *why = NULL;

	pr->sev = TOP_OK;
	snprintf(pr->text, sizeof(pr->text), "no problem seen");
	for (unsigned int i = 0; i < b->n_parts; i++)
		if (b->parts[i].io_error > 0) {
			pr->sev = TOP_CRIT;
			snprintf(pr->text, sizeof(pr->text), "partition %s-%s stopped by an I/O error "
				 "(storage io errors %.0f)", b->parts[i].topic, b->parts[i].partition,
				 b->io_errors);
			return;
		}
	for (unsigned int i = 0; i < b->n_drops; i++) {
		double r = rate(b->drops[i].n, prev_drop(a, b->drops[i].reason, b->drops[i].n), dt);
		bool crit = drop_critical(b->drops[i].reason);

		/* a critical reason outranks any rate of the others */
		if (r > 0 && (!why || (crit && !drop_critical(why)) ||
			      (crit == drop_critical(why) && r > worst))) {
			worst = r;
			why = b->drops[i].reason;
		}
	}
	if (why) {
		pr->sev = drop_critical(why) ? TOP_CRIT : TOP_WARN;
		snprintf(pr->text, sizeof(pr->text), "drops rising: %s +%.0f/s", why, worst);
		return;
	}
	for (unsigned int i = 0; i < b->n_parts; i++) {
		const struct top_part *p = &b->parts[i], *q = prev_part(a, p);

		if (!q || dur_lag(p) == 0)
			continue;
		if (p->durable == q->durable) {
			pr->sev = TOP_CRIT;
			snprintf(pr->text, sizeof(pr->text), "partition %s-%s: durable offset stuck at "
				 "%.0f, %.0f records not durable", p->topic, p->partition, p->durable,
				 dur_lag(p));
			return;
		}
		if (dur_lag(p) > 2 * dur_lag(q) && dur_lag(p) > 10000) {
			pr->sev = TOP_WARN;
			snprintf(pr->text, sizeof(pr->text), "partition %s-%s: durable lag growing "
				 "(%.0f -> %.0f records)", p->topic, p->partition, dur_lag(q), dur_lag(p));
			return;
		}
	}
	for (unsigned int i = 0; i < b->n_groups; i++) {
		double before = prev_group(a, &b->groups[i]);

		if (b->groups[i].lag > before) {
			pr->sev = TOP_WARN;
			snprintf(pr->text, sizeof(pr->text), "group %s: lag on %s growing (%.0f -> %.0f)",
				 b->groups[i].group, b->groups[i].topic, before, b->groups[i].lag);
			return;
		}
	}
}

/* ---- text ---------------------------------------------------------------------------- */

static void render_dataplane(FILE *o, const struct top_snap *a, const struct top_snap *b, double dt)
{
	fprintf(o, "DATAPLANE  rx %.0f pkts  %.0f pkt/s  %.3f Gbit/s  stored %.0f  records %.0f\n\n",
		b->rx_pkts, rate(b->rx_pkts, a->rx_pkts, dt),
		rate(b->rx_bytes, a->rx_bytes, dt) * 8 / 1e9, b->stored, b->records);
	fprintf(o, "%-16s %12s %10s %10s %10s %10s\n", "PORT", "PKT/S", "GBIT/S", "MISSED/S",
		"NOMBUF/S", "ERRORS");
	for (unsigned int i = 0; i < b->n_ports; i++) {
		const struct top_port *p = &b->ports[i], *q = prev_port(a, p->name);
		struct top_port z = { .pkts = p->pkts };

		if (!q)
			q = &z;
		fprintf(o, "%-16s %12.0f %10.3f %10.0f %10.0f %10.0f\n", p->name,
			rate(p->pkts, q->pkts, dt), rate(p->bytes, q->bytes, dt) * 8 / 1e9,
			rate(p->missed, q->missed, dt), rate(p->nombuf, q->nombuf, dt), p->errors);
	}
	fprintf(o, "\n%-16s %12s %10s %10s %10s\n", "LCORE", "PKT/S", "GBIT/S", "DROPS/S", "DROPS");
	for (unsigned int i = 0; i < b->n_lcores; i++) {
		const struct top_lcore *l = &b->lcores[i], *q = prev_lcore(a, l->id);
		struct top_lcore z = { .pkts = l->pkts, .bytes = l->bytes, .drops = l->drops };

		if (!q)
			q = &z;
		fprintf(o, "%-16s %12.0f %10.3f %10.0f %10.0f\n", l->id, rate(l->pkts, q->pkts, dt),
			rate(l->bytes, q->bytes, dt) * 8 / 1e9, rate(l->drops, q->drops, dt), l->drops);
	}
	fprintf(o, "\n%-22s %12s %10s\n", "DROPS (non-zero)", "TOTAL", "/S");
	for (unsigned int i = 0; i < b->n_drops; i++)
		if (b->drops[i].n > 0)
			fprintf(o, "%-22s %12.0f %10.0f\n", b->drops[i].reason, b->drops[i].n,
				rate(b->drops[i].n, prev_drop(a, b->drops[i].reason, b->drops[i].n), dt));
}

static void render_storage(FILE *o, const struct top_snap *a, const struct top_snap *b, double dt)
{
	fprintf(o, "\nWRITERS  %.2f MB/s  %.1f syncs/s  io errors %.0f\n\n",
		rate(b->write_bytes, a->write_bytes, dt) / 1e6, rate(b->syncs, a->syncs, dt),
		b->io_errors);
	fprintf(o, "%-22s %10s %12s %12s %12s %10s %6s %18s %s\n", "PARTITION", "REC/S", "RECORDS",
		"LOG END", "DURABLE", "DUR.LAG", "RING%", "UPLINK LAG", "");
	for (unsigned int i = 0; i < b->n_parts; i++) {
		const struct top_part *p = &b->parts[i], *q = prev_part(a, p);
		char name[TOP_NAME + 20], up[40] = "-";

		snprintf(name, sizeof(name), "%s-%s", p->topic, p->partition);
		if (p->uplink)
			snprintf(up, sizeof(up), "%.0f (%.1fs)", p->uplink_lag, p->uplink_lag_s);
		fprintf(o, "%-22s %10.0f %12.0f %12.0f %12.0f %10.0f %5.1f%% %18s %s\n", name,
			q ? rate(p->records, q->records, dt) : 0, p->records, p->log_end, p->durable,
			dur_lag(p), p->ring_size > 0 ? 100 * p->ring_used / p->ring_size : 0, up,
			p->io_error > 0 ? "I/O ERROR" : "");
	}
	fprintf(o, "\n%-22s %-22s %12s %10s\n", "GROUP", "TOPIC", "LAG", "LAG/S");
	for (unsigned int i = 0; i < b->n_groups; i++)
		fprintf(o, "%-22s %-22s %12.0f %10.0f\n", b->groups[i].group, b->groups[i].topic,
			b->groups[i].lag, (b->groups[i].lag - prev_group(a, &b->groups[i])) / dt);
}

static void render_text(FILE *o, const char *hostport, const struct top_snap *a,
			const struct top_snap *b, bool ansi)
{
	static const char *const sev[] = { "OK", "WARNING", "CRITICAL" };
	struct top_problem pr;
	double dt = b->t - a->t;

	problem_find(a, b, &pr);
	fprintf(o, "sluice top - %s - interval %.2f s\n", hostport, dt);
	if (ansi && pr.sev != TOP_OK)
		fprintf(o, "\033[7;%sm", pr.sev == TOP_CRIT ? "31" : "33");
	fprintf(o, "%s: %s", sev[pr.sev], pr.text);
	fputs(ansi && pr.sev != TOP_OK ? "\033[0m\n\n" : "\n\n", o);
	render_dataplane(o, a, b, dt);
	render_storage(o, a, b, dt);
}

/* ---- JSON ------------------------------------------------------------------------------ */

static void jstr(FILE *o, const char *s)
{
	fputc('"', o);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(o, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(o, "\\u%04x", *s);
		else
			fputc(*s, o);
	}
	fputc('"', o);
}

/* A number as JSON: integers without a fraction. */
static void jnum(FILE *o, double v)
{
	if (v == floor(v) && fabs(v) < 9e15)
		fprintf(o, "%.0f", v);
	else
		fprintf(o, "%.6g", v);
}

static void jkv(FILE *o, const char *k, double v, bool comma)
{
	jstr(o, k);
	fputc(':', o);
	jnum(o, v);
	if (comma)
		fputc(',', o);
}

static void json_dataplane(FILE *o, const struct top_snap *a, const struct top_snap *b, double dt)
{
	fputs("\"totals\":{", o);
	jkv(o, "rx_packets", b->rx_pkts, true);
	jkv(o, "rx_bytes", b->rx_bytes, true);
	jkv(o, "stored_packets", b->stored, true);
	jkv(o, "records", b->records, true);
	jkv(o, "rx_pps", rate(b->rx_pkts, a->rx_pkts, dt), true);
	jkv(o, "rx_gbps", rate(b->rx_bytes, a->rx_bytes, dt) * 8 / 1e9, false);
	fputs("},\"drops\":{", o);
	for (unsigned int i = 0; i < b->n_drops; i++)
		jkv(o, b->drops[i].reason, b->drops[i].n, i + 1 < b->n_drops);
	fputs("},\"drops_per_s\":{", o);
	for (unsigned int i = 0; i < b->n_drops; i++)
		jkv(o, b->drops[i].reason,
		    rate(b->drops[i].n, prev_drop(a, b->drops[i].reason, b->drops[i].n), dt),
		    i + 1 < b->n_drops);
	fputs("},\"ports\":[", o);
	for (unsigned int i = 0; i < b->n_ports; i++) {
		const struct top_port *p = &b->ports[i], *q = prev_port(a, p->name);

		if (!q)
			q = p;
		fputs(i ? ",{\"port\":" : "{\"port\":", o);
		jstr(o, p->name);
		fputc(',', o);
		jkv(o, "rx_packets", p->pkts, true);
		jkv(o, "rx_bytes", p->bytes, true);
		jkv(o, "rx_missed", p->missed, true);
		jkv(o, "rx_nombuf", p->nombuf, true);
		jkv(o, "rx_errors", p->errors, true);
		jkv(o, "rx_pps", rate(p->pkts, q->pkts, dt), true);
		jkv(o, "rx_gbps", rate(p->bytes, q->bytes, dt) * 8 / 1e9, false);
		fputc('}', o);
	}
	fputs("],\"lcores\":[", o);
	for (unsigned int i = 0; i < b->n_lcores; i++) {
		const struct top_lcore *l = &b->lcores[i], *q = prev_lcore(a, l->id);

		if (!q)
			q = l;
		fprintf(o, "%s{\"lcore\":%s,", i ? "," : "", l->id);
		jkv(o, "rx_packets", l->pkts, true);
		jkv(o, "rx_bytes", l->bytes, true);
		jkv(o, "drops", l->drops, true);
		jkv(o, "rx_pps", rate(l->pkts, q->pkts, dt), true);
		jkv(o, "rx_gbps", rate(l->bytes, q->bytes, dt) * 8 / 1e9, true);
		jkv(o, "drops_per_s", rate(l->drops, q->drops, dt), false);
		fputc('}', o);
	}
	fputs("],", o);
}

static void json_storage(FILE *o, const struct top_snap *a, const struct top_snap *b, double dt)
{
	fputs("\"writers\":{", o);
	jkv(o, "write_bytes", b->write_bytes, true);
	jkv(o, "write_mbps", rate(b->write_bytes, a->write_bytes, dt) / 1e6, true);
	jkv(o, "syncs", b->syncs, true);
	jkv(o, "syncs_per_s", rate(b->syncs, a->syncs, dt), true);
	jkv(o, "io_errors", b->io_errors, false);
	fputs("},\"partitions\":[", o);
	for (unsigned int i = 0; i < b->n_parts; i++) {
		const struct top_part *p = &b->parts[i], *q = prev_part(a, p);

		fputs(i ? ",{\"topic\":" : "{\"topic\":", o);
		jstr(o, p->topic);
		fprintf(o, ",\"partition\":%s,", p->partition);
		jkv(o, "records", p->records, true);
		jkv(o, "records_per_s", q ? rate(p->records, q->records, dt) : 0, true);
		jkv(o, "bytes", p->bytes, true);
		jkv(o, "log_end", p->log_end, true);
		jkv(o, "written", p->written, true);
		jkv(o, "flushed", p->flushed, true);
		jkv(o, "durable", p->durable, true);
		jkv(o, "durable_lag", dur_lag(p), true);
		jkv(o, "ring_used", p->ring_used, true);
		jkv(o, "ring_size", p->ring_size, true);
		if (p->uplink) {
			jkv(o, "uplink_lag_records", p->uplink_lag, true);
			jkv(o, "uplink_lag_seconds", p->uplink_lag_s, true);
		}
		jkv(o, "io_error", p->io_error, false);
		fputc('}', o);
	}
	fputs("],\"groups\":[", o);
	for (unsigned int i = 0; i < b->n_groups; i++) {
		fputs(i ? ",{\"group\":" : "{\"group\":", o);
		jstr(o, b->groups[i].group);
		fputs(",\"topic\":", o);
		jstr(o, b->groups[i].topic);
		fputc(',', o);
		jkv(o, "lag", b->groups[i].lag, true);
		jkv(o, "lag_per_s", (b->groups[i].lag - prev_group(a, &b->groups[i])) / dt, false);
		fputc('}', o);
	}
	fputs("],", o);
}

static void render_json(FILE *o, const struct top_snap *a, const struct top_snap *b)
{
	static const char *const sev[] = { "ok", "warning", "critical" };
	struct top_problem pr;
	double dt = b->t - a->t;

	problem_find(a, b, &pr);
	fputc('{', o);
	jkv(o, "interval_s", dt, true);
	json_dataplane(o, a, b, dt);
	json_storage(o, a, b, dt);
	fprintf(o, "\"problem\":{\"severity\":\"%s\",\"text\":", sev[pr.sev]);
	jstr(o, pr.text);
	fputs("}}\n", o);
}

/* ---- main ------------------------------------------------------------------------------- */

static volatile sig_atomic_t top_stop;

static void on_signal(int sig)
{
	(void)sig;
	top_stop = 1;
}

/* Wait up to @ms for a key; true when it was q. */
static bool key_quit(int ms)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	char c;

	if (poll(&p, 1, ms) <= 0 || read(STDIN_FILENO, &c, 1) != 1)
		return false;
	return c == 'q' || c == 'Q';
}

static int live(const char *hostport, struct top_snap *a, struct top_snap *b)
{
	struct termios saved, raw;
	bool tty = tcgetattr(STDIN_FILENO, &saved) == 0;
	int rc = 0;

	if (tty) {
		raw = saved;
		raw.c_lflag &= ~(ICANON | ECHO);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	fputs("\033[?25l", stdout);             /* hide the cursor */
	while (!top_stop) {
		if (key_quit(1000))
			break;
		if ((rc = snap_take(hostport, b)) < 0) {
			printf("\033[H\033[2Jsluice top - %s: %s (retrying)\n", hostport, strerror(-rc));
			fflush(stdout);
			continue;
		}
		fputs("\033[H\033[2J", stdout);
		render_text(stdout, hostport, a, b, true);
		fflush(stdout);
		memcpy(a, b, sizeof(*a));
	}
	fputs("\033[?25h", stdout);
	if (tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	return 0;
}

static void top_usage(FILE *out)
{
	fprintf(out, "Usage: sluice top [--metrics HOST:PORT] [--once] [--json]\n"
		     "A live view of a running sluiced from its metrics endpoint\n"
		     "(default 127.0.0.1:9644), refreshed every second; q quits.\n"
		     "  --once   print one snapshot as text (rates over 1 s) and exit\n"
		     "  --json   print one snapshot as JSON (rates over 1 s) and exit\n");
}

int sluice_cmd_top(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "metrics", required_argument, NULL, 'm' },
		{ "once", no_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct top_snap a, b;    /* large: keep them off the stack */
	const char *hostport = "127.0.0.1:9644";
	bool once = false, json = false;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "m:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': hostport = optarg; break;
		case 'o': once = true; break;
		case 'j': json = true; break;
		case 'h': top_usage(stdout); return 0;
		default: top_usage(stderr); return 2;
		}
	}
	if ((rc = snap_take(hostport, &a)) < 0) {
		fprintf(stderr, "sluice top: GET http://%s/metrics: %s\n", hostport, strerror(-rc));
		return 1;
	}
	if (!once && !json) {
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		return live(hostport, &a, &b);
	}
	usleep(1000000);
	if ((rc = snap_take(hostport, &b)) < 0) {
		fprintf(stderr, "sluice top: GET http://%s/metrics: %s\n", hostport, strerror(-rc));
		return 1;
	}
	if (json)
		render_json(stdout, &a, &b);
	else
		render_text(stdout, hostport, &a, &b, false);
	return 0;
}
