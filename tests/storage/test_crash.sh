#!/usr/bin/env bash
# SIGKILL crash test: a process appends through the ring and the io_uring
# writer with durable acknowledgements and is killed at random moments.
# After each kill the log is recovered and must hold every record that was
# acknowledged as durable, verify clean, and continue without a gap or a
# repeated offset.
set -u
bld=${SLUICE_BUILD_ROOT:?run through meson test}
rounds=${CRASH_ROUNDS:-25}
dir=$(mktemp -d /tmp/sluice-crash.XXXXXX)
trap 'rm -rf "$dir"' EXIT
app=$bld/tests/storage/crash_appender
leo=0

for round in $(seq 1 "$rounds"); do
	out=$dir/round.out
	"$app" append "$dir/data" >"$out" 2>"$dir/round.err" &
	pid=$!
	# Recovery of a long log takes a while: start the clock once it appends.
	for _ in $(seq 1 300); do
		grep -q '^START' "$out" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	# 50..800 ms: kills land in the middle of writes, syncs and rolls.
	sleep "0.$(printf '%03d' $((50 + RANDOM % 750)))"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	start=$(awk '/^START/ {print $2}' "$out")
	acked=$(awk '/^DURABLE/ {v=$2} END {print v+0}' "$out")
	if [ -z "$start" ]; then
		echo "round $round: appender did not start"; cat "$dir/round.err"; exit 1
	fi
	if [ "$start" -ne "$leo" ]; then
		echo "round $round: appender started at $start, log ended at $leo (gap or repeat)"
		exit 1
	fi
	if ! res=$("$app" check "$dir/data" "$acked" 2>&1); then
		echo "round $round: check failed:"; echo "$res"; exit 1
	fi
	leo=$(echo "$res" | awk '/^LEO/ {print $2}')
	if ! "$bld/sluice" verify "$dir/data" >"$dir/verify.out" 2>&1; then
		echo "round $round: sluice verify failed:"; cat "$dir/verify.out"; exit 1
	fi
	echo "round $round: killed after $acked durable; $(echo "$res" | tr '\n' ' ')"
done
[ "$leo" -gt 0 ] || { echo "nothing was ever appended"; exit 1; }
echo "ok - $rounds SIGKILL rounds, $leo records, every acknowledged record present"
