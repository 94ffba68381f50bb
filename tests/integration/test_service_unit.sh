#!/usr/bin/env bash
# The systemd unit meson generates (build/sluiced.service) is one systemd
# accepts without a word: systemd-analyze verify on a copy whose ExecStart
# and ExecStartPre point at this build (the installed paths do not exist
# here).  systemd-analyze exits 0 even for an unknown value, so any output
# fails the test.
. "$(dirname "$0")/lib.sh"
command -v systemd-analyze >/dev/null || skip "systemd-analyze not installed"
unit=$bld/sluiced.service
[ -f "$unit" ] || fail "$unit not generated"
grep -q '^ExecReload=/bin/kill -HUP \$MAINPID$' "$unit" || fail "no ExecReload sending SIGHUP"
grep -q '^KillSignal=SIGTERM$' "$unit" || fail "no KillSignal=SIGTERM"
bindir=$(sed -n 's#^ExecStart=\(.*\)/sluiced .*#\1#p' "$unit")
sbindir=$(sed -n 's#^ExecStartPre=\(.*\)/sluice-host-prep .*#\1#p' "$unit")
[ -n "$bindir" ] && [ -n "$sbindir" ] || fail "ExecStart/ExecStartPre not as expected"
sed -e "s#$bindir/sluiced#$bld/sluiced#" -e "s#$sbindir/sluice-host-prep#$src/firmware-config/host-prep.sh#" \
	"$unit" >"$work/sluiced.service"
out=$(SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no "$work/sluiced.service" 2>&1) ||
	fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify says: $out"
ok "sluiced.service verifies"
