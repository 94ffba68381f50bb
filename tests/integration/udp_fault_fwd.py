#!/usr/bin/python3
"""A lossy, duplicating UDP forwarder between one producer and the appliance.

  udp_fault_fwd.py LISTEN_PORT SRC_ADDR DST_ADDR DST_PORT SEED [LOSS DUP ACK_LOSS]

Datagrams arriving on 127.0.0.1:LISTEN_PORT are sent on from SRC_ADDR to
DST_ADDR:DST_PORT: a fraction LOSS of them is dropped, a fraction DUP is
sent twice.  What comes back (the appliance's SLA1 acks) goes to the last
producer address seen, less a fraction ACK_LOSS.  Seeded, so a run can be
repeated.  Prints "listening" once bound, and its counts on SIGTERM/SIGINT:
  fwd: in N forwarded F lost L duplicated D back B back_lost BL
"""
import random
import select
import signal
import socket
import sys


def main():
    lport, src, dst, dport, seed = (int(sys.argv[1]), sys.argv[2], sys.argv[3],
                                    int(sys.argv[4]), int(sys.argv[5]))
    loss, dup, ack_loss = (float(x) for x in (sys.argv[6:9] or (0.05, 0.05, 0.05)))
    rng = random.Random(seed)
    down = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    down.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    down.bind(("127.0.0.1", lport))
    up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    up.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    up.bind((src, 0))
    up.connect((dst, dport))
    n = {"in": 0, "forwarded": 0, "lost": 0, "duplicated": 0, "back": 0, "back_lost": 0}
    peer = None

    def report(*_):
        print("fwd: " + " ".join("%s %d" % kv for kv in n.items()), flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, report)
    signal.signal(signal.SIGINT, report)
    print("listening", flush=True)
    while True:
        ready, _, _ = select.select([down, up], [], [])
        if down in ready:
            d, peer = down.recvfrom(65535)
            n["in"] += 1
            r = rng.random()
            if r < loss:
                n["lost"] += 1
            else:
                up.send(d)
                n["forwarded"] += 1
                if r >= 1.0 - dup:
                    up.send(d)
                    n["duplicated"] += 1
        if up in ready:
            try:
                d = up.recv(65535)
            except ConnectionRefusedError:
                continue
            if peer is None or rng.random() < ack_loss:
                n["back_lost"] += 1
            else:
                down.sendto(d, peer)
                n["back"] += 1


if __name__ == "__main__":
    main()
