/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rdk_test.h - what the librdkafka test programs share: delivery reports
 * counted into a struct rdk_dr (set it as the opaque, rdk_dr_cb as the
 * delivery report callback).
 */
#ifndef RDK_TEST_H
#define RDK_TEST_H

#include <librdkafka/rdkafka.h>

struct rdk_dr {
	long ok, failed;
	rd_kafka_resp_err_t first_err;
};

static inline void rdk_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct rdk_dr *s = opaque;

	(void)rk;
	if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		s->ok++;
	} else {
		if (!s->failed)
			s->first_err = m->err;
		s->failed++;
	}
}

#endif /* RDK_TEST_H */
