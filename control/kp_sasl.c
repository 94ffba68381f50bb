/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kp_sasl.c - SaslHandshake v0-1 and SaslAuthenticate v0-2: the wire
 * format only; the exchange itself is ctl_sasl.c's (ctl_server.h).
 *
 * Handshake v0 means the tokens that follow are bare frames (ctl_conn.c
 * routes them); v1 means they come in SaslAuthenticate requests.  Without
 * a server (the codec tests) or on a listener without SASL, the handshake
 * answers ILLEGAL_SASL_STATE with no mechanisms.
 */
#include <string.h>

#include "ctl_scram.h"
#include "kp_api.h"
#include "kp_err.h"

/* SaslHandshake: mechanism -> error_code, mechanisms[string]. */
enum ctl_disp kp_handle_sasl_handshake(struct kp_req *req, struct kp_reader *r,
				       struct kp_writer *w)
{
	struct kp_str mech = kp_read_str(r);            /* mechanism */
	unsigned int mechs;
	int16_t err;
	int32_t n = 0;

	if (!kp_reader_ok(r))
		return CTL_DISP_CLOSE;
	mechs = req->resp ? ctl_resp_sasl_mechs(req->resp) : 0;
	err = mechs ? ctl_resp_sasl_handshake(req->resp, mech.ptr, (size_t)mech.len,
					      req->api_version == 0)
		    : KP_ERR_ILLEGAL_SASL_STATE;
	kp_write_err(req, w, err);                       /* error_code */
	for (int m = 0; m < CTL_MECH__COUNT; m++)
		n += (mechs >> m) & 1;
	kp_write_i32(w, n);                              /* mechanisms */
	for (int m = 0; m < CTL_MECH__COUNT; m++)
		if (mechs & (1u << m))
			kp_write_str(w, ctl_sasl_mech_name((enum ctl_sasl_mech)m));
	return CTL_DISP_RESPOND;
}

/* BYTES (v0-1) or COMPACT_BYTES (v2). */
static void write_auth_bytes(struct kp_req *req, struct kp_writer *w, const void *p, int32_t len)
{
	if (!req->flexible) {
		kp_write_bytes(w, p, len);
		return;
	}
	kp_write_uvarint(w, (uint32_t)len + 1);
	kp_write_raw(w, p, (size_t)len);
}

/*
 * SaslAuthenticate: auth_bytes -> error_code, error_message,
 * auth_bytes, session_lifetime_ms (v1+).
 */
enum ctl_disp kp_handle_sasl_authenticate(struct kp_req *req, struct kp_reader *r,
					  struct kp_writer *w)
{
	struct kp_str tok = req->flexible ? kp_read_cstr(r) : kp_read_bytes(r); /* auth_bytes */
	const char *msg = "SaslAuthenticate outside a SASL exchange";
	char out[512];
	int out_len = 0;
	int16_t err = KP_ERR_ILLEGAL_SASL_STATE;

	if (!kp_reader_ok(r) || tok.len < 0)
		return CTL_DISP_CLOSE;
	if (req->resp)
		err = ctl_resp_sasl_authenticate(req->resp, (const uint8_t *)tok.ptr, (size_t)tok.len,
						 out, sizeof(out), &out_len, &msg);
	kp_write_err(req, w, err);                       /* error_code */
	if (req->flexible)
		kp_write_cstr(w, msg);                   /* error_message */
	else
		kp_write_str(w, msg);
	write_auth_bytes(req, w, out, out_len);          /* auth_bytes */
	if (req->api_version >= 1)
		kp_write_i64(w, 0);                      /* session_lifetime_ms: no re-auth */
	if (req->flexible)
		kp_write_tags_empty(w);
	return CTL_DISP_RESPOND;
}
