#!/usr/bin/env bash
# sluiced's log options: --log-level with a bad module, a bad level, an empty
# item: a clear error naming it and exit 2 before anything starts; a good
# spec accepted; at run time `--log-level warn,daemon=info` keeps the
# daemon's INFO lines and drops the control plane's; a client sending 40
# frames of invalid size gets at most 10 log lines at once (rate limit), and
# after a second of quiet the next line says how many were suppressed.
. "$(dirname "$0")/lib.sh"

for spec in bogus=debug storage=loud "info,,debug"; do
	"$bld/sluiced" --log-level "$spec" --dry-run >"$work/out" 2>&1; rc=$?
	[ $rc -eq 2 ] || { cat "$work/out"; fail "--log-level $spec: exit $rc, not 2"; }
	grep -q "^sluiced: --log-level $spec: " "$work/out" || { cat "$work/out"; fail "no error for $spec"; }
done
grep -q "unknown module 'bogus' in 'bogus=debug' (modules: daemon, control, storage, dataplane)" \
	<("$bld/sluiced" --log-level bogus=debug --dry-run 2>&1) || fail "module error text"
"$bld/sluiced" --log-level storage=debug,control=info,dataplane=warn --dry-run >/dev/null ||
	fail "a good spec refused"
"$bld/sluiced" --log-syslog --log-file /dev/null --dry-run >/dev/null 2>&1
[ $? -eq 2 ] || fail "--log-syslog with --log-file must be a usage error"
ok "bad --log-level specs: exit 2 with the reason; good ones accepted"

[ "$(id -u)" -eq 0 ] || skip "DPDK virtual ports need root"
cd "$src"
kport=$(free_port)
log=$work/sluiced.log
"$bld/sluiced" --override "log.dirs=$work/data" --override "listeners=PLAINTEXT://127.0.0.1:$kport" \
	--override metrics.listener= --log-level warn,daemon=info \
	-- $(eal_test_args) >"$log" 2>&1 &
pid=$!
pids+=("$pid")
wait_for "$log" "running; SIGTERM" 30 || { cat "$log"; fail "sluiced did not come up"; }
grep -q "^SLUICED: log.dirs" "$log" || { cat "$log"; fail "daemon INFO line missing"; }
grep -q "^CTL: listening on" "$log" && { cat "$log"; fail "control INFO line at level warn"; }
ok "--log-level warn,daemon=info: daemon INFO kept, control INFO dropped"
# 40 connections each sending a frame of size -1, then one more after 1.2 s.
bad_frames() {
	/usr/bin/python3 -c '
import socket, sys
for _ in range(int(sys.argv[2])):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"\xff\xff\xff\xff")
    s.recv(1)
    s.close()
' "$kport" "$1"
}

kill -TERM "$pid"; wait "$pid" || fail "stop"
log=$work/sluiced.2.log
"$bld/sluiced" --override "log.dirs=$work/data" --override "listeners=PLAINTEXT://127.0.0.1:$kport" \
	--override metrics.listener= -- $(eal_test_args) >"$log" 2>&1 &
pid=$!
pids+=("$pid")
wait_for "$log" "running; SIGTERM" 30 || { cat "$log"; fail "sluiced did not come up"; }
bad_frames 40
sleep 0.3
n=$(grep -c "invalid frame size -1" "$log")
[ "$n" -ge 1 ] && [ "$n" -le 11 ] || { cat "$log"; fail "$n lines for 40 bad frames"; }
sleep 1.2
bad_frames 1
sleep 0.3
grep -qE "CTL: [0-9]+ similar messages suppressed" "$log" || { cat "$log"; fail "no suppressed count"; }
sup=$(grep -oE "CTL: [0-9]+ similar messages suppressed" "$log" | tail -1 | grep -oE "[0-9]+")
[ $((n + sup)) -ge 40 ] || fail "$n logged + $sup suppressed < 40"
ok "40 bad frames: $n lines, then '$sup similar messages suppressed'"
kill -TERM "$pid"; wait "$pid" || fail "stop"
