/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kp_data.h - shared state of the record APIs (control/ only): Produce
 * requests waiting to be appended or for a watermark, Fetch long-polls, and
 * the one timer and notify hook that drive them.
 *
 * Everything here runs on the control thread.  Storage writers move
 * watermarks and call ctl_server_notify(); the notify callback re-checks
 * waiting produces and fetches, so nothing polls a watermark.  Only two
 * things are polled, on a 1 ms tick that runs while they exist: produce
 * requests posted to a dataplane lcore's inbox (an lcore makes no system
 * call, so it cannot wake us) and batches waiting for room in a full ring.
 */
#ifndef KP_DATA_H
#define KP_DATA_H

#include <stdbool.h>
#include <stdint.h>

#include "ctl_server.h"
#include "kp_api.h"

struct ctl_catalog;
struct ctl_store;
struct ctl_topic;
struct st_inbox;
struct st_partition;
struct kp_produce;
struct kp_pp;
struct kp_fetch;

#define KP_DATA_INBOXES 64      /* distinct lcore inboxes with requests in flight */
#define KP_DATA_TICK_MS 1

struct kp_data {
	struct ctl_store *store;
	struct ctl_server *srv;         /* bound on first use (notify hook registered) */
	struct ctl_catalog *cat;        /* bound with it (closing hook installed) */
	struct kp_produce *produces;    /* produces not yet answered/finished */
	struct kp_pp *q_head, *q_tail;  /* batches waiting to be appended, in arrival order */
	struct kp_fetch *fetches;       /* long-polls */
	struct ctl_timer tick;          /* inbox completions and ring-full retries */
	struct {
		struct st_inbox *ib;
		unsigned int in_flight;
	} inboxes[KP_DATA_INBOXES];
};

/**
 * The first time something may wait: register the notify hook on @srv and
 * the partition closing hook on @cat (nothing waits before).
 * @return 0, -ENOSPC, -EINVAL (another server or catalog).
 */
int kp_data_bind(struct kp_data *d, struct ctl_server *srv, struct ctl_catalog *cat);
/** Arm the tick unless armed. */
void kp_data_tick_arm(struct kp_data *d);

/* kp_produce.c */
void kp_produce_tick(struct kp_data *d);
void kp_produce_recheck(struct kp_data *d);
bool kp_produce_busy(const struct kp_data *d);
void kp_produce_free_all(struct kp_data *d);
void kp_produce_partition_gone(struct kp_data *d, const struct st_partition *p);
/* kp_fetch.c */
void kp_fetch_recheck(struct kp_data *d);
void kp_fetch_free_all(struct kp_data *d);

/** The storage partition @index of @t, or NULL (no such partition, not open). */
struct st_partition *kp_data_partition(const struct ctl_topic *t, int32_t index);

/* Patch fields written earlier (positions from w->len before the write). */
void kp_patch_i16(struct kp_writer *w, size_t pos, int16_t v);
void kp_patch_i64(struct kp_writer *w, size_t pos, int64_t v);

#endif /* KP_DATA_H */
