#!/usr/bin/env bash
# Storage benchmark, one run, ceilings measured alongside:
#   disk:  durable MB/s of the writer  vs  fio io_uring 1 MiB O_DIRECT iodepth 8 + end fsync
#   tmpfs: durable MB/s of the writer  vs  single-core memcpy bandwidth
#   tmpfs: also vs fio io_uring 1 MiB buffered writes to the same tmpfs (the kernel's own
#          ceiling for filling fresh page-cache pages, which sits far below memcpy here)
#   tmpfs: the same on a huge=always tmpfs mounted for the run (2 MiB folios), when root
#   tmpfs: and the best fill rate of any kernel interface (perf/tmpfs_fill: pwrite, and
#          mmap+memcpy into a preallocated file, on this tmpfs and on a huge=always tmpfs)
# Usage: perf/bench_storage.sh [BUILD_DIR] [DISK_DIR] [MB]
set -euo pipefail
bld=${1:-build}
disk=${2:-/var/tmp}
mb=${3:-1024}
work=$(mktemp -d "$disk/sluice-bench.XXXXXX")
shm=$(mktemp -d /dev/shm/sluice-bench.XXXXXX)
huge=$(mktemp -d /tmp/sluice-hugetmpfs.XXXXXX)
trap 'umount "$huge" 2>/dev/null; rm -rf "$work" "$shm" "$huge"' EXIT

fio_write() { # FILE SIZE_MB DIRECT -> MB/s
	fio --name=ceiling --filename="$1" --ioengine=io_uring --rw=write --bs=1M --direct="$3" \
		--iodepth=8 --size="$2M" --end_fsync=1 --output-format=json 2>/dev/null |
		/usr/bin/python3 -c 'import json,sys; print("%.1f" % (json.load(sys.stdin)["jobs"][0]["write"]["bw_bytes"] / 1e6))'
	rm -f "$1"
}
fio_mbs=$(fio_write "$work/fio.dat" "$mb" 1)
fio_shm_mbs=$(fio_write "$shm/fio.dat" "$((mb * 2))" 0)

fill_out=$("$bld/perf/tmpfs_fill" "$shm" "$mb")
huge_mbs=
if mount -t tmpfs -o huge=always,size=$((mb * 3))m sluice-bench "$huge" 2>/dev/null; then
	fill_out+=$'\n'$("$bld/perf/tmpfs_fill" "$huge" "$mb" | sed 's/^/huge_/')
	# 2 MiB page-cache folios: 8 MiB writes leave few partly written folios to zero.
	# The first run into a fresh mount pays for compacting huge pages; time the second.
	for run in warm timed; do
		rm -rf "$huge/data"
		huge_mbs=$("$bld/perf/bench_storage" "$huge/data" --mb "$((mb * 2))" --write-max 8388608 |
			awk '/^durable_mbs/ {print $2}')
	done
	umount "$huge"
fi
disk_out=$("$bld/perf/bench_storage" "$work/data" --mb "$mb")
shm_out=$("$bld/perf/bench_storage" "$shm/data" --mb "$((mb * 2))" --memcpy)
disk_mbs=$(awk '/^durable_mbs/ {print $2}' <<<"$disk_out")
shm_mbs=$(awk '/^durable_mbs/ {print $2}' <<<"$shm_out")
memcpy_mbs=$(awk '/^memcpy_gbs/ {printf "%.1f", $2 * 1000}' <<<"$shm_out")

printf '%-40s %10s %10s %7s %7s\n' "storage benchmark ($mb MiB, 1 KiB records)" "MB/s" "ceiling" "ratio" "target"
printf '%-40s %10s %10s %7.2f %7s\n' "durable to disk ($disk) vs fio" "$disk_mbs" "$fio_mbs" \
	"$(echo "$disk_mbs / $fio_mbs" | bc -l)" "0.90"
printf '%-40s %10s %10s %7.2f %7s\n' "durable to tmpfs vs memcpy" "$shm_mbs" "$memcpy_mbs" \
	"$(echo "$shm_mbs / $memcpy_mbs" | bc -l)" "0.50"
if [ -n "$huge_mbs" ]; then
	printf '%-40s %10s %10s %7.2f %7s\n' "durable to huge=always tmpfs vs memcpy" "$huge_mbs" "$memcpy_mbs" \
		"$(echo "$huge_mbs / $memcpy_mbs" | bc -l)" "0.50"
fi
# The best a writer could do into fresh tmpfs pages here, next to memcpy.
fill_mbs=$(awk '/_gbs/ && $2 > m {m = $2} END {printf "%.1f", m * 1000}' <<<"$fill_out")
fill_how=$(awk '/_gbs/ && $2 > m {m = $2; k = $1} END {sub(/_gbs$/, "", k); print k}' <<<"$fill_out")
printf '%-40s %10s %10s %7.2f %7s\n' "kernel tmpfs fill ($fill_how) vs memcpy" "$fill_mbs" "$memcpy_mbs" \
	"$(echo "$fill_mbs / $memcpy_mbs" | bc -l)" "-"
printf '%-40s %10s %10s %7.2f %7s\n' "durable to tmpfs vs fio on tmpfs" "$shm_mbs" "$fio_shm_mbs" \
	"$(echo "$shm_mbs / $fio_shm_mbs" | bc -l)" "-"
