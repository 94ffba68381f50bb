#!/usr/bin/python3
"""Consumer group views of a running sluiced (port in argv[1], the sluice CLI in argv[2],
the metrics port in argv[3]).

A kafka-python consumer in group g1 (in a thread of its own: KafkaConsumer is
not thread-safe) reads everything of a 4-partition topic, commits, and stays
in the group while the checks run; then it leaves.  Each view is checked
against the admin client, `sluice groups` and GET /metrics.
"""
import socket
import subprocess
import sys
import threading
import time
import urllib.request

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic

PORT = int(sys.argv[1])
SLUICE = sys.argv[2]
METRICS = "http://127.0.0.1:%s/metrics" % sys.argv[3]
BOOT = "127.0.0.1:%d" % PORT
TOPIC = "gd"
GROUP = "g1"
CLIENT = "gd-consumer"
N = 400


def ok(msg):
    print("ok - " + msg, flush=True)


class Member(threading.Thread):
    """Consume everything, commit, then keep polling (heartbeats) until told to leave."""

    def __init__(self):
        super().__init__(daemon=True)
        self.committed = threading.Event()
        self.leave = threading.Event()
        self.left = threading.Event()
        self.error = None
        self.member_id = None

    def run(self):
        try:
            c = KafkaConsumer(TOPIC, bootstrap_servers=BOOT, group_id=GROUP, client_id=CLIENT,
                              enable_auto_commit=False, auto_offset_reset="earliest",
                              request_timeout_ms=30000, session_timeout_ms=10000,
                              heartbeat_interval_ms=1000)
            got, deadline = 0, time.time() + 60
            while got < N and time.time() < deadline:
                for recs in c.poll(timeout_ms=500).values():
                    got += len(recs)
            assert got == N, "consumed %d of %d" % (got, N)
            c.commit()
            self.member_id = c._coordinator._generation.member_id
            self.committed.set()
            while not self.leave.is_set():
                c.poll(timeout_ms=200)          # the 10 more are read, never committed
            c.close()                           # LeaveGroup
        except Exception as e:                  # reported by the main thread
            self.error = e
        finally:
            self.committed.set()
            self.left.set()


def sluice_groups(*args, show=False):
    out = subprocess.run([SLUICE, "groups", "-b", BOOT] + list(args), capture_output=True,
                         text=True, timeout=60)
    if show:
        print("".join("# " + line + "\n" for line in out.stdout.splitlines()), end="")
    return out


def offset_rows(out):
    """TOPIC PARTITION CURRENT LOG-END LAG CONSUMER-ID rows of TOPIC, by partition."""
    rows = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) == 6 and f[0] == TOPIC:
            rows[int(f[1])] = f[2:]
    return rows


def check_rows(out, ends, committed, consumer):
    rows = offset_rows(out)
    assert sorted(rows) == [0, 1, 2, 3], out
    for p, (cur, end, lag, cid) in rows.items():
        assert (int(cur), int(end), int(lag), cid) == \
            (committed[p], ends[p], ends[p] - committed[p], consumer), (p, out)


STATES = ("Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead")


def scrape():
    """GET /metrics as {series: value}, series being name{labels} as printed."""
    with urllib.request.urlopen(METRICS, timeout=20) as r:
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers
        text = r.read().decode()
    series = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            series[name] = value
    return series


def check_metrics(state, members, ends, committed):
    """g1, the only group, in @state with @members; committed offsets and lag of the 4 partitions."""
    m = scrape()
    g = 'group="%s"' % GROUP
    want = {'sluice_groups{state="%s"}' % s: str(int(s == state)) for s in STATES}
    want["sluice_group_members{%s}" % g] = str(members)
    want.update({'sluice_group_state{%s,state="%s"}' % (g, s): str(int(s == state))
                 for s in STATES})
    for p in range(4):
        labels = '{%s,topic="%s",partition="%d"}' % (g, TOPIC, p)
        want["sluice_group_committed_offset" + labels] = str(committed[p])
        want["sluice_group_lag" + labels] = str(ends[p] - committed[p])
    want['sluice_group_lag_sum{%s,topic="%s"}' % (g, TOPIC)] = str(sum(ends) - sum(committed))
    got = {k: m.get(k) for k in want}
    assert got == want, "\n".join("%s: %s, want %s" % (k, got[k], v)
                                   for k, v in want.items() if got[k] != v)
    assert int(m["sluice_group_commits_total"]) >= 4, m["sluice_group_commits_total"]
    assert int(m["sluice_group_rebalances_total"]) >= 1, m["sluice_group_rebalances_total"]
    assert m["sluice_group_offsets_omitted"] == "0", m["sluice_group_offsets_omitted"]
    return m


def produce(prod, n, partition=None, prefix="key"):
    counts = {}
    futs = [prod.send(TOPIC, key=b"%s-%d" % (prefix.encode(), i), value=b"v%d" % i,
                      partition=partition) for i in range(n)]
    prod.flush()
    for f in futs:
        md = f.get(timeout=30)
        counts[md.partition] = counts.get(md.partition, 0) + 1
    return counts


def describe(admin):
    (g,) = admin.describe_consumer_groups([GROUP])
    assert g.error_code == 0 and g.group == GROUP, g
    return g


def main():
    admin = KafkaAdminClient(bootstrap_servers=BOOT, request_timeout_ms=20000)
    resp = admin.create_topics([NewTopic(TOPIC, 4, 1)])
    assert [e[1] for e in resp.topic_errors] == [0], resp
    prod = KafkaProducer(bootstrap_servers=BOOT, acks="all")
    counts = produce(prod, N)
    assert sorted(counts) == [0, 1, 2, 3] and sum(counts.values()) == N, counts
    ends = [counts[p] for p in range(4)]
    ok("produced %d keyed records over 4 partitions %s" % (N, ends))

    m = Member()
    m.start()
    assert m.committed.wait(90) and not m.error, m.error
    ok("g1's consumer read all %d and committed" % N)

    groups = admin.list_consumer_groups()
    assert (GROUP, "consumer") in [tuple(g) for g in groups], groups
    ok("ListGroups: g1 with protocol type consumer")

    g = describe(admin)
    assert g.state == "Stable" and g.protocol_type == "consumer" and g.protocol, g
    assert len(g.members) == 1, g.members
    (mem,) = g.members
    assert mem.member_id == m.member_id and mem.client_id == CLIENT, mem
    assert mem.client_host == "/127.0.0.1", mem
    assert [t for t, _ in mem.member_assignment.assignment] == [TOPIC], mem.member_assignment
    assert sorted(mem.member_assignment.assignment[0][1]) == [0, 1, 2, 3], mem.member_assignment
    assert TOPIC in mem.member_metadata.subscription, mem.member_metadata
    ok("DescribeGroups: Stable, protocol %s, one member %s with all 4 partitions" %
       (g.protocol, CLIENT))

    out = sluice_groups(GROUP)
    assert out.returncode == 0, out.stderr
    assert "GROUP g1: state Stable, protocol consumer/%s, 1 member" % g.protocol in out.stdout, \
        out.stdout
    assert m.member_id in out.stdout and CLIENT in out.stdout, out.stdout
    check_rows(out.stdout, ends, ends, m.member_id)
    ok("sluice groups g1: 4 partitions, lag 0, the member as consumer")
    series = check_metrics("Stable", 1, ends, ends)
    ok("metrics: 1 Stable group, g1 with 1 member in generation %s, committed %s, lag 0" %
       (series['sluice_group_generation{group="%s"}' % GROUP], ends))

    produce(prod, 10, partition=2, prefix="more")
    ends2 = list(ends)
    ends2[2] += 10
    out = sluice_groups(GROUP, show=True)
    assert out.returncode == 0, out.stderr
    check_rows(out.stdout, ends2, ends, m.member_id)
    ok("10 more records on partition 2: lag 10 there, 0 elsewhere")
    check_metrics("Stable", 1, ends2, ends)
    ok("metrics: lag 10 on partition 2, lag_sum 10")

    m.leave.set()
    assert m.left.wait(30) and not m.error, m.error
    deadline = time.time() + 15
    while True:
        g = describe(admin)
        if g.state == "Empty" or time.time() > deadline:
            break
        time.sleep(0.2)
    assert g.state == "Empty" and g.members == [] and g.protocol_type == "consumer", g
    ok("after the leave: Empty, no members")

    out = sluice_groups(GROUP, show=True)
    assert out.returncode == 0, out.stderr
    assert "GROUP g1: state Empty, protocol consumer, 0 members" in out.stdout, out.stdout
    check_rows(out.stdout, ends2, ends, "-")
    ok("sluice groups g1 (Empty): the committed offsets and their lag")
    check_metrics("Empty", 0, ends2, ends)
    ok("metrics: 1 Empty group, 0 members, the committed offsets and their lag")

    out = sluice_groups()
    assert out.returncode == 0 and "GROUP g1: state Empty" in out.stdout, (out.stdout, out.stderr)
    out = sluice_groups("nosuch")
    assert out.returncode == 1 and "'nosuch' does not exist" in out.stderr, (out.stdout, out.stderr)
    ok("sluice groups: every group without an argument; an unknown group exits 1")

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    closed = s.getsockname()[1]
    s.close()
    t0 = time.time()
    out = subprocess.run([SLUICE, "groups", "-b", "127.0.0.1:%d" % closed], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 1 and "cannot reach the broker" in out.stderr, (out.stdout, out.stderr)
    ok("sluice groups on a closed port: an error and exit 1 after %.0f s" % (time.time() - t0))
    out = subprocess.run([SLUICE, "groups", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("Usage: sluice groups"), out
    prod.close()
    admin.close()


if __name__ == "__main__":
    main()
