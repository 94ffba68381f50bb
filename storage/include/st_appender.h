/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * st_appender.h - append byte ranges to segment files through io_uring.
 *
 * One writer thread owns one struct st_uring (an io_uring with in-flight
 * accounting, batched submission and batched reaping) and any number of
 * appenders, one per open segment file.  The thread's loop is:
 *
 *   for each partition: n = st_ring_peek(...); st_appender_write(a, p, n);
 *   st_uring_submit(u);             one io_uring_enter for everything queued
 *   st_uring_wait(u, 1) or st_uring_reap(u);   completions -> callbacks
 *
 * Two modes, chosen at open:
 *
 * O_DIRECT (when the file system takes it; tmpfs does not).  Writes go to
 * the device in 4 KiB-aligned pieces.  The bytes of the last partial page
 * are kept in memory and written again, with what follows them, by the next
 * write (Redpanda's tail-page rewrite); the gap to the page end is written
 * as zeros and removed by ftruncate at close.  Where the copies are: the
 * ranges are copied into aligned staging buffers (registered io_uring fixed
 * buffers, owned by the st_uring) -- one memcpy per byte, ~10 GB/s against a
 * disk of ~0.5 GB/s.  The one zero-copy case is a range that starts on a
 * page boundary of the file and of memory and lies in a registered buffer:
 * its whole pages are written from the caller's memory.  Because a write
 * that rewrites a page must not race the earlier write of that page, a
 * write whose first page is still in flight waits in its staging buffer,
 * and later ranges are appended to it meanwhile (so a busy file gets fewer,
 * larger writes).
 *
 * Buffered (tmpfs, or by choice).  Each range is written straight from the
 * caller's memory with IORING_OP_WRITE_FIXED when it lies in a registered
 * buffer (the partition rings, see st_uring_buf_add()), else with a plain
 * IORING_OP_WRITE.  No copy in this process; the kernel copies into the
 * page cache.
 *
 * Watermarks, in bytes from the start of the file, monotonic, published
 * with release stores so any thread can read them without a lock:
 *   written  - every byte below it was accepted by a completed write
 *              (page cache in buffered mode, device in O_DIRECT mode);
 *   flushed  - on the device (volatile cache allowed): O_DIRECT write done,
 *              or in buffered mode after st_appender_flush()
 *              (sync_file_range) or an fdatasync;
 *   durable  - covered by a completed fdatasync.
 * written >= flushed >= durable.  They map onto Kafka acks: the log layer
 * keeps a byte -> offset map per partition and turns each callback into
 * offsets.
 *
 * Errors: a write or sync completing with -errno (ENOSPC, EIO...) makes the
 * appender sticky-failed: the watermarks stop before the failed range, every
 * later call returns the error, bytes below `written` are never rewritten
 * (a tail-page rewrite writes those bytes again with their same values).
 * Preallocation failures are not errors: preallocation just stops.
 *
 * Threading: everything except the watermark getters runs on the thread
 * that owns the st_uring.  Callbacks run inside st_uring_reap/wait/close and
 * may call st_appender_write/sync/flush, but not st_uring_wait or close.
 */
#ifndef ST_APPENDER_H
#define ST_APPENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "st_hugemem.h"

#define ST_APPENDER_ALIGN        4096u
#define ST_APPENDER_WRITE_MAX    (1u << 20)  /* write.max.bytes default */
#define ST_APPENDER_MAX_WRITES   16          /* writes in flight per appender */

struct st_uring;
struct st_appender;

/* ---- st_uring: one io_uring per writer thread ---- */

struct st_uring_cfg {
	unsigned entries;        /* SQ size and in-flight cap; 0 = 256 */
	unsigned max_bufs;       /* fixed buffer slots (rings + 1 for staging); 0 = 64 */
	unsigned staging_count;  /* O_DIRECT staging buffers; 0 = 8 */
	uint32_t write_max;      /* largest st_appender_write(); 0 = ST_APPENDER_WRITE_MAX */
	enum st_huge_policy huge; /* memory of the staging buffers */
};

struct st_uring_stats {
	uint64_t submit_calls;   /* io_uring_enter for submission */
	uint64_t sqes;           /* operations submitted (resubmissions included) */
	uint64_t cqes;           /* completions reaped */
	uint64_t stalls;         /* an operation waited for in-flight room */
	uint64_t huge_bytes;     /* the staging pool's bytes on hugepages (0: ordinary pages) */
};

/**
 * Create the io_uring, its sparse fixed-buffer table and the staging pool.
 *
 * @return 0; ST_HUGEMEM_FALLBACK when the staging pool is on ordinary pages
 *   (log one warning); -EINVAL bad config; -ENOMEM; -errno from io_uring.
 */
int st_uring_create(struct st_uring **out, const struct st_uring_cfg *cfg);

/** Destroy (NULL is fine).  All appenders must be closed first. */
void st_uring_destroy(struct st_uring *u);

/**
 * Register @len bytes at @base (a partition ring, see st_ring_iovec()) as a
 * fixed buffer, so writes from it use IORING_OP_WRITE_FIXED.  Allowed while
 * operations are in flight.
 *
 * @return the slot (>= 0), -ENOSPC no free slot, -EINVAL, -errno.
 */
int st_uring_buf_add(struct st_uring *u, void *base, size_t len);

/** Unregister a slot from st_uring_buf_add() before freeing its memory. */
int st_uring_buf_del(struct st_uring *u, int slot);

/** @return the slot whose buffer holds [@p, @p+@len), or -1. */
int st_uring_buf_find(struct st_uring *u, const void *p, size_t len);

/**
 * Keep this ring's kernel workers (io-wq: buffered writes the kernel cannot
 * do inline, fsyncs) on @cpu, the writer's own core, off the dataplane
 * cores.  @return 0 or -errno.
 */
int st_uring_set_cpu(struct st_uring *u, int cpu);

/** Submit everything queued.  @return SQEs submitted (>= 0) or -errno. */
int st_uring_submit(struct st_uring *u);

/** Process the completions already there.  @return how many, never blocks. */
int st_uring_reap(struct st_uring *u);

/**
 * Submit, then wait until at least @min completions arrived (fewer when
 * fewer are in flight) and process them.  @return completions or -errno.
 */
int st_uring_wait(struct st_uring *u, unsigned min);

/**
 * The doorbell: an eventfd that any thread may write (an 8-byte count) to
 * wake the owner from st_uring_sleep().  Its read is an io_uring operation
 * of its own, so the owner waits for completions, the bell and a timeout in
 * one io_uring_enter, and no read(2) drains it.  Not counted in flight.
 */
int st_uring_bell_fd(const struct st_uring *u);

/**
 * Submit, then sleep until a completion arrives, the doorbell rings, or
 * @timeout_us passes (< 0: no timeout), and process the completions.
 * A bell rung before the call makes it return at once.
 *
 * @return completions of operations processed (the bell not counted; 0 on
 *   a timeout or a bare ring), or -errno.
 */
int st_uring_sleep(struct st_uring *u, int64_t timeout_us);

/** Operations submitted or queued and not yet completed (the doorbell excluded). */
unsigned st_uring_in_flight(const struct st_uring *u);

void st_uring_stats_get(const struct st_uring *u, struct st_uring_stats *st);

/* ---- st_appender: one per open segment file ---- */

enum st_direct_policy {
	ST_DIRECT_AUTO = 0,      /* O_DIRECT if the file system takes it */
	ST_DIRECT_ON,            /* O_DIRECT or fail (-EINVAL) */
	ST_DIRECT_OFF,           /* buffered */
};

/* Bits of st_appender_event.moved. */
#define ST_WM_WRITTEN  (1u << 0)
#define ST_WM_FLUSHED  (1u << 1)
#define ST_WM_DURABLE  (1u << 2)
#define ST_WM_ERROR    (1u << 3)
#define ST_WM_FINISHED (1u << 4)  /* st_appender_finish()'s trim + fdatasync completed */

struct st_appender_event {
	unsigned moved;          /* ST_WM_* that changed with this completion */
	uint64_t written, flushed, durable;
	int err;                 /* sticky -errno, 0 if fine */
};

typedef void (*st_appender_cb)(void *arg, struct st_appender *a,
			       const struct st_appender_event *ev);

struct st_appender_cfg {
	enum st_direct_policy direct;
	uint64_t prealloc_chunk; /* fallocate(KEEP_SIZE) this far ahead; 0 = never */
	st_appender_cb cb;       /* optional, once per completion that moved something */
	void *cb_arg;
};

struct st_appender_stats {
	uint64_t writes;         /* write operations completed */
	uint64_t short_writes;   /* resubmitted remainders */
	uint64_t bytes_copied;   /* into staging buffers (O_DIRECT) */
	uint64_t bytes_zero_copy; /* written from caller memory */
	uint64_t bytes_device;   /* bytes the device wrote, tail rewrites and padding included */
	uint64_t syncs;          /* fdatasync + sync_file_range completed */
	uint64_t preallocs;      /* fallocate done */
	int prealloc_err;        /* why preallocation stopped, 0 if it did not */
};

/**
 * Open (create if missing) @path for appending at its current size.
 *
 * @return 0; -EINVAL (ST_DIRECT_ON on a file system without O_DIRECT);
 *   -ENOMEM; -errno from open/fstat/pread.
 */
int st_appender_open(struct st_appender **out, struct st_uring *u, const char *path,
		     const struct st_appender_cfg *cfg);

/**
 * Append @len bytes (1 .. write_max) at the end of the file and start
 * writing them; they are queued until st_uring_submit().
 *
 * @return 0 when @src must stay untouched until `written` passes the new end
 *   (st_appender_pos()); ST_APPENDER_COPIED when it was copied and may be
 *   reused now; -EAGAIN no room now (reap completions and retry; nothing was
 *   accepted); -EINVAL bad @len; the sticky -errno after a failure.
 */
int st_appender_write(struct st_appender *a, const void *src, size_t len);
#define ST_APPENDER_COPIED 1

/**
 * Ask for an fdatasync covering everything accepted so far (group commit:
 * the caller decides when).  It is issued once the writes it covers have
 * completed; requests made meanwhile share it.  @return 0 or the sticky error.
 */
int st_appender_sync(struct st_appender *a);

/**
 * Buffered mode: start writeback of everything accepted (sync_file_range;
 * moves `flushed`, not `durable`).  O_DIRECT: nothing to do.  @return 0 or
 * the sticky error.
 */
int st_appender_flush(struct st_appender *a);

/**
 * Drain: submit what is held back, wait for every operation of this
 * appender (processing other appenders' completions too), ftruncate the
 * file to `written` (drops the O_DIRECT zero padding, the preallocation and
 * anything after a failure), close and free.
 *
 * @return 0, or the sticky error (the file is still closed and freed).
 */
int st_appender_close(struct st_appender *a);

/**
 * Last request before close, for a file whose successor may be written
 * before it is closed (a rolled segment): once every accepted byte is
 * written, trim the file to its logical end (the O_DIRECT zero padding
 * would otherwise look like a torn tail in the middle of the log after a
 * crash) and fdatasync it -- always, even if an earlier sync covered the
 * bytes, so that the trimmed size is durable too.  Its completion carries
 * ST_WM_FINISHED.  No write may follow.  @return 0 or the sticky error.
 */
int st_appender_finish(struct st_appender *a);
/** The st_appender_finish() sync completed. */
bool st_appender_finished(const struct st_appender *a);

/**
 * Nothing of @a is in flight or waiting to be issued (a requested sync
 * included), so st_appender_close() will not wait.  A writer closing an old
 * segment asks for its sync, keeps writing the new one, and closes the old
 * appender once this is true -- the old one's I/O completes through the
 * ring like any other.
 */
bool st_appender_idle(const struct st_appender *a);

uint64_t st_appender_written(const struct st_appender *a);  /* acquire loads */
uint64_t st_appender_flushed(const struct st_appender *a);
uint64_t st_appender_durable(const struct st_appender *a);
/** Bytes accepted (the logical end of the file once all writes land). */
uint64_t st_appender_pos(const struct st_appender *a);
bool st_appender_is_direct(const struct st_appender *a);
/** @return 0 or the sticky -errno. */
int st_appender_error(const struct st_appender *a);
void st_appender_stats_get(const struct st_appender *a, struct st_appender_stats *st);

#endif /* ST_APPENDER_H */
