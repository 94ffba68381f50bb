/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_drop.c - names and help texts of the drop reasons (dp_drop.def), for
 * the metrics endpoint and sluice top.  Constant tables only.
 */
#include <stddef.h>

#include "dp_drop.h"

static const char *const dp_drop_names[DP_DROP__COUNT] = {
	[DP_DROP_NONE] = "none",
#define DP_DROP(name, help) [DP_DROP_##name] = #name,
#include "dp_drop.def"
#undef DP_DROP
};

static const char *const dp_drop_helps[DP_DROP__COUNT] = {
	[DP_DROP_NONE] = "not dropped",
#define DP_DROP(name, help) [DP_DROP_##name] = help,
#include "dp_drop.def"
#undef DP_DROP
};

const char *dp_drop_name(unsigned int reason)
{
	return reason < DP_DROP__COUNT ? dp_drop_names[reason] : NULL;
}

const char *dp_drop_help(unsigned int reason)
{
	return reason < DP_DROP__COUNT ? dp_drop_helps[reason] : NULL;
}
