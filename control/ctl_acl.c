/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_acl.c - the ACL file and Kafka's authorization decision (ctl_acl.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctl_acl.h"
#include "ctl_textfile.h"

struct ctl_acls {
	struct ctl_acl_rule *r;
	unsigned int n, cap;
};

static const char *const op_names[CTL_ACL_OP__COUNT] = { "Read", "Write", "Create", "Delete",
							  "Describe", "All" };
static const char *const res_names[] = { "Topic", "Group" };

int ctl_acls_new(struct ctl_acls **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void ctl_acls_free(struct ctl_acls *a)
{
	if (!a)
		return;
	free(a->r);
	free(a);
}

static int name_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(names[i], s))
			return (int)i;
	return -1;
}

int ctl_acl_rule_parse(const char *line, struct ctl_acl_rule *out)
{
	char perm[16], pr[CTL_ACL_NAME_MAX], op[16], res[16], pat[16], name[CTL_ACL_NAME_MAX], extra;
	int o, r;

	memset(out, 0, sizeof(*out));
	if (sscanf(line, "%15s %255s %15s %15s %15s %255s %c", perm, pr, op, res, pat, name,
		   &extra) != 6)
		return -EINVAL;
	if (!strcasecmp(perm, "Deny"))
		out->deny = true;
	else if (strcasecmp(perm, "Allow"))
		return -EINVAL;
	if (strncmp(pr, "User:", 5) || !pr[5])
		return -EINVAL;
	if ((o = name_index(op_names, CTL_ACL_OP__COUNT, op)) < 0 ||
	    (r = name_index(res_names, 2, res)) < 0)
		return -EINVAL;
	if (!strcasecmp(pat, "Prefixed"))
		out->prefixed = true;
	else if (strcasecmp(pat, "Literal"))
		return -EINVAL;
	snprintf(out->principal, sizeof(out->principal), "%s", pr);
	snprintf(out->name, sizeof(out->name), "%s", name);
	out->op = (enum ctl_acl_op)o;
	out->res = (enum ctl_acl_res)r;
	return 0;
}

void ctl_acl_rule_format(const struct ctl_acl_rule *r, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s %s %s %s %s", r->deny ? "Deny" : "Allow", r->principal,
		 op_names[r->op], res_names[r->res], r->prefixed ? "Prefixed" : "Literal", r->name);
}

static bool rule_eq(const struct ctl_acl_rule *a, const struct ctl_acl_rule *b)
{
	return a->deny == b->deny && a->op == b->op && a->res == b->res &&
	       a->prefixed == b->prefixed && !strcmp(a->principal, b->principal) &&
	       !strcmp(a->name, b->name);
}

int ctl_acls_add(struct ctl_acls *a, const struct ctl_acl_rule *r)
{
	for (unsigned int i = 0; i < a->n; i++)
		if (rule_eq(&a->r[i], r))
			return 0;
	if (a->n == a->cap) {
		unsigned int cap = a->cap ? a->cap * 2 : 16;
		struct ctl_acl_rule *p = realloc(a->r, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		a->r = p;
		a->cap = cap;
	}
	a->r[a->n++] = *r;
	return 1;
}

int ctl_acls_remove(struct ctl_acls *a, const struct ctl_acl_rule *r)
{
	unsigned int o = 0;
	int n = 0;

	for (unsigned int i = 0; i < a->n; i++) {
		if (rule_eq(&a->r[i], r)) {
			n++;
			continue;
		}
		a->r[o++] = a->r[i];
	}
	a->n = o;
	return n;
}

unsigned int ctl_acls_count(const struct ctl_acls *a)
{
	return a->n;
}

const struct ctl_acl_rule *ctl_acls_rule(const struct ctl_acls *a, unsigned int i)
{
	return i < a->n ? &a->r[i] : NULL;
}

static int load_line(char *line, void *arg)
{
	struct ctl_acl_rule rule;
	int rc = ctl_acl_rule_parse(line, &rule);

	return rc < 0 ? rc : (rc = ctl_acls_add(arg, &rule)) < 0 ? rc : 0;
}

int ctl_acls_load(const char *path, struct ctl_acls **out, unsigned int *bad_line)
{
	struct ctl_acls *a = NULL;
	int rc;

	*out = NULL;
	*bad_line = 0;
	if ((rc = ctl_acls_new(&a)) < 0)
		return rc;
	if ((rc = ctl_textfile_read(path, load_line, a, bad_line)) < 0) {
		ctl_acls_free(a);
		return rc;
	}
	*out = a;
	return 0;
}

static void save_lines(FILE *f, const void *arg)
{
	const struct ctl_acls *a = arg;
	char line[2 * CTL_ACL_NAME_MAX + 64];

	fprintf(f, "# sluice ACLs (sluice acls): PERMISSION PRINCIPAL OPERATION RESOURCE PATTERN NAME\n");
	for (unsigned int i = 0; i < a->n; i++) {
		ctl_acl_rule_format(&a->r[i], line, sizeof(line));
		fprintf(f, "%s\n", line);
	}
}

int ctl_acls_save(const struct ctl_acls *a, const char *path)
{
	return ctl_textfile_replace(path, save_lines, a);
}

/* ---- the decision ------------------------------------------------------ */

static bool is_super(const char *list, const char *principal)
{
	size_t pl = strlen(principal);

	for (const char *p = list; p && *p;) {
		const char *end = strchr(p, ';');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		while (n && *p == ' ')
			p++, n--;
		while (n && p[n - 1] == ' ')
			n--;
		if (n == pl && !memcmp(p, principal, n))
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}

static bool resource_match(const struct ctl_acl_rule *r, enum ctl_acl_res res, const char *name,
			   size_t len)
{
	size_t rl = strlen(r->name);

	if (r->res != res)
		return false;
	if (r->prefixed)
		return rl <= len && !memcmp(r->name, name, rl);
	return (rl == 1 && r->name[0] == '*') || (rl == len && !memcmp(r->name, name, len));
}

/* Does rule operation @rop grant (or deny) @op?  Describe is implied by Read/Write/Delete. */
static bool op_match(enum ctl_acl_op rop, enum ctl_acl_op op, bool deny)
{
	if (rop == CTL_ACL_ALL || rop == op)
		return true;
	return !deny && op == CTL_ACL_DESCRIBE &&
	       (rop == CTL_ACL_READ || rop == CTL_ACL_WRITE || rop == CTL_ACL_DELETE);
}

bool ctl_acls_allowed(const struct ctl_acls *a, const struct ctl_acl_policy *p,
		      const char *principal, enum ctl_acl_op op, enum ctl_acl_res res,
		      const char *name, size_t len)
{
	bool any = false, allow = false;

	if (is_super(p->super_users, principal))
		return true;
	for (unsigned int i = 0; a && i < a->n; i++) {
		const struct ctl_acl_rule *r = &a->r[i];

		if (!resource_match(r, res, name, len))
			continue;
		any = true;
		if (strcmp(r->principal, "User:*") && strcmp(r->principal, principal))
			continue;
		if (!op_match(r->op, op, r->deny))
			continue;
		if (r->deny)
			return false;
		allow = true;
	}
	return allow || (!any && p->allow_if_no_acl);
}
