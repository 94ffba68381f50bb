#!/usr/bin/env python3
"""Helpers of test_dumpcap.sh.

capture OUT.pcapng IN.pcap N: OUT holds N packets (up to a burst more) and each one's
bytes are those of a frame of IN (a pcapng and a pcap reader, no library).
telemetry SOCKET: /sluice/stats, /sluice/partitions and /sluice/config
answer on DPDK's telemetry socket (SOCK_SEQPACKET, a JSON hello first).
"""
import json
import socket
import struct
import sys


def pcap_frames(path):
    d = open(path, "rb").read()
    magic = struct.unpack("<I", d[:4])[0]
    end = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    off, out = 24, set()
    while off + 16 <= len(d):
        _, _, incl, _ = struct.unpack(end + "IIII", d[off:off + 16])
        out.add(d[off + 16:off + 16 + incl])
        off += 16 + incl
    return out


def pcapng_packets(path):
    d = open(path, "rb").read()
    off, out, end = 0, [], "<"
    while off + 12 <= len(d):
        btype = struct.unpack(end + "I", d[off:off + 4])[0]
        if btype == 0x0A0D0D0A:  # section header: its byte order
            end = "<" if d[off + 8:off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
        blen = struct.unpack(end + "I", d[off + 4:off + 8])[0]
        if blen < 12:
            raise SystemExit(f"bad block length {blen} at {off}")
        if btype == 6:  # enhanced packet block
            caplen = struct.unpack(end + "I", d[off + 20:off + 24])[0]
            out.append(d[off + 28:off + 28 + caplen])
        off += blen
    return out


def check_capture(out, inp, n):
    frames = pcap_frames(inp)
    pkts = pcapng_packets(out)
    # dpdk-dumpcap 22.11 checks -c after each burst it writes (up to 32)
    if not n <= len(pkts) < n + 32:
        raise SystemExit(f"{len(pkts)} packets captured, want {n} (up to a burst more)")
    for i, p in enumerate(pkts):
        if p not in frames:
            raise SystemExit(f"packet {i} ({len(p)} bytes) is no frame of {inp}")
    print(f"{len(pkts)} packets (-c {n}), all from {inp} ({len(set(pkts))} distinct)")


def ask(sock_path, cmd):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sock_path)
    hello = json.loads(s.recv(1 << 16))
    if "pid" not in hello:
        raise SystemExit(f"hello: {hello}")
    s.send(cmd.encode())
    reply = json.loads(s.recv(1 << 20))
    s.close()
    if reply.get(cmd.split(",")[0]) is None:
        raise SystemExit(f"{cmd}: {reply}")
    return reply[cmd.split(",")[0]]


def check_telemetry(sock_path):
    st = ask(sock_path, "/sluice/stats")
    drops = sum(v for k, v in st.items() if k.startswith("drops/"))
    if st["rx_packets"] == 0 or st["drops/no_rule"] == 0:
        raise SystemExit(f"/sluice/stats: nothing received or no no_rule drops: {st}")
    if st["lcore"] != [1] or st["port"] != ["sample0"] or st["lcore_rx_packets"][0] == 0:
        raise SystemExit(f"/sluice/stats: lcore/port columns: {st}")
    if st["stored_packets"] != 0 or drops == 0:
        raise SystemExit(f"/sluice/stats: stored {st['stored_packets']}, drops {drops}")
    pa = ask(sock_path, "/sluice/partitions")
    if sorted(pa["topic"]) != ["orders", "telemetry"] or pa["ring_size"][0] == 0:
        raise SystemExit(f"/sluice/partitions: {pa}")
    for col in ("records", "written", "flushed", "durable", "ring_used"):
        if len(pa[col]) != 2:
            raise SystemExit(f"/sluice/partitions: column {col}: {pa}")
    one = ask(sock_path, "/sluice/partitions,orders")
    if one["topic"] != ["orders"]:
        raise SystemExit(f"/sluice/partitions,orders: {one}")
    cf = ask(sock_path, "/sluice/config")
    if cf["ports"] != ["sample0"] or sorted(cf["topics"]) != ["orders", "telemetry"]:
        raise SystemExit(f"/sluice/config: {cf}")
    if "udp/6000 tap -> telemetry" not in cf["rules"]:
        raise SystemExit(f"/sluice/config rules: {cf['rules']}")
    print(f"stats rx {st['rx_packets']} no_rule {st['drops/no_rule']}; "
          f"partitions {pa['topic']}; config ports {cf['ports']}")


if __name__ == "__main__":
    if sys.argv[1] == "capture":
        check_capture(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        check_telemetry(sys.argv[2])
