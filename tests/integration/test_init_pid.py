#!/usr/bin/python3
"""Raw InitProducerId v0/v1 against the real sluiced (test_init_pid.sh).

Usage: test_init_pid.py PORT ABOVE
Every producer id handed out must be > ABOVE, with epoch 0, distinct and
increasing in the order the broker answered them; a transactional_id gets
53 (TRANSACTIONAL_ID_AUTHORIZATION_FAILED) with -1/-1; ApiVersions lists
InitProducerId 0-1; v2 (flexible, not advertised) closes the connection.
Prints the largest id seen.
"""
import socket
import struct
import sys

port, above = int(sys.argv[1]), int(sys.argv[2])
corr = 0


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def connect():
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def request(key, ver, body):
    global corr
    corr += 1
    client = b"init-pid-test"
    hdr = struct.pack(">hhih", key, ver, corr, len(client)) + client
    return corr, struct.pack(">i", len(hdr) + len(body)) + hdr + body


def init_pid_body(tid, timeout_ms):
    if tid is None:
        return struct.pack(">hi", -1, timeout_ms)
    raw = tid.encode()
    return struct.pack(">h", len(raw)) + raw + struct.pack(">i", timeout_ms)


def read_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def response(s, want_corr):
    head = read_exact(s, 4)
    if head is None:
        fail("connection closed instead of an answer")
    (size,) = struct.unpack(">i", head)
    frame = read_exact(s, size)
    (got_corr,) = struct.unpack(">i", frame[:4])
    if got_corr != want_corr:
        fail("correlation id %d, expected %d" % (got_corr, want_corr))
    return frame[4:]


def init_pid_answer(body):
    if len(body) != 16:
        fail("InitProducerId body of %d bytes, expected 16" % len(body))
    return struct.unpack(">ihqh", body)       # throttle, error, producer_id, epoch


def check_api_versions(s):
    c, frame = request(18, 0, b"")
    s.sendall(frame)
    body = response(s, c)
    err, n = struct.unpack(">hi", body[:6])
    ranges = {}
    for i in range(n):
        key, lo, hi = struct.unpack(">hhh", body[6 + 6 * i:12 + 6 * i])
        ranges[key] = (lo, hi)
    if err != 0 or ranges.get(22) != (0, 1):
        fail("ApiVersions: error %d, InitProducerId %s" % (err, ranges.get(22)))


def main():
    ids = []
    conns = [connect() for _ in range(3)]
    check_api_versions(conns[0])
    # One at a time, round robin over the connections and both versions.
    for i in range(30):
        s, ver = conns[i % 3], i % 2
        c, frame = request(22, ver, init_pid_body(None, -1 if i % 3 else 60000))
        s.sendall(frame)
        throttle, err, pid, epoch = init_pid_answer(response(s, c))
        if throttle != 0 or err != 0 or epoch != 0:
            fail("v%d: throttle %d error %d epoch %d" % (ver, throttle, err, epoch))
        ids.append(pid)
    # Pipelined on one connection: answered in order.
    sent = []
    for i in range(10):
        c, frame = request(22, i % 2, init_pid_body(None, -1))
        conns[1].sendall(frame)
        sent.append(c)
    for c in sent:
        throttle, err, pid, epoch = init_pid_answer(response(conns[1], c))
        if err != 0 or epoch != 0:
            fail("pipelined: error %d epoch %d" % (err, epoch))
        ids.append(pid)
    if any(b <= a for a, b in zip(ids, ids[1:])):
        fail("ids not increasing: %s" % ids)
    if ids[0] <= above:
        fail("id %d reused: an earlier run handed out ids up to %d" % (ids[0], above))
    # Transactions are not supported: a fatal error for the client, no id used.
    for ver in (0, 1):
        c, frame = request(22, ver, init_pid_body("txn-" + str(ver), 60000))
        conns[2].sendall(frame)
        answer = init_pid_answer(response(conns[2], c))
        if answer != (0, 53, -1, -1):
            fail("transactional_id v%d: %s, expected (0, 53, -1, -1)" % (ver, answer))
    c, frame = request(22, 0, init_pid_body(None, -1))
    conns[2].sendall(frame)
    pid = init_pid_answer(response(conns[2], c))[2]
    if pid != ids[-1] + 1:
        fail("after the transactional requests: id %d, expected %d" % (pid, ids[-1] + 1))
    ids.append(pid)
    # v2 is flexible and not advertised: the connection closes.
    c, frame = request(22, 2, b"\x00" + struct.pack(">i", -1) + b"\x00")
    conns[0].sendall(frame)
    if read_exact(conns[0], 4) is not None:
        fail("InitProducerId v2 was answered")
    for s in conns:
        s.close()
    print(max(ids))


main()
