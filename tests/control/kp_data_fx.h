/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kp_data_fx.h - the fixture the record-API tests share (test_kp_data,
 * test_kp_fuzz): a temporary log.dirs with real storage (ctl_store, writer
 * threads), a real catalog and kp_data, and optionally the real server loop
 * on a loopback port in a thread of its own, shut down in sluiced's order.
 *
 * Use: kd_config() (then adjust f->cfg), kd_start(), create topics,
 * kd_server_up(); at the end kd_down() and kd_remove_dir().
 */
#ifndef KP_DATA_FX_H
#define KP_DATA_FX_H

#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "ctl_catalog.h"
#include "ctl_server.h"
#include "ctl_store.h"
#include "fwc_config.h"
#include "kp_api.h"

struct kd_fx {
	struct fwc_config cfg;
	char dir[64];
	struct ctl_store *store;        /* NULL once kd_down() */
	struct ctl_catalog *cat;
	struct kp_api_ctx ctx;
	struct ctl_server *srv;         /* NULL: no server loop */
	pthread_t thr;
};

/* Defaults for a test: a fresh /tmp/<name>.XXXXXX, loopback port 0, no hugepages, small rings. */
static inline void kd_config(struct kd_fx *f, const char *name)
{
	fwc_config_defaults(&f->cfg);
	snprintf(f->dir, sizeof(f->dir), "/tmp/%s.XXXXXX", name);
	assert_non_null(mkdtemp(f->dir));
	strcpy(f->cfg.broker.log_dirs, f->dir);
	strcpy(f->cfg.broker.listeners[0], "PLAINTEXT://127.0.0.1:0");
	f->cfg.broker.auto_create_topics_enable = false;
	f->cfg.storage.hugepages = FWC_OFF;
	f->cfg.storage.ring_bytes = 1 << 16;
}

/* Storage, catalog and the record APIs' state on f->cfg. */
static inline void kd_start(struct kd_fx *f)
{
	assert_int_equal(ctl_store_create(&f->cfg, &f->store), 0);
	assert_int_equal(ctl_catalog_create(&f->cfg, ctl_store_catalog_ops(), f->store, &f->cat), 0);
	assert_int_equal(kp_api_ctx_init(&f->ctx, &f->cfg, f->cat), 0);
	assert_int_equal(kp_data_create(f->store, &f->ctx.data), 0);
}

static inline void *kd_loop_thread(void *arg)
{
	ctl_server_run(((struct kd_fx *)arg)->srv);
	return NULL;
}

/* The real server loop, serving kp_api_serve on a loopback port, in a thread. */
static inline void kd_server_up(struct kd_fx *f)
{
	struct ctl_server_params sp = { .dispatch = kp_api_serve };

	sp.broker = &f->cfg.broker;
	sp.dispatch_arg = &f->ctx;
	assert_int_equal(ctl_server_create(&sp, &f->srv), 0);
	ctl_store_set_server(f->store, f->srv);
	assert_int_equal(pthread_create(&f->thr, NULL, kd_loop_thread, f), 0);
}

static inline void kd_server_down(struct kd_fx *f)
{
	if (!f->srv)
		return;
	ctl_server_stop(f->srv);
	pthread_join(f->thr, NULL);
	ctl_store_set_server(f->store, NULL);
	ctl_server_destroy(f->srv);
	f->srv = NULL;
}

/* Everything down in sluiced's order (the log stays on disk). */
static inline void kd_down(struct kd_fx *f)
{
	kd_server_down(f);
	if (!f->store)
		return;
	kp_data_destroy(f->ctx.data);
	ctl_catalog_destroy(f->cat);
	ctl_store_destroy(f->store);
	f->store = NULL;
}

static inline int kd_rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static inline void kd_remove_dir(const struct kd_fx *f)
{
	nftw(f->dir, kd_rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* A client connection to the server loop. */
static inline int kd_client(const struct kd_fx *f)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(ctl_server_port(f->srv, 0)) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

#endif /* KP_DATA_FX_H */
