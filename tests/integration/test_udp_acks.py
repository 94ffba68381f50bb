#!/usr/bin/python3
"""UDP produce mode against the real sluiced on a net_tap port.

  test_udp_acks.py SEMANTICS KAFKA_PORT TOPIC N_BATCHES
    SEMANTICS: at-most-once | at-least-once | exactly-once

The sender here plays the producer and, in the same loop, a lossy network
between it and the appliance (seeded): 5 % of the datagrams it sends are
lost, 5 % are sent twice, and 5 % of the SLA1 acks that come back are
ignored (lost on the way back).  Batches of 50 records "m-<n>" go to
10.77.0.2:5001 (the orders topic's produce rule) from 10.77.0.1.

  at-most-once:  producer id + sequence, flag "gaps allowed", no ack, sent once
  at-least-once: ack asked, no producer id, resent until an ack comes
  exactly-once:  ack asked, producer id + sequence, resent until an ack comes

Then the topic is read back with kcat and counted: prints
"sent S lost L duplicated D acks A" and checks the semantics' promise.
"""
import os
import random
import socket
import struct
import subprocess
import sys
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kbatch import batch  # noqa: E402

SEM, KPORT, TOPIC, NB = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
PER = 50
RNG = random.Random({"at-most-once": 1, "at-least-once": 2, "exactly-once": 3}[SEM])
PID = {"at-most-once": 900001, "at-least-once": -1, "exactly-once": 900003}[SEM]
SLA = struct.Struct(">IhHiqqiIi")


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr, flush=True)
    sys.exit(1)


def main():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("10.77.0.1", 0))
    s.connect(("10.77.0.2", 5001))
    acks = resends = 0
    for b in range(NB):
        values = [b"m-%d" % (b * PER + i) for i in range(PER)]
        ack = SEM != "at-most-once"
        flags = (1 if ack else 0) | (2 if SEM == "at-most-once" else 0)
        rb = batch(PID, 0 if PID >= 0 else -1, b * PER if PID >= 0 else -1, values,
                   ts=1_700_000_000_000 + b)
        dgram = struct.pack(">IHHi", 0x534C4331, flags, 0, -1) + rb
        crc = struct.unpack(">I", rb[17:21])[0]
        for attempt in range(200):
            r = RNG.random()
            if r >= 0.05:                                 # 5 % lost on the way
                s.send(dgram)
                if r >= 0.95:                             # 5 % duplicated
                    s.send(dgram)
            if not ack:
                break
            s.settimeout(0.05 if attempt == 0 else 0.1)
            got = None
            try:
                while True:
                    a = SLA.unpack(s.recv(100))
                    if a[0] != 0x534C4131:
                        fail("not an SLA1 ack: %r" % (a,))
                    if a[7] == crc and RNG.random() >= 0.05:   # 5 % of acks lost
                        got = a
                        break
            except socket.timeout:
                pass
            if got:
                if got[1] != 0 or got[4] < 0 or got[8] != PER:
                    fail("ack with error %d offset %d count %d" % (got[1], got[4], got[8]))
                acks += 1
                break
            resends += 1
        else:
            fail("batch %d never acked" % b)
    out = subprocess.run(["kcat", "-C", "-b", "127.0.0.1:%d" % KPORT, "-t", TOPIC, "-o",
                          "beginning", "-e", "-q", "-f", "%s\n"], capture_output=True, text=True,
                         timeout=120)
    seen = Counter(v for v in out.stdout.split() if v.startswith("m-"))
    n = NB * PER
    lost = sum(1 for i in range(n) if seen["m-%d" % i] == 0)
    dup = sum(c - 1 for c in seen.values() if c > 1)
    print("%s: sent %d records, lost %d, duplicated %d, acks %d, resends %d"
          % (SEM, n, lost, dup, acks, resends), flush=True)
    if SEM == "at-most-once" and not (lost > 0 and dup == 0):
        fail("at-most-once must lose and never duplicate")
    if SEM == "at-least-once" and not (lost == 0 and dup > 0):
        fail("at-least-once must never lose and (with lost acks) duplicate")
    if SEM == "exactly-once" and not (lost == 0 and dup == 0):
        fail("exactly-once must neither lose nor duplicate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
