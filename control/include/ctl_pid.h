/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_pid.h - the producer id allocator behind InitProducerId.
 *
 * An idempotent producer's (producer_id, epoch, sequence) is what the
 * partitions de-duplicate by, so a producer id must never be handed out
 * twice: not after a restart, not after a crash.  Ids are reserved in blocks
 * of CTL_PIDS_BLOCK, as Kafka's ProducerIdManager does: the end of the
 * current block is written to <dir>/producer-id-block (write a temp file,
 * fsync it, rename, fsync the directory) before any id of the block is
 * handed out, so whatever is on disk is always above every id given.  At
 * open the next id is the stored end: the unused rest of the previous block
 * is skipped, never reused (there are 2^63 of them).  Closing writes
 * nothing, which is why a crash is as safe as a clean stop.
 *
 * The file is text, like Kafka's checkpoint files:
 *
 *     0          version
 *     3000       end of the reserved block (first id not reserved)
 *
 * A missing file starts at 0; any other content is refused, since starting
 * over would reuse ids.  Control thread only: no locking.
 */
#ifndef CTL_PID_H
#define CTL_PID_H

#include <stdint.h>

#define CTL_PIDS_FILE "producer-id-block"
#define CTL_PIDS_BLOCK 1000

struct ctl_pids;

/**
 * Read <@dir>/producer-id-block and reserve the first block (written and
 * synced before returning), so that an unwritable directory fails at start.
 * Failures are logged with the file's path.
 *
 * @return 0, -EBADMSG (the file is not "0\n<end>\n" with 0 <= end),
 *         -EOVERFLOW (no block left below INT64_MAX), -ENOMEM, or the -errno
 *         of reading or writing the file.
 */
int ctl_pids_open(const char *dir, struct ctl_pids **out);

/**
 * The next producer id (>= 0, strictly increasing).  The first id of a new
 * block is only given once its reservation is on disk; if writing it fails
 * nothing is handed out, and the next call tries again.
 *
 * @return 0 with *@id set, or the -errno of writing the reservation (e.g.
 *         -ENOSPC), or -EOVERFLOW.
 */
int ctl_pids_next(struct ctl_pids *pids, int64_t *id);

/** Free.  Writes nothing (the file already covers every id given).  NULL is a no-op. */
void ctl_pids_close(struct ctl_pids *pids);

#endif /* CTL_PID_H */
