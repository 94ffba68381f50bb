/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_log.h - the control plane's one log type (private to control/).
 * Log lines are for events an operator acts on (limits hit, bad frames,
 * topics created); per-request detail is counted, not logged.
 */
#ifndef CTL_LOG_H
#define CTL_LOG_H

#include <rte_log.h>

extern int ctl_logtype;

#define CTL_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, ctl_logtype, "CTL: " fmt "\n", ##__VA_ARGS__)

#endif /* CTL_LOG_H */
