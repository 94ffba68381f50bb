#!/usr/bin/env bash
# The Prometheus endpoint of the real sluiced, scraped with curl: HELP/TYPE
# lines, the offsets of the configuration's topics, every dataplane drop
# reason, request counters and the request latency histogram that grow after
# a kcat -L, 404 elsewhere; the consumer-group families with no group yet
# (test_groups_describe.sh has one); the writer gauges and the hugepage
# series; and the receive -> durable histogram, empty before any traffic and
# counting once datagrams sent into the appliance's net_tap port are durable.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "DPDK virtual ports need root"
command -v kcat >/dev/null || skip "kcat not installed"
command -v curl >/dev/null || skip "curl not installed"
command -v ip >/dev/null || skip "iproute2 not installed"
[ -e /dev/net/tun ] || skip "no /dev/net/tun: net_tap cannot run"
ip link show slmet0 >/dev/null 2>&1 && skip "interface slmet0 already exists"

free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
kport=$(free_port)
mport=$(free_port)
cd "$src"
log=$work/sluiced.log
"$bld/sluiced" --override "log.dirs=$work/data" \
	--override "listeners=PLAINTEXT://127.0.0.1:$kport" \
	--override "metrics.listener=127.0.0.1:$mport" \
	--override "dataplane.ports.sample0.device=net_tap0,iface=slmet0" \
	-- $(eal_test_args) >"$log" 2>&1 &
pid=$!
pids+=("$pid")
wait_for "$log" "running; SIGTERM" 30 || { cat "$log"; fail "sluiced did not come up"; }
grep -q "metrics: GET /metrics on 127.0.0.1:$mport" "$log" || { cat "$log"; fail "no metrics line"; }
tap_up slmet0 10.78.0
ok "sluiced up: kafka $kport, metrics $mport"

url=http://127.0.0.1:$mport/metrics
scrape() { curl -sf -o "$1" -D "$1.hdr" "$url" || fail "GET $url failed"; }
scrape "$work/m1"
grep -qi '^Content-Type: text/plain; version=0.0.4' "$work/m1.hdr" || fail "content type"
for fam in sluice_kafka_requests_total:counter sluice_kafka_request_errors_total:counter \
	sluice_kafka_request_seconds:histogram sluice_kafka_connections_active:gauge \
	sluice_kafka_connections_rejected_total:counter sluice_kafka_frames_too_large_total:counter \
	sluice_partition_log_start_offset:gauge sluice_partition_log_end_offset:gauge \
	sluice_partition_durable_offset:gauge sluice_partition_written_offset:gauge \
	sluice_partition_records_in_total:counter sluice_partition_bytes_out_total:counter \
	sluice_storage_io_errors_total:counter sluice_dataplane_rx_packets_total:counter \
	sluice_dataplane_rx_bytes_total:counter sluice_dataplane_drops_total:counter \
	sluice_groups:gauge sluice_group_members:gauge sluice_group_state:gauge \
	sluice_group_committed_offset:gauge sluice_group_lag:gauge \
	sluice_group_rebalances_total:counter sluice_group_commits_total:counter \
	sluice_storage_fsync_seconds:histogram sluice_build_info:gauge \
	sluice_dataplane_receive_to_durable_seconds:histogram \
	sluice_storage_writer_inflight_ops:gauge sluice_storage_writer_queue_bytes:gauge \
	sluice_storage_rx_stamps_lost_total:counter sluice_partition_ring_used_bytes:gauge \
	sluice_hugepages_total:gauge sluice_hugepages_free:gauge \
	sluice_hugepage_bytes_used:gauge; do
	name=${fam%%:*}
	grep -q "^# HELP $name " "$work/m1" || fail "no HELP for $name"
	grep -qx "# TYPE $name ${fam##*:}" "$work/m1" || fail "no TYPE ${fam##*:} for $name"
done
ok "HELP and TYPE lines"

for t in telemetry orders; do
	for f in log_start_offset log_end_offset written_offset durable_offset; do
		grep -qE "^sluice_partition_${f}\{topic=\"$t\",partition=\"0\"\} [0-9]+$" "$work/m1" ||
			{ cat "$work/m1"; fail "no $f for $t-0"; }
	done
done
ok "partition offsets of the configuration's topics"

n_reasons=$(grep -c '^DP_DROP(' "$src/dataplane/include/dp_drop.def")
n_drops=$(grep -c '^sluice_dataplane_drops_total{reason="[a-z_]*"} [0-9]*$' "$work/m1")
[ "$n_drops" -eq "$n_reasons" ] || fail "$n_drops drop series, $n_reasons reasons"
grep -q '^sluice_dataplane_drops_total{reason="ring_full"} ' "$work/m1" || fail "ring_full"
ok "all $n_reasons drop reasons exported"

for st in Empty PreparingRebalance CompletingRebalance Stable Dead; do
	grep -qx "sluice_groups{state=\"$st\"} 0" "$work/m1" || fail "no sluice_groups 0 for $st"
done
grep -q '^sluice_group_members{' "$work/m1" && fail "a group series without a group"
ok "groups: every state at 0, no per-group series"

value() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }

# Writer gauges (one writer in the default configuration) and hugepages.
for g in writer_inflight_ops writer_queue_bytes; do
	grep -qE "^sluice_storage_${g}\{writer=\"0\"\} [0-9]+$" "$work/m1" || fail "no $g for writer 0"
done
for d in /sys/kernel/mm/hugepages/hugepages-*kB; do
	size=${d##*/hugepages-}
	want=$(cat "$d/nr_hugepages")
	got=$(value "$work/m1" "sluice_hugepages_total{size=\"$size\"}")
	[ "$got" = "$want" ] || fail "sluice_hugepages_total{size=$size}: $got, sysfs says $want"
	grep -qE "^sluice_hugepages_free\{size=\"$size\"\} [0-9]+$" "$work/m1" || fail "no free for $size"
done
for pool in dpdk_heap partition_rings writer_staging; do
	grep -qE "^sluice_hugepage_bytes_used\{pool=\"$pool\"\} [0-9]+$" "$work/m1" || fail "no $pool bytes"
done
if grep -q -- --no-huge <<<"$(eal_test_args)"; then
	[ "$(value "$work/m1" 'sluice_hugepage_bytes_used{pool="dpdk_heap"}')" = 0 ] ||
		fail "DPDK heap on hugepages under --no-huge"
else
	[ "$(value "$work/m1" 'sluice_hugepage_bytes_used{pool="dpdk_heap"}')" -gt 0 ] ||
		fail "DPDK heap on hugepages: 0"
fi
ok "writer gauges, hugepage pools as in sysfs, hugepage bytes by pool"

# Receive -> durable: nothing received yet, so nothing observed; then 200
# datagrams to the tap rule (udp 5000) through the net_tap port.
rxd=sluice_dataplane_receive_to_durable_seconds
[ "$(value "$work/m1" "${rxd}_count{writer=\"0\"}")" = 0 ] || fail "$rxd count before any traffic"
/usr/bin/python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(200):
    s.sendto(b"metrics-%d" % i, ("10.78.0.2", 5000))
'
for _ in $(seq 100); do
	curl -sf -o "$work/m3" "$url" || fail "GET $url failed"
	[ "$(value "$work/m3" 'sluice_partition_durable_offset{topic="telemetry",partition="0"}')" -ge 200 ] &&
		[ "$(value "$work/m3" "${rxd}_count{writer=\"0\"}")" -gt 0 ] && break
	sleep 0.1
done
durable=$(value "$work/m3" 'sluice_partition_durable_offset{topic="telemetry",partition="0"}')
[ "$durable" -ge 200 ] || fail "telemetry-0 durable at $durable after 200 datagrams"
n=$(value "$work/m3" "${rxd}_count{writer=\"0\"}")
inf=$(value "$work/m3" "${rxd}_bucket{writer=\"0\",le=\"+Inf\"}")
sum=$(value "$work/m3" "${rxd}_sum{writer=\"0\"}")
[ "$n" -gt 0 ] || fail "$rxd count still 0 with 200 records durable"
[ "$inf" = "$n" ] || fail "$rxd +Inf bucket $inf != count $n"
# Buckets are cumulative: never decreasing with le.
grep "^${rxd}_bucket{writer=\"0\"" "$work/m3" | awk '{ if ($2 < prev) exit 1; prev = $2 }' ||
	fail "$rxd buckets not cumulative"
awk -v s="$sum" -v n="$n" 'BEGIN { exit !(s > 0 && s / n < 10) }' ||
	fail "$rxd mean $sum/$n s: not a latency"
ok "$rxd: 0 before traffic, $n batches ($sum s) once 200 datagrams are durable"

meta='sluice_kafka_requests_total{api="Metadata"}'
before=$(value "$work/m1" "$meta")
[ -n "$before" ] || fail "no Metadata request counter"
acc_before=$(value "$work/m1" sluice_kafka_connections_accepted_total)
kcat -b "127.0.0.1:$kport" -L -m 5 >"$work/kcat.out" 2>&1 || { cat "$work/kcat.out"; fail "kcat -L"; }
scrape "$work/m2"
after=$(value "$work/m2" "$meta")
acc_after=$(value "$work/m2" sluice_kafka_connections_accepted_total)
[ "$after" -gt "$before" ] || fail "Metadata requests $before -> $after after kcat -L"
[ "$acc_after" -gt "$acc_before" ] || fail "connections accepted $acc_before -> $acc_after"
hbefore=$(value "$work/m1" 'sluice_kafka_request_seconds_bucket{api="Metadata",le="+Inf"}')
hafter=$(value "$work/m2" 'sluice_kafka_request_seconds_bucket{api="Metadata",le="+Inf"}')
[ "$hafter" = "$after" ] || fail "Metadata latency histogram +Inf $hafter, requests $after"
[ "$hafter" -gt "${hbefore:-0}" ] || fail "Metadata latency histogram $hbefore -> $hafter"
grep -q '^sluice_kafka_request_seconds_bucket{api="Fetch",le="0.001"} ' "$work/m2" ||
	fail "no Fetch latency histogram"
ok "Metadata requests $before -> $after (latency histogram too), connections $acc_before -> $acc_after after kcat -L"

code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/nothing")
[ "$code" = 404 ] || fail "GET /nothing: $code"
ok "404 elsewhere"

# Link changes: one log line each, naming the port (net_tap follows its interface).
ip link set slmet0 down || fail "ip link set down"
wait_for "$log" "DP: port sample0 (0): Link down" 10 || { cat "$log"; fail "no link down line"; }
ip link set slmet0 up || fail "ip link set up"
n_up=$(grep -c "DP: port sample0 (0): Link up" "$log")
deadline=$((SECONDS + 10))
while [ "$(grep -c "DP: port sample0 (0): Link up" "$log")" -le "$n_up" ] && [ $SECONDS -lt $deadline ]; do
	sleep 0.2
done
[ "$(grep -c "DP: port sample0 (0): Link up" "$log")" -gt "$n_up" ] || { cat "$log"; fail "no link up line"; }
[ "$(grep -c "DP: port sample0 (0): Link down" "$log")" -eq 1 ] || fail "link down logged more than once"
ok "link down and up logged once each"

kill -TERM "$pid"
wait "$pid"; rc=$?
[ $rc -eq 0 ] || { cat "$log"; fail "exit code $rc after SIGTERM"; }
grep -q "stopped cleanly" "$log" || { cat "$log"; fail "no clean stop line"; }
ok "SIGTERM: clean stop with the endpoint up"
