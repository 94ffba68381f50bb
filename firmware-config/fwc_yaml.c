/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fwc_yaml.c - load the appliance YAML into struct fwc_config.
 *
 * libyaml's document API gives every node a start mark, which is what turns
 * each problem into "FILE:LINE: KEY: message".  This file only walks the
 * structure (sections, ports, topics, their configs and rules); every scalar
 * setting is handed to the key table in fwc_config.c, the same code that
 * --override uses.  The walk never stops at an error: it reports, skips the
 * value and carries on, so one run lists everything wrong with a file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "fwc_internal.h"

#define KEY_MAX 512
#define SEQ_MAX (FWC_MAX_CPUS + 1)      /* one more than any list holds: "too many" */

struct ctx {
	struct fwc_config *cfg;
	struct fwc_diag *diag;
	yaml_document_t *doc;
	const char *file;
};

typedef bool (*special_fn)(struct ctx *c, void *base, const char *name, const char *dotted,
			   yaml_node_t *v);

static unsigned int line_of(const yaml_node_t *n)
{
	return (unsigned int)n->start_mark.line + 1;
}

static yaml_node_t *node_at(struct ctx *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static const char *node_kind(const yaml_node_t *n)
{
	return n->type == YAML_MAPPING_NODE ? "a mapping" :
	       n->type == YAML_SEQUENCE_NODE ? "a list" : "a scalar";
}

/* The scalar value of @key in mapping @map, or NULL. */
static const char *map_get(struct ctx *c, yaml_node_t *map, const char *key)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const char *k = scalar(node_at(c, p->key));

		if (k && strcmp(k, key) == 0)
			return scalar(node_at(c, p->value));
	}
	return NULL;
}

static void join(char *out, const char *prefix, const char *name)
{
	if (prefix)
		snprintf(out, KEY_MAX, "%s.%s", prefix, name);
	else
		snprintf(out, KEY_MAX, "%s", name);
}

/* Collect a sequence of scalars and hand it to the key table. */
static int set_seq(struct ctx *c, const struct fwc_key *k, void *base, yaml_node_t *seq,
		   const struct fwc_where *w)
{
	const char *items[SEQ_MAX];
	unsigned int lines[SEQ_MAX], n = 0;
	char buf[256];

	for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top; i++) {
		yaml_node_t *item = node_at(c, *i);

		if (!scalar(item)) {
			fwc_report(c->diag, c->file, line_of(item), w->key, "expected %s (got %s)",
				   fwc_key_expect(k, buf, sizeof(buf)), node_kind(item));
			return -EINVAL;
		}
		if (n < SEQ_MAX) {
			items[n] = scalar(item);
			lines[n] = line_of(item);
		}
		n++;
	}
	return fwc_key_set_list(k, base, items, lines, n, w);  /* n > max_n: items not read */
}

static void set_node(struct ctx *c, const struct fwc_key *k, void *base, const char *dotted,
		     yaml_node_t *v)
{
	struct fwc_where w = { c->diag, c->file, line_of(v), dotted };
	char buf[256];
	int rc;

	if (v->type == YAML_SCALAR_NODE) {
		rc = fwc_key_set_scalar(k, base, scalar(v), &w);
	} else if (v->type == YAML_SEQUENCE_NODE) {
		rc = set_seq(c, k, base, v, &w);
	} else {
		fwc_report(c->diag, c->file, line_of(v), dotted, "expected %s (got a mapping)",
			   fwc_key_expect(k, buf, sizeof(buf)));
		rc = -EINVAL;
	}
	if (rc == 0)
		fwc_key_stamp(k, base, NULL, line_of(v));
}

static bool duplicate(struct ctx *c, yaml_node_t *map, yaml_node_pair_t *p, const char *dotted)
{
	const char *name = scalar(node_at(c, p->key));

	for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
		yaml_node_t *k = node_at(c, q->key);

		if (scalar(k) && strcmp(scalar(k), name) == 0) {
			fwc_report(c->diag, c->file, line_of(node_at(c, p->key)), dotted,
				   "duplicate key (first at line %u)", line_of(k));
			return true;
		}
	}
	return false;
}

/*
 * Walk one mapping of table keys.  @special takes the keys that are
 * structure rather than values (ports, configs, rules).
 */
static void walk_map(struct ctx *c, enum fwc_section sec, void *base, yaml_node_t *map,
		     const char *prefix, special_fn special)
{
	char dotted[KEY_MAX];

	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node_at(c, p->key), *v = node_at(c, p->value);
		const struct fwc_key *key;

		if (!scalar(k)) {
			fwc_report(c->diag, c->file, line_of(k), prefix ? prefix : "(top)",
				   "expected a plain key (got %s)", node_kind(k));
			continue;
		}
		join(dotted, prefix, scalar(k));
		if (duplicate(c, map, p, dotted))
			continue;
		if (special && special(c, base, scalar(k), dotted, v))
			continue;
		key = fwc_key_find(sec, scalar(k));
		if (!key) {
			fwc_report(c->diag, c->file, line_of(k), dotted, "unknown key");
			continue;
		}
		set_node(c, key, base, dotted, v);
	}
}

static bool expect_type(struct ctx *c, yaml_node_t *v, yaml_node_type_t type, const char *dotted)
{
	if (v->type == type)
		return true;
	fwc_report(c->diag, c->file, line_of(v), dotted, "expected %s (got %s)",
		   type == YAML_MAPPING_NODE ? "a mapping" : "a list", node_kind(v));
	return false;
}

/* Elements of ports/topics/rules are named by "name" when they have one. */
static void element_prefix(struct ctx *c, char *out, const char *list, yaml_node_t *item,
			   unsigned int index, bool named)
{
	const char *name = named ? map_get(c, item, "name") : NULL;

	if (name && *name)
		snprintf(out, KEY_MAX, "%s.%s", list, name);
	else
		snprintf(out, KEY_MAX, "%s.%u", list, index);
}

static void require(struct ctx *c, yaml_node_t *item, const char *prefix, const char *key)
{
	if (!map_get(c, item, key))
		fwc_report(c->diag, c->file, line_of(item), prefix,
			   "required key \"%s\" is missing", key);
}

static bool port_special(struct ctx *c, void *base, const char *name, const char *dotted,
			 yaml_node_t *v)
{
	struct fwc_dataplane *dp = base;
	char prefix[KEY_MAX];
	unsigned int i = 0;

	if (strcmp(name, "ports") != 0)
		return false;
	if (!expect_type(c, v, YAML_SEQUENCE_NODE, dotted))
		return true;
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++, i++) {
		yaml_node_t *item = node_at(c, *it);
		struct fwc_port *port = &dp->ports[dp->n_ports];

		element_prefix(c, prefix, dotted, item, i, true);
		if (!expect_type(c, item, YAML_MAPPING_NODE, prefix))
			continue;
		if (dp->n_ports == FWC_MAX_PORTS) {
			fwc_report(c->diag, c->file, line_of(item), prefix,
				   "at most %d ports", FWC_MAX_PORTS);
			break;
		}
		fwc_port_init(port);
		port->origin.line = line_of(item);
		walk_map(c, FWC_SEC_PORT, port, item, prefix, NULL);
		require(c, item, prefix, "name");
		require(c, item, prefix, "device");
		dp->n_ports++;
	}
	return true;
}

static void walk_configs(struct ctx *c, struct fwc_topic *t, yaml_node_t *map, const char *dotted)
{
	char key[KEY_MAX];

	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node_at(c, p->key), *v = node_at(c, p->value);
		struct fwc_where w = { c->diag, c->file, line_of(v), key };

		if (!scalar(k)) {
			fwc_report(c->diag, c->file, line_of(k), dotted, "expected a plain key");
			continue;
		}
		join(key, dotted, scalar(k));
		if (duplicate(c, map, p, key))
			continue;
		if (!scalar(v))
			fwc_report(c->diag, c->file, line_of(v), key, "expected a value (got %s)",
				   node_kind(v));
		else
			fwc_topic_config_set(t, scalar(k), scalar(v), &w);
	}
}

static void walk_rules(struct ctx *c, struct fwc_topic *t, yaml_node_t *seq, const char *dotted)
{
	char prefix[KEY_MAX];
	unsigned int i = 0;

	for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++, i++) {
		yaml_node_t *item = node_at(c, *it);
		struct fwc_rule *r = &t->rules[t->n_rules];

		element_prefix(c, prefix, dotted, item, i, false);
		if (!expect_type(c, item, YAML_MAPPING_NODE, prefix))
			continue;
		if (t->n_rules == FWC_MAX_RULES) {
			fwc_report(c->diag, c->file, line_of(item), prefix,
				   "a topic has at most %d rules", FWC_MAX_RULES);
			break;
		}
		fwc_rule_init(r);
		r->origin.line = line_of(item);
		walk_map(c, FWC_SEC_RULE, r, item, prefix, NULL);
		require(c, item, prefix, "udp.port");
		t->n_rules++;
	}
}

static void walk_uplink(struct ctx *c, struct fwc_topic *t, yaml_node_t *map, const char *dotted,
			const char *sub_prefix);

/* One uplink key (@name after "uplink."): a scalar, or a nested map of librdkafka properties. */
static void uplink_key(struct ctx *c, struct fwc_topic *t, const char *name, const char *dotted,
		       yaml_node_t *v)
{
	struct fwc_where w = { c->diag, c->file, line_of(v), dotted };

	if (v->type == YAML_MAPPING_NODE && strcmp(name, "librdkafka") == 0) {
		walk_uplink(c, t, v, dotted, "librdkafka.");
		return;
	}
	if (!scalar(v)) {
		fwc_report(c->diag, c->file, line_of(v), dotted, "expected a value (got %s)",
			   node_kind(v));
		return;
	}
	fwc_uplink_set(t, name, scalar(v), &w, false);
}

/* The keys of an uplink map; @sub_prefix is put before each key's name ("librdkafka."). */
static void walk_uplink(struct ctx *c, struct fwc_topic *t, yaml_node_t *map, const char *dotted,
			const char *sub_prefix)
{
	char key[KEY_MAX], sub[KEY_MAX];

	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node_at(c, p->key);

		if (!scalar(k)) {
			fwc_report(c->diag, c->file, line_of(k), dotted, "expected a plain key");
			continue;
		}
		join(key, dotted, scalar(k));
		snprintf(sub, sizeof(sub), "%s%s", sub_prefix, scalar(k));
		if (!duplicate(c, map, p, key))
			uplink_key(c, t, sub, key, node_at(c, p->value));
	}
}

static bool topic_special(struct ctx *c, void *base, const char *name, const char *dotted,
			  yaml_node_t *v)
{
	struct fwc_topic *t = base;

	if (strcmp(name, "uplink") == 0) {
		if (expect_type(c, v, YAML_MAPPING_NODE, dotted))
			walk_uplink(c, t, v, dotted, "");
		return true;
	}
	if (strncmp(name, "uplink.", 7) == 0) {
		uplink_key(c, t, name + 7, dotted, v);
		return true;
	}

	if (strcmp(name, "configs") == 0) {
		if (expect_type(c, v, YAML_MAPPING_NODE, dotted))
			walk_configs(c, t, v, dotted);
		return true;
	}
	if (strcmp(name, "rules") == 0) {
		if (expect_type(c, v, YAML_SEQUENCE_NODE, dotted))
			walk_rules(c, t, v, dotted);
		return true;
	}
	return false;
}

static void walk_topics(struct ctx *c, yaml_node_t *seq)
{
	struct fwc_config *cfg = c->cfg;
	char prefix[KEY_MAX];
	unsigned int i = 0;

	for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++, i++) {
		yaml_node_t *item = node_at(c, *it);
		struct fwc_topic *t = &cfg->topics[cfg->n_topics];

		element_prefix(c, prefix, "topics", item, i, true);
		if (!expect_type(c, item, YAML_MAPPING_NODE, prefix))
			continue;
		if (cfg->n_topics == FWC_MAX_TOPICS) {
			fwc_report(c->diag, c->file, line_of(item), prefix,
				   "at most %d topics", FWC_MAX_TOPICS);
			break;
		}
		fwc_topic_init(t);
		t->origin.line = line_of(item);
		walk_map(c, FWC_SEC_TOPIC, t, item, prefix, topic_special);
		require(c, item, prefix, "name");
		cfg->n_topics++;
	}
}

static void walk_root(struct ctx *c, yaml_node_t *root)
{
	static const struct { const char *name; enum fwc_section sec; special_fn special; } secs[] = {
		{ "broker", FWC_SEC_BROKER, NULL }, { "storage", FWC_SEC_STORAGE, NULL },
		{ "control", FWC_SEC_CONTROL, NULL }, { "dataplane", FWC_SEC_DATAPLANE, port_special },
	};

	if (!expect_type(c, root, YAML_MAPPING_NODE, "(top)"))
		return;
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node_at(c, p->key), *v = node_at(c, p->value);
		const char *name = scalar(k);
		size_t i;

		if (!name) {
			fwc_report(c->diag, c->file, line_of(k), "(top)", "expected a plain key");
			continue;
		}
		if (duplicate(c, root, p, name))
			continue;
		if (strcmp(name, "topics") == 0) {
			if (expect_type(c, v, YAML_SEQUENCE_NODE, name))
				walk_topics(c, v);
			continue;
		}
		for (i = 0; i < sizeof(secs) / sizeof(secs[0]); i++)
			if (strcmp(name, secs[i].name) == 0)
				break;
		if (i == sizeof(secs) / sizeof(secs[0])) {
			fwc_report(c->diag, c->file, line_of(k), name,
				   "unknown key (sections: broker, storage, control, dataplane, topics)");
			continue;
		}
		/* "broker:" with nothing under it is an empty section, not an error. */
		if (scalar(v) && !*scalar(v))
			continue;
		if (expect_type(c, v, YAML_MAPPING_NODE, name))
			walk_map(c, secs[i].sec, fwc_section_base(c->cfg, secs[i].sec), v,
				 secs[i].sec == FWC_SEC_BROKER ? NULL : name, secs[i].special);
	}
}

static void report_syntax(struct fwc_diag *diag, const char *file, const yaml_parser_t *p)
{
	unsigned int line = (unsigned int)p->problem_mark.line + 1;

	if (p->error == YAML_MEMORY_ERROR)
		fwc_report(diag, file, 0, NULL, "out of memory");
	else if (p->error == YAML_READER_ERROR)
		fwc_report(diag, file, 0, NULL, "syntax error: %s at byte %zu",
			   p->problem, p->problem_offset);
	else if (p->context)
		fwc_report(diag, file, line, NULL, "syntax error: %s (%s at line %u)", p->problem,
			   p->context, (unsigned int)p->context_mark.line + 1);
	else
		fwc_report(diag, file, line, NULL, "syntax error: %s", p->problem);
}

/* Parse the first document; a second one is an error (it would be ignored). */
static int parse_doc(yaml_parser_t *parser, yaml_document_t *doc, struct fwc_diag *diag,
		     const char *file)
{
	yaml_document_t extra;
	yaml_node_t *root;

	if (!yaml_parser_load(parser, doc)) {
		report_syntax(diag, file, parser);
		return -EINVAL;
	}
	if (!yaml_parser_load(parser, &extra)) {
		report_syntax(diag, file, parser);
		yaml_document_delete(doc);
		return -EINVAL;
	}
	root = yaml_document_get_root_node(&extra);
	if (root)
		fwc_report(diag, file, line_of(root), NULL, "only one YAML document is allowed");
	yaml_document_delete(&extra);
	return 0;
}

int fwc_config_load_buf(struct fwc_config *cfg, const char *name, const char *buf, size_t len,
			struct fwc_diag *diag)
{
	struct fwc_diag dflt = { 0 };
	yaml_parser_t parser;
	yaml_document_t doc;
	struct ctx c = { .cfg = cfg, .doc = &doc, .file = cfg->path };
	yaml_node_t *root;
	unsigned int before;

	if (!diag)
		diag = &dflt;
	c.diag = diag;
	before = diag->n_errors;
	fwc_config_defaults(cfg);
	fwc_copy_str(cfg->path, sizeof(cfg->path), name);
	if (!yaml_parser_initialize(&parser)) {
		fwc_report(diag, name, 0, NULL, "out of memory");
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (parse_doc(&parser, &doc, diag, name) == 0) {
		root = yaml_document_get_root_node(&doc);
		if (root && !(scalar(root) && !*scalar(root)))
			walk_root(&c, root);
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	fwc_partitions_resolve(cfg);
	return diag->n_errors > before ? -EINVAL : 0;
}

int fwc_config_load(struct fwc_config *cfg, const char *path, struct fwc_diag *diag)
{
	struct fwc_diag dflt = { 0 };
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	int rc = 0;

	if (!diag)
		diag = &dflt;
	if (!f) {
		rc = -errno;
		goto out;
	}
	errno = 0;
	do {
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap ? cap * 2 : 65536);

			if (!nb) {
				rc = -ENOMEM;
				goto out;
			}
			buf = nb;
			cap = cap ? cap * 2 : 65536;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	if (ferror(f))
		rc = errno ? -errno : -EIO;     /* EISDIR for a directory */
out:
	if (f)
		fclose(f);
	if (rc == 0) {
		rc = fwc_config_load_buf(cfg, path, buf, len, diag);
	} else {
		fwc_config_defaults(cfg);
		fwc_copy_str(cfg->path, sizeof(cfg->path), path);
		fwc_report(diag, path, 0, NULL, "cannot read: %s", strerror(-rc));
	}
	free(buf);
	return rc;
}

int fwc_config_load_default(struct fwc_config *cfg, struct fwc_diag *diag)
{
	return fwc_config_load_buf(cfg, FWC_DEFAULT_NAME, fwc_default_yaml, fwc_default_yaml_len, diag);
}

int fwc_yaml_flow_list(const char *s, char (*items)[FWC_STR_MAX], unsigned int max,
		       const struct fwc_where *w)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	int n = 0;

	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)s, strlen(s));
	if (!yaml_parser_load(&parser, &doc)) {
		fwc_report(w->diag, w->file, w->line, w->key, "expected a list like [a, b]: %s",
			   parser.problem);
		n = -EINVAL;
		goto out_parser;
	}
	root = yaml_document_get_root_node(&doc);
	if (!root || root->type != YAML_SEQUENCE_NODE) {
		fwc_report(w->diag, w->file, w->line, w->key, "expected a list like [a, b]");
		n = -EINVAL;
		goto out;
	}
	for (yaml_node_item_t *i = root->data.sequence.items.start; i < root->data.sequence.items.top; i++) {
		const char *v = scalar(yaml_document_get_node(&doc, *i));

		if (!v || strlen(v) >= FWC_STR_MAX || (unsigned int)n == max) {
			fwc_report(w->diag, w->file, w->line, w->key, v ?
				   "list too long or entry too long" : "expected a list of plain values");
			n = -EINVAL;
			goto out;
		}
		fwc_copy_str(items[n++], FWC_STR_MAX, v);
	}
out:
	yaml_document_delete(&doc);
out_parser:
	yaml_parser_delete(&parser);
	return n;
}
