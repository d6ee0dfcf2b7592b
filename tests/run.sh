#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test:
#   1. the release build and all its tests (unit, service, end-to-end),
#      and the fuzz targets for 30 s each (built with clang);
#   2. the same tests under AddressSanitizer + UndefinedBehaviorSanitizer;
#   3. the Bazel build (bazel-alt/) and its tests, and a check that CMake and
#      Bazel declare the same targets.
# Usage: tests/run.sh [--no-asan] [--no-bazel]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

asan=1
bazel=1
for arg in "$@"; do
  case "$arg" in
    --no-asan) asan=0 ;;
    --no-bazel) bazel=0 ;;
    *) echo "usage: tests/run.sh [--no-asan] [--no-bazel]" >&2; exit 2 ;;
  esac
done

# The fuzz targets; Prometheus, promtool and PyYAML for the operations tests.
extra=(clang-14 libclang-rt-14-dev prometheus python3-yaml curl)
# Node.js and npm for the GraphQL conformance, browser and o2r tests
# (graphql-js, playwright-core, mocha and gRPC from npm), Debian's Chromium
# for the browser test.
command -v npm >/dev/null || extra+=(nodejs npm)
extra+=(chromium)
# A single-node Ceph with radosgw: the S3 server of the tests labelled s3.
extra+=(ceph-mon ceph-osd radosgw)
[ "$bazel" = 1 ] && extra+=(bazel-bootstrap)
./deploy/local/install-deps.sh "${extra[@]}"

jobs=$(nproc)
start=$(date +%s)
section() { echo; echo "=== $* ($(( $(date +%s) - start ))s)"; }

section "build (release)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build -j "$jobs"

section "tests (release)"
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 600

if [ "$asan" = 1 ]; then
  section "build (ASan+UBSan)"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DARCA_SANITIZE=ON >/dev/null
  ninja -C build-asan -j "$jobs"
  section "tests (ASan+UBSan)"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs" --timeout 900 -L unit
fi

if [ "$bazel" = 1 ]; then
  section "Bazel build and tests"
  bazel-alt/bazel test @arca//...
  bazel-alt/check_targets.sh build
fi

section "done"
