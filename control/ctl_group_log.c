/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_group_log.c - the coordinator's records in __consumer_offsets: their
 * encoding (Kafka's OffsetCommitKey v1 / OffsetCommitValue v3 and
 * GroupMetadataKey v2 / GroupMetadataValue v3; older value versions are
 * read too), appends that complete once durable, the replay at start,
 * offset expiry and compaction by copy.
 *
 * Appends go through the partition's ring like any Produce from the control
 * thread (st_partition_append); a full ring is retried on a 1 ms tick, in
 * order.  A write completes when the partition's durable watermark passes
 * its last offset: only then are committed offsets applied to the cache --
 * by decoding the batch just written, the same code the replay runs -- and
 * the client answered.  Compaction only starts on a partition with no write
 * in flight, so the live records it copies are the latest of their keys.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_catalog.h"
#include "ctl_group_int.h"
#include "ctl_log.h"
#include "ctl_store.h"
#include "fwc_config.h"
#include "st_batch.h"
#include "st_partition.h"
#include "st_writer.h"

#define GRP_TICK_MS 1
#define GRP_COMPACT_MIN 1024            /* superseded records before a copy pass */
#define GRP_COMPACT_BATCH (256u << 10)  /* copy passes write batches of about this size */
#define GRP_READ_MAX (1u << 20)

enum grp_write_kind { GW_OFFSETS, GW_GROUP, GW_EXPIRY, GW_COMPACT };

struct grp_write {
	struct grp_write *next;
	enum grp_write_kind kind;
	int32_t part;
	struct st_partition *p;
	struct ctl_group *g;            /* GW_OFFSETS, GW_GROUP (g->storing held) */
	void *batch;
	uint32_t len;
	bool appended;
	bool last_of_pass;              /* GW_COMPACT: the pass's last batch */
	int64_t base, last;
	void (*done)(void *arg, int16_t err);
	void *arg;
};

/* ---- the topic ------------------------------------------------------------------ */

static struct st_partition *part_of(const struct ctl_groups *gs, int32_t i)
{
	return ctl_store_partition(&gs->topic->partitions[i]);
}

static int bind_topic(struct ctl_groups *gs, struct ctl_topic *t)
{
	gs->parts = calloc((size_t)t->n_partitions, sizeof(*gs->parts));
	if (!gs->parts)
		return -ENOMEM;
	for (int32_t i = 0; i < t->n_partitions; i++)
		gs->parts[i].floor = ctl_store_partition(&t->partitions[i])
					     ? st_partition_log_start(ctl_store_partition(&t->partitions[i]))
					     : 0;
	gs->topic = t;
	return 0;
}

int16_t grp_log_ready(struct ctl_groups *gs)
{
	const struct fwc_broker *b = &gs->cfg->broker;
	char seg[32], msg[256];
	struct ctl_cfg_kv kv[] = {
		{ "segment.bytes", 13, seg, 0 },
		{ "retention.ms", 12, "-1", 2 },
		{ "retention.bytes", 15, "-1", 2 },
	};
	struct ctl_topic_spec spec = { CTL_GROUP_TOPIC, strlen(CTL_GROUP_TOPIC),
				       b->offsets_topic_num_partitions, kv, 3, true };
	struct ctl_topic *t;
	enum kp_err err;

	if (gs->topic)
		return KP_ERR_NONE;
	t = ctl_catalog_find(gs->cat, CTL_GROUP_TOPIC, strlen(CTL_GROUP_TOPIC));
	if (!t) {
		kv[0].value_len = (size_t)snprintf(seg, sizeof(seg), "%d", b->offsets_topic_segment_bytes);
		err = ctl_catalog_topic_create(gs->cat, &spec, false, &t, msg, sizeof(msg));
		if (err != KP_ERR_NONE) {
			CTL_LOG(ERR, "%s: cannot create it: %s", CTL_GROUP_TOPIC, msg);
			return KP_ERR_COORDINATOR_NOT_AVAILABLE;
		}
		CTL_LOG(INFO, "%s: created with %d partitions", CTL_GROUP_TOPIC, t->n_partitions);
	}
	if (bind_topic(gs, t) < 0)
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	return KP_ERR_NONE;
}

void grp_log_live(struct ctl_groups *gs, int32_t part, int delta)
{
	if (gs->parts && gs->topic && part >= 0 && part < gs->topic->n_partitions)
		gs->parts[part].live += delta;
}

static void set_meta_record(struct ctl_group *g, int64_t rec)
{
	if (g->meta_record < 0 && rec >= 0)
		grp_log_live(g->gs, g->coord_partition, +1);
	else if (g->meta_record >= 0 && rec < 0)
		grp_log_live(g->gs, g->coord_partition, -1);
	g->meta_record = rec;
}

/* ---- encoding ------------------------------------------------------------------- */

/* Keys and values of a batch being built, encoded back to back in one writer. */
struct recs {
	struct kp_writer w;
	struct rec { size_t k, klen, v; int32_t vlen; } *r;
	size_t n, cap;
};

static void recs_init(struct recs *rs)
{
	memset(rs, 0, sizeof(*rs));
	kp_writer_init(&rs->w);
}

static void recs_free(struct recs *rs)
{
	kp_writer_free(&rs->w);
	free(rs->r);
}

/* Open a record: the key follows in rs->w. */
static struct rec *rec_begin(struct recs *rs)
{
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 16;
		struct rec *n = realloc(rs->r, cap * sizeof(*n));

		if (!n)
			return NULL;
		rs->r = n;
		rs->cap = cap;
	}
	rs->r[rs->n] = (struct rec){ .k = rs->w.len, .vlen = -1 };
	return &rs->r[rs->n++];
}

static void rec_value(struct recs *rs, struct rec *r)
{
	r->klen = rs->w.len - r->k;
	r->v = rs->w.len;
}

static void rec_end(struct recs *rs, struct rec *r, bool tombstone)
{
	if (tombstone) {
		r->klen = rs->w.len - r->k;
		r->vlen = -1;
	} else {
		r->vlen = (int32_t)(rs->w.len - r->v);
	}
}

/* An offset commit's key; @return its record, or NULL without memory. */
static struct rec *offset_key(struct recs *rs, const char *group, const char *topic, size_t tlen,
			      int32_t partition)
{
	struct rec *r = rec_begin(rs);

	if (!r)
		return NULL;
	kp_write_i16(&rs->w, 1);                         /* key version */
	kp_write_str(&rs->w, group);                     /* group */
	kp_write_strn(&rs->w, topic, (int32_t)tlen);     /* topic */
	kp_write_i32(&rs->w, partition);                 /* partition */
	return r;
}

/* A commit: @o's value, else the given one (any offset, negative ones too, as Kafka keeps them). */
static bool offset_rec(struct recs *rs, const char *group, const char *topic, size_t tlen,
		       int32_t partition, const struct ctl_offset *o, int64_t leader_epoch,
		       const char *meta, size_t mlen, int64_t offset, int64_t ts)
{
	struct rec *r = offset_key(rs, group, topic, tlen, partition);

	if (!r)
		return false;
	rec_value(rs, r);
	kp_write_i16(&rs->w, 3);                         /* value version */
	kp_write_i64(&rs->w, o ? o->offset : offset);    /* offset */
	kp_write_i32(&rs->w, o ? o->leader_epoch : (int32_t)leader_epoch); /* leader_epoch */
	if (o)
		kp_write_str(&rs->w, o->metadata);       /* metadata */
	else
		kp_write_strn(&rs->w, meta ? meta : "", meta ? (int32_t)mlen : 0);
	kp_write_i64(&rs->w, o ? o->commit_ts : ts);     /* commit_timestamp */
	rec_end(rs, r, false);
	return true;
}

/* The tombstone of a committed offset. */
static bool offset_tombstone(struct recs *rs, const struct ctl_group *g, const struct ctl_offset *o)
{
	struct rec *r = offset_key(rs, g->id, o->topic, strlen(o->topic), o->partition);

	if (!r)
		return false;
	rec_end(rs, r, true);
	return true;
}

static bool group_rec(struct recs *rs, const struct ctl_group *g, bool tombstone)
{
	struct rec *r = rec_begin(rs);

	if (!r)
		return false;
	kp_write_i16(&rs->w, 2);                         /* key version */
	kp_write_str(&rs->w, g->id);                     /* group */
	if (tombstone) {
		rec_end(rs, r, true);
		return true;
	}
	rec_value(rs, r);
	kp_write_i16(&rs->w, 3);                         /* value version */
	kp_write_str(&rs->w, g->protocol_type ? g->protocol_type : ""); /* protocol_type */
	kp_write_i32(&rs->w, g->generation);             /* generation */
	kp_write_str(&rs->w, g->protocol);               /* protocol (nullable) */
	kp_write_str(&rs->w, g->leader);                 /* leader (nullable) */
	kp_write_i64(&rs->w, g->state_ts);               /* current_state_timestamp */
	kp_write_i32(&rs->w, (int32_t)g->n_members);     /* members */
	for (const struct ctl_member *m = g->members; m; m = m->next) {
		const struct ctl_member_proto *p = grp_member_proto(m, g->protocol);

		kp_write_str(&rs->w, m->id);             /* member_id */
		kp_write_str(&rs->w, m->instance_id);    /* group_instance_id */
		kp_write_str(&rs->w, m->client_id);      /* client_id */
		kp_write_str(&rs->w, m->client_host);    /* client_host */
		kp_write_i32(&rs->w, m->rebalance_timeout_ms); /* rebalance_timeout */
		kp_write_i32(&rs->w, m->session_timeout_ms);   /* session_timeout */
		kp_write_bytes(&rs->w, p ? (const void *)p->meta : "", p ? p->meta_len : 0); /* subscription */
		kp_write_bytes(&rs->w, m->assignment ? (const void *)m->assignment : "",
			       m->assignment ? m->assignment_len : 0); /* assignment */
	}
	rec_end(rs, r, false);
	return true;
}

/* Records [from, to) as one batch. @return its size, or -ENOMEM. */
static int64_t recs_batch(const struct recs *rs, size_t from, size_t to, void **out)
{
	struct st_batch_builder b;
	uint32_t cap = ST_BATCH_HEADER_SIZE;
	int64_t now = grp_wall_ms();
	uint8_t *buf;
	int len;

	if (rs->w.err)
		return -ENOMEM;
	for (size_t i = from; i < to; i++)
		cap += st_record_size_max((uint32_t)rs->r[i].klen,
					  rs->r[i].vlen < 0 ? 0 : (uint32_t)rs->r[i].vlen, NULL, 0);
	buf = malloc(cap);
	if (!buf || st_batch_builder_begin(&b, buf, cap, now) < 0)
		goto fail;
	for (size_t i = from; i < to; i++) {
		const struct rec *r = &rs->r[i];

		if (st_batch_builder_add(&b, now, rs->w.buf + r->k, (int32_t)r->klen,
					 r->vlen < 0 ? NULL : rs->w.buf + r->v, r->vlen, NULL, 0) < 0)
			goto fail;
	}
	len = st_batch_builder_finish(&b);
	if (len < 0)
		goto fail;
	*out = buf;
	return len;
fail:
	free(buf);
	return -ENOMEM;
}

/* ---- decoding and applying ------------------------------------------------------ */

static char *rd_strdup(struct kp_reader *r, bool nullable)
{
	struct kp_str s = nullable ? kp_read_nstr(r) : kp_read_str(r);

	return s.ptr ? grp_strdup(s) : NULL;
}

static bool apply_offset(struct ctl_groups *gs, struct kp_reader *k, const uint8_t *val,
			 int32_t vlen, int64_t rec, bool relocate)
{
	struct kp_str group = kp_read_str(k), topic = kp_read_str(k);
	int32_t partition = kp_read_i32(k);
	struct kp_reader v;
	struct ctl_group *g;
	struct ctl_offset *o;
	struct kp_str meta;
	int64_t offset, ts;
	int32_t epoch = -1;
	int16_t ver;

	if (!kp_reader_ok(k) || group.len == 0)
		return false;
	if (relocate) {
		/* A copied record: the key lives on at @rec, unless it went meanwhile. */
		g = grp_get(gs, group, false);
		if (g && (o = grp_offset_find(g, topic.ptr, (size_t)topic.len, partition)))
			o->record = rec;
		return true;
	}
	g = grp_get(gs, group, val != NULL);
	if (!val) {
		if (g && (o = grp_offset_find(g, topic.ptr, (size_t)topic.len, partition)))
			grp_offset_delete(g, o);
		return true;
	}
	if (!g)
		return false;
	kp_reader_init(&v, val, (size_t)vlen);
	ver = kp_read_i16(&v);                           /* version */
	offset = kp_read_i64(&v);                        /* offset */
	if (ver >= 3)
		epoch = kp_read_i32(&v);                 /* leader_epoch */
	meta = kp_read_str(&v);                          /* metadata */
	ts = kp_read_i64(&v);                            /* commit_timestamp */
	if (ver == 1)
		(void)kp_read_i64(&v);                   /* expire_timestamp */
	if (!kp_reader_ok(&v) || ver < 0 || ver > 3)
		return false;
	return grp_offset_set(g, topic.ptr, (size_t)topic.len, partition, offset, epoch, meta.ptr,
			      (size_t)meta.len, ts, rec) != NULL;
}

/* One member of a GroupMetadataValue of version @ver. */
static struct ctl_member *read_member(struct ctl_group *g, struct kp_reader *v, int16_t ver,
				      const char *protocol)
{
	struct ctl_member *m = calloc(1, sizeof(*m));
	struct kp_str sub, as;

	if (!m)
		return NULL;
	m->g = g;
	m->id = rd_strdup(v, false);                     /* member_id */
	if (ver >= 3)
		m->instance_id = rd_strdup(v, true);     /* group_instance_id */
	m->client_id = rd_strdup(v, false);              /* client_id */
	m->client_host = rd_strdup(v, false);            /* client_host */
	m->rebalance_timeout_ms = ver >= 1 ? kp_read_i32(v) : 0; /* rebalance_timeout */
	m->session_timeout_ms = kp_read_i32(v);          /* session_timeout */
	if (ver == 0)
		m->rebalance_timeout_ms = m->session_timeout_ms;
	sub = kp_read_bytes(v);                          /* subscription */
	as = kp_read_bytes(v);                           /* assignment */
	ctl_timer_init(&m->session, NULL, m);
	m->protos = calloc(1, sizeof(*m->protos));
	if (m->protos && protocol) {
		m->n_protos = 1;
		m->protos[0].name = strdup(protocol);
		m->protos[0].meta_len = sub.ptr ? sub.len : 0;
		m->protos[0].meta = malloc((size_t)m->protos[0].meta_len + 1);
		if (m->protos[0].meta && sub.len > 0)
			memcpy(m->protos[0].meta, sub.ptr, (size_t)sub.len);
	}
	m->assignment_len = as.ptr ? as.len : 0;
	m->assignment = malloc((size_t)m->assignment_len + 1);
	if (m->assignment && as.len > 0)
		memcpy(m->assignment, as.ptr, (size_t)as.len);
	if (!kp_reader_ok(v) || !m->id || !m->client_id || !m->client_host || !m->protos ||
	    !m->assignment || (m->n_protos && (!m->protos[0].name || !m->protos[0].meta))) {
		grp_member_free(m);
		return NULL;
	}
	return m;
}

static bool apply_group(struct ctl_groups *gs, struct kp_reader *k, const uint8_t *val,
			int32_t vlen, int64_t rec, bool relocate)
{
	struct kp_str id = kp_read_str(k);
	struct ctl_member *m, **tail;
	struct kp_reader v;
	struct ctl_group *g;
	int32_t n;
	int16_t ver;

	if (!kp_reader_ok(k) || id.len == 0)
		return false;
	if (relocate) {
		/* The members in memory are newer than the copy: only its place changes. */
		if ((g = grp_get(gs, id, false)) && g->meta_record >= 0)
			set_meta_record(g, rec);
		return true;
	}
	g = grp_get(gs, id, val != NULL);
	if (!val) {
		if (g) {
			set_meta_record(g, -1);
			if (!g->n_offsets)
				grp_remove(g);
		}
		return true;
	}
	if (!g)
		return false;
	while ((m = g->members)) {
		g->members = m->next;
		grp_member_free(m);
	}
	g->n_members = 0;
	free(g->protocol_type);
	free(g->protocol);
	free(g->leader);
	kp_reader_init(&v, val, (size_t)vlen);
	ver = kp_read_i16(&v);                           /* version */
	g->protocol_type = rd_strdup(&v, false);         /* protocol_type */
	g->generation = kp_read_i32(&v);                 /* generation */
	g->protocol = rd_strdup(&v, true);               /* protocol */
	g->leader = rd_strdup(&v, true);                 /* leader */
	if (ver >= 2)
		g->state_ts = kp_read_i64(&v);           /* current_state_timestamp */
	if (g->protocol_type && !g->protocol_type[0]) {
		free(g->protocol_type);
		g->protocol_type = NULL;
	}
	n = kp_read_array(&v, 20);                       /* members */
	tail = &g->members;
	for (int32_t i = 0; i < n && kp_reader_ok(&v); i++) {
		if (!(m = read_member(g, &v, ver, g->protocol)))
			return false;
		m->session.fn = grp_session_fire;
		*tail = m;
		tail = &m->next;
		g->n_members++;
	}
	if (!kp_reader_ok(&v) || ver < 0 || ver > 3)
		return false;
	g->state = g->members ? CTL_GROUP_STABLE : CTL_GROUP_EMPTY;
	set_meta_record(g, rec);
	return true;
}

/* Apply one record of __consumer_offsets (replay, or a commit just durable). */
static bool apply_record(struct ctl_groups *gs, const struct st_record *r, bool relocate)
{
	struct kp_reader k;
	int16_t ver;

	if (!r->key)
		return false;
	kp_reader_init(&k, r->key, (size_t)r->key_len);
	ver = kp_read_i16(&k);
	if (ver == 0 || ver == 1)
		return apply_offset(gs, &k, r->value, r->value_len, r->offset, relocate);
	if (ver == 2)
		return apply_group(gs, &k, r->value, r->value_len, r->offset, relocate);
	return false;
}

/* Walk the records of the batches in @buf; @return records applied. */
static uint64_t apply_batches(struct ctl_groups *gs, const uint8_t *buf, size_t len,
			      bool relocate, uint64_t *bad)
{
	struct st_batch_info bi;
	uint64_t n = 0;

	while (len >= ST_BATCH_HEADER_SIZE &&
	       st_batch_header_read(buf, len, &bi) == ST_BATCH_ERR_OK) {
		struct st_record_iter it;
		struct st_record rec;

		if (!(bi.attributes & ST_BATCH_ATTR_CONTROL)) {
			st_record_iter_init(&it, buf, &bi);
			while (st_record_iter_next(&it, &rec)) {
				if (apply_record(gs, &rec, relocate))
					n++;
				else
					(*bad)++;
			}
			if (it.err)
				(*bad)++;
		}
		buf += st_batch_size(&bi);
		len -= st_batch_size(&bi);
	}
	return n;
}

/* ---- replay --------------------------------------------------------------------- */

static int replay_part(struct ctl_groups *gs, struct st_partition *p)
{
	int64_t off = st_partition_log_start(p), end = st_partition_hw(p, ST_VIS_DURABLE);
	uint8_t *buf = NULL;
	int rc = 0;

	while (off < end) {
		struct st_log_range rg;
		ssize_t got;

		rc = st_log_read(p->log, off, GRP_READ_MAX, end, &rg);
		if (rc < 0 || rg.length == 0)
			break;
		free(buf);
		buf = malloc(rg.length);
		got = buf ? pread(rg.fd, buf, rg.length, (off_t)rg.position) : -1;
		if (got != (ssize_t)rg.length) {
			rc = got < 0 ? -errno : -EIO;
			st_log_range_put(&rg);
			break;
		}
		gs->st.records_replayed += apply_batches(gs, buf, rg.length, false, &gs->replay_bad);
		off = rg.next_offset;
		st_log_range_put(&rg);
	}
	free(buf);
	return rc;
}

int grp_log_replay(struct ctl_groups *gs)
{
	struct ctl_topic *t = ctl_catalog_find(gs->cat, CTL_GROUP_TOPIC, strlen(CTL_GROUP_TOPIC));
	int rc;

	if (!t)
		return 0;
	if ((rc = bind_topic(gs, t)) < 0)
		return rc;
	for (int32_t i = 0; i < t->n_partitions; i++) {
		struct st_partition *p = part_of(gs, i);

		if (p && (rc = replay_part(gs, p)) < 0) {
			CTL_LOG(ERR, "%s-%d: replay: %s", CTL_GROUP_TOPIC, i, strerror(-rc));
			return rc;
		}
	}
	if (gs->replay_bad)
		CTL_LOG(WARNING, "%s: %llu record(s) did not parse and were skipped", CTL_GROUP_TOPIC,
			(unsigned long long)gs->replay_bad);
	CTL_LOG(INFO, "%s: replayed %llu record(s): %zu group(s)", CTL_GROUP_TOPIC,
		(unsigned long long)gs->st.records_replayed, gs->n_groups);
	return 0;
}

/* ---- appends ---------------------------------------------------------------------- */

static int16_t append_err(int rc)
{
	return rc == -EMSGSIZE ? KP_ERR_INVALID_COMMIT_OFFSET_SIZE
			       : KP_ERR_COORDINATOR_NOT_AVAILABLE;
}

static bool part_busy(const struct ctl_groups *gs, int32_t part, const struct grp_write *before)
{
	for (const struct grp_write *w = gs->w_head; w && w != before; w = w->next)
		if (w->part == part)
			return true;
	return false;
}

/* Is an earlier write of the same partition still waiting to be appended? */
static bool queued_before(const struct ctl_groups *gs, int32_t part, const struct grp_write *before)
{
	for (const struct grp_write *w = gs->w_head; w && w != before; w = w->next)
		if (w->part == part && !w->appended)
			return true;
	return false;
}

/* @return 0 (appended), -ENOBUFS (ring full: retry), or another -errno. */
static int write_try(struct grp_write *w)
{
	int rc = st_partition_append(w->p, w->batch, w->len, &w->base);

	if (rc == 0) {
		struct st_batch_info bi;

		st_batch_header_read(w->batch, w->len, &bi);
		w->last = w->base + bi.last_offset_delta;
		st_batch_assign(w->batch, w->base, 0); /* our copy carries the offsets too */
		w->appended = true;
		st_writer_kick(w->p->writer);
	}
	return rc;
}

/*
 * Queue a batch (owned from here on) for @part.  @return 0, or a KP error
 * now: nothing queued, @batch freed.
 */
static int16_t write_queue(struct ctl_groups *gs, enum grp_write_kind kind, int32_t part,
			   struct ctl_group *g, void *batch, int64_t len,
			   void (*done)(void *arg, int16_t err), void *arg)
{
	struct grp_write *w;
	int rc;

	if (len < 0 || !(w = calloc(1, sizeof(*w)))) {
		free(batch);
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	}
	*w = (struct grp_write){ .kind = kind, .part = part, .p = part_of(gs, part), .g = g,
				 .batch = batch, .len = (uint32_t)len, .done = done, .arg = arg };
	if (!w->p || atomic_load_explicit(&w->p->err, memory_order_acquire)) {
		rc = -EIO;
	} else if (queued_before(gs, part, NULL)) {
		rc = -ENOBUFS; /* keep the order behind a queued one */
	} else {
		rc = write_try(w);
	}
	if (rc < 0 && rc != -ENOBUFS) {
		free(batch);
		free(w);
		return append_err(rc);
	}
	if (gs->w_tail)
		gs->w_tail->next = w;
	else
		gs->w_head = w;
	gs->w_tail = w;
	if (g)
		g->storing++;
	if (!w->appended && gs->srv && !gs->tick.armed)
		ctl_timer_arm(gs->srv, &gs->tick, GRP_TICK_MS);
	return KP_ERR_NONE;
}

static void write_unlink(struct ctl_groups *gs, struct grp_write *w)
{
	struct grp_write **pp = &gs->w_head, *prev = NULL;

	for (; *pp && *pp != w; pp = &(*pp)->next)
		prev = *pp;
	if (!*pp)
		return;
	*pp = w->next;
	if (gs->w_tail == w)
		gs->w_tail = prev;
}

static void compact_done(struct ctl_groups *gs, struct grp_write *w);
static void maybe_compact(struct ctl_groups *gs, int32_t part);

/* The write is durable (@err 0) or failed: apply it and call back. */
static void write_finish(struct ctl_groups *gs, struct grp_write *w, int16_t err)
{
	uint64_t bad = 0;

	write_unlink(gs, w);
	if (!err && w->kind == GW_OFFSETS)
		gs->st.commits += apply_batches(gs, w->batch, w->len, false, &bad);
	else if (!err && w->kind == GW_GROUP)
		set_meta_record(w->g, w->base);
	else if (w->kind == GW_COMPACT)
		compact_done(gs, w);
	if (w->g)
		w->g->storing--;
	if (w->done)
		w->done(w->arg, err);
	if (!err && w->kind == GW_OFFSETS)
		maybe_compact(gs, w->part);
	free(w->batch);
	free(w);
}

void grp_log_recheck(struct ctl_groups *gs)
{
	struct grp_write *w;

restart:
	for (w = gs->w_head; w; w = w->next) {
		if (!w->appended)
			continue;
		if (atomic_load_explicit(&w->p->err, memory_order_acquire)) {
			write_finish(gs, w, KP_ERR_COORDINATOR_NOT_AVAILABLE);
			goto restart;
		}
		if (st_partition_hw(w->p, ST_VIS_DURABLE) > w->last) {
			write_finish(gs, w, KP_ERR_NONE);
			goto restart;
		}
	}
}

static void tick_fire(void *arg, struct ctl_timer *t);

void grp_log_init(struct ctl_groups *gs)
{
	ctl_timer_init(&gs->tick, tick_fire, gs);
}

static void tick_fire(void *arg, struct ctl_timer *t)
{
	struct ctl_groups *gs = arg;
	bool waiting = false;

	(void)t;
restart:
	for (struct grp_write *w = gs->w_head; w; w = w->next) {
		int rc;

		if (w->appended || queued_before(gs, w->part, w))
			continue;
		rc = write_try(w);
		if (rc == -ENOBUFS) {
			waiting = true;
		} else if (rc < 0) {
			write_finish(gs, w, append_err(rc));
			goto restart;
		}
	}
	if (waiting)
		ctl_timer_arm(gs->srv, &gs->tick, GRP_TICK_MS);
}

void grp_log_free_all(struct ctl_groups *gs)
{
	while (gs->w_head) {
		struct grp_write *w = gs->w_head;

		gs->w_head = w->next;
		if (w->kind == GW_OFFSETS && w->done)
			w->done(w->arg, KP_ERR_COORDINATOR_NOT_AVAILABLE); /* frees its context */
		else if (w->kind == GW_GROUP && w->done)
			w->done(w->arg, KP_ERR_COORDINATOR_NOT_AVAILABLE);
		free(w->batch);
		free(w);
	}
	gs->w_tail = NULL;
}

/* ---- the coordinator's writes ------------------------------------------------------ */

int16_t grp_log_store_group(struct ctl_group *g, bool tombstone,
			    void (*done)(void *arg, int16_t err), void *arg)
{
	struct ctl_groups *gs = g->gs;
	struct recs rs;
	void *batch = NULL;
	int64_t len;
	int16_t err;

	if ((err = grp_log_ready(gs)))
		return err;
	recs_init(&rs);
	len = group_rec(&rs, g, tombstone) ? recs_batch(&rs, 0, rs.n, &batch) : -ENOMEM;
	recs_free(&rs);
	return write_queue(gs, GW_GROUP, g->coord_partition, g, batch, len, done, arg);
}

int16_t grp_log_store_offsets(struct ctl_group *g, struct grp_commit_part *parts, int32_t n,
			      void (*done)(void *arg, int16_t err), void *arg)
{
	struct ctl_groups *gs = g->gs;
	int64_t now = grp_wall_ms(), len;
	struct recs rs;
	void *batch = NULL;
	bool ok = true;

	recs_init(&rs);
	for (int32_t i = 0; i < n && ok; i++) {
		const struct grp_commit_part *p = &parts[i];

		if (p->err == KP_ERR_NONE)
			ok = offset_rec(&rs, g->id, p->topic.ptr, (size_t)p->topic.len, p->partition,
					NULL, p->leader_epoch, p->metadata.ptr,
					p->metadata.ptr ? (size_t)p->metadata.len : 0, p->offset,
					now);
	}
	len = ok ? recs_batch(&rs, 0, rs.n, &batch) : -ENOMEM;
	recs_free(&rs);
	return write_queue(gs, GW_OFFSETS, g->coord_partition, g, batch, len, done, arg);
}

/* ---- expiry ------------------------------------------------------------------------ */

/* Expire what offsets.retention.minutes allows in @g; tombstones in one batch. */
static void expire_group(struct ctl_groups *gs, struct ctl_group *g, int64_t now)
{
	int64_t keep_ms = gs->cfg->broker.offsets_retention_minutes * 60000;
	void *batch = NULL;
	struct recs rs;
	uint64_t n = 0;
	int64_t len;

	/* The appliance's own cursors (the uplink's) are never expired. */
	if (g->storing || g->state != CTL_GROUP_EMPTY || ctl_group_id_internal(g->id, strlen(g->id)))
		return;
	recs_init(&rs);
	for (size_t i = g->n_offsets; i-- > 0;) {
		struct ctl_offset *o = &g->offsets[i];
		/* A consumer group's offsets go together once it has been empty long
		 * enough; a simple consumer's (no protocol) one by one after their commit. */
		int64_t since = g->protocol_type ? g->state_ts : o->commit_ts;

		if (since + keep_ms > now)
			continue;
		if (!offset_tombstone(&rs, g, o))
			break;
		grp_offset_delete(g, o);
		n++;
	}
	if (!g->n_offsets && g->meta_record >= 0 && !group_rec(&rs, g, true))
		n = 0;
	if (rs.n) {
		len = recs_batch(&rs, 0, rs.n, &batch);
		if (write_queue(gs, GW_EXPIRY, g->coord_partition, NULL, batch, len, NULL, NULL))
			CTL_LOG(WARNING, "group %s: writing the tombstones of expired offsets failed",
				g->id);
	}
	recs_free(&rs);
	gs->st.offsets_expired += n;
	if (!g->n_offsets) {
		CTL_LOG(INFO, "group %s: empty and without offsets, removed", g->id);
		set_meta_record(g, -1);
		grp_set_state(g, CTL_GROUP_DEAD);
		grp_remove(g);
	}
}

/* ---- compaction by copy -------------------------------------------------------------- */

/* The lowest record offset still live in @part, or @dflt when none. */
static int64_t live_floor(const struct ctl_groups *gs, int32_t part, int64_t dflt)
{
	int64_t lo = dflt;

	for (size_t i = 0; i < gs->n_groups; i++) {
		const struct ctl_group *g = gs->groups[i];

		if (g->coord_partition != part)
			continue;
		if (g->meta_record >= 0 && g->meta_record < lo)
			lo = g->meta_record;
		for (size_t k = 0; k < g->n_offsets; k++)
			if (g->offsets[k].record < lo)
				lo = g->offsets[k].record;
	}
	return lo;
}

/* The copied records are durable: their keys now live at the new offsets. */
static void compact_done(struct ctl_groups *gs, struct grp_write *w)
{
	struct grp_part *gp = &gs->parts[w->part];
	uint64_t bad = 0;
	int64_t floor;

	if (!atomic_load_explicit(&w->p->err, memory_order_acquire))
		apply_batches(gs, w->batch, w->len, true, &bad); /* same values, new record offsets */
	if (!w->last_of_pass)
		return;
	gp->compacting = false;
	floor = live_floor(gs, w->part, w->p->next_offset);
	if (floor > gp->floor && !bad) {
		gp->floor = floor;
		st_partition_delete_below(w->p, floor);
		st_writer_retain_soon(w->p->writer);
	}
	gs->st.compactions++;
}

static bool compact_add_group(struct recs *rs, const struct ctl_group *g)
{
	if (g->meta_record >= 0 && !group_rec(rs, g, false))
		return false;
	for (size_t k = 0; k < g->n_offsets; k++) {
		const struct ctl_offset *o = &g->offsets[k];

		if (!offset_rec(rs, g->id, o->topic, strlen(o->topic), o->partition, o, 0, NULL, 0, 0,
				0))
			return false;
	}
	return true;
}

/*
 * Copy every live record of @part forward when most of the partition above
 * its floor is superseded.  Only with nothing in flight on the partition,
 * so that what is copied is the latest record of each key.
 */
static void maybe_compact(struct ctl_groups *gs, int32_t part)
{
	struct grp_part *gp = &gs->parts[part];
	struct st_partition *p = part_of(gs, part);
	int64_t dirty;
	struct recs rs;
	bool ok = true;

	if (!p || gp->compacting || part_busy(gs, part, NULL))
		return;
	dirty = p->next_offset - gp->floor - gp->live;
	if (dirty <= gp->live || dirty < GRP_COMPACT_MIN)
		return;
	recs_init(&rs);
	for (size_t i = 0; i < gs->n_groups && ok; i++)
		if (gs->groups[i]->coord_partition == part)
			ok = compact_add_group(&rs, gs->groups[i]);
	for (size_t i = 0; ok && i < rs.n;) {
		size_t bytes = 0, to = i;
		void *batch = NULL;
		int64_t len;

		while (to < rs.n && (to == i || bytes < GRP_COMPACT_BATCH)) {
			bytes += rs.r[to].klen + (size_t)(rs.r[to].vlen > 0 ? rs.r[to].vlen : 0);
			to++;
		}
		len = recs_batch(&rs, i, to, &batch);
		ok = write_queue(gs, GW_COMPACT, part, NULL, batch, len, NULL, NULL) == KP_ERR_NONE;
		if (ok)
			gp->compacting = true;
		i = to;
	}
	/* The pass ends with its last queued batch, also when it stopped early. */
	if (gp->compacting) {
		struct grp_write *last = NULL;

		for (struct grp_write *w = gs->w_head; w; w = w->next)
			if (w->kind == GW_COMPACT && w->part == part)
				last = w;
		last->last_of_pass = true;
	}
	if (!ok)
		CTL_LOG(WARNING, "%s-%d: a compaction pass could not be queued whole", CTL_GROUP_TOPIC,
			part);
	recs_free(&rs);
}

void grp_log_maintain(struct ctl_groups *gs)
{
	int64_t now = grp_wall_ms();

	for (size_t i = gs->n_groups; i-- > 0;)
		expire_group(gs, gs->groups[i], now);
	if (!gs->topic)
		return;
	for (int32_t part = 0; part < gs->topic->n_partitions; part++)
		maybe_compact(gs, part);
}
