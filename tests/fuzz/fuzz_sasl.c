/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_sasl - arbitrary bytes as a client's side of a SASL exchange
 * (ctl_scram.h), what a SASL_* listener parses before anyone is logged in.
 *
 * Input: byte 0 picks the mechanism (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512);
 * the rest is the first client message, then, after the first 0xff byte,
 * the second.  SCRAM: client-first-message, then client-final-message;
 * PLAIN: the one message, checked against the credential.  The user "user"
 * exists (a credential of 1 iteration, derived once, so that PBKDF2 does
 * not eat the fuzzing time), with the RFC 7677 password "pencil".
 *
 * What must hold besides "no crash": a step succeeds only with a
 * NUL-terminated answer that fits its buffer; server-first starts with the
 * client's nonce ("r=" + the r= of the client message) and names the
 * user's salt and iterations; the exchange is DONE only after a final step
 * that succeeded; base64 decodes what it encodes.
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ctl_scram.h"
#include "fuzz_util.h"

static struct ctl_scram_cred creds[CTL_MECH__COUNT];

static int lookup(void *arg, enum ctl_sasl_mech mech, const char *user, struct ctl_scram_cred *out)
{
	(void)arg;
	if (strcmp(user, "user"))
		return -ENOENT;
	*out = creds[mech];
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	for (int m = CTL_MECH_SCRAM_SHA_256; m < CTL_MECH__COUNT; m++)
		FZ_CHECK(ctl_scram_cred_derive((enum ctl_sasl_mech)m, "pencil", 6,
					       (const uint8_t *)"saltsalt", 8, 1, &creds[m]) == 0);
	creds[CTL_MECH_PLAIN] = creds[CTL_MECH_SCRAM_SHA_256];
	return 0;
}

static void plain(const uint8_t *msg, size_t len)
{
	const char *user, *pw;
	size_t ul, pl;

	if (ctl_sasl_plain_parse(msg, len, &user, &ul, &pw, &pl) < 0)
		return;
	FZ_CHECK(user > (const char *)msg && user + ul <= (const char *)msg + len);
	FZ_CHECK(pw + pl == (const char *)msg + len);
	if (ul == 4 && !memcmp(user, "user", 4))
		(void)ctl_scram_cred_check(CTL_MECH_PLAIN, &creds[CTL_MECH_PLAIN], pw, pl);
}

static void scram(enum ctl_sasl_mech mech, const uint8_t *m1, size_t l1, const uint8_t *m2,
		  size_t l2)
{
	struct ctl_scram s;
	const char *comma;
	char out[512];
	int n = ctl_scram_server_first(&s, mech, m1, l1, lookup, NULL, NULL, out, sizeof(out));

	if (n < 0) {
		FZ_CHECK(s.stage == CTL_SCRAM_FAILED);
		return;
	}
	FZ_CHECK((size_t)n < sizeof(out) && out[n] == '\0' && strlen(out) == (size_t)n);
	FZ_CHECK(s.stage == CTL_SCRAM_SENT_FIRST);
	FZ_CHECK(!strncmp(out, "r=", 2) && strstr(out, ",s=c2FsdHNhbHQ=,i=1"));
	comma = strchr(out + 2, ',');
	/* "r=" + the client's nonce, then the 32 base64 characters the server adds */
	FZ_CHECK(comma && comma - out > 2 + 32);
	FZ_CHECK(memmem(m1, l1, out, (size_t)(comma - out) - 32) != NULL);
	n = ctl_scram_server_final(&s, m2, l2, out, sizeof(out));
	if (n < 0) {
		FZ_CHECK(s.stage == CTL_SCRAM_FAILED);
		return;
	}
	FZ_CHECK(s.stage == CTL_SCRAM_DONE && !strncmp(out, "v=", 2) && strlen(out) == (size_t)n);
}

static void base64(const uint8_t *p, size_t len)
{
	char enc[256];
	uint8_t dec[192];

	if (len > 180)
		len = 180;
	FZ_CHECK(ctl_b64_encode(p, len, enc, sizeof(enc)) == (int)((len + 2) / 3 * 4));
	FZ_CHECK(ctl_b64_decode(enc, strlen(enc), dec, sizeof(dec)) == (int)len);
	FZ_CHECK(!memcmp(dec, p, len));
	(void)ctl_b64_decode((const char *)p, len, dec, sizeof(dec)); /* any bytes */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *in;
	const uint8_t *sep;
	size_t l1, l2;

	if (size < 1)
		return 0;
	in = fz_dup(data + 1, size - 1);
	sep = memchr(in, 0xff, size - 1);
	l1 = sep ? (size_t)(sep - in) : size - 1;
	l2 = sep ? size - 1 - l1 - 1 : 0;
	switch (data[0] % CTL_MECH__COUNT) {
	case CTL_MECH_PLAIN:
		plain(in, l1);
		break;
	default:
		scram((enum ctl_sasl_mech)(data[0] % CTL_MECH__COUNT), in, l1,
		      sep ? sep + 1 : in + l1, l2);
		break;
	}
	base64(in, size - 1);
	free(in);
	return 0;
}
