#!/usr/bin/env bash
# Crash campaign: mixed ingest into the real build/sluiced, SIGKILLed at a
# random moment, restarted on the same data directory, checked.
#
#   crash_campaign.sh [ROUNDS [SEED]]     (or CRASH_ROUNDS, CRASH_SEED; 50 rounds)
#
# One sluiced on a net_tap port (interface slcrash0, 10.79.0.1 <-> .2), its
# Kafka listener on a free loopback port.  Every round, four clients run
# against it:
#   tcp   crash_producer: librdkafka, idempotent, acks=all, into cc-tcp (3
#         partitions); logs every acknowledged message with its offset;
#   udp   crash_clients.py udp: UDP produce mode into orders (10.79.0.2:5001),
#         a producer id and sequences, SLA1 acks, resent until acked;
#   tap   crash_clients.py tap: tap-mode datagrams into telemetry (:5000);
#   cons  crash_clients.py consumer: kafka-python member of group cc-g on
#         cc-tcp, committing synchronously after every poll.
# Once every acknowledging client has been acknowledged at least once, the
# daemon is SIGKILLed after a random delay (one round in eight: SIGTERMed,
# then SIGKILLed during its clean stop), left down a random while (the
# clients keep resending) and restarted (one round in eight: SIGKILLed again
# 0-1 s into that start, during recovery or just after, and started again); the round waits until every client
# is acknowledged again by the restarted daemon, stops the clients and runs
# crash_check.py (every acked record at its offset, offsets dense, no value
# stored twice, commits kept, consumers resume).  Every other round (and the
# last) the daemon is then stopped with SIGTERM, must exit 0, `sluice verify`
# must pass on the data directory, and it is started again; the other rounds
# go on with the daemon that recovered from the crash, so crashes also hit a
# log that was itself recovered from a crash.
# The seed is printed; the same seed gives the same kill schedule.
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=${SLUICE_SOURCE_ROOT:-$(cd "$here/../.." && pwd)}
bld=${SLUICE_BUILD_ROOT:-$src/build}
rounds=${1:-${CRASH_ROUNDS:-50}}
seed=${2:-${CRASH_SEED:-$(( $(date +%s) % 100000 ))}}
iface=slcrash0
py=/usr/bin/python3
TTOPIC=cc-tcp UTOPIC=orders PTOPIC=telemetry GROUP=cc-g

skip() { echo "SKIP: $*" >&2; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "DPDK virtual ports and the tap interface need root"
[ -e /dev/net/tun ] || skip "no /dev/net/tun: net_tap cannot run"
command -v kcat >/dev/null || skip "kcat not installed"
command -v ip >/dev/null || skip "iproute2 not installed"
$py -c "import kafka" 2>/dev/null || skip "python3-kafka not installed"
[ -x "$bld/sluiced" ] && [ -x "$bld/sluice" ] && [ -x "$bld/tests/reliability/crash_producer" ] ||
	skip "build $bld first (sluiced, sluice, tests/reliability/crash_producer)"
ip link show "$iface" >/dev/null 2>&1 && skip "interface $iface already exists"

work=$(mktemp -d /var/tmp/sluice-crash.XXXXXX)   # on disk: O_DIRECT segments
data=$work/data
pid=
cpids=()
cleanup() {
	for p in "${cpids[@]}" $pid; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	if [ -n "${KEEP:-}" ] || [ -n "${failed:-}" ]; then
		echo "kept $work"
	else
		rm -rf "$work"
	fi
	rm -rf "/var/run/dpdk/sluice-crash-$$"
}
trap cleanup EXIT
failed=
fail() {
	failed=1
	echo "FAIL (seed $seed, round ${round:-0}): $*" >&2
	[ -n "${log:-}" ] && { echo "--- tail of $log" >&2; tail -15 "$log" >&2; }
	echo "replay: $0 $rounds $seed" >&2
	exit 1
}

# wait_for SECONDS COMMAND...: poll COMMAND every 0.1 s until it succeeds.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.1
	done
}
lines_of() { awk -v k="$2" '$1 == k' "$1" 2>/dev/null | wc -l; }
port=$($py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
free=$(awk '/^HugePages_Free/ {print $2}' /proc/meminfo)
eal="--file-prefix=sluice-crash-$$"
[ "${free:-0}" -ge 128 ] || eal="--no-huge $eal"

starts=0
# start_bg: launch sluiced on the data directory; start: and wait until it
# runs, then configure its tap interface.
start_bg() {
	starts=$((starts + 1))
	log=$work/sluiced.$starts.log
	"$bld/sluiced" --override "log.dirs=$data" \
		--override "listeners=PLAINTEXT://127.0.0.1:$port" \
		--override metrics.listener= \
		--override num.partitions=3 \
		--override offsets.topic.num.partitions=3 \
		--override group.initial.rebalance.delay.ms=0 \
		--override log.segment.bytes=262144 \
		--override "dataplane.ports.sample0.device=net_tap0,iface=$iface" \
		-- $eal >"$log" 2>&1 &
	pid=$!
}
start() {
	start_bg
	wait_for 60 grep -qs "running; SIGTERM" "$log" ||
		fail "sluiced did not come up on the data directory (start $starts)"
	ip addr add 10.79.0.1/24 dev "$iface" && ip link set "$iface" up &&
		ip neigh replace 10.79.0.2 lladdr 02:00:00:00:00:02 dev "$iface" nud permanent ||
		fail "configuring $iface"
}
# gone PID: exited (a zombie not yet waited for counts as gone).
gone() { ! [ -e "/proc/$1" ] || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]; }
# stop_clients: SIGTERM, 40 s for the TCP producer's flush, then SIGKILL.
stop_clients() {
	local p
	for p in "${cpids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${cpids[@]}"; do
		wait_for 40 gone "$p" ||
			{ echo "note: client $p did not stop in 40 s, killed"; kill -9 "$p"; }
		wait "$p" 2>/dev/null
	done
	cpids=()
}
acked() { # acked DIR: every acknowledging client has more lines than in DIR/mark
	local k n m
	for k in tcp:A udp:B cons:C; do
		n=$(lines_of "$1/${k%%:*}.log" "${k#*:}")
		m=$(awk -v k="${k%%:*}" '$1 == k {v = $2} END {print v + 0}' "$1/mark")
		[ "$n" -gt "$m" ] || return 1
	done
}
mark() { # mark DIR: remember how many acknowledgements each client has now
	local k
	for k in tcp:A udp:B cons:C; do echo "${k%%:*} $(lines_of "$1/${k%%:*}.log" "${k#*:}")"; done >"$1/mark"
}

cd "$src"
echo "crash campaign: $rounds rounds, seed $seed, work $work, port $port"
RANDOM=$seed
t_start=$SECONDS
start
for round in $(seq 1 "$rounds"); do
	r=$work/r$(printf '%03d' "$round")
	mkdir -p "$r"
	: >"$r/mark"
	# The random draws come first, so the schedule depends on the seed only.
	delay_ms=$((RANDOM % 3000))         # after every client was acked once
	down_ms=$((RANDOM % 1500))          # dead time before the restart
	mode=$((RANDOM % 8))                # 0: SIGTERM first, 1: killed again at start
	extra_ms=$((RANDOM % 1000))
	"$bld/tests/reliability/crash_producer" "127.0.0.1:$port" "$TTOPIC" "t$round" 2000 30000 \
		>"$r/tcp.log" 2>"$r/tcp.err" &
	cpids+=($!)
	$py "$here/crash_clients.py" udp $((5000000 + round)) "u$round" 10.79.0.1 10.79.0.2 5001 \
		>"$r/udp.log" 2>"$r/udp.err" &
	cpids+=($!)
	$py "$here/crash_clients.py" tap "p$round" 10.79.0.1 10.79.0.2 5000 1000 \
		>"$r/tap.log" 2>"$r/tap.err" &
	cpids+=($!)
	$py "$here/crash_clients.py" consumer "127.0.0.1:$port" "$GROUP" "$TTOPIC" \
		>"$r/cons.log" 2>"$r/cons.err" &
	cpids+=($!)
	wait_for 60 acked "$r" || fail "clients not acknowledged within 60 s: $(head -c 300 "$r"/*.err)"
	sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
	how="killed ${delay_ms} ms into the load"
	if [ $mode -eq 0 ]; then            # a crash in the middle of a clean stop
		kill -TERM "$pid"
		sleep "$(printf '0.%03d' $((extra_ms / 4)))"
		how="SIGTERM ${delay_ms} ms into the load, killed $((extra_ms / 4)) ms later"
	fi
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	mark "$r"
	sleep "$(printf '0.%03d' "$down_ms")"
	how="$how, down ${down_ms} ms"
	if [ $mode -eq 1 ]; then            # a crash while starting: recovery, EAL, listeners
		start_bg
		sleep "$(printf '0.%03d' "$extra_ms")"
		kill -9 "$pid"
		wait "$pid" 2>/dev/null
		mark "$r"
		how="$how, killed again ${extra_ms} ms into its start ($(grep -cs 'running; SIGTERM' "$log") running)"
	fi
	start
	wait_for 90 acked "$r" ||
		fail "the restarted sluiced did not acknowledge every client within 90 s ($(tr '\n' ' ' <"$r/mark"))"
	stop_clients
	res=$($py "$here/crash_check.py" "$port" "$work" "$TTOPIC" "$UTOPIC" "$PTOPIC" "$GROUP" 2>&1)
	rc=$?
	echo "round $round: $how; $res" |
		grep -v '^PROBLEM' | head -1
	[ $rc -eq 0 ] || { echo "$res" | grep PROBLEM; fail "check after restart"; }
	if [ $((round % 2)) -eq 1 ] || [ "$round" -eq "$rounds" ]; then
		kill -TERM "$pid"
		wait "$pid"
		rc=$?
		[ $rc -eq 0 ] || fail "sluiced exited $rc after SIGTERM"
		"$bld/sluice" verify "$data" >"$work/verify.out" 2>&1 ||
			{ cat "$work/verify.out"; fail "sluice verify"; }
		echo "round $round: clean stop ($(grep -o 'DP: rx .*' "$log")); $(tail -1 "$work/verify.out")"
		[ "$round" -eq "$rounds" ] || start
	fi
done
pid=
echo "ok - $rounds rounds in $((SECONDS - t_start)) s, seed $seed: every acknowledged record and commit survived"
echo "last check: $res" | head -1
