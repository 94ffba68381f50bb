/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fwc_test.h - helpers shared by the firmware-config tests: capture every
 * diagnostic through struct fwc_diag, load YAML from a string, find the
 * source tree, and compare two configs ignoring where values came from.
 */
#ifndef FWC_TEST_H
#define FWC_TEST_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fwc_config.h"

#define CAP_MAX 64

struct capture {
	char msgs[CAP_MAX][1024];
	unsigned int n;
	struct fwc_diag diag;
};

static inline void capture_report(void *arg, const char *msg)
{
	struct capture *c = arg;

	if (c->n < CAP_MAX)
		snprintf(c->msgs[c->n], sizeof(c->msgs[0]), "%s", msg);
	c->n++;
}

static inline struct capture *capture_new(void)
{
	struct capture *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->diag.report = capture_report;
	c->diag.arg = c;
	return c;
}

static inline void capture_print(const struct capture *c)
{
	for (unsigned int i = 0; i < c->n && i < CAP_MAX; i++)
		print_message("  diag[%u]: %s\n", i, c->msgs[i]);
}

/* Fails unless @msg was reported exactly. */
static inline void assert_reported(const struct capture *c, const char *msg)
{
	for (unsigned int i = 0; i < c->n && i < CAP_MAX; i++)
		if (strcmp(c->msgs[i], msg) == 0)
			return;
	print_message("expected diagnostic not reported: %s\n", msg);
	capture_print(c);
	fail();
}

static inline void assert_errors(const struct capture *c, unsigned int n)
{
	if (c->n != n || c->diag.n_errors != n) {
		print_message("expected %u errors, got %u (n_errors %u)\n", n, c->n, c->diag.n_errors);
		capture_print(c);
		fail();
	}
}

static inline struct fwc_config *config_new(void)
{
	struct fwc_config *cfg = calloc(1, sizeof(*cfg));

	assert_non_null(cfg);
	return cfg;
}

static inline int load_str(struct fwc_config *cfg, const char *yaml, struct capture *c)
{
	return fwc_config_load_buf(cfg, "t.yaml", yaml, strlen(yaml), &c->diag);
}

static inline const char *source_root(void)
{
	const char *root = getenv("SLUICE_SOURCE_ROOT");

	return root && *root ? root : FWC_SOURCE_ROOT;
}

static inline void source_path(char *buf, size_t size, const char *rel)
{
	snprintf(buf, size, "%s/%s", source_root(), rel);
}

/* Forget where values came from, so two configs compare with memcmp. */
static inline void config_strip_origins(struct fwc_config *cfg)
{
	memset(cfg->path, 0, sizeof(cfg->path));
	memset(&cfg->control.origin, 0, sizeof(cfg->control.origin));
	memset(&cfg->storage.writer_cpus_origin, 0, sizeof(cfg->storage.writer_cpus_origin));
	for (unsigned int i = 0; i < cfg->dataplane.n_ports; i++) {
		memset(&cfg->dataplane.ports[i].origin, 0, sizeof(struct fwc_origin));
		memset(&cfg->dataplane.ports[i].lcores_origin, 0, sizeof(struct fwc_origin));
	}
	for (unsigned int i = 0; i < cfg->n_topics; i++) {
		memset(&cfg->topics[i].origin, 0, sizeof(struct fwc_origin));
		for (unsigned int r = 0; r < cfg->topics[i].n_rules; r++)
			memset(&cfg->topics[i].rules[r].origin, 0, sizeof(struct fwc_origin));
		memset(&cfg->topics[i].uplink.origin, 0, sizeof(struct fwc_origin));
		for (unsigned int p = 0; p < cfg->topics[i].uplink.n_props; p++)
			memset(&cfg->topics[i].uplink.props[p].origin, 0, sizeof(struct fwc_origin));
	}
}

/* The dump without its first line (which names the file it came from). */
static inline char *dump_body(const struct fwc_config *cfg)
{
	char *text = NULL, *body;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	fwc_config_dump(cfg, f);
	fclose(f);
	body = strchr(text, '\n');
	assert_non_null(body);
	body = strdup(body + 1);
	free(text);
	return body;
}

static inline char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long len;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, len + 1);
	if (buf && fread(buf, 1, len, f) != (size_t)len) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

#endif /* FWC_TEST_H */
