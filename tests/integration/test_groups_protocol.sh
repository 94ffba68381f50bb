#!/usr/bin/env bash
# The group coordinator of the real sluiced over raw Kafka frames
# (tests/integration/test_groups_protocol.py): FindCoordinator, JoinGroup,
# SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch with Kafka's
# exact error codes, truncated frames; then the committed offsets and the
# group's generation across a SIGKILL restart and a SIGTERM restart.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "DPDK virtual ports need root"

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
min_session=6000
max_session=1800000
meta_max=4096
py=$src/tests/integration/test_groups_protocol.py
state=$work/groups-state.json
cd "$src"

# A node id other than the default 0, so FindCoordinator's is checked.  (Not
# the bare "broker.id": --override takes its "broker." as the section prefix.)
# start N: sluiced number N on $work/data, its log in $work/sluiced.N.log.
start() {
	log=$work/sluiced.$1.log
	"$bld/sluiced" --override "log.dirs=$work/data" \
		--override "listeners=PLAINTEXT://127.0.0.1:$port" \
		--override broker.id=7 \
		--override group.initial.rebalance.delay.ms=0 \
		--override group.min.session.timeout.ms=$min_session \
		--override group.max.session.timeout.ms=$max_session \
		--override offset.metadata.max.bytes=$meta_max \
		-- $(eal_test_args) >"$log" 2>&1 &
	pid=$!
	pids+=("$pid")
	wait_for "$log" "running; SIGTERM" 30 || { cat "$log"; fail "sluiced ($1) did not come up"; }
	ok "sluiced ($1) up on port $port"
}

stop_clean() {
	kill -TERM "$pid"
	wait "$pid"; rc=$?
	[ $rc -eq 0 ] || { tail -50 "$log"; fail "exit code $rc after SIGTERM"; }
	grep -q "stopped cleanly" "$log" || { tail -50 "$log"; fail "no clean stop line"; }
	ok "SIGTERM: exit code 0, stopped cleanly"
}

start 1
/usr/bin/python3 "$py" run "$port" "$state" $min_session $max_session $meta_max ||
	{ tail -50 "$log"; fail "group protocol checks"; }
grep -q "__consumer_offsets: created with" "$log" || { tail -50 "$log"; fail "no log line for __consumer_offsets"; }
ok "__consumer_offsets creation logged"

# Commits are acknowledged once durable: SIGKILL right after must lose none.
kill -9 "$pid"
wait "$pid" 2>/dev/null
ok "SIGKILL after the commits"

start 2
/usr/bin/python3 "$py" verify "$port" "$state" ||
	{ tail -50 "$log"; fail "offsets after the SIGKILL restart"; }
stop_clean

start 3
/usr/bin/python3 "$py" verify "$port" "$state" ||
	{ tail -50 "$log"; fail "offsets after the SIGTERM restart"; }
stop_clean
