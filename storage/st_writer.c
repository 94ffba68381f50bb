/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * st_writer.c - the storage writer thread: rings -> io_uring appenders ->
 * Kafka segment files, watermarks in offsets, group commit, retention.
 *
 * See st_writer.h for the loop.  Everything below the "thread" marker runs
 * on the writer thread only, except st_writer_attach/detach/destroy, which
 * hand requests to it through one mutex-protected slot (control-plane rate,
 * never on a producer's path).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "st_endian.h"
#include "st_file.h"
#include "st_writer.h"

#define WFLIGHT_MAX 64          /* writes remembered per partition until durable */
#define WPART_MAX   1024        /* partitions per writer */
#define WCLOSING_MAX 8          /* rolled segments per partition still syncing */

/* One write to a segment, until it is durable. */
struct wflight {
	struct st_appender *app; /* the segment's appender (maybe a closing one) */
	int64_t seg_base;       /* the segment */
	uint64_t end_pos;       /* file position after it */
	int64_t end_offset;     /* next offset after its last batch */
	uint64_t ring_len;      /* ring bytes to release once written */
	uint64_t ring_end;      /* ring position after it (receive stamps up to here are in it) */
};

/* The writer's state of one partition. */
struct wpart {
	struct st_partition *p;
	struct st_writer *w;
	struct st_appender *app;
	int64_t seg_base;       /* segment the appender writes */
	uint64_t seg_pos;       /* its size after the writes issued so far */
	int ring_slot;          /* fixed-buffer slot of the ring */
	struct wflight fl[WFLIGHT_MAX];
	uint32_t fl_durable;    /* oldest entry not yet durable (FIFO head) */
	uint32_t fl_flushed;    /* oldest not yet flushed */
	uint32_t fl_written;    /* oldest not yet written */
	uint32_t fl_tail;       /* next free */
	uint64_t unsynced;      /* records written since the last sync request */
	int64_t last_sync_ms;
	uint64_t snapshot_errors; /* the log's roll snapshots failed, as last logged */
	/*
	 * The end of the last whole write of the active segment that completed
	 * (its ring bytes released): where a heal rewinds to.
	 */
	uint64_t good_pos;
	int64_t good_offset;
	int seg_fd;             /* the log's own fd of the active segment */
	bool failed;
	bool heal_stuck;        /* a heal cannot proceed (logged once) */
	bool heal_rewind;       /* the failed appender is closed: cut back to good_pos */
	uint64_t heal_from;     /* its durable watermark: resync from there */
	int64_t failed_ms;      /* when it failed, or the last heal attempt */
	int64_t healed_at;      /* LEO at the last heal until a write goes through; -1 none */
	uint64_t sync_t0_ns;    /* the oldest sync request the durable watermark has not answered */
	/*
	 * Appenders of rolled segments, oldest first: their last writes and
	 * final fdatasync complete through the ring while the new segment is
	 * written; each is closed once idle and no FIFO entry names it.
	 */
	struct st_appender *closing[WCLOSING_MAX];
	unsigned n_closing;
};

enum wreq_op { WREQ_NONE = 0, WREQ_ATTACH, WREQ_DETACH };

struct st_writer {
	struct st_writer_cfg cfg;
	struct st_uring *uring;
	pthread_t thread;
	_Atomic bool stop;
	/* Producers' kicks (st_writer_kick): count, and "asleep: ring the bell". */
	_Atomic uint64_t kick_seq;
	_Atomic bool sleeping;
	_Atomic bool retain_req;        /* st_writer_retain_soon */
	bool moved;             /* a watermark moved during this pass */
	uint64_t rx_now_ns;     /* CLOCK_REALTIME of the durable event being handled; 0: not read yet */
	int64_t last_retention_ms;

	unsigned n_parts;
	struct wpart *parts[WPART_MAX];

	/* One pending control request. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	_Atomic bool req_pending;
	enum wreq_op req_op;
	struct st_partition *req_p;
	int req_rc;
	bool req_done;

	struct st_writer_stats stats;
};

static void wlog(struct st_writer *w, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void wlog(struct st_writer *w, int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!w->cfg.log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	w->cfg.log(w->cfg.log_arg, level, msg);
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One dataplane batch is durable: its receive -> durable latency. */
static void rx_durable_observe(void *arg, uint64_t rx_ns)
{
	struct st_writer *w = arg;

	if (!w->rx_now_ns)
		w->rx_now_ns = clock_ns(CLOCK_REALTIME); /* once per event: the moment the writer saw it */
	st_lat_hist_observe(&w->stats.rx_durable, w->rx_now_ns > rx_ns ? w->rx_now_ns - rx_ns : 0);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Stop appends to a partition after an I/O error, until a heal (wpart_heal).
 * Logged once per episode: a failure again before any write went through
 * after a heal is the same one.
 */
static void wpart_fail(struct wpart *wp, int err, const char *what)
{
	if (wp->failed)
		return;
	wp->failed = true;
	wp->failed_ms = now_ms();
	atomic_store_explicit(&wp->p->err, err ? err : -EIO, memory_order_release);
	st_log_set_error(wp->p->log, err); /* its close must not count as clean */
	wp->w->stats.io_errors++;
	wp->w->moved = true;    /* wake whoever waits on its watermarks: they get the error now */
	if (wp->healed_at >= 0)
		return;
	wlog(wp->w, ST_LOG_ERR, "%s-%d: %s failed: %s; appends to this partition stopped%s",
	     wp->p->topic, wp->p->partition, what, strerror(err < 0 ? -err : EIO),
	     wp->w->cfg.heal_interval_ms > 0 ? ", retried until the write goes through" : "");
}

/* After a heal: the first write that completes ends the episode. */
static void wpart_healed_check(struct wpart *wp)
{
	if (wp->healed_at < 0 || wp->good_offset <= wp->healed_at)
		return;
	wlog(wp->w, ST_LOG_INFO, "%s-%d: appends resumed at offset %lld after the I/O error",
	     wp->p->topic, wp->p->partition, (long long)wp->healed_at);
	wp->healed_at = -1;
}

/*
 * Readers see segments in order: publish @f, after the end of the segment
 * of the previous entry published in this walk when @f starts a new one.
 */
static void publish_step(struct wpart *wp, const struct wflight **pub, const struct wflight *f)
{
	if (*pub && (*pub)->seg_base != f->seg_base)
		st_log_publish(wp->p->log, (*pub)->seg_base, (*pub)->end_pos, (*pub)->end_offset);
	*pub = f;
}

/*
 * Has every rolled segment up to @a (itself included, if it is one) been
 * trimmed and synced?  Until then a crash could leave O_DIRECT padding in
 * the middle of the log, where recovery cuts everything after it.
 */
static bool older_finished(const struct wpart *wp, const struct st_appender *a)
{
	for (unsigned i = 0; i < wp->n_closing; i++) {
		if (!st_appender_finished(wp->closing[i]))
			return false;
		if (wp->closing[i] == a)
			break;
	}
	return true;
}

/*
 * Byte watermarks -> offsets.  The FIFO spans segments: the closing ones'
 * and the active one's entries, in append order.  Each entry is judged by
 * its own appender's watermarks, and each watermark stops at the first
 * entry that has not reached it, so an offset is published durable only
 * once everything before it is -- the new segment's data never becomes
 * durable before the old segment's final fdatasync completed.
 */
static void wpart_advance(struct wpart *wp)
{
	struct st_partition *p = wp->p;
	enum st_visibility vis = wp->w->cfg.visibility;
	const struct wflight *pub = NULL;
	const struct wflight *f;

	for (; wp->fl_written != wp->fl_tail; wp->fl_written++) {
		f = &wp->fl[wp->fl_written % WFLIGHT_MAX];
		if (f->end_pos > st_appender_written(f->app))
			break;
		st_ring_release(p->ring, f->ring_len);
		wp->w->stats.queue_bytes -= f->ring_len;
		if (f->app == wp->app) {
			wp->good_pos = f->end_pos;
			wp->good_offset = f->end_offset;
		}
		atomic_store_explicit(&p->written, f->end_offset, memory_order_release);
		if (vis == ST_VIS_WRITTEN)
			publish_step(wp, &pub, f);
	}
	for (; wp->fl_flushed != wp->fl_written; wp->fl_flushed++) {
		f = &wp->fl[wp->fl_flushed % WFLIGHT_MAX];
		if (f->end_pos > st_appender_flushed(f->app))
			break;
		atomic_store_explicit(&p->flushed, f->end_offset, memory_order_release);
		if (vis == ST_VIS_FLUSHED)
			publish_step(wp, &pub, f);
	}
	for (; wp->fl_durable != wp->fl_flushed; wp->fl_durable++) {
		f = &wp->fl[wp->fl_durable % WFLIGHT_MAX];
		if (f->end_pos > st_appender_durable(f->app) || !older_finished(wp, f->app))
			break;
		atomic_store_explicit(&p->durable, f->end_offset, memory_order_release);
		st_log_set_recovery_point(p->log, f->end_offset);
		st_partition_rx_stamps_take(p, f->ring_end, rx_durable_observe, wp->w);
		if (vis == ST_VIS_DURABLE)
			publish_step(wp, &pub, f);
	}
	wpart_healed_check(wp);
	/* Durable implies flushed implies written, whatever order they came in. */
	if (pub) {
		st_log_publish(p->log, pub->seg_base, pub->end_pos, pub->end_offset);
		wp->w->moved = true;
	}
}

/* Appender completion (the active segment's or a closing one's). */
static void wpart_on_event(void *arg, struct st_appender *a, const struct st_appender_event *ev)
{
	struct wpart *wp = arg;

	(void)a;
	if (ev->err)
		wpart_fail(wp, ev->err, "write");
	if (ev->moved & ST_WM_FINISHED)
		wp->w->stats.segments_synced++; /* a rolled segment trimmed and synced */
	if (ev->moved & ST_WM_DURABLE)
		wp->w->rx_now_ns = 0;   /* read the clock again if a stamp is covered */
	if ((ev->moved & ST_WM_DURABLE) && wp->sync_t0_ns) {
		st_lat_hist_observe(&wp->w->stats.sync, clock_ns(CLOCK_MONOTONIC) - wp->sync_t0_ns);
		wp->sync_t0_ns = 0;
	}
	wpart_advance(wp);
}

/* Does an entry not yet durable still name @a? */
static bool fifo_names(const struct wpart *wp, const struct st_appender *a)
{
	for (uint32_t i = wp->fl_durable; i != wp->fl_tail; i++)
		if (wp->fl[i % WFLIGHT_MAX].app == a)
			return true;
	return false;
}

/*
 * Roll: the current segment's appender gets its final fdatasync request and
 * joins the closing list; nothing waits for it here.
 */
static void wpart_retire_segment(struct wpart *wp)
{
	struct st_appender *a = wp->app;

	if (!a)
		return;
	st_appender_finish(a); /* an error is sticky and reaches us through the callback */
	if (!st_appender_idle(a))
		wp->w->stats.rolls_overlapped++;
	wp->closing[wp->n_closing++] = a;
	wp->app = NULL;
}

/* Close the closing appenders whose I/O is all done (never waits). */
static void wpart_reap_closing(struct wpart *wp)
{
	unsigned kept = 0;
	int rc;

	for (unsigned i = 0; i < wp->n_closing; i++) {
		struct st_appender *a = wp->closing[i];

		if (!st_appender_idle(a) || fifo_names(wp, a)) {
			wp->closing[kept++] = a;
			continue;
		}
		rc = st_appender_close(a);
		if (rc < 0)
			wpart_fail(wp, rc, "closing a segment");
	}
	wp->n_closing = kept;
}

/* Detach: close every appender of the partition, waiting for their I/O. */
static void wpart_close_all(struct wpart *wp)
{
	int rc;

	for (unsigned i = 0; i < wp->n_closing; i++) {
		rc = st_appender_close(wp->closing[i]);
		if (rc < 0)
			wpart_fail(wp, rc, "closing a segment");
	}
	wp->n_closing = 0;
	if (!wp->app)
		return;
	st_appender_sync(wp->app);
	rc = st_appender_close(wp->app);
	wp->app = NULL;
	if (rc < 0)
		wpart_fail(wp, rc, "closing a segment");
}

static int wpart_open_segment(struct wpart *wp, const struct st_log_slot *slot)
{
	struct st_appender_cfg acfg = {
		.direct = wp->w->cfg.direct,
		.prealloc_chunk = 0, /* st_log preallocates the .log */
		.cb = wpart_on_event,
		.cb_arg = wp,
	};
	int rc;

	rc = st_appender_open(&wp->app, wp->w->uring, slot->path, &acfg);
	if (rc < 0)
		return rc;
	if (st_appender_pos(wp->app) != slot->position) {
		/* The file is not where the log thinks it ends: never write blind. */
		st_appender_close(wp->app);
		wp->app = NULL;
		return -EIO;
	}
	wp->seg_base = slot->segment_base;
	wp->seg_fd = slot->fd;
	wp->good_pos = slot->position;
	wp->good_offset = st_log_leo(wp->p->log);
	return 0;
}

/* A roll's producer-state snapshot failed: not fatal, recovery reads more of the log. */
static void wpart_check_snapshot(struct wpart *wp)
{
	int err;
	uint64_t n = st_log_snapshot_errors(wp->p->log, &err);

	if (n == wp->snapshot_errors)
		return;
	wp->snapshot_errors = n;
	wlog(wp->w, ST_LOG_WARNING, "%s-%d: producer-state snapshot at the roll not written: %s",
	     wp->p->topic, wp->p->partition, strerror(-err));
}

/*
 * Cut the committed bytes at @ptr (@n of them, whole batches) to at most
 * write_max bytes of whole batches (at least one).  Fills the last offset,
 * max timestamp and record count of what was taken.
 */
static uint32_t cut_batches(const uint8_t *ptr, uint64_t n, uint32_t write_max,
			    int64_t *last_offset, int64_t *max_ts, uint32_t *records)
{
	uint64_t pos = 0;

	*records = 0;
	while (pos + ST_BATCH_HEADER_SIZE <= n) {
		const uint8_t *b = ptr + pos;
		uint64_t len = ST_BATCH_LOG_OVERHEAD + st_be32_load(b + ST_BATCH_OFF_LENGTH);
		int64_t ts = (int64_t)st_be64_load(b + ST_BATCH_OFF_MAX_TIMESTAMP);

		if (pos + len > n || (pos > 0 && pos + len > write_max))
			break;
		*last_offset = (int64_t)st_be64_load(b + ST_BATCH_OFF_BASE_OFFSET) +
			       (int32_t)st_be32_load(b + ST_BATCH_OFF_LAST_OFFSET_DELTA);
		*records += st_be32_load(b + ST_BATCH_OFF_RECORDS_COUNT);
		if (pos == 0 || ts > *max_ts)
			*max_ts = ts;
		pos += len;
	}
	return (uint32_t)pos;
}

/*
 * Move one write's worth of a partition's ring into its segment.
 * @return bytes issued (0: nothing to do or no room now), or -errno.
 */
static void wpart_maybe_sync(struct wpart *wp, int64_t now, bool force);

static int wpart_pump_one(struct wpart *wp, int64_t now)
{
	struct st_partition *p = wp->p;
	struct st_log_slot slot;
	uint8_t *ptr;
	int64_t last_offset = -1, max_ts = -1;
	uint32_t records, len, room;
	uint64_t n;
	int rc;

	if (wp->n_closing == WCLOSING_MAX) {
		/*
		 * Rolling faster than fdatasyncs complete: this partition waits
		 * (others go on) until an old segment is closed.
		 */
		wpart_reap_closing(wp);
		if (wp->n_closing == WCLOSING_MAX)
			return 0;
	}
	if (wp->fl_tail - wp->fl_durable >= WFLIGHT_MAX) {
		/*
		 * FIFO full: entries leave it only once durable, so ask for the
		 * sync now whatever the flush interval says (with
		 * log.flush.interval.* at their maximum none would ever come).
		 */
		wpart_maybe_sync(wp, now, true);
		return 0;
	}
	n = st_ring_peek(p->ring, &ptr);
	if (n == 0)
		return 0;
	/*
	 * A write never crosses a segment roll: gather only what fits in the
	 * rest of the segment (at least one batch; prepare rolls for it).
	 */
	room = wp->w->cfg.write_max;
	if (p->segment_bytes < room)
		room = (uint32_t)p->segment_bytes;
	if (wp->app && p->segment_bytes > wp->seg_pos && p->segment_bytes - wp->seg_pos < room)
		room = (uint32_t)(p->segment_bytes - wp->seg_pos);
	len = cut_batches(ptr, n, room, &last_offset, &max_ts, &records);
	if (len == 0)
		return -EBADMSG; /* a producer committed something that is not a batch */
	rc = st_log_append_prepare(p->log, len, last_offset, max_ts, now, &slot);
	if (rc < 0)
		return rc;
	if (!wp->app || slot.segment_base != wp->seg_base) {
		/*
		 * A roll.  If the old segment's last writes or sync fail later,
		 * the partition fails then: the FIFO never lets a watermark pass
		 * the hole, and recovery cuts the log there (deleting the new
		 * segment), so writing ahead of the old sync is safe.
		 */
		if (wp->app) {
			wpart_retire_segment(wp);
			wp->w->stats.rolls++;
			wpart_check_snapshot(wp);
		}
		if ((rc = wpart_open_segment(wp, &slot)) < 0)
			return rc;
		wp->seg_pos = slot.position;
	}
	rc = st_appender_write(wp->app, ptr, len);
	if (rc == -EAGAIN)
		return 0;
	if (rc < 0)
		return rc;
	if (st_log_append_commit(p->log, slot.position, ptr, len) < 0)
		return -EIO;
	st_ring_consume(p->ring, len);
	wp->seg_pos = slot.position + len;
	wp->fl[wp->fl_tail++ % WFLIGHT_MAX] = (struct wflight){
		.app = wp->app, .seg_base = wp->seg_base, .end_pos = slot.position + len,
		.end_offset = last_offset + 1, .ring_len = len, .ring_end = p->ring->cons_head,
	};
	wp->w->stats.queue_bytes += len;
	wp->unsynced += records;
	wp->w->stats.writes++;
	wp->w->stats.bytes += len;
	return (int)len;
}

/* Group commit: fdatasync when the interval or the message count says so. */
static void wpart_maybe_sync(struct wpart *wp, int64_t now, bool force)
{
	const struct st_writer_cfg *c = &wp->w->cfg;

	if (!wp->app || wp->unsynced == 0)
		return;
	if (!force && c->flush_interval_ms > 0 && now - wp->last_sync_ms < c->flush_interval_ms &&
	    (c->flush_interval_messages <= 0 || wp->unsynced < (uint64_t)c->flush_interval_messages))
		return;
	if (st_appender_sync(wp->app) < 0)
		return; /* the sticky error reaches us through the callback */
	if (!wp->sync_t0_ns)
		wp->sync_t0_ns = clock_ns(CLOCK_MONOTONIC);
	wp->unsynced = 0;
	wp->last_sync_ms = now;
	wp->w->stats.syncs++;
}

/* @return bytes moved in this pass. */
static uint64_t wpart_pump(struct wpart *wp, int64_t now, bool force_sync)
{
	uint64_t moved = 0;
	int rc = 0;

	if (wp->n_closing)
		wpart_reap_closing(wp);
	if (wp->failed)
		return 0;
	while (!wp->failed && (rc = wpart_pump_one(wp, now)) > 0)
		moved += (uint64_t)rc;
	if (rc < 0)
		wpart_fail(wp, rc, "append");
	else
		wpart_maybe_sync(wp, now, force_sync);
	return moved;
}

/*
 * Heal a partition stopped by an I/O error (ENOSPC, EIO), once every
 * heal_interval_ms: when its I/O has drained, everything up to the last
 * whole write that completed is made durable (st_file_resync: a failed
 * fdatasync may have dropped dirty pages), the segment is cut there, and the
 * log, the ring and the FIFO go back to that point, so the writes that
 * failed are issued again -- the same batches at the same offsets, still in
 * the ring, since ring bytes are released only once written.  Producers are
 * let in again last.  A failure that is still there fails the partition
 * again; the next attempt comes an interval later.
 *
 * Only a failure inside the active segment heals here: a rolled segment
 * whose last writes or final sync failed keeps its appender in the closing
 * list for good, and the partition stays stopped (logged once) until a
 * restart's recovery cuts the log.
 */
/* Room for two writes on the partition's file system (ENOSPC heals wait for it). */
static bool space_for(const struct wpart *wp)
{
	struct statvfs sv;

	if (fstatvfs(wp->seg_fd >= 0 ? wp->seg_fd : -1, &sv) < 0)
		return true;            /* cannot tell: let the write say */
	return (uint64_t)sv.f_bavail * sv.f_frsize >= 2ull * wp->w->cfg.write_max;
}

/* Forget the FIFO entries not yet written (they will be issued again, or never). */
static void wpart_fifo_drop_unwritten(struct wpart *wp)
{
	for (; wp->fl_tail != wp->fl_written; wp->fl_tail--)
		wp->w->stats.queue_bytes -= wp->fl[(wp->fl_tail - 1) % WFLIGHT_MAX].ring_len;
}

static void wpart_heal(struct wpart *wp, int64_t now)
{
	struct st_partition *p = wp->p;
	int rc;

	if (wp->w->cfg.heal_interval_ms < 0 || now - wp->failed_ms < wp->w->cfg.heal_interval_ms)
		return;
	wpart_reap_closing(wp);
	if (wp->n_closing) {
		if (!wp->heal_stuck)
			wlog(wp->w, ST_LOG_ERR, "%s-%d: a rolled segment failed; appends stay stopped "
			     "until a restart recovers the log", p->topic, p->partition);
		wp->heal_stuck = true;
		return;
	}
	if (wp->app && !st_appender_idle(wp->app))
		return;                 /* its last operations still complete */
	wp->failed_ms = now;
	if (atomic_load_explicit(&p->err, memory_order_relaxed) == -ENOSPC && !space_for(wp))
		return;                 /* the disk is still full: do not let producers in */
	if (wp->app) {
		/* Closed first: its close trims the file to its own watermark, past good_pos. */
		wp->heal_from = st_appender_durable(wp->app);
		if (wp->heal_from > wp->good_pos)
			wp->heal_from = wp->good_pos;
		st_appender_close(wp->app); /* its sticky error is the one being healed */
		wp->app = NULL;
		wp->heal_rewind = true;
	}
	if (wp->heal_rewind) {
		rc = st_file_resync(wp->seg_fd, wp->heal_from, wp->good_pos);
		if (rc == 0)
			rc = st_log_rewind(p->log, wp->seg_base, wp->good_pos, wp->good_offset);
		if (rc < 0)
			return;         /* not yet: an interval later */
		wp->heal_rewind = false;
		st_ring_rewind(p->ring);
		wpart_fifo_drop_unwritten(wp);
		wp->fl_durable = wp->fl_flushed = wp->fl_written;
		atomic_store_explicit(&p->flushed, wp->good_offset, memory_order_release);
		atomic_store_explicit(&p->durable, wp->good_offset, memory_order_release);
		st_log_set_recovery_point(p->log, wp->good_offset);
		st_log_publish(p->log, wp->seg_base, wp->good_pos, wp->good_offset);
		wp->w->moved = true;
	} else {
		st_log_clear_error(p->log);  /* it failed before writing: nothing to undo */
	}
	wp->unsynced = 0;
	wp->failed = wp->heal_stuck = false;
	wp->healed_at = st_log_leo(p->log);
	wp->w->stats.heals++;
	atomic_store_explicit(&p->err, 0, memory_order_release);
}

static bool wpart_idle(const struct wpart *wp)
{
	uint8_t *ptr;

	return wp->failed ||
	       (wp->fl_durable == wp->fl_tail && wp->n_closing == 0 &&
		st_ring_peek(wp->p->ring, &ptr) == 0);
}

static void writer_retention(struct st_writer *w, int64_t now)
{
	for (unsigned i = 0; i < w->n_parts; i++) {
		struct wpart *wp = w->parts[i];
		struct st_log_retain_result res;
		int rc;

		if (wp->failed)
			continue;
		rc = st_log_retain(wp->p->log, now, &res);
		if (rc < 0) {
			wlog(w, ST_LOG_WARNING, "%s-%d: retention: %s", wp->p->topic,
			     wp->p->partition, strerror(-rc));
			continue;
		}
		if (rc > 0) {
			w->stats.retained_segments += (uint64_t)rc;
			atomic_store_explicit(&wp->p->log_start, res.log_start, memory_order_release);
			wlog(w, ST_LOG_INFO, "%s-%d: retention deleted %d segment(s), %llu bytes; log start %lld",
			     wp->p->topic, wp->p->partition, rc, (unsigned long long)res.bytes,
			     (long long)res.log_start);
		}
	}
}

/* ---- thread ---- */

static int writer_attach_now(struct st_writer *w, struct st_partition *p)
{
	struct st_ring *r = p->ring;
	struct wpart *wp;
	int slot;

	if (w->n_parts == WPART_MAX)
		return -ENOSPC;
	wp = calloc(1, sizeof(*wp));
	if (!wp)
		return -ENOMEM;
	slot = st_uring_buf_add(w->uring, r->base, (size_t)r->size);
	wp->ring_slot = slot; /* < 0: writes from it go as plain WRITE, still correct */
	wp->p = p;
	wp->w = w;
	wp->seg_base = -1;
	wp->seg_fd = -1;
	wp->healed_at = -1;
	wp->last_sync_ms = now_ms();
	p->writer = w;
	p->writer_priv = wp;
	w->parts[w->n_parts++] = wp;
	return 0;
}

/* Write out, sync and close one partition, then forget it. */
static int writer_detach_now(struct st_writer *w, struct st_partition *p)
{
	struct wpart *wp = p->writer_priv;
	int rc;

	if (!wp || wp->w != w)
		return -ENOENT;
	while (!wp->failed && !wpart_idle(wp)) {
		wpart_pump(wp, now_ms(), true);
		st_uring_wait(w->uring, 1);
	}
	wpart_close_all(wp);
	wpart_fifo_drop_unwritten(wp);      /* a failed partition's writes that never completed */
	if (wp->ring_slot >= 0)
		st_uring_buf_del(w->uring, wp->ring_slot);
	for (unsigned i = 0; i < w->n_parts; i++) {
		if (w->parts[i] == wp) {
			w->parts[i] = w->parts[--w->n_parts];
			break;
		}
	}
	rc = atomic_load_explicit(&p->err, memory_order_acquire);
	p->writer = NULL;
	p->writer_priv = NULL;
	free(wp);
	return rc;
}

static void writer_serve_request(struct st_writer *w)
{
	pthread_mutex_lock(&w->lock);
	if (w->req_op == WREQ_ATTACH)
		w->req_rc = writer_attach_now(w, w->req_p);
	else if (w->req_op == WREQ_DETACH)
		w->req_rc = writer_detach_now(w, w->req_p);
	w->req_op = WREQ_NONE;
	w->req_done = true;
	atomic_store_explicit(&w->req_pending, false, memory_order_relaxed);
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

/* The gauges of struct st_writer_stats, for the metrics endpoint. */
static void writer_gauges(struct st_writer *w)
{
	struct st_uring_stats us;
	uint64_t lost = 0;

	st_uring_stats_get(w->uring, &us);
	w->stats.huge_bytes = us.huge_bytes;
	w->stats.inflight_ops = st_uring_in_flight(w->uring);
	for (unsigned i = 0; i < w->n_parts; i++)
		lost += __atomic_load_n(&w->parts[i]->p->stamps.lost, __ATOMIC_RELAXED);
	w->stats.rx_stamps_lost = lost;
}

/* One pass over every partition.  @return true if anything happened. */
static bool writer_pass(struct st_writer *w, bool force_sync)
{
	int64_t now = now_ms();
	uint64_t bytes = 0;
	int reaped;

	w->moved = false;
	for (unsigned i = 0; i < w->n_parts; i++) {
		if (w->parts[i]->failed)
			wpart_heal(w->parts[i], now);
		bytes += wpart_pump(w->parts[i], now, force_sync);
	}
	st_uring_submit(w->uring);
	reaped = st_uring_reap(w->uring);
	if (w->moved && w->cfg.notify)
		w->cfg.notify(w->cfg.notify_arg);
	if (atomic_exchange_explicit(&w->retain_req, false, memory_order_acq_rel) ||
	    (w->cfg.retention_check_ms > 0 && now - w->last_retention_ms >= w->cfg.retention_check_ms)) {
		w->last_retention_ms = now;
		writer_retention(w, now);
	}
	writer_gauges(w);
	w->stats.passes++;
	return bytes > 0 || reaped > 0;
}

/* Watermarks moved outside a pass (completions reaped while asleep): tell now. */
static void writer_notify_moved(struct st_writer *w)
{
	if (w->moved && w->cfg.notify)
		w->cfg.notify(w->cfg.notify_arg);
	w->moved = false;
}

/*
 * How long the writer may sleep: -1 (until kicked or a completion) when
 * every producer kicks, else the poll period.  Partitions fed by a
 * dataplane lcore (p->inbox set) are polled: an lcore makes no system call,
 * so it never rings the bell.  Timed duties bound the sleep either way: the
 * next group commit of a partition with unsynced records, retention.
 */
static int64_t writer_timeout_us(const struct st_writer *w)
{
	const struct st_writer_cfg *c = &w->cfg;
	int64_t now = now_ms(), t = INT64_MAX;

	if (!c->kicked)
		return c->idle_sleep_us;
	for (unsigned i = 0; i < w->n_parts; i++) {
		const struct wpart *wp = w->parts[i];

		if (__atomic_load_n(&wp->p->inbox, __ATOMIC_RELAXED))
			return c->idle_sleep_us;
		if (wp->failed && c->heal_interval_ms > 0 &&
		    c->heal_interval_ms - (now - wp->failed_ms) < t)
			t = c->heal_interval_ms - (now - wp->failed_ms);
		/* Intervals may be INT64_MAX (Kafka's default): subtract, never add. */
		if (wp->app && wp->unsynced && c->flush_interval_ms > 0 &&
		    c->flush_interval_ms - (now - wp->last_sync_ms) < t)
			t = c->flush_interval_ms - (now - wp->last_sync_ms);
	}
	if (c->retention_check_ms > 0 && c->retention_check_ms - (now - w->last_retention_ms) < t)
		t = c->retention_check_ms - (now - w->last_retention_ms);
	if (t == INT64_MAX)
		return -1;
	if (t > 3600 * 1000)
		t = 3600 * 1000; /* keep the timespec small; waking once an hour costs nothing */
	return t > 0 ? t * 1000 : 0;
}

/*
 * Nothing moved this pass: sleep in the ring until a completion, a kick
 * or the next timed duty.  Dekker with st_writer_kick(): "sleeping" is
 * published before kick_seq is read again, a kicker bumps kick_seq before
 * it reads "sleeping"; so either we see the kick and stay up, or the kicker
 * sees us asleep and rings the bell.  @seq is kick_seq from before the pass.
 */
static void writer_idle(struct st_writer *w, uint64_t seq)
{
	int64_t timeout_us = writer_timeout_us(w);

	atomic_store_explicit(&w->sleeping, true, memory_order_seq_cst);
	if (atomic_load_explicit(&w->kick_seq, memory_order_seq_cst) == seq &&
	    !atomic_load_explicit(&w->req_pending, memory_order_seq_cst) &&
	    !atomic_load_explicit(&w->stop, memory_order_seq_cst)) {
		w->stats.sleeps++;
		if (st_uring_sleep(w->uring, timeout_us) < 0)
			usleep(w->cfg.idle_sleep_us); /* the ring refused to wait: poll */
	}
	atomic_store_explicit(&w->sleeping, false, memory_order_relaxed);
	writer_notify_moved(w);
}

void st_writer_retain_soon(struct st_writer *w)
{
	if (!w)
		return;
	atomic_store_explicit(&w->retain_req, true, memory_order_release);
	st_writer_kick(w);
}

void st_writer_kick(struct st_writer *w)
{
	uint64_t one = 1;

	if (!w)
		return;
	atomic_fetch_add_explicit(&w->kick_seq, 1, memory_order_seq_cst);
	if (atomic_load_explicit(&w->sleeping, memory_order_seq_cst) &&
	    atomic_exchange_explicit(&w->sleeping, false, memory_order_seq_cst) &&
	    write(st_uring_bell_fd(w->uring), &one, sizeof(one)) < 0)
		return; /* cannot fail short of a saturated count, which wakes it anyway */
}

static void *writer_main(void *arg)
{
	struct st_writer *w = arg;
	bool all_idle;

	while (!atomic_load_explicit(&w->stop, memory_order_acquire)) {
		uint64_t seq = atomic_load_explicit(&w->kick_seq, memory_order_seq_cst);

		if (atomic_load_explicit(&w->req_pending, memory_order_acquire))
			writer_serve_request(w);
		if (!writer_pass(w, false))
			writer_idle(w, seq);
	}
	/* Drain: producers have stopped; write and sync everything. */
	do {
		writer_pass(w, true);
		all_idle = true;
		for (unsigned i = 0; i < w->n_parts; i++)
			all_idle &= wpart_idle(w->parts[i]);
		if (!all_idle)
			st_uring_wait(w->uring, 1);
	} while (!all_idle);
	while (w->n_parts)
		writer_detach_now(w, w->parts[0]->p);
	return NULL;
}

int st_writer_create(struct st_writer **out, const struct st_writer_cfg *cfg)
{
	struct st_uring_cfg ucfg = { .write_max = cfg->write_max, .huge = cfg->huge };
	struct st_writer *w;
	int rc, uring_rc;

	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->cfg = *cfg;
	if (!w->cfg.write_max)
		w->cfg.write_max = ST_APPENDER_WRITE_MAX;
	if (!w->cfg.idle_sleep_us)
		w->cfg.idle_sleep_us = 20;
	if (!w->cfg.heal_interval_ms)
		w->cfg.heal_interval_ms = 1000;
	w->last_retention_ms = now_ms();
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	uring_rc = st_uring_create(&w->uring, &ucfg);
	if (uring_rc < 0) {
		rc = uring_rc;
		goto out;
	}
	rc = pthread_create(&w->thread, NULL, writer_main, w);
	if (rc) {
		rc = -rc;
		goto out;
	}
	pthread_setname_np(w->thread, "sluice-writer");
	if (cfg->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cfg->cpu, &set);
		pthread_setaffinity_np(w->thread, sizeof(set), &set);
		/* Its kernel workers too: never on a dataplane core. */
		if (st_uring_set_cpu(w->uring, cfg->cpu) < 0)
			wlog(w, ST_LOG_WARNING, "io-wq workers could not be pinned to cpu %d", cfg->cpu);
	}
	*out = w;
	return uring_rc; /* 0 or ST_HUGEMEM_FALLBACK */
out:
	st_uring_destroy(w->uring);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w);
	return rc;
}

static int writer_request(struct st_writer *w, enum wreq_op op, struct st_partition *p)
{
	int rc;

	pthread_mutex_lock(&w->lock);
	while (w->req_op != WREQ_NONE)
		pthread_cond_wait(&w->cond, &w->lock);
	w->req_op = op;
	w->req_p = p;
	w->req_done = false;
	atomic_store_explicit(&w->req_pending, true, memory_order_release);
	st_writer_kick(w);
	while (!w->req_done)
		pthread_cond_wait(&w->cond, &w->lock);
	rc = w->req_rc;
	pthread_mutex_unlock(&w->lock);
	return rc;
}

int st_writer_attach(struct st_writer *w, struct st_partition *p)
{
	return writer_request(w, WREQ_ATTACH, p);
}

int st_writer_detach(struct st_writer *w, struct st_partition *p)
{
	return writer_request(w, WREQ_DETACH, p);
}

void st_writer_destroy(struct st_writer *w)
{
	if (!w)
		return;
	atomic_store_explicit(&w->stop, true, memory_order_release);
	st_writer_kick(w);
	pthread_join(w->thread, NULL);
	st_uring_destroy(w->uring);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

void st_writer_stats_get(const struct st_writer *w, struct st_writer_stats *st)
{
	*st = w->stats;
}
