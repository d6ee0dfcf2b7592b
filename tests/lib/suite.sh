# Sourced by the end-to-end scripts: a scratch directory removed on exit,
# every process started here stopped on exit, and helpers to start Arca's
# real binaries on free loopback ports. Needs $bin, the binaries' directory.
# KEEP_WORK=1 leaves the directory and the processes for a look afterwards.

work=$(mktemp -d "${TMPDIR:-/tmp}/arca-e2e-XXXXXX")
export ARCA_CONFIG="$work/arca-config"  # the CLI reads none of the user's contexts
pids=()
cleanup() {
  local rc=$?
  if [ "$rc" != 0 ]; then  # what the services said last, for the reader of a failed run
    for log in "$work"/*.log; do
      [ -f "$log" ] && { echo "--- last lines of $(basename "$log")" >&2; tail -n 15 "$log" >&2; }
    done
  fi
  [ -n "${KEEP_WORK:-}" ] && { echo "kept $work" >&2; return; }
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
# A command that stops the script under `set -e` says which it was.
set -E
trap 'echo "FAIL: line $LINENO: \`$BASH_COMMAND\` exited $?" >&2' ERR
fail() { echo "FAIL: $*" >&2; exit 1; }

# poll SECONDS COMMAND...: runs COMMAND until it succeeds or time is up.
poll() {
  local deadline=$(( $(date +%s) + $1 ))
  shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

# A loopback port free now, for servers that cannot take port 0.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start NAME BINARY FLAGS...: on port 0, metrics on port 0, with
# ${service_flags[@]} too; sets ${NAME}_pid, and ${NAME}_addr and
# ${NAME}_metrics once it listens.
service_flags=()
start() {
  local name=$1 binary=$2
  shift 2
  "$bin/$binary" --listen=127.0.0.1:0 --metrics_listen=127.0.0.1:0 "${service_flags[@]}" "$@" \
    >"$work/$name.log" 2>&1 &
  pids+=($!)
  printf -v "${name}_pid" '%s' "$!"
  poll 30 grep -q " listening on " "$work/$name.log" ||
    fail "$binary did not start: $(cat "$work/$name.log")"
  local line
  line=$(grep -m1 " listening on " "$work/$name.log")
  printf -v "${name}_addr" '%s' "$(sed -E 's/.* listening on ([0-9.:]+).*/\1/' <<<"$line")"
  printf -v "${name}_metrics" '%s' "$(sed -E 's/.* metrics on ([0-9.:]+).*/\1/' <<<"$line")"
}

# The five services; sets catalog_, collector_, retention_, scheduler_ and
# gateway_addr (and _metrics). Extra collector flags may follow.
start_suite() {
  start catalog arca-catalog --data_dir="$work/catalog"
  start collector arca-collector --catalog="$catalog_addr" --blob_dir="$work/blobs" "$@"
  start retention arca-retention-gc --catalog="$catalog_addr" --blob_dir="$work/blobs"
  start scheduler arca-scheduler-attribute --catalog="$catalog_addr"
  start gateway arca-gateway --catalog="$catalog_addr" --collector="$collector_addr" \
    --retention_gc="$retention_addr" --scheduler_attribute="$scheduler_addr"
}

# The CLI pointed at what this script started.
arca() {
  "$bin/arca" --catalog="${catalog_addr:-}" --collector="${collector_addr:-}" \
    --retention_gc="${retention_addr:-}" --scheduler_attribute="${scheduler_addr:-}" "$@"
}

# npm_install DIR: the packages of DIR/package-lock.json into $work, with
# DIR's scripts (*.mjs), which then find them there.
npm_install() {
  cp "$1/package.json" "$1/package-lock.json" "$1"/*.mjs "$work/"
  (cd "$work" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}
