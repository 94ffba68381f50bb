/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice_export_int.h - what sluice_export.c and its sources share: a
 * partition cursor.  A source (the data directory in sluice_export.c, a
 * broker in sluice_export_kafka.c) gives one cursor per partition; the
 * command merges them by time.
 */
#ifndef SLUICE_EXPORT_INT_H
#define SLUICE_EXPORT_INT_H

#include <stdint.h>

#include "sluice_export.h"

struct sluice_xpart {
	const char *topic;
	int32_t partition;
	void *impl;
	/* The next record into @x (valid until the next call). @return 1, 0 at the end, -errno. */
	int (*next)(struct sluice_xpart *p, struct sluice_xrec *x);
	void (*close)(struct sluice_xpart *p);
	uint64_t done, total;           /* progress, in the source's units (bytes, offsets) */
	/* the merge's */
	bool has;
	struct sluice_xrec cur;
};

/**
 * Cursors over @topic's partitions (@partition >= 0: that one) on the
 * broker at @bootstrap, from the first offset whose timestamp is at or after
 * @from_ns (ms, rounded down) to the high watermark at the time of the call.
 * @return 0, or -1 (message printed).  *@kc is the client, freed with
 * sluice_export_kafka_close() once the cursors are closed.
 */
struct sluice_xkafka;
int sluice_export_kafka_open(const char *bootstrap, const char *topic, int32_t partition,
			     int64_t from_ns, struct sluice_xpart **parts, size_t *n_parts,
			     struct sluice_xkafka **kc);
void sluice_export_kafka_close(struct sluice_xkafka *kc);

#endif /* SLUICE_EXPORT_INT_H */
