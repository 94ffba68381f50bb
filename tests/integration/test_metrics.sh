#!/usr/bin/env bash
# The Prometheus endpoint of the real sluiced, scraped with curl: HELP/TYPE
# lines, the offsets of the configuration's topics, every dataplane drop
# reason, request counters that grow after a kcat -L, 404 elsewhere; the
# consumer-group families with no group yet (test_groups_describe.sh has one).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "DPDK virtual ports need root"
command -v kcat >/dev/null || skip "kcat not installed"
command -v curl >/dev/null || skip "curl not installed"

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
	-- $(eal_test_args) >"$log" 2>&1 &
pid=$!
pids+=("$pid")
wait_for "$log" "running; SIGTERM" 30 || { cat "$log"; fail "sluiced did not come up"; }
grep -q "metrics: GET /metrics on 127.0.0.1:$mport" "$log" || { cat "$log"; fail "no metrics line"; }
ok "sluiced up: kafka $kport, metrics $mport"

url=http://127.0.0.1:$mport/metrics
scrape() { curl -sf -o "$1" -D "$1.hdr" "$url" || fail "GET $url failed"; }
scrape "$work/m1"
grep -qi '^Content-Type: text/plain; version=0.0.4' "$work/m1.hdr" || fail "content type"
for fam in sluice_kafka_requests_total:counter sluice_kafka_request_errors_total:counter \
	sluice_kafka_request_seconds:summary sluice_kafka_connections_active:gauge \
	sluice_kafka_connections_rejected_total:counter sluice_kafka_frames_too_large_total:counter \
	sluice_partition_log_start_offset:gauge sluice_partition_log_end_offset:gauge \
	sluice_partition_durable_offset:gauge sluice_partition_written_offset:gauge \
	sluice_partition_records_in_total:counter sluice_partition_bytes_out_total:counter \
	sluice_storage_io_errors_total:counter sluice_dataplane_rx_packets_total:counter \
	sluice_dataplane_rx_bytes_total:counter sluice_dataplane_drops_total:counter \
	sluice_groups:gauge sluice_group_members:gauge sluice_group_state:gauge \
	sluice_group_committed_offset:gauge sluice_group_lag:gauge \
	sluice_group_rebalances_total:counter sluice_group_commits_total:counter \
	sluice_storage_fsync_seconds:histogram sluice_build_info:gauge; do
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
ok "Metadata requests $before -> $after, connections $acc_before -> $acc_after after kcat -L"

code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/nothing")
[ "$code" = 404 ] || fail "GET /nothing: $code"
ok "404 elsewhere"

kill -TERM "$pid"
wait "$pid"; rc=$?
[ $rc -eq 0 ] || { cat "$log"; fail "exit code $rc after SIGTERM"; }
grep -q "stopped cleanly" "$log" || { cat "$log"; fail "no clean stop line"; }
ok "SIGTERM: clean stop with the endpoint up"
