/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * st_writer.h - storage writer threads: partition rings into segment files.
 *
 * A writer is one pinned thread with one io_uring (st_uring).  Partitions
 * are attached to it (st_writer_attach); from then on the thread owns the
 * consumer side of their rings, their logs and appenders.  Each pass of its
 * loop, for every partition:
 *
 *   1. peek the committed bytes of the ring and cut them at a batch boundary
 *      (at most storage.write.max.bytes per write);
 *   2. st_log_append_prepare() (rolls the segment when due), st_appender_write(),
 *      st_log_append_commit() (index and time index);
 *   3. remember {appender, file end, next offset} of the write in a small
 *      FIFO.
 *
 * A roll never waits: the old segment's appender is asked for a final
 * fdatasync and put on the partition's closing list, the new segment is
 * written at once, and the old appender's writes and sync complete through
 * the ring like any other I/O; it is closed (ftruncate, close) once idle.
 * The FIFO keeps offsets in order across segments, so `durable` reaches the
 * new segment's data only after the old segment's sync completed.  At most
 * 8 rolled segments per partition may still be syncing; beyond that the
 * partition (only it) waits.
 *
 * then it submits everything in one io_uring_enter and reaps completions.
 * The appender's byte watermarks are turned into offsets through the FIFO
 * and published on the partition (written, flushed, durable) and, at the
 * configured visibility, to the log's readers (st_log_publish).  Ring bytes
 * are released once written.  Group commit: an fdatasync per dirty
 * partition when log.flush.interval.ms has passed since the last one or
 * log.flush.interval.messages records are waiting.  Retention runs every
 * log.retention.check.interval.ms.
 *
 * An I/O error (ENOSPC, EIO) stops appends to that partition only: the
 * partition's sticky error is set (producers see it at once), the error is
 * logged once and counted, and nothing already written is touched.
 *
 * Nothing here blocks a producer.  With nothing to do the writer sleeps in
 * its io_uring (st_uring_sleep), woken by a completion, by the next timed
 * duty (group commit, retention) or, with cfg.kicked, by a producer's
 * st_writer_kick().  Producers that cannot kick -- dataplane lcores make
 * no system call, and every producer when cfg.kicked is off -- are polled:
 * the sleep then lasts at most idle_sleep_us.
 */
#ifndef ST_WRITER_H
#define ST_WRITER_H

#include <stdint.h>

#include "st_appender.h"
#include "st_hugemem.h"
#include "st_log.h"
#include "st_partition.h"

struct st_writer;

/* Log levels for st_writer_cfg.log (syslog numbering). */
#define ST_LOG_ERR     3
#define ST_LOG_WARNING 4
#define ST_LOG_INFO    6

struct st_writer_cfg {
	int cpu;                        /* pin the thread here; -1 = unpinned */
	enum st_direct_policy direct;   /* storage.direct.io */
	enum st_huge_policy huge;       /* memory of the staging buffers */
	uint32_t write_max;             /* storage.write.max.bytes; 0 = 1 MiB */
	int64_t flush_interval_ms;      /* log.flush.interval.ms; <= 0 = sync every pass */
	int64_t flush_interval_messages;/* log.flush.interval.messages; <= 0 = off */
	int64_t retention_check_ms;     /* log.retention.check.interval.ms; <= 0 = never */
	enum st_visibility visibility;  /* what readers may see */
	uint32_t idle_sleep_us;         /* poll period for producers that do not kick; 0 = 20 */
	/*
	 * storage.io.error.retry.ms: a partition stopped by an I/O error (disk
	 * full, EIO) is retried this often and resumes once the write goes
	 * through; < 0 = never (stopped until a restart).  0 takes 1000.
	 */
	int64_t heal_interval_ms;
	/*
	 * Every producer of a partition without an inbox calls st_writer_kick()
	 * after committing: those rings are not polled.  Rings of partitions
	 * with p->inbox set (an lcore feeds them) are polled all the same.
	 */
	bool kicked;
	/* Watermarks moved (called on the writer thread; e.g. an eventfd write). */
	void (*notify)(void *arg);
	void *notify_arg;
	/* A line for the daemon's log (called on the writer thread; not hot). */
	void (*log)(void *arg, int level, const char *msg);
	void *log_arg;
};

/*
 * Latency histograms, in buckets with these upper bounds (microseconds),
 * plus one for larger; bucket counts are not cumulative (the metrics
 * endpoint sums them).
 */
#define ST_LAT_BUCKETS 13
static const uint32_t st_lat_bucket_us[ST_LAT_BUCKETS] = {
	250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000,
};

struct st_lat_hist {
	uint64_t bucket[ST_LAT_BUCKETS + 1];
	uint64_t sum_ns;
	uint64_t count;
};

/* Writer thread only; the reader copies the struct (relaxed, may be a moment stale). */
static inline void st_lat_hist_observe(struct st_lat_hist *h, uint64_t ns)
{
	unsigned int b = 0;

	while (b < ST_LAT_BUCKETS && ns > (uint64_t)st_lat_bucket_us[b] * 1000u)
		b++;
	h->bucket[b]++;
	h->sum_ns += ns;
	h->count++;
}

struct st_writer_stats {
	uint64_t passes;                /* loop iterations */
	uint64_t sleeps;                /* times it slept with nothing to do */
	uint64_t writes;                /* appender writes issued */
	uint64_t bytes;                 /* bytes handed to appenders */
	uint64_t syncs;                 /* fdatasyncs issued */
	uint64_t rolls;                 /* segments rolled */
	uint64_t rolls_overlapped;      /* rolls whose old segment still had writes or its sync to do */
	uint64_t segments_synced;       /* rolled segments whose data is all covered by an fdatasync */
	uint64_t retained_segments;     /* segments deleted by retention */
	uint64_t io_errors;             /* partitions stopped by an I/O error */
	uint64_t heals;                 /* partitions that resumed after one */
	/* gauges, as of the end of the last pass */
	uint64_t inflight_ops;          /* io_uring operations submitted or queued, not completed */
	uint64_t queue_bytes;           /* bytes of writes issued and not yet written */
	uint64_t huge_bytes;            /* staging buffers on hugepages (the rings are the partitions') */
	/*
	 * fdatasync latency: from the first sync request not yet covered to the
	 * durable watermark moving (the writes it waits for included).
	 */
	struct st_lat_hist sync;
	/*
	 * Receive to durable, one sample per dataplane batch (struct
	 * st_rx_stamps): from the batch's receive time (a tap batch's first
	 * record) to the pass in which the writer saw the durable watermark
	 * cover it.  CLOCK_REALTIME on both sides; a negative difference (the
	 * clock stepped) counts as 0.
	 */
	struct st_lat_hist rx_durable;
	uint64_t rx_stamps_lost;        /* batches not sampled: the stamp array was full */
};

/**
 * Create a writer (the thread starts at once).
 *
 * @return 0, ST_HUGEMEM_FALLBACK (created; staging buffers on ordinary
 *   pages: log one warning), -EINVAL, -ENOMEM, -errno.
 */
int st_writer_create(struct st_writer **out, const struct st_writer_cfg *cfg);

/**
 * Hand a partition to the writer (any thread).  The writer registers its
 * ring as an io_uring fixed buffer and starts moving it.  Returns once the
 * writer has taken it.  @return 0 or -errno.
 */
int st_writer_attach(struct st_writer *w, struct st_partition *p);

/**
 * Take a partition back (any thread): the writer writes out what its
 * producer committed, syncs and closes its appender, and stops looking at
 * it.  The caller then owns p->log again (st_partition_close).  The
 * producer must have stopped.  @return 0 or the partition's sticky error.
 */
int st_writer_detach(struct st_writer *w, struct st_partition *p);

/**
 * Stop: write out every ring (producers must have stopped), sync, close the
 * appenders, join the thread and free the writer.  Attached partitions are
 * detached (their logs stay open for st_partition_close).
 */
void st_writer_destroy(struct st_writer *w);

/**
 * Producer (any thread that may make a system call; never a dataplane
 * lcore): bytes were committed into a ring of @w (NULL is fine).  Wakes
 * the writer when it sleeps -- one eventfd write -- and is a counter bump
 * otherwise.  Call after st_ring_commit / st_partition_append.
 */
void st_writer_kick(struct st_writer *w);

/**
 * Run a retention pass over the writer's partitions soon (at its next pass)
 * instead of at the next retention.check interval.  Any thread.
 */
void st_writer_retain_soon(struct st_writer *w);

/** Statistics (any thread; relaxed reads). */
void st_writer_stats_get(const struct st_writer *w, struct st_writer_stats *st);

#endif /* ST_WRITER_H */
