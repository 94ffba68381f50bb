#!/usr/bin/python3
"""The group coordinator of a running sluiced, driven with raw Kafka frames.

Usage:
  test_groups_protocol.py run PORT STATE_FILE MIN_SESSION_MS MAX_SESSION_MS METADATA_MAX
  test_groups_protocol.py verify PORT STATE_FILE

"run" goes through FindCoordinator, JoinGroup, SyncGroup, Heartbeat,
LeaveGroup, OffsetCommit and OffsetFetch, asserting Kafka's exact error
codes, then writes what it committed (and the generation the group was left
at) to STATE_FILE.  "verify", after a restart of the daemon on the same
log.dirs, checks that OffsetFetch returns exactly those offsets, that the
emptied group's generation and the Stable group's member and assignment
survived, and updates STATE_FILE for the next restart.

Standard library only: the request header v1 and the non-flexible bodies are
encoded and decoded here (layouts from Kafka's message JSON schemas).  Every
response is decoded to its last byte, so a layout mistake on either side
fails the test.
"""
import json
import socket
import struct
import sys
import time

# API keys
METADATA = 3
OFFSET_COMMIT, OFFSET_FETCH, FIND_COORDINATOR = 8, 9, 10
JOIN_GROUP, HEARTBEAT, LEAVE_GROUP, SYNC_GROUP = 11, 12, 13, 14
CREATE_TOPICS = 19

# Error codes
NONE = 0
UNKNOWN_TOPIC_OR_PARTITION = 3
OFFSET_METADATA_TOO_LARGE = 12
COORDINATOR_NOT_AVAILABLE = 15
ILLEGAL_GENERATION = 22
INCONSISTENT_GROUP_PROTOCOL = 23
UNKNOWN_MEMBER_ID = 25
INVALID_SESSION_TIMEOUT = 26
MEMBER_ID_REQUIRED = 79

CLIENT_ID = "gproto"
TOPIC = "gproto-t"
PARTITIONS = 3
GROUP = "gproto-g1"          # the managed group: join, sync, commit, leave
SIMPLE = "gproto-simple"     # standalone commits only
NOBODY = "gproto-nobody"     # never joined, never committed
REJECTED = "gproto-rejected" # a commit with a generation must not create it
LIVE = "gproto-live"         # left Stable with a member across the restarts
SESSION_MS = 30000
REBALANCE_MS = 10000


class TestFailure(Exception):
    pass


def ok(msg):
    print("ok - " + msg, flush=True)


def expect(actual, expected, what):
    if actual != expected:
        raise TestFailure("%s: expected %r, got %r" % (what, expected, actual))


def check(cond, what):
    if not cond:
        raise TestFailure(what)


# ---- encoding -------------------------------------------------------------------


class Writer:
    def __init__(self):
        self.parts = []

    def raw(self, b):
        self.parts.append(b)
        return self

    def i8(self, v):
        return self.raw(struct.pack(">b", v))

    def i16(self, v):
        return self.raw(struct.pack(">h", v))

    def i32(self, v):
        return self.raw(struct.pack(">i", v))

    def i64(self, v):
        return self.raw(struct.pack(">q", v))

    def string(self, s):
        """STRING / NULLABLE_STRING (None: length -1)."""
        if s is None:
            return self.i16(-1)
        b = s.encode() if isinstance(s, str) else s
        return self.i16(len(b)).raw(b)

    def bytes_(self, b):
        """BYTES / NULLABLE_BYTES (None: length -1)."""
        if b is None:
            return self.i32(-1)
        return self.i32(len(b)).raw(b)

    def array(self, items, fn):
        """ARRAY of items, each written by fn(writer, item); None: length -1."""
        if items is None:
            return self.i32(-1)
        self.i32(len(items))
        for it in items:
            fn(self, it)
        return self

    def data(self):
        return b"".join(self.parts)


class Reader:
    def __init__(self, data, what):
        self.d, self.o, self.what = data, 0, what

    def take(self, n):
        if self.o + n > len(self.d):
            raise TestFailure("%s: response too short (%d bytes, wanted %d more at %d)"
                              % (self.what, len(self.d), n, self.o))
        b = self.d[self.o:self.o + n]
        self.o += n
        return b

    def i8(self):
        return struct.unpack(">b", self.take(1))[0]

    def i16(self):
        return struct.unpack(">h", self.take(2))[0]

    def i32(self):
        return struct.unpack(">i", self.take(4))[0]

    def i64(self):
        return struct.unpack(">q", self.take(8))[0]

    def string(self):
        n = self.i16()
        return None if n < 0 else self.take(n).decode()

    def bytes_(self):
        n = self.i32()
        return None if n < 0 else self.take(n)

    def array(self, fn):
        n = self.i32()
        return None if n < 0 else [fn(self) for _ in range(n)]

    def done(self):
        if self.o != len(self.d):
            raise TestFailure("%s: %d bytes left over after decoding the response"
                              % (self.what, len(self.d) - self.o))


# ---- connection -----------------------------------------------------------------


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=15)
        self.corr = 0

    def close(self):
        self.s.close()

    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise TestFailure("connection closed by the broker mid-response")
            buf += chunk
        return buf

    @staticmethod
    def header(api_key, version, corr):
        """Request header v1: api_key, api_version, correlation_id, client_id."""
        return Writer().i16(api_key).i16(version).i32(corr).string(CLIENT_ID).data()

    def frame(self, api_key, version, body):
        self.corr += 1
        msg = self.header(api_key, version, self.corr) + body
        return struct.pack(">i", len(msg)) + msg

    def request(self, api_key, version, body, what):
        """Send one request, return a Reader over the response body."""
        self.s.sendall(self.frame(api_key, version, body))
        size = struct.unpack(">i", self.recv_exact(4))[0]
        resp = self.recv_exact(size)
        corr = struct.unpack(">i", resp[:4])[0]
        expect(corr, self.corr, what + ": correlation id")
        return Reader(resp[4:], what)

    def closed_by_peer(self, timeout=5.0):
        """True if the broker closes the connection (EOF or reset) without answering."""
        self.s.settimeout(timeout)
        try:
            data = self.s.recv(65536)
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False
        return data == b""


# ---- requests and responses -------------------------------------------------------


def metadata_brokers(c):
    """Metadata v1 with no topics: [(node_id, host, port)]."""
    r = c.request(METADATA, 1, Writer().array([], None).data(), "Metadata v1")
    brokers = r.array(lambda r: (r.i32(), r.string(), r.i32(), r.string()))
    r.i32()                                          # controller_id
    topics = r.array(lambda r: None)
    r.done()
    expect(topics, [], "Metadata v1 with no topics: topics")
    return [b[:3] for b in brokers]


def create_topic(c, name, partitions):
    """CreateTopics v0: one topic; returns its error code."""
    def topic(w, t):
        w.string(t).i32(partitions).i16(1).array([], None).array([], None)
    body = Writer().array([name], topic).i32(10000).data()
    r = c.request(CREATE_TOPICS, 0, body, "CreateTopics v0")
    res = r.array(lambda r: (r.string(), r.i16()))
    r.done()
    expect([t for t, _ in res], [name], "CreateTopics v0: topics")
    return res[0][1]


def find_coordinator(c, group):
    """FindCoordinator v1 (key_type 0): dict."""
    r = c.request(FIND_COORDINATOR, 1, Writer().string(group).i8(0).data(),
                  "FindCoordinator v1")
    out = dict(throttle=r.i32(), error=r.i16(), message=r.string(), node_id=r.i32(),
               host=r.string(), port=r.i32())
    r.done()
    return out


def join_group(c, group, member_id, session_ms=SESSION_MS, protocol_type="consumer",
               protocols=None, version=4):
    """JoinGroup v4 (or v1-v4): dict with members as [(member_id, metadata)]."""
    check(1 <= version <= 4, "join_group: v1-v4 only")
    protocols = protocols if protocols is not None else [("range", subscription([TOPIC]))]
    body = (Writer().string(group).i32(session_ms).i32(REBALANCE_MS).string(member_id)
            .string(protocol_type)
            .array(protocols, lambda w, p: w.string(p[0]).bytes_(p[1])).data())
    r = c.request(JOIN_GROUP, version, body, "JoinGroup v%d" % version)
    out = {}
    if version >= 2:
        out["throttle"] = r.i32()
    out.update(error=r.i16(), generation=r.i32(), protocol=r.string(), leader=r.string(),
               member_id=r.string(), members=r.array(lambda r: (r.string(), r.bytes_())))
    r.done()
    return out


def sync_group(c, group, generation, member_id, assignments):
    """SyncGroup v1; assignments [(member_id, bytes)]: (error, assignment)."""
    body = (Writer().string(group).i32(generation).string(member_id)
            .array(assignments, lambda w, a: w.string(a[0]).bytes_(a[1])).data())
    r = c.request(SYNC_GROUP, 1, body, "SyncGroup v1")
    r.i32()                                          # throttle_time_ms
    out = (r.i16(), r.bytes_())
    r.done()
    return out


def heartbeat(c, group, generation, member_id):
    """Heartbeat v1: the error code."""
    body = Writer().string(group).i32(generation).string(member_id).data()
    r = c.request(HEARTBEAT, 1, body, "Heartbeat v1")
    r.i32()                                          # throttle_time_ms
    err = r.i16()
    r.done()
    return err


def leave_group(c, group, member_id):
    """LeaveGroup v1: the error code."""
    r = c.request(LEAVE_GROUP, 1, Writer().string(group).string(member_id).data(),
                  "LeaveGroup v1")
    r.i32()                                          # throttle_time_ms
    err = r.i16()
    r.done()
    return err


def offset_commit_body(group, generation, member_id, offsets, version):
    """offsets: {topic: [(partition, offset, metadata, leader_epoch)]} (v2-v6 layouts)."""
    def part(w, p):
        w.i32(p[0]).i64(p[1])
        if version >= 6:
            w.i32(p[3])
        w.string(p[2])
    w = Writer().string(group).i32(generation).string(member_id)
    if version <= 4:
        w.i64(-1)                                    # retention_time_ms
    w.array(sorted(offsets.items()), lambda w, t: w.string(t[0]).array(t[1], part))
    return w.data()


def offset_commit(c, group, generation, member_id, offsets, version=2):
    """OffsetCommit v2-v6: {topic: {partition: error}}."""
    check(2 <= version <= 6, "offset_commit: v2-v6 only")
    body = offset_commit_body(group, generation, member_id, offsets, version)
    r = c.request(OFFSET_COMMIT, version, body, "OffsetCommit v%d" % version)
    if version >= 3:
        r.i32()                                      # throttle_time_ms
    res = r.array(lambda r: (r.string(), r.array(lambda r: (r.i32(), r.i16()))))
    r.done()
    out = {t: dict(parts) for t, parts in res}
    want = {t: sorted(p[0] for p in ps) for t, ps in offsets.items()}
    expect({t: sorted(p) for t, p in out.items()}, want,
           "OffsetCommit v%d: the topics and partitions answered" % version)
    return out


def offset_fetch(c, group, topics, version=1):
    """OffsetFetch v1-v5; topics {topic: [partition]} or None (all, v2+).

    Returns (top-level error or None, {(topic, partition): (offset, epoch, metadata, error)}).
    """
    check(1 <= version <= 5, "offset_fetch: v1-v5 only")
    w = Writer().string(group)
    w.array(None if topics is None else sorted(topics.items()),
            lambda w, t: w.string(t[0]).array(t[1], lambda w, p: w.i32(p)))
    r = c.request(OFFSET_FETCH, version, w.data(), "OffsetFetch v%d" % version)
    if version >= 3:
        r.i32()                                      # throttle_time_ms

    def part(r):
        p, off = r.i32(), r.i64()
        epoch = r.i32() if version >= 5 else -1
        return p, (off, epoch, r.string(), r.i16())
    res = r.array(lambda r: (r.string(), r.array(part)))
    top = r.i16() if version >= 2 else None
    r.done()
    out = {}
    for t, parts in res:
        for p, v in parts:
            check((t, p) not in out, "OffsetFetch: %s-%d answered twice" % (t, p))
            out[(t, p)] = v
    return top, out


# ---- consumer protocol payloads ------------------------------------------------------


def subscription(topics):
    """ConsumerProtocolSubscription v0: version, topics, user_data."""
    return Writer().i16(0).array(topics, Writer.string).bytes_(b"gproto-userdata").data()


def assignment(parts):
    """ConsumerProtocolAssignment v0: version, [topic, [partition]], user_data."""
    return (Writer().i16(0)
            .array(sorted(parts.items()),
                   lambda w, t: w.string(t[0]).array(t[1], Writer.i32))
            .bytes_(None).data())


# ---- the committed state the daemon must keep ------------------------------------------


class Expected:
    """What each group has committed: {group: {(topic, partition): (offset, epoch, meta)}}."""

    def __init__(self):
        self.groups = {}

    def commit(self, group, offsets, errors, version):
        for topic, parts in offsets.items():
            for p, off, meta, epoch in parts:
                if errors[topic][p] == NONE:
                    self.groups.setdefault(group, {})[(topic, p)] = (
                        off, epoch if version >= 6 else -1, meta if meta is not None else "")

    def to_json(self):
        return {g: [[t, p, *v] for (t, p), v in sorted(o.items())]
                for g, o in self.groups.items()}

    @classmethod
    def from_json(cls, d):
        e = cls()
        e.groups = {g: {(t, p): (off, epoch, meta) for t, p, off, epoch, meta in rows}
                    for g, rows in d.items()}
        return e


def fetch_matches(c, exp, group, what):
    """OffsetFetch v1 (named partitions) and v5 (all) agree with @exp for @group."""
    want = exp.groups.get(group, {})
    asked = {TOPIC: list(range(PARTITIONS))}
    _, got = offset_fetch(c, group, asked, version=1)
    for p in range(PARTITIONS):
        off, _, meta = want.get((TOPIC, p), (-1, -1, ""))
        expect(got[(TOPIC, p)], (off, -1, meta, NONE),
               "%s: OffsetFetch v1 %s %s-%d (offset, -, metadata, error)" % (what, group, TOPIC, p))
    top, got = offset_fetch(c, group, None, version=5)
    expect(top, NONE, "%s: OffsetFetch v5 (all) top-level error" % what)
    expect(got, {k: (off, epoch, meta, NONE) for k, (off, epoch, meta) in want.items()},
           "%s: OffsetFetch v5 (all) of %s" % (what, group))


# ---- cases -----------------------------------------------------------------------------


def wait_coordinator(port, group):
    """FindCoordinator until it answers 0 (15 while __consumer_offsets is created)."""
    deadline = time.time() + 10
    c = Conn(port)
    while True:
        fc = find_coordinator(c, group)
        if fc["error"] != COORDINATOR_NOT_AVAILABLE or time.time() > deadline:
            break
        time.sleep(0.2)
    brokers = metadata_brokers(c)
    c.close()
    expect(fc["error"], NONE, "FindCoordinator v1 %s: error" % group)
    expect(len(brokers), 1, "Metadata v1: one broker")
    node_id, host, bport = brokers[0]
    expect((fc["node_id"], fc["host"], fc["port"]), (node_id, "127.0.0.1", port),
           "FindCoordinator v1: node id, host, port")
    expect(bport, port, "Metadata v1: broker port")
    ok("FindCoordinator v1 %s: error 0, node %d at 127.0.0.1:%d (Metadata's broker)"
       % (group, node_id, port))


def case_create_topic(c):
    expect(create_topic(c, TOPIC, PARTITIONS), NONE, "CreateTopics %s" % TOPIC)
    ok("CreateTopics v0 %s with %d partitions: error 0" % (TOPIC, PARTITIONS))


def case_unknown_member_before_join(c):
    err, a = sync_group(c, GROUP, 1, "ghost-member", [])
    expect(err, UNKNOWN_MEMBER_ID, "SyncGroup before any join: error")
    expect(a, b"", "SyncGroup before any join: assignment")
    ok("SyncGroup v1 before any join: 25 UNKNOWN_MEMBER_ID, empty assignment")
    expect(heartbeat(c, GROUP, 1, "ghost-member"), UNKNOWN_MEMBER_ID,
           "Heartbeat before any join")
    ok("Heartbeat v1 before any join: 25 UNKNOWN_MEMBER_ID")


def case_invalid_session_timeout(c, min_ms, max_ms):
    for ms in (min_ms - 1, max_ms + 1):
        j = join_group(c, GROUP, "", session_ms=ms)
        expect(j["error"], INVALID_SESSION_TIMEOUT, "JoinGroup session %d ms: error" % ms)
        expect((j["generation"], j["member_id"], j["members"]), (-1, "", []),
               "JoinGroup session %d ms: generation, member id, members" % ms)
    ok("JoinGroup v4 with session %d and %d ms (outside [%d, %d]): 26 INVALID_SESSION_TIMEOUT"
       % (min_ms - 1, max_ms + 1, min_ms, max_ms))


def case_join(c):
    """MEMBER_ID_REQUIRED, then the rejoin: generation 1, we lead. @return member id."""
    sub = subscription([TOPIC])
    j = join_group(c, GROUP, "")
    expect(j["error"], MEMBER_ID_REQUIRED, "first JoinGroup v4: error")
    mid = j["member_id"]
    check(mid.startswith(CLIENT_ID + "-") and len(mid) > len(CLIENT_ID) + 1,
          "MEMBER_ID_REQUIRED member id %r is not client_id-<uuid>" % mid)
    expect((j["generation"], j["leader"], j["members"]), (-1, "", []),
           "MEMBER_ID_REQUIRED: generation, leader, members")
    ok("JoinGroup v4 without member id: 79 MEMBER_ID_REQUIRED, member id %s" % mid)

    j = join_group(c, GROUP, mid)
    expect(j["error"], NONE, "JoinGroup v4 rejoin: error")
    expect(j["generation"], 1, "JoinGroup v4 rejoin: generation of a new group")
    expect((j["member_id"], j["leader"], j["protocol"]), (mid, mid, "range"),
           "JoinGroup v4 rejoin: member id, leader, protocol")
    expect(j["members"], [(mid, sub)], "JoinGroup v4 rejoin: members (id, subscription)")
    ok("JoinGroup v4 rejoin: error 0, generation 1, leader is us, members [us + subscription]")
    return mid, j["generation"]


def case_inconsistent_protocol(c):
    j = join_group(c, GROUP, "", protocol_type="connect",
                   protocols=[("sessioned", b"\x00\x01")])
    expect(j["error"], INCONSISTENT_GROUP_PROTOCOL, "JoinGroup of another protocol type")
    ok("JoinGroup v4 protocol type connect into a consumer group: 23 INCONSISTENT_GROUP_PROTOCOL")


def case_sync(c, mid, gen):
    a = assignment({TOPIC: list(range(PARTITIONS))})
    err, got = sync_group(c, GROUP, gen, mid, [(mid, a)])
    expect(err, NONE, "leader's SyncGroup: error")
    expect(got, a, "leader's SyncGroup: assignment")
    ok("SyncGroup v1 by the leader: error 0, its assignment back (%d bytes)" % len(a))
    err, got = sync_group(c, GROUP, gen, mid, [])
    expect((err, got), (NONE, a), "SyncGroup again when Stable: error, stored assignment")
    ok("SyncGroup v1 again when Stable: error 0, the stored assignment")


def case_heartbeats(c, mid, gen):
    expect(heartbeat(c, GROUP, gen, mid), NONE, "Heartbeat, right generation")
    ok("Heartbeat v1 generation %d: error 0" % gen)
    expect(heartbeat(c, GROUP, gen + 1, mid), ILLEGAL_GENERATION, "Heartbeat, wrong generation")
    ok("Heartbeat v1 generation %d: 22 ILLEGAL_GENERATION" % (gen + 1))


def case_member_commits(c, exp, mid, gen):
    parts = [(p, 100 * (p + 1), "meta-%d" % p, 5 + p) for p in range(PARTITIONS)]
    offsets = {TOPIC: parts}
    bad = offset_commit(c, GROUP, gen + 1, mid, offsets, version=2)
    expect(bad, {TOPIC: {p: ILLEGAL_GENERATION for p in range(PARTITIONS)}},
           "OffsetCommit v2 wrong generation")
    ok("OffsetCommit v2 generation %d: 22 ILLEGAL_GENERATION on every partition" % (gen + 1))
    fetch_matches(c, exp, GROUP, "after the rejected commit")
    ok("OffsetFetch: nothing stored by the rejected commit")

    offsets["no-such-topic"] = [(0, 1, None, -1)]
    res = offset_commit(c, GROUP, gen, mid, offsets, version=6)
    expect(res, {TOPIC: {p: NONE for p in range(PARTITIONS)},
                 "no-such-topic": {0: UNKNOWN_TOPIC_OR_PARTITION}},
           "OffsetCommit v6 right generation")
    exp.commit(GROUP, offsets, res, 6)
    ok("OffsetCommit v6 generation %d: 0 per partition, 3 for an unknown topic" % gen)
    fetch_matches(c, exp, GROUP, "after the member's commit")
    ok("OffsetFetch v1 and v5: the committed offsets, metadata and leader epochs")


def case_metadata_too_large(c, exp, mid, gen, max_bytes):
    offsets = {TOPIC: [(0, 999, "x" * (max_bytes + 1), -1), (1, 1234, "y" * max_bytes, -1)]}
    res = offset_commit(c, GROUP, gen, mid, offsets, version=2)
    expect(res, {TOPIC: {0: OFFSET_METADATA_TOO_LARGE, 1: NONE}},
           "OffsetCommit v2 metadata of %d and %d bytes" % (max_bytes + 1, max_bytes))
    exp.commit(GROUP, offsets, res, 2)
    fetch_matches(c, exp, GROUP, "after the too-large metadata")
    ok("OffsetCommit v2 metadata %d bytes: 12 OFFSET_METADATA_TOO_LARGE (offset kept); "
       "%d bytes: 0 (stored)" % (max_bytes + 1, max_bytes))


def case_leave(c, exp, mid, gen):
    expect(leave_group(c, GROUP, mid), NONE, "LeaveGroup v1")
    ok("LeaveGroup v1: error 0")
    expect(heartbeat(c, GROUP, gen, mid), UNKNOWN_MEMBER_ID, "Heartbeat after leaving")
    ok("Heartbeat v1 after leaving: 25 UNKNOWN_MEMBER_ID")
    expect(leave_group(c, GROUP, mid), UNKNOWN_MEMBER_ID, "LeaveGroup v1 again")
    ok("LeaveGroup v1 again: 25 UNKNOWN_MEMBER_ID")
    # The group is Empty now: Kafka allows generation -1 commits on it.  The
    # answer waits for its record, after the group's own (same partition).
    offsets = {TOPIC: [(2, 333, "after-leave", -1)]}
    res = offset_commit(c, GROUP, -1, "", offsets, version=2)
    expect(res, {TOPIC: {2: NONE}}, "OffsetCommit v2 generation -1 on the emptied group")
    exp.commit(GROUP, offsets, res, 2)
    fetch_matches(c, exp, GROUP, "after the commit on the emptied group")
    ok("OffsetCommit v2 generation -1 on the emptied group: error 0, fetched back")
    # Leaving the last member ends a rebalance with no members: generation + 1.
    return gen + 1


def case_standalone(c, exp):
    offsets = {TOPIC: [(0, 42, "simple-0", -1), (2, 4242, None, -1)]}
    res = offset_commit(c, SIMPLE, -1, "", offsets, version=2)
    expect(res, {TOPIC: {0: NONE, 2: NONE}}, "standalone OffsetCommit v2")
    exp.commit(SIMPLE, offsets, res, 2)
    fetch_matches(c, exp, SIMPLE, "standalone")
    ok("standalone OffsetCommit v2 (generation -1, no member) on %s: error 0, fetched back "
       "(null metadata as \"\")" % SIMPLE)
    offsets = {TOPIC: [(1, -5, "negative", -1)]}      # Kafka keeps what is committed, as is
    res = offset_commit(c, SIMPLE, -1, "", offsets, version=2)
    expect(res, {TOPIC: {1: NONE}}, "standalone OffsetCommit v2 of offset -5")
    exp.commit(SIMPLE, offsets, res, 2)
    fetch_matches(c, exp, SIMPLE, "standalone, negative offset")
    ok("a committed offset -5 is fetched back as -5, not as 0 or as no commit")
    res = offset_commit(c, REJECTED, 3, "someone", {TOPIC: [(0, 7, None, -1)]}, version=2)
    expect(res, {TOPIC: {0: ILLEGAL_GENERATION}}, "OffsetCommit generation 3, unknown group")
    fetch_matches(c, exp, REJECTED, "unknown group after a generation-3 commit")
    ok("OffsetCommit v2 generation 3 for an unknown group: 22 ILLEGAL_GENERATION, nothing stored")


def case_unknown_group_fetch(c, exp):
    fetch_matches(c, exp, NOBODY, "unknown group")
    top, got = offset_fetch(c, NOBODY, {"no-such-topic": [0, 5]}, version=3)
    expect((top, got), (NONE, {("no-such-topic", 0): (-1, -1, "", NONE),
                               ("no-such-topic", 5): (-1, -1, "", NONE)}),
           "OffsetFetch v3 unknown group, unknown topic")
    ok("OffsetFetch v1/v3/v5 of an unknown group: offset -1, metadata \"\", error 0 per partition")


def send_truncated(port, api_key, version, body, cut, what):
    """A frame whose length prefix is right but whose body stops @cut bytes early."""
    c = Conn(port)
    msg = Conn.header(api_key, version, 77) + body[:len(body) - cut]
    c.s.sendall(struct.pack(">i", len(msg)) + msg)
    closed = c.closed_by_peer()
    c.close()
    check(closed, "%s cut %d bytes short: the broker did not close the connection" % (what, cut))


def case_truncated(port, exp, mid):
    # A commit that would move every partition, cut inside the last partition.
    moved = {TOPIC: [(p, 5000 + p, "truncated", -1) for p in range(PARTITIONS)]}
    body = offset_commit_body(GROUP, -1, "", moved, 2)
    send_truncated(port, OFFSET_COMMIT, 2, body, 3, "OffsetCommit v2")
    body = offset_commit_body(SIMPLE, -1, "", moved, 2)
    send_truncated(port, OFFSET_COMMIT, 2, body, len("truncated") + 2, "OffsetCommit v2")
    # A join cut inside the protocol metadata, a sync cut inside the assignment.
    body = (Writer().string(GROUP).i32(SESSION_MS).i32(REBALANCE_MS).string("")
            .string("consumer")
            .array([("range", subscription([TOPIC]))], lambda w, p: w.string(p[0]).bytes_(p[1]))
            .data())
    send_truncated(port, JOIN_GROUP, 4, body, 5, "JoinGroup v4")
    body = (Writer().string(GROUP).i32(1).string(mid)
            .array([(mid, assignment({TOPIC: [0]}))], lambda w, a: w.string(a[0]).bytes_(a[1]))
            .data())
    send_truncated(port, SYNC_GROUP, 1, body, 4, "SyncGroup v1")
    body = Writer().string(GROUP).i32(1).string(mid).data()
    send_truncated(port, HEARTBEAT, 1, body, 2, "Heartbeat v1")
    ok("truncated OffsetCommit, JoinGroup, SyncGroup, Heartbeat frames: connection closed")

    c = Conn(port)
    fetch_matches(c, exp, GROUP, "after the truncated frames")
    fetch_matches(c, exp, SIMPLE, "after the truncated frames")
    expect(heartbeat(c, GROUP, 1, mid), UNKNOWN_MEMBER_ID, "Heartbeat after the truncated frames")
    c.close()
    ok("a new connection: OffsetFetch returns the committed offsets unchanged, the group "
       "has no member")


def case_live_group(c):
    """A group left Stable with its member: @return what a restart must keep."""
    j = join_group(c, LIVE, "")
    expect(j["error"], MEMBER_ID_REQUIRED, "JoinGroup %s" % LIVE)
    mid = j["member_id"]
    j = join_group(c, LIVE, mid)
    expect((j["error"], j["generation"], j["leader"]), (NONE, 1, mid), "JoinGroup %s rejoin" % LIVE)
    a = assignment({TOPIC: [1, 2]})
    expect(sync_group(c, LIVE, 1, mid, [(mid, a)]), (NONE, a), "SyncGroup %s" % LIVE)
    ok("%s: joined and synced, Stable at generation 1 with one member" % LIVE)
    return {"member": mid, "generation": 1, "assignment": a.hex()}


def verify_live_group(c, live, what):
    """The member of @live survived: heartbeats at its generation, gets its assignment."""
    mid, gen, a = live["member"], live["generation"], bytes.fromhex(live["assignment"])
    expect(heartbeat(c, LIVE, gen, mid), NONE, "%s: Heartbeat of %s's member" % (what, LIVE))
    expect(heartbeat(c, LIVE, gen + 1, mid), ILLEGAL_GENERATION,
           "%s: Heartbeat of %s's member, next generation" % (what, LIVE))
    expect(sync_group(c, LIVE, gen, mid, []), (NONE, a), "%s: SyncGroup of %s" % (what, LIVE))
    ok("%s: %s's member heartbeats at generation %d (22 at %d), SyncGroup returns its "
       "assignment" % (what, LIVE, gen, gen + 1))


def check_generation(c, group, expected_next, what):
    """Join @group as a new member: the generation must be @expected_next. Leave again.

    @return the generation the group is left at (the empty rebalance adds one).
    """
    j = join_group(c, group, "")
    expect(j["error"], MEMBER_ID_REQUIRED, "%s: first JoinGroup" % what)
    j = join_group(c, group, j["member_id"])
    expect(j["error"], NONE, "%s: JoinGroup rejoin" % what)
    expect(j["generation"], expected_next, "%s: generation of the rejoin" % what)
    expect(leave_group(c, group, j["member_id"]), NONE, "%s: LeaveGroup" % what)
    return j["generation"] + 1


# ---- modes -------------------------------------------------------------------------------


def run(port, state_file, min_ms, max_ms, meta_max):
    wait_coordinator(port, GROUP)
    exp = Expected()
    c = Conn(port)
    case_create_topic(c)
    case_unknown_member_before_join(c)
    case_invalid_session_timeout(c, min_ms, max_ms)
    mid, gen = case_join(c)
    case_inconsistent_protocol(c)
    case_sync(c, mid, gen)
    case_heartbeats(c, mid, gen)
    case_member_commits(c, exp, mid, gen)
    case_metadata_too_large(c, exp, mid, gen, meta_max)
    gen = case_leave(c, exp, mid, gen)
    case_standalone(c, exp)
    case_unknown_group_fetch(c, exp)
    live = case_live_group(c)
    c.close()
    case_truncated(port, exp, mid)
    with open(state_file, "w") as f:
        json.dump({"offsets": exp.to_json(), "generation": gen, "live": live}, f)


def verify(port, state_file):
    with open(state_file) as f:
        state = json.load(f)
    exp = Expected.from_json(state["offsets"])
    wait_coordinator(port, GROUP)
    c = Conn(port)
    for g in (GROUP, SIMPLE, REJECTED, NOBODY, LIVE):
        fetch_matches(c, exp, g, "after the restart")
    ok("after the restart: OffsetFetch v1 and v5 return exactly the committed offsets, "
       "metadata and epochs of %s and %s, nothing for the others" % (GROUP, SIMPLE))
    gen = check_generation(c, GROUP, state["generation"] + 1, "after the restart")
    ok("after the restart: a new member of %s joins at generation %d (the stored one + 1)"
       % (GROUP, gen - 1))
    fetch_matches(c, exp, GROUP, "after the rejoin")
    verify_live_group(c, state["live"], "after the restart")
    c.close()
    state["generation"] = gen
    with open(state_file, "w") as f:
        json.dump(state, f)


def main():
    try:
        if len(sys.argv) == 7 and sys.argv[1] == "run":
            run(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]),
                int(sys.argv[6]))
        elif len(sys.argv) == 4 and sys.argv[1] == "verify":
            verify(int(sys.argv[2]), sys.argv[3])
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except (TestFailure, OSError) as e:
        print("FAIL: %s" % e, file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
