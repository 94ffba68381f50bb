/* SPDX-License-Identifier: BSD-3-Clause */
/* Traffic-rule lookup (dp_rules.h) over a hand-built configuration; no EAL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "fwc_config.h"
#include "dp_rules.h"

static struct fwc_config cfg;
static struct dp_rules rules;

static struct fwc_topic *add_topic(const char *name)
{
	struct fwc_topic *t = &cfg.topics[cfg.n_topics++];

	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->partitions = 1;
	return t;
}

/* @addr NULL: any address. */
static void add_rule(struct fwc_topic *t, uint16_t port, const char *addr, int vlan,
		     enum fwc_rule_mode mode)
{
	struct fwc_rule *r = &t->rules[t->n_rules++];

	memset(r, 0, sizeof(*r));
	r->udp_port = port;
	r->vlan = vlan;
	r->mode = mode;
	if (addr) {
		r->has_address = true;
		r->address_family = strchr(addr, ':') ? AF_INET6 : AF_INET;
		assert_int_equal(inet_pton(r->address_family, addr, r->address), 1);
	}
}

static struct dp_pkt pkt(const char *dst, uint16_t port, uint16_t vid)
{
	struct dp_pkt pk;

	memset(&pk, 0, sizeof(pk));
	pk.family = strchr(dst, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(pk.family, dst, pk.dst), 1);
	pk.dst_port = port;
	pk.vid = vid;
	pk.n_vlan = vid != 0;
	return pk;
}

/* The topic the datagram goes to, or "" for no rule. */
static const char *topic_of(const char *dst, uint16_t port, uint16_t vid)
{
	struct dp_pkt pk = pkt(dst, port, vid);
	const struct dp_rule *r = dp_rules_lookup(&rules, &pk);

	if (r == NULL)
		return "";
	assert_ptr_equal(r->topic_conf, &cfg.topics[r->topic]);
	assert_ptr_equal(r->conf, &cfg.topics[r->topic].rules[r->rule]);
	return r->topic_conf->name;
}

static int setup(void **state)
{
	(void)state;
	fwc_config_defaults(&cfg);
	cfg.n_topics = 0;
	return 0;
}

static void test_rules_port_match(void **state)
{
	struct fwc_topic *t = add_topic("telemetry");
	struct dp_pkt pk = pkt("10.0.0.2", 5000, 0);
	const struct dp_rule *r;

	(void)state;
	add_rule(t, 5000, NULL, -1, FWC_MODE_TAP);
	add_rule(t, 65535, NULL, -1, FWC_MODE_PRODUCE);
	add_rule(add_topic("zero"), 0, NULL, -1, FWC_MODE_TAP);
	assert_int_equal(dp_rules_build(&rules, &cfg), 0);
	assert_int_equal(rules.n, 3);
	r = dp_rules_lookup(&rules, &pk);
	assert_non_null(r);
	assert_int_equal(r->topic, 0);
	assert_int_equal(r->rule, 0);
	assert_int_equal(r->mode, FWC_MODE_TAP);
	assert_string_equal(topic_of("2001:db8::1", 5000, 7), "telemetry");  /* any family, any VLAN */
	assert_string_equal(topic_of("10.0.0.2", 65535, 0), "telemetry");
	assert_string_equal(topic_of("10.0.0.2", 0, 0), "zero");
	assert_string_equal(topic_of("10.0.0.2", 5001, 0), "");
	assert_string_equal(topic_of("10.0.0.2", 4999, 0), "");
}

static void test_rules_address_match(void **state)
{
	(void)state;
	add_rule(add_topic("unicast"), 6000, "10.0.0.2", -1, FWC_MODE_TAP);
	add_rule(add_topic("group"), 6000, "239.1.2.3", -1, FWC_MODE_TAP);
	add_rule(add_topic("v6"), 6000, "2001:db8::2", -1, FWC_MODE_TAP);
	add_rule(add_topic("v6group"), 6000, "ff15::1:2", -1, FWC_MODE_TAP);
	assert_int_equal(dp_rules_build(&rules, &cfg), 0);
	assert_string_equal(topic_of("10.0.0.2", 6000, 0), "unicast");
	assert_string_equal(topic_of("239.1.2.3", 6000, 0), "group");
	assert_string_equal(topic_of("2001:db8::2", 6000, 0), "v6");
	assert_string_equal(topic_of("ff15::1:2", 6000, 0), "v6group");
	assert_string_equal(topic_of("10.0.0.3", 6000, 0), "");
	assert_string_equal(topic_of("239.1.2.4", 6000, 0), "");
	assert_string_equal(topic_of("2001:db8::3", 6000, 0), "");
	/* "::a00:2" has the IPv4 rule's bytes first; the family must still differ */
	assert_string_equal(topic_of("a00:2::", 6000, 0), "");
	assert_string_equal(topic_of("10.0.0.2", 6001, 0), "");
}

static void test_rules_vlan_specific_beats_any(void **state)
{
	(void)state;
	add_rule(add_topic("any"), 7000, NULL, -1, FWC_MODE_TAP);      /* listed first */
	add_rule(add_topic("vlan100"), 7000, NULL, 100, FWC_MODE_TAP);
	add_rule(add_topic("untagged"), 7001, NULL, 0, FWC_MODE_TAP);
	assert_int_equal(dp_rules_build(&rules, &cfg), 0);
	assert_string_equal(topic_of("10.0.0.2", 7000, 100), "vlan100");
	assert_string_equal(topic_of("10.0.0.2", 7000, 200), "any");
	assert_string_equal(topic_of("10.0.0.2", 7000, 0), "any");
	/* vlan 0: untagged (or priority-tagged) frames only */
	assert_string_equal(topic_of("10.0.0.2", 7001, 0), "untagged");
	assert_string_equal(topic_of("10.0.0.2", 7001, 100), "");
}

static void test_rules_most_specific_first(void **state)
{
	(void)state;
	/* configuration order is the reverse of specificity */
	add_rule(add_topic("port"), 8000, NULL, -1, FWC_MODE_TAP);
	add_rule(add_topic("vlan"), 8000, NULL, 5, FWC_MODE_TAP);
	add_rule(add_topic("addr"), 8000, "192.0.2.1", -1, FWC_MODE_TAP);
	add_rule(add_topic("addr_vlan"), 8000, "192.0.2.1", 5, FWC_MODE_PRODUCE);
	add_rule(add_topic("other"), 8001, NULL, -1, FWC_MODE_TAP);
	assert_int_equal(dp_rules_build(&rules, &cfg), 0);
	assert_string_equal(topic_of("192.0.2.1", 8000, 5), "addr_vlan");
	assert_string_equal(topic_of("192.0.2.1", 8000, 6), "addr");
	assert_string_equal(topic_of("192.0.2.1", 8000, 0), "addr");
	assert_string_equal(topic_of("192.0.2.2", 8000, 5), "vlan");
	assert_string_equal(topic_of("192.0.2.2", 8000, 7), "port");
	assert_string_equal(topic_of("2001:db8::1", 8000, 0), "port");
	assert_string_equal(topic_of("192.0.2.1", 8001, 5), "other");
}

static void test_rules_same_specificity_keeps_config_order(void **state)
{
	(void)state;
	add_rule(add_topic("first"), 9000, "10.1.1.1", -1, FWC_MODE_TAP);
	add_rule(add_topic("second"), 9000, "10.1.1.2", -1, FWC_MODE_TAP);
	assert_int_equal(dp_rules_build(&rules, &cfg), 0);
	assert_int_equal(rules.rule[rules.port_first[9000]].topic, 0);
	assert_string_equal(topic_of("10.1.1.2", 9000, 0), "second");
	assert_string_equal(topic_of("10.1.1.1", 9000, 0), "first");
}

static void test_rules_no_rule(void **state)
{
	struct dp_pkt pk = pkt("10.0.0.2", 5000, 0);

	(void)state;
	assert_int_equal(dp_rules_build(&rules, &cfg), 0);
	assert_int_equal(rules.n, 0);
	assert_null(dp_rules_lookup(&rules, &pk));
}

static void test_rules_duplicate_rejected(void **state)
{
	struct dp_pkt pk = pkt("10.0.0.2", 5000, 0);

	(void)state;
	add_rule(add_topic("a"), 5000, "10.0.0.2", 3, FWC_MODE_TAP);
	add_rule(add_topic("b"), 5000, "10.0.0.2", 3, FWC_MODE_TAP);
	assert_int_equal(dp_rules_build(&rules, &cfg), -EINVAL);
	assert_null(dp_rules_lookup(&rules, &pk));      /* left empty, not half-built */
	cfg.topics[1].rules[0].vlan = 4096;
	assert_int_equal(dp_rules_build(&rules, &cfg), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_rules_port_match, setup),
		cmocka_unit_test_setup(test_rules_address_match, setup),
		cmocka_unit_test_setup(test_rules_vlan_specific_beats_any, setup),
		cmocka_unit_test_setup(test_rules_most_specific_first, setup),
		cmocka_unit_test_setup(test_rules_same_specificity_keeps_config_order, setup),
		cmocka_unit_test_setup(test_rules_no_rule, setup),
		cmocka_unit_test_setup(test_rules_duplicate_rejected, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
