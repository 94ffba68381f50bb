/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gen_corpus - writes the seed corpora of the libFuzzer targets
 * (tests/fuzz/corpus/<target>/) from real inputs: the frames of the bundled
 * sample capture (firmware-config/samples/sample.pcap, written by
 * perf/sluice-trafgen) and crafted ones (dp_test_frames.h), the produce
 * datagrams in it plus idempotent ones, batches from the storage builder,
 * valid requests of every API and version the broker advertises (kp_fuzz.c's
 * frames, plus the group APIs), the shipped configurations, and real
 * segments written by st_log in fuzz_recovery's input format.
 *
 * Usage: gen_corpus SOURCE_ROOT OUT_DIR   (tests/fuzz/gen_corpus.sh runs it)
 * Deterministic: the same sources give the same files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <ftw.h>
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "../control/kp_fuzz.h"
#include "../control/kp_golden.h"
#include "../dataplane/dp_test_frames.h"
#include "dp_wire.h"
#include "st_batch.h"
#include "st_log.h"

static const char *src, *out;

static void put(const char *target, const char *name, const void *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", out, target);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s", out, target, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static uint8_t *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p;
	long len;

	if (!f || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		perror(path);
		exit(1);
	}
	p = malloc((size_t)len + 1);
	if (!p || fread(p, 1, (size_t)len, f) != (size_t)len) {
		perror(path);
		exit(1);
	}
	fclose(f);
	*n = (size_t)len;
	return p;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- frames and datagrams ------------------------------------------------------------ */

/* A parse input: selector byte, split byte, the frame. */
static void put_frame(const char *name, uint8_t sel, uint8_t split, const uint8_t *f, size_t n)
{
	uint8_t *b = malloc(n + 2);

	b[0] = sel;
	b[1] = split;
	memcpy(b + 2, f, n);
	put("fuzz_parse", name, b, n + 2);
	free(b);
}

/* Every frame of the sample capture; its SLC1 payloads and their batches too. */
static void from_pcap(void)
{
	char path[4096], name[64];
	size_t n, pos = 24;
	uint8_t *p;
	int i = 0, slc = 0;

	snprintf(path, sizeof(path), "%s/firmware-config/samples/sample.pcap", src);
	p = slurp(path, &n);
	while (pos + 16 <= n) {
		uint32_t cap = le32(p + pos + 8);
		const uint8_t *f = p + pos + 16;

		if (pos + 16 + cap > n)
			break;
		/* The tap frames are alike: keep a few, and every other kind. */
		if (i < 4 || i % 8 == 0 || cap < 60 || memmem(f, cap, "SLC1", 4)) {
			snprintf(name, sizeof(name), "pcap-%03d", i);
			put_frame(name, (uint8_t)(i % 64), (uint8_t)(42 + i % 16), f, cap);
		}
		if (cap > 42 + DP_SLC_HDR_SIZE && memcmp(f + 42, "SLC1", 4) == 0 && slc < 8) {
			snprintf(name, sizeof(name), "pcap-slc1-%02d", slc);
			put("fuzz_produce_dgram", name, f + 42, cap - 42);
			snprintf(name, sizeof(name), "pcap-batch-%02d", slc++);
			put("fuzz_batch", name, f + 42 + DP_SLC_HDR_SIZE, cap - 42 - DP_SLC_HDR_SIZE);
		}
		pos += 16 + cap;
		i++;
	}
	free(p);
}

/* Frames the capture does not have: IPv6, extension headers, tags, options, fragments. */
static void crafted_frames(void)
{
	static const uint8_t pl[] = "crafted frame payload";
	static uint8_t f[2048];
	struct tf_spec base = { .src = { 10, 0, 0, 1 }, .dst = { 10, 0, 0, 2 }, .sport = 40000,
				.dport = 5000, .payload = pl, .plen = sizeof(pl) - 1 };
	struct tf_spec s;
	uint32_t n;

	s = base;
	s.v6 = 1;
	memcpy(s.src, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	memcpy(s.dst, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
	n = tf_build(f, &s, NULL);
	put_frame("v6-udp", 0, 0, f, n);
	s.n_ext = 3;
	s.ext[0] = 0, s.ext[1] = 60, s.ext[2] = 43;
	s.ext_len[0] = 0, s.ext_len[1] = 1, s.ext_len[2] = 0;
	n = tf_build(f, &s, NULL);
	put_frame("v6-ext", 0x20, 80, f, n);
	s.n_ext = 1;
	s.ext[0] = 44;
	s.frag = 0x0001;                        /* M set: a first fragment */
	n = tf_build(f, &s, NULL);
	put_frame("v6-frag", 0, 0, f, n);
	s.frag = 0;                             /* an atomic fragment */
	n = tf_build(f, &s, NULL);
	put_frame("v6-atomic-frag", 0, 0, f, n);

	s = base;
	s.ntags = 2;
	s.tpid[0] = 0x88a8, s.vid[0] = 5, s.tpid[1] = 0x8100, s.vid[1] = 7;
	n = tf_build(f, &s, NULL);
	put_frame("qinq", 0x08, 0, f, n);
	s.ntags = 1;
	n = tf_build(f, &s, NULL);
	put_frame("vlan-stripped-qinq", 0x18, 0, f, n);
	s = base;
	s.optlen = 8;
	s.pad = 6;
	n = tf_build(f, &s, NULL);
	put_frame("v4-options-padding", 0x03, 50, f, n);
	s = base;
	s.frag = 0x2000;                        /* MF */
	n = tf_build(f, &s, NULL);
	put_frame("v4-frag", 0, 0, f, n);
	s = base;
	s.proto = 6;
	n = tf_build(f, &s, NULL);
	put_frame("v4-tcp", 0, 0, f, n);
}

/* ---- batches ---------------------------------------------------------------------- */

static uint32_t batch(uint8_t *buf, uint32_t cap, int n, bool keys, bool hdrs, int64_t pid,
		      int32_t seq, int16_t codec)
{
	struct st_record_header h[2] = { { "trace", 5, "abc", 3 }, { "n", 1, NULL, 0 } };
	struct st_batch_builder b;

	st_batch_builder_begin(&b, buf, cap, FZ_TS0);
	for (int i = 0; i < n; i++) {
		char v[32];
		int vl = snprintf(v, sizeof(v), "value-%d", i);

		if (st_batch_builder_add(&b, FZ_TS0 + i, keys ? "key" : NULL, 3, i == 2 ? NULL : v,
					 vl, h, hdrs ? 2 : 0) < 0)
			exit(1);
	}
	if (pid >= 0) {
		b.producer_id = pid;
		b.producer_epoch = 0;
		b.base_sequence = seq;
	}
	b.attributes = codec;
	return (uint32_t)st_batch_builder_finish(&b);
}

static void batches_and_datagrams(void)
{
	static uint8_t b[4096], d[4096];
	struct dp_slc_hdr h = { htobe32(DP_SLC_MAGIC), 0, 0, (int32_t)htobe32(UINT32_MAX) };
	uint32_t n;

	put("fuzz_batch", "plain", b, batch(b, sizeof(b), 3, false, false, -1, 0, 0));
	put("fuzz_batch", "keys-headers", b, batch(b, sizeof(b), 4, true, true, -1, 0, 0));
	put("fuzz_batch", "idempotent", b, batch(b, sizeof(b), 2, true, false, 1000, 5, 0));
	n = batch(b, sizeof(b), 2, false, true, -1, 0, ST_CODEC_LZ4);
	st_batch_crc_update(b);
	put("fuzz_batch", "lz4-flagged", b, n);
	/* Datagrams: acks asked, a named partition, an idempotent producer's first two. */
	for (int i = 0; i < 4; i++) {
		char name[32];

		h.flags = htobe16(i == 0 ? 0 : DP_SLC_FLAG_ACK | (i == 3 ? DP_SLC_FLAG_GAPS_OK : 0));
		h.partition = (int32_t)htobe32(i == 1 ? 0 : UINT32_MAX);
		memcpy(d, &h, sizeof(h));
		n = batch(d + sizeof(h), sizeof(d) - sizeof(h), 1 + i, i & 1, i >= 2,
			  i >= 2 ? 2000 : -1, i == 3 ? 1 : 0, 0);
		snprintf(name, sizeof(name), "slc1-%d", i);
		put("fuzz_produce_dgram", name, d, sizeof(h) + n);
	}
}

/* ---- Kafka requests ------------------------------------------------------------------ */

static const char *const api_names[64] = {
	[0] = "produce", [1] = "fetch", [2] = "list-offsets", [3] = "metadata",
	[8] = "offset-commit", [9] = "offset-fetch", [10] = "find-coordinator",
	[11] = "join-group", [12] = "heartbeat", [13] = "leave-group", [14] = "sync-group",
	[15] = "describe-groups", [16] = "list-groups", [18] = "api-versions",
	[19] = "create-topics", [20] = "delete-topics", [22] = "init-producer-id",
	[32] = "describe-configs",
};

static void put_req(int key, int ver, int i, const struct gb *g)
{
	char name[64];

	snprintf(name, sizeof(name), "%s-v%d-%d", api_names[key], ver, i);
	put("fuzz_kafka_request", name, g->b, g->n);
}

/* The group APIs kp_fuzz.c does not build: a simple consumer's commit and fetch, a member's life. */
static void group_requests(void)
{
	struct gb g, two;

	for (int v = 0; v <= 2; v++) {                  /* FindCoordinator */
		g_req(&g, 10, v, 900 + v);
		g_str(&g, "grp");                       /* key */
		if (v >= 1)
			g_i8(&g, 0);                    /* key_type: group */
		g_end(&g);
		put_req(10, v, 0, &g);
	}
	for (int v = 2; v <= 7; v++) {                  /* OffsetCommit, generation -1 */
		g_req(&g, 8, v, 910 + v);
		g_str(&g, "grp");                       /* group_id */
		g_i32(&g, -1);                          /* generation_id */
		g_str(&g, "");                          /* member_id */
		if (v >= 7)
			g_str(&g, NULL);                /* group_instance_id */
		if (v <= 4)
			g_i64(&g, -1);                  /* retention_time_ms */
		g_i32(&g, 1);                           /* topics */
		g_str(&g, "h");
		g_i32(&g, 2);
		for (int p = 0; p < 2; p++) {
			g_i32(&g, p);                   /* partition_index */
			g_i64(&g, 5 + p);               /* committed_offset */
			if (v >= 6)
				g_i32(&g, -1);          /* committed_leader_epoch */
			g_str(&g, p ? NULL : "meta");   /* committed_metadata */
		}
		g_end(&g);
		put_req(8, v, 0, &g);
	}
	for (int v = 1; v <= 5; v++) {                  /* OffsetFetch */
		g_req(&g, 9, v, 920 + v);
		g_str(&g, "grp");
		if (v >= 2 && v % 2) {
			g_i32(&g, -1);                  /* topics: null = all */
		} else {
			g_i32(&g, 1);
			g_str(&g, "h");
			g_i32(&g, 2);
			g_i32(&g, 0);
			g_i32(&g, 1);
		}
		g_end(&g);
		put_req(9, v, 0, &g);
	}
	for (int v = 0; v <= 5; v++) {                  /* JoinGroup (answered without a server) */
		g_req(&g, 11, v, 930 + v);
		g_str(&g, "grp");
		g_i32(&g, 30000);                       /* session_timeout_ms */
		if (v >= 1)
			g_i32(&g, 60000);               /* rebalance_timeout_ms */
		g_str(&g, "");                          /* member_id */
		if (v >= 5)
			g_str(&g, NULL);                /* group_instance_id */
		g_str(&g, "consumer");                  /* protocol_type */
		g_i32(&g, 1);
		g_str(&g, "range");
		g_i32(&g, 2 + 4 + 3 + 4);               /* metadata: a subscription to "h" */
		g_i16(&g, 0);
		g_i32(&g, 1);
		g_str(&g, "h");
		g_i32(&g, -1);
		g_end(&g);
		put_req(11, v, 0, &g);
	}
	for (int v = 0; v <= 3; v++) {                  /* SyncGroup, Heartbeat */
		g_req(&g, 14, v, 940 + v);
		g_str(&g, "grp");
		g_i32(&g, 1);
		g_str(&g, "golden-1");
		if (v >= 3)
			g_str(&g, NULL);
		g_i32(&g, 1);
		g_str(&g, "golden-1");
		g_i32(&g, 2 + 4 + 3 + 4 + 4 + 4);
		g_i16(&g, 0);
		g_i32(&g, 1);
		g_str(&g, "h");
		g_i32(&g, 1);
		g_i32(&g, 0);
		g_i32(&g, -1);
		g_end(&g);
		put_req(14, v, 0, &g);
		g_req(&g, 12, v, 950 + v);
		g_str(&g, "grp");
		g_i32(&g, 1);
		g_str(&g, "golden-1");
		if (v >= 3)
			g_str(&g, NULL);
		g_end(&g);
		put_req(12, v, 0, &g);
	}
	for (int v = 0; v <= 1; v++) {                  /* LeaveGroup */
		g_req(&g, 13, v, 960 + v);
		g_str(&g, "grp");
		g_str(&g, "golden-1");
		g_end(&g);
		put_req(13, v, 0, &g);
	}
	/* Two frames in one input: commit, then fetch what was committed. */
	g_req(&g, 8, 2, 970);
	g_str(&g, "grp2");
	g_i32(&g, -1);
	g_str(&g, "");
	g_i64(&g, -1);
	g_i32(&g, 1);
	g_str(&g, "g");
	g_i32(&g, 1);
	g_i32(&g, 0);
	g_i64(&g, 1);
	g_str(&g, NULL);
	g_end(&g);
	two = g;
	g_req(&g, 9, 3, 971);
	g_str(&g, "grp2");
	g_i32(&g, -1);
	g_end(&g);
	memcpy(two.b + two.n, g.b, g.n);
	two.n += g.n;
	put("fuzz_kafka_request", "commit-then-fetch", two.b, two.n);
}

static void kafka_requests(void)
{
	static struct fz_base bs[FZ_BASES_MAX];
	uint64_t s = FZ_SEED;
	int n = fz_bases_build(&s, bs);

	for (int i = 0; i < n; i++)
		put_req(bs[i].key, bs[i].ver, i, &bs[i].g);
	group_requests();
}

/* ---- configurations ------------------------------------------------------------------ */

static void configs(void)
{
	static const char *const files[][2] = {
		{ "firmware-config/default.yaml", "default.yaml" },
		{ "tests/fwc/all-keys.yaml", "all-keys.yaml" },
		{ "firmware-config/examples/bare-metal.yaml", "bare-metal.yaml" },
		{ "firmware-config/examples/bad-three-errors.yaml", "bad-three-errors.yaml" },
		{ "perf/bench-kafka.yaml", "bench-kafka.yaml" },
	};
	char path[4096];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		size_t n;
		uint8_t *p;

		snprintf(path, sizeof(path), "%s/%s", src, files[i][0]);
		p = slurp(path, &n);
		put("fuzz_config", files[i][1], p, n);
		free(p);
	}
}

/* ---- segments -------------------------------------------------------------------------- */

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(p);
}

/* fuzz_recovery's input: header, index, timeindex, log. */
static void put_recovery(const char *name, uint8_t flags, const uint8_t *ix, size_t ixn,
			 const uint8_t *tix, size_t tixn, const uint8_t *log, size_t logn,
			 int32_t rp, int32_t ls, uint32_t split)
{
	size_t n = 17 + ixn + tixn + logn;
	uint8_t *b = malloc(n);

	b[0] = flags;
	b[1] = (uint8_t)(ixn >> 8), b[2] = (uint8_t)ixn;
	b[3] = (uint8_t)(tixn >> 8), b[4] = (uint8_t)tixn;
	fz_put_be(b + 5, (uint32_t)rp, 4);
	fz_put_be(b + 9, (uint32_t)ls, 4);
	fz_put_be(b + 13, split, 4);
	if (ixn)
		memcpy(b + 17, ix, ixn);
	if (tixn)
		memcpy(b + 17 + ixn, tix, tixn);
	memcpy(b + 17 + ixn + tixn, log, logn);
	put("fuzz_recovery", name, b, n);
	free(b);
}

/* A real segment: st_log writes 6 batches (one an idempotent producer's), closed cleanly. */
static void segments(void)
{
	static uint8_t buf[4096];
	char root[] = "/tmp/sluice-gen-corpus-XXXXXX", path[4096];
	struct st_log_config lc;
	struct st_logdir *d;
	struct st_log *log;
	uint32_t at[8];
	uint8_t *ix, *tix, *lg;
	size_t ixn, tixn, lgn;
	int64_t leo = 0;

	if (!mkdtemp(root) || st_logdir_open(&d, root) < 0)
		exit(1);
	st_log_config_default(&lc);
	lc.index_interval_bytes = 128;
	if (st_log_open(&log, d, "t", 0, &lc, NULL) < 0)
		exit(1);
	for (int i = 0; i < 6; i++) {
		uint32_t n = batch(buf, sizeof(buf), 1 + i, i & 1, i >= 3, i == 4 ? 3000 : -1, 0, 0);

		at[i] = (uint32_t)st_log_size(log);
		st_batch_assign(buf, leo, 0);
		if (st_log_append(log, buf, n, FZ_TS0 + i) != leo)
			exit(1);
		leo = st_log_leo(log);
	}
	if (st_log_close(log) < 0 || st_logdir_close(d) < 0)
		exit(1);
	snprintf(path, sizeof(path), "%s/t-0/00000000000000000000.log", root);
	lg = slurp(path, &lgn);
	snprintf(path, sizeof(path), "%s/t-0/00000000000000000000.index", root);
	ix = slurp(path, &ixn);
	snprintf(path, sizeof(path), "%s/t-0/00000000000000000000.timeindex", root);
	tix = slurp(path, &tixn);
	nftw(root, rm_entry, 8, FTW_DEPTH | FTW_PHYS);

	put_recovery("clean", 1 | 2 | 4, ix, ixn, tix, tixn, lg, lgn, (int32_t)leo, 0, 0);
	put_recovery("unclean", 0, ix, ixn, tix, tixn, lg, lgn, 0, 0, 0);
	put_recovery("torn-tail", 2, ix, ixn, tix, tixn, lg, lgn - 7, 2, 0, 0);
	put_recovery("two-segments", 8, NULL, 0, NULL, 0, lg, lgn, 0, 0, at[3]);
	put_recovery("clean-log-start", 1 | 2 | 4, ix, ixn, tix, tixn, lg, lgn, (int32_t)leo, 3, 0);
	lg[at[2] + ST_BATCH_HEADER_SIZE + 2] ^= 0x40;  /* a record byte: the CRC no longer holds */
	put_recovery("bad-crc-middle", 2, ix, ixn, tix, tixn, lg, lgn, 1, 0, 0);
	free(lg);
	free(ix);
	free(tix);
}

/* SASL client messages (fuzz_sasl): mechanism byte, message, 0xff, message. */
static void sasl(void)
{
	static const struct { const char *name; uint8_t mech; const char *m1, *m2; size_t n1; } s[] = {
		{ "plain-ok", 0, "\0user\0pencil", NULL, 12 },
		{ "plain-authzid", 0, "user\0user\0pencil", NULL, 16 },
		{ "plain-bad", 0, "user\0pencil", NULL, 11 },
		{ "scram256-rfc7677", 1, "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
		  "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
		  "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", 0 },
		{ "scram512-authzid", 2, "n,a=user,n=user,r=abcdefgh", "c=biws,r=abcdefgh,p=AAAA", 0 },
		{ "scram-escaped-name", 1, "y,,n=us=2Cer=3D,r=x", NULL, 0 },
		{ "scram-cbind", 1, "p=tls-unique,,n=user,r=abc", NULL, 0 },
		{ "scram-ext", 2, "n,,n=user,r=abc,tokenauth=true", "c=biws,r=abc,e=x,p=", 0 },
	};
	uint8_t buf[512];

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		size_t n1 = s[i].n1 ? s[i].n1 : strlen(s[i].m1), n = 0;

		buf[n++] = s[i].mech;
		memcpy(buf + n, s[i].m1, n1);
		n += n1;
		if (s[i].m2) {
			buf[n++] = 0xff;
			memcpy(buf + n, s[i].m2, strlen(s[i].m2));
			n += strlen(s[i].m2);
		}
		put("fuzz_sasl", s[i].name, buf, n);
	}
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s SOURCE_ROOT OUT_DIR\n", argv[0]);
		return 2;
	}
	src = argv[1];
	out = argv[2];
	mkdir(out, 0755);
	from_pcap();
	crafted_frames();
	batches_and_datagrams();
	kafka_requests();
	configs();
	segments();
	sasl();
	return 0;
}
