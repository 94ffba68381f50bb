#!/usr/bin/python3
"""The clients of the crash campaign (crash_campaign.sh) that are not librdkafka.

  crash_clients.py udp PID PREFIX LOCAL REMOTE PORT
      UDP produce mode with SLA1 acks, exactly-once style: producer id PID,
      sequence numbers, one batch of 20 records "<PREFIX>-<b>-<i>" in flight,
      resent until acked (also across the SIGKILL and restart of sluiced,
      while the tap interface is gone).  Prints "B <pid> <seq> <offset>
      <count> <PREFIX>-<b>" per acked batch, "E <b> <error>" for an ack
      carrying an error other than REQUEST_TIMED_OUT (ring full, resent).
  crash_clients.py tap PREFIX LOCAL REMOTE PORT RATE
      tap-mode datagrams "<PREFIX>-<n>", RATE a second, never resent (no
      acks in tap mode).  Prints "S <n>" (datagrams sent) at the end.
  crash_clients.py consumer BOOT GROUP TOPIC
      kafka-python group member: polls, prints "R <p> <offset> <value>" for
      the last record of each partition it got, commits the next offset
      synchronously and prints "C <p> <offset>" once the commit returned;
      "F <p> <offset>" for the first record it gets from each partition
      (where it resumed).

SIGTERM stops each at its next step (nothing unacknowledged is printed).
Output is line-buffered: the campaign SIGKILLs a client that does not stop
in time, and a torn last line is ignored by crash_check.py.
"""
import os
import signal
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from kbatch import batch  # noqa: E402

PER = 20
SLC = struct.Struct(">IHHi")
SLA = struct.Struct(">IhHiqqiIi")
SLA_MAGIC = 0x534C4131
STOP = []


def on_term(*_):
    STOP.append(1)


def out(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def send(s, dgram, dst):
    """sendto that survives the tap interface being gone during a restart."""
    try:
        s.sendto(dgram, dst)
        return True
    except OSError:
        time.sleep(0.05)
        return False


def wait_ack(s, pid, seq, timeout):
    """The SLA1 ack of (pid, seq), or None after @timeout seconds."""
    deadline = time.monotonic() + timeout
    while not STOP:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        s.settimeout(left)
        try:
            a = SLA.unpack(s.recv(100)[:SLA.size])
        except (socket.timeout, struct.error):
            continue
        except OSError:
            time.sleep(0.05)
            continue
        if a[0] == SLA_MAGIC and a[5] == pid and a[6] == seq:
            return a
    return None


def udp(pid, prefix, local, remote, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind((local, 0))
    dst = (remote, port)
    b = 0
    while not STOP:
        values = [b"%s-%d-%d" % (prefix.encode(), b, i) for i in range(PER)]
        rb = batch(pid, 0, b * PER, values, ts=int(time.time() * 1000))
        dgram = SLC.pack(0x534C4331, 1, 0, -1) + rb
        while not STOP:
            if not send(s, dgram, dst):
                continue
            a = wait_ack(s, pid, b * PER, 0.3)
            if a is None:
                continue                                  # lost, or sluiced is down: resend
            if a[1] == 0:
                out("B %d %d %d %d %s-%d" % (pid, b * PER, a[4], a[8], prefix, b))
                break
            if a[1] != 7:                                 # 7: ring full, resend later
                out("E %d %d" % (b, a[1]))
            time.sleep(0.05)
        b += 1


def tap(prefix, local, remote, port, rate):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((local, 0))
    n, t0 = 0, time.monotonic()
    while not STOP:
        due = int((time.monotonic() - t0) * rate)
        while n < due and not STOP:
            if send(s, b"%s-%d" % (prefix.encode(), n), (remote, port)):
                n += 1
            else:
                due = n                                   # interface gone: skip ahead
                t0 = time.monotonic() - n / rate
        time.sleep(0.005)
    out("S %d" % n)


def consumer(boot, group, topic):
    from kafka import KafkaConsumer
    from kafka.errors import KafkaError
    from kafka.structs import OffsetAndMetadata

    c = KafkaConsumer(bootstrap_servers=boot, group_id=group, client_id="crash-consumer",
                      enable_auto_commit=False, auto_offset_reset="earliest",
                      session_timeout_ms=6000, heartbeat_interval_ms=500,
                      request_timeout_ms=11000, max_poll_records=500,
                      reconnect_backoff_max_ms=500, retry_backoff_ms=50)
    c.subscribe([topic])
    first = set()
    while not STOP:
        try:
            polled = c.poll(timeout_ms=200)
        except KafkaError as e:
            out("# poll: %r" % e)
            time.sleep(0.1)
            continue
        for tp, recs in polled.items():
            if tp.partition not in first:
                first.add(tp.partition)
                out("F %d %d" % (tp.partition, recs[0].offset))
            last = recs[-1]
            out("R %d %d %s" % (tp.partition, last.offset, last.value.decode()))
            try:
                c.commit({tp: OffsetAndMetadata(last.offset + 1, "")})
            except KafkaError as e:                       # a rebalance: not acknowledged
                out("# commit: %r" % e)
                continue
            out("C %d %d" % (tp.partition, last.offset + 1))
    c.close(autocommit=False)                             # LeaveGroup


def main():
    signal.signal(signal.SIGTERM, on_term)
    a = sys.argv
    if a[1] == "udp":
        udp(int(a[2]), a[3], a[4], a[5], int(a[6]))
    elif a[1] == "tap":
        tap(a[2], a[3], a[4], int(a[5]), float(a[6]))
    elif a[1] == "consumer":
        consumer(a[2], a[3], a[4])
    else:
        sys.exit("unknown client " + a[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
