/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_scram.c - SCRAM-SHA-256/512 server exchange, credential derivation
 * and PLAIN checking (ctl_scram.h) on OpenSSL's PBKDF2, HMAC and digests.
 *
 * RFC 5802 in short: SaltedPassword = PBKDF2(password, salt, i);
 * ClientKey = HMAC(SaltedPassword, "Client Key"); StoredKey = H(ClientKey);
 * ServerKey = HMAC(SaltedPassword, "Server Key").  The client proves it
 * knows ClientKey by sending ClientKey XOR HMAC(StoredKey, AuthMessage);
 * the server recovers ClientKey, hashes it and compares with StoredKey.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "ctl_scram.h"

static const char *const mech_names[CTL_MECH__COUNT] = { "PLAIN", "SCRAM-SHA-256",
							 "SCRAM-SHA-512" };

const char *ctl_sasl_mech_name(enum ctl_sasl_mech m)
{
	return (unsigned int)m < CTL_MECH__COUNT ? mech_names[m] : "?";
}

int ctl_sasl_mech_parse(const char *name, size_t len)
{
	for (int i = 0; i < CTL_MECH__COUNT; i++)
		if (strlen(mech_names[i]) == len && memcmp(mech_names[i], name, len) == 0)
			return i;
	return -ENOENT;
}

static const EVP_MD *mech_md(enum ctl_sasl_mech m)
{
	return m == CTL_MECH_SCRAM_SHA_512 ? EVP_sha512() : EVP_sha256();
}

size_t ctl_scram_key_len(enum ctl_sasl_mech m)
{
	return m == CTL_MECH_SCRAM_SHA_512 ? 64 : m == CTL_MECH_SCRAM_SHA_256 ? 32 : 0;
}

/* ---- base64 ------------------------------------------------------------ */

static const char b64_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int ctl_b64_encode(const uint8_t *in, size_t len, char *out, size_t cap)
{
	size_t o = 0;

	if ((len + 2) / 3 * 4 + 1 > cap)
		return -ENOSPC;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0) |
			     (i + 2 < len ? in[i + 2] : 0);

		out[o++] = b64_chars[v >> 18 & 63];
		out[o++] = b64_chars[v >> 12 & 63];
		out[o++] = i + 1 < len ? b64_chars[v >> 6 & 63] : '=';
		out[o++] = i + 2 < len ? b64_chars[v & 63] : '=';
	}
	out[o] = '\0';
	return (int)o;
}

static int b64_val(char c)
{
	const char *p = c ? strchr(b64_chars, c) : NULL;

	return p ? (int)(p - b64_chars) : -1;
}

int ctl_b64_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
	size_t o = 0;

	if (len % 4)
		return -EINVAL;
	for (size_t i = 0; i < len; i += 4) {
		int v[4], pad = 0;

		for (int k = 0; k < 4; k++) {
			if (in[i + k] == '=' && i + 4 == len && k >= 2) {
				v[k] = 0;
				pad++;
			} else if (pad || (v[k] = b64_val(in[i + k])) < 0) {
				return -EINVAL;
			}
		}
		if (o + 3 - (size_t)pad > cap)
			return -ENOSPC;
		out[o++] = (uint8_t)(v[0] << 2 | v[1] >> 4);
		if (pad < 2)
			out[o++] = (uint8_t)(v[1] << 4 | v[2] >> 2);
		if (pad < 1)
			out[o++] = (uint8_t)(v[2] << 6 | v[3]);
	}
	return (int)o;
}

/* ---- credentials ------------------------------------------------------- */

static int hmac(enum ctl_sasl_mech m, const uint8_t *key, size_t klen, const void *msg,
		size_t mlen, uint8_t *out)
{
	unsigned int n = 0;

	return HMAC(mech_md(m), key, (int)klen, msg, mlen, out, &n) ? 0 : -EIO;
}

static int digest(enum ctl_sasl_mech m, const uint8_t *in, size_t len, uint8_t *out)
{
	return EVP_Digest(in, len, out, NULL, mech_md(m), NULL) == 1 ? 0 : -EIO;
}

int ctl_scram_cred_derive(enum ctl_sasl_mech m, const char *password, size_t pw_len,
			  const uint8_t *salt, size_t salt_len, uint32_t iterations,
			  struct ctl_scram_cred *out)
{
	size_t kl = ctl_scram_key_len(m);
	uint8_t salted[CTL_SCRAM_KEY_MAX], client_key[CTL_SCRAM_KEY_MAX];
	int rc = -EIO;

	if (!kl || iterations < 1 || iterations > CTL_SCRAM_MAX_ITER || salt_len > CTL_SCRAM_SALT_MAX ||
	    pw_len > INT32_MAX)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (salt) {
		memcpy(out->salt, salt, salt_len);
		out->salt_len = salt_len;
	} else {
		out->salt_len = 16;
		if (RAND_bytes(out->salt, 16) != 1)
			return -EIO;
	}
	out->iterations = iterations;
	if (PKCS5_PBKDF2_HMAC(password, (int)pw_len, out->salt, (int)out->salt_len,
			      (int)iterations, mech_md(m), (int)kl, salted) != 1)
		goto out;
	if (hmac(m, salted, kl, "Client Key", 10, client_key) < 0 ||
	    digest(m, client_key, kl, out->stored_key) < 0 ||
	    hmac(m, salted, kl, "Server Key", 10, out->server_key) < 0)
		goto out;
	rc = 0;
out:
	OPENSSL_cleanse(salted, sizeof(salted));
	OPENSSL_cleanse(client_key, sizeof(client_key));
	return rc;
}

int ctl_scram_cred_check(enum ctl_sasl_mech m, const struct ctl_scram_cred *c,
			 const char *password, size_t pw_len)
{
	struct ctl_scram_cred d;
	int rc;

	if (m == CTL_MECH_PLAIN)
		m = CTL_MECH_SCRAM_SHA_256;
	rc = ctl_scram_cred_derive(m, password, pw_len, c->salt, c->salt_len, c->iterations, &d);
	if (rc == 0 && CRYPTO_memcmp(d.stored_key, c->stored_key, ctl_scram_key_len(m)) != 0)
		rc = -EACCES;
	OPENSSL_cleanse(&d, sizeof(d));
	return rc;
}

int ctl_sasl_plain_parse(const uint8_t *msg, size_t len, const char **user, size_t *user_len,
			 const char **pw, size_t *pw_len)
{
	const uint8_t *n1 = memchr(msg, 0, len), *n2;

	if (!n1)
		return -EINVAL;
	n2 = memchr(n1 + 1, 0, len - (size_t)(n1 + 1 - msg));
	if (!n2)
		return -EINVAL;
	*user = (const char *)n1 + 1;
	*user_len = (size_t)(n2 - n1 - 1);
	*pw = (const char *)n2 + 1;
	*pw_len = len - (size_t)(n2 + 1 - msg);
	if (*user_len == 0 || *pw_len == 0 || memchr(*pw, 0, *pw_len))
		return -EINVAL;
	/* An authorization id, if any, must be the user itself (as in Kafka). */
	if (n1 != msg && ((size_t)(n1 - msg) != *user_len || memcmp(msg, *user, *user_len)))
		return -EINVAL;
	return 0;
}

/* ---- the exchange ------------------------------------------------------ */

/* saslname: "=2C" is ',', "=3D" is '='; any other '=' is malformed. */
static int saslname_decode(const char *in, size_t len, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char ch = in[i];

		if (ch == '=') {
			if (len - i >= 3 && !memcmp(in + i, "=2C", 3))
				ch = ',';
			else if (len - i >= 3 && !memcmp(in + i, "=3D", 3))
				ch = '=';
			else
				return -EINVAL;
			i += 2;
		}
		if ((unsigned char)ch < 0x21 || ch == 0x7f || o + 1 >= cap)
			return -EINVAL;
		out[o++] = ch;
	}
	out[o] = '\0';
	return o ? 0 : -EINVAL;
}

static bool printable_nonce(const char *s, size_t len)
{
	if (len == 0 || len > 64)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x21 || s[i] > 0x7e || s[i] == ',')
			return false;
	return true;
}

/* Next ','-separated attribute of @msg from *@pos: "x=value". */
static bool next_attr(const char *msg, size_t len, size_t *pos, char *name, const char **val,
		      size_t *vlen)
{
	const char *p = msg + *pos, *end = msg + len, *comma;

	if (*pos >= len || end - p < 2 || p[1] != '=')
		return false;
	comma = memchr(p, ',', (size_t)(end - p));
	if (!comma)
		comma = end;
	*name = p[0];
	*val = p + 2;
	*vlen = (size_t)(comma - p - 2);
	*pos = (size_t)(comma - msg) + (comma < end ? 1 : 0);
	return true;
}

static int gs2_parse(struct ctl_scram *s, const char *m, size_t len, size_t *bare)
{
	const char *c1, *c2;

	if (len < 3 || (m[0] != 'n' && m[0] != 'y'))
		return m[0] == 'p' ? -ENOTSUP : -EINVAL;
	if (m[1] != ',')
		return -EINVAL;
	c1 = m + 1;
	c2 = memchr(c1 + 1, ',', len - 2);
	if (!c2)
		return -EINVAL;
	/* authzid "a=..." is allowed; it is checked against the user below. */
	if (c2 != c1 + 1 && (c2 - c1 < 3 || c1[1] != 'a' || c1[2] != '='))
		return -EINVAL;
	*bare = (size_t)(c2 + 1 - m);
	if (*bare >= sizeof(s->gs2_header))
		return -EINVAL;
	memcpy(s->gs2_header, m, *bare);
	s->gs2_header[*bare] = '\0';
	return 0;
}

int ctl_scram_server_first(struct ctl_scram *s, enum ctl_sasl_mech mech, const uint8_t *msg,
			   size_t len, ctl_scram_lookup_fn lookup, void *arg, const char *snonce,
			   char *out, size_t cap)
{
	const char *m = (const char *)msg, *bare, *val, *cnonce = NULL;
	size_t off, pos = 0, vlen, cnonce_len = 0, blen;
	char name, salt[CTL_SCRAM_SALT_MAX * 2], rnd_txt[40];
	uint8_t rnd[24];
	int rc, n;

	memset(s, 0, sizeof(*s));
	s->mech = mech;
	s->stage = CTL_SCRAM_FAILED;
	if (!ctl_scram_key_len(mech) || len == 0 || len >= CTL_SCRAM_MSG_MAX || memchr(m, 0, len))
		return -EINVAL;
	if ((rc = gs2_parse(s, m, len, &off)) < 0)
		return rc;
	bare = m + off;
	blen = len - off;
	if (!next_attr(bare, blen, &pos, &name, &val, &vlen) || name != 'n' ||
	    saslname_decode(val, vlen, s->user, sizeof(s->user)) < 0)
		return -EINVAL;
	if (!next_attr(bare, blen, &pos, &name, &cnonce, &cnonce_len) || name != 'r' ||
	    !printable_nonce(cnonce, cnonce_len))
		return -EINVAL;
	/* Extensions may follow (Kafka's tokenauth); "m=" before n= is refused above. */
	if (s->gs2_header[2] == 'a' && (strlen(s->user) != strlen(s->gs2_header) - 5 ||
					memcmp(s->gs2_header + 4, s->user, strlen(s->user))))
		return -EINVAL;
	if (lookup(arg, mech, s->user, &s->cred) < 0)
		return -ENOENT;
	if (!snonce) {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			return -EIO;
		ctl_b64_encode(rnd, sizeof(rnd), rnd_txt, sizeof(rnd_txt));
		snonce = rnd_txt;
	}
	if (cnonce_len + strlen(snonce) >= sizeof(s->nonce))
		return -EINVAL;
	memcpy(s->client_first_bare, bare, blen);
	s->client_first_bare[blen] = '\0';
	snprintf(s->nonce, sizeof(s->nonce), "%.*s%s", (int)cnonce_len, cnonce, snonce);
	ctl_b64_encode(s->cred.salt, s->cred.salt_len, salt, sizeof(salt));
	n = snprintf(s->server_first, sizeof(s->server_first), "r=%s,s=%s,i=%u", s->nonce, salt,
		     s->cred.iterations);
	if (n < 0 || (size_t)n >= sizeof(s->server_first) || (size_t)n >= cap)
		return -ENOSPC;
	memcpy(out, s->server_first, (size_t)n + 1);
	s->stage = CTL_SCRAM_SENT_FIRST;
	return n;
}

/* HMAC(key, AuthMessage) where AuthMessage = bare "," server-first "," final-without-proof. */
static int auth_hmac(const struct ctl_scram *s, const uint8_t *key, const char *final,
		     size_t flen, uint8_t *out)
{
	char am[CTL_SCRAM_MSG_MAX * 2 + 600];
	int n = snprintf(am, sizeof(am), "%s,%s,%.*s", s->client_first_bare, s->server_first,
			 (int)flen, final);

	if (n < 0 || (size_t)n >= sizeof(am))
		return -EINVAL;
	return hmac(s->mech, key, ctl_scram_key_len(s->mech), am, (size_t)n, out);
}

/*
 * The c= value must be base64(gs2 header); the r= value must end with the
 * whole nonce.  RFC 5802 wants it equal, but librdkafka (2.0) sends the
 * client nonce followed by the whole nonce, and Kafka's broker accepts any
 * r= that ends with it (ScramSaslServer: endsWith), so we do too: the value
 * is part of the AuthMessage the proof signs either way.
 */
static int final_attrs(const struct ctl_scram *s, const char *m, size_t wo_proof)
{
	char name, cb[sizeof(s->gs2_header) * 2];
	const char *val;
	size_t pos = 0, vlen;

	if (!next_attr(m, wo_proof, &pos, &name, &val, &vlen) || name != 'c')
		return -EINVAL;
	ctl_b64_encode((const uint8_t *)s->gs2_header, strlen(s->gs2_header), cb, sizeof(cb));
	if (vlen != strlen(cb) || memcmp(val, cb, vlen))
		return -EINVAL;
	if (!next_attr(m, wo_proof, &pos, &name, &val, &vlen) || name != 'r' ||
	    vlen < strlen(s->nonce) ||
	    memcmp(val + vlen - strlen(s->nonce), s->nonce, strlen(s->nonce)))
		return -EINVAL;
	return 0;
}

int ctl_scram_server_final(struct ctl_scram *s, const uint8_t *msg, size_t len, char *out,
			   size_t cap)
{
	const char *m = (const char *)msg, *p;
	size_t kl = ctl_scram_key_len(s->mech), wo_proof;
	uint8_t proof[CTL_SCRAM_KEY_MAX + 3], sig[CTL_SCRAM_KEY_MAX], key[CTL_SCRAM_KEY_MAX];
	char v[CTL_SCRAM_KEY_MAX * 2];
	int rc = -EINVAL, n;

	if (s->stage != CTL_SCRAM_SENT_FIRST)
		return -EINVAL;
	s->stage = CTL_SCRAM_FAILED;
	if (len == 0 || len >= CTL_SCRAM_MSG_MAX || memchr(m, 0, len))
		return -EINVAL;
	/* The proof is the last attribute. */
	for (p = m + len; p > m && p[-1] != ','; p--)
		;
	if (p == m || (size_t)(m + len - p) < 2 || p[0] != 'p' || p[1] != '=')
		return -EINVAL;
	wo_proof = (size_t)(p - 1 - m);
	if (final_attrs(s, m, wo_proof) < 0)
		return -EINVAL;
	if (ctl_b64_decode(p + 2, (size_t)(m + len - p - 2), proof, sizeof(proof)) != (int)kl)
		return -EINVAL;
	if (auth_hmac(s, s->cred.stored_key, m, wo_proof, sig) < 0)
		goto out;
	for (size_t i = 0; i < kl; i++)
		key[i] = proof[i] ^ sig[i];             /* ClientKey */
	if (digest(s->mech, key, kl, sig) < 0)
		goto out;
	if (CRYPTO_memcmp(sig, s->cred.stored_key, kl) != 0) {
		rc = -EACCES;
		goto out;
	}
	if (auth_hmac(s, s->cred.server_key, m, wo_proof, sig) < 0)
		goto out;
	ctl_b64_encode(sig, kl, v, sizeof(v));
	n = snprintf(out, cap, "v=%s", v);
	if (n < 0 || (size_t)n >= cap) {
		rc = -ENOSPC;
		goto out;
	}
	s->stage = CTL_SCRAM_DONE;
	rc = n;
out:
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}
