#!/usr/bin/env bash
# The web page in Debian's headless Chromium, driven by playwright-core
# (from npm), against the whole suite on free ports. The PrimeHub job runs
# for real through `arca run`. Saves screenshots of the job page, the
# artifacts tab and a preview to build/browser/.
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
# A job that runs until journey.mjs writes $work/live/STOP, then keeps a file.
mkdir -p "$work/live"
(cd "$work/live" && exec "$bin/arca" --catalog="$catalog_addr" --collector="$collector_addr" \
  run --job job-live --name "live job" -- sh -c \
  'echo "warming up"; while [ ! -e STOP ]; do sleep 0.2; done; mkdir -p artifacts; echo done > artifacts/result.txt' >/dev/null 2>&1) &
pids+=($!)
running() { arca --json jobs show job-live | grep -q '"status": "running"'; }
poll 30 running || fail "the live job never ran"

# A job with the files a real one has: 301 in one folder, a CSV, JSON, an
# HTML report (whose script must not run), an image, a long log-like text
# and a highly sensitive file.
big_job=$(run_job "$work/big" --name "many files" --pattern='secret.txt:highly_sensitive,*' -- python3 -c '
import os, struct, zlib
os.makedirs("artifacts/many", exist_ok=True); os.makedirs("artifacts/data", exist_ok=True)
for i in range(301): open(f"artifacts/many/part-{i:03d}.txt", "w").write(f"part {i}\n")
open("artifacts/data/table.csv", "w").write("city,\"population, 2020\"\nOslo,709037\n\"Bergen, Vestland\",285911\n")
open("artifacts/data/info.json", "w").write("{\"model\":\"resnet\",\"epochs\":3}")
open("artifacts/report.html", "w").write("<h1>Report</h1><script>parent.document.title=\"ran\"</script>")
open("artifacts/big.txt", "w").write("".join(f"line {i:06d}\n" for i in range(30000)))
open("artifacts/secret.txt", "w").write("secret\n")
open("artifacts/data/paper.pdf", "w").write("%PDF-1.4\n%%EOF\n")
def chunk(kind, data): return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
raw = b"".join(b"\0" + b"\x1f\x5f\xbf" * 8 for _ in range(8))
open("artifacts/plot.png", "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
  + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
')
[ -n "$big_job" ] || fail "arca run did not create the job with many files"

# A gateway that asks for tokens, and one whose catalog is gone.
reader=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf 'sha256:%s * highly_sensitive reader reader\n' "$(printf %s "$reader" | sha256sum | cut -d' ' -f1)" > "$work/tokens"
start secured arca-gateway --catalog="$catalog_addr" --collector="$collector_addr" --tokens_file="$work/tokens"
start broken arca-gateway --catalog="127.0.0.1:$(free_port)" --collector="$collector_addr"

mkdir -p "$root/build/browser"
node "$work/journey.mjs" "http://$gateway_addr" "$done_job" "$empty_job" job-live "$work/live/STOP" "$big_job" \
  "http://$secured_addr" "$reader" "http://$broken_addr" "$root/build/browser"
