#!/usr/bin/env bash
# Arca on S3 against the object store's own clients, on the same endpoint
# (a single-node Ceph RGW on loopback, tests/s3/ceph.sh) in the same run:
#   (a) collect 1 GiB in 8 MiB files: target >= 1.0x `aws s3 cp --recursive`
#       (Debian's awscli) of the same tree, and >= 1.0x `rclone copy`;
#   (b) collect 20,000 files of 4 KiB: target >= 10x `aws s3 cp --recursive`
#       (packs: a few PUTs instead of 20,000);
#   (c) download a 1 GiB file through the gateway (streamed from the bucket):
#       target >= 0.8x `aws s3 cp` of the same object to stdout.
# Each tool runs two rounds, taking turns first, on trees of their own; the
# best round of each is compared.
# Usage: tests/bench/s3_bench.sh [--small]   (--small: 128 MiB / 2,000 files)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
big_files=128 small_files=20000 rounds=2
if [ "${1:-}" = "--small" ]; then big_files=16 small_files=2000; fi

./deploy/local/install-deps.sh awscli rclone ceph-mon ceph-osd radosgw
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build arca arca-catalog arca-collector arca-gateway >/dev/null

bin="$root/build/bin"
TMPDIR="$root/build"
# shellcheck source=../lib/suite.sh
source "$root/tests/lib/suite.sh"
ceph="$root/build/bench-ceph"
# A new cluster each run, removed at the end: runs write gigabytes each, and
# a full OSD stalls every request.
trap 'cleanup; tests/s3/ceph.sh stop "$ceph"; rm -rf "$ceph"' EXIT
tests/s3/ceph.sh stop "$ceph" 2>/dev/null || true
rm -rf "$ceph"
tests/s3/ceph.sh start "$ceph" >/dev/null
# shellcheck source=/dev/null
source "$ceph/env"
export AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
s3=(--blob_store=s3://bench/arca-$(basename "$work") --s3_endpoint="$ARCA_S3_ENDPOINT" --s3_create_bucket)
start catalog arca-catalog --data_dir="$work/catalog"
start collector arca-collector --catalog="$catalog_addr" "${s3[@]}" \
  --max_total_bytes=$((4 << 30)) --max_files=100000
start gateway arca-gateway --catalog="$catalog_addr" --collector="$collector_addr" "${s3[@]}"

export RCLONE_CONFIG_CEPH_TYPE=s3 RCLONE_CONFIG_CEPH_PROVIDER=Ceph \
  RCLONE_CONFIG_CEPH_ENDPOINT="$ARCA_S3_ENDPOINT" \
  RCLONE_CONFIG_CEPH_ACCESS_KEY_ID="$AWS_ACCESS_KEY_ID" \
  RCLONE_CONFIG_CEPH_SECRET_ACCESS_KEY="$AWS_SECRET_ACCESS_KEY"
aws_s3() { /usr/bin/aws --endpoint-url "$ARCA_S3_ENDPOINT" s3 "$@"; }

# shellcheck source=trees.sh
source "$root/tests/bench/trees.sh"

now() { date +%s.%N; }
timed() {  # timed NAME BYTES COMMAND...: appends NAME BYTES SECONDS to $work/times
  local name=$1 bytes=$2 t0 t1
  shift 2
  find "$src" -type f -exec cat {} + >/dev/null 2>&1 || true
  t0=$(now)
  "$@"
  t1=$(now)
  echo "$name $bytes $(echo "$t1 - $t0" | bc)" >>"$work/times"
}
arca_collect() { arca collect "$1" --job "bench-$(basename "$1")" >/dev/null; }
aws_copy() { aws_s3 cp --recursive --quiet "$1" "s3://bench/aws-$(basename "$1")/"; }
rclone_copy() { env -u AWS_CA_BUNDLE rclone copy --transfers 4 "$1" "ceph:bench/rclone-$(basename "$1")"; }

mkdir -p "$work/empty"
: >"$work/times"
for r in $(seq 1 "$rounds"); do
  make_trees "$r"
  for tree in big small; do
    src="$work/$tree-$r"
    bytes=$(du -sb "$src" | cut -f1)
    order=(arca aws rclone)
    [ "$r" = 2 ] && order=(rclone aws arca)
    for tool in "${order[@]}"; do
      case $tool in
        arca) arca run --job "bench-$tree-$r" --group bench --artifacts "$work/empty" -- true 2>/dev/null
              timed "$tree-arca" "$bytes" arca_collect "$src" ;;
        aws) timed "$tree-aws" "$bytes" aws_copy "$src" ;;
        rclone) timed "$tree-rclone" "$bytes" rclone_copy "$src" ;;
      esac
    done
  done
done

# (c) one 1 GiB file (128 MiB with --small), collected, then read back both ways.
src="$work/one"
mkdir -p "$src"
head -c $((big_files << 23)) /dev/urandom >"$src/one.bin"
arca run --job bench-one --group bench --artifacts "$work/empty" -- true 2>/dev/null
arca collect "$src" --job bench-one >/dev/null
sha=$(sha256sum "$src/one.bin" | cut -d' ' -f1)
key="arca-$(basename "$work")/blobs/${sha:0:2}/${sha:2}"
size=$(stat -c %s "$src/one.bin")
gateway_get() { curl -sf "http://$gateway_addr/api/v1/job/bench-one/artifacts/one.bin" -o /dev/null; }
aws_get() { aws_s3 cp --quiet "s3://bench/$key" - >/dev/null; }
for r in $(seq 1 "$rounds"); do
  if [ "$r" = 1 ]; then order=(gateway aws); else order=(aws gateway); fi
  for tool in "${order[@]}"; do timed "get-$tool" "$size" "${tool}_get"; done
done

awk '
  { mbs = $2 / 1048576 / $3; split($1, p, "-");
    if (mbs > best[p[1], p[2]]) best[p[1], p[2]] = mbs;
    runs[p[1], p[2]] = runs[p[1], p[2]] sprintf(" %.0f", mbs) }
  END {
    fail = 0
    a = best["big", "arca"]; w = best["big", "aws"]; r = best["big", "rclone"];
    ok = a >= w && a >= r; fail = fail || !ok;
    printf "collect big   arca %6.1f MB/s | aws s3 cp %6.1f MB/s | rclone %6.1f MB/s | %.2fx aws (target >= 1.00x), %.2fx rclone (target >= 1.00x) %s\n", a, w, r, a / w, a / r, ok ? "PASS" : "FAIL";
    printf "      rounds (MB/s): arca%s | aws%s | rclone%s\n", runs["big", "arca"], runs["big", "aws"], runs["big", "rclone"];
    a = best["small", "arca"]; w = best["small", "aws"]; r = best["small", "rclone"];
    ok = a >= 10 * w; fail = fail || !ok;
    printf "collect small arca %6.1f MB/s | aws s3 cp %6.1f MB/s | rclone %6.1f MB/s | %.2fx aws (target >= 10x), %.2fx rclone %s\n", a, w, r, a / w, a / r, ok ? "PASS" : "FAIL";
    printf "      rounds (MB/s): arca%s | aws%s | rclone%s\n", runs["small", "arca"], runs["small", "aws"], runs["small", "rclone"];
    g = best["get", "gateway"]; w = best["get", "aws"];
    ok = g >= 0.8 * w; fail = fail || !ok;
    printf "download      gateway %6.1f MB/s | aws s3 cp %6.1f MB/s | %.2fx (target >= 0.80x) %s\n", g, w, g / w, ok ? "PASS" : "FAIL";
    printf "      rounds (MB/s): gateway%s | aws%s\n", runs["get", "gateway"], runs["get", "aws"];
    exit fail
  }' "$work/times"
