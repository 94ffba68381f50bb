#!/usr/bin/env bash
# UDP produce mode with SLA1 acks through DPDK TX, end to end with the
# project's own producer: `sluice produce-udp` sends 100,000 records per case
# through a forwarder that loses 5 % of the datagrams, sends 5 % twice and
# loses 5 % of the acks on the way back (udp_fault_fwd.py, seeded), to
# sluiced on a net_tap port; the topic is read back with kcat and counted:
#   at-most-once (--idempotent): loses records, never duplicates;
#   at-least-once: loses nothing, duplicates (lost acks make resends);
#   exactly-once: neither -- the appliance counts the resends as 'duplicate'.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "DPDK virtual ports need root"
command -v kcat >/dev/null || skip "kcat not installed"
command -v ip >/dev/null || skip "iproute2 not installed"
[ -e /dev/net/tun ] || skip "no /dev/net/tun: net_tap cannot run"
ip link show sltap0 >/dev/null 2>&1 && skip "interface sltap0 already exists"
n=${SLUICE_UDP_RECORDS:-100000}

port=$(free_port)
cd "$src"
start() {
	log=$work/sluiced.$1.log
	"$bld/sluiced" --override "log.dirs=$work/data.$1" \
		--override "listeners=PLAINTEXT://127.0.0.1:$port" \
		--override metrics.listener= \
		--override "dataplane.ports.sample0.device=net_tap0,iface=sltap0" \
		-- $(eal_test_args) >"$log" 2>&1 &
	pid=$!
	pids+=("$pid")
	wait_for "$log" "running; SIGTERM" 30 || { cat "$log"; fail "sluiced did not come up"; }
	tap_up sltap0 10.77.0
}
stop() {
	kill -TERM "$pid"; wait "$pid" || { tail -20 "$log"; fail "sluiced exit code"; }
	dp=$(grep -o "DP: rx .*" "$log")
	echo "  appliance: $dp"
}

# produce SEMANTICS SEED [ARGS...]: the records through the lossy forwarder; sets lost, dup.
produce() {
	local sem=$1 seed=$2 fport fpid rc=0
	shift 2
	fport=$(free_port udp)
	/usr/bin/python3 "$src/tests/integration/udp_fault_fwd.py" "$fport" 10.77.0.1 10.77.0.2 5001 \
		"$seed" >"$work/fwd.$sem" 2>&1 &
	fpid=$!
	pids+=("$fpid")
	wait_for "$work/fwd.$sem" listening 10 || fail "forwarder did not start"
	seq -f 'm-%.0f' 0 $((n - 1)) | timeout 300 "$bld/sluice" produce-udp -s "$sem" "$@" \
		-b "127.0.0.1:$port" "127.0.0.1:$fport" 2>"$work/pu.$sem" || rc=$?
	kill -TERM "$fpid"; wait "$fpid" || true
	echo "  $(tail -1 "$work/pu.$sem")"
	echo "  $(grep '^fwd:' "$work/fwd.$sem")"
	[ "$rc" -eq 0 ] || fail "$sem: produce-udp exited $rc"
	read -r lost dup < <(kcat -C -b "127.0.0.1:$port" -t orders -o beginning -e -q -f '%s\n' |
		awk -v n="$n" '/^m-/ { if (seen[$0]++) d++ } END { print n - length(seen), d + 0 }')
	echo "$sem: $n records sent, $lost lost, $dup duplicated"
}

start at-most-once
produce at-most-once 1 --idempotent
[ "$lost" -gt 0 ] && [ "$dup" -eq 0 ] || fail "at-most-once must lose and never duplicate"
grep -q "^produce-udp: $n records .* $n sent, 0 failed" "$work/pu.at-most-once" ||
	fail "at-most-once: produce-udp's count"
stop
ok "at-most-once over UDP produce mode: records lost on the wire are lost, duplicates stored once"

start at-least-once
produce at-least-once 2
[ "$lost" -eq 0 ] && [ "$dup" -gt 0 ] || fail "at-least-once must never lose and (with lost acks) duplicate"
grep -q "^produce-udp: $n records .* $n delivered, 0 failed" "$work/pu.at-least-once" ||
	fail "at-least-once: produce-udp's count"
stop
ok "at-least-once over UDP produce mode: nothing lost, resends after lost acks stored again"

start exactly-once
produce exactly-once 3
[ "$lost" -eq 0 ] && [ "$dup" -eq 0 ] || fail "exactly-once must neither lose nor duplicate"
grep -q "^produce-udp: $n records .* $n delivered, 0 failed" "$work/pu.exactly-once" ||
	fail "exactly-once: produce-udp's count"
stop
grep -q "duplicate=" <<<"$dp" || fail "exactly-once: no duplicate counted at the appliance: $dp"
ok "exactly-once over UDP produce mode: nothing lost or duplicated; the appliance dropped the resends as 'duplicate'"
