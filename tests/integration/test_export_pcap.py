#!/usr/bin/python3
"""sluice export --pcap / --pcapng of a captured topic.  The real sluiced
replays the bundled sample (firmware-config/samples/sample.pcap) on its
net_pcap port with rx.timestamp=auto, so the tap records' rx.ns are the
pcap record times; after it stops, `sluice export` rebuilds the telemetry
topic from its data directory offline.  Both exports, read back by tcpdump
(an independent reader, nanosecond precision, checksums verified with -vv),
must give for every tap-mode packet of the replayed pcap, in order: the same
timestamp to the nanosecond, the same addresses and ports, the same payload,
valid IPv4 and UDP checksums; and the pcap's frames are byte for byte the
replayed ones.  The tap packets are picked from the pcap here and checked
against sluice-trafgen's manifest of the sample."""
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_dataplane_pcap import (BLD, PREFIX, SRC, eal_test_args, fail,  # noqa: E402
                                 load_manifest, skip, wait_for)

TAP_PORT = 5000


def read_pcap(path):
    """(ns, frame) of every record of a pcap, either precision."""
    b = open(path, "rb").read()
    magic = struct.unpack_from("<I", b)[0]
    if magic not in (0xA1B2C3D4, 0xA1B23C4D):
        fail("%s: not a little-endian pcap (magic %#x)" % (path, magic))
    mult = 1000 if magic == 0xA1B2C3D4 else 1
    out, pos = [], 24
    while pos < len(b):
        sec, frac, cap, _ = struct.unpack_from("<IIII", b, pos)
        out.append((sec * 10**9 + frac * mult, b[pos + 16:pos + 16 + cap]))
        pos += 16 + cap
    return magic, out


def tap_packets(frames):
    """The frames the tap rule stores: whole IPv4/UDP datagrams to TAP_PORT, as
    (ns, src, sport, dst, dport, payload, frame)."""
    out = []
    for ns, f in frames:
        if len(f) < 42 or f[12:14] != b"\x08\x00" or f[14] >> 4 != 4 or f[23] != 17:
            continue
        ihl = (f[14] & 15) * 4
        tot = struct.unpack_from(">H", f, 16)[0]
        if tot > len(f) - 14 or tot < ihl + 8:
            continue                                   # truncated: bad_ip_length
        u = 14 + ihl
        sport, dport, ulen = struct.unpack_from(">HHH", f, u)
        if dport != TAP_PORT:
            continue
        out.append((ns, socket.inet_ntoa(f[26:30]), sport, socket.inet_ntoa(f[30:34]), dport,
                    f[u + 8:u + ulen], f))
    return out


HDR = re.compile(r"^(\d+)\.(\d{9}) IP \(.*proto UDP \(17\), length (\d+)\)$")
ADDR = re.compile(r"^\s+(\S+)\.(\d+) > (\S+)\.(\d+): \[(udp sum ok|bad udp cksum [^\]]*)\] "
                  r"UDP, length (\d+)$")


def tcpdump(path):
    """Read @path with tcpdump: (ns, src, sport, dst, dport, payload) per packet;
    fails on a bad checksum or a line it does not expect."""
    r = subprocess.run(["tcpdump", "-r", path, "-nn", "-tt", "--time-stamp-precision=nano",
                        "-vv", "-x"], capture_output=True, text=True)
    if r.returncode != 0:
        fail("tcpdump -r %s: exit %d\n%s" % (path, r.returncode, r.stderr))
    if "bad cksum" in r.stdout or "bad udp cksum" in r.stdout:
        fail("tcpdump finds a bad checksum in %s:\n%s" % (path, r.stdout[:2000]))
    out, cur = [], None
    for line in r.stdout.splitlines():
        m = HDR.match(line)
        if m:
            cur = [int(m.group(1)) * 10**9 + int(m.group(2)), None, None, None, None, b""]
            out.append(cur)
            continue
        m = ADDR.match(line)
        if m and cur is not None and cur[1] is None:
            if m.group(5) != "udp sum ok":
                fail("%s: %s" % (path, line))
            cur[1:5] = [m.group(1), int(m.group(2)), m.group(3), int(m.group(4))]
            continue
        if line.startswith("\t0x") and cur is not None:
            cur[5] += bytes.fromhex("".join(line.split(":", 1)[1].split()))
            continue
        fail("%s: unexpected tcpdump line: %r" % (path, line))
    # -x dumps the IP packet: 20 bytes of IPv4 header and 8 of UDP precede the payload
    return [(ns, s, sp, d, dp, ip[28:]) for ns, s, sp, d, dp, ip in out]


def run_sluiced(work, data):
    log = os.path.join(work, "sluiced.log")
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        kport = so.getsockname()[1]
    proc = subprocess.Popen(
        [BLD + "/sluiced", "-o", "log.dirs=" + data,
         "-o", "listeners=PLAINTEXT://127.0.0.1:%d" % kport, "-o", "metrics.listener=",
         # the pcap record times as rx.ns (docs/dataplane.md), kept: they are old
         "-o", "dataplane.ports.sample0.rx.timestamp=auto",
         "-o", "topics.telemetry.configs.retention.ms=-1", "--"] + eal_test_args(),
        cwd=SRC, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    try:
        if not wait_for(log, "running; SIGTERM", 30):
            fail("sluiced did not come up:\n" + open(log).read())
        wait_for(log, "NEVER", 1.5)                 # the sample replays in microseconds
        proc.send_signal(signal.SIGTERM)
        if proc.wait(timeout=30) != 0:
            fail("sluiced exit code %d:\n%s" % (proc.returncode, open(log).read()))
    finally:
        if proc.poll() is None:
            proc.kill()
    text = open(log).read()
    if "rx timestamps: pcap record time" not in text or "DP: rx 92, stored 80" not in text:
        fail("sluiced did not store the sample with pcap record times:\n" + text)


def export(data, *args):
    r = subprocess.run([BLD + "/sluice", "export", "--topic", "telemetry"] + list(args) + [data],
                       capture_output=True, text=True)
    if r.returncode != 0 or "64 of 64 records of 'telemetry' written" not in r.stderr:
        fail("sluice export %s: exit %d\n%s" % (" ".join(args), r.returncode, r.stderr))
    if "warning" in r.stderr:
        fail("sluice export %s warns:\n%s" % (" ".join(args), r.stderr))


def main():
    if not SRC or not BLD:
        skip("run through meson test")
    if os.geteuid() != 0:
        skip("DPDK virtual ports need root")
    if not shutil.which("tcpdump"):
        skip("tcpdump is not installed (firmware-config/packages.txt)")
    sample = os.path.join(SRC, "firmware-config", "samples", "sample.pcap")
    work = tempfile.mkdtemp(prefix="sluice-export.")
    try:
        manifest = os.path.join(work, "manifest")
        subprocess.run([BLD + "/perf/sluice-trafgen", "-o", os.path.join(work, "s.pcap"),
                        "--manifest", manifest], check=True)
        want = tap_packets(read_pcap(sample)[1])
        exp = [v for _, v in load_manifest(manifest)["records"]["telemetry"]]
        if len(want) != 64 or [p[5] for p in want] != exp:
            fail("the sample's tap packets (%d) are not the manifest's telemetry records (%d)"
                 % (len(want), len(exp)))

        data = os.path.join(work, "data")
        run_sluiced(work, data)
        out, outng = os.path.join(work, "out.pcap"), os.path.join(work, "out.pcapng")
        export(data, "--pcap", out)
        export(data, "--pcapng", outng)

        magic, frames = read_pcap(out)
        if magic != 0xA1B23C4D:
            fail("out.pcap is not a nanosecond pcap (magic %#x)" % magic)
        if [f for _, f in frames] != [p[6] for p in want]:
            fail("the exported frames are not the replayed frames byte for byte")
        print("ok - pcap: the 64 tap frames of the sample, byte for byte, nanosecond pcap")

        expect = [p[:6] for p in want]
        for name, path in (("pcap", out), ("pcapng", outng)):
            got = tcpdump(path)
            if len(got) != len(expect):
                fail("%s: tcpdump reads %d packets, %d expected" % (name, len(got), len(expect)))
            for i, (g, e) in enumerate(zip(got, expect)):
                if g != e:
                    fail("%s packet %d: tcpdump reads\n  %r\nexpected (replayed pcap)\n  %r"
                         % (name, i, g, e))
            print("ok - %s read by tcpdump: timestamps (ns), addresses, ports, payloads "
                  "equal the replayed pcap's; checksums valid" % name)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree("/var/run/dpdk/" + PREFIX, ignore_errors=True)


if __name__ == "__main__":
    main()
