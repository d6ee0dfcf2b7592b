#!/usr/bin/env bash
# The web page in Debian's headless Chromium, driven by playwright-core
# (from npm), against the whole suite on free ports. The PrimeHub job runs
# for real through `arca run`. Saves a screenshot of the job page to
# build/browser/job-page.png.
# Usage: tests/browser/browser.sh BIN_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=$(cd "${1:?usage: browser.sh BIN_DIR}" && pwd)
# shellcheck source=../lib/suite.sh
source "$here/../lib/suite.sh"
npm_install "$here"
start_suite

# run_job DIR ARGS...: `arca run` in DIR; prints the job id.
run_job() {
  local dir=$1
  shift
  mkdir -p "$dir"
  (cd "$dir" && arca run "$@" 2>&1 >/dev/null) | sed -n 's/^arca: job \([^ ]*\) created$/\1/p'
}
done_job=$(run_job "$work/primehub" -- sh -c \
  'mkdir -p artifacts/sub; echo "hello" > artifacts/test.txt; echo "hello" > artifacts/sub/test.txt')
[ -n "$done_job" ] || fail "arca run did not create a job"
empty_job=$(run_job "$work/empty" -- true)
mkdir -p "$work/running"
# exec: the recorded pid is arca itself, which SIGTERM stops with its command.
(cd "$work/running" && exec "$bin/arca" --catalog="$catalog_addr" --collector="$collector_addr" \
  run --job job-still-running -- sleep 600 >/dev/null 2>&1) &
pids+=($!)
running() { arca --json jobs show job-still-running | grep -q '"status": "running"'; }
poll 30 running || fail "the long job never ran"

mkdir -p "$root/build/browser"
node "$work/journey.mjs" "http://$gateway_addr" "$done_job" "$empty_job" job-still-running \
  "$root/build/browser/job-page.png"
