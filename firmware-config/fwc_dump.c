/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fwc_dump.c - print the effective configuration as YAML that loads back to
 * the same struct fwc_config.  Driven by the key table, so a key added there
 * is dumped (and round-trip tested) without touching this file.
 */
#include <arpa/inet.h>
#include <string.h>

#include "fwc_internal.h"

/* Double-quoted YAML scalar: always quoted, so "on", "1e3" or "" stay strings. */
static size_t quote(char *buf, size_t size, const char *s)
{
	size_t n = snprintf(buf, size, "\"");

	for (; *s && n < size; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			n += snprintf(buf + n, size - n, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			n += snprintf(buf + n, size - n, "\\x%02x", ch);
		else
			n += snprintf(buf + n, size - n, "%c", ch);
	}
	if (n < size)
		n += snprintf(buf + n, size - n, "\"");
	return n;
}

static int format_list(const struct fwc_key *k, const char *f, unsigned int count, char *buf,
		       size_t size)
{
	size_t n = snprintf(buf, size, "[");

	for (unsigned int i = 0; i < count && n < size; i++) {
		n += snprintf(buf + n, size - n, "%s", i ? ", " : "");
		if (n >= size)
			break;
		if (k->type == FWC_T_STRLIST)
			n += quote(buf + n, size - n, f + i * k->size);
		else
			n += snprintf(buf + n, size - n, "%lld",
				      (long long)fwc_int_get(f + i * k->size, k->size, k->is_signed));
	}
	if (n < size)
		snprintf(buf + n, size - n, "]");
	return 0;
}

static int format_flags(const struct fwc_key *k, uint32_t bits, char *buf, size_t size)
{
	size_t n = snprintf(buf, size, "[");

	for (unsigned int i = 0, first = 1; k->names[i] && n < size; i++) {
		if (!(bits & (1u << i)))
			continue;
		n += snprintf(buf + n, size - n, "%s%s", first ? "" : ", ", k->names[i]);
		first = 0;
	}
	if (n < size)
		snprintf(buf + n, size - n, "]");
	return 0;
}

/* @return 0, or -1 when the key is left out (unset address, inherited partitions). */
int fwc_key_format(const struct fwc_key *k, const void *base, char *buf, size_t size)
{
	const char *f = (const char *)base + k->off;
	const struct fwc_rule *r = base;
	unsigned int count;
	int64_t v;

	switch (k->type) {
	case FWC_T_INT:
		if (k->sec == FWC_SEC_TOPIC && !((const struct fwc_topic *)base)->partitions_explicit)
			return -1;
		snprintf(buf, size, "%lld", (long long)fwc_int_get(f, k->size, k->is_signed));
		return 0;
	case FWC_T_BOOL:
		snprintf(buf, size, "%s", *(const bool *)f ? "true" : "false");
		return 0;
	case FWC_T_ENUM:
		v = fwc_int_get(f, k->size, k->is_signed);
		for (int64_t i = 0; k->names[i]; i++)
			if (i == v) {
				snprintf(buf, size, "%s", k->names[i]);
				return 0;
			}
		return -1;
	case FWC_T_STR:
		quote(buf, size, f);
		return 0;
	case FWC_T_STRLIST:
	case FWC_T_INTLIST:
		memcpy(&count, (const char *)base + k->count_off, sizeof(count));
		return format_list(k, f, count, buf, size);
	case FWC_T_FLAGS:
		return format_flags(k, *(const uint32_t *)f, buf, size);
	case FWC_T_ADDR:
		if (!r->has_address || !inet_ntop(r->address_family, r->address, buf, size))
			return -1;
		return 0;
	}
	return -1;
}

/* One mapping of table keys; @first indents the first line ("  - "), @rest the others. */
static void dump_keys(FILE *out, enum fwc_section sec, const void *base, const char *first,
		      const char *rest)
{
	char buf[FWC_MAX_EAL_ARGS * (FWC_STR_MAX + 8) + PATH_MAX];
	const struct fwc_key *k;
	bool started = false;

	for (size_t i = 0; (k = fwc_key_at(i)) != NULL; i++) {
		if (k->sec != sec || fwc_key_format(k, base, buf, sizeof(buf)) < 0)
			continue;
		fprintf(out, "%s%s: %s\n", started ? rest : first, k->name, buf);
		started = true;
	}
}

static void dump_uplink(FILE *out, const struct fwc_uplink *u)
{
	char buf[2 * FWC_STR_MAX + 8];

	if (!u->enabled)
		return;
	fprintf(out, "    uplink:\n");
	dump_keys(out, FWC_SEC_UPLINK, u, "      ", "      ");
	for (unsigned int i = 0; i < u->n_props; i++) {
		quote(buf, sizeof(buf), u->props[i].value);
		fprintf(out, "      %s: %s\n", u->props[i].name, buf);
	}
}

static void dump_topic(FILE *out, const struct fwc_topic *t)
{
	char buf[2 * FWC_STR_MAX + 8];

	dump_keys(out, FWC_SEC_TOPIC, t, "  - ", "    ");
	if (t->n_configs)
		fprintf(out, "    configs:\n");
	for (unsigned int i = 0; i < t->n_configs; i++) {
		quote(buf, sizeof(buf), t->configs[i].value);
		fprintf(out, "      %s: %s\n", t->configs[i].name, buf);
	}
	if (t->n_rules)
		fprintf(out, "    rules:\n");
	for (unsigned int i = 0; i < t->n_rules; i++)
		dump_keys(out, FWC_SEC_RULE, &t->rules[i], "      - ", "        ");
	dump_uplink(out, &t->uplink);
}

void fwc_config_dump(const struct fwc_config *cfg, FILE *out)
{
	const struct fwc_dataplane *dp = &cfg->dataplane;

	fprintf(out, "# Effective configuration%s%s\n", cfg->path[0] ? " loaded from " : "",
		cfg->path);
	fprintf(out, "broker:\n");
	dump_keys(out, FWC_SEC_BROKER, &cfg->broker, "  ", "  ");
	fprintf(out, "\nstorage:\n");
	dump_keys(out, FWC_SEC_STORAGE, &cfg->storage, "  ", "  ");
	fprintf(out, "\ncontrol:\n");
	dump_keys(out, FWC_SEC_CONTROL, &cfg->control, "  ", "  ");
	fprintf(out, "\ndataplane:\n");
	dump_keys(out, FWC_SEC_DATAPLANE, dp, "  ", "  ");
	fprintf(out, "  ports:%s\n", dp->n_ports ? "" : " []");
	for (unsigned int i = 0; i < dp->n_ports; i++)
		dump_keys(out, FWC_SEC_PORT, &dp->ports[i], "    - ", "      ");
	fprintf(out, "\ntopics:%s\n", cfg->n_topics ? "" : " []");
	for (unsigned int i = 0; i < cfg->n_topics; i++)
		dump_topic(out, &cfg->topics[i]);
}
