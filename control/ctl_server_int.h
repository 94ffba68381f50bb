/* SPDX-License-Identifier: BSD-3-Clause */
/* ctl_server_int.h - loop, connection and response-slot internals (control/ only). */
#ifndef CTL_SERVER_INT_H
#define CTL_SERVER_INT_H

#include <stdatomic.h>
#include <stdint.h>

#include "ctl_server.h"
#include "fwc_log.h"
#include "fwc_config.h"
#include "kp_buf.h"
#include "ctl_tls.h"

/* Back-pressure: stop reading a connection with this many slots queued... */
#define CTL_CONN_QUEUE_MAX      256
#define CTL_CONN_OUT_MAX        (16u << 20)
/* ...and resume below these. */
#define CTL_CONN_QUEUE_LOW      128
#define CTL_CONN_OUT_LOW        (8u << 20)
#define CTL_CONN_IN_MIN         (64u << 10)     /* input buffer, initial/idle size */
/* Kept between requests up to this size (librdkafka's 1 MB batches): no regrowth per request. */
#define CTL_CONN_IN_KEEP        (2u << 20)
#define CTL_MAX_NOTIFY          8
#define CTL_MAX_NOTIFIERS       4       /* ctl_notifiers watched by one server */

enum ctl_src_kind { CTL_SRC_LISTENER, CTL_SRC_CONN, CTL_SRC_EVENT, CTL_SRC_SIGNAL,
		    CTL_SRC_NOTIFIER };

/* First member of everything registered with epoll (data.ptr). */
struct ctl_src {
	enum ctl_src_kind kind;
};

struct ctl_lsock {
	struct ctl_src src;
	int fd;
	uint16_t port;
	bool tls;                       /* SSL:// listener: connections start a handshake */
	bool sasl;                      /* SASL_*:// listener: requests wait for a login */
	char text[FWC_STR_MAX];
};

/* A file range spliced into a response before writer byte @at. */
struct ctl_resp_file {
	size_t at;
	int fd;
	uint64_t pos;
	uint32_t len;
	void (*release)(void *arg);
	void *arg;
};

struct ctl_resp {
	struct ctl_resp *next;          /* connection queue, or orphan list */
	struct ctl_conn *conn;          /* NULL once orphaned */
	struct ctl_server *srv;
	struct kp_writer w;             /* the whole response frame */
	struct ctl_resp_file *files;    /* zero-copy ranges, in frame order */
	unsigned int n_files, cap_files;
	uint64_t file_bytes;            /* sum of their lengths */
	size_t sent;                    /* bytes of the whole frame written */
	uint64_t t0;
	int16_t api_key;
	bool ready, send, pending;
	bool raw;                       /* a bare SASL token frame: no header, may be empty */
	bool close_after;               /* close the connection once this is written */
	unsigned int errors;
	void (*cancel)(void *arg, struct ctl_resp *r);
	void *cancel_arg;
};

struct ctl_conn {
	struct ctl_src src;
	int fd;
	struct ctl_server *srv;
	uint8_t *in;                    /* received, not yet consumed */
	size_t in_len, in_cap;
	struct ctl_resp *q_head, *q_tail;
	unsigned int q_n;
	size_t out_bytes;               /* completed, unsent */
	uint32_t ev_mask;               /* what epoll watches now */
	bool closed, paused, processing;
	uint64_t last_ns;               /* last read or write progress */
	struct ctl_conn *prev, *next;   /* LRU list of live connections */
	struct ctl_conn *dead_next;     /* closed, freed at the end of the loop pass */
	SSL *ssl;                       /* NULL on a plaintext listener */
	struct ctl_sasl_conn *sasl;     /* SASL_* listener: the exchange, the principal */
	bool closing;                   /* answered a failed login: read nothing more */
	bool tls_ready;                 /* handshake done */
	uint32_t tls_want;              /* EPOLLOUT: OpenSSL waits to write (handshake, read) */
	char tls_principal[256];        /* "User:<DN>" of a verified client certificate, or "" */
	unsigned int ls_index;          /* the listener it came in on (broker listeners order) */
	char peer[64];
};

/* Rate-limited log call sites of the server (CTL_LOG_RL): 10 lines, then 1 a second. */
enum ctl_log_rl { CTL_RL_MALFORMED, CTL_RL_FRAME_SIZE, CTL_RL_TLS, CTL_RL_SASL, CTL_RL__COUNT };

struct ctl_server {
	struct fwc_ratelimit log_rl[CTL_RL__COUNT];
	const struct fwc_broker *b;
	ctl_dispatch_fn dispatch;
	void *dispatch_arg;
	int epfd;
	struct ctl_src ev_src;
	int evfd;
	struct ctl_src sig_src;
	int sigfd;
	struct ctl_tls *tls;            /* with an SSL listener */
	struct ctl_sasl *sasl;          /* with a SASL listener */
	struct ctl_lsock ls[FWC_MAX_LISTENERS];
	unsigned int n_ls;
	bool ls_paused;
	struct ctl_conn *lru_head, *lru_tail;
	struct ctl_conn *dead;
	struct ctl_resp *orphans;
	struct ctl_timer *timers;       /* sorted by deadline */
	struct ctl_timer *timers_tail;  /* the latest deadline: arm searches from here */
	struct ctl_timer idle_timer, accept_timer;
	atomic_bool stop_req, notify_req;
	bool stopping;
	int stop_sig;
	void (*on_hup)(void *arg);
	void *hup_arg;
	struct { void (*fn)(void *arg); void *arg; } notify[CTL_MAX_NOTIFY];
	unsigned int n_notify;
	struct ctl_notifier *notifiers[CTL_MAX_NOTIFIERS]; /* watched; not owned */
	uint64_t reject_log_ns, reject_unlogged;
	uint64_t unsupported_logged[CTL_API_KEYS / 64 + 1]; /* API keys logged (last bit: others) */
	struct ctl_server_stats st;
};

/* Free a slot, releasing its file ranges. */
void ctl_resp_free(struct ctl_resp *r);
/* @l: the listener (TLS handshake first; SASL login before other requests). */
int ctl_conn_open(struct ctl_server *s, int fd, const char *peer, const struct ctl_lsock *l);

/* ---- SASL (ctl_sasl.c) ---- */
struct ctl_sasl;
struct ctl_sasl_conn;
/* From sasl.enabled.mechanisms and sasl.credentials.location (logged). @return 0, -EINVAL, -ENOMEM. */
int ctl_sasl_create(const struct fwc_broker *b, struct ctl_sasl **out);
void ctl_sasl_destroy(struct ctl_sasl *s);
struct ctl_sasl_conn *ctl_sasl_conn_new(void);
void ctl_sasl_conn_free(struct ctl_sasl_conn *sc);
bool ctl_sasl_conn_authenticated(const struct ctl_sasl_conn *sc);
/* After SaslHandshake v0: the next frame is a bare token. */
bool ctl_sasl_conn_raw(const struct ctl_sasl_conn *sc);
/* A bare token: the reply appended to @r's writer.  @return false: login failed, close. */
bool ctl_sasl_raw_token(struct ctl_conn *c, const uint8_t *tok, size_t len, struct ctl_resp *r);
void ctl_conn_event(struct ctl_conn *c, uint32_t events);
void ctl_conn_close(struct ctl_conn *c, const char *why);
void ctl_conn_reap(struct ctl_server *s);
/* Close connections idle for connections.max.idle.ms; @return how many. */
unsigned int ctl_conn_idle_sweep(struct ctl_server *s, uint64_t now);
/* Orphan everything and free connections (server teardown). */
void ctl_conn_close_all(struct ctl_server *s);

#endif /* CTL_SERVER_INT_H */
