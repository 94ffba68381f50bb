/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fwc_internal.h - shared between the config loader (fwc_yaml.c), the key
 * table and overrides (fwc_config.c), validation and dump.
 *
 * The heart is one table of scalar keys: every setting that is a single
 * value or a list of values is described once ({section, name, type,
 * offset, range, enum names}) and that description drives YAML loading,
 * --override and dump alike, so the three can never disagree on a key.
 * Only the structure (ports, topics, their configs and rules) is walked by
 * hand.
 */
#ifndef FWC_INTERNAL_H
#define FWC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "fwc_config.h"

enum fwc_section {
	FWC_SEC_BROKER,
	FWC_SEC_STORAGE,
	FWC_SEC_CONTROL,
	FWC_SEC_DATAPLANE,
	FWC_SEC_PORT,           /* an element of dataplane.ports */
	FWC_SEC_TOPIC,          /* an element of topics */
	FWC_SEC_RULE,           /* an element of topics.<t>.rules */
	FWC_SEC_TOPIC_CONFIG,   /* a Kafka topic config (validated, stored as text) */
	FWC_SEC_UPLINK,         /* topics.<t>.uplink: our keys (others go to librdkafka) */
};

enum fwc_type {
	FWC_T_INT,      /* any integer field; size/signedness from the member */
	FWC_T_BOOL,
	FWC_T_ENUM,     /* int-sized enum, names[i] is value i */
	FWC_T_STR,      /* char[size] */
	FWC_T_STRLIST,  /* char[max_n][size] + unsigned count */
	FWC_T_INTLIST,  /* integer array + unsigned count */
	FWC_T_FLAGS,    /* uint32_t bit set, names[i] is bit i */
	FWC_T_ADDR,     /* the rule address (has_address, family, bytes) */
};

#define FWC_F_POW2      (1u << 0)  /* integer must be a power of two */
#define FWC_F_NONEMPTY  (1u << 1)  /* string or list must not be empty */
#define FWC_F_LISTENER  (1u << 2)  /* string(s) NAME://HOST:PORT */
#define FWC_F_HOSTPORT  (1u << 3)  /* string HOST:PORT or empty */
#define FWC_F_ONE_DIR   (1u << 4)  /* a single path: no comma list */
#define FWC_F_PROTOMAP  (1u << 5)  /* NAME:PROTOCOL,... or empty */

struct fwc_key {
	enum fwc_section sec;
	const char *name;       /* as written in the file: "log.retention.ms" */
	enum fwc_type type;
	size_t off;             /* member offset in the section struct */
	size_t size;            /* member size (element size for lists) */
	size_t count_off;       /* lists: offset of the unsigned count */
	size_t origin_off;      /* != 0: a struct fwc_origin to stamp when set */
	unsigned int max_n;     /* lists: capacity */
	bool is_signed;
	int64_t min, max;       /* integers (list elements too) */
	const char *const *names; /* enum/flag names, NULL-terminated */
	unsigned int flags;     /* FWC_F_* */
	char sep;               /* lists given as one scalar: separator */
};

/* Where a value comes from, for messages. */
struct fwc_where {
	struct fwc_diag *diag;
	const char *file;
	unsigned int line;
	const char *key;        /* full dotted name */
};

/* fwc_config.c */
void fwc_report(struct fwc_diag *d, const char *file, unsigned int line, const char *key,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));
const struct fwc_key *fwc_key_find(enum fwc_section sec, const char *name);
const struct fwc_key *fwc_key_at(size_t i);     /* NULL past the end */
void *fwc_section_base(struct fwc_config *cfg, enum fwc_section sec);
void fwc_port_init(struct fwc_port *p);
void fwc_topic_init(struct fwc_topic *t);
void fwc_rule_init(struct fwc_rule *r);
const char *fwc_key_expect(const struct fwc_key *k, char *buf, size_t size);
int fwc_key_set_scalar(const struct fwc_key *k, void *base, const char *s,
		       const struct fwc_where *w);
/* Checks n against k->max_n (<= FWC_MAX_CPUS) before reading any item. */
int fwc_key_set_list(const struct fwc_key *k, void *base, const char *const *items,
		     const unsigned int *lines, unsigned int n, const struct fwc_where *w);
int fwc_topic_config_set(struct fwc_topic *t, const char *name, const char *value,
			 const struct fwc_where *w);
void fwc_key_stamp(const struct fwc_key *k, void *base, const char *file, unsigned int line);
void fwc_partitions_resolve(struct fwc_config *cfg);
void fwc_copy_str(char *dst, size_t size, const char *src);
int64_t fwc_int_get(const void *p, size_t size, bool is_signed);

/* fwc_uplink.c: one uplink key (ours, or a librdkafka property: @w->file NULL = the file). */
int fwc_uplink_set(struct fwc_topic *t, const char *name, const char *value,
		   const struct fwc_where *w, bool from_override);
/* Validation of every uplink (librdkafka checks its properties). */
void fwc_uplinks_validate(const struct fwc_config *cfg, struct fwc_diag *diag);

/* fwc_yaml.c: parse a YAML flow sequence ("[a, \"b,c\"]") for an override. */
int fwc_yaml_flow_list(const char *s, char (*items)[FWC_STR_MAX], unsigned int max,
		       const struct fwc_where *w);

/* fwc_dump.c */
int fwc_key_format(const struct fwc_key *k, const void *base, char *buf, size_t size);

#endif /* FWC_INTERNAL_H */
