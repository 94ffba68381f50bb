/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The metrics endpoint: the text rendering of a small fixture line by line,
 * a snapshot taken from a catalog whose partitions are plain st_partition
 * structs, and GET /metrics over HTTP through the control loop (a real
 * ctl_server running in a thread answers the snapshot request).  The group
 * series come from the real coordinator on real storage: a member joins and
 * commits, a simple consumer commits on a topic then deleted, and the scrape
 * shows members, state, committed offsets and lag against the high
 * watermark; then the per-scrape cap of committed offsets.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "sluice_build.h"

#include "ctl_catalog.h"
#include "ctl_group.h"
#include "ctl_metrics.h"
#include "ctl_server.h"
#include "dp_stats.h"
#include "fwc_config.h"
#include "kp_api.h"
#include "kp_data_fx.h"
#include "kp_golden.h"
#include "st_partition.h"
#include "st_writer.h"

static char *render(const struct ctl_metrics_snap *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	assert_non_null(out);
	assert_int_equal(ctl_metrics_render(s, out), 0);
	assert_int_equal(fclose(out), 0);
	return buf;
}

/* @text contains @line as a whole line. */
static void assert_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
	fail_msg("missing line: %s", line);
}

static size_t count_prefix(const char *text, const char *prefix)
{
	size_t n = 0;

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			n++;
	return n;
}

/* Every sample's family was introduced by HELP and TYPE lines before it. */
static void assert_families_declared(const char *text)
{
	char name[128], typed[128] = "", helped[128] = "";

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (sscanf(p, "# HELP %127s", helped) == 1 || sscanf(p, "# TYPE %127s", typed) == 1)
			continue;
		assert_int_equal(sscanf(p, "%127[a-z_]", name), 1);
		assert_string_equal(typed, helped);
		assert_memory_equal(name, typed, strlen(typed));
	}
}

static const struct kp_api_entry fx_apis[] = {
	{ .api_key = 3, .min_version = 0, .max_version = 5, .name = "Metadata" },
	{ .api_key = 18, .min_version = 0, .max_version = 2, .name = "ApiVersions" },
};

static void test_ctl_metrics_render_fixture(void **state)
{
	struct ctl_metrics_snap s = { 0 };
	struct st_writer_stats w[1] = { { .passes = 10, .writes = 4, .bytes = 4096, .syncs = 2,
					  .rolls = 1, .io_errors = 1, .heals = 1,
					  .inflight_ops = 3, .queue_bytes = 65536,
					  .huge_bytes = 2097152, .rx_stamps_lost = 6,
					  .sync = { .bucket = { [2] = 3, [ST_LAT_BUCKETS] = 1 },
						    .sum_ns = 2500000000u, .count = 4 },
					  .rx_durable = { .bucket = { [3] = 2, [5] = 5 },
							  .sum_ns = 35000000u, .count = 7 } } };
	struct dp_stats dp = { .rx_packets = 120, .rx_bytes = 9000, .stored = 100 };
	struct ctl_metrics_dp_part dpp[1] = { { "telemetry", 0, 77 } };
	struct ctl_metrics_part parts[2] = {
		{ .topic = "telemetry", .partition = 0, .log_start = 5, .log_end = 42, .written = 40,
		  .flushed = 40, .durable = 30, .records_in = 37, .bytes_in = 3700, .ring_full = 3,
		  .records_out = 12, .bytes_out = 1200, .ring_huge = 4194304 },
		{ .topic = "we\"ird", .partition = 1, .err = -ENOSPC },
	};
	struct ctl_metrics_group_offset goffs[3] = {
		{ "telemetry", 0, 30, 42 },
		{ "telemetry", 1, 50, 42 },     /* committed past the end: lag 0, not -8 */
		{ "gone", 0, 7, -1 },           /* topic deleted: no lag */
	};
	struct ctl_metrics_group groups[2] = {
		{ "g1", CTL_GROUP_STABLE, 3, 2, goffs, 3 },
		{ "we\"i\\rd\n", CTL_GROUP_EMPTY, 0, 0, NULL, 0 },
	};
	char *t;

	(void)state;
	s.apis = fx_apis;
	s.n_apis = 2;
	s.server.api[3] = (struct ctl_api_stats){ .requests = 5, .errors = 1, .latency_ns = 2500000,
						  .latency_bucket = { [1] = 4, [5] = 1 } };
	s.huge[0] = (struct ctl_metrics_hugepages){ .size_kb = 2048, .total = 512, .free = 100 };
	s.huge[1] = (struct ctl_metrics_hugepages){ .size_kb = 1048576, .total = 0, .free = 0 };
	s.n_huge = 2;
	s.dpdk_heap_huge = 268435456;
	s.server.api[42].requests = 2;
	s.server.conn_open = 3;
	s.server.conn_accepted = 9;
	s.server.conn_rejected = 1;
	s.server.frames_too_large = 2;
	dp.drops[DP_DROP_no_rule] = 20;
	s.writers = w;
	s.n_writers = 1;
	s.dp = &dp;
	s.dp_parts = dpp;
	s.n_dp_parts = 1;
	s.parts = parts;
	s.n_parts = 2;
	s.groups = groups;
	s.n_groups = 2;
	s.groups_by_state[CTL_GROUP_STABLE] = 1;
	s.groups_by_state[CTL_GROUP_EMPTY] = 1;
	s.group_stats = (struct ctl_groups_stats){ .rebalances = 4, .members_expired = 1,
						   .commits = 9, .records_replayed = 12 };
	s.group_offsets_omitted = 5;
	t = render(&s);

	assert_line(t, "# HELP sluice_kafka_requests_total Kafka requests handled, by API.");
	assert_line(t, "# TYPE sluice_kafka_requests_total counter");
	assert_line(t, "sluice_kafka_requests_total{api=\"Metadata\"} 5");
	assert_line(t, "sluice_kafka_requests_total{api=\"ApiVersions\"} 0");
	assert_line(t, "sluice_kafka_requests_total{api=\"key_42\"} 2");
	assert_int_equal(count_prefix(t, "sluice_kafka_requests_total{"), 3);
	assert_line(t, "sluice_kafka_request_errors_total{api=\"Metadata\"} 1");
	assert_line(t, "# TYPE sluice_kafka_request_seconds histogram");
	assert_line(t, "sluice_kafka_request_seconds_bucket{api=\"Metadata\",le=\"5e-05\"} 0");
	assert_line(t, "sluice_kafka_request_seconds_bucket{api=\"Metadata\",le=\"0.0001\"} 4");
	assert_line(t, "sluice_kafka_request_seconds_bucket{api=\"Metadata\",le=\"0.001\"} 4");
	assert_line(t, "sluice_kafka_request_seconds_bucket{api=\"Metadata\",le=\"0.0025\"} 5");
	assert_line(t, "sluice_kafka_request_seconds_bucket{api=\"Metadata\",le=\"+Inf\"} 5");
	assert_line(t, "sluice_kafka_request_seconds_sum{api=\"Metadata\"} 0.002500000");
	assert_line(t, "sluice_kafka_request_seconds_count{api=\"Metadata\"} 5");
	assert_line(t, "sluice_kafka_request_seconds_count{api=\"key_42\"} 2");
	assert_int_equal(count_prefix(t, "sluice_kafka_request_seconds_bucket{api=\"Fetch\""), 0);
	assert_line(t, "# TYPE sluice_kafka_connections_active gauge");
	assert_line(t, "sluice_kafka_connections_active 3");
	assert_line(t, "sluice_kafka_connections_accepted_total 9");
	assert_line(t, "sluice_kafka_connections_rejected_total 1");
	assert_line(t, "sluice_kafka_connections_idle_closed_total 0");
	assert_line(t, "sluice_kafka_frames_too_large_total 2");

	assert_line(t, "# TYPE sluice_partition_log_start_offset gauge");
	assert_line(t, "sluice_partition_log_start_offset{topic=\"telemetry\",partition=\"0\"} 5");
	assert_line(t, "sluice_partition_log_end_offset{topic=\"telemetry\",partition=\"0\"} 42");
	assert_line(t, "sluice_partition_written_offset{topic=\"telemetry\",partition=\"0\"} 40");
	assert_line(t, "sluice_partition_durable_offset{topic=\"telemetry\",partition=\"0\"} 30");
	assert_line(t, "sluice_partition_records_in_total{topic=\"telemetry\",partition=\"0\"} 37");
	assert_line(t, "sluice_partition_bytes_in_total{topic=\"telemetry\",partition=\"0\"} 3700");
	assert_line(t, "sluice_partition_ring_full_total{topic=\"telemetry\",partition=\"0\"} 3");
	assert_line(t, "sluice_partition_records_out_total{topic=\"telemetry\",partition=\"0\"} 12");
	assert_line(t, "sluice_partition_bytes_out_total{topic=\"telemetry\",partition=\"0\"} 1200");
	assert_line(t, "sluice_partition_io_error{topic=\"telemetry\",partition=\"0\"} 0");
	assert_line(t, "sluice_partition_io_error{topic=\"we\\\"ird\",partition=\"1\"} 1");

	assert_line(t, "sluice_storage_writes_total{writer=\"0\"} 4");
	assert_line(t, "sluice_storage_write_bytes_total{writer=\"0\"} 4096");
	assert_line(t, "sluice_storage_io_errors_total{writer=\"0\"} 1");
	assert_line(t, "sluice_storage_io_error_heals_total{writer=\"0\"} 1");
	assert_line(t, "sluice_storage_fsync_seconds_bucket{writer=\"0\",le=\"0.0005\"} 0");
	assert_line(t, "sluice_storage_fsync_seconds_bucket{writer=\"0\",le=\"0.001\"} 3");
	assert_line(t, "sluice_storage_fsync_seconds_bucket{writer=\"0\",le=\"2.5\"} 3");
	assert_line(t, "sluice_storage_fsync_seconds_bucket{writer=\"0\",le=\"+Inf\"} 4");
	assert_line(t, "sluice_storage_fsync_seconds_sum{writer=\"0\"} 2.500000000");
	assert_line(t, "sluice_storage_fsync_seconds_count{writer=\"0\"} 4");
	assert_line(t, "# TYPE sluice_storage_writer_inflight_ops gauge");
	assert_line(t, "sluice_storage_writer_inflight_ops{writer=\"0\"} 3");
	assert_line(t, "# TYPE sluice_storage_writer_queue_bytes gauge");
	assert_line(t, "sluice_storage_writer_queue_bytes{writer=\"0\"} 65536");
	assert_line(t, "sluice_storage_rx_stamps_lost_total{writer=\"0\"} 6");
	assert_line(t, "# TYPE sluice_dataplane_receive_to_durable_seconds histogram");
	assert_line(t, "sluice_dataplane_receive_to_durable_seconds_bucket{writer=\"0\",le=\"0.001\"} 0");
	assert_line(t, "sluice_dataplane_receive_to_durable_seconds_bucket{writer=\"0\",le=\"0.0025\"} 2");
	assert_line(t, "sluice_dataplane_receive_to_durable_seconds_bucket{writer=\"0\",le=\"0.005\"} 2");
	assert_line(t, "sluice_dataplane_receive_to_durable_seconds_bucket{writer=\"0\",le=\"0.01\"} 7");
	assert_line(t, "sluice_dataplane_receive_to_durable_seconds_bucket{writer=\"0\",le=\"+Inf\"} 7");
	assert_line(t, "sluice_dataplane_receive_to_durable_seconds_sum{writer=\"0\"} 0.035000000");
	assert_line(t, "sluice_dataplane_receive_to_durable_seconds_count{writer=\"0\"} 7");
	assert_line(t, "# TYPE sluice_hugepages_total gauge");
	assert_line(t, "sluice_hugepages_total{size=\"2048kB\"} 512");
	assert_line(t, "sluice_hugepages_total{size=\"1048576kB\"} 0");
	assert_line(t, "sluice_hugepages_free{size=\"2048kB\"} 100");
	assert_line(t, "sluice_hugepage_bytes_used{pool=\"dpdk_heap\"} 268435456");
	assert_line(t, "sluice_hugepage_bytes_used{pool=\"partition_rings\"} 4194304");
	assert_line(t, "sluice_hugepage_bytes_used{pool=\"writer_staging\"} 2097152");
	assert_line(t, "sluice_build_info{version=\"" SLUICE_VERSION "\"} 1");

	assert_line(t, "sluice_dataplane_rx_packets_total 120");
	assert_line(t, "sluice_dataplane_rx_bytes_total 9000");
	assert_line(t, "sluice_dataplane_records_total{topic=\"telemetry\",partition=\"0\"} 77");
	assert_line(t, "# TYPE sluice_dataplane_drops_total counter");
	assert_line(t, "sluice_dataplane_drops_total{reason=\"no_rule\"} 20");
	assert_line(t, "sluice_dataplane_drops_total{reason=\"ring_full\"} 0");
	assert_int_equal(count_prefix(t, "sluice_dataplane_drops_total{"), DP_DROP__COUNT - 1);

	assert_line(t, "# HELP sluice_groups Consumer groups, by state.");
	assert_line(t, "# TYPE sluice_groups gauge");
	assert_line(t, "sluice_groups{state=\"Empty\"} 1");
	assert_line(t, "sluice_groups{state=\"PreparingRebalance\"} 0");
	assert_line(t, "sluice_groups{state=\"CompletingRebalance\"} 0");
	assert_line(t, "sluice_groups{state=\"Stable\"} 1");
	assert_line(t, "sluice_groups{state=\"Dead\"} 0");
	assert_line(t, "# TYPE sluice_group_rebalances_total counter");
	assert_line(t, "sluice_group_rebalances_total 4");
	assert_line(t, "sluice_group_members_expired_total 1");
	assert_line(t, "sluice_group_commits_total 9");
	assert_line(t, "sluice_group_offsets_expired_total 0");
	assert_line(t, "sluice_group_compactions_total 0");
	assert_line(t, "sluice_group_records_replayed_total 12");
	assert_line(t, "sluice_group_offsets_omitted 5");
	assert_line(t, "# TYPE sluice_group_members gauge");
	assert_line(t, "sluice_group_members{group=\"g1\"} 2");
	assert_line(t, "sluice_group_members{group=\"we\\\"i\\\\rd\\n\"} 0");
	assert_line(t, "sluice_group_generation{group=\"g1\"} 3");
	assert_line(t, "sluice_group_state{group=\"g1\",state=\"Stable\"} 1");
	assert_line(t, "sluice_group_state{group=\"g1\",state=\"Empty\"} 0");
	assert_line(t, "sluice_group_state{group=\"we\\\"i\\\\rd\\n\",state=\"Empty\"} 1");
	assert_int_equal(count_prefix(t, "sluice_group_state{"), 2 * CTL_GROUP_STATES);
	assert_line(t, "# TYPE sluice_group_committed_offset gauge");
	assert_line(t, "sluice_group_committed_offset{group=\"g1\",topic=\"telemetry\","
		       "partition=\"0\"} 30");
	assert_line(t, "sluice_group_committed_offset{group=\"g1\",topic=\"telemetry\","
		       "partition=\"1\"} 50");
	assert_line(t, "sluice_group_committed_offset{group=\"g1\",topic=\"gone\","
		       "partition=\"0\"} 7");
	assert_int_equal(count_prefix(t, "sluice_group_committed_offset{"), 3);
	assert_line(t, "# TYPE sluice_group_lag gauge");
	assert_line(t, "sluice_group_lag{group=\"g1\",topic=\"telemetry\",partition=\"0\"} 12");
	assert_line(t, "sluice_group_lag{group=\"g1\",topic=\"telemetry\",partition=\"1\"} 0");
	assert_int_equal(count_prefix(t, "sluice_group_lag{"), 2);
	assert_line(t, "sluice_group_lag_sum{group=\"g1\",topic=\"telemetry\"} 12");
	assert_int_equal(count_prefix(t, "sluice_group_lag_sum{"), 1);
	assert_families_declared(t);
	free(t);
}

/* ---- a catalog whose partitions are plain structs ---------------------------- */

static struct st_partition fake_parts[4];

static int fake_open(void *arg, const struct ctl_topic *t, struct ctl_partition *p)
{
	struct st_partition *sp = &fake_parts[p->index];

	(void)arg;
	(void)t;
	memset(sp, 0, sizeof(*sp));
	atomic_init(&sp->written, 10 + p->index);
	atomic_init(&sp->flushed, 10 + p->index);
	atomic_init(&sp->durable, 8 + p->index);
	atomic_init(&sp->log_start, p->index);
	atomic_init(&sp->err, 0);
	sp->next_offset = 20 + p->index;
	sp->pstats.records = 100 + (uint64_t)p->index;
	p->store = sp;
	return 0;
}

static const struct ctl_catalog_ops fake_ops = { .partition_open = fake_open };

struct fx {
	struct fwc_config cfg;
	struct ctl_catalog *cat;
	struct ctl_server *srv;
	struct ctl_metrics *m;
	pthread_t thr;
};

static enum ctl_disp no_dispatch(void *arg, const uint8_t *frame, size_t len,
				 struct ctl_resp *resp)
{
	(void)arg;
	(void)frame;
	(void)len;
	(void)resp;
	return CTL_DISP_CLOSE;
}

static struct fx *fx_catalog(void)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct ctl_topic_spec spec = { "events", 6, 3, NULL, 0, false };
	char msg[128];

	assert_non_null(f);
	fwc_config_defaults(&f->cfg);
	f->cfg.broker.log_dirs[0] = '\0';   /* nothing persisted */
	assert_int_equal(ctl_catalog_create(&f->cfg, &fake_ops, NULL, &f->cat), 0);
	assert_int_equal(ctl_catalog_topic_create(f->cat, &spec, false, NULL, msg, sizeof(msg)),
			 KP_ERR_NONE);
	return f;
}

static void test_ctl_metrics_snapshot_of_catalog(void **state)
{
	struct fx *f = fx_catalog();
	struct ctl_metrics_params p = { .cat = f->cat };
	struct ctl_metrics_snap *s;
	char *t;

	(void)state;
	ctl_catalog_find(f->cat, "events", 6)->partitions[2].stats.bytes_out = 512;
	s = ctl_metrics_snap_take(&p);
	assert_non_null(s);
	assert_int_equal(s->n_parts, 3);
	assert_string_equal(s->parts[1].topic, "events");
	assert_int_equal(s->parts[1].log_end, 21);
	assert_int_equal(s->parts[2].durable, 10);
	assert_int_equal(s->parts[2].bytes_out, 512);
	assert_int_equal(s->n_writers, 0);
	t = render(s);
	ctl_metrics_snap_free(s);
	assert_line(t, "sluice_partition_log_start_offset{topic=\"events\",partition=\"2\"} 2");
	assert_line(t, "sluice_partition_written_offset{topic=\"events\",partition=\"0\"} 10");
	assert_line(t, "sluice_partition_records_in_total{topic=\"events\",partition=\"1\"} 101");
	assert_line(t, "sluice_partition_bytes_out_total{topic=\"events\",partition=\"2\"} 512");
	assert_line(t, "sluice_dataplane_drops_total{reason=\"no_rule\"} 0");
	/* Every advertised API has its series, at zero. */
	assert_line(t, "sluice_kafka_requests_total{api=\"ApiVersions\"} 0");
	assert_families_declared(t);
	free(t);
	ctl_catalog_destroy(f->cat);
	free(f);
}

/* ---- over HTTP ------------------------------------------------------------------ */

static void *loop_thread(void *arg)
{
	ctl_server_run(arg);
	return NULL;
}

/* GET @path with HTTP/1.0; @return the whole response (status line included). */
static char *http_get(uint16_t port, const char *method, const char *path)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap), req[256];
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ssize_t n;

	assert_non_null(buf);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: localhost\r\n\r\n", method, path);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (len + 1 == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

static void test_ctl_metrics_http_get(void **state)
{
	struct fx *f = fx_catalog();
	struct ctl_server_params sp = { .broker = &f->cfg.broker, .dispatch = no_dispatch };
	struct ctl_metrics_params mp = { .listener = "127.0.0.1:0" };
	char *r;

	(void)state;
	strcpy(f->cfg.broker.listeners[0], "PLAINTEXT://127.0.0.1:0");
	assert_int_equal(ctl_server_create(&sp, &f->srv), 0);
	mp.srv = f->srv;
	mp.cat = f->cat;
	assert_int_equal(ctl_metrics_create(&mp, &f->m), 0);
	assert_non_null(f->m);
	assert_int_not_equal(ctl_metrics_port(f->m), 0);
	assert_int_equal(pthread_create(&f->thr, NULL, loop_thread, f->srv), 0);

	r = http_get(ctl_metrics_port(f->m), "GET", "/metrics");
	assert_non_null(strstr(r, "HTTP/1.0 200") ? r : strstr(r, "HTTP/1.1 200"));
	assert_non_null(strstr(r, "Content-Type: text/plain; version=0.0.4"));
	assert_non_null(strstr(r, "\nsluice_partition_log_end_offset{topic=\"events\","
				  "partition=\"2\"} 22\n"));
	free(r);
	r = http_get(ctl_metrics_port(f->m), "GET", "/nothing");
	assert_non_null(strstr(r, " 404 "));
	free(r);
	r = http_get(ctl_metrics_port(f->m), "POST", "/metrics");
	assert_non_null(strstr(r, " 405 "));
	free(r);

	ctl_server_stop(f->srv);
	pthread_join(f->thr, NULL);
	ctl_metrics_destroy(f->m);
	ctl_server_destroy(f->srv);
	ctl_catalog_destroy(f->cat);
	free(f);
}

/* ---- consumer groups: the real coordinator on real storage ------------------------ */

struct gfx {
	struct kd_fx k;
	struct ctl_groups *gs;
	struct ctl_metrics *m;
	int fd;
	char member[128];               /* the id JoinGroup gave */
};

#define WEIRD "we\"ird\\g\n"            /* a group id that needs every escape */
#define WEIRD_LABEL "we\\\"ird\\\\g\\n"

static struct gfx *gfx_up(void)
{
	struct gfx *f = calloc(1, sizeof(*f));
	struct ctl_server_params sp = { .dispatch = kp_api_serve };
	struct ctl_metrics_params mp = { .listener = "127.0.0.1:0" };
	struct ctl_topic_spec t = { "t", 1, 2, NULL, 0, false };
	struct ctl_topic_spec gone = { "gone", 4, 1, NULL, 0, false };
	char msg[256];

	assert_non_null(f);
	kd_config(&f->k, "test_ctl_metrics");
	f->k.cfg.broker.log_flush_interval_ms = 5;
	f->k.cfg.broker.offsets_topic_num_partitions = 1;
	f->k.cfg.broker.group_initial_rebalance_delay_ms = 0;
	kd_start(&f->k);
	assert_int_equal(ctl_catalog_topic_create(f->k.cat, &t, false, NULL, msg, sizeof(msg)), 0);
	assert_int_equal(ctl_catalog_topic_create(f->k.cat, &gone, false, NULL, msg, sizeof(msg)),
			 0);
	assert_int_equal(ctl_groups_create(f->k.cat, &f->k.cfg, &f->gs), 0);
	f->k.ctx.groups = f->gs;
	sp.broker = &f->k.cfg.broker;
	sp.dispatch_arg = &f->k.ctx;
	assert_int_equal(ctl_server_create(&sp, &f->k.srv), 0);
	assert_int_equal(ctl_groups_start(f->gs, f->k.srv), 0);
	ctl_store_set_server(f->k.store, f->k.srv);
	mp.srv = f->k.srv;
	mp.cat = f->k.cat;
	mp.store = f->k.store;
	mp.groups = f->gs;
	assert_int_equal(ctl_metrics_create(&mp, &f->m), 0);
	assert_int_equal(pthread_create(&f->k.thr, NULL, kd_loop_thread, &f->k), 0);
	f->fd = kd_client(&f->k);
	return f;
}

/* Stop the loop (the test thread may then read the groups), keep everything else. */
static void gfx_stop_loop(struct gfx *f)
{
	close(f->fd);
	ctl_server_stop(f->k.srv);
	pthread_join(f->k.thr, NULL);
	ctl_metrics_destroy(f->m);      /* after the loop, before the server: as sluiced */
}

static void gfx_down(struct gfx *f)
{
	ctl_store_set_server(f->k.store, NULL);
	ctl_server_destroy(f->k.srv);
	f->k.srv = NULL;
	ctl_groups_destroy(f->gs);
	kd_down(&f->k);
	kd_remove_dir(&f->k);
	free(f);
}

static int16_t be16_at(const uint8_t *p)
{
	return (int16_t)(p[0] << 8 | p[1]);
}

/* Send @req, read its answer (up to 30 s) into @r; @return its length. */
static size_t kafka_call(struct gfx *f, struct gb *req, uint8_t *r, size_t cap)
{
	size_t got = 0, need = 4;

	g_end(req);
	assert_int_equal(write(f->fd, req->b, req->n), (ssize_t)req->n);
	while (got < need) {
		struct pollfd pfd = { .fd = f->fd, .events = POLLIN };
		ssize_t k;

		assert_true(poll(&pfd, 1, 30000) > 0);
		k = read(f->fd, r + got, need - got);
		assert_true(k > 0);
		got += (size_t)k;
		if (got == 4) {
			need = 4 + ((size_t)r[0] << 24 | (size_t)r[1] << 16 | r[2] << 8 | r[3]);
			assert_true(need <= cap);
		}
	}
	return got;
}

/* Produce v3, acks=all: @n one-record batches to @topic/@partition. */
static void produce_n(struct gfx *f, const char *topic, int32_t partition, int n)
{
	uint8_t r[1024];

	for (int i = 0; i < n; i++) {
		struct gb req;

		g_req(&req, 0, 3, 1);
		g_str(&req, NULL);                      /* transactional_id */
		g_i16(&req, -1);                        /* acks */
		g_i32(&req, 30000);                     /* timeout_ms */
		g_i32(&req, 1);                         /* topics */
		g_str(&req, topic);
		g_i32(&req, 1);                         /* partitions */
		g_i32(&req, partition);                 /* index */
		g_i32(&req, G_BATCH_LEN);               /* records */
		g_batch(&req, 0, -1, 1700000000000LL, false);
		kafka_call(f, &req, r, sizeof(r));
		/* size, corr, topics, name, partitions, index, then error_code */
		assert_int_equal(be16_at(r + 4 + 4 + 4 + 2 + strlen(topic) + 4 + 4), 0);
	}
}

/* JoinGroup v0 and SyncGroup v0 of "g1": one member, Stable in generation 1. */
static void join_and_sync(struct gfx *f)
{
	static const uint8_t meta[] = { 0, 0, 0, 0, 0, 1, 0, 1, 't', 0xff, 0xff, 0xff, 0xff };
	uint8_t r[4096];
	size_t pos = 4 + 4 + 2 + 4;                     /* size, corr, error_code, generation */
	struct gb req;

	g_req(&req, 11, 0, 2);
	g_str(&req, "g1");                              /* group_id */
	g_i32(&req, 30000);                             /* session_timeout_ms */
	g_str(&req, "");                                /* member_id */
	g_str(&req, "consumer");                        /* protocol_type */
	g_i32(&req, 1);                                 /* protocols */
	g_str(&req, "range");
	g_i32(&req, sizeof(meta));                      /* metadata: subscription to "t" */
	g_raw(&req, meta, sizeof(meta));
	kafka_call(f, &req, r, sizeof(r));
	assert_int_equal(be16_at(r + 8), 0);
	pos += 2 + (size_t)be16_at(r + pos);            /* protocol_name */
	pos += 2 + (size_t)be16_at(r + pos);            /* leader */
	assert_true(be16_at(r + pos) > 0 && (size_t)be16_at(r + pos) < sizeof(f->member));
	memcpy(f->member, r + pos + 2, (size_t)be16_at(r + pos));

	g_req(&req, 14, 0, 3);
	g_str(&req, "g1");                              /* group_id */
	g_i32(&req, 1);                                 /* generation_id */
	g_str(&req, f->member);                         /* member_id */
	g_i32(&req, 1);                                 /* assignments */
	g_str(&req, f->member);
	g_i32(&req, 0);                                 /* assignment: empty */
	kafka_call(f, &req, r, sizeof(r));
	assert_int_equal(be16_at(r + 8), 0);
}

/* OffsetCommit v2 of @n partitions of @topic (@parts, @offs); every partition error 0. */
static void commit(struct gfx *f, const char *group, int32_t generation, const char *member,
		   const char *topic, int n, const int32_t *parts, const int64_t *offs)
{
	uint8_t r[4096];
	size_t pos = 4 + 4 + 4 + 2 + strlen(topic) + 4; /* size, corr, topics, name, partitions */
	struct gb req;

	g_req(&req, 8, 2, 4);
	g_str(&req, group);                             /* group_id */
	g_i32(&req, generation);                        /* generation_id */
	g_str(&req, member);                            /* member_id */
	g_i64(&req, -1);                                /* retention_time_ms */
	g_i32(&req, 1);                                 /* topics */
	g_str(&req, topic);
	g_i32(&req, n);                                 /* partitions */
	for (int i = 0; i < n; i++) {
		g_i32(&req, parts[i]);                  /* partition_index */
		g_i64(&req, offs[i]);                   /* committed_offset */
		g_str(&req, "");                        /* committed_metadata */
	}
	kafka_call(f, &req, r, sizeof(r));
	for (int i = 0; i < n; i++, pos += 6)
		assert_int_equal(be16_at(r + pos + 4), 0);
}

static void delete_topic(struct gfx *f, const char *topic)
{
	uint8_t r[1024];
	struct gb req;

	g_req_delete_topics(&req, 5, topic);
	kafka_call(f, &req, r, sizeof(r));
	/* size, corr, throttle_time_ms, responses, name, then error_code */
	assert_int_equal(be16_at(r + 4 + 4 + 4 + 4 + 2 + strlen(topic)), 0);
}

static void test_ctl_metrics_groups_of_the_coordinator(void **state)
{
	static const int32_t p01[] = { 0, 1 }, p1[] = { 1 }, p0[] = { 0 };
	static const int64_t g1_offs[] = { 1, 1 }, past[] = { 7 }, three[] = { 3 };
	struct gfx *f = gfx_up();
	char *r;

	(void)state;
	produce_n(f, "t", 0, 3);                        /* high watermarks 3 and 1 */
	produce_n(f, "t", 1, 1);
	join_and_sync(f);
	commit(f, "g1", 1, f->member, "t", 2, p01, g1_offs);
	commit(f, WEIRD, -1, "", "t", 1, p1, past);     /* a simple consumer, past the end */
	commit(f, WEIRD, -1, "", "gone", 1, p0, three);
	delete_topic(f, "gone");

	r = http_get(ctl_metrics_port(f->m), "GET", "/metrics");
	assert_non_null(strstr(r, " 200 "));
	assert_line(r, "sluice_groups{state=\"Empty\"} 1");
	assert_line(r, "sluice_groups{state=\"PreparingRebalance\"} 0");
	assert_line(r, "sluice_groups{state=\"CompletingRebalance\"} 0");
	assert_line(r, "sluice_groups{state=\"Stable\"} 1");
	assert_line(r, "sluice_groups{state=\"Dead\"} 0");
	assert_line(r, "sluice_group_rebalances_total 1");
	assert_line(r, "sluice_group_commits_total 4");
	assert_line(r, "sluice_group_offsets_omitted 0");
	assert_line(r, "sluice_group_members{group=\"g1\"} 1");
	assert_line(r, "sluice_group_members{group=\"" WEIRD_LABEL "\"} 0");
	assert_line(r, "sluice_group_generation{group=\"g1\"} 1");
	assert_line(r, "sluice_group_state{group=\"g1\",state=\"Stable\"} 1");
	assert_line(r, "sluice_group_state{group=\"g1\",state=\"CompletingRebalance\"} 0");
	assert_line(r, "sluice_group_state{group=\"" WEIRD_LABEL "\",state=\"Empty\"} 1");
	/* g1: two committed partitions, log ends 3 and 1. */
	assert_line(r, "sluice_group_committed_offset{group=\"g1\",topic=\"t\",partition=\"0\"} 1");
	assert_line(r, "sluice_group_committed_offset{group=\"g1\",topic=\"t\",partition=\"1\"} 1");
	assert_line(r, "sluice_group_lag{group=\"g1\",topic=\"t\",partition=\"0\"} 2");
	assert_line(r, "sluice_group_lag{group=\"g1\",topic=\"t\",partition=\"1\"} 0");
	assert_line(r, "sluice_group_lag_sum{group=\"g1\",topic=\"t\"} 2");
	/* Past the end: lag 0; a deleted topic: its committed offset, no lag. */
	assert_line(r, "sluice_group_committed_offset{group=\"" WEIRD_LABEL "\",topic=\"t\","
		       "partition=\"1\"} 7");
	assert_line(r, "sluice_group_lag{group=\"" WEIRD_LABEL "\",topic=\"t\",partition=\"1\"} 0");
	assert_line(r, "sluice_group_committed_offset{group=\"" WEIRD_LABEL "\",topic=\"gone\","
		       "partition=\"0\"} 3");
	assert_int_equal(count_prefix(r, "sluice_group_committed_offset{"), 4);
	assert_int_equal(count_prefix(r, "sluice_group_lag{"), 3);
	assert_int_equal(count_prefix(r, "sluice_group_lag_sum{"), 2);
	free(r);
	gfx_stop_loop(f);

	/* The loop is stopped: this thread may take snapshots itself. */
	{
		struct ctl_metrics_params p = { .cat = f->k.cat, .store = f->k.store,
						.groups = f->gs, .max_group_offsets = 3 };
		struct ctl_metrics_snap *s = ctl_metrics_snap_take(&p);
		char *t;

		assert_non_null(s);
		assert_int_equal(s->n_groups, 2);
		assert_int_equal(s->groups[0].n_offsets, 2);    /* g1 fits */
		assert_int_equal(s->groups[1].n_offsets, 0);    /* 2 more do not: none of them */
		assert_int_equal(s->group_offsets_omitted, 2);
		assert_false(s->groups_nomem);
		t = render(s);
		ctl_metrics_snap_free(s);
		assert_line(t, "sluice_group_offsets_omitted 2");
		assert_line(t, "sluice_group_members{group=\"" WEIRD_LABEL "\"} 0");
		assert_int_equal(count_prefix(t, "sluice_group_committed_offset{"), 2);
		assert_families_declared(t);
		free(t);
	}
	/* Without a coordinator: the counts and counters at zero, no group series. */
	{
		struct ctl_metrics_params p = { .cat = f->k.cat };
		struct ctl_metrics_snap *s = ctl_metrics_snap_take(&p);
		char *t;

		assert_non_null(s);
		t = render(s);
		ctl_metrics_snap_free(s);
		assert_line(t, "sluice_groups{state=\"Stable\"} 0");
		assert_line(t, "sluice_group_commits_total 0");
		assert_int_equal(count_prefix(t, "sluice_group_members{"), 0);
		free(t);
	}
	gfx_down(f);
}

static void test_ctl_metrics_listener_off_and_bad(void **state)
{
	struct ctl_metrics_params p = { .listener = "" };
	struct ctl_metrics *m = (struct ctl_metrics *)&p;

	(void)state;
	assert_int_equal(ctl_metrics_create(&p, &m), 0);
	assert_null(m);
	p.listener = "127.0.0.1";
	assert_int_equal(ctl_metrics_create(&p, &m), -EINVAL);
	p.listener = "no-such-host.invalid:9644";
	assert_int_equal(ctl_metrics_create(&p, &m), -EADDRNOTAVAIL);
	ctl_metrics_destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ctl_metrics_render_fixture),
		cmocka_unit_test(test_ctl_metrics_snapshot_of_catalog),
		cmocka_unit_test(test_ctl_metrics_http_get),
		cmocka_unit_test(test_ctl_metrics_groups_of_the_coordinator),
		cmocka_unit_test(test_ctl_metrics_listener_off_and_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
