/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_config - arbitrary bytes as the appliance's YAML configuration
 * (fwc_config_load_buf, what fwc_config_load does after reading the file),
 * then the cross-field checks (fwc_config_validate) and, for what loads,
 * the effective configuration printed (fwc_config_dump) and loaded again.
 *
 * What must hold besides "no crash": a load fails exactly when it reported
 * something, and every report reads "FILE:LINE: KEY: message" (the line
 * within the input; "FILE: message" only for a reader error that has no
 * line); what loads prints as YAML that loads again, without a report, to
 * the same configuration (printed identically).
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "fwc_config.h"

#define NAME "fuzz.yaml"

struct reports {
	unsigned int n;
	unsigned int max_line;  /* lines in the input + 1: libyaml puts an error at the end of
				 * an input without a final newline on the line after it */
	const char *name;
};

/* A check on a report that prints it when it fails. */
#define RCHECK(cond)                                                         \
	do {                                                                 \
		if (!(cond))                                                 \
			fprintf(stderr, "report: \"%s\"\n", msg);           \
		FZ_CHECK(cond);                                              \
	} while (0)

static void report(void *arg, const char *msg)
{
	struct reports *r = arg;
	size_t nl = strlen(r->name);
	const char *p = msg + nl;

	r->n++;
	RCHECK(strncmp(msg, r->name, nl) == 0 && *p == ':');
	p++;
	if (isdigit((unsigned char)*p)) {
		unsigned long line = strtoul(p, (char **)&p, 10);

		RCHECK(line >= 1 && line <= r->max_line);
		RCHECK(*p == ':');
		p++;
	}
	RCHECK(*p == ' ' && p[1] != '\0' && p[1] != ' ');
}

/* Line breaks as YAML counts them: LF, CR, CR LF, and in UTF-8 NEL, LS and PS. */
static unsigned int yaml_lines(const uint8_t *p, size_t n)
{
	unsigned int k = 0;

	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n' || (p[i] == '\r' && !(i + 1 < n && p[i + 1] == '\n')))
			k++;
		else if (i + 1 < n && p[i] == 0xc2 && p[i + 1] == 0x85)
			k++;
		else if (i + 2 < n && p[i] == 0xe2 && p[i + 1] == 0x80 && (p[i + 2] & 0xfe) == 0xa8)
			k++;
	}
	return k;
}

static char *dump(const struct fwc_config *cfg, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	FZ_CHECK(f != NULL);
	fwc_config_dump(cfg, f);
	FZ_CHECK(fclose(f) == 0);
	return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fwc_config cfg, again;
	struct reports r = { 0, 2, NAME };
	struct fwc_diag diag = { report, &r, 0 };
	char *buf, *text, *text2;
	size_t len, len2;
	int rc;

	if (size > (1u << 16))
		return -1;
	r.max_line += yaml_lines(data, size);
	buf = (char *)fz_dup(data, size);
	rc = fwc_config_load_buf(&cfg, NAME, buf, size, &diag);
	free(buf);
	FZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM);
	FZ_CHECK((rc == 0) == (diag.n_errors == 0) && r.n == diag.n_errors);
	/* What loaded, even partly, is checked as a whole (sluiced --check-config does both). */
	rc = fwc_config_validate(&cfg, 64, &diag);
	FZ_CHECK(rc == 0 || rc == -EINVAL);
	FZ_CHECK(r.n == diag.n_errors);
	if (diag.n_errors)
		return 0;

	/* The effective configuration prints as YAML that loads back to itself. */
	text = dump(&cfg, &len);
	r = (struct reports){ 0, 2, NAME };     /* same name: the dump's first line names it */
	r.max_line += yaml_lines((const uint8_t *)text, len);
	diag.n_errors = 0;
	rc = fwc_config_load_buf(&again, NAME, text, len, &diag);
	if (rc != 0)
		fprintf(stderr, "the dump does not load back:\n%s\n", text);
	FZ_CHECK(rc == 0);
	text2 = dump(&again, &len2);
	if (len != len2 || memcmp(text, text2, len) != 0)
		fprintf(stderr, "dump changed on reload:\n%s\n---\n%s\n", text, text2);
	FZ_CHECK(len == len2 && memcmp(text, text2, len) == 0);
	free(text);
	free(text2);
	return 0;
}
