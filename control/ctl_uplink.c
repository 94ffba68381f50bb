/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_uplink.c - the uplinks' lifecycle and their cursors (control thread).
 *
 * A shipping thread (ctl_uplink_ship.c) moves a partition's `acked` as the
 * cluster acknowledges, and signals the uplinks' notifier.  Here, on the
 * control loop, every notify compares `acked` with the cursor last
 * committed; a topic with newer acknowledgements gets one offset commit of
 * its group "__sluice.uplink.<topic>" (one commit in flight per topic), and
 * once that commit is durable the partitions' `committed` cursors move --
 * the figure retention is held at.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_catalog.h"
#include "ctl_group.h"
#include "ctl_log.h"
#include "ctl_server.h"
#include "ctl_store.h"
#include "ctl_uplink_int.h"
#include "fwc_config.h"
#include "st_partition.h"

int64_t ul_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void topic_commit(struct ul_topic *t);

static void commit_done(void *arg, int16_t err)
{
	struct ul_topic *t = arg;

	t->committing = false;
	if (err != 0) {
		CTL_LOG(WARNING, "uplink %s: storing the cursor failed (Kafka error %d); retried",
			t->name, err);
		return;
	}
	for (int32_t i = 0; i < t->n_parts; i++) {
		struct ul_part *up = &t->parts[i];

		if (up->posting > atomic_load(&up->committed))
			atomic_store(&up->committed, up->posting);
	}
	if (t->u->srv)
		topic_commit(t);
}

/* Commit the partitions whose acknowledgements moved past their cursor. */
static void topic_commit(struct ul_topic *t)
{
	int32_t parts[t->n_parts];
	int64_t offs[t->n_parts];
	int32_t n = 0;
	int16_t err;

	if (t->committing)
		return;
	for (int32_t i = 0; i < t->n_parts; i++) {
		struct ul_part *up = &t->parts[i];
		int64_t acked = atomic_load(&up->acked);

		up->posting = atomic_load(&up->committed);
		if (acked > up->posting) {
			parts[n] = up->partition;
			offs[n++] = acked;
			up->posting = acked;
		}
	}
	if (n == 0)
		return;
	err = ctl_groups_commit(t->u->gs, t->group, t->name, parts, offs, n, commit_done, t);
	if (err != 0) {
		CTL_LOG(WARNING, "uplink %s: cannot store the cursor (Kafka error %d)", t->name, err);
		return;
	}
	t->committing = true;
}

static void uplinks_notify(void *arg)
{
	struct ctl_uplinks *u = arg;

	for (size_t i = 0; i < u->n_topics; i++)
		topic_commit(&u->topics[i]);
}

static int topic_init(struct ul_topic *t, struct ctl_uplinks *u, const struct fwc_topic *ft,
		      struct ctl_catalog *cat)
{
	const struct ctl_topic *ct = ctl_catalog_find(cat, ft->name, strlen(ft->name));

	if (!ct)
		return -ENOENT;
	t->u = u;
	t->cfg = &ft->uplink;
	t->name = ft->name;
	t->remote = ft->uplink.topic[0] ? ft->uplink.topic : ft->name;
	snprintf(t->group, sizeof(t->group), "%s%s", CTL_UPLINK_GROUP_PREFIX, ft->name);
	t->parts = calloc((size_t)ct->n_partitions, sizeof(*t->parts));
	if (!t->parts)
		return -ENOMEM;
	t->n_parts = ct->n_partitions;
	for (int32_t i = 0; i < t->n_parts; i++) {
		struct ul_part *up = &t->parts[i];
		int64_t cur = ctl_groups_committed(u->gs, t->group, t->name, i);

		up->p = ctl_store_partition(&ct->partitions[i]);
		if (!up->p)
			return -ENOENT;
		up->partition = i;
		up->remote_partition = i + ft->uplink.partition_offset;
		atomic_init(&up->committed, cur);
		atomic_init(&up->acked, cur < 0 ? 0 : cur);
		/* No cursor yet: nothing is shipped, so nothing may go. */
		if (!ft->uplink.retention_override)
			st_log_set_retain_hold(up->p->log, cur < 0 ? 0 : cur);
		CTL_LOG(INFO, "uplink %s-%d -> %s [%s] partition %d: cursor %lld", t->name, i,
			t->cfg->bootstrap_servers, t->remote, up->remote_partition, (long long)cur);
	}
	return 0;
}

int ctl_uplinks_create(const struct fwc_config *cfg, struct ctl_catalog *cat,
		       struct ctl_groups *gs, struct ctl_uplinks **out)
{
	struct ctl_uplinks *u;
	size_t n = 0;
	int rc;

	*out = NULL;
	for (unsigned int i = 0; i < cfg->n_topics; i++)
		n += cfg->topics[i].uplink.enabled;
	if (n == 0)
		return 0;
	u = calloc(1, sizeof(*u));
	if (!u || !(u->topics = calloc(n, sizeof(*u->topics)))) {
		free(u);
		return -ENOMEM;
	}
	u->gs = gs;
	rc = ctl_notifier_create(&u->notifier);
	for (unsigned int i = 0; rc == 0 && i < cfg->n_topics; i++) {
		if (!cfg->topics[i].uplink.enabled)
			continue;
		rc = topic_init(&u->topics[u->n_topics++], u, &cfg->topics[i], cat);
		u->n_parts += (size_t)u->topics[u->n_topics - 1].n_parts;
		if (rc < 0)
			CTL_LOG(ERR, "uplink %s: %s", cfg->topics[i].name, strerror(-rc));
	}
	if (rc < 0) {
		ctl_uplinks_destroy(u);
		return rc;
	}
	*out = u;
	return 0;
}

int ctl_uplinks_start(struct ctl_uplinks *u, struct ctl_server *srv)
{
	int rc;

	if (!u)
		return 0;
	if ((rc = ctl_server_on_notify(srv, uplinks_notify, u)) < 0 ||
	    (rc = ctl_server_watch(srv, u->notifier)) < 0)
		return rc;
	u->srv = srv;
	for (size_t i = 0; i < u->n_topics; i++) {
		struct ul_topic *t = &u->topics[i];

		rc = pthread_create(&t->thread, NULL, ul_thread, t);
		if (rc != 0) {
			ctl_uplinks_stop(u);
			return -rc;
		}
		t->started = true;
	}
	return 0;
}

void ctl_uplinks_stop(struct ctl_uplinks *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->n_topics; i++)
		atomic_store(&u->topics[i].stop, true);
	for (size_t i = 0; i < u->n_topics; i++) {
		if (u->topics[i].started)
			pthread_join(u->topics[i].thread, NULL);
		u->topics[i].started = false;
	}
	if (u->srv)
		ctl_server_unwatch(u->srv, u->notifier);
	u->srv = NULL;
}

void ctl_uplinks_destroy(struct ctl_uplinks *u)
{
	if (!u)
		return;
	ctl_uplinks_stop(u);
	for (size_t i = 0; i < u->n_topics; i++)
		free(u->topics[i].parts);
	ctl_notifier_destroy(u->notifier);
	free(u->topics);
	free(u);
}

size_t ctl_uplinks_count(const struct ctl_uplinks *u)
{
	return u ? u->n_parts : 0;
}

int ctl_uplinks_stats(const struct ctl_uplinks *u, size_t i, struct ctl_uplink_stats *out)
{
	for (size_t k = 0; u && k < u->n_topics; k++) {
		const struct ul_topic *t = &u->topics[k];
		struct ul_part *up;

		if (i >= (size_t)t->n_parts) {
			i -= (size_t)t->n_parts;
			continue;
		}
		up = &t->parts[i];
		*out = (struct ctl_uplink_stats){
			.topic = t->name, .remote_topic = t->remote, .partition = up->partition,
			.remote_partition = up->remote_partition,
			.cursor = atomic_load(&up->committed), .acked = atomic_load(&up->acked),
			.lag_records = atomic_load(&up->lag_records),
			.lag_bytes = atomic_load(&up->lag_bytes),
			.lag_seconds = (double)atomic_load(&up->lag_ms) / 1000.0,
			.records = atomic_load(&up->records), .errors = atomic_load(&up->errors),
			.lost = atomic_load(&up->lost), .connected = atomic_load(&t->connected),
		};
		return 0;
	}
	return -ENOENT;
}
