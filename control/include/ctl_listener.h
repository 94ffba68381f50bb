/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_listener.h - Kafka listener addresses.
 *
 * Kafka names a listener "NAME://host:port" (listeners, advertised.listeners);
 * the host may be empty (all addresses), a name, an IPv4 address or a
 * bracketed IPv6 address.  The control thread binds one socket per listener;
 * Metadata answers with the advertised host and port.  The listener name
 * names its security protocol through listener.security.protocol.map
 * ("EXTERNAL:SASL_SSL,INTERNAL:PLAINTEXT"), as in Kafka, or is the protocol
 * itself: PLAINTEXT, SSL (TLS, ctl_tls.c), SASL_PLAINTEXT and SASL_SSL
 * (ctl_sasl.c); a name in neither is PLAINTEXT.
 */
#ifndef CTL_LISTENER_H
#define CTL_LISTENER_H

#include <stdint.h>
#include <sys/socket.h>

enum ctl_security { CTL_SEC_PLAINTEXT = 0, CTL_SEC_SSL, CTL_SEC_SASL_PLAINTEXT, CTL_SEC_SASL_SSL };

struct ctl_listener {
	char name[32];                  /* listener name ("PLAINTEXT") */
	enum ctl_security security;
	char host[256];                 /* as written, without brackets; "" = any */
	uint16_t port;
};

/**
 * Parse "NAME://host:port"; its security protocol from @map
 * (listener.security.protocol.map, NULL or "" for none) or its name.
 *
 * @return 0, -EINVAL (malformed, or a map entry naming no protocol), -ERANGE (port).
 */
int ctl_listener_parse(const char *s, const char *map, struct ctl_listener *out);

/**
 * Resolve the listener's host to a bindable address (numeric or via
 * getaddrinfo; "" = the IPv4 wildcard).
 *
 * @return 0 or -EADDRNOTAVAIL.
 */
int ctl_listener_sockaddr(const struct ctl_listener *l, struct sockaddr_storage *ss,
			  socklen_t *len);

#endif /* CTL_LISTENER_H */
