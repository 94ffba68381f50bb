/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kp_init_pid.c - InitProducerId v0-1: a new producer id for an idempotent
 * producer (librdkafka enable.idempotence=true), from ctl_pids.
 *
 * Transactions are not supported, and a non-null transactional_id is
 * answered TRANSACTIONAL_ID_AUTHORIZATION_FAILED (53): what Kafka answers a
 * client not allowed to use a transactional id, and one of the few errors
 * librdkafka (rd_kafka_idemp_check_error) and the Java producer treat as
 * fatal, so init_transactions() fails at once with a clear message.
 * COORDINATOR_NOT_AVAILABLE would make both look the coordinator up again
 * and retry until init_transactions() times out.  Failing to reserve ids
 * (disk full) is UNKNOWN_SERVER_ERROR, what Kafka's ZooKeeper-mode
 * ProducerIdManager failing to write its block turns into; an idempotent
 * librdkafka producer retries that every 500 ms, so it recovers with the disk.
 */
#include "ctl_pid.h"
#include "kp_api.h"

/*
 * Request: transactional_id str?, transaction_timeout_ms i32.
 * Response: throttle_time_ms i32, error_code i16, producer_id i64, producer_epoch i16.
 */
enum ctl_disp kp_handle_init_producer_id(struct kp_req *req, struct kp_reader *r,
					 struct kp_writer *w)
{
	const struct kp_api_ctx *ctx = req->ctx;
	struct kp_str transactional_id;
	int16_t err = KP_ERR_NONE;
	int64_t id = -1;

	transactional_id = kp_read_nstr(r);              /* transactional_id */
	(void)kp_read_i32(r);                            /* transaction_timeout_ms: transactions only */
	if (!kp_reader_ok(r))
		return CTL_DISP_CLOSE;
	if (transactional_id.ptr)
		err = KP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
	else if (!ctx->pids)
		err = KP_ERR_COORDINATOR_NOT_AVAILABLE;
	else if (ctl_pids_next(ctx->pids, &id) < 0)
		err = KP_ERR_UNKNOWN_SERVER_ERROR;       /* logged by ctl_pids */
	if (err != KP_ERR_NONE)
		id = -1;
	kp_write_i32(w, 0);                              /* throttle_time_ms */
	kp_write_err(req, w, err);                       /* error_code */
	kp_write_i64(w, id);                             /* producer_id */
	kp_write_i16(w, err ? -1 : 0);                   /* producer_epoch */
	return CTL_DISP_RESPOND;
}
