#!/usr/bin/python3
"""Helpers of test_delivery_tcp.sh against a running sluiced.

  test_delivery_tcp.py topics PORT TOPIC...     create 4-partition topics
  test_delivery_tcp.py count PORT TOPIC N       read TOPIC back: "missing M duplicated D records R"
  test_delivery_tcp.py replay PORT              a crafted idempotent ProduceRequest, replayed
  test_delivery_tcp.py after-restart PORT       the same bytes again after a restart

replay sends ProduceRequest v7 frames built here (RecordBatch v2 with a
producer id from InitProducerId, CRC-32C) and checks Kafka's rules: a
byte-for-byte replay is answered with the original offset and not stored
again, a sequence gap gets 45, a stale epoch 47.  The frames are kept in
/tmp so that after-restart replays the very same bytes.
"""
import json
import os
import socket
import struct
import subprocess
import sys
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kbatch import batch  # noqa: E402
from kafka import KafkaAdminClient
from kafka.admin import NewTopic

PORT = int(sys.argv[2])
TOPIC = "d-replay"
STATE = "/tmp/sluice-delivery-replay-%d.json" % PORT


def ok(msg):
    print("ok - " + msg, flush=True)


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr, flush=True)
    sys.exit(1)


def topics(names):
    admin = KafkaAdminClient(bootstrap_servers="127.0.0.1:%d" % PORT, request_timeout_ms=20000)
    admin.create_topics([NewTopic(t, 4, 1) for t in names])
    admin.close()


def count(topic, n):
    out = subprocess.run(["kcat", "-C", "-b", "127.0.0.1:%d" % PORT, "-t", topic, "-o", "beginning",
                          "-e", "-q", "-f", "%s\n"], capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        fail("kcat: " + out.stderr)
    seen = Counter(out.stdout.split())
    missing = sum(1 for i in range(n) if seen["m-%d" % i] == 0)
    dup = sum(c - 1 for c in seen.values() if c > 1)
    print("missing %d duplicated %d records %d" % (missing, dup, sum(seen.values())))


# ---- frames ------------------------------------------------------------------

def frame(api_key, version, corr, body):
    hdr = struct.pack(">hhih", api_key, version, corr, 6) + b"sluice"
    return struct.pack(">i", len(hdr) + len(body)) + hdr + body


def produce_frame(corr, records):
    t = TOPIC.encode()
    body = struct.pack(">hhi", -1, -1, 10000)             # transactional_id null, acks, timeout
    body += struct.pack(">ih", 1, len(t)) + t + struct.pack(">ii", 1, 0)
    body += struct.pack(">i", len(records)) + records
    return frame(0, 7, corr, body)


class Conn:
    def __init__(self):
        self.s = socket.create_connection(("127.0.0.1", PORT), timeout=30)

    def call(self, raw):
        self.s.sendall(raw)
        size = struct.unpack(">i", self.recv(4))[0]
        return self.recv(size)

    def recv(self, n):
        buf = b""
        while len(buf) < n:
            got = self.s.recv(n - len(buf))
            if not got:
                fail("connection closed by the broker")
            buf += got
        return buf


def produce(c, raw):
    """(error, base_offset) of a v7 produce response to @raw."""
    r = c.call(raw)
    p = 4 + 4                                            # correlation id, topics count
    tlen = struct.unpack(">h", r[p:p + 2])[0]
    p += 2 + tlen + 4                                    # topic, partitions count
    _, err, base = struct.unpack(">ihq", r[p:p + 14])
    return err, base


def init_pid(c):
    r = c.call(frame(22, 1, 99, struct.pack(">hi", -1, 60000)))
    _, _, err, pid, epoch = struct.unpack(">iihqh", r[:20])
    if err or pid < 0 or epoch != 0:
        fail("InitProducerId: error %d pid %d epoch %d" % (err, pid, epoch))
    return pid


def log_end(c):
    t = TOPIC.encode()
    body = struct.pack(">i", -1) + struct.pack(">ih", 1, len(t)) + t + struct.pack(">iiq", 1, 0, -1)
    r = c.call(frame(2, 1, 7, body))
    p = 4 + 4 + 2 + len(t) + 4
    _, err, _, off = struct.unpack(">ihqq", r[p:p + 22])
    if err:
        fail("ListOffsets: %d" % err)
    return off


def expect(got, want, what):
    if got != want:
        fail("%s: expected %r, got %r" % (what, want, got))


def replay():
    c = Conn()
    pid = init_pid(c)
    first = produce_frame(1, batch(pid, 0, 0, [b"a", b"b", b"c"]))
    err, base = produce(c, first)
    expect(err, 0, "first produce")
    expect(log_end(c), base + 3, "log end after the first produce")
    expect(produce(c, first), (0, base), "the same bytes again")
    expect(produce(Conn(), first), (0, base), "the same bytes on a new connection")
    expect(log_end(c), base + 3, "log end after two replays")
    ok("a ProduceRequest replayed byte for byte: error 0, the original base offset %d, stored once"
       % base)
    nxt = produce_frame(2, batch(pid, 0, 3, [b"d"]))
    expect(produce(c, nxt), (0, base + 3), "the next sequence")
    expect(produce(c, produce_frame(3, batch(pid, 0, 9, [b"x"])))[0], 45, "a sequence gap")
    expect(produce(c, produce_frame(4, batch(pid, 0, 1, [b"x"])))[0], 45,
           "an old sequence not among the cached batches")
    expect(produce(c, produce_frame(5, batch(pid, 1, 3, [b"x"])))[0], 45,
           "a new epoch not starting at 0")
    bumped = produce_frame(6, batch(pid, 1, 0, [b"e"]))
    expect(produce(c, bumped), (0, base + 4), "a new epoch at sequence 0")
    expect(produce(c, produce_frame(7, batch(pid, 0, 4, [b"x"])))[0], 47, "the old epoch")
    expect(log_end(c), base + 5, "log end")
    ok("next sequence appended; gap, old sequence, new epoch not at 0: 45; the old epoch: 47")
    with open(STATE, "w") as f:
        json.dump({"bumped": bumped.hex(), "base": base, "pid": pid}, f)


def after_restart():
    with open(STATE) as f:
        st = json.load(f)
    os.unlink(STATE)
    c = Conn()
    expect(produce(c, bytes.fromhex(st["bumped"])), (0, st["base"] + 4),
           "the last batch replayed after a restart")
    expect(log_end(c), st["base"] + 5, "log end after the restart")
    expect(produce(c, produce_frame(8, batch(st["pid"], 1, 1, [b"f"]))), (0, st["base"] + 5),
           "the next sequence after the restart")
    expect(produce(c, produce_frame(9, batch(st["pid"], 0, 5, [b"x"])))[0], 47,
           "the old epoch after the restart")
    ok("after a restart (state from the snapshot): the replay still answers its original offset, "
       "sequences continue, the old epoch is still fenced")


def main():
    mode = sys.argv[1]
    if mode == "topics":
        topics(sys.argv[3:])
    elif mode == "count":
        count(sys.argv[3], int(sys.argv[4]))
    elif mode == "replay":
        replay()
    elif mode == "after-restart":
        after_restart()
    return 0


if __name__ == "__main__":
    sys.exit(main())
