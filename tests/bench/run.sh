#!/usr/bin/env bash
# Runs every benchmark; each prints its figures as ratios against a baseline
# measured in the same run, with the target and PASS/FAIL. Exits non-zero if
# any target is missed.
# Usage: tests/bench/run.sh [--small]   (--small: smaller trees and downloads, shorter runs)
set -euo pipefail
cd "$(dirname "$0")/../.."
./deploy/local/install-deps.sh rclone
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build rpc_bench expire_bench compact_bench scale_bench >/dev/null
status=0
# Collect first: the expiry benchmark deletes 100,000 files, and ext4
# without a journal makes new files slowly for minutes after that.
tests/bench/collect_bench.sh "$@" || status=1
build/bin/rpc_bench 2>/dev/null || status=1
build/bin/expire_bench 2>/dev/null || status=1
build/bin/compact_bench --dir="$PWD/build" 2>/dev/null || status=1
# The catalog at 10 million file records (--small: 1 million).
scale_jobs=100000
[ "${1:-}" = --small ] && scale_jobs=10000
build/bin/scale_bench --jobs="$scale_jobs" 2>/dev/null || status=1
tests/bench/gateway_bench.sh "$@" || status=1
# On S3: a single-node Ceph, against aws s3 cp and rclone.
tests/bench/s3_bench.sh "$@" || status=1
exit $status
