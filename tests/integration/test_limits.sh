#!/usr/bin/env bash
# group.max.size, group.max.count and max.broker.partitions against the real
# sluiced, over raw Kafka frames (test_limits.py says what is checked).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "DPDK virtual ports need root"
port=$(free_port)
cd "$src"
log=$work/sluiced.log
"$bld/sluiced" --override "log.dirs=$work/data" --override "listeners=PLAINTEXT://127.0.0.1:$port" \
	--override metrics.listener= --override group.initial.rebalance.delay.ms=0 \
	--override group.max.size=2 --override group.max.count=3 \
	--override max.broker.partitions=60 \
	-- $(eal_test_args) >"$log" 2>&1 &
pid=$!
pids+=("$pid")
wait_for "$log" "running; SIGTERM" 30 || { cat "$log"; fail "sluiced did not come up"; }
/usr/bin/python3 "$src/tests/integration/test_limits.py" "$port" || { tail -20 "$log"; fail "limits"; }
kill -TERM "$pid"; wait "$pid" || fail "exit code"
