#!/usr/bin/env bash
# sluiced --check-config: every shipped config validates; the deliberately
# broken example gives exactly its three errors, each FILE:LINE: KEY, exit 2.
. "$(dirname "$0")/lib.sh"
cd "$src"

out=$("$bld/sluiced" --check-config firmware-config/default.yaml) || fail "default.yaml: $out"
[ "$out" = "firmware-config/default.yaml: OK" ] || fail "unexpected: $out"
"$bld/sluiced" --check-config >/dev/null || fail "embedded default does not validate"
"$bld/sluice" check-config >/dev/null || fail "sluice check-config (embedded) failed"
ok "default config validates"

bad=firmware-config/examples/bad-three-errors.yaml
"$bld/sluiced" --check-config "$bad" >"$work/out" 2>&1; rc=$?
[ $rc -eq 2 ] || { cat "$work/out"; fail "exit $rc, expected 2"; }
n=$(grep -c "^$bad:[0-9]*: " "$work/out")
[ "$n" -eq 3 ] || { cat "$work/out"; fail "$n errors, expected 3"; }
grep -q "^$bad:12: log.retention.hourz: unknown key" "$work/out" || fail "unknown key"
grep -q "^$bad:23: dataplane.ports.sample0.rx.descriptors: expected an integer" "$work/out" ||
	fail "wrong type"
grep -q "^$bad:24: dataplane.ports.sample0.rx.lcores: lcore 200 does not exist" "$work/out" ||
	fail "missing lcore"
ok "bad config: three errors with file:line:key, exit 2"

"$bld/sluiced" --check-config --override log.retention.ms=abc >"$work/out" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q "^--override:1: log.retention.ms: expected an integer" "$work/out" ||
	{ cat "$work/out"; fail "bad override not reported"; }
"$bld/sluiced" --check-config /nonexistent.yaml >"$work/out" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q "/nonexistent.yaml" "$work/out" || fail "missing file not reported"
ok "override and missing-file errors"

# --print-config output loads back and validates.
"$bld/sluiced" --print-config >"$work/dump.yaml" || fail "--print-config"
"$bld/sluiced" --check-config "$work/dump.yaml" >/dev/null || fail "dumped config does not validate"
ok "--print-config round trip"
