/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kp_list_offsets.c - ListOffsets v1-2: latest (-1: the high watermark of
 * storage.consumer.visibility, which is also the LSO: no transactions),
 * earliest (-2: log start), both with timestamp -1; a timestamp >= 0 finds
 * the first offset whose record timestamp is >= it through the time index
 * (st_log_offset_for_time), below the high watermark, and answers with that
 * record's timestamp (a compressed batch is not opened: its base offset and
 * maxTimestamp), or offset -1 / timestamp -1 when there is none.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "ctl_catalog.h"
#include "ctl_store.h"
#include "kp_data.h"
#include "st_batch.h"
#include "st_log.h"
#include "st_partition.h"

#define LIST_OFFSETS_LATEST   -1
#define LIST_OFFSETS_EARLIEST -2
#define RECORD_SCAN_MAX (16u << 20)     /* larger batches answer with maxTimestamp */

/* The timestamp of the record at @offset, read from its batch; -1 if unreadable. */
static int64_t record_timestamp(struct st_log *log, int64_t offset, int64_t hw)
{
	struct st_log_range range;
	struct st_batch_info bi;
	struct st_record_iter it;
	struct st_record rec;
	uint8_t hdr[ST_BATCH_HEADER_SIZE], *buf = NULL;
	enum st_batch_err be;
	int64_t ts = -1;

	if (st_log_read(log, offset, 1, hw, &range) < 0 || range.length == 0)
		return -1;
	be = pread(range.fd, hdr, sizeof(hdr), (off_t)range.position) == (ssize_t)sizeof(hdr)
		     ? st_batch_header_read(hdr, sizeof(hdr), &bi) : ST_BATCH_ERR_TRUNCATED;
	if (be != ST_BATCH_ERR_OK && !(be == ST_BATCH_ERR_TRUNCATED && bi.magic == ST_BATCH_MAGIC))
		goto out; /* the header alone is "truncated": the records follow */
	ts = bi.max_timestamp;
	if ((bi.attributes & (ST_BATCH_ATTR_CODEC_MASK | ST_BATCH_ATTR_LOG_APPEND_TIME)) ||
	    st_batch_size(&bi) > RECORD_SCAN_MAX || !(buf = malloc(st_batch_size(&bi))))
		goto out;
	if (pread(range.fd, buf, st_batch_size(&bi), (off_t)range.position) !=
	    (ssize_t)st_batch_size(&bi))
		goto out;
	st_record_iter_init(&it, buf, &bi);
	while (st_record_iter_next(&it, &rec))
		if (rec.offset == offset) {
			ts = rec.timestamp;
			break;
		}
out:
	free(buf);
	st_log_range_put(&range);
	return ts;
}

/* One partitions[] entry: error, timestamp, offset. */
static void answer_partition(struct kp_req *req, struct kp_writer *w, const struct ctl_topic *t,
			     int32_t index, int64_t timestamp)
{
	struct st_partition *p = req->ctx->data ? kp_data_partition(t, index) : NULL;
	int64_t ts = -1, off = -1, hw;

	kp_write_i32(w, index);                          /* partition_index */
	if (!p) {
		kp_write_err(req, w, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION); /* error_code */
		kp_write_i64(w, -1);                     /* timestamp */
		kp_write_i64(w, -1);                     /* offset */
		return;
	}
	hw = st_partition_hw(p, ctl_store_visibility(req->ctx->data->store));
	if (timestamp == LIST_OFFSETS_LATEST) {
		off = hw;
	} else if (timestamp == LIST_OFFSETS_EARLIEST) {
		off = st_partition_log_start(p);
	} else {
		off = st_log_offset_for_time(p->log, timestamp);
		if (off < -1) {
			kp_write_err(req, w, KP_ERR_KAFKA_STORAGE_ERROR);
			kp_write_i64(w, -1);
			kp_write_i64(w, -1);
			return;
		}
		if (off >= hw)
			off = -1;                        /* not visible yet */
		if (off >= 0)
			ts = record_timestamp(p->log, off, hw);
	}
	kp_write_err(req, w, KP_ERR_NONE);               /* error_code */
	kp_write_i64(w, ts);                             /* timestamp */
	kp_write_i64(w, off);                            /* offset */
}

enum ctl_disp kp_handle_list_offsets(struct kp_req *req, struct kp_reader *r, struct kp_writer *w)
{
	struct kp_reader topics;
	int32_t n_topics;

	(void)kp_read_i32(r);                            /* replica_id */
	if (req->api_version >= 2)
		(void)kp_read_i8(r);                     /* isolation_level: LSO = HW */
	topics = *r;
	n_topics = kp_read_array(r, 6);                  /* topics */
	for (int32_t i = 0; i < n_topics && kp_reader_ok(r); i++) {
		(void)kp_read_str(r);                    /* name */
		kp_read_skip(r, 12u * (size_t)kp_read_array(r, 12)); /* partitions */
	}
	if (!kp_reader_ok(r))
		return CTL_DISP_CLOSE;

	if (req->api_version >= 2)
		kp_write_i32(w, 0);                      /* throttle_time_ms */
	n_topics = kp_read_array(&topics, 6);
	kp_write_i32(w, n_topics);                       /* topics */
	for (int32_t i = 0; i < n_topics; i++) {
		struct kp_str name = kp_read_str(&topics); /* name */
		const struct ctl_topic *t = ctl_catalog_find(req->ctx->cat, name.ptr,
							     (size_t)name.len);
		int32_t n = kp_read_array(&topics, 12);  /* partitions */

		kp_write_strn(w, name.ptr, name.len);    /* name */
		kp_write_i32(w, n);                      /* partitions */
		for (int32_t j = 0; j < n; j++) {
			int32_t index = kp_read_i32(&topics);      /* partition_index */
			int64_t timestamp = kp_read_i64(&topics);  /* timestamp */

			if (!kp_authorized(req, CTL_ACL_DESCRIBE, CTL_ACL_TOPIC, name)) {
				kp_write_i32(w, index);  /* partition_index */
				kp_write_err(req, w, KP_ERR_TOPIC_AUTHORIZATION_FAILED);
				kp_write_i64(w, -1);     /* timestamp */
				kp_write_i64(w, -1);     /* offset */
				continue;
			}
			answer_partition(req, w, t, index, timestamp);
		}
	}
	return CTL_DISP_RESPOND;
}
