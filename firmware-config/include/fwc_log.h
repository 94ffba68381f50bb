/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fwc_log.h - how the daemon logs: per-module levels (sluiced --log-level)
 * and the token bucket that rate-limits a log call site.
 *
 * Every module logs through rte_log with a log type of its own,
 * "sluice.<module>" (daemon, control, storage, dataplane); a level spec
 * names levels for them:
 *
 *   --log-level info                              every module
 *   --log-level storage=debug,control=info,dataplane=warn
 *   --log-level warn,storage=debug                global, then per module
 *
 * Levels are syslog's (emerg .. debug; "warn" and "error" accepted).  This
 * part is plain C (no DPDK): sluiced turns the result into
 * rte_log_set_level_pattern() calls.
 *
 * A log line that can repeat at the rate of its cause (a client sending bad
 * frames, a flapping link) goes through a struct fwc_ratelimit: a token
 * bucket per call site (or per key), @burst lines at once and one more per
 * interval / burst after that.  The lines refused are counted, and the next
 * line let through says how many were suppressed.  Not thread-safe: one
 * bucket per thread that logs (the control thread's call sites).
 */
#ifndef FWC_LOG_H
#define FWC_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The modules with a log type of their own ("sluice.<name>"). */
enum fwc_log_module {
	FWC_LOG_DAEMON = 0,
	FWC_LOG_CONTROL,
	FWC_LOG_STORAGE,
	FWC_LOG_DATAPLANE,
	FWC_LOG_MODULES
};

/* Level per module; -1 = not set (keep the default / the global). */
struct fwc_log_levels {
	int global;                     /* syslog level 0..7, or -1 */
	int module[FWC_LOG_MODULES];
};

/** "storage" -> FWC_LOG_STORAGE; -EINVAL for anything else. */
int fwc_log_module_parse(const char *name, size_t len);

/** A module's name ("storage"). */
const char *fwc_log_module_name(enum fwc_log_module m);

/** "debug" -> 7 (syslog numbering; "warn", "error" too); -EINVAL otherwise. */
int fwc_log_level_parse(const char *name, size_t len);

/**
 * Parse a level spec (see above) into @out.  On error returns -EINVAL and
 * writes into @err a message naming the bad item and what is accepted.
 */
int fwc_log_levels_parse(const char *spec, struct fwc_log_levels *out, char *err, size_t errlen);

struct fwc_ratelimit {
	uint32_t burst;                 /* lines at once (> 0) */
	uint64_t interval_ns;           /* the bucket refills @burst tokens over this */
	uint64_t tokens_ns;             /* tokens, in ns of refill (one = interval_ns / burst) */
	uint64_t last_ns;               /* last refill; 0 = never used */
	uint64_t suppressed;            /* refused since the last line let through */
};

#define FWC_RATELIMIT_INIT(burst_, interval_ms_) \
	{ .burst = (burst_), .interval_ns = (uint64_t)(interval_ms_) * 1000000u }

/**
 * May a line be logged at @now_ns (monotonic)?  @return true and the count
 * of lines refused since the previous one in *@suppressed (then reset), or
 * false (counted).
 */
bool fwc_ratelimit_ok(struct fwc_ratelimit *rl, uint64_t now_ns, uint64_t *suppressed);

/*
 * Progress lines of long operations (recovery at start, sluice export) come
 * every SLUICE_PROGRESS_MS milliseconds of the environment, default 1000.
 * @return the interval in ms, or -EINVAL when the variable is set but not
 * a number in 1..3600000.
 */
#define FWC_PROGRESS_ENV "SLUICE_PROGRESS_MS"
long fwc_log_progress_ms(void);

#endif /* FWC_LOG_H */
