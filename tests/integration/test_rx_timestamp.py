#!/usr/bin/python3
"""Receive timestamps of tap records (rx.timestamp).  sluiced replays a pcap
written here, whose record times are known, on a net_pcap port:
  - hardware: every record's rx.ns header is its pcap record time in ns,
    exactly, and the record timestamp is the same time in ms;
  - software: rx.ns is the lcore's TSC time (between start and stop of the
    run), the record timestamp its ms;
  - hardware on an infinite_rx replay (which carries no timestamps) refuses
    to start."""
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_dataplane_pcap import (BLD, PREFIX, SRC, eal_test_args, fail, records,  # noqa: E402
                                 skip, wait_for)

N = 50


def frame(i):
    """Ethernet/IPv4/UDP to port 5000 (checksum 0: none), payload b"ts-<i>"."""
    pl = b"ts-%d" % i
    udp = struct.pack(">HHHH", 40000, 5000, 8 + len(pl), 0) + pl
    ip = bytearray(struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i, 0, 64, 17, 0,
                               bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2])))
    s = sum(struct.unpack(">10H", bytes(ip)))
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    ip[10:12] = struct.pack(">H", ~s & 0xFFFF)
    return b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00" + bytes(ip) + udp


def write_pcap(path, times_us):
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    for i, t in enumerate(times_us):
        f = frame(i)
        out += struct.pack("<IIII", t // 1000000, t % 1000000, len(f), len(f)) + f
    open(path, "wb").write(out)


def run(work, name, device, mode, expect_start=True):
    """sluiced with the default config on @device; returns (records, log)."""
    data = os.path.join(work, name)
    log = os.path.join(work, name + ".log")
    mem = eal_test_args()
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        kport = so.getsockname()[1]
    proc = subprocess.Popen(
        [BLD + "/sluiced", "-o", "log.dirs=" + data,
         "-o", "listeners=PLAINTEXT://127.0.0.1:%d" % kport, "-o", "metrics.listener=",
         "-o", "dataplane.ports.sample0.device=" + device,
         "-o", "dataplane.ports.sample0.rx.timestamp=" + mode, "--"] + mem,
        cwd=SRC, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    try:
        if not expect_start:
            rc = proc.wait(timeout=60)
            return rc, open(log).read()
        if not wait_for(log, "running; SIGTERM", 30):
            fail("%s: sluiced did not come up:\n%s" % (name, open(log).read()))
        wait_for(log, "NEVER", 1.5)             # the pcap replays in microseconds
        proc.send_signal(signal.SIGTERM)
        if proc.wait(timeout=30) != 0:
            fail("%s: sluiced exit code %d:\n%s" % (name, proc.returncode, open(log).read()))
    finally:
        if proc.poll() is None:
            proc.kill()
    text = open(log).read()
    got = records(os.path.join(data, "telemetry-0", "00000000000000000000.log"))
    if [r[3] for r in got] != [b"ts-%d" % i for i in range(N)]:
        fail("%s: %d records stored, %d expected, or values differ:\n%s"
             % (name, len(got), N, text))
    out = []
    for off, ts, _, _, hdrs in got:
        rx = [v for k, v in hdrs if k == "rx.ns"]
        if len(rx) != 1 or len(rx[0]) != 8:
            fail("%s offset %d: rx.ns header missing or not 8 bytes" % (name, off))
        out.append((struct.unpack(">Q", rx[0])[0], ts))
    return out, text


def main():
    if not SRC or not BLD:
        skip("run through meson test")
    if os.geteuid() != 0:
        skip("DPDK virtual ports need root")
    work = tempfile.mkdtemp(prefix="sluice-ts.")
    try:
        pcap = os.path.join(work, "t.pcap")
        # An hour ago (inside telemetry's retention), irregular sub-ms parts.
        t0 = (int(time.time()) - 3600) * 1000000 + 123456
        times = [t0 + i * 1000777 + (i * 7919) % 1000 for i in range(N)]
        write_pcap(pcap, times)
        dev = "net_pcap0,rx_pcap=%s,infinite_rx=0" % pcap

        got, log = run(work, "hw", dev, "hardware")
        if "rx timestamps: pcap record time" not in log:
            fail("hardware: port log line does not name the pcap record time:\n" + log)
        for i, (ns, ts) in enumerate(got):
            if ns != times[i] * 1000 or ts != times[i] // 1000:
                fail("hardware record %d: rx.ns %d timestamp %d, pcap time %d us"
                     % (i, ns, ts, times[i]))
        print("ok - hardware: rx.ns = pcap record time in ns, timestamp = it in ms")

        got, log = run(work, "auto", dev, "auto")
        if [ns for ns, _ in got] != [t * 1000 for t in times]:
            fail("auto on a net_pcap file replay: rx.ns is not the pcap record time")
        print("ok - auto: the pcap record time too")

        before = time.time_ns()
        got, log = run(work, "sw", dev, "software")
        after = time.time_ns()
        for i, (ns, ts) in enumerate(got):
            # TSC time, anchored to CLOCK_REALTIME at start: within the run (1 s slack)
            if not before - 10**9 <= ns <= after + 10**9 or ts != ns // 1000000:
                fail("software record %d: rx.ns %d timestamp %d, run %d..%d"
                     % (i, ns, ts, before, after))
        print("ok - software: rx.ns is the time of the run, timestamp its ms")

        rc, log = run(work, "inf", dev.replace("infinite_rx=0", "infinite_rx=1"), "hardware",
                      expect_start=False)
        if rc == 0 or "gives no receive timestamps" not in log:
            fail("hardware on an infinite_rx replay: exit %d\n%s" % (rc, log))
        print("ok - hardware without timestamps (infinite_rx) refuses to start")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree("/var/run/dpdk/" + PREFIX, ignore_errors=True)


if __name__ == "__main__":
    main()
