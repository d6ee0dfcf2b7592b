#!/usr/bin/env bash
# Collect throughput against cp -r and rclone copy --checksum of the same
# tree to the same disk, in the same run:
#   (a) 1 GiB in 8 MiB files, (b) 20,000 files of 4 KiB.
# Targets: arca >= 0.5x cp -r, and faster than rclone.
# arca acknowledges a collect only once it is on disk, so the cp -r baseline
# the target is judged against is "cp -r; sync" (the copy made durable); the
# page-cache-only figure of a bare cp -r is printed beside it.
# Usage: tests/bench/collect_bench.sh [--small]   (--small: 128 MiB / 2,000 files)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
big_files=128 small_files=20000
if [ "${1:-}" = "--small" ]; then big_files=16 small_files=2000; fi

./deploy/local/install-deps.sh rclone
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build arca arca-catalog arca-collector >/dev/null

bin="$root/build/bin"
# On the build's disk, as the copies it is compared with.
TMPDIR="$root/build"
# shellcheck source=../lib/suite.sh
source "$root/tests/lib/suite.sh"
start catalog arca-catalog --data_dir="$work/catalog"
start collector arca-collector --catalog="$catalog_addr" \
  --blob_dir="$work/blobs" --max_total_bytes=$((4 << 30)) --max_files=100000

now() { date +%s.%N; }
rate() { echo "$1 $2 $3" | awk '{ printf "%.1f", $1 / 1048576 / ($3 - $2) }'; }

bench() {
  local name=$1 tree=$2 bytes
  bytes=$(du -sb "$tree" | cut -f1)
  sync
  local t0 t1 t2 t3 t4 t5
  local c0 c1
  c0=$(now); cp -r "$tree" "$work/cpcache-$name"; c1=$(now)
  sync
  t0=$(now); cp -r "$tree" "$work/cp-$name"; sync; t1=$(now)
  t2=$(now); rclone copy --checksum --transfers 4 "$tree" "$work/rclone-$name" 2>/dev/null; t3=$(now)
  sync
  local job="bench-$name"
  arca run --job "$job" --group bench --artifacts "$work/empty" -- true 2>/dev/null
  t4=$(now); arca collect "$tree" --job "$job" >/dev/null; t5=$(now)
  local cp_rate rclone_rate arca_rate cache_rate
  cache_rate=$(rate "$bytes" "$c0" "$c1")
  cp_rate=$(rate "$bytes" "$t0" "$t1")
  rclone_rate=$(rate "$bytes" "$t2" "$t3")
  arca_rate=$(rate "$bytes" "$t4" "$t5")
  echo "$name $cp_rate $rclone_rate $arca_rate $cache_rate" | awk '{
    ratio = $4 / $2; vs = $4 / $3;
    ok = (ratio >= 0.5 && $4 > $3) ? "PASS" : "FAIL";
    printf "collect %-22s arca %7.1f MB/s | cp -r;sync %7.1f MB/s (bare cp -r %7.1f) | rclone %7.1f MB/s | %.2fx cp (target >= 0.50x), %.2fx rclone (target > 1x) %s\n",
      $1, $4, $2, $5, $3, ratio, vs, ok }'
}

mkdir -p "$work/big" "$work/small" "$work/empty"
for i in $(seq 1 "$big_files"); do head -c $((8 << 20)) /dev/urandom >"$work/big/f$i.bin"; done
for d in $(seq 1 100); do
  mkdir -p "$work/small/d$d"
  for i in $(seq 1 $((small_files / 100))); do
    head -c 4096 /dev/urandom >"$work/small/d$d/f$i.dat"
  done
done
bench "$((big_files * 8))MiB-in-8MiB-files" "$work/big" | tee "$work/result"
bench "${small_files}x4KiB-files" "$work/small" | tee -a "$work/result"
! grep -q FAIL "$work/result"
