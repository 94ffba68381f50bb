#!/usr/bin/env bash
# The uplink (docs/scale-out.md) against librdkafka's mock cluster (3
# brokers, run by uplink_mock): SLUICE_UPLINK_COUNT (500,000) records
# produced into sluiced over its Kafka listener are mirrored while the
# partitions' leader goes down and comes back, Produce requests fail, and
# sluiced is SIGKILLed and restarted mid-stream.  At the end the cluster
# holds exactly the local records - per partition in order, no duplicate,
# no gap, keys/values/headers/timestamps equal - the lag metrics are 0, the
# cursor is durable, and time retention (the first 350,000 records are 8
# days old) never deleted a record before it was shipped.
# Usage (meson): test_uplink.sh BUILD_DIR/tests/integration/uplink_mock
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "DPDK needs root"
mock=$(realpath "${1:?path of uplink_mock}")
count=${SLUICE_UPLINK_COUNT:-500000}
parts=16   # the mock keeps a few MB per partition: all of it must stay
a=$((count * 2 / 5)); b=$((count * 3 / 10)); c=$((count - a - b))
port=$(free_port); mport=$(free_port)

mkfifo "$work/cmd"
"$mock" mirror "$parts" <"$work/cmd" >"$work/mock.out" 2>"$work/mock.err" &
pids+=($!)
exec 3>"$work/cmd"
wait_for "$work/mock.out" "^bootstrap " 10 || fail "mock cluster did not start"
boot=$(awk '/^bootstrap/ {print $2}' "$work/mock.out")
ok "mock cluster (3 brokers): $boot"
echo 1 >"$work/answers"
# ask CMD: send a command, print its answer line (counted in a file: ask runs in subshells).
ask() {
	local n_ans=$(($(cat "$work/answers") + 1))
	echo "$n_ans" >"$work/answers"
	echo "$*" >&3
	local deadline=$((SECONDS + 120))
	while [ "$(wc -l <"$work/mock.out")" -lt $n_ans ]; do
		[ $SECONDS -lt $deadline ] || fail "uplink_mock did not answer '$*'"
		sleep 0.05
	done
	sed -n "${n_ans}p" "$work/mock.out"
}
remote_count() { ask count | awk '{print $2}'; }
metric_sum() { curl -s "http://127.0.0.1:$mport/metrics" | awk -v m="$1" '$1 ~ "^"m"{" {s += $2} END {print s + 0}'; }

cat >"$work/uplink.yaml" <<YAML
broker:
  listeners: PLAINTEXT://127.0.0.1:$port
  log.dirs: $work/data
  metrics.listener: 127.0.0.1:$mport
  log.retention.check.interval.ms: 500
  auto.create.topics.enable: false
storage:
  writer.cpus: []
control:
  cpu: -1
dataplane:
  eal: [--no-pci, "--log-level=*:notice", "--log-level=sluice.*:info"]
  ports: []
topics:
  - name: cap
    partitions: $parts
    configs:
      segment.bytes: 131072
    uplink:
      bootstrap.servers: "$boot"
      topic: mirror
      librdkafka:
        linger.ms: 2
        queue.buffering.max.messages: 50000
YAML
"$bld/sluiced" --check-config "$work/uplink.yaml" >/dev/null || fail "test config refused"
n=0
start() {
	n=$((n + 1)); log=$work/sluiced.$n.log
	"$bld/sluiced" -c "$work/uplink.yaml" -- $(eal_test_args) >"$log" 2>&1 &
	pid=$!; pids+=("$pid")
	wait_for "$log" "running; SIGTERM" 30 || { cat "$log"; fail "sluiced did not come up"; }
}
# Records of the first two phases are 8 days old: time retention (7 days)
# wants them gone at once, and only the uplink's hold keeps the unshipped.
old=$(( $(date +%s) * 1000 - 8 * 86400000 )); new=$(( $(date +%s) * 1000 ))
produce() {  # FROM N TIMESTAMP
	local r; r=$(ask produce "127.0.0.1:$port" cap "$parts" "$1" "$2" "$3")
	[ "$r" = "produced $2 failed 0" ] || fail "producing into sluiced: $r"
}
wait_remote() {  # N SECONDS
	local deadline=$((SECONDS + $2)) got
	while got=$(remote_count); [ "$got" != "$1" ]; do
		[ $SECONDS -lt $deadline ] || { grep -i "uplink\|ERR" "$log" | grep -v CONFWARN | tail -30; fail "cluster holds $got records, want $1"; }
		sleep 0.2
	done
}

start
t0=$(date +%s.%N)
produce 0 "$a" "$old"
wait_remote "$a" 60
t1=$(date +%s.%N)
ok "$a records produced into sluiced and mirrored: $(echo "$a / ($t1 - $t0)" | bc) records/s end to end"

# Outage: the leader of every partition goes down; capture goes on locally.
ask down 1 >/dev/null
produce "$a" "$b" "$old"
sleep 2
held=$(metric_sum sluice_uplink_records_total)
[ "$held" = "$a" ] || fail "the cluster acknowledged records while its leader was down ($held)"
lag=$(metric_sum sluice_uplink_lag_records)
[ "$lag" -eq "$b" ] || fail "lag during the outage: $lag, want $b"
lost=$(metric_sum sluice_uplink_retention_lost_records_total)
[ "$lost" -eq 0 ] || fail "retention removed $lost unshipped records"
start_sum=$(curl -s "http://127.0.0.1:$mport/metrics" |
	awk '/^sluice_partition_log_start_offset\{topic="cap"/ {s += $2} END {print s + 0}')
[ "$start_sum" -gt 0 ] && [ "$start_sum" -le "$a" ] ||
	fail "log starts sum to $start_sum: retention should delete shipped records only (<= $a)"
top=$("$bld/sluice" top --once --metrics "127.0.0.1:$mport") || fail "sluice top"
echo "$top" | grep -E "PARTITION|^cap-0 " | sed 's/^/  /'
echo "$top" | grep -q "UPLINK LAG" && echo "$top" | grep -Eq "^cap-0 .* $((b / parts)) \([0-9.]+s\)" ||
	fail "sluice top shows no uplink lag of $((b / parts)) for cap-0"
ok "leader down: $b records captured locally, lag $lag records, $(metric_sum sluice_uplink_lag_bytes) bytes; retention (8-day-old records) deleted $start_sum shipped records, none unshipped"

# Back up, Produce requests failing (retriable: NOT_LEADER_OR_FOLLOWER), then a SIGKILL mid-stream.
ask errors 20 6 >/dev/null
ask up 1 >/dev/null
deadline=$((SECONDS + 60))
while got=$(remote_count); [ "$got" -le "$a" ]; do
	[ $SECONDS -lt $deadline ] || fail "no catch-up after the leader came back"
	sleep 0.05
done
kill -9 "$pid"; wait "$pid" 2>/dev/null
ok "leader back; sluiced SIGKILLed with the cluster at $got of $((a + b))"
[ "$got" -lt $((a + b)) ] || echo "note: the catch-up finished before the SIGKILL"
start
produce $((a + b)) "$c" "$new"
wait_remote "$count" 90
t2=$(date +%s.%N)
ok "after the restart the cluster holds $count records"

deadline=$((SECONDS + 20))
while lag=$(metric_sum sluice_uplink_lag_records); cur=$(metric_sum sluice_uplink_cursor_offset);
      [ "$lag" -ne 0 ] || [ "$cur" -ne "$count" ]; do
	[ $SECONDS -lt $deadline ] || fail "lag $lag records, cursors sum to $cur (want 0, $count)"
	sleep 0.2
done
[ "$(metric_sum sluice_uplink_lag_bytes)" -eq 0 ] || fail "lag bytes not 0"
[ "$(metric_sum sluice_uplink_lag_seconds)" = 0 ] || fail "lag seconds not 0"
ok "lag metrics 0, durable cursors at the log end ($cur)"
grep -h "resuming at offset" "$work"/sluiced.2.log | sed 's/^/  /'

r=$(ask verify "127.0.0.1:$port" cap)
case "$r" in "verify ok $count "*) ;; *) fail "$r" ;; esac
full=${r##* }
[ "$full" -ge "$c" ] || fail "only $full records compared field by field (want >= $c)"
ok "the cluster holds exactly the local records, in order, no duplicates, no gaps; $full still in the local log compared field by field, the older ones retention removed after they were shipped"
[ "$(metric_sum sluice_uplink_retention_lost_records_total)" -eq 0 ] || fail "records lost"
ls "$work"/data/cap-0/*.log | head -1 | grep -q 00000000000000000000.log &&
	fail "retention never ran: the test proves nothing about the hold"

kill -TERM "$pid"; wait "$pid" || fail "exit code after SIGTERM"
echo quit >&3
ok "SIGTERM: clean stop"
