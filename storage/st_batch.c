/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * st_batch.c - RecordBatch v2: header decoding, validation in Kafka's order,
 * offset assignment, record iteration and the in-place builder.
 *
 * Produced batches pass st_batch_validate() once on the control thread or a
 * dataplane lcore; after that the broker only rewrites baseOffset and
 * partitionLeaderEpoch.  The tap builder runs per packet on lcores, so it
 * sizes each record once, checks space once and then writes with no further
 * bounds checks; key and value bytes go through memcpy.
 */
#include <errno.h>
#include <string.h>

#include "st_batch.h"
#include "st_endian.h"
#include "st_varint.h"

_Static_assert(ST_BATCH_OFF_RECORDS_COUNT + 4 == ST_BATCH_HEADER_SIZE, "v2 header is 61 bytes");
_Static_assert(ST_BATCH_OFF_CRC + 4 == ST_BATCH_OFF_ATTRIBUTES, "CRC range starts after the CRC");
_Static_assert(ST_BATCH_LOG_OVERHEAD == ST_BATCH_OFF_LEADER_EPOCH, "log overhead = offset + length");

/* Smallest batchLength: a header with no records. */
#define BATCH_LENGTH_MIN (ST_BATCH_HEADER_SIZE - ST_BATCH_LOG_OVERHEAD)

static const struct {
	const char *text;
	int16_t kafka;
} batch_errs[ST_BATCH_ERR_MAX] = {
#define ST_BATCH_ERR_TAB(name, kafka_code, str) [ST_BATCH_ERR_##name] = { str, kafka_code },
	ST_BATCH_ERRORS(ST_BATCH_ERR_TAB)
#undef ST_BATCH_ERR_TAB
};

const char *st_batch_err_str(enum st_batch_err err)
{
	if ((unsigned int)err >= ST_BATCH_ERR_MAX)
		return "unknown batch error";
	return batch_errs[err].text;
}

int16_t st_batch_err_kafka(enum st_batch_err err)
{
	if ((unsigned int)err >= ST_BATCH_ERR_MAX)
		return -1; /* UNKNOWN_SERVER_ERROR */
	return batch_errs[err].kafka;
}

static void header_decode(const uint8_t *p, struct st_batch_info *bi)
{
	bi->base_offset = (int64_t)st_be64_load(p + ST_BATCH_OFF_BASE_OFFSET);
	bi->length = (int32_t)st_be32_load(p + ST_BATCH_OFF_LENGTH);
	bi->leader_epoch = (int32_t)st_be32_load(p + ST_BATCH_OFF_LEADER_EPOCH);
	bi->magic = (int8_t)p[ST_BATCH_OFF_MAGIC];
	bi->crc = st_be32_load(p + ST_BATCH_OFF_CRC);
	bi->attributes = (int16_t)st_be16_load(p + ST_BATCH_OFF_ATTRIBUTES);
	bi->last_offset_delta = (int32_t)st_be32_load(p + ST_BATCH_OFF_LAST_OFFSET_DELTA);
	bi->base_timestamp = (int64_t)st_be64_load(p + ST_BATCH_OFF_BASE_TIMESTAMP);
	bi->max_timestamp = (int64_t)st_be64_load(p + ST_BATCH_OFF_MAX_TIMESTAMP);
	bi->producer_id = (int64_t)st_be64_load(p + ST_BATCH_OFF_PRODUCER_ID);
	bi->producer_epoch = (int16_t)st_be16_load(p + ST_BATCH_OFF_PRODUCER_EPOCH);
	bi->base_sequence = (int32_t)st_be32_load(p + ST_BATCH_OFF_BASE_SEQUENCE);
	bi->records_count = (int32_t)st_be32_load(p + ST_BATCH_OFF_RECORDS_COUNT);
}

/*
 * Kafka's ByteBufferLogInputStream order: a batchLength too small to be any
 * batch, then the magic byte, then whether the bytes are all there.  Length
 * and magic are judged as soon as their 17 bytes are present, so garbage is
 * never mistaken for a torn tail that only needs more bytes.
 */
enum st_batch_err st_batch_header_read(const void *buf, size_t len, struct st_batch_info *bi)
{
	const uint8_t *p = buf;
	int32_t length;

	if (len >= ST_BATCH_HEADER_SIZE)
		header_decode(p, bi);
	else
		memset(bi, 0, sizeof(*bi));
	if (len < ST_BATCH_OFF_MAGIC + 1)
		return ST_BATCH_ERR_TRUNCATED;
	length = (int32_t)st_be32_load(p + ST_BATCH_OFF_LENGTH);
	if (length < BATCH_LENGTH_MIN)
		return ST_BATCH_ERR_BAD_LENGTH;
	if (p[ST_BATCH_OFF_MAGIC] != ST_BATCH_MAGIC)
		return ST_BATCH_ERR_BAD_MAGIC;
	if (len < ST_BATCH_HEADER_SIZE || len - ST_BATCH_LOG_OVERHEAD < (uint32_t)length)
		return ST_BATCH_ERR_TRUNCATED;
	return ST_BATCH_ERR_OK;
}

/*
 * A producer's batch must be dense: recordsCount == lastOffsetDelta + 1 > 0
 * (LogValidator.validateBatch).  A stored batch may have lost records to
 * compaction while keeping its offset range, down to zero records, so
 * elsewhere only the range must be able to hold the count.
 */
static enum st_batch_err counts_check(const struct st_batch_info *bi, uint32_t flags)
{
	int64_t from_offsets = (int64_t)bi->last_offset_delta + 1;

	if (flags & ST_BATCH_V_PRODUCE) {
		if (from_offsets <= 0 || bi->records_count <= 0 || bi->records_count != from_offsets)
			return ST_BATCH_ERR_BAD_COUNT;
		return ST_BATCH_ERR_OK;
	}
	if (from_offsets <= 0 || bi->records_count < 0 || bi->records_count > from_offsets)
		return ST_BATCH_ERR_BAD_COUNT;
	return ST_BATCH_ERR_OK;
}

/* Every record must decode and together they must fill the batch exactly. */
static enum st_batch_err records_check(const void *buf, const struct st_batch_info *bi)
{
	struct st_record_iter it;
	struct st_record rec;

	st_record_iter_init(&it, buf, bi);
	while (st_record_iter_next(&it, &rec))
		;
	if (it.err || it.remaining != 0 || it.p != it.end)
		return ST_BATCH_ERR_BAD_RECORDS;
	return ST_BATCH_ERR_OK;
}

/*
 * Checks in the order Kafka makes them for a produce (UnifiedLog.
 * analyzeAndValidateRecords, then LogValidator.validateBatch), so a batch
 * with several faults gets the same error code as from a Kafka broker.
 */
enum st_batch_err st_batch_validate(const void *buf, size_t len, uint32_t flags,
				    uint32_t max_bytes, struct st_batch_info *bi)
{
	const uint8_t *p = buf;
	enum st_batch_err err;
	uint32_t size;

	err = st_batch_header_read(buf, len, bi);
	if (err != ST_BATCH_ERR_OK)
		return err;
	size = st_batch_size(bi);
	if ((flags & ST_BATCH_V_EXACT) && len != size)
		return ST_BATCH_ERR_BAD_LENGTH;
	if ((flags & ST_BATCH_V_PRODUCE) && bi->base_offset != 0)
		return ST_BATCH_ERR_BAD_OFFSET;
	if (max_bytes && size > max_bytes)
		return ST_BATCH_ERR_TOO_LARGE;
	if (st_crc32c(0, p + ST_BATCH_OFF_ATTRIBUTES, size - ST_BATCH_OFF_ATTRIBUTES) != bi->crc)
		return ST_BATCH_ERR_BAD_CRC;
	err = counts_check(bi, flags);
	if (err != ST_BATCH_ERR_OK)
		return err;
	if (flags & ST_BATCH_V_PRODUCE) {
		if (bi->attributes & ST_BATCH_ATTR_CONTROL)
			return ST_BATCH_ERR_CONTROL;
		if (bi->producer_id >= 0 && bi->base_sequence < 0)
			return ST_BATCH_ERR_BAD_SEQUENCE;
	}
	if ((flags & ST_BATCH_V_RECORDS) && (bi->attributes & ST_BATCH_ATTR_CODEC_MASK) == ST_CODEC_NONE)
		return records_check(buf, bi);
	return ST_BATCH_ERR_OK;
}

void st_batch_assign(void *buf, int64_t base_offset, int32_t leader_epoch)
{
	uint8_t *p = buf;

	st_be64_store(p + ST_BATCH_OFF_BASE_OFFSET, (uint64_t)base_offset);
	st_be32_store(p + ST_BATCH_OFF_LEADER_EPOCH, (uint32_t)leader_epoch);
}

void st_batch_crc_update(void *buf)
{
	uint8_t *p = buf;
	int32_t length = (int32_t)st_be32_load(p + ST_BATCH_OFF_LENGTH);
	uint32_t crc;

	/* Not a batch: summing would run off the buffer. */
	if (length < BATCH_LENGTH_MIN)
		return;
	crc = st_crc32c(0, p + ST_BATCH_OFF_ATTRIBUTES,
			(uint32_t)length + ST_BATCH_LOG_OVERHEAD - ST_BATCH_OFF_ATTRIBUTES);
	st_be32_store(p + ST_BATCH_OFF_CRC, crc);
}

/* ---- records ---------------------------------------------------------- */

/*
 * A length-prefixed byte field inside [*pos, end): -1 is null, anything else
 * negative is refused (Java reads it as null; no encoder writes it).
 */
static int bytes_field(const uint8_t **pos, const uint8_t *end, bool nullable,
		       const void **data, int32_t *len)
{
	int n = st_varint_decode(*pos, (size_t)(end - *pos), len);

	if (n < 0)
		return n;
	*pos += n;
	if (*len == -1 && nullable) {
		*data = NULL;
		return 0;
	}
	if (*len < 0 || *len > end - *pos)
		return -EBADMSG;
	*data = *pos;
	*pos += *len;
	return 0;
}

static int header_skip(const uint8_t **pos, const uint8_t *end)
{
	const void *data;
	int32_t len;
	int rc;

	rc = bytes_field(pos, end, false, &data, &len);
	if (rc == 0)
		rc = bytes_field(pos, end, true, &data, &len);
	return rc;
}

/*
 * Decode the record at @p (DefaultRecord.readFrom) and check that its fields,
 * headers included, end exactly where its length says.  @return the start of
 * the next record, or NULL.
 */
static const uint8_t *record_decode(const uint8_t *p, const uint8_t *end,
				    const struct st_batch_info *bi, struct st_record *rec)
{
	const uint8_t *rend;
	int64_t ts_delta;
	int32_t len, off_delta, n_hdrs;
	int n;

	n = st_varint_decode(p, (size_t)(end - p), &len);
	if (n < 0 || len < 1 || len > end - p - n)
		return NULL;
	p += n;
	rend = p + len;
	p++; /* attributes: unused in v2 */
	n = st_varlong_decode(p, (size_t)(rend - p), &ts_delta);
	if (n < 0)
		return NULL;
	p += n;
	n = st_varint_decode(p, (size_t)(rend - p), &off_delta);
	if (n < 0)
		return NULL;
	p += n;
	if (bytes_field(&p, rend, true, &rec->key, &rec->key_len) < 0 ||
	    bytes_field(&p, rend, true, &rec->value, &rec->value_len) < 0)
		return NULL;
	n = st_varint_decode(p, (size_t)(rend - p), &n_hdrs);
	if (n < 0 || n_hdrs < 0)
		return NULL;
	p += n;
	rec->headers = p;
	for (int32_t i = 0; i < n_hdrs; i++)
		if (header_skip(&p, rend) < 0)
			return NULL;
	if (p != rend)
		return NULL;
	rec->headers_end = rend;
	rec->n_headers = (uint32_t)n_hdrs;
	rec->offset = (int64_t)((uint64_t)bi->base_offset + (uint64_t)(int64_t)off_delta);
	/* LogAppendTime batches: every record carries the broker's time. */
	if (bi->attributes & ST_BATCH_ATTR_LOG_APPEND_TIME)
		rec->timestamp = bi->max_timestamp;
	else
		rec->timestamp = (int64_t)((uint64_t)bi->base_timestamp + (uint64_t)ts_delta);
	return rend;
}

void st_record_iter_init(struct st_record_iter *it, const void *batch, const struct st_batch_info *bi)
{
	const uint8_t *p = batch;

	it->bi = *bi;
	it->p = p + ST_BATCH_HEADER_SIZE;
	it->end = p + st_batch_size(bi);
	it->remaining = bi->records_count;
	it->err = (bi->attributes & ST_BATCH_ATTR_CODEC_MASK) ? -ENOTSUP : 0;
}

bool st_record_iter_next(struct st_record_iter *it, struct st_record *rec)
{
	const uint8_t *next;

	if (it->err || it->remaining <= 0)
		return false;
	next = record_decode(it->p, it->end, &it->bi, rec);
	if (!next) {
		it->err = -EBADMSG;
		return false;
	}
	it->p = next;
	it->remaining--;
	return true;
}

bool st_record_header_next(const struct st_record *rec, const uint8_t **pos, struct st_record_header *hdr)
{
	const uint8_t *p = *pos;
	const void *key;
	int32_t key_len;

	if (p >= rec->headers_end)
		return false;
	if (bytes_field(&p, rec->headers_end, false, &key, &key_len) < 0 ||
	    bytes_field(&p, rec->headers_end, true, &hdr->value, &hdr->value_len) < 0)
		return false;
	hdr->key = key;
	hdr->key_len = (uint32_t)key_len;
	*pos = p;
	return true;
}

/* ---- builder ---------------------------------------------------------- */

uint32_t st_record_size_max(uint32_t key_len, uint32_t value_len,
			    const struct st_record_header *hdrs, uint32_t n_hdrs)
{
	/* length, attributes, timestampDelta, offsetDelta, keyLen, valueLen, count */
	uint64_t size = ST_VARINT_MAX + 1 + ST_VARLONG_MAX + ST_VARINT_MAX +
			ST_VARINT_MAX + ST_VARINT_MAX + ST_VARINT_MAX;

	size += (uint64_t)key_len + value_len;
	for (uint32_t i = 0; i < n_hdrs; i++)
		size += 2 * ST_VARINT_MAX + (uint64_t)hdrs[i].key_len +
			(hdrs[i].value && hdrs[i].value_len > 0 ? (uint64_t)hdrs[i].value_len : 0);
	return size > UINT32_MAX ? UINT32_MAX : (uint32_t)size;
}

int st_batch_builder_begin(struct st_batch_builder *b, void *buf, uint32_t cap, int64_t base_timestamp)
{
	if (cap < ST_BATCH_HEADER_SIZE)
		return -ENOSPC;
	b->buf = buf;
	/* batchLength is an i32. */
	b->cap = cap > (uint32_t)INT32_MAX ? (uint32_t)INT32_MAX : cap;
	b->len = ST_BATCH_HEADER_SIZE;
	b->count = 0;
	b->base_timestamp = base_timestamp;
	b->max_timestamp = INT64_MIN;
	b->producer_id = -1;
	b->producer_epoch = -1;
	b->base_sequence = -1;
	b->attributes = 0;
	return 0;
}

/* Encoded size of a nullable byte field, or -1 if @len is not representable. */
static int64_t field_size(const void *data, int64_t len)
{
	if (!data)
		return 1;
	if (len < 0 || len > INT32_MAX)
		return -1;
	return st_varint_size((int32_t)len) + len;
}

static uint8_t *field_put(uint8_t *p, const void *data, int32_t len)
{
	if (!data) {
		*p = 1; /* zigzag(-1) */
		return p + 1;
	}
	p += st_varint_encode(p, len);
	memcpy(p, data, (size_t)len);
	return p + len;
}

/* Body size of a record (everything after its length varint), or -EINVAL. */
static int64_t record_body_size(int64_t ts_delta, int32_t off_delta,
				const void *key, int32_t key_len, const void *value, int32_t value_len,
				const struct st_record_header *hdrs, uint32_t n_hdrs)
{
	int64_t size = 1 + st_varlong_size(ts_delta) + st_varint_size(off_delta);
	int64_t k = field_size(key, key_len), v = field_size(value, value_len);

	if (k < 0 || v < 0 || n_hdrs > INT32_MAX)
		return -EINVAL;
	size += k + v + st_varint_size((int32_t)n_hdrs);
	for (uint32_t i = 0; i < n_hdrs; i++) {
		/* Header keys are non-null strings: NULL only as the empty key. */
		if (!hdrs[i].key && hdrs[i].key_len)
			return -EINVAL;
		k = field_size(hdrs[i].key ? hdrs[i].key : "", hdrs[i].key_len);
		v = field_size(hdrs[i].value, hdrs[i].value_len);
		if (k < 0 || v < 0)
			return -EINVAL;
		size += k + v;
	}
	return size;
}

int st_batch_builder_add(struct st_batch_builder *b, int64_t timestamp,
			 const void *key, int32_t key_len,
			 const void *value, int32_t value_len,
			 const struct st_record_header *hdrs, uint32_t n_hdrs)
{
	int64_t ts_delta = (int64_t)((uint64_t)timestamp - (uint64_t)b->base_timestamp);
	int64_t body;
	uint8_t *p;

	body = record_body_size(ts_delta, b->count, key, key_len, value, value_len, hdrs, n_hdrs);
	if (body < 0)
		return (int)body;
	if (b->count == INT32_MAX || body > INT32_MAX ||
	    (uint64_t)body + (uint64_t)st_varint_size((int32_t)body) > b->cap - b->len)
		return -ENOSPC;

	p = b->buf + b->len;
	p += st_varint_encode(p, (int32_t)body);
	*p++ = 0; /* attributes */
	p += st_varlong_encode(p, ts_delta);
	p += st_varint_encode(p, b->count);
	p = field_put(p, key, key_len);
	p = field_put(p, value, value_len);
	p += st_varint_encode(p, (int32_t)n_hdrs);
	for (uint32_t i = 0; i < n_hdrs; i++) {
		p = field_put(p, hdrs[i].key ? hdrs[i].key : "", (int32_t)hdrs[i].key_len);
		p = field_put(p, hdrs[i].value, hdrs[i].value_len);
	}
	b->len = (uint32_t)(p - b->buf);
	b->count++;
	if (timestamp > b->max_timestamp)
		b->max_timestamp = timestamp;
	return 0;
}

int st_record_headers_encode(uint8_t *dst, const struct st_record_header *hdrs, uint32_t n_hdrs)
{
	uint8_t *p = dst;

	if (n_hdrs > INT32_MAX)
		return -EINVAL;
	for (uint32_t i = 0; i < n_hdrs; i++)
		if ((!hdrs[i].key && hdrs[i].key_len) || hdrs[i].key_len > INT32_MAX ||
		    (hdrs[i].value && hdrs[i].value_len < 0))
			return -EINVAL;
	p += st_varint_encode(p, (int32_t)n_hdrs);
	for (uint32_t i = 0; i < n_hdrs; i++) {
		p = field_put(p, hdrs[i].key ? hdrs[i].key : "", (int32_t)hdrs[i].key_len);
		p = field_put(p, hdrs[i].value, hdrs[i].value_len);
	}
	return (int)(p - dst);
}

int st_batch_builder_finish(struct st_batch_builder *b)
{
	uint8_t *p = b->buf;

	if (b->count == 0)
		return -EINVAL;
	st_be64_store(p + ST_BATCH_OFF_BASE_OFFSET, 0);
	st_be32_store(p + ST_BATCH_OFF_LENGTH, b->len - ST_BATCH_LOG_OVERHEAD);
	/* -1 = no leader epoch yet (Java's NO_PARTITION_LEADER_EPOCH); assign sets it. */
	st_be32_store(p + ST_BATCH_OFF_LEADER_EPOCH, UINT32_MAX);
	p[ST_BATCH_OFF_MAGIC] = ST_BATCH_MAGIC;
	st_be16_store(p + ST_BATCH_OFF_ATTRIBUTES, (uint16_t)b->attributes);
	st_be32_store(p + ST_BATCH_OFF_LAST_OFFSET_DELTA, (uint32_t)(b->count - 1));
	st_be64_store(p + ST_BATCH_OFF_BASE_TIMESTAMP, (uint64_t)b->base_timestamp);
	st_be64_store(p + ST_BATCH_OFF_MAX_TIMESTAMP, (uint64_t)b->max_timestamp);
	st_be64_store(p + ST_BATCH_OFF_PRODUCER_ID, (uint64_t)b->producer_id);
	st_be16_store(p + ST_BATCH_OFF_PRODUCER_EPOCH, (uint16_t)b->producer_epoch);
	st_be32_store(p + ST_BATCH_OFF_BASE_SEQUENCE, (uint32_t)b->base_sequence);
	st_be32_store(p + ST_BATCH_OFF_RECORDS_COUNT, (uint32_t)b->count);
	st_be32_store(p + ST_BATCH_OFF_CRC,
		      st_crc32c(0, p + ST_BATCH_OFF_ATTRIBUTES, b->len - ST_BATCH_OFF_ATTRIBUTES));
	return (int)b->len;
}
