/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_telemetry.c - /sluice/stats, /sluice/partitions and /sluice/config on
 * DPDK's telemetry socket (ctl_telemetry.h).  Each reply is built from one
 * snapshot of the control thread (the metrics endpoint's) or from the
 * configuration; lists are columns (DPDK 22.11 nests only scalar arrays).
 */
#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <rte_telemetry.h>

#include "ctl_log.h"
#include "ctl_snapq.h"
#include "ctl_telemetry.h"
#include "dp_drop.h"
#include "dp_lcore.h"
#include "dp_stats.h"

#define TEL_WAIT_S 2                    /* a command waits this long for the control thread */

struct ctl_telemetry {
	const struct fwc_config *cfg;
	struct ctl_snapq *q;
};

/* The one running instance: DPDK 22.11 callbacks take no argument. */
static struct {
	pthread_mutex_t lock;           /* held while a command reads cur */
	struct ctl_telemetry *cur;
	bool registered;
} tel = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* ---- columns ------------------------------------------------------------- */

/* A u64 column: *(uint64_t *)(base + i * stride + off) for i < n. */
static int col_u64(struct rte_tel_data *d, const char *name, const void *base, size_t n,
		   size_t stride, size_t off)
{
	struct rte_tel_data *c = rte_tel_data_alloc();

	if (!c)
		return -ENOMEM;
	rte_tel_data_start_array(c, RTE_TEL_U64_VAL);
	for (size_t i = 0; i < n; i++)
		rte_tel_data_add_array_u64(c, *(const uint64_t *)((const char *)base + i * stride +
								  off));
	return rte_tel_data_add_dict_container(d, name, c, 0);
}

/* A string column: *(const char **)(base + i * stride + off), or the chars there (@inline). */
static int col_str(struct rte_tel_data *d, const char *name, const void *base, size_t n,
		   size_t stride, size_t off, bool inline_chars)
{
	struct rte_tel_data *c = rte_tel_data_alloc();

	if (!c)
		return -ENOMEM;
	rte_tel_data_start_array(c, RTE_TEL_STRING_VAL);
	for (size_t i = 0; i < n; i++) {
		const char *p = (const char *)base + i * stride + off;

		rte_tel_data_add_array_string(c, inline_chars ? p : *(const char *const *)p);
	}
	return rte_tel_data_add_dict_container(d, name, c, 0);
}

/* An int column: *(int32_t *)(base + i * stride + off). */
static int col_i32(struct rte_tel_data *d, const char *name, const void *base, size_t n,
		   size_t stride, size_t off)
{
	struct rte_tel_data *c = rte_tel_data_alloc();

	if (!c)
		return -ENOMEM;
	rte_tel_data_start_array(c, RTE_TEL_INT_VAL);
	for (size_t i = 0; i < n; i++)
		rte_tel_data_add_array_int(c, *(const int32_t *)((const char *)base + i * stride +
								 off));
	return rte_tel_data_add_dict_container(d, name, c, 0);
}

/* ---- /sluice/stats ----------------------------------------------------------- */

static void stats_totals(struct rte_tel_data *d, const struct dp_stats *dp)
{
	char key[64];

	rte_tel_data_add_dict_u64(d, "rx_packets", dp->rx_packets);
	rte_tel_data_add_dict_u64(d, "rx_bytes", dp->rx_bytes);
	rte_tel_data_add_dict_u64(d, "stored_packets", dp->stored);
	rte_tel_data_add_dict_u64(d, "records", dp->records);
	rte_tel_data_add_dict_u64(d, "fragments_held", dp->frag_held);
	rte_tel_data_add_dict_u64(d, "acks_sent", dp->acks_sent);
	rte_tel_data_add_dict_u64(d, "acks_lost", dp->acks_lost);
	for (unsigned int r = 1; r < DP_DROP__COUNT; r++) {
		snprintf(key, sizeof(key), "drops/%s", dp_drop_name(r));
		rte_tel_data_add_dict_u64(d, key, dp->drops[r]);
	}
}

static void stats_lcores(struct rte_tel_data *d, const struct ctl_metrics_snap *s)
{
	const size_t st = sizeof(struct dp_lcore_stats);
	uint64_t drops[DP_LCORE_MAX];
	size_t n = s->n_lcores < DP_LCORE_MAX ? s->n_lcores : DP_LCORE_MAX;
	struct rte_tel_data *c;

	if ((c = rte_tel_data_alloc()) != NULL) {
		rte_tel_data_start_array(c, RTE_TEL_INT_VAL);
		for (size_t i = 0; i < n; i++)
			rte_tel_data_add_array_int(c, (int)s->lcores[i].lcore_id);
		rte_tel_data_add_dict_container(d, "lcore", c, 0);
	}
	col_u64(d, "lcore_rx_packets", s->lcores, n, st,
		offsetof(struct dp_lcore_stats, s.rx_packets));
	col_u64(d, "lcore_rx_bytes", s->lcores, n, st, offsetof(struct dp_lcore_stats, s.rx_bytes));
	col_u64(d, "lcore_stored_packets", s->lcores, n, st,
		offsetof(struct dp_lcore_stats, s.stored));
	col_u64(d, "lcore_records", s->lcores, n, st, offsetof(struct dp_lcore_stats, s.records));
	for (size_t i = 0; i < n; i++) {
		drops[i] = 0;
		for (unsigned int r = 1; r < DP_DROP__COUNT; r++)
			drops[i] += s->lcores[i].s.drops[r];
	}
	col_u64(d, "lcore_drops", drops, n, sizeof(drops[0]), 0);
}

static void stats_ports(struct rte_tel_data *d, const struct ctl_metrics_snap *s)
{
	const size_t st = sizeof(struct dp_port_stats);
	size_t n = s->n_ports;

	col_str(d, "port", s->ports, n, st, offsetof(struct dp_port_stats, name), false);
	col_u64(d, "port_rx_packets", s->ports, n, st, offsetof(struct dp_port_stats, ipackets));
	col_u64(d, "port_rx_bytes", s->ports, n, st, offsetof(struct dp_port_stats, ibytes));
	col_u64(d, "port_rx_missed", s->ports, n, st, offsetof(struct dp_port_stats, imissed));
	col_u64(d, "port_rx_errors", s->ports, n, st, offsetof(struct dp_port_stats, ierrors));
	col_u64(d, "port_rx_nombuf", s->ports, n, st, offsetof(struct dp_port_stats, rx_nombuf));
}

/* Run @fn on a snapshot of the running instance; -1 (null reply) without one. */
static int with_snapshot(struct rte_tel_data *d, const char *params,
			 void (*fn)(struct rte_tel_data *, const struct ctl_metrics_snap *,
				    const char *))
{
	struct ctl_metrics_snap *s = NULL;

	pthread_mutex_lock(&tel.lock);
	if (tel.cur)
		s = ctl_snapq_get(tel.cur->q, TEL_WAIT_S);
	pthread_mutex_unlock(&tel.lock);
	if (!s)
		return -1;
	rte_tel_data_start_dict(d);
	fn(d, s, params);
	ctl_metrics_snap_free(s);
	return 0;
}

static void stats_fill(struct rte_tel_data *d, const struct ctl_metrics_snap *s, const char *params)
{
	static const struct dp_stats zero;

	(void)params;
	stats_totals(d, s->dp ? s->dp : &zero);
	stats_lcores(d, s);
	stats_ports(d, s);
}

static int cmd_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	return with_snapshot(d, params, stats_fill);
}

/* ---- /sluice/partitions ------------------------------------------------------ */

/* The partitions of topic @params (all without one), at most RTE_TEL_MAX_ARRAY_ENTRIES. */
static void parts_fill(struct rte_tel_data *d, const struct ctl_metrics_snap *s, const char *params)
{
	static const struct {
		const char *name;
		size_t off;
	} cols[] = {
#define C(n, f) { n, offsetof(struct ctl_metrics_part, f) }
		C("records", records_in), C("bytes", bytes_in), C("log_start", log_start),
		C("log_end", log_end), C("written", written), C("flushed", flushed),
		C("durable", durable), C("ring_used", ring_used), C("ring_size", ring_size),
		C("ring_full", ring_full), C("records_out", records_out),
		C("bytes_out", bytes_out),
#undef C
	};
	struct ctl_metrics_part *sel = calloc(s->n_parts ? s->n_parts : 1, sizeof(*sel));
	size_t n = 0, total = 0;
	int32_t err[RTE_TEL_MAX_ARRAY_ENTRIES];

	if (!sel)
		return;
	for (size_t i = 0; i < s->n_parts; i++) {
		if (params && *params && strcmp(params, s->parts[i].topic) != 0)
			continue;
		total++;
		if (n < RTE_TEL_MAX_ARRAY_ENTRIES)
			sel[n++] = s->parts[i];
	}
	/* offsets are never negative here; the u64 columns carry them as they are */
	rte_tel_data_add_dict_u64(d, "partitions", total);
	rte_tel_data_add_dict_int(d, "truncated", total > n);
	col_str(d, "topic", sel, n, sizeof(*sel), offsetof(struct ctl_metrics_part, topic), false);
	col_i32(d, "partition", sel, n, sizeof(*sel), offsetof(struct ctl_metrics_part, partition));
	for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++)
		col_u64(d, cols[c].name, sel, n, sizeof(*sel), cols[c].off);
	for (size_t i = 0; i < n; i++)
		err[i] = -sel[i].err;   /* errno, 0: appending */
	col_i32(d, "io_errno", err, n, sizeof(err[0]), 0);
	free(sel);
}

static int cmd_partitions(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	return with_snapshot(d, params, parts_fill);
}

/* ---- /sluice/config ------------------------------------------------------------ */

static void dict_i64(struct rte_tel_data *d, const char *name, int64_t v)
{
	if (v < 0)
		rte_tel_data_add_dict_int(d, name, v < INT32_MIN ? INT32_MIN : (int)v);
	else
		rte_tel_data_add_dict_u64(d, name, (uint64_t)v);
}

static const char *vis_name(enum fwc_visibility v)
{
	return v == FWC_VISIBILITY_FLUSHED ? "flushed" : v == FWC_VISIBILITY_WRITTEN ? "written"
										  : "durable";
}

static void config_ports_topics(struct rte_tel_data *d, const struct fwc_config *cfg)
{
	const struct fwc_dataplane *dp = &cfg->dataplane;
	struct rte_tel_data *c;
	char rule[FWC_NAME_MAX + 32];
	int32_t q[FWC_MAX_PORTS];

	col_str(d, "ports", dp->ports, dp->n_ports, sizeof(dp->ports[0]),
		offsetof(struct fwc_port, name), true);
	col_str(d, "port_devices", dp->ports, dp->n_ports, sizeof(dp->ports[0]),
		offsetof(struct fwc_port, device), true);
	for (unsigned int i = 0; i < dp->n_ports; i++)
		q[i] = dp->ports[i].rx_queues;
	col_i32(d, "port_rx_queues", q, dp->n_ports, sizeof(q[0]), 0);
	col_str(d, "topics", cfg->topics, cfg->n_topics, sizeof(cfg->topics[0]),
		offsetof(struct fwc_topic, name), true);
	col_i32(d, "topic_partitions", cfg->topics, cfg->n_topics, sizeof(cfg->topics[0]),
		offsetof(struct fwc_topic, partitions));
	if ((c = rte_tel_data_alloc()) == NULL)
		return;
	rte_tel_data_start_array(c, RTE_TEL_STRING_VAL);
	for (unsigned int t = 0; t < cfg->n_topics; t++)
		for (unsigned int r = 0; r < cfg->topics[t].n_rules; r++) {
			const struct fwc_rule *ru = &cfg->topics[t].rules[r];

			snprintf(rule, sizeof(rule), "udp/%u %s -> %s", ru->udp_port,
				 ru->mode == FWC_MODE_TAP ? "tap" : "produce", cfg->topics[t].name);
			rte_tel_data_add_array_string(c, rule);
		}
	rte_tel_data_add_dict_container(d, "rules", c, 0);
	col_str(d, "eal", dp->eal_args, dp->n_eal_args, sizeof(dp->eal_args[0]), 0, true);
}

static int cmd_config(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct fwc_config *cfg;
	const struct fwc_broker *b;

	(void)cmd;
	(void)params;
	pthread_mutex_lock(&tel.lock);
	cfg = tel.cur ? tel.cur->cfg : NULL;
	if (!cfg) {
		pthread_mutex_unlock(&tel.lock);
		return -1;
	}
	b = &cfg->broker;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "config", cfg->path[0] ? cfg->path : FWC_DEFAULT_NAME);
	rte_tel_data_add_dict_int(d, "broker_id", b->broker_id);
	col_str(d, "listeners", b->listeners, b->n_listeners, sizeof(b->listeners[0]), 0, true);
	rte_tel_data_add_dict_string(d, "log_dirs", b->log_dirs);
	rte_tel_data_add_dict_string(d, "metrics_listener", b->metrics_listener);
	dict_i64(d, "log_segment_bytes", b->log_segment_bytes);
	dict_i64(d, "log_retention_ms", b->log_retention_ms);
	dict_i64(d, "log_retention_bytes", b->log_retention_bytes);
	dict_i64(d, "log_flush_interval_ms", b->log_flush_interval_ms);
	rte_tel_data_add_dict_string(d, "consumer_visibility",
				     vis_name(cfg->storage.consumer_visibility));
	rte_tel_data_add_dict_u64(d, "writer_threads", cfg->storage.writer_threads);
	rte_tel_data_add_dict_u64(d, "ring_bytes", cfg->storage.ring_bytes);
	rte_tel_data_add_dict_u64(d, "burst_size", cfg->dataplane.burst_size);
	config_ports_topics(d, cfg);
	pthread_mutex_unlock(&tel.lock);
	return 0;
}

/* ---- lifecycle --------------------------------------------------------------------- */

static int register_cmds(void)
{
	int rc;

	if (tel.registered)
		return 0;
	if ((rc = rte_telemetry_register_cmd("/sluice/stats", cmd_stats,
		"Dataplane counters: totals, drops by reason, per lcore and per port. No parameters")) < 0 ||
	    (rc = rte_telemetry_register_cmd("/sluice/partitions", cmd_partitions,
		"Per partition: records, bytes, watermarks, ring fill. Parameter: a topic (optional)")) < 0 ||
	    (rc = rte_telemetry_register_cmd("/sluice/config", cmd_config,
		"The effective configuration: ports, topics, rules, broker settings. No parameters")) < 0)
		return rc;
	tel.registered = true;
	return 0;
}

int ctl_telemetry_start(const struct fwc_config *cfg, const struct ctl_metrics_params *mp,
			struct ctl_telemetry **out)
{
	struct ctl_telemetry *t;
	int rc;

	*out = NULL;
	if (!(t = calloc(1, sizeof(*t))))
		return -ENOMEM;
	t->cfg = cfg;
	if ((rc = ctl_snapq_create(mp, &t->q)) < 0)
		goto out;
	pthread_mutex_lock(&tel.lock);
	rc = tel.cur ? -EBUSY : register_cmds();
	if (rc == 0 && (rc = ctl_snapq_attach(t->q)) == 0)
		tel.cur = t;
	pthread_mutex_unlock(&tel.lock);
	if (rc < 0)
		goto out;
	*out = t;
	return 0;
out:
	ctl_snapq_free(t->q);
	free(t);
	return rc;
}

void ctl_telemetry_stop(struct ctl_telemetry *t)
{
	if (!t)
		return;
	ctl_snapq_close(t->q);          /* a command waiting for a snapshot returns now */
	pthread_mutex_lock(&tel.lock);
	tel.cur = NULL;
	pthread_mutex_unlock(&tel.lock);
	ctl_snapq_free(t->q);
	free(t);
}
