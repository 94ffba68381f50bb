/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_metrics_render.c - a metrics snapshot as Prometheus text exposition
 * format 0.0.4 (ctl_metrics_render in ctl_metrics.h).
 *
 * Pure formatting: it reads only the snapshot, which the control thread
 * copied (ctl_metrics.c), so it runs on libmicrohttpd's thread without
 * touching the catalog.  Every family gets HELP and TYPE lines even with no
 * series; series come in a stable order; label values are escaped.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "sluice_build.h"
#include "ctl_group.h"
#include "ctl_metrics.h"
#include "ctl_uplink.h"
#include "ctl_scram.h"
#include "dp_stats.h"
#include "kp_api.h"
#include "st_writer.h"

static void family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value with \, " and newline escaped (the exposition format's rule). */
static void label_value(FILE *out, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', out);
		if (*v == '\n') {
			fputs("\\n", out);
			continue;
		}
		fputc(*v, out);
	}
}

/* A counter family: name, help, and where its u64 sits in each item. */
struct counter_fam {
	const char *name, *help;
	size_t off;
};

/*
 * Each family of @fams, one sample per item: @n items of @stride bytes from
 * @items, labelled @label="<what @label_of writes for the item>".
 */
static void render_fams(FILE *out, const struct counter_fam *fams, size_t n_fams,
			const char *type, const char *label, const void *items, size_t stride,
			size_t n, void (*label_of)(FILE *out, const void *item, size_t i))
{
	for (size_t f = 0; f < n_fams; f++) {
		family(out, fams[f].name, type, fams[f].help);
		for (size_t i = 0; i < n; i++) {
			const char *it = (const char *)items + i * stride;

			fprintf(out, "%s{%s=\"", fams[f].name, label);
			label_of(out, it, i);
			fprintf(out, "\"} %llu\n",
				(unsigned long long)*(const uint64_t *)(it + fams[f].off));
		}
	}
}

static void render_counter_fams(FILE *out, const struct counter_fam *fams, size_t n_fams,
				const char *label, const void *items, size_t stride, size_t n,
				void (*label_of)(FILE *out, const void *item, size_t i))
{
	render_fams(out, fams, n_fams, "counter", label, items, stride, n, label_of);
}

static void label_writer(FILE *out, const void *item, size_t i)
{
	(void)item;
	fprintf(out, "%zu", i);
}

static void label_lcore(FILE *out, const void *item, size_t i)
{
	(void)i;
	fprintf(out, "%u", ((const struct dp_lcore_stats *)item)->lcore_id);
}

static void label_port(FILE *out, const void *item, size_t i)
{
	(void)i;
	label_value(out, ((const struct dp_port_stats *)item)->name);
}

static void sample_u64(FILE *out, const char *name, uint64_t v)
{
	fprintf(out, "%s %llu\n", name, (unsigned long long)v);
}

/*
 * One histogram series: cumulative _bucket{...,le="<seconds>"} for each of
 * the @n bounds (microseconds) and +Inf, then _sum and _count.  @labels is
 * the series' own labels ('writer="0"'), without braces.
 */
static void histogram_series(FILE *out, const char *name, const char *labels,
			     const uint32_t *bounds_us, unsigned int n, const uint64_t *bucket,
			     uint64_t sum_ns, uint64_t count)
{
	unsigned long long cum = 0;

	for (unsigned int b = 0; b <= n; b++) {
		cum += bucket[b];
		if (b < n)
			fprintf(out, "%s_bucket{%s,le=\"%g\"} %llu\n", name, labels,
				bounds_us[b] / 1e6, cum);
		else
			fprintf(out, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, labels, cum);
	}
	fprintf(out, "%s_sum{%s} %.9f\n", name, labels, sum_ns / 1e9);
	fprintf(out, "%s_count{%s} %llu\n", name, labels, (unsigned long long)count);
}

static const char *api_name(const struct ctl_metrics_snap *s, unsigned int key, char *buf,
			    size_t len)
{
	for (size_t i = 0; i < s->n_apis; i++)
		if (s->apis[i].api_key == (int16_t)key)
			return s->apis[i].name;
	snprintf(buf, len, "key_%u", key);
	return buf;
}

static bool api_shown(const struct ctl_metrics_snap *s, unsigned int key)
{
	const struct ctl_api_stats *a = &s->server.api[key];

	for (size_t i = 0; i < s->n_apis; i++)
		if (s->apis[i].api_key == (int16_t)key)
			return true;
	return a->requests || a->errors;
}

/* One series per advertised API (zeros included) and per other key seen. */
static void api_series(FILE *out, const struct ctl_metrics_snap *s, const char *name, bool errors)
{
	char buf[16];

	for (unsigned int k = 0; k < CTL_API_KEYS; k++) {
		const struct ctl_api_stats *a = &s->server.api[k];

		if (!api_shown(s, k))
			continue;
		fprintf(out, "%s{api=\"%s\"} %llu\n", name, api_name(s, k, buf, sizeof(buf)),
			(unsigned long long)(errors ? a->errors : a->requests));
	}
}

/* Request latency by API; api="Fetch" is the fetch latency (a long poll's wait included). */
static void render_request_histogram(FILE *out, const struct ctl_metrics_snap *s)
{
	static const char name[] = "sluice_kafka_request_seconds";
	char buf[16], labels[64];

	family(out, name, "histogram",
	       "Time from request read to response queued, by API (a Fetch's wait for data included).");
	for (unsigned int k = 0; k < CTL_API_KEYS; k++) {
		const struct ctl_api_stats *a = &s->server.api[k];

		if (!api_shown(s, k))
			continue;
		snprintf(labels, sizeof(labels), "api=\"%s\"", api_name(s, k, buf, sizeof(buf)));
		histogram_series(out, name, labels, ctl_lat_bucket_us, CTL_LAT_BUCKETS,
				 a->latency_bucket, a->latency_ns, a->requests);
	}
}

static void render_kafka(FILE *out, const struct ctl_metrics_snap *s)
{
	const struct ctl_server_stats *st = &s->server;
	static const struct {
		const char *name, *help;
		size_t off;
	} counters[] = {
#define C(n, f, h) { "sluice_kafka_" n, h, offsetof(struct ctl_server_stats, f) }
		C("connections_accepted_total", conn_accepted, "Kafka connections accepted."),
		C("connections_closed_total", conn_closed, "Kafka connections closed, for any reason."),
		C("connections_rejected_total", conn_rejected,
		  "Connections closed at accept because max.connections was reached."),
		C("connections_idle_closed_total", conn_idle_closed,
		  "Connections closed after connections.max.idle.ms without traffic."),
		C("frames_too_large_total", frames_too_large,
		  "Request frames larger than socket.request.max.bytes (connection closed)."),
		C("frames_invalid_total", frames_invalid,
		  "Request frames with a size <= 0 (connection closed)."),
		C("requests_refused_total", requests_refused,
		  "Requests for unadvertised APIs or versions, or malformed (connection closed)."),
		C("tls_handshake_failures_total", tls_handshake_failures,
		  "TLS handshakes that failed on SSL listeners (connection closed)."),
		C("auth_refused_total", auth_refused,
		  "SASL logins refused unchecked: sasl.max.failed.logins.per.minute reached."),
		C("received_bytes_total", bytes_in, "Bytes read from Kafka connections."),
		C("sent_bytes_total", bytes_out, "Bytes written to Kafka connections."),
#undef C
	};

	family(out, "sluice_kafka_requests_total", "counter", "Kafka requests handled, by API.");
	api_series(out, s, "sluice_kafka_requests_total", false);
	family(out, "sluice_kafka_request_errors_total", "counter",
	       "Error codes returned in Kafka responses, by API.");
	api_series(out, s, "sluice_kafka_request_errors_total", true);
	render_request_histogram(out, s);
	family(out, "sluice_kafka_connections_active", "gauge", "Open Kafka connections.");
	sample_u64(out, "sluice_kafka_connections_active", st->conn_open);
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		family(out, counters[i].name, "counter", counters[i].help);
		sample_u64(out, counters[i].name,
			   *(const uint64_t *)((const char *)st + counters[i].off));
	}
	family(out, "sluice_kafka_auth_failures_total", "counter",
	       "SASL logins that failed (bad credentials or messages), by mechanism.");
	for (int m = 0; m < CTL_MECH__COUNT; m++)
		fprintf(out, "sluice_kafka_auth_failures_total{mechanism=\"%s\"} %llu\n",
			ctl_sasl_mech_name((enum ctl_sasl_mech)m),
			(unsigned long long)st->auth_failures[m]);
}

/* Fields of struct ctl_metrics_part, rendered one family at a time. */
enum part_field { PF_START, PF_END, PF_WRITTEN, PF_FLUSHED, PF_DURABLE, PF_REC_IN, PF_BYTES_IN,
		  PF_RING_FULL, PF_RING_USED, PF_RING_SIZE, PF_REC_OUT, PF_BYTES_OUT, PF_ERR };

static const struct {
	const char *name, *type, *help;
} part_families[] = {
	[PF_START] = { "sluice_partition_log_start_offset", "gauge",
		       "First offset still in the log." },
	[PF_END] = { "sluice_partition_log_end_offset", "gauge",
		     "Next offset to be assigned (includes batches still in the ring)." },
	[PF_WRITTEN] = { "sluice_partition_written_offset", "gauge",
			 "Next offset not yet written to the segment file." },
	[PF_FLUSHED] = { "sluice_partition_flushed_offset", "gauge",
			 "Next offset not yet flushed to the device." },
	[PF_DURABLE] = { "sluice_partition_durable_offset", "gauge",
			 "Next offset not yet covered by fdatasync." },
	[PF_REC_IN] = { "sluice_partition_records_in_total", "counter",
			"Records committed into the partition (Kafka produce and dataplane)." },
	[PF_BYTES_IN] = { "sluice_partition_bytes_in_total", "counter",
			  "RecordBatch bytes committed into the partition." },
	[PF_RING_FULL] = { "sluice_partition_ring_full_total", "counter",
			   "Appends refused because the partition ring was full." },
	[PF_RING_USED] = { "sluice_partition_ring_used_bytes", "gauge",
			   "Ring bytes committed and not yet released by the writer." },
	[PF_RING_SIZE] = { "sluice_partition_ring_size_bytes", "gauge",
			   "Ring capacity in bytes (storage.ring.bytes)." },
	[PF_REC_OUT] = { "sluice_partition_records_out_total", "counter",
			 "Records sent to consumers by Fetch." },
	[PF_BYTES_OUT] = { "sluice_partition_bytes_out_total", "counter",
			   "RecordBatch bytes sent to consumers by Fetch." },
	[PF_ERR] = { "sluice_partition_io_error", "gauge",
		     "1 when appends stopped after an I/O error (ENOSPC, EIO), else 0." },
};

static int64_t part_value(const struct ctl_metrics_part *p, enum part_field f)
{
	switch (f) {
	case PF_START: return p->log_start;
	case PF_END: return p->log_end;
	case PF_WRITTEN: return p->written;
	case PF_FLUSHED: return p->flushed;
	case PF_DURABLE: return p->durable;
	case PF_REC_IN: return (int64_t)p->records_in;
	case PF_BYTES_IN: return (int64_t)p->bytes_in;
	case PF_RING_FULL: return (int64_t)p->ring_full;
	case PF_RING_USED: return (int64_t)p->ring_used;
	case PF_RING_SIZE: return (int64_t)p->ring_size;
	case PF_REC_OUT: return (int64_t)p->records_out;
	case PF_BYTES_OUT: return (int64_t)p->bytes_out;
	default: return p->err != 0;
	}
}

static void topic_labels(FILE *out, const char *name, const char *topic, int32_t partition)
{
	fprintf(out, "%s{topic=\"", name);
	label_value(out, topic);
	fprintf(out, "\",partition=\"%d\"} ", partition);
}

static void render_partitions(FILE *out, const struct ctl_metrics_snap *s)
{
	for (unsigned int f = 0; f < sizeof(part_families) / sizeof(part_families[0]); f++) {
		family(out, part_families[f].name, part_families[f].type, part_families[f].help);
		for (size_t i = 0; i < s->n_parts; i++) {
			topic_labels(out, part_families[f].name, s->parts[i].topic,
				     s->parts[i].partition);
			fprintf(out, "%lld\n", (long long)part_value(&s->parts[i], f));
		}
	}
}

/* The uplinks into Kafka clusters, per local partition (docs/scale-out.md). */
static void render_uplinks(FILE *out, const struct ctl_metrics_snap *s)
{
	static const struct { const char *name, *type, *help; } f[] = {
		{ "sluice_uplink_lag_records", "gauge",
		  "Durable records the cluster has not acknowledged." },
		{ "sluice_uplink_lag_bytes", "gauge",
		  "Log bytes from the first batch not acknowledged to the durable end." },
		{ "sluice_uplink_lag_seconds", "gauge",
		  "Age of the first batch not acknowledged (0 without lag)." },
		{ "sluice_uplink_records_total", "counter",
		  "Records the cluster acknowledged." },
		{ "sluice_uplink_errors_total", "counter",
		  "Delivery errors, fatal producer errors and failed resumes." },
		{ "sluice_uplink_retention_lost_records_total", "counter",
		  "Offsets retention deleted before they were shipped." },
		{ "sluice_uplink_cursor_offset", "gauge",
		  "The durable cursor: next offset to ship (-1: none stored yet)." },
		{ "sluice_uplink_connected", "gauge",
		  "1 while a producer runs and has resumed." },
	};

	if (s->n_uplinks == 0)
		return;
	for (unsigned int k = 0; k < sizeof(f) / sizeof(f[0]); k++) {
		family(out, f[k].name, f[k].type, f[k].help);
		for (size_t i = 0; i < s->n_uplinks; i++) {
			const struct ctl_uplink_stats *u = &s->uplinks[i];

			topic_labels(out, f[k].name, u->topic, u->partition);
			switch (k) {
			case 0: fprintf(out, "%lld\n", (long long)u->lag_records); break;
			case 1: fprintf(out, "%lld\n", (long long)u->lag_bytes); break;
			case 2: fprintf(out, "%.3f\n", u->lag_seconds); break;
			case 3: fprintf(out, "%llu\n", (unsigned long long)u->records); break;
			case 4: fprintf(out, "%llu\n", (unsigned long long)u->errors); break;
			case 5: fprintf(out, "%llu\n", (unsigned long long)u->lost); break;
			case 6: fprintf(out, "%lld\n", (long long)u->cursor); break;
			default: fprintf(out, "%d\n", u->connected); break;
			}
		}
	}
}

/* A histogram of struct st_writer_stats (at @off), one series per writer. */
static void render_writer_histogram(FILE *out, const struct ctl_metrics_snap *s, const char *name,
				    const char *help, size_t off)
{
	char labels[32];

	family(out, name, "histogram", help);
	for (size_t w = 0; w < s->n_writers; w++) {
		const struct st_lat_hist *h =
			(const struct st_lat_hist *)((const char *)&s->writers[w] + off);

		snprintf(labels, sizeof(labels), "writer=\"%zu\"", w);
		histogram_series(out, name, labels, st_lat_bucket_us, ST_LAT_BUCKETS, h->bucket,
				 h->sum_ns, h->count);
	}
}

static void render_storage(FILE *out, const struct ctl_metrics_snap *s)
{
	static const struct counter_fam fams[] = {
#define W(n, f, h) { "sluice_storage_" n, h, offsetof(struct st_writer_stats, f) }
		W("writer_passes_total", passes, "Storage writer loop passes."),
		W("writes_total", writes, "Segment file writes issued."),
		W("write_bytes_total", bytes, "Bytes handed to segment file writes."),
		W("syncs_total", syncs, "fdatasync calls issued (group commit)."),
		W("segment_rolls_total", rolls, "Segments rolled."),
		W("retention_deleted_segments_total", retained_segments,
		  "Segments deleted by retention."),
		W("io_errors_total", io_errors, "Partitions stopped by an I/O error."),
		W("io_error_heals_total", heals,
		  "Partitions let in again after an I/O error (storage.io.error.retry.ms)."),
	};

	static const struct counter_fam gauges[] = {
		W("writer_inflight_ops", inflight_ops,
		  "io_uring operations (writes, fdatasyncs) submitted or queued and not completed."),
		W("writer_queue_bytes", queue_bytes,
		  "Bytes of segment writes issued and not yet written (ring bytes in flight)."),
		W("rx_stamps_lost_total", rx_stamps_lost,
		  "Dataplane batches left out of the receive-to-durable histogram (stamp array full)."),
#undef W
	};

	render_counter_fams(out, fams, sizeof(fams) / sizeof(fams[0]), "writer", s->writers,
			    sizeof(s->writers[0]), s->n_writers, label_writer);
	render_fams(out, gauges, 2, "gauge", "writer", s->writers, sizeof(s->writers[0]),
		    s->n_writers, label_writer);
	render_fams(out, gauges + 2, 1, "counter", "writer", s->writers, sizeof(s->writers[0]),
		    s->n_writers, label_writer);
	render_writer_histogram(out, s, "sluice_storage_fsync_seconds",
				"Group commit latency: a sync request until the durable watermark moves.",
				offsetof(struct st_writer_stats, sync));
	render_writer_histogram(out, s, "sluice_dataplane_receive_to_durable_seconds",
				"Dataplane batches (tap and produce mode): receive time until the "
				"writer saw the durable watermark cover the batch.",
				offsetof(struct st_writer_stats, rx_durable));
}

static void render_dataplane(FILE *out, const struct ctl_metrics_snap *s)
{
	static const struct dp_stats zero;
	const struct dp_stats *dp = s->dp ? s->dp : &zero;

	family(out, "sluice_dataplane_rx_packets_total", "counter",
	       "Frames received by the dataplane lcores.");
	sample_u64(out, "sluice_dataplane_rx_packets_total", dp->rx_packets);
	family(out, "sluice_dataplane_rx_bytes_total", "counter",
	       "Bytes of the frames received by the dataplane lcores.");
	sample_u64(out, "sluice_dataplane_rx_bytes_total", dp->rx_bytes);
	family(out, "sluice_dataplane_stored_packets_total", "counter",
	       "Frames whose datagram was stored.");
	sample_u64(out, "sluice_dataplane_stored_packets_total", dp->stored);
	family(out, "sluice_dataplane_fragments_held", "gauge",
	       "Fragments waiting in the reassembly tables.");
	sample_u64(out, "sluice_dataplane_fragments_held", dp->frag_held);
	family(out, "sluice_dataplane_acks_sent_total", "counter",
	       "SLA1 acknowledgements of produce-mode datagrams handed to the NIC.");
	sample_u64(out, "sluice_dataplane_acks_sent_total", dp->acks_sent);
	family(out, "sluice_dataplane_acks_lost_total", "counter",
	       "SLA1 acknowledgements not sent (no mbuf, TX queue full, stopping); their senders resend.");
	sample_u64(out, "sluice_dataplane_acks_lost_total", dp->acks_lost);
	family(out, "sluice_dataplane_records_total", "counter",
	       "Kafka records stored by the dataplane, by partition.");
	for (size_t i = 0; i < s->n_dp_parts; i++) {
		topic_labels(out, "sluice_dataplane_records_total", s->dp_parts[i].topic,
			     s->dp_parts[i].partition);
		fprintf(out, "%llu\n", (unsigned long long)s->dp_parts[i].records);
	}
	family(out, "sluice_dataplane_drops_total", "counter",
	       "Frames dropped by the dataplane, by reason (docs/dataplane.md).");
	for (unsigned int r = 1; r < DP_DROP__COUNT; r++)
		fprintf(out, "sluice_dataplane_drops_total{reason=\"%s\"} %llu\n", dp_drop_name(r),
			(unsigned long long)dp->drops[r]);
}

/* Per lcore: what each one received, stored and dropped (the totals above are their sums). */
static void render_lcores(FILE *out, const struct ctl_metrics_snap *s)
{
	static const struct counter_fam fams[] = {
#define L(n, f, h) { "sluice_dataplane_lcore_" n, h, offsetof(struct dp_lcore_stats, s.f) }
		L("rx_packets_total", rx_packets, "Frames received by the lcore."),
		L("rx_bytes_total", rx_bytes, "Bytes of the frames received by the lcore."),
		L("stored_packets_total", stored, "Frames the lcore stored."),
		L("records_total", records, "Kafka records the lcore stored."),
#undef L
	};

	render_counter_fams(out, fams, sizeof(fams) / sizeof(fams[0]), "lcore", s->lcores,
			    sizeof(s->lcores[0]), s->n_lcores, label_lcore);
	family(out, "sluice_dataplane_lcore_drops_total", "counter",
	       "Frames the lcore dropped, by reason (imissed and rx_nombuf are the ports').");
	for (size_t i = 0; i < s->n_lcores; i++)
		for (unsigned int r = 1; r < DP_DROP__COUNT; r++)
			fprintf(out, "sluice_dataplane_lcore_drops_total{lcore=\"%u\",reason=\"%s\"} "
				"%llu\n", s->lcores[i].lcore_id, dp_drop_name(r),
				(unsigned long long)s->lcores[i].s.drops[r]);
}

/* Per port: the PMD's own counters (rte_eth_stats). */
static void render_ports(FILE *out, const struct ctl_metrics_snap *s)
{
	static const struct counter_fam fams[] = {
#define P(n, f, h) { "sluice_port_" n, h, offsetof(struct dp_port_stats, f) }
		P("rx_packets_total", ipackets, "Frames the port received (rte_eth_stats ipackets)."),
		P("rx_bytes_total", ibytes, "Bytes the port received (ibytes)."),
		P("rx_missed_total", imissed, "Frames the NIC dropped: RX queue full (imissed)."),
		P("rx_errors_total", ierrors, "Erroneous frames (ierrors)."),
		P("rx_nombuf_total", rx_nombuf, "RX mbuf allocation failures (rx_nombuf)."),
#undef P
	};

	render_counter_fams(out, fams, sizeof(fams) / sizeof(fams[0]), "port", s->ports,
			    sizeof(s->ports[0]), s->n_ports, label_port);
}

/* name{group="..." -- the caller closes the braces. */
static void group_labels(FILE *out, const char *name, const char *group)
{
	fprintf(out, "%s{group=\"", name);
	label_value(out, group);
	fputc('"', out);
}

static void group_topic_labels(FILE *out, const char *name, const char *group, const char *topic)
{
	group_labels(out, name, group);
	fputs(",topic=\"", out);
	label_value(out, topic);
	fputc('"', out);
}

/* Log end minus committed, never negative; false when either is unknown. */
static bool group_lag(const struct ctl_metrics_group_offset *x, int64_t *lag)
{
	if (x->log_end < 0 || x->committed < 0)
		return false;
	*lag = x->log_end > x->committed ? x->log_end - x->committed : 0;
	return true;
}

static void render_group_counters(FILE *out, const struct ctl_metrics_snap *s)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} counters[] = {
#define G(n, f, h) { "sluice_group_" n, h, offsetof(struct ctl_groups_stats, f) }
		G("rebalances_total", rebalances, "Join phases completed by the group coordinator."),
		G("members_expired_total", members_expired,
		  "Group members removed after their session timeout."),
		G("commits_total", commits, "Partitions of OffsetCommit requests stored."),
		G("offsets_expired_total", offsets_expired,
		  "Committed offsets removed by offsets.retention.minutes."),
		G("compactions_total", compactions,
		  "Copy-forward compaction passes over a partition of __consumer_offsets."),
		G("records_replayed_total", records_replayed,
		  "Records of __consumer_offsets replayed at start."),
#undef G
	};

	family(out, "sluice_groups", "gauge", "Consumer groups, by state.");
	for (unsigned int st = 0; st < CTL_GROUP_STATES; st++)
		fprintf(out, "sluice_groups{state=\"%s\"} %zu\n", ctl_group_state_name(st),
			s->groups_by_state[st]);
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		family(out, counters[i].name, "counter", counters[i].help);
		sample_u64(out, counters[i].name,
			   *(const uint64_t *)((const char *)&s->group_stats + counters[i].off));
	}
	family(out, "sluice_group_offsets_omitted", "gauge",
	       "Committed offsets this scrape leaves out (over the per-scrape cap, or no memory).");
	sample_u64(out, "sluice_group_offsets_omitted", s->group_offsets_omitted);
}

/* Members, generation, and the state as a state set (every state; 1 for the current). */
static void render_group_summaries(FILE *out, const struct ctl_metrics_snap *s)
{
	family(out, "sluice_group_members", "gauge", "Members of the consumer group.");
	for (size_t i = 0; i < s->n_groups; i++) {
		group_labels(out, "sluice_group_members", s->groups[i].id);
		fprintf(out, "} %u\n", s->groups[i].n_members);
	}
	family(out, "sluice_group_generation", "gauge",
	       "Generation of the consumer group (one more at each completed rebalance).");
	for (size_t i = 0; i < s->n_groups; i++) {
		group_labels(out, "sluice_group_generation", s->groups[i].id);
		fprintf(out, "} %d\n", s->groups[i].generation);
	}
	family(out, "sluice_group_state", "gauge",
	       "State of the consumer group: 1 for the current state, 0 for the others.");
	for (size_t i = 0; i < s->n_groups; i++)
		for (unsigned int st = 0; st < CTL_GROUP_STATES; st++) {
			group_labels(out, "sluice_group_state", s->groups[i].id);
			fprintf(out, ",state=\"%s\"} %d\n", ctl_group_state_name(st),
				s->groups[i].state == st);
		}
}

/* One topic's lag summed over its partitions with a known lag, from @first. */
static size_t render_lag_sum(FILE *out, const struct ctl_metrics_group *g, size_t first)
{
	const char *topic = g->offsets[first].topic;
	int64_t sum = 0, lag;
	bool known = false;
	size_t k = first;

	for (; k < g->n_offsets && strcmp(g->offsets[k].topic, topic) == 0; k++)
		if (group_lag(&g->offsets[k], &lag)) {
			sum += lag;
			known = true;
		}
	if (known) {
		group_topic_labels(out, "sluice_group_lag_sum", g->id, topic);
		fprintf(out, "} %lld\n", (long long)sum);
	}
	return k;
}

/* name{group,topic,partition} value, for each committed offset (@lag: only known lags). */
static void group_offset_series(FILE *out, const struct ctl_metrics_snap *s, const char *name,
				bool lag)
{
	int64_t v;

	for (size_t i = 0; i < s->n_groups; i++) {
		const struct ctl_metrics_group *g = &s->groups[i];

		for (size_t k = 0; k < g->n_offsets; k++) {
			const struct ctl_metrics_group_offset *x = &g->offsets[k];

			if (lag && !group_lag(x, &v))
				continue;
			group_topic_labels(out, name, g->id, x->topic);
			fprintf(out, ",partition=\"%d\"} %lld\n", x->partition,
				(long long)(lag ? v : x->committed));
		}
	}
}

static void render_group_offsets(FILE *out, const struct ctl_metrics_snap *s)
{
	family(out, "sluice_group_committed_offset", "gauge",
	       "Offset the consumer group committed, by partition.");
	group_offset_series(out, s, "sluice_group_committed_offset", false);
	family(out, "sluice_group_lag", "gauge",
	       "High watermark minus committed offset, never negative (absent: topic gone).");
	group_offset_series(out, s, "sluice_group_lag", true);
	family(out, "sluice_group_lag_sum", "gauge",
	       "sluice_group_lag summed over the partitions of a topic.");
	for (size_t i = 0; i < s->n_groups; i++)
		for (size_t k = 0; k < s->groups[i].n_offsets;)
			k = render_lag_sum(out, &s->groups[i], k);
}

/* The host's hugepage pools, and what of them this process holds, by pool. */
static void render_hugepages(FILE *out, const struct ctl_metrics_snap *s)
{
	uint64_t rings = 0, staging = 0;

	family(out, "sluice_hugepages_total", "gauge",
	       "Hugepages reserved on the host, by page size (nr_hugepages).");
	for (size_t i = 0; i < s->n_huge; i++)
		fprintf(out, "sluice_hugepages_total{size=\"%llukB\"} %llu\n",
			(unsigned long long)s->huge[i].size_kb, (unsigned long long)s->huge[i].total);
	family(out, "sluice_hugepages_free", "gauge",
	       "Reserved hugepages not in use by any process, by page size (free_hugepages).");
	for (size_t i = 0; i < s->n_huge; i++)
		fprintf(out, "sluice_hugepages_free{size=\"%llukB\"} %llu\n",
			(unsigned long long)s->huge[i].size_kb, (unsigned long long)s->huge[i].free);
	for (size_t i = 0; i < s->n_parts; i++)
		rings += s->parts[i].ring_huge;
	for (size_t i = 0; i < s->n_writers; i++)
		staging += s->writers[i].huge_bytes;
	family(out, "sluice_hugepage_bytes_used", "gauge",
	       "Hugepage memory sluiced holds, by pool: the DPDK heap (mbufs, rings; "
	       "rte_malloc_get_socket_stats), partition rings, writer staging buffers.");
	fprintf(out, "sluice_hugepage_bytes_used{pool=\"dpdk_heap\"} %llu\n",
		(unsigned long long)s->dpdk_heap_huge);
	fprintf(out, "sluice_hugepage_bytes_used{pool=\"partition_rings\"} %llu\n",
		(unsigned long long)rings);
	fprintf(out, "sluice_hugepage_bytes_used{pool=\"writer_staging\"} %llu\n",
		(unsigned long long)staging);
}

int ctl_metrics_render(const struct ctl_metrics_snap *s, FILE *out)
{
	family(out, "sluice_build_info", "gauge", "The running sluiced's version (always 1).");
	fprintf(out, "sluice_build_info{version=\"%s\"} 1\n", SLUICE_VERSION);
	render_kafka(out, s);
	render_partitions(out, s);
	render_uplinks(out, s);
	render_storage(out, s);
	render_dataplane(out, s);
	render_lcores(out, s);
	render_ports(out, s);
	render_hugepages(out, s);
	render_group_counters(out, s);
	render_group_summaries(out, s);
	render_group_offsets(out, s);
	return ferror(out) ? -EIO : 0;
}
