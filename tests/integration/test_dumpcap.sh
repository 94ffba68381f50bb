#!/usr/bin/env bash
# Packet capture and telemetry against the real sluiced: a net_pcap port
# replays a copy of the bundled sample (infinite_rx=1) with hugepage files
# in a private hugetlbfs mount (shared memory: secondary processes attach);
# dpdk-dumpcap captures 100 packets, whose payloads must all be frames of
# the replayed pcap; the /sluice/* telemetry commands answer over the
# socket (test_dumpcap.py).  Rules are moved off the sample's ports, so
# every frame is a no_rule drop and nothing is written to disk.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "DPDK virtual ports and a hugetlbfs mount need root"
command -v dpdk-dumpcap >/dev/null || skip "dpdk-dumpcap not installed (Debian package dpdk-dev)"
free=$(awk '/^HugePages_Free/ {print $2}' /proc/meminfo)
[ "${free:-0}" -ge 64 ] || skip "fewer than 64 free 2 MiB hugepages (secondary processes need them)"

prefix=sluice-test-$$
mkdir -p "$work/huge"
mount -t hugetlbfs -o pagesize=2M nodev "$work/huge" || skip "cannot mount hugetlbfs"
cleanup_mount() { umount "$work/huge" 2>/dev/null || true; cleanup; }
trap cleanup_mount EXIT
# net_pcap 22.11 keeps its device arguments for secondary processes in 64
# bytes: a short absolute path keeps them whole.
cp "$src/firmware-config/samples/sample.pcap" "$work/r.pcap"
kport=$(free_port)
mport=$(free_port)
log=$work/sluiced.log
"$bld/sluiced" --override "log.dirs=$work/data" \
	--override "listeners=PLAINTEXT://127.0.0.1:$kport" \
	--override "metrics.listener=127.0.0.1:$mport" \
	--override "dataplane.ports.sample0.device=net_pcap0,rx_pcap=$work/r.pcap,infinite_rx=1" \
	--override topics.telemetry.rules.0.udp.port=6000 \
	--override topics.orders.rules.0.udp.port=6001 \
	-- --file-prefix="$prefix" --huge-dir="$work/huge" >"$log" 2>&1 &
pid=$!
pids+=("$pid")
wait_for "$log" "running; SIGTERM" 30 || { cat "$log"; fail "sluiced did not come up"; }
grep -q "packet capture ready: dpdk-dumpcap --file-prefix=$prefix" "$log" ||
	{ cat "$log"; fail "no packet capture line"; }
ok "sluiced up with shared memory, prefix $prefix"

timeout 30 dpdk-dumpcap --file-prefix="$prefix" -i net_pcap0 -c 100 -w "$work/out.pcapng" \
	>"$work/dumpcap.log" 2>&1 || { cat "$work/dumpcap.log"; fail "dpdk-dumpcap failed"; }
/usr/bin/python3 "$src/tests/integration/test_dumpcap.py" capture "$work/out.pcapng" \
	"$work/r.pcap" 100 || fail "capture check"
ok "dpdk-dumpcap -c 100: every packet a frame of the replayed pcap"

/usr/bin/python3 "$src/tests/integration/test_dumpcap.py" telemetry \
	"/var/run/dpdk/$prefix/dpdk_telemetry.v2" || { cat "$log"; fail "telemetry check"; }
ok "telemetry: /sluice/stats, /sluice/partitions, /sluice/config"

kill -TERM "$pid"
wait "$pid"; rc=$?
[ $rc -eq 0 ] || { cat "$log"; fail "exit code $rc after SIGTERM"; }
left=$(find "$work/huge" -name "${prefix}map_*" | wc -l)
[ "$left" -eq 0 ] || fail "$left hugepage files left behind"
ok "clean stop, no hugepage files left behind"
