/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_acl.h - Kafka ACLs (kafka-acls.sh semantics) for Topic and Group
 * resources, kept in a text file (acls.location) managed by `sluice acls`:
 *
 *     # comment
 *     Allow User:alice Read Topic Literal telemetry
 *     Deny  User:*     Write Topic Prefixed logs-
 *     Allow User:bob   All  Group Literal *
 *
 * PERMISSION PRINCIPAL OPERATION RESOURCE PATTERN NAME; a Literal "*" is
 * every resource of the type.  Decisions, as Kafka's AclAuthorizer:
 * a super user may do anything; otherwise a matching Deny wins; otherwise
 * a matching Allow allows (Read, Write and Delete imply Describe; All is
 * every operation); with no rule at all on the resource,
 * allow.everyone.if.no.acl.found decides; else denied.
 */
#ifndef CTL_ACL_H
#define CTL_ACL_H

#include <stdbool.h>
#include <stddef.h>

enum ctl_acl_op { CTL_ACL_READ = 0, CTL_ACL_WRITE, CTL_ACL_CREATE, CTL_ACL_DELETE,
		  CTL_ACL_DESCRIBE, CTL_ACL_ALL, CTL_ACL_OP__COUNT };
enum ctl_acl_res { CTL_ACL_TOPIC = 0, CTL_ACL_GROUP };

#define CTL_ACL_NAME_MAX 256

struct ctl_acl_rule {
	bool deny;
	char principal[CTL_ACL_NAME_MAX];       /* "User:alice" or "User:*" */
	enum ctl_acl_op op;
	enum ctl_acl_res res;
	bool prefixed;
	char name[CTL_ACL_NAME_MAX];
};

struct ctl_acls;

int ctl_acls_new(struct ctl_acls **out);
/** @return 0, -errno (open), -EINVAL (*bad_line set), -ENOMEM. */
int ctl_acls_load(const char *path, struct ctl_acls **out, unsigned int *bad_line);
/** Temp file + rename, mode 0600.  @return 0 or -errno. */
int ctl_acls_save(const struct ctl_acls *a, const char *path);
void ctl_acls_free(struct ctl_acls *a);

/** Parse one rule line (fields as in the file).  @return 0 or -EINVAL. */
int ctl_acl_rule_parse(const char *line, struct ctl_acl_rule *out);
/** Format a rule as a file line (no newline). */
void ctl_acl_rule_format(const struct ctl_acl_rule *r, char *buf, size_t len);
/** Add a rule (a duplicate is not added).  @return 1 added, 0 duplicate, -ENOMEM. */
int ctl_acls_add(struct ctl_acls *a, const struct ctl_acl_rule *r);
/** Remove rules equal to @r.  @return how many. */
int ctl_acls_remove(struct ctl_acls *a, const struct ctl_acl_rule *r);
unsigned int ctl_acls_count(const struct ctl_acls *a);
const struct ctl_acl_rule *ctl_acls_rule(const struct ctl_acls *a, unsigned int i);

struct ctl_acl_policy {
	const char *super_users;        /* "User:a;User:b" (Kafka's separator) or "" */
	bool allow_if_no_acl;           /* allow.everyone.if.no.acl.found */
};

/** May @principal do @op on resource @res named @name (@len bytes)? */
bool ctl_acls_allowed(const struct ctl_acls *a, const struct ctl_acl_policy *p,
		      const char *principal, enum ctl_acl_op op, enum ctl_acl_res res,
		      const char *name, size_t len);

#endif /* CTL_ACL_H */
