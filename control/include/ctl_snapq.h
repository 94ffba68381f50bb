/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_snapq.h - snapshots of the control thread's state for other threads.
 *
 * The catalog, the consumer groups and the server counters belong to the
 * control thread (ctl_metrics.h says why).  A thread that wants to show
 * them -- libmicrohttpd's for GET /metrics, DPDK's telemetry thread for
 * /sluice/stats -- asks that thread for a copy: ctl_snapq_get() raises a
 * flag and wakes the loop (ctl_server_notify), the loop's notify callback
 * takes the snapshot (ctl_metrics_snap_take) and hands it back under a
 * mutex.  Each asking thread has its own queue object; requests on one
 * object are served one at a time, so any number of threads may ask.
 *
 * The handshake: IDLE -> WANTED (asker, then notify) -> GATHERING (control
 * thread) -> READY (snapshot handed over) -> IDLE.  An asker that times out
 * while the control thread gathers leaves ABANDONED, so the late snapshot
 * is freed (or taken by the next request).
 */
#ifndef CTL_SNAPQ_H
#define CTL_SNAPQ_H

#include "ctl_metrics.h"

struct ctl_snapq;

/**
 * Create a queue taking snapshots with @p (copied; what it points to must
 * outlive the queue).  Not yet attached: requests time out until
 * ctl_snapq_attach().  @return 0 or -ENOMEM / -errno (pthread init).
 */
int ctl_snapq_create(const struct ctl_metrics_params *p, struct ctl_snapq **out);

/**
 * Register the queue's notify callback on p->srv (control thread, before
 * ctl_server_run()).  There is no way to unregister it: the queue must
 * live until the loop has stopped.  @return 0 or -ENOSPC (no slot left).
 */
int ctl_snapq_attach(struct ctl_snapq *q);

/**
 * A snapshot from the control thread, or NULL when it did not answer within
 * @wait_s seconds, ran out of memory, or the queue is closed.  Any thread but
 * the control thread (it would wait for itself).  Free the result with
 * ctl_metrics_snap_free().
 */
struct ctl_metrics_snap *ctl_snapq_get(struct ctl_snapq *q, unsigned int wait_s);

/** Wake every waiting ctl_snapq_get() (it returns NULL) and refuse new ones. */
void ctl_snapq_close(struct ctl_snapq *q);

/** Free (after ctl_server_run() has returned and ctl_snapq_close()).  NULL is a no-op. */
void ctl_snapq_free(struct ctl_snapq *q);

#endif /* CTL_SNAPQ_H */
