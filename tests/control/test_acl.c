/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ACL decisions (ctl_acl.h) as kafka-acls.sh defines them: deny wins,
 * wildcard principal and resource, prefixed patterns, implied Describe,
 * super.users, allow.everyone.if.no.acl.found; the file's parse/format
 * round trip and its refusals.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "ctl_acl.h"

static struct ctl_acls *acls_of(const char *const *lines, size_t n)
{
	struct ctl_acls *a;
	struct ctl_acl_rule r;

	assert_int_equal(ctl_acls_new(&a), 0);
	for (size_t i = 0; i < n; i++) {
		if (ctl_acl_rule_parse(lines[i], &r) != 0)
			fail_msg("rule \"%s\" refused", lines[i]);
		assert_int_equal(ctl_acls_add(a, &r), 1);
	}
	return a;
}

#define ALLOWED(a, p, who, op, res, name) \
	ctl_acls_allowed((a), (p), (who), (op), (res), (name), strlen(name))

static void test_acl_deny_wins_and_wildcards(void **state)
{
	static const char *const lines[] = {
		"Allow User:* Read Topic Literal telemetry",
		"Deny User:mallory Read Topic Literal telemetry",
		"Allow User:alice Write Topic Prefixed logs-",
		"Deny User:* Write Topic Literal logs-secret",
		"Allow User:bob All Group Literal *",
	};
	struct ctl_acl_policy p = { .super_users = "", .allow_if_no_acl = false };
	struct ctl_acls *a = acls_of(lines, 5);

	(void)state;
	assert_true(ALLOWED(a, &p, "User:alice", CTL_ACL_READ, CTL_ACL_TOPIC, "telemetry"));
	assert_false(ALLOWED(a, &p, "User:mallory", CTL_ACL_READ, CTL_ACL_TOPIC, "telemetry"));
	assert_false(ALLOWED(a, &p, "User:alice", CTL_ACL_WRITE, CTL_ACL_TOPIC, "telemetry"));
	assert_true(ALLOWED(a, &p, "User:alice", CTL_ACL_WRITE, CTL_ACL_TOPIC, "logs-a"));
	assert_false(ALLOWED(a, &p, "User:alice", CTL_ACL_WRITE, CTL_ACL_TOPIC, "logs"));
	assert_false(ALLOWED(a, &p, "User:alice", CTL_ACL_WRITE, CTL_ACL_TOPIC, "logs-secret"));
	assert_false(ALLOWED(a, &p, "User:carol", CTL_ACL_WRITE, CTL_ACL_TOPIC, "logs-a"));
	/* Literal "*" is every group; All is every operation. */
	assert_true(ALLOWED(a, &p, "User:bob", CTL_ACL_READ, CTL_ACL_GROUP, "g1"));
	assert_true(ALLOWED(a, &p, "User:bob", CTL_ACL_DELETE, CTL_ACL_GROUP, "g2"));
	assert_false(ALLOWED(a, &p, "User:alice", CTL_ACL_READ, CTL_ACL_GROUP, "g1"));
	/* Topic rules do not reach groups of the same name. */
	assert_false(ALLOWED(a, &p, "User:alice", CTL_ACL_READ, CTL_ACL_GROUP, "telemetry"));
	ctl_acls_free(a);
}

static void test_acl_describe_implied_super_and_no_acl(void **state)
{
	static const char *const lines[] = {
		"Allow User:alice Read Topic Literal t",
		"Deny User:bob Read Topic Literal t",
	};
	struct ctl_acl_policy p = { .super_users = "User:admin; User:root", .allow_if_no_acl = false };
	struct ctl_acls *a = acls_of(lines, 2);

	(void)state;
	assert_true(ALLOWED(a, &p, "User:alice", CTL_ACL_DESCRIBE, CTL_ACL_TOPIC, "t"));
	assert_false(ALLOWED(a, &p, "User:alice", CTL_ACL_DELETE, CTL_ACL_TOPIC, "t"));
	assert_true(ALLOWED(a, &p, "User:root", CTL_ACL_DELETE, CTL_ACL_TOPIC, "t"));
	assert_true(ALLOWED(a, &p, "User:admin", CTL_ACL_WRITE, CTL_ACL_TOPIC, "other"));
	assert_false(ALLOWED(a, &p, "User:adm", CTL_ACL_WRITE, CTL_ACL_TOPIC, "other"));
	/* No rule on the resource: allow.everyone.if.no.acl.found decides... */
	assert_false(ALLOWED(a, &p, "User:bob", CTL_ACL_WRITE, CTL_ACL_TOPIC, "other"));
	p.allow_if_no_acl = true;
	assert_true(ALLOWED(a, &p, "User:bob", CTL_ACL_WRITE, CTL_ACL_TOPIC, "other"));
	/* ...but not where rules exist, for anyone. */
	assert_false(ALLOWED(a, &p, "User:bob", CTL_ACL_WRITE, CTL_ACL_TOPIC, "t"));
	assert_false(ALLOWED(a, &p, "User:bob", CTL_ACL_READ, CTL_ACL_TOPIC, "t"));
	ctl_acls_free(a);
}

static void test_acl_file_round_trip_and_refusals(void **state)
{
	static const char *const bad[] = {
		"", "Allow", "Permit User:a Read Topic Literal t", "Allow alice Read Topic Literal t",
		"Allow User: Read Topic Literal t", "Allow User:a Fly Topic Literal t",
		"Allow User:a Read Cluster Literal t", "Allow User:a Read Topic Match t",
		"Allow User:a Read Topic Literal t extra",
	};
	char path[] = "/tmp/test_acl.XXXXXX", line[600];
	struct ctl_acl_rule r;
	struct ctl_acls *a, *b;
	unsigned int bad_line;
	int fd = mkstemp(path);
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ctl_acl_rule_parse(bad[i], &r) == 0)
			fail_msg("rule \"%s\" accepted", bad[i]);
	assert_int_equal(ctl_acls_new(&a), 0);
	assert_int_equal(ctl_acl_rule_parse("deny User:x write topic prefixed p-", &r), 0);
	assert_int_equal(ctl_acls_add(a, &r), 1);
	assert_int_equal(ctl_acls_add(a, &r), 0);
	ctl_acl_rule_format(&r, line, sizeof(line));
	assert_string_equal(line, "Deny User:x Write Topic Prefixed p-");
	assert_int_equal(ctl_acls_save(a, path), 0);
	assert_int_equal(ctl_acls_load(path, &b, &bad_line), 0);
	assert_int_equal(ctl_acls_count(b), 1);
	assert_int_equal(ctl_acls_remove(b, &r), 1);
	assert_int_equal(ctl_acls_count(b), 0);
	ctl_acls_free(b);
	f = fopen(path, "w");
	fprintf(f, "# c\nAllow User:a Read Topic Literal t\nAllow User:a Read Nope Literal t\n");
	fclose(f);
	assert_int_equal(ctl_acls_load(path, &b, &bad_line), -EINVAL);
	assert_int_equal(bad_line, 3);
	ctl_acls_free(a);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acl_deny_wins_and_wildcards),
		cmocka_unit_test(test_acl_describe_implied_super_and_no_acl),
		cmocka_unit_test(test_acl_file_round_trip_and_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
