/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kp_group.c - the group APIs on the wire: FindCoordinator v0-2, JoinGroup
 * v0-5, SyncGroup v0-3, Heartbeat v0-3, LeaveGroup v0-1, OffsetCommit v2-7,
 * OffsetFetch v1-5, and the admin views DescribeGroups v0-2 and ListGroups
 * v0-2.  Each handler reads the whole request first (a malformed body
 * closes the connection with nothing changed), then calls the state machine
 * (ctl_group_rebalance.c, ctl_group.c), which answers now or parks the slot.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_catalog.h"
#include "ctl_group_int.h"
#include "fwc_config.h"
#include "kp_api.h"
#include "kp_data.h"

static struct kp_str cstr(const char *s)
{
	return (struct kp_str){ s ? s : "", s ? (int32_t)strlen(s) : 0 };
}

static void write_kstr(struct kp_writer *w, struct kp_str s)
{
	kp_write_strn(w, s.ptr ? s.ptr : "", s.ptr ? s.len : 0);
}

/* ---- FindCoordinator -------------------------------------------------------- */

enum ctl_disp kp_handle_find_coordinator(struct kp_req *req, struct kp_reader *r,
					 struct kp_writer *w)
{
	const struct kp_api_ctx *ctx = req->ctx;
	int8_t key_type = 0;
	int16_t err = KP_ERR_NONE;
	const char *msg = NULL, *host;
	int32_t port;

	(void)kp_read_str(r);                            /* key */
	if (req->api_version >= 1)
		key_type = kp_read_i8(r);                /* key_type */
	if (!kp_reader_ok(r))
		return CTL_DISP_CLOSE;
	/*
	 * Transactions (key_type 1) are not supported, but answering "us" lets a
	 * transactional producer reach InitProducerId, whose fatal 53 stops it at
	 * once instead of retrying FindCoordinator until it times out.
	 */
	if (key_type != 0 && key_type != 1) {
		err = KP_ERR_INVALID_REQUEST;
		msg = "unknown coordinator key type";
	} else if (key_type == 1) {
		err = KP_ERR_NONE;
	} else if (!ctx->groups || (err = grp_log_ready(ctx->groups))) {
		err = KP_ERR_COORDINATOR_NOT_AVAILABLE;
		msg = "the group coordinator is not available";
	}
	if (req->api_version >= 1)
		kp_write_i32(w, 0);                      /* throttle_time_ms */
	kp_write_err(req, w, err);                       /* error_code */
	if (req->api_version >= 1)
		kp_write_str(w, msg);                    /* error_message */
	kp_write_i32(w, err ? -1 : ctx->node_id);        /* node_id */
	kp_api_advertised(req, &host, &port);
	kp_write_str(w, err ? "" : host);                /* host */
	kp_write_i32(w, err ? -1 : port);                /* port */
	return CTL_DISP_RESPOND;
}

/* ---- JoinGroup -------------------------------------------------------------- */

void kp_group_join_body(struct kp_writer *w, int16_t version, const struct ctl_member *m,
			int16_t err)
{
	const struct ctl_group *g = m->g;
	bool leader = !err && g->leader && strcmp(g->leader, m->id) == 0;

	if (version >= 2)
		kp_write_i32(w, 0);                      /* throttle_time_ms */
	kp_write_i16(w, err);                            /* error_code */
	kp_write_i32(w, err ? -1 : g->generation);       /* generation_id */
	kp_write_str(w, err || !g->protocol ? "" : g->protocol); /* protocol_name */
	kp_write_str(w, err || !g->leader ? "" : g->leader);     /* leader */
	kp_write_str(w, m->id);                          /* member_id */
	if (!leader) {
		kp_write_i32(w, 0);                      /* members */
		return;
	}
	kp_write_i32(w, (int32_t)g->n_members);          /* members */
	for (const struct ctl_member *o = g->members; o; o = o->next) {
		const struct ctl_member_proto *p = grp_member_proto(o, g->protocol);

		kp_write_str(w, o->id);                  /* member_id */
		if (version >= 5)
			kp_write_str(w, o->instance_id); /* group_instance_id */
		kp_write_bytes(w, p ? (const void *)p->meta : "", p ? p->meta_len : 0); /* metadata */
	}
}

void kp_group_join_answer(struct ctl_member *m, int16_t err)
{
	struct ctl_resp *resp = m->join_resp;

	m->join_resp = NULL;
	kp_group_join_body(ctl_resp_writer(resp), m->join_version, m, err);
	if (err)
		ctl_resp_add_errors(resp, 1);
	ctl_resp_complete(resp, true);
}

/* An error answered at once: the request's member id (or the one just given). */
static void join_error(struct kp_req *req, struct kp_writer *w, int16_t err, struct kp_str id)
{
	if (req->api_version >= 2)
		kp_write_i32(w, 0);                      /* throttle_time_ms */
	kp_write_err(req, w, err);                       /* error_code */
	kp_write_i32(w, -1);                             /* generation_id */
	kp_write_str(w, "");                             /* protocol_name */
	kp_write_str(w, "");                             /* leader */
	write_kstr(w, id);                               /* member_id */
	kp_write_i32(w, 0);                              /* members */
}

/* Kafka's client_host: "/" and the peer's address without the port. */
static void client_host(const struct kp_req *req, char *buf, size_t len)
{
	const char *peer = req->resp ? ctl_resp_peer(req->resp) : "";
	const char *colon = strrchr(peer, ':');
	int n = colon ? (int)(colon - peer) : (int)strlen(peer);

	if (n >= 2 && peer[0] == '[' && peer[n - 1] == ']')
		snprintf(buf, len, "/%.*s", n - 2, peer + 1);
	else
		snprintf(buf, len, "/%.*s", n, peer);
}

enum ctl_disp kp_handle_join_group(struct kp_req *req, struct kp_reader *r, struct kp_writer *w)
{
	struct grp_join j = { .version = req->api_version, .client_id = req->client_id };
	char host[80];
	struct ctl_member *now = NULL;
	const char *new_id = NULL;
	int16_t err;

	j.group_id = kp_read_str(r);                     /* group_id */
	j.session_timeout_ms = kp_read_i32(r);           /* session_timeout_ms */
	if (req->api_version >= 1)
		j.rebalance_timeout_ms = kp_read_i32(r); /* rebalance_timeout_ms */
	j.member_id = kp_read_str(r);                    /* member_id */
	if (req->api_version >= 5)
		j.instance_id = kp_read_nstr(r);         /* group_instance_id */
	j.protocol_type = kp_read_str(r);                /* protocol_type */
	j.n_protos = kp_read_array(r, 6);                /* protocols */
	if (!kp_reader_ok(r) || j.n_protos < 0)
		return CTL_DISP_CLOSE;
	j.protos = calloc((size_t)j.n_protos + 1, sizeof(*j.protos));
	if (!j.protos)
		return CTL_DISP_CLOSE;
	for (int32_t i = 0; i < j.n_protos; i++) {
		j.protos[i].name = kp_read_str(r);       /* name */
		j.protos[i].meta = kp_read_bytes(r);     /* metadata */
	}
	if (!kp_reader_ok(r)) {
		free(j.protos);
		return CTL_DISP_CLOSE;
	}
	client_host(req, host, sizeof(host));
	j.client_host = host;
	if (!kp_authorized(req, CTL_ACL_READ, CTL_ACL_GROUP, j.group_id))
		err = KP_ERR_GROUP_AUTHORIZATION_FAILED;
	else
		err = req->ctx->groups ? grp_join(req->ctx->groups, &j, req->resp, &now, &new_id)
				       : KP_ERR_COORDINATOR_NOT_AVAILABLE;
	free(j.protos);
	if (err) {
		join_error(req, w, err, new_id ? cstr(new_id) : j.member_id);
		return CTL_DISP_RESPOND;
	}
	if (now) {
		kp_group_join_body(w, req->api_version, now, KP_ERR_NONE);
		return CTL_DISP_RESPOND;
	}
	return CTL_DISP_PENDING;
}

/* ---- SyncGroup -------------------------------------------------------------- */

static void sync_body(struct kp_writer *w, int16_t version, int16_t err, const void *a,
		      int32_t len)
{
	if (version >= 1)
		kp_write_i32(w, 0);                      /* throttle_time_ms */
	kp_write_i16(w, err);                            /* error_code */
	kp_write_bytes(w, err || !a ? "" : a, err || !a ? 0 : len); /* assignment */
}

void kp_group_sync_answer(struct ctl_member *m, int16_t err)
{
	struct ctl_resp *resp = m->sync_resp;

	m->sync_resp = NULL;
	sync_body(ctl_resp_writer(resp), m->sync_version, err, m->assignment, m->assignment_len);
	if (err)
		ctl_resp_add_errors(resp, 1);
	ctl_resp_complete(resp, true);
}

enum ctl_disp kp_handle_sync_group(struct kp_req *req, struct kp_reader *r, struct kp_writer *w)
{
	struct kp_str group_id, member_id;
	struct grp_assign *as;
	struct ctl_member *now = NULL;
	int32_t generation, n;
	int16_t err;

	group_id = kp_read_str(r);                       /* group_id */
	generation = kp_read_i32(r);                     /* generation_id */
	member_id = kp_read_str(r);                      /* member_id */
	if (req->api_version >= 3)
		(void)kp_read_nstr(r);                   /* group_instance_id */
	n = kp_read_array(r, 6);                         /* assignments */
	if (!kp_reader_ok(r) || n < 0)
		return CTL_DISP_CLOSE;
	as = calloc((size_t)n + 1, sizeof(*as));
	if (!as)
		return CTL_DISP_CLOSE;
	for (int32_t i = 0; i < n; i++) {
		as[i].member_id = kp_read_str(r);        /* member_id */
		as[i].assignment = kp_read_bytes(r);     /* assignment */
	}
	if (!kp_reader_ok(r)) {
		free(as);
		return CTL_DISP_CLOSE;
	}
	if (!kp_authorized(req, CTL_ACL_READ, CTL_ACL_GROUP, group_id))
		err = KP_ERR_GROUP_AUTHORIZATION_FAILED;
	else
		err = req->ctx->groups ? grp_sync(req->ctx->groups, group_id, generation, member_id,
						  as, n, req->resp, req->api_version, &now)
				       : KP_ERR_COORDINATOR_NOT_AVAILABLE;
	free(as);
	if (err || now) {
		if (err)
			req->errors++;
		sync_body(w, req->api_version, err, now ? now->assignment : NULL,
			  now ? now->assignment_len : 0);
		return CTL_DISP_RESPOND;
	}
	return CTL_DISP_PENDING;
}

/* ---- Heartbeat, LeaveGroup ------------------------------------------------------ */

enum ctl_disp kp_handle_heartbeat(struct kp_req *req, struct kp_reader *r, struct kp_writer *w)
{
	struct kp_str group_id = kp_read_str(r);         /* group_id */
	int32_t generation = kp_read_i32(r);             /* generation_id */
	struct kp_str member_id = kp_read_str(r);        /* member_id */
	int16_t err;

	if (req->api_version >= 3)
		(void)kp_read_nstr(r);                   /* group_instance_id */
	if (!kp_reader_ok(r))
		return CTL_DISP_CLOSE;
	if (!kp_authorized(req, CTL_ACL_READ, CTL_ACL_GROUP, group_id))
		err = KP_ERR_GROUP_AUTHORIZATION_FAILED;
	else
		err = req->ctx->groups ? grp_heartbeat(req->ctx->groups, group_id, generation,
						       member_id)
				       : KP_ERR_COORDINATOR_NOT_AVAILABLE;
	if (req->api_version >= 1)
		kp_write_i32(w, 0);                      /* throttle_time_ms */
	kp_write_err(req, w, err);                       /* error_code */
	return CTL_DISP_RESPOND;
}

enum ctl_disp kp_handle_leave_group(struct kp_req *req, struct kp_reader *r, struct kp_writer *w)
{
	struct kp_str group_id = kp_read_str(r);         /* group_id */
	struct kp_str member_id = kp_read_str(r);        /* member_id */
	int16_t err;

	if (!kp_reader_ok(r))
		return CTL_DISP_CLOSE;
	err = req->ctx->groups ? grp_leave(req->ctx->groups, group_id, member_id)
			       : KP_ERR_COORDINATOR_NOT_AVAILABLE;
	if (req->api_version >= 1)
		kp_write_i32(w, 0);                      /* throttle_time_ms */
	kp_write_err(req, w, err);                       /* error_code */
	return CTL_DISP_RESPOND;
}

/* ---- OffsetCommit ------------------------------------------------------------------ */

/* A commit waiting for its record to be durable: the error slots to patch. */
struct commit_wait {
	struct ctl_resp *resp;          /* NULL once the client went away */
	int32_t n;
	size_t err_pos[];               /* -1: answered already (validation) */
};

static void commit_cancel(void *arg, struct ctl_resp *r)
{
	struct commit_wait *c = arg;

	c->resp = NULL;
	ctl_resp_complete(r, false);
}

static void commit_done(void *arg, int16_t err)
{
	struct commit_wait *c = arg;

	if (c->resp) {
		struct kp_writer *w = ctl_resp_writer(c->resp);
		unsigned int errors = 0;

		for (int32_t i = 0; i < c->n; i++)
			if (c->err_pos[i] != (size_t)-1 && err) {
				kp_patch_i16(w, c->err_pos[i], err);
				errors++;
			}
		ctl_resp_add_errors(c->resp, errors);
		ctl_resp_complete(c->resp, true);
	}
	free(c);
}

/* Count the partitions, checking the framing. */
static int32_t commit_count(struct kp_reader r, int16_t version)
{
	int32_t n_topics = kp_read_array(&r, 6), total = 0;

	for (int32_t i = 0; i < n_topics && kp_reader_ok(&r); i++) {
		int32_t n;

		(void)kp_read_str(&r);                   /* name */
		n = kp_read_array(&r, 14);               /* partitions */
		for (int32_t k = 0; k < n && kp_reader_ok(&r); k++) {
			kp_read_skip(&r, 12);            /* partition_index, committed_offset */
			if (version >= 6)
				kp_read_skip(&r, 4);     /* committed_leader_epoch */
			(void)kp_read_nstr(&r);          /* committed_metadata */
			total++;
		}
	}
	return kp_reader_ok(&r) && kp_reader_left(&r) == 0 ? total : -1;
}

static int16_t commit_part_check(const struct kp_api_ctx *ctx, struct grp_commit_part *p)
{
	const struct ctl_topic *t = ctl_catalog_find(ctx->cat, p->topic.ptr, (size_t)p->topic.len);

	if (!t || p->partition < 0 || p->partition >= t->n_partitions)
		return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	if (p->metadata.ptr && p->metadata.len > ctx->cfg->broker.offset_metadata_max_bytes)
		return KP_ERR_OFFSET_METADATA_TOO_LARGE;
	return KP_ERR_NONE;
}

/* Read topics[] into @parts and write the response with every error slot. */
static void commit_parts(struct kp_req *req, struct kp_reader *r, struct kp_writer *w,
			 struct grp_commit_part *parts, struct commit_wait *c, int16_t group_err)
{
	int32_t n_topics = kp_read_array(r, 6), k = 0;

	if (req->api_version >= 3)
		kp_write_i32(w, 0);                      /* throttle_time_ms */
	kp_write_i32(w, n_topics);                       /* topics */
	for (int32_t i = 0; i < n_topics; i++) {
		struct kp_str name = kp_read_str(r);     /* name */
		int32_t n = kp_read_array(r, 14);        /* partitions */

		write_kstr(w, name);                     /* name */
		kp_write_i32(w, n);                      /* partitions */
		for (int32_t j = 0; j < n; j++, k++) {
			struct grp_commit_part *p = &parts[k];

			p->topic = name;
			p->partition = kp_read_i32(r);   /* partition_index */
			p->offset = kp_read_i64(r);      /* committed_offset */
			p->leader_epoch = req->api_version >= 6 ? kp_read_i32(r) : -1; /* committed_leader_epoch */
			p->metadata = kp_read_nstr(r);   /* committed_metadata */
			p->err = group_err ? group_err : commit_part_check(req->ctx, p);
			kp_write_i32(w, p->partition);   /* partition_index */
			c->err_pos[k] = p->err ? (size_t)-1 : w->len;
			kp_write_err(req, w, p->err);    /* error_code */
		}
	}
}

enum ctl_disp kp_handle_offset_commit(struct kp_req *req, struct kp_reader *r, struct kp_writer *w)
{
	struct ctl_groups *gs = req->ctx->groups;
	struct grp_commit_part *parts;
	struct commit_wait *c;
	struct ctl_group *g = NULL;
	struct kp_str group_id, member_id;
	int32_t generation, n, stored = 0;
	int16_t err;

	group_id = kp_read_str(r);                       /* group_id */
	generation = kp_read_i32(r);                     /* generation_id_or_member_epoch */
	member_id = kp_read_str(r);                      /* member_id */
	if (req->api_version >= 7)
		(void)kp_read_nstr(r);                   /* group_instance_id */
	if (req->api_version <= 4)
		(void)kp_read_i64(r);                    /* retention_time_ms (ignored, as Kafka 2.1+) */
	n = commit_count(*r, req->api_version);
	if (!kp_reader_ok(r) || n < 0)
		return CTL_DISP_CLOSE;
	parts = calloc((size_t)n + 1, sizeof(*parts));
	c = calloc(1, sizeof(*c) + ((size_t)n + 1) * sizeof(c->err_pos[0]));
	if (!parts || !c) {
		free(parts);
		free(c);
		return CTL_DISP_CLOSE;
	}
	c->n = n;
	if (ctl_group_id_internal(group_id.ptr, group_id.ptr ? (size_t)group_id.len : 0))
		err = KP_ERR_INVALID_GROUP_ID;  /* the appliance's own (the uplink's cursors) */
	else if (!kp_authorized(req, CTL_ACL_READ, CTL_ACL_GROUP, group_id))
		err = KP_ERR_GROUP_AUTHORIZATION_FAILED;
	else
		err = gs ? grp_commit_begin(gs, group_id, generation, member_id, req->resp != NULL,
					    &g)
			 : KP_ERR_COORDINATOR_NOT_AVAILABLE;
	commit_parts(req, r, w, parts, c, err);
	for (int32_t i = 0; i < n; i++)
		stored += parts[i].err == KP_ERR_NONE;
	if (stored) {
		err = grp_log_store_offsets(g, parts, n, commit_done, c);
		if (err == KP_ERR_NONE) {
			c->resp = req->resp;
			ctl_resp_set_cancel(req->resp, commit_cancel, c);
			free(parts);
			return CTL_DISP_PENDING;
		}
		for (int32_t i = 0; i < n; i++)
			if (c->err_pos[i] != (size_t)-1)
				kp_patch_i16(w, c->err_pos[i], err);
		req->errors += (unsigned int)stored;
	}
	free(parts);
	free(c);
	return CTL_DISP_RESPOND;
}

/* ---- OffsetFetch ------------------------------------------------------------------- */

static void fetch_part(struct kp_req *req, struct kp_writer *w, const struct ctl_offset *o,
		       int32_t partition)
{
	kp_write_i32(w, partition);                      /* partition_index */
	kp_write_i64(w, o ? o->offset : -1);             /* committed_offset */
	if (req->api_version >= 5)
		kp_write_i32(w, o ? o->leader_epoch : -1); /* committed_leader_epoch */
	kp_write_str(w, o ? o->metadata : "");           /* metadata */
	kp_write_err(req, w, KP_ERR_NONE);               /* error_code */
}

/* Every committed offset of @g, grouped by topic (they are sorted by topic). */
static void fetch_all(struct kp_req *req, struct kp_writer *w, const struct ctl_group *g)
{
	size_t n_topics_pos = kp_write_i32_slot(w), n_parts_pos = 0;
	int32_t n_topics = 0, n_parts = 0;
	const char *cur = NULL;

	for (size_t i = 0; g && i < g->n_offsets; i++) {
		const struct ctl_offset *o = &g->offsets[i];

		if (!cur || strcmp(cur, o->topic) != 0) {
			if (cur)
				kp_write_patch_i32(w, n_parts_pos, n_parts);
			cur = o->topic;
			n_topics++;
			n_parts = 0;
			kp_write_str(w, o->topic);       /* name */
			n_parts_pos = kp_write_i32_slot(w); /* partitions */
		}
		fetch_part(req, w, o, o->partition);
		n_parts++;
	}
	if (cur)
		kp_write_patch_i32(w, n_parts_pos, n_parts);
	kp_write_patch_i32(w, n_topics_pos, n_topics);
}

enum ctl_disp kp_handle_offset_fetch(struct kp_req *req, struct kp_reader *r, struct kp_writer *w)
{
	struct kp_str group_id = kp_read_str(r);         /* group_id */
	const struct ctl_group *g;
	struct kp_reader topics;
	int32_t n_topics;
	int16_t err = KP_ERR_NONE;

	n_topics = kp_read_array(r, 6);                  /* topics */
	topics = *r;
	for (int32_t i = 0; i < n_topics && kp_reader_ok(r); i++) {
		int32_t n;

		(void)kp_read_str(r);                    /* name */
		n = kp_read_array(r, 4);                 /* partition_indexes */
		kp_read_skip(r, n > 0 ? (size_t)n * 4 : 0);
	}
	if (!kp_reader_ok(r) || (n_topics < 0 && req->api_version < 2))
		return CTL_DISP_CLOSE;
	if (!group_id.ptr || group_id.len == 0)
		err = KP_ERR_INVALID_GROUP_ID;
	else if (!kp_authorized(req, CTL_ACL_DESCRIBE, CTL_ACL_GROUP, group_id))
		err = KP_ERR_GROUP_AUTHORIZATION_FAILED;
	else if (!req->ctx->groups)
		err = KP_ERR_COORDINATOR_NOT_AVAILABLE;
	g = err ? NULL : ctl_groups_find(req->ctx->groups, group_id.ptr, (size_t)group_id.len);
	if (req->api_version >= 3)
		kp_write_i32(w, 0);                      /* throttle_time_ms */
	if (n_topics < 0) {
		fetch_all(req, w, g);
	} else {
		kp_write_i32(w, n_topics);               /* topics */
		for (int32_t i = 0; i < n_topics; i++) {
			struct kp_str name = kp_read_str(&topics); /* name */
			int32_t n = kp_read_array(&topics, 4);     /* partition_indexes */

			write_kstr(w, name);             /* name */
			kp_write_i32(w, n);              /* partitions */
			for (int32_t k = 0; k < n; k++) {
				int32_t p = kp_read_i32(&topics);

				if (err && req->api_version < 2) {
					/* v1 has no top-level error: each partition carries it */
					kp_write_i32(w, p);
					kp_write_i64(w, -1);
					kp_write_str(w, "");
					kp_write_err(req, w, err);
					continue;
				}
				fetch_part(req, w, g ? grp_offset_find(g, name.ptr, (size_t)name.len, p)
						     : NULL, p);
			}
		}
	}
	if (req->api_version >= 2)
		kp_write_err(req, w, err);               /* error_code */
	return CTL_DISP_RESPOND;
}

/* ---- DescribeGroups, ListGroups -------------------------------------------------------- */

static const char *nz(const char *s)
{
	return s ? s : "";
}

/*
 * One DescribedGroup, as Kafka's GroupMetadata.summary: the protocol, the
 * members' metadata and their assignments only when Stable (otherwise "" and
 * empty bytes); an unknown group is Kafka's DeadGroup (error 0, "Dead").
 */
static void describe_group(struct kp_req *req, struct kp_writer *w, struct kp_str id)
{
	const struct ctl_groups *gs = req->ctx->groups;
	const struct ctl_group *g = gs ? ctl_groups_find(gs, id.ptr, (size_t)id.len) : NULL;
	bool stable = g && g->state == CTL_GROUP_STABLE && g->protocol;

	kp_write_err(req, w, gs ? KP_ERR_NONE : KP_ERR_COORDINATOR_NOT_AVAILABLE); /* error_code */
	write_kstr(w, id);                               /* group_id */
	kp_write_str(w, g ? ctl_group_state_name(g->state) : gs ? "Dead" : ""); /* group_state */
	kp_write_str(w, g ? nz(g->protocol_type) : "");  /* protocol_type */
	kp_write_str(w, stable ? g->protocol : "");      /* protocol_data */
	kp_write_i32(w, g ? (int32_t)g->n_members : 0);  /* members */
	for (const struct ctl_member *m = g ? g->members : NULL; m; m = m->next) {
		const struct ctl_member_proto *p = stable ? grp_member_proto(m, g->protocol) : NULL;
		bool assigned = stable && m->assignment;

		kp_write_str(w, m->id);                  /* member_id */
		kp_write_str(w, nz(m->client_id));       /* client_id */
		kp_write_str(w, nz(m->client_host));     /* client_host */
		kp_write_bytes(w, p ? (const void *)p->meta : "", p ? p->meta_len : 0); /* member_metadata */
		kp_write_bytes(w, assigned ? (const void *)m->assignment : "",
			       assigned ? m->assignment_len : 0); /* member_assignment */
	}
}

enum ctl_disp kp_handle_describe_groups(struct kp_req *req, struct kp_reader *r,
					struct kp_writer *w)
{
	int32_t n = kp_read_array(r, 2);                 /* groups */
	struct kp_reader ids = *r;

	for (int32_t i = 0; i < n && kp_reader_ok(r); i++)
		(void)kp_read_str(r);
	if (!kp_reader_ok(r) || n < 0)
		return CTL_DISP_CLOSE;
	if (req->api_version >= 1)
		kp_write_i32(w, 0);                      /* throttle_time_ms */
	kp_write_i32(w, n);                              /* groups */
	for (int32_t i = 0; i < n; i++)
		describe_group(req, w, kp_read_str(&ids));
	return CTL_DISP_RESPOND;
}

/* Every group but the Dead ones (being removed), in id order. */
enum ctl_disp kp_handle_list_groups(struct kp_req *req, struct kp_reader *r, struct kp_writer *w)
{
	const struct ctl_groups *gs = req->ctx->groups;
	size_t n_pos;
	int32_t n = 0;

	(void)r; /* v0-2 bodies are empty */
	if (req->api_version >= 1)
		kp_write_i32(w, 0);                      /* throttle_time_ms */
	kp_write_err(req, w, gs ? KP_ERR_NONE : KP_ERR_COORDINATOR_NOT_AVAILABLE); /* error_code */
	n_pos = kp_write_i32_slot(w);                    /* groups */
	for (size_t i = 0; i < ctl_groups_count(gs); i++) {
		const struct ctl_group *g = ctl_groups_at(gs, i);

		if (g->state == CTL_GROUP_DEAD)
			continue;
		kp_write_str(w, g->id);                  /* group_id */
		kp_write_str(w, nz(g->protocol_type));   /* protocol_type */
		n++;
	}
	kp_write_patch_i32(w, n_pos, n);
	return CTL_DISP_RESPOND;
}
