#!/usr/bin/env bash
# Kafka's three delivery semantics on the TCP path, with librdkafka through a
# proxy that loses produce requests and responses (fault_proxy.py):
#   at-most-once  (no retries)        loses records, never duplicates;
#   at-least-once (retries)           never loses, duplicates;
#   exactly-once  (enable.idempotence) neither - also with sluiced SIGKILLed
#                                      and restarted in the middle.
# Each over SLUICE_DELIVERY_COUNT (100,000) records, counted by reading the
# topic back; then a crafted ProduceRequest replayed byte for byte is stored
# once and answered with the same offset (test_delivery_tcp.py).
# Usage (meson): test_delivery_tcp.sh BUILD_DIR/tests/integration/rdk_delivery
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "DPDK virtual ports need root"
command -v kcat >/dev/null || skip "kcat not installed"
/usr/bin/python3 -c "import kafka" 2>/dev/null || skip "python3-kafka not installed"
rdk=$(realpath "${1:?path of rdk_delivery}")
count=${SLUICE_DELIVERY_COUNT:-100000}
py=$src/tests/integration/test_delivery_tcp.py

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
pport=$(free_port)
cd "$src"
n=0
start() {
	n=$((n + 1))
	log=$work/sluiced.$n.log
	"$bld/sluiced" --override "log.dirs=$work/data" \
		--override "listeners=PLAINTEXT://127.0.0.1:$port" \
		--override "advertised.listeners=PLAINTEXT://127.0.0.1:$pport" \
		--override metrics.listener= \
		-- $(eal_test_args) >"$log" 2>&1 &
	pid=$!
	pids+=("$pid")
	wait_for "$log" "running; SIGTERM" 30 || { cat "$log"; fail "sluiced did not come up"; }
}
proxy() {  # proxy SEED P_REQUEST P_RESPONSE
	/usr/bin/python3 "$src/tests/integration/fault_proxy.py" "$pport" "$port" "$1" "$2" "$3" \
		"$work/proxy.stats" &
	ppid=$!
	pids+=("$ppid")
	sleep 0.5
}
proxy_stop() {
	kill -TERM "$ppid"; wait "$ppid" 2>/dev/null
	cat "$work/proxy.stats"
}

start
ok "sluiced up on port $port, advertised through the fault proxy on $pport"
proxy 0 0 0      # clients learn the proxy's address from Metadata
/usr/bin/python3 "$py" topics "$port" d-amo d-alo d-eos d-eos-kill d-replay || fail "creating the topics"
proxy_stop >/dev/null

# run SEMANTICS TOPIC: produce through the proxy; the counts of the topic read back.
run() {
	"$rdk" "127.0.0.1:$pport" "$2" "$count" "$1" >"$work/$2.out" 2>"$work/$2.err" ||
		{ cat "$work/$2.err"; fail "$1: rdk_delivery"; }
	/usr/bin/python3 "$py" count "$port" "$2" "$count" >"$work/$2.count" ||
		fail "$1: reading $2 back"
	proxy_stop >"$work/$2.proxy"
	echo "$1: $(cat "$work/$2.out"); read back: $(cat "$work/$2.count"); proxy: $(cat "$work/$2.proxy")"
}
field() { awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' "$1"; }

proxy 1 0.04 0
run at-most-once d-amo
lost=$(field "$work/d-amo.count" missing); dup=$(field "$work/d-amo.count" duplicated)
failed=$(field "$work/d-amo.out" failed)
[ "$dup" -eq 0 ] || fail "at-most-once duplicated $dup records"
[ "$lost" -gt 0 ] || fail "at-most-once lost nothing: the proxy lost no request?"
[ "$lost" -le "$failed" ] || fail "at-most-once: $lost lost but only $failed reported failed"
ok "at-most-once: $lost of $count lost (all reported failed), none duplicated"

proxy 2 0.02 0.04
run at-least-once d-alo
lost=$(field "$work/d-alo.count" missing); dup=$(field "$work/d-alo.count" duplicated)
[ "$lost" -eq 0 ] || fail "at-least-once lost $lost records"
[ "$dup" -gt 0 ] || fail "at-least-once duplicated nothing: the proxy lost no response?"
[ "$(field "$work/d-alo.out" failed)" -eq 0 ] || fail "at-least-once: deliveries failed"
ok "at-least-once: none lost, $dup duplicated"

proxy 3 0.02 0.04
run exactly-once d-eos
lost=$(field "$work/d-eos.count" missing); dup=$(field "$work/d-eos.count" duplicated)
[ "$lost" -eq 0 ] && [ "$dup" -eq 0 ] || fail "exactly-once: $lost lost, $dup duplicated"
[ "$(field "$work/d-eos.out" failed)" -eq 0 ] || fail "exactly-once: deliveries failed"
grep -q "idempotent 1" "$work/d-eos.out" || fail "librdkafka did not enable idempotence"
ok "exactly-once: none lost, none duplicated, through the same faults"

# Exactly-once across a SIGKILL of the broker in the middle of the run.
proxy 4 0.01 0.02
"$rdk" "127.0.0.1:$pport" d-eos-kill "$count" exactly-once >"$work/kill.out" 2>"$work/kill.err" &
rpid=$!
pids+=("$rpid")
sleep 1
kill -0 "$rpid" 2>/dev/null || fail "librdkafka was done before the SIGKILL: nothing tested"
kill -9 "$pid"; wait "$pid" 2>/dev/null
ok "sluiced SIGKILLed while librdkafka produced"
start
wait "$rpid" || { cat "$work/kill.err"; fail "rdk_delivery after the restart"; }
/usr/bin/python3 "$py" count "$port" d-eos-kill "$count" >"$work/kill.count" || fail "reading back"
proxy_stop >"$work/kill.proxy"
echo "exactly-once + SIGKILL: $(cat "$work/kill.out"); read back: $(cat "$work/kill.count"); proxy: $(cat "$work/kill.proxy")"
lost=$(field "$work/kill.count" missing); dup=$(field "$work/kill.count" duplicated)
[ "$lost" -eq 0 ] && [ "$dup" -eq 0 ] || fail "exactly-once across SIGKILL: $lost lost, $dup duplicated"
ok "exactly-once across a SIGKILL and restart: none lost, none duplicated"

/usr/bin/python3 "$py" replay "$port" || { tail -30 "$log"; fail "byte-for-byte replay"; }

proxy 0 0 0
t0=$SECONDS
"$rdk" "127.0.0.1:$pport" d-eos 0 transactional >"$work/txn.out" 2>&1 ||
	fail "transactional run: $(cat "$work/txn.out")"
proxy_stop >/dev/null
grep -q "init_transactions: TRANSACTIONAL_ID_AUTHORIZATION_FAILED fatal 1" "$work/txn.out" ||
	fail "transactional producer: $(cat "$work/txn.out")"
[ $((SECONDS - t0)) -lt 15 ] || fail "transactional producer took $((SECONDS - t0)) s to fail"
ok "a transactional producer fails at once (fatal 53: no transactions here)"

kill -TERM "$pid"; wait "$pid" || fail "exit code after SIGTERM"
start
/usr/bin/python3 "$py" after-restart "$port" || { tail -30 "$log"; fail "replay after a restart"; }
kill -TERM "$pid"; wait "$pid" || fail "exit code after SIGTERM"
ok "SIGTERM: clean stop"
