/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_drop.h - the drop reasons of the dataplane as an enum and as text, both
 * generated from dp_drop.def.
 *
 * On the data path an error is a counter, never a log line: each lcore keeps
 * an array of counters indexed by enum dp_drop, and the control thread turns
 * it into sluice_dataplane_drops_total{reason=dp_drop_name(r)}.  The value 0
 * (DP_DROP_NONE) means "not dropped", so parse functions can return it.
 */
#ifndef DP_DROP_H
#define DP_DROP_H

enum dp_drop {
	DP_DROP_NONE = 0,
#define DP_DROP(name, help) DP_DROP_##name,
#include "dp_drop.def"
#undef DP_DROP
	DP_DROP__COUNT
};

/** The metric label of @reason ("no_rule"), "none" for 0, NULL if out of range. */
const char *dp_drop_name(unsigned int reason);

/** One line of help text for @reason, NULL if out of range. */
const char *dp_drop_help(unsigned int reason);

#endif /* DP_DROP_H */
