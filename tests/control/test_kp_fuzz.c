/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Deterministic mutation fuzzing of the Kafka request path and of the
 * RecordBatch validator, for the rule "malformed requests get a Kafka error
 * code or a closed connection; never crash, never write a partial record,
 * never serve a corrupt batch".  Run it under the ASan/UBSan build: its own
 * assertions cannot see an out-of-bounds read, the sanitizers can.
 *
 * Valid frames of every advertised API and version (kp_fuzz.c, over
 * kp_golden.h; batches from the st_batch builder) are mutated -- bit
 * flips, bytes set to 0x00/0xff/0x7f/0x80, truncation, counts and
 * lengths set huge or negative, overlong varints inside batches whose CRC
 * is then fixed so the records are reached, spans deleted or repeated,
 * headers naming another API or version -- and dispatched against real storage (a
 * temporary log.dirs, writer threads, the real catalog): bare
 * kp_api_dispatch() first, then through the server loop over loopback with
 * size prefixes mutated too.  Each frame must be answered with a whole
 * frame echoing its correlation id, or close the connection with nothing
 * appended.  Afterwards every stored batch must be valid with its records
 * decoding, a produce + fetch round trip must still work, and `sluice
 * verify`'s st_verify_dir() must find the log clean after shutdown.
 *
 * Fixed seed (SLUICE_FUZZ_SEED changes it); SLUICE_FUZZ_ITERS (default
 * 30000) sets the dispatch mutations, the loopback phase and the
 * validator scale with it.
 */
#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>
#include <rte_log.h>

#include "ctl_catalog.h"
#include "ctl_pid.h"
#include "ctl_server.h"
#include "ctl_store.h"
#include "fwc_config.h"
#include "kp_api.h"
#include "kp_data_fx.h"
#include "kp_fuzz.h"
#include "kp_golden.h"
#include "st_batch.h"
#include "st_dump.h"
#include "st_partition.h"

#define SENTINEL_CORR 0x5e000000

/* ---- the fixture: real storage, real catalog -------------------------------- */

static const char *const keep[] = { "g", "h", "zz" };
static const int keep_parts[] = { 1, 3, 1 };

struct fx {
	struct kd_fx k;                 /* storage, catalog, server loop */
	uint64_t rng;
	struct kp_writer w;
	uint8_t *resp;                  /* a response frame read back (RESP_CAP) */
	int n_bases;
	struct fz_base bases[FZ_BASES_MAX];
};

#define RESP_CAP (4u << 20)

static void topic_create(struct ctl_catalog *cat, const char *name, int parts)
{
	struct ctl_topic_spec spec = { name, strlen(name), parts, NULL, 0, false };
	char msg[256];

	assert_int_equal(ctl_catalog_topic_create(cat, &spec, false, NULL, msg, sizeof(msg)), 0);
}

static bool kept(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		if (strlen(keep[i]) == len && memcmp(keep[i], name, len) == 0)
			return true;
	return false;
}

/* Back to the three topics (CreateTopics and DeleteTopics frames change them). Control thread. */
static void topics_restore(struct fx *f)
{
	for (size_t i = 0; i < ctl_catalog_count(f->k.cat);) {
		const struct ctl_topic *t = ctl_catalog_at(f->k.cat, i);

		if (kept(t->name, strlen(t->name)))
			i++;
		else
			assert_int_equal(ctl_catalog_topic_delete(f->k.cat, t->name, strlen(t->name)), 0);
	}
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		if (!ctl_catalog_find(f->k.cat, keep[i], strlen(keep[i])))
			topic_create(f->k.cat, keep[i], keep_parts[i]);
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	kd_config(&f->k, "test_kp_fuzz");
	f->k.cfg.broker.log_flush_interval_ms = 5;
	f->k.cfg.broker.log_retention_ms = -1;          /* keep every batch to check (old timestamps) */
	kd_start(&f->k);
	assert_int_equal(ctl_pids_open(f->k.dir, &f->k.ctx.pids), 0);
	topics_restore(f);
	f->rng = fz_seed(0);
	f->n_bases = fz_bases_build(&f->rng, f->bases);
	kp_writer_init(&f->w);
	f->resp = malloc(RESP_CAP);
	assert_non_null(f->resp);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	kd_down(&f->k);
	ctl_pids_close(f->k.ctx.pids);
	kd_remove_dir(&f->k);
	kp_writer_free(&f->w);
	free(f->resp);
	free(f);
	return 0;
}

/* ---- what a frame may do ---------------------------------------------------- */

/* Every partition's producer-side log end, to see that a closed request appended nothing. */
static int64_t log_end_sum(const struct fx *f)
{
	int64_t sum = 0;

	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		const struct ctl_topic *t = ctl_catalog_find(f->k.cat, keep[i], strlen(keep[i]));

		for (int32_t p = 0; t && p < t->n_partitions; p++)
			sum += ctl_store_partition(&t->partitions[p])->next_offset;
	}
	return sum;
}

struct tally {
	unsigned long frames, answered, closed, silent, timeouts;
};

/* Bare dispatch of @m: a whole frame echoing the correlation id, silence for acks=0, or close. */
static void dispatch_check(struct fx *f, const struct gb *m, struct tally *t)
{
	int64_t before = log_end_sum(f);
	enum ctl_disp d;

	kp_writer_reset(&f->w);
	d = kp_api_dispatch(&f->k.ctx, m->b + 4, m->n - 4, &f->w, NULL);
	t->frames++;
	switch (d) {
	case CTL_DISP_RESPOND:
		assert_int_equal(f->w.err, 0);
		assert_true(f->w.len >= 8);
		assert_int_equal(fz_be32(f->w.buf), f->w.len - 4);
		assert_int_equal(fz_be32(f->w.buf + 4), fz_be32(m->b + 8));
		t->answered++;
		break;
	case CTL_DISP_NO_RESPONSE:
		assert_true(m->n >= 6 && m->b[4] == 0 && m->b[5] == KP_API_PRODUCE);
		t->silent++;
		break;
	case CTL_DISP_CLOSE:
	case CTL_DISP_UNSUPPORTED:
		assert_true(log_end_sum(f) == before);
		t->closed++;
		break;
	default:
		fail_msg("dispatch returned %d without a server", d);
	}
}

/* ---- talking to the broker ------------------------------------------------- */

/*
 * Read one response frame.  @return its length, 0 when the broker closed
 * the connection between frames, -1 on timeout.  A frame cut by the close
 * fails the test, except after a reset (@reset_ok: the broker closed with
 * our bytes unread, so the kernel may drop what it had sent).
 */
static ssize_t read_frame(int fd, uint8_t *buf, size_t cap, int timeout_ms, bool reset_ok)
{
	size_t got = 0, need = 4;

	while (got < need) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t k;

		if (poll(&pfd, 1, timeout_ms) <= 0)
			return -1;
		k = read(fd, buf + got, need - got);
		if (k <= 0) {
			if (!(k < 0 && errno == ECONNRESET && reset_ok))
				assert_int_equal(got, 0);       /* never half a frame */
			return 0;
		}
		got += (size_t)k;
		if (got == 4) {
			need = 4 + (size_t)fz_be32(buf);
			assert_true(fz_be32(buf) >= 4 && fz_be32(buf) <= INT32_MAX && need <= cap);
		}
	}
	return (ssize_t)got;
}

static void send_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

		if (k <= 0)
			return;         /* closed under us: the reads will tell */
		p += k;
		n -= (size_t)k;
	}
}

/* A valid request; @return its response frame's length (in f->resp).  @fd < 0: bare dispatch. */
static size_t request(struct fx *f, int fd, const struct gb *req)
{
	ssize_t n;

	if (fd < 0) {
		kp_writer_reset(&f->w);
		assert_int_equal(kp_api_dispatch(&f->k.ctx, req->b + 4, req->n - 4, &f->w, NULL),
				 CTL_DISP_RESPOND);
		assert_true(f->w.len <= RESP_CAP);
		memcpy(f->resp, f->w.buf, f->w.len);
		n = (ssize_t)f->w.len;
	} else {
		send_all(fd, req->b, req->n);
		n = read_frame(fd, f->resp, RESP_CAP, 30000, false);
	}
	assert_true(n >= 8);
	assert_int_equal(fz_be32(f->resp + 4), fz_be32(req->b + 8));
	return (size_t)n;
}

/* A response cursor (the tests' own, not kp_reader). */
struct cur {
	const uint8_t *p;
	size_t n, pos;
};

static uint64_t cur_get(struct cur *c, int bytes)
{
	uint64_t v = 0;

	assert_true(c->pos + (size_t)bytes <= c->n);
	for (int i = 0; i < bytes; i++)
		v = v << 8 | c->p[c->pos++];
	return v;
}

static struct kp_str cur_str(struct cur *c)
{
	int16_t l = (int16_t)cur_get(c, 2);
	struct kp_str s = { NULL, l };

	if (l >= 0) {
		assert_true(c->pos + (size_t)l <= c->n);
		s.ptr = (const char *)c->p + c->pos;
		c->pos += (size_t)l;
	}
	return s;
}

/*
 * Fetch v11 of one partition from @offset; @return the records (a view into
 * f->resp).  Below the log start (retention: fuzzed timestamps are old)
 * *@hw is set to -1 and *@log_start says where to begin.
 */
static struct kp_str fetch_one(struct fx *f, int fd, const char *topic, int32_t part,
			       int64_t offset, int64_t *hw, int64_t *log_start)
{
	int16_t err;
	struct gb req;
	struct cur c;

	g_req(&req, 1, 11, 0x7100 + part);
	g_i32(&req, -1);                                /* replica_id */
	g_i32(&req, 0);                                 /* max_wait_ms */
	g_i32(&req, 1);                                 /* min_bytes */
	g_i32(&req, G_MIB);                             /* max_bytes */
	g_i8(&req, 0);                                  /* isolation_level */
	g_i32(&req, 0);                                 /* session_id */
	g_i32(&req, -1);                                /* session_epoch */
	g_i32(&req, 1);
	g_str(&req, topic);
	g_i32(&req, 1);
	g_i32(&req, part);
	g_i32(&req, -1);                                /* current_leader_epoch */
	g_i64(&req, offset);
	g_i64(&req, -1);                                /* log_start_offset */
	g_i32(&req, G_MIB);                             /* partition_max_bytes */
	g_i32(&req, 0);                                 /* forgotten_topics_data */
	g_str(&req, "");                                /* rack_id */
	g_end(&req);
	c = (struct cur){ f->resp, request(f, fd, &req), 8 };
	c.pos += 4 + 2 + 4;                             /* throttle, error_code, session_id */
	assert_int_equal(cur_get(&c, 4), 1);
	(void)cur_str(&c);
	assert_int_equal(cur_get(&c, 4), 1);
	assert_int_equal(cur_get(&c, 4), (uint32_t)part);
	err = (int16_t)cur_get(&c, 2);                  /* error_code */
	*hw = (int64_t)cur_get(&c, 8);
	c.pos += 8;                                     /* last_stable_offset */
	*log_start = (int64_t)cur_get(&c, 8);
	if (err == KP_ERR_OFFSET_OUT_OF_RANGE && offset < *log_start) {
		*hw = -1;
		return (struct kp_str){ (const char *)f->resp, 0 };
	}
	if (err != 0)
		fail_msg("fetch %s-%d at %lld: error %d", topic, part, (long long)offset, err);
	assert_int_equal(cur_get(&c, 4), 0);            /* aborted_transactions */
	c.pos += 4;                                     /* preferred_read_replica */
	{
		int32_t l = (int32_t)cur_get(&c, 4);

		assert_true(l >= 0 && c.pos + (size_t)l == c.n);
		return (struct kp_str){ (const char *)f->resp + c.pos, l };
	}
}

/*
 * Every batch a consumer can fetch from @topic/@part: whole, valid (CRC,
 * counts), records decoding when uncompressed, offsets contiguous.
 * @return the batches seen.
 */
static unsigned long scan_partition(struct fx *f, int fd, const char *topic, int32_t part)
{
	int64_t next = 0, hw = 0, log_start;
	unsigned long n = 0;

	do {
		struct kp_str recs = fetch_one(f, fd, topic, part, next, &hw, &log_start);
		const uint8_t *p = (const uint8_t *)recs.ptr, *end = p + recs.len;

		if (hw < 0 && n == 0) {
			next = log_start;
			hw = log_start + 1;
			continue;
		}
		if (recs.len == 0)
			break;
		while (p < end) {
			struct st_batch_info bi;
			enum st_batch_err e = st_batch_header_read(p, (size_t)(end - p), &bi);

			assert_int_equal(e, ST_BATCH_ERR_OK);
			e = st_batch_validate(p, st_batch_size(&bi), ST_BATCH_V_EXACT | ST_BATCH_V_RECORDS,
					      0, &bi);
			if (e != ST_BATCH_ERR_OK)
				fail_msg("%s-%d offset %lld: a served batch is invalid: %s", topic, part,
					 (long long)bi.base_offset, st_batch_err_str(e));
			assert_true(bi.base_offset == next || (n == 0 && bi.base_offset <= next));
			assert_int_equal(crc_bitwise(p + ST_BATCH_OFF_ATTRIBUTES,
						    st_batch_size(&bi) - ST_BATCH_OFF_ATTRIBUTES), bi.crc);
			next = st_batch_last_offset(&bi) + 1;
			p += st_batch_size(&bi);
			n++;
		}
	} while (next < hw);
	assert_true(next >= hw);
	return n;
}

static void scan_all(struct fx *f, int fd)
{
	unsigned long n = 0;

	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		for (int32_t p = 0; p < keep_parts[i]; p++)
			n += scan_partition(f, fd, keep[i], p);
	print_message("served batches checked: %lu\n", n);
}

/* Bare dispatch: wait until the writers caught up with every append. */
static void wait_written(struct fx *f)
{
	for (int tries = 0; tries < 2000; tries++) {
		bool all = true;

		for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
			const struct ctl_topic *t = ctl_catalog_find(f->k.cat, keep[i], strlen(keep[i]));

			for (int32_t p = 0; p < t->n_partitions; p++) {
				struct st_partition *sp = ctl_store_partition(&t->partitions[p]);

				all &= st_partition_hw(sp, ctl_store_visibility(f->k.store)) ==
				       sp->next_offset;
			}
		}
		if (all)
			return;
		usleep(10000);
	}
	fail_msg("writers did not catch up");
}

/* A valid produce (acks=-1) of a builder batch, then a fetch that returns it byte for byte. */
static void round_trip(struct fx *f, int fd)
{
	static uint8_t batch[4096];
	uint64_t s = FZ_SEED ^ 0x77;
	uint32_t len = fz_make_batch(&s, batch, sizeof(batch), 8, 0);
	struct st_batch_info bi;
	struct kp_str recs;
	struct gb req;
	struct cur c;
	int64_t base, hw, log_start;

	g_req(&req, 0, 7, 0x7001);
	g_str(&req, NULL);
	g_i16(&req, -1);                                /* acks */
	g_i32(&req, 30000);
	g_i32(&req, 1);
	g_str(&req, "g");
	g_i32(&req, 1);
	g_i32(&req, 0);
	g_i32(&req, (int32_t)len);
	g_raw(&req, batch, len);
	g_end(&req);
	c = (struct cur){ f->resp, request(f, fd, &req), 8 };
	assert_int_equal(cur_get(&c, 4), 1);
	assert_true(kp_str_eq(cur_str(&c), "g"));
	assert_int_equal(cur_get(&c, 4), 1);
	assert_int_equal(cur_get(&c, 4), 0);
	assert_int_equal(cur_get(&c, 2), 0);            /* error_code */
	base = (int64_t)cur_get(&c, 8);
	assert_true(base >= 0);
	if (fd < 0)
		wait_written(f);
	recs = fetch_one(f, fd, "g", 0, base, &hw, &log_start);
	assert_true(hw > base);
	assert_true(recs.len >= (int32_t)len);
	assert_int_equal(st_batch_header_read(recs.ptr, (size_t)recs.len, &bi), ST_BATCH_ERR_OK);
	assert_true(bi.base_offset == base);
	assert_int_equal(st_batch_size(&bi), len);
	assert_memory_equal(recs.ptr + ST_BATCH_OFF_LENGTH, batch + ST_BATCH_OFF_LENGTH, 4);
	assert_memory_equal(recs.ptr + ST_BATCH_OFF_MAGIC, batch + ST_BATCH_OFF_MAGIC,
			    len - ST_BATCH_OFF_MAGIC);
}

/* After shutdown, `sluice verify` on log.dirs must find nothing wrong. */
static void verify_clean(struct fx *f)
{
	char *text = NULL;
	size_t text_len = 0;
	FILE *out = open_memstream(&text, &text_len);
	int rc;

	assert_non_null(out);
	kd_down(&f->k);
	rc = st_verify_dir(out, f->k.dir);
	fclose(out);
	if (rc != 0)
		fprintf(stderr, "%s", text);
	free(text);
	assert_int_equal(rc, 0);
}

/* ---- the campaigns ---------------------------------------------------------- */

static const char *api_name(int16_t key)
{
	size_t n;
	const struct kp_api_entry *t = kp_api_table(&n);

	for (size_t i = 0; i < n; i++)
		if (t[i].api_key == key)
			return t[i].name;
	return "?";
}

static void tally_print(const char *what, const struct tally *t, const struct fz_base *bs, int n_bases)
{
	print_message("%s: %lu frames: %lu answered, %lu closed, %lu silent (acks=0), %lu timeouts;"
		      " %d valid frames of", what, t->frames, t->answered, t->closed, t->silent,
		      t->timeouts, n_bases);
	for (int i = 0; i < n_bases; i++)
		if (i == 0 || bs[i].key != bs[i - 1].key)
			print_message(" %s", api_name(bs[i].key));
	print_message("\n");
}

static void test_kp_fuzz_dispatch_mutations(void **state)
{
	struct fx *f = *state;
	long iters = fz_iters();
	struct tally t = { 0 };
	struct gb m;

	/* Every valid frame is answered; then every truncation of every one. */
	for (int i = 0; i < f->n_bases; i++) {
		struct fz_base *b = &f->bases[i];

		dispatch_check(f, &b->g, &t);
		topics_restore(f);
		for (size_t n = 4; n < b->g.n; n++) {
			memcpy(m.b, b->g.b, n);
			m.n = n;
			g_end(&m);
			dispatch_check(f, &m, &t);
			topics_restore(f);
		}
	}
	for (long i = 0; i < iters; i++) {
		fz_mutate(&f->rng, &f->bases[fz_rnd(&f->rng, (uint32_t)f->n_bases)], &m);
		dispatch_check(f, &m, &t);
		topics_restore(f);
	}
	tally_print("bare dispatch", &t, f->bases, f->n_bases);
	wait_written(f);
	scan_all(f, -1);
	round_trip(f, -1);
	verify_clean(f);
}

/* Metadata v1 of all topics over @fd; delete what is not kept and recreate what is missing. */
static void topics_restore_remote(struct fx *f, int fd)
{
	bool seen[sizeof(keep) / sizeof(keep[0])] = { false };
	struct gb req;
	struct cur c;
	int32_t n;

	g_req(&req, 3, 1, 0x7300);
	g_i32(&req, -1);
	g_end(&req);
	c = (struct cur){ f->resp, request(f, fd, &req), 8 };
	assert_int_equal(cur_get(&c, 4), 1);            /* brokers */
	c.pos += 4;
	(void)cur_str(&c);
	c.pos += 4;
	(void)cur_str(&c);
	c.pos += 4;                                     /* controller_id */
	n = (int32_t)cur_get(&c, 4);
	for (int32_t i = 0; i < n; i++) {
		char name[CTL_TOPIC_NAME_MAX + 1];
		struct kp_str s;
		int32_t parts;

		c.pos += 2;
		s = cur_str(&c);
		c.pos += 1;
		parts = (int32_t)cur_get(&c, 4);
		for (int32_t p = 0; p < parts; p++) {
			c.pos += 2 + 4 + 4;
			c.pos += 4 * cur_get(&c, 4);
			c.pos += 4 * cur_get(&c, 4);
		}
		snprintf(name, sizeof(name), "%.*s", (int)s.len, s.ptr);
		for (size_t k = 0; k < sizeof(keep) / sizeof(keep[0]); k++)
			seen[k] |= strcmp(name, keep[k]) == 0;
		if (kept(s.ptr, (size_t)s.len))
			continue;
		g_req_delete_topics(&req, 0x7301, name);
		(void)request(f, fd, &req);
		topics_restore_remote(f, fd);           /* f->resp was reused: start over */
		return;
	}
	for (size_t k = 0; k < sizeof(keep) / sizeof(keep[0]); k++) {
		if (seen[k])
			continue;
		g_req(&req, 19, 0, 0x7302);
		g_i32(&req, 1);
		g_create_topic(&req, keep[k], keep_parts[k], 1, NULL, NULL);
		g_i32(&req, 1000);
		g_end(&req);
		(void)request(f, fd, &req);
	}
}

/*
 * One mutated frame then a sentinel ApiVersions over @fd: the answers
 * before the sentinel's are whole frames -- with an intact size prefix at
 * most one, echoing the mutated correlation id -- or the broker closes.
 * @return the descriptor to go on with (a new one after a close).
 */
static int loop_one(struct fx *f, int fd, struct gb *m, bool resize, struct tally *t)
{
	bool answered = false;
	int32_t corr = SENTINEL_CORR + (int32_t)t->frames;
	struct gb sent;

	if (resize) {
		static const uint32_t sizes[] = { 0, 0xffffffff, 0x80000000, 0x7fffffff, 1, 3 };

		fz_put_be(m->b, fz_rnd(&f->rng, 2) ? sizes[fz_rnd(&f->rng, 6)]
					     : (uint32_t)(m->n - 4) + fz_rnd(&f->rng, 64) - 32, 4);
	}
	g_req(&sent, 18, 0, corr);
	g_end(&sent);
	send_all(fd, m->b, m->n);
	send_all(fd, sent.b, sent.n);
	if (resize)
		shutdown(fd, SHUT_WR);  /* a frame left waiting for more bytes ends here */
	t->frames++;
	for (;;) {
		ssize_t n = read_frame(fd, f->resp, RESP_CAP, 300, resize);

		if (n < 0) {
			t->timeouts++;
			break;
		}
		if (n == 0) {
			t->closed++;
			break;
		}
		if ((int32_t)fz_be32(f->resp + 4) == corr) {
			if (!answered)
				t->silent++;
			if (!resize)
				return fd;
			continue;
		}
		if (!resize) {
			assert_false(answered);
			assert_true(m->n >= 12);
			assert_int_equal(fz_be32(f->resp + 4), fz_be32(m->b + 8));
		}
		answered = true;
		t->answered++;
	}
	close(fd);
	return kd_client(&f->k);
}

static void test_kp_fuzz_server_mutations(void **state)
{
	struct fx *f = *state;
	long iters = fz_iters() / 20 + 200;
	struct tally t = { 0 };
	bool resize;
	struct gb m;
	int fd;

	kd_server_up(&f->k);
	fd = kd_client(&f->k);
	for (long i = 0; i < iters; i++) {
		const struct fz_base *b = &f->bases[fz_rnd(&f->rng, (uint32_t)f->n_bases)];

		fz_mutate(&f->rng, b, &m);
		resize = fz_rnd(&f->rng, 16) == 0;
		fd = loop_one(f, fd, &m, resize, &t);
		if (resize || b->key == KP_API_CREATE_TOPICS || b->key == KP_API_DELETE_TOPICS ||
		    (m.n >= 6 && m.b[4] == 0 &&
		     (m.b[5] == KP_API_CREATE_TOPICS || m.b[5] == KP_API_DELETE_TOPICS)))
			topics_restore_remote(f, fd);
	}
	tally_print("server loop", &t, f->bases, f->n_bases);
	round_trip(f, fd);
	scan_all(f, fd);
	close(fd);
	verify_clean(f);
}

/* ---- the RecordBatch validator on its own ---------------------------------- */

/* What st_batch_validate accepted must hold, checked without it. */
static void accepted_check(const uint8_t *p, size_t len, uint32_t flags, uint32_t max,
			   const struct st_batch_info *bi)
{
	uint32_t size = st_batch_size(bi);

	assert_true(size >= ST_BATCH_HEADER_SIZE && size <= len);
	assert_true(!(flags & ST_BATCH_V_EXACT) || size == len);
	assert_true(!max || size <= max);
	assert_int_equal(p[ST_BATCH_OFF_MAGIC], ST_BATCH_MAGIC);
	assert_int_equal(fz_be32(p + ST_BATCH_OFF_CRC), bi->crc);
	assert_int_equal(crc_bitwise(p + ST_BATCH_OFF_ATTRIBUTES, size - ST_BATCH_OFF_ATTRIBUTES),
			 bi->crc);
	if (flags & ST_BATCH_V_PRODUCE) {
		assert_true(bi->base_offset == 0);
		assert_true(bi->records_count > 0 &&
			    (int64_t)bi->records_count == (int64_t)bi->last_offset_delta + 1);
	} else {
		assert_true(bi->records_count >= 0 && bi->last_offset_delta >= 0 &&
			    (int64_t)bi->records_count <= (int64_t)bi->last_offset_delta + 1);
	}
	if ((flags & ST_BATCH_V_RECORDS) && !(bi->attributes & ST_BATCH_ATTR_CODEC_MASK)) {
		const uint8_t *lo = p + ST_BATCH_HEADER_SIZE, *hi = p + size;
		struct st_record_iter it;
		struct st_record rec;
		int32_t n = 0;

		st_record_iter_init(&it, p, bi);
		while (st_record_iter_next(&it, &rec)) {
			struct st_record_header h;
			const uint8_t *hp = rec.headers;
			uint32_t nh = 0;

			assert_true(!rec.key || ((const uint8_t *)rec.key >= lo &&
						 (const uint8_t *)rec.key + rec.key_len <= hi));
			assert_true(!rec.value || ((const uint8_t *)rec.value >= lo &&
						   (const uint8_t *)rec.value + rec.value_len <= hi));
			while (st_record_header_next(&rec, &hp, &h)) {
				assert_true(hp <= rec.headers_end && rec.headers_end <= hi);
				nh++;
			}
			assert_int_equal(nh, rec.n_headers);
			n++;
		}
		assert_int_equal(it.err, 0);
		assert_int_equal(n, bi->records_count);
		assert_true(it.p == hi);
	}
}

static const uint32_t vflags[] = {
	0, ST_BATCH_V_EXACT, ST_BATCH_V_RECORDS, ST_BATCH_V_EXACT | ST_BATCH_V_RECORDS,
	ST_BATCH_V_PRODUCE | ST_BATCH_V_EXACT, ST_BATCH_V_PRODUCE | ST_BATCH_V_EXACT | ST_BATCH_V_RECORDS,
};

/* Validate a copy of @len bytes in a buffer of exactly that size (ASan sees any overread). */
static bool validate_exact(const uint8_t *src, size_t len, uint32_t flags, uint32_t max)
{
	uint8_t *p = malloc(len ? len : 1);
	struct st_batch_info bi;
	enum st_batch_err e;

	assert_non_null(p);
	memcpy(p, src, len);
	(void)st_batch_header_read(p, len, &bi);
	e = st_batch_validate(p, len, flags, max, &bi);
	assert_true(e < ST_BATCH_ERR_MAX);
	if (e == ST_BATCH_ERR_OK)
		accepted_check(p, len, flags, max, &bi);
	free(p);
	return e == ST_BATCH_ERR_OK;
}

static void test_kp_fuzz_batch_validator(void **state)
{
	enum { N = 48 };
	static struct fz_base bb[N];
	uint64_t s = fz_seed(0xba7c4);
	long iters = fz_iters() * 4, ok = 0;
	struct gb m;

	(void)state;
	for (int i = 0; i < N; i++) {
		bb[i].g.n = fz_make_batch(&s, bb[i].g.b, 4096, 1 + i % 16, i % 4 == 3 ? 1 + i % 4 : 0);
		bb[i].n_batches = 1;
		bb[i].batch_at[0] = 0;
		bb[i].batch_len[0] = bb[i].g.n;
		for (size_t f = 0; f < sizeof(vflags) / sizeof(vflags[0]); f++)
			assert_true(validate_exact(bb[i].g.b, bb[i].g.n, vflags[f], 0));
		for (size_t n = 0; n < bb[i].g.n; n++)  /* every truncation */
			assert_false(validate_exact(bb[i].g.b, n, vflags[i % 6], 0));
	}
	for (long i = 0; i < iters; i++) {
		const struct fz_base *b = &bb[fz_rnd(&s, N)];
		int k = 1 + (int)fz_rnd(&s, 3);

		memcpy(m.b, b->g.b, b->g.n);
		m.n = b->g.n;
		for (int j = 0; j < k; j++) {
			if (fz_rnd(&s, 8) == 0)
				m.n = fz_rnd(&s, (uint32_t)m.n + 1);       /* cut */
			else if (fz_rnd(&s, 8) == 0 && m.n + 8 <= sizeof(m.b))
				m.n += fz_rnd(&s, 8);                      /* trailing bytes */
			else
				fz_mutate_batch(&s, &m, b, 0);
		}
		ok += validate_exact(m.b, m.n, vflags[fz_rnd(&s, 6)],
				     fz_rnd(&s, 4) ? 0 : (uint32_t)b->g.n - fz_rnd(&s, 2));
	}
	print_message("validator: %ld mutated batches (%d valid ones, %d compressed-flagged), "
		      "%ld accepted\n", iters, N, N / 4, ok);
}

/* The flexible-version readers no advertised version reaches yet: compact strings, tags. */
static void test_kp_fuzz_buf_readers(void **state)
{
	static const uint8_t special[] = { 0x00, 0xff, 0x7f, 0x80 };
	uint64_t s = fz_seed(0xb0f);
	long iters = fz_iters() * 2;

	(void)state;
	for (long i = 0; i < iters; i++) {
		size_t len = fz_rnd(&s, 48);
		uint8_t *p = malloc(len ? len : 1);
		struct kp_reader r;

		assert_non_null(p);
		for (size_t j = 0; j < len; j++)
			p[j] = fz_rnd(&s, 3) ? special[fz_rnd(&s, 4)] : (uint8_t)fz_rnd(&s, 256);
		kp_reader_init(&r, p, len);
		for (int j = 0; j < 12; j++) {
			struct kp_str v = { NULL, -1 };

			switch (fz_rnd(&s, 10)) {
			case 0: (void)kp_read_uvarint(&r); break;
			case 1: (void)kp_read_varint(&r); break;
			case 2: (void)kp_read_varlong(&r); break;
			case 3: v = kp_read_cstr(&r); break;
			case 4: v = kp_read_str(&r); break;
			case 5: v = kp_read_nstr(&r); break;
			case 6: v = kp_read_bytes(&r); break;
			case 7: kp_read_tags_skip(&r); break;
			case 8: (void)kp_read_array(&r, fz_rnd(&s, 9)); break;
			default: (void)kp_read_i64(&r); break;
			}
			assert_true(r.pos <= len);
			if (v.ptr)
				assert_true((const uint8_t *)v.ptr >= p && v.len >= 0 &&
					    (const uint8_t *)v.ptr + v.len <= p + len);
		}
		free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kp_fuzz_buf_readers),
		cmocka_unit_test(test_kp_fuzz_batch_validator),
		cmocka_unit_test_setup_teardown(test_kp_fuzz_dispatch_mutations, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_kp_fuzz_server_mutations, fx_setup, fx_teardown),
	};

	rte_log_set_global_level(RTE_LOG_WARNING);      /* thousands of closed connections */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
