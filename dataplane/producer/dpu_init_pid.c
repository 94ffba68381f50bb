/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dpu_init_pid.c - InitProducerId v0 against the appliance's Kafka listener,
 * for exactly-once UDP producers.
 *
 * A UDP producer's id must be one the broker handed out (never reused, also
 * across restarts) so that the appliance's per-partition producer state
 * tells its resends from another session's batches.  No Kafka client library
 * exposes InitProducerId on its own, and this is one request of nine fields,
 * so it is written here over a plain blocking socket.
 *
 *   request:  i32 size | i16 api_key 22 | i16 api_version 0 | i32 correlation_id
 *             | string client_id | nullable string transactional_id (null)
 *             | i32 transaction_timeout_ms
 *   response: i32 size | i32 correlation_id | i32 throttle_time_ms
 *             | i16 error_code | i64 producer_id | i16 producer_epoch
 */
#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "dpu_producer.h"
#include "st_endian.h"

#define API_INIT_PRODUCER_ID  22
#define CORRELATION_ID        0x534c5550  /* "SLUP" */
#define CLIENT_ID             "sluice-produce-udp"
#define RESPONSE_V0_SIZE      20          /* after the size field */

static int connect_to(const char *host, const char *port, int timeout_ms)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	int fd = -1, err = -ECONNREFUSED, rc;

	rc = getaddrinfo(host, port, &hints, &res);
	if (rc)
		return rc == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			err = -errno;
			continue;
		}
		/* Linux applies the send timeout to connect() too. */
		if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == 0 &&
		    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0 &&
		    connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		err = errno == EINPROGRESS || errno == EAGAIN ? -ETIMEDOUT : -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd >= 0 ? fd : err;
}

static int io_all(int fd, void *buf, size_t len, bool out)
{
	uint8_t *b = buf;

	while (len) {
		ssize_t n = out ? send(fd, b, len, MSG_NOSIGNAL) : recv(fd, b, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		if (n == 0)
			return -ECONNRESET;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

static size_t request(uint8_t *b)
{
	size_t n = 4, cl = sizeof(CLIENT_ID) - 1;

	st_be16_store(b + n, API_INIT_PRODUCER_ID), n += 2;
	st_be16_store(b + n, 0), n += 2;                    /* api_version */
	st_be32_store(b + n, CORRELATION_ID), n += 4;
	st_be16_store(b + n, (uint16_t)cl), n += 2;         /* client_id */
	memcpy(b + n, CLIENT_ID, cl), n += cl;
	st_be16_store(b + n, UINT16_MAX), n += 2;           /* transactional_id: null */
	st_be32_store(b + n, 60000), n += 4;                /* transaction_timeout_ms */
	st_be32_store(b, (uint32_t)(n - 4));
	return n;
}

int dpu_init_producer_id(const char *host, const char *port, int timeout_ms, int64_t *pid,
			 int16_t *epoch, int16_t *kafka_err)
{
	uint8_t req[64], rsp[RESPONSE_V0_SIZE];
	int16_t err;
	uint32_t size;
	int fd, rc;

	fd = connect_to(host, port, timeout_ms);
	if (fd < 0)
		return fd;
	rc = io_all(fd, req, request(req), true);
	if (rc == 0)
		rc = io_all(fd, rsp, 4, false);
	size = st_be32_load(rsp);
	if (rc == 0 && size != RESPONSE_V0_SIZE)
		rc = -EPROTO;
	if (rc == 0)
		rc = io_all(fd, rsp, size, false);
	close(fd);
	if (rc)
		return rc;
	if (st_be32_load(rsp) != CORRELATION_ID)
		return -EPROTO;
	err = (int16_t)st_be16_load(rsp + 8);
	if (kafka_err)
		*kafka_err = err;
	if (err)
		return -EREMOTEIO;
	*pid = (int64_t)st_be64_load(rsp + 10);
	*epoch = (int16_t)st_be16_load(rsp + 18);
	return *pid >= 0 && *epoch >= 0 ? 0 : -EPROTO;
}
