/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_rules.c - compile the topics' traffic rules into the port-indexed
 * table of dp_rules.h.  Runs once on the main lcore at start; the lookup
 * itself is inline in the header.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_common.h>
#include <rte_malloc.h>

#include "dp_rules.h"

static int dp_rule_from_conf(struct dp_rule *ru, const struct fwc_config *cfg,
			     unsigned int t, unsigned int i)
{
	const struct fwc_topic *topic = &cfg->topics[t];
	const struct fwc_rule *c = &topic->rules[i];

	if (c->vlan < -1 || c->vlan > 4095)
		return -EINVAL;
	if (c->has_address && c->address_family != AF_INET && c->address_family != AF_INET6)
		return -EINVAL;
	memset(ru, 0, sizeof(*ru));
	ru->udp_port = c->udp_port;
	ru->vlan = (int16_t)c->vlan;
	ru->has_address = c->has_address;
	if (c->has_address) {
		ru->family = (uint8_t)c->address_family;
		memcpy(ru->address, c->address, c->address_family == AF_INET ? 4 : 16);
	}
	ru->specificity = (uint8_t)(2 * ru->has_address + (ru->vlan >= 0));
	ru->mode = (uint8_t)c->mode;
	ru->tap_plain = c->mode == FWC_MODE_TAP && !(c->headers & FWC_HDR_ADDRESSES) &&
			c->key != FWC_KEY_SOURCE;
	ru->topic = (uint16_t)t;
	ru->rule = (uint16_t)i;
	ru->topic_conf = topic;
	ru->conf = c;
	return 0;
}

/* Port ascending, then most specific first, then configuration order. */
static int dp_rule_cmp(const void *a, const void *b)
{
	const struct dp_rule *x = a, *y = b;

	if (x->udp_port != y->udp_port)
		return x->udp_port < y->udp_port ? -1 : 1;
	if (x->specificity != y->specificity)
		return x->specificity > y->specificity ? -1 : 1;
	if (x->topic != y->topic)
		return x->topic < y->topic ? -1 : 1;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

/* Two rules that select the same datagrams: the second could never match. */
static int dp_rule_same_key(const struct dp_rule *x, const struct dp_rule *y)
{
	return x->udp_port == y->udp_port && x->vlan == y->vlan &&
	       x->has_address == y->has_address &&
	       (!x->has_address || (x->family == y->family &&
				    memcmp(x->address, y->address, sizeof(x->address)) == 0));
}

int dp_rules_build(struct dp_rules *r, const struct fwc_config *cfg)
{
	int ret;

	memset(r->port_first, 0xff, sizeof(r->port_first));
	r->n = 0;
	for (unsigned int t = 0; t < cfg->n_topics && t < FWC_MAX_TOPICS; t++) {
		for (unsigned int i = 0; i < cfg->topics[t].n_rules && i < FWC_MAX_RULES; i++) {
			ret = dp_rule_from_conf(&r->rule[r->n], cfg, t, i);
			if (ret < 0)
				goto out;
			r->n++;
		}
	}
	qsort(r->rule, r->n, sizeof(r->rule[0]), dp_rule_cmp);
	for (uint32_t i = 0; i < r->n; i++) {
		if (i > 0 && dp_rule_same_key(&r->rule[i - 1], &r->rule[i])) {
			ret = -EINVAL;
			goto out;
		}
		if (r->port_first[r->rule[i].udp_port] == DP_RULES_NONE)
			r->port_first[r->rule[i].udp_port] = (uint16_t)i;
	}
	ret = 0;
out:
	if (ret < 0) {
		memset(r->port_first, 0xff, sizeof(r->port_first));
		r->n = 0;
	}
	return ret;
}

int dp_rules_create(const struct fwc_config *cfg, int socket_id, struct dp_rules **out)
{
	struct dp_rules *r;
	int ret;

	*out = NULL;
	r = rte_zmalloc_socket("dp_rules", sizeof(*r), RTE_CACHE_LINE_SIZE, socket_id);
	if (r == NULL)
		return -ENOMEM;
	ret = dp_rules_build(r, cfg);
	if (ret < 0) {
		rte_free(r);
		return ret;
	}
	*out = r;
	return 0;
}

void dp_rules_free(struct dp_rules *r)
{
	rte_free(r);
}
