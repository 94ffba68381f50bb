#!/usr/bin/python3
"""Produce with acks=all and no retries, and say what was acknowledged.

  disk_full_produce.py PORT TOPIC PREFIX MAX OUT_FILE [until-error|all]

Sends values "<PREFIX>-<i>-" padded to 1 KiB, 50 at a time, each group
flushed and every future checked.  Writes the acknowledged values to
OUT_FILE, one per line, and prints "acked N failed F errors {name: count}".
  until-error: stops at the first group with a failure (the disk fails);
               exits 0 only if there was one and every failure was
               KAFKA_STORAGE_ERROR (56) -- which kafka-python 2.0.2 has no
               class for: it raises UnknownError, so the caller also checks
               the code with librdkafka; a timeout (7) fails;
  all:         exits 0 only if every record was acknowledged.
"""
import sys

from kafka import KafkaProducer
from kafka.errors import KafkaError

PORT, TOPIC, PREFIX, MAX, OUT = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
MODE = sys.argv[6] if len(sys.argv) > 6 else "all"


def main():
    prod = KafkaProducer(bootstrap_servers="127.0.0.1:" + PORT, acks="all", retries=0,
                         linger_ms=2, request_timeout_ms=10000, max_block_ms=10000)
    acked, errors = [], {}
    failed = 0
    i = 0
    while i < MAX:
        group = []
        for _ in range(min(50, MAX - i)):
            v = ("%s-%d-" % (PREFIX, i)).encode().ljust(1024, b"x")
            group.append((v, prod.send(TOPIC, v)))
            i += 1
        prod.flush()
        for v, fut in group:
            try:
                fut.get(timeout=10)
                acked.append(v[:v.index(b"-x") if b"-x" in v else len(v)].decode())
            except KafkaError as e:
                failed += 1
                errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1
        if failed and MODE == "until-error":
            break
    prod.close()
    with open(OUT, "w") as f:
        f.write("".join(v + "\n" for v in acked))
    print("acked %d failed %d errors %s" % (len(acked), failed, errors), flush=True)
    if MODE == "until-error":
        return 0 if failed and set(errors) <= {"UnknownError", "KafkaStorageError"} else 1
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
