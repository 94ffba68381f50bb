/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dpu_producer.h - a producer for the dataplane's UDP produce mode: records
 * in, SLC1 datagrams out, SLA1 acks back (docs/wire-format.md).
 *
 * The sender's side of what dp_lcore.c receives.  Records are appended to an
 * open Kafka RecordBatch v2 (storage's builder: the format has one copy);
 * a batch is sealed when the next record does not fit in conf.batch_bytes,
 * when it is older than conf.linger_ms, or on dpu_seal/dpu_flush, and each
 * sealed batch goes out as one datagram on one connected UDP socket.  One
 * producer sends to one partition of one produce rule.
 *
 * Three delivery semantics, as Kafka's producer gives them:
 *   - at most once: no ack asked, each batch sent once and reported at once
 *     (offset -1).  With a producer id (conf.producer_id >= 0) batches carry
 *     sequences and SLC1 flag bit 1 (gaps allowed), so a datagram the network
 *     duplicates is stored once, and one it loses is simply skipped;
 *   - at least once: ack asked, no producer id; a batch not acked within
 *     conf.ack_timeout_ms is sent again, until conf.delivery_timeout_ms.  A
 *     lost ack makes a resend that is stored again (a duplicate).  Acks are
 *     matched to batches by CRC-32C and record count, oldest first;
 *   - exactly once: ack asked, producer id and sequence (from the broker's
 *     InitProducerId: dpu_init_producer_id), resent as above; the appliance
 *     answers a resend of a stored batch with the original offset instead of
 *     storing it again.  The appliance remembers a producer's last five
 *     batches, so at most five are in flight, counted from the oldest one
 *     not yet acknowledged.  A batch that fails for good (an error that is
 *     not retriable, or no ack within the delivery timeout) leaves a gap no
 *     later batch can cross: the producer then fails every batch and every
 *     call with -ENOTRECOVERABLE, and a new producer id is needed.
 *
 * Each batch is reported once to conf.dr_cb, in produce order, from
 * dpu_poll/dpu_flush: the ordinal of its first record, the count, the
 * partition and base offset the appliance gave it, and an error: a Kafka
 * error code from the ack (0: stored and durable), or DPU_ERR_TIMED_OUT /
 * DPU_ERR_FATAL.
 *
 * Not thread-safe: one thread owns a producer.  Errors are -errno.
 */
#ifndef DPU_PRODUCER_H
#define DPU_PRODUCER_H

#include <stdint.h>
#include <sys/socket.h>

#include "st_batch.h"

enum dpu_semantics {
	DPU_AT_MOST_ONCE,
	DPU_AT_LEAST_ONCE,
	DPU_EXACTLY_ONCE,
};

/* Report errors that are not the appliance's (Kafka's codes are >= 0). */
#define DPU_ERR_TIMED_OUT   (-1)  /* no ack within conf.delivery_timeout_ms */
#define DPU_ERR_FATAL       (-2)  /* exactly once: an earlier batch failed for good */

#define DPU_EXACTLY_ONCE_WINDOW 5 /* the appliance's cached batches per producer */
#define DPU_DATAGRAM_MAX    65507 /* largest UDP payload over IPv4 */

/* One batch's outcome. */
struct dpu_report {
	uint64_t first_msg;             /* ordinal of its first record, from 0 */
	int32_t count;                  /* records */
	int32_t partition;              /* from the ack; conf.partition without one */
	int64_t base_offset;            /* -1: not known (no ack, failed, old duplicate) */
	int16_t error;                  /* 0, a Kafka error code, or DPU_ERR_* */
	uint32_t sends;                 /* datagrams sent for it */
};

typedef void dpu_report_cb(void *opaque, const struct dpu_report *r);

struct dpu_conf {
	enum dpu_semantics semantics;
	int32_t partition;              /* -1: the partition of the receiving queue */
	int64_t producer_id;            /* -1: none (required for exactly once) */
	int16_t producer_epoch;
	uint32_t batch_bytes;           /* datagram payload at most: SLC1 header + batch */
	uint32_t window;                /* batches in flight from the oldest unacked */
	uint32_t linger_ms;             /* seal an open batch this old in dpu_poll */
	uint32_t ack_timeout_ms;        /* resend a batch not acked within this */
	uint32_t retry_backoff_ms;      /* resend after a retriable error ack */
	uint32_t delivery_timeout_ms;   /* then give up on it (DPU_ERR_TIMED_OUT) */
	dpu_report_cb *dr_cb;           /* may be NULL */
	void *opaque;
};

struct dpu_stats {
	uint64_t records;               /* accepted by dpu_produce */
	uint64_t batches;               /* sealed */
	uint64_t sends;                 /* datagrams sent, resends included */
	uint64_t resends;
	uint64_t send_errors;           /* send() failed (the resend timer covers it) */
	uint64_t acks;                  /* SLA1 acks received and matched */
	uint64_t acks_unmatched;        /* for a batch already reported, or not ours */
	uint64_t acks_bad;              /* not an SLA1 ack */
	uint64_t delivered;             /* records reported with error 0 */
	uint64_t failed;                /* records reported with an error */
};

struct dpu_producer;

/**
 * Defaults for @semantics: partition -1, no producer id, 1472-byte datagrams
 * (one IPv4 packet on a 1500-byte MTU), window 32 (5 for exactly once),
 * linger 5 ms, ack timeout 100 ms, retry backoff 10 ms, delivery timeout 30 s.
 */
void dpu_conf_defaults(struct dpu_conf *conf, enum dpu_semantics semantics);

/**
 * A producer sending to @dst (the appliance's produce rule), from @src when
 * not NULL (a local address to bind).  The socket is non-blocking.
 * @return 0, -EINVAL (conf: exactly once without a producer id or with a
 *   window above 5, batch_bytes below 128 or above DPU_DATAGRAM_MAX, window
 *   0, at least once with a producer id), -ENOMEM, or the socket's -errno.
 */
int dpu_producer_new(const struct dpu_conf *conf, const struct sockaddr *dst, socklen_t dst_len,
		     const struct sockaddr *src, socklen_t src_len, struct dpu_producer **out);

/** Close the socket and free; batches in flight are not reported. */
void dpu_producer_free(struct dpu_producer *p);

/**
 * Append one record (key NULL: null key; value NULL: null value; @hdrs may
 * be NULL with @n_hdrs 0) with timestamp @ts_ms.  Seals and sends the open
 * batch first when the record does not fit in it.
 * @return 0; -ENOBUFS when the window and the batches waiting for it are
 *   full (nothing taken: dpu_poll, then again); -EMSGSIZE when the record
 *   does not fit in an empty batch; -EINVAL as st_batch_builder_add;
 *   -ENOTRECOVERABLE after a fatal failure (exactly once).
 */
int dpu_produce(struct dpu_producer *p, int64_t ts_ms, const void *key, int32_t key_len,
		const void *value, int32_t value_len, const struct st_record_header *hdrs,
		uint32_t n_hdrs);

/** Seal the open batch, if any, so that it is sent as soon as the window allows. */
void dpu_seal(struct dpu_producer *p);

/**
 * Read the acks that arrived, waiting up to @timeout_ms (0: do not wait;
 * -1: until something happens) for one; resend what timed out, send sealed
 * batches the window allows, seal a batch older than linger, report what is
 * settled.  @return the batches reported, or -errno of the socket.
 */
int dpu_poll(struct dpu_producer *p, int timeout_ms);

/**
 * Seal, then poll until every batch is reported or @timeout_ms passes.
 * @return 0, -ETIMEDOUT with batches still in flight, or -errno.
 */
int dpu_flush(struct dpu_producer *p, int timeout_ms);

/** Milliseconds until the producer has something to do by itself (a resend, a
 * linger, a timeout); -1 when nothing is pending.  For callers' poll loops. */
int dpu_timeout_ms(const struct dpu_producer *p);

/** The socket, for callers' poll loops (readable: acks to read). */
int dpu_producer_fd(const struct dpu_producer *p);

/** Batches sealed or sent and not yet reported (the open one excluded). */
uint32_t dpu_in_flight(const struct dpu_producer *p);

const struct dpu_stats *dpu_producer_stats(const struct dpu_producer *p);

/**
 * Ask a Kafka broker (the appliance's listener, @host:@port) for a new
 * producer id with InitProducerId v0 (no transactional id), over a blocking
 * TCP connection of at most @timeout_ms.
 * @return 0 and *@pid, *@epoch; -EPROTO for an answer that does not parse,
 *   -ECONNREFUSED, -ETIMEDOUT, ... ; a Kafka error is -EREMOTEIO with its
 *   code in *@kafka_err (may be NULL).
 */
int dpu_init_producer_id(const char *host, const char *port, int timeout_ms, int64_t *pid,
			 int16_t *epoch, int16_t *kafka_err);

#endif /* DPU_PRODUCER_H */
