/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_server.c - the control thread's epoll loop: listeners, accept with
 * max.connections, timers, the idle sweep, cross-thread wakeups (eventfd)
 * and stop signals (signalfd).  Connections themselves are in ctl_conn.c.
 *
 * Level-triggered epoll: a connection that still has input after its read
 * budget is simply reported again on the next pass, which keeps one busy
 * client from starving the others without any "re-arm" bookkeeping; EPOLLOUT
 * is only watched while a connection has completed responses it could not
 * write, and EPOLLIN is dropped while it is paused for back-pressure.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include "ctl_listener.h"
#include "ctl_log.h"
#include "ctl_server_int.h"

RTE_LOG_REGISTER(ctl_logtype, sluice.control, INFO);

#define ACCEPT_BURST 64

uint64_t ctl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- timers --------------------------------------------------------------- */

void ctl_timer_init(struct ctl_timer *t, void (*fn)(void *arg, struct ctl_timer *t), void *arg)
{
	memset(t, 0, sizeof(*t));
	t->fn = fn;
	t->arg = arg;
}

void ctl_timer_cancel(struct ctl_server *srv, struct ctl_timer *t)
{
	if (!t->armed)
		return;
	if (t->prev)
		t->prev->next = t->next;
	else
		srv->timers = t->next;
	if (t->next)
		t->next->prev = t->prev;
	else
		srv->timers_tail = t->prev;
	t->prev = t->next = NULL;
	t->armed = false;
}

void ctl_timer_arm(struct ctl_server *srv, struct ctl_timer *t, uint64_t delay_ms)
{
	struct ctl_timer *prev, *next;

	ctl_timer_cancel(srv, t);
	t->deadline_ns = ctl_now_ns() + delay_ms * 1000000u;
	/* After every timer due no later (equal deadlines keep arming order). */
	for (prev = srv->timers_tail; prev && prev->deadline_ns > t->deadline_ns; prev = prev->prev)
		;
	next = prev ? prev->next : srv->timers;
	t->prev = prev;
	t->next = next;
	if (prev)
		prev->next = t;
	else
		srv->timers = t;
	if (next)
		next->prev = t;
	else
		srv->timers_tail = t;
	t->armed = true;
}

static void timers_run(struct ctl_server *s)
{
	uint64_t now = ctl_now_ns();

	while (s->timers && s->timers->deadline_ns <= now) {
		struct ctl_timer *t = s->timers;

		ctl_timer_cancel(s, t);
		t->fn(t->arg, t);
	}
}

/* epoll_wait timeout: until the next timer, rounded up to a millisecond. */
static int timers_timeout_ms(const struct ctl_server *s)
{
	uint64_t now = ctl_now_ns(), ms;

	if (!s->timers)
		return -1;
	if (s->timers->deadline_ns <= now)
		return 0;
	ms = (s->timers->deadline_ns - now + 999999u) / 1000000u;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* Sweep period: a quarter of the idle limit, between 10 ms and 1 s. */
static uint64_t idle_period_ms(const struct ctl_server *s)
{
	int64_t q = s->b->connections_max_idle_ms / 4;

	return q < 10 ? 10 : q > 1000 ? 1000 : (uint64_t)q;
}

static void idle_timer_fn(void *arg, struct ctl_timer *t)
{
	struct ctl_server *s = arg;
	unsigned int n = ctl_conn_idle_sweep(s, ctl_now_ns());

	if (n)
		CTL_LOG(INFO, "closed %u connection(s) idle for connections.max.idle.ms %ld", n,
			(long)s->b->connections_max_idle_ms);
	ctl_timer_arm(s, t, idle_period_ms(s));
}

/* ---- listeners and accept ------------------------------------------------ */

static void listeners_watch(struct ctl_server *s, bool on)
{
	for (unsigned int i = 0; i < s->n_ls; i++) {
		struct epoll_event ev = { .events = on ? EPOLLIN : 0, .data.ptr = &s->ls[i].src };

		epoll_ctl(s->epfd, EPOLL_CTL_MOD, s->ls[i].fd, &ev);
	}
	s->ls_paused = !on;
}

static void accept_timer_fn(void *arg, struct ctl_timer *t)
{
	(void)t;
	listeners_watch(arg, true);
}

static void peer_text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned int port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		port = ntohs(a->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		port = ntohs(a->sin6_port);
	}
	snprintf(buf, len, "%s:%u", host, port);
}

/* max.connections: refuse by closing at once; one log line per second at most. */
static void reject(struct ctl_server *s, int fd)
{
	uint64_t now = ctl_now_ns();

	close(fd);
	s->st.conn_rejected++;
	s->reject_unlogged++;
	if (now - s->reject_log_ns >= 1000000000u || s->reject_log_ns == 0) {
		CTL_LOG(WARNING, "max.connections %d reached: refused %lu connection(s)",
			s->b->max_connections, (unsigned long)s->reject_unlogged);
		s->reject_log_ns = now;
		s->reject_unlogged = 0;
	}
}

static void listener_accept(struct ctl_server *s, struct ctl_lsock *l)
{
	for (int i = 0; i < ACCEPT_BURST; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		char peer[64];
		int one = 1, fd;

		fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* Level-triggered: stop watching for a moment or we spin. */
				CTL_LOG(WARNING, "accept on %s: %s; pausing 100 ms", l->text,
					strerror(errno));
				listeners_watch(s, false);
				ctl_timer_arm(s, &s->accept_timer, 100);
			}
			return;
		}
		if ((int64_t)s->st.conn_open >= s->b->max_connections) {
			reject(s, fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		peer_text(&ss, peer, sizeof(peer));
		if (ctl_conn_open(s, fd, peer, l) < 0)
			close(fd);
	}
}

static int listener_open(struct ctl_server *s, const char *text, struct ctl_lsock *l)
{
	struct sockaddr_storage ss;
	struct ctl_listener cl;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &l->src };
	socklen_t sl;
	int one = 1, rc;

	l->src.kind = CTL_SRC_LISTENER;
	l->fd = -1;
	snprintf(l->text, sizeof(l->text), "%s", text);
	if ((rc = ctl_listener_parse(text, s->b->listener_security_protocol_map, &cl)) < 0 || (rc = ctl_listener_sockaddr(&cl, &ss, &sl)) < 0)
		return rc;
	l->tls = cl.security == CTL_SEC_SSL || cl.security == CTL_SEC_SASL_SSL;
	l->sasl = cl.security == CTL_SEC_SASL_PLAINTEXT || cl.security == CTL_SEC_SASL_SSL;
	if (l->tls && !s->tls && (rc = ctl_tls_create(s->b, &s->tls)) < 0)
		return rc;
	if (l->sasl && !s->sasl && (rc = ctl_sasl_create(s->b, &s->sasl)) < 0)
		return rc;
	l->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0)
		return -errno;
	setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l->fd, (struct sockaddr *)&ss, sl) < 0 || listen(l->fd, 1024) < 0 ||
	    epoll_ctl(s->epfd, EPOLL_CTL_ADD, l->fd, &ev) < 0)
		return -errno;
	sl = sizeof(ss);
	if (getsockname(l->fd, (struct sockaddr *)&ss, &sl) == 0)
		l->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
							  : ((struct sockaddr_in *)&ss)->sin_port);
	CTL_LOG(INFO, "listening on %s (port %u)", text, l->port);
	return 0;
}

/* ---- notifiers ------------------------------------------------------------- */

/*
 * Owned by the signalling side (see ctl_server.h): a signaller touches only
 * this struct, never a server, so a server may go away while it runs.
 */
struct ctl_notifier {
	struct ctl_src src;             /* first: epoll data.ptr */
	int fd;                         /* eventfd */
	atomic_bool pending;
	struct ctl_server *watcher;     /* loop thread only */
};

int ctl_notifier_create(struct ctl_notifier **out)
{
	struct ctl_notifier *n = calloc(1, sizeof(*n));

	if (!n)
		return -ENOMEM;
	n->src.kind = CTL_SRC_NOTIFIER;
	atomic_init(&n->pending, false);
	n->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (n->fd < 0) {
		int rc = -errno;

		free(n);
		return rc;
	}
	*out = n;
	return 0;
}

void ctl_notifier_signal(struct ctl_notifier *n)
{
	uint64_t one = 1;

	if (!atomic_exchange(&n->pending, true)) {
		ssize_t k = write(n->fd, &one, sizeof(one));

		(void)k; /* EAGAIN: the counter is saturated, the loop wakes anyway */
	}
}

/* Loop thread: consume the wakeup.  @return true if a signal was pending. */
static bool notifier_drain(struct ctl_notifier *n)
{
	uint64_t v;

	while (read(n->fd, &v, sizeof(v)) > 0)
		;
	return atomic_exchange(&n->pending, false);
}

void ctl_notifier_destroy(struct ctl_notifier *n)
{
	if (!n)
		return;
	if (n->watcher)
		ctl_server_unwatch(n->watcher, n);
	close(n->fd);
	free(n);
}

int ctl_server_watch(struct ctl_server *srv, struct ctl_notifier *n)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &n->src };

	if (n->watcher)
		return n->watcher == srv ? 0 : -EBUSY;
	for (unsigned int i = 0; i < CTL_MAX_NOTIFIERS; i++) {
		if (srv->notifiers[i])
			continue;
		if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, n->fd, &ev) < 0)
			return -errno;
		srv->notifiers[i] = n;
		n->watcher = srv;
		return 0;
	}
	return -ENOSPC;
}

void ctl_server_unwatch(struct ctl_server *srv, struct ctl_notifier *n)
{
	for (unsigned int i = 0; i < CTL_MAX_NOTIFIERS; i++) {
		if (srv->notifiers[i] != n)
			continue;
		epoll_ctl(srv->epfd, EPOLL_CTL_DEL, n->fd, NULL);
		srv->notifiers[i] = NULL;
		n->watcher = NULL;
	}
}

/* ---- create / run / stop ------------------------------------------------- */

static int add_fd(struct ctl_server *s, int fd, struct ctl_src *src)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = src };

	return epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static int server_fds(struct ctl_server *s, bool signals)
{
	sigset_t set;
	int rc;

	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0)
		return -errno;
	s->ev_src.kind = CTL_SRC_EVENT;
	s->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->evfd < 0)
		return -errno;
	if (!signals)
		return add_fd(s, s->evfd, &s->ev_src);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	s->sig_src.kind = CTL_SRC_SIGNAL;
	s->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s->sigfd < 0)
		return -errno;
	rc = add_fd(s, s->evfd, &s->ev_src);
	return rc < 0 ? rc : add_fd(s, s->sigfd, &s->sig_src);
}

int ctl_server_create(const struct ctl_server_params *p, struct ctl_server **out)
{
	struct ctl_server *s = calloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	for (unsigned int i = 0; i < CTL_RL__COUNT; i++)
		s->log_rl[i] = (struct fwc_ratelimit)CTL_LOG_RL_INIT;
	s->b = p->broker;
	s->dispatch = p->dispatch;
	s->dispatch_arg = p->dispatch_arg;
	s->on_hup = p->on_hup;
	s->hup_arg = p->hup_arg;
	s->evfd = s->sigfd = s->epfd = -1;
	atomic_init(&s->stop_req, false);
	atomic_init(&s->notify_req, false);
	ctl_timer_init(&s->idle_timer, idle_timer_fn, s);
	ctl_timer_init(&s->accept_timer, accept_timer_fn, s);
	if ((rc = server_fds(s, p->handle_signals)) < 0)
		goto out;
	for (unsigned int i = 0; i < p->broker->n_listeners; i++) {
		rc = listener_open(s, p->broker->listeners[i], &s->ls[i]);
		s->n_ls = i + 1;
		if (rc < 0) {
			CTL_LOG(ERR, "listener %s: %s", p->broker->listeners[i], strerror(-rc));
			goto out;
		}
	}
	*out = s;
	s = NULL;
out:
	ctl_server_destroy(s);
	return rc;
}

static void notify_run(struct ctl_server *s)
{
	for (unsigned int i = 0; i < s->n_notify; i++)
		s->notify[i].fn(s->notify[i].arg);
}

static void eventfd_drain(struct ctl_server *s)
{
	uint64_t v;

	while (read(s->evfd, &v, sizeof(v)) > 0)
		;
	if (atomic_exchange(&s->notify_req, false))
		notify_run(s);
	if (atomic_load(&s->stop_req))
		s->stopping = true;
}

static void signalfd_drain(struct ctl_server *s)
{
	struct signalfd_siginfo si;

	while (read(s->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			if (s->on_hup)
				s->on_hup(s->hup_arg);
			continue;
		}
		s->stop_sig = (int)si.ssi_signo;
		s->stopping = true;
	}
}

static void handle_event(struct ctl_server *s, struct epoll_event *ev)
{
	struct ctl_src *src = ev->data.ptr;

	switch (src->kind) {
	case CTL_SRC_LISTENER:
		listener_accept(s, (struct ctl_lsock *)src);
		break;
	case CTL_SRC_CONN:
		ctl_conn_event((struct ctl_conn *)src, ev->events);
		break;
	case CTL_SRC_EVENT:
		eventfd_drain(s);
		break;
	case CTL_SRC_SIGNAL:
		signalfd_drain(s);
		break;
	case CTL_SRC_NOTIFIER:
		if (notifier_drain((struct ctl_notifier *)src))
			notify_run(s);
		break;
	}
}

/*
 * A peer that half-closed and then reset its connection makes the next
 * write, writev or sendfile to it fail with EPIPE and raise SIGPIPE, whose
 * default action ends the process: any client could stop the broker.  The
 * loop thread keeps SIGPIPE blocked while it runs (sendfile has no
 * MSG_NOSIGNAL) and consumes what is pending before restoring its mask.
 */
static void sigpipe_block(sigset_t *old)
{
	sigset_t pipe;

	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, old);
}

static void sigpipe_restore(const sigset_t *old)
{
	struct timespec zero = { 0, 0 };
	sigset_t pipe;

	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	while (sigtimedwait(&pipe, NULL, &zero) == SIGPIPE)
		;
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

int ctl_server_run(struct ctl_server *s)
{
	struct epoll_event evs[64];
	sigset_t old_mask;
	int rc = 0;

	sigpipe_block(&old_mask);
	if (s->b->connections_max_idle_ms > 0)
		ctl_timer_arm(s, &s->idle_timer, idle_period_ms(s));
	s->stopping = atomic_load(&s->stop_req);
	while (!s->stopping) {
		int n = epoll_wait(s->epfd, evs, 64, timers_timeout_ms(s));

		if (n < 0 && errno != EINTR) {
			rc = -errno;
			CTL_LOG(ERR, "epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++)
			handle_event(s, &evs[i]);
		timers_run(s);
		ctl_conn_reap(s);
	}
	ctl_timer_cancel(s, &s->idle_timer);
	sigpipe_restore(&old_mask);
	return rc < 0 ? rc : s->stop_sig;
}

static void evfd_poke(struct ctl_server *s)
{
	uint64_t one = 1;
	ssize_t n = write(s->evfd, &one, sizeof(one));

	(void)n; /* EAGAIN: the counter is saturated, the loop wakes anyway */
}

void ctl_server_stop(struct ctl_server *srv)
{
	atomic_store(&srv->stop_req, true);
	evfd_poke(srv);
}

void ctl_server_notify(struct ctl_server *srv)
{
	if (!atomic_exchange(&srv->notify_req, true))
		evfd_poke(srv);
}

int ctl_server_on_notify(struct ctl_server *srv, void (*fn)(void *arg), void *arg)
{
	if (srv->n_notify == CTL_MAX_NOTIFY)
		return -ENOSPC;
	srv->notify[srv->n_notify].fn = fn;
	srv->notify[srv->n_notify].arg = arg;
	srv->n_notify++;
	return 0;
}

void ctl_server_destroy(struct ctl_server *s)
{
	if (!s)
		return;
	for (unsigned int i = 0; i < CTL_MAX_NOTIFIERS; i++)
		if (s->notifiers[i])
			ctl_server_unwatch(s, s->notifiers[i]);
	ctl_conn_close_all(s);
	while (s->orphans) {
		struct ctl_resp *r = s->orphans;

		s->orphans = r->next;
		ctl_resp_free(r);
	}
	for (unsigned int i = 0; i < s->n_ls; i++)
		if (s->ls[i].fd >= 0)
			close(s->ls[i].fd);
	if (s->sigfd >= 0)
		close(s->sigfd);
	if (s->evfd >= 0)
		close(s->evfd);
	if (s->epfd >= 0)
		close(s->epfd);
	ctl_tls_destroy(s->tls);
	ctl_sasl_destroy(s->sasl);
	free(s);
}

uint16_t ctl_server_port(const struct ctl_server *srv, unsigned int i)
{
	return i < srv->n_ls ? srv->ls[i].port : 0;
}

const struct ctl_server_stats *ctl_server_stats(const struct ctl_server *srv)
{
	return &srv->st;
}
