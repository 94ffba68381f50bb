/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SASL mechanisms (ctl_scram.h): the SCRAM-SHA-256 exchange of RFC 7677's
 * test vector, byte for byte; wrong proofs, nonces and channel bindings;
 * SHA-512 with a client computed here; PLAIN parsing and checking; and
 * malformed messages, which must be refused without a crash.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "ctl_scram.h"

/* RFC 7677 section 3. */
#define V_PASSWORD "pencil"
#define V_SALT "W22ZaJ0SNY7soEsUEjb6gQ=="
#define V_CFIRST "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
#define V_SNONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define V_SFIRST "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define V_CFINAL "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0," \
		 "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define V_SFINAL "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

struct users {
	enum ctl_sasl_mech mech;
	struct ctl_scram_cred cred;     /* of "user" */
};

static int lookup(void *arg, enum ctl_sasl_mech mech, const char *user, struct ctl_scram_cred *out)
{
	struct users *u = arg;

	if (strcmp(user, "user") || mech != u->mech)
		return -ENOENT;
	*out = u->cred;
	return 0;
}

static void vector_user(struct users *u)
{
	uint8_t salt[32];
	int n = ctl_b64_decode(V_SALT, strlen(V_SALT), salt, sizeof(salt));

	assert_int_equal(n, 16);
	u->mech = CTL_MECH_SCRAM_SHA_256;
	assert_int_equal(ctl_scram_cred_derive(u->mech, V_PASSWORD, 6, salt, (size_t)n, 4096,
					       &u->cred), 0);
}

static int first(struct ctl_scram *s, struct users *u, const char *msg, char *out, size_t cap)
{
	return ctl_scram_server_first(s, u->mech, (const uint8_t *)msg, strlen(msg), lookup, u,
				      V_SNONCE, out, cap);
}

static int final(struct ctl_scram *s, const char *msg, char *out, size_t cap)
{
	return ctl_scram_server_final(s, (const uint8_t *)msg, strlen(msg), out, cap);
}

static void test_scram_rfc7677_vector(void **state)
{
	struct ctl_scram s;
	struct users u;
	char out[512];

	(void)state;
	vector_user(&u);
	assert_int_equal(first(&s, &u, V_CFIRST, out, sizeof(out)), (int)strlen(V_SFIRST));
	assert_string_equal(out, V_SFIRST);
	assert_int_equal(final(&s, V_CFINAL, out, sizeof(out)), (int)strlen(V_SFINAL));
	assert_string_equal(out, V_SFINAL);
	assert_int_equal(s.stage, CTL_SCRAM_DONE);
}

static void test_scram_wrong_proof_nonce_binding_refused(void **state)
{
	struct ctl_scram s;
	struct users u;
	char out[512], bad[256];

	(void)state;
	vector_user(&u);
	/* one bit of the proof */
	snprintf(bad, sizeof(bad), "%s", V_CFINAL);
	bad[strlen(bad) - 3] ^= 1;
	assert_true(first(&s, &u, V_CFIRST, out, sizeof(out)) > 0);
	assert_int_equal(final(&s, bad, out, sizeof(out)), -EACCES);
	/* the exchange is over after a failure */
	assert_int_equal(final(&s, V_CFINAL, out, sizeof(out)), -EINVAL);
	/* another nonce */
	assert_true(first(&s, &u, V_CFIRST, out, sizeof(out)) > 0);
	snprintf(bad, sizeof(bad), "%s", V_CFINAL);
	bad[10] = 'X';
	assert_int_equal(final(&s, bad, out, sizeof(out)), -EINVAL);
	/* a channel binding other than the gs2 header sent first */
	assert_true(first(&s, &u, V_CFIRST, out, sizeof(out)) > 0);
	snprintf(bad, sizeof(bad), "c=eSws%s", V_CFINAL + 6);
	assert_int_equal(final(&s, bad, out, sizeof(out)), -EINVAL);
	/* the password's stored key for a wrong password */
	assert_int_equal(ctl_scram_cred_check(CTL_MECH_SCRAM_SHA_256, &u.cred, "pencil", 6), 0);
	assert_int_equal(ctl_scram_cred_check(CTL_MECH_SCRAM_SHA_256, &u.cred, "pencils", 7),
			 -EACCES);
}

static void test_scram_unknown_user_and_cbind_refused(void **state)
{
	struct ctl_scram s;
	struct users u;
	char out[512];

	(void)state;
	vector_user(&u);
	assert_int_equal(first(&s, &u, "n,,n=bob,r=abc", out, sizeof(out)), -ENOENT);
	assert_int_equal(first(&s, &u, "p=tls-unique,,n=user,r=abc", out, sizeof(out)), -ENOTSUP);
	/* y (client could bind but thinks we cannot) is fine, and an authzid equal to the user */
	assert_true(first(&s, &u, "y,,n=user,r=abc", out, sizeof(out)) > 0);
	assert_true(first(&s, &u, "n,a=user,n=user,r=abc", out, sizeof(out)) > 0);
	assert_int_equal(first(&s, &u, "n,a=admin,n=user,r=abc", out, sizeof(out)), -EINVAL);
}

static void test_scram_malformed_refused(void **state)
{
	static const char *const bad_first[] = {
		"", "n", "n,", "n,,", "x,,n=user,r=a", "n,,r=a,n=user", "n,,n=user", "n,,n=,r=a",
		"n,,n=us=er,r=a", "n,,n=user,r=", "n,,n=user,r=a b", "n,,m=ext,n=user,r=a",
		"n,b,n=user,r=a",
	};
	static const char *const bad_final[] = {
		"", "p=", "c=biws", "c=biws,r=x,p=", "c=biws,p=abc", ",,,,", "p=AAAA,c=biws",
		"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=!!!!",
		"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=AAAA",
	};
	uint8_t bin[] = { 'n', ',', ',', 'n', '=', 0, ',', 'r', '=', 'a' };
	struct ctl_scram s;
	struct users u;
	char out[512];

	(void)state;
	vector_user(&u);
	for (size_t i = 0; i < sizeof(bad_first) / sizeof(bad_first[0]); i++)
		if (first(&s, &u, bad_first[i], out, sizeof(out)) >= 0)
			fail_msg("client-first \"%s\" accepted", bad_first[i]);
	assert_true(ctl_scram_server_first(&s, u.mech, bin, sizeof(bin), lookup, &u, NULL, out,
					   sizeof(out)) < 0);
	for (size_t i = 0; i < sizeof(bad_final) / sizeof(bad_final[0]); i++) {
		assert_true(first(&s, &u, V_CFIRST, out, sizeof(out)) > 0);
		if (final(&s, bad_final[i], out, sizeof(out)) >= 0)
			fail_msg("client-final \"%s\" accepted", bad_final[i]);
	}
	/* final before first */
	memset(&s, 0, sizeof(s));
	assert_int_equal(final(&s, V_CFINAL, out, sizeof(out)), -EINVAL);
}

/*
 * SHA-512: play the client with OpenSSL directly, as librdkafka 2.0 does:
 * its r= is the client nonce followed by the whole nonce (Kafka accepts an
 * r= that ends with the nonce; so must we).
 */
static void test_scram_sha512_round_trip(void **state)
{
	const char *cf = "n,,n=user,r=clientnonce512";
	struct ctl_scram s;
	struct users u = { .mech = CTL_MECH_SCRAM_SHA_512 };
	uint8_t salted[64], ck[64], sk[64], sig[64], proof[64], ss[64];
	char out[512], am[2048], final_msg[512], p64[128], v64[128];
	unsigned int n;
	size_t wlen;

	(void)state;
	assert_int_equal(ctl_scram_cred_derive(u.mech, "secret", 6, (const uint8_t *)"saltsalt", 8,
					       4096, &u.cred), 0);
	assert_true(ctl_scram_server_first(&s, u.mech, (const uint8_t *)cf, strlen(cf), lookup, &u,
					   NULL, out, sizeof(out)) > 0);
	assert_int_equal(strncmp(out, "r=clientnonce512", 16), 0);
	PKCS5_PBKDF2_HMAC("secret", 6, (const uint8_t *)"saltsalt", 8, 4096, EVP_sha512(), 64, salted);
	HMAC(EVP_sha512(), salted, 64, (const uint8_t *)"Client Key", 10, ck, &n);
	HMAC(EVP_sha512(), salted, 64, (const uint8_t *)"Server Key", 10, sk, &n);
	EVP_Digest(ck, 64, sig, NULL, EVP_sha512(), NULL);
	snprintf(final_msg, sizeof(final_msg), "c=biws,r=clientnonce512%s", s.nonce);
	wlen = strlen(final_msg);
	snprintf(am, sizeof(am), "%s,%s,%s", cf + 3, out, final_msg);
	HMAC(EVP_sha512(), sig, 64, (const uint8_t *)am, strlen(am), sig, &n);
	for (int i = 0; i < 64; i++)
		proof[i] = ck[i] ^ sig[i];
	ctl_b64_encode(proof, 64, p64, sizeof(p64));
	snprintf(final_msg + wlen, sizeof(final_msg) - wlen, ",p=%s", p64);
	HMAC(EVP_sha512(), sk, 64, (const uint8_t *)am, strlen(am), ss, &n);
	ctl_b64_encode(ss, 64, v64, sizeof(v64));
	assert_true(final(&s, final_msg, out, sizeof(out)) > 0);
	assert_memory_equal(out, "v=", 2);
	assert_string_equal(out + 2, v64);
}

static void test_scram_plain_parse_and_check(void **state)
{
	static const uint8_t ok1[] = "\0alice\0pw";
	static const uint8_t ok2[] = "alice\0alice\0pw";
	static const uint8_t other[] = "bob\0alice\0pw";
	static const uint8_t nopw[] = "\0alice\0";
	static const uint8_t one_nul[] = "alice\0pw";
	struct ctl_scram_cred c;
	const char *user, *pw;
	size_t ul, pl;

	(void)state;
	assert_int_equal(ctl_sasl_plain_parse(ok1, sizeof(ok1) - 1, &user, &ul, &pw, &pl), 0);
	assert_int_equal(ul, 5);
	assert_memory_equal(user, "alice", 5);
	assert_int_equal(pl, 2);
	assert_int_equal(ctl_sasl_plain_parse(ok2, sizeof(ok2) - 1, &user, &ul, &pw, &pl), 0);
	assert_int_equal(ctl_sasl_plain_parse(other, sizeof(other) - 1, &user, &ul, &pw, &pl),
			 -EINVAL);
	assert_int_equal(ctl_sasl_plain_parse(nopw, sizeof(nopw) - 1, &user, &ul, &pw, &pl), -EINVAL);
	assert_int_equal(ctl_sasl_plain_parse(one_nul, sizeof(one_nul) - 1, &user, &ul, &pw, &pl),
			 -EINVAL);
	assert_int_equal(ctl_sasl_plain_parse((const uint8_t *)"", 0, &user, &ul, &pw, &pl), -EINVAL);
	assert_int_equal(ctl_scram_cred_derive(CTL_MECH_SCRAM_SHA_256, "pw", 2, NULL, 0, 4096, &c), 0);
	assert_int_equal(c.salt_len, 16);
	assert_int_equal(ctl_scram_cred_check(CTL_MECH_PLAIN, &c, "pw", 2), 0);
	assert_int_equal(ctl_scram_cred_check(CTL_MECH_PLAIN, &c, "pW", 2), -EACCES);
}

static void test_scram_base64_and_names(void **state)
{
	uint8_t b[16];
	char t[16];

	(void)state;
	assert_int_equal(ctl_b64_encode((const uint8_t *)"n,,", 3, t, sizeof(t)), 4);
	assert_string_equal(t, "biws");
	assert_int_equal(ctl_b64_decode("Zm9vYg==", 8, b, sizeof(b)), 4);
	assert_memory_equal(b, "foob", 4);
	assert_int_equal(ctl_b64_decode("Zm9vY", 5, b, sizeof(b)), -EINVAL);
	assert_int_equal(ctl_b64_decode("Zm=vYg==", 8, b, sizeof(b)), -EINVAL);
	assert_int_equal(ctl_b64_decode("Zm9vYmFyYmF6cXV4", 16, b, 4), -ENOSPC);
	assert_int_equal(ctl_sasl_mech_parse("SCRAM-SHA-512", 13), CTL_MECH_SCRAM_SHA_512);
	assert_int_equal(ctl_sasl_mech_parse("GSSAPI", 6), -ENOENT);
	assert_string_equal(ctl_sasl_mech_name(CTL_MECH_PLAIN), "PLAIN");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scram_rfc7677_vector),
		cmocka_unit_test(test_scram_wrong_proof_nonce_binding_refused),
		cmocka_unit_test(test_scram_unknown_user_and_cbind_refused),
		cmocka_unit_test(test_scram_malformed_refused),
		cmocka_unit_test(test_scram_sha512_round_trip),
		cmocka_unit_test(test_scram_plain_parse_and_check),
		cmocka_unit_test(test_scram_base64_and_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
