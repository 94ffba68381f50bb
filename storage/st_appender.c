/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * st_appender.c - io_uring context of a writer thread (st_uring) and the
 * per-file appenders it drives.  Contract and copy policy: st_appender.h.
 *
 * Every operation is a struct st_op embedded in its appender and carried in
 * user_data.  An appender keeps its writes in a FIFO in file order; a write
 * leaves the FIFO only when it and all before it completed, which is what
 * moves `written`.  Anything that cannot be issued right now (in-flight cap
 * reached, O_DIRECT page still being written, fdatasync waiting for its
 * writes) stays queued in the appender and app_progress() issues it after
 * the next completion; when the cap was the reason the st_uring marks itself
 * stalled and kicks every appender at its next submit.
 *
 * No logging here: the reap loop is on the data path; outcomes are counters
 * (st_uring_stats, st_appender_stats), callbacks and return codes.
 */
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/eventfd.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <liburing.h>

#include "st_appender.h"

#define ALIGN_DOWN(v) ((v) & ~(uint64_t)(ST_APPENDER_ALIGN - 1))
#define ALIGN_UP(v)   ALIGN_DOWN((v) + ST_APPENDER_ALIGN - 1)
#define REAP_BATCH    64
#define STAGE_SLOT    0   /* fixed-buffer slot of the staging pool */

enum st_op_kind { OP_WRITE, OP_FSYNC, OP_RANGE, OP_FALLOC };

struct st_op {
	struct st_appender *a;
	enum st_op_kind kind;
	bool queued;              /* waits to be (re)issued */
	bool in_flight;
	bool done;                /* writes: finished (res says how) */
	int res;                  /* 0 or -errno once done */
	int buf_index;            /* fixed-buffer slot, -1 for a plain write */
	int stage;                /* staging buffer to give back, -1 if none */
	const uint8_t *buf;
	uint32_t len, done_len;
	uint64_t off;             /* file offset of buf[0] */
	uint64_t lend;            /* writes: logical end; syncs: position covered */
};

struct st_uring {
	struct io_uring ring;
	unsigned cap;             /* in-flight limit = SQ size, so the CQ never overflows */
	unsigned in_flight;       /* issued, not completed */
	unsigned queued_sqes;     /* issued since the last io_uring_submit */
	bool stalled;             /* something waited for the cap */
	uint32_t write_max;
	uint32_t stage_size;
	unsigned max_bufs;
	struct iovec *bufs;       /* mirror of the registered table */
	unsigned nstages, nfree;
	int *stage_free;
	struct st_hugemem stage_mem;
	struct st_appender *appenders;
	/* Doorbell: an eventfd whose read rides in the ring (user_data = &bell_fd). */
	int bell_fd;
	bool bell_armed;          /* its read is queued or in flight */
	uint64_t bell_val;        /* where that read lands */
	struct st_uring_stats st;
};

struct st_appender {
	struct st_uring *u;
	struct st_appender *next, **pprev;
	int fd;
	bool direct;
	bool wm_stop;             /* a write failed: watermarks stay before it */
	int err;                  /* sticky -errno */
	uint64_t pos;             /* bytes accepted */
	_Atomic uint64_t written, flushed, durable;
	/* O_DIRECT: the partial last page, and the staging buffer being filled */
	uint8_t *tail;
	uint32_t tail_len;        /* == pos % ALIGN whenever no buffer is open */
	int open_stage;           /* -1 if none */
	uint64_t open_off;        /* page-aligned file offset of its first byte */
	uint32_t open_len;
	/* writes in file order */
	struct st_op wops[ST_APPENDER_MAX_WRITES];
	unsigned whead, wcount;
	struct st_op fsync_op, range_op, falloc_op;
	uint64_t sync_want, sync_issued;
	bool finishing, final_issued, finished; /* st_appender_finish() */
	uint64_t flush_want, flush_issued;
	uint64_t prealloc_chunk, prealloc_end;
	unsigned in_flight;
	st_appender_cb cb;
	void *cb_arg;
	struct st_appender_stats st;
};

static void app_progress(struct st_appender *a);

/* ---------------------------------------------------------------- st_uring */

static uint8_t *stage_ptr(struct st_uring *u, int i)
{
	return (uint8_t *)u->stage_mem.base + (size_t)i * u->stage_size;
}

static int stage_get(struct st_uring *u)
{
	return u->nfree ? u->stage_free[--u->nfree] : -1;
}

static void stage_put(struct st_uring *u, int i)
{
	if (i >= 0)
		u->stage_free[u->nfree++] = i;
}

static int uring_setup_bufs(struct st_uring *u)
{
	int ret;

	ret = io_uring_register_buffers_sparse(&u->ring, u->max_bufs);
	if (ret < 0)
		return ret;
	return st_uring_buf_add(u, u->stage_mem.base, (size_t)u->nstages * u->stage_size);
}

int st_uring_create(struct st_uring **out, const struct st_uring_cfg *cfg)
{
	struct st_uring_cfg c = *cfg;
	struct st_uring *u;
	int ret, huge;

	c.entries = c.entries ? c.entries : 256;
	c.max_bufs = c.max_bufs ? c.max_bufs : 64;
	c.staging_count = c.staging_count ? c.staging_count : 8;
	c.write_max = c.write_max ? c.write_max : ST_APPENDER_WRITE_MAX;
	if (c.max_bufs < 2 || c.write_max > (1u << 30) - 2 * ST_APPENDER_ALIGN)
		return -EINVAL;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->bell_fd = -1;
	u->write_max = c.write_max;
	u->stage_size = (uint32_t)ALIGN_UP((uint64_t)c.write_max + ST_APPENDER_ALIGN);
	u->nstages = c.staging_count;
	u->max_bufs = c.max_bufs;
	u->bufs = calloc(c.max_bufs, sizeof(*u->bufs));
	u->stage_free = calloc(c.staging_count, sizeof(*u->stage_free));
	if (!u->bufs || !u->stage_free) {
		ret = -ENOMEM;
		goto out;
	}
	huge = st_hugemem_alloc(&u->stage_mem, (size_t)u->nstages * u->stage_size, c.huge);
	if (huge < 0) {
		ret = huge;
		goto out;
	}
	for (unsigned i = 0; i < u->nstages; i++)
		stage_put(u, (int)(u->nstages - 1 - i));
	/* Blocking on purpose: io_uring then waits for the count instead of failing with EAGAIN. */
	u->bell_fd = eventfd(0, EFD_CLOEXEC);
	if (u->bell_fd < 0) {
		ret = -errno;
		goto out;
	}
	ret = io_uring_queue_init(c.entries, &u->ring, 0);
	if (ret < 0)
		goto out;
	u->cap = u->ring.sq.ring_entries;
	ret = uring_setup_bufs(u);
	if (ret < 0) {
		io_uring_queue_exit(&u->ring);
		goto out;
	}
	ret = huge;
	*out = u;
out:
	if (ret < 0) {
		if (u->bell_fd >= 0)
			close(u->bell_fd);
		st_hugemem_free(&u->stage_mem);
		free(u->stage_free);
		free(u->bufs);
		free(u);
	}
	return ret;
}

void st_uring_destroy(struct st_uring *u)
{
	if (!u)
		return;
	io_uring_queue_exit(&u->ring); /* also drops the buffer registration */
	close(u->bell_fd);
	st_hugemem_free(&u->stage_mem);
	free(u->stage_free);
	free(u->bufs);
	free(u);
}

int st_uring_buf_add(struct st_uring *u, void *base, size_t len)
{
	struct iovec iov = { .iov_base = base, .iov_len = len };
	int ret;

	if (!base || len == 0 || len > (1ul << 30))
		return -EINVAL;
	for (unsigned i = 0; i < u->max_bufs; i++) {
		if (u->bufs[i].iov_base)
			continue;
		ret = io_uring_register_buffers_update_tag(&u->ring, i, &iov, NULL, 1);
		if (ret < 0)
			return ret;
		u->bufs[i] = iov;
		return (int)i;
	}
	return -ENOSPC;
}

int st_uring_buf_del(struct st_uring *u, int slot)
{
	struct iovec iov = { 0 };
	int ret;

	if (slot <= STAGE_SLOT || (unsigned)slot >= u->max_bufs || !u->bufs[slot].iov_base)
		return -EINVAL;
	ret = io_uring_register_buffers_update_tag(&u->ring, (unsigned)slot, &iov, NULL, 1);
	if (ret < 0)
		return ret;
	u->bufs[slot] = iov;
	return 0;
}

int st_uring_buf_find(struct st_uring *u, const void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p;

	for (unsigned i = 0; i < u->max_bufs; i++) {
		uintptr_t b = (uintptr_t)u->bufs[i].iov_base;

		if (b && a >= b && a - b <= u->bufs[i].iov_len && len <= u->bufs[i].iov_len - (a - b))
			return (int)i;
	}
	return -1;
}

static void prep_op(struct io_uring_sqe *sqe, struct st_op *op)
{
	int fd = op->a->fd;
	uint64_t span;

	switch (op->kind) {
	case OP_WRITE:
		if (op->buf_index >= 0)
			io_uring_prep_write_fixed(sqe, fd, op->buf + op->done_len, op->len - op->done_len,
						  op->off + op->done_len, op->buf_index);
		else
			io_uring_prep_write(sqe, fd, op->buf + op->done_len, op->len - op->done_len,
					    op->off + op->done_len);
		break;
	case OP_FSYNC:
		io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
		break;
	case OP_RANGE:
		span = op->lend - op->off;
		io_uring_prep_sync_file_range(sqe, fd, span > UINT32_MAX ? 0 : (unsigned)span, op->off,
					      SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
					      SYNC_FILE_RANGE_WAIT_AFTER);
		break;
	case OP_FALLOC:
		io_uring_prep_fallocate(sqe, fd, FALLOC_FL_KEEP_SIZE, (off_t)op->off,
					(off_t)(op->lend - op->off));
		break;
	}
	io_uring_sqe_set_data(sqe, op);
}

static int uring_submit_raw(struct st_uring *u)
{
	int ret = io_uring_submit(&u->ring);

	if (ret < 0)
		return ret;
	u->st.submit_calls++;
	u->st.sqes += (unsigned)ret;
	u->queued_sqes = (unsigned)ret >= u->queued_sqes ? 0 : u->queued_sqes - (unsigned)ret;
	return ret;
}

/* Put @op in the SQ.  -EAGAIN (op left queued) when the in-flight cap is reached. */
static int op_issue(struct st_uring *u, struct st_op *op)
{
	struct io_uring_sqe *sqe;

	op->queued = true;
	if (u->in_flight >= u->cap) {
		u->stalled = true;
		u->st.stalls++;
		return -EAGAIN;
	}
	sqe = io_uring_get_sqe(&u->ring);
	if (!sqe) {
		/* SQ full of unsubmitted entries (the cap should prevent it). */
		uring_submit_raw(u);
		sqe = io_uring_get_sqe(&u->ring);
		if (!sqe) {
			u->stalled = true;
			u->st.stalls++;
			return -EAGAIN;
		}
	}
	prep_op(sqe, op);
	op->queued = false;
	op->in_flight = true;
	u->in_flight++;
	u->queued_sqes++;
	op->a->in_flight++;
	return 0;
}

int st_uring_set_cpu(struct st_uring *u, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return io_uring_register_iowq_aff(&u->ring, sizeof(set), &set);
}

/* Operations that waited for in-flight room get their chance again. */
static void uring_unstall(struct st_uring *u)
{
	if (!u->stalled)
		return;
	u->stalled = false;
	for (struct st_appender *a = u->appenders; a; a = a->next)
		app_progress(a);
}

int st_uring_submit(struct st_uring *u)
{
	uring_unstall(u);
	if (!u->queued_sqes)
		return 0;
	return uring_submit_raw(u);
}

static void op_complete(struct st_uring *u, struct st_op *op, int res);

int st_uring_reap(struct st_uring *u)
{
	struct { struct st_op *op; int res; } batch[REAP_BATCH];
	struct io_uring_cqe *cqe;
	unsigned head, n;
	int total = 0;

	/*
	 * Copy the CQEs out and advance the CQ before handling them, so a
	 * callback that submits more work never sees a half-consumed queue.
	 */
	do {
		n = 0;
		unsigned seen = 0;

		io_uring_for_each_cqe(&u->ring, head, cqe) {
			seen++;
			if (io_uring_cqe_get_data(cqe) == &u->bell_fd) {
				u->bell_armed = false; /* rung (or cancelled): no operation of ours */
			} else {
				batch[n].op = io_uring_cqe_get_data(cqe);
				batch[n].res = cqe->res;
				n++;
			}
			if (seen == REAP_BATCH)
				break;
		}
		io_uring_cq_advance(&u->ring, seen);
		for (unsigned i = 0; i < n; i++)
			op_complete(u, batch[i].op, batch[i].res);
		total += (int)n;
		n = seen;
	} while (n == REAP_BATCH);
	u->st.cqes += (unsigned)total;
	if (u->queued_sqes || u->stalled)
		st_uring_submit(u);
	return total;
}

int st_uring_wait(struct st_uring *u, unsigned min)
{
	struct io_uring_cqe *cqe;
	int ret;

	ret = st_uring_submit(u);
	if (ret < 0)
		return ret;
	if (min > u->in_flight)
		min = u->in_flight;
	if (min) {
		ret = io_uring_wait_cqe_nr(&u->ring, &cqe, min);
		if (ret < 0 && ret != -EINTR)
			return ret;
	}
	return st_uring_reap(u);
}

int st_uring_bell_fd(const struct st_uring *u)
{
	return u->bell_fd;
}

/* Queue the doorbell's read unless it is already waiting. @return 0 or -EBUSY (SQ full). */
static int bell_arm(struct st_uring *u)
{
	struct io_uring_sqe *sqe;

	if (u->bell_armed)
		return 0;
	sqe = io_uring_get_sqe(&u->ring);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_read(sqe, u->bell_fd, &u->bell_val, sizeof(u->bell_val), 0);
	io_uring_sqe_set_data(sqe, &u->bell_fd);
	u->bell_armed = true;
	u->queued_sqes++;
	return 0;
}

int st_uring_sleep(struct st_uring *u, int64_t timeout_us)
{
	struct __kernel_timespec ts = { .tv_sec = timeout_us / 1000000,
					.tv_nsec = (timeout_us % 1000000) * 1000 };
	struct io_uring_cqe *cqe;
	unsigned before;
	int ret;

	uring_unstall(u);
	if (bell_arm(u) < 0 && timeout_us < 0)
		ts = (struct __kernel_timespec){ .tv_nsec = 20000 }; /* cannot be rung: poll */
	before = io_uring_sq_ready(&u->ring);
	/* One io_uring_enter: submit what is queued, then wait for a CQE, the bell or the time. */
	ret = io_uring_submit_and_wait_timeout(&u->ring, &cqe, 1,
					       timeout_us < 0 && u->bell_armed ? NULL : &ts, NULL);
	if (before > io_uring_sq_ready(&u->ring)) {
		u->st.submit_calls++;
		u->st.sqes += before - io_uring_sq_ready(&u->ring);
		u->queued_sqes = io_uring_sq_ready(&u->ring);
	}
	if (ret < 0 && ret != -ETIME && ret != -EINTR)
		return ret;
	return st_uring_reap(u);
}

unsigned st_uring_in_flight(const struct st_uring *u)
{
	return u->in_flight;
}

void st_uring_stats_get(const struct st_uring *u, struct st_uring_stats *st)
{
	*st = u->st;
	st->huge_bytes = u->stage_mem.kind == ST_HUGEMEM_HUGE ? u->stage_mem.map_len : 0;
}

/* ------------------------------------------------------------- watermarks */

static uint64_t wm_get(const _Atomic uint64_t *w)
{
	return atomic_load_explicit(w, memory_order_acquire);
}

/* Raise a watermark (only ever by the owner thread).  @return true if it moved. */
static bool wm_raise(_Atomic uint64_t *w, uint64_t v)
{
	if (v <= atomic_load_explicit(w, memory_order_relaxed))
		return false;
	atomic_store_explicit(w, v, memory_order_release);
	return true;
}

static void app_set_err(struct st_appender *a, int err)
{
	if (!a->err)
		a->err = err;
}

static void app_notify(struct st_appender *a, unsigned moved)
{
	struct st_appender_event ev;

	if (!moved || !a->cb)
		return;
	ev.moved = moved;
	ev.written = wm_get(&a->written);
	ev.flushed = wm_get(&a->flushed);
	ev.durable = wm_get(&a->durable);
	ev.err = a->err;
	a->cb(a->cb_arg, a, &ev);
}

/* ----------------------------------------------------------------- writes */

static struct st_op *wop_at(struct st_appender *a, unsigned i)
{
	return &a->wops[(a->whead + i) % ST_APPENDER_MAX_WRITES];
}

static struct st_op *wop_push(struct st_appender *a, const uint8_t *buf, uint32_t len,
			      uint64_t off, uint64_t lend, int buf_index, int stage)
{
	struct st_op *op = wop_at(a, a->wcount++);

	*op = (struct st_op){ .a = a, .kind = OP_WRITE, .buf = buf, .len = len, .off = off,
			      .lend = lend, .buf_index = buf_index, .stage = stage };
	op_issue(a->u, op); /* if the cap is reached it stays queued */
	return op;
}

/* Retire finished writes from the FIFO head.  @return ST_WM_* moved. */
static unsigned wops_retire(struct st_appender *a)
{
	unsigned moved = 0;

	while (a->wcount && wop_at(a, 0)->done) {
		struct st_op *op = wop_at(a, 0);

		if (op->res < 0)
			a->wm_stop = true;
		if (!a->wm_stop && wm_raise(&a->written, op->lend)) {
			moved |= ST_WM_WRITTEN;
			/* An O_DIRECT write completes once the device has it. */
			if (a->direct && wm_raise(&a->flushed, op->lend))
				moved |= ST_WM_FLUSHED;
		}
		stage_put(a->u, op->stage);
		a->whead = (a->whead + 1) % ST_APPENDER_MAX_WRITES;
		a->wcount--;
	}
	return moved;
}

static unsigned write_done(struct st_appender *a, struct st_op *op, int res)
{
	if (res <= 0) {
		/* 0 bytes for a non-empty write would loop forever: call it EIO. */
		op->res = res < 0 ? res : -EIO;
		op->done = true;
		app_set_err(a, op->res);
		return wops_retire(a) | ST_WM_ERROR;
	}
	op->done_len += (uint32_t)res;
	a->st.bytes_device += (uint32_t)res;
	if (op->done_len < op->len) {
		a->st.short_writes++;
		op->queued = true; /* app_progress() issues the remainder */
		return 0;
	}
	op->done = true;
	a->st.writes++;
	return wops_retire(a);
}

/* The open staging buffer must wait while the write of its first page flies. */
static bool open_blocked(struct st_appender *a)
{
	struct st_op *back;

	if (!a->wcount)
		return false;
	back = wop_at(a, a->wcount - 1);
	return !back->done && ALIGN_UP(back->lend) > a->open_off;
}

/* Turn the open staging buffer into a write.  @return 0 or -EAGAIN. */
static int open_submit(struct st_appender *a)
{
	struct st_uring *u = a->u;
	uint8_t *buf = stage_ptr(u, a->open_stage);
	uint32_t wlen = (uint32_t)ALIGN_UP(a->open_len);

	if (a->wcount == ST_APPENDER_MAX_WRITES)
		return -EAGAIN;
	/* The partial last page is both written now and kept for the next write. */
	a->tail_len = a->open_len % ST_APPENDER_ALIGN;
	memcpy(a->tail, buf + a->open_len - a->tail_len, a->tail_len);
	memset(buf + a->open_len, 0, wlen - a->open_len);
	wop_push(a, buf, wlen, a->open_off, a->open_off + a->open_len, STAGE_SLOT, a->open_stage);
	a->open_stage = -1;
	return 0;
}

/*
 * Whole pages straight from registered caller memory; the remainder (less
 * than a page) opens a staging buffer.  Only when the file position and
 * @src are both page aligned.
 */
static int direct_write_zc(struct st_appender *a, const uint8_t *src, uint32_t len, int slot)
{
	uint32_t full = len & ~(ST_APPENDER_ALIGN - 1), rem = len - full;
	int stage = -1;

	if (a->wcount == ST_APPENDER_MAX_WRITES)
		return -EAGAIN;
	if (rem && (stage = stage_get(a->u)) < 0)
		return -EAGAIN;
	wop_push(a, src, full, a->pos, a->pos + full, slot, -1);
	a->pos += full;
	a->st.bytes_zero_copy += full;
	if (rem) {
		a->open_stage = stage;
		a->open_off = a->pos;
		a->open_len = rem;
		memcpy(stage_ptr(a->u, stage), src + full, rem);
		a->pos += rem;
		a->st.bytes_copied += rem;
	}
	return 0;
}

static int direct_write(struct st_appender *a, const uint8_t *src, uint32_t len)
{
	struct st_uring *u = a->u;
	int slot, stage;

	if (a->open_stage >= 0 && a->open_len + len > u->stage_size) {
		if (open_blocked(a) || open_submit(a) < 0)
			return -EAGAIN;
	}
	if (a->open_stage < 0) {
		if (a->tail_len == 0 && len >= ST_APPENDER_ALIGN &&
		    ((uintptr_t)src & (ST_APPENDER_ALIGN - 1)) == 0 &&
		    (slot = st_uring_buf_find(u, src, len)) > STAGE_SLOT)
			return direct_write_zc(a, src, len, slot);
		stage = stage_get(u);
		if (stage < 0)
			return -EAGAIN;
		a->open_stage = stage;
		a->open_off = a->pos - a->tail_len;
		a->open_len = a->tail_len;
		memcpy(stage_ptr(u, stage), a->tail, a->tail_len);
	}
	memcpy(stage_ptr(u, a->open_stage) + a->open_len, src, len);
	a->open_len += len;
	a->pos += len;
	a->st.bytes_copied += len;
	return ST_APPENDER_COPIED;
}

static int buffered_write(struct st_appender *a, const uint8_t *src, uint32_t len)
{
	if (a->wcount == ST_APPENDER_MAX_WRITES)
		return -EAGAIN;
	wop_push(a, src, len, a->pos, a->pos + len, st_uring_buf_find(a->u, src, len), -1);
	a->pos += len;
	a->st.bytes_zero_copy += len;
	return 0;
}

int st_appender_write(struct st_appender *a, const void *src, size_t len)
{
	int ret;

	if (a->err)
		return a->err;
	if (len == 0 || len > a->u->write_max)
		return -EINVAL;
	if (a->direct)
		ret = direct_write(a, src, (uint32_t)len);
	else
		ret = buffered_write(a, src, (uint32_t)len);
	if (ret >= 0)
		app_progress(a);
	return ret;
}

/* ------------------------------------------------------ syncs and progress */

static void maybe_fsync(struct st_appender *a)
{
	uint64_t w = wm_get(&a->written);

	if (a->fsync_op.in_flight || a->fsync_op.queued || w < a->sync_want)
		return;
	if (a->finishing && !a->final_issued) {
		/* Every write done (held-back ones too): trim the padding, then the last sync. */
		if (a->wcount || a->open_stage >= 0)
			return;
		if (a->direct && ftruncate(a->fd, (off_t)w) < 0) {
			app_set_err(a, -errno);
			return;
		}
		a->final_issued = true;
	} else if (a->sync_want <= a->sync_issued) {
		return;
	}
	a->fsync_op = (struct st_op){ .a = a, .kind = OP_FSYNC, .lend = w, .buf_index = -1,
				      .stage = -1 };
	a->sync_issued = w;
	op_issue(a->u, &a->fsync_op);
}

static void maybe_flush_range(struct st_appender *a)
{
	uint64_t w = wm_get(&a->written);

	if (a->range_op.in_flight || a->range_op.queued || a->flush_want <= a->flush_issued || w < a->flush_want)
		return;
	a->range_op = (struct st_op){ .a = a, .kind = OP_RANGE, .off = ALIGN_DOWN(a->flush_issued),
				      .lend = w, .buf_index = -1, .stage = -1 };
	a->flush_issued = w;
	op_issue(a->u, &a->range_op);
}

static void maybe_prealloc(struct st_appender *a)
{
	uint64_t c = a->prealloc_chunk;

	if (!c || a->st.prealloc_err || a->falloc_op.in_flight || a->falloc_op.queued ||
	    a->pos + c / 2 < a->prealloc_end)
		return;
	a->falloc_op = (struct st_op){ .a = a, .kind = OP_FALLOC, .off = a->prealloc_end,
				       .lend = a->prealloc_end + c, .buf_index = -1, .stage = -1 };
	op_issue(a->u, &a->falloc_op);
}

/* Issue whatever this appender has waiting, in file order. */
static void app_progress(struct st_appender *a)
{
	struct st_uring *u = a->u;

	if (a->err)
		return;
	for (unsigned i = 0; i < a->wcount; i++) {
		struct st_op *op = wop_at(a, i);

		if (op->queued && op_issue(u, op) < 0)
			return;
	}
	if (a->open_stage >= 0 && !open_blocked(a))
		open_submit(a);
	/* A queued sync op (cap reached) is re-issued as is. */
	if (a->fsync_op.queued && op_issue(u, &a->fsync_op) < 0)
		return;
	maybe_fsync(a);
	if (a->range_op.queued && op_issue(u, &a->range_op) < 0)
		return;
	maybe_flush_range(a);
	if (a->falloc_op.queued && op_issue(u, &a->falloc_op) < 0)
		return;
	maybe_prealloc(a);
}

static void op_complete(struct st_uring *u, struct st_op *op, int res)
{
	struct st_appender *a = op->a;
	unsigned moved = 0;

	u->in_flight--;
	a->in_flight--;
	op->in_flight = false;
	switch (op->kind) {
	case OP_WRITE:
		moved = write_done(a, op, res);
		break;
	case OP_FSYNC:
	case OP_RANGE:
		if (res < 0) {
			app_set_err(a, res);
			moved = ST_WM_ERROR;
			break;
		}
		a->st.syncs++;
		if (op->kind == OP_FSYNC && wm_raise(&a->durable, op->lend))
			moved |= ST_WM_DURABLE;
		if (op->kind == OP_FSYNC && a->final_issued && !a->finished) {
			a->finished = true;
			moved |= ST_WM_FINISHED;
		}
		if (wm_raise(&a->flushed, op->lend))
			moved |= ST_WM_FLUSHED;
		break;
	case OP_FALLOC:
		if (res < 0) {
			a->st.prealloc_err = res; /* e.g. EOPNOTSUPP, ENOSPC: stop trying */
		} else {
			a->prealloc_end = op->lend;
			a->st.preallocs++;
		}
		break;
	}
	app_progress(a);
	app_notify(a, moved);
}

int st_appender_sync(struct st_appender *a)
{
	if (a->err)
		return a->err;
	a->sync_want = a->pos;
	app_progress(a);
	return 0;
}

int st_appender_finish(struct st_appender *a)
{
	if (a->err)
		return a->err;
	a->finishing = true;
	a->sync_want = a->pos;
	app_progress(a);
	return 0;
}

bool st_appender_finished(const struct st_appender *a)
{
	return a->finished;
}

int st_appender_flush(struct st_appender *a)
{
	if (a->err)
		return a->err;
	if (a->direct)
		return 0;
	a->flush_want = a->pos;
	app_progress(a);
	return 0;
}

/* ------------------------------------------------------------ open, close */

static int app_open_fd(struct st_appender *a, const char *path, enum st_direct_policy pol)
{
	int flags = O_RDWR | O_CREAT | O_CLOEXEC;
	struct statfs sfs;

	if (pol != ST_DIRECT_OFF) {
		a->fd = open(path, flags | O_DIRECT, 0644);
		if (a->fd < 0 && (errno != EINVAL || pol == ST_DIRECT_ON))
			return -errno;
		/*
		 * tmpfs takes O_DIRECT since Linux 6.6 but has no device behind
		 * it: alignment and copies would buy nothing.
		 */
		if (a->fd >= 0 && pol == ST_DIRECT_AUTO && fstatfs(a->fd, &sfs) == 0 &&
		    (sfs.f_type == TMPFS_MAGIC || sfs.f_type == RAMFS_MAGIC)) {
			close(a->fd);
			a->fd = -1;
		}
		a->direct = a->fd >= 0;
	}
	if (a->fd < 0)
		a->fd = open(path, flags, 0644);
	return a->fd < 0 ? -errno : 0;
}

/* Continue an existing file: its tail page, and its bytes taken as durable. */
static int app_load_existing(struct st_appender *a)
{
	struct stat sb;
	ssize_t n;

	if (fstat(a->fd, &sb) < 0)
		return -errno;
	a->pos = (uint64_t)sb.st_size;
	a->tail_len = (uint32_t)(a->pos % ST_APPENDER_ALIGN);
	if (a->direct && a->tail_len) {
		n = pread(a->fd, a->tail, ST_APPENDER_ALIGN, (off_t)ALIGN_DOWN(a->pos));
		if (n < 0)
			return -errno;
		if ((uint64_t)n < a->tail_len)
			return -EIO;
	}
	if (a->pos && fdatasync(a->fd) < 0)
		return -errno;
	atomic_init(&a->written, a->pos);
	atomic_init(&a->flushed, a->pos);
	atomic_init(&a->durable, a->pos);
	a->sync_issued = a->flush_issued = a->pos;
	a->prealloc_end = a->pos;
	return 0;
}

int st_appender_open(struct st_appender **out, struct st_uring *u, const char *path,
		     const struct st_appender_cfg *cfg)
{
	struct st_appender *a;
	int ret;

	if (cfg->direct != ST_DIRECT_AUTO && cfg->direct != ST_DIRECT_ON &&
	    cfg->direct != ST_DIRECT_OFF)
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->fd = -1;
	a->open_stage = -1;
	a->u = u;
	a->cb = cfg->cb;
	a->cb_arg = cfg->cb_arg;
	a->prealloc_chunk = cfg->prealloc_chunk;
	a->tail = aligned_alloc(ST_APPENDER_ALIGN, ST_APPENDER_ALIGN);
	if (!a->tail) {
		ret = -ENOMEM;
		goto out;
	}
	ret = app_open_fd(a, path, cfg->direct);
	if (ret < 0)
		goto out;
	ret = app_load_existing(a);
	if (ret < 0)
		goto out;
	a->next = u->appenders;
	if (a->next)
		a->next->pprev = &a->next;
	a->pprev = &u->appenders;
	u->appenders = a;
	*out = a;
out:
	if (ret < 0) {
		if (a->fd >= 0)
			close(a->fd);
		free(a->tail);
		free(a);
	}
	return ret;
}

static bool app_has_work(const struct st_appender *a)
{
	if (a->in_flight)
		return true;
	if (a->err)
		return false;
	for (unsigned i = 0; i < a->wcount; i++)
		if (a->wops[(a->whead + i) % ST_APPENDER_MAX_WRITES].queued)
			return true;
	return a->open_stage >= 0 || a->sync_want > a->sync_issued ||
	       (a->finishing && !a->final_issued) ||
	       (!a->direct && a->flush_want > a->flush_issued) || a->fsync_op.queued ||
	       a->range_op.queued || a->falloc_op.queued;
}

/* Wait until nothing of @a is in flight or waiting.  @return 0 or -errno. */
static int app_drain(struct st_appender *a)
{
	struct st_uring *u = a->u;
	int ret;

	a->prealloc_chunk = 0; /* no new preallocation while closing */
	while (app_has_work(a)) {
		app_progress(a);
		if (!u->in_flight && !u->queued_sqes)
			return -EIO; /* nothing can complete: would wait forever */
		ret = st_uring_wait(u, 1);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int st_appender_close(struct st_appender *a)
{
	int ret, ret2;

	ret = app_drain(a);
	if (ret < 0 && a->in_flight)
		return ret; /* ops still reference @a: it cannot be freed */
	/* After a failure, held-back buffers are dropped, not written. */
	stage_put(a->u, a->open_stage);
	for (unsigned i = 0; i < a->wcount; i++)
		stage_put(a->u, wop_at(a, i)->stage);
	ret2 = ftruncate(a->fd, (off_t)wm_get(&a->written)) < 0 ? -errno : 0;
	if (close(a->fd) < 0 && !ret2)
		ret2 = -errno;
	*a->pprev = a->next;
	if (a->next)
		a->next->pprev = a->pprev;
	if (a->err)
		ret = a->err;
	else if (!ret)
		ret = ret2;
	free(a->tail);
	free(a);
	return ret;
}

/* ---------------------------------------------------------------- getters */

bool st_appender_idle(const struct st_appender *a)
{
	return !app_has_work(a);
}

uint64_t st_appender_written(const struct st_appender *a)
{
	return wm_get(&a->written);
}

uint64_t st_appender_flushed(const struct st_appender *a)
{
	return wm_get(&a->flushed);
}

uint64_t st_appender_durable(const struct st_appender *a)
{
	return wm_get(&a->durable);
}

uint64_t st_appender_pos(const struct st_appender *a)
{
	return a->pos;
}

bool st_appender_is_direct(const struct st_appender *a)
{
	return a->direct;
}

int st_appender_error(const struct st_appender *a)
{
	return a->err;
}

void st_appender_stats_get(const struct st_appender *a, struct st_appender_stats *st)
{
	*st = a->st;
}
