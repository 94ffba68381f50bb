/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kp_api.c - request header parsing, the API table, dispatch and ApiVersions.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl_catalog.h"
#include "ctl_listener.h"
#include "ctl_log.h"
#include "fwc_config.h"
#include "kp_api.h"

/*
 * Versions advertised: exactly the brief's table for the APIs implemented
 * (docs/control.md).  Sorted by key; ApiVersions lists them in this order.
 */
static const struct kp_api_entry api_table[] = {
	{ KP_API_PRODUCE, 0, 7, 9, "Produce", kp_handle_produce },
	{ KP_API_FETCH, 4, 11, 12, "Fetch", kp_handle_fetch },
	{ KP_API_LIST_OFFSETS, 1, 2, 6, "ListOffsets", kp_handle_list_offsets },
	{ KP_API_METADATA, 0, 5, 9, "Metadata", kp_handle_metadata },
	{ KP_API_OFFSET_COMMIT, 2, 7, 8, "OffsetCommit", kp_handle_offset_commit },
	{ KP_API_OFFSET_FETCH, 1, 5, 6, "OffsetFetch", kp_handle_offset_fetch },
	{ KP_API_FIND_COORDINATOR, 0, 2, 3, "FindCoordinator", kp_handle_find_coordinator },
	{ KP_API_JOIN_GROUP, 0, 5, 6, "JoinGroup", kp_handle_join_group },
	{ KP_API_HEARTBEAT, 0, 3, 4, "Heartbeat", kp_handle_heartbeat },
	{ KP_API_LEAVE_GROUP, 0, 1, 4, "LeaveGroup", kp_handle_leave_group },
	{ KP_API_SYNC_GROUP, 0, 3, 4, "SyncGroup", kp_handle_sync_group },
	{ KP_API_DESCRIBE_GROUPS, 0, 2, 5, "DescribeGroups", kp_handle_describe_groups },
	{ KP_API_LIST_GROUPS, 0, 2, 3, "ListGroups", kp_handle_list_groups },
	{ KP_API_SASL_HANDSHAKE, 0, 1, 2, "SaslHandshake", kp_handle_sasl_handshake },
	{ KP_API_API_VERSIONS, 0, 2, 3, "ApiVersions", kp_handle_api_versions },
	{ KP_API_CREATE_TOPICS, 0, 4, 5, "CreateTopics", kp_handle_create_topics },
	{ KP_API_DELETE_TOPICS, 0, 3, 4, "DeleteTopics", kp_handle_delete_topics },
	{ KP_API_INIT_PRODUCER_ID, 0, 1, 2, "InitProducerId", kp_handle_init_producer_id },
	{ KP_API_DESCRIBE_CONFIGS, 0, 1, 4, "DescribeConfigs", kp_handle_describe_configs },
	{ KP_API_SASL_AUTHENTICATE, 0, 2, 2, "SaslAuthenticate", kp_handle_sasl_authenticate },
};

const struct kp_api_entry *kp_api_table(size_t *n)
{
	*n = sizeof(api_table) / sizeof(api_table[0]);
	return api_table;
}

const char *kp_err_name(int16_t code)
{
	switch (code) {
#define KP_ERR_CASE(name, c) case c: return #name;
		KP_ERRORS(KP_ERR_CASE)
#undef KP_ERR_CASE
	}
	return "UNKNOWN_CODE";
}

static const struct kp_api_entry *api_find(int16_t key)
{
	for (size_t i = 0; i < sizeof(api_table) / sizeof(api_table[0]); i++)
		if (api_table[i].api_key == key)
			return &api_table[i];
	return NULL;
}

/* ApiVersions: error_code, api_keys[api_key, min_version, max_version], throttle_time_ms (v1+). */
enum ctl_disp kp_handle_api_versions(struct kp_req *req, struct kp_reader *r, struct kp_writer *w)
{
	size_t n;
	const struct kp_api_entry *t = kp_api_table(&n);

	(void)r; /* v0-2 bodies are empty; extra bytes are ignored as Kafka does */
	kp_write_err(req, w, KP_ERR_NONE);               /* error_code */
	kp_write_i32(w, (int32_t)n);                     /* api_keys */
	for (size_t i = 0; i < n; i++) {
		kp_write_i16(w, t[i].api_key);           /* api_key */
		kp_write_i16(w, t[i].min_version);       /* min_version */
		kp_write_i16(w, t[i].max_version);       /* max_version */
	}
	if (req->api_version >= 1)
		kp_write_i32(w, 0);                      /* throttle_time_ms */
	return CTL_DISP_RESPOND;
}

/*
 * ApiVersions at a version we do not speak (librdkafka opens with v3): a v0
 * body whatever was asked, error UNSUPPORTED_VERSION and our ApiVersions
 * range, so the client retries at a version we list (Kafka does the same).
 */
static void api_versions_fallback(struct kp_req *req, struct kp_writer *w)
{
	const struct kp_api_entry *e = api_find(KP_API_API_VERSIONS);

	kp_write_err(req, w, KP_ERR_UNSUPPORTED_VERSION); /* error_code */
	kp_write_i32(w, 1);                              /* api_keys */
	kp_write_i16(w, e->api_key);
	kp_write_i16(w, e->min_version);
	kp_write_i16(w, e->max_version);
}

enum ctl_disp kp_api_dispatch(const struct kp_api_ctx *ctx, const uint8_t *frame, size_t len,
			      struct kp_writer *w, struct ctl_resp *resp)
{
	struct kp_req req = { .ctx = ctx, .resp = resp };
	const struct kp_api_entry *e;
	enum ctl_disp d;
	struct kp_reader r;

	kp_reader_init(&r, frame, len);
	req.api_key = kp_read_i16(&r);                   /* request_api_key */
	req.api_version = kp_read_i16(&r);               /* request_api_version */
	req.correlation_id = kp_read_i32(&r);            /* correlation_id */
	if (!kp_reader_ok(&r))
		return CTL_DISP_CLOSE;
	e = api_find(req.api_key);
	kp_write_i32_slot(w);                            /* frame size */
	kp_write_i32(w, req.correlation_id);             /* response header: correlation_id */
	if (req.api_key == KP_API_API_VERSIONS &&
	    (req.api_version < e->min_version || req.api_version > e->max_version)) {
		api_versions_fallback(&req, w);
		d = CTL_DISP_RESPOND;
		goto out;
	}
	if (!e || req.api_version < e->min_version || req.api_version > e->max_version)
		return CTL_DISP_UNSUPPORTED;
	req.flexible = req.api_version >= e->first_flexible;
	req.client_id = kp_read_nstr(&r);                /* client_id (header v1+) */
	if (req.flexible)
		kp_read_tags_skip(&r);                   /* header v2 tagged fields */
	if (!kp_reader_ok(&r))
		return CTL_DISP_CLOSE;
	/* Response header v1 has tagged fields, except for ApiVersions (KIP-511). */
	if (req.flexible && req.api_key != KP_API_API_VERSIONS)
		kp_write_tags_empty(w);
	d = e->handler(&req, &r, w);
out:
	if (d == CTL_DISP_RESPOND)
		kp_write_patch_i32(w, 0, (int32_t)(w->len - 4));
	if (resp && req.errors)
		ctl_resp_add_errors(resp, req.errors);
	return d;
}

enum ctl_disp kp_api_serve(void *arg, const uint8_t *frame, size_t len, struct ctl_resp *resp)
{
	return kp_api_dispatch(arg, frame, len, ctl_resp_writer(resp), resp);
}

/*
 * The advertised listener named @name in a comma-separated list (@name
 * NULL: the first entry).  @return 0, -ENOENT (none of that name), -EINVAL.
 */
static int advertised_listener(const char *list, const char *name, struct ctl_listener *l)
{
	char one[FWC_STR_MAX];

	for (const char *p = list; *p; p += *p == ',') {
		size_t n = strcspn(p, ",");

		if (n >= sizeof(one))
			return -EINVAL;
		memcpy(one, p, n);
		one[n] = '\0';
		p += n;
		if (ctl_listener_parse(one, NULL, l) < 0)
			return -EINVAL;
		if (!name || !strcmp(l->name, name))
			return 0;
	}
	return -ENOENT;
}

/* The host clients are told for @l: a wildcard or empty host is this machine's name. */
static void advertised_host(const struct ctl_listener *l, char *host, size_t len)
{
	if (!l->host[0] || strcmp(l->host, "0.0.0.0") == 0 || strcmp(l->host, "::") == 0) {
		if (gethostname(host, len - 1) < 0)
			snprintf(host, len, "localhost");
	} else {
		snprintf(host, len, "%s", l->host);
	}
}

_Static_assert(KP_MAX_LISTENERS == FWC_MAX_LISTENERS, "one advertised address per listener");

/*
 * Per listener, as Kafka: the advertised.listeners entry of the same name,
 * else its first entry, else the listener's own address.
 */
static int advertised_init(struct kp_api_ctx *ctx, const struct fwc_broker *b)
{
	struct ctl_listener own, l;
	int rc;

	for (unsigned int i = 0; i < b->n_listeners && i < KP_MAX_LISTENERS; i++) {
		if (ctl_listener_parse(b->listeners[i], b->listener_security_protocol_map, &own) < 0)
			return -EINVAL;
		rc = b->advertised_listeners[0]
			     ? advertised_listener(b->advertised_listeners, own.name, &l) : -ENOENT;
		if (rc == -ENOENT && b->advertised_listeners[0])
			rc = advertised_listener(b->advertised_listeners, NULL, &l);
		if (rc == -ENOENT) {
			l = own;
			rc = 0;
		}
		if (rc < 0)
			return -EINVAL;
		advertised_host(&l, ctx->adv[i].host, sizeof(ctx->adv[i].host));
		ctx->adv[i].port = l.port;
		ctx->n_adv = i + 1;
	}
	return ctx->n_adv ? 0 : -EINVAL;
}

void kp_api_advertised(const struct kp_req *req, const char **host, int32_t *port)
{
	int i = req->resp ? ctl_resp_listener(req->resp) : 0;

	if (i < 0 || (unsigned int)i >= req->ctx->n_adv)
		i = 0;
	*host = req->ctx->adv[i].host;
	*port = req->ctx->adv[i].port;
}

int kp_api_ctx_init(struct kp_api_ctx *ctx, const struct fwc_config *cfg,
		    struct ctl_catalog *cat)
{
	const struct fwc_broker *b = &cfg->broker;
	int rc;

	memset(ctx, 0, sizeof(*ctx));
	ctx->cat = cat;
	ctx->cfg = cfg;
	ctx->node_id = b->broker_id;
	if (advertised_init(ctx, b) < 0)
		return -EINVAL;
	rc = b->log_dirs[0] ? ctl_cluster_id_load(b->log_dirs, b->broker_id, ctx->cluster_id,
						  sizeof(ctx->cluster_id))
			    : -ENOENT;
	if (rc < 0) {
		if (b->log_dirs[0])
			CTL_LOG(WARNING, "%s/meta.properties: %s; using a derived cluster id",
				b->log_dirs, strerror(-rc));
		snprintf(ctx->cluster_id, sizeof(ctx->cluster_id), "sluice-%d", b->broker_id);
	}
	return 0;
}
