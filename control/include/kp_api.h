/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kp_api.h - the Kafka protocol codec, upper layer: request headers, the
 * API table and the handlers.
 *
 * One table of {api_key, min_version, max_version, handler} drives both
 * dispatch and the ApiVersions answer, so the broker never advertises a
 * version it cannot parse.  A request for a key or version outside the
 * table closes the connection (as Kafka does), except ApiVersions, which
 * answers an unsupported version with a v0 body carrying
 * UNSUPPORTED_VERSION and its own range so that clients retry lower.
 *
 * Handlers read their request fields in spec order with the kp_buf cursors
 * (one kp_reader_ok() check at the end: a malformed body closes the
 * connection) and write the response body in spec order, each field
 * gated by "if (version >= N)" and named as in Kafka's JSON schemas.
 * Produce, Fetch, ListOffsets and the group APIs plug in as more table rows
 * with handlers that may return CTL_DISP_PENDING and keep req->resp.
 */
#ifndef KP_API_H
#define KP_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl_server.h"
#include "ctl_acl.h"
#include "kp_buf.h"
#include "kp_err.h"

struct ctl_catalog;
struct ctl_groups;
struct ctl_pids;
struct ctl_store;
struct fwc_config;
struct kp_data;

enum kp_api_key {
	KP_API_PRODUCE = 0,
	KP_API_FETCH = 1,
	KP_API_LIST_OFFSETS = 2,
	KP_API_METADATA = 3,
	KP_API_OFFSET_COMMIT = 8,
	KP_API_OFFSET_FETCH = 9,
	KP_API_FIND_COORDINATOR = 10,
	KP_API_JOIN_GROUP = 11,
	KP_API_HEARTBEAT = 12,
	KP_API_LEAVE_GROUP = 13,
	KP_API_SYNC_GROUP = 14,
	KP_API_DESCRIBE_GROUPS = 15,
	KP_API_LIST_GROUPS = 16,
	KP_API_SASL_HANDSHAKE = 17,
	KP_API_API_VERSIONS = 18,
	KP_API_CREATE_TOPICS = 19,
	KP_API_DELETE_TOPICS = 20,
	KP_API_INIT_PRODUCER_ID = 22,
	KP_API_DESCRIBE_CONFIGS = 32,
	KP_API_SASL_AUTHENTICATE = 36,
};

/* What the handlers need; owned by the caller, read-only to handlers. */
#define KP_MAX_LISTENERS 4    /* = FWC_MAX_LISTENERS */

struct kp_api_ctx {
	struct ctl_catalog *cat;
	const struct fwc_config *cfg;
	int32_t node_id;                /* broker.id */
	struct {
		char host[256];
		int32_t port;
	} adv[KP_MAX_LISTENERS];        /* advertised address, per listener (listeners order) */
	unsigned int n_adv;
	char cluster_id[64];
	struct kp_data *data;           /* record APIs' state (kp_data_create); NULL: none */
	struct ctl_groups *groups;      /* the group coordinator (ctl_groups_create); NULL: none */
	struct ctl_pids *pids;          /* producer ids (ctl_pids_open); NULL: InitProducerId answers 15 */
	struct kp_authz *authz;         /* ACLs (kp_authz_create); NULL: no authorizer, all allowed */
};

/* One request being handled. */
struct kp_req {
	const struct kp_api_ctx *ctx;
	int16_t api_key;
	int16_t api_version;
	int32_t correlation_id;
	struct kp_str client_id;
	bool flexible;                  /* request header v2 / response header v1 */
	struct ctl_resp *resp;          /* the slot (NULL when called without a server) */
	unsigned int errors;            /* error codes written into the response */
};

/*
 * A handler: body reader positioned after the request header, writer
 * holding the response header.  Returns a ctl_disp.
 */
typedef enum ctl_disp (*kp_handler_fn)(struct kp_req *req, struct kp_reader *r,
				       struct kp_writer *w);

struct kp_api_entry {
	int16_t api_key;
	int16_t min_version;
	int16_t max_version;
	int16_t first_flexible;         /* first flexible version (header v2) */
	const char *name;
	kp_handler_fn handler;
};

/** The table (sorted by api_key) and its length. */
const struct kp_api_entry *kp_api_table(size_t *n);

/**
 * Fill @ctx from the configuration: broker.id, advertised host/port
 * (advertised.listeners, else the first listener; an empty or wildcard
 * host becomes the machine's host name), and the cluster id
 * (ctl_cluster_id_load on log.dirs, or "sluice-<broker.id>" without one).
 *
 * @return 0 or -EINVAL (unparsable listener).
 */
int kp_api_ctx_init(struct kp_api_ctx *ctx, const struct fwc_config *cfg,
		    struct ctl_catalog *cat);

/**
 * Handle one request frame (header + body, no size prefix): parse the
 * header, look up the table, write "i32 size, correlation_id" then let the
 * handler write the body.  On CTL_DISP_RESPOND the size is patched, so @w
 * holds a complete frame.  @resp may be NULL (tests).
 */
enum ctl_disp kp_api_dispatch(const struct kp_api_ctx *ctx, const uint8_t *frame, size_t len,
			      struct kp_writer *w, struct ctl_resp *resp);

/** ctl_dispatch_fn adapter: @arg is a struct kp_api_ctx. */
enum ctl_disp kp_api_serve(void *arg, const uint8_t *frame, size_t len, struct ctl_resp *resp);

/**
 * The state of the record APIs (Produce, Fetch, ListOffsets) over @store:
 * produces waiting for a ring slot, a dataplane lcore or a watermark, and
 * long-polling fetches.  Control thread.  Put it in kp_api_ctx.data.
 *
 * @return 0 or -ENOMEM.
 */
int kp_data_create(struct ctl_store *store, struct kp_data **out);

/**
 * Free, after the server is destroyed (which cancels every waiting
 * response) and the dataplane lcores are stopped, and before the catalog
 * (its closing hook is removed here).  NULL is a no-op.
 */
void kp_data_destroy(struct kp_data *d);

/**
 * The authorizer from acls.location, super.users and
 * allow.everyone.if.no.acl.found; *@out stays NULL without acls.location.
 * @return 0, -EINVAL (the file is missing or malformed: logged), -ENOMEM.
 */
int kp_authz_create(const struct fwc_broker *b, struct kp_authz **out);
void kp_authz_destroy(struct kp_authz *z);
/** May the request's principal do @op on resource @res @name?  True without an authorizer. */
bool kp_authorized(struct kp_req *req, enum ctl_acl_op op, enum ctl_acl_res res,
		   struct kp_str name);

/**
 * The address Metadata and FindCoordinator give: that of the listener the
 * request came in on (kp_api_ctx.adv), the first one without a server.
 */
void kp_api_advertised(const struct kp_req *req, const char **host, int32_t *port);

/** Write an error code and count it when non-zero. */
static inline void kp_write_err(struct kp_req *req, struct kp_writer *w, int16_t code)
{
	if (code != KP_ERR_NONE)
		req->errors++;
	kp_write_i16(w, code);
}

/* Handlers (kp_api.c, kp_metadata.c, kp_admin.c, kp_produce.c, kp_fetch.c, kp_list_offsets.c). */
enum ctl_disp kp_handle_api_versions(struct kp_req *req, struct kp_reader *r, struct kp_writer *w);
enum ctl_disp kp_handle_metadata(struct kp_req *req, struct kp_reader *r, struct kp_writer *w);
enum ctl_disp kp_handle_create_topics(struct kp_req *req, struct kp_reader *r, struct kp_writer *w);
enum ctl_disp kp_handle_delete_topics(struct kp_req *req, struct kp_reader *r, struct kp_writer *w);
enum ctl_disp kp_handle_describe_configs(struct kp_req *req, struct kp_reader *r,
					 struct kp_writer *w);
/* kp_sasl.c */
enum ctl_disp kp_handle_sasl_handshake(struct kp_req *req, struct kp_reader *r,
				       struct kp_writer *w);
enum ctl_disp kp_handle_sasl_authenticate(struct kp_req *req, struct kp_reader *r,
					  struct kp_writer *w);
enum ctl_disp kp_handle_produce(struct kp_req *req, struct kp_reader *r, struct kp_writer *w);
enum ctl_disp kp_handle_fetch(struct kp_req *req, struct kp_reader *r, struct kp_writer *w);
enum ctl_disp kp_handle_list_offsets(struct kp_req *req, struct kp_reader *r,
				     struct kp_writer *w);
/* kp_group.c */
enum ctl_disp kp_handle_offset_commit(struct kp_req *req, struct kp_reader *r, struct kp_writer *w);
enum ctl_disp kp_handle_offset_fetch(struct kp_req *req, struct kp_reader *r, struct kp_writer *w);
enum ctl_disp kp_handle_find_coordinator(struct kp_req *req, struct kp_reader *r,
					 struct kp_writer *w);
enum ctl_disp kp_handle_join_group(struct kp_req *req, struct kp_reader *r, struct kp_writer *w);
enum ctl_disp kp_handle_heartbeat(struct kp_req *req, struct kp_reader *r, struct kp_writer *w);
enum ctl_disp kp_handle_leave_group(struct kp_req *req, struct kp_reader *r, struct kp_writer *w);
enum ctl_disp kp_handle_sync_group(struct kp_req *req, struct kp_reader *r, struct kp_writer *w);
enum ctl_disp kp_handle_describe_groups(struct kp_req *req, struct kp_reader *r,
					struct kp_writer *w);
enum ctl_disp kp_handle_list_groups(struct kp_req *req, struct kp_reader *r, struct kp_writer *w);
/* kp_init_pid.c */
enum ctl_disp kp_handle_init_producer_id(struct kp_req *req, struct kp_reader *r,
					 struct kp_writer *w);

#endif /* KP_API_H */
