/* SPDX-License-Identifier: BSD-3-Clause */
/* Kafka listener strings: parsing, refusals, resolution. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "ctl_listener.h"

static void test_listener_parse_ipv4(void **state)
{
	struct ctl_listener l;

	(void)state;
	assert_int_equal(ctl_listener_parse("PLAINTEXT://127.0.0.1:9092", NULL, &l), 0);
	assert_string_equal(l.name, "PLAINTEXT");
	assert_int_equal(l.security, CTL_SEC_PLAINTEXT);
	assert_string_equal(l.host, "127.0.0.1");
	assert_int_equal(l.port, 9092);
}

static void test_listener_parse_ipv6_and_any(void **state)
{
	struct ctl_listener l;

	(void)state;
	assert_int_equal(ctl_listener_parse("PLAINTEXT://[::1]:19092", NULL, &l), 0);
	assert_string_equal(l.host, "::1");
	assert_int_equal(l.port, 19092);
	assert_int_equal(ctl_listener_parse("INTERNAL://:9093", NULL, &l), 0);
	assert_string_equal(l.name, "INTERNAL");
	assert_string_equal(l.host, "");
	assert_int_equal(l.port, 9093);
}

static void test_listener_parse_errors(void **state)
{
	struct ctl_listener l;

	(void)state;
	assert_int_equal(ctl_listener_parse("127.0.0.1:9092", NULL, &l), -EINVAL);
	assert_int_equal(ctl_listener_parse("PLAINTEXT://127.0.0.1", NULL, &l), -EINVAL);
	assert_int_equal(ctl_listener_parse("PLAINTEXT://127.0.0.1:", NULL, &l), -EINVAL);
	assert_int_equal(ctl_listener_parse("PLAINTEXT://127.0.0.1:9x", NULL, &l), -EINVAL);
	assert_int_equal(ctl_listener_parse("PLAINTEXT://::1:9092", NULL, &l), -EINVAL);
	assert_int_equal(ctl_listener_parse("PLAINTEXT://[::1]9092", NULL, &l), -EINVAL);
	assert_int_equal(ctl_listener_parse("PLAINTEXT://host:65536", NULL, &l), -ERANGE);
	assert_int_equal(ctl_listener_parse("://host:1", NULL, &l), -EINVAL);
	assert_int_equal(ctl_listener_parse("SASL_SSL://host:9093", NULL, &l), 0);
	assert_int_equal(l.security, CTL_SEC_SASL_SSL);
	assert_int_equal(ctl_listener_parse("SASL_PLAINTEXT://host:9093", NULL, &l), 0);
	assert_int_equal(l.security, CTL_SEC_SASL_PLAINTEXT);
	/* Every security protocol is served: SSL parses with its own. */
	assert_int_equal(ctl_listener_parse("SSL://host:9093", NULL, &l), 0);
	assert_int_equal(l.security, CTL_SEC_SSL);
	assert_int_equal(l.port, 9093);
}

/* listener.security.protocol.map names a listener's protocol, as in Kafka. */
static void test_listener_parse_protocol_map(void **state)
{
	const char *map = "INTERNAL:PLAINTEXT,EXTERNAL:SASL_SSL,TLS:SSL,SSL:PLAINTEXT";
	struct ctl_listener l;

	(void)state;
	assert_int_equal(ctl_listener_parse("EXTERNAL://0.0.0.0:9094", map, &l), 0);
	assert_string_equal(l.name, "EXTERNAL");
	assert_int_equal(l.security, CTL_SEC_SASL_SSL);
	assert_int_equal(ctl_listener_parse("TLS://host:9093", map, &l), 0);
	assert_int_equal(l.security, CTL_SEC_SSL);
	assert_int_equal(ctl_listener_parse("INTERNAL://127.0.0.1:9092", map, &l), 0);
	assert_int_equal(l.security, CTL_SEC_PLAINTEXT);
	/* The map wins over a protocol name; a name it lacks is its own protocol or PLAINTEXT. */
	assert_int_equal(ctl_listener_parse("SSL://host:9093", map, &l), 0);
	assert_int_equal(l.security, CTL_SEC_PLAINTEXT);
	assert_int_equal(ctl_listener_parse("SASL_PLAINTEXT://host:9095", map, &l), 0);
	assert_int_equal(l.security, CTL_SEC_SASL_PLAINTEXT);
	assert_int_equal(ctl_listener_parse("OTHER://host:9096", map, &l), 0);
	assert_int_equal(l.security, CTL_SEC_PLAINTEXT);
	/* A prefix of a mapped name is not that name; a bad protocol is an error. */
	assert_int_equal(ctl_listener_parse("EXT://host:9097", map, &l), 0);
	assert_int_equal(l.security, CTL_SEC_PLAINTEXT);
	assert_int_equal(ctl_listener_parse("EXTERNAL://host:9094", "EXTERNAL:TLS", &l), -EINVAL);
}

static void test_listener_sockaddr(void **state)
{
	struct sockaddr_storage ss;
	struct ctl_listener l;
	socklen_t len;

	(void)state;
	assert_int_equal(ctl_listener_parse("PLAINTEXT://127.0.0.1:9092", NULL, &l), 0);
	assert_int_equal(ctl_listener_sockaddr(&l, &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 9092);
	assert_int_equal(((struct sockaddr_in *)&ss)->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	assert_int_equal(ctl_listener_parse("PLAINTEXT://[::1]:9092", NULL, &l), 0);
	assert_int_equal(ctl_listener_sockaddr(&l, &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(ctl_listener_parse("PLAINTEXT://no-such-host.invalid:1", NULL, &l), 0);
	assert_int_equal(ctl_listener_sockaddr(&l, &ss, &len), -EADDRNOTAVAIL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listener_parse_ipv4),
		cmocka_unit_test(test_listener_parse_ipv6_and_any),
		cmocka_unit_test(test_listener_parse_errors),
		cmocka_unit_test(test_listener_parse_protocol_map),
		cmocka_unit_test(test_listener_sockaddr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
