/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_scram.h - SASL mechanisms of the Kafka listener, without I/O: SCRAM
 * (RFC 5802, SHA-256 as in RFC 7677, and SHA-512) and PLAIN (RFC 4616).
 *
 * The broker never keeps passwords: a credential is what RFC 5802 lets a
 * server store, per mechanism: salt, iteration count, StoredKey and
 * ServerKey.  PLAIN is checked against the SCRAM-SHA-256 credential by
 * deriving StoredKey from the offered password with the stored salt.
 *
 * A SCRAM exchange is two steps on a struct ctl_scram: client-first ->
 * server-first, client-final -> server-final.  Every message is parsed with
 * bounds checks; a malformed or wrong one is an error, never a crash.
 * Comparisons of secrets use CRYPTO_memcmp.
 */
#ifndef CTL_SCRAM_H
#define CTL_SCRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ctl_sasl_mech { CTL_MECH_PLAIN = 0, CTL_MECH_SCRAM_SHA_256, CTL_MECH_SCRAM_SHA_512,
		     CTL_MECH__COUNT };

#define CTL_SCRAM_KEY_MAX       64      /* SHA-512 */
#define CTL_SCRAM_SALT_MAX      64
#define CTL_SCRAM_NAME_MAX      128     /* user names */
#define CTL_SCRAM_MSG_MAX       1024    /* a client message we accept */
#define CTL_SCRAM_MIN_ITER      4096    /* Kafka's minimum */
#define CTL_SCRAM_MAX_ITER      65536   /* PBKDF2 runs on the control thread */

struct ctl_scram_cred {
	uint8_t salt[CTL_SCRAM_SALT_MAX];
	size_t salt_len;
	uint32_t iterations;
	uint8_t stored_key[CTL_SCRAM_KEY_MAX];
	uint8_t server_key[CTL_SCRAM_KEY_MAX];
};

/** "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512". */
const char *ctl_sasl_mech_name(enum ctl_sasl_mech m);
/** @return the mechanism named @name (@len bytes), or -ENOENT. */
int ctl_sasl_mech_parse(const char *name, size_t len);
/** Digest length of a SCRAM mechanism (32 or 64); 0 for PLAIN. */
size_t ctl_scram_key_len(enum ctl_sasl_mech m);

/**
 * Derive a credential from a password (salt given, or NULL: 16 random bytes).
 * @return 0, -EINVAL (PLAIN, iterations out of range, salt too long), -EIO (OpenSSL).
 */
int ctl_scram_cred_derive(enum ctl_sasl_mech m, const char *password, size_t pw_len,
			  const uint8_t *salt, size_t salt_len, uint32_t iterations,
			  struct ctl_scram_cred *out);

/**
 * Check a password against a credential (PLAIN against the SCRAM-SHA-256
 * entry).  @return 0 (matches), -EACCES (does not), -EINVAL, -EIO.
 */
int ctl_scram_cred_check(enum ctl_sasl_mech m, const struct ctl_scram_cred *c,
			 const char *password, size_t pw_len);

/**
 * PLAIN's message: [authzid] NUL authcid NUL passwd.  Views into @msg.
 * @return 0, or -EINVAL (malformed, or an authzid other than authcid).
 */
int ctl_sasl_plain_parse(const uint8_t *msg, size_t len, const char **user, size_t *user_len,
			 const char **pw, size_t *pw_len);

/** Base64 (standard alphabet, padded).  @return output length, or -ENOSPC / -EINVAL. */
int ctl_b64_encode(const uint8_t *in, size_t len, char *out, size_t cap);
int ctl_b64_decode(const char *in, size_t len, uint8_t *out, size_t cap);

enum ctl_scram_stage { CTL_SCRAM_START = 0, CTL_SCRAM_SENT_FIRST, CTL_SCRAM_DONE,
		       CTL_SCRAM_FAILED };

/* One server-side exchange. */
struct ctl_scram {
	enum ctl_sasl_mech mech;
	enum ctl_scram_stage stage;
	char user[CTL_SCRAM_NAME_MAX];
	struct ctl_scram_cred cred;
	char nonce[128];                        /* client nonce + server nonce */
	char client_first_bare[CTL_SCRAM_MSG_MAX];
	char server_first[512];
	char gs2_header[CTL_SCRAM_NAME_MAX + 16];
};

/* Find @user's credential for @mech: 0, or -ENOENT. */
typedef int (*ctl_scram_lookup_fn)(void *arg, enum ctl_sasl_mech mech, const char *user,
				   struct ctl_scram_cred *out);

/**
 * Step 1: parse client-first-message, look the user up, write
 * server-first-message to @out.  @snonce: the server nonce (NULL: 24
 * random bytes, base64) - fixed only by tests.
 * @return bytes in @out, -EINVAL (malformed), -ENOENT (unknown user),
 *   -ENOTSUP (channel binding asked), -ENOSPC.
 */
int ctl_scram_server_first(struct ctl_scram *s, enum ctl_sasl_mech mech, const uint8_t *msg,
			   size_t len, ctl_scram_lookup_fn lookup, void *arg, const char *snonce,
			   char *out, size_t cap);

/**
 * Step 2: check client-final-message (channel binding, nonce, proof) and
 * write server-final-message ("v=...") to @out.
 * @return bytes in @out, -EINVAL (malformed or out of order), -EACCES (bad proof).
 */
int ctl_scram_server_final(struct ctl_scram *s, const uint8_t *msg, size_t len, char *out,
			   size_t cap);

#endif /* CTL_SCRAM_H */
