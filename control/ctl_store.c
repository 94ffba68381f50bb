/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_store.c - storage behind the catalog: partitions opened, attached to
 * writer threads, detached and closed; topic data removed on delete.
 *
 * Runs on the control thread (catalog ops) except the writer callbacks
 * (notify, log), which run on writer threads and only touch thread-safe
 * things that outlive the writers: the store's ctl_notifier and rte_log().
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_log.h"
#include "ctl_server.h"
#include "ctl_store.h"
#include "fwc_config.h"
#include "st_log.h"
#include "st_writer.h"

#define CTL_STORE_MAX_WRITERS 16
/* Kafka's log.flush.offset.checkpoint.interval.ms: bounds the recovery walk after a crash. */
#define CTL_STORE_CHECKPOINT_MS 60000

/*
 * Progress of the partitions' load at start (a large data directory after a
 * crash takes a while): a line every SLUICE_PROGRESS_MS (default 1000 ms)
 * while it lasts, and one at the end if any was printed.
 */
struct recovery_progress {
	bool on;
	uint32_t parts_total, parts_done;
	uint64_t bytes_total, bytes_done;
	uint64_t t0_ns, last_ns, interval_ns;
	bool printed;
};

struct ctl_store {
	const struct fwc_config *cfg;
	struct st_logdir *logdir;
	unsigned n_writers;
	struct st_writer *writers[CTL_STORE_MAX_WRITERS];
	unsigned next_writer;           /* round-robin placement */
	/*
	 * What writers signal when watermarks move.  Created before the first
	 * writer starts and destroyed after the last is joined, so a writer
	 * never reaches a server: the server only watches it
	 * (ctl_store_set_server), and may be destroyed while writers run.
	 */
	struct ctl_notifier *notifier;
	struct ctl_server *srv;         /* control thread only */
	bool served;                    /* the appliance got as far as serving */
	struct ctl_timer checkpoint;    /* on the control loop */
	bool warned_fallback;
	struct recovery_progress rp;    /* the partitions opened at start */
};

static void store_notify(void *arg)
{
	struct ctl_store *st = arg;

	ctl_notifier_signal(st->notifier);
}

/* The storage module's own log type: --log-level storage=LEVEL. */
RTE_LOG_REGISTER(ctl_storage_logtype, sluice.storage, INFO);

static void store_log(void *arg, int level, const char *msg)
{
	(void)arg;
	rte_log(level <= ST_LOG_ERR ? RTE_LOG_ERR : level <= ST_LOG_WARNING ? RTE_LOG_WARNING
									    : RTE_LOG_INFO,
		ctl_storage_logtype, "STORAGE: %s\n", msg);
}

/* @b as "3.2 GB", "120.5 MB", "512 kB" into @buf. */
static const char *human_bytes(uint64_t b, char *buf, size_t len)
{
	if (b >= 1000000000u)
		snprintf(buf, len, "%.1f GB", b / 1e9);
	else if (b >= 1000000u)
		snprintf(buf, len, "%.1f MB", b / 1e6);
	else
		snprintf(buf, len, "%llu kB", (unsigned long long)(b + 999) / 1000);
	return buf;
}

static void progress_line(struct recovery_progress *rp, const char *what)
{
	char done[32], total[32];
	uint32_t parts = rp->parts_total > rp->parts_done ? rp->parts_total : rp->parts_done;
	uint64_t bytes = rp->bytes_total > rp->bytes_done ? rp->bytes_total : rp->bytes_done;

	CTL_LOG(INFO, "recovery: %u/%u partitions, %s of %s checked%s", rp->parts_done, parts,
		human_bytes(rp->bytes_done, done, sizeof(done)),
		human_bytes(bytes, total, sizeof(total)), what);
	rp->printed = true;
}

static void progress_tick(struct recovery_progress *rp)
{
	uint64_t now = ctl_now_ns();

	if (now - rp->last_ns < rp->interval_ns)
		return;
	rp->last_ns = now;
	progress_line(rp, "");
}

/* st_logdir_progress_fn: one segment loaded (the control thread opens every partition). */
static void progress_segment(void *arg, uint64_t log_bytes)
{
	struct recovery_progress *rp = arg;

	rp->bytes_done += log_bytes;
	progress_tick(rp);
}

static void progress_start(struct ctl_store *st)
{
	struct recovery_progress *rp = &st->rp;
	long ms = fwc_log_progress_ms();

	if (ms < 0) {
		CTL_LOG(WARNING, "SLUICE_PROGRESS_MS=%s: not 1..3600000; 1000 used",
			getenv(FWC_PROGRESS_ENV));
		ms = 1000;
	}
	*rp = (struct recovery_progress){ .on = true, .interval_ns = (uint64_t)ms * 1000000u };
	if (st_logdir_scan(st->cfg->broker.log_dirs, &rp->parts_total, &rp->bytes_total) < 0)
		rp->parts_total = 0;
	rp->t0_ns = rp->last_ns = ctl_now_ns();
	st_logdir_set_progress(st->logdir, progress_segment, rp);
}

int ctl_store_opened(struct ctl_store *st)
{
	struct recovery_progress *rp = &st->rp;
	char what[64];

	if (!rp->on)
		return 0;
	st_logdir_set_progress(st->logdir, NULL, NULL);
	rp->on = false;
	if (rp->printed) {
		snprintf(what, sizeof(what), ": done in %.1f s", (ctl_now_ns() - rp->t0_ns) / 1e9);
		progress_line(rp, what);
	}
	return 0;
}

static enum st_visibility visibility(const struct fwc_config *cfg)
{
	switch (cfg->storage.consumer_visibility) {
	case FWC_VISIBILITY_WRITTEN:
		return ST_VIS_WRITTEN;
	case FWC_VISIBILITY_FLUSHED:
		return ST_VIS_FLUSHED;
	default:
		return ST_VIS_DURABLE;
	}
}

static enum st_huge_policy huge_policy(enum fwc_tristate t)
{
	return t == FWC_ON ? ST_HUGE_ON : t == FWC_OFF ? ST_HUGE_OFF : ST_HUGE_AUTO;
}

static enum st_direct_policy direct_policy(enum fwc_tristate t)
{
	return t == FWC_ON ? ST_DIRECT_ON : t == FWC_OFF ? ST_DIRECT_OFF : ST_DIRECT_AUTO;
}

int ctl_store_create(const struct fwc_config *cfg, struct ctl_store **out)
{
	const struct fwc_storage *s = &cfg->storage;
	struct ctl_store *st = calloc(1, sizeof(*st));
	int rc;

	if (!st)
		return -ENOMEM;
	st->cfg = cfg;
	rc = ctl_notifier_create(&st->notifier);
	if (rc < 0) {
		free(st);
		return rc;
	}
	rc = st_logdir_open(&st->logdir, cfg->broker.log_dirs);
	if (rc < 0) {
		CTL_LOG(ERR, "log.dirs %s: %s", cfg->broker.log_dirs, strerror(-rc));
		ctl_notifier_destroy(st->notifier);
		free(st);
		return rc;
	}
	CTL_LOG(INFO, "log.dirs %s: %s", cfg->broker.log_dirs,
		st_logdir_was_clean(st->logdir) ? "clean shutdown marker found"
						: "no clean shutdown marker: partitions are recovered");
	progress_start(st);
	st->n_writers = s->writer_threads < CTL_STORE_MAX_WRITERS ? s->writer_threads
								  : CTL_STORE_MAX_WRITERS;
	for (unsigned i = 0; i < st->n_writers; i++) {
		struct st_writer_cfg wc = {
			.cpu = s->n_writer_cpus ? s->writer_cpus[i % s->n_writer_cpus] : -1,
			.direct = direct_policy(s->direct_io),
			.huge = huge_policy(s->hugepages),
			.write_max = s->write_max_bytes,
			.flush_interval_ms = cfg->broker.log_flush_interval_ms,
			.flush_interval_messages = cfg->broker.log_flush_interval_messages,
			.retention_check_ms = cfg->broker.log_retention_check_interval_ms,
			.visibility = visibility(cfg),
			.heal_interval_ms = s->io_error_retry_ms,
			.kicked = true, /* kp_produce kicks; lcore-fed rings are polled */
			.notify = store_notify, .notify_arg = st,
			.log = store_log,
		};

		rc = st_writer_create(&st->writers[i], &wc);
		if (rc == ST_HUGEMEM_FALLBACK && !st->warned_fallback) {
			CTL_LOG(WARNING, "no hugepages: writer staging buffers on ordinary pages");
			st->warned_fallback = true;
		} else if (rc < 0) {
			CTL_LOG(ERR, "storage writer %u: %s", i, strerror(-rc));
			st->n_writers = i;
			ctl_store_destroy(st);
			return rc;
		}
	}
	*out = st;
	return 0;
}

/* Write the recovery points (what fdatasyncs covered) so a crash walks little. */
static void store_checkpoint(void *arg, struct ctl_timer *t)
{
	struct ctl_store *st = arg;
	struct ctl_server *srv = st->srv;
	int rc = st_logdir_checkpoint(st->logdir);

	if (rc < 0)
		CTL_LOG(WARNING, "log.dirs: writing checkpoints: %s", strerror(-rc));
	if (srv)
		ctl_timer_arm(srv, t, CTL_STORE_CHECKPOINT_MS);
}

int ctl_store_set_server(struct ctl_store *st, struct ctl_server *srv)
{
	struct ctl_server *old = st->srv;
	int rc;

	if (old) {
		ctl_timer_cancel(old, &st->checkpoint);
		ctl_server_unwatch(old, st->notifier);
	}
	st->srv = NULL;
	if (srv) {
		rc = ctl_server_watch(srv, st->notifier);
		if (rc < 0)
			return rc;
		st->srv = srv;
		st->served = true;
		ctl_timer_init(&st->checkpoint, store_checkpoint, st);
		ctl_timer_arm(srv, &st->checkpoint, CTL_STORE_CHECKPOINT_MS);
	}
	return 0;
}

enum st_visibility ctl_store_visibility(const struct ctl_store *st)
{
	return visibility(st->cfg);
}

/* The topic's effective Kafka configs -> the log's settings. */
#define ST_INTERNAL_RING_BYTES (1u << 20)

static void log_config(const struct ctl_topic *t, struct st_log_config *lc)
{
	st_log_config_default(lc);
	lc->segment_bytes = (uint64_t)t->cfg.v[CTL_TCFG_SEGMENT_BYTES];
	lc->segment_ms = t->cfg.v[CTL_TCFG_SEGMENT_MS];
	lc->retention_bytes = t->cfg.v[CTL_TCFG_RETENTION_BYTES];
	lc->retention_ms = t->cfg.v[CTL_TCFG_RETENTION_MS];
	lc->index_interval_bytes = (uint32_t)t->cfg.v[CTL_TCFG_INDEX_INTERVAL_BYTES];
	lc->index_max_bytes = (uint32_t)t->cfg.v[CTL_TCFG_SEGMENT_INDEX_BYTES];
}

static int op_partition_open(void *arg, const struct ctl_topic *t, struct ctl_partition *cp)
{
	struct ctl_store *st = arg;
	const struct fwc_storage *s = &st->cfg->storage;
	struct st_partition_cfg pc = { .ring_bytes = s->ring_bytes, .huge = huge_policy(s->hugepages),
				       .batch_size = 16384, .linger_ms = 5, .leader_epoch = 0,
				       .max_producers = t->internal ? 0 : s->producers_max,
				       .producer_expiration_ms =
					       st->cfg->broker.producer_id_expiration_ms };
	const struct fwc_topic *ft;
	struct st_log_recovery rep;
	struct st_log_config lc;
	struct st_partition *p;
	struct st_writer *w;
	int rc;

	if (st->n_writers == 0)
		return -ENODEV;
	/*
	 * An internal topic (__consumer_offsets: 50 partitions, small records)
	 * gets rings of 1 MiB at most: a commit batch may take half of it.
	 */
	if (t->internal && pc.ring_bytes > ST_INTERNAL_RING_BYTES)
		pc.ring_bytes = ST_INTERNAL_RING_BYTES;
	log_config(t, &lc);
	rc = st_partition_open(&p, st->logdir, t->name, cp->index, &lc, &pc, &rep);
	if (rc < 0) {
		CTL_LOG(ERR, "%s-%d: open: %s", t->name, cp->index, strerror(-rc));
		return rc;
	}
	if (rc == ST_HUGEMEM_FALLBACK && !st->warned_fallback) {
		CTL_LOG(WARNING, "no hugepages: partition rings on ordinary pages");
		st->warned_fallback = true;
	}
	if (rep.truncated_at >= 0)
		CTL_LOG(WARNING, "%s-%d: recovery cut the log at offset %lld (segment %lld, position %llu): "
			"%llu bytes removed (%s), %u later segment(s) deleted", t->name, cp->index,
			(long long)rep.truncated_at, (long long)rep.truncated_segment,
			(unsigned long long)rep.truncated_position,
			(unsigned long long)rep.truncated_bytes, rep.reason ? rep.reason : "invalid batch",
			rep.segments_deleted);
	/*
	 * An uplinked topic's retention is held before its writer can run it:
	 * nothing goes until the uplink (ctl_uplink.c) raises the hold to its
	 * durable cursor.
	 */
	ft = fwc_config_topic(st->cfg, t->name);
	if (ft && ft->uplink.enabled && !ft->uplink.retention_override)
		st_log_set_retain_hold(p->log, 0);
	w = st->writers[st->next_writer++ % st->n_writers];
	rc = st_writer_attach(w, p);
	if (rc < 0) {
		st_partition_close(p);
		return rc;
	}
	cp->store = p;
	if (st->rp.on) {
		st->rp.parts_done++;
		progress_tick(&st->rp);
	}
	return 0;
}

static void op_partition_close(void *arg, const struct ctl_topic *t, struct ctl_partition *cp)
{
	struct st_partition *p = cp->store;
	int rc;

	(void)arg;
	if (!p)
		return;
	rc = st_writer_detach(p->writer, p);
	if (rc < 0)
		CTL_LOG(WARNING, "%s-%d: closed after an error: %s", t->name, cp->index, strerror(-rc));
	st_partition_close(p);
	cp->store = NULL;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 ? -errno : 0;
}

static int op_topic_delete_data(void *arg, const struct ctl_topic *t)
{
	struct ctl_store *st = arg;
	char dir[PATH_MAX];
	int rc = 0;

	for (int32_t i = 0; i < t->n_partitions; i++) {
		if (snprintf(dir, sizeof(dir), "%s/%s-%d", st->cfg->broker.log_dirs, t->name, i) >=
		    (int)sizeof(dir))
			return -ENAMETOOLONG;
		if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
			rc = -errno;
	}
	st_logdir_checkpoint(st->logdir);
	return rc;
}

const struct ctl_catalog_ops *ctl_store_catalog_ops(void)
{
	static const struct ctl_catalog_ops ops = {
		.partition_open = op_partition_open,
		.partition_close = op_partition_close,
		.topic_delete_data = op_topic_delete_data,
	};

	return &ops;
}

int ctl_store_writer_stats(const struct ctl_store *st, unsigned int i, struct st_writer_stats *out)
{
	if (i >= st->n_writers)
		return -ENOENT;
	st_writer_stats_get(st->writers[i], out);
	return 0;
}

void ctl_store_destroy(struct ctl_store *st)
{
	int rc;

	if (!st)
		return;
	for (unsigned i = 0; i < st->n_writers; i++)
		st_writer_destroy(st->writers[i]);
	/* Every writer is joined: nothing signals the notifier any more. */
	ctl_notifier_destroy(st->notifier);
	/*
	 * A startup that failed before serving may not have recovered every
	 * partition: keep the next start from trusting them.
	 */
	if (!st->served && !st_logdir_was_clean(st->logdir))
		st_logdir_set_dirty(st->logdir);
	rc = st_logdir_close(st->logdir);
	if (rc < 0)
		CTL_LOG(ERR, "log.dirs: closing: %s (next start recovers)", strerror(-rc));
	free(st);
}
