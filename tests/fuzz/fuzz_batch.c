/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_batch - arbitrary bytes as a RecordBatch v2 through st_batch_validate
 * with every combination of its flags and a message.max.bytes at and just
 * below the batch size, then, when it is accepted, through the record
 * iterator and the header walker; the same again with the CRC recomputed,
 * so that mutations reach the records behind it.
 *
 * What must hold besides "no crash, no read past the input": every verdict
 * is a known error with a text and a Kafka code; what is accepted with some
 * flags is accepted with fewer; an accepted batch fits the buffer, carries
 * the CRC-32C an independent bitwise CRC computes, and obeys the count
 * rules of its flags; with V_RECORDS exactly recordsCount records decode
 * and fill it, every key, value and header inside it.  Without V_RECORDS
 * (what a fetch or dump-log may walk) the iterator still stays inside the
 * batch and stops with -EBADMSG instead.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../storage/st_test_oracle.h"
#include "fuzz_util.h"
#include "st_batch.h"

/* Every record and header of an uncompressed batch stays inside it. @return iterator error. */
static int walk_records(const uint8_t *p, const struct st_batch_info *bi, int32_t *count)
{
	const uint8_t *lo = p + ST_BATCH_HEADER_SIZE, *hi = p + st_batch_size(bi);
	struct st_record_iter it;
	struct st_record rec;
	int32_t n = 0;

	st_record_iter_init(&it, p, bi);
	while (st_record_iter_next(&it, &rec)) {
		struct st_record_header h;
		const uint8_t *hp = rec.headers;
		uint32_t nh = 0;

		FZ_CHECK(rec.key_len >= -1 && rec.value_len >= -1);
		FZ_CHECK(!rec.key || ((const uint8_t *)rec.key >= lo &&
				      (const uint8_t *)rec.key + rec.key_len <= hi));
		FZ_CHECK(!rec.value || ((const uint8_t *)rec.value >= lo &&
					(const uint8_t *)rec.value + rec.value_len <= hi));
		FZ_CHECK(rec.headers >= lo && rec.headers <= rec.headers_end && rec.headers_end <= hi);
		while (st_record_header_next(&rec, &hp, &h)) {
			FZ_CHECK(hp <= rec.headers_end);
			FZ_CHECK(!h.key_len || ((const uint8_t *)h.key >= rec.headers &&
						(const uint8_t *)h.key + h.key_len <= rec.headers_end));
			FZ_CHECK(!h.value || ((const uint8_t *)h.value >= rec.headers && h.value_len >= 0 &&
					      (const uint8_t *)h.value + h.value_len <= rec.headers_end));
			nh++;
		}
		FZ_CHECK(nh <= rec.n_headers);
		n++;
		FZ_CHECK(it.p >= lo && it.p <= hi);
	}
	FZ_CHECK(it.err == 0 || it.err == -EBADMSG);
	FZ_CHECK(it.p >= lo && it.p <= hi);
	*count = n;
	return it.err;
}

/* What st_batch_validate accepted must hold, checked without it. */
static void check_accepted(const uint8_t *p, size_t len, uint32_t flags, const struct st_batch_info *bi)
{
	uint32_t size = st_batch_size(bi);
	int32_t n;

	FZ_CHECK(size >= ST_BATCH_HEADER_SIZE && size <= len);
	FZ_CHECK(!(flags & ST_BATCH_V_EXACT) || size == len);
	FZ_CHECK(p[ST_BATCH_OFF_MAGIC] == ST_BATCH_MAGIC);
	FZ_CHECK(fz_get_be32(p + ST_BATCH_OFF_CRC) == bi->crc);
	FZ_CHECK(crc_bitwise(p + ST_BATCH_OFF_ATTRIBUTES, size - ST_BATCH_OFF_ATTRIBUTES) == bi->crc);
	if (flags & ST_BATCH_V_PRODUCE) {
		FZ_CHECK(bi->base_offset == 0);
		FZ_CHECK(bi->records_count > 0 &&
			 (int64_t)bi->records_count == (int64_t)bi->last_offset_delta + 1);
		FZ_CHECK(!(bi->attributes & ST_BATCH_ATTR_CONTROL));
	} else {
		FZ_CHECK(bi->records_count >= 0 && bi->last_offset_delta >= 0 &&
			 (int64_t)bi->records_count <= (int64_t)bi->last_offset_delta + 1);
	}
	if (bi->attributes & ST_BATCH_ATTR_CODEC_MASK)
		return;
	if (flags & ST_BATCH_V_RECORDS) {
		FZ_CHECK(walk_records(p, bi, &n) == 0);
		FZ_CHECK(n == bi->records_count);
	} else {
		(void)walk_records(p, bi, &n);
		FZ_CHECK(n <= bi->records_count);
	}
}

/* Validate @p (exactly @len bytes) with all 8 flag sets and three limits. */
static void validate_all(const uint8_t *p, size_t len)
{
	bool ok[8];
	struct st_batch_info bi, hb;
	enum st_batch_err he = st_batch_header_read(p, len, &hb);

	FZ_CHECK(he < ST_BATCH_ERR_MAX);
	for (uint32_t f = 0; f < 8; f++) {
		enum st_batch_err e = st_batch_validate(p, len, f, 0, &bi);

		FZ_CHECK(e < ST_BATCH_ERR_MAX && st_batch_err_str(e) != NULL);
		FZ_CHECK((e == ST_BATCH_ERR_OK) == (st_batch_err_kafka(e) == 0));
		ok[f] = e == ST_BATCH_ERR_OK;
		if (!ok[f])
			continue;
		FZ_CHECK(he == ST_BATCH_ERR_OK && bi.length == hb.length);
		check_accepted(p, len, f, &bi);
		/* message.max.bytes: the size itself passes, one byte less does not. */
		FZ_CHECK(st_batch_validate(p, len, f, st_batch_size(&bi), &hb) == ST_BATCH_ERR_OK);
		FZ_CHECK(st_batch_validate(p, len, f, st_batch_size(&bi) - 1, &hb) ==
			 ST_BATCH_ERR_TOO_LARGE);
	}
	/* Fewer flags never refuse what more flags accept. */
	for (uint32_t f = 0; f < 8; f++)
		for (uint32_t g = 0; g < 8; g++)
			if ((g & f) == g && ok[f])
				FZ_CHECK(ok[g]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *p;
	int32_t l;

	if (size > (1u << 20))
		return -1;
	p = fz_dup(data, size);
	validate_all(p, size);
	/* The same bytes with a right CRC over what batchLength covers. */
	if (size >= ST_BATCH_HEADER_SIZE) {
		l = (int32_t)fz_get_be32(p + ST_BATCH_OFF_LENGTH);
		if (l >= ST_BATCH_HEADER_SIZE - ST_BATCH_LOG_OVERHEAD &&
		    (size_t)l + ST_BATCH_LOG_OVERHEAD <= size) {
			uint32_t c = crc_bitwise(p + ST_BATCH_OFF_ATTRIBUTES,
						(size_t)l + ST_BATCH_LOG_OVERHEAD - ST_BATCH_OFF_ATTRIBUTES);

			p[ST_BATCH_OFF_CRC] = (uint8_t)(c >> 24);
			p[ST_BATCH_OFF_CRC + 1] = (uint8_t)(c >> 16);
			p[ST_BATCH_OFF_CRC + 2] = (uint8_t)(c >> 8);
			p[ST_BATCH_OFF_CRC + 3] = (uint8_t)c;
			validate_all(p, size);
		}
	}
	free(p);
	return 0;
}
