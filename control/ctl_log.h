/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_log.h - the control plane's one log type (private to control/).
 * Log lines are for events an operator acts on (limits hit, bad frames,
 * topics created); per-request detail is counted, not logged.
 */
#ifndef CTL_LOG_H
#define CTL_LOG_H

#include <rte_log.h>

#include "ctl_server.h"
#include "fwc_log.h"

extern int ctl_logtype;

#define CTL_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, ctl_logtype, "CTL: " fmt "\n", ##__VA_ARGS__)

/*
 * CTL_LOG through the token bucket @rl (struct fwc_ratelimit, one per call
 * site or key, owned by the caller's context): lines over its rate are
 * counted, and the next line let through is preceded by "N similar
 * messages suppressed".  Control thread.
 */
/* The control thread's buckets: 10 lines at once, then one a second. */
#define CTL_LOG_RL_INIT FWC_RATELIMIT_INIT(10, 10000)

#define CTL_LOG_RL(rl, level, fmt, ...) \
	do { \
		uint64_t sup_; \
		if (fwc_ratelimit_ok((rl), ctl_now_ns(), &sup_)) { \
			if (sup_) \
				CTL_LOG(level, "%llu similar messages suppressed", \
					(unsigned long long)sup_); \
			CTL_LOG(level, fmt, ##__VA_ARGS__); \
		} \
	} while (0)

#endif /* CTL_LOG_H */
