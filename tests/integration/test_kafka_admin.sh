#!/usr/bin/env bash
# The real sluiced against real clients: kcat -L, kafka-python's admin client
# (create with 3 partitions and retention.ms, describe, list, delete), an
# unknown topic with auto-create off, then abuse - a frame claiming 2 GiB,
# random bytes, 500 idle connections and more than max.connections - while
# kcat -L keeps working (tests/integration/test_kafka_admin.py).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "DPDK virtual ports need root"
command -v kcat >/dev/null || skip "kcat not installed"
/usr/bin/python3 -c "import kafka" 2>/dev/null || skip "python3-kafka not installed"

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cd "$src"
log=$work/sluiced.log
"$bld/sluiced" --override "log.dirs=$work/data" \
	--override "listeners=PLAINTEXT://127.0.0.1:$port" \
	--override auto.create.topics.enable=false \
	--override max.connections=520 \
	--override connections.max.idle.ms=3000 \
	-- $(eal_test_args) >"$log" 2>&1 &
pid=$!
pids+=("$pid")
wait_for "$log" "running; SIGTERM" 30 || { cat "$log"; fail "sluiced did not come up"; }
ok "sluiced up on port $port"

/usr/bin/python3 "$src/tests/integration/test_kafka_admin.py" "$port" ||
	{ tail -50 "$log"; fail "kafka admin checks"; }

grep -q "exceeds socket.request.max.bytes" "$log" || { cat "$log"; fail "no log line for the 2 GiB frame"; }
grep -q "max.connections 520 reached" "$log" || { cat "$log"; fail "no log line for max.connections"; }
grep -q "idle for connections.max.idle.ms" "$log" || { cat "$log"; fail "no log line for idle close"; }
grep -q "topic adm-t1 created: 3 partition" "$log" || fail "no log line for the created topic"
ok "limits and topic changes logged"

kill -TERM "$pid"
wait "$pid"; rc=$?
[ $rc -eq 0 ] || { cat "$log"; fail "exit code $rc after SIGTERM"; }
grep -q "stopped cleanly" "$log" || { cat "$log"; fail "no clean stop line"; }
ok "SIGTERM: clean stop"
