/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_kafka_request - arbitrary bytes as what a Kafka client sends: a
 * stream of size-prefixed request frames, each handed to the control
 * plane's dispatch (kp_api_dispatch, the entry point test_kp_fuzz's bare
 * phase drives) the way the server loop frames them (ctl_conn.c): a size
 * <= 0 or above socket.request.max.bytes, or a dispatch that closes, ends
 * the connection; a frame cut short waits for bytes that never come.
 *
 * Behind it, set up once in LLVMFuzzerInitialize: real storage in a
 * temporary log.dirs (tmpfs when there is one) with its writer threads,
 * the real catalog with topics g [1], h [3] and zz [1] (the names the
 * seed frames of tests/fuzz/gen_corpus.c use), the record APIs' state,
 * producer ids, and the group coordinator bound to a server that is never
 * run (so its timers never fire and no request waits).  Topics a frame
 * created or deleted are put back after each input; groups and stored
 * records carry over from input to input, as on a live broker.
 *
 * What must hold besides "no crash": each frame is answered with a whole
 * frame (size prefix right) echoing its correlation id, or gets no
 * response (Produce acks=0 only), or closes with nothing appended.
 */
#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_log.h>

#include "ctl_catalog.h"
#include "ctl_group.h"
#include "ctl_pid.h"
#include "ctl_server.h"
#include "ctl_store.h"
#include "fuzz_util.h"
#include "fwc_config.h"
#include "kp_api.h"
#include "kp_buf.h"
#include "st_partition.h"

#define FRAMES_MAX 8    /* frames dispatched per input */

static const char *const keep[] = { "g", "h", "zz" };
static const int keep_parts[] = { 1, 3, 1 };

static struct {
	struct fwc_config cfg;
	char dir[256];
	struct ctl_store *store;
	struct ctl_catalog *cat;
	struct ctl_groups *groups;
	struct ctl_server *srv;
	struct kp_api_ctx ctx;
	struct kp_writer w;
} fx;

static bool kept(const char *name)
{
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		if (strcmp(keep[i], name) == 0)
			return true;
	return false;
}

/* Back to the three topics. */
static void topics_restore(void)
{
	char msg[256];

	for (size_t i = 0; i < ctl_catalog_count(fx.cat);) {
		const struct ctl_topic *t = ctl_catalog_at(fx.cat, i);

		if (kept(t->name) || t->internal)      /* __consumer_offsets stays */
			i++;
		else
			FZ_CHECK(ctl_catalog_topic_delete(fx.cat, t->name, strlen(t->name)) == 0);
	}
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		struct ctl_topic_spec spec = { keep[i], strlen(keep[i]), keep_parts[i], NULL, 0, false };

		if (!ctl_catalog_find(fx.cat, keep[i], strlen(keep[i])))
			FZ_CHECK(ctl_catalog_topic_create(fx.cat, &spec, false, NULL, msg,
							  sizeof(msg)) == 0);
	}
}

/* Every kept partition's next offset, summed: a closed request appends nothing. */
static int64_t log_end_sum(void)
{
	int64_t sum = 0;

	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		const struct ctl_topic *t = ctl_catalog_find(fx.cat, keep[i], strlen(keep[i]));

		for (int32_t p = 0; t && p < t->n_partitions; p++)
			sum += ctl_store_partition(&t->partitions[p])->next_offset;
	}
	return sum;
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(p);
}

static void cleanup(void)
{
	ctl_groups_destroy(fx.groups);
	ctl_server_destroy(fx.srv);
	kp_data_destroy(fx.ctx.data);
	ctl_catalog_destroy(fx.cat);
	ctl_store_destroy(fx.store);
	ctl_pids_close(fx.ctx.pids);
	kp_writer_free(&fx.w);
	nftw(fx.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct ctl_server_params sp = { .dispatch = kp_api_serve };

	(void)argc, (void)argv;
	rte_log_set_global_level(RTE_LOG_EMERG);        /* closed requests log a line each */
	fwc_config_defaults(&fx.cfg);
	snprintf(fx.dir, sizeof(fx.dir), "%s/sluice-fuzz-kafka-XXXXXX", fz_tmp_root());
	FZ_CHECK(mkdtemp(fx.dir) != NULL);
	strcpy(fx.cfg.broker.log_dirs, fx.dir);
	strcpy(fx.cfg.broker.listeners[0], "PLAINTEXT://127.0.0.1:0");
	fx.cfg.broker.auto_create_topics_enable = false;
	fx.cfg.broker.log_flush_interval_ms = 5;
	/* What fuzzing stores stays small, and so does what a fetch copies (no server: no sendfile). */
	fx.cfg.broker.log_segment_bytes = 256 << 10;
	fx.cfg.broker.log_retention_bytes = 512 << 10;
	fx.cfg.broker.fetch_max_bytes = 64 << 10;
	fx.cfg.broker.log_retention_check_interval_ms = 1000;
	fx.cfg.broker.offsets_topic_num_partitions = 1;
	fx.cfg.broker.group_initial_rebalance_delay_ms = 0;
	fx.cfg.storage.hugepages = FWC_OFF;
	fx.cfg.storage.ring_bytes = 1 << 16;
	FZ_CHECK(ctl_store_create(&fx.cfg, &fx.store) == 0);
	FZ_CHECK(ctl_catalog_create(&fx.cfg, ctl_store_catalog_ops(), fx.store, &fx.cat) == 0);
	FZ_CHECK(kp_api_ctx_init(&fx.ctx, &fx.cfg, fx.cat) == 0);
	FZ_CHECK(kp_data_create(fx.store, &fx.ctx.data) == 0);
	FZ_CHECK(ctl_pids_open(fx.dir, &fx.ctx.pids) == 0);
	FZ_CHECK(ctl_groups_create(fx.cat, &fx.cfg, &fx.groups) == 0);
	sp.broker = &fx.cfg.broker;
	sp.dispatch_arg = &fx.ctx;
	FZ_CHECK(ctl_server_create(&sp, &fx.srv) == 0);
	FZ_CHECK(ctl_groups_start(fx.groups, fx.srv) == 0);
	fx.ctx.groups = fx.groups;
	topics_restore();
	kp_writer_init(&fx.w);
	atexit(cleanup);
	return 0;
}

/* One frame (header + body, exact-size copy). @return false when the connection closes. */
static bool dispatch_one(const uint8_t *frame, size_t len)
{
	uint8_t *f = fz_dup(frame, len);
	int64_t before = log_end_sum();
	enum ctl_disp d;

	kp_writer_reset(&fx.w);
	d = kp_api_dispatch(&fx.ctx, f, len, &fx.w, NULL);
	switch (d) {
	case CTL_DISP_RESPOND:
		FZ_CHECK(fx.w.err == 0 && fx.w.len >= 8);
		FZ_CHECK(fz_get_be32(fx.w.buf) == fx.w.len - 4);
		FZ_CHECK(len >= 8 && fz_get_be32(fx.w.buf + 4) == fz_get_be32(f + 4));
		break;
	case CTL_DISP_NO_RESPONSE:
		FZ_CHECK(len >= 2 && f[0] == 0 && f[1] == KP_API_PRODUCE);
		break;
	case CTL_DISP_CLOSE:
	case CTL_DISP_UNSUPPORTED:
		FZ_CHECK(log_end_sum() == before);
		break;
	default:
		FZ_CHECK(!"a request waits without a server");
	}
	free(f);
	return d != CTL_DISP_CLOSE && d != CTL_DISP_UNSUPPORTED;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t pos = 0;

	if (size > (4u << 20))
		return -1;
	for (int n = 0; n < FRAMES_MAX && size - pos >= 4; n++) {
		int32_t len = (int32_t)fz_get_be32(data + pos);

		if (len <= 0 || len > fx.cfg.broker.socket_request_max_bytes)
			break;                  /* the server closes the connection */
		if ((size_t)len > size - pos - 4)
			break;                  /* waits for the rest: the client hung up */
		if (!dispatch_one(data + pos + 4, (size_t)len))
			break;
		pos += 4 + (size_t)len;
	}
	topics_restore();
	return 0;
}
