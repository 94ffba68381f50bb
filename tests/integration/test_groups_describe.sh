#!/usr/bin/env bash
# The group admin views through the real sluiced: a kafka-python consumer in
# group g1 reads a 4-partition topic and commits, then kafka-python's admin
# client (ListGroups, DescribeGroups) and `sluice groups` (librdkafka:
# ListGroups, DescribeGroups, OffsetFetch, ListOffsets) must show the group,
# its member, its assignment and the lag - while it is Stable, after more
# records, and once the member has left (test_groups_describe.py).  The
# metrics endpoint must show the same: groups by state, members, committed
# offsets and lag per partition.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "DPDK virtual ports need root"
/usr/bin/python3 -c "import kafka" 2>/dev/null || skip "python3-kafka not installed"

free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port=$(free_port)
mport=$(free_port)
cd "$src"
log=$work/sluiced.log
"$bld/sluiced" --override "log.dirs=$work/data" \
	--override "listeners=PLAINTEXT://127.0.0.1:$port" \
	--override group.initial.rebalance.delay.ms=0 \
	--override "metrics.listener=127.0.0.1:$mport" \
	-- $(eal_test_args) >"$log" 2>&1 &
pid=$!
pids+=("$pid")
wait_for "$log" "running; SIGTERM" 30 || { cat "$log"; fail "sluiced did not come up"; }
ok "sluiced up on port $port, metrics on $mport"

/usr/bin/python3 "$src/tests/integration/test_groups_describe.py" "$port" "$bld/sluice" "$mport" ||
	{ tail -40 "$log"; fail "group describe checks"; }

kill -TERM "$pid"
wait "$pid"; rc=$?
[ $rc -eq 0 ] || { tail -30 "$log"; fail "exit code $rc after SIGTERM"; }
ok "SIGTERM: clean stop"
