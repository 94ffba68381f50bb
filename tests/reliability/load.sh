#!/usr/bin/env bash
# Load: many Kafka connections on the TCP path while the dataplane ingests at
# its benchmark rate (net_pcap infinite_rx replaying 60-byte tap frames from
# sluice-trafgen into the plain-record fast path, as perf/bench_dataplane).
#
# Two phases on a fresh sluiced each, same configuration and duration:
#   baseline  the dataplane alone;
#   load      the dataplane plus perf/sluice-load (N consumers long-polling
#             Fetch, M producers looping Produce), pinned to CPU 0 (the
#             control thread's and writer's CPU: the lcore keeps CPU 1).
# Each phase scrapes /metrics at the start and the end of its window (the
# dataplane rate and drops by reason over exactly that window), samples
# sluiced's VmRSS every 2 s and VmHWM/HugetlbPages before the stop, then
# stops it with SIGTERM and keeps its final "DP:" line.
#
# Checks (exit 1 when one fails): sluice-load passed (every connection
# established and served, none closed, no Fetch answered later than
# max_wait_ms + --margin-ms), sluiced exited 0 after SIGTERM, no dataplane
# drop other than ring_full during the load, VmHWM under --rss-cap-mb (if
# given), and with a baseline: ring_full with the load not above the
# baseline's (or zero), as a share of the frames received, with 5 points of
# tolerance for this shared machine's noise.  77 when not root or DPDK cannot start.
#
# Usage: tests/reliability/load.sh [--consumers N] [--producers M]
#   [--duration S] [--margin-ms MS] [--max-wait-ms MS] [--tap-consumers N]
#   [--rss-cap-mb MB] [--no-baseline] [--no-pin] [--no-dataplane] [--nice N]
#   [--build DIR]
# sluiced and sluice-load each run in a session of their own (setsid), as a
# daemon and its clients would; --nice N gives those sessions' autogroups
# that niceness (e.g. -10 on a host shared with other work, to approach an
# appliance's dedicated cores).  With the kernel's autogroup scheduling
# (sched_autogroup_enabled=1, as on the project's VMs) CPU time is shared
# between sessions first, so a plain nice would only weigh sluiced's threads
# against each other.
# --no-dataplane replays the pcap once instead of forever (the Kafka load
# alone, to tell its own latencies from the dataplane's share).
# Data goes under ${SLUICE_LOAD_DIR:-/dev/shm} (telemetry keeps 256 MiB).
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
bld=${SLUICE_BUILD_ROOT:-$root/build}
consumers=1000 producers=100 duration=30 margin=1000 max_wait=500 tap=-1
rss_cap=0 baseline=1 pin=1 replay=1 nice=0
while [ $# -gt 0 ]; do
	case $1 in
	--consumers) consumers=$2; shift ;;
	--producers) producers=$2; shift ;;
	--duration) duration=$2; shift ;;
	--margin-ms) margin=$2; shift ;;
	--max-wait-ms) max_wait=$2; shift ;;
	--tap-consumers) tap=$2; shift ;;
	--rss-cap-mb) rss_cap=$2; shift ;;
	--no-baseline) baseline=0 ;;
	--no-pin) pin=0 ;;
	--nice) nice=$2; shift ;;
	--no-dataplane) replay=0 baseline=0 ;;
	--build) bld=$2; shift ;;
	*) echo "usage: see the head of $0" >&2; exit 2 ;;
	esac
	shift
done

skip() { echo "SKIP: $*" >&2; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "DPDK virtual ports need root"
command -v curl >/dev/null || skip "curl not installed"
for b in sluiced perf/sluice-load perf/sluice-trafgen; do
	[ -x "$bld/$b" ] || { echo "build $bld first ($b missing)" >&2; exit 2; }
done
need=$((consumers + producers + 1024))
[ "$(ulimit -n)" -ge $need ] || ulimit -n $need 2>/dev/null ||
	skip "cannot raise the fd limit to $need (hard limit $(ulimit -Hn))"

work=$(mktemp -d "${SLUICE_LOAD_DIR:-/dev/shm}/sluice-load.XXXXXX")
pid= sampler=
cleanup() {
	[ -n "$sampler" ] && kill "$sampler" 2>/dev/null
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	rm -rf "$work" "/var/run/dpdk/sluice-load-$$"
}
trap cleanup EXIT

free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
now() { date +%s.%N; }
# metric FILE NAME[{labels}]: the sample's value (0 when absent)
metric() { awk -v n="$2" '$1 == n { print $2; f = 1 } END { if (!f) print 0 }' "$1"; }
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

"$bld/perf/sluice-trafgen" -o "$work/tap.pcap" --tap 1024 --produce 0 --nomatch 0 \
	--malformed 0 --frame-size 60 >/dev/null || { echo "trafgen failed" >&2; exit 1; }
free=$(awk '/^HugePages_Free/ {print $2}' /proc/meminfo)
eal="--file-prefix=sluice-load-$$"; [ "${free:-0}" -ge 64 ] || eal+=" --no-huge"

# sluiced and the client each run in a session of their own, as a daemon and
# its clients would (with autogroup scheduling each session is one
# scheduling group); --nice also renices those groups once they exist
sess=setsid
renice_group() {
	[ "$nice" = 0 ] && return 0
	for _ in $(seq 50); do
		[ "$(cat "/proc/$1/autogroup" 2>/dev/null)" != "$(cat /proc/$$/autogroup)" ] && break
		sleep 0.02
	done
	echo "$nice" >"/proc/$1/autogroup" 2>/dev/null ||
		echo "note: cannot set the autogroup niceness of $1" >&2
}

# start_sluiced NAME: a fresh sluiced on its own data directory and ports.
start_sluiced() {
	kport=$(free_port) mport=$(free_port) log=$work/$1.log
	rm -rf "$work/data"
	(cd "$root" && exec $sess "$bld/sluiced" --override "log.dirs=$work/data" \
		--override "listeners=PLAINTEXT://127.0.0.1:$kport" \
		--override "metrics.listener=127.0.0.1:$mport" \
		--override "dataplane.ports.sample0.device=net_pcap0,rx_pcap=$work/tap.pcap,infinite_rx=$replay" \
		--override "topics.telemetry.rules.0.headers=[]" \
		--override topics.telemetry.configs.retention.bytes=268435456 \
		--override topics.telemetry.configs.segment.bytes=67108864 \
		--override log.retention.check.interval.ms=1000 \
		-- $eal >"$log" 2>&1) &
	pid=$!
	renice_group "$pid"
	for _ in $(seq 300); do
		grep -q "running; SIGTERM" "$log" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$log" >&2
	grep -qiE "EAL: (cannot|error)|Cannot init|No such device|failed to start" "$log" &&
		skip "DPDK cannot start here"
	echo "FAIL: sluiced did not come up" >&2
	exit 1
}

# phase NAME LOAD: one run; sets the <NAME>_* variables.
phase() {
	local name=$1 load=$2 m0=$work/$1.m0 m1=$work/$1.m1 t0 t1 lrc=0 rc
	start_sluiced "$name"
	sleep 2         # past the start-up: rings, first segments
	curl -sf "http://127.0.0.1:$mport/metrics" >"$m0" || { echo "FAIL: scrape" >&2; exit 1; }
	t0=$(now)
	(while sleep 2; do echo "$(date +%s) $(status_kb "$pid" VmRSS)"; done) \
		>"$work/$name.rss" 2>/dev/null &
	sampler=$!
	if [ "$load" = 1 ]; then
		local cmd=("$bld/perf/sluice-load" -b "127.0.0.1:$kport" -c "$consumers"
			   -p "$producers" -d "$duration" --tap-consumers "$tap"
			   --max-wait-ms "$max_wait" --margin-ms "$margin" --progress)
		[ "$pin" = 1 ] && command -v taskset >/dev/null && cmd=(taskset -c 0 "${cmd[@]}")
		echo "load: $sess ${cmd[*]}"
		$sess "${cmd[@]}" >"$work/load.out" 2>"$work/load.err" &
		renice_group $!
		wait $! || lrc=$?
		cat "$work/load.out"
		grep "^progress:" "$work/load.err"
		grep -v "^progress:" "$work/load.err" | sort | uniq -c | sort -rn | head -10 >&2
	else
		sleep "$duration"
	fi
	curl -sf "http://127.0.0.1:$mport/metrics" >"$m1" || { echo "FAIL: scrape" >&2; exit 1; }
	t1=$(now)
	kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null; sampler=
	local hwm huge
	hwm=$(status_kb "$pid" VmHWM) huge=$(status_kb "$pid" HugetlbPages)
	threads_cpu "$pid"
	kill -TERM "$pid"
	wait "$pid"; rc=$?
	pid=
	local rx st rf dp
	rx=$(delta "$m0" "$m1" sluice_dataplane_rx_packets_total)
	st=$(delta "$m0" "$m1" sluice_dataplane_stored_packets_total)
	rf=$(delta "$m0" "$m1" 'sluice_dataplane_drops_total{reason="ring_full"}')
	dp=$(grep -o 'DP: rx.*' "$log" | tail -1)
	printf -v "${name}_rate" '%.2f' "$(echo "$rx / ($t1 - $t0) / 1000000" | bc -l)"
	printf -v "${name}_stored" '%.2f' "$(echo "$st / ($t1 - $t0) / 1000000" | bc -l)"
	printf -v "${name}_ringfull" '%d' "$rf"
	printf -v "${name}_rfpct" '%.1f' "$(echo "100 * $rf / ($rx + 1)" | bc -l)"
	printf -v "${name}_other" '%d' "$(other_drops "$m0" "$m1")"
	printf -v "${name}_hwm" '%d' $((hwm / 1024))
	printf -v "${name}_huge" '%d' $((${huge:-0} / 1024))
	printf -v "${name}_exit" '%d' "$rc"
	printf -v "${name}_lrc" '%d' "$lrc"
	printf -v "${name}_dp" '%s' "$dp"
	echo "$name: window $(echo "$t1 - $t0" | bc) s, sluiced exit $rc, $dp"
	echo "$name: VmRSS every 2 s (MiB): $(awk '{printf "%d ", $2 / 1024}' "$work/$name.rss")"
}

# threads_cpu PID: CPU seconds of sluiced's threads so far (control = main thread)
threads_cpu() {
	local t out=
	for t in /proc/$1/task/*; do
		out+=" $(cat "$t/comm")=$(awk '{printf "%.1f", ($14 + $15) / 100}' "$t/stat")s"
	done
	echo "threads CPU:$out"
}

# delta M0 M1 NAME: how much a counter grew between two scrapes
delta() { echo $(($(metric "$2" "$3") - $(metric "$1" "$3"))); }

# other_drops M0 M1: dataplane drops in the window for every reason but ring_full
other_drops() {
	LC_ALL=C join <(grep '^sluice_dataplane_drops_total{' "$1" | LC_ALL=C sort) \
		<(grep '^sluice_dataplane_drops_total{' "$2" | LC_ALL=C sort) |
		awk '$1 !~ /ring_full/ { s += $3 - $2 } END { print s + 0 }'
}

echo "sluice load: $consumers consumers, $producers producers, ${duration} s," \
	"max_wait_ms $max_wait, margin $margin ms, EAL: $eal, data: $work"
[ "$baseline" = 1 ] && phase baseline 0
phase load 1

fails=()
echo "== summary =="
if [ "$baseline" = 1 ]; then
	echo "dataplane rx: baseline ${baseline_rate} Mpps, with load ${load_rate} Mpps," \
		"ratio $(echo "scale=2; $load_rate / $baseline_rate" | bc -l)"
	echo "dataplane stored: baseline ${baseline_stored} Mpps, with load ${load_stored} Mpps," \
		"ratio $(echo "scale=2; $load_stored / $baseline_stored" | bc -l)"
	echo "drops in window: ring_full baseline $baseline_ringfull (${baseline_rfpct}% of rx)," \
		"load $load_ringfull (${load_rfpct}% of rx); other reasons baseline" \
		"$baseline_other, load $load_other"
	echo "sluiced peak RSS (VmHWM): baseline ${baseline_hwm} MiB, load ${load_hwm} MiB" \
		"(hugetlb: ${baseline_huge} / ${load_huge} MiB)"
	# ring_full as a share of rx (the windows differ by a second or so),
	# with 5 points of tolerance for this shared machine's noise
	[ "$load_ringfull" -eq 0 ] ||
		[ "$(echo "$load_rfpct <= $baseline_rfpct + 5" | bc -l)" = 1 ] ||
		fails+=("ring_full with load ${load_rfpct}% of rx, baseline ${baseline_rfpct}%")
	[ "$baseline_exit" -eq 0 ] || fails+=("baseline sluiced exit $baseline_exit")
else
	echo "dataplane with load: rx ${load_rate} Mpps, stored ${load_stored} Mpps; drops in" \
		"window: ring_full $load_ringfull (${load_rfpct}% of rx), other $load_other"
	echo "sluiced peak RSS (VmHWM): ${load_hwm} MiB (hugetlb: ${load_huge} MiB)"
fi
[ "$load_lrc" -eq 0 ] || fails+=("sluice-load exit $load_lrc")
[ "$load_exit" -eq 0 ] || fails+=("sluiced exit $load_exit after SIGTERM")
[ "$load_other" -eq 0 ] || fails+=("$load_other dataplane drops other than ring_full")
[ "$rss_cap" -eq 0 ] || [ "$load_hwm" -le "$rss_cap" ] ||
	fails+=("VmHWM $load_hwm MiB above the cap $rss_cap MiB")
if [ ${#fails[@]} -gt 0 ]; then
	printf 'FAIL: %s\n' "${fails[@]}" >&2
	exit 1
fi
echo "ok - load: every check passed"
