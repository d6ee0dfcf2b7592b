#!/usr/bin/env bash
# Builds and runs the benchmarks; each prints its figures as ratios against
# a baseline measured in the same run, with the target and PASS/FAIL.
# Usage: tests/bench/run.sh [--seconds=N]
set -euo pipefail
cd "$(dirname "$0")/../.."
./deploy/local/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build catalog_bench >/dev/null
status=0
build/bin/catalog_bench "$@" || status=1
exit $status
