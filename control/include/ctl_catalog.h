/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_catalog.h - the broker's topics: names, partitions, per-topic configs.
 *
 * The catalog is owned by the control thread and touched by no other thread.
 * It is built from the configuration's topics at start and changed by
 * CreateTopics, DeleteTopics and Metadata auto-creation.  Topics created over
 * the wire are remembered in <log.dirs>/sluice-topics (one line per topic,
 * rewritten atomically), so a restart serves them again.
 *
 * Storage plugs in through struct ctl_catalog_ops: partition_open when a
 * partition comes into being (at start or on create; it may set p->store),
 * partition_close when it goes away (delete, catalog teardown), and
 * topic_delete_data after a deleted topic's partitions are closed.  Every
 * op may be NULL, and so may the ops pointer.  One more hook,
 * ctl_catalog_set_closing_hook(), tells the record APIs (kp_data) that a
 * partition is about to be closed, so that nothing still points at it when
 * partition_close frees it.
 *
 * Topic configs are the Kafka topic configs the configuration file accepts
 * (fwc_config.c).  Each has a broker-level synonym ("retention.ms" ->
 * "log.retention.ms") that supplies the value when the topic does not set
 * it; DescribeConfigs reports which source a value came from.
 */
#ifndef CTL_CATALOG_H
#define CTL_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl_metrics.h"
#include "kp_err.h"

struct fwc_config;

#define CTL_TOPIC_NAME_MAX 249          /* Kafka's limit */
#define CTL_MAX_PARTITIONS 10000        /* per topic; ours (Kafka has none) */

/* Topic configs, in DescribeConfigs order. */
enum ctl_tcfg {
	CTL_TCFG_CLEANUP_POLICY,        /* "delete" only: no compaction */
	CTL_TCFG_FLUSH_MESSAGES,
	CTL_TCFG_FLUSH_MS,
	CTL_TCFG_INDEX_INTERVAL_BYTES,
	CTL_TCFG_MAX_MESSAGE_BYTES,
	CTL_TCFG_MESSAGE_TIMESTAMP_TYPE, /* 0 CreateTime, 1 LogAppendTime */
	CTL_TCFG_RETENTION_BYTES,
	CTL_TCFG_RETENTION_MS,
	CTL_TCFG_SEGMENT_BYTES,
	CTL_TCFG_SEGMENT_INDEX_BYTES,
	CTL_TCFG_SEGMENT_MS,
	CTL_TCFG_COUNT
};

/* Where a config value came from (Kafka's DescribeConfigs ConfigSource). */
enum ctl_cfg_source {
	CTL_SRC_TOPIC = 1,              /* TOPIC_CONFIG: set on the topic */
	CTL_SRC_STATIC_BROKER = 4,      /* STATIC_BROKER_CONFIG: broker key set */
	CTL_SRC_DEFAULT = 5,            /* DEFAULT_CONFIG: Kafka's default */
};

struct ctl_tcfg_desc {
	const char *name;               /* "retention.ms" */
	const char *broker_name;        /* its broker synonym, "log.retention.ms" */
	int64_t min, max;
	const char *const *enum_names;  /* NULL for numbers; else value = index */
	int64_t kafka_default;
};

/* Typed values; set_mask bit i = config i set on the topic. */
struct ctl_topic_configs {
	int64_t v[CTL_TCFG_COUNT];
	uint32_t set_mask;
};

struct ctl_partition {
	int32_t index;
	void *store;                    /* storage's handle, from partition_open */
	struct ctl_partition_stats stats; /* Kafka-side counters (ctl_metrics.h) */
};

struct ctl_topic {
	char name[CTL_TOPIC_NAME_MAX + 1];
	int32_t n_partitions;
	bool internal;                  /* __consumer_offsets, __transaction_state */
	bool pinned;                    /* fed by dataplane rules or read by an uplink: cannot be deleted */
	bool from_config;               /* declared in the configuration file */
	struct ctl_topic_configs cfg;   /* effective values (topic or broker) */
	struct ctl_partition *partitions;
};

struct ctl_catalog_ops {
	int (*partition_open)(void *arg, const struct ctl_topic *t, struct ctl_partition *p);
	void (*partition_close)(void *arg, const struct ctl_topic *t, struct ctl_partition *p);
	int (*topic_delete_data)(void *arg, const struct ctl_topic *t);
};

/*
 * Called on the control thread just before partition_close, while the
 * partition is still open (DeleteTopics, a failed create, teardown): drop
 * every reference to it -- waiting produces are answered with an error.
 */
typedef void (*ctl_partition_closing_fn)(void *arg, const struct ctl_topic *t,
					 struct ctl_partition *p);

/* A config given by name and value (views; value NULL = null). */
struct ctl_cfg_kv {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
};

struct ctl_topic_spec {
	const char *name;
	size_t name_len;
	int32_t n_partitions;
	const struct ctl_cfg_kv *configs;
	size_t n_configs;
	bool internal;
};

struct ctl_catalog;

/**
 * Build the catalog: the configuration's topics (pinned when they have an uplink or
 * traffic rules), then those remembered in <log.dirs>/sluice-topics.  @ops
 * (may be NULL) is called for every partition opened.  @cfg must outlive
 * the catalog.
 *
 * @return 0, -ENOMEM, -EINVAL (a bad topic in the configuration or the
 *   remembered list), or the -errno of partition_open.
 */
int ctl_catalog_create(const struct fwc_config *cfg, const struct ctl_catalog_ops *ops,
		       void *ops_arg, struct ctl_catalog **out);

/**
 * Install (or, with @fn NULL, remove) the one closing hook.  Whoever
 * installs it removes it before it is freed.
 */
void ctl_catalog_set_closing_hook(struct ctl_catalog *cat, ctl_partition_closing_fn fn, void *arg);

/** Close every partition (partition_close) and free. NULL is a no-op. */
void ctl_catalog_destroy(struct ctl_catalog *cat);

/** Topic count and the i-th topic, in creation order. */
size_t ctl_catalog_count(const struct ctl_catalog *cat);
struct ctl_topic *ctl_catalog_at(const struct ctl_catalog *cat, size_t i);

/** Find by name (view, not NUL-terminated), or NULL. */
struct ctl_topic *ctl_catalog_find(const struct ctl_catalog *cat, const char *name, size_t len);

/** auto.create.topics.enable */
bool ctl_catalog_auto_create_enabled(const struct ctl_catalog *cat);
/** num.partitions */
int32_t ctl_catalog_default_partitions(const struct ctl_catalog *cat);

/** Kafka's topic name rule: [A-Za-z0-9._-]{1,249}, not "." or "..". */
bool ctl_topic_name_valid(const char *name, size_t len);

/**
 * Create a topic.  Checks in Kafka's order: exists (TOPIC_ALREADY_EXISTS),
 * name (INVALID_TOPIC_EXCEPTION), partitions 1..CTL_MAX_PARTITIONS
 * (INVALID_PARTITIONS), configs (INVALID_CONFIG: unknown name, null or bad
 * value).  With @validate_only nothing is created.  On an error @msg gets a
 * Kafka-style sentence.  A storage failure is UNKNOWN_SERVER_ERROR.
 */
enum kp_err ctl_catalog_topic_create(struct ctl_catalog *cat, const struct ctl_topic_spec *spec,
				     bool validate_only, struct ctl_topic **out,
				     char *msg, size_t msg_len);

/**
 * Delete a topic: partition_close each partition, then topic_delete_data.
 * UNKNOWN_TOPIC_OR_PARTITION if absent, TOPIC_DELETION_DISABLED if pinned
 * or internal.
 */
enum kp_err ctl_catalog_topic_delete(struct ctl_catalog *cat, const char *name, size_t len);

/** The descriptor of config @i (< CTL_TCFG_COUNT). */
const struct ctl_tcfg_desc *ctl_tcfg_desc(enum ctl_tcfg i);
/** Index of the config named @name, or -ENOENT. */
int ctl_tcfg_find(const char *name, size_t len);
/** Format a typed value of config @i as Kafka text; @return chars written or -ENOSPC. */
int ctl_tcfg_format(enum ctl_tcfg i, int64_t v, char *buf, size_t len);
/** Parse Kafka text for config @i; @return 0 or -EINVAL (bad syntax or range). */
int ctl_tcfg_parse(enum ctl_tcfg i, const char *s, size_t len, int64_t *v);

/** The broker-level value of config @i (what a topic without it gets). */
int64_t ctl_catalog_broker_value(const struct ctl_catalog *cat, enum ctl_tcfg i);

/**
 * Read the cluster id from <log_dir>/meta.properties ("cluster.id=..."), or
 * create the file with a new random id (22 characters of URL-safe base64,
 * as Kafka's) and the broker id.
 *
 * @return 0 or -errno.
 */
int ctl_cluster_id_load(const char *log_dir, int32_t broker_id, char *buf, size_t len);

#endif /* CTL_CATALOG_H */
