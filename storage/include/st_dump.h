/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * st_dump.h - the logic behind `sluice dump-log PATH [--records]` and
 * `sluice verify DIR`: read segment files offline and print what they hold,
 * in the style of Kafka's kafka-dump-log.sh.  The only storage code that
 * prints; it never writes the files.
 */
#ifndef ST_DUMP_H
#define ST_DUMP_H

#include <stdbool.h>
#include <stdio.h>

/**
 * Print every batch of a .log file ("baseOffset: 0 lastOffset: 9 count: 10
 * ... crc: N isvalid: true"), with @records each record (offset,
 * timestamp, key, value and headers as text when printable, else hex).  A
 * .index or .timeindex file prints its entries.
 * @return 0 when every batch is valid, 1 for a corrupt or torn file, -errno
 *   when it cannot be read.
 */
int st_dump_log(FILE *out, const char *path, bool records);

/**
 * Check a log directory (or one partition directory): every segment's
 * batches (header, fits, magic, CRC-32C), offsets contiguous within and
 * across segments, every index entry at a batch start and naming an offset
 * of that batch, time index ordered.  Prints each problem and a summary.
 * @return 0 when clean, 1 when anything is wrong, -errno (cannot open DIR).
 */
int st_verify_dir(FILE *out, const char *dir);

#endif /* ST_DUMP_H */
