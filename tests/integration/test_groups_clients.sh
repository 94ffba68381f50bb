#!/usr/bin/env bash
# Consumer groups with stock clients against the real sluiced
# (tests/integration/test_groups_clients.py): kafka-python members join,
# leave and are SIGKILLed on a 4-partition topic; kcat -G consumes, stops
# and resumes at its commits; then the committed offsets survive a SIGKILL
# of the daemon and a clean restart.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "DPDK virtual ports need root"
command -v kcat >/dev/null || skip "kcat not installed"
/usr/bin/python3 -c "import kafka" 2>/dev/null || skip "python3-kafka not installed"

py=$src/tests/integration/test_groups_clients.py
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cd "$src"
n=0
start() {
	n=$((n + 1))
	log=$work/sluiced.$n.log
	"$bld/sluiced" --override "log.dirs=$work/data" \
		--override "listeners=PLAINTEXT://127.0.0.1:$port" \
		--override group.initial.rebalance.delay.ms=0 \
		--override metrics.listener= \
		-- $(eal_test_args) >"$log" 2>&1 &
	pid=$!
	pids+=("$pid")
	wait_for "$log" "running; SIGTERM" 30 || { cat "$log"; fail "sluiced did not come up"; }
}

start
ok "sluiced up on port $port"
/usr/bin/python3 "$py" group "$port" "$work" || { tail -40 "$log"; fail "kafka-python group"; }
/usr/bin/python3 "$py" kcat "$port" || { tail -40 "$log"; fail "kcat -G"; }
grep -Eq 'CTL: group grp-g1: CompletingRebalance -> Stable, generation [0-9]+, [0-9]+ member' "$log" ||
	{ grep 'CTL: group' "$log"; fail "no state-change line for group grp-g1"; }
ok "group state changes logged ($(grep -c 'CTL: group .* -> ' "$log") lines)"
/usr/bin/python3 "$py" offsets "$port" >"$work/before.json" || fail "OffsetFetch"

kill -9 "$pid"; wait "$pid" 2>/dev/null
start
/usr/bin/python3 "$py" offsets "$port" >"$work/after-kill.json" || fail "OffsetFetch after SIGKILL"
cmp -s "$work/before.json" "$work/after-kill.json" ||
	fail "offsets changed across SIGKILL: $(cat "$work/before.json") -> $(cat "$work/after-kill.json")"
grep -q '"grp-kcat/3": 600' "$work/after-kill.json" || fail "unexpected offsets $(cat "$work/after-kill.json")"
ok "SIGKILL and restart: OffsetFetch returns the same offsets"

kill -TERM "$pid"; wait "$pid"; rc=$?
[ $rc -eq 0 ] || { cat "$log"; fail "exit code $rc after SIGTERM"; }
start
/usr/bin/python3 "$py" offsets "$port" >"$work/after-term.json" || fail "OffsetFetch after restart"
cmp -s "$work/before.json" "$work/after-term.json" ||
	fail "offsets changed across a clean restart: $(cat "$work/after-term.json")"
ok "clean stop and restart: OffsetFetch returns the same offsets"
kill -TERM "$pid"; wait "$pid" || fail "exit code after SIGTERM"
