/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_server.h - the control thread's event loop and Kafka TCP server.
 *
 * One thread runs everything: an epoll loop (level-triggered) over the
 * listening sockets, the connections, an eventfd for cross-thread wakeups
 * and, optionally, a signalfd for SIGTERM/SIGINT.  Sockets are nonblocking.
 *
 * Framing: each request is "i32 size" + size bytes.  size <= 0 or above
 * socket.request.max.bytes closes that connection (one log line, a
 * counter); nothing else is affected.  Every complete frame is handed to the
 * dispatch callback together with a response slot (struct ctl_resp) that
 * is already queued on the connection, so responses leave strictly in
 * request order.
 *
 * Deferred responses: dispatch may return CTL_DISP_PENDING and keep the
 * slot; later responses on that connection are produced but wait behind it.
 * The owner finishes the frame in ctl_resp_writer() and calls
 * ctl_resp_complete() on the loop thread (from a timer, a notify callback or
 * another handler).  If the connection dies first, the slot is orphaned:
 * the optional cancel hook is called (so a long-poll can stop waiting), and
 * the owner must still call ctl_resp_complete(), which then just frees it.
 *
 * Threads: everything here runs on the loop thread except ctl_server_stop(),
 * ctl_server_notify() and ctl_notifier_signal(), which are async-signal- and
 * thread-safe.
 */
#ifndef CTL_SERVER_H
#define CTL_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fwc_broker;
struct kp_writer;
struct ctl_server;
struct ctl_resp;

/* What dispatch did with a request. */
enum ctl_disp {
	CTL_DISP_RESPOND = 0,   /* the response frame is complete in the slot */
	CTL_DISP_NO_RESPONSE,   /* no response (Produce acks=0) */
	CTL_DISP_PENDING,       /* the handler kept the slot; it completes it later */
	CTL_DISP_CLOSE,         /* malformed: close the connection */
	/*
	 * An API key or version the broker does not serve: close the
	 * connection, as Kafka does.  Logged once per API key, not per
	 * connection: a client that cannot do without it retries for ever.
	 */
	CTL_DISP_UNSUPPORTED,
};

/*
 * Called for every complete request frame (header + body, without the size
 * prefix).  The frame is valid only during the call.  The slot's writer is
 * empty; by convention it receives the whole response frame, size slot
 * first (ctl_resp_complete patches the size).
 */
typedef enum ctl_disp (*ctl_dispatch_fn)(void *arg, const uint8_t *frame, size_t len,
					 struct ctl_resp *resp);

#define CTL_API_KEYS 128        /* per-key counters for api_key 0..127 */

/*
 * Request latency histogram (sluice_kafka_request_seconds): upper bounds in
 * microseconds, plus one bucket for larger.  A Fetch that waits for data
 * (fetch.max.wait.ms) counts its wait.
 */
#define CTL_LAT_BUCKETS 15
static const uint32_t ctl_lat_bucket_us[CTL_LAT_BUCKETS] = {
	50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 5000000,
};

struct ctl_api_stats {
	uint64_t requests;
	uint64_t errors;        /* responses carrying a non-zero error code */
	uint64_t latency_ns;    /* sum of request-read -> response-queued times */
	uint64_t latency_bucket[CTL_LAT_BUCKETS + 1]; /* their histogram, not cumulative */
};

/* Plain counters, written by the loop thread only. */
struct ctl_server_stats {
	struct ctl_api_stats api[CTL_API_KEYS];
	uint64_t conn_accepted;
	uint64_t conn_closed;
	uint64_t conn_rejected;         /* max.connections reached at accept */
	uint64_t conn_idle_closed;      /* connections.max.idle.ms */
	uint64_t frames_too_large;      /* size > socket.request.max.bytes */
	uint64_t frames_invalid;        /* size <= 0 */
	uint64_t requests_refused;      /* unadvertised API/version or malformed: closed */
	uint64_t tls_handshake_failures; /* SSL listeners: handshakes refused or broken off */
	uint64_t auth_failures[3];      /* SASL logins failed, by enum ctl_sasl_mech */
	uint64_t auth_refused;          /* SASL logins refused: too many failures from the address */
	uint64_t bytes_in, bytes_out;
	uint32_t conn_open;
};

struct ctl_server_params {
	const struct fwc_broker *broker;        /* listeners and limits; must outlive the server */
	ctl_dispatch_fn dispatch;
	void *dispatch_arg;
	bool handle_signals;    /* own a signalfd for SIGTERM/SIGINT/SIGHUP (caller blocked them) */
	void (*on_hup)(void *arg);  /* SIGHUP, on the loop thread (e.g. reopen the log); may be NULL */
	void *hup_arg;
};

/**
 * Bind every listener (SO_REUSEADDR), create the epoll set, eventfd and
 * optional signalfd.  Nothing runs until ctl_server_run().
 *
 * @return 0, -EINVAL (bad listener), -EADDRINUSE etc. from bind, -ENOMEM.
 */
int ctl_server_create(const struct ctl_server_params *p, struct ctl_server **out);

/**
 * Run the loop on the calling thread until stopped.  SIGPIPE is blocked on
 * that thread meanwhile: a write to a peer that went away fails with EPIPE
 * and closes that connection only.
 *
 * @return the signal number that stopped it (SIGTERM/SIGINT), 0 after
 *   ctl_server_stop(), or -errno if epoll failed.
 */
int ctl_server_run(struct ctl_server *srv);

/** Make ctl_server_run() return soon.  Any thread, signal-safe. */
void ctl_server_stop(struct ctl_server *srv);

/**
 * Wake the loop and run the notify callbacks there ("watermarks moved").
 * Any thread; wakeups coalesce.
 */
void ctl_server_notify(struct ctl_server *srv);

/** Register a callback run on the loop after ctl_server_notify(). @return 0 or -ENOSPC. */
int ctl_server_on_notify(struct ctl_server *srv, void (*fn)(void *arg), void *arg);

/*
 * A wakeup that outlives servers: an eventfd and a flag, owned by whoever
 * owns the threads that signal it (ctl_store, for its writer threads).
 * ctl_server_notify() needs a live server, so a thread that may still run
 * while the server is destroyed must not call it: it signals its notifier
 * instead, which its owner creates before those threads start and destroys
 * after they are joined.  A server watches a notifier (its fd in the epoll
 * set) and runs the notify callbacks when it is signalled; unwatching, and
 * destroying the server, only take the fd out of the epoll set.  A signal
 * made while no server watches stays pending for the next one.
 */
struct ctl_notifier;

/** @return 0, -ENOMEM or -errno from eventfd. */
int ctl_notifier_create(struct ctl_notifier **out);
/** Wake whoever watches it.  Any thread; async-signal-safe; wakeups coalesce. */
void ctl_notifier_signal(struct ctl_notifier *n);
/** Close and free, once nothing signals or watches it any more.  NULL is a no-op. */
void ctl_notifier_destroy(struct ctl_notifier *n);
/** Watch @n (loop thread).  @return 0, -ENOSPC, -EBUSY (watched by a server), -errno. */
int ctl_server_watch(struct ctl_server *srv, struct ctl_notifier *n);
/** Stop watching @n (loop thread; harmless when not watched by @srv). */
void ctl_server_unwatch(struct ctl_server *srv, struct ctl_notifier *n);

/**
 * Close every connection, listener and fd; orphaned slots are freed; watched
 * notifiers are unwatched (not closed: their owners close them).  NULL is a
 * no-op.
 */
void ctl_server_destroy(struct ctl_server *srv);

/** The bound port of listener @i (useful with port 0), or 0. */
uint16_t ctl_server_port(const struct ctl_server *srv, unsigned int i);

const struct ctl_server_stats *ctl_server_stats(const struct ctl_server *srv);

/* ---- response slots ---------------------------------------------------- */

/** The slot's frame buffer. */
struct kp_writer *ctl_resp_writer(struct ctl_resp *resp);
/** The server the slot belongs to (for timers and notify). */
struct ctl_server *ctl_resp_server(const struct ctl_resp *resp);
/** The peer's address ("127.0.0.1:40000"), or "" once orphaned. */
const char *ctl_resp_peer(const struct ctl_resp *resp);
/** Count @n error codes in this response (per-API errors counter). */
void ctl_resp_add_errors(struct ctl_resp *resp, unsigned int n);
/** Hook called if the connection goes away while the slot is pending. */
void ctl_resp_set_cancel(struct ctl_resp *resp, void (*cancel)(void *arg, struct ctl_resp *r),
			 void *arg);
/**
 * Zero copy: splice @len bytes of file @fd from offset @pos into the
 * response at the writer's current end.  The frame is then the writer's
 * bytes with the file ranges inserted where they were added; the ranges go
 * from the file to the socket with sendfile(), never through this process.
 * @release(@arg) runs exactly once when the slot no longer needs the range
 * (sent, dropped, or the connection gone), so the file stays open until
 * then.  Loop thread.
 *
 * @return 0, or -ENOMEM (nothing added; @release is not called).
 */
int ctl_resp_add_file(struct ctl_resp *resp, int fd, uint64_t pos, uint32_t len,
		      void (*release)(void *arg), void *arg);
/** True once the connection behind a pending slot is gone. */
bool ctl_resp_orphaned(const struct ctl_resp *resp);

/* ---- SASL state of the request's connection (ctl_sasl.c) ------------------ */

/** Index in listeners of the one the request came in on; -1 once orphaned. */
int ctl_resp_listener(const struct ctl_resp *resp);
/**
 * As Kafka names them: "User:NAME" after a SASL login, else "User:<DN>" of a
 * verified TLS client certificate, else "User:ANONYMOUS".
 */
const char *ctl_resp_principal(const struct ctl_resp *resp);
/** Mechanisms offered there: bits 1u << enum ctl_sasl_mech; 0: not a SASL listener. */
unsigned int ctl_resp_sasl_mechs(const struct ctl_resp *resp);
/**
 * SaslHandshake: start an exchange with mechanism @mech (@len bytes); @raw
 * (v0): the tokens follow as bare frames.
 * @return a Kafka error code: 0, UNSUPPORTED_SASL_MECHANISM, ILLEGAL_SASL_STATE.
 */
int16_t ctl_resp_sasl_handshake(struct ctl_resp *resp, const char *mech, size_t len, bool raw);
/**
 * SaslAuthenticate: one client token; the reply token goes to @out
 * (*@out_len bytes).  On SASL_AUTHENTICATION_FAILED the connection is
 * closed once this response is written.
 * @return a Kafka error code (0, ILLEGAL_SASL_STATE, SASL_AUTHENTICATION_FAILED),
 *   with *@msg the error_message (NULL on success).
 */
int16_t ctl_resp_sasl_authenticate(struct ctl_resp *resp, const uint8_t *tok, size_t len,
				   char *out, size_t cap, int *out_len, const char **msg);
/**
 * Finish a pending slot: patch the frame size, send it when its turn comes
 * (@send false: no response, the slot just leaves the queue).  Frees an
 * orphaned slot.  Loop thread only; the slot is invalid afterwards.
 */
void ctl_resp_complete(struct ctl_resp *resp, bool send);

/* ---- timers ------------------------------------------------------------- */

/*
 * Intrusive one-shot timers owned by the caller (no allocation); a sorted
 * list searched from its latest deadline, so a timer armed with the same
 * delay as those before it (long-polls with one max_wait_ms) goes in at
 * once, however many wait (thousands under load, tests/reliability/load.sh).
 * Callbacks run on the loop thread; a callback may re-arm its timer.
 */
struct ctl_timer {
	uint64_t deadline_ns;   /* CLOCK_MONOTONIC */
	void (*fn)(void *arg, struct ctl_timer *t);
	void *arg;
	struct ctl_timer *prev, *next;
	bool armed;
};

void ctl_timer_init(struct ctl_timer *t, void (*fn)(void *arg, struct ctl_timer *t), void *arg);
/** (Re-)arm @t to fire @delay_ms from now. */
void ctl_timer_arm(struct ctl_server *srv, struct ctl_timer *t, uint64_t delay_ms);
/** Disarm; harmless when not armed. */
void ctl_timer_cancel(struct ctl_server *srv, struct ctl_timer *t);

/** CLOCK_MONOTONIC in nanoseconds (the loop's clock). */
uint64_t ctl_now_ns(void);

#endif /* CTL_SERVER_H */
