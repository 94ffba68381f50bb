#!/usr/bin/env bash
# Least privilege, on the real sluiced:
# - a PLAINTEXT listener on every address (0.0.0.0) is refused at start,
#   naming listeners.allow.insecure; with it set, sluiced starts;
# - control.user=nobody: sluiced drops root after EAL and the ports (its
#   real, effective and saved uid are nobody's, no supplementary groups,
#   CAP_IPC_LOCK the only capability),
#   serves kcat, and the files it makes in log.dirs are nobody's;
# - a log.dirs that user cannot write stops the start naming log.dirs.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "DPDK virtual ports need root"
command -v kcat >/dev/null || skip "no kcat"
id nobody >/dev/null 2>&1 || skip "no user nobody"

cd "$src"
port=$(free_port)
n=0
launch() {
	n=$((n + 1))
	log=$work/sluiced.$n.log
	"$bld/sluiced" --override metrics.listener= "$@" -- $(eal_test_args) >"$log" 2>&1 &
	pid=$!
	pids+=("$pid")
}
up() { wait_for "$log" "running; SIGTERM" 30 || { cat "$log"; fail "sluiced did not come up"; }; }
stop() { kill -TERM "$pid"; wait "$pid" || { cat "$log"; fail "exit code after SIGTERM"; }; }

launch --override "log.dirs=$work/d1" --override "listeners=PLAINTEXT://0.0.0.0:$port"
wait "$pid"; rc=$?
[ $rc -ne 0 ] || fail "sluiced started a plaintext listener on every address"
grep -q "listeners.allow.insecure" "$log" || { cat "$log"; fail "the refusal does not name the key"; }
launch --override "log.dirs=$work/d1" --override "listeners=PLAINTEXT://0.0.0.0:$port" \
	--override listeners.allow.insecure=true
up
stop
ok "PLAINTEXT on 0.0.0.0: refused (exit $rc) unless listeners.allow.insecure"

mkdir -p "$work/d2"
chown nobody "$work/d2"
chmod 755 "$work"
launch --override "log.dirs=$work/d2" --override "listeners=PLAINTEXT://127.0.0.1:$port" \
	--override control.user=nobody
up
uid=$(id -u nobody)
grep -q "^Uid:[[:space:]]*$uid[[:space:]]*$uid[[:space:]]*$uid[[:space:]]*$uid$" "/proc/$pid/status" ||
	{ grep Uid "/proc/$pid/status"; fail "sluiced does not run as nobody"; }
grep -q "^Groups:[[:space:]]*$(id -g nobody)\?[[:space:]]*$" "/proc/$pid/status" ||
	{ grep Groups "/proc/$pid/status"; fail "supplementary groups kept"; }
# CAP_IPC_LOCK (bit 14) alone: io_uring's registered buffers are locked memory.
grep -q "^CapEff:[[:space:]]*0000000000004000$" "/proc/$pid/status" ||
	{ grep Cap "/proc/$pid/status"; fail "capabilities other than CAP_IPC_LOCK kept"; }
grep -q "^CapInh:[[:space:]]*0000000000000000$" "/proc/$pid/status" || fail "inheritable capabilities"
seq 1 20 | timeout 60 kcat -b "127.0.0.1:$port" -P -t lp -X acks=all 2>"$work/k.err" ||
	{ cat "$work/k.err"; fail "produce as nobody"; }
got=$(timeout 60 kcat -b "127.0.0.1:$port" -C -t lp -o beginning -e -q | wc -l)
[ "$got" -eq 20 ] || fail "read back $got of 20 as nobody"
others=$(find "$work/d2" ! -user nobody | head -3)
[ -z "$others" ] || fail "files in log.dirs not owned by nobody: $others"
stop
ok "control.user=nobody: uid $uid in all four slots, serves kcat, log.dirs files are nobody's"

mkdir -p "$work/d3"
launch --override "log.dirs=$work/d3" --override "listeners=PLAINTEXT://127.0.0.1:$port" \
	--override control.user=nobody
wait "$pid"; rc=$?
[ $rc -ne 0 ] || fail "started as nobody on a root-owned log.dirs"
grep -q "log.dirs .* is not usable by user nobody" "$log" || { cat "$log"; fail "no line naming log.dirs"; }
ok "log.dirs nobody cannot write: start refused (exit $rc) naming log.dirs"
