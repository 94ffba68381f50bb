/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_tls.h - TLS for SSL:// Kafka listeners (OpenSSL), control/ only.
 *
 * One server context (certificate, key, trusted CAs, ssl.client.auth) is
 * built from the broker config; each accepted connection on an SSL listener
 * gets an SSL object on its non-blocking socket.  Every call here is
 * non-blocking and reports what the connection must wait for: @want is set
 * to EPOLLIN or EPOLLOUT when the call returns -EAGAIN, so ctl_conn.c can
 * drive the handshake, reads and writes from the control thread's epoll
 * loop exactly as it drives a plain socket.
 *
 * Fetch record ranges go out with SSL_sendfile when OpenSSL enabled kernel
 * TLS on the connection (SSL_OP_ENABLE_KTLS, BIO_get_ktls_send), so they
 * still never pass through user space; otherwise the range is read into a
 * bounce buffer and SSL_write'n.  A retried write reads the same range
 * again, which satisfies OpenSSL's "retry with the same arguments" rule.
 */
#ifndef CTL_TLS_H
#define CTL_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fwc_config.h"

struct ctl_tls;
typedef struct ssl_st SSL;

/**
 * Build the server context from ssl.certificate.location, ssl.key.location,
 * ssl.ca.location and ssl.client.auth.  A problem is logged naming the key
 * and the file.
 * @return 0, -EINVAL (a key missing or a file unusable), -ENOMEM.
 */
int ctl_tls_create(const struct fwc_broker *b, struct ctl_tls **out);
/** Free the context (NULL is a no-op); connections must be closed first. */
void ctl_tls_destroy(struct ctl_tls *t);

/** A server-side SSL object on socket @fd.  @return it, or NULL (no memory). */
SSL *ctl_tls_conn_new(struct ctl_tls *t, int fd);
/** Send close_notify if the socket takes it at once, and free.  NULL is a no-op. */
void ctl_tls_conn_free(SSL *ssl);

/**
 * Advance the handshake.
 * @return 1 done, -EAGAIN (wait for *want), -EPROTO (failed: reason in
 *   @why, which is always set to a NUL-terminated string).
 */
int ctl_tls_handshake(SSL *ssl, uint32_t *want, char *why, size_t why_len);
/** @return bytes read (> 0), 0 (peer closed), -EAGAIN (wait for *want), -EPROTO/-ECONNRESET. */
ssize_t ctl_tls_read(SSL *ssl, void *buf, size_t len, uint32_t *want);
/** @return bytes written (> 0), -EAGAIN (wait for *want), -EPROTO/-ECONNRESET. */
ssize_t ctl_tls_write(SSL *ssl, const void *buf, size_t len, uint32_t *want);
/**
 * Write up to @len bytes of file @fd from @pos: kTLS sendfile when the
 * connection has it, else through the context's bounce buffer.
 * @return bytes written (> 0), -EAGAIN, -EIO (file shorter), -EPROTO/-ECONNRESET.
 */
ssize_t ctl_tls_sendfile(struct ctl_tls *t, SSL *ssl, int fd, uint64_t pos, size_t len,
			 uint32_t *want);
/**
 * The principal of a verified client certificate, as Kafka's default SSL
 * principal builder names it: "User:" + the subject DN in RFC 2253 form
 * ("User:CN=alice,O=example").
 * @return 1 (written to @buf), 0 (no verified certificate), -ENOSPC.
 */
int ctl_tls_peer_principal(SSL *ssl, char *buf, size_t len);
/** True when the connection sends through kernel TLS. */
int ctl_tls_ktls_send(SSL *ssl);
/** True when OpenSSL holds received bytes not yet returned by ctl_tls_read. */
int ctl_tls_pending(SSL *ssl);

#endif /* CTL_TLS_H */
