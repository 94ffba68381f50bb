/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fwc_config.c - the table of configuration keys, built-in defaults, typed
 * value parsing, and --override KEY=VALUE.
 *
 * The YAML loader (fwc_yaml.c) and fwc_config_override() both end up in
 * fwc_key_set_scalar()/fwc_key_set_list(), so a value is checked the same way
 * whether it came from the file or the command line, and every key in the
 * table is overridable by its dotted name without further code.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "fwc_internal.h"

#define OVERRIDE_FILE "--override"

/* ---- the key table ---------------------------------------------------- */

#define MEMBER(S, m) (((S *)0)->m)
#define IS_SIGNED(x) _Generic((x), int8_t: 1, int16_t: 1, int32_t: 1, int64_t: 1, default: 0)

#define K_INT(sc, S, m, nm, lo, hi, fl) \
	{ .sec = sc, .name = nm, .type = FWC_T_INT, .off = offsetof(S, m), \
	  .size = sizeof(MEMBER(S, m)), .is_signed = IS_SIGNED(MEMBER(S, m)), \
	  .min = lo, .max = hi, .flags = fl }
#define K_BOOL(sc, S, m, nm) \
	{ .sec = sc, .name = nm, .type = FWC_T_BOOL, .off = offsetof(S, m), \
	  .size = sizeof(bool) }
#define K_ENUM(sc, S, m, nm, nms) \
	{ .sec = sc, .name = nm, .type = FWC_T_ENUM, .off = offsetof(S, m), \
	  .size = sizeof(MEMBER(S, m)), .names = nms }
#define K_STR(sc, S, m, nm, fl) \
	{ .sec = sc, .name = nm, .type = FWC_T_STR, .off = offsetof(S, m), \
	  .size = sizeof(MEMBER(S, m)), .flags = fl }
#define K_STRLIST(sc, S, m, cnt, nm, fl, sp) \
	{ .sec = sc, .name = nm, .type = FWC_T_STRLIST, .off = offsetof(S, m), \
	  .size = sizeof(MEMBER(S, m)[0]), .count_off = offsetof(S, cnt), \
	  .max_n = sizeof(MEMBER(S, m)) / sizeof(MEMBER(S, m)[0]), .flags = fl, .sep = sp }
#define K_INTLIST(sc, S, m, cnt, org, nm, lo, hi) \
	{ .sec = sc, .name = nm, .type = FWC_T_INTLIST, .off = offsetof(S, m), \
	  .size = sizeof(MEMBER(S, m)[0]), .count_off = offsetof(S, cnt), \
	  .origin_off = offsetof(S, org), .is_signed = IS_SIGNED(MEMBER(S, m)[0]), \
	  .max_n = sizeof(MEMBER(S, m)) / sizeof(MEMBER(S, m)[0]), .min = lo, .max = hi, \
	  .sep = ',' }
#define K_TCFG(nm, lo, hi) \
	{ .sec = FWC_SEC_TOPIC_CONFIG, .name = nm, .type = FWC_T_INT, \
	  .size = sizeof(int64_t), .is_signed = true, .min = lo, .max = hi }
#define K_TCFG_ENUM(nm, nms) \
	{ .sec = FWC_SEC_TOPIC_CONFIG, .name = nm, .type = FWC_T_ENUM, .names = nms }

#define B FWC_SEC_BROKER
#define SB struct fwc_broker
#define S FWC_SEC_STORAGE
#define SS struct fwc_storage
#define D FWC_SEC_DATAPLANE
#define SD struct fwc_dataplane
#define P FWC_SEC_PORT
#define SP struct fwc_port
#define T FWC_SEC_TOPIC
#define ST struct fwc_topic
#define R FWC_SEC_RULE
#define SR struct fwc_rule

#define CPU_MAX 1023    /* Linux CPU ids we accept; existence is checked by validate */

static const char *const tristate_names[] = { "auto", "on", "off", NULL };
static const char *const visibility_names[] = { "durable", "flushed", "written", NULL };
static const char *const mode_names[] = { "tap", "produce", NULL };
static const char *const rkey_names[] = { "none", "source", NULL };
static const char *const header_names[] = { "addresses", NULL };
static const char *const cleanup_names[] = { "delete", NULL };
static const char *const rx_ts_names[] = { "auto", "hardware", "software", NULL };
static const char *const client_auth_names[] = { "none", "requested", "required", NULL };
static const char *const tstype_names[] = { "CreateTime", "LogAppendTime", NULL };

/* Within a section the order is the dump order. */
static const struct fwc_key keys[] = {
	K_INT(B, SB, broker_id, "broker.id", 0, INT32_MAX, 0),
	K_STRLIST(B, SB, listeners, n_listeners, "listeners", FWC_F_NONEMPTY | FWC_F_LISTENER, ','),
	K_STR(B, SB, advertised_listeners, "advertised.listeners", 0),
	K_STR(B, SB, listener_security_protocol_map, "listener.security.protocol.map", FWC_F_PROTOMAP),
	K_STR(B, SB, log_dirs, "log.dirs", FWC_F_NONEMPTY | FWC_F_ONE_DIR),
	K_INT(B, SB, num_partitions, "num.partitions", 1, 4096, 0),
	K_BOOL(B, SB, auto_create_topics_enable, "auto.create.topics.enable"),
	K_INT(B, SB, message_max_bytes, "message.max.bytes", 0, INT32_MAX, 0),
	K_INT(B, SB, fetch_max_bytes, "fetch.max.bytes", 1024, INT32_MAX, 0),
	K_INT(B, SB, log_segment_bytes, "log.segment.bytes", 14, INT32_MAX, 0),
	K_INT(B, SB, log_roll_ms, "log.roll.ms", 1, INT64_MAX, 0),
	K_INT(B, SB, log_retention_ms, "log.retention.ms", -1, INT64_MAX, 0),
	K_INT(B, SB, log_retention_bytes, "log.retention.bytes", -1, INT64_MAX, 0),
	K_INT(B, SB, log_retention_check_interval_ms, "log.retention.check.interval.ms", 1, INT64_MAX, 0),
	K_INT(B, SB, log_index_interval_bytes, "log.index.interval.bytes", 0, INT32_MAX, 0),
	K_INT(B, SB, log_index_size_max_bytes, "log.index.size.max.bytes", 4, INT32_MAX, 0),
	K_INT(B, SB, log_flush_interval_messages, "log.flush.interval.messages", 1, INT64_MAX, 0),
	K_INT(B, SB, log_flush_interval_ms, "log.flush.interval.ms", 0, INT64_MAX, 0),
	K_INT(B, SB, socket_request_max_bytes, "socket.request.max.bytes", 1, INT32_MAX, 0),
	K_INT(B, SB, max_connections, "max.connections", 0, INT32_MAX, 0),
	K_INT(B, SB, connections_max_idle_ms, "connections.max.idle.ms", -1, INT64_MAX, 0),
	K_INT(B, SB, offsets_topic_num_partitions, "offsets.topic.num.partitions", 1, INT32_MAX, 0),
	K_INT(B, SB, offsets_topic_segment_bytes, "offsets.topic.segment.bytes", 14, INT32_MAX, 0),
	K_INT(B, SB, offsets_retention_minutes, "offsets.retention.minutes", 1, INT32_MAX, 0),
	K_INT(B, SB, offsets_retention_check_interval_ms, "offsets.retention.check.interval.ms", 1, INT64_MAX, 0),
	K_INT(B, SB, offset_metadata_max_bytes, "offset.metadata.max.bytes", 0, INT32_MAX, 0),
	K_INT(B, SB, group_initial_rebalance_delay_ms, "group.initial.rebalance.delay.ms", 0, INT32_MAX, 0),
	K_INT(B, SB, group_min_session_timeout_ms, "group.min.session.timeout.ms", 0, INT32_MAX, 0),
	K_INT(B, SB, group_max_session_timeout_ms, "group.max.session.timeout.ms", 0, INT32_MAX, 0),
	K_INT(B, SB, group_max_size, "group.max.size", 1, INT32_MAX, 0),
	K_INT(B, SB, group_max_count, "group.max.count", 1, INT32_MAX, 0),
	K_INT(B, SB, max_broker_partitions, "max.broker.partitions", 1, INT32_MAX, 0),
	K_INT(B, SB, producer_id_expiration_ms, "producer.id.expiration.ms", 1, INT32_MAX, 0),
	K_STR(B, SB, metrics_listener, "metrics.listener", FWC_F_HOSTPORT),
	K_STR(B, SB, ssl_certificate_location, "ssl.certificate.location", 0),
	K_STR(B, SB, ssl_key_location, "ssl.key.location", 0),
	K_STR(B, SB, ssl_ca_location, "ssl.ca.location", 0),
	K_ENUM(B, SB, ssl_client_auth, "ssl.client.auth", client_auth_names),
	K_STRLIST(B, SB, sasl_enabled_mechanisms, n_sasl_mechanisms, "sasl.enabled.mechanisms",
		  FWC_F_NONEMPTY, ','),
	K_STR(B, SB, sasl_credentials_location, "sasl.credentials.location", 0),
	K_INT(B, SB, sasl_max_failed_logins_per_minute, "sasl.max.failed.logins.per.minute", 0,
	      INT32_MAX, 0),
	K_STR(B, SB, acls_location, "acls.location", 0),
	K_STR(B, SB, super_users, "super.users", 0),
	K_BOOL(B, SB, allow_everyone_if_no_acl_found, "allow.everyone.if.no.acl.found"),
	K_BOOL(B, SB, listeners_allow_insecure, "listeners.allow.insecure"),

	K_INT(S, SS, writer_threads, "writer.threads", 1, 16, 0),
	K_INTLIST(S, SS, writer_cpus, n_writer_cpus, writer_cpus_origin, "writer.cpus", 0, CPU_MAX),
	K_INT(S, SS, ring_bytes, "ring.bytes", 65536, (int64_t)1 << 40, FWC_F_POW2),
	K_ENUM(S, SS, hugepages, "hugepages", tristate_names),
	K_ENUM(S, SS, direct_io, "direct.io", tristate_names),
	K_INT(S, SS, write_max_bytes, "write.max.bytes", 4096, 64 << 20, FWC_F_POW2),
	K_ENUM(S, SS, consumer_visibility, "consumer.visibility", visibility_names),
	K_INT(S, SS, producers_max, "producers.max", 0, 1 << 20, 0),
	K_INT(S, SS, io_error_retry_ms, "io.error.retry.ms", -1, 3600000, 0),

	{ .sec = FWC_SEC_CONTROL, .name = "cpu", .type = FWC_T_INT,
	  .off = offsetof(struct fwc_control, cpu), .size = sizeof(int32_t), .is_signed = true,
	  .origin_off = offsetof(struct fwc_control, origin), .min = -1, .max = CPU_MAX },
	K_STR(FWC_SEC_CONTROL, struct fwc_control, user, "user", 0),
	K_STR(FWC_SEC_CONTROL, struct fwc_control, group, "group", 0),

	K_STRLIST(D, SD, eal_args, n_eal_args, "eal", 0, ' '),
	K_BOOL(D, SD, exclusive_lcores, "exclusive.lcores"),
	K_INT(D, SD, burst_size, "burst.size", 1, 512, 0),
	K_INT(D, SD, frag_table_entries, "frag.table.entries", 1, 1 << 20, 0),
	K_INT(D, SD, frag_timeout_ms, "frag.timeout.ms", 1, 3600000, 0),

	K_STR(P, SP, name, "name", FWC_F_NONEMPTY),
	K_STR(P, SP, device, "device", FWC_F_NONEMPTY),
	K_INT(P, SP, rx_queues, "rx.queues", 1, FWC_MAX_QUEUES, 0),
	K_INT(P, SP, rx_descriptors, "rx.descriptors", 64, 16384, FWC_F_POW2),
	K_INTLIST(P, SP, rx_lcores, n_rx_lcores, lcores_origin, "rx.lcores", 0, CPU_MAX),
	K_BOOL(P, SP, promiscuous, "promiscuous"),
	K_INT(P, SP, mbufs, "mbufs", 0, 1 << 24, 0),
	K_ENUM(P, SP, rx_timestamp, "rx.timestamp", rx_ts_names),

	K_STR(T, ST, name, "name", FWC_F_NONEMPTY),
	K_INT(T, ST, partitions, "partitions", 1, 4096, 0),

	K_INT(R, SR, udp_port, "udp.port", 1, 65535, 0),
	{ .sec = R, .name = "address", .type = FWC_T_ADDR, .off = offsetof(SR, address) },
	K_INT(R, SR, vlan, "vlan", -1, 4095, 0),
	K_ENUM(R, SR, mode, "mode", mode_names),
	K_ENUM(R, SR, key, "key", rkey_names),
	{ .sec = R, .name = "headers", .type = FWC_T_FLAGS, .off = offsetof(SR, headers),
	  .size = sizeof(uint32_t), .max_n = 32, .names = header_names, .sep = ',' },
	K_INT(R, SR, batch_size, "batch.size", 64, 16 << 20, 0),
	K_INT(R, SR, linger_ms, "linger.ms", 0, 60000, 0),

	K_STR(FWC_SEC_UPLINK, struct fwc_uplink, bootstrap_servers, "bootstrap.servers", FWC_F_NONEMPTY),
	K_STR(FWC_SEC_UPLINK, struct fwc_uplink, topic, "topic", 0),
	K_INT(FWC_SEC_UPLINK, struct fwc_uplink, partition_offset, "partition.offset", 0, 1 << 20, 0),
	K_BOOL(FWC_SEC_UPLINK, struct fwc_uplink, retention_override, "retention.override"),

	/* Kafka topic configs we honour; values are kept as text. */
	K_TCFG("retention.ms", -1, INT64_MAX),
	K_TCFG("retention.bytes", -1, INT64_MAX),
	K_TCFG("segment.bytes", 14, INT32_MAX),
	K_TCFG("segment.ms", 1, INT64_MAX),
	K_TCFG("max.message.bytes", 0, INT32_MAX),
	K_TCFG_ENUM("cleanup.policy", cleanup_names),
	K_TCFG_ENUM("message.timestamp.type", tstype_names),
	K_TCFG("index.interval.bytes", 0, INT32_MAX),
	K_TCFG("segment.index.bytes", 4, INT32_MAX),
	K_TCFG("flush.messages", 1, INT64_MAX),
	K_TCFG("flush.ms", 0, INT64_MAX),
};

const struct fwc_key *fwc_key_at(size_t i)
{
	return i < sizeof(keys) / sizeof(keys[0]) ? &keys[i] : NULL;
}

const struct fwc_key *fwc_key_find(enum fwc_section sec, const char *name)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i].sec == sec && strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

void *fwc_section_base(struct fwc_config *cfg, enum fwc_section sec)
{
	switch (sec) {
	case FWC_SEC_BROKER: return &cfg->broker;
	case FWC_SEC_STORAGE: return &cfg->storage;
	case FWC_SEC_CONTROL: return &cfg->control;
	case FWC_SEC_DATAPLANE: return &cfg->dataplane;
	default: return NULL;
	}
}

/* ---- diagnostics ------------------------------------------------------ */

static void vreport(struct fwc_diag *d, const char *file, unsigned int line, const char *key,
		    const char *fmt, va_list ap)
{
	char msg[1024];
	size_t n;

	if (line)
		n = snprintf(msg, sizeof(msg), "%s:%u: ", file, line);
	else
		n = snprintf(msg, sizeof(msg), "%s: ", file);
	if (key && n < sizeof(msg))
		n += snprintf(msg + n, sizeof(msg) - n, "%s: ", key);
	if (n < sizeof(msg))
		vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	d->n_errors++;
	if (d->report)
		d->report(d->arg, msg);
	else
		fprintf(stderr, "%s\n", msg);
}

void fwc_report(struct fwc_diag *d, const char *file, unsigned int line, const char *key,
		const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(d, file, line, key, fmt, ap);
	va_end(ap);
}

/* Report at @w, or at @line of w's file when the value has its own line. */
static void __attribute__((format(printf, 3, 4)))
wreport(const struct fwc_where *w, unsigned int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(w->diag, w->file, line ? line : w->line, w->key, fmt, ap);
	va_end(ap);
}

/* ---- defaults --------------------------------------------------------- */

/* Zero-fills the tail so that two configs with equal strings compare equal. */
void fwc_copy_str(char *dst, size_t size, const char *src)
{
	strncpy(dst, src, size - 1);
	dst[size - 1] = '\0';
}

void fwc_port_init(struct fwc_port *p)
{
	memset(p, 0, sizeof(*p));
	p->rx_queues = 1;
	p->rx_descriptors = 1024;
	for (unsigned int i = 0; i < FWC_MAX_QUEUES; i++)
		p->rx_lcores[i] = -1;
	p->promiscuous = true;
}

void fwc_topic_init(struct fwc_topic *t)
{
	memset(t, 0, sizeof(*t));
}

void fwc_rule_init(struct fwc_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->vlan = -1;
	r->mode = FWC_MODE_TAP;
	r->key = FWC_KEY_NONE;
	r->batch_size = 16384;
	r->linger_ms = 5;
}

static void broker_defaults(struct fwc_broker *b)
{
	b->broker_id = 0;
	b->n_listeners = 1;
	fwc_copy_str(b->listeners[0], FWC_STR_MAX, "PLAINTEXT://127.0.0.1:9092");
	b->n_sasl_mechanisms = 2;
	fwc_copy_str(b->sasl_enabled_mechanisms[0], sizeof(b->sasl_enabled_mechanisms[0]),
		     "SCRAM-SHA-256");
	fwc_copy_str(b->sasl_enabled_mechanisms[1], sizeof(b->sasl_enabled_mechanisms[1]),
		     "SCRAM-SHA-512");
	b->sasl_max_failed_logins_per_minute = 10;
	fwc_copy_str(b->log_dirs, sizeof(b->log_dirs), "./data");
	b->num_partitions = 1;
	b->auto_create_topics_enable = true;
	b->message_max_bytes = 1048588;
	b->fetch_max_bytes = 8388608; /* Kafka: 57671680; see docs/configuration.md */
	b->log_segment_bytes = 1073741824;
	b->log_roll_ms = 604800000;
	b->log_retention_ms = 604800000;
	b->log_retention_bytes = -1;
	b->log_retention_check_interval_ms = 300000;
	b->log_index_interval_bytes = 4096;
	b->log_index_size_max_bytes = 10485760;
	b->log_flush_interval_messages = INT64_MAX;
	b->log_flush_interval_ms = 0;
	b->socket_request_max_bytes = 104857600;
	b->max_connections = 4096;
	b->connections_max_idle_ms = 600000;
	b->offsets_topic_num_partitions = 50;
	b->offsets_topic_segment_bytes = 104857600;
	b->offsets_retention_minutes = 10080;
	b->offsets_retention_check_interval_ms = 600000;
	b->offset_metadata_max_bytes = 4096;
	b->group_initial_rebalance_delay_ms = 3000;
	b->group_min_session_timeout_ms = 6000;
	b->group_max_session_timeout_ms = 1800000;
	b->group_max_size = 1000;
	b->group_max_count = 10000;
	b->max_broker_partitions = 1000;
	b->producer_id_expiration_ms = 86400000;
	fwc_copy_str(b->metrics_listener, FWC_STR_MAX, "127.0.0.1:9644");
}

void fwc_config_defaults(struct fwc_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	broker_defaults(&cfg->broker);
	cfg->storage.writer_threads = 1;
	cfg->storage.ring_bytes = 8u << 20;
	cfg->storage.hugepages = FWC_AUTO;
	cfg->storage.direct_io = FWC_AUTO;
	cfg->storage.write_max_bytes = 1u << 20;
	cfg->storage.consumer_visibility = FWC_VISIBILITY_DURABLE;
	cfg->storage.producers_max = 1024;
	cfg->storage.io_error_retry_ms = 1000;
	cfg->control.cpu = 0;
	cfg->dataplane.exclusive_lcores = false;
	cfg->dataplane.burst_size = 32;
	cfg->dataplane.frag_table_entries = 4096;
	cfg->dataplane.frag_timeout_ms = 2000;
}

/* Topics that did not set partitions follow broker num.partitions. */
void fwc_partitions_resolve(struct fwc_config *cfg)
{
	for (unsigned int i = 0; i < cfg->n_topics; i++)
		if (!cfg->topics[i].partitions_explicit)
			cfg->topics[i].partitions = cfg->broker.num_partitions;
}

const struct fwc_topic *fwc_config_topic(const struct fwc_config *cfg, const char *name)
{
	for (unsigned int i = 0; i < cfg->n_topics; i++)
		if (strcmp(cfg->topics[i].name, name) == 0)
			return &cfg->topics[i];
	return NULL;
}

/* ---- typed values ----------------------------------------------------- */

const char *fwc_key_expect(const struct fwc_key *k, char *buf, size_t size)
{
	size_t n;

	switch (k->type) {
	case FWC_T_INT: return "an integer";
	case FWC_T_BOOL: return "true or false";
	case FWC_T_STR: return "a string";
	case FWC_T_STRLIST: return "a list of strings";
	case FWC_T_INTLIST: return "a list of integers";
	case FWC_T_ADDR: return "an IPv4 or IPv6 address";
	case FWC_T_ENUM:
	case FWC_T_FLAGS:
		break;
	}
	n = snprintf(buf, size, "%s", k->type == FWC_T_ENUM ? "one of: " : "a list of: ");
	for (unsigned int i = 0; k->names[i] && n < size; i++)
		n += snprintf(buf + n, size - n, "%s%s", i ? ", " : "", k->names[i]);
	return buf;
}

static int name_index(const char *const *names, const char *s)
{
	for (int i = 0; names[i]; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

/* Plain decimal only: "1e6", "0x10" or "8M" would be ambiguous in a dump. */
static int parse_int(const char *s, int64_t *v)
{
	const char *p = s;

	if (*p == '+' || *p == '-')
		p++;
	if (!*p)
		return -EINVAL;
	for (; *p; p++)
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
	errno = 0;
	*v = strtoll(s, NULL, 10);
	return errno == ERANGE ? -ERANGE : 0;
}

static int int_value(const struct fwc_key *k, const char *s, int64_t *v,
		     const struct fwc_where *w, unsigned int line)
{
	bool pow2 = k->flags & FWC_F_POW2;
	int rc = parse_int(s, v);

	if (rc == -EINVAL) {
		wreport(w, line, "expected an integer (got \"%s\")", s);
		return rc;
	}
	if (rc == 0 && *v >= k->min && *v <= k->max && (!pow2 || (*v & (*v - 1)) == 0))
		return 0;
	if (k->max == INT64_MAX)
		wreport(w, line, "must be at least %lld (got %s)", (long long)k->min, s);
	else
		wreport(w, line, "must be %sbetween %lld and %lld (got %s)",
			pow2 ? "a power of two " : "", (long long)k->min, (long long)k->max, s);
	return -ERANGE;
}

static void int_put(void *p, size_t size, int64_t v)
{
	switch (size) {
	case 1: { int8_t x = (int8_t)v; memcpy(p, &x, 1); break; }
	case 2: { int16_t x = (int16_t)v; memcpy(p, &x, 2); break; }
	case 4: { int32_t x = (int32_t)v; memcpy(p, &x, 4); break; }
	default: memcpy(p, &v, 8); break;
	}
}

int64_t fwc_int_get(const void *p, size_t size, bool is_signed)
{
	switch (size) {
	case 1: return is_signed ? (int64_t)*(const int8_t *)p : (int64_t)*(const uint8_t *)p;
	case 2: return is_signed ? (int64_t)*(const int16_t *)p : (int64_t)*(const uint16_t *)p;
	case 4: return is_signed ? (int64_t)*(const int32_t *)p : (int64_t)*(const uint32_t *)p;
	default: return *(const int64_t *)p;
	}
}

/* "HOST:PORT" with a numeric port; HOST may be empty or a [v6] literal. */
static bool hostport_ok(const char *s)
{
	const char *colon = strrchr(s, ':');
	int64_t port;

	return colon && parse_int(colon + 1, &port) == 0 && colon[1] != '-' && colon[1] != '+' &&
	       port <= 65535;
}

static bool listener_ok(const char *s)
{
	const char *sep = strstr(s, "://");

	if (!sep || sep == s)
		return false;
	for (const char *p = s; p < sep; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			return false;
	return hostport_ok(sep + 3);
}

/* listener.security.protocol.map: "" or NAME:PROTOCOL[,NAME:PROTOCOL...]. */
static bool protomap_ok(const char *s)
{
	static const char *const protos[] = { "PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL" };

	for (const char *p = s; *p; p += *p == ',') {
		size_t n = strcspn(p, ","), name = strcspn(p, ":,"), k;

		if (name == 0 || name >= n)
			return false;
		for (size_t i = 0; i < name; i++)
			if (!isalnum((unsigned char)p[i]) && p[i] != '_')
				return false;
		for (k = 0; k < sizeof(protos) / sizeof(protos[0]); k++)
			if (strlen(protos[k]) == n - name - 1 && !strncmp(p + name + 1, protos[k], n - name - 1))
				break;
		if (k == sizeof(protos) / sizeof(protos[0]))
			return false;
		p += n;
	}
	return true;
}

static int str_check(const struct fwc_key *k, const char *s, const struct fwc_where *w,
		     unsigned int line)
{
	if (strlen(s) >= k->size) {
		wreport(w, line, "must be at most %zu characters", k->size - 1);
		return -EINVAL;
	}
	if ((k->flags & FWC_F_NONEMPTY) && !*s) {
		wreport(w, line, "must not be empty");
		return -EINVAL;
	}
	if ((k->flags & FWC_F_LISTENER) && !listener_ok(s)) {
		wreport(w, line, "expected NAME://HOST:PORT (got \"%s\")", s);
		return -EINVAL;
	}
	if ((k->flags & FWC_F_PROTOMAP) && !protomap_ok(s)) {
		wreport(w, line, "expected NAME:PROTOCOL,... with PROTOCOL PLAINTEXT, SSL, "
			"SASL_PLAINTEXT or SASL_SSL (got \"%s\")", s);
		return -EINVAL;
	}
	if ((k->flags & FWC_F_HOSTPORT) && *s && !hostport_ok(s)) {
		wreport(w, line, "expected HOST:PORT or \"\" (off) (got \"%s\")", s);
		return -EINVAL;
	}
	if ((k->flags & FWC_F_ONE_DIR) && strchr(s, ',')) {
		wreport(w, line, "expected one directory (partitions are not spread over log.dirs)");
		return -EINVAL;
	}
	return 0;
}

/* The rule address: "" or "any" = any destination. */
static int addr_set(struct fwc_rule *r, const char *s, const struct fwc_where *w)
{
	uint8_t a[16] = { 0 };

	if (!*s || strcmp(s, "any") == 0) {
		r->has_address = false;
		r->address_family = 0;
		memset(r->address, 0, sizeof(r->address));
		return 0;
	}
	if (inet_pton(AF_INET, s, a) == 1)
		r->address_family = AF_INET;
	else if (inet_pton(AF_INET6, s, a) == 1)
		r->address_family = AF_INET6;
	else {
		wreport(w, 0, "expected an IPv4 or IPv6 address (got \"%s\")", s);
		return -EINVAL;
	}
	r->has_address = true;
	memcpy(r->address, a, sizeof(r->address));
	return 0;
}

int fwc_key_set_list(const struct fwc_key *k, void *base, const char *const *items,
		     const unsigned int *lines, unsigned int n, const struct fwc_where *w)
{
	char *f = (char *)base + k->off, buf[256];
	int64_t vals[FWC_MAX_CPUS];
	uint32_t bits = 0;
	int bad = 0, idx;

	if (k->type != FWC_T_STRLIST && k->type != FWC_T_INTLIST && k->type != FWC_T_FLAGS) {
		wreport(w, 0, "expected %s (got a list)", fwc_key_expect(k, buf, sizeof(buf)));
		return -EINVAL;
	}
	if (n > k->max_n) {
		wreport(w, 0, "must have at most %u entries (got %u)", k->max_n, n);
		return -EINVAL;
	}
	if ((k->flags & FWC_F_NONEMPTY) && n == 0) {
		wreport(w, 0, "must not be empty");
		return -EINVAL;
	}
	for (unsigned int i = 0; i < n; i++) {
		unsigned int line = lines ? lines[i] : 0;

		if (k->type == FWC_T_STRLIST)
			bad |= str_check(k, items[i], w, line);
		else if (k->type == FWC_T_INTLIST)
			bad |= int_value(k, items[i], &vals[i], w, line);
		else if ((idx = name_index(k->names, items[i])) >= 0)
			bits |= 1u << idx;
		else {
			wreport(w, line, "expected %s (got \"%s\")",
				fwc_key_expect(k, buf, sizeof(buf)), items[i]);
			bad = -EINVAL;
		}
	}
	if (bad)
		return -EINVAL;
	if (k->type == FWC_T_FLAGS) {
		memcpy(f, &bits, sizeof(bits));
		return 0;
	}
	for (unsigned int i = 0; i < k->max_n; i++) {
		if (k->type == FWC_T_INTLIST)
			int_put(f + i * k->size, k->size, i < n ? vals[i] : k->is_signed ? -1 : 0);
		else
			fwc_copy_str(f + i * k->size, k->size, i < n ? items[i] : "");
	}
	memcpy((char *)base + k->count_off, &n, sizeof(n));
	return 0;
}

/* A list written as one scalar: "1,2" (or "--a --b" for EAL arguments). */
static int list_from_scalar(const struct fwc_key *k, void *base, const char *s,
			    const struct fwc_where *w)
{
	const char *items[FWC_MAX_CPUS];
	unsigned int n = 0;
	char *copy = strdup(s), *p, *tok, *save = NULL;
	int rc;

	if (!copy)
		return -ENOMEM;
	p = copy;
	while ((tok = strtok_r(p, k->sep == ' ' ? " \t" : ",", &save)) != NULL) {
		p = NULL;
		while (isspace((unsigned char)*tok))
			tok++;
		for (char *e = tok + strlen(tok); e > tok && isspace((unsigned char)e[-1]); e--)
			e[-1] = '\0';
		if (n < FWC_MAX_CPUS)
			items[n] = tok;
		n++;
	}
	rc = fwc_key_set_list(k, base, items, NULL, n, w);    /* n > max_n: items not read */
	free(copy);
	return rc;
}

int fwc_key_set_scalar(const struct fwc_key *k, void *base, const char *s,
		       const struct fwc_where *w)
{
	char *f = (char *)base + k->off, buf[256];
	int64_t v;
	int i;

	switch (k->type) {
	case FWC_T_INT:
		if (int_value(k, s, &v, w, 0))
			return -EINVAL;
		int_put(f, k->size, v);
		return 0;
	case FWC_T_BOOL:
		if (strcasecmp(s, "true") && strcasecmp(s, "false")) {
			wreport(w, 0, "expected true or false (got \"%s\")", s);
			return -EINVAL;
		}
		*(bool *)f = strcasecmp(s, "true") == 0;
		return 0;
	case FWC_T_ENUM:
		if ((i = name_index(k->names, s)) < 0) {
			wreport(w, 0, "expected %s (got \"%s\")", fwc_key_expect(k, buf, sizeof(buf)), s);
			return -EINVAL;
		}
		int_put(f, k->size, i);
		return 0;
	case FWC_T_STR:
		if (str_check(k, s, w, 0))
			return -EINVAL;
		fwc_copy_str(f, k->size, s);
		return 0;
	case FWC_T_ADDR:
		return addr_set(base, s, w);
	default:
		return list_from_scalar(k, base, s, w);
	}
}

void fwc_key_stamp(const struct fwc_key *k, void *base, const char *file, unsigned int line)
{
	if (k->origin_off) {
		struct fwc_origin *o = (void *)((char *)base + k->origin_off);

		o->file = file;
		o->line = line;
	}
	if (k->sec == FWC_SEC_TOPIC && k->off == offsetof(struct fwc_topic, partitions))
		((struct fwc_topic *)base)->partitions_explicit = true;
}

int fwc_topic_config_set(struct fwc_topic *t, const char *name, const char *value,
			 const struct fwc_where *w)
{
	const struct fwc_key *k = fwc_key_find(FWC_SEC_TOPIC_CONFIG, name);
	char buf[256];
	unsigned int i;
	int64_t v;

	if (!k) {
		wreport(w, 0, "unknown topic config (known: retention.ms, retention.bytes, "
			"segment.bytes, segment.ms, max.message.bytes, cleanup.policy, "
			"message.timestamp.type, index.interval.bytes, segment.index.bytes, "
			"flush.messages, flush.ms)");
		return -EINVAL;
	}
	if (k->type == FWC_T_INT && int_value(k, value, &v, w, 0))
		return -EINVAL;
	if (k->type == FWC_T_ENUM && name_index(k->names, value) < 0) {
		wreport(w, 0, "expected %s (got \"%s\")", fwc_key_expect(k, buf, sizeof(buf)), value);
		return -EINVAL;
	}
	for (i = 0; i < t->n_configs; i++)
		if (strcmp(t->configs[i].name, name) == 0)
			break;
	if (i == FWC_MAX_TOPIC_CONFIGS) {
		wreport(w, 0, "a topic has at most %d configs", FWC_MAX_TOPIC_CONFIGS);
		return -EINVAL;
	}
	fwc_copy_str(t->configs[i].name, FWC_NAME_MAX, name);
	fwc_copy_str(t->configs[i].value, FWC_STR_MAX, value);
	if (i == t->n_configs)
		t->n_configs++;
	return 0;
}

/* ---- --override KEY=VALUE --------------------------------------------- */

static bool is_list(const struct fwc_key *k)
{
	return k->type == FWC_T_STRLIST || k->type == FWC_T_INTLIST || k->type == FWC_T_FLAGS;
}

static int override_set(const struct fwc_key *k, void *base, const char *val,
			const struct fwc_where *w)
{
	char items[FWC_MAX_CPUS][FWC_STR_MAX];
	const char *ptrs[FWC_MAX_CPUS];
	int n, rc;

	if (is_list(k) && val[0] == '[') {
		n = fwc_yaml_flow_list(val, items, FWC_MAX_CPUS, w);
		if (n < 0)
			return n;
		for (int i = 0; i < n; i++)
			ptrs[i] = items[i];
		rc = fwc_key_set_list(k, base, ptrs, NULL, n, w);
	} else {
		rc = fwc_key_set_scalar(k, base, val, w);
	}
	if (rc == 0)
		fwc_key_stamp(k, base, OVERRIDE_FILE, w->line);
	return rc;
}

static int override_key(enum fwc_section sec, void *base, const char *name, const char *val,
			const struct fwc_where *w)
{
	const struct fwc_key *k = fwc_key_find(sec, name);

	if (!k) {
		wreport(w, 0, "unknown key");
		return -EINVAL;
	}
	return override_set(k, base, val, w);
}

/* An element named in a dotted key: by name, else by index. */
static int element_index(const char *seg, unsigned int n, const char *(*name_of)(
				 const struct fwc_config *, unsigned int), const struct fwc_config *cfg)
{
	char *end;
	unsigned long i;

	for (unsigned int j = 0; j < n; j++)
		if (strcmp(name_of(cfg, j), seg) == 0)
			return (int)j;
	i = strtoul(seg, &end, 10);
	return (*seg && !*end && i < n) ? (int)i : -1;
}

static const char *port_name(const struct fwc_config *cfg, unsigned int i)
{
	return cfg->dataplane.ports[i].name;
}

static int override_port(struct fwc_config *cfg, const char *rest, const char *val,
			 const struct fwc_where *w)
{
	const char *dot = strchr(rest, '.');
	char seg[FWC_NAME_MAX];
	int i;

	if (!dot || (size_t)(dot - rest) >= sizeof(seg)) {
		wreport(w, 0, "unknown key");
		return -EINVAL;
	}
	memcpy(seg, rest, dot - rest);
	seg[dot - rest] = '\0';
	i = element_index(seg, cfg->dataplane.n_ports, port_name, cfg);
	if (i < 0) {
		wreport(w, 0, "no port named \"%s\" (--override cannot add ports)", seg);
		return -EINVAL;
	}
	return override_key(FWC_SEC_PORT, &cfg->dataplane.ports[i], dot + 1, val, w);
}

/* Topic names may contain dots: take the longest name the key starts with. */
static struct fwc_topic *override_topic_find(struct fwc_config *cfg, const char *rest,
					     const char **sub)
{
	struct fwc_topic *best = NULL;
	size_t best_len = 0;
	char *end;
	unsigned long i;

	for (unsigned int j = 0; j < cfg->n_topics; j++) {
		size_t len = strlen(cfg->topics[j].name);

		if (len > best_len && strncmp(rest, cfg->topics[j].name, len) == 0 &&
		    rest[len] == '.') {
			best = &cfg->topics[j];
			best_len = len;
		}
	}
	if (!best) {
		i = strtoul(rest, &end, 10);
		if (end == rest || *end != '.' || i >= cfg->n_topics)
			return NULL;
		best = &cfg->topics[i];
		best_len = end - rest;
	}
	*sub = rest + best_len + 1;
	return best;
}

static int override_topic(struct fwc_config *cfg, const char *rest, const char *val,
			  const struct fwc_where *w)
{
	const char *sub;
	struct fwc_topic *t = override_topic_find(cfg, rest, &sub);
	unsigned long r;
	char *end;

	if (!t) {
		wreport(w, 0, "no such topic (--override cannot add topics)");
		return -EINVAL;
	}
	if (strncmp(sub, "configs.", 8) == 0)
		return fwc_topic_config_set(t, sub + 8, val, w);
	if (strncmp(sub, "uplink.", 7) == 0)
		return fwc_uplink_set(t, sub + 7, val, w, true);
	if (strncmp(sub, "rules.", 6) == 0) {
		r = strtoul(sub + 6, &end, 10);
		if (end == sub + 6 || *end != '.' || r >= t->n_rules) {
			wreport(w, 0, "no such rule (topic %s has %u)", t->name, t->n_rules);
			return -EINVAL;
		}
		return override_key(FWC_SEC_RULE, &t->rules[r], end + 1, val, w);
	}
	return override_key(FWC_SEC_TOPIC, t, sub, val, w);
}

static int override_apply(struct fwc_config *cfg, const char *key, const char *val,
			  const struct fwc_where *w)
{
	static const struct { const char *prefix; enum fwc_section sec; } secs[] = {
		{ "broker.", FWC_SEC_BROKER }, { "storage.", FWC_SEC_STORAGE },
		{ "control.", FWC_SEC_CONTROL }, { "dataplane.", FWC_SEC_DATAPLANE },
	};

	if (strncmp(key, "dataplane.ports.", 16) == 0)
		return override_port(cfg, key + 16, val, w);
	if (strncmp(key, "topics.", 7) == 0)
		return override_topic(cfg, key + 7, val, w);
	for (size_t i = 0; i < sizeof(secs) / sizeof(secs[0]); i++) {
		size_t len = strlen(secs[i].prefix);

		if (strncmp(key, secs[i].prefix, len) != 0)
			continue;
		/* A Kafka name may itself start with a section's: broker.id, broker.rack. */
		if (secs[i].sec == FWC_SEC_BROKER && !fwc_key_find(FWC_SEC_BROKER, key + len) &&
		    fwc_key_find(FWC_SEC_BROKER, key))
			break;
		return override_key(secs[i].sec, fwc_section_base(cfg, secs[i].sec), key + len, val,
				    w);
	}
	return override_key(FWC_SEC_BROKER, &cfg->broker, key, val, w);
}

int fwc_config_override(struct fwc_config *cfg, const char *kv, unsigned int index,
			struct fwc_diag *diag)
{
	struct fwc_diag dflt = { 0 };
	const char *eq = strchr(kv, '=');
	char key[512];
	struct fwc_where w = { .file = OVERRIDE_FILE, .line = index, .key = key };
	unsigned int before;

	if (!diag)
		diag = &dflt;
	w.diag = diag;
	before = diag->n_errors;
	if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof(key)) {
		fwc_report(diag, OVERRIDE_FILE, index, kv, "expected KEY=VALUE");
		return -EINVAL;
	}
	memcpy(key, kv, eq - kv);
	key[eq - kv] = '\0';
	override_apply(cfg, key, eq + 1, &w);
	fwc_partitions_resolve(cfg);
	return diag->n_errors > before ? -EINVAL : 0;
}
