#!/usr/bin/env bash
# net_memif: sluiced is the memif server, dpdk-testpmd (txonly, UDP to the
# telemetry rule's port 5000) the client in a second process.  Every frame the
# lcore received is stored as a record; nothing else is dropped (imissed and
# rx_nombuf, the NIC's own drops, may happen when both share a CPU).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "DPDK virtual ports need root"
tp=$(command -v dpdk-testpmd) || skip "dpdk-testpmd not installed (package dpdk)"

cd "$src"
log=$work/sluiced.log
sock=$work/memif.sock
mem=$(eal_test_args)
"$bld/sluiced" -o "log.dirs=$work/data" -o "listeners=PLAINTEXT://127.0.0.1:0" \
	-o metrics.listener= \
	-o "dataplane.ports.sample0.device=net_memif0,role=server,socket=$sock" \
	-- $mem >"$log" 2>&1 &
pid=$!
pids+=("$pid")
wait_for "$log" "running; SIGTERM" 30 || { cat "$log"; fail "sluiced did not come up"; }

# testpmd keeps sending until SIGINT; a separate runtime dir, no shared config clash
rundirs+=("/var/run/dpdk/sluice-memif-$$")
"$tp" -l 0,1 --no-huge -m 256 --no-pci --file-prefix="sluice-memif-$$" \
	--vdev="net_memif0,role=client,socket=$sock" -- --forward-mode=txonly \
	--tx-udp=1234,5000 --stats-period=1 --nb-cores=1 --total-num-mbufs=4096 \
	</dev/null >"$work/testpmd.log" 2>&1 &
tpid=$!
pids+=("$tpid")
sleep 3
kill -INT "$tpid"
wait "$tpid" || true
grep -q "Failed to register mp action" "$work/testpmd.log" && \
	skip "memif client needs EAL multi-process support here"

kill -TERM "$pid"
wait "$pid" || { cat "$log"; fail "sluiced exit code"; }
line=$(grep -o "DP: rx .*" "$log") || { cat "$log"; fail "no DP summary line"; }
echo "$line"
read -r rx stored records <<<"$(sed -E 's/DP: rx ([0-9]+), stored ([0-9]+), records ([0-9]+),.*/\1 \2 \3/' <<<"$line")"
[ "$rx" -gt 0 ] || { cat "$work/testpmd.log"; fail "nothing received over memif"; }
[ "$stored" -eq "$rx" ] || fail "stored $stored of $rx frames"
[ "$records" -eq "$rx" ] || fail "$records records for $rx tap frames"
drops=$(sed -E 's/.*drops://' <<<"$line" | tr ' ' '\n' | grep -vE '^(none|imissed=.*|rx_nombuf=.*|)$' || true)
[ -z "$drops" ] || fail "unexpected drops: $drops"
[ -s "$work/data/telemetry-0/00000000000000000000.log" ] || fail "telemetry log empty"
ok "net_memif: $rx frames from testpmd stored as $records records"
