/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kp_admin.c - CreateTopics v0-4, DeleteTopics v0-3, DescribeConfigs v0-1.
 *
 * Requests are parsed completely before anything changes (CreateTopics'
 * validate_only comes after its topic list), so a malformed request closes
 * the connection without a half-applied effect.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_catalog.h"
#include "fwc_config.h"
#include "kp_api.h"

/* ---- CreateTopics -------------------------------------------------------- */

struct ct_topic {
	struct kp_str name;
	int32_t num_partitions;
	int16_t replication_factor;
	int32_t n_assignments;
	struct ctl_cfg_kv *configs;
	int32_t n_configs;
	bool dup;                       /* named more than once in the request */
};

/* Read one CreatableTopic; @return false on a malformed body or no memory. */
static bool ct_read_topic(struct kp_reader *r, struct ct_topic *t)
{
	int32_t n;

	t->name = kp_read_str(r);                        /* name */
	t->num_partitions = kp_read_i32(r);              /* num_partitions */
	t->replication_factor = kp_read_i16(r);          /* replication_factor */
	t->n_assignments = kp_read_array(r, 8);          /* assignments */
	for (int32_t i = 0; i < t->n_assignments && kp_reader_ok(r); i++) {
		(void)kp_read_i32(r);                    /* partition_index */
		n = kp_read_array(r, 4);                 /* broker_ids */
		kp_read_skip(r, n > 0 ? (size_t)n * 4 : 0);
	}
	n = kp_read_array(r, 4);                         /* configs */
	if (!kp_reader_ok(r) || n < 0)
		return false;
	t->configs = calloc((size_t)n + 1, sizeof(*t->configs));
	if (!t->configs)
		return false;
	t->n_configs = n;
	for (int32_t i = 0; i < n; i++) {
		struct kp_str k = kp_read_str(r);        /* name */
		struct kp_str v = kp_read_nstr(r);       /* value */

		t->configs[i] = (struct ctl_cfg_kv){ k.ptr, k.ptr ? (size_t)k.len : 0, v.ptr,
						     v.ptr ? (size_t)v.len : 0 };
	}
	return kp_reader_ok(r) && t->n_assignments >= 0;
}

static int ct_name_cmp(const void *a, const void *b)
{
	const struct ct_topic *x = *(const struct ct_topic *const *)a;
	const struct ct_topic *y = *(const struct ct_topic *const *)b;

	if (x->name.len != y->name.len)
		return x->name.len < y->name.len ? -1 : 1;
	return x->name.len > 0 ? memcmp(x->name.ptr, y->name.ptr, (size_t)x->name.len) : 0;
}

/*
 * Flag every topic named more than once.  By sorting, not pair by pair: one
 * request of socket.request.max.bytes can name millions of topics, and the
 * control thread serves everybody.  @return false: no memory.
 */
static bool ct_mark_duplicates(struct ct_topic *ts, int32_t n)
{
	struct ct_topic **by = malloc(((size_t)n + 1) * sizeof(*by));

	if (!by)
		return false;
	for (int32_t i = 0; i < n; i++)
		by[i] = &ts[i];
	qsort(by, (size_t)n, sizeof(*by), ct_name_cmp);
	for (int32_t i = 1; i < n; i++)
		if (ct_name_cmp(&by[i - 1], &by[i]) == 0)
			by[i - 1]->dup = by[i]->dup = true;
	free(by);
	return true;
}

/* Checks that precede the catalog's, in Kafka's order; then create. */
static enum kp_err ct_apply(struct kp_req *req, const struct ct_topic *t, bool validate_only,
			    char *msg, size_t msg_len)
{
	struct ctl_catalog *cat = req->ctx->cat;
	int16_t v = req->api_version;
	struct ctl_topic_spec spec = { t->name.ptr, (size_t)t->name.len, t->num_partitions,
				       t->configs, (size_t)t->n_configs, false };
	int16_t rf = t->replication_factor;

	if (t->dup) {
		snprintf(msg, msg_len, "Create topics request from client `%.*s` contains multiple "
			 "entries for the following topics: %.*s", req->client_id.ptr ?
			 (int)req->client_id.len : 0, req->client_id.ptr ? req->client_id.ptr : "",
			 (int)t->name.len, t->name.ptr);
		return KP_ERR_INVALID_REQUEST;
	}
	if (ctl_catalog_find(cat, t->name.ptr, (size_t)t->name.len) ||
	    !ctl_topic_name_valid(t->name.ptr, (size_t)t->name.len))
		return ctl_catalog_topic_create(cat, &spec, true, NULL, msg, msg_len);
	if (t->n_assignments > 0) {
		snprintf(msg, msg_len, "Manual partition assignment is not supported.");
		return KP_ERR_INVALID_REPLICA_ASSIGNMENT;
	}
	if (v >= 4 && spec.n_partitions == -1)
		spec.n_partitions = ctl_catalog_default_partitions(cat);
	if (spec.n_partitions <= 0 || spec.n_partitions > CTL_MAX_PARTITIONS)
		return ctl_catalog_topic_create(cat, &spec, true, NULL, msg, msg_len);
	if (v >= 4 && rf == -1)
		rf = 1;
	if (rf <= 0) {
		snprintf(msg, msg_len, "Replication factor must be larger than 0.");
		return KP_ERR_INVALID_REPLICATION_FACTOR;
	}
	if (rf > 1) {
		snprintf(msg, msg_len, "Replication factor: %d larger than available brokers: 1.",
			 rf);
		return KP_ERR_INVALID_REPLICATION_FACTOR;
	}
	return ctl_catalog_topic_create(cat, &spec, validate_only, NULL, msg, msg_len);
}

enum ctl_disp kp_handle_create_topics(struct kp_req *req, struct kp_reader *r, struct kp_writer *w)
{
	int16_t v = req->api_version;
	enum ctl_disp d = CTL_DISP_CLOSE;
	struct ct_topic *ts = NULL;
	bool validate_only = false;
	int32_t n, i;

	n = kp_read_array(r, 16);                        /* topics */
	if (n < 0)
		goto out;
	ts = calloc((size_t)n + 1, sizeof(*ts));
	if (!ts)
		goto out;
	for (i = 0; i < n; i++)
		if (!ct_read_topic(r, &ts[i]))
			goto out;
	(void)kp_read_i32(r);                            /* timeout_ms: creation is synchronous */
	if (v >= 1)
		validate_only = kp_read_bool(r);         /* validate_only */
	if (!kp_reader_ok(r) || !ct_mark_duplicates(ts, n))
		goto out;

	if (v >= 2)
		kp_write_i32(w, 0);                      /* throttle_time_ms */
	kp_write_i32(w, n);                              /* topics */
	for (i = 0; i < n; i++) {
		char msg[512] = "";
		enum kp_err err = KP_ERR_TOPIC_AUTHORIZATION_FAILED;

		if (kp_authorized(req, CTL_ACL_CREATE, CTL_ACL_TOPIC, ts[i].name))
			err = ct_apply(req, &ts[i], validate_only, msg, sizeof(msg));
		else
			snprintf(msg, sizeof(msg), "Authorization failed.");

		kp_write_strn(w, ts[i].name.ptr, ts[i].name.len); /* name */
		kp_write_err(req, w, (int16_t)err);      /* error_code */
		if (v >= 1)                              /* error_message */
			kp_write_str(w, err == KP_ERR_NONE ? NULL : msg);
	}
	d = CTL_DISP_RESPOND;
out:
	for (i = 0; ts && i < n; i++)
		free(ts[i].configs);
	free(ts);
	return d;
}

/* ---- DeleteTopics -------------------------------------------------------- */

enum ctl_disp kp_handle_delete_topics(struct kp_req *req, struct kp_reader *r, struct kp_writer *w)
{
	struct kp_reader names;
	int32_t n;

	n = kp_read_array(r, 2);                         /* topic_names */
	names = *r;
	for (int32_t i = 0; i < n && kp_reader_ok(r); i++)
		(void)kp_read_str(r);
	(void)kp_read_i32(r);                            /* timeout_ms: deletion is synchronous */
	if (!kp_reader_ok(r) || n < 0)
		return CTL_DISP_CLOSE;

	if (req->api_version >= 1)
		kp_write_i32(w, 0);                      /* throttle_time_ms */
	kp_write_i32(w, n);                              /* responses */
	for (int32_t i = 0; i < n; i++) {
		struct kp_str name = kp_read_str(&names);

		kp_write_strn(w, name.ptr, name.len);    /* name */
		if (!kp_authorized(req, CTL_ACL_DELETE, CTL_ACL_TOPIC, name))
			kp_write_err(req, w, KP_ERR_TOPIC_AUTHORIZATION_FAILED); /* error_code */
		else
			kp_write_err(req, w, (int16_t)ctl_catalog_topic_delete(req->ctx->cat, name.ptr,
									       (size_t)name.len));
	}
	return CTL_DISP_RESPOND;
}

/* ---- DescribeConfigs ----------------------------------------------------- */

#define RES_TOPIC  2
#define RES_BROKER 4

struct dc_entry {
	const char *name;
	char value[PATH_MAX];
};

/* Is @name among the requested keys (@keys positioned at the array; n < 0 = all)? */
static bool dc_wanted(struct kp_reader keys, int32_t n, const char *name)
{
	if (n < 0)
		return true;
	for (int32_t i = 0; i < n; i++)
		if (kp_str_eq(kp_read_str(&keys), name))
			return true;
	return false;
}

static void dc_synonym(struct kp_writer *w, const char *name, const char *value, int8_t source)
{
	kp_write_str(w, name);                           /* name */
	kp_write_str(w, value);                          /* value */
	kp_write_i8(w, source);                          /* source */
}

/* configs[] entry of topic config @i. */
static void dc_topic_entry(struct kp_req *req, struct kp_writer *w, const struct ctl_topic *t,
			   enum ctl_tcfg i, bool synonyms)
{
	const struct ctl_tcfg_desc *d = ctl_tcfg_desc(i);
	int64_t bv = ctl_catalog_broker_value(req->ctx->cat, i);
	bool set = t->cfg.set_mask & (1u << i);
	int8_t source = set ? CTL_SRC_TOPIC
			    : bv != d->kafka_default ? CTL_SRC_STATIC_BROKER : CTL_SRC_DEFAULT;
	char val[32], bval[32], dval[32];
	size_t slot;
	int32_t n = 0;

	ctl_tcfg_format(i, t->cfg.v[i], val, sizeof(val));
	ctl_tcfg_format(i, bv, bval, sizeof(bval));
	ctl_tcfg_format(i, d->kafka_default, dval, sizeof(dval));
	kp_write_str(w, d->name);                        /* name */
	kp_write_str(w, val);                            /* value */
	kp_write_bool(w, false);                         /* read_only */
	if (req->api_version == 0)
		kp_write_bool(w, !set);                  /* is_default */
	if (req->api_version >= 1)
		kp_write_i8(w, source);                  /* config_source */
	kp_write_bool(w, false);                         /* is_sensitive */
	if (req->api_version < 1)
		return;
	slot = kp_write_i32_slot(w);                     /* synonyms */
	if (synonyms && set) {
		dc_synonym(w, d->name, val, CTL_SRC_TOPIC);
		n++;
	}
	if (synonyms && bv != d->kafka_default) {
		dc_synonym(w, d->broker_name, bval, CTL_SRC_STATIC_BROKER);
		n++;
	}
	if (synonyms) {
		dc_synonym(w, d->broker_name, dval, CTL_SRC_DEFAULT);
		n++;
	}
	kp_write_patch_i32(w, slot, n);
}

/* The broker's own settings, read-only (static configuration). */
static size_t dc_broker_entries(const struct fwc_broker *b, struct dc_entry *e)
{
	size_t n = 0, off = 0;

#define DC_ENT(key, ...) (e[n].name = key, snprintf(e[n].value, sizeof(e[n].value), __VA_ARGS__), n++)
	DC_ENT("broker.id", "%d", b->broker_id);
	e[n].name = "listeners";
	e[n].value[0] = '\0';
	for (unsigned int i = 0; i < b->n_listeners && off < sizeof(e[n].value); i++)
		off += (size_t)snprintf(e[n].value + off, sizeof(e[n].value) - off, "%s%s",
					i ? "," : "", b->listeners[i]);
	n++;
	DC_ENT("advertised.listeners", "%s", b->advertised_listeners);
	DC_ENT("log.dirs", "%s", b->log_dirs);
	DC_ENT("num.partitions", "%d", b->num_partitions);
	DC_ENT("auto.create.topics.enable", "%s", b->auto_create_topics_enable ? "true" : "false");
	DC_ENT("message.max.bytes", "%d", b->message_max_bytes);
	DC_ENT("fetch.max.bytes", "%d", b->fetch_max_bytes);
	DC_ENT("log.segment.bytes", "%" PRId64, b->log_segment_bytes);
	DC_ENT("log.roll.ms", "%" PRId64, b->log_roll_ms);
	DC_ENT("log.retention.ms", "%" PRId64, b->log_retention_ms);
	DC_ENT("log.retention.bytes", "%" PRId64, b->log_retention_bytes);
	DC_ENT("log.flush.interval.ms", "%" PRId64, b->log_flush_interval_ms);
	DC_ENT("socket.request.max.bytes", "%d", b->socket_request_max_bytes);
	DC_ENT("max.connections", "%d", b->max_connections);
	DC_ENT("connections.max.idle.ms", "%" PRId64, b->connections_max_idle_ms);
#undef DC_ENT
	return n;
}

static void dc_broker_entry(struct kp_req *req, struct kp_writer *w, const struct dc_entry *e,
			    bool synonyms)
{
	kp_write_str(w, e->name);                        /* name */
	kp_write_str(w, e->value);                       /* value */
	kp_write_bool(w, true);                          /* read_only */
	if (req->api_version == 0)
		kp_write_bool(w, false);                 /* is_default */
	if (req->api_version >= 1)
		kp_write_i8(w, CTL_SRC_STATIC_BROKER);   /* config_source */
	kp_write_bool(w, false);                         /* is_sensitive */
	if (req->api_version < 1)
		return;
	kp_write_i32(w, synonyms ? 1 : 0);               /* synonyms */
	if (synonyms)
		dc_synonym(w, e->name, e->value, CTL_SRC_STATIC_BROKER);
}

/* Write the configs[] of one resource after its error/type/name. */
static void dc_resource(struct kp_req *req, struct kp_writer *w, int8_t type, struct kp_str name,
			struct kp_reader keys, int32_t n_keys, bool synonyms)
{
	const struct fwc_broker *b = &req->ctx->cfg->broker;
	const struct ctl_topic *t = NULL;
	struct dc_entry be[24];
	char msg[300], id[16];
	int16_t err = KP_ERR_NONE;
	size_t slot, nb = 0;
	int32_t count = 0;

	snprintf(id, sizeof(id), "%d", req->ctx->node_id);
	if (type == RES_TOPIC) {
		t = ctl_catalog_find(req->ctx->cat, name.ptr, (size_t)name.len);
		if (!t) {
			err = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
			snprintf(msg, sizeof(msg), "Topic '%.*s' does not exist.",
				 (int)(name.len > 249 ? 249 : name.len), name.ptr);
		}
	} else if (type == RES_BROKER) {
		if (name.len == 0 || kp_str_eq(name, id))
			nb = dc_broker_entries(b, be);
		else {
			err = KP_ERR_INVALID_REQUEST;
			snprintf(msg, sizeof(msg), "Unexpected broker id, expected %s", id);
		}
	} else {
		err = KP_ERR_INVALID_REQUEST;
		snprintf(msg, sizeof(msg), "Unsupported resource type %d", type);
	}
	kp_write_err(req, w, err);                       /* error_code */
	kp_write_str(w, err ? msg : NULL);               /* error_message */
	kp_write_i8(w, type);                            /* resource_type */
	kp_write_strn(w, name.ptr, name.len);            /* resource_name */
	slot = kp_write_i32_slot(w);                     /* configs */
	for (int i = 0; t && i < CTL_TCFG_COUNT; i++)
		if (dc_wanted(keys, n_keys, ctl_tcfg_desc((enum ctl_tcfg)i)->name)) {
			dc_topic_entry(req, w, t, (enum ctl_tcfg)i, synonyms);
			count++;
		}
	for (size_t i = 0; i < nb; i++)
		if (dc_wanted(keys, n_keys, be[i].name)) {
			dc_broker_entry(req, w, &be[i], synonyms);
			count++;
		}
	kp_write_patch_i32(w, slot, count);
}

enum ctl_disp kp_handle_describe_configs(struct kp_req *req, struct kp_reader *r,
					 struct kp_writer *w)
{
	struct kp_reader res;
	bool synonyms = false;
	int32_t n;

	n = kp_read_array(r, 7);                         /* resources */
	res = *r;
	for (int32_t i = 0; i < n && kp_reader_ok(r); i++) {
		int32_t k;

		(void)kp_read_i8(r);                     /* resource_type */
		(void)kp_read_str(r);                    /* resource_name */
		k = kp_read_array(r, 2);                 /* configuration_keys */
		for (int32_t j = 0; j < k && kp_reader_ok(r); j++)
			(void)kp_read_str(r);
	}
	if (req->api_version >= 1)
		synonyms = kp_read_bool(r);              /* include_synonyms */
	if (!kp_reader_ok(r) || n < 0)
		return CTL_DISP_CLOSE;

	kp_write_i32(w, 0);                              /* throttle_time_ms */
	kp_write_i32(w, n);                              /* results */
	for (int32_t i = 0; i < n; i++) {
		int8_t type = kp_read_i8(&res);
		struct kp_str name = kp_read_str(&res);
		int32_t k = kp_read_array(&res, 2);
		struct kp_reader keys = res;

		for (int32_t j = 0; j < k; j++)
			(void)kp_read_str(&res);
		dc_resource(req, w, type, name, keys, k, synonyms);
	}
	return CTL_DISP_RESPOND;
}
