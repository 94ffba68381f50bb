#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# host-prep.sh - prepare a Linux host for sluiced: reserve 2 MiB hugepages,
# mount hugetlbfs, and hand a NIC to DPDK (vfio-pci).  Installed as
# sluice-host-prep.  Every argument is checked before anything is changed, so
# a refusal leaves the host as it was.
#
# Exit status: 0 done; 1 refused (usage, not root, no such PCI device, tool or
# bind failure); 3 everything done but fewer hugepages than asked could be
# reserved (memory too fragmented: reserve them at boot instead).
set -euo pipefail

HUGEPAGES=512
MOUNT=0
DRIVER=vfio-pci
BIND=()
HP_SYSFS=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
HP_MOUNT=/dev/hugepages

usage() {
	cat <<USAGE
Usage: host-prep.sh [--hugepages N] [--mount] [--bind PCI_ADDR [--driver DRV]]...

Prepare this host for sluiced (run as root).

  --hugepages N     make sure at least N 2 MiB hugepages are reserved
                    (default $HUGEPAGES; 0 = leave hugepages alone).  Never
                    lowers an existing reservation.
  --mount           mount hugetlbfs at $HP_MOUNT unless already mounted
                    (needed for EAL --file-prefix; --in-memory does not).
  --bind PCI_ADDR   bind this NIC (e.g. 0000:3b:00.0) to the driver with
                    dpdk-devbind.py, after "modprobe DRV".  Repeatable.
  --driver DRV      driver for the following --bind (default vfio-pci).
  -h, --help        show this help.

Exit status: 0 done, 1 refused (nothing changed), 3 done but fewer
hugepages than asked were reserved.
USAGE
}

die() {
	echo "host-prep.sh: $*" >&2
	exit 1
}

# "3b:00.0" -> "0000:3b:00.0"; anything else that is not D:B:D.F is refused.
pci_normalize() {
	local a=$1
	[[ $a =~ ^[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$ ]] && a="0000:$a"
	[[ $a =~ ^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$ ]] ||
		die "--bind $1: not a PCI address (expected DOMAIN:BUS:DEV.FN, e.g. 0000:3b:00.0)"
	echo "${a,,}"
}

parse_args() {
	local driver=$DRIVER addr
	while (($#)); do
		case $1 in
		-h | --help) usage; exit 0 ;;
		--hugepages)
			[[ ${2-} =~ ^[0-9]+$ ]] || die "--hugepages needs a number of 2 MiB pages"
			HUGEPAGES=$2; shift ;;
		--mount) MOUNT=1 ;;
		--driver)
			[[ -n ${2-} ]] || die "--driver needs a driver name"
			driver=$2; shift ;;
		--bind)
			[[ -n ${2-} ]] || die "--bind needs a PCI address"
			addr=$(pci_normalize "$2") || exit 1
			BIND+=("$addr=$driver"); shift ;;
		*) usage >&2; die "unknown argument: $1" ;;
		esac
		shift
	done
}

check() {
	local b addr
	for b in "${BIND[@]}"; do
		addr=${b%%=*}
		[[ -e /sys/bus/pci/devices/$addr ]] ||
			die "no PCI device $addr (/sys/bus/pci/devices/$addr does not exist; see lspci -D)"
	done
	((EUID == 0)) || die "must be run as root (hugepages, mount and driver binding need it)"
	if ((${#BIND[@]})); then
		command -v dpdk-devbind.py >/dev/null ||
			die "dpdk-devbind.py not found (Debian package: dpdk)"
	fi
	if ((HUGEPAGES)) && [[ ! -w $HP_SYSFS ]]; then
		die "$HP_SYSFS is missing: this kernel has no 2 MiB hugepages"
	fi
}

# Prints what it did; returns 3 when the kernel gave fewer pages than asked.
reserve_hugepages() {
	local have got
	have=$(<"$HP_SYSFS")
	if ((have >= HUGEPAGES)); then
		echo "hugepages: $have x 2 MiB already reserved (asked $HUGEPAGES)"
		return 0
	fi
	echo "$HUGEPAGES" >"$HP_SYSFS"
	got=$(<"$HP_SYSFS")
	if ((got < HUGEPAGES)); then
		echo "hugepages: reserved only $got of $HUGEPAGES x 2 MiB (memory fragmented;" \
			"reserve at boot: hugepagesz=2M hugepages=$HUGEPAGES)" >&2
		return 3
	fi
	echo "hugepages: reserved $got x 2 MiB (was $have)"
}

mount_hugetlbfs() {
	if mountpoint -q "$HP_MOUNT" && [[ $(stat -f -c %T "$HP_MOUNT") == hugetlbfs ]]; then
		echo "hugetlbfs: already mounted at $HP_MOUNT"
		return 0
	fi
	mkdir -p "$HP_MOUNT"
	mount -t hugetlbfs -o pagesize=2M nodev "$HP_MOUNT" || die "mount hugetlbfs at $HP_MOUNT failed"
	echo "hugetlbfs: mounted at $HP_MOUNT"
}

bind_nic() {
	local addr=$1 driver=$2 old=none
	[[ -e /sys/bus/pci/devices/$addr/driver ]] &&
		old=$(basename "$(readlink "/sys/bus/pci/devices/$addr/driver")")
	if [[ $old == "$driver" ]]; then
		echo "bind: $addr already uses $driver"
		return 0
	fi
	modprobe "$driver" || die "modprobe $driver failed"
	dpdk-devbind.py --bind="$driver" "$addr" || die "dpdk-devbind.py --bind=$driver $addr failed"
	echo "bind: $addr now uses $driver (was $old)"
}

main() {
	local status=0 b
	parse_args "$@"
	check
	if ((HUGEPAGES)); then
		reserve_hugepages || status=$?
	fi
	((MOUNT)) && mount_hugetlbfs
	for b in "${BIND[@]}"; do
		bind_nic "${b%%=*}" "${b#*=}"
	done
	return "$status"
}

main "$@"
