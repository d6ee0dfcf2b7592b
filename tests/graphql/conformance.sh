#!/usr/bin/env bash
# Runs conformance.mjs (graphql-js, installed from the npm registry with
# npm ci) against a real gateway, catalog, retention-gc and
# scheduler-attribute on free ports.
# Usage: tests/graphql/conformance.sh BIN_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "${1:?usage: conformance.sh BIN_DIR}" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/arca-gql-XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

cp "$here/package.json" "$here/package-lock.json" "$here/conformance.mjs" "$work/"
(cd "$work" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

start() {  # start NAME BINARY FLAGS...: sets ${NAME}_addr once it listens
  local name=$1 binary=$2 deadline=$(( $(date +%s) + 30 ))
  shift 2
  "$bin/$binary" --listen=127.0.0.1:0 --metrics_listen= "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
  until grep -q " listening on " "$work/$name.log"; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "$binary did not start: $(cat "$work/$name.log")" >&2; exit 1; }
    sleep 0.1
  done
  printf -v "${name}_addr" '%s' "$(grep -m1 -o 'listening on [0-9.:]*' "$work/$name.log" | cut -d' ' -f3)"
}
start catalog arca-catalog --data_dir="$work/catalog"
start retention arca-retention-gc --catalog="$catalog_addr" --blob_dir="$work/blobs"
start scheduler arca-scheduler-attribute --catalog="$catalog_addr"
start gateway arca-gateway --catalog="$catalog_addr" --retention_gc="$retention_addr" \
  --scheduler_attribute="$scheduler_addr"
node "$work/conformance.mjs" "http://$gateway_addr/graphql"
