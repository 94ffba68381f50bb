#!/usr/bin/env bash
# Recovery progress: sluiced fills a data directory with 40+ small segments
# (the sample replayed in a loop, log.segment.bytes=262144), is killed with
# SIGKILL, and restarts with SLUICE_PROGRESS_MS=1: while the partitions load
# it logs "recovery: P/T partitions, X of Y checked" lines, then one "done"
# line whose counts are complete.  A clean restart (the default 1 s
# interval, a fast load) logs none.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "DPDK virtual ports need root"

cd "$src"
kport=$(free_port)
mem=$(eal_test_args)
# start NAME [ARGS...]: sluiced on $work/data; sets pid, log.
start() {
	log=$work/sluiced.$1.log
	shift
	"$bld/sluiced" --override "log.dirs=$work/data" \
		--override "listeners=PLAINTEXT://127.0.0.1:$kport" --override metrics.listener= \
		--override log.segment.bytes=262144 "$@" -- $mem >"$log" 2>&1 &
	pid=$!
	pids+=("$pid")
	wait_for "$log" "running; SIGTERM" 60 || { cat "$log"; fail "sluiced did not come up"; }
}
stop() {
	kill -TERM "$pid"
	wait "$pid" || { tail -20 "$log"; fail "exit code after SIGTERM"; }
}
segments() { find "$work/data" -name '*.log' | wc -l; }

start fill --override \
	"dataplane.ports.sample0.device=net_pcap0,rx_pcap=firmware-config/samples/sample.pcap,infinite_rx=1"
for _ in $(seq 300); do [ "$(segments)" -ge 40 ] && break; sleep 0.05; done
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
n=$(segments)
[ "$n" -ge 40 ] || fail "only $n segments written"
ok "$n segments written, then SIGKILL"

SLUICE_PROGRESS_MS=1 start crash
grep -q "no clean shutdown marker" "$log" || { cat "$log"; fail "not a recovery"; }
lines=$(grep -c "recovery: [0-9]*/[0-9]* partitions, .* of .* checked$" "$log")
[ "$lines" -ge 1 ] || { cat "$log"; fail "no progress line during recovery"; }
done_line=$(grep "recovery: .*checked: done in [0-9.]* s$" "$log") ||
	{ cat "$log"; fail "no final progress line"; }
# The end: every partition found on disk loaded, every byte of it checked.
[[ $done_line =~ recovery:\ ([0-9]+)/([0-9]+)\ partitions,\ (.*)\ of\ (.*)\ checked ]] ||
	fail "unparsable: $done_line"
[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] || fail "partitions not all loaded: $done_line"
[ "${BASH_REMATCH[1]}" -ge 2 ] || fail "fewer than the 2 partitions: $done_line"
[ "${BASH_REMATCH[3]}" = "${BASH_REMATCH[4]}" ] || { cat "$log"; fail "bytes not all checked: $done_line"; }
ok "recovery of $n segments: $lines progress line(s), then: ${done_line#*recovery: }"
stop

start clean
grep -q "clean shutdown marker found" "$log" || { cat "$log"; fail "not a clean start"; }
grep -q "recovery: " "$log" && { grep "recovery: " "$log"; fail "progress lines on a fast load"; }
ok "clean restart, default interval: no progress line"
stop

SLUICE_PROGRESS_MS=abc start badenv
grep -q "SLUICE_PROGRESS_MS=abc: not 1..3600000; 1000 used" "$log" || { cat "$log"; fail "bad env"; }
ok "a bad SLUICE_PROGRESS_MS is refused with a warning"
stop
