#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test_host_prep.sh HOST_PREP - the refusal paths of firmware-config/host-prep.sh
# (no NIC here, and a test must not change the host): --help, bad arguments,
# a PCI device that does not exist, and not being root.
set -u
HP=${1:?usage: test_host_prep.sh PATH/TO/host-prep.sh}
fails=0

# expect NAME WANT_RC PATTERN CMD...: run CMD, check its exit code and that
# PATTERN appears in its output.
expect() {
	local name=$1 want=$2 pattern=$3 out rc
	shift 3
	out=$("$@" 2>&1)
	rc=$?
	if [[ $rc -ne $want ]] || ! grep -qF -- "$pattern" <<<"$out"; then
		echo "FAIL $name: exit $rc (want $want), output:"
		echo "$out" | sed 's/^/    /'
		fails=$((fails + 1))
	else
		echo "ok   $name"
	fi
}

before=$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages 2>/dev/null || echo none)

expect help 0 "Usage: host-prep.sh" bash "$HP" --help
expect unknown-option 1 "unknown argument: --frobnicate" bash "$HP" --frobnicate
expect bad-hugepages 1 "--hugepages needs a number" bash "$HP" --hugepages lots
expect bad-address 1 "--bind zz:1: not a PCI address" bash "$HP" --bind zz:1
expect no-such-device 1 "no PCI device 0000:ff:1f.7" bash "$HP" --hugepages 8 --bind ff:1f.7

if ((EUID == 0)) && command -v setpriv >/dev/null; then
	expect not-root 1 "must be run as root" \
		setpriv --reuid=65534 --regid=65534 --clear-groups bash "$HP" --hugepages 8
elif ((EUID != 0)); then
	expect not-root 1 "must be run as root" bash "$HP" --hugepages 8
else
	echo "skip not-root: no setpriv"
fi

after=$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages 2>/dev/null || echo none)
if [[ $before != "$after" ]]; then
	echo "FAIL a refusal changed nr_hugepages ($before -> $after)"
	fails=$((fails + 1))
fi
exit $((fails ? 1 : 0))
