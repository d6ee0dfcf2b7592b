#!/usr/bin/env bash
# Replays o2r-muncher's job tests (its test/ folder's job-creation,
# job-fields, job-filter, job-status and execution-steps, with mocha, chai
# and request as o2r runs them) against Arca's gateway. Each file gets a
# suite of its own, as o2r's drop their database first. executor.js plays
# o2r's executor; what was adapted, and why, heads each file.
# Usage: tests/o2r/o2r.sh BIN_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "${1:?usage: o2r.sh BIN_DIR}" && pwd)
# shellcheck source=../lib/suite.sh
source "$here/../lib/suite.sh"
cp "$here"/package.json "$here"/package-lock.json "$here"/*.js "$work/"
(cd "$work" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

total=0
for file in execution-steps job-creation job-fields job-filter job-status; do
  start_suite
  out="$work/$file.out"
  if ! (cd "$work" && TEST_HOST="http://$gateway_addr" ARCA_CATALOG="$catalog_addr" \
          ARCA_COLLECTOR="$collector_addr" ARCA_BIN="$bin" ARCA_PROTO_ROOT="$here/../.." \
          ./node_modules/.bin/mocha --require ./setup.js --exit "$file.js") >"$out" 2>&1; then
    cat "$out" >&2
    fail "o2r's $file.js"
  fi
  checked=$(sed -n 's/^o2r assertions checked: //p' "$out")
  echo "$file.js: $(grep -E '^ +[0-9]+ passing' "$out" | tr -s ' '), $checked assertions"
  total=$((total + checked))
  # The next file starts on an empty catalog and blob directory.
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pids=()
  rm -rf "$work/catalog" "$work/blobs"
done
echo "o2r's job tests: $total assertions passed"
