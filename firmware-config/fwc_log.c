/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fwc_log.c - log level specs and the log rate limiter (fwc_log.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwc_log.h"

static const char *const module_names[FWC_LOG_MODULES] = {
	[FWC_LOG_DAEMON] = "daemon", [FWC_LOG_CONTROL] = "control",
	[FWC_LOG_STORAGE] = "storage", [FWC_LOG_DATAPLANE] = "dataplane",
};

static const struct {
	const char *name;
	int level;
} level_names[] = {
	{ "emerg", 0 }, { "alert", 1 }, { "crit", 2 }, { "err", 3 }, { "error", 3 },
	{ "warning", 4 }, { "warn", 4 }, { "notice", 5 }, { "info", 6 }, { "debug", 7 },
};

static bool word_is(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && strncmp(s, word, len) == 0;
}

int fwc_log_module_parse(const char *name, size_t len)
{
	for (int m = 0; m < FWC_LOG_MODULES; m++)
		if (word_is(name, len, module_names[m]))
			return m;
	return -EINVAL;
}

const char *fwc_log_module_name(enum fwc_log_module m)
{
	return (unsigned)m < FWC_LOG_MODULES ? module_names[m] : "?";
}

int fwc_log_level_parse(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (word_is(name, len, level_names[i].name))
			return level_names[i].level;
	return -EINVAL;
}

/* One item "LEVEL" or "MODULE=LEVEL" of @len bytes. */
static int item_parse(const char *s, size_t len, struct fwc_log_levels *out, char *err,
		      size_t errlen)
{
	const char *eq = memchr(s, '=', len);
	const char *lv = eq ? eq + 1 : s;
	size_t lvlen = len - (size_t)(lv - s);
	int m = -1, level;

	if (eq && (m = fwc_log_module_parse(s, (size_t)(eq - s))) < 0) {
		snprintf(err, errlen, "unknown module '%.*s' in '%.*s' (modules: daemon, control, "
			 "storage, dataplane)", (int)(eq - s), s, (int)len, s);
		return -EINVAL;
	}
	level = fwc_log_level_parse(lv, lvlen);
	if (level < 0) {
		snprintf(err, errlen, "unknown level '%.*s' in '%.*s' (levels: emerg, alert, crit, "
			 "err, warning, notice, info, debug)", (int)lvlen, lv, (int)len, s);
		return -EINVAL;
	}
	if (m < 0)
		out->global = level;
	else
		out->module[m] = level;
	return 0;
}

int fwc_log_levels_parse(const char *spec, struct fwc_log_levels *out, char *err, size_t errlen)
{
	const char *s = spec;

	out->global = -1;
	for (int m = 0; m < FWC_LOG_MODULES; m++)
		out->module[m] = -1;
	if (!*spec) {
		snprintf(err, errlen, "empty level spec");
		return -EINVAL;
	}
	for (;;) {
		size_t len = strcspn(s, ",");

		if (len == 0) {
			snprintf(err, errlen, "empty item in '%s'", spec);
			return -EINVAL;
		}
		if (item_parse(s, len, out, err, errlen) < 0)
			return -EINVAL;
		if (!s[len])
			return 0;
		s += len + 1;
	}
}

bool fwc_ratelimit_ok(struct fwc_ratelimit *rl, uint64_t now_ns, uint64_t *suppressed)
{
	uint64_t one, full;

	if (rl->burst && rl->interval_ns >= rl->burst) {
		one = rl->interval_ns / rl->burst;
		full = one * rl->burst;
		if (rl->last_ns == 0 || now_ns - rl->last_ns >= full - rl->tokens_ns)
			rl->tokens_ns = full;   /* first use, or refilled to the brim */
		else
			rl->tokens_ns += now_ns - rl->last_ns;
		rl->last_ns = now_ns;
		if (rl->tokens_ns < one) {
			rl->suppressed++;
			return false;
		}
		rl->tokens_ns -= one;
	}
	/* else: no burst or no interval, no limit */
	*suppressed = rl->suppressed;
	rl->suppressed = 0;
	return true;
}

long fwc_log_progress_ms(void)
{
	const char *env = getenv(FWC_PROGRESS_ENV);
	unsigned long ms;
	char *end;

	if (!env || !*env)
		return 1000;
	errno = 0;
	ms = strtoul(env, &end, 10);
	if (errno || *end || ms == 0 || ms > 3600000)
		return -EINVAL;
	return (long)ms;
}
