/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_conn.c - one Kafka client connection: frame the input, hand each
 * request to dispatch with a response slot queued in request order, write
 * completed slots from the head of the queue (writev; EAGAIN arms EPOLLOUT),
 * and push back on a client that pipelines faster than it reads (reading
 * pauses while too many slots or bytes are queued).
 *
 * A response may carry file ranges (Fetch records, ctl_resp_add_file):
 * such a slot is written piece by piece, its own bytes with write() and the
 * ranges with sendfile(), so record data never passes through user space.
 *
 * On an SSL listener the same steps run through ctl_tls.c: the handshake
 * first (its WANT_READ/WANT_WRITE become the epoll mask), then SSL_read,
 * SSL_write one slot at a time, and file ranges with kTLS sendfile or a
 * bounce buffer.  OpenSSL may hold decrypted input the socket no longer
 * signals, so a TLS connection reads until OpenSSL wants more (no per-event
 * budget) and reads again when back-pressure lifts.
 *
 * A connection is never freed while the loop may still hold it: closing
 * unregisters and closes the socket at once but the struct is freed by
 * ctl_conn_reap() at the end of the loop pass.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/uio.h>

#include <openssl/ssl.h>

#include "ctl_log.h"
#include "ctl_server_int.h"
#include "kp_api.h"

static void conn_process(struct ctl_conn *c);
static void conn_readable(struct ctl_conn *c);

static void lru_unlink(struct ctl_server *s, struct ctl_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		s->lru_head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		s->lru_tail = c->prev;
	c->prev = c->next = NULL;
}

/* Append @c (not a member) as the most recently used connection. */
static void lru_append(struct ctl_server *s, struct ctl_conn *c)
{
	c->last_ns = ctl_now_ns();
	c->prev = s->lru_tail;
	if (s->lru_tail)
		s->lru_tail->next = c;
	else
		s->lru_head = c;
	s->lru_tail = c;
}

static void lru_touch(struct ctl_conn *c)
{
	struct ctl_server *s = c->srv;

	if (s->lru_tail == c) {
		c->last_ns = ctl_now_ns();
		return;
	}
	lru_unlink(s, c);
	lru_append(s, c);
}

static void conn_set_events(struct ctl_conn *c)
{
	uint32_t want = (c->paused || c->closing ? 0 : EPOLLIN) |
			(c->q_head && c->q_head->ready ? EPOLLOUT : 0) | c->tls_want;
	struct epoll_event ev = { .events = want, .data.ptr = &c->src };

	if (c->closed || want == c->ev_mask)
		return;
	if (epoll_ctl(c->srv->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->ev_mask = want;
}

int ctl_conn_open(struct ctl_server *s, int fd, const char *peer, const struct ctl_lsock *l)
{
	struct ctl_conn *c = calloc(1, sizeof(*c));
	struct epoll_event ev = { .events = EPOLLIN };

	if (!c)
		return -ENOMEM;
	c->src.kind = CTL_SRC_CONN;
	c->fd = fd;
	c->srv = s;
	c->ev_mask = EPOLLIN;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	if ((l->tls && !(c->ssl = ctl_tls_conn_new(s->tls, fd))) ||
	    (l->sasl && !(c->sasl = ctl_sasl_conn_new()))) {
		ctl_tls_conn_free(c->ssl);
		free(c);
		return -ENOMEM;
	}
	c->tls_ready = !l->tls;
	c->ls_index = (unsigned int)(l - s->ls);
	ev.data.ptr = &c->src;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int rc = -errno;

		ctl_tls_conn_free(c->ssl);
		ctl_sasl_conn_free(c->sasl);
		free(c);
		return rc;
	}
	lru_append(s, c);
	s->st.conn_accepted++;
	s->st.conn_open++;
	return 0;
}

void ctl_resp_free(struct ctl_resp *r)
{
	for (unsigned int i = 0; i < r->n_files; i++)
		if (r->files[i].release)
			r->files[i].release(r->files[i].arg);
	free(r->files);
	kp_writer_free(&r->w);
	free(r);
}

/* The whole frame: the writer's bytes plus the spliced file ranges. */
static uint64_t resp_total(const struct ctl_resp *r)
{
	return r->w.len + r->file_bytes;
}

int ctl_resp_add_file(struct ctl_resp *resp, int fd, uint64_t pos, uint32_t len,
		      void (*release)(void *arg), void *arg)
{
	if (resp->n_files == resp->cap_files) {
		unsigned int cap = resp->cap_files ? resp->cap_files * 2 : 4;
		struct ctl_resp_file *f = realloc(resp->files, cap * sizeof(*f));

		if (!f)
			return -ENOMEM;
		resp->files = f;
		resp->cap_files = cap;
	}
	resp->files[resp->n_files++] = (struct ctl_resp_file){ resp->w.len, fd, pos, len,
							       release, arg };
	resp->file_bytes += len;
	return 0;
}

/*
 * Write the next piece of a slot holding file ranges, from r->sent on:
 * writer bytes with write(), a file range with sendfile().  One system call.
 * @return bytes written, or -errno (-EAGAIN: the socket is full).
 */
static ssize_t resp_write_piece(struct ctl_conn *c, const struct ctl_resp *r)
{
	uint64_t at = 0;        /* frame position of the current piece */
	size_t wpos = 0;        /* writer bytes before it */
	uint32_t want;          /* TLS: EPOLLOUT is armed while the slot waits anyway */
	ssize_t n;

	for (unsigned int i = 0; i <= r->n_files; i++) {
		size_t wend = i < r->n_files ? r->files[i].at : r->w.len;

		if (r->sent < at + (wend - wpos)) {
			size_t off = wpos + (size_t)(r->sent - at);

			if (c->ssl)
				return ctl_tls_write(c->ssl, r->w.buf + off, wend - off, &want);
			n = write(c->fd, r->w.buf + off, wend - off);
			return n < 0 ? -errno : n;
		}
		at += wend - wpos;
		wpos = wend;
		if (i < r->n_files && r->sent < at + r->files[i].len) {
			const struct ctl_resp_file *f = &r->files[i];
			off_t o = (off_t)(f->pos + (r->sent - at));

			if (c->ssl)
				return ctl_tls_sendfile(c->srv->tls, c->ssl, f->fd, (uint64_t)o,
							(size_t)(at + f->len - r->sent), &want);
			n = sendfile(c->fd, f->fd, &o, (size_t)(at + f->len - r->sent));
			if (n == 0)
				return -EIO; /* the file is shorter than the range */
			return n < 0 ? -errno : n;
		}
		if (i < r->n_files)
			at += r->files[i].len;
	}
	return 0;
}

/* Close the socket now; the struct waits for ctl_conn_reap(). */
void ctl_conn_close(struct ctl_conn *c, const char *why)
{
	struct ctl_server *s = c->srv;
	struct ctl_resp *r, *next;

	if (c->closed)
		return;
	if (why)
		CTL_LOG(DEBUG, "connection %s closed: %s", c->peer, why);
	c->closed = true;
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	ctl_tls_conn_free(c->ssl);
	c->ssl = NULL;
	close(c->fd);
	c->fd = -1;
	lru_unlink(s, c);
	/* Pending slots belong to their owners until completed: orphan them. */
	for (r = c->q_head; r; r = next) {
		next = r->next;
		if (!r->pending) {
			ctl_resp_free(r);
			continue;
		}
		r->conn = NULL;
		r->next = s->orphans;
		s->orphans = r;
		if (r->cancel)
			r->cancel(r->cancel_arg, r);
	}
	c->q_head = c->q_tail = NULL;
	c->q_n = 0;
	c->dead_next = s->dead;
	s->dead = c;
	s->st.conn_closed++;
	s->st.conn_open--;
}

void ctl_conn_reap(struct ctl_server *s)
{
	while (s->dead) {
		struct ctl_conn *c = s->dead;

		s->dead = c->dead_next;
		ctl_sasl_conn_free(c->sasl);
		free(c->in);
		free(c);
	}
}

void ctl_conn_close_all(struct ctl_server *s)
{
	while (s->lru_head)
		ctl_conn_close(s->lru_head, NULL);
	ctl_conn_reap(s);
}

unsigned int ctl_conn_idle_sweep(struct ctl_server *s, uint64_t now)
{
	uint64_t idle_ns = (uint64_t)s->b->connections_max_idle_ms * 1000000u;
	unsigned int n = 0;

	while (s->lru_head && now - s->lru_head->last_ns >= idle_ns) {
		struct ctl_conn *c = s->lru_head;

		if (c->q_n) {
			lru_touch(c); /* a request is in flight: not idle */
			continue;
		}
		ctl_conn_close(c, "idle");
		s->st.conn_idle_closed++;
		n++;
	}
	return n;
}

/* Pause reading when the client is far ahead of us; resume when it drains. */
static void conn_backpressure(struct ctl_conn *c)
{
	if (!c->paused && (c->q_n >= CTL_CONN_QUEUE_MAX || c->out_bytes >= CTL_CONN_OUT_MAX))
		c->paused = true;
	else if (c->paused && c->q_n < CTL_CONN_QUEUE_LOW && c->out_bytes < CTL_CONN_OUT_LOW)
		c->paused = false;
}

/* Write completed slots from the head; keeps order by never passing a pending one. */
static void conn_flush(struct ctl_conn *c)
{
	bool was_paused = c->paused;
	struct iovec iov[64];
	ssize_t n;

	while (!c->closed && c->q_head && c->q_head->ready) {
		struct ctl_resp *r = c->q_head;
		bool piecewise = (r->send && r->n_files) || c->ssl; /* TLS: no writev */
		int k = 0;

		if (piecewise) {
			n = r->send ? resp_write_piece(c, r) : 0;
		} else {
			/* Gather plain slots up to the next one holding file ranges. */
			for (; r && r->ready && k < 64 && !(r->send && r->n_files); r = r->next)
				if (r->send)
					iov[k++] = (struct iovec){ r->w.buf + r->sent,
								   r->w.len - r->sent };
			n = k ? writev(c->fd, iov, k) : 0;
			if (n < 0)
				n = -errno;
		}
		if (n == -EINTR)
			continue;
		if (n == -EAGAIN || n == -EWOULDBLOCK)
			break;
		if (n < 0) {
			ctl_conn_close(c, strerror((int)-n));
			return;
		}
		if (n > 0) {
			c->srv->st.bytes_out += (uint64_t)n;
			lru_touch(c);
		}
		/* Retire fully written (and silent) slots. */
		while ((r = c->q_head) && r->ready) {
			uint64_t left = r->send ? resp_total(r) - r->sent : 0;
			bool last = r->close_after;

			if ((uint64_t)n < left) {
				r->sent += (size_t)n;
				break;
			}
			n -= (ssize_t)left;
			c->q_head = r->next;
			if (!c->q_head)
				c->q_tail = NULL;
			c->q_n--;
			c->out_bytes -= r->send ? resp_total(r) : 0;
			ctl_resp_free(r);
			if (last) {
				ctl_conn_close(c, "answered a failed login");
				return;
			}
		}
		if (!piecewise && k && c->q_head && c->q_head->ready && c->q_head->sent)
			break; /* short write: the socket is full */
	}
	if (c->closed)
		return;
	conn_backpressure(c);
	conn_set_events(c);
	if (was_paused && !c->paused && !c->processing) {
		conn_process(c); /* frames buffered while paused */
		if (c->ssl && !c->closed && !c->paused && ctl_tls_pending(c->ssl))
			conn_readable(c); /* and input OpenSSL holds, which epoll cannot see */
	}
}

static void resp_count(struct ctl_resp *r)
{
	struct ctl_api_stats *a;
	uint64_t ns;
	unsigned int b = 0;

	if (r->api_key < 0 || r->api_key >= CTL_API_KEYS)
		return;
	a = &r->srv->st.api[r->api_key];
	ns = ctl_now_ns() - r->t0;
	while (b < CTL_LAT_BUCKETS && ns > (uint64_t)ctl_lat_bucket_us[b] * 1000u)
		b++;
	a->requests++;
	a->errors += r->errors;
	a->latency_ns += ns;
	a->latency_bucket[b]++;
}

/* Mark a slot done (size patched) without flushing. */
static void resp_ready(struct ctl_resp *r, bool send)
{
	if (send && r->w.len >= 4)
		kp_write_patch_i32(&r->w, 0, (int32_t)(resp_total(r) - 4));
	if (r->w.err || (send && r->w.len < (r->raw ? 4u : 8u)) || resp_total(r) - 4 > INT32_MAX)
		send = false; /* could not build it: drop rather than send garbage */
	r->ready = true;
	r->send = send;
	r->pending = false;
	if (send && r->conn)
		r->conn->out_bytes += resp_total(r);
	resp_count(r);
}

void ctl_resp_complete(struct ctl_resp *resp, bool send)
{
	struct ctl_server *s = resp->srv;
	struct ctl_resp **pp;

	if (!resp->conn) {
		for (pp = &s->orphans; *pp; pp = &(*pp)->next)
			if (*pp == resp) {
				*pp = resp->next;
				break;
			}
		ctl_resp_free(resp);
		return;
	}
	resp_ready(resp, send);
	conn_flush(resp->conn);
}

static struct ctl_resp *resp_new(struct ctl_conn *c, const uint8_t *frame, size_t len)
{
	struct ctl_resp *r = calloc(1, sizeof(*r));
	struct kp_reader rd;

	if (!r)
		return NULL;
	kp_writer_init(&r->w);
	r->conn = c;
	r->srv = c->srv;
	r->t0 = ctl_now_ns();
	kp_reader_init(&rd, frame, len);
	r->api_key = kp_read_i16(&rd);
	if (!kp_reader_ok(&rd))
		r->api_key = -1;
	if (c->q_tail)
		c->q_tail->next = r;
	else
		c->q_head = r;
	c->q_tail = r;
	c->q_n++;
	return r;
}

/*
 * A request for an API key or version the broker does not serve: one line
 * the first time each API key is seen (keys past CTL_API_KEYS share one).
 */
static void log_unsupported(struct ctl_conn *c, const uint8_t *frame, size_t len)
{
	struct ctl_server *s = c->srv;
	struct kp_reader rd;
	int16_t key, version;
	unsigned int bit;

	kp_reader_init(&rd, frame, len);
	key = kp_read_i16(&rd);
	version = kp_read_i16(&rd);
	bit = key >= 0 && key < CTL_API_KEYS ? (unsigned int)key : CTL_API_KEYS;
	if (s->unsupported_logged[bit / 64] & (1ull << (bit % 64)))
		return;
	s->unsupported_logged[bit / 64] |= 1ull << (bit % 64);
	CTL_LOG(WARNING, "%s asked for api_key %d version %d, which this broker does not serve: "
		"connection closed (logged once per API key)", c->peer, key, version);
}

/*
 * Before a SASL login: a bare token after SaslHandshake v0, or else only
 * ApiVersions, SaslHandshake and SaslAuthenticate (Kafka closes on others).
 * @return 1: handled here, 0: dispatch as usual, -1: connection closed.
 */
static int conn_sasl_gate(struct ctl_conn *c, struct ctl_resp *r, const uint8_t *frame,
			  size_t len)
{
	if (!c->sasl || ctl_sasl_conn_authenticated(c->sasl))
		return 0;
	if (ctl_sasl_conn_raw(c->sasl)) {
		r->api_key = -1; /* no header to count it under */
		r->raw = true;
		kp_write_i32_slot(&r->w);
		if (!ctl_sasl_raw_token(c, frame, len, r)) {
			ctl_conn_close(c, "SASL login failed");
			return -1;
		}
		resp_ready(r, true);
		return 1;
	}
	if (r->api_key == KP_API_API_VERSIONS || r->api_key == KP_API_SASL_HANDSHAKE ||
	    r->api_key == KP_API_SASL_AUTHENTICATE)
		return 0;
	c->srv->st.requests_refused++;
	CTL_LOG_RL(&c->srv->log_rl[CTL_RL_SASL], NOTICE,
		   "connection %s closed: api_key %d before a SASL login", c->peer, r->api_key);
	ctl_conn_close(c, NULL);
	return -1;
}

/* @return false when the connection was closed. */
static bool conn_dispatch(struct ctl_conn *c, const uint8_t *frame, size_t len)
{
	struct ctl_server *s = c->srv;
	struct ctl_resp *r = resp_new(c, frame, len);
	int gate;

	if (!r) {
		ctl_conn_close(c, "out of memory");
		return false;
	}
	if ((gate = conn_sasl_gate(c, r, frame, len)) != 0)
		return gate > 0 && !c->closed;
	switch (s->dispatch(s->dispatch_arg, frame, len, r)) {
	case CTL_DISP_RESPOND:
		resp_ready(r, true);
		break;
	case CTL_DISP_NO_RESPONSE:
		resp_ready(r, false);
		break;
	case CTL_DISP_PENDING:
		r->pending = true; /* completing before returning is not allowed: RESPOND then */
		break;
	case CTL_DISP_UNSUPPORTED:
		s->st.requests_refused++;
		log_unsupported(c, frame, len);
		ctl_conn_close(c, NULL);
		return false;
	case CTL_DISP_CLOSE:
	default:
		s->st.requests_refused++;
		CTL_LOG_RL(&s->log_rl[CTL_RL_MALFORMED], INFO,
			   "connection %s closed: malformed request (api_key %d)", c->peer,
			   r->api_key);
		ctl_conn_close(c, NULL);
		return false;
	}
	return !c->closed;
}

/* Check a frame's size prefix; @return false (connection closed) if it is out of bounds. */
static bool frame_size_ok(struct ctl_conn *c, int32_t size)
{
	struct ctl_server *s = c->srv;

	if (size <= 0) {
		s->st.frames_invalid++;
		CTL_LOG_RL(&s->log_rl[CTL_RL_FRAME_SIZE], NOTICE,
			   "connection %s closed: invalid frame size %d", c->peer, size);
	} else if (size > s->b->socket_request_max_bytes) {
		s->st.frames_too_large++;
		CTL_LOG_RL(&s->log_rl[CTL_RL_FRAME_SIZE], NOTICE,
			   "connection %s closed: frame of %d bytes exceeds socket.request.max.bytes %d",
			   c->peer, size, s->b->socket_request_max_bytes);
	} else {
		return true;
	}
	ctl_conn_close(c, NULL);
	return false;
}

/* Dispatch every complete frame in the input buffer (until paused). */
static void conn_process(struct ctl_conn *c)
{
	size_t off = 0;

	c->processing = true;
	while (!c->closed && !c->paused && !c->closing && c->in_len - off >= 4) {
		struct kp_reader rd;
		int32_t size;

		kp_reader_init(&rd, c->in + off, c->in_len - off);
		size = kp_read_i32(&rd);
		if (!frame_size_ok(c, size))
			return;
		if (c->in_len - off - 4 < (size_t)size)
			break;
		if (!conn_dispatch(c, c->in + off + 4, (size_t)size))
			return;
		off += 4 + (size_t)size;
		conn_backpressure(c);
	}
	c->processing = false;
	if (off) {
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
	if (c->in_len == 0 && c->in_cap > CTL_CONN_IN_KEEP) {
		free(c->in); /* a very big request passed: give the memory back */
		c->in = NULL;
		c->in_cap = 0;
	}
	conn_flush(c);
}

static int conn_grow(struct ctl_conn *c, size_t want)
{
	size_t cap = c->in_cap ? c->in_cap * 2 : CTL_CONN_IN_MIN;
	uint8_t *p;

	if (cap < want)
		cap = want;
	p = realloc(c->in, cap);
	if (!p)
		return -ENOMEM;
	c->in = p;
	c->in_cap = cap;
	return 0;
}

/*
 * How much the next read may take.  Once the size prefix of a large frame
 * is in, the buffer grows to the whole frame at once (no doubling chain)
 * and the read stops at its end, so the frame is dispatched from where it
 * landed and no tail of the next one is left to move to the front.
 * @return bytes to read (> 0), or -ENOMEM (connection closed).
 */
static ssize_t conn_read_room(struct ctl_conn *c)
{
	size_t frame = 0;

	if (c->in_len >= 4) {
		int32_t size = (int32_t)((uint32_t)c->in[0] << 24 | (uint32_t)c->in[1] << 16 |
					 (uint32_t)c->in[2] << 8 | c->in[3]);

		/* Out-of-bounds sizes are refused by conn_process, before any read. */
		if (size > 0 && size <= c->srv->b->socket_request_max_bytes)
			frame = 4 + (size_t)size;
	}
	if (frame > c->in_cap && conn_grow(c, frame) < 0)
		goto nomem;
	if (frame > CTL_CONN_IN_MIN && frame > c->in_len)
		return (ssize_t)(frame - c->in_len);
	if (c->in_cap - c->in_len < 4096 && conn_grow(c, 0) < 0)
		goto nomem;
	return (ssize_t)(c->in_cap - c->in_len);
nomem:
	ctl_conn_close(c, "out of memory");
	return -ENOMEM;
}

/* One read: @return bytes, 0 (peer closed), or -errno (-EAGAIN: nothing more now). */
static ssize_t conn_recv(struct ctl_conn *c, size_t room)
{
	ssize_t n;

	if (c->ssl) {
		c->tls_want = 0;
		n = ctl_tls_read(c->ssl, c->in + c->in_len, room, &c->tls_want);
		if (c->tls_want == EPOLLIN)
			c->tls_want = 0; /* EPOLLIN is watched anyway */
		conn_set_events(c);
		return n;
	}
	n = read(c->fd, c->in + c->in_len, room);
	return n < 0 ? -errno : n;
}

/*
 * Read what the socket has (bounded per event, for fairness; TLS reads until
 * OpenSSL wants more, see the top of the file) and process it.
 */
static void conn_readable(struct ctl_conn *c)
{
	for (int i = 0; (c->ssl || i < 16) && !c->closed && !c->paused && !c->closing; i++) {
		ssize_t room = conn_read_room(c), n;

		if (room < 0)
			return;
		n = conn_recv(c, (size_t)room);
		if (n == 0) {
			ctl_conn_close(c, "peer closed");
			return;
		}
		if (n < 0) {
			if (n == -EINTR)
				continue;
			if (n != -EAGAIN && n != -EWOULDBLOCK)
				ctl_conn_close(c, strerror((int)-n));
			return;
		}
		c->in_len += (size_t)n;
		c->srv->st.bytes_in += (uint64_t)n;
		lru_touch(c);
		conn_process(c);
	}
}

/* Advance the TLS handshake; @return true once it is done (connection open). */
static bool conn_handshake(struct ctl_conn *c)
{
	struct ctl_server *s = c->srv;
	char why[256];
	int rc;

	c->tls_want = 0;
	rc = ctl_tls_handshake(c->ssl, &c->tls_want, why, sizeof(why));
	if (rc == 1) {
		c->tls_ready = true;
		c->tls_want = 0;
		lru_touch(c);
		if (ctl_tls_peer_principal(c->ssl, c->tls_principal, sizeof(c->tls_principal)) < 1)
			c->tls_principal[0] = '\0'; /* none, or a DN too long to name: anonymous */
		CTL_LOG(DEBUG, "connection %s: TLS %s, %s%s", c->peer, SSL_get_version(c->ssl),
			SSL_get_cipher_name(c->ssl),
			ctl_tls_ktls_send(c->ssl) ? ", kernel TLS send" : "");
	} else if (rc == -EAGAIN) {
		if (c->tls_want == EPOLLIN)
			c->tls_want = 0;
	} else {
		s->st.tls_handshake_failures++;
		CTL_LOG_RL(&s->log_rl[CTL_RL_TLS], NOTICE,
			   "connection %s closed: TLS handshake failed: %s", c->peer, why);
		ctl_conn_close(c, NULL);
		return false;
	}
	conn_set_events(c);
	return c->tls_ready;
}

void ctl_conn_event(struct ctl_conn *c, uint32_t events)
{
	if (c->closed)
		return;
	if (!c->tls_ready) {
		/* The client's first request may already sit in OpenSSL's buffer. */
		if (conn_handshake(c))
			conn_readable(c);
		return;
	}
	if (c->ssl && (c->tls_want & EPOLLOUT) && (events & EPOLLOUT)) {
		conn_readable(c); /* a read that waited to write (TLS key update) */
		if (c->closed)
			return;
	}
	if (events & EPOLLOUT)
		conn_flush(c);
	if (!c->closed && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		conn_readable(c);
}

/* ---- slot accessors ----------------------------------------------------- */

struct kp_writer *ctl_resp_writer(struct ctl_resp *resp)
{
	return &resp->w;
}

struct ctl_server *ctl_resp_server(const struct ctl_resp *resp)
{
	return resp->srv;
}

int ctl_resp_listener(const struct ctl_resp *resp)
{
	return resp->conn ? (int)resp->conn->ls_index : -1;
}

const char *ctl_resp_peer(const struct ctl_resp *resp)
{
	return resp->conn ? resp->conn->peer : "";
}

void ctl_resp_add_errors(struct ctl_resp *resp, unsigned int n)
{
	resp->errors += n;
}

void ctl_resp_set_cancel(struct ctl_resp *resp, void (*cancel)(void *arg, struct ctl_resp *r),
			 void *arg)
{
	resp->cancel = cancel;
	resp->cancel_arg = arg;
}

bool ctl_resp_orphaned(const struct ctl_resp *resp)
{
	return resp->conn == NULL;
}
