/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice export - tap-mode records of a topic back out as a capture file
 * (pcap or pcapng, nanosecond timestamps from `rx.ns`, frames rebuilt from
 * the stored addresses: sluice_frame.c) or as text (the values, or one
 * JSON object per record).
 *
 * Records come from a data directory, read offline like `sluice dump-log`
 * (the segment files are mapped read-only; the daemon may be running or
 * not, nothing is written), or with -b from a running broker over Kafka
 * (sluice_export_kafka.c).  Either way each partition is one cursor in
 * offset order, and the cursors are merged by time, so a capture of a
 * multi-partition topic comes out in time order as a capture should.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "fwc_config.h"
#include "fwc_log.h"
#include "sluice_cmds.h"
#include "sluice_export.h"
#include "sluice_export_int.h"

/* libpcap's own upper bound for a snapshot length (MAXIMUM_SNAPLEN). */
#define EXPORT_SNAPLEN 262144

enum xfmt { XF_PCAP, XF_PCAPNG, XF_RAW, XF_JSON };

struct xopts {
	const char *topic, *out, *data, *config, *bootstrap;
	int32_t partition;              /* -1: all */
	int64_t from_ns, to_ns;         /* [from, to) */
	enum xfmt fmt;
	bool hex, progress;
	bool tty;                       /* standard error is a terminal: the line redraws itself */
	uint64_t progress_ns;           /* between two progress lines (SLUICE_PROGRESS_MS) */
};

struct xctx {
	struct xopts o;
	struct sluice_xpart *parts;
	size_t n_parts;
	struct sluice_xkafka *kc;       /* -b: the broker client */
	/* sink */
	pcap_t *pd;
	pcap_dumper_t *dumper;
	FILE *f;
	uint8_t *frame;
	/* counts for the summary */
	uint64_t read, written, no_addrs, too_large;
};

/* ---- the data directory: one cursor per partition ------------------------------ */

struct dirpart {
	char dir[PATH_MAX];
	char **segs;                    /* .log names, in base offset order */
	size_t n_segs, seg;
	uint8_t *map;
	size_t map_len, pos;
	uint64_t bytes_before;          /* of the segments already read */
	struct st_record_iter it;
	bool in_batch;
	bool warned_codec;
};

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_segment(const char *name)
{
	size_t n = strlen(name);

	if (n != 24 || strcmp(name + 20, ".log"))
		return false;
	for (size_t i = 0; i < 20; i++)
		if (name[i] < '0' || name[i] > '9')
			return false;
	return true;
}

/* The segments of @p's directory, sorted; their total size into @p->total. */
static int dirpart_list(struct sluice_xpart *p, struct dirpart *d)
{
	DIR *dh = opendir(d->dir);
	struct dirent *e;
	size_t cap = 0;

	if (!dh)
		return -errno;
	while ((e = readdir(dh))) {
		char path[PATH_MAX + 32];
		struct stat st;

		if (!is_segment(e->d_name))
			continue;
		if (d->n_segs == cap) {
			char **v = realloc(d->segs, (cap = cap ? 2 * cap : 8) * sizeof(*v));

			if (!v)
				break;
			d->segs = v;
		}
		d->segs[d->n_segs] = strdup(e->d_name);
		if (!d->segs[d->n_segs])
			break;
		snprintf(path, sizeof(path), "%s/%s", d->dir, e->d_name);
		if (stat(path, &st) == 0)
			p->total += (uint64_t)st.st_size;
		d->n_segs++;
	}
	closedir(dh);
	if (e)
		return -ENOMEM;
	qsort(d->segs, d->n_segs, sizeof(*d->segs), name_cmp);
	return 0;
}

static void dirpart_unmap(struct dirpart *d)
{
	if (d->map)
		munmap(d->map, d->map_len);
	d->bytes_before += d->map_len;
	d->map = NULL;
	d->map_len = d->pos = 0;
	d->in_batch = false;
}

/* Map the next segment. @return 1, 0 when there is none, -errno. */
static int dirpart_map_next(struct dirpart *d)
{
	char path[PATH_MAX + 32];
	struct stat st;
	int fd, rc = 1;

	dirpart_unmap(d);
	while (d->seg < d->n_segs) {
		snprintf(path, sizeof(path), "%s/%s", d->dir, d->segs[d->seg++]);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT)  /* retention removed it meanwhile */
				continue;
			return -errno;
		}
		if (fstat(fd, &st) < 0 || st.st_size == 0) {
			rc = st.st_size == 0 ? 1 : -errno;
			close(fd);
			if (rc < 0)
				return rc;
			continue;
		}
		d->map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		close(fd);
		if (d->map == MAP_FAILED) {
			d->map = NULL;
			return -errno;
		}
		d->map_len = (size_t)st.st_size;
		madvise(d->map, d->map_len, MADV_SEQUENTIAL);
		return 1;
	}
	return 0;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/*
 * Start the next batch of the mapped segment. @return true when one was
 * started; false at the end of the segment (a torn or zero-padded tail ends
 * it quietly, anything else with a warning: `sluice verify` says more).
 */
static bool dirpart_batch(struct dirpart *d, const char *topic, int32_t partition)
{
	while (d->pos < d->map_len) {
		const uint8_t *b = d->map + d->pos;
		size_t left = d->map_len - d->pos;
		struct st_batch_info bi;
		enum st_batch_err err = st_batch_validate(b, left, 0, 0, &bi);

		if (err == ST_BATCH_ERR_TRUNCATED || all_zero(b, left < 17 ? left : 17))
			return false;
		if (err != ST_BATCH_ERR_OK) {
			fprintf(stderr, "sluice export: %s-%d: %s/%s byte %zu: %s; the rest of the "
				"segment is skipped (sluice verify checks the directory)\n", topic,
				partition, d->dir, d->segs[d->seg - 1], d->pos, st_batch_err_str(err));
			return false;
		}
		d->pos += st_batch_size(&bi);
		if (bi.attributes & ST_BATCH_ATTR_CONTROL)
			continue;
		if (bi.attributes & ST_BATCH_ATTR_CODEC_MASK) {
			if (!d->warned_codec)
				fprintf(stderr, "sluice export: %s-%d: compressed batches are skipped "
					"(tap mode never writes them)\n", topic, partition);
			d->warned_codec = true;
			continue;
		}
		st_record_iter_init(&d->it, b, &bi);
		return true;
	}
	return false;
}

static int dirpart_next(struct sluice_xpart *p, struct sluice_xrec *x)
{
	struct dirpart *d = p->impl;
	struct st_record rec;
	int rc;

	for (;;) {
		if (d->in_batch && st_record_iter_next(&d->it, &rec)) {
			sluice_xrec_from_record(x, p->partition, &rec);
			p->done = d->bytes_before + d->pos;
			return 1;
		}
		if (d->in_batch && d->it.err)
			fprintf(stderr, "sluice export: %s-%d: a record of the batch at offset %" PRId64
				" does not decode; the rest of that batch is skipped\n", p->topic,
				p->partition, d->it.bi.base_offset);
		d->in_batch = d->map && dirpart_batch(d, p->topic, p->partition);
		if (d->in_batch)
			continue;
		rc = dirpart_map_next(d);
		p->done = d->bytes_before;
		if (rc <= 0)
			return rc;
	}
}

static void dirpart_close(struct sluice_xpart *p)
{
	struct dirpart *d = p->impl;

	if (!d)
		return;
	dirpart_unmap(d);
	for (size_t i = 0; i < d->n_segs; i++)
		free(d->segs[i]);
	free(d->segs);
	free(d);
	p->impl = NULL;
}

/* "<topic>-<digits>" @return the partition, or -1. */
static int32_t partition_of(const char *name, const char *topic)
{
	size_t tl = strlen(topic);
	char *end;
	long v;

	if (strncmp(name, topic, tl) || name[tl] != '-' || name[tl + 1] < '0' || name[tl + 1] > '9')
		return -1;
	v = strtol(name + tl + 1, &end, 10);
	return *end || v > INT32_MAX ? -1 : (int32_t)v;
}

static int part_cmp(const void *a, const void *b)
{
	const struct sluice_xpart *x = a, *y = b;

	return (x->partition > y->partition) - (x->partition < y->partition);
}

/* Every partition of the topic (or the one asked for) under the data directory. */
static int export_open_dir(struct xctx *c)
{
	DIR *dh = opendir(c->o.data);
	struct dirent *e;
	int rc = 0;

	if (!dh) {
		fprintf(stderr, "sluice export: %s: %s\n", c->o.data, strerror(errno));
		return -1;
	}
	while ((e = readdir(dh)) && rc == 0) {
		int32_t part = partition_of(e->d_name, c->o.topic);
		struct sluice_xpart *v, *p;
		struct dirpart *d;

		if (part < 0 || (c->o.partition >= 0 && part != c->o.partition))
			continue;
		v = realloc(c->parts, (c->n_parts + 1) * sizeof(*v));
		d = calloc(1, sizeof(*d));
		if (v)
			c->parts = v;
		if (!v || !d) {
			free(d);
			rc = -ENOMEM;
			break;
		}
		p = &c->parts[c->n_parts++];
		*p = (struct sluice_xpart){ .topic = c->o.topic, .partition = part, .impl = d,
					    .next = dirpart_next, .close = dirpart_close };
		snprintf(d->dir, sizeof(d->dir), "%s/%s", c->o.data, e->d_name);
		rc = dirpart_list(p, d);
		if (rc < 0)
			fprintf(stderr, "sluice export: %s: %s\n", d->dir, strerror(-rc));
	}
	closedir(dh);
	if (rc < 0)
		return -1;
	if (!c->n_parts) {
		if (c->o.partition >= 0)
			fprintf(stderr, "sluice export: %s: no partition %d of topic '%s'\n",
				c->o.data, c->o.partition, c->o.topic);
		else
			fprintf(stderr, "sluice export: %s: no partition of topic '%s'\n",
				c->o.data, c->o.topic);
		return -1;
	}
	qsort(c->parts, c->n_parts, sizeof(*c->parts), part_cmp);
	return 0;
}

/* ---- sinks ------------------------------------------------------------------ */

static int sink_open(struct xctx *c)
{
	const char *out = c->o.out;

	if (c->o.fmt == XF_PCAP) {
		c->pd = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, EXPORT_SNAPLEN,
							     PCAP_TSTAMP_PRECISION_NANO);
		c->dumper = c->pd ? pcap_dump_open(c->pd, out) : NULL;
		if (!c->dumper) {
			fprintf(stderr, "sluice export: %s: %s\n", out,
				c->pd ? pcap_geterr(c->pd) : "pcap_open_dead failed");
			return -1;
		}
	} else if (c->o.fmt == XF_PCAPNG) {
		c->f = strcmp(out, "-") ? fopen(out, "wb") : stdout;
		if (!c->f || sluice_pcapng_begin(c->f, EXPORT_SNAPLEN) < 0) {
			fprintf(stderr, "sluice export: %s: %s\n", out, strerror(errno));
			return -1;
		}
	} else {
		c->f = stdout;
	}
	if (c->o.fmt == XF_PCAP || c->o.fmt == XF_PCAPNG) {
		c->frame = malloc(SLUICE_FRAME_MAX);
		if (!c->frame)
			return -1;
	}
	return 0;
}

static int sink_close(struct xctx *c)
{
	int rc = 0;

	if (c->dumper) {
		if (pcap_dump_flush(c->dumper) < 0 || ferror(pcap_dump_file(c->dumper)))
			rc = -EIO;
		pcap_dump_close(c->dumper);
	}
	if (c->pd)
		pcap_close(c->pd);
	if (c->f && (fflush(c->f) || ferror(c->f)))
		rc = -EIO;
	if (c->f && c->f != stdout && fclose(c->f))
		rc = -EIO;
	free(c->frame);
	return rc;
}

static int sink_frame(struct xctx *c, const struct sluice_xrec *x)
{
	int64_t ns = sluice_xrec_time_ns(x);
	int len;

	len = sluice_frame_build(c->frame, SLUICE_FRAME_MAX, &x->addrs, x->value,
				 x->value ? (size_t)x->value_len : 0);
	if (len < 0) {
		c->too_large++;
		return 0;
	}
	if (!x->has_addrs)
		c->no_addrs++;
	if (c->o.fmt == XF_PCAP) {
		struct pcap_pkthdr h = { .caplen = (bpf_u_int32)len, .len = (bpf_u_int32)len };

		/* A nanosecond dumper takes the ns in tv_usec. */
		h.ts.tv_sec = (time_t)(ns / 1000000000);
		h.ts.tv_usec = (suseconds_t)(ns % 1000000000);
		pcap_dump((u_char *)c->dumper, &h, c->frame);
		return 0;
	} else {
		char comment[320];

		snprintf(comment, sizeof(comment), "%s-%" PRId32 " offset %" PRId64, c->o.topic,
			 x->partition, x->offset);
		return sluice_pcapng_packet(c->f, (uint64_t)ns, c->frame, (uint32_t)len, comment);
	}
}

static void put_hex(FILE *f, const uint8_t *p, int32_t n)
{
	for (int32_t i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
}

static void put_base64(FILE *f, const uint8_t *p, int32_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char q[4];

	for (int32_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? p[i + 1] << 8 : 0) |
			     (i + 2 < n ? p[i + 2] : 0);

		q[0] = tab[v >> 18];
		q[1] = tab[v >> 12 & 63];
		q[2] = i + 1 < n ? tab[v >> 6 & 63] : '=';
		q[3] = i + 2 < n ? tab[v & 63] : '=';
		fwrite(q, 1, 4, f);
	}
}

/* A JSON string: the characters JSON requires escaped, escaped (topic names are tame). */
static void put_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void put_json_bytes(FILE *f, const char *name, const void *p, int32_t n)
{
	fprintf(f, ",\"%s\":", name);
	if (!p) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	put_base64(f, p, n);
	fputc('"', f);
}

static void sink_json(struct xctx *c, const struct sluice_xrec *x)
{
	char tbuf[64], src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	int af = x->addrs.family == 6 ? AF_INET6 : AF_INET;

	fputs("{\"topic\":", c->f);
	put_json_str(c->f, c->o.topic);
	fprintf(c->f, ",\"partition\":%" PRId32 ",\"offset\":%" PRId64 ",\"timestamp\":%" PRId64,
		x->partition, x->offset, x->timestamp);
	if (x->has_rx_ns)
		fprintf(c->f, ",\"rx_ns\":%" PRId64, x->rx_ns);
	sluice_time_format(sluice_xrec_time_ns(x), tbuf, sizeof(tbuf));
	fprintf(c->f, ",\"time\":\"%s\"", tbuf);
	if (x->has_addrs) {
		inet_ntop(af, x->addrs.src, src, sizeof(src));
		inet_ntop(af, x->addrs.dst, dst, sizeof(dst));
		fprintf(c->f, ",\"src\":\"%s\",\"src_port\":%u,\"dst\":\"%s\",\"dst_port\":%u", src,
			x->addrs.src_port, dst, x->addrs.dst_port);
	}
	put_json_bytes(c->f, "key", x->key, x->key_len);
	put_json_bytes(c->f, "value", x->value, x->value_len);
	fputs("}\n", c->f);
}

static int sink_write(struct xctx *c, const struct sluice_xrec *x)
{
	switch (c->o.fmt) {
	case XF_PCAP:
	case XF_PCAPNG:
		return sink_frame(c, x);
	case XF_JSON:
		sink_json(c, x);
		break;
	case XF_RAW:
		if (c->o.hex)
			put_hex(c->f, x->value, x->value ? x->value_len : 0);
		else if (x->value)
			fwrite(x->value, 1, (size_t)x->value_len, c->f);
		fputc('\n', c->f);
		break;
	}
	return ferror(c->f) ? -EIO : 0;
}

/* ---- the merge ---------------------------------------------------------------- */

static void progress(struct xctx *c, bool last)
{
	uint64_t done = 0, total = 0;

	for (size_t i = 0; i < c->n_parts; i++) {
		done += c->parts[i].done;
		total += c->parts[i].total;
	}
	/* On a terminal one line redrawn in place, elsewhere (--progress into a file) one per line. */
	fprintf(stderr, "%ssluice export: %" PRIu64 " records written, %" PRIu64 " read, %.0f%%%s",
		c->o.tty ? "\r" : "", c->written, c->read,
		total ? 100.0 * (double)done / (double)total : 100.0,
		last || !c->o.tty ? "\n" : "");
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The partition whose current record is the earliest (ties: lowest partition). */
static struct sluice_xpart *merge_pick(struct xctx *c)
{
	struct sluice_xpart *best = NULL;

	for (size_t i = 0; i < c->n_parts; i++) {
		struct sluice_xpart *p = &c->parts[i];

		if (!p->has)
			continue;
		if (!best || sluice_xrec_time_ns(&p->cur) < sluice_xrec_time_ns(&best->cur))
			best = p;
	}
	return best;
}

static int part_advance(struct sluice_xpart *p)
{
	int rc = p->next(p, &p->cur);

	p->has = rc > 0;
	if (rc < 0)
		fprintf(stderr, "sluice export: %s-%d: %s\n", p->topic, p->partition, strerror(-rc));
	return rc;
}

static int export_run(struct xctx *c)
{
	uint64_t last = mono_ns(), now;
	bool shown = false;
	struct sluice_xpart *p;
	int rc = 0;

	for (size_t i = 0; i < c->n_parts; i++)
		if (part_advance(&c->parts[i]) < 0)
			rc = -EIO;
	while (rc == 0 && (p = merge_pick(c))) {
		int64_t t = sluice_xrec_time_ns(&p->cur);

		c->read++;
		if (t >= c->o.from_ns && t < c->o.to_ns) {
			rc = sink_write(c, &p->cur);
			c->written++;
		}
		if (rc == 0 && part_advance(p) < 0)
			rc = -EIO;
		if (c->o.progress && (c->read & 63) == 0 &&
		    (now = mono_ns()) - last >= c->o.progress_ns) {
			progress(c, false);
			last = now;
			shown = true;
		}
	}
	if (shown)
		progress(c, true);      /* where it ended */
	return rc;
}

/* ---- the command ---------------------------------------------------------------- */

static int export_usage(FILE *out, int rc)
{
	fprintf(out,
		"Usage: sluice export --topic T [--partition P] [--from TIME] [--to TIME]\n"
		"                     (--pcap OUT | --pcapng OUT | --format raw|json [--hex])\n"
		"                     [--data DIR | --config FILE | -b HOST:PORT] [DIR]\n"
		"Rebuild a capture from a topic's tap-mode records: one Ethernet/IP/UDP frame\n"
		"per record, its payload the record's value, its addresses and ports the\n"
		"record's src.addr/src.port/dst.addr/dst.port headers, its time `rx.ns` (ns).\n"
		"Records without address headers get 192.0.2.1:0 -> 192.0.2.2:0 (one warning).\n"
		"Partitions are merged in time order.  OUT '-' is standard output.\n\n"
		"  -t, --topic T         the topic (required)\n"
		"  -p, --partition P     only this partition (default: all)\n"
		"      --from TIME       records at or after TIME: RFC 3339 (2026-12-07T10:00:00Z,\n"
		"                        fractions and offsets allowed) or epoch ms / ns, or\n"
		"                        N with a unit: 1765101600s, ...ms, ...us, ...ns\n"
		"      --to TIME         records before TIME (same forms)\n"
		"                        (the time is rx.ns, else the record timestamp)\n"
		"      --pcap OUT        write pcap, nanosecond timestamps (libpcap)\n"
		"      --pcapng OUT      write pcapng (if_tsresol 9; each packet's comment\n"
		"                        names its topic-partition and offset)\n"
		"      --format raw      print each value and a newline (--hex: as hex)\n"
		"      --format json     one JSON object per record: topic, partition, offset,\n"
		"                        timestamp, rx_ns, time, src, src_port, dst, dst_port,\n"
		"                        key and value (base64)\n"
		"  -d, --data DIR        the data directory (default: log.dirs of the config);\n"
		"                        read offline, the daemon need not run.  Also as DIR\n"
		"  -c, --config FILE     take log.dirs from FILE (default: the embedded config)\n"
		"  -b, --bootstrap H:P   read from a running broker over Kafka instead\n"
		"  -q, --quiet           no progress line (shown once a second on a terminal)\n"
		"      --progress        progress lines on standard error even when it is not\n"
		"                        a terminal (one per line; never on standard output)\n\n"
		"Exit status: 0 done, 1 an error (nothing found, I/O), 2 a usage error.\n");
	return rc;
}

static int export_time(const char *opt, const char *s, int64_t *ns)
{
	if (sluice_time_parse(s, ns) == 0)
		return 0;
	fprintf(stderr, "sluice export: %s: not a time: '%s' (RFC 3339, or epoch ms or ns)\n",
		opt, s);
	return -1;
}

static int export_format(struct xopts *o, const char *s)
{
	if (!strcmp(s, "raw"))
		o->fmt = XF_RAW;
	else if (!strcmp(s, "json"))
		o->fmt = XF_JSON;
	else if (!strcmp(s, "pcap"))
		o->fmt = XF_PCAP;
	else if (!strcmp(s, "pcapng"))
		o->fmt = XF_PCAPNG;
	else
		return -1;
	return 0;
}

/* SLUICE_PROGRESS_MS (1..3600000; default 1000) as ns.  @return 0 or -1 (said why). */
static int progress_interval(uint64_t *ns)
{
	long ms = fwc_log_progress_ms();

	if (ms < 0) {
		fprintf(stderr, "sluice export: SLUICE_PROGRESS_MS=%s: expected 1..3600000 (ms)\n",
			getenv(FWC_PROGRESS_ENV));
		return -1;
	}
	*ns = (uint64_t)ms * 1000000u;
	return 0;
}

/* @return 0, or the exit code of a bad command line. */
static int export_args(int argc, char **argv, struct xopts *o)
{
	static const struct option lo[] = {
		{ "topic", 1, 0, 't' }, { "partition", 1, 0, 'p' }, { "from", 1, 0, 'F' },
		{ "to", 1, 0, 'T' }, { "pcap", 1, 0, 'P' }, { "pcapng", 1, 0, 'N' },
		{ "format", 1, 0, 'f' }, { "hex", 0, 0, 'x' }, { "data", 1, 0, 'd' },
		{ "config", 1, 0, 'c' }, { "bootstrap", 1, 0, 'b' }, { "quiet", 0, 0, 'q' },
		{ "progress", 0, 0, 'G' }, { "help", 0, 0, 'h' }, { 0 },
	};
	int ch, outputs = 0;
	bool quiet = false, forced = false;
	char *end;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "t:p:f:d:c:b:qh", lo, NULL)) != -1) {
		switch (ch) {
		case 't': o->topic = optarg; break;
		case 'p':
			o->partition = (int32_t)strtol(optarg, &end, 10);
			if (*end || o->partition < 0)
				return export_usage(stderr, 2);
			break;
		case 'F': if (export_time("--from", optarg, &o->from_ns)) return 2; break;
		case 'T': if (export_time("--to", optarg, &o->to_ns)) return 2; break;
		case 'P': o->fmt = XF_PCAP, o->out = optarg, outputs++; break;
		case 'N': o->fmt = XF_PCAPNG, o->out = optarg, outputs++; break;
		case 'f':
			if (export_format(o, optarg) || o->fmt == XF_PCAP || o->fmt == XF_PCAPNG)
				return export_usage(stderr, 2);
			outputs++;
			break;
		case 'x': o->hex = true; break;
		case 'd': o->data = optarg; break;
		case 'c': o->config = optarg; break;
		case 'b': o->bootstrap = optarg; break;
		case 'q': o->progress = false, quiet = true; break;
		case 'G': o->progress = true, forced = true; break;
		case 'h': return export_usage(stdout, -1);
		default: return export_usage(stderr, 2);
		}
	}
	if (quiet && forced) {
		fprintf(stderr, "sluice export: --quiet and --progress contradict each other\n");
		return export_usage(stderr, 2);
	}
	if (progress_interval(&o->progress_ns) < 0)
		return 2;
	if (optind < argc && !o->data)
		o->data = argv[optind++];
	if (optind < argc || !o->topic || outputs != 1 || (o->hex && o->fmt != XF_RAW) ||
	    (o->bootstrap && (o->data || o->config))) {
		fprintf(stderr, "sluice export: %s\n", !o->topic ? "--topic is required" :
			outputs != 1 ? "give one of --pcap, --pcapng, --format" :
			"bad combination of arguments");
		return export_usage(stderr, 2);
	}
	return 0;
}

/* log.dirs of --config, or of the embedded default. */
static int export_data_dir(struct xopts *o, char *buf, size_t size)
{
	static struct fwc_config cfg;

	fwc_config_defaults(&cfg);
	if ((o->config ? fwc_config_load(&cfg, o->config, NULL) :
			 fwc_config_load_default(&cfg, NULL)) < 0)
		return -1;
	snprintf(buf, size, "%s", cfg.broker.log_dirs);
	o->data = buf;
	return 0;
}

static void export_summary(const struct xctx *c)
{
	fprintf(stderr, "sluice export: %" PRIu64 " of %" PRIu64 " records of '%s' written to %s\n",
		c->written, c->read, c->o.topic,
		c->o.fmt == XF_PCAP || c->o.fmt == XF_PCAPNG ? c->o.out : "standard output");
	if (c->no_addrs)
		fprintf(stderr, "sluice export: warning: %" PRIu64 " record%s had no address headers "
			"(src.addr, src.port, dst.addr, dst.port): their frames carry the "
			"placeholders 192.0.2.1:0 -> 192.0.2.2:0\n", c->no_addrs,
			c->no_addrs == 1 ? "" : "s");
	if (c->too_large)
		fprintf(stderr, "sluice export: warning: %" PRIu64 " record%s left out: the value "
			"does not fit one UDP datagram\n", c->too_large, c->too_large == 1 ? "" : "s");
}

int sluice_cmd_export(int argc, char **argv)
{
	static struct xctx c;
	char dirbuf[PATH_MAX];
	int rc;

	c.o = (struct xopts){ .partition = -1, .from_ns = INT64_MIN, .to_ns = INT64_MAX,
			      .progress = isatty(STDERR_FILENO), .tty = isatty(STDERR_FILENO) };
	rc = export_args(argc, argv, &c.o);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (!c.o.data && !c.o.bootstrap && export_data_dir(&c.o, dirbuf, sizeof(dirbuf)) < 0)
		return 2;
	rc = c.o.bootstrap ? sluice_export_kafka_open(c.o.bootstrap, c.o.topic, c.o.partition,
						       c.o.from_ns, &c.parts, &c.n_parts, &c.kc)
			   : export_open_dir(&c);
	if (rc == 0)
		rc = sink_open(&c);
	if (rc == 0)
		rc = export_run(&c);
	if (sink_close(&c) < 0 && rc == 0) {
		fprintf(stderr, "sluice export: writing %s: %s\n", c.o.out ? c.o.out : "output",
			strerror(EIO));
		rc = -EIO;
	}
	if (rc == 0)
		export_summary(&c);
	for (size_t i = 0; i < c.n_parts; i++)
		c.parts[i].close(&c.parts[i]);
	free(c.parts);
	if (c.kc)
		sluice_export_kafka_close(c.kc);
	return rc == 0 ? 0 : 1;
}
