#!/usr/bin/env bash
# Kafka protocol benchmark, one run: a librdkafka producer (100-byte messages,
# acks=1) and consumer against a freshly started sluiced and against
# librdkafka's in-process mock cluster (the ceiling), with the ratio
# sluiced/mock for produce and fetch (perf/bench_kafka.c explains the sizing).
#
# Usage: perf/bench_kafka.sh [BUILD_DIR] [bench_kafka options, e.g. --smoke]
# sluiced runs on perf/bench-kafka.yaml (no dataplane port: see there) with log.dirs in a temporary
# directory under $SLUICE_BENCH_DIR, a free port, the metrics endpoint off, and
# "-- --no-huge" when no hugepages are free.  Needs root (DPDK).  Exit codes:
# those of bench_kafka; 77 when it cannot run here.
# SLUICE_BENCH_DIR defaults to /dev/shm: the mock keeps its log in memory, so
# on tmpfs both brokers are measured on the protocol path alone.  The storage
# medium has a benchmark of its own (bench_storage.sh); SLUICE_BENCH_DIR=/var/tmp
# puts sluiced's log on the disk, where acks=1 waits for the O_DIRECT write.
# SLUICE_BENCH_TLS=1 also opens an SSL:// listener on sluiced (a CA and a server
# certificate made with the openssl CLI for the run) and has bench_kafka run
# the same produce and fetch over TLS each round (--tls-brokers): TLS next to
# plaintext on the same broker.
# SLUICE_BENCH_OVERRIDES adds sluiced options, e.g. to compare settings:
#   SLUICE_BENCH_OVERRIDES="--override storage.direct.io=off" perf/bench_kafka.sh build
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bld=${1:-$root/build}
[ $# -gt 0 ] && shift
bld=$(cd "$bld" && pwd)
[ "$(id -u)" -eq 0 ] || { echo "SKIP: sluiced (DPDK) needs root" >&2; exit 77; }
[ -x "$bld/sluiced" ] && [ -x "$bld/perf/bench_kafka" ] || { echo "build $bld first" >&2; exit 2; }

if ! grep -q kp_produce "$root/control/meson.build"; then
	echo "sluiced does not serve Produce yet: mock cluster only" >&2
	"$bld/perf/bench_kafka" "$@"
	exit 77
fi

work=$(mktemp -d "${SLUICE_BENCH_DIR:-/dev/shm}/sluice-kbench.XXXXXX")
pid=
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
	rm -rf "$work" "/var/run/dpdk/sluice-bench-$$"
}
trap cleanup EXIT

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
free=$(awk '/^HugePages_Free/ {print $2}' /proc/meminfo)
mem="--file-prefix=sluice-bench-$$"; [ "${free:-0}" -ge 64 ] || mem+=" --no-huge"
listeners="PLAINTEXT://127.0.0.1:$port"
tls=()
tls_args=()
if [ "${SLUICE_BENCH_TLS:-0}" = 1 ]; then
	tport=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	pki=$work/pki
	mkdir -p "$pki"
	{ openssl req -x509 -newkey rsa:2048 -nodes -keyout "$pki/ca.key" -out "$pki/ca.pem" -days 2 \
		-subj /CN=bench-ca &&
	  openssl req -newkey rsa:2048 -nodes -keyout "$pki/server.key" -out "$pki/server.csr" \
		-subj /CN=127.0.0.1 &&
	  printf 'subjectAltName=IP:127.0.0.1\n' >"$pki/server.ext" &&
	  openssl x509 -req -in "$pki/server.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" \
		-CAcreateserial -out "$pki/server.pem" -days 2 -extfile "$pki/server.ext"; } \
		>"$pki/openssl.log" 2>&1 || { cat "$pki/openssl.log" >&2; exit 1; }
	listeners+=",SSL://127.0.0.1:$tport"
	tls=(--override "ssl.certificate.location=$pki/server.pem"
	     --override "ssl.key.location=$pki/server.key")
	tls_args=(--tls-brokers "127.0.0.1:$tport" --tls-ca "$pki/ca.pem")
fi
cd "$root"
"$bld/sluiced" --config "$root/perf/bench-kafka.yaml" --override "log.dirs=$work/data" \
	--override "listeners=$listeners" "${tls[@]}" \
	--override metrics.listener= ${SLUICE_BENCH_OVERRIDES:-} \
	-- $mem >"$work/sluiced.log" 2>&1 &
pid=$!
for _ in $(seq 300); do
	grep -q "running; SIGTERM" "$work/sluiced.log" && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
grep -q "running; SIGTERM" "$work/sluiced.log" || { cat "$work/sluiced.log" >&2; echo "sluiced did not start" >&2; exit 1; }

rc=0
"$bld/perf/bench_kafka" --brokers "127.0.0.1:$port" "${tls_args[@]}" "$@" || rc=$?
if [ $rc -ne 0 ]; then
	tail -20 "$work/sluiced.log" >&2
fi
kill -TERM "$pid"
wait "$pid" || { echo "sluiced exited with $? after SIGTERM" >&2; rc=1; }
pid=
exit $rc
