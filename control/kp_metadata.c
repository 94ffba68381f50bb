/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kp_metadata.c - Metadata v0-5: this broker, the cluster id, and topics
 * with their partitions (leader, replicas and ISR are all this node).
 * Unknown topics are auto-created when auto.create.topics.enable is on and,
 * from v4, the client allows it; creation is synchronous, so the answer is
 * the new topic with error 0 (both target clients accept that).
 */
#include <string.h>

#include "ctl_catalog.h"
#include "kp_api.h"

/* One topics[] entry for an existing topic. */
static void write_topic(struct kp_req *req, struct kp_writer *w, const struct ctl_topic *t)
{
	int16_t v = req->api_version;
	int32_t node = req->ctx->node_id;

	kp_write_err(req, w, KP_ERR_NONE);               /* error_code */
	kp_write_str(w, t->name);                        /* name */
	if (v >= 1)
		kp_write_bool(w, t->internal);           /* is_internal */
	kp_write_i32(w, t->n_partitions);                /* partitions */
	for (int32_t p = 0; p < t->n_partitions; p++) {
		kp_write_err(req, w, KP_ERR_NONE);       /* error_code */
		kp_write_i32(w, p);                      /* partition_index */
		kp_write_i32(w, node);                   /* leader_id */
		kp_write_i32(w, 1);                      /* replica_nodes */
		kp_write_i32(w, node);
		kp_write_i32(w, 1);                      /* isr_nodes */
		kp_write_i32(w, node);
		if (v >= 5)
			kp_write_i32(w, 0);              /* offline_replicas */
	}
}

/* A topics[] entry carrying only an error. */
static void write_missing(struct kp_req *req, struct kp_writer *w, struct kp_str name,
			  int16_t err)
{
	kp_write_err(req, w, err);                       /* error_code */
	kp_write_strn(w, name.ptr, name.len);            /* name */
	if (req->api_version >= 1)
		kp_write_bool(w, false);                 /* is_internal */
	kp_write_i32(w, 0);                              /* partitions */
}

/* Look a requested topic up, auto-creating it if allowed; write its entry. */
static void answer_topic(struct kp_req *req, struct kp_writer *w, struct kp_str name,
			 bool allow_auto)
{
	struct ctl_catalog *cat = req->ctx->cat;
	struct ctl_topic *t = ctl_catalog_find(cat, name.ptr, (size_t)name.len);
	struct ctl_topic_spec spec = { name.ptr, (size_t)name.len,
				       ctl_catalog_default_partitions(cat), NULL, 0, false };
	char msg[256];
	enum kp_err err;

	if (!kp_authorized(req, CTL_ACL_DESCRIBE, CTL_ACL_TOPIC, name)) {
		write_missing(req, w, name, KP_ERR_TOPIC_AUTHORIZATION_FAILED);
		return;
	}
	if (t) {
		write_topic(req, w, t);
		return;
	}
	if (!allow_auto || !ctl_catalog_auto_create_enabled(cat) ||
	    !kp_authorized(req, CTL_ACL_CREATE, CTL_ACL_TOPIC, name)) {
		write_missing(req, w, name, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
		return;
	}
	err = ctl_catalog_topic_create(cat, &spec, false, &t, msg, sizeof(msg));
	if (err == KP_ERR_NONE)
		write_topic(req, w, t);
	else
		write_missing(req, w, name, (int16_t)err);
}

static void write_brokers(struct kp_req *req, struct kp_writer *w)
{
	const struct kp_api_ctx *ctx = req->ctx;
	const char *host;
	int32_t port;

	kp_api_advertised(req, &host, &port);
	kp_write_i32(w, 1);                              /* brokers */
	kp_write_i32(w, ctx->node_id);                   /* node_id */
	kp_write_str(w, host);                           /* host */
	kp_write_i32(w, port);                           /* port */
	if (req->api_version >= 1)
		kp_write_str(w, NULL);                   /* rack */
}

enum ctl_disp kp_handle_metadata(struct kp_req *req, struct kp_reader *r, struct kp_writer *w)
{
	int16_t v = req->api_version;
	struct ctl_catalog *cat = req->ctx->cat;
	struct kp_reader names;
	bool allow_auto = true;
	int32_t n;

	n = kp_read_array(r, 2);                         /* topics */
	names = *r;
	for (int32_t i = 0; i < n && kp_reader_ok(r); i++)
		(void)kp_read_str(r);                    /* name */
	if (v >= 4)
		allow_auto = kp_read_bool(r);            /* allow_auto_topic_creation */
	if (!kp_reader_ok(r) || (v == 0 && n < 0))
		return CTL_DISP_CLOSE;

	if (v >= 3)
		kp_write_i32(w, 0);                      /* throttle_time_ms */
	write_brokers(req, w);
	if (v >= 2)
		kp_write_str(w, req->ctx->cluster_id);   /* cluster_id */
	if (v >= 1)
		kp_write_i32(w, req->ctx->node_id);      /* controller_id */
	if (n < 0 || (n == 0 && v == 0)) {               /* all topics: those it may Describe */
		size_t count = ctl_catalog_count(cat), pos = kp_write_i32_slot(w);
		int32_t shown = 0;

		for (size_t i = 0; i < count; i++) {
			struct ctl_topic *t = ctl_catalog_at(cat, i);
			struct kp_str tn = { t->name, (int32_t)strlen(t->name) };

			if (!kp_authorized(req, CTL_ACL_DESCRIBE, CTL_ACL_TOPIC, tn))
				continue;
			write_topic(req, w, t);
			shown++;
		}
		kp_write_patch_i32(w, pos, shown);       /* topics */
		return CTL_DISP_RESPOND;
	}
	kp_write_i32(w, n);                              /* topics */
	for (int32_t i = 0; i < n; i++)
		answer_topic(req, w, kp_read_str(&names), allow_auto);
	return CTL_DISP_RESPOND;
}
