/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_produce_dgram - arbitrary bytes as the UDP payload of a produce-mode
 * datagram (dp_wire.h: SLC1 header + one RecordBatch), taken through the
 * steps of the lcore's produce path (dp_produce in dp_lcore.c, which is
 * static inline in the poll loop): the frame parsed from an mbuf
 * (dp_parse_mbuf), the header decoded (dp_slc_decode), the partition
 * checked, the batch validated with the produce flags (st_batch_validate
 * V_PRODUCE | V_EXACT), appended to a real partition
 * (st_partition_append_ex: idempotent producers' sequence checks, offsets
 * assigned in the ring) and the SLA1 ack built from the received frame
 * (dp_acks_push), once over IPv4 and once over IPv6 behind two VLAN tags.
 * No EAL: the mbuf is made by hand, the ack is built but not sent.
 *
 * What must hold besides "no crash": what is appended is the datagram's
 * batch byte for byte but for baseOffset and partitionLeaderEpoch, valid
 * in the ring at the offset returned; offsets only grow; the iterator stays
 * inside an accepted batch (the lcore does not decode records, so a fetch
 * or dump-log may walk undecodable ones); the ack parses as a UDP datagram
 * back to the sender's address and port carrying what the batch said.
 */
#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#include "dp_ack.h"
#include "dp_parse.h"
#include "dp_wire.h"
#include "fuzz_util.h"
#include "st_batch.h"
#include "st_log.h"
#include "st_partition.h"
#include "st_ring.h"

#define N_PARTS 1       /* the topic's partitions, all owned by "this lcore" */

static char root[256];
static struct st_partition *part;
static struct dp_acks acks;
static int64_t next_offset;

static const uint8_t src4[4] = { 192, 0, 2, 1 }, dst4[4] = { 192, 0, 2, 2 };
static const uint8_t src6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t dst6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

static uint16_t sum16(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* The UDP checksum of the datagram behind the IP header at @ip (no options or extensions). */
static void udp_cksum_fill(uint8_t *ip, bool v6)
{
	uint32_t alen = v6 ? 16 : 4, l3 = v6 ? 40 : 20;
	uint8_t *u = ip + l3;
	uint32_t ulen = fz_get_be16(u + 4);
	uint8_t *ph = malloc(2 * alen + 4 + ulen);
	uint16_t c;

	/* pseudo-header (the IPv4 and IPv6 ones sum alike), then the datagram */
	FZ_CHECK(ph != NULL);
	memcpy(ph, ip + (v6 ? 8 : 12), 2 * alen);
	ph[2 * alen] = 0;
	ph[2 * alen + 1] = 17;
	fz_set_be16(ph + 2 * alen + 2, (uint16_t)ulen);
	fz_set_be16(u + 6, 0);
	memcpy(ph + 2 * alen + 4, u, ulen);
	c = sum16(ph, 2 * alen + 4 + ulen);
	fz_set_be16(u + 6, c ? c : 0xffff);
	free(ph);
}

/*
 * Ethernet + IPv4 + UDP (checksum 0: none) around @len bytes, or with @v6
 * two VLAN tags + IPv6 + UDP (checksum computed: IPv6 requires one).
 * @return the frame length.
 */
static uint32_t frame_build(uint8_t *f, const uint8_t *pl, uint32_t len, bool v6)
{
	uint32_t l2 = v6 ? 22 : 14, l3 = v6 ? 40 : 20;
	uint8_t *ip = f + l2, *u = ip + l3;

	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	if (v6)
		memcpy(f + 12, "\x88\xa8\x00\x05\x81\x00\x00\x07\x86\xdd", 10);
	else
		memcpy(f + 12, "\x08\x00", 2);
	memset(ip, 0, l3);
	if (v6) {
		ip[0] = 0x60;
		fz_set_be16(ip + 4, (uint16_t)(8 + len));
		ip[6] = 17;
		ip[7] = 64;
		memcpy(ip + 8, src6, 16);
		memcpy(ip + 24, dst6, 16);
	} else {
		ip[0] = 0x45;
		fz_set_be16(ip + 2, (uint16_t)(20 + 8 + len));
		ip[8] = 64;
		ip[9] = 17;
		memcpy(ip + 12, src4, 4);
		memcpy(ip + 16, dst4, 4);
		fz_set_be16(ip + 10, sum16(ip, 20));
	}
	fz_set_be16(u, 40000);
	fz_set_be16(u + 2, 5001);
	fz_set_be16(u + 4, (uint16_t)(8 + len));
	fz_set_be16(u + 6, 0);
	memcpy(u + 8, pl, len);
	if (v6)
		udp_cksum_fill(ip, true);
	return l2 + l3 + 8 + len;
}

/* Every record of an accepted batch, as a fetch or dump-log would walk it. */
static void walk_records(const uint8_t *b, const struct st_batch_info *bi)
{
	const uint8_t *hi = b + st_batch_size(bi);
	struct st_record_iter it;
	struct st_record rec;

	st_record_iter_init(&it, b, bi);
	while (st_record_iter_next(&it, &rec)) {
		struct st_record_header h;
		const uint8_t *hp = rec.headers;

		FZ_CHECK(!rec.value || (const uint8_t *)rec.value + rec.value_len <= hi);
		FZ_CHECK(!rec.key || (const uint8_t *)rec.key + rec.key_len <= hi);
		while (st_record_header_next(&rec, &hp, &h))
			FZ_CHECK(hp <= rec.headers_end && rec.headers_end <= hi);
	}
	FZ_CHECK(it.p <= hi);
}

/* The appended batch in the ring: the datagram's, offsets assigned; then drained. */
static void check_ring(const uint8_t *batch, uint32_t len, int64_t base)
{
	struct st_batch_info rb;
	uint8_t *r;
	uint64_t n = st_ring_peek(part->ring, &r);

	FZ_CHECK(n == len);
	FZ_CHECK(st_batch_validate(r, n, ST_BATCH_V_EXACT, 0, &rb) == ST_BATCH_ERR_OK);
	FZ_CHECK(rb.base_offset == base && base == next_offset);
	FZ_CHECK(memcmp(r + ST_BATCH_OFF_LENGTH, batch + ST_BATCH_OFF_LENGTH, 4) == 0);
	FZ_CHECK(memcmp(r + ST_BATCH_OFF_MAGIC, batch + ST_BATCH_OFF_MAGIC,
			len - ST_BATCH_OFF_MAGIC) == 0);
	next_offset = st_batch_last_offset(&rb) + 1;
	FZ_CHECK(part->next_offset == next_offset);
	st_ring_release(part->ring, n);
}

/* The queued ack: a UDP datagram back to the sender with the batch's fields. */
static void check_ack(const struct dp_pkt *pk, const struct st_batch_info *bi, int32_t p,
		      int16_t err, int64_t base)
{
	const struct dp_ack *e = &acks.q[(acks.tail - 1) % DP_ACK_QUEUE];
	size_t alen = pk->family == AF_INET ? 4 : 16;
	struct dp_pkt a;
	uint8_t f[DP_ACK_FRAME_MAX];
	const uint8_t *s;

	/* The checksums dp_acks_flush adds at send, then the frame as a receiver parses it. */
	FZ_CHECK(acks.tail - acks.head == 1 && e->len <= DP_ACK_FRAME_MAX);
	memcpy(f, e->frame, e->len);
	if (e->family == AF_INET) {
		fz_set_be16(f + e->l3_off + 10, 0);
		fz_set_be16(f + e->l3_off + 10, sum16(f + e->l3_off, 20));
	}
	udp_cksum_fill(f + e->l3_off, e->family == AF_INET6);
	FZ_CHECK(dp_parse(f, e->len, 0, &a) == 0);
	FZ_CHECK(a.family == pk->family && a.n_vlan == pk->n_vlan && a.vid == pk->vid);
	FZ_CHECK(memcmp(a.src, pk->dst, alen) == 0 && memcmp(a.dst, pk->src, alen) == 0);
	FZ_CHECK(a.src_port == pk->dst_port && a.dst_port == pk->src_port);
	FZ_CHECK(a.payload_len == DP_SLA_SIZE);
	s = f + a.payload_off;
	FZ_CHECK(fz_get_be32(s) == DP_SLA_MAGIC && (int16_t)fz_get_be16(s + 4) == err);
	FZ_CHECK((int32_t)fz_get_be32(s + 8) == p);
	FZ_CHECK((int64_t)((uint64_t)fz_get_be32(s + 12) << 32 | fz_get_be32(s + 16)) ==
		 (err ? -1 : base));
	FZ_CHECK(fz_get_be32(s + 32) == (bi ? bi->crc : 0));
	FZ_CHECK((int32_t)fz_get_be32(s + 36) == (bi ? bi->records_count : 0));
	acks.head = acks.tail;
}

static struct rte_mbuf *mbuf_over(uint8_t *f, uint32_t len)
{
	static struct rte_mbuf m __attribute__((aligned(RTE_CACHE_LINE_SIZE)));

	memset(&m, 0, sizeof(m));
	m.buf_addr = f;
	m.buf_len = (uint16_t)len;
	m.data_len = (uint16_t)len;
	m.pkt_len = len;
	m.nb_segs = 1;
	return &m;
}

/* One datagram in one frame.  @store: append (else only the ack of the verdict). */
static void one_frame(const uint8_t *data, uint32_t size, bool v6, bool store)
{
	uint8_t *f = malloc(22 + 40 + 8 + size);
	struct st_batch_info bi;
	struct dp_slc_hdr h;
	struct dp_pkt pk;
	struct rte_mbuf *m;
	const uint8_t *d;
	int64_t base = -1;
	uint32_t blen;
	bool have_bi;
	int r, rc;

	FZ_CHECK(f != NULL);
	m = mbuf_over(f, frame_build(f, data, size, v6));
	FZ_CHECK(dp_parse_mbuf(m, &pk) == 0 && pk.payload_len == size);
	d = f + pk.payload_off;
	r = dp_slc_decode(d, pk.payload_len, &h);
	FZ_CHECK(r == (size < DP_SLC_HDR_SIZE ? DP_DROP_bad_length :
		       fz_get_be32(data) != DP_SLC_MAGIC ? DP_DROP_bad_magic : 0));
	if (r)
		goto out;
	blen = pk.payload_len - DP_SLC_HDR_SIZE;
	if (h.partition != DP_SLC_PARTITION_ANY && (h.partition < 0 || h.partition >= N_PARTS))
		r = DP_DROP_bad_partition;
	if (!r) {
		enum st_batch_err e = st_batch_validate(d + DP_SLC_HDR_SIZE, blen,
							ST_BATCH_V_PRODUCE | ST_BATCH_V_EXACT, 0, &bi);

		if (e != ST_BATCH_ERR_OK)
			r = DP_DROP_bad_batch;
		else if (!(bi.attributes & ST_BATCH_ATTR_CODEC_MASK))
			walk_records(d + DP_SLC_HDR_SIZE, &bi);
	}
	if (!r && store) {
		rc = st_partition_append_ex(part, d + DP_SLC_HDR_SIZE, blen,
					    h.flags & DP_SLC_FLAG_GAPS_OK ? ST_APPEND_F_GAPS_OK : 0,
					    &base);
		FZ_CHECK(rc == 0 || rc == ST_APPEND_DUPLICATE || rc == ST_ERR_OUT_OF_ORDER ||
			 rc == ST_ERR_FENCED);
		if (rc == 0)
			check_ring(d + DP_SLC_HDR_SIZE, blen, base);
		else if (rc == ST_APPEND_DUPLICATE)
			FZ_CHECK(base < next_offset && st_ring_used(part->ring) == 0);
		else
			r = rc == ST_ERR_FENCED ? DP_DROP_fenced_producer : DP_DROP_out_of_order_sequence;
	}
	if (!store && !r)
		r = DP_DROP_ring_full;  /* the other frame: an error ack, as for a full ring */
	if (h.flags & DP_SLC_FLAG_ACK) {
		have_bi = r != DP_DROP_bad_partition && blen >= ST_BATCH_HEADER_SIZE;
		if (have_bi && r == DP_DROP_bad_batch)
			(void)st_batch_header_read(d + DP_SLC_HDR_SIZE, blen, &bi);
		dp_acks_push(&acks, NULL, 0, 0, m, &pk, have_bi ? &bi : NULL,
			     h.partition == DP_SLC_PARTITION_ANY ? 0 : h.partition, NULL, base,
			     -1, dp_ack_error(r));
		check_ack(&pk, have_bi ? &bi : NULL,
			  h.partition == DP_SLC_PARTITION_ANY ? 0 : h.partition, dp_ack_error(r), base);
	}
out:
	free(f);
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(p);
}

/* The partition only ever had its ring: its directory goes at exit. */
static void cleanup(void)
{
	nftw(root, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct st_partition_cfg pc = { .ring_bytes = 1 << 20, .huge = ST_HUGE_OFF,
				       .max_producers = 64, .producer_expiration_ms = INT64_MAX / 2 };
	struct st_log_config lc;
	struct st_logdir *d;

	(void)argc, (void)argv;
	snprintf(root, sizeof(root), "%s/sluice-fuzz-dgram-XXXXXX", fz_tmp_root());
	FZ_CHECK(mkdtemp(root) != NULL);
	st_log_config_default(&lc);
	FZ_CHECK(st_logdir_open(&d, root) == 0);
	FZ_CHECK(st_partition_open(&part, d, "prod", 0, &lc, &pc, NULL) >= 0);
	next_offset = part->next_offset;
	atexit(cleanup);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65535 - 22 - 40 - 8)
		return -1;
	one_frame(data, (uint32_t)size, false, true);
	one_frame(data, (uint32_t)size, true, false);
	return 0;
}
