/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_sasl.c - SASL on SASL_PLAINTEXT:// and SASL_SSL:// listeners: the
 * server's mechanisms, credentials file and failed-login table, and each
 * connection's exchange.
 *
 * Kafka's two framings end in the same step function: after SaslHandshake
 * v1, tokens come in SaslAuthenticate requests (kp_sasl.c, librdkafka);
 * after SaslHandshake v0 they come as bare size-prefixed frames with no
 * request header (kafka-python), which ctl_conn.c hands to
 * ctl_sasl_raw_token().  Until a connection is authenticated, ctl_conn.c
 * lets only ApiVersions, SaslHandshake and SaslAuthenticate through.
 *
 * Failed logins are counted per mechanism (sluice_kafka_auth_failures_total)
 * and per source address: past sasl.max.failed.logins.per.minute within a
 * minute, that address's logins are refused without looking at the
 * password until the minute is over.  A failure closes the connection after
 * its response, as Kafka does.  The credentials file is re-read when it
 * changes (stat at each handshake), so `sluice users add` needs no restart.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "ctl_creds.h"
#include "ctl_textfile.h"
#include "ctl_log.h"
#include "ctl_server_int.h"
#include "kp_err.h"

#define SASL_FAIL_SLOTS   256           /* source addresses remembered */
#define SASL_WINDOW_NS    60000000000ull

struct sasl_fail_slot {
	char addr[64];
	uint64_t window_ns;                 /* start of its minute */
	uint32_t fails;
};

struct ctl_sasl {
	const struct fwc_broker *b;
	unsigned int mechs;                 /* 1u << enum ctl_sasl_mech */
	struct ctl_creds *creds;
	struct stat creds_st;               /* of the loaded file */
	struct sasl_fail_slot fails[SASL_FAIL_SLOTS];
	struct fwc_ratelimit log_rl;
};

_Static_assert(sizeof(((struct ctl_server_stats *)0)->auth_failures) / sizeof(uint64_t) ==
	       CTL_MECH__COUNT, "one failure counter per mechanism");

enum sasl_stage { SASL_START = 0, SASL_HANDSHAKEN, SASL_DONE };

struct ctl_sasl_conn {
	enum sasl_stage stage;
	enum ctl_sasl_mech mech;
	bool raw;                           /* handshake v0: bare token frames */
	struct ctl_scram scram;
	char principal[CTL_SCRAM_NAME_MAX + 8];
};

static int creds_load(struct ctl_sasl *s, bool at_start)
{
	const char *path = s->b->sasl_credentials_location;
	struct ctl_creds *c;
	unsigned int line;
	struct stat st;
	int rc;

	if ((rc = ctl_textfile_changed(path, at_start ? NULL : &s->creds_st, &st)) <= 0) {
		if (rc == 0)
			return 0;
		goto fail;
	}
	if ((rc = ctl_creds_load(path, &c, &line)) < 0)
		goto fail;
	ctl_creds_free(s->creds);
	s->creds = c;
	s->creds_st = st;
	if (!at_start)
		CTL_LOG(INFO, "sasl.credentials.location %s re-read: %u credential(s)", path,
			ctl_creds_count(c));
	return 0;
fail:
	if (rc == -EINVAL)
		CTL_LOG_RL(&s->log_rl, ERR, "sasl.credentials.location: %s:%u: malformed line%s", path,
			   line, at_start ? "" : " (keeping the credentials loaded before)");
	else
		CTL_LOG_RL(&s->log_rl, ERR, "sasl.credentials.location: %s: %s%s", path,
			   strerror(-rc), at_start ? "" : " (keeping the credentials loaded before)");
	return rc;
}

int ctl_sasl_create(const struct fwc_broker *b, struct ctl_sasl **out)
{
	struct ctl_sasl *s = calloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->b = b;
	s->log_rl = (struct fwc_ratelimit)CTL_LOG_RL_INIT;
	for (unsigned int i = 0; i < b->n_sasl_mechanisms; i++) {
		const char *m = b->sasl_enabled_mechanisms[i];
		int k = ctl_sasl_mech_parse(m, strlen(m));

		if (k < 0) {
			CTL_LOG(ERR, "sasl.enabled.mechanisms: '%s' is not one of PLAIN, "
				"SCRAM-SHA-256, SCRAM-SHA-512", m);
			free(s);
			return -EINVAL;
		}
		s->mechs |= 1u << k;
	}
	if (!b->sasl_credentials_location[0]) {
		CTL_LOG(ERR, "a SASL listener needs sasl.credentials.location (sluice users add)");
		free(s);
		return -EINVAL;
	}
	if ((rc = creds_load(s, true)) < 0) {
		free(s);
		return -EINVAL;
	}
	*out = s;
	return 0;
}

void ctl_sasl_destroy(struct ctl_sasl *s)
{
	if (!s)
		return;
	ctl_creds_free(s->creds);
	free(s);
}

/* Forget the secrets of an exchange (credential copy, nonces). */
static void sasl_conn_wipe(struct ctl_sasl_conn *sc)
{
	OPENSSL_cleanse(&sc->scram, sizeof(sc->scram));
}

struct ctl_sasl_conn *ctl_sasl_conn_new(void)
{
	return calloc(1, sizeof(struct ctl_sasl_conn));
}

void ctl_sasl_conn_free(struct ctl_sasl_conn *sc)
{
	if (sc)
		sasl_conn_wipe(sc);
	free(sc);
}

bool ctl_sasl_conn_authenticated(const struct ctl_sasl_conn *sc)
{
	return sc->stage == SASL_DONE;
}

bool ctl_sasl_conn_raw(const struct ctl_sasl_conn *sc)
{
	return sc->raw && sc->stage == SASL_HANDSHAKEN;
}

const char *ctl_resp_principal(const struct ctl_resp *resp)
{
	const struct ctl_conn *c = resp ? resp->conn : NULL;
	const struct ctl_sasl_conn *sc = c ? c->sasl : NULL;

	if (sc && sc->stage == SASL_DONE)
		return sc->principal;
	return c && c->tls_principal[0] ? c->tls_principal : "User:ANONYMOUS";
}

/* ---- failed logins ----------------------------------------------------- */

/* "host:port" -> "host" */
static void peer_addr(const char *peer, char *out, size_t cap)
{
	const char *colon = strrchr(peer, ':');
	size_t n = colon ? (size_t)(colon - peer) : strlen(peer);

	snprintf(out, cap, "%.*s", (int)n, peer);
}

/* The slot of @addr (or the oldest one, reused); its window brought up to date. */
static struct sasl_fail_slot *fail_slot(struct ctl_sasl *s, const char *addr, uint64_t now)
{
	struct sasl_fail_slot *f = NULL, *old = &s->fails[0];

	for (unsigned int i = 0; i < SASL_FAIL_SLOTS; i++) {
		if (!strcmp(s->fails[i].addr, addr)) {
			f = &s->fails[i];
			break;
		}
		if (s->fails[i].window_ns < old->window_ns)
			old = &s->fails[i];
	}
	if (!f) {
		f = old;
		snprintf(f->addr, sizeof(f->addr), "%s", addr);
		f->fails = 0;
		f->window_ns = now;
	}
	if (now - f->window_ns >= SASL_WINDOW_NS) {
		f->window_ns = now;
		f->fails = 0;
	}
	return f;
}

static bool login_blocked(struct ctl_sasl *s, const char *peer)
{
	int32_t max = s->b->sasl_max_failed_logins_per_minute;
	char addr[64];

	if (max <= 0)
		return false;
	peer_addr(peer, addr, sizeof(addr));
	return fail_slot(s, addr, ctl_now_ns())->fails >= (uint32_t)max;
}

static void login_failed(struct ctl_conn *c, const char *why, bool blocked)
{
	struct ctl_server *srv = c->srv;
	struct ctl_sasl_conn *sc = c->sasl;
	char addr[64];

	if (blocked) {
		srv->st.auth_refused++;
	} else {
		srv->st.auth_failures[sc->mech]++;
		peer_addr(c->peer, addr, sizeof(addr));
		fail_slot(srv->sasl, addr, ctl_now_ns())->fails++;
	}
	CTL_LOG_RL(&srv->sasl->log_rl, NOTICE, "connection %s: %s login%s%s failed: %s", c->peer,
		   ctl_sasl_mech_name(sc->mech), sc->scram.user[0] ? " of " : "", sc->scram.user, why);
	sc->stage = SASL_START;
	sasl_conn_wipe(sc);
}

/* ---- the exchange ------------------------------------------------------ */

static int creds_lookup(void *arg, enum ctl_sasl_mech mech, const char *user,
			struct ctl_scram_cred *out)
{
	return ctl_creds_lookup(arg, mech, user, out);
}

static int plain_step(struct ctl_conn *c, const uint8_t *tok, size_t len, const char **why)
{
	struct ctl_sasl_conn *sc = c->sasl;
	struct ctl_scram_cred cred;
	const char *user, *pw;
	size_t ul, pl;

	if (ctl_sasl_plain_parse(tok, len, &user, &ul, &pw, &pl) < 0 || ul >= sizeof(sc->scram.user)) {
		*why = "malformed PLAIN message";
		return -EACCES;
	}
	memcpy(sc->scram.user, user, ul);
	sc->scram.user[ul] = '\0';
	if (ctl_creds_lookup(c->srv->sasl->creds, CTL_MECH_SCRAM_SHA_256, sc->scram.user, &cred) < 0 ||
	    ctl_scram_cred_check(CTL_MECH_PLAIN, &cred, pw, pl) < 0) {
		*why = "invalid credentials";
		return -EACCES;
	}
	return 0;
}

/*
 * One client token: the reply token into @out.
 * @return reply length (>= 0; the exchange may be done: check the stage),
 *   -EACCES (login failed, *why set), -EPROTO (no handshake before).
 */
static int sasl_step(struct ctl_conn *c, const uint8_t *tok, size_t len, char *out, size_t cap,
		     const char **why)
{
	struct ctl_sasl_conn *sc = c->sasl;
	struct ctl_scram *sm = &sc->scram;
	int rc;

	if (!sc || sc->stage != SASL_HANDSHAKEN)
		return -EPROTO;
	if (sm->stage == CTL_SCRAM_START && login_blocked(c->srv->sasl, c->peer)) {
		*why = "too many failed logins from this address; try again in a minute";
		login_failed(c, *why, true);
		return -EACCES;
	}
	if (sc->mech == CTL_MECH_PLAIN) {
		rc = plain_step(c, tok, len, why);
	} else if (sm->stage == CTL_SCRAM_START) {
		rc = ctl_scram_server_first(sm, sc->mech, tok, len, creds_lookup, c->srv->sasl->creds,
					    NULL, out, cap);
		*why = rc == -ENOENT ? "invalid credentials" : "malformed client-first-message";
		if (rc >= 0)
			return rc;
		rc = -EACCES;
	} else {
		rc = ctl_scram_server_final(sm, tok, len, out, cap);
		*why = rc == -EACCES ? "invalid credentials" : "malformed client-final-message";
		if (rc < 0)
			rc = -EACCES;
	}
	if (rc < 0) {
		login_failed(c, *why, false);
		return rc;
	}
	sc->stage = SASL_DONE;
	snprintf(sc->principal, sizeof(sc->principal), "User:%s", sm->user);
	CTL_LOG(DEBUG, "connection %s authenticated as %s (%s)", c->peer, sc->principal,
		ctl_sasl_mech_name(sc->mech));
	return rc;
}

bool ctl_sasl_raw_token(struct ctl_conn *c, const uint8_t *tok, size_t len, struct ctl_resp *r)
{
	char out[512];
	const char *why = NULL;
	int n = sasl_step(c, tok, len, out, sizeof(out), &why);

	if (n < 0)
		return false; /* the v0 framing has no error: the connection closes */
	kp_write_raw(&r->w, out, (size_t)n);
	return true;
}

/* ---- what kp_sasl.c sees (ctl_server.h) -------------------------------- */

unsigned int ctl_resp_sasl_mechs(const struct ctl_resp *resp)
{
	return resp && resp->conn && resp->conn->sasl ? resp->srv->sasl->mechs : 0;
}

int16_t ctl_resp_sasl_handshake(struct ctl_resp *resp, const char *mech, size_t len, bool raw)
{
	struct ctl_sasl_conn *sc = resp && resp->conn ? resp->conn->sasl : NULL;
	int m;

	if (!sc || sc->stage != SASL_START)
		return KP_ERR_ILLEGAL_SASL_STATE;
	m = ctl_sasl_mech_parse(mech, len);
	if (m < 0 || !(resp->srv->sasl->mechs & (1u << m)))
		return KP_ERR_UNSUPPORTED_SASL_MECHANISM;
	creds_load(resp->srv->sasl, false);
	memset(&sc->scram, 0, sizeof(sc->scram));
	sc->mech = (enum ctl_sasl_mech)m;
	sc->raw = raw;
	sc->stage = SASL_HANDSHAKEN;
	return KP_ERR_NONE;
}

int16_t ctl_resp_sasl_authenticate(struct ctl_resp *resp, const uint8_t *tok, size_t len,
				   char *out, size_t cap, int *out_len, const char **msg)
{
	struct ctl_conn *c = resp ? resp->conn : NULL;
	int n;

	*out_len = 0;
	*msg = NULL;
	if (!c || !c->sasl || c->sasl->raw) {
		*msg = "SaslAuthenticate outside a SASL exchange";
		return KP_ERR_ILLEGAL_SASL_STATE;
	}
	n = sasl_step(c, tok, len, out, cap, msg);
	if (n == -EPROTO) {
		*msg = "SaslAuthenticate before SaslHandshake";
		return KP_ERR_ILLEGAL_SASL_STATE;
	}
	if (n < 0) {
		resp->close_after = true; /* as Kafka: the failure is answered, then closed */
		c->closing = true;
		return KP_ERR_SASL_AUTHENTICATION_FAILED;
	}
	*out_len = n;
	return KP_ERR_NONE;
}
