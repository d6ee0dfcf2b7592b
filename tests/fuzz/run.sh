#!/usr/bin/env bash
# Builds a libFuzzer target with clang (AddressSanitizer and UBSan on) and
# runs it for a while over its seed corpus; fails on a crash, a hang, a leak
# or memory past the limit, keeping the input that did it in
# build/fuzz-failures/.
# Usage: tests/fuzz/run.sh NAME SECONDS   (NAME: http_fuzz, ...)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
name=$1 seconds=${2:-30}
declare -A sources=(
  [http_fuzz]="tests/fuzz/http_fuzz.cc services/gateway/http_util.cc common/paths.cc"
  [graphql_fuzz]="tests/fuzz/graphql_fuzz.cc services/gateway/graphql/parser.cc services/gateway/graphql/schema.cc services/gateway/graphql/validate.cc services/gateway/graphql/execute.cc services/gateway/http_util.cc common/paths.cc"
)
[ -n "${sources[$name]:-}" ] || { echo "unknown fuzz target $name" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/arca-fuzz-XXXXXX")
trap 'rm -rf "$work"' EXIT
clang++-14 -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I. ${sources[$name]} -o "$work/$name" \
  -labsl_statusor -labsl_status -labsl_cord -labsl_cordz_info -labsl_cord_internal \
  -labsl_cordz_functions -labsl_cordz_handle -labsl_str_format_internal -labsl_strings \
  -labsl_strings_internal -labsl_int128 -labsl_throw_delegate -labsl_raw_logging_internal \
  -labsl_base -labsl_spinlock_wait -labsl_synchronization -labsl_time -labsl_time_zone \
  -labsl_stacktrace -labsl_symbolize -labsl_debugging_internal -labsl_demangle_internal \
  -labsl_malloc_internal -labsl_graphcycles_internal -labsl_exponential_biased \
  -labsl_raw_hash_set -labsl_hash -labsl_city -labsl_low_level_hash
mkdir -p "$work/corpus"
cp "tests/fuzz/corpus/${name%_fuzz}/"* "$work/corpus/"
mkdir -p "$root/build/fuzz-failures"
cd "$work"
./"$name" -artifact_prefix="$root/build/fuzz-failures/$name-" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=1024 -max_len=65536 \
  -print_final_stats=1 corpus 2>&1 | tail -n 30
echo "fuzz $name: no crash, hang or leak in $seconds s"
