/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kp_err.h - Kafka error codes: response data, never -errno.
 *
 * Values and names are Kafka's (apache/kafka Errors.java).  KP_ERRORS is an
 * X-macro so that the enum and the names used in log lines come from one
 * list.  Functions that return an enum kp_err say so in their type; int
 * functions keep returning >= 0 or -errno.
 */
#ifndef KP_ERR_H
#define KP_ERR_H

#include <stdint.h>

#define KP_ERRORS(X)                                  \
	X(UNKNOWN_SERVER_ERROR, -1)                   \
	X(NONE, 0)                                    \
	X(OFFSET_OUT_OF_RANGE, 1)                     \
	X(CORRUPT_MESSAGE, 2)                         \
	X(UNKNOWN_TOPIC_OR_PARTITION, 3)              \
	X(LEADER_NOT_AVAILABLE, 5)                    \
	X(NOT_LEADER_OR_FOLLOWER, 6)                  \
	X(REQUEST_TIMED_OUT, 7)                       \
	X(MESSAGE_TOO_LARGE, 10)                      \
	X(OFFSET_METADATA_TOO_LARGE, 12)              \
	X(COORDINATOR_LOAD_IN_PROGRESS, 14)           \
	X(COORDINATOR_NOT_AVAILABLE, 15)              \
	X(NOT_COORDINATOR, 16)                        \
	X(INVALID_TOPIC_EXCEPTION, 17)                \
	X(INVALID_REQUIRED_ACKS, 21)                  \
	X(ILLEGAL_GENERATION, 22)                     \
	X(INCONSISTENT_GROUP_PROTOCOL, 23)            \
	X(INVALID_GROUP_ID, 24)                       \
	X(UNKNOWN_MEMBER_ID, 25)                      \
	X(INVALID_SESSION_TIMEOUT, 26)                \
	X(REBALANCE_IN_PROGRESS, 27)                  \
	X(INVALID_COMMIT_OFFSET_SIZE, 28)             \
	X(TOPIC_AUTHORIZATION_FAILED, 29)             \
	X(GROUP_AUTHORIZATION_FAILED, 30)             \
	X(UNSUPPORTED_SASL_MECHANISM, 33)             \
	X(ILLEGAL_SASL_STATE, 34)                     \
	X(UNSUPPORTED_VERSION, 35)                    \
	X(TOPIC_ALREADY_EXISTS, 36)                   \
	X(INVALID_PARTITIONS, 37)                     \
	X(INVALID_REPLICATION_FACTOR, 38)             \
	X(INVALID_REPLICA_ASSIGNMENT, 39)             \
	X(INVALID_CONFIG, 40)                         \
	X(NOT_CONTROLLER, 41)                         \
	X(INVALID_REQUEST, 42)                        \
	X(UNSUPPORTED_FOR_MESSAGE_FORMAT, 43)         \
	X(POLICY_VIOLATION, 44)                       \
	X(OUT_OF_ORDER_SEQUENCE_NUMBER, 45)           \
	X(DUPLICATE_SEQUENCE_NUMBER, 46)              \
	X(INVALID_PRODUCER_EPOCH, 47)                 \
	X(TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 53)  \
	X(KAFKA_STORAGE_ERROR, 56)                    \
	X(SASL_AUTHENTICATION_FAILED, 58)             \
	X(UNKNOWN_PRODUCER_ID, 59)                    \
	X(TOPIC_DELETION_DISABLED, 73)                \
	X(MEMBER_ID_REQUIRED, 79)                     \
	X(GROUP_MAX_SIZE_REACHED, 81)                 \
	X(INVALID_RECORD, 87)                         \
	X(PRODUCER_FENCED, 90)

enum kp_err {
#define KP_ERR_ENUM(name, code) KP_ERR_##name = code,
	KP_ERRORS(KP_ERR_ENUM)
#undef KP_ERR_ENUM
};

/** Kafka's name for @code ("TOPIC_ALREADY_EXISTS"), or "UNKNOWN_CODE". */
const char *kp_err_name(int16_t code);

#endif /* KP_ERR_H */
