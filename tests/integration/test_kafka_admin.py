#!/usr/bin/python3
"""Drive a running sluiced (port in argv[1]) with kcat and kafka-python.

The daemon runs with auto.create.topics.enable=false, max.connections=520 and
connections.max.idle.ms=3000 (see test_kafka_admin.sh).
"""
import os
import random
import socket
import struct
import subprocess
import sys
import threading
import time

from kafka import KafkaClient
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewTopic
from kafka.protocol.metadata import MetadataRequest

PORT = int(sys.argv[1])
BOOT = "127.0.0.1:%d" % PORT
TOPIC = "adm-t1"


def ok(msg):
    print("ok - " + msg, flush=True)


def kcat_list(topic=None):
    args = ["kcat", "-L", "-b", BOOT, "-m", "10"]
    if topic:
        args += ["-t", topic]
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


def check_kcat_lists_broker_and_topics():
    out = kcat_list()
    assert out.returncode == 0, out.stderr
    assert "broker 0 at 127.0.0.1:%d" % PORT in out.stdout, out.stdout
    for t in ("telemetry", "orders"):
        assert 'topic "%s" with 1 partitions' % t in out.stdout, out.stdout
    ok("kcat -L lists the broker and the configuration's topics")


def check_admin_lifecycle():
    admin = KafkaAdminClient(bootstrap_servers=BOOT, request_timeout_ms=20000)
    resp = admin.create_topics([NewTopic(TOPIC, 3, 1, topic_configs={"retention.ms": "3600000"})])
    assert [e[1] for e in resp.topic_errors] == [0], resp
    assert TOPIC in admin.list_topics()
    described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, TOPIC)])
    entries = {e[0]: e[1] for e in described[0].resources[0][4]}
    assert entries["retention.ms"] == "3600000", entries
    assert entries["cleanup.policy"] == "delete", entries
    out = kcat_list(TOPIC)
    assert 'topic "%s" with 3 partitions' % TOPIC in out.stdout, out.stdout
    ok("admin: created %s with 3 partitions, described retention.ms, listed" % TOPIC)
    resp = admin.delete_topics([TOPIC])
    assert [e[1] for e in resp.topic_error_codes] == [0], resp
    assert TOPIC not in admin.list_topics()
    admin.close()
    ok("admin: deleted %s, gone from the list" % TOPIC)


def check_unknown_topic_no_autocreate():
    client = KafkaClient(bootstrap_servers=BOOT, request_timeout_ms=20000)
    node = None
    deadline = time.time() + 20
    while time.time() < deadline:
        node = client.least_loaded_node()
        if node is not None and client.ready(node):
            break
        client.poll(timeout_ms=100)
    fut = client.send(node, MetadataRequest[1](topics=["no-such-topic"]))
    client.poll(future=fut)
    assert fut.succeeded(), fut.exception
    topics = fut.value.topics
    assert topics[0][0] == 3 and topics[0][1] == "no-such-topic", topics
    client.close()
    out = kcat_list("no-such-topic")
    assert "Unknown topic or partition" in out.stdout + out.stderr, out.stdout + out.stderr
    assert "no-such-topic" not in kcat_list().stdout
    ok("unknown topic with auto-create off: error 3 (kafka-python and kcat), not created")


def connect():
    s = socket.create_connection(("127.0.0.1", PORT), timeout=20)
    return s


def closed_by_server(s, timeout=20):
    """True once the server closed @s (EOF or reset) within @timeout seconds."""
    s.settimeout(timeout)
    try:
        while True:
            data = s.recv(65536)
            if not data:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def api_versions_frame(corr):
    body = struct.pack(">hhih", 18, 0, corr, 4) + b"test"
    return struct.pack(">i", len(body)) + body


def answered(s, corr):
    """Send ApiVersions v0; True if answered, False if the connection was closed."""
    try:
        s.sendall(api_versions_frame(corr))
        s.settimeout(20)
        head = s.recv(8)
    except (ConnectionResetError, BrokenPipeError):
        return False
    return len(head) == 8 and struct.unpack(">i", head[4:8])[0] == corr


class KcatLoop(threading.Thread):
    """kcat -L over and over while the broker is being abused.

    Paused (pause/resume) while the test holds more connections than
    max.connections on purpose: a new connection is then refused by design,
    kcat's as much as any other."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.running = threading.Event()
        self.running.set()
        self.idle = threading.Event()
        self.runs = 0
        self.failures = []

    def pause(self):
        self.running.clear()
        self.idle.wait(120)

    def resume(self):
        self.running.set()

    def run(self):
        while not self.stop.is_set():
            if not self.running.is_set():
                self.idle.set()
                self.running.wait()
                self.idle.clear()
                continue
            out = kcat_list()
            self.runs += 1
            if out.returncode != 0 or "broker 0 at" not in out.stdout:
                self.failures.append(out.stderr)
            time.sleep(0.05)


def check_bad_frames():
    s = connect()
    s.sendall(b"\x7f\xff\xff\xff\x00\x12")           # a frame claiming 2 GiB
    assert closed_by_server(s), "2 GiB frame: connection not closed"
    s.close()
    rnd = random.Random(4242)
    s = connect()                                     # a sane size, random content
    s.sendall(struct.pack(">i", 64) + bytes([0x7f, 0x7f]) + bytes(rnd.getrandbits(8) for _ in range(62)))
    assert closed_by_server(s), "random request: connection not closed"
    s.close()
    s = connect()                                     # random bytes, negative size
    junk = bytes(rnd.getrandbits(8) for _ in range(4096))
    s.sendall(bytes([junk[0] | 0x80]) + junk[1:])
    assert closed_by_server(s), "random bytes: connection not closed"
    s.close()
    ok("2 GiB frame and random bytes: that connection closed")


def check_many_connections(loop):
    idle = [connect() for _ in range(500)]
    assert answered(idle[0], 1) and answered(idle[499], 2), "idle connections not accepted"
    out = kcat_list()
    assert out.returncode == 0, "kcat failed beside 500 idle connections: " + out.stderr
    loop.pause()
    extra = [connect() for _ in range(30)]
    results = [answered(s, 3) for s in extra]
    refused = results.count(False)
    for s in extra:
        s.close()                                    # back under the limit for kcat
    loop.resume()
    assert refused >= 10, "only %d of 30 connections over max.connections refused" % refused
    ok("500 idle connections accepted; %d of 30 beyond max.connections=520 refused" % refused)
    for s in idle:
        assert closed_by_server(s, 60), "idle connection not closed"
    for s in idle + extra:
        s.close()
    ok("idle connections closed after connections.max.idle.ms")


def main():
    check_kcat_lists_broker_and_topics()
    check_admin_lifecycle()
    check_unknown_topic_no_autocreate()
    loop = KcatLoop()
    loop.start()
    check_bad_frames()
    check_many_connections(loop)
    loop.stop.set()
    loop.join(120)
    assert loop.runs > 0 and not loop.failures, "concurrent kcat -L failed: %r" % loop.failures[:3]
    ok("concurrent kcat -L succeeded %d times throughout" % loop.runs)
    out = kcat_list()
    assert out.returncode == 0, out.stderr
    return 0


if __name__ == "__main__":
    sys.exit(main())
