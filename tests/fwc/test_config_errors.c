/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_config_errors.c - every error firmware-config reports, with its exact
 * "FILE:LINE: KEY: message" text, and that loading never stops at the first.
 */
#include "fwc_test.h"

/* Load @yaml (must load cleanly) and validate it for @n_cpus CPUs. */
static struct capture *validate_str(const char *yaml, unsigned int n_cpus, int want)
{
	struct capture *c = capture_new();
	struct fwc_config *cfg = config_new();

	if (load_str(cfg, yaml, c) != 0) {
		capture_print(c);
		fail_msg("fixture does not load");
	}
	assert_int_equal(fwc_config_validate(cfg, n_cpus, &c->diag), want);
	free(cfg);
	return c;
}

static struct capture *load_bad(const char *yaml)
{
	struct capture *c = capture_new();
	struct fwc_config *cfg = config_new();

	assert_int_equal(load_str(cfg, yaml, c), -EINVAL);
	free(cfg);
	return c;
}

static void test_config_errors_unknown_keys(void **state)
{
	struct capture *c = load_bad("brokers:\n  x: 1\n"
				     "storage:\n  writer.treads: 2\n"
				     "broker:\n  log.retention.hourz: 1\n"
				     "dataplane:\n  ports:\n    - name: p0\n      device: d\n      rx.queue: 2\n"
				     "topics:\n  - name: t\n    rules:\n      - udp.port: 1\n        vlam: 3\n");

	(void)state;
	assert_reported(c, "t.yaml:1: brokers: unknown key (sections: broker, storage, control, "
			"dataplane, topics)");
	assert_reported(c, "t.yaml:4: storage.writer.treads: unknown key");
	assert_reported(c, "t.yaml:6: log.retention.hourz: unknown key");
	assert_reported(c, "t.yaml:11: dataplane.ports.p0.rx.queue: unknown key");
	assert_reported(c, "t.yaml:16: topics.t.rules.0.vlam: unknown key");
	assert_errors(c, 5);
	free(c);
}

/* A bad uplink names file, line and key: our keys, fixed properties, librdkafka's verdict. */
static void test_config_errors_uplink(void **state)
{
	struct capture *c = capture_new();
	struct fwc_config *cfg = config_new();

	(void)state;
	assert_int_equal(load_str(cfg, "topics:\n"
				  "  - name: t\n"
				  "    uplink:\n"
				  "      topic: bad/name\n"
				  "      no.such.property: 1\n"
				  "      acks: 1\n"
				  "      librdkafka:\n"
				  "        linger.ms: soon\n"
				  "  - name: u\n"
				  "    uplink.bootstrap.servers: k:9092\n"
				  "    uplink.enable.idempotence: false\n"
				  "    uplink.partition.offset: -1\n", c), -EINVAL);
	assert_reported(c, "t.yaml:6: topics.t.uplink.acks: acks cannot be set to \"1\": "
			"the uplink needs acks=all");
	assert_reported(c, "t.yaml:11: topics.u.uplink.enable.idempotence: enable.idempotence "
			"cannot be set to \"false\": the uplink needs the idempotent producer");
	assert_reported(c, "t.yaml:12: topics.u.uplink.partition.offset: must be between 0 and 1048576 (got -1)");
	assert_errors(c, 3);
	assert_int_equal(fwc_config_validate(cfg, 0, &c->diag), -EINVAL);
	assert_reported(c, "t.yaml:4: topics.t.uplink.bootstrap.servers: required when the topic "
			"has an uplink");
	assert_reported(c, "t.yaml:4: topics.t.uplink.topic: invalid topic name \"bad/name\"");
	assert_reported(c, "t.yaml:5: topics.t.uplink.no.such.property: librdkafka: No such "
			"configuration property: \"no.such.property\"");
	assert_reported(c, "t.yaml:8: topics.t.uplink.linger.ms: librdkafka: Invalid value "
			"for configuration property \"queue.buffering.max.ms\"");
	assert_errors(c, 7);
	free(cfg);
	free(c);
}

static void test_config_errors_wrong_types(void **state)
{
	struct capture *c = load_bad("broker:\n  auto.create.topics.enable: yes\n  log.dirs: [a, b]\n"
				     "storage:\n  hugepages: sometimes\n  writer.cpus: {a: 1}\n"
				     "dataplane:\n  ports:\n    - name: p0\n      device: d\n      rx.queues: two\n"
				     "topics:\n  - name: t\n    rules:\n      - udp.port: 1\n        mode: sniff\n"
				     "        address: 10.0.0.300\n        headers: [addresses, ports]\n");

	(void)state;
	assert_reported(c, "t.yaml:2: auto.create.topics.enable: expected true or false (got \"yes\")");
	assert_reported(c, "t.yaml:3: log.dirs: expected a string (got a list)");
	assert_reported(c, "t.yaml:5: storage.hugepages: expected one of: auto, on, off (got \"sometimes\")");
	assert_reported(c, "t.yaml:6: storage.writer.cpus: expected a list of integers (got a mapping)");
	assert_reported(c, "t.yaml:11: dataplane.ports.p0.rx.queues: expected an integer (got \"two\")");
	assert_reported(c, "t.yaml:16: topics.t.rules.0.mode: expected one of: tap, produce (got \"sniff\")");
	assert_reported(c, "t.yaml:17: topics.t.rules.0.address: expected an IPv4 or IPv6 address "
			"(got \"10.0.0.300\")");
	assert_reported(c, "t.yaml:18: topics.t.rules.0.headers: expected a list of: addresses "
			"(got \"ports\")");
	assert_errors(c, 8);
	free(c);
}

static void test_config_errors_out_of_range(void **state)
{
	struct capture *c = load_bad("broker:\n  log.segment.bytes: 10\n  log.retention.ms: -2\n"
				     "  listeners: localhost:9092\n  metrics.listener: nowhere\n"
				     "storage:\n  writer.threads: 17\n  ring.bytes: 100000\n"
				     "dataplane:\n  ports:\n    - name: p0\n      device: d\n"
				     "      rx.descriptors: 1000\n      rx.lcores: [1, 5000]\n"
				     "topics:\n  - name: telemetry\n    partitions: 0\n"
				     "    rules:\n      - udp.port: 70000\n");

	(void)state;
	assert_reported(c, "t.yaml:2: log.segment.bytes: must be between 14 and 2147483647 (got 10)");
	assert_reported(c, "t.yaml:3: log.retention.ms: must be at least -1 (got -2)");
	assert_reported(c, "t.yaml:4: listeners: expected NAME://HOST:PORT (got \"localhost:9092\")");
	assert_reported(c, "t.yaml:5: metrics.listener: expected HOST:PORT or \"\" (off) (got \"nowhere\")");
	assert_reported(c, "t.yaml:7: storage.writer.threads: must be between 1 and 16 (got 17)");
	assert_reported(c, "t.yaml:8: storage.ring.bytes: must be a power of two between 65536 and "
			"1099511627776 (got 100000)");
	assert_reported(c, "t.yaml:13: dataplane.ports.p0.rx.descriptors: must be a power of two "
			"between 64 and 16384 (got 1000)");
	assert_reported(c, "t.yaml:14: dataplane.ports.p0.rx.lcores: must be between 0 and 1023 (got 5000)");
	assert_reported(c, "t.yaml:17: topics.telemetry.partitions: must be between 1 and 4096 (got 0)");
	assert_reported(c, "t.yaml:19: topics.telemetry.rules.0.udp.port: must be between 1 and 65535 "
			"(got 70000)");
	assert_errors(c, 10);
	free(c);
}

static void test_config_errors_topic_configs(void **state)
{
	struct capture *c = load_bad("topics:\n  - name: t\n    configs:\n"
				     "      cleanup.policy: compact\n      retention.hours: 1\n"
				     "      segment.bytes: 13\n      message.timestamp.type: Now\n");

	(void)state;
	assert_reported(c, "t.yaml:4: topics.t.configs.cleanup.policy: expected one of: delete "
			"(got \"compact\")");
	assert_reported(c, "t.yaml:5: topics.t.configs.retention.hours: unknown topic config (known: "
			"retention.ms, retention.bytes, segment.bytes, segment.ms, max.message.bytes, "
			"cleanup.policy, message.timestamp.type, index.interval.bytes, "
			"segment.index.bytes, flush.messages, flush.ms)");
	assert_reported(c, "t.yaml:6: topics.t.configs.segment.bytes: must be between 14 and "
			"2147483647 (got 13)");
	assert_reported(c, "t.yaml:7: topics.t.configs.message.timestamp.type: expected one of: "
			"CreateTime, LogAppendTime (got \"Now\")");
	assert_errors(c, 4);
	free(c);
}

static void test_config_errors_protocol_map(void **state)
{
	struct capture *c = load_bad("broker:\n  listener.security.protocol.map: EXTERNAL:TLS\n");
	struct capture *d = load_bad("broker:\n  listeners: [EXTERNAL://127.0.0.1:1]\n"
				     "  listener.security.protocol.map: \"EXTERNAL:SSL,:PLAINTEXT\"\n");

	(void)state;
	assert_reported(c, "t.yaml:2: listener.security.protocol.map: expected NAME:PROTOCOL,... with "
			"PROTOCOL PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL (got \"EXTERNAL:TLS\")");
	assert_errors(c, 1);
	assert_reported(d, "t.yaml:3: listener.security.protocol.map: expected NAME:PROTOCOL,... with "
			"PROTOCOL PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL (got \"EXTERNAL:SSL,:PLAINTEXT\")");
	assert_errors(d, 1);
	free(c);
	free(d);
}

static void test_config_errors_structure(void **state)
{
	struct capture *c = load_bad("control:\n  cpu: 1\n  cpu: 2\n"
				     "storage: 5\n"
				     "dataplane:\n  ports:\n    - device: d\n    - name: p1\n"
				     "topics:\n  - name: t\n    rules:\n      - mode: tap\n    configs: [1]\n");

	(void)state;
	assert_reported(c, "t.yaml:3: control.cpu: duplicate key (first at line 2)");
	assert_reported(c, "t.yaml:4: storage: expected a mapping (got a scalar)");
	assert_reported(c, "t.yaml:7: dataplane.ports.0: required key \"name\" is missing");
	assert_reported(c, "t.yaml:8: dataplane.ports.p1: required key \"device\" is missing");
	assert_reported(c, "t.yaml:12: topics.t.rules.0: required key \"udp.port\" is missing");
	assert_reported(c, "t.yaml:13: topics.t.configs: expected a mapping (got a list)");
	assert_errors(c, 6);
	free(c);
}

static void test_config_errors_yaml_syntax(void **state)
{
	struct capture *c = load_bad("broker:\n  log.dirs: ./x\n  listeners: [PLAINTEXT://a:1\n"
				     "storage:\n  ring.bytes: 1000\n");
	struct capture *c2 = load_bad("broker:\n  log.dirs: ./x\n   num.partitions: 3\n");

	(void)state;
	assert_reported(c, "t.yaml:4: syntax error: did not find expected ',' or ']' "
			"(while parsing a flow sequence at line 3)");
	assert_errors(c, 1);
	assert_reported(c2, "t.yaml:3: syntax error: mapping values are not allowed in this context");
	assert_errors(c2, 1);
	free(c);
	free(c2);
}

static void test_config_errors_missing_file(void **state)
{
	struct capture *c = capture_new();
	struct fwc_config *cfg = config_new();

	(void)state;
	assert_int_equal(fwc_config_load(cfg, "/nonexistent/sluice.yaml", &c->diag), -ENOENT);
	assert_reported(c, "/nonexistent/sluice.yaml: cannot read: No such file or directory");
	assert_errors(c, 1);
	free(cfg);
	free(c);
}

#define PORT(name, dev, q, lcores) \
	"    - name: " name "\n      device: " dev "\n      rx.queues: " q "\n" \
	"      rx.lcores: " lcores "\n"

static void test_config_errors_lcore_missing(void **state)
{
	struct capture *c = validate_str("control:\n  cpu: 3\nstorage:\n  writer.cpus: [0, 2]\n"
					 "dataplane:\n  ports:\n" PORT("p0", "d0", "2", "[1, 5]"),
					 2, -EINVAL);

	(void)state;
	assert_reported(c, "t.yaml:2: control.cpu: cpu 3 does not exist on this machine "
			"(available CPUs: 0-1)");
	assert_reported(c, "t.yaml:4: storage.writer.cpus: cpu 2 does not exist on this machine "
			"(available CPUs: 0-1)");
	assert_reported(c, "t.yaml:10: dataplane.ports.p0.rx.lcores: lcore 5 does not exist on this "
			"machine (available CPUs: 0-1)");
	assert_errors(c, 3);
	free(c);
}

static void test_config_errors_lcore_sharing(void **state)
{
	const char *yaml = "control:\n  cpu: 0\ndataplane:\n  exclusive.lcores: true\n  ports:\n"
			   PORT("a", "d0", "2", "[1, 2]") PORT("a", "d0", "1", "[2]")
			   PORT("c", "d2", "2", "[0]");
	struct capture *c = validate_str(yaml, 4, -EINVAL);

	(void)state;
	assert_reported(c, "t.yaml:10: dataplane.ports.a.name: port \"a\" is named twice "
			"(first at line 6)");
	assert_reported(c, "t.yaml:10: dataplane.ports.a.device: device is also port \"a\": its "
			"queues would be polled by two lcores");
	assert_reported(c, "t.yaml:13: dataplane.ports.a.rx.lcores: lcore 2 already polls queue 1 "
			"of port \"a\" (dataplane.exclusive.lcores is true)");
	assert_reported(c, "t.yaml:17: dataplane.ports.c.rx.lcores: expected one lcore per queue: "
			"1 rx.lcores for 2 rx.queues");
	assert_reported(c, "t.yaml:17: dataplane.ports.c.rx.lcores: lcore 0 is control.cpu: the "
			"control thread would compete with the poll loop");
	assert_errors(c, 5);
	free(c);
	/* Without exclusive.lcores one lcore may poll several queues. */
	c = validate_str("dataplane:\n  ports:\n" PORT("a", "d0", "2", "[1, 1]")
			 PORT("b", "d1", "1", "[1]"), 2, 0);
	assert_errors(c, 0);
	free(c);
}

static void test_config_errors_topics(void **state)
{
	const char *yaml = "topics:\n"
			   "  - name: telemetry\n    rules:\n      - udp.port: 5000\n"
			   "      - {udp.port: 5000, vlan: 7}\n"
			   "      - {udp.port: 5000, address: 239.1.1.1}\n"
			   "  - name: telemetry\n"
			   "  - name: bad/name\n    rules:\n      - udp.port: 5000\n"
			   "      - {udp.port: 5000, address: 239.1.1.1, vlan: -1}\n"
			   "  - name: ..\n";
	struct capture *c = validate_str(yaml, 2, -EINVAL);

	(void)state;
	assert_reported(c, "t.yaml:7: topics.telemetry.name: topic \"telemetry\" is named twice "
			"(first at line 2)");
	assert_reported(c, "t.yaml:8: topics.bad/name.name: invalid topic name \"bad/name\": use "
			"letters, digits, '.', '_' and '-', not \".\" or \"..\"");
	assert_reported(c, "t.yaml:10: topics.bad/name.rules.0: matches the same traffic as "
			"topics.telemetry.rules.0 (line 4): same udp.port, address and vlan");
	assert_reported(c, "t.yaml:11: topics.bad/name.rules.1: matches the same traffic as "
			"topics.telemetry.rules.2 (line 6): same udp.port, address and vlan");
	assert_reported(c, "t.yaml:12: topics....name: invalid topic name \"..\": use letters, "
			"digits, '.', '_' and '-', not \".\" or \"..\"");
	assert_errors(c, 5);
	free(c);
}

/* One pass reports errors from every section, from loading and validation. */
static void test_config_errors_all_reported(void **state)
{
	struct capture *c = capture_new();
	struct fwc_config *cfg = config_new();

	(void)state;
	assert_int_equal(load_str(cfg, "broker:\n  num.partitions: x\n  foo: 1\n"
				  "storage:\n  writer.threads: 0\n"
				  "dataplane:\n  ports:\n" PORT("p0", "d0", "1", "[9]")
				  "topics:\n  - name: t\n    partitions: -1\n", c), -EINVAL);
	assert_int_equal(fwc_config_override(cfg, "control.cpu=7", 1, &c->diag), 0);
	assert_int_equal(fwc_config_validate(cfg, 2, &c->diag), -EINVAL);
	assert_reported(c, "t.yaml:2: num.partitions: expected an integer (got \"x\")");
	assert_reported(c, "t.yaml:3: foo: unknown key");
	assert_reported(c, "t.yaml:5: storage.writer.threads: must be between 1 and 16 (got 0)");
	assert_reported(c, "t.yaml:14: topics.t.partitions: must be between 1 and 4096 (got -1)");
	assert_reported(c, "--override:1: control.cpu: cpu 7 does not exist on this machine "
			"(available CPUs: 0-1)");
	assert_reported(c, "t.yaml:11: dataplane.ports.p0.rx.lcores: lcore 9 does not exist on this "
			"machine (available CPUs: 0-1)");
	assert_errors(c, 6);
	free(cfg);
	free(c);
}

/* n_cpus = 0 asks the machine: CPU 0 is always there, CPU 1023 hardly ever. */
static void test_config_errors_cpus_from_system(void **state)
{
	struct capture *c = validate_str("control:\n  cpu: -1\ndataplane:\n  ports:\n"
					 PORT("p0", "d0", "1", "[0]"), 0, 0);

	(void)state;
	free(c);
	c = validate_str("control:\n  cpu: -1\ndataplane:\n  ports:\n"
			 PORT("p0", "d0", "1", "[1023]"), 0, -EINVAL);
	assert_errors(c, 1);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_errors_unknown_keys),
		cmocka_unit_test(test_config_errors_wrong_types),
		cmocka_unit_test(test_config_errors_uplink),
		cmocka_unit_test(test_config_errors_out_of_range),
		cmocka_unit_test(test_config_errors_topic_configs),
		cmocka_unit_test(test_config_errors_protocol_map),
		cmocka_unit_test(test_config_errors_structure),
		cmocka_unit_test(test_config_errors_yaml_syntax),
		cmocka_unit_test(test_config_errors_missing_file),
		cmocka_unit_test(test_config_errors_lcore_missing),
		cmocka_unit_test(test_config_errors_lcore_sharing),
		cmocka_unit_test(test_config_errors_topics),
		cmocka_unit_test(test_config_errors_all_reported),
		cmocka_unit_test(test_config_errors_cpus_from_system),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
