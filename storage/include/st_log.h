/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * st_log.h - one partition's log in Kafka's on-disk layout.
 *
 *   <root>/<topic>-<partition>/00000000000000000000.log        batches as on the wire
 *                              00000000000000000000.index      i32 relOffset, i32 position
 *                              00000000000000000000.timeindex  i64 timestamp, i32 relOffset
 *   <root>/recovery-point-offset-checkpoint, log-start-offset-checkpoint,
 *   <root>/.kafka_cleanshutdown
 *
 * Threads.  One writer thread owns a log: it appends, rolls, runs
 * retention and closes.  Any thread may read (st_log_read,
 * st_log_offset_for_time, the watermark getters).  The rule that keeps
 * readers safe:
 *   - only the writer changes the segment list, under log->lock; readers
 *     take the lock just to find a segment and take a reference on it;
 *   - a segment leaves the list (retention) by renaming its files to
 *     `.deleted`; its fds, mappings and files are released when the last
 *     reference goes, so a reader holding a range can still sendfile it;
 *   - appends publish in two steps: the index entries and sizes are
 *     updated first, then the readable byte end of the segment and the
 *     readable end offset of the log are stored with release semantics
 *     (st_log_publish); readers acquire them and never look past them.
 *
 * Appending in three steps, so an io_uring writer can do the I/O itself:
 *   (a) st_log_append_prepare(): where the next write of @len bytes goes
 *       (active segment path/fd and file position), rolling first if needed;
 *   (b) the caller writes the bytes there;
 *   (c) st_log_append_commit(): the batches in those bytes are at
 *       [pos, pos+len): index, time index, LEO and size are updated;
 *   then, once the bytes are on disk at the level readers should see,
 *   st_log_publish().  st_log_append() does all of it with pwrite.
 *
 * Int functions return >= 0 or -errno.  No printing: recovery reports what
 * it cut in struct st_log_recovery.
 */
#ifndef ST_LOG_H
#define ST_LOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define ST_LOG_CLEAN_SHUTDOWN  ".kafka_cleanshutdown"
#define ST_LOG_RECOVERY_CKPT   "recovery-point-offset-checkpoint"
#define ST_LOG_START_CKPT      "log-start-offset-checkpoint"

/* Per-log settings, filled by the caller from the topic's configuration. */
struct st_log_config {
	uint64_t segment_bytes;        /* segment.bytes (1 GiB) */
	int64_t segment_ms;            /* segment.ms (7 d); <= 0 = never roll on time */
	int64_t retention_bytes;       /* retention.bytes; -1 = no limit */
	int64_t retention_ms;          /* retention.ms (7 d); -1 = no limit */
	uint32_t index_interval_bytes; /* index.interval.bytes (4096) */
	uint32_t index_max_bytes;      /* segment.index.bytes (10 MiB) */
	bool preallocate;              /* fallocate the .log ahead (KEEP_SIZE) */
};

/** Kafka's defaults. */
void st_log_config_default(struct st_log_config *cfg);

struct st_logdir;
struct st_log;
struct st_segment;
struct st_producers;

/* What opening a log found and did. */
struct st_log_recovery {
	bool clean;                 /* trusted: clean-shutdown marker, sanity checks passed */
	uint32_t segments;          /* segments after recovery */
	uint32_t segments_walked;   /* segments whose batches were checked */
	uint64_t batches_walked;
	int64_t recovery_point;     /* from the checkpoint (0 when missing) */
	/* The first invalid batch, if one was found (truncated_at < 0: none). */
	int64_t truncated_at;       /* offset where the log was cut (the new LEO) */
	int64_t truncated_segment;  /* base offset of the segment cut */
	uint64_t truncated_position;/* byte position of the cut in it */
	uint64_t truncated_bytes;   /* bytes removed from that segment */
	uint32_t segments_deleted;  /* later segments removed */
	uint64_t deleted_bytes;     /* their .log bytes */
	const char *reason;         /* why the batch was refused (static text) */
	/* Idempotent producers' state (st_partition_open). */
	int64_t producer_batches_read;  /* batches read after the snapshot (or all) */
	int64_t producer_snapshot;      /* offset of the snapshot loaded; -1: none */
	unsigned int producer_snapshots_bad; /* corrupt snapshots ignored */
};

/* ---- the log directory (root): checkpoints and the clean-shutdown marker ---- */

/**
 * Open (create) the log directory @root: read the clean-shutdown marker and
 * both checkpoint files, then remove the marker (a crash from now on is
 * unclean).  @return 0, -ENOMEM, -EINVAL (unparsable checkpoint), -errno.
 */
int st_logdir_open(struct st_logdir **out, const char *root);
/** True when the marker was present at st_logdir_open(). */
bool st_logdir_was_clean(const struct st_logdir *d);
/**
 * What a start will load: the partition directories ("<topic>-<n>") under
 * @root holding segment files, and the bytes of their .log files.  For
 * progress reports; @return 0 or -errno (opendir of @root).
 */
int st_logdir_scan(const char *root, uint32_t *partitions, uint64_t *log_bytes);
/*
 * Called once per segment file a log open loaded (recovered or checked),
 * with the .log file's size as it was found, on the thread opening the log.
 */
typedef void (*st_logdir_progress_fn)(void *arg, uint64_t log_bytes);
/** Report loaded segments of logs opened under @d from now on (@fn NULL: stop). */
void st_logdir_set_progress(struct st_logdir *d, st_logdir_progress_fn fn, void *arg);
/**
 * Write recovery-point-offset-checkpoint and log-start-offset-checkpoint
 * (temp file, fsync, rename) from the open logs and remembered values.
 */
int st_logdir_checkpoint(struct st_logdir *d);
/**
 * Do not write the clean-shutdown marker at close: the next open must
 * recover (e.g. startup failed before every partition was recovered).
 */
void st_logdir_set_dirty(struct st_logdir *d);
/**
 * Close: every log must be closed first (-EBUSY otherwise).  Writes the
 * checkpoints and, when every log closed without error, the clean-shutdown
 * marker.  Frees @d in every case except -EBUSY.
 */
int st_logdir_close(struct st_logdir *d);

/* ---- open / close ---- */

/**
 * Open (create) the log of @topic / @partition under @d, recovering it (see
 * docs/storage.md): trusted after a clean shutdown (cheap sanity checks,
 * falling back to a walk), otherwise every segment from the recovery point
 * is walked batch by batch and the log is cut at the first invalid batch.
 * @rep (may be NULL) says what happened.
 * @return 0, -EINVAL (bad config or name), -ENOMEM, -errno.
 */
int st_log_open(struct st_log **out, struct st_logdir *d, const char *topic, int32_t partition,
		const struct st_log_config *cfg, struct st_log_recovery *rep);
/**
 * Clean close (writer thread): trim the active segment's preallocation and
 * indexes, fdatasync the .log, msync the indexes, record the recovery point
 * (= LEO) and log start in @d.  Readers must be gone.  @return 0 or -errno
 * (the log is freed anyway; the directory then will not be marked clean).
 */
int st_log_close(struct st_log *log);

/* ---- writer ---- */

/* Where the next write goes. */
struct st_log_slot {
	const char *path;          /* the active .log file (valid until the next roll) */
	int fd;                    /* the log's own O_RDWR fd of it */
	int64_t segment_base;      /* its base offset */
	uint64_t position;         /* file position of the write = segment size */
	bool rolled;               /* the active segment changed since the last prepare */
};

/**
 * (a) Prepare a write of @len bytes whose batches end at @last_offset and
 * carry @max_timestamp at most; @now_ms is the wall clock.  Rolls when the
 * segment is full (size > segment_bytes - len), too old (segment_ms since
 * the first batch's timestamp, else since creation), an index is full, or
 * @last_offset - base no longer fits in i32.  Also preallocates ahead.
 * @return 0, -EINVAL, -errno from the roll; the sticky error.
 */
int st_log_append_prepare(struct st_log *log, uint32_t len, int64_t last_offset,
			  int64_t max_timestamp, int64_t now_ms, struct st_log_slot *slot);
/**
 * (c) The batches in @batches (@len bytes, whole batches) are now at
 * [@position, @position + @len) of the active segment: @position must be
 * the slot's, and the first baseOffset the LEO.  Adds index entries every
 * index_interval_bytes, time index entries when the max timestamp grows,
 * advances LEO and the size.  The CRC is not checked here (produce did).
 * @return the new LEO, -EINVAL (position, offsets or headers wrong: nothing
 *   changed), -ENOSPC (index full: prepare should have rolled).
 */
int64_t st_log_append_commit(struct st_log *log, uint64_t position, const void *batches,
			     uint32_t len);
/**
 * Publish to readers: all batches below @end_offset, and the bytes of the
 * segment @segment_base below @end_position, are readable.  Publish in
 * append order; a rolled segment's end before the next segment's data.
 * @return 0 or -EINVAL.
 */
int st_log_publish(struct st_log *log, int64_t segment_base, uint64_t end_position,
		   int64_t end_offset);
/**
 * Synchronous append (tests, slow path): prepare, pwrite, commit, publish.
 * @batches already carry their offsets (first baseOffset = LEO).
 * @return the base offset, or -errno.
 */
int64_t st_log_append(struct st_log *log, const void *batches, uint32_t len, int64_t now_ms);
/**
 * The writer's I/O failed (ENOSPC, EIO...): the log stops taking appends and
 * its close will not count as clean, so the next open recovers it.
 */
void st_log_set_error(struct st_log *log, int err);
/** The writer's failure left nothing to undo: take appends again. */
void st_log_clear_error(struct st_log *log);
/**
 * Heal after the writer's I/O failed: the active segment, @segment_base,
 * ends at @position, where the batch of offset @next_offset starts; the
 * file is cut there, the index entries and LEO go back, and appends are
 * taken again (the sticky error is cleared).  The writer then appends the
 * same batches again.  @return 0; -EINVAL when @segment_base is not the
 * active segment or the position is beyond its size; -errno of ftruncate.
 */
int st_log_rewind(struct st_log *log, int64_t segment_base, uint64_t position,
		  int64_t next_offset);
/** fdatasync the active segment and move the recovery point to LEO. */
int st_log_sync(struct st_log *log);
/** The writer saw data up to @offset reach the disk (e.g. an fdatasync completed). */
void st_log_set_recovery_point(struct st_log *log, int64_t offset);
/** Roll now (e.g. before deleting everything). @return 0 or -errno. */
int st_log_roll(struct st_log *log, int64_t now_ms);

/**
 * Keep @t (NULL: none) as the idempotent producers' state as of the log end
 * (writer thread, or whoever owns the log): every committed batch with a
 * producer id updates it, every roll writes it as `<new base>.snapshot`
 * (st_producers_snapshot; Kafka's ProducerStateManager.takeSnapshot at
 * roll), and retention deletes the snapshots below the new log start.  Set
 * it at open, equal to the state at the LEO; it must outlive the log.  A
 * snapshot that cannot be written does not fail the roll (recovery then
 * reads more of the log): it is counted.
 */
void st_log_set_producers(struct st_log *log, struct st_producers *t);
/** Roll snapshots not written so far; *@last_err (may be NULL) the last -errno. */
uint64_t st_log_snapshot_errors(const struct st_log *log, int *last_err);

/* What st_log_retain() removed. */
struct st_log_retain_result {
	uint32_t segments;
	uint64_t bytes;
	int64_t log_start;         /* log start offset afterwards */
};

/**
 * Every record below @offset is superseded (the log's owner says so: the
 * group coordinator after copying the live records of __consumer_offsets
 * forward).  The next st_log_retain() deletes the segments that lie wholly
 * below it -- never the active one, never one holding an offset >= @offset.
 * Any thread; the floor only grows (a lower value is ignored).
 */
void st_log_set_delete_below(struct st_log *log, int64_t offset);

/**
 * Hold retention at @offset (any thread; the uplink's cursor): no segment
 * holding an offset >= @offset is deleted, by time, size or floor.  Unlike
 * the floor it moves both ways; a negative @offset removes the hold.
 */
void st_log_set_retain_hold(struct st_log *log, int64_t offset);

/**
 * Retention (writer thread): delete the oldest segments while their max
 * timestamp < @now_ms - retention_ms, or while total - segment size >=
 * retention_bytes, or while the next segment starts at or below the floor
 * of st_log_set_delete_below().  The active segment goes only when it is non-empty and
 * fully published, after rolling an empty one (Kafka).  Advances the log
 * start offset.  @return segments deleted, or -errno.
 */
int st_log_retain(struct st_log *log, int64_t now_ms, struct st_log_retain_result *res);

/* ---- readers (any thread) ---- */

/* A file range of whole batches; hold it (segment reference) until sent. */
struct st_log_range {
	int fd;
	uint64_t position;
	uint32_t length;           /* 0: nothing to read at the end offset */
	int64_t segment_base;
	int64_t first_offset;      /* baseOffset of the first batch in the range */
	int64_t next_offset;       /* lastOffset + 1 of the last batch */
	struct st_segment *seg;    /* reference, NULL when length is 0 */
};

/**
 * The batches starting with the one containing @offset: at least one whole
 * batch even when larger than @max_bytes, then more while they fit, within
 * one segment, never past the published readable end nor @upto_offset
 * (-1 = no limit; e.g. the high watermark).  Release with st_log_range_put().
 * @return 0 (length 0 when @offset is the end), -ERANGE (before the log
 *   start or after the end: OFFSET_OUT_OF_RANGE), -EIO (the file is not
 *   what the index says), -errno from pread.
 */
int st_log_read(struct st_log *log, int64_t offset, uint32_t max_bytes, int64_t upto_offset,
		struct st_log_range *range);
void st_log_range_put(struct st_log_range *range);

/**
 * ListOffsets by time: the first offset whose record timestamp >= @ts
 * (record-exact in uncompressed batches, the batch's base offset in
 * compressed ones), or -1 when none.  @return >= -1, or -errno.
 */
int64_t st_log_offset_for_time(struct st_log *log, int64_t ts);

/**
 * Bytes of the log (whole batches as on disk) from the batch holding
 * @offset to the published end (any thread; the uplink's lag in bytes).
 * @return >= 0, -ERANGE (before the log start or past the end), -errno.
 */
int64_t st_log_bytes_from(struct st_log *log, int64_t offset);

int64_t st_log_start_offset(const struct st_log *log);  /* ListOffsets -2 (earliest) */
int64_t st_log_end_offset(const struct st_log *log);    /* published readable end (latest) */
int64_t st_log_leo(const struct st_log *log);           /* writer: next offset to assign */
int64_t st_log_recovery_point(const struct st_log *log);
uint64_t st_log_size(const struct st_log *log);         /* writer: bytes in all segments */
uint32_t st_log_segment_count(const struct st_log *log);
/** The partition directory. */
const char *st_log_dir(const struct st_log *log);

#endif /* ST_LOG_H */
