/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fwc_uplink.c - topics.<t>.uplink: the keys of the uplink into a Kafka
 * cluster (docs/scale-out.md).  Our own keys are in the key table
 * (FWC_SEC_UPLINK); every other key is a librdkafka producer property,
 * kept as text with its line and checked by librdkafka itself at
 * validation, so a bad property fails --check-config with FILE:LINE: KEY
 * like every other setting.  The properties that make the uplink's
 * guarantee (idempotence, acks=all, ordering) cannot be weakened.
 */
#include <errno.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "fwc_internal.h"

#define KEY_MAX 512
#define OVERRIDE_FILE "--override"

/* Properties the uplink sets itself, with the only value it accepts (NULL: none). */
static const struct { const char *name; const char *const ok[3]; const char *why; } fixed[] = {
	{ "enable.idempotence", { "true", NULL }, "the uplink needs the idempotent producer" },
	{ "acks", { "all", "-1", NULL }, "the uplink needs acks=all" },
	{ "request.required.acks", { "all", "-1", NULL }, "the uplink needs acks=all" },
	{ "transactional.id", { NULL }, "the uplink does not use transactions" },
	{ "enable.gapless.guarantee", { NULL }, "set by the uplink" },
};

static int check_fixed(const char *name, const char *value, const struct fwc_where *w)
{
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		if (strcmp(fixed[i].name, name) != 0)
			continue;
		for (size_t j = 0; fixed[i].ok[j]; j++)
			if (strcmp(fixed[i].ok[j], value) == 0)
				return 0;
		fwc_report(w->diag, w->file, w->line, w->key, "%s cannot be set to \"%s\": %s",
			   name, value, fixed[i].why);
		return -EINVAL;
	}
	return 0;
}

static int prop_set(struct fwc_uplink *u, const char *name, const char *value,
		    const struct fwc_where *w, bool from_override)
{
	unsigned int i;

	if (strlen(name) >= FWC_NAME_MAX || strlen(value) >= FWC_STR_MAX) {
		fwc_report(w->diag, w->file, w->line, w->key, "longer than %d characters",
			   strlen(name) >= FWC_NAME_MAX ? FWC_NAME_MAX - 1 : FWC_STR_MAX - 1);
		return -EINVAL;
	}
	if (check_fixed(name, value, w) < 0)
		return -EINVAL;
	for (i = 0; i < u->n_props; i++)
		if (strcmp(u->props[i].name, name) == 0)
			break;
	if (i == FWC_MAX_UPLINK_PROPS) {
		fwc_report(w->diag, w->file, w->line, w->key,
			   "an uplink has at most %d librdkafka properties", FWC_MAX_UPLINK_PROPS);
		return -EINVAL;
	}
	fwc_copy_str(u->props[i].name, FWC_NAME_MAX, name);
	fwc_copy_str(u->props[i].value, FWC_STR_MAX, value);
	u->props[i].origin.file = from_override ? OVERRIDE_FILE : NULL;
	u->props[i].origin.line = w->line;
	if (i == u->n_props)
		u->n_props++;
	return 0;
}

int fwc_uplink_set(struct fwc_topic *t, const char *name, const char *value,
		   const struct fwc_where *w, bool from_override)
{
	struct fwc_uplink *u = &t->uplink;
	const struct fwc_key *k;
	int rc;

	if (strncmp(name, "librdkafka.", 11) == 0)
		name += 11;
	if (!name[0]) {
		fwc_report(w->diag, w->file, w->line, w->key, "empty property name");
		return -EINVAL;
	}
	k = fwc_key_find(FWC_SEC_UPLINK, name);
	rc = k ? fwc_key_set_scalar(k, u, value, w) : prop_set(u, name, value, w, from_override);
	if (rc == 0 && !u->enabled) {
		u->enabled = true;
		u->origin.file = from_override ? OVERRIDE_FILE : NULL;
		u->origin.line = w->line;
	}
	return rc;
}

static const char *ofile(const struct fwc_config *cfg, const struct fwc_origin *o)
{
	if (o->file)
		return o->file;
	return cfg->path[0] ? cfg->path : "(config)";
}

/* librdkafka's verdict on every property, as a producer configuration. */
static void check_props(const struct fwc_config *cfg, const struct fwc_topic *t,
			struct fwc_diag *diag)
{
	const struct fwc_uplink *u = &t->uplink;
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char key[KEY_MAX], err[256];

	if (!conf)
		return;
	for (unsigned int i = 0; i < u->n_props; i++) {
		const struct fwc_uplink_prop *p = &u->props[i];

		snprintf(key, sizeof(key), "topics.%s.uplink.%s", t->name, p->name);
		if (strcmp(p->name, "bootstrap.servers") == 0 || strcmp(p->name, "metadata.broker.list") == 0) {
			fwc_report(diag, ofile(cfg, &p->origin), p->origin.line, key,
				   "set uplink.bootstrap.servers instead");
			continue;
		}
		if (rd_kafka_conf_set(conf, p->name, p->value, err, sizeof(err)) != RD_KAFKA_CONF_OK)
			fwc_report(diag, ofile(cfg, &p->origin), p->origin.line, key,
				   "librdkafka: %s", err);
	}
	rd_kafka_conf_destroy(conf);
}

void fwc_uplinks_validate(const struct fwc_config *cfg, struct fwc_diag *diag)
{
	char key[KEY_MAX];

	for (unsigned int i = 0; i < cfg->n_topics; i++) {
		const struct fwc_topic *t = &cfg->topics[i];
		const struct fwc_uplink *u = &t->uplink;
		const char *target = u->topic[0] ? u->topic : t->name;

		if (!u->enabled)
			continue;
		if (!u->bootstrap_servers[0]) {
			snprintf(key, sizeof(key), "topics.%s.uplink.bootstrap.servers", t->name);
			fwc_report(diag, ofile(cfg, &u->origin), u->origin.line, key,
				   "required when the topic has an uplink");
		}
		if (strspn(target, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "0123456789._-") != strlen(target) || !strcmp(target, ".") ||
		    !strcmp(target, "..")) {
			snprintf(key, sizeof(key), "topics.%s.uplink.topic", t->name);
			fwc_report(diag, ofile(cfg, &u->origin), u->origin.line, key,
				   "invalid topic name \"%s\"", target);
		}
		check_props(cfg, t, diag);
	}
}
