#!/usr/bin/env bash
# sluice top against the real sluiced on its default configuration (the
# bundled sample replayed once, then the counters stand still): the figures
# of `sluice top --once --json` equal a curl scrape of the metrics endpoint
# taken right after (rx packets and bytes, stored, every drop reason, each
# port, lcore and partition), rates are 0 once traffic stopped, and the
# text and live views come up (the live one under tmux when installed).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "DPDK virtual ports need root"
command -v curl >/dev/null || skip "curl not installed"

kport=$(free_port)
mport=$(free_port)
cd "$src"
log=$work/sluiced.log
"$bld/sluiced" --override "log.dirs=$work/data" \
	--override "listeners=PLAINTEXT://127.0.0.1:$kport" \
	--override "metrics.listener=127.0.0.1:$mport" \
	-- $(eal_test_args) >"$log" 2>&1 &
pid=$!
pids+=("$pid")
wait_for "$log" "running; SIGTERM" 30 || { cat "$log"; fail "sluiced did not come up"; }
url=http://127.0.0.1:$mport/metrics
# the sample is 92 frames; wait until all are in and the partitions are durable
for _ in $(seq 50); do
	curl -sf "$url" >"$work/m0" || fail "GET $url"
	grep -qx 'sluice_dataplane_rx_packets_total 92' "$work/m0" &&
		grep -qx 'sluice_partition_durable_offset{topic="orders",partition="0"} 64' "$work/m0" && break
	sleep 0.2
done
grep -qx 'sluice_dataplane_rx_packets_total 92' "$work/m0" || { cat "$work/m0"; fail "sample not in"; }
ok "sluiced up, sample replayed"

"$bld/sluice" top --once --json --metrics "127.0.0.1:$mport" >"$work/top.json" ||
	fail "sluice top --json"
curl -sf "$url" >"$work/m1" || fail "GET $url"
/usr/bin/python3 - "$work/top.json" "$work/m1" <<'PY' || fail "sluice top --json differs from the endpoint"
import json, re, sys
top = json.load(open(sys.argv[1]))
m = {}
for line in open(sys.argv[2]):
    if line.startswith("#") or not line.strip():
        continue
    k, v = line.rsplit(" ", 1)
    m[k] = float(v)
def eq(what, got, want):
    if got != want:
        sys.exit(f"{what}: top {got}, endpoint {want}")
t = top["totals"]
eq("rx_packets", t["rx_packets"], m["sluice_dataplane_rx_packets_total"])
eq("rx_bytes", t["rx_bytes"], m["sluice_dataplane_rx_bytes_total"])
eq("stored", t["stored_packets"], m["sluice_dataplane_stored_packets_total"])
eq("records", t["records"], sum(v for k, v in m.items() if k.startswith("sluice_dataplane_records_total{")))
eq("rx_pps (traffic stopped)", t["rx_pps"], 0)
reasons = {re.search(r'reason="([a-z_0-9]+)"', k).group(1): v for k, v in m.items()
           if k.startswith("sluice_dataplane_drops_total{")}
eq("drop reasons", top["drops"], reasons)
eq("no_rule and bad_ip_length", (top["drops"]["no_rule"], top["drops"]["bad_ip_length"]), (8, 4))
eq("ports", [p["port"] for p in top["ports"]], ["sample0"])
eq("port rx", top["ports"][0]["rx_packets"], m['sluice_port_rx_packets_total{port="sample0"}'])
eq("lcores", [l["lcore"] for l in top["lcores"]], [1])
eq("lcore rx", top["lcores"][0]["rx_packets"], m['sluice_dataplane_lcore_rx_packets_total{lcore="1"}'])
parts = {(p["topic"], p["partition"]): p for p in top["partitions"]}
for tp, n in (("telemetry", 64), ("orders", 64)):
    p = parts[(tp, 0)]
    lab = f'{{topic="{tp}",partition="0"}}'
    eq(f"{tp} records", p["records"], m["sluice_partition_records_in_total" + lab])
    eq(f"{tp} records = sample", p["records"], n)
    eq(f"{tp} durable", p["durable"], m["sluice_partition_durable_offset" + lab])
    eq(f"{tp} durable lag", p["durable_lag"], 0)
    eq(f"{tp} ring size", p["ring_size"], m["sluice_partition_ring_size_bytes" + lab])
eq("writer syncs", top["writers"]["syncs"],
   sum(v for k, v in m.items() if k.startswith("sluice_storage_syncs_total{")))
eq("problem", top["problem"]["severity"], "ok")
print("top --json = endpoint:", t["rx_packets"], "rx,", t["stored_packets"], "stored,",
      len(reasons), "drop reasons,", len(parts), "partitions")
PY
ok "sluice top --once --json matches the metrics endpoint"

"$bld/sluice" top --once --metrics "127.0.0.1:$mport" >"$work/top.txt" || fail "sluice top --once"
grep -q '^OK: no problem seen' "$work/top.txt" || { cat "$work/top.txt"; fail "no problem line"; }
grep -qE '^telemetry-0 +0 +64 ' "$work/top.txt" || { cat "$work/top.txt"; fail "no telemetry-0 row"; }
grep -qE '^no_rule +8 ' "$work/top.txt" || { cat "$work/top.txt"; fail "no no_rule row"; }
ok "sluice top --once: problem line, partitions, drops"

"$bld/sluice" top --once --metrics "127.0.0.1:1" >/dev/null 2>"$work/err" && fail "no endpoint: exit 0"
grep -q "GET http://127.0.0.1:1/metrics" "$work/err" || fail "no error line"
ok "no endpoint: exit 1 with the address"

if command -v tmux >/dev/null; then
	sock=$work/tmux
	tmux -S "$sock" new-session -d -x 100 -y 45 \
		"$bld/sluice top --metrics 127.0.0.1:$mport" || fail "tmux"
	sleep 3
	tmux -S "$sock" capture-pane -p >"$work/screen.txt"
	tmux -S "$sock" send-keys q
	sleep 0.5
	tmux -S "$sock" kill-server 2>/dev/null || true
	grep -q '^sluice top - 127.0.0.1' "$work/screen.txt" || { cat "$work/screen.txt"; fail "live view"; }
	grep -q 'PARTITION' "$work/screen.txt" || fail "live view: no partitions"
	[ -n "${SLUICE_TOP_SCREEN:-}" ] && cp "$work/screen.txt" "$SLUICE_TOP_SCREEN"
	ok "live view under tmux"
fi

kill -TERM "$pid"
wait "$pid"; rc=$?
[ $rc -eq 0 ] || { cat "$log"; fail "exit code $rc after SIGTERM"; }
ok "clean stop"
