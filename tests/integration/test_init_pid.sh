#!/usr/bin/env bash
# InitProducerId against the real sluiced: raw v0/v1 requests
# (tests/integration/test_init_pid.py) get distinct, increasing producer ids;
# after a SIGKILL and after a clean stop, a restart on the same log.dirs only
# hands out ids above every id seen before; an idempotent kcat (librdkafka
# enable.idempotence=true) acquires one and produces; a corrupt
# producer-id-block stops the start with a line naming the file.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "DPDK virtual ports need root"

py=$src/tests/integration/test_init_pid.py
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cd "$src"
n=0
launch() {
	n=$((n + 1))
	log=$work/sluiced.$n.log
	"$bld/sluiced" --override "log.dirs=$work/data" \
		--override "listeners=PLAINTEXT://127.0.0.1:$port" \
		--override metrics.listener= \
		-- $(eal_test_args) >"$log" 2>&1 &
	pid=$!
	pids+=("$pid")
}
start() {
	launch
	wait_for "$log" "running; SIGTERM" 30 || { cat "$log"; fail "sluiced did not come up"; }
}
# ids ABOVE: check a round of ids, set $seen to the largest.
ids() {
	seen=$(/usr/bin/python3 "$py" "$port" "$1") || { tail -30 "$log"; fail "InitProducerId round above $1"; }
}

start
ok "sluiced up on port $port"
ids -1
first=$seen
[ -f "$work/data/producer-id-block" ] || fail "no producer-id-block in log.dirs"
ok "v0/v1: distinct increasing ids up to $seen, transactional_id refused with 53"

kill -9 "$pid"; wait "$pid" 2>/dev/null
start
ids "$seen"
ok "SIGKILL and restart: ids above every earlier one (up to $seen)"

if command -v kcat >/dev/null; then
	seq 1 20 | kcat -b "127.0.0.1:$port" -P -t idem -X enable.idempotence=true -X acks=all \
		-d eos 2>"$work/kcat.err" || { cat "$work/kcat.err"; fail "idempotent kcat produce"; }
	kpid=$(sed -n 's/.*Acquired PID{Id:\([0-9]*\),Epoch:0}.*/\1/p' "$work/kcat.err" | head -1)
	[ -n "$kpid" ] || { cat "$work/kcat.err"; fail "kcat acquired no producer id"; }
	[ "$kpid" -gt "$seen" ] || fail "kcat got producer id $kpid, not above $seen"
	got=$(kcat -b "127.0.0.1:$port" -C -t idem -o beginning -e -q | wc -l)
	[ "$got" -eq 20 ] || fail "read back $got of 20 idempotently produced messages"
	seen=$kpid
	ok "idempotent kcat: producer id $kpid, 20 messages produced"
fi

kill -TERM "$pid"; wait "$pid"; rc=$?
[ $rc -eq 0 ] || { cat "$log"; fail "exit code $rc after SIGTERM"; }
start
ids "$seen"
[ "$seen" -gt "$first" ] || fail "ids went backwards"
ok "clean stop and restart: ids above every earlier one (up to $seen)"
kill -TERM "$pid"; wait "$pid" || fail "exit code after SIGTERM"

# A corrupt reservation: refusing to start is the only safe answer.
printf 'garbage\n' >"$work/data/producer-id-block"
launch
wait "$pid"; rc=$?
[ $rc -ne 0 ] || { cat "$log"; fail "sluiced started on a corrupt producer-id-block"; }
grep -q "producer-id-block: corrupt" "$log" || { cat "$log"; fail "no log line naming the corrupt file"; }
grep -q "running; SIGTERM" "$log" && fail "sluiced served with a corrupt producer-id-block"
[ "$(cat "$work/data/producer-id-block")" = garbage ] || fail "the corrupt file was overwritten"
ok "corrupt producer-id-block: start refused (exit $rc), file left as it was"
