/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_store.h - the daemon's storage engine, as the control plane sees it.
 *
 * Owns the log directory (log.dirs), the writer threads
 * (storage.writer.threads, pinned to storage.writer.cpus) and, through the
 * catalog's ops, every partition: a partition coming into being (start,
 * CreateTopics, auto-create) is opened -- recovered, its ring created -- on
 * the control thread and attached to a writer; one going away is detached,
 * closed, and with DeleteTopics its directory removed.  ctl_partition.store
 * points at the struct st_partition.
 *
 * Writers report moved watermarks by signalling the store's ctl_notifier,
 * which the server watches (ctl_server_notify() semantics: its notify
 * callbacks run), so that deferred Produce (acks=all) and long-polling
 * Fetch responses complete on the control thread without polling.  The
 * notifier lives as long as the writers, not as long as the server.
 */
#ifndef CTL_STORE_H
#define CTL_STORE_H

#include "ctl_catalog.h"
#include "st_partition.h"

struct fwc_config;
struct ctl_server;
struct ctl_store;

/**
 * Open log.dirs (reading its checkpoints and clean-shutdown marker) and
 * start the writer threads.  Logs a warning when rings or staging buffers
 * fall back to ordinary pages.
 *
 * @return 0 or -errno.
 */
int ctl_store_create(const struct fwc_config *cfg, struct ctl_store **out);

/**
 * Every partition there at start is open (after ctl_catalog_create): ends
 * the recovery progress lines ("recovery: 12/40 partitions, 3.2 GB of 9.1 GB
 * checked", one every SLUICE_PROGRESS_MS, default 1000, while the partitions
 * load) with a last one when any was printed.  Control thread.  @return 0.
 */
int ctl_store_opened(struct ctl_store *st);

/** The catalog ops that open/close partitions in this store. */
const struct ctl_catalog_ops *ctl_store_catalog_ops(void);

/**
 * From now on, moved watermarks wake @srv (NULL: nobody), and the recovery
 * checkpoints are written every 60 s on its loop (control thread only).
 * Writers signal the store's own notifier (ctl_notifier), which the server
 * only watches: set NULL (or just destroy the server) before the server is
 * destroyed, while the writers still run.  @return 0 or -errno (not watched).
 */
int ctl_store_set_server(struct ctl_store *st, struct ctl_server *srv);

/** What readers may see (storage.consumer.visibility). */
enum st_visibility ctl_store_visibility(const struct ctl_store *st);

/** The partition behind a catalog partition (NULL before it is opened). */
static inline struct st_partition *ctl_store_partition(const struct ctl_partition *p)
{
	return (struct st_partition *)p->store;
}

struct st_writer_stats;

/** Statistics of writer thread @i (any thread). @return 0, or -ENOENT past the last. */
int ctl_store_writer_stats(const struct ctl_store *st, unsigned int i, struct st_writer_stats *out);

/**
 * Stop the writers (everything committed is written and synced) and close
 * the log directory: clean-shutdown marker and checkpoints.  Partitions must
 * have been closed (ctl_catalog_destroy) first.  NULL is a no-op.
 */
void ctl_store_destroy(struct ctl_store *st);

#endif /* CTL_STORE_H */
