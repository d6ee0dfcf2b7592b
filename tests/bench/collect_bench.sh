#!/usr/bin/env bash
# Collect throughput against cp -r and rclone copy --checksum of the same
# tree to the same disk, in the same run:
#   (a) 1 GiB in 8 MiB files, (b) 20,000 files of 4 KiB.
# Targets, each also faster than rclone:
#   small: arca >= 1.0x "cp -r; sync" (one pack written in order and flushed
#     once, against cp's 20,000 creates), and the collect leaves a handful of
#     files in the blob directory (at most 10), not 20,000;
#   big: arca >= 0.8x the slower of "cp -r; sync" and one core hashing the
#     tree ("cat" of its files into "openssl dgst -sha256"): the disk or the
#     hash, whichever this CPU makes the limit.
# For where the time goes (no targets): arca's time split into the
# collector's upload phases (from its metrics), and store_bench timing the
# collector's disk work alone: the blob store writing the tree, and the
# store's write protocol (temporary name, syncfs, rename, syncfs) done by a
# plain program.
# arca acknowledges a collect only once it is on disk, so the cp -r baseline
# is "cp -r; sync" (the copy made durable).
# This machine's disk and page cache vary a lot from one second to the next,
# so each tool runs three rounds, taking turns first, each round on a tree of
# its own (no tool, arca included, ever copies bytes it has seen before), and
# the best round of each is compared. Nothing is deleted until the end: on a
# file system without a journal, ext4 steps over recently deleted inodes
# when it allocates new ones, which would slow whichever tool came next;
# for the same reason, run it when nothing has deleted many files in the
# last few minutes (run.sh runs it before the expiry benchmark).
# Usage: tests/bench/collect_bench.sh [--small]   (--small: 128 MiB / 2,000 files)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
big_files=128 small_files=20000 rounds=3
if [ "${1:-}" = "--small" ]; then big_files=16 small_files=2000; fi

./deploy/local/install-deps.sh rclone
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build arca arca-catalog arca-collector store_bench >/dev/null

bin="$root/build/bin"
# On the build's disk, as the copies it is compared with.
TMPDIR="$root/build"
# shellcheck source=../lib/suite.sh
source "$root/tests/lib/suite.sh"
start catalog arca-catalog --data_dir="$work/catalog"
start collector arca-collector --catalog="$catalog_addr" \
  --blob_dir="$work/blobs" --max_total_bytes=$((4 << 30)) --max_files=100000

# shellcheck source=trees.sh
source "$root/tests/bench/trees.sh"

now() { date +%s.%N; }
# timed NAME COMMAND...: appends NAME's seconds for COMMAND to $work/times.
# Every tool starts with the tree in the page cache, as a job's freshly
# written outputs are (rclone drops what it read from the cache, which
# would leave the next tool reading from disk), and nothing left to flush.
settle() {
  find "$src" -type f -exec cat {} + >/dev/null
  sync
}
timed() {
  local name=$1 t0 t1
  shift
  settle
  t0=$(now)
  "$@"
  t1=$(now)
  echo "$name $t0 $t1" >>"$work/times"
}
# store_bench times its own writing, leaving out making the store's folders.
store_bench() {
  settle
  echo "$tree-$1 0 $("$bin/store_bench" "$1" "$src" "$work/out/$1-$tree-$r")" >>"$work/times"
}
# The collector's seconds so far in each upload phase: receive store commit.
phase_sums() {
  curl -sf "http://$collector_metrics/metrics" | awk '
    /^arca_collector_upload_phase_seconds_sum/ { split($1, a, "\""); s[a[2]] = $2 }
    END { print s["receive"], s["store"], s["commit"] }'
}
cp_sync() { cp -r "$1" "$2" && sync; }
sha_tree() { find "$1" -type f -print0 | xargs -0 cat | openssl dgst -sha256 >/dev/null; }
blob_files() { find "$work/blobs/blobs" "$work/blobs/packs" -type f | wc -l; }
rclone_copy() { rclone copy --checksum --transfers 4 "$1" "$2" 2>/dev/null; }
arca_collect() { arca collect "$1" --job "bench-$(basename "$1")" >/dev/null; }

mkdir -p "$work/empty" "$work/out"
: >"$work/times"
for r in $(seq 1 "$rounds"); do
  make_trees "$r"
  for tree in big small; do
    src="$work/$tree-$r"
    bytes=$(du -sb "$src" | cut -f1)
    echo "$tree bytes $bytes" >>"$work/sizes"
    # Each round a different tool goes first.
    order=(cp rclone arca sha store protocol)
    for i in $(seq 1 $(( (r - 1) % 3 ))); do order=("${order[@]:1}" "${order[0]}"); done
    for tool in "${order[@]}"; do
      case $tool in
        cp) timed "$tree-cp" cp_sync "$src" "$work/out/cp-$tree-$r" ;;
        sha) timed "$tree-sha" sha_tree "$src" ;;
        rclone) timed "$tree-rclone" rclone_copy "$src" "$work/out/rclone-$tree-$r" ;;
        arca) arca run --job "bench-$tree-$r" --group bench --artifacts "$work/empty" -- true 2>/dev/null
              before=$(phase_sums)
              files_before=$(blob_files)
              timed "$tree-arca" arca_collect "$src"
              echo "$tree $before $(phase_sums)" >>"$work/phases"
              echo "$tree $(( $(blob_files) - files_before ))" >>"$work/made" ;;
        store | protocol) store_bench "$tool" ;;
      esac
    done
  done
done

status=0
awk -v rounds="$rounds" '
  FILENAME == ARGV[1] { bytes[$1] = $3; next }
  FILENAME == ARGV[3] { for (i = 0; i < 3; ++i) phase[$1, i] += ($(i + 5) - $(i + 2)) / rounds; next }
  FILENAME == ARGV[4] { if ($2 > made[$1]) made[$1] = $2; next }
  {
    split($1, p, "-"); tree = p[1]; tool = p[2];
    s = $3 - $2; mbs = bytes[tree] / 1048576 / s;
    if (mbs > best[tree, tool]) best[tree, tool] = mbs;
    runs[tree, tool] = runs[tree, tool] sprintf(" %.0f", mbs);
  }
  END {
    fail = 0;
    for (t = 1; t <= 2; ++t) {
      tree = (t == 1 ? "big" : "small");
      a = best[tree, "arca"]; c = best[tree, "cp"]; r = best[tree, "rclone"]; h = best[tree, "sha"];
      if (tree == "small") {
        base = c; want = 1.0; what = "cp"; target = "target >= 1.00x cp";
      } else {
        base = (h < c ? h : c); want = 0.8; what = (h < c ? "sha256" : "cp");
        target = "target >= 0.80x the slower of cp and sha256";
      }
      ok = (a >= want * base && a > r && (tree == "big" || made[tree] <= 10));
      if (!ok) fail = 1;
      printf "collect %-5s arca %7.1f MB/s | cp -r;sync %7.1f MB/s | sha256 %7.1f MB/s | rclone %7.1f MB/s | %.2fx %s (%s), %.2fx rclone (target > 1x) %s\n",
        tree, a, c, h, r, a / base, what, target, a / r, (ok ? "PASS" : "FAIL");
      printf "      rounds (MB/s): arca%s | cp%s | sha256%s | rclone%s\n", runs[tree, "arca"], runs[tree, "cp"], runs[tree, "sha"], runs[tree, "rclone"];
      printf "      files the collect added to the blob directory: %d (%s)\n", made[tree], (tree == "small" ? "target <= 10" : "one per file, and its block checksums");
      s = best[tree, "store"]; w = best[tree, "protocol"];
      printf "      arca per round (mean): receive %.3f s, store %.3f s, commit %.3f s\n", phase[tree, 0], phase[tree, 1], phase[tree, 2];
      printf "      the disk work alone: blob store %.1f MB/s (%.2fx cp), its write protocol %.1f MB/s (%.2fx cp)\n", s, s / c, w, w / c;
    }
    exit fail
  }' "$work/sizes" "$work/times" "$work/phases" "$work/made" || status=1  # a missed target, not a broken script
exit $status
