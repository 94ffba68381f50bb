/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_catalog.c - topics, partitions and per-topic configs (control thread
 * only).  Topics live in an array of pointers kept in creation order: Metadata
 * lists them in that order and a broker holds tens to thousands of topics, so
 * a linear name search is cheap next to the request it serves.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_catalog.h"
#include "ctl_catalog_int.h"
#include "ctl_log.h"
#include "fwc_config.h"

static const char *const cleanup_names[] = { "delete", NULL };
static const char *const tstype_names[] = { "CreateTime", "LogAppendTime", NULL };

/* Ranges as firmware-config accepts them; defaults are Kafka's. */
static const struct ctl_tcfg_desc tcfg_descs[CTL_TCFG_COUNT] = {
	[CTL_TCFG_CLEANUP_POLICY] = { "cleanup.policy", "log.cleanup.policy", 0, 0,
				      cleanup_names, 0 },
	[CTL_TCFG_FLUSH_MESSAGES] = { "flush.messages", "log.flush.interval.messages", 1,
				      INT64_MAX, NULL, INT64_MAX },
	[CTL_TCFG_FLUSH_MS] = { "flush.ms", "log.flush.interval.ms", 0, INT64_MAX, NULL,
				INT64_MAX },
	[CTL_TCFG_INDEX_INTERVAL_BYTES] = { "index.interval.bytes", "log.index.interval.bytes",
					    0, INT32_MAX, NULL, 4096 },
	[CTL_TCFG_MAX_MESSAGE_BYTES] = { "max.message.bytes", "message.max.bytes", 0,
					 INT32_MAX, NULL, 1048588 },
	[CTL_TCFG_MESSAGE_TIMESTAMP_TYPE] = { "message.timestamp.type",
					      "log.message.timestamp.type", 0, 1,
					      tstype_names, 0 },
	[CTL_TCFG_RETENTION_BYTES] = { "retention.bytes", "log.retention.bytes", -1,
				       INT64_MAX, NULL, -1 },
	[CTL_TCFG_RETENTION_MS] = { "retention.ms", "log.retention.ms", -1, INT64_MAX, NULL,
				    604800000 },
	[CTL_TCFG_SEGMENT_BYTES] = { "segment.bytes", "log.segment.bytes", 14, INT32_MAX, NULL,
				     1073741824 },
	[CTL_TCFG_SEGMENT_INDEX_BYTES] = { "segment.index.bytes", "log.index.size.max.bytes", 4,
					   INT32_MAX, NULL, 10485760 },
	[CTL_TCFG_SEGMENT_MS] = { "segment.ms", "log.roll.ms", 1, INT64_MAX, NULL, 604800000 },
};

const struct ctl_tcfg_desc *ctl_tcfg_desc(enum ctl_tcfg i)
{
	return (unsigned int)i < CTL_TCFG_COUNT ? &tcfg_descs[i] : NULL;
}

int ctl_tcfg_find(const char *name, size_t len)
{
	for (int i = 0; i < CTL_TCFG_COUNT; i++)
		if (strlen(tcfg_descs[i].name) == len && memcmp(tcfg_descs[i].name, name, len) == 0)
			return i;
	return -ENOENT;
}

int ctl_tcfg_format(enum ctl_tcfg i, int64_t v, char *buf, size_t len)
{
	const struct ctl_tcfg_desc *d = ctl_tcfg_desc(i);
	int n;

	if (!d)
		return -EINVAL;
	if (d->enum_names)
		n = snprintf(buf, len, "%s", d->enum_names[v]);
	else
		n = snprintf(buf, len, "%" PRId64, v);
	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

/* Strict decimal: optional '-', digits only, no overflow. */
static int parse_i64(const char *s, size_t len, int64_t *out)
{
	bool neg = len > 0 && s[0] == '-';
	uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	size_t i = neg ? 1 : 0;

	if (i == len)
		return -EINVAL;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		if (v > (lim - (uint64_t)(s[i] - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

int ctl_tcfg_parse(enum ctl_tcfg i, const char *s, size_t len, int64_t *v)
{
	const struct ctl_tcfg_desc *d = ctl_tcfg_desc(i);

	if (!d || !s)
		return -EINVAL;
	if (d->enum_names) {
		for (int64_t k = 0; d->enum_names[k]; k++)
			if (strlen(d->enum_names[k]) == len && memcmp(d->enum_names[k], s, len) == 0) {
				*v = k;
				return 0;
			}
		return -EINVAL;
	}
	if (parse_i64(s, len, v) < 0 || *v < d->min || *v > d->max)
		return -EINVAL;
	return 0;
}

bool ctl_topic_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > CTL_TOPIC_NAME_MAX)
		return false;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static bool name_is_internal(const char *name, size_t len)
{
	return (len == 18 && memcmp(name, "__consumer_offsets", 18) == 0) ||
	       (len == 19 && memcmp(name, "__transaction_state", 19) == 0);
}

static void broker_values(const struct fwc_broker *b, int64_t *v)
{
	v[CTL_TCFG_CLEANUP_POLICY] = 0;
	v[CTL_TCFG_FLUSH_MESSAGES] = b->log_flush_interval_messages;
	v[CTL_TCFG_FLUSH_MS] = b->log_flush_interval_ms;
	v[CTL_TCFG_INDEX_INTERVAL_BYTES] = b->log_index_interval_bytes;
	v[CTL_TCFG_MAX_MESSAGE_BYTES] = b->message_max_bytes;
	v[CTL_TCFG_MESSAGE_TIMESTAMP_TYPE] = 0;
	v[CTL_TCFG_RETENTION_BYTES] = b->log_retention_bytes;
	v[CTL_TCFG_RETENTION_MS] = b->log_retention_ms;
	v[CTL_TCFG_SEGMENT_BYTES] = b->log_segment_bytes;
	v[CTL_TCFG_SEGMENT_INDEX_BYTES] = b->log_index_size_max_bytes;
	v[CTL_TCFG_SEGMENT_MS] = b->log_roll_ms;
}

int64_t ctl_catalog_broker_value(const struct ctl_catalog *cat, enum ctl_tcfg i)
{
	return (unsigned int)i < CTL_TCFG_COUNT ? cat->broker_v[i] : 0;
}

size_t ctl_catalog_count(const struct ctl_catalog *cat)
{
	return cat->n_topics;
}

struct ctl_topic *ctl_catalog_at(const struct ctl_catalog *cat, size_t i)
{
	return i < cat->n_topics ? cat->topics[i] : NULL;
}

struct ctl_topic *ctl_catalog_find(const struct ctl_catalog *cat, const char *name, size_t len)
{
	for (size_t i = 0; i < cat->n_topics; i++) {
		struct ctl_topic *t = cat->topics[i];

		if (strlen(t->name) == len && memcmp(t->name, name, len) == 0)
			return t;
	}
	return NULL;
}

bool ctl_catalog_auto_create_enabled(const struct ctl_catalog *cat)
{
	return cat->cfg->broker.auto_create_topics_enable;
}

int32_t ctl_catalog_default_partitions(const struct ctl_catalog *cat)
{
	return cat->cfg->broker.num_partitions;
}

/* Parse @spec's configs into @c; on error fill @msg. */
static enum kp_err configs_parse(const struct ctl_catalog *cat, const struct ctl_topic_spec *spec,
				 struct ctl_topic_configs *c, char *msg, size_t msg_len)
{
	memcpy(c->v, cat->broker_v, sizeof(c->v));
	c->set_mask = 0;
	for (size_t k = 0; k < spec->n_configs; k++) {
		const struct ctl_cfg_kv *kv = &spec->configs[k];
		int i = ctl_tcfg_find(kv->name, kv->name_len);

		if (i < 0) {
			snprintf(msg, msg_len, "Unknown topic config name: %.*s", (int)kv->name_len,
				 kv->name);
			return KP_ERR_INVALID_CONFIG;
		}
		if (!kv->value) {
			snprintf(msg, msg_len, "Null value not supported for topic configs: %s",
				 tcfg_descs[i].name);
			return KP_ERR_INVALID_CONFIG;
		}
		if (ctl_tcfg_parse((enum ctl_tcfg)i, kv->value, kv->value_len, &c->v[i]) < 0) {
			snprintf(msg, msg_len, "Invalid value %.*s for configuration %s",
				 (int)(kv->value_len > 64 ? 64 : kv->value_len), kv->value,
				 tcfg_descs[i].name);
			return KP_ERR_INVALID_CONFIG;
		}
		c->set_mask |= 1u << i;
	}
	return KP_ERR_NONE;
}

static void topic_close(struct ctl_catalog *cat, struct ctl_topic *t, int32_t n_open)
{
	for (int32_t p = 0; p < n_open; p++) {
		/* Waiters let go first: partition_close frees what they point at. */
		if (cat->closing)
			cat->closing(cat->closing_arg, t, &t->partitions[p]);
		if (cat->ops && cat->ops->partition_close)
			cat->ops->partition_close(cat->ops_arg, t, &t->partitions[p]);
	}
}

void ctl_catalog_set_closing_hook(struct ctl_catalog *cat, ctl_partition_closing_fn fn, void *arg)
{
	cat->closing = fn;
	cat->closing_arg = fn ? arg : NULL;
}

static void topic_free(struct ctl_topic *t)
{
	if (t)
		free(t->partitions);
	free(t);
}

/* Allocate @t's partitions and open them in storage; @return 0 or -errno. */
static int topic_open(struct ctl_catalog *cat, struct ctl_topic *t)
{
	int rc = 0;
	int32_t p;

	t->partitions = calloc((size_t)t->n_partitions, sizeof(*t->partitions));
	if (!t->partitions)
		return -ENOMEM;
	for (p = 0; p < t->n_partitions; p++) {
		t->partitions[p].index = p;
		if (cat->ops && cat->ops->partition_open &&
		    (rc = cat->ops->partition_open(cat->ops_arg, t, &t->partitions[p])) < 0)
			break;
	}
	if (rc < 0)
		topic_close(cat, t, p);
	return rc;
}

static int catalog_append(struct ctl_catalog *cat, struct ctl_topic *t)
{
	if (cat->n_topics == cat->cap) {
		size_t cap = cat->cap ? cat->cap * 2 : 16;
		struct ctl_topic **nt = realloc(cat->topics, cap * sizeof(*nt));

		if (!nt)
			return -ENOMEM;
		cat->topics = nt;
		cat->cap = cap;
	}
	cat->topics[cat->n_topics++] = t;
	return 0;
}

/* Validation in Kafka's order; @return the error and fill @c. */
/* Partitions of every topic, internal ones included. */
static long long total_partitions(const struct ctl_catalog *cat)
{
	long long n = 0;

	for (size_t i = 0; i < cat->n_topics; i++)
		n += cat->topics[i]->n_partitions;
	return n;
}

static enum kp_err spec_check(const struct ctl_catalog *cat, const struct ctl_topic_spec *spec,
			      struct ctl_topic_configs *c, char *msg, size_t msg_len)
{
	if (ctl_catalog_find(cat, spec->name, spec->name_len)) {
		snprintf(msg, msg_len, "Topic '%.*s' already exists.", (int)spec->name_len,
			 spec->name);
		return KP_ERR_TOPIC_ALREADY_EXISTS;
	}
	if (!ctl_topic_name_valid(spec->name, spec->name_len)) {
		snprintf(msg, msg_len, "Topic name is invalid: it must be 1 to %d characters of "
			 "[a-zA-Z0-9._-] and not '.' or '..'", CTL_TOPIC_NAME_MAX);
		return KP_ERR_INVALID_TOPIC_EXCEPTION;
	}
	if (spec->n_partitions <= 0) {
		snprintf(msg, msg_len, "Number of partitions must be larger than 0.");
		return KP_ERR_INVALID_PARTITIONS;
	}
	if (spec->n_partitions > CTL_MAX_PARTITIONS) {
		snprintf(msg, msg_len, "Number of partitions must be at most %d.",
			 CTL_MAX_PARTITIONS);
		return KP_ERR_INVALID_PARTITIONS;
	}
	/* Each partition costs a ring (storage.ring.bytes) and three open files. */
	if (total_partitions(cat) + spec->n_partitions > cat->cfg->broker.max_broker_partitions) {
		snprintf(msg, msg_len, "The broker would hold %lld partitions, more than "
			 "max.broker.partitions (%d).", total_partitions(cat) + spec->n_partitions,
			 cat->cfg->broker.max_broker_partitions);
		return KP_ERR_INVALID_PARTITIONS;
	}
	return configs_parse(cat, spec, c, msg, msg_len);
}

/* Create without persisting (used at load time too). */
enum kp_err ctl_catalog_insert(struct ctl_catalog *cat, const struct ctl_topic_spec *spec,
			       bool validate_only, struct ctl_topic **out, char *msg, size_t msg_len)
{
	struct ctl_topic_configs c;
	struct ctl_topic *t = NULL;
	enum kp_err err;
	int rc;

	if (msg_len)
		msg[0] = '\0';
	err = spec_check(cat, spec, &c, msg, msg_len);
	if (err != KP_ERR_NONE || validate_only)
		goto out;
	err = KP_ERR_UNKNOWN_SERVER_ERROR;
	t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(msg, msg_len, "out of memory");
		goto out;
	}
	memcpy(t->name, spec->name, spec->name_len);
	t->n_partitions = spec->n_partitions;
	t->internal = spec->internal || name_is_internal(spec->name, spec->name_len);
	t->cfg = c;
	if ((rc = topic_open(cat, t)) < 0) {
		snprintf(msg, msg_len, "storage: %s", strerror(-rc));
		goto out;
	}
	if (catalog_append(cat, t) < 0) {
		topic_close(cat, t, t->n_partitions);
		snprintf(msg, msg_len, "out of memory");
		goto out;
	}
	if (out)
		*out = t;
	t = NULL;
	err = KP_ERR_NONE;
out:
	topic_free(t);
	return err;
}

enum kp_err ctl_catalog_topic_create(struct ctl_catalog *cat, const struct ctl_topic_spec *spec,
				     bool validate_only, struct ctl_topic **out,
				     char *msg, size_t msg_len)
{
	enum kp_err err = ctl_catalog_insert(cat, spec, validate_only, out, msg, msg_len);

	if (err == KP_ERR_NONE && !validate_only) {
		CTL_LOG(INFO, "topic %.*s created: %d partition(s)", (int)spec->name_len, spec->name,
			spec->n_partitions);
		ctl_catalog_persist(cat);
	}
	return err;
}

enum kp_err ctl_catalog_topic_delete(struct ctl_catalog *cat, const char *name, size_t len)
{
	struct ctl_topic *t = NULL;
	size_t i;
	int rc;

	for (i = 0; i < cat->n_topics; i++) {
		t = cat->topics[i];
		if (strlen(t->name) == len && memcmp(t->name, name, len) == 0)
			break;
	}
	if (i == cat->n_topics)
		return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	if (t->pinned || t->internal)
		return KP_ERR_TOPIC_DELETION_DISABLED;
	memmove(&cat->topics[i], &cat->topics[i + 1], (cat->n_topics - i - 1) * sizeof(t));
	cat->n_topics--;
	topic_close(cat, t, t->n_partitions);
	if (cat->ops && cat->ops->topic_delete_data &&
	    (rc = cat->ops->topic_delete_data(cat->ops_arg, t)) < 0)
		CTL_LOG(WARNING, "topic %s: deleting data: %s", t->name, strerror(-rc));
	CTL_LOG(INFO, "topic %s deleted", t->name);
	topic_free(t);
	ctl_catalog_persist(cat);
	return KP_ERR_NONE;
}

/* The configuration file's topics; their configs were validated by fwc. */
static int load_config_topics(struct ctl_catalog *cat)
{
	const struct fwc_config *cfg = cat->cfg;
	struct ctl_cfg_kv kv[FWC_MAX_TOPIC_CONFIGS];
	char msg[256];

	for (unsigned int i = 0; i < cfg->n_topics; i++) {
		const struct fwc_topic *ft = &cfg->topics[i];
		struct ctl_topic_spec spec = { ft->name, strlen(ft->name), ft->partitions, kv,
					       ft->n_configs, false };
		struct ctl_topic *t;
		enum kp_err err;

		for (unsigned int k = 0; k < ft->n_configs; k++)
			kv[k] = (struct ctl_cfg_kv){ ft->configs[k].name, strlen(ft->configs[k].name),
						     ft->configs[k].value,
						     strlen(ft->configs[k].value) };
		err = ctl_catalog_insert(cat, &spec, false, &t, msg, sizeof(msg));
		if (err != KP_ERR_NONE) {
			CTL_LOG(ERR, "topics.%s: %s", ft->name, msg);
			return err == KP_ERR_UNKNOWN_SERVER_ERROR ? -EIO : -EINVAL;
		}
		t->from_config = true;
		t->pinned = ft->n_rules > 0 || ft->uplink.enabled; /* fed by rules, or read by the uplink */
	}
	return 0;
}

int ctl_catalog_create(const struct fwc_config *cfg, const struct ctl_catalog_ops *ops,
		       void *ops_arg, struct ctl_catalog **out)
{
	struct ctl_catalog *cat = calloc(1, sizeof(*cat));
	int rc;

	*out = NULL;
	if (!cat)
		return -ENOMEM;
	cat->cfg = cfg;
	cat->ops = ops;
	cat->ops_arg = ops_arg;
	broker_values(&cfg->broker, cat->broker_v);
	rc = load_config_topics(cat);
	if (rc == 0)
		rc = ctl_catalog_load_persisted(cat);
	if (rc < 0) {
		ctl_catalog_destroy(cat);
		return rc;
	}
	*out = cat;
	return 0;
}

void ctl_catalog_destroy(struct ctl_catalog *cat)
{
	if (!cat)
		return;
	for (size_t i = cat->n_topics; i-- > 0;) {
		topic_close(cat, cat->topics[i], cat->topics[i]->n_partitions);
		topic_free(cat->topics[i]);
	}
	free(cat->topics);
	free(cat);
}
