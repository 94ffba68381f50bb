/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_meta.c - what the broker keeps in log.dirs besides partition data:
 * meta.properties (cluster.id, as Kafka) and sluice-topics, the topics
 * created over the wire (Kafka keeps those in ZooKeeper/KRaft; one small
 * text file rewritten with write-to-temp + rename is enough for one node).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>

#include "ctl_catalog_int.h"
#include "ctl_log.h"
#include "fwc_config.h"
#include "st_file.h"

static int path_in(const char *dir, const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static void new_cluster_id(char *buf)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint8_t r[16] = { 0 };
	uint32_t acc = 0;
	int bits = 0, n = 0;

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		for (size_t i = 0; i < sizeof(r); i++)
			r[i] = (uint8_t)(rand() ^ getpid());
	}
	/* 128 bits -> 22 URL-safe base64 characters, no padding (as Kafka's Uuid). */
	for (size_t i = 0; i < sizeof(r); i++) {
		acc = (acc << 8) | r[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			buf[n++] = b64[(acc >> bits) & 63];
		}
	}
	if (bits)
		buf[n++] = b64[(acc << (6 - bits)) & 63];
	buf[n] = '\0';
}

int ctl_cluster_id_load(const char *log_dir, int32_t broker_id, char *buf, size_t len)
{
	char path[PATH_MAX], line[512], id[32], text[256];
	FILE *f;
	int rc;

	if ((rc = path_in(log_dir, "meta.properties", path, sizeof(path))) < 0)
		return rc;
	f = fopen(path, "re");
	if (f) {
		rc = -ENOENT;
		while (fgets(line, sizeof(line), f)) {
			if (strncmp(line, "cluster.id=", 11) != 0)
				continue;
			line[strcspn(line, "\r\n")] = '\0';
			rc = snprintf(buf, len, "%s", line + 11) >= (int)len ? -ENAMETOOLONG : 0;
			break;
		}
		fclose(f);
		return rc;
	}
	if (errno != ENOENT)
		return -errno;
	new_cluster_id(id);
	snprintf(text, sizeof(text), "#\n#Written by sluiced\ncluster.id=%s\nversion=0\nbroker.id=%d\n",
		 id, broker_id);
	if ((rc = st_file_replace(path, text, strlen(text))) < 0)
		return rc;
	return snprintf(buf, len, "%s", id) >= (int)len ? -ENAMETOOLONG : 0;
}

/* Append "name partitions key=value..." for @t to @f. */
static void persist_topic(FILE *f, const struct ctl_topic *t)
{
	char v[32];

	fprintf(f, "%s %d", t->name, t->n_partitions);
	for (int i = 0; i < CTL_TCFG_COUNT; i++) {
		if (!(t->cfg.set_mask & (1u << i)))
			continue;
		ctl_tcfg_format((enum ctl_tcfg)i, t->cfg.v[i], v, sizeof(v));
		fprintf(f, " %s=%s", ctl_tcfg_desc((enum ctl_tcfg)i)->name, v);
	}
	fputc('\n', f);
}

void ctl_catalog_persist(const struct ctl_catalog *cat)
{
	char path[PATH_MAX], *text = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	if (!cat->cfg->broker.log_dirs[0])
		return;
	if ((rc = path_in(cat->cfg->broker.log_dirs, CTL_TOPICS_FILE, path, sizeof(path))) < 0)
		goto out;
	f = open_memstream(&text, &len);
	if (!f) {
		rc = -ENOMEM;
		goto out;
	}
	fputs("# topics created over the Kafka protocol: name partitions [config=value]...\n", f);
	for (size_t i = 0; i < cat->n_topics; i++)
		if (!cat->topics[i]->from_config)
			persist_topic(f, cat->topics[i]);
	fclose(f);
	rc = st_file_replace(path, text, len);
out:
	if (rc < 0)
		CTL_LOG(WARNING, "%s/%s: %s; topics created since start are not remembered",
			cat->cfg->broker.log_dirs, CTL_TOPICS_FILE, strerror(-rc));
	free(text);
}

/* Parse one line of sluice-topics and create the topic. */
static void load_line(struct ctl_catalog *cat, char *line, unsigned int lineno)
{
	struct ctl_cfg_kv kv[CTL_TCFG_COUNT];
	struct ctl_topic_spec spec = { 0 };
	char *save = NULL, *tok, *end, msg[256];
	enum kp_err err;
	long parts;

	tok = strtok_r(line, " \t\n", &save);
	if (!tok || tok[0] == '#')
		return;
	spec.name = tok;
	spec.name_len = strlen(tok);
	tok = strtok_r(NULL, " \t\n", &save);
	parts = tok ? strtol(tok, &end, 10) : 0;
	spec.n_partitions = tok && *end == '\0' && parts > 0 && parts <= INT32_MAX ? (int32_t)parts
										   : 0;
	spec.configs = kv;
	while ((tok = strtok_r(NULL, " \t\n", &save)) && spec.n_configs < CTL_TCFG_COUNT) {
		char *eq = strchr(tok, '=');

		if (!eq)
			break;
		kv[spec.n_configs++] = (struct ctl_cfg_kv){ tok, (size_t)(eq - tok), eq + 1,
							    strlen(eq + 1) };
	}
	err = ctl_catalog_insert(cat, &spec, false, NULL, msg, sizeof(msg));
	if (err == KP_ERR_TOPIC_ALREADY_EXISTS)
		return; /* now declared in the configuration file: that wins */
	if (err != KP_ERR_NONE)
		CTL_LOG(WARNING, "%s:%u: topic %s skipped: %s", CTL_TOPICS_FILE, lineno, spec.name,
			msg);
}

int ctl_catalog_load_persisted(struct ctl_catalog *cat)
{
	char path[PATH_MAX], line[4096];
	unsigned int lineno = 0;
	FILE *f;
	int rc;

	if (!cat->cfg->broker.log_dirs[0])
		return 0;
	if ((rc = path_in(cat->cfg->broker.log_dirs, CTL_TOPICS_FILE, path, sizeof(path))) < 0)
		return rc;
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (fgets(line, sizeof(line), f))
		load_line(cat, line, ++lineno);
	fclose(f);
	return 0;
}
