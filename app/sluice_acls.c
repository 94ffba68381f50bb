/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice_acls.c - `sluice acls add|remove|list`: edit the ACL file sluiced
 * reads (acls.location, format and semantics in ctl_acl.h), with
 * kafka-acls.sh's option names.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ctl_acl.h"
#include "sluice_cmds.h"

static void acls_usage(FILE *out)
{
	fprintf(out,
		"Usage: sluice acls add|remove --file PATH (--allow-principal P | --deny-principal P)\n"
		"           --operation Read|Write|Create|Delete|Describe|All\n"
		"           (--topic NAME | --group NAME) [--resource-pattern-type literal|prefixed]\n"
		"       sluice acls list --file PATH\n\n"
		"P is User:NAME or User:*; NAME * (literal) is every topic or group.\n");
}

struct acls_args {
	const char *file, *principal, *op, *name, *pattern;
	bool deny, group;
};

static int acls_parse(int argc, char **argv, struct acls_args *a)
{
	static const struct option longopts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "allow-principal", required_argument, NULL, 'a' },
		{ "deny-principal", required_argument, NULL, 'd' },
		{ "operation", required_argument, NULL, 'o' },
		{ "topic", required_argument, NULL, 't' },
		{ "group", required_argument, NULL, 'g' },
		{ "resource-pattern-type", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "f:a:d:o:t:g:p:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': a->file = optarg; break;
		case 'a': a->principal = optarg; a->deny = false; break;
		case 'd': a->principal = optarg; a->deny = true; break;
		case 'o': a->op = optarg; break;
		case 't': a->name = optarg; a->group = false; break;
		case 'g': a->name = optarg; a->group = true; break;
		case 'p': a->pattern = optarg; break;
		case 'h': acls_usage(stdout); return 1;
		default: acls_usage(stderr); return -1;
		}
	}
	return 0;
}

static int acls_edit(struct ctl_acls *acls, bool add, const struct acls_args *a)
{
	char line[2 * CTL_ACL_NAME_MAX + 64];
	struct ctl_acl_rule r;
	int n;

	snprintf(line, sizeof(line), "%s %s %s %s %s %s", a->deny ? "Deny" : "Allow",
		 a->principal, a->op, a->group ? "Group" : "Topic",
		 a->pattern && !strcasecmp(a->pattern, "prefixed") ? "Prefixed" : "Literal", a->name);
	if ((a->pattern && strcasecmp(a->pattern, "prefixed") && strcasecmp(a->pattern, "literal")) ||
	    ctl_acl_rule_parse(line, &r) < 0) {
		fprintf(stderr, "sluice acls: not a valid rule: %s\n", line);
		return -EINVAL;
	}
	n = add ? ctl_acls_add(acls, &r) : ctl_acls_remove(acls, &r);
	if (n < 0)
		return n;
	if (!add && n == 0) {
		fprintf(stderr, "sluice acls: no such rule: %s\n", line);
		return -ENOENT;
	}
	return 0;
}

int sluice_cmd_acls(int argc, char **argv)
{
	struct acls_args a = { 0 };
	struct ctl_acls *acls = NULL;
	const char *action;
	unsigned int line;
	bool add;
	int rc;

	if ((rc = acls_parse(argc, argv, &a)) != 0)
		return rc > 0 ? 0 : 2;
	action = optind < argc ? argv[optind++] : "";
	add = !strcmp(action, "add");
	if (!a.file || optind != argc ||
	    (strcmp(action, "list") && (!a.principal || !a.op || !a.name)) ||
	    (!add && strcmp(action, "remove") && strcmp(action, "list"))) {
		acls_usage(stderr);
		return 2;
	}
	rc = ctl_acls_load(a.file, &acls, &line);
	if (rc == -ENOENT && add)
		rc = ctl_acls_new(&acls);
	if (rc < 0) {
		if (rc == -EINVAL)
			fprintf(stderr, "sluice acls: %s:%u: malformed rule\n", a.file, line);
		else
			fprintf(stderr, "sluice acls: %s: %s\n", a.file, strerror(-rc));
		return 1;
	}
	if (!strcmp(action, "list")) {
		for (unsigned int i = 0; i < ctl_acls_count(acls); i++) {
			char buf[2 * CTL_ACL_NAME_MAX + 64];

			ctl_acl_rule_format(ctl_acls_rule(acls, i), buf, sizeof(buf));
			printf("%s\n", buf);
		}
	} else if ((rc = acls_edit(acls, add, &a)) == 0 && (rc = ctl_acls_save(acls, a.file)) < 0) {
		fprintf(stderr, "sluice acls: writing %s: %s\n", a.file, strerror(-rc));
	}
	ctl_acls_free(acls);
	return rc < 0 ? 1 : 0;
}
