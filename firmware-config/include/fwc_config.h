/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fwc_config.h - the appliance configuration.
 *
 * One YAML file describes the whole appliance.  It has five top-level
 * sections:
 *
 *   broker:     Kafka broker properties, spelled as in server.properties
 *               ("log.dirs", "log.segment.bytes", ...), plus a few of our own
 *               ("metrics.listener").
 *   storage:    the io_uring writers and the per-partition rings.
 *   control:    the control (Kafka protocol) thread.
 *   dataplane:  DPDK EAL arguments, ports and their RX queues, and which lcore
 *               polls each queue.
 *   topics:     topics, their partitions, per-topic Kafka configs and the
 *               traffic rules that feed them from the dataplane.
 *
 * Every scalar setting has a dotted name: the section, a dot, and the key as
 * written in the file ("storage.writer.threads").  Broker properties are
 * named by their bare Kafka name ("log.retention.ms"; "broker.log.retention.ms"
 * is accepted too), the way kafka-server-start's --override names them.
 * Settings inside lists are named through the element's name:
 * "dataplane.ports.<port>.<key>" and "topics.<topic>.<key>" (a topic's Kafka
 * configs: "topics.<topic>.configs.<key>").
 *
 * Loading never stops at the first problem: every error found is reported as
 * "FILE:LINE: KEY: message" and counted, so an operator fixes a file in one
 * pass.  The parsed result is plain data; nothing here touches DPDK, files
 * other than the config itself, or the network.
 */
#ifndef FWC_CONFIG_H
#define FWC_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <limits.h>

#define FWC_NAME_MAX       64   /* topic, port names (Kafka allows 249; we cap) */
#define FWC_STR_MAX        256  /* listeners, device args, paths fragments */
#define FWC_MAX_LISTENERS  4
#define FWC_MAX_EAL_ARGS   32
#define FWC_MAX_PORTS      8
#define FWC_MAX_QUEUES     16   /* RX queues per port */
#define FWC_MAX_TOPICS     64
#define FWC_MAX_RULES      8    /* rules per topic */
#define FWC_MAX_CPUS       64
#define FWC_MAX_TOPIC_CONFIGS 16
#define FWC_MAX_UPLINK_PROPS 32 /* librdkafka properties per uplink */

/*
 * Where a value came from, for error messages ("FILE:LINE: KEY: ...").
 * file is NULL for the loaded file itself (cfg->path: a pointer into the
 * struct would dangle once the struct is copied) or "--override"; line 0 =
 * a built-in default.
 */
struct fwc_origin {
	const char *file;       /* NULL = cfg->path, or "--override" */
	unsigned int line;      /* 1-based; for overrides the argument index */
};

/* ssl.client.auth: Kafka's values. */
enum fwc_ssl_client_auth { FWC_SSL_CLIENT_AUTH_NONE = 0, FWC_SSL_CLIENT_AUTH_REQUESTED,
			   FWC_SSL_CLIENT_AUTH_REQUIRED };

/* broker: Kafka's names, Kafka's defaults unless noted. */
struct fwc_broker {
	int32_t broker_id;                      /* broker.id (0) */
	unsigned int n_listeners;
	char listeners[FWC_MAX_LISTENERS][FWC_STR_MAX]; /* listeners: "PLAINTEXT://127.0.0.1:9092", comma separated */
	char advertised_listeners[FWC_STR_MAX]; /* advertised.listeners ("" = listeners) */
	char listener_security_protocol_map[FWC_STR_MAX]; /* NAME:PROTOCOL,... ("": names are protocols) */
	char log_dirs[PATH_MAX];                /* log.dirs (one directory; relative paths are to the working directory, as in Kafka) */
	int32_t num_partitions;                 /* num.partitions (1) */
	bool auto_create_topics_enable;         /* auto.create.topics.enable (true) */
	int32_t message_max_bytes;              /* message.max.bytes (1048588) */
	int32_t fetch_max_bytes;                /* fetch.max.bytes (ours: 8 MiB; Kafka: 57671680): cap on a Fetch response */
	int64_t log_segment_bytes;              /* log.segment.bytes (1 GiB), >= 14 */
	int64_t log_roll_ms;                    /* log.roll.ms (604800000) */
	int64_t log_retention_ms;               /* log.retention.ms (604800000), -1 = forever */
	int64_t log_retention_bytes;            /* log.retention.bytes (-1) */
	int64_t log_retention_check_interval_ms;/* log.retention.check.interval.ms (300000) */
	int32_t log_index_interval_bytes;       /* log.index.interval.bytes (4096) */
	int32_t log_index_size_max_bytes;       /* log.index.size.max.bytes (10485760) */
	int64_t log_flush_interval_messages;    /* log.flush.interval.messages (INT64_MAX) */
	int64_t log_flush_interval_ms;          /* log.flush.interval.ms (ours: 0; Kafka: none) */
	int32_t socket_request_max_bytes;       /* socket.request.max.bytes (104857600) */
	int32_t max_connections;                /* max.connections (ours: 4096) */
	int64_t connections_max_idle_ms;        /* connections.max.idle.ms (600000) */
	int32_t offsets_topic_num_partitions;   /* offsets.topic.num.partitions (50) */
	int32_t offsets_topic_segment_bytes;    /* offsets.topic.segment.bytes (104857600) */
	int64_t offsets_retention_minutes;      /* offsets.retention.minutes (10080) */
	int64_t offsets_retention_check_interval_ms; /* offsets.retention.check.interval.ms (600000) */
	int32_t offset_metadata_max_bytes;      /* offset.metadata.max.bytes (4096) */
	int32_t group_initial_rebalance_delay_ms; /* group.initial.rebalance.delay.ms (3000) */
	int32_t group_min_session_timeout_ms;   /* group.min.session.timeout.ms (6000) */
	int32_t group_max_session_timeout_ms;   /* group.max.session.timeout.ms (1800000) */
	int32_t group_max_size;                 /* group.max.size: members (and pending) per group (1000) */
	int32_t group_max_count;                /* group.max.count: consumer groups in all (10000) */
	int32_t max_broker_partitions;          /* max.broker.partitions: partitions in all (1000) */
	int64_t producer_id_expiration_ms;      /* producer.id.expiration.ms (86400000) */
	char metrics_listener[FWC_STR_MAX];     /* metrics.listener ("127.0.0.1:9644"; "" = off) */
	/* TLS on SSL:// listeners (Kafka's keystore/truststore settings as PEM files) */
	char ssl_certificate_location[PATH_MAX]; /* ssl.certificate.location: server chain, PEM ("") */
	char ssl_key_location[PATH_MAX];        /* ssl.key.location: its private key, PEM ("") */
	char ssl_ca_location[PATH_MAX];         /* ssl.ca.location: CAs trusted for client certs ("") */
	enum fwc_ssl_client_auth ssl_client_auth; /* ssl.client.auth (none) */
	/* SASL on SASL_PLAINTEXT:// and SASL_SSL:// listeners */
	unsigned int n_sasl_mechanisms;
	char sasl_enabled_mechanisms[3][32];    /* sasl.enabled.mechanisms (ours: SCRAM-SHA-256,SCRAM-SHA-512) */
	char sasl_credentials_location[PATH_MAX]; /* sasl.credentials.location: `sluice users` file ("") */
	int32_t sasl_max_failed_logins_per_minute; /* per source address, then refused (10; 0 = no limit) */
	/* ACLs (kafka-acls.sh semantics) */
	char acls_location[PATH_MAX];           /* acls.location: `sluice acls` file ("" = no authorizer) */
	char super_users[FWC_STR_MAX];          /* super.users: "User:a;User:b" ("") */
	bool allow_everyone_if_no_acl_found;    /* allow.everyone.if.no.acl.found (false) */
	bool listeners_allow_insecure;          /* listeners.allow.insecure: PLAINTEXT beyond loopback (false) */
};

/* What a consumer may read: up to which watermark (storage.consumer.visibility). */
enum fwc_visibility {
	FWC_VISIBILITY_DURABLE = 0,   /* fdatasync'ed: a crash cannot take it back (default) */
	FWC_VISIBILITY_FLUSHED,       /* written to the device, not yet fsync'ed */
	FWC_VISIBILITY_WRITTEN,       /* handed to the kernel */
};

enum fwc_tristate { FWC_AUTO = 0, FWC_ON, FWC_OFF };

/* storage: */
struct fwc_storage {
	uint32_t writer_threads;        /* writer.threads (1), 1..16 */
	unsigned int n_writer_cpus;
	uint16_t writer_cpus[FWC_MAX_CPUS]; /* writer.cpus ([]: unpinned) */
	uint64_t ring_bytes;            /* ring.bytes per partition (8 MiB), power of two, >= 64 KiB */
	enum fwc_tristate hugepages;    /* hugepages: auto|on|off (auto: fall back with a warning) */
	enum fwc_tristate direct_io;    /* direct.io: auto|on|off */
	uint32_t write_max_bytes;       /* write.max.bytes, largest single write (1 MiB) */
	enum fwc_visibility consumer_visibility; /* consumer.visibility: durable|flushed|written */
	uint32_t producers_max;         /* producers.max idempotent producers per partition (1024) */
	int32_t io_error_retry_ms;      /* io.error.retry.ms: retry a partition stopped by ENOSPC/EIO (1000; -1 never) */
	struct fwc_origin writer_cpus_origin;
};

/* control: */
struct fwc_control {
	int32_t cpu;                    /* cpu: pin the control thread (-1: unpinned; default 0) */
	struct fwc_origin origin;       /* of cpu */
	char user[64];                  /* user: drop root to it after EAL and ports ("" = stay) */
	char group[64];                 /* group: with user ("" = the user's group) */
};

/* Where a tap record's receive time comes from (rx.timestamp; docs/dataplane.md). */
enum fwc_rx_timestamp {
	FWC_RX_TS_AUTO = 0,             /* the NIC's hardware timestamp when the PMD offers one */
	FWC_RX_TS_HARDWARE,             /* the NIC's, or the port refuses to start */
	FWC_RX_TS_SOFTWARE,             /* the lcore's TSC converted to Unix time */
};

struct fwc_port {
	char name[FWC_NAME_MAX];        /* name: used in lcore queue refs and metrics */
	char device[FWC_STR_MAX];       /* device: PCI address ("0000:03:00.0") or vdev args ("net_pcap0,rx_pcap=x.pcap") */
	uint16_t rx_queues;             /* rx.queues (1), 1..FWC_MAX_QUEUES */
	uint16_t rx_descriptors;        /* rx.descriptors (1024), power of two 64..16384 */
	int16_t rx_lcores[FWC_MAX_QUEUES]; /* rx.lcores: lcore polling each queue, one per queue */
	unsigned int n_rx_lcores;       /* == rx_queues once fwc_config_validate passed */
	struct fwc_origin lcores_origin; /* of rx.lcores */
	bool promiscuous;               /* promiscuous (true) */
	uint32_t mbufs;                 /* mbufs (0 = size from descriptors and the pcap file) */
	enum fwc_rx_timestamp rx_timestamp; /* rx.timestamp: auto|hardware|software (auto) */
	struct fwc_origin origin;
};

struct fwc_dataplane {
	unsigned int n_eal_args;
	char eal_args[FWC_MAX_EAL_ARGS][FWC_STR_MAX]; /* eal: list of EAL arguments */
	bool exclusive_lcores;          /* exclusive.lcores (false): true = one queue per lcore */
	uint32_t burst_size;            /* burst.size (32), 1..512 */
	uint32_t frag_table_entries;    /* frag.table.entries (4096) */
	uint32_t frag_timeout_ms;       /* frag.timeout.ms (2000) */
	unsigned int n_ports;
	struct fwc_port ports[FWC_MAX_PORTS];
};

enum fwc_rule_mode { FWC_MODE_TAP = 0, FWC_MODE_PRODUCE };
enum fwc_rule_key { FWC_KEY_NONE = 0, FWC_KEY_SOURCE };

#define FWC_HDR_ADDRESSES (1u << 0)  /* headers: [addresses] -> src/dst address and port headers */

/* A traffic rule: UDP datagrams matching it become records of the topic. */
struct fwc_rule {
	uint16_t udp_port;              /* udp.port: destination port (required) */
	bool has_address;
	int address_family;             /* AF_INET / AF_INET6 when has_address */
	uint8_t address[16];            /* address: destination (unicast or multicast group) */
	int32_t vlan;                   /* vlan: 0..4095, -1 = any */
	enum fwc_rule_mode mode;        /* mode: tap|produce (tap) */
	enum fwc_rule_key key;          /* key: none|source (none) */
	uint32_t headers;               /* headers: list of FWC_HDR_* names */
	uint32_t batch_size;            /* batch.size (16384): seal a tap batch at this size */
	uint32_t linger_ms;             /* linger.ms (5): seal a tap batch this old */
	struct fwc_origin origin;
};

struct fwc_topic_config {
	char name[FWC_NAME_MAX];        /* a Kafka topic config name ("retention.ms") */
	char value[FWC_STR_MAX];
};

/* A librdkafka producer property given to an uplink, kept as text. */
struct fwc_uplink_prop {
	char name[FWC_NAME_MAX];
	char value[FWC_STR_MAX];
	struct fwc_origin origin;
};

/*
 * topics.<t>.uplink: mirror the topic into a Kafka cluster (docs/scale-out.md).
 * Written as a nested map ("uplink: {bootstrap.servers: ...}") or flat
 * ("uplink.bootstrap.servers: ..."); keys other than ours are librdkafka
 * producer properties (also under "uplink.librdkafka.<property>").
 */
struct fwc_uplink {
	bool enabled;                   /* any uplink key set */
	char bootstrap_servers[FWC_STR_MAX]; /* bootstrap.servers (required) */
	char topic[FWC_NAME_MAX];       /* topic: the remote topic ("" = the same name) */
	int32_t partition_offset;       /* partition.offset: remote partition = local + this (0) */
	bool retention_override;        /* retention.override: retention may delete unshipped data (false) */
	unsigned int n_props;
	struct fwc_uplink_prop props[FWC_MAX_UPLINK_PROPS];
	struct fwc_origin origin;       /* where the uplink was first given */
};

struct fwc_topic {
	char name[FWC_NAME_MAX];        /* name: [A-Za-z0-9._-], not "." or ".." */
	int32_t partitions;             /* partitions (broker num.partitions) */
	bool partitions_explicit;       /* false: follows num.partitions (also on override) */
	unsigned int n_configs;
	struct fwc_topic_config configs[FWC_MAX_TOPIC_CONFIGS]; /* configs: map of Kafka topic configs */
	unsigned int n_rules;
	struct fwc_rule rules[FWC_MAX_RULES];
	struct fwc_uplink uplink;       /* uplink: off unless configured */
	struct fwc_origin origin;
};

struct fwc_config {
	char path[PATH_MAX];            /* the file this came from ("" = built-in default only) */
	struct fwc_broker broker;
	struct fwc_storage storage;
	struct fwc_control control;
	struct fwc_dataplane dataplane;
	unsigned int n_topics;
	struct fwc_topic topics[FWC_MAX_TOPICS];
};

/*
 * Error sink.  Every problem is formatted "FILE:LINE: KEY: message" and given
 * to the callback (default: stderr).  n_errors counts them.
 */
struct fwc_diag {
	void (*report)(void *arg, const char *msg);
	void *arg;
	unsigned int n_errors;
};

/** Fill @cfg with the built-in defaults (no topics, no ports). */
void fwc_config_defaults(struct fwc_config *cfg);

/**
 * Reset @cfg to the defaults (fwc_config_defaults) and load a YAML file over
 * them.  Topics without "partitions" take broker num.partitions.  @diag may
 * be NULL (errors go to stderr).
 *
 * @return 0, or -EINVAL if any error was reported (all of them are), -errno
 *   if the file cannot be read (also reported).
 */
int fwc_config_load(struct fwc_config *cfg, const char *path, struct fwc_diag *diag);

/**
 * Load from a memory buffer; @name is used as the file name in messages.
 */
int fwc_config_load_buf(struct fwc_config *cfg, const char *name,
			const char *buf, size_t len, struct fwc_diag *diag);

/**
 * Apply one "KEY=VALUE" override (after loading).  @index is reported as the
 * line ("--override:3: log.dirs: ...").  KEY is a dotted name (see above);
 * list values are written "[1,2]" (YAML flow) or "1,2".  Existing ports,
 * topics and rules can be changed, not added.  A failed override leaves the
 * previous value.
 *
 * @return 0, or -EINVAL (reported).
 */
int fwc_config_override(struct fwc_config *cfg, const char *kv, unsigned int index,
			struct fwc_diag *diag);

/**
 * Cross-field checks that need the whole configuration: lcores exist on this
 * machine (n_cpus: CPUs 0..n_cpus-1 exist; 0 = the CPUs this process may run
 * on, from sched_getaffinity), a queue is polled by exactly one lcore
 * (rx.lcores has one entry per queue, no device is used by two ports),
 * exclusive.lcores, unique port/topic names, valid topic names, rule overlaps,
 * the control cpu is not a dataplane lcore.  Safe to call after a load that
 * reported errors (checks what did load), so one run reports everything.
 *
 * @return 0, or -EINVAL (every error reported).
 */
int fwc_config_validate(const struct fwc_config *cfg, unsigned int n_cpus, struct fwc_diag *diag);

/** Print the effective configuration as YAML (loadable again). */
void fwc_config_dump(const struct fwc_config *cfg, FILE *out);

/** Find a topic by name, or NULL. */
const struct fwc_topic *fwc_config_topic(const struct fwc_config *cfg, const char *name);

/*
 * The shipped default config (firmware-config/default.yaml), embedded in the
 * binary at build time so that "sluiced" with no --config runs anywhere.
 */
extern const char fwc_default_yaml[];
extern const size_t fwc_default_yaml_len;
#define FWC_DEFAULT_NAME "firmware-config/default.yaml"

/** Load the embedded default (as fwc_config_load_buf with FWC_DEFAULT_NAME). */
int fwc_config_load_default(struct fwc_config *cfg, struct fwc_diag *diag);

#endif /* FWC_CONFIG_H */
