#!/usr/bin/env bash
# Regression guard without timing: instructions per tap packet in the lcore
# poll loop (dp_lcore_poll: net_pcap's rx_burst, parse, rule match, record
# encode into the partition ring, batch seal with its CRC-32C, free), counted
# by callgrind over bench_dataplane's fixed 64-byte tap frames, against the
# committed budget in perf/ir_budget.txt.  Instructions, not time: the count
# per packet does not move with the machine's load.
# Usage: perf/ir_guard.sh BENCH_DATAPLANE BUDGET_FILE
# Exit: 0 within budget, 1 over it or the run failed, 77 valgrind missing or not root.
set -euo pipefail
bench=$1 budget_file=$2
command -v valgrind >/dev/null || { echo "SKIP: valgrind not installed"; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: DPDK ports need root"; exit 77; }
budget=$(awk '$1 == "budget" {print $2}' "$budget_file")
work=$(mktemp -d /tmp/sluice-irguard.XXXXXX)
trap 'rm -rf "$work"' EXIT
# -C: no ceiling phase; -s 0.1 after bench_dataplane's 0.5 s warm-up; a 32 MiB ring so the
# writer, slowed down by valgrind like everything else, never fills it (no ring_full).
valgrind --tool=callgrind --fair-sched=yes --toggle-collect=dp_lcore_poll \
	--callgrind-out-file="$work/cg.out" "$bench" -C -s 0.1 -r 33554432 "$work" tap \
	--no-huge -m 256 --no-shconf >"$work/out" 2>"$work/err" ||
	{ tail -20 "$work/out" "$work/err"; exit 1; }
ir=$(awk '/^(summary|totals):/ {print $2; exit}' "$work/cg.out")
pkts=$(awk '/^lcore_rx_packets_total/ {print $2}' "$work/out")
grep -q 'drops=0 ring_full=0' "$work/out" || { cat "$work/out"; echo "FAIL: the run dropped records"; exit 1; }
[ -n "$ir" ] && [ "${pkts:-0}" -gt 10000 ] || { cat "$work/out"; echo "FAIL: no count ($ir / $pkts)"; exit 1; }
per=$(echo "scale=1; $ir / $pkts" | bc)
echo "instructions per tap packet in dp_lcore_poll: $per ($ir / $pkts packets); budget $budget"
if [ "$(echo "$per > $budget" | bc)" -eq 1 ]; then
	echo "FAIL: over budget by $(echo "scale=1; 100 * ($per - $budget) / $budget" | bc) %"
	exit 1
fi
