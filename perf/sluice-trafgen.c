/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-trafgen - write a pcap of traffic for the appliance to capture.
 *
 * Tap-mode datagrams (one record each), produce-mode datagrams (an SLC1
 * header and a RecordBatch v2 built with the storage codec), traffic that
 * matches no rule, and malformed frames, interleaved deterministically from a
 * seed.  The bundled sample (firmware-config/samples/sample.pcap) is this
 * tool's output with its defaults; net_pcap replays it.
 *
 * Extra kinds (VLAN, QinQ, IPv6, IPv4 fragments, bad checksums, bad SLC1
 * datagrams) are off by default and follow the main mix, drawn from a second
 * random stream, so the default output never changes.  --manifest writes
 * what the appliance must store and drop:
 *   frames N                      frames in the pcap
 *   record TOPIC KEYHEX|- VALUEHEX  every expected record, in order per topic
 *   drop REASON N                 every expected drop reason (dp_drop.def)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "dp_wire.h"
#include "st_batch.h"

#define MAX_FRAME 9000
#define ETH_HLEN 14
#define IP4_HLEN 20
#define UDP_HLEN 8

struct gen_opts {
	const char *out;
	unsigned int tap, produce, nomatch, malformed;
	unsigned int records_per_batch;
	unsigned int payload;       /* tap payload bytes (minimum for the text) */
	uint16_t tap_port, produce_port;
	uint64_t seed;
	int64_t start_us;           /* first packet time, microseconds since epoch */
	/* extra kinds, in enum xkind order */
	unsigned int extra[10];
	unsigned int frame_size;    /* tap frames of exactly this size (0: from the text) */
	unsigned int frag_payload;  /* payload of fragmented datagrams */
	uint16_t vlan_id;
	const char *manifest;
	const char *tap_topic, *produce_topic;
};

/* Extra kinds, after the main mix; see --help. */
enum xkind { X_VLAN, X_QINQ, X_IPV6, X_FRAG, X_BAD_IP_CSUM, X_BAD_UDP_CSUM, X_BAD_MAGIC,
	     X_BAD_CRC, X_BAD_PARTITION, X_BAD_LENGTH, X_N };

/* What the manifest needs to know while frames are written. */
struct gen_state {
	FILE *mf;
	unsigned long frames;
	unsigned long drops[16];
};

enum mdrop { MD_NO_RULE, MD_BAD_IP_LENGTH, MD_BAD_IP_CSUM, MD_BAD_UDP_CSUM, MD_BAD_MAGIC,
	     MD_BAD_CRC, MD_BAD_PARTITION, MD_BAD_LENGTH, MD_N };
static const char *const mdrop_name[MD_N] = {
	"no_rule", "bad_ip_length", "bad_ip_checksum", "bad_udp_checksum", "bad_magic",
	"bad_crc", "bad_partition", "bad_length",
};

static uint64_t rnd(uint64_t *s)
{
	/* xorshift64*: deterministic from --seed, good enough for a mix. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

/* Ethernet + IPv4 + UDP around @payload; returns the frame length. */
static size_t frame_udp4(uint8_t *f, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
			 const uint8_t *payload, size_t plen)
{
	static const uint8_t dmac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	static const uint8_t smac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	uint8_t *ip = f + ETH_HLEN, *udp = ip + IP4_HLEN;
	uint16_t ulen = (uint16_t)(UDP_HLEN + plen);
	uint32_t sum;
	uint16_t c;

	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	f[12] = 0x08, f[13] = 0x00;
	memset(ip, 0, IP4_HLEN);
	ip[0] = 0x45;
	*(uint16_t *)(ip + 2) = htons((uint16_t)(IP4_HLEN + ulen));
	ip[6] = 0x40; /* DF */
	ip[8] = 64;
	ip[9] = 17;
	*(uint32_t *)(ip + 12) = htonl(src);
	*(uint32_t *)(ip + 16) = htonl(dst);
	*(uint16_t *)(ip + 10) = htons(csum_fold(csum_add(0, ip, IP4_HLEN)));
	*(uint16_t *)(udp + 0) = htons(sport);
	*(uint16_t *)(udp + 2) = htons(dport);
	*(uint16_t *)(udp + 4) = htons(ulen);
	*(uint16_t *)(udp + 6) = 0;
	memcpy(udp + UDP_HLEN, payload, plen);
	/* UDP checksum over the pseudo-header and the datagram. */
	sum = csum_add(0, ip + 12, 8) + 17 + ulen;
	sum = csum_add(sum, udp, ulen);
	c = csum_fold(sum);
	*(uint16_t *)(udp + 6) = htons(c ? c : 0xffff);
	return ETH_HLEN + IP4_HLEN + ulen;
}

static size_t tap_payload(uint8_t *p, unsigned int seq, unsigned int min, uint64_t *s)
{
	int n = snprintf((char *)p, 256, "telemetry seq=%u sensor=%u value=%u", seq,
			 (unsigned int)(rnd(s) % 16), (unsigned int)(rnd(s) % 100000));
	size_t len = (size_t)n;

	while (len < min)
		p[len] = (uint8_t)('a' + len % 26), len++;
	return len;
}

static void hex(FILE *f, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", ((const uint8_t *)p)[i]);
}

static void manifest_record(struct gen_state *g, const char *topic, const void *k, size_t kl,
			    const void *v, size_t vl)
{
	if (!g || !g->mf)
		return;
	fprintf(g->mf, "record %s ", topic);
	if (k)
		hex(g->mf, k, kl);
	else
		fputc('-', g->mf);
	fputc(' ', g->mf);
	hex(g->mf, v, vl);
	fputc('\n', g->mf);
}

static size_t produce_payload(uint8_t *p, unsigned int seq, unsigned int nrec, int64_t ts_ms,
			      struct gen_state *g, const char *topic)
{
	struct dp_slc_hdr h = { htonl(DP_SLC_MAGIC), 0, 0, (int32_t)htonl((uint32_t)-1) };
	struct st_batch_builder b;
	char key[32], val[64];
	int n;

	memcpy(p, &h, sizeof(h));
	st_batch_builder_begin(&b, p + sizeof(h), MAX_FRAME - 64, ts_ms);
	for (unsigned int r = 0; r < nrec; r++) {
		struct st_record_header hdr = { "source", 6, "trafgen", 7 };
		int kl = snprintf(key, sizeof(key), "order-%u", seq * nrec + r);
		int vl = snprintf(val, sizeof(val), "{\"order\":%u,\"qty\":%u}", seq * nrec + r, r + 1);

		if (st_batch_builder_add(&b, ts_ms, key, kl, val, vl, &hdr, 1) < 0)
			return 0;
		manifest_record(g, topic, key, (size_t)kl, val, (size_t)vl);
	}
	n = st_batch_builder_finish(&b);
	return n < 0 ? 0 : sizeof(h) + (size_t)n;
}

/* Insert @n VLAN tags (S-tag 0x88a8 outside a C-tag when two) after the MACs. */
static size_t add_tags(uint8_t *f, size_t len, unsigned int n, uint16_t vid)
{
	memmove(f + 12 + 4 * n, f + 12, len - 12);
	for (unsigned int i = 0; i < n; i++) {
		uint16_t tpid = (n == 2 && i == 0) ? 0x88a8 : 0x8100;
		uint16_t id = (uint16_t)(n == 2 && i == 0 ? 10 : vid);

		f[12 + 4 * i] = (uint8_t)(tpid >> 8), f[13 + 4 * i] = (uint8_t)tpid;
		f[14 + 4 * i] = (uint8_t)(id >> 8), f[15 + 4 * i] = (uint8_t)id;
	}
	return len + 4 * n;
}

/* Ethernet + IPv6 + UDP (2001:db8::1 -> 2001:db8::2). */
static size_t frame_udp6(uint8_t *f, uint16_t sport, uint16_t dport, const uint8_t *payload,
			 size_t plen)
{
	static const uint8_t src[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t dst[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
	uint8_t *ip = f + ETH_HLEN, *udp = ip + 40;
	uint16_t ulen = (uint16_t)(UDP_HLEN + plen);
	uint16_t c;
	uint32_t sum;

	memset(f, 0, ETH_HLEN + 40 + UDP_HLEN);
	f[0] = 0x02, f[5] = 0x01, f[6] = 0x02, f[11] = 0x02;
	f[12] = 0x86, f[13] = 0xdd;
	ip[0] = 0x60;
	ip[4] = (uint8_t)(ulen >> 8), ip[5] = (uint8_t)ulen;
	ip[6] = 17, ip[7] = 64;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	udp[0] = (uint8_t)(sport >> 8), udp[1] = (uint8_t)sport;
	udp[2] = (uint8_t)(dport >> 8), udp[3] = (uint8_t)dport;
	udp[4] = (uint8_t)(ulen >> 8), udp[5] = (uint8_t)ulen;
	memcpy(udp + UDP_HLEN, payload, plen);
	sum = csum_add(0, ip + 8, 32) + 17 + ulen;
	c = csum_fold(csum_add(sum, udp, ulen));
	c = c ? c : 0xffff;
	udp[6] = (uint8_t)(c >> 8), udp[7] = (uint8_t)c;
	return ETH_HLEN + 40 + ulen;
}

static int emit(pcap_dumper_t *d, const uint8_t *f, size_t len, int64_t t_us)
{
	struct pcap_pkthdr h = { .caplen = (bpf_u_int32)len, .len = (bpf_u_int32)len };

	h.ts.tv_sec = t_us / 1000000;
	h.ts.tv_usec = t_us % 1000000;
	pcap_dump((u_char *)d, &h, f);
	return 0;
}

/*
 * One IPv4 datagram @f (frame_udp4's output) as fragments of at most 1480
 * payload bytes, written in reverse order when @reverse.  @return frames.
 */
static unsigned int emit_frags(pcap_dumper_t *d, const uint8_t *f, size_t len, uint16_t id,
			       int reverse, int64_t *t)
{
	size_t data = len - ETH_HLEN - IP4_HLEN, chunk = 1480;
	unsigned int n = (unsigned int)((data + chunk - 1) / chunk);
	static uint8_t fr[MAX_FRAME];

	for (unsigned int j = 0; j < n; j++) {
		unsigned int i = reverse ? n - 1 - j : j;
		size_t off = i * chunk, cl = data - off < chunk ? data - off : chunk;
		uint8_t *ip = fr + ETH_HLEN;
		uint16_t fo = (uint16_t)((off / 8) | (i + 1 < n ? 0x2000 : 0));

		memcpy(fr, f, ETH_HLEN + IP4_HLEN);
		memcpy(ip + IP4_HLEN, f + ETH_HLEN + IP4_HLEN + off, cl);
		*(uint16_t *)(ip + 2) = htons((uint16_t)(IP4_HLEN + cl));
		*(uint16_t *)(ip + 4) = htons(id);
		*(uint16_t *)(ip + 6) = htons(fo);
		*(uint16_t *)(ip + 10) = 0;
		*(uint16_t *)(ip + 10) = htons(csum_fold(csum_add(0, ip, IP4_HLEN)));
		emit(d, fr, ETH_HLEN + IP4_HLEN + cl, *t);
		*t += 10;
	}
	return n;
}

/* Exactly @n payload bytes: the text cut or padded. */
static size_t fit(uint8_t *p, size_t len, size_t n)
{
	while (len < n)
		p[len] = (uint8_t)('a' + len % 26), len++;
	return n;
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: sluice-trafgen -o FILE.pcap [--tap N] [--produce N] [--nomatch N]\n"
		     "         [--malformed N] [--records N] [--payload BYTES] [--tap-port P]\n"
		     "         [--produce-port P] [--seed S] [--start-us T]\n"
		     "         [--frame-size BYTES] [--manifest FILE] [--tap-topic T]\n"
		     "         [--produce-topic T]\n"
		     "  after the mix (all stored unless named bad):\n"
		     "         [--vlan N] [--vlan-id ID] [--qinq N] [--ipv6 N] [--frag N]\n"
		     "         [--frag-payload BYTES] [--bad-ip-csum N] [--bad-udp-csum N]\n"
		     "         [--bad-magic N] [--bad-crc N] [--bad-partition N] [--bad-length N]\n");
}

static int parse(int argc, char **argv, struct gen_opts *o)
{
	static const struct option lo[] = {
		{ "tap", 1, 0, 't' }, { "produce", 1, 0, 'p' }, { "nomatch", 1, 0, 'n' },
		{ "malformed", 1, 0, 'm' }, { "records", 1, 0, 'r' }, { "payload", 1, 0, 'l' },
		{ "tap-port", 1, 0, 'T' }, { "produce-port", 1, 0, 'P' }, { "seed", 1, 0, 's' },
		{ "start-us", 1, 0, 'S' }, { "help", 0, 0, 'h' },
		{ "vlan", 1, 0, 1000 + X_VLAN }, { "qinq", 1, 0, 1000 + X_QINQ },
		{ "ipv6", 1, 0, 1000 + X_IPV6 }, { "frag", 1, 0, 1000 + X_FRAG },
		{ "bad-ip-csum", 1, 0, 1000 + X_BAD_IP_CSUM },
		{ "bad-udp-csum", 1, 0, 1000 + X_BAD_UDP_CSUM },
		{ "bad-magic", 1, 0, 1000 + X_BAD_MAGIC }, { "bad-crc", 1, 0, 1000 + X_BAD_CRC },
		{ "bad-partition", 1, 0, 1000 + X_BAD_PARTITION },
		{ "bad-length", 1, 0, 1000 + X_BAD_LENGTH },
		{ "vlan-id", 1, 0, 'V' }, { "frame-size", 1, 0, 'F' }, { "frag-payload", 1, 0, 'G' },
		{ "manifest", 1, 0, 'M' }, { "tap-topic", 1, 0, 'A' }, { "produce-topic", 1, 0, 'B' },
		{ 0, 0, 0, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
		switch (c) {
		case 'o': o->out = optarg; break;
		case 't': o->tap = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'p': o->produce = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'n': o->nomatch = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'm': o->malformed = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'r': o->records_per_batch = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'l': o->payload = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'T': o->tap_port = (uint16_t)strtoul(optarg, NULL, 0); break;
		case 'P': o->produce_port = (uint16_t)strtoul(optarg, NULL, 0); break;
		case 's': o->seed = strtoull(optarg, NULL, 0); break;
		case 'S': o->start_us = strtoll(optarg, NULL, 0); break;
		case 'V': o->vlan_id = (uint16_t)strtoul(optarg, NULL, 0); break;
		case 'F': o->frame_size = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'G': o->frag_payload = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'M': o->manifest = optarg; break;
		case 'A': o->tap_topic = optarg; break;
		case 'B': o->produce_topic = optarg; break;
		case 'h': usage(stdout); exit(0);
		default:
			if (c < 1000 || c >= 1000 + X_N)
				return -1;
			o->extra[c - 1000] = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		}
	}
	if (o->frame_size && (o->frame_size < 60 || o->frame_size > 1514))
		return -1;
	if (o->frag_payload < 1481 || o->frag_payload > 8000 || o->vlan_id > 4095)
		return -1;
	if (!o->out || o->payload > 1400 || o->records_per_batch == 0 ||
	    o->records_per_batch > 64)
		return -1;
	return 0;
}

/* One frame of the extra kinds (after the mix).  @return frames written. */
static unsigned int gen_extra(pcap_dumper_t *d, const struct gen_opts *o, struct gen_state *g,
			      enum xkind k, unsigned int seq, uint64_t *s, int64_t *t)
{
	static uint8_t frame[MAX_FRAME], payload[MAX_FRAME];
	size_t plen, flen;
	uint16_t dport = o->tap_port;
	int stored = 1;

	if (k >= X_BAD_MAGIC) {
		plen = produce_payload(payload, seq, o->records_per_batch, *t / 1000, NULL, NULL);
		dport = o->produce_port;
		if (k == X_BAD_MAGIC)
			payload[0] ^= 0xff, g->drops[MD_BAD_MAGIC]++;
		else if (k == X_BAD_CRC)
			payload[plen - 1] ^= 0x01, g->drops[MD_BAD_CRC]++;
		else if (k == X_BAD_PARTITION)
			payload[11] = 7, g->drops[MD_BAD_PARTITION]++;
		else
			payload[plen++] = 0, g->drops[MD_BAD_LENGTH]++;
		stored = 0;
	} else if (k == X_FRAG) {
		plen = fit(payload, tap_payload(payload, seq, 0, s), o->frag_payload);
	} else {
		plen = tap_payload(payload, seq, o->payload, s);
	}
	if (k == X_IPV6)
		flen = frame_udp6(frame, 40000, dport, payload, plen);
	else
		flen = frame_udp4(frame, 0xc0000201, 0xc0000202, 40000, dport, payload, plen);
	if (k == X_VLAN || k == X_QINQ)
		flen = add_tags(frame, flen, k == X_VLAN ? 1 : 2, o->vlan_id);
	if (k == X_BAD_IP_CSUM)
		frame[ETH_HLEN + 10] ^= 0xff, g->drops[MD_BAD_IP_CSUM]++, stored = 0;
	if (k == X_BAD_UDP_CSUM) {
		uint8_t *c = frame + ETH_HLEN + IP4_HLEN + 6;

		c[1] ^= 0x01;
		if (!c[0] && !c[1])
			c[0] = 0x10;    /* zero would mean "no checksum" over IPv4 */
		g->drops[MD_BAD_UDP_CSUM]++, stored = 0;
	}
	if (stored)
		manifest_record(g, o->tap_topic, NULL, 0, payload, plen);
	if (k == X_FRAG)
		return emit_frags(d, frame, flen, (uint16_t)(0x1000 + seq), seq & 1, t);
	emit(d, frame, flen, *t);
	*t += 10;
	return 1;
}

static void write_manifest_tail(const struct gen_state *g)
{
	fprintf(g->mf, "frames %lu\n", g->frames);
	for (unsigned int i = 0; i < MD_N; i++)
		if (g->drops[i])
			fprintf(g->mf, "drop %s %lu\n", mdrop_name[i], g->drops[i]);
}

int main(int argc, char **argv)
{
	struct gen_opts o = { .tap = 64, .produce = 16, .nomatch = 8, .malformed = 4,
			      .records_per_batch = 4, .payload = 0, .tap_port = 5000,
			      .produce_port = 5001, .seed = 1, .start_us = 1764374400000000ll,
			      .frag_payload = 3000, .vlan_id = 100, .tap_topic = "telemetry",
			      .produce_topic = "orders" };
	static uint8_t frame[MAX_FRAME], payload[MAX_FRAME];
	unsigned int left[4], seq[4] = { 0 }, xleft[X_N], xtotal = 0, xseq = 0;
	struct gen_state g = { 0 };
	pcap_dumper_t *d;
	int64_t t;
	pcap_t *p;
	uint64_t s, s2;

	if (parse(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	s = o.seed ? o.seed : 1;
	p = pcap_open_dead(DLT_EN10MB, 65535);
	d = p ? pcap_dump_open(p, o.out) : NULL;
	if (!d) {
		fprintf(stderr, "sluice-trafgen: %s: %s\n", o.out, p ? pcap_geterr(p) : "pcap");
		return 1;
	}
	if (o.manifest && !(g.mf = fopen(o.manifest, "w"))) {
		perror(o.manifest);
		return 1;
	}
	left[0] = o.tap, left[1] = o.produce, left[2] = o.nomatch, left[3] = o.malformed;
	for (t = o.start_us; left[0] + left[1] + left[2] + left[3]; t += 10) {
		unsigned int k = (unsigned int)(rnd(&s) % 4);
		size_t plen, flen;

		while (!left[k])
			k = (k + 1) % 4;
		left[k]--;
		if (k == 1)
			plen = produce_payload(payload, seq[k]++, o.records_per_batch, t / 1000, &g,
					       o.produce_topic);
		else
			plen = tap_payload(payload, seq[k]++, o.payload, &s);
		if (k == 0 && o.frame_size)
			plen = fit(payload, plen, o.frame_size - ETH_HLEN - IP4_HLEN - UDP_HLEN);
		if (k == 0)
			manifest_record(&g, o.tap_topic, NULL, 0, payload, plen);
		flen = frame_udp4(frame, 0xc0000201, 0xc0000202, 40000,
				  k == 1 ? o.produce_port : k == 2 ? 9999 : o.tap_port, payload, plen);
		if (k == 2)
			g.drops[MD_NO_RULE]++;
		if (k == 3) {
			flen = ETH_HLEN + IP4_HLEN + 3; /* truncated inside the UDP header */
			g.drops[MD_BAD_IP_LENGTH]++;
		}
		emit(d, frame, flen, t);
		g.frames++;
	}
	/* The extra kinds: their own random stream, so the mix above never changes. */
	s2 = s ^ 0x5eed5eed5eedull;
	for (unsigned int i = 0; i < X_N; i++)
		xleft[i] = o.extra[i], xtotal += o.extra[i];
	for (; xtotal; xtotal--) {
		unsigned int k = (unsigned int)(rnd(&s2) % X_N);

		while (!xleft[k])
			k = (k + 1) % X_N;
		xleft[k]--;
		g.frames += gen_extra(d, &o, &g, (enum xkind)k, seq[0] + xseq++, &s2, &t);
	}
	if (g.mf) {
		write_manifest_tail(&g);
		fclose(g.mf);
	}
	pcap_dump_close(d);
	pcap_close(p);
	return 0;
}
