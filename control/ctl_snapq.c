/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_snapq.c - the snapshot handshake between the control thread and a
 * thread that shows its state (the metrics endpoint, DPDK telemetry); see
 * ctl_snapq.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "ctl_log.h"
#include "ctl_snapq.h"

#define SNAPQ_MAX_GROUP_OFFSETS ((size_t)65536)  /* ctl_metrics.c's default cap */

enum snap_state { SNAP_IDLE, SNAP_WANTED, SNAP_GATHERING, SNAP_READY, SNAP_ABANDONED };

struct ctl_snapq {
	struct ctl_metrics_params p;
	_Atomic bool wanted;            /* cheap test for the notify callback */
	pthread_mutex_t serial;         /* one request at a time */
	pthread_mutex_t lock;           /* guards state, snap, closing */
	pthread_cond_t cond;            /* CLOCK_MONOTONIC */
	enum snap_state state;
	struct ctl_metrics_snap *snap;
	bool closing;
	bool logged_nomem, logged_cap;  /* control thread: group copy problems, logged once */
};

/* Control thread: a group copy left incomplete is worth one line, not one per request. */
static void snap_log_once(struct ctl_snapq *q, const struct ctl_metrics_snap *s)
{
	if (!s)
		return;
	if (s->groups_nomem && !q->logged_nomem) {
		CTL_LOG(WARNING, "metrics: no memory to copy the consumer groups: scrapes show no "
			"per-group series while this lasts (logged once)");
		q->logged_nomem = true;
	} else if (!s->groups_nomem && s->group_offsets_omitted && !q->logged_cap) {
		size_t cap = q->p.max_group_offsets ? q->p.max_group_offsets
						    : SNAPQ_MAX_GROUP_OFFSETS;

		CTL_LOG(WARNING, "metrics: %zu committed offsets over the per-scrape cap of %zu "
			"left out (sluice_group_offsets_omitted; logged once)",
			s->group_offsets_omitted, cap);
		q->logged_cap = true;
	}
}

/* Notify callback, control thread: take the snapshot a request asked for. */
static void snapq_on_notify(void *arg)
{
	struct ctl_snapq *q = arg;
	struct ctl_metrics_snap *s;

	if (!atomic_exchange_explicit(&q->wanted, false, memory_order_acq_rel))
		return;
	pthread_mutex_lock(&q->lock);
	if (q->state != SNAP_WANTED) {
		pthread_mutex_unlock(&q->lock);
		return;
	}
	q->state = SNAP_GATHERING;
	pthread_mutex_unlock(&q->lock);

	s = ctl_metrics_snap_take(&q->p);   /* NULL (no memory): the request gets NULL */
	snap_log_once(q, s);

	pthread_mutex_lock(&q->lock);
	if (q->state == SNAP_GATHERING) {
		q->snap = s;
		q->state = SNAP_READY;
		pthread_cond_broadcast(&q->cond);
	} else {                            /* ABANDONED: the request gave up */
		ctl_metrics_snap_free(s);
		q->state = SNAP_IDLE;
	}
	pthread_mutex_unlock(&q->lock);
}

static struct ctl_metrics_snap *snap_wait(struct ctl_snapq *q, unsigned int wait_s)
{
	struct ctl_metrics_snap *s = NULL;
	struct timespec deadline;
	bool ask = false;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += wait_s;
	pthread_mutex_lock(&q->lock);
	if (q->state == SNAP_IDLE) {
		q->state = SNAP_WANTED;
		ask = true;
	} else if (q->state == SNAP_ABANDONED) {
		q->state = SNAP_GATHERING;  /* the late snapshot is ours */
	}
	if (ask && !q->closing) {
		atomic_store_explicit(&q->wanted, true, memory_order_release);
		ctl_server_notify(q->p.srv);
	}
	while (q->state != SNAP_READY && !q->closing)
		if (pthread_cond_timedwait(&q->cond, &q->lock, &deadline) == ETIMEDOUT)
			break;
	if (q->state == SNAP_READY) {
		s = q->snap;
		q->snap = NULL;
		q->state = SNAP_IDLE;
	} else if (q->state == SNAP_WANTED) {
		q->state = SNAP_IDLE;
	} else if (q->state == SNAP_GATHERING) {
		q->state = SNAP_ABANDONED;
	}
	pthread_mutex_unlock(&q->lock);
	return s;
}

struct ctl_metrics_snap *ctl_snapq_get(struct ctl_snapq *q, unsigned int wait_s)
{
	struct ctl_metrics_snap *s;

	pthread_mutex_lock(&q->serial);
	s = snap_wait(q, wait_s);
	pthread_mutex_unlock(&q->serial);
	return s;
}

int ctl_snapq_create(const struct ctl_metrics_params *p, struct ctl_snapq **out)
{
	struct ctl_snapq *q = calloc(1, sizeof(*q));
	pthread_condattr_t ca;
	int rc = -ENOMEM;

	*out = NULL;
	if (!q)
		return rc;
	q->p = *p;
	if ((rc = pthread_mutex_init(&q->lock, NULL)) != 0)
		goto out_free;
	if ((rc = pthread_mutex_init(&q->serial, NULL)) != 0)
		goto out_lock;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	rc = pthread_cond_init(&q->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (rc != 0)
		goto out_serial;
	*out = q;
	return 0;
out_serial:
	pthread_mutex_destroy(&q->serial);
out_lock:
	pthread_mutex_destroy(&q->lock);
out_free:
	free(q);
	return -rc;
}

int ctl_snapq_attach(struct ctl_snapq *q)
{
	return ctl_server_on_notify(q->p.srv, snapq_on_notify, q);
}

void ctl_snapq_close(struct ctl_snapq *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->lock);
	q->closing = true;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

void ctl_snapq_free(struct ctl_snapq *q)
{
	if (!q)
		return;
	ctl_metrics_snap_free(q->snap);
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->serial);
	pthread_mutex_destroy(&q->lock);
	free(q);
}
