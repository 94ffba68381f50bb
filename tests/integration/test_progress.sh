#!/usr/bin/env bash
# Progress lines of long operations.
# Recovery: sluiced fills a data directory with 40+ small segments (the
# sample replayed in a loop, log.segment.bytes=262144), is killed with
# SIGKILL, and restarts with SLUICE_PROGRESS_MS=1: while the partitions load
# it logs "recovery: P/T partitions, X of Y checked" lines, then one "done"
# line whose counts are complete.  A clean restart (the default 1 s
# interval, a fast load) logs none.
# Export: `sluice export --progress --format raw` of that data writes
# progress lines to standard error only (standard output holds exactly the
# records), none without --progress when standard error is not a terminal;
# --progress with -q, and a bad SLUICE_PROGRESS_MS, are usage errors (2).
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

# Export of the (now cleanly closed) data directory, offline.
exp() { "$bld/sluice" export -t telemetry --format raw --hex "$@" "$work/data"; }
SLUICE_PROGRESS_MS=1 exp --progress >"$work/x.out" 2>"$work/x.err" ||
	{ cat "$work/x.err"; fail "export --progress"; }
records=$(wc -l <"$work/x.out")
[ "$records" -ge 1000 ] || fail "only $records records exported"
grep -q "sluice export" "$work/x.out" && fail "progress text on standard output"
grep -vqE '^[0-9a-f]*$' "$work/x.out" && fail "standard output holds more than the values"
plines=$(grep -cE "^sluice export: [0-9]+ records written, [0-9]+ read, [0-9]+%$" "$work/x.err")
[ "$plines" -ge 2 ] || { cat "$work/x.err"; fail "$plines progress lines"; }
grep -q "^sluice export: $records records written, $records read, 100%$" "$work/x.err" ||
	{ cat "$work/x.err"; fail "no final progress line at 100 %"; }
grep -q "$records of $records records of 'telemetry' written to standard output" "$work/x.err" ||
	fail "no summary"
ok "export --progress: $records records on stdout, $plines progress lines on stderr only"

SLUICE_PROGRESS_MS=1 exp >"$work/y.out" 2>"$work/y.err" || fail "export"
cmp -s "$work/x.out" "$work/y.out" || fail "output differs with --progress"
grep -q "records written, .* read" "$work/y.err" && fail "progress lines without a terminal"
exp --progress -q >/dev/null 2>"$work/z.err"; rc=$?
[ $rc -eq 2 ] && grep -q "contradict" "$work/z.err" || fail "--progress -q: exit $rc"
SLUICE_PROGRESS_MS=0 exp --progress >/dev/null 2>"$work/z.err"; rc=$?
[ $rc -eq 2 ] && grep -q "SLUICE_PROGRESS_MS=0: expected" "$work/z.err" || fail "bad env: exit $rc"
ok "export: no progress off a terminal without --progress; usage errors exit 2"
