/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kp_data.c - the record APIs' state: creation, the notify hook that
 * re-checks waiting produces and fetches when a writer moves a watermark,
 * and the 1 ms tick that runs only while produces wait for an lcore or a
 * full ring.
 */
#include <errno.h>
#include <stdlib.h>

#include "ctl_catalog.h"
#include "ctl_store.h"
#include "kp_data.h"

static void data_notify(void *arg)
{
	struct kp_data *d = arg;

	kp_produce_recheck(d);
	kp_fetch_recheck(d);
}

static void data_tick(void *arg, struct ctl_timer *t)
{
	struct kp_data *d = arg;

	(void)t;
	kp_produce_tick(d);
	if (kp_produce_busy(d))
		kp_data_tick_arm(d);
}

int kp_data_create(struct ctl_store *store, struct kp_data **out)
{
	struct kp_data *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->store = store;
	ctl_timer_init(&d->tick, data_tick, d);
	*out = d;
	return 0;
}

/*
 * DeleteTopics is about to close @cp: produces waiting on it are answered
 * now (kp_produce_partition_gone).  Long-polls hold no partition pointer --
 * they look their partitions up in the catalog at every check -- so they
 * only need waking: at the next pass the topic is gone and they answer
 * UNKNOWN_TOPIC_OR_PARTITION at once instead of at max_wait_ms.
 */
static void data_partition_closing(void *arg, const struct ctl_topic *t, struct ctl_partition *cp)
{
	struct kp_data *d = arg;
	struct st_partition *p = ctl_store_partition(cp);

	(void)t;
	if (!p)
		return;
	kp_produce_partition_gone(d, p);
	if (d->srv && d->fetches)
		ctl_server_notify(d->srv);
}

int kp_data_bind(struct kp_data *d, struct ctl_server *srv, struct ctl_catalog *cat)
{
	int rc;

	if (d->srv == srv && d->cat == cat)
		return 0;
	if (d->srv)
		return -EINVAL; /* one server and one catalog per kp_data */
	rc = ctl_server_on_notify(srv, data_notify, d);
	if (rc < 0)
		return rc;
	d->srv = srv;
	d->cat = cat;
	ctl_catalog_set_closing_hook(cat, data_partition_closing, d);
	return 0;
}

void kp_data_tick_arm(struct kp_data *d)
{
	if (d->srv && !d->tick.armed)
		ctl_timer_arm(d->srv, &d->tick, KP_DATA_TICK_MS);
}

void kp_data_destroy(struct kp_data *d)
{
	if (!d)
		return;
	/* The server is gone: its timers and slots must not be touched. */
	if (d->cat)
		ctl_catalog_set_closing_hook(d->cat, NULL, NULL);
	kp_produce_free_all(d);
	kp_fetch_free_all(d);
	free(d);
}

struct st_partition *kp_data_partition(const struct ctl_topic *t, int32_t index)
{
	if (!t || index < 0 || index >= t->n_partitions)
		return NULL;
	return ctl_store_partition(&t->partitions[index]);
}

static void patch_be(struct kp_writer *w, size_t pos, uint64_t v, int bytes)
{
	if (w->err || pos + (size_t)bytes > w->len)
		return;
	for (int i = bytes - 1; i >= 0; i--, v >>= 8)
		w->buf[pos + (size_t)i] = (uint8_t)v;
}

void kp_patch_i16(struct kp_writer *w, size_t pos, int16_t v)
{
	patch_be(w, pos, (uint16_t)v, 2);
}

void kp_patch_i64(struct kp_writer *w, size_t pos, int64_t v)
{
	patch_be(w, pos, (uint64_t)v, 8);
}
