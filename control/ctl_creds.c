/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_creds.c - the SASL credentials file (format in ctl_creds.h): parse,
 * look up, edit, and save atomically.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_creds.h"
#include "ctl_textfile.h"

struct creds_entry {
	char user[CTL_SCRAM_NAME_MAX];
	enum ctl_sasl_mech mech;
	struct ctl_scram_cred cred;
};

struct ctl_creds {
	struct creds_entry *e;
	unsigned int n, cap;
};

int ctl_creds_new(struct ctl_creds **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void ctl_creds_free(struct ctl_creds *c)
{
	if (!c)
		return;
	free(c->e);
	free(c);
}

bool ctl_creds_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= CTL_SCRAM_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isgraph((unsigned char)name[i]))
			return false;
	return true;
}

static struct creds_entry *find(const struct ctl_creds *c, enum ctl_sasl_mech mech,
				const char *user)
{
	for (unsigned int i = 0; i < c->n; i++)
		if (c->e[i].mech == mech && strcmp(c->e[i].user, user) == 0)
			return &c->e[i];
	return NULL;
}

int ctl_creds_lookup(const struct ctl_creds *c, enum ctl_sasl_mech mech, const char *user,
		     struct ctl_scram_cred *out)
{
	const struct creds_entry *e = c ? find(c, mech, user) : NULL;

	if (!e)
		return -ENOENT;
	*out = e->cred;
	return 0;
}

int ctl_creds_set(struct ctl_creds *c, const char *user, enum ctl_sasl_mech mech,
		  const struct ctl_scram_cred *cred)
{
	struct creds_entry *e;

	if (!ctl_creds_name_ok(user) || !ctl_scram_key_len(mech))
		return -EINVAL;
	e = find(c, mech, user);
	if (!e) {
		if (c->n == c->cap) {
			unsigned int cap = c->cap ? c->cap * 2 : 16;
			struct creds_entry *p = realloc(c->e, cap * sizeof(*p));

			if (!p)
				return -ENOMEM;
			c->e = p;
			c->cap = cap;
		}
		e = &c->e[c->n++];
		memset(e, 0, sizeof(*e));
		snprintf(e->user, sizeof(e->user), "%s", user);
		e->mech = mech;
	}
	e->cred = *cred;
	return 0;
}

int ctl_creds_delete(struct ctl_creds *c, const char *user)
{
	unsigned int o = 0;
	int n = 0;

	for (unsigned int i = 0; i < c->n; i++) {
		if (strcmp(c->e[i].user, user) == 0) {
			n++;
			continue;
		}
		c->e[o++] = c->e[i];
	}
	c->n = o;
	return n;
}

unsigned int ctl_creds_count(const struct ctl_creds *c)
{
	return c->n;
}

const char *ctl_creds_entry(const struct ctl_creds *c, unsigned int i, enum ctl_sasl_mech *mech,
			    uint32_t *iterations)
{
	if (i >= c->n)
		return NULL;
	*mech = c->e[i].mech;
	*iterations = c->e[i].cred.iterations;
	return c->e[i].user;
}

/* One field of a line: base64 of exactly @want bytes (0: 1..max). */
static int b64_field(const char *s, uint8_t *out, size_t cap, size_t want)
{
	int n = ctl_b64_decode(s, strlen(s), out, cap);

	if (n <= 0 || (want && (size_t)n != want))
		return -EINVAL;
	return n;
}

static int parse_line(char *line, struct creds_entry *e)
{
	char *f[7], *save = NULL, *end;
	unsigned int n = 0;
	unsigned long it;
	int mech, sl;
	size_t kl;

	for (char *t = strtok_r(line, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save))
		if (n < 7)
			f[n++] = t;
		else
			return -EINVAL;
	if (n != 6 || !ctl_creds_name_ok(f[0]))
		return -EINVAL;
	mech = ctl_sasl_mech_parse(f[1], strlen(f[1]));
	if (mech < 0 || !(kl = ctl_scram_key_len((enum ctl_sasl_mech)mech)))
		return -EINVAL;
	memset(e, 0, sizeof(*e));
	snprintf(e->user, sizeof(e->user), "%s", f[0]);
	e->mech = (enum ctl_sasl_mech)mech;
	if ((sl = b64_field(f[2], e->cred.salt, sizeof(e->cred.salt), 0)) < 0)
		return -EINVAL;
	e->cred.salt_len = (size_t)sl;
	errno = 0;
	it = strtoul(f[3], &end, 10);
	if (*end || errno || it < 1 || it > CTL_SCRAM_MAX_ITER)
		return -EINVAL;
	e->cred.iterations = (uint32_t)it;
	if (b64_field(f[4], e->cred.stored_key, sizeof(e->cred.stored_key), kl) < 0 ||
	    b64_field(f[5], e->cred.server_key, sizeof(e->cred.server_key), kl) < 0)
		return -EINVAL;
	return 0;
}

static int load_line(char *line, void *arg)
{
	struct creds_entry e;
	int rc = parse_line(line, &e);

	return rc < 0 ? rc : ctl_creds_set(arg, e.user, e.mech, &e.cred);
}

int ctl_creds_load(const char *path, struct ctl_creds **out, unsigned int *bad_line)
{
	struct ctl_creds *c = NULL;
	int rc;

	*out = NULL;
	*bad_line = 0;
	if ((rc = ctl_creds_new(&c)) < 0)
		return rc;
	if ((rc = ctl_textfile_read(path, load_line, c, bad_line)) < 0) {
		ctl_creds_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

static void save_lines(FILE *f, const void *arg)
{
	const struct ctl_creds *c = arg;
	char salt[128], sk[128], vk[128];

	fprintf(f, "# sluice SASL credentials (sluice users): NAME MECHANISM SALT ITERATIONS "
		   "STOREDKEY SERVERKEY\n");
	for (unsigned int i = 0; i < c->n; i++) {
		const struct creds_entry *e = &c->e[i];
		size_t kl = ctl_scram_key_len(e->mech);

		ctl_b64_encode(e->cred.salt, e->cred.salt_len, salt, sizeof(salt));
		ctl_b64_encode(e->cred.stored_key, kl, sk, sizeof(sk));
		ctl_b64_encode(e->cred.server_key, kl, vk, sizeof(vk));
		fprintf(f, "%s %s %s %u %s %s\n", e->user, ctl_sasl_mech_name(e->mech), salt,
			e->cred.iterations, sk, vk);
	}
}

int ctl_creds_save(const struct ctl_creds *c, const char *path)
{
	return ctl_textfile_replace(path, save_lines, c);
}
