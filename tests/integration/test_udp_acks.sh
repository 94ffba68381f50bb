#!/usr/bin/env bash
# UDP produce mode with SLA1 acks through DPDK TX: sluiced on a net_tap port,
# a Linux UDP socket on the other side of the tap; at-most-once,
# at-least-once and exactly-once over 100,000 records each with datagrams
# and acks lost and duplicated on the way (test_udp_acks.py), then the
# dataplane's counters at stop.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "DPDK virtual ports need root"
command -v kcat >/dev/null || skip "kcat not installed"
command -v ip >/dev/null || skip "iproute2 not installed"
[ -e /dev/net/tun ] || skip "no /dev/net/tun: net_tap cannot run"
ip link show sltap0 >/dev/null 2>&1 && skip "interface sltap0 already exists"
nb=${SLUICE_UDP_BATCHES:-2000}

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
py=$src/tests/integration/test_udp_acks.py
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
	ip addr add 10.77.0.1/24 dev sltap0 && ip link set sltap0 up &&
		ip neigh replace 10.77.0.2 lladdr 02:00:00:00:00:02 dev sltap0 nud permanent ||
		fail "configuring sltap0"
}
stop() {
	kill -TERM "$pid"; wait "$pid" || { tail -20 "$log"; fail "sluiced exit code"; }
	grep -o "DP: rx .*" "$log"
}

for sem in at-most-once at-least-once exactly-once; do
	start "$sem"
	/usr/bin/python3 "$py" "$sem" "$port" orders "$nb" || { tail -20 "$log"; fail "$sem"; }
	stop
	ok "$sem over UDP produce mode holds"
done
line=$(grep -o "DP: rx .*" "$log")
grep -q "duplicate=" <<<"$line" || fail "exactly-once: no duplicate counted at the appliance: $line"
ok "the appliance counted the resends it did not store again as drop 'duplicate'"
