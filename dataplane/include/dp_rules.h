/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_rules.h - the traffic rules of every topic, compiled into a lookup
 * table: which topic (and mode) a parsed UDP datagram belongs to.
 *
 * A rule names a UDP destination port and optionally a destination address
 * (unicast, or a multicast group) and a VLAN id.  Built once at start from
 * the configuration, read-only afterwards, so every lcore may read it
 * without locks.
 *
 * Layout: the rules sorted by port, most specific first within a port
 * (address + VLAN, then address, then VLAN, then port only; ties keep the
 * configuration order), and a 65536-entry table from port to the first rule
 * of that port.  A lookup is one table load and, for the usual port with
 * one rule, one compare.  128 KiB of table plus the rules: small enough to
 * stay in L2 for the ports that actually see traffic.
 *
 * VLAN semantics: a rule's vlan matches the innermost tag of the frame
 * (dp_pkt.vid; the customer tag of QinQ); vlan 0 matches untagged and
 * priority-tagged frames; -1 matches any.  An address rule matches only its
 * own address family; a rule without address matches IPv4 and IPv6.
 */
#ifndef DP_RULES_H
#define DP_RULES_H

#include <stdint.h>
#include <string.h>

#include "fwc_config.h"
#include "dp_parse.h"

#define DP_RULES_MAX   (FWC_MAX_TOPICS * FWC_MAX_RULES)
#define DP_RULES_NONE  UINT16_MAX            /* port_first[]: no rule on this port */

struct dp_rule {
	uint16_t udp_port;
	int16_t vlan;                   /* -1 any, 0 untagged, 1..4095 */
	uint8_t has_address;
	uint8_t family;                 /* AF_INET / AF_INET6 when has_address */
	uint8_t specificity;            /* 2 * has_address + (vlan >= 0) */
	uint8_t mode;                   /* enum fwc_rule_mode */
	uint8_t address[16];
	uint16_t topic;                 /* index in cfg->topics */
	uint16_t rule;                  /* index in that topic's rules */
	uint8_t tap_plain;              /* tap, rx.ns header only, no key: encoded a run at a time */
	const struct fwc_topic *topic_conf;     /* into the config given to dp_rules_build */
	const struct fwc_rule *conf;
};

struct dp_rules {
	uint16_t port_first[65536];     /* index into rule[], DP_RULES_NONE if none */
	uint32_t n;
	struct dp_rule rule[DP_RULES_MAX];
};

/**
 * Compile the rules of every topic of @cfg into @r (caller's memory, e.g.
 * from dp_rules_create).  @cfg must outlive @r: rules point into it.
 *
 * @return 0; -EINVAL for a rule with a bad VLAN id or address family, or
 *   two rules with the same port, address and VLAN (fwc_config_validate
 *   reports those first).
 */
int dp_rules_build(struct dp_rules *r, const struct fwc_config *cfg);

/**
 * Allocate (rte_zmalloc_socket, so EAL must be up) and build.
 *
 * @return 0 with *out set, -ENOMEM, or dp_rules_build's errors.
 */
int dp_rules_create(const struct fwc_config *cfg, int socket_id, struct dp_rules **out);

/** Free what dp_rules_create allocated (NULL is fine). */
void dp_rules_free(struct dp_rules *r);

static inline int dp_rule_match(const struct dp_rule *ru, const struct dp_pkt *pk)
{
	if (ru->vlan >= 0 && ru->vlan != pk->vid)
		return 0;
	if (!ru->has_address)
		return 1;
	if (ru->family != pk->family)
		return 0;
	return ru->family == AF_INET ? memcmp(ru->address, pk->dst, 4) == 0
				     : memcmp(ru->address, pk->dst, 16) == 0;
}

/**
 * The most specific rule matching the parsed datagram @pk (destination
 * port, destination address, innermost VLAN id).
 *
 * @return the rule, or NULL: count DP_DROP_no_rule.
 */
static inline const struct dp_rule *dp_rules_lookup(const struct dp_rules *r,
						     const struct dp_pkt *pk)
{
	uint32_t i = r->port_first[pk->dst_port];

	if (i == DP_RULES_NONE)
		return NULL;
	for (; i < r->n && r->rule[i].udp_port == pk->dst_port; i++)
		if (dp_rule_match(&r->rule[i], pk))
			return &r->rule[i];
	return NULL;
}

#endif /* DP_RULES_H */
