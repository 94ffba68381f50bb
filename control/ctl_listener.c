/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_listener.c - parse Kafka listener strings and resolve them for bind().
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "ctl_listener.h"

static const struct {
	const char *name;
	enum ctl_security sec;
} ctl_security_names[] = {
	{ "PLAINTEXT", CTL_SEC_PLAINTEXT },
	{ "SSL", CTL_SEC_SSL },
	{ "SASL_PLAINTEXT", CTL_SEC_SASL_PLAINTEXT },
	{ "SASL_SSL", CTL_SEC_SASL_SSL },
};

static int parse_port(const char *s, uint16_t *port)
{
	char *end;
	long v;

	if (*s == '\0')
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end != '\0' || errno)
		return -EINVAL;
	if (v < 0 || v > 65535)
		return -ERANGE;
	*port = (uint16_t)v;
	return 0;
}

/* host:port or [v6]:port after the "://". */
static int parse_hostport(const char *hp, struct ctl_listener *out)
{
	const char *colon;
	size_t hlen;

	if (hp[0] == '[') {
		const char *close = strchr(hp, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		hlen = (size_t)(close - hp - 1);
		hp++;
		colon = close + 1;
	} else {
		colon = strrchr(hp, ':');
		if (!colon)
			return -EINVAL;
		hlen = (size_t)(colon - hp);
		if (memchr(hp, ':', hlen))
			return -EINVAL; /* unbracketed IPv6 */
	}
	if (hlen >= sizeof(out->host))
		return -EINVAL;
	memcpy(out->host, hp, hlen);
	out->host[hlen] = '\0';
	return parse_port(colon + 1, &out->port);
}

static int security_by_name(const char *name, size_t len, enum ctl_security *sec)
{
	for (size_t i = 0; i < sizeof(ctl_security_names) / sizeof(ctl_security_names[0]); i++) {
		if (strlen(ctl_security_names[i].name) == len &&
		    !strncmp(name, ctl_security_names[i].name, len)) {
			*sec = ctl_security_names[i].sec;
			return 0;
		}
	}
	return -EINVAL;
}

/* @name's entry in "NAME:PROTOCOL,...": 0 and *@sec, -ENOENT, or -EINVAL (bad protocol). */
static int security_by_map(const char *map, const char *name, enum ctl_security *sec)
{
	size_t nlen = strlen(name);

	for (const char *p = map; p && *p; p += *p == ',') {
		size_t n = strcspn(p, ",");
		const char *colon = memchr(p, ':', n);

		if (colon && (size_t)(colon - p) == nlen && !strncmp(p, name, nlen))
			return security_by_name(colon + 1, n - nlen - 1, sec);
		p += n;
	}
	return -ENOENT;
}

int ctl_listener_parse(const char *s, const char *map, struct ctl_listener *out)
{
	const char *sep = strstr(s, "://");
	size_t nlen;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!sep)
		return -EINVAL;
	nlen = (size_t)(sep - s);
	if (nlen == 0 || nlen >= sizeof(out->name))
		return -EINVAL;
	memcpy(out->name, s, nlen);
	rc = security_by_map(map, out->name, &out->security);
	if (rc == -EINVAL)
		return rc;
	if (rc == -ENOENT && security_by_name(out->name, nlen, &out->security) < 0)
		out->security = CTL_SEC_PLAINTEXT; /* a custom name the map does not list */
	return parse_hostport(sep + 3, out);
}

int ctl_listener_sockaddr(const struct ctl_listener *l, struct sockaddr_storage *ss,
			  socklen_t *len)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	char port[8];

	snprintf(port, sizeof(port), "%u", l->port);
	if (getaddrinfo(l->host[0] ? l->host : NULL, port, &hints, &res) != 0 || !res)
		return -EADDRNOTAVAIL;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}
