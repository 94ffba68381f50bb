/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The metrics endpoint: the text rendering of a small fixture line by line,
 * a snapshot taken from a catalog whose partitions are plain st_partition
 * structs, and GET /metrics over HTTP through the control loop (a real
 * ctl_server running in a thread answers the snapshot request).
 */
#include <errno.h>
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

#include "ctl_catalog.h"
#include "ctl_metrics.h"
#include "ctl_server.h"
#include "dp_stats.h"
#include "fwc_config.h"
#include "kp_api.h"
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
					  .rolls = 1, .io_errors = 1 } };
	struct dp_stats dp = { .rx_packets = 120, .rx_bytes = 9000, .stored = 100 };
	struct ctl_metrics_dp_part dpp[1] = { { "telemetry", 0, 77 } };
	struct ctl_metrics_part parts[2] = {
		{ .topic = "telemetry", .partition = 0, .log_start = 5, .log_end = 42, .written = 40,
		  .flushed = 40, .durable = 30, .records_in = 37, .bytes_in = 3700, .ring_full = 3,
		  .records_out = 12, .bytes_out = 1200 },
		{ .topic = "we\"ird", .partition = 1, .err = -ENOSPC },
	};
	char *t;

	(void)state;
	s.apis = fx_apis;
	s.n_apis = 2;
	s.server.api[3] = (struct ctl_api_stats){ .requests = 5, .errors = 1, .latency_ns = 2500000 };
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
	t = render(&s);

	assert_line(t, "# HELP sluice_kafka_requests_total Kafka requests handled, by API.");
	assert_line(t, "# TYPE sluice_kafka_requests_total counter");
	assert_line(t, "sluice_kafka_requests_total{api=\"Metadata\"} 5");
	assert_line(t, "sluice_kafka_requests_total{api=\"ApiVersions\"} 0");
	assert_line(t, "sluice_kafka_requests_total{api=\"key_42\"} 2");
	assert_int_equal(count_prefix(t, "sluice_kafka_requests_total{"), 3);
	assert_line(t, "sluice_kafka_request_errors_total{api=\"Metadata\"} 1");
	assert_line(t, "# TYPE sluice_kafka_request_seconds summary");
	assert_line(t, "sluice_kafka_request_seconds_sum{api=\"Metadata\"} 0.002500000");
	assert_line(t, "sluice_kafka_request_seconds_count{api=\"Metadata\"} 5");
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

	assert_line(t, "sluice_dataplane_rx_packets_total 120");
	assert_line(t, "sluice_dataplane_rx_bytes_total 9000");
	assert_line(t, "sluice_dataplane_records_total{topic=\"telemetry\",partition=\"0\"} 77");
	assert_line(t, "# TYPE sluice_dataplane_drops_total counter");
	assert_line(t, "sluice_dataplane_drops_total{reason=\"no_rule\"} 20");
	assert_line(t, "sluice_dataplane_drops_total{reason=\"ring_full\"} 0");
	assert_int_equal(count_prefix(t, "sluice_dataplane_drops_total{"), DP_DROP__COUNT - 1);
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
		cmocka_unit_test(test_ctl_metrics_listener_off_and_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
