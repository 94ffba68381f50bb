#!/bin/sh
# Run one libFuzzer target for meson test (suite 'fuzz').
#
#   run_fuzz.sh replay FUZZER CORPUS OUT   run every file of CORPUS once
#   run_fuzz.sh run    FUZZER CORPUS OUT   fuzz for $SLUICE_FUZZ_SECONDS (default 20) from
#                                          CORPUS (read only); new inputs go to OUT/work/NAME;
#                                          seed $SLUICE_FUZZ_SEED (default 1): the CI tries the
#                                          same inputs on every run (the time only decides how
#                                          far it gets), so a failure replays with that seed
#
# Crash, leak and timeout inputs are written to OUT/artifacts/NAME-*.  Exit 1 on any
# finding (libFuzzer's own default, 77, would read as "skipped" to meson).
set -u
mode=$1 exe=$2 corpus=$3 out=$4
name=$(basename "$exe")
mkdir -p "$out/artifacts" "$out/work/$name"
set -- -error_exitcode=1 -timeout_exitcode=1 -timeout=25 -rss_limit_mb=2048 \
	-artifact_prefix="$out/artifacts/$name-"
case $mode in
replay)
	"$exe" "$@" -runs=0 "$corpus"/*
	;;
run)
	"$exe" "$@" -max_total_time="${SLUICE_FUZZ_SECONDS:-20}" -seed="${SLUICE_FUZZ_SEED:-1}" \
		-print_final_stats=1 \
		${SLUICE_FUZZ_ARGS:-} "$out/work/$name" "$corpus"
	;;
*)
	echo "usage: $0 replay|run FUZZER CORPUS OUT" >&2
	exit 2
	;;
esac
rc=$?
[ $rc -eq 77 ] && rc=1
exit $rc
