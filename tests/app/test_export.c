/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice export's own pieces (app/sluice_export.h): a tap record, as the
 * dataplane stores it, decoded and rebuilt into the frame it came from --
 * byte for byte the first tap frame of the bundled sample, and for IPv6
 * with both checksums verified here independently (RFC 1071 sums written
 * out in the test) -- the pcapng writer read back by libpcap with
 * nanosecond timestamps, and the --from/--to time forms.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <pcap/pcap.h>

#include "sluice_export.h"

/* The first tap frame of firmware-config/samples/sample.pcap (pcap time 1764374400.000060). */
static const uint8_t sample_frame[79] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x41, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
	0xb6, 0xa8, 0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02, 0x9c, 0x40,
	0x13, 0x88, 0x00, 0x2d, 0xd4, 0x2f, 0x74, 0x65, 0x6c, 0x65, 0x6d, 0x65,
	0x74, 0x72, 0x79, 0x20, 0x73, 0x65, 0x71, 0x3d, 0x30, 0x20, 0x73, 0x65,
	0x6e, 0x73, 0x6f, 0x72, 0x3d, 0x31, 0x34, 0x20, 0x76, 0x61, 0x6c, 0x75,
	0x65, 0x3d, 0x37, 0x30, 0x30, 0x30, 0x35,
};
#define SAMPLE_NS 1764374400000060000ll

/* RFC 1071, one 16-bit word at a time, independent of the code under test. */
static uint32_t sum16(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* The UDP checksum over the pseudo-header verifies (sums to 0xffff). */
static void assert_udp_ok(const uint8_t *src, const uint8_t *dst, size_t alen, const uint8_t *udp,
			  size_t udp_len)
{
	uint32_t s = sum16(0, src, alen);

	s = sum16(s, dst, alen);
	s += 17 + (uint32_t)udp_len;
	s = sum16(s, udp, udp_len);
	assert_int_equal(fold(s), 0xffff);
	assert_int_not_equal(udp[6] | udp[7], 0);
}

/*
 * A batch of tap records with the dataplane's headers, as dp_lcore stores
 * them: rx.ns, and with @addrs src.addr, dst.addr, src.port, dst.port.
 */
static int build_tap_batch(uint8_t *buf, size_t cap, int64_t rx_ns, const uint8_t *src,
			   const uint8_t *dst, uint32_t alen, uint16_t sport, uint16_t dport,
			   const void *value, int32_t value_len, bool addrs)
{
	uint8_t ns_be[8], sp[2] = { sport >> 8, sport & 0xff }, dp[2] = { dport >> 8, dport & 0xff };
	struct st_record_header h[5] = {
		{ "rx.ns", 5, ns_be, 8 },
		{ "src.addr", 8, src, (int32_t)alen }, { "src.port", 8, sp, 2 },
		{ "dst.addr", 8, dst, (int32_t)alen }, { "dst.port", 8, dp, 2 },
	};
	struct st_batch_builder b;

	for (int i = 0; i < 8; i++)
		ns_be[i] = (uint8_t)((uint64_t)rx_ns >> (56 - 8 * i));
	assert_int_equal(st_batch_builder_begin(&b, buf, (uint32_t)cap, rx_ns / 1000000), 0);
	assert_int_equal(st_batch_builder_add(&b, rx_ns / 1000000, NULL, 0, value, value_len, h,
					      addrs ? 5 : 1), 0);
	return st_batch_builder_finish(&b);
}

/* Decode the one record of @batch. */
static void first_record(const uint8_t *batch, int len, struct sluice_xrec *x)
{
	struct st_batch_info bi;
	struct st_record_iter it;
	struct st_record rec;

	assert_int_equal(st_batch_validate(batch, (size_t)len, ST_BATCH_V_RECORDS, 0, &bi),
			 ST_BATCH_ERR_OK);
	st_record_iter_init(&it, batch, &bi);
	assert_true(st_record_iter_next(&it, &rec));
	sluice_xrec_from_record(x, 3, &rec);
}

static void test_export_frame_ipv4_same_as_sample(void **state)
{
	static const uint8_t src[4] = { 192, 0, 2, 1 }, dst[4] = { 192, 0, 2, 2 };
	const uint8_t *payload = sample_frame + 42;
	uint8_t batch[512], frame[SLUICE_FRAME_MAX];
	struct sluice_xrec x;
	int len, n;

	(void)state;
	len = build_tap_batch(batch, sizeof(batch), SAMPLE_NS, src, dst, 4, 40000, 5000, payload,
			      37, true);
	first_record(batch, len, &x);
	assert_int_equal(x.partition, 3);
	assert_true(x.has_rx_ns);
	assert_int_equal(x.rx_ns, SAMPLE_NS);
	assert_int_equal(sluice_xrec_time_ns(&x), SAMPLE_NS);
	assert_true(x.has_addrs);
	assert_int_equal(x.addrs.family, 4);
	assert_int_equal(x.addrs.src_port, 40000);
	assert_int_equal(x.addrs.dst_port, 5000);

	n = sluice_frame_build(frame, sizeof(frame), &x.addrs, x.value, (size_t)x.value_len);
	assert_int_equal(n, sizeof(sample_frame));
	assert_memory_equal(frame, sample_frame, sizeof(sample_frame));
	/* and independently: the IPv4 header and UDP checksums verify */
	assert_int_equal(fold(sum16(0, frame + 14, 20)), 0xffff);
	assert_udp_ok(frame + 26, frame + 30, 4, frame + 34, 8 + 37);
}

static void test_export_frame_ipv6_checksum(void **state)
{
	static const uint8_t src[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t dst[16] = { 0xff, 0x02, [14] = 0x12, [15] = 0x34 };
	uint8_t batch[2048], frame[SLUICE_FRAME_MAX], payload[1001];
	struct sluice_xrec x;
	int len, n;

	(void)state;
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	len = build_tap_batch(batch, sizeof(batch), 1234567890123456789ll, src, dst, 16, 1234, 6000,
			      payload, sizeof(payload), true);
	first_record(batch, len, &x);
	assert_true(x.has_addrs);
	assert_int_equal(x.addrs.family, 6);
	n = sluice_frame_build(frame, sizeof(frame), &x.addrs, x.value, (size_t)x.value_len);
	assert_int_equal(n, 14 + 40 + 8 + (int)sizeof(payload));
	/* multicast MAC 33:33 + the group's last 32 bits; EtherType IPv6 */
	assert_memory_equal(frame, ((const uint8_t[]){ 0x33, 0x33, 0, 0, 0x12, 0x34 }), 6);
	assert_int_equal(frame[12] << 8 | frame[13], 0x86dd);
	assert_int_equal(frame[14] >> 4, 6);
	assert_int_equal(frame[18] << 8 | frame[19], 8 + sizeof(payload));  /* payload length */
	assert_int_equal(frame[20], 17);
	assert_memory_equal(frame + 22, src, 16);
	assert_memory_equal(frame + 38, dst, 16);
	assert_int_equal(frame[54] << 8 | frame[55], 1234);
	assert_int_equal(frame[56] << 8 | frame[57], 6000);
	assert_memory_equal(frame + 62, payload, sizeof(payload));
	assert_udp_ok(src, dst, 16, frame + 54, 8 + sizeof(payload));
}

static void test_export_record_without_addresses_gets_placeholders(void **state)
{
	static const uint8_t a[4] = { 10, 0, 0, 1 };
	uint8_t batch[512], frame[SLUICE_FRAME_MAX];
	struct sluice_xrec x;
	int len, n;

	(void)state;
	len = build_tap_batch(batch, sizeof(batch), 5000000000ll, a, a, 4, 1, 2, "v", 1, false);
	first_record(batch, len, &x);
	assert_false(x.has_addrs);
	assert_true(x.has_rx_ns);
	n = sluice_frame_build(frame, sizeof(frame), &x.addrs, x.value, 1);
	assert_int_equal(n, 14 + 20 + 8 + 1);
	assert_memory_equal(frame + 26, ((const uint8_t[]){ 192, 0, 2, 1, 192, 0, 2, 2 }), 8);
	assert_int_equal(fold(sum16(0, frame + 14, 20)), 0xffff);
	assert_udp_ok(frame + 26, frame + 30, 4, frame + 34, 9);
}

static void test_export_headers_mixed_families_are_not_addresses(void **state)
{
	static const uint8_t v4[4] = { 10, 0, 0, 1 }, v6[16] = { 0xfe, 0x80, [15] = 9 };
	static const uint8_t port[2] = { 0, 80 };
	struct sluice_xrec x = { 0 };
	unsigned int seen = 0;

	(void)state;
	sluice_xrec_header(&x, &seen, "src.addr", 8, v4, 4);
	sluice_xrec_header(&x, &seen, "dst.addr", 8, v6, 16);
	sluice_xrec_header(&x, &seen, "src.port", 8, port, 2);
	sluice_xrec_header(&x, &seen, "dst.port", 8, port, 2);
	sluice_xrec_header(&x, &seen, "rx.ns", 5, port, 2);     /* not 8 bytes: ignored */
	sluice_xrec_finish(&x, seen);
	assert_false(x.has_addrs);
	assert_false(x.has_rx_ns);
	x.timestamp = 7;
	assert_int_equal(sluice_xrec_time_ns(&x), 7000000);
}

static void test_export_frame_too_large(void **state)
{
	static uint8_t frame[SLUICE_FRAME_MAX], payload[65536];
	struct sluice_addrs a;

	(void)state;
	sluice_addrs_placeholder(&a);
	assert_int_equal(sluice_frame_build(frame, sizeof(frame), &a, payload, 65507), 14 + 65535);
	assert_int_equal(sluice_frame_build(frame, sizeof(frame), &a, payload, 65508), -EMSGSIZE);
	a.family = 6;
	assert_int_equal(sluice_frame_build(frame, sizeof(frame), &a, payload, 65527),
			 14 + 40 + 65535);
	assert_int_equal(sluice_frame_build(frame, sizeof(frame), &a, payload, 65528), -EMSGSIZE);
	assert_int_equal(sluice_frame_build(frame, 100, &a, payload, 100), -EMSGSIZE);
	a.family = 5;
	assert_int_equal(sluice_frame_build(frame, sizeof(frame), &a, payload, 1), -EINVAL);
}

static void test_export_pcapng_reads_back_with_ns(void **state)
{
	static const int64_t ts[3] = { SAMPLE_NS, SAMPLE_NS + 1, 4102444800123456789ll };
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	FILE *f = tmpfile();
	pcap_t *p;

	(void)state;
	assert_non_null(f);
	assert_int_equal(sluice_pcapng_begin(f, 262144), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(sluice_pcapng_packet(f, (uint64_t)ts[i], sample_frame,
						      sizeof(sample_frame) - (uint32_t)i,
						      i == 1 ? NULL : "telemetry-0 offset 1"), 0);
	rewind(f);
	p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	assert_non_null(p);
	assert_int_equal(pcap_datalink(p), DLT_EN10MB);
	assert_int_equal(pcap_snapshot(p), 262144);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(pcap_next_ex(p, &h, &data), 1);
		assert_int_equal((int64_t)h->ts.tv_sec * 1000000000 + h->ts.tv_usec, ts[i]);
		assert_int_equal(h->caplen, sizeof(sample_frame) - (uint32_t)i);
		assert_int_equal(h->len, h->caplen);
		assert_memory_equal(data, sample_frame, h->caplen);
	}
	assert_int_equal(pcap_next_ex(p, &h, &data), PCAP_ERROR_BREAK);
	pcap_close(p);                  /* closes f */
}

static void test_export_time_forms(void **state)
{
	int64_t ns;

	(void)state;
	assert_int_equal(sluice_time_parse("2026-12-07T10:00:00Z", &ns), 0);
	assert_int_equal(ns, 1796637600000000000ll);
	assert_int_equal(sluice_time_parse("2026-12-07t10:00:00.5z", &ns), 0);
	assert_int_equal(ns, 1796637600500000000ll);
	assert_int_equal(sluice_time_parse("2026-12-07 11:00:00.000000001+01:00", &ns), 0);
	assert_int_equal(ns, 1796637600000000001ll);
	assert_int_equal(sluice_time_parse("2026-12-07T09:30:00.1234567891-00:30", &ns), 0);
	assert_int_equal(ns, 1796637600123456789ll);   /* beyond ns: cut */
	assert_int_equal(sluice_time_parse("1796637600000", &ns), 0);        /* ms */
	assert_int_equal(ns, 1796637600000000000ll);
	assert_int_equal(sluice_time_parse("1796637600000000001", &ns), 0);  /* ns */
	assert_int_equal(ns, 1796637600000000001ll);
	assert_int_equal(sluice_time_parse("1796637600s", &ns), 0);
	assert_int_equal(ns, 1796637600000000000ll);
	assert_int_equal(sluice_time_parse("5us", &ns), 0);
	assert_int_equal(ns, 5000);
	assert_int_equal(sluice_time_parse("0", &ns), 0);
	assert_int_equal(ns, 0);
	assert_int_equal(sluice_time_parse("2026-12-07T10:00:00", &ns), -EINVAL);   /* no zone */
	assert_int_equal(sluice_time_parse("2026-13-07T10:00:00Z", &ns), -EINVAL);
	assert_int_equal(sluice_time_parse("2026-12-07T10:00:00.Z", &ns), -EINVAL);
	assert_int_equal(sluice_time_parse("2026-12-07T10:00Z", &ns), -EINVAL);
	assert_int_equal(sluice_time_parse("12x", &ns), -EINVAL);
	assert_int_equal(sluice_time_parse("", &ns), -EINVAL);
	assert_int_equal(sluice_time_parse("-5", &ns), -EINVAL);
}

static void test_export_time_format(void **state)
{
	char buf[64];

	(void)state;
	sluice_time_format(1796637600000000001ll, buf, sizeof(buf));
	assert_string_equal(buf, "2026-12-07T10:00:00.000000001Z");
	sluice_time_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00.000000000Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_export_frame_ipv4_same_as_sample),
		cmocka_unit_test(test_export_frame_ipv6_checksum),
		cmocka_unit_test(test_export_record_without_addresses_gets_placeholders),
		cmocka_unit_test(test_export_headers_mixed_families_are_not_addresses),
		cmocka_unit_test(test_export_frame_too_large),
		cmocka_unit_test(test_export_pcapng_reads_back_with_ns),
		cmocka_unit_test(test_export_time_forms),
		cmocka_unit_test(test_export_time_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
