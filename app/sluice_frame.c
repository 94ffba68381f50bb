/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice_frame.c - from a stored tap record back to the frame on the wire:
 * the record's headers decoded, Ethernet/IP/UDP rebuilt with valid
 * checksums, pcapng blocks, and the times --from/--to take.  Pure apart
 * from the FILE the pcapng writer is given (sluice_export.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sluice_export.h"

enum { SEEN_SRC_ADDR = 1, SEEN_DST_ADDR = 2, SEEN_SRC_PORT = 4, SEEN_DST_PORT = 8,
       SEEN_SRC_V6 = 16, SEEN_DST_V6 = 32 };
#define SEEN_ALL (SEEN_SRC_ADDR | SEEN_DST_ADDR | SEEN_SRC_PORT | SEEN_DST_PORT)

static bool name_is(const char *key, size_t len, const char *name)
{
	return len == strlen(name) && memcmp(key, name, len) == 0;
}

static uint64_t be_get(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void be_put(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = n; i-- > 0; v >>= 8)
		p[i] = (uint8_t)v;
}

void sluice_addrs_placeholder(struct sluice_addrs *a)
{
	memset(a, 0, sizeof(*a));
	a->family = 4;
	memcpy(a->src, (const uint8_t[]){ 192, 0, 2, 1 }, 4);
	memcpy(a->dst, (const uint8_t[]){ 192, 0, 2, 2 }, 4);
}

void sluice_xrec_header(struct sluice_xrec *x, unsigned int *seen, const char *key, size_t key_len,
			const void *val, int32_t val_len)
{
	const uint8_t *v = val;
	struct sluice_addrs *a = &x->addrs;

	if (!v || val_len < 0)
		return;
	if (name_is(key, key_len, SLUICE_HDR_RX_NS) && val_len == 8) {
		x->has_rx_ns = true;
		x->rx_ns = (int64_t)be_get(v, 8);
	} else if (name_is(key, key_len, SLUICE_HDR_SRC_ADDR) && (val_len == 4 || val_len == 16)) {
		memcpy(a->src, v, (size_t)val_len);
		*seen = (*seen & ~(unsigned int)SEEN_SRC_V6) | SEEN_SRC_ADDR |
			(val_len == 16 ? SEEN_SRC_V6 : 0);
	} else if (name_is(key, key_len, SLUICE_HDR_DST_ADDR) && (val_len == 4 || val_len == 16)) {
		memcpy(a->dst, v, (size_t)val_len);
		*seen = (*seen & ~(unsigned int)SEEN_DST_V6) | SEEN_DST_ADDR |
			(val_len == 16 ? SEEN_DST_V6 : 0);
	} else if (name_is(key, key_len, SLUICE_HDR_SRC_PORT) && val_len == 2) {
		a->src_port = (uint16_t)be_get(v, 2);
		*seen |= SEEN_SRC_PORT;
	} else if (name_is(key, key_len, SLUICE_HDR_DST_PORT) && val_len == 2) {
		a->dst_port = (uint16_t)be_get(v, 2);
		*seen |= SEEN_DST_PORT;
	}
}

void sluice_xrec_finish(struct sluice_xrec *x, unsigned int seen)
{
	/* All four, both addresses of one family. */
	x->has_addrs = (seen & SEEN_ALL) == SEEN_ALL &&
		       !(seen & SEEN_SRC_V6) == !(seen & SEEN_DST_V6);
	x->addrs.family = seen & SEEN_SRC_V6 ? 6 : 4;
	if (!x->has_addrs)
		sluice_addrs_placeholder(&x->addrs);
}

void sluice_xrec_from_record(struct sluice_xrec *x, int32_t partition, const struct st_record *rec)
{
	const uint8_t *pos = rec->headers;
	struct st_record_header h;
	unsigned int seen = 0;

	memset(x, 0, sizeof(*x));
	x->partition = partition;
	x->offset = rec->offset;
	x->timestamp = rec->timestamp;
	x->key = rec->key;
	x->key_len = rec->key_len;
	x->value = rec->value;
	x->value_len = rec->value_len;
	while (st_record_header_next(rec, &pos, &h))
		sluice_xrec_header(x, &seen, h.key, h.key_len, h.value, h.value_len);
	sluice_xrec_finish(x, seen);
}

uint32_t sluice_csum_add(uint32_t sum, const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t s = sum;

	for (; len >= 2; b += 2, len -= 2)
		s += (uint32_t)(b[0] << 8 | b[1]);
	if (len)
		s += (uint32_t)b[0] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

static uint16_t csum_fin(uint32_t sum)
{
	return (uint16_t)~sum;
}

/* Destination MAC: the group's for multicast (RFC 1112 s6.4, RFC 2464 s7), else fixed. */
static void frame_eth(uint8_t *f, const struct sluice_addrs *a)
{
	/* Those sluice-trafgen writes: its frames come back byte for byte. */
	static const uint8_t dst_mac[6] = { 2, 0, 0, 0, 0, 1 }, src_mac[6] = { 2, 0, 0, 0, 0, 2 };

	memcpy(f, dst_mac, 6);
	if (a->family == 4 && (a->dst[0] & 0xf0) == 0xe0) {
		memcpy(f, (const uint8_t[]){ 0x01, 0x00, 0x5e }, 3);
		f[3] = a->dst[1] & 0x7f;
		f[4] = a->dst[2];
		f[5] = a->dst[3];
	} else if (a->family == 6 && a->dst[0] == 0xff) {
		f[0] = 0x33;
		f[1] = 0x33;
		memcpy(f + 2, a->dst + 12, 4);
	}
	memcpy(f + 6, src_mac, 6);
	be_put(f + 12, a->family == 4 ? 0x0800 : 0x86dd, 2);
}

int sluice_frame_build(uint8_t *frame, size_t cap, const struct sluice_addrs *a,
		       const void *payload, size_t len)
{
	size_t alen = a->family == 4 ? 4 : 16, ihl = a->family == 4 ? 20 : 40;
	size_t udp_len = 8 + len, total = 14 + ihl + udp_len;
	uint8_t *ip = frame + 14, *udp = ip + ihl, pseudo[4];
	uint32_t sum;
	uint16_t c;

	if (a->family != 4 && a->family != 6)
		return -EINVAL;
	if (udp_len > 65535 || (a->family == 4 && 20 + udp_len > 65535) || total > cap)
		return -EMSGSIZE;
	frame_eth(frame, a);
	memset(ip, 0, ihl);
	if (a->family == 4) {
		ip[0] = 0x45;
		be_put(ip + 2, 20 + udp_len, 2);      /* total length */
		be_put(ip + 6, 0x4000, 2);            /* DF, offset 0 */
		ip[8] = 64;                           /* TTL */
		ip[9] = 17;                           /* UDP */
		memcpy(ip + 12, a->src, 4);
		memcpy(ip + 16, a->dst, 4);
		be_put(ip + 10, csum_fin(sluice_csum_add(0, ip, 20)), 2);
	} else {
		ip[0] = 0x60;
		be_put(ip + 4, udp_len, 2);           /* payload length */
		ip[6] = 17;                           /* next header: UDP */
		ip[7] = 64;                           /* hop limit */
		memcpy(ip + 8, a->src, 16);
		memcpy(ip + 24, a->dst, 16);
	}
	be_put(udp, a->src_port, 2);
	be_put(udp + 2, a->dst_port, 2);
	be_put(udp + 4, udp_len, 2);
	be_put(udp + 6, 0, 2);
	if (len)
		memcpy(udp + 8, payload, len);
	/* Pseudo-header: addresses, protocol, UDP length (the v6 layout sums the same). */
	sum = sluice_csum_add(0, a->src, alen);
	sum = sluice_csum_add(sum, a->dst, alen);
	be_put(pseudo, 17, 2);
	be_put(pseudo + 2, udp_len, 2);
	sum = sluice_csum_add(sum, pseudo, 4);
	sum = sluice_csum_add(sum, udp, udp_len);
	c = csum_fin(sum);
	be_put(udp + 6, c ? c : 0xffff, 2);
	return (int)total;
}

/* ---- pcapng ---------------------------------------------------------------- */

static int put(FILE *f, const void *p, size_t n)
{
	return fwrite(p, 1, n, f) == n ? 0 : -EIO;
}

static int put32(FILE *f, uint32_t v)
{
	return put(f, &v, 4);
}

static int put_pad(FILE *f, size_t n)
{
	static const uint8_t zero[4];

	return put(f, zero, (4 - n % 4) % 4);
}

/* An option: code, length, value padded to 4. */
static int put_opt(FILE *f, uint16_t code, const void *v, uint16_t len)
{
	uint16_t h[2] = { code, len };

	if (put(f, h, 4) || put(f, v, len) || put_pad(f, len))
		return -EIO;
	return 0;
}

static uint32_t opt_size(size_t len)
{
	return (uint32_t)(4 + (len + 3) / 4 * 4);
}

int sluice_pcapng_begin(FILE *f, uint32_t snaplen)
{
	static const char appl[] = "sluice export";
	const uint8_t tsresol = 9;
	uint32_t shb_len = 28 + opt_size(sizeof(appl) - 1) + 4;
	uint32_t idb_len = 20 + opt_size(1) + 4;
	uint16_t ver[2] = { 1, 0 };
	int64_t section_len = -1;
	uint16_t link[2] = { 1, 0 };          /* LINKTYPE_ETHERNET, reserved */
	uint32_t end = 0;

	if (put32(f, 0x0A0D0D0A) || put32(f, shb_len) || put32(f, 0x1A2B3C4D) || put(f, ver, 4) ||
	    put(f, &section_len, 8) || put_opt(f, 4, appl, sizeof(appl) - 1) || put(f, &end, 4) ||
	    put32(f, shb_len))
		return -EIO;
	if (put32(f, 1) || put32(f, idb_len) || put(f, link, 4) || put32(f, snaplen) ||
	    put_opt(f, 9, &tsresol, 1) || put(f, &end, 4) || put32(f, idb_len))
		return -EIO;
	return 0;
}

int sluice_pcapng_packet(FILE *f, uint64_t ts_ns, const void *frame, uint32_t len,
			 const char *comment)
{
	size_t clen = comment ? strlen(comment) : 0;
	uint32_t blen = 28 + (len + 3) / 4 * 4 + 4, end = 0;

	if (clen > 65535)
		clen = 65535;
	if (clen)
		blen += opt_size(clen) + 4;
	if (put32(f, 6) || put32(f, blen) || put32(f, 0) || put32(f, (uint32_t)(ts_ns >> 32)) ||
	    put32(f, (uint32_t)ts_ns) || put32(f, len) || put32(f, len) || put(f, frame, len) ||
	    put_pad(f, len))
		return -EIO;
	if (clen && (put_opt(f, 1, comment, (uint16_t)clen) || put(f, &end, 4)))
		return -EIO;
	return put32(f, blen);
}

/* ---- times ------------------------------------------------------------------ */

/* @n digits at *@s as a number; advances. @return -1 when they are not all digits. */
static int64_t digits(const char **s, int n)
{
	int64_t v = 0;

	for (int i = 0; i < n; i++, (*s)++) {
		if (!isdigit((unsigned char)**s))
			return -1;
		v = v * 10 + (**s - '0');
	}
	return v;
}

static int time_parse_int(const char *s, int64_t *ns)
{
	static const struct { const char *unit; int64_t mult; } units[] = {
		{ "s", 1000000000 }, { "ms", 1000000 }, { "us", 1000 }, { "ns", 1 },
	};
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || v < 0)
		return -EINVAL;
	if (!*end) {
		*ns = v < 1000000000000000ll ? v * 1000000 : v;
		return v < 1000000000000000ll && v > INT64_MAX / 1000000 ? -EINVAL : 0;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(end, units[i].unit)) {
			if (v > INT64_MAX / units[i].mult)
				return -EINVAL;
			*ns = v * units[i].mult;
			return 0;
		}
	return -EINVAL;
}

int sluice_time_parse(const char *s, int64_t *ns)
{
	struct tm tm = { 0 };
	int64_t y, mo, d, h, mi, sec, frac = 0, off = 0;
	int fd = 0;
	time_t t;

	if (!strchr(s, '-'))
		return time_parse_int(s, ns);
	y = digits(&s, 4);
	if (y < 0 || *s++ != '-' || (mo = digits(&s, 2)) < 1 || mo > 12 || *s++ != '-' ||
	    (d = digits(&s, 2)) < 1 || d > 31 || !strchr("Tt ", *s) || !*s++ ||
	    (h = digits(&s, 2)) < 0 || h > 23 || *s++ != ':' || (mi = digits(&s, 2)) < 0 ||
	    mi > 59 || *s++ != ':' || (sec = digits(&s, 2)) < 0 || sec > 60)
		return -EINVAL;
	if (*s == '.') {
		for (s++; isdigit((unsigned char)*s); s++, fd++)
			if (fd < 9)
				frac = frac * 10 + (*s - '0');
		if (fd == 0)
			return -EINVAL;
		for (int i = fd; i < 9; i++)
			frac *= 10;
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		int sign = *s++ == '-' ? -1 : 1;
		int64_t oh = digits(&s, 2), om;

		if (oh < 0 || oh > 23 || *s++ != ':' || (om = digits(&s, 2)) < 0 || om > 59)
			return -EINVAL;
		off = sign * (oh * 3600 + om * 60);
	} else {
		return -EINVAL;
	}
	if (*s)
		return -EINVAL;
	tm.tm_year = (int)y - 1900;
	tm.tm_mon = (int)mo - 1;
	tm.tm_mday = (int)d;
	tm.tm_hour = (int)h;
	tm.tm_min = (int)mi;
	tm.tm_sec = (int)sec;
	t = timegm(&tm);
	if (t < 0)
		return -EINVAL;
	*ns = ((int64_t)t - off) * 1000000000 + frac;
	return 0;
}

void sluice_time_format(int64_t ns, char *buf, size_t size)
{
	int64_t s = ns >= 0 ? ns / 1000000000 : (ns - 999999999) / 1000000000;
	time_t t = (time_t)s;
	struct tm tm;
	char day[32];

	gmtime_r(&t, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, size, "%s.%09lldZ", day, (long long)(ns - s * 1000000000));
}
