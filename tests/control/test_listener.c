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
	assert_int_equal(ctl_listener_parse("PLAINTEXT://127.0.0.1:9092", &l), 0);
	assert_string_equal(l.name, "PLAINTEXT");
	assert_int_equal(l.security, CTL_SEC_PLAINTEXT);
	assert_string_equal(l.host, "127.0.0.1");
	assert_int_equal(l.port, 9092);
}

static void test_listener_parse_ipv6_and_any(void **state)
{
	struct ctl_listener l;

	(void)state;
	assert_int_equal(ctl_listener_parse("PLAINTEXT://[::1]:19092", &l), 0);
	assert_string_equal(l.host, "::1");
	assert_int_equal(l.port, 19092);
	assert_int_equal(ctl_listener_parse("INTERNAL://:9093", &l), 0);
	assert_string_equal(l.name, "INTERNAL");
	assert_string_equal(l.host, "");
	assert_int_equal(l.port, 9093);
}

static void test_listener_parse_errors(void **state)
{
	struct ctl_listener l;

	(void)state;
	assert_int_equal(ctl_listener_parse("127.0.0.1:9092", &l), -EINVAL);
	assert_int_equal(ctl_listener_parse("PLAINTEXT://127.0.0.1", &l), -EINVAL);
	assert_int_equal(ctl_listener_parse("PLAINTEXT://127.0.0.1:", &l), -EINVAL);
	assert_int_equal(ctl_listener_parse("PLAINTEXT://127.0.0.1:9x", &l), -EINVAL);
	assert_int_equal(ctl_listener_parse("PLAINTEXT://::1:9092", &l), -EINVAL);
	assert_int_equal(ctl_listener_parse("PLAINTEXT://[::1]9092", &l), -EINVAL);
	assert_int_equal(ctl_listener_parse("PLAINTEXT://host:65536", &l), -ERANGE);
	assert_int_equal(ctl_listener_parse("://host:1", &l), -EINVAL);
	assert_int_equal(ctl_listener_parse("SASL_SSL://host:9093", &l), 0);
	assert_int_equal(l.security, CTL_SEC_SASL_SSL);
	assert_int_equal(ctl_listener_parse("SASL_PLAINTEXT://host:9093", &l), 0);
	assert_int_equal(l.security, CTL_SEC_SASL_PLAINTEXT);
	/* Every security protocol is served: SSL parses with its own. */
	assert_int_equal(ctl_listener_parse("SSL://host:9093", &l), 0);
	assert_int_equal(l.security, CTL_SEC_SSL);
	assert_int_equal(l.port, 9093);
}

static void test_listener_sockaddr(void **state)
{
	struct sockaddr_storage ss;
	struct ctl_listener l;
	socklen_t len;

	(void)state;
	assert_int_equal(ctl_listener_parse("PLAINTEXT://127.0.0.1:9092", &l), 0);
	assert_int_equal(ctl_listener_sockaddr(&l, &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 9092);
	assert_int_equal(((struct sockaddr_in *)&ss)->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	assert_int_equal(ctl_listener_parse("PLAINTEXT://[::1]:9092", &l), 0);
	assert_int_equal(ctl_listener_sockaddr(&l, &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(ctl_listener_parse("PLAINTEXT://no-such-host.invalid:1", &l), 0);
	assert_int_equal(ctl_listener_sockaddr(&l, &ss, &len), -EADDRNOTAVAIL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listener_parse_ipv4),
		cmocka_unit_test(test_listener_parse_ipv6_and_any),
		cmocka_unit_test(test_listener_parse_errors),
		cmocka_unit_test(test_listener_sockaddr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
