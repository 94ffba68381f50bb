#!/usr/bin/env bash
# The bundled sample traffic is exactly what perf/sluice-trafgen writes with
# its defaults, so it can always be regenerated and reviewed.
. "$(dirname "$0")/lib.sh"
"$bld/perf/sluice-trafgen" -o "$work/sample.pcap" || fail "trafgen failed"
cmp "$work/sample.pcap" "$src/firmware-config/samples/sample.pcap" ||
	fail "firmware-config/samples/sample.pcap differs from sluice-trafgen's output"
ok "sample.pcap reproducible"
