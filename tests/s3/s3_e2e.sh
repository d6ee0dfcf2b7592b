#!/usr/bin/env bash
# The suite on an S3 bucket (the local Ceph of tests/s3/ceph.sh, whose
# endpoint and credentials are in the environment), scaled out: one catalog,
# two collectors and two gateways sharing one bucket, one retention-gc.
#   1. PrimeHub's journey through collector A: small files (a pack) and a
#      20 MiB one (a multipart upload) read back whole and by Range through
#      gateway B, and through collector B by `arca get`;
#   2. an upload through collector B serves through gateway A;
#   3. a collector SIGKILLed in the middle of a multipart upload leaves no
#      blob in the bucket, and the next upload of the same bytes succeeds;
#   4. deleting the jobs and sweeping empties the bucket's blobs and packs.
# Usage: tests/s3/s3_e2e.sh BIN_DIR   (CTest runs it under with_ceph.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
bin=$(cd "${1:?usage: s3_e2e.sh BIN_DIR}" && pwd)
: "${ARCA_S3_ENDPOINT:?run under tests/s3/with_ceph.sh}"
# shellcheck source=../lib/suite.sh
source "$root/tests/lib/suite.sh"

store="s3://arca-e2e/run-$(basename "$work")"
s3=(--blob_store="$store" --s3_endpoint="$ARCA_S3_ENDPOINT" --s3_create_bucket)
start catalog arca-catalog --data_dir="$work/catalog"
start collector arca-collector --catalog="$catalog_addr" "${s3[@]}" --blob_stats_interval=1s \
  --max_total_bytes=$((1 << 30))
start collector_b arca-collector --catalog="$catalog_addr" "${s3[@]}"
start retention arca-retention-gc --catalog="$catalog_addr" "${s3[@]}" --grace=0s
start gateway arca-gateway --catalog="$catalog_addr" --collector="$collector_addr" \
  --retention_gc="$retention_addr" "${s3[@]}"
start gateway_b arca-gateway --catalog="$catalog_addr" --collector="$collector_b_addr" \
  --retention_gc="$retention_addr" "${s3[@]}"

# Objects and bytes in the bucket, as collector A counts them (blobs and
# packs).
gauge() {
  curl -sf "http://$collector_metrics/metrics" | awk -v name="$1" '$1 == name {print $2}'
}
objects() { gauge arca_collector_blob_store_objects; }
stored_bytes() { gauge arca_collector_blob_store_bytes; }

# ------------------------------------------------ 1. collector A, gateway B
mkdir -p "$work/job/artifacts/sub"
(cd "$work/job" && head -c $((20 << 20)) /dev/urandom > artifacts/big.bin &&
  echo hello > artifacts/test.txt && echo hello > artifacts/sub/test.txt &&
  seq 1 1000 > artifacts/sub/numbers.txt)
(cd "$work/job" && arca run --gc_strategy=on_job_deletion --name=s3-journey -- true) >"$work/run.log" 2>&1 ||
  fail "arca run: $(cat "$work/run.log")"
job=$(arca --json jobs list | python3 -c 'import json,sys; print(json.load(sys.stdin)["jobs"][0]["id"])')
curl -sf "http://$gateway_b_addr/api/v1/job/$job/artifacts/test.txt" | grep -qx hello ||
  fail "a packed file through gateway B"
curl -sf "http://$gateway_b_addr/api/v1/job/$job/artifacts/big.bin" -o "$work/big.down" ||
  fail "the 20 MiB file through gateway B"
cmp -s "$work/big.down" "$work/job/artifacts/big.bin" || fail "gateway B served other bytes"
curl -sf -H 'Range: bytes=10485750-10485769' \
  "http://$gateway_b_addr/api/v1/job/$job/artifacts/big.bin" -o "$work/range.down" ||
  fail "a Range through gateway B"
cmp -s "$work/range.down" <(tail -c +10485751 "$work/job/artifacts/big.bin" | head -c 20) ||
  fail "the Range's bytes differ"
curl -sf -H 'Range: bytes=1000-1009' \
  "http://$gateway_b_addr/api/v1/job/$job/artifacts/sub/numbers.txt" | cmp -s - <(seq 1 1000 | tail -c +1001 | head -c 10) ||
  fail "a Range of a packed file"
"$bin/arca" --catalog="$catalog_addr" --collector="$collector_b_addr" get "$job" big.bin \
  --output="$work/big.get" >/dev/null || fail "arca get through collector B"
cmp -s "$work/big.get" "$work/job/artifacts/big.bin" || fail "collector B served other bytes"
# A pack, the big blob, the log (loose or packed): at least two objects.
objects_at_least() { [ "$(objects)" -ge "$1" ]; }
poll 30 objects_at_least 2 ||
  fail "collector A never counted the bucket's objects"
echo "collector A's upload (a pack and a multipart blob) served by gateway B, whole and by Range, and by collector B"

# ------------------------------------------------ 2. collector B, gateway A
mkdir -p "$work/job2/artifacts"
echo "from B" > "$work/job2/artifacts/b.txt"
(cd "$work/job2" && "$bin/arca" --catalog="$catalog_addr" --collector="$collector_b_addr" \
  run --gc_strategy=on_job_deletion --name=s3-b -- true) >/dev/null 2>&1 || fail "arca run through collector B"
job2=$(arca --json jobs list | python3 -c 'import json,sys; print([j["id"] for j in json.load(sys.stdin)["jobs"] if j["name"]=="s3-b"][0])')
curl -sf "http://$gateway_addr/api/v1/job/$job2/artifacts/b.txt" | grep -qx "from B" ||
  fail "collector B's upload through gateway A"
echo "collector B's upload served by gateway A"

# --------------------------------------- 3. a collector killed mid-multipart
bytes_before=$(stored_bytes) objects_before=$(objects)
mkdir -p "$work/job3/artifacts"
head -c $((200 << 20)) /dev/urandom > "$work/job3/artifacts/huge.bin"
arca run --gc_strategy=on_job_deletion --name=s3-killed --artifacts="$work/job3/artifacts" -- true >"$work/killed.log" 2>&1 &
uploader=$!
# Once the CLI has read (and so sent) 60 MB of it, SIGKILL collector A.
sent_60mb() {
  local cli
  cli=$(pgrep -f -- "--name=s3-killed" | head -1) || return 1
  awk '/^rchar/{exit !($2 > 60000000)}' "/proc/$cli/io"
}
poll 60 sent_60mb || fail "the big upload never got going"
kill -9 "${pids[1]}"
wait "$uploader" 2>/dev/null || true
start collector arca-collector --catalog="$catalog_addr" "${s3[@]}" --blob_stats_interval=1s \
  --max_total_bytes=$((1 << 30))
# The job's log may be kept; none of the 200 MiB may be.
# (Once the restarted collector has counted the bucket: nothing was deleted.)
poll 30 objects_at_least "$objects_before" || fail "collector A never counted the bucket again"
after=$(stored_bytes)
python3 -c "import sys; sys.exit(float(sys.argv[2]) - float(sys.argv[1]) > 1e6)" "$bytes_before" "$after" ||
  fail "a killed upload left bytes in the bucket: $bytes_before -> $after"
arca run --gc_strategy=on_job_deletion --name=s3-again --artifacts="$work/job3/artifacts" -- true >/dev/null 2>&1 ||
  fail "the same bytes again after the kill"
job3=$(arca --json jobs list | python3 -c 'import json,sys; print([j["id"] for j in json.load(sys.stdin)["jobs"] if j["name"]=="s3-again"][0])')
curl -sf "http://$gateway_b_addr/api/v1/job/$job3/artifacts/huge.bin" | cmp -s - "$work/job3/artifacts/huge.bin" ||
  fail "the 200 MiB file after the kill"
echo "a collector killed mid-upload left no object; the retry stored and served the bytes"

# ------------------------------------------------------- 4. delete, sweep
for j in $(arca --json jobs list | python3 -c 'import json,sys; print(" ".join(j["id"] for j in json.load(sys.stdin)["jobs"]))'); do
  arca jobs delete "$j" >/dev/null || fail "deleting job $j"
done
swept_empty() { arca gc run >/dev/null && [ "$(objects)" = 0 ]; }
poll 120 swept_empty ||
  fail "the bucket still holds $(objects) objects after every job was deleted and swept"
echo "every job deleted and swept: the bucket holds no blob and no pack"
