#!/usr/bin/env bash
# sluiced answers --help/--version, starts on the default config (DPDK EAL on
# a virtual port), keeps the bundled sample's records readable through
# retention checks (the README's first kcat commands), and stops cleanly on
# SIGTERM within 2 seconds.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "DPDK virtual ports need root"

"$bld/sluiced" --help | grep -q "Usage: sluiced" || fail "--help"
"$bld/sluiced" --version | grep -qE "^sluiced [0-9]+\.[0-9]+\.[0-9]+$" || fail "--version"
"$bld/sluice" --help | grep -q "Usage: sluice" || fail "sluice --help"
"$bld/sluice" --version | grep -qE "^sluice [0-9]+\.[0-9]+\.[0-9]+$" || fail "sluice --version"
"$bld/sluiced" --bogus >/dev/null 2>&1; [ $? -eq 2 ] || fail "unknown option must exit 2"
ok "help, version, usage errors"

cd "$src"
log=$work/sluiced.log
mem=$(eal_test_args)
kport=$(free_port)
"$bld/sluiced" --override "log.dirs=$work/data" --override "listeners=PLAINTEXT://127.0.0.1:$kport" \
	--override metrics.listener= --override log.retention.check.interval.ms=200 \
	-- $mem >"$log" 2>&1 &
pid=$!
pids+=("$pid")
wait_for "$log" "running; SIGTERM" 30 || { cat "$log"; fail "sluiced did not come up"; }
grep -q "EAL: .*--vdev=net_pcap0" "$log" || { cat "$log"; fail "EAL line missing"; }
grep -q "port sample0: net_pcap0 id 0" "$log" || { cat "$log"; fail "port setup not logged"; }
[ -d "$work/data" ] || fail "log.dirs not created"
ok "started on the default config: EAL and port up"

# The sample replays once at start: 64 records in each topic.  They must
# survive retention (its check every 200 ms here): a newcomer runs the
# README's kcat commands minutes later.
count() { kcat -C -b "127.0.0.1:$kport" -t "$1" -o beginning -e -q 2>/dev/null | wc -l; }
if command -v kcat >/dev/null; then
	for _ in $(seq 100); do [ "$(count orders)" -eq 64 ] && break; sleep 0.1; done
	sleep 1.5
	for t in orders telemetry; do
		n=$(count "$t")
		[ "$n" -eq 64 ] || { grep retention "$log"; fail "$t: $n of the sample's 64 records left"; }
	done
	grep -q "retention deleted" "$log" && fail "retention deleted sample records"
	ok "the sample's records stay readable through retention checks"
fi

# An API the broker does not serve (api_key 57, UpdateFeatures) closes the
# connection, as in Kafka; a client retrying it must not flood the log.
for _ in 1 2 3; do
	/usr/bin/python3 -c '
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
body = struct.pack(">hhih", 57, 0, 1, 4) + b"test"
s.sendall(struct.pack(">i", len(body)) + body)
sys.exit(0 if s.recv(1) == b"" else 1)' "$kport" || fail "unsupported API: connection not closed"
done
n=$(grep -c "api_key 57 version 0, which this broker does not serve" "$log")
[ "$n" -eq 1 ] || fail "unsupported API logged $n times for 3 connections (want once)"
ok "an unsupported API closes the connection and is logged once per API key"

kill -TERM "$pid"
t0=$(date +%s%N)
wait "$pid"; rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ $rc -eq 0 ] || { cat "$log"; fail "exit code $rc after SIGTERM"; }
[ $ms -le 2000 ] || fail "took ${ms} ms to stop (limit 2000)"
grep -q "stopped cleanly" "$log" || { cat "$log"; fail "no clean stop line"; }
ok "SIGTERM: exit 0 in ${ms} ms"

# --log-file and SIGHUP: logrotate renames the file, then SIGHUP; the daemon
# goes on in a new file at the same path and stops cleanly.
flog=$work/sluiced.file.log
"$bld/sluiced" --override "log.dirs=$work/data2" --override "listeners=PLAINTEXT://127.0.0.1:0" \
	--override metrics.listener= --log-file "$flog" -- $mem >"$work/stdio.log" 2>&1 &
pid=$!
pids+=("$pid")
wait_for "$flog" "running; SIGTERM" 30 || { cat "$flog" "$work/stdio.log"; fail "sluiced --log-file did not come up"; }
[ -s "$work/stdio.log" ] && { cat "$work/stdio.log"; fail "output went to stderr despite --log-file"; }
mv "$flog" "$flog.1"
kill -HUP "$pid"
wait_for "$flog" "log file $flog reopened" 10 || fail "SIGHUP did not reopen the log file"
kill -TERM "$pid"; wait "$pid" || fail "exit code after SIGHUP and SIGTERM"
grep -q "stopped cleanly" "$flog" || fail "the stop was not logged in the new file"
grep -q "stopped cleanly" "$flog.1" && fail "the old file kept being written after SIGHUP"
ok "--log-file: SIGHUP reopens it (log rotation); the daemon runs on"
