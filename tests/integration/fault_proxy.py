#!/usr/bin/python3
"""A Kafka TCP proxy that loses produce requests and responses on purpose.

  fault_proxy.py LISTEN_PORT TARGET_PORT SEED P_REQUEST P_RESPONSE STATS_FILE

Every client connection gets its own connection to 127.0.0.1:TARGET_PORT.
Frames from the client are read whole; for each Produce request (api key 0)
the proxy draws, with a seeded random generator:
  - with probability P_REQUEST: the request is lost - not forwarded, and both
    connections are closed (the client sees a broken connection);
  - with probability P_RESPONSE: the request is forwarded and the broker's
    response is lost - both connections are closed when it arrives;
  - otherwise both pass.
Other requests always pass.  Responses come back in request order on a
connection, so the fates are a FIFO per connection.  On SIGTERM the counts
are written to STATS_FILE as "requests_lost N responses_lost N produces N".
"""
import os
import random
import signal
import socket
import struct
import sys
import threading
from collections import deque

LISTEN, TARGET = int(sys.argv[1]), int(sys.argv[2])
RNG = random.Random(int(sys.argv[3]))
P_REQ, P_RESP = float(sys.argv[4]), float(sys.argv[5])
STATS = sys.argv[6]
lock = threading.Lock()
stats = {"requests_lost": 0, "responses_lost": 0, "produces": 0}


def read_frame(s):
    head = b""
    while len(head) < 4:
        got = s.recv(4 - len(head))
        if not got:
            return None
        head += got
    size = struct.unpack(">i", head)[0]
    if size < 0 or size > 200 << 20:
        return None
    body = bytearray()
    while len(body) < size:
        got = s.recv(min(size - len(body), 1 << 20))
        if not got:
            return None
        body += got
    return head + bytes(body)


def close(*socks):
    for s in socks:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()


class Link:
    def __init__(self, client):
        self.client = client
        self.broker = socket.create_connection(("127.0.0.1", TARGET))
        self.fates = deque()         # per request in flight: True = lose its response
        self.cv = threading.Condition()
        self.dead = False

    def kill(self):
        with self.cv:
            self.dead = True
            self.cv.notify_all()
        close(self.client, self.broker)

    def upstream(self):
        try:
            while True:
                frame = read_frame(self.client)
                if frame is None:
                    break
                api_key = struct.unpack(">h", frame[4:6])[0]
                lose_req = lose_resp = False
                if api_key == 0:
                    with lock:
                        stats["produces"] += 1
                        r = RNG.random()
                        lose_req = r < P_REQ
                        lose_resp = not lose_req and r < P_REQ + P_RESP
                        if lose_req:
                            stats["requests_lost"] += 1
                if lose_req:
                    break
                with self.cv:
                    self.fates.append(lose_resp)
                    self.cv.notify_all()
                self.broker.sendall(frame)
        except OSError:
            pass
        self.kill()

    def downstream(self):
        try:
            while True:
                frame = read_frame(self.broker)
                if frame is None:
                    break
                with self.cv:
                    while not self.fates and not self.dead:
                        self.cv.wait()
                    if self.dead:
                        break
                    lose = self.fates.popleft()
                if lose:
                    with lock:
                        stats["responses_lost"] += 1
                    break
                self.client.sendall(frame)
        except OSError:
            pass
        self.kill()


def serve(client):
    try:
        link = Link(client)
    except OSError:
        close(client)
        return
    threading.Thread(target=link.upstream, daemon=True).start()
    threading.Thread(target=link.downstream, daemon=True).start()


def dump(*_):
    with open(STATS, "w") as f:
        f.write(" ".join("%s %d" % kv for kv in stats.items()) + "\n")
    # os._exit, not sys.exit: the interpreter's shutdown can hang on the relay threads
    # still blocked in recv/sendall (seen once: the test waited for ever)
    os._exit(0)


def main():
    signal.signal(signal.SIGTERM, dump)
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", LISTEN))
    srv.listen(64)
    while True:
        client, _ = srv.accept()
        serve(client)


if __name__ == "__main__":
    main()
