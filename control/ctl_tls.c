/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_tls.c - OpenSSL behind the non-blocking calls of ctl_tls.h: the
 * server context from the broker's ssl.* keys, and per-connection
 * handshake, read, write and sendfile that map SSL_ERROR_WANT_* onto the
 * epoll event to wait for.
 *
 * The error queue is thread-local and sticky: every operation clears it
 * first, or SSL_get_error could blame the call for an older failure.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "ctl_log.h"
#include "ctl_tls.h"

#define TLS_BOUNCE_BYTES (64u << 10)    /* fallback sendfile: read this much, SSL_write it */

struct ctl_tls {
	SSL_CTX *ctx;
	uint8_t *bounce;
};

/* The oldest queued OpenSSL error as text (for a log line). */
static void tls_err_text(char *buf, size_t len)
{
	unsigned long e = ERR_peek_error();

	if (e)
		ERR_error_string_n(e, buf, len);
	else
		snprintf(buf, len, "%s", "unknown error");
	ERR_clear_error();
}

static int ctx_fail(const char *key, const char *path, const char *what)
{
	char err[256];

	tls_err_text(err, sizeof(err));
	CTL_LOG(ERR, "%s: %s '%s': %s", key, what, path, err);
	return -EINVAL;
}

static int ctx_verify(SSL_CTX *ctx, const struct fwc_broker *b)
{
	STACK_OF(X509_NAME) *names;
	int mode = SSL_VERIFY_NONE;

	if (b->ssl_client_auth == FWC_SSL_CLIENT_AUTH_NONE)
		return 0;
	if (!b->ssl_ca_location[0]) {
		CTL_LOG(ERR, "ssl.client.auth is %s but ssl.ca.location is not set",
			b->ssl_client_auth == FWC_SSL_CLIENT_AUTH_REQUIRED ? "required" : "requested");
		return -EINVAL;
	}
	if (SSL_CTX_load_verify_locations(ctx, b->ssl_ca_location, NULL) != 1)
		return ctx_fail("ssl.ca.location", b->ssl_ca_location, "cannot load CAs from");
	names = SSL_load_client_CA_file(b->ssl_ca_location);
	if (names)
		SSL_CTX_set_client_CA_list(ctx, names); /* the hint sent to clients */
	mode = SSL_VERIFY_PEER;
	if (b->ssl_client_auth == FWC_SSL_CLIENT_AUTH_REQUIRED)
		mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
	SSL_CTX_set_verify(ctx, mode, NULL);
	return 0;
}

static int ctx_setup(SSL_CTX *ctx, const struct fwc_broker *b)
{
	static const unsigned char sid_ctx[] = "sluice";

	if (!b->ssl_certificate_location[0] || !b->ssl_key_location[0]) {
		CTL_LOG(ERR, "an SSL listener needs %s",
			!b->ssl_certificate_location[0] ? "ssl.certificate.location"
							: "ssl.key.location");
		return -EINVAL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
			      SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_ENABLE_KTLS);
	/* Session resumption with client certificates needs a context id. */
	SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);
	if (SSL_CTX_use_certificate_chain_file(ctx, b->ssl_certificate_location) != 1)
		return ctx_fail("ssl.certificate.location", b->ssl_certificate_location,
				"cannot load a PEM certificate chain from");
	if (SSL_CTX_use_PrivateKey_file(ctx, b->ssl_key_location, SSL_FILETYPE_PEM) != 1)
		return ctx_fail("ssl.key.location", b->ssl_key_location,
				"cannot load a PEM private key from");
	if (SSL_CTX_check_private_key(ctx) != 1)
		return ctx_fail("ssl.key.location", b->ssl_key_location,
				"key does not match ssl.certificate.location:");
	return ctx_verify(ctx, b);
}

int ctl_tls_create(const struct fwc_broker *b, struct ctl_tls **out)
{
	struct ctl_tls *t = calloc(1, sizeof(*t));
	int rc = -ENOMEM;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	ERR_clear_error();
	t->ctx = SSL_CTX_new(TLS_server_method());
	t->bounce = malloc(TLS_BOUNCE_BYTES);
	if (!t->ctx || !t->bounce)
		goto out;
	if ((rc = ctx_setup(t->ctx, b)) < 0)
		goto out;
	*out = t;
	t = NULL;
out:
	ctl_tls_destroy(t);
	return rc;
}

void ctl_tls_destroy(struct ctl_tls *t)
{
	if (!t)
		return;
	SSL_CTX_free(t->ctx);
	free(t->bounce);
	free(t);
}

SSL *ctl_tls_conn_new(struct ctl_tls *t, int fd)
{
	SSL *ssl;

	ERR_clear_error();
	ssl = SSL_new(t->ctx);
	if (!ssl)
		return NULL;
	if (SSL_set_fd(ssl, fd) != 1) {
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_accept_state(ssl);
	return ssl;
}

void ctl_tls_conn_free(SSL *ssl)
{
	if (!ssl)
		return;
	ERR_clear_error();
	if (SSL_is_init_finished(ssl))
		SSL_shutdown(ssl); /* one try: the socket is non-blocking */
	SSL_free(ssl);
	ERR_clear_error();
}

/* Map a failed call's SSL_get_error onto -EAGAIN + *want, or a failure. */
static int tls_result(SSL *ssl, int ret, uint32_t *want)
{
	switch (SSL_get_error(ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		*want = EPOLLIN;
		return -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		*want = EPOLLOUT;
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
			*want = EPOLLOUT;
			return -EAGAIN;
		}
		ERR_clear_error();
		return -ECONNRESET;
	default:
		return -EPROTO;
	}
}

int ctl_tls_handshake(SSL *ssl, uint32_t *want, char *why, size_t why_len)
{
	int ret, rc;

	why[0] = '\0';
	ERR_clear_error();
	errno = 0;
	ret = SSL_do_handshake(ssl);
	if (ret == 1)
		return 1;
	rc = tls_result(ssl, ret, want);
	if (rc == -EAGAIN)
		return rc;
	if (rc == -EPROTO) {
		tls_err_text(why, why_len);
	} else {
		snprintf(why, why_len, "%s", "peer closed during the handshake");
		ERR_clear_error();
	}
	return -EPROTO;
}

ssize_t ctl_tls_read(SSL *ssl, void *buf, size_t len, uint32_t *want)
{
	size_t n = 0;
	int rc;

	ERR_clear_error();
	errno = 0;
	if (SSL_read_ex(ssl, buf, len, &n) == 1)
		return (ssize_t)n;
	rc = tls_result(ssl, 0, want);
	if (rc == -EPROTO)
		ERR_clear_error();
	return rc;
}

ssize_t ctl_tls_write(SSL *ssl, const void *buf, size_t len, uint32_t *want)
{
	size_t n = 0;
	int rc;

	ERR_clear_error();
	errno = 0;
	if (SSL_write_ex(ssl, buf, len, &n) == 1)
		return (ssize_t)n;
	rc = tls_result(ssl, 0, want);
	if (rc == 0 || rc == -EPROTO) {
		ERR_clear_error();
		return rc == 0 ? -ECONNRESET : rc;
	}
	return rc;
}

int ctl_tls_peer_principal(SSL *ssl, char *buf, size_t len)
{
	X509 *cert = SSL_get0_peer_certificate(ssl);
	BIO *bio;
	int n, rc = -ENOSPC;

	if (!cert || SSL_get_verify_result(ssl) != X509_V_OK)
		return 0;
	if (len < 6 || !(bio = BIO_new(BIO_s_mem())))
		return -ENOSPC;
	if (X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) >= 0 &&
	    (n = BIO_read(bio, buf + 5, (int)len - 6)) > 0 && BIO_pending(bio) == 0) {
		memcpy(buf, "User:", 5);
		buf[5 + n] = '\0';
		rc = 1;
	}
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}

int ctl_tls_ktls_send(SSL *ssl)
{
	return BIO_get_ktls_send(SSL_get_wbio(ssl)) ? 1 : 0;
}

int ctl_tls_pending(SSL *ssl)
{
	return SSL_has_pending(ssl);
}

ssize_t ctl_tls_sendfile(struct ctl_tls *t, SSL *ssl, int fd, uint64_t pos, size_t len,
			 uint32_t *want)
{
	ssize_t n;

	if (ctl_tls_ktls_send(ssl)) {
		ERR_clear_error();
		errno = 0;
		n = SSL_sendfile(ssl, fd, (off_t)pos, len, 0);
		if (n > 0)
			return n;
		n = tls_result(ssl, (int)n, want);
		return n == 0 ? -ECONNRESET : n;
	}
	if (len > TLS_BOUNCE_BYTES)
		len = TLS_BOUNCE_BYTES;
	n = pread(fd, t->bounce, len, (off_t)pos);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -EIO; /* the file is shorter than the range */
	return ctl_tls_write(ssl, t->bounce, (size_t)n, want);
}
