/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-trafgen - write a pcap of traffic for the appliance to capture.
 *
 * Tap-mode datagrams (one record each), produce-mode datagrams (an SLC1
 * header and a RecordBatch v2 built with the storage codec), traffic that
 * matches no rule, and malformed frames, interleaved deterministically from a
 * seed.  The bundled sample (firmware-config/samples/sample.pcap) is this
 * tool's output with its defaults; net_pcap replays it.
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

static size_t produce_payload(uint8_t *p, unsigned int seq, unsigned int nrec, int64_t ts_ms)
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
	}
	n = st_batch_builder_finish(&b);
	return n < 0 ? 0 : sizeof(h) + (size_t)n;
}

static int emit(pcap_dumper_t *d, const uint8_t *f, size_t len, int64_t t_us)
{
	struct pcap_pkthdr h = { .caplen = (bpf_u_int32)len, .len = (bpf_u_int32)len };

	h.ts.tv_sec = t_us / 1000000;
	h.ts.tv_usec = t_us % 1000000;
	pcap_dump((u_char *)d, &h, f);
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: sluice-trafgen -o FILE.pcap [--tap N] [--produce N] [--nomatch N]\n"
		     "         [--malformed N] [--records N] [--payload BYTES] [--tap-port P]\n"
		     "         [--produce-port P] [--seed S] [--start-us T]\n");
}

static int parse(int argc, char **argv, struct gen_opts *o)
{
	static const struct option lo[] = {
		{ "tap", 1, 0, 't' }, { "produce", 1, 0, 'p' }, { "nomatch", 1, 0, 'n' },
		{ "malformed", 1, 0, 'm' }, { "records", 1, 0, 'r' }, { "payload", 1, 0, 'l' },
		{ "tap-port", 1, 0, 'T' }, { "produce-port", 1, 0, 'P' }, { "seed", 1, 0, 's' },
		{ "start-us", 1, 0, 'S' }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 },
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
		case 'h': usage(stdout); exit(0);
		default: return -1;
		}
	}
	if (!o->out || o->payload > 1400 || o->records_per_batch == 0 ||
	    o->records_per_batch > 64)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct gen_opts o = { .tap = 64, .produce = 16, .nomatch = 8, .malformed = 4,
			      .records_per_batch = 4, .payload = 0, .tap_port = 5000,
			      .produce_port = 5001, .seed = 1, .start_us = 1764374400000000ll };
	static uint8_t frame[MAX_FRAME], payload[MAX_FRAME];
	unsigned int left[4], seq[4] = { 0 };
	pcap_dumper_t *d;
	pcap_t *p;
	uint64_t s;

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
	left[0] = o.tap, left[1] = o.produce, left[2] = o.nomatch, left[3] = o.malformed;
	for (int64_t t = o.start_us; left[0] + left[1] + left[2] + left[3]; t += 10) {
		unsigned int k = (unsigned int)(rnd(&s) % 4);
		size_t plen, flen;

		while (!left[k])
			k = (k + 1) % 4;
		left[k]--;
		if (k == 1)
			plen = produce_payload(payload, seq[k]++, o.records_per_batch, t / 1000);
		else
			plen = tap_payload(payload, seq[k]++, o.payload, &s);
		flen = frame_udp4(frame, 0xc0000201, 0xc0000202, 40000,
				  k == 1 ? o.produce_port : k == 2 ? 9999 : o.tap_port, payload, plen);
		if (k == 3)
			flen = ETH_HLEN + IP4_HLEN + 3; /* truncated inside the UDP header */
		emit(d, frame, flen, t);
	}
	pcap_dump_close(d);
	pcap_close(p);
	return 0;
}
