#!/usr/bin/env bash
# Fails, naming them, if the CMake and Bazel builds do not declare the same
# targets (CMake's list comes from a configured build directory).
# Usage: bazel-alt/check_targets.sh [BUILD_DIR]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
cmake_list=$(sort "$build_dir/arca_targets.txt" | grep -v '^$')
bazel_list=$(bazel-alt/bazel query 'kind("cc_(library|binary|test) rule", @arca//...)' \
               --output label 2>/dev/null | sed 's|^@arca//:||' | grep -v '_sys$' | sort)
only_cmake=$(comm -23 <(echo "$cmake_list") <(echo "$bazel_list"))
only_bazel=$(comm -13 <(echo "$cmake_list") <(echo "$bazel_list"))
if [ -n "$only_cmake$only_bazel" ]; then
  [ -n "$only_cmake" ] && echo "only in CMake: $(echo $only_cmake)" >&2
  [ -n "$only_bazel" ] && echo "only in Bazel: $(echo $only_bazel)" >&2
  exit 1
fi
echo "CMake and Bazel declare the same $(echo "$cmake_list" | wc -l) targets"
