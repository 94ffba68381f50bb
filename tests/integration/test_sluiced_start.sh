#!/usr/bin/env bash
# sluiced answers --help/--version, starts on the default config (DPDK EAL on
# a virtual port), and stops cleanly on SIGTERM within 2 seconds.
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
"$bld/sluiced" --override "log.dirs=$work/data" --override "listeners=PLAINTEXT://127.0.0.1:0" \
	--override metrics.listener= -- $mem >"$log" 2>&1 &
pid=$!
pids+=("$pid")
wait_for "$log" "running; SIGTERM" 30 || { cat "$log"; fail "sluiced did not come up"; }
grep -q "EAL: .*--vdev=net_pcap0" "$log" || { cat "$log"; fail "EAL line missing"; }
grep -q "port sample0: net_pcap0 id 0" "$log" || { cat "$log"; fail "port setup not logged"; }
[ -d "$work/data" ] || fail "log.dirs not created"
ok "started on the default config: EAL and port up"

kill -TERM "$pid"
t0=$(date +%s%N)
wait "$pid"; rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ $rc -eq 0 ] || { cat "$log"; fail "exit code $rc after SIGTERM"; }
[ $ms -le 2000 ] || fail "took ${ms} ms to stop (limit 2000)"
grep -q "stopped cleanly" "$log" || { cat "$log"; fail "no clean stop line"; }
ok "SIGTERM: exit 0 in ${ms} ms"
