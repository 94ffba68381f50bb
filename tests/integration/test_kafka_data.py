#!/usr/bin/python3
"""Records through the real sluiced with stock clients (run by test_kafka_data.sh).

200,000 keyed messages with headers are produced by kcat (from a file) and by
kafka-python (acks='all', explicit timestamps) into 3-partition topics, then
read back by kcat (-C -e -o beginning, -o <offset>, -o s@<timestamp>, -J) and
by a kafka-python KafkaConsumer: keys, values, headers, timestamps and the
per-partition order must be identical.  Then the produce errors: a message
over the topic's max.message.bytes (kcat and kafka-python report error 10), a topic that
does not exist with auto-create off (error 3, raw Produce v7 frame).

Usage: test_kafka_data.py PORT WORKDIR COUNT
"""
import json
import os
import socket
import struct
import subprocess
import sys
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import MessageSizeTooLargeError

PORT, WORK, COUNT = sys.argv[1], sys.argv[2], int(sys.argv[3])
BROKER = "127.0.0.1:" + PORT
T0 = 1700000000000


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def ok(msg):
    print("ok - " + msg, flush=True)


def kcat(*args, stdin=None, check=True):
    r = subprocess.run(["kcat", "-b", BROKER] + list(args), stdin=stdin, capture_output=True,
                       timeout=240)
    if check and r.returncode != 0:
        fail("kcat %s: rc %d: %s" % (" ".join(args), r.returncode, r.stderr.decode()[-500:]))
    return r


def kcat_json(topic, *args):
    """kcat -C -J: [(partition, offset, ts, key, value, headers)]"""
    out = kcat("-C", "-t", topic, "-e", "-J", "-q", *args).stdout.decode()
    msgs = []
    for line in out.splitlines():
        j = json.loads(line)
        h = j.get("headers") or []
        msgs.append((j["partition"], j["offset"], j["ts"], j["key"], j["payload"],
                     [(h[i], h[i + 1]) for i in range(0, len(h), 2)]))
    return msgs


def py_consume(topic):
    c = KafkaConsumer(bootstrap_servers=BROKER, enable_auto_commit=False, group_id=None,
                      consumer_timeout_ms=10000)
    parts = [TopicPartition(topic, p) for p in range(3)]
    c.assign(parts)
    c.seek_to_beginning()
    end = c.end_offsets(parts)
    msgs = []
    while sum(c.position(tp) for tp in parts) < sum(end.values()):
        batch = c.poll(timeout_ms=2000, max_records=50000)
        if not batch:
            break
        for recs in batch.values():
            for m in recs:
                msgs.append((m.partition, m.offset, m.timestamp, m.key.decode(), m.value.decode(),
                             [(k, v.decode()) for k, v in m.headers]))
    c.close()
    return msgs


def check_order(msgs, what):
    """Per partition: offsets dense from 0, the source index increasing."""
    last = {}
    for p, off, _ts, key, _v, _h in sorted(msgs, key=lambda m: (m[0], m[1])):
        idx = int(key[3:])
        po, pi = last.get(p, (-1, -1))
        if off != po + 1 or idx <= pi:
            fail("%s: partition %d order broken at offset %d" % (what, p, off))
        last[p] = (off, idx)
    if len(last) != 3:
        fail("%s: %d partitions used, want 3" % (what, len(last)))


def compare(a, b, what):
    if sorted(a) != sorted(b):
        fail("%s: kcat and kafka-python consumers disagree" % what)


def produce_kcat():
    path = os.path.join(WORK, "kcat-input.txt")
    with open(path, "w") as f:
        for i in range(COUNT):
            f.write("key%07d:kcat-value-%d-%s\n" % (i, i, "x" * (i % 50)))
    with open(path, "rb") as f:
        kcat("-P", "-t", "data-kcat", "-K:", "-H", "src=kcat", "-H", "tag=h", "-X", "acks=all",
             stdin=f)
    ok("kcat produced %d keyed messages with headers" % COUNT)


def produce_python():
    p = KafkaProducer(bootstrap_servers=BROKER, acks="all", linger_ms=5, batch_size=65536)
    futs = [p.send("data-py", key=b"key%07d" % i, value=b"py-value-%d" % i,
                   headers=[("src", b"py"), ("i", str(i).encode())], timestamp_ms=T0 + i)
            for i in range(COUNT)]
    p.flush()
    for f in futs[::997] + futs[-1:]:
        f.get(timeout=30)
    p.close()
    ok("kafka-python produced %d messages (acks=all)" % COUNT)


def check_kcat_topic():
    a = kcat_json("data-kcat", "-o", "beginning")
    if len(a) != COUNT:
        fail("data-kcat: kcat read %d of %d" % (len(a), COUNT))
    for p, off, ts, key, val, hdrs in a:
        i = int(key[3:])
        if val != "kcat-value-%d-%s" % (i, "x" * (i % 50)) or hdrs != [("src", "kcat"), ("tag", "h")]:
            fail("data-kcat: message %s at %d/%d differs" % (key, p, off))
    check_order(a, "data-kcat")
    compare(a, py_consume("data-kcat"), "data-kcat")
    ok("data-kcat read back by kcat and kafka-python: identical, ordered")


def check_py_topic():
    a = kcat_json("data-py", "-o", "beginning")
    if len(a) != COUNT:
        fail("data-py: kcat read %d of %d" % (len(a), COUNT))
    for p, off, ts, key, val, hdrs in a:
        i = int(key[3:])
        if val != "py-value-%d" % i or ts != T0 + i or hdrs != [("src", "py"), ("i", str(i))]:
            fail("data-py: message %s at %d/%d differs" % (key, p, off))
    check_order(a, "data-py")
    compare(a, py_consume("data-py"), "data-py")
    ok("data-py read back by kcat and kafka-python: keys, values, headers, timestamps")
    return a


def check_offsets(all_msgs):
    by_part = {}
    for m in sorted(all_msgs, key=lambda m: (m[0], m[1])):
        by_part.setdefault(m[0], []).append(m)
    start = len(by_part[0]) // 2
    got = kcat_json("data-py", "-p", "0", "-o", str(start))
    if got != by_part[0][start:]:
        fail("kcat -o %d: wrong messages (%d)" % (start, len(got)))
    ts = T0 + COUNT * 3 // 4
    got = kcat_json("data-py", "-o", "s@%d" % ts)
    want = [m for m in all_msgs if m[2] >= ts]
    if sorted(got) != sorted(want):
        fail("kcat -o s@%d: %d messages, want %d" % (ts, len(got), len(want)))
    ok("kcat -o <offset> and -o s@<timestamp> start where they should")


def check_too_large():
    big = b"z" * 200000
    p = KafkaProducer(bootstrap_servers=BROKER, acks=1, max_request_size=4 << 20)
    try:
        p.send("small", key=b"big", value=big).get(timeout=30)
        fail("kafka-python: 200 kB message accepted over max.message.bytes")
    except MessageSizeTooLargeError:
        pass
    p.close()
    path = os.path.join(WORK, "big.txt")
    with open(path, "wb") as f:
        f.write(big + b"\n")
    with open(path, "rb") as f:
        r = kcat("-P", "-t", "small", stdin=f, check=False)
    err = r.stderr.decode()
    if "too large" not in err.lower() and "MSG_SIZE_TOO_LARGE" not in err:
        fail("kcat did not report MESSAGE_TOO_LARGE: rc %d %s" % (r.returncode, err[-300:]))
    ok("a message over max.message.bytes is refused with error 10 (kcat and kafka-python)")


def produce_frame(topic):
    """A raw Produce v7 (acks=1) of one minimal valid batch; returns the error code."""
    from kafka.record.default_records import DefaultRecordBatchBuilder
    b = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=False,
                                  producer_id=-1, producer_epoch=-1, base_sequence=-1,
                                  batch_size=1 << 20)
    b.append(0, timestamp=T0, key=b"k", value=b"v", headers=[])
    batch = bytes(b.build())
    t = topic.encode()
    body = struct.pack(">hhi", 0, 7, 42) + struct.pack(">h", 4) + b"test"
    body += struct.pack(">hhi", -1, 1, 5000) + struct.pack(">i", 1) + struct.pack(">h", len(t)) + t
    body += struct.pack(">iii", 1, 0, len(batch)) + batch
    s = socket.create_connection(("127.0.0.1", int(PORT)), timeout=10)
    s.sendall(struct.pack(">i", len(body)) + body)
    data = b""
    while len(data) < 4 or len(data) < 4 + struct.unpack(">i", data[:4])[0]:
        chunk = s.recv(65536)
        if not chunk:
            fail("connection closed on a Produce v7")
        data += chunk
    s.close()
    off = 4 + 4 + 4 + 2 + len(t) + 4 + 4   # size, corr, topics, name, partitions, index
    return struct.unpack(">h", data[off:off + 2])[0]


def main():
    admin = KafkaAdminClient(bootstrap_servers=BROKER)
    admin.create_topics([NewTopic(n, 3, 1) for n in ("data-kcat", "data-py")] +
                        [NewTopic("codec-" + c, 1, 1)
                         for c in ("none", "gzip", "snappy", "lz4", "zstd")] +
                        [NewTopic("small", 1, 1, topic_configs={"max.message.bytes": "100000"})])
    admin.close()
    t = time.time()
    produce_kcat()
    produce_python()
    print("# produced in %.1f s" % (time.time() - t))
    check_kcat_topic()
    msgs = check_py_topic()
    check_offsets(msgs)
    check_too_large()
    e = produce_frame("no-such-topic")
    if e != 3:
        fail("Produce to an unknown topic (auto-create off): error %d, want 3" % e)
    if produce_frame("data-py") != 0:
        fail("raw Produce v7 to data-py refused")
    ok("unknown topic with auto-create off: UNKNOWN_TOPIC_OR_PARTITION")


main()
