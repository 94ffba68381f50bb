#!/usr/bin/python3
"""The checks of the crash campaign after each SIGKILL and restart.

  crash_check.py PORT WORKDIR TCP_TOPIC UDP_TOPIC TAP_TOPIC GROUP

Reads every topic back with kcat ("%p %o %s") and every client log of every
round so far (WORKDIR/r*/{tcp,udp,tap,cons}.log, see crash_producer.c and
crash_clients.py), then checks, over the whole history:

  offsets    every partition of the three topics holds offsets 0, 1, 2, ...
             with no gap and no repeat (no retention runs in the campaign)
  tcp        every message librdkafka acknowledged (acks=all) is at the
             partition and offset of its delivery report, with its value
  udp        every batch acknowledged by an SLA1 ack is at the ack's offset,
             all its records in order; no ack carried an error
  dups       no value is stored twice in any topic: the TCP producer is
             idempotent, the UDP sender uses a producer id and sequences,
             tap datagrams are sent once
  reads      every record a consumer was given (visibility: durable) is still
             there at its offset, with its value
  commits    OffsetFetch returns for each partition at least the highest
             offset a commit of it was acknowledged with, and no more than
             the log end (a commit past the end would mean lost records)
  resume     a consumer assigned at the committed offset gets that record
             first (where the partition has one), and each round's group
             member started reading every partition exactly at the offset
             OffsetFetch returned after the previous round's restart (saved
             in that round's directory as "committed"; 0 before any commit)

Prints one summary line of counts; exit 1 with the first problems listed.
"""
import glob
import os
import subprocess
import sys
from collections import Counter, defaultdict

PORT, WORK, TTOPIC, UTOPIC, PTOPIC, GROUP = sys.argv[1:7]
BOOT = "127.0.0.1:%s" % PORT
PROBLEMS = []


def problem(msg):
    PROBLEMS.append(msg)


def rounds():
    return sorted(glob.glob(os.path.join(WORK, "r*")))


def round_lines(path):
    """Complete lines of one client log, split into fields."""
    try:
        with open(path, errors="replace") as f:
            data = f.read()
    except FileNotFoundError:
        return
    for line in data.split("\n")[:-1]:                   # a torn last line has no "\n"
        if line and not line.startswith("#"):
            yield line.split()


def lines(kind):
    """Complete lines of every round's @kind log, split into fields."""
    for r in rounds():
        path = os.path.join(r, kind + ".log")
        for f in round_lines(path):
            yield path, f


def read_topic(topic):
    """{partition: [(offset, value)]} as kcat reads it, from the beginning."""
    p = subprocess.run(["kcat", "-C", "-b", BOOT, "-t", topic, "-o", "beginning", "-e", "-q",
                        "-f", "%p %o %s\\n"], capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        problem("kcat %s: rc %d: %s" % (topic, p.returncode, p.stderr.strip()[-300:]))
    parts = defaultdict(list)
    for line in p.stdout.split("\n"):
        f = line.split(" ", 2)
        if len(f) == 3:
            parts[int(f[0])].append((int(f[1]), f[2]))
    return parts


def check_offsets(topic, parts):
    """Offsets dense from 0, no repeat; values stored twice.  @return {(p, o): value}."""
    at = {}
    values = Counter()
    for p, recs in parts.items():
        offs = [o for o, _ in recs]
        if offs != list(range(len(offs))):
            rep = len(offs) - len(set(offs))
            gap = next((i for i, o in enumerate(offs) if o != i), None)
            problem("%s/%d: offsets not 0..%d: %d repeated, first mismatch at index %s (offset %s)"
                    % (topic, p, len(offs) - 1, rep, gap, offs[gap] if gap is not None else "-"))
        for o, v in recs:
            at[(p, o)] = v
            values[v] += 1
    dups = {v: c for v, c in values.items() if c > 1}
    if dups:
        problem("%s: %d values stored more than once, e.g. %s"
                % (topic, len(dups), sorted(dups.items())[:5]))
    return at, sum(c - 1 for c in dups.values())


def check_tcp(at):
    n = 0
    for path, f in lines("tcp"):
        if f[0] == "X":
            problem("%s: fatal producer error: %s" % (path, " ".join(f[1:])))
        if f[0] != "A" or len(f) != 4:
            continue
        n += 1
        got = at.get((int(f[2]), int(f[3])))
        if got != f[1]:
            problem("tcp: acked %s at %s/%s, found %r" % (f[1], f[2], f[3], got))
    return n


def check_udp(at):
    nb = nr = 0
    for path, f in lines("udp"):
        if f[0] == "E":
            problem("%s: batch %s acked with error %s" % (path, f[1], f[2]))
        if f[0] != "B" or len(f) != 6:
            continue
        nb += 1
        off, cnt, name = int(f[3]), int(f[4]), f[5]
        for i in range(cnt):
            nr += 1
            got = at.get((0, off + i))
            if got != "%s-%d" % (name, i):
                problem("udp: acked %s-%d at 0/%d, found %r" % (name, i, off + i, got))
    return nb, nr


def check_reads(at):
    n = 0
    for path, f in lines("cons"):
        if f[0] == "R" and len(f) == 4:
            n += 1
            got = at.get((int(f[1]), int(f[2])))
            if got != f[3]:
                problem("consumer read %s at %s/%s, now %r" % (f[3], f[1], f[2], got))
    return n


def check_commits(parts):
    from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

    acked = {}
    n = 0
    for _, f in lines("cons"):
        if f[0] == "C" and len(f) == 3:
            n += 1
            p, o = int(f[1]), int(f[2])
            acked[p] = max(acked.get(p, 0), o)
    admin = KafkaAdminClient(bootstrap_servers=BOOT, request_timeout_ms=20000)
    got = {tp.partition: om.offset for tp, om in admin.list_consumer_group_offsets(GROUP).items()
           if tp.topic == TTOPIC}
    admin.close()
    for p, o in sorted(acked.items()):
        end = len(parts.get(p, []))
        if got.get(p, -1) < o:
            problem("commit: %s/%d committed %s after restart, %d was acknowledged"
                    % (TTOPIC, p, got.get(p), o))
        elif got[p] > end:
            problem("commit: %s/%d committed %d beyond the log end %d" % (TTOPIC, p, got[p], end))
    with open(os.path.join(rounds()[-1], "committed"), "w") as f:
        f.write("".join("%d %d\n" % po for po in sorted(got.items())))
    resumed = check_first_reads()
    c = KafkaConsumer(bootstrap_servers=BOOT, group_id=None, enable_auto_commit=False,
                      consumer_timeout_ms=10000)
    for p, o in sorted(got.items()):
        if o >= len(parts.get(p, [])):
            continue
        tp = TopicPartition(TTOPIC, p)
        c.assign([tp])
        c.seek(tp, o)
        first = next(iter(c), None)
        if first is None or first.offset != o:
            problem("resume: %s/%d from committed %d gave %s"
                    % (TTOPIC, p, o, first and first.offset))
        resumed += 1
    c.close()
    return n, len(acked), resumed


def check_first_reads():
    """Each round's member resumed where the previous round's check found the commits."""
    n = 0
    prev = {}
    for r in rounds():
        for f in round_lines(os.path.join(r, "cons.log")):
            if f[0] == "F" and len(f) == 3:
                n += 1
                p, o = int(f[1]), int(f[2])
                if o != prev.get(p, 0):
                    problem("resume: %s: the member's first record of %s/%d is %d, committed was %d"
                            % (r, TTOPIC, p, o, prev.get(p, 0)))
        prev = {int(f[0]): int(f[1]) for f in round_lines(os.path.join(r, "committed"))}
    return n


def main():
    tparts, uparts, pparts = read_topic(TTOPIC), read_topic(UTOPIC), read_topic(PTOPIC)
    tat, tdup = check_offsets(TTOPIC, tparts)
    uat, udup = check_offsets(UTOPIC, uparts)
    _, pdup = check_offsets(PTOPIC, pparts)
    tcp = check_tcp(tat)
    ub, ur = check_udp(uat)
    reads = check_reads(tat)
    commits, cparts, resumed = check_commits(tparts)
    tap_sent = sum(int(f[1]) for _, f in lines("tap") if f[0] == "S" and len(f) == 2)
    print("stored tcp %d udp %d tap %d; acked tcp %d, udp %d batches (%d records); "
          "tap sent %d; consumer reads %d; commits %d over %d partitions; resumes checked %d; "
          "duplicates %d; problems %d"
          % (sum(map(len, tparts.values())), sum(map(len, uparts.values())),
             sum(map(len, pparts.values())), tcp, ub, ur, tap_sent, reads, commits, cparts,
             resumed, tdup + udup + pdup, len(PROBLEMS)), flush=True)
    for m in PROBLEMS[:30]:
        print("PROBLEM: " + m, flush=True)
    return 1 if PROBLEMS else 0


if __name__ == "__main__":
    sys.exit(main())
