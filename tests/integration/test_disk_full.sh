#!/usr/bin/env bash
# A failing disk, then a working one again, under the real sluiced:
#   test_disk_full.sh enospc  log.dirs on a 32 MiB tmpfs that a ballast file
#                             fills to a few MiB; "repair": delete the ballast
#   test_disk_full.sh eio     log.dirs on faultfs.py, a passthrough FUSE file
#                             system whose writes and syncs fail with EIO while
#                             a switch file exists; "repair": remove it
#  - kafka-python (acks=all, no retries) produces until the broker answers
#    KAFKA_STORAGE_ERROR (56), checked with librdkafka; the dataplane's
#    produce mode, driven by `sluice produce-udp` over net_tap, gets its acks
#    with 56 too;
#  - while failing, fetches still serve every acknowledged record and the
#    metrics endpoint still answers, counting the I/O error;
#  - after the repair the partition resumes by itself, more records are
#    acknowledged, and in the end every acknowledged record is there exactly
#    once, the data directory verifies, the stop is clean and the dataplane
#    counted its refused batches as drop storage_error.
. "$(dirname "$0")/lib.sh"
mode=${1:-enospc}
[ "$(id -u)" -eq 0 ] || skip "mounting a file system and DPDK virtual ports need root"
command -v kcat >/dev/null || skip "kcat not installed"
command -v curl >/dev/null || skip "curl not installed"
/usr/bin/python3 -c "import kafka" 2>/dev/null || skip "python3-kafka not installed"
[ -e /dev/net/tun ] || skip "no /dev/net/tun: net_tap cannot run"
ip link show sltap1 >/dev/null 2>&1 && skip "interface sltap1 already exists"
if [ "$mode" = eio ]; then
	[ -e /dev/fuse ] || skip "no /dev/fuse: faultfs cannot run"
	/usr/bin/python3 -c "import fusepy" 2>/dev/null || skip "python3-fusepy not installed"
fi

port=$(free_port)
mport=$(free_port)
mnt=$work/mnt
mkdir -p "$mnt" "$work/back"
trap 'umount -l "$mnt" 2>/dev/null; cleanup' EXIT
if [ "$mode" = eio ]; then
	/usr/bin/python3 "$src/tests/integration/faultfs.py" "$work/back" "$mnt" "$work/eio" \
		>"$work/faultfs.log" 2>&1 &
	pids+=("$!")
	for _ in $(seq 50); do mountpoint -q "$mnt" && break; sleep 0.1; done
	mountpoint -q "$mnt" || { cat "$work/faultfs.log"; skip "faultfs did not mount"; }
	break_disk() { touch "$work/eio"; }
	repair_disk() { rm -f "$work/eio"; }
else
	mount -t tmpfs -o size=32m tmpfs "$mnt" || skip "cannot mount a tmpfs"
	fallocate -l 28m "$mnt/ballast" || fail "ballast"
	break_disk() { :; }    # the records fill it
	repair_disk() { rm -f "$mnt/ballast"; }
fi

cd "$src"
log=$work/sluiced.log
"$bld/sluiced" --override "log.dirs=$mnt/data" \
	--override "listeners=PLAINTEXT://127.0.0.1:$port" \
	--override "metrics.listener=127.0.0.1:$mport" \
	--override "storage.ring.bytes=1048576" \
	--override "dataplane.ports.sample0.device=net_tap0,iface=sltap1" \
	-- $(eal_test_args) >"$log" 2>&1 &
pid=$!
pids+=("$pid")
wait_for "$log" "running; SIGTERM" 30 || { cat "$log"; fail "sluiced did not come up"; }
tap_up sltap1 10.78.0
produce() { /usr/bin/python3 "$src/tests/integration/disk_full_produce.py" "$port" orders "$@"; }
metric() { curl -sf "http://127.0.0.1:$mport/metrics" | awk -v m="$1" '$1 ~ "^"m {s += $2} END {print s + 0}'; }

out=$(produce a 500 "$work/acked.a0" all) || { echo "$out"; tail -20 "$log"; fail "phase 0"; }
break_disk
out=$(produce a1 20000 "$work/acked.a" until-error) || { echo "$out"; tail -20 "$log"; fail "phase 1"; }
cat "$work/acked.a0" >>"$work/acked.a"
echo "  failing ($mode): $out"
grep -q "appends to this partition stopped" "$log" || fail "no 'appends stopped' line in the log"
echo probe | kcat -P -b "127.0.0.1:$port" -t orders -X acks=all -X message.send.max.retries=0 \
	2>"$work/kcat.full" || true
grep -q "KAFKA_STORAGE_ERROR\|Disk error" "$work/kcat.full" ||
	{ cat "$work/kcat.full"; fail "librdkafka did not get KAFKA_STORAGE_ERROR"; }
ok "$mode: producers get KAFKA_STORAGE_ERROR"

seq 1 20 | "$bld/sluice" produce-udp -s at-least-once --delivery-timeout-ms 3000 -v \
	10.78.0.2:5001 >"$work/udp.full" 2>"$work/udp.full.err" && fail "produce-udp succeeded on a failing disk"
awk '$5 == 56 {n++} END {exit n ? 0 : 1}' "$work/udp.full" ||
	{ cat "$work/udp.full" "$work/udp.full.err"; fail "UDP acks did not carry KAFKA_STORAGE_ERROR"; }
ok "$mode: UDP produce mode acked with KAFKA_STORAGE_ERROR"

# While full: fetches serve what was acknowledged, metrics answer.
kcat -C -b "127.0.0.1:$port" -t orders -o beginning -e -q -f '%s\n' | sed 's/-x*$//' |
	grep -E '^a1?-' | sort >"$work/read.full"
missing=$(sort "$work/acked.a" | comm -23 - "$work/read.full" | wc -l)
[ "$missing" -eq 0 ] || fail "$missing acknowledged records not served while the disk fails"
[ "$(metric sluice_storage_io_errors_total)" -ge 1 ] || fail "io_errors_total did not count the error"
ok "$mode: every acknowledged record fetched, metrics served and counting the I/O error"

repair_disk
for _ in $(seq 150); do
	produce probe 1 "$work/acked.probe" all >/dev/null 2>&1 && break
	sleep 0.2
done
[ -s "$work/acked.probe" ] || { tail -20 "$log"; fail "appends did not resume after space returned"; }
grep -q "appends resumed" "$log" || fail "no 'appends resumed' line in the log"
[ "$(metric sluice_storage_io_error_heals_total)" -ge 1 ] || fail "io_error_heals_total is 0"
ok "$mode: repaired, the partition resumed by itself"

out=$(produce b 2000 "$work/acked.b" all) || { echo "$out"; fail "phase 2"; }
echo "  after: $out"
seq 1 200 | "$bld/sluice" produce-udp -s at-least-once 10.78.0.2:5001 2>"$work/udp.after.err" ||
	{ cat "$work/udp.after.err"; fail "produce-udp after the heal"; }
kcat -C -b "127.0.0.1:$port" -t orders -o beginning -e -q -f '%s\n' | sed 's/-x*$//' |
	grep -E '^(a|a1|b|probe)-' | sort >"$work/read.all"
cat "$work/acked.a" "$work/acked.b" "$work/acked.probe" | sort >"$work/acked.all"
missing=$(comm -23 "$work/acked.all" "$work/read.all" | wc -l)
dups=$(uniq -d "$work/read.all" | wc -l)
echo "  acknowledged $(wc -l <"$work/acked.all"), read $(wc -l <"$work/read.all"), missing $missing, twice $dups"
[ "$missing" -eq 0 ] || fail "$missing acknowledged records lost"
[ "$dups" -eq 0 ] || fail "$dups records stored twice"
ok "every acknowledged record is there, once"

kill -TERM "$pid"; wait "$pid" || { tail -20 "$log"; fail "sluiced exit code"; }
dp=$(grep -o "DP: rx .*" "$log")
echo "  appliance: $dp"
grep -q "storage_error=" <<<"$dp" || fail "the dataplane did not count storage_error drops: $dp"
"$bld/sluice" verify "$mnt/data" >"$work/verify" 2>&1 || { tail "$work/verify"; fail "sluice verify"; }
ok "clean stop; the data directory verifies; the dataplane counted its refused batches"
