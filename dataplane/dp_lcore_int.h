/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_lcore_int.h - the set of lcores as dp_lcore.c builds it and dp_stats.c
 * reads it.  Private to the dataplane library.
 */
#ifndef DP_LCORE_INT_H
#define DP_LCORE_INT_H

#include <stdatomic.h>

#include "dp_lcore.h"
#include "dp_port.h"

/* A rule-fed topic: its partitions, who owns each, where they are counted. */
struct dp_topic_map {
	const char *name;               /* cfg->topics[t].name */
	int32_t n_parts;                /* 0: the topic has no rules */
	struct st_partition **part;     /* [n_parts] */
	uint16_t *owner;                /* [n_parts]: index of the owning lcore */
	uint32_t slot_base;             /* part_records[slot_base + i] */
};

struct dp_lcores {
	_Atomic int stop;
	int launched;
	const struct fwc_config *cfg;
	const struct dp_ports *ports;
	unsigned int n;
	struct dp_lcore *lc[DP_LCORE_MAX];
	unsigned int n_topics;
	uint32_t n_slots;
	struct dp_topic_map topic[FWC_MAX_TOPICS];
};

#endif /* DP_LCORE_INT_H */
