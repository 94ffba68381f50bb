/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_config.c - parsing every key, --override, and dump round trips of
 * firmware-config (fwc_config.h).
 */
#include <arpa/inet.h>
#include <stdint.h>

#include "fwc_test.h"

static struct fwc_config *load_all_keys(struct capture *c)
{
	struct fwc_config *cfg = config_new();
	char path[PATH_MAX];

	source_path(path, sizeof(path), "tests/fwc/all-keys.yaml");
	if (fwc_config_load(cfg, path, &c->diag) != 0)
		capture_print(c);
	assert_int_equal(c->n, 0);
	return cfg;
}

static void test_config_defaults_values(void **state)
{
	struct fwc_config *cfg = config_new();

	(void)state;
	fwc_config_defaults(cfg);
	assert_int_equal(cfg->broker.n_listeners, 1);
	assert_string_equal(cfg->broker.listeners[0], "PLAINTEXT://127.0.0.1:9092");
	assert_int_equal(cfg->broker.message_max_bytes, 1048588);
	assert_int_equal(cfg->broker.fetch_max_bytes, 8388608);
	assert_true(cfg->broker.log_flush_interval_messages == INT64_MAX);
	assert_int_equal(cfg->broker.log_retention_bytes, -1);
	assert_int_equal(cfg->storage.ring_bytes, 8u << 20);
	assert_int_equal(cfg->storage.consumer_visibility, FWC_VISIBILITY_DURABLE);
	assert_int_equal(cfg->dataplane.burst_size, 32);
	assert_int_equal(cfg->dataplane.n_ports, 0);
	assert_int_equal(cfg->n_topics, 0);
	free(cfg);
}

static void check_broker(const struct fwc_broker *b)
{
	assert_int_equal(b->broker_id, 7);
	assert_int_equal(b->n_listeners, 2);
	assert_string_equal(b->listeners[0], "PLAINTEXT://0.0.0.0:19092");
	assert_string_equal(b->listeners[1], "INTERNAL://[::1]:19093");
	assert_string_equal(b->advertised_listeners, "PLAINTEXT://ingest.example:19092");
	assert_string_equal(b->listener_security_protocol_map, "INTERNAL:SASL_PLAINTEXT,PLAINTEXT:PLAINTEXT");
	assert_string_equal(b->log_dirs, "/var/lib/sluice");
	assert_int_equal(b->num_partitions, 3);
	assert_false(b->auto_create_topics_enable);
	assert_int_equal(b->message_max_bytes, 2097152);
	assert_int_equal(b->fetch_max_bytes, 4194304);
	assert_int_equal(b->log_segment_bytes, 536870912);
	assert_int_equal(b->log_roll_ms, 3600000);
	assert_int_equal(b->log_retention_ms, 86400000);
	assert_true(b->log_retention_bytes == 10737418240LL);
	assert_int_equal(b->log_retention_check_interval_ms, 60000);
	assert_int_equal(b->log_index_interval_bytes, 8192);
	assert_int_equal(b->log_index_size_max_bytes, 1048576);
	assert_int_equal(b->log_flush_interval_messages, 10000);
	assert_int_equal(b->log_flush_interval_ms, 20);
	assert_int_equal(b->socket_request_max_bytes, 52428800);
	assert_int_equal(b->max_connections, 128);
	assert_int_equal(b->connections_max_idle_ms, 300000);
	assert_int_equal(b->offsets_topic_num_partitions, 10);
	assert_int_equal(b->offsets_topic_segment_bytes, 1048576);
	assert_int_equal(b->offsets_retention_minutes, 60);
	assert_int_equal(b->offsets_retention_check_interval_ms, 30000);
	assert_int_equal(b->offset_metadata_max_bytes, 1024);
	assert_int_equal(b->group_initial_rebalance_delay_ms, 0);
	assert_int_equal(b->group_min_session_timeout_ms, 1000);
	assert_int_equal(b->group_max_session_timeout_ms, 600000);
	assert_int_equal(b->group_max_size, 500);
	assert_int_equal(b->group_max_count, 2000);
	assert_int_equal(b->max_broker_partitions, 900);
	assert_int_equal(b->producer_id_expiration_ms, 3600000);
	assert_string_equal(b->metrics_listener, "0.0.0.0:9700");
	assert_string_equal(b->ssl_certificate_location, "/etc/sluice/tls/server.pem");
	assert_string_equal(b->ssl_key_location, "/etc/sluice/tls/server.key");
	assert_string_equal(b->ssl_ca_location, "/etc/sluice/tls/ca.pem");
	assert_int_equal(b->ssl_client_auth, FWC_SSL_CLIENT_AUTH_REQUIRED);
	assert_int_equal(b->n_sasl_mechanisms, 2);
	assert_string_equal(b->sasl_enabled_mechanisms[0], "PLAIN");
	assert_string_equal(b->sasl_enabled_mechanisms[1], "SCRAM-SHA-512");
	assert_string_equal(b->sasl_credentials_location, "/etc/sluice/users");
	assert_int_equal(b->sasl_max_failed_logins_per_minute, 3);
	assert_string_equal(b->acls_location, "/etc/sluice/acls");
	assert_string_equal(b->super_users, "User:admin;User:ops");
	assert_true(b->allow_everyone_if_no_acl_found);
	assert_true(b->listeners_allow_insecure);
}

static void check_storage_control(const struct fwc_config *cfg)
{
	const struct fwc_storage *s = &cfg->storage;

	assert_int_equal(s->writer_threads, 2);
	assert_int_equal(s->n_writer_cpus, 2);
	assert_int_equal(s->writer_cpus[0], 0);
	assert_int_equal(s->writer_cpus[1], 1);
	assert_int_equal(s->ring_bytes, 16777216);
	assert_int_equal(s->hugepages, FWC_ON);
	assert_int_equal(s->direct_io, FWC_OFF);
	assert_int_equal(s->write_max_bytes, 262144);
	assert_int_equal(s->consumer_visibility, FWC_VISIBILITY_FLUSHED);
	assert_int_equal(s->producers_max, 4096);
	assert_int_equal(s->io_error_retry_ms, 250);
	assert_int_equal(cfg->control.cpu, 1);
}

static void check_dataplane(const struct fwc_dataplane *dp)
{
	const struct fwc_port *p = &dp->ports[0];

	assert_int_equal(dp->n_eal_args, 4);
	assert_string_equal(dp->eal_args[0], "--no-pci");
	assert_string_equal(dp->eal_args[1], "--vdev=net_null0,size=64");
	assert_string_equal(dp->eal_args[2], "-m");
	assert_string_equal(dp->eal_args[3], "256");
	assert_true(dp->exclusive_lcores);
	assert_int_equal(dp->burst_size, 64);
	assert_int_equal(dp->frag_table_entries, 1024);
	assert_int_equal(dp->frag_timeout_ms, 500);
	assert_int_equal(dp->n_ports, 1);
	assert_string_equal(p->name, "p0");
	assert_string_equal(p->device, "0000:03:00.0");
	assert_int_equal(p->rx_queues, 2);
	assert_int_equal(p->rx_descriptors, 2048);
	assert_int_equal(p->n_rx_lcores, 2);
	assert_int_equal(p->rx_lcores[0], 2);
	assert_int_equal(p->rx_lcores[1], 3);
	assert_int_equal(p->rx_lcores[2], -1);
	assert_false(p->promiscuous);
	assert_int_equal(p->mbufs, 65536);
	assert_int_equal(p->rx_timestamp, FWC_RX_TS_SOFTWARE);
	assert_int_equal(p->origin.line, 73);
	assert_int_equal(p->lcores_origin.line, 77);
}

static void check_topic(const struct fwc_config *cfg)
{
	static const char *const cfgs[][2] = {
		{ "retention.ms", "3600000" }, { "retention.bytes", "1073741824" },
		{ "segment.bytes", "104857600" }, { "segment.ms", "600000" },
		{ "max.message.bytes", "524288" }, { "cleanup.policy", "delete" },
		{ "message.timestamp.type", "LogAppendTime" }, { "index.interval.bytes", "1024" },
		{ "segment.index.bytes", "65536" }, { "flush.messages", "100" }, { "flush.ms", "10" },
	};
	const struct fwc_topic *t = fwc_config_topic(cfg, "all.keys");
	const struct fwc_rule *r;
	uint8_t a4[4], a6[16];

	assert_non_null(t);
	assert_int_equal(t->partitions, 6);
	assert_int_equal(t->n_configs, 11);
	for (unsigned int i = 0; i < 11; i++) {
		assert_string_equal(t->configs[i].name, cfgs[i][0]);
		assert_string_equal(t->configs[i].value, cfgs[i][1]);
	}
	assert_int_equal(t->n_rules, 2);
	r = &t->rules[0];
	inet_pton(AF_INET, "239.0.0.1", a4);
	assert_int_equal(r->udp_port, 6000);
	assert_true(r->has_address);
	assert_int_equal(r->address_family, AF_INET);
	assert_memory_equal(r->address, a4, 4);
	assert_int_equal(r->vlan, 42);
	assert_int_equal(r->mode, FWC_MODE_PRODUCE);
	assert_int_equal(r->key, FWC_KEY_SOURCE);
	assert_int_equal(r->headers, FWC_HDR_ADDRESSES);
	assert_int_equal(r->batch_size, 65536);
	assert_int_equal(r->linger_ms, 50);
	r = &t->rules[1];
	inet_pton(AF_INET6, "ff15::1", a6);
	assert_int_equal(r->address_family, AF_INET6);
	assert_memory_equal(r->address, a6, 16);
	assert_int_equal(r->vlan, -1);
	assert_int_equal(r->mode, FWC_MODE_TAP);
	assert_int_equal(r->headers, 0);
	t = fwc_config_topic(cfg, "inherits_partitions");
	assert_non_null(t);
	assert_int_equal(t->partitions, 3);     /* broker num.partitions */
	assert_null(fwc_config_topic(cfg, "nope"));
}

static void test_config_all_keys_parsed(void **state)
{
	struct capture *c = capture_new();
	struct fwc_config *cfg = load_all_keys(c);

	(void)state;
	check_broker(&cfg->broker);
	check_storage_control(cfg);
	check_dataplane(&cfg->dataplane);
	check_topic(cfg);
	assert_int_equal(fwc_config_validate(cfg, 8, &c->diag), 0);
	free(cfg);
	free(c);
}

/* The dump lists every table key: each must be in the fixture and the docs. */
static void test_config_every_key_in_fixture_and_docs(void **state)
{
	struct capture *c = capture_new();
	struct fwc_config *cfg = load_all_keys(c);
	char path[PATH_MAX], *docs, *fixture, *body = dump_body(cfg), *save = NULL;
	char needle[128];
	unsigned int n = 0;

	(void)state;
	source_path(path, sizeof(path), "docs/configuration.md");
	docs = read_text(path);
	assert_non_null(docs);
	source_path(path, sizeof(path), "tests/fwc/all-keys.yaml");
	fixture = read_text(path);
	assert_non_null(fixture);
	for (char *line = strtok_r(body, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *k = line + strspn(line, " -"), *colon = strstr(k, ": ");

		if (!colon || *k == '#')
			continue;
		*colon = '\0';
		snprintf(needle, sizeof(needle), "%s:", k);
		if (!strstr(fixture, needle))
			fail_msg("key %s is not in tests/fwc/all-keys.yaml", k);
		snprintf(needle, sizeof(needle), "%s`", k);
		if (!strstr(docs, needle))
			fail_msg("key %s is not documented in docs/configuration.md", k);
		n++;
	}
	assert_true(n > 60);
	free(body);
	free(docs);
	free(fixture);
	free(cfg);
	free(c);
}

static void test_config_scalars_and_lists_forms(void **state)
{
	struct capture *c = capture_new();
	struct fwc_config *cfg = config_new();

	(void)state;
	assert_int_equal(load_str(cfg, "broker:\n"
				  "  listeners: PLAINTEXT://a:1,SSL://b:2\n"
				  "  auto.create.topics.enable: False\n"
				  "storage:\n  writer.cpus: 1\n"
				  "dataplane:\n  eal: --no-pci  --in-memory\n", c), 0);
	assert_int_equal(cfg->broker.n_listeners, 2);
	assert_string_equal(cfg->broker.listeners[1], "SSL://b:2");
	assert_false(cfg->broker.auto_create_topics_enable);
	assert_int_equal(cfg->storage.n_writer_cpus, 1);
	assert_int_equal(cfg->storage.writer_cpus[0], 1);
	assert_int_equal(cfg->dataplane.n_eal_args, 2);
	assert_string_equal(cfg->dataplane.eal_args[1], "--in-memory");
	assert_string_equal(cfg->path, "t.yaml");
	free(cfg);
	free(c);
}

static void test_config_override_precedence(void **state)
{
	struct capture *c = capture_new();
	struct fwc_config *cfg = load_all_keys(c);

	(void)state;
	assert_int_equal(fwc_config_override(cfg, "log.retention.ms=60000", 1, &c->diag), 0);
	assert_int_equal(fwc_config_override(cfg, "broker.log.roll.ms=1000", 2, &c->diag), 0);
	assert_int_equal(fwc_config_override(cfg, "storage.consumer.visibility=written", 3,
					     &c->diag), 0);
	assert_int_equal(fwc_config_override(cfg, "control.cpu=-1", 4, &c->diag), 0);
	assert_int_equal(fwc_config_override(cfg, "dataplane.burst.size=128", 5, &c->diag), 0);
	/* Kafka's own name, starting with the section's: the bare key and the qualified one. */
	assert_int_equal(fwc_config_override(cfg, "broker.id=7", 6, &c->diag), 0);
	assert_int_equal(cfg->broker.broker_id, 7);
	assert_int_equal(fwc_config_override(cfg, "broker.broker.id=8", 7, &c->diag), 0);
	assert_int_equal(cfg->broker.broker_id, 8);
	assert_int_equal(cfg->broker.log_retention_ms, 60000);
	assert_int_equal(cfg->broker.log_roll_ms, 1000);
	assert_int_equal(cfg->storage.consumer_visibility, FWC_VISIBILITY_WRITTEN);
	assert_int_equal(cfg->control.cpu, -1);
	assert_string_equal(cfg->control.origin.file, "--override");
	assert_int_equal(cfg->control.origin.line, 4);
	assert_int_equal(cfg->dataplane.burst_size, 128);
	assert_int_equal(c->n, 0);
	free(cfg);
	free(c);
}

static void test_config_override_elements(void **state)
{
	struct capture *c = capture_new();
	struct fwc_config *cfg = load_all_keys(c);
	const struct fwc_topic *t = fwc_config_topic(cfg, "all.keys");

	(void)state;
	assert_int_equal(fwc_config_override(cfg, "dataplane.ports.p0.rx.queues=4", 1, &c->diag), 0);
	assert_int_equal(fwc_config_override(cfg, "dataplane.ports.p0.rx.lcores=[2, 3, 4, 5]", 2,
					     &c->diag), 0);
	assert_int_equal(fwc_config_override(cfg, "dataplane.ports.0.promiscuous=true", 3, &c->diag), 0);
	assert_int_equal(fwc_config_override(cfg, "topics.all.keys.partitions=9", 4, &c->diag), 0);
	assert_int_equal(fwc_config_override(cfg, "topics.all.keys.configs.retention.ms=5", 5,
					     &c->diag), 0);
	assert_int_equal(fwc_config_override(cfg, "topics.all.keys.rules.1.udp.port=7000", 6,
					     &c->diag), 0);
	assert_int_equal(fwc_config_override(cfg, "topics.all.keys.rules.1.headers=addresses", 7,
					     &c->diag), 0);
	assert_int_equal(c->n, 0);
	assert_int_equal(cfg->dataplane.ports[0].rx_queues, 4);
	assert_int_equal(cfg->dataplane.ports[0].n_rx_lcores, 4);
	assert_int_equal(cfg->dataplane.ports[0].rx_lcores[3], 5);
	assert_int_equal(cfg->dataplane.ports[0].lcores_origin.line, 2);
	assert_true(cfg->dataplane.ports[0].promiscuous);
	assert_int_equal(t->partitions, 9);
	assert_int_equal(t->n_configs, 11);
	assert_string_equal(t->configs[0].value, "5");
	assert_int_equal(t->rules[1].udp_port, 7000);
	assert_int_equal(t->rules[1].headers, FWC_HDR_ADDRESSES);
	assert_int_equal(fwc_config_validate(cfg, 8, &c->diag), 0);
	free(cfg);
	free(c);
}

static void test_config_override_lists_and_inherited_partitions(void **state)
{
	struct capture *c = capture_new();
	struct fwc_config *cfg = load_all_keys(c);

	(void)state;
	assert_int_equal(fwc_config_override(cfg, "dataplane.eal=[--no-pci, \"--vdev=net_pcap0,"
					     "rx_pcap=a.pcap\"]", 1, &c->diag), 0);
	assert_int_equal(fwc_config_override(cfg, "storage.writer.cpus=1, 0", 2, &c->diag), 0);
	assert_int_equal(fwc_config_override(cfg, "listeners=PLAINTEXT://:9092", 3, &c->diag), 0);
	assert_int_equal(fwc_config_override(cfg, "num.partitions=5", 4, &c->diag), 0);
	assert_int_equal(fwc_config_override(cfg, "storage.writer.cpus=[]", 5, &c->diag), 0);
	assert_int_equal(c->n, 0);
	assert_int_equal(cfg->dataplane.n_eal_args, 2);
	assert_string_equal(cfg->dataplane.eal_args[1], "--vdev=net_pcap0,rx_pcap=a.pcap");
	assert_int_equal(cfg->broker.n_listeners, 1);
	assert_string_equal(cfg->broker.listeners[0], "PLAINTEXT://:9092");
	assert_int_equal(cfg->storage.n_writer_cpus, 0);
	assert_int_equal(fwc_config_topic(cfg, "inherits_partitions")->partitions, 5);
	assert_int_equal(fwc_config_topic(cfg, "all.keys")->partitions, 6);
	free(cfg);
	free(c);
}

static void test_config_override_errors(void **state)
{
	struct capture *c = capture_new();
	struct fwc_config *cfg = load_all_keys(c);

	(void)state;
	assert_int_equal(fwc_config_override(cfg, "log.retention.ms=soon", 1, &c->diag), -EINVAL);
	assert_int_equal(fwc_config_override(cfg, "log.retention.hours=1", 2, &c->diag), -EINVAL);
	assert_int_equal(fwc_config_override(cfg, "storage.ring.bytes", 3, &c->diag), -EINVAL);
	assert_int_equal(fwc_config_override(cfg, "dataplane.ports.p9.mbufs=1", 4, &c->diag), -EINVAL);
	assert_int_equal(fwc_config_override(cfg, "topics.all.keys.rules.5.vlan=1", 5, &c->diag),
			 -EINVAL);
	assert_int_equal(fwc_config_override(cfg, "topics.all.keys.configs.cleanup.policy=compact", 6,
					     &c->diag), -EINVAL);
	assert_int_equal(fwc_config_override(cfg, "dataplane.burst.size=0", 7, &c->diag), -EINVAL);
	assert_int_equal(fwc_config_override(cfg, "dataplane.eal=[a, [b]]", 8, &c->diag), -EINVAL);
	assert_reported(c, "--override:1: log.retention.ms: expected an integer (got \"soon\")");
	assert_reported(c, "--override:2: log.retention.hours: unknown key");
	assert_reported(c, "--override:3: storage.ring.bytes: expected KEY=VALUE");
	assert_reported(c, "--override:4: dataplane.ports.p9.mbufs: no port named \"p9\" "
			"(--override cannot add ports)");
	assert_reported(c, "--override:5: topics.all.keys.rules.5.vlan: no such rule (topic all.keys has 2)");
	assert_reported(c, "--override:6: topics.all.keys.configs.cleanup.policy: expected one of: "
			"delete (got \"compact\")");
	assert_reported(c, "--override:7: dataplane.burst.size: must be between 1 and 512 (got 0)");
	assert_reported(c, "--override:8: dataplane.eal: expected a list of plain values");
	assert_errors(c, 8);
	/* A failed override leaves the loaded value. */
	assert_int_equal(cfg->broker.log_retention_ms, 86400000);
	assert_int_equal(cfg->dataplane.burst_size, 64);
	free(cfg);
	free(c);
}

static void round_trip(struct fwc_config *a)
{
	struct capture *c = capture_new();
	struct fwc_config *b = config_new();
	char *text = dump_body(a), *text2;

	if (load_str(b, text, c) != 0) {
		print_message("%s", text);
		capture_print(c);
		fail();
	}
	text2 = dump_body(b);
	assert_string_equal(text, text2);
	config_strip_origins(a);
	config_strip_origins(b);
	assert_memory_equal(a, b, sizeof(*a));
	free(text);
	free(text2);
	free(b);
	free(c);
}

static void test_config_dump_round_trip(void **state)
{
	struct capture *c = capture_new();
	struct fwc_config *cfg = load_all_keys(c);

	(void)state;
	/* Strings that need quoting in YAML survive too. */
	assert_int_equal(fwc_config_override(cfg, "advertised.listeners=on", 1, &c->diag), 0);
	assert_int_equal(fwc_config_override(cfg, "dataplane.eal=[\"a \\\"q\\\" \\\\ b\", '#x', '']",
					     2, &c->diag), 0);
	assert_int_equal(c->n, 0);
	round_trip(cfg);
	fwc_config_load_default(cfg, &c->diag);
	round_trip(cfg);
	fwc_config_defaults(cfg);
	round_trip(cfg);
	free(cfg);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_defaults_values),
		cmocka_unit_test(test_config_all_keys_parsed),
		cmocka_unit_test(test_config_every_key_in_fixture_and_docs),
		cmocka_unit_test(test_config_scalars_and_lists_forms),
		cmocka_unit_test(test_config_override_precedence),
		cmocka_unit_test(test_config_override_elements),
		cmocka_unit_test(test_config_override_lists_and_inherited_partitions),
		cmocka_unit_test(test_config_override_errors),
		cmocka_unit_test(test_config_dump_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
