#!/usr/bin/python3
"""Consumer groups with stock clients against a running sluiced.

  test_groups_clients.py group PORT      kafka-python members join, leave, die
  test_groups_clients.py kcat PORT       kcat -G consumes, stops, resumes
  test_groups_clients.py offsets PORT    print the committed offsets (JSON)
  test_groups_clients.py member PORT NAME LOG   (internal: one group member)

The group check runs each member in a process of its own so that one can be
SIGKILLed.  A member writes JSON lines to LOG: its assignment at each
generation and every record it returns, with the generation it was read in.
From those the driver checks that the partitions were split, handed on when
a member joined, left and died, that nothing produced went unread, and that
no record was read by two members of the same generation.
"""
import json
import os
import signal
import subprocess
import sys
import threading
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.consumer.subscription_state import ConsumerRebalanceListener

PORT = int(sys.argv[2])
BOOT = "127.0.0.1:%d" % PORT
TOPIC = "grp-t4"
GROUP = "grp-g1"
KCAT_TOPIC = "grp-kcat"
KCAT_GROUP = "grp-kg"
SESSION_MS = 6000


def ok(msg):
    print("ok - " + msg, flush=True)


MEMBERS = []                                          # processes to kill on failure


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr, flush=True)
    for m in MEMBERS:
        m.proc.kill()
    sys.exit(1)


def wait(what, cond, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = cond()
        if got:
            return got
        time.sleep(0.1)
    fail("timed out after %d s waiting for %s" % (timeout, what))


# ---- one member (runs in a process of its own) ------------------------------

def member(name, path):
    out = open(path, "a", buffering=1)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    consumer = KafkaConsumer(bootstrap_servers=BOOT, group_id=GROUP, client_id=name,
                             enable_auto_commit=False, auto_offset_reset="earliest",
                             session_timeout_ms=SESSION_MS, heartbeat_interval_ms=500,
                             request_timeout_ms=30000, max_poll_records=50)

    def generation():
        return consumer._coordinator._generation.generation_id

    class Listener(ConsumerRebalanceListener):
        def on_partitions_revoked(self, revoked):
            out.write(json.dumps({"ev": "revoked", "t": round(time.time(), 2)}) + "\n")

        def on_partitions_assigned(self, assigned):
            out.write(json.dumps({"ev": "assigned", "gen": generation(), "t": round(time.time(), 2),
                                  "parts": sorted(tp.partition for tp in assigned)}) + "\n")

    consumer.subscribe([TOPIC], listener=Listener())
    while not stop.is_set():
        polled = consumer.poll(timeout_ms=200)
        gen = generation()
        for tp, recs in polled.items():
            for rec in recs:
                out.write(json.dumps({"ev": "rec", "gen": gen, "t": round(time.time(), 2), "p": tp.partition,
                                      "o": rec.offset, "v": rec.value.decode()}) + "\n")
        if polled:
            try:
                consumer.commit()
            except Exception as e:                # a rebalance under way: read again
                out.write(json.dumps({"ev": "commit-failed", "err": str(e)}) + "\n")
    consumer.close(autocommit=False)                  # LeaveGroup
    out.write(json.dumps({"ev": "closed"}) + "\n")
    return 0


# ---- the driver --------------------------------------------------------------

class Member:
    def __init__(self, name, workdir):
        self.name = name
        self.path = os.path.join(workdir, name + ".jsonl")
        self.proc = subprocess.Popen([sys.executable, __file__, "member", str(PORT), name,
                                      self.path])
        MEMBERS.append(self)

    def events(self):
        try:
            with open(self.path) as f:
                lines = f.read().split("\n")
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in lines if line]      # a torn last line is skipped

    def assignment(self):
        """(generation, partitions) of its latest assignment, or None."""
        last = None
        for e in self.events():
            if e["ev"] == "assigned":
                last = (e["gen"], tuple(e["parts"]))
            elif e["ev"] == "revoked":
                last = None
        return last


def split_among(members, n_parts=4):
    """The generation at which @members alone hold all partitions, disjointly."""
    got = [m.assignment() for m in members]
    if any(a is None for a in got) or len({a[0] for a in got}) != 1:
        return None
    parts = [p for a in got for p in a[1]]
    if sorted(parts) != list(range(n_parts)) or any(not a[1] for a in got):
        return None
    return got[0][0]


class Producer(threading.Thread):
    """Keeps producing to every partition while the group changes."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.sent = set()
        self.error = None

    def run(self):
        prod = KafkaProducer(bootstrap_servers=BOOT, acks=1, linger_ms=5)
        i = 0
        try:
            while not self.stop.is_set():
                futs = []
                for p in range(4):
                    v = "p%d-%d" % (p, i)
                    futs.append(prod.send(TOPIC, value=v.encode(), partition=p))
                    self.sent.add(v)
                for f in futs:
                    f.get(timeout=30)
                i += 1
                time.sleep(0.01)
        except Exception as e:
            self.error = e
        prod.close()


def check_group(workdir):
    admin = KafkaAdminClient(bootstrap_servers=BOOT, request_timeout_ms=20000)
    admin.create_topics([NewTopic(TOPIC, 4, 1)])
    admin.close()
    prod = Producer()
    prod.start()

    a, b = Member("a", workdir), Member("b", workdir)
    gen_ab = wait("a and b to split 4 partitions", lambda: split_among([a, b]), 60)
    ok("two members split the 4 partitions at generation %d: a %s, b %s"
       % (gen_ab, a.assignment()[1], b.assignment()[1]))

    c = Member("c", workdir)
    gen_abc = wait("a third member to get partitions", lambda: split_among([a, b, c]), 60)
    if gen_abc <= gen_ab:
        fail("no new generation when c joined")
    ok("c joining rebalanced to generation %d: a %s, b %s, c %s"
       % (gen_abc, a.assignment()[1], b.assignment()[1], c.assignment()[1]))

    c.proc.send_signal(signal.SIGTERM)                # close(): LeaveGroup
    c.proc.wait(60)
    t0 = time.monotonic()
    gen_left = wait("a and b to take c's partitions", lambda: split_among([a, b]), 60)
    took = time.monotonic() - t0
    if gen_left <= gen_abc:
        fail("no new generation after c left")
    ok("c left; generation %d gives its partitions to a and b in %.1f s" % (gen_left, took))

    time.sleep(1)                                     # b reads a little in this generation
    b.proc.kill()                                     # no LeaveGroup: its session expires
    b.proc.wait(10)
    t0 = time.monotonic()
    gen_dead = wait("a to take the killed member's partitions", lambda: split_among([a]),
                    SESSION_MS / 1000 + 30)
    took = time.monotonic() - t0
    if gen_dead <= gen_left:
        fail("no new generation after b was killed")
    # heartbeats of the dead member stopped up to one interval before the kill
    if took < SESSION_MS / 1000 - 1.5:
        fail("b's partitions were handed on after %.1f s, before its session timeout" % took)
    ok("b killed; after its session timeout (%.1f s) generation %d gives a all partitions"
       % (took, gen_dead))

    prod.stop.set()
    prod.join(60)
    if prod.error:
        fail("producer: %r" % prod.error)
    sent = prod.sent
    wait("a to read everything produced",
         lambda: sent <= {e["v"] for m in (a, b, c) for e in m.events() if e["ev"] == "rec"}, 60)
    a.proc.send_signal(signal.SIGTERM)
    a.proc.wait(60)

    seen = {}                                         # (gen, partition, offset) -> member
    for m in (a, b, c):
        for e in m.events():
            if e["ev"] != "rec":
                continue
            key = (e["gen"], e["p"], e["o"])
            if key in seen and seen[key] != m.name:
                fail("record %d/%d read by %s and %s in generation %d"
                     % (e["p"], e["o"], seen[key], m.name, e["gen"]))
            seen[key] = m.name
    ok("%d records produced, all read; none read by two members of one generation "
       "(%d reads over generations %d..%d)" % (len(sent), len(seen), gen_ab, gen_dead))

    ends = KafkaConsumer(bootstrap_servers=BOOT).end_offsets(
        [TopicPartition(TOPIC, p) for p in range(4)])
    committed = committed_offsets(GROUP)
    want = {"%s/%d" % (TOPIC, tp.partition): off for tp, off in ends.items()}
    if committed != want:
        fail("committed %r, log end %r" % (committed, want))
    ok("the group's commits reach the log end of every partition")


def committed_offsets(group):
    admin = KafkaAdminClient(bootstrap_servers=BOOT, request_timeout_ms=20000)
    got = admin.list_consumer_group_offsets(group)
    admin.close()
    return {"%s/%d" % (tp.topic, tp.partition): om.offset for tp, om in got.items()}


def kcat_group(n_expected):
    args = ["kcat", "-b", BOOT, "-G", KCAT_GROUP, KCAT_TOPIC, "-e", "-q", "-f", "%p %o\n",
            "-X", "auto.offset.reset=earliest", "-X", "session.timeout.ms=6000"]
    out = subprocess.run(args, capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        fail("kcat -G: rc %d: %s" % (out.returncode, out.stderr))
    lines = out.stdout.split()
    if len(lines) // 2 != n_expected:
        fail("kcat -G read %d records, expected %d" % (len(lines) // 2, n_expected))
    return out.stdout


def check_kcat():
    admin = KafkaAdminClient(bootstrap_servers=BOOT, request_timeout_ms=20000)
    admin.create_topics([NewTopic(KCAT_TOPIC, 4, 1)])
    admin.close()
    prod = KafkaProducer(bootstrap_servers=BOOT, acks=1)

    def produce(n, tag):
        for i in range(n):
            prod.send(KCAT_TOPIC, value=b"%s-%d" % (tag, i), partition=i % 4)
        prod.flush(30)

    produce(2000, b"first")
    kcat_group(2000)
    ok("kcat -G read all 2000 records and stopped")
    got = committed_offsets(KCAT_GROUP)
    if got != {"%s/%d" % (KCAT_TOPIC, p): 500 for p in range(4)}:
        fail("kcat -G committed %r" % got)
    ok("kcat -G committed 500 on each partition")
    produce(400, b"second")
    kcat_group(400)
    ok("a new kcat -G in the same group resumed: read only the 400 new records")
    kcat_group(0)
    ok("and a third read none")
    prod.close()


def main():
    mode = sys.argv[1]
    if mode == "member":
        return member(sys.argv[3], sys.argv[4])
    if mode == "group":
        check_group(sys.argv[3])
    elif mode == "kcat":
        check_kcat()
    elif mode == "offsets":
        print(json.dumps({g: committed_offsets(g) for g in (GROUP, KCAT_GROUP)}, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
