#!/usr/bin/env bash
# The suite on an S3 bucket (the local Ceph of tests/s3/ceph.sh, whose
# endpoint and credentials are in the environment), scaled out: one catalog,
# two collectors, three gateways and two retention-gc replicas sharing one
# bucket.
#   1. PrimeHub's journey through collector A: small files (a pack) and a
#      20 MiB one (a multipart upload) read back whole and by Range through
#      gateway B, and through collector B by `arca get`;
#   2. an upload through collector B serves through gateway A;
#   3. the catalog's checkpoint shipped to the bucket restores into a new
#      catalog that knows the same jobs; a restore of a checkpoint that is
#      not there is refused and leaves no database behind;
#   4. a collector SIGKILLed in the middle of a multipart upload leaves no
#      blob in the bucket, and the next upload of the same bytes succeeds;
#   5. a gateway with --presign_downloads redirects a download of a loose
#      file to a presigned URL the object store serves (whole and by Range),
#      and streams packed ones; every gateway is ready on the bucket; with
#      tokens, only a caller who may see the file gets a URL;
#   6. files whose TTL runs out are deleted from the bucket;
#   7. a pack whose files mostly went is compacted, and the file that still
#      shares it serves from the new pack;
#   8. deleting the jobs empties the bucket's blobs and packs, the two
#      retention-gc replicas sharing the work and doing no task twice.
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
checkpoints=(--checkpoint_store="s3://arca-e2e/checkpoints-$(basename "$work")"
             --s3_endpoint="$ARCA_S3_ENDPOINT" --s3_create_bucket)
start catalog arca-catalog --data_dir="$work/catalog" --backup_dir="$work/backups" "${checkpoints[@]}"
start collector arca-collector --catalog="$catalog_addr" "${s3[@]}" --blob_stats_interval=1s \
  --max_total_bytes=$((1 << 30))
start collector_b arca-collector --catalog="$catalog_addr" "${s3[@]}"
# Sweeps every 2 s; bytes unwritten for 5 s may go.
gc_flags=(--grace=5s --sweep_interval=2s --poll_interval=200ms)
start retention arca-retention-gc --catalog="$catalog_addr" "${s3[@]}" "${gc_flags[@]}"
start retention_b arca-retention-gc --catalog="$catalog_addr" "${s3[@]}" "${gc_flags[@]}"
start gateway arca-gateway --catalog="$catalog_addr" --collector="$collector_addr" \
  --retention_gc="$retention_addr" "${s3[@]}"
start gateway_b arca-gateway --catalog="$catalog_addr" --collector="$collector_b_addr" \
  --retention_gc="$retention_addr" "${s3[@]}"
start gateway_c arca-gateway --catalog="$catalog_addr" --collector="$collector_addr" \
  --retention_gc="$retention_addr" "${s3[@]}" --presign_downloads=5m

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
job=$(arca --json jobs list | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
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
  "$work/big.get" >/dev/null || fail "arca get through collector B"
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
job2=$(arca --json jobs list | python3 -c 'import json,sys; print([j["id"] for j in json.load(sys.stdin) if j["name"]=="s3-b"][0])')
curl -sf "http://$gateway_addr/api/v1/job/$job2/artifacts/b.txt" | grep -qx "from B" ||
  fail "collector B's upload through gateway A"
echo "collector B's upload served by gateway A"

# ------------------------------------------ 3. catalog checkpoints, restored
jobs_of() { "$bin/arca" --catalog="$1" --json jobs list | python3 -c 'import json,sys; print(sorted(j["id"] for j in json.load(sys.stdin)))'; }
arca catalog checkpoint snap-1 --to_store >"$work/checkpoint.log" || fail "checkpoint to the store: $(cat "$work/checkpoint.log")"
grep -q "shipped to s3://arca-e2e/checkpoints-" "$work/checkpoint.log" || fail "no shipping: $(cat "$work/checkpoint.log")"
start restored arca-catalog --data_dir="$work/restored" --backup_dir="$work/backups-2" \
  "${checkpoints[@]}" --restore_checkpoint=latest
[ "$(jobs_of "$restored_addr")" = "$(jobs_of "$catalog_addr")" ] ||
  fail "the restored catalog knows $(jobs_of "$restored_addr"), not $(jobs_of "$catalog_addr")"
grep -q "restored checkpoint snap-1 into" "$work/restored.log" || fail "the restore was not logged"
"$bin/arca-catalog" --listen=127.0.0.1:0 --metrics_listen= --data_dir="$work/never" \
  "${checkpoints[@]}" --restore_checkpoint=no-such >"$work/bad-restore.log" 2>&1 &&
  fail "restoring a checkpoint that is not there succeeded"
grep -q "no complete checkpoint .*no-such" "$work/bad-restore.log" || fail "unclear: $(cat "$work/bad-restore.log")"
[ ! -e "$work/never" ] || fail "a failed restore left $work/never"
echo "the catalog's checkpoint went to the bucket and came back as a catalog with the same jobs"

# --------------------------------------- 4. a collector killed mid-multipart
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
job3=$(arca --json jobs list | python3 -c 'import json,sys; print([j["id"] for j in json.load(sys.stdin) if j["name"]=="s3-again"][0])')
curl -sf "http://$gateway_b_addr/api/v1/job/$job3/artifacts/huge.bin" | cmp -s - "$work/job3/artifacts/huge.bin" ||
  fail "the 200 MiB file after the kill"
echo "a collector killed mid-upload left no object; the retry stored and served the bytes"

# --------------------------------------------------- 5. presigned redirects
big="http://$gateway_c_addr/api/v1/job/$job/artifacts/big.bin"
read -r code location < <(curl -s -o /dev/null -w '%{http_code} %{redirect_url}\n' "$big")
[ "$code" = 307 ] || fail "gateway C answered $code, not a redirect"
case "$location" in
  "$ARCA_S3_ENDPOINT"/*X-Amz-Signature=*) ;;
  *) fail "gateway C redirected to $location" ;;
esac
curl -sfL "$big" | cmp -s - "$work/job/artifacts/big.bin" || fail "the presigned download's bytes"
curl -sfL -H 'Range: bytes=10485750-10485769' "$big" | cmp -s - "$work/range.down" ||
  fail "a Range through the presigned URL"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$gateway_c_addr/api/v1/job/$job/artifacts/test.txt")" = 200 ] ||
  fail "a packed file was not streamed by gateway C"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$gateway_c_addr/api/v1/job/$job/artifacts/nope.bin")" = 404 ] ||
  fail "a missing file was not 404 on gateway C"
for g in "$gateway_addr" "$gateway_b_addr" "$gateway_c_addr"; do
  curl -sf "http://$g/readyz" | grep -q '"blob_store":"readable"' || fail "gateway $g is not ready on the bucket"
done
echo "gateway C redirected a loose file to a presigned URL (whole and by Range) and streamed a packed one"

# Gateway D knows callers by token: bob sees every group up to
# moderately_sensitive, carol only group other-team.
bob=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n') carol=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
cat > "$work/tokens" <<TOKENS
sha256:$(printf %s "$bob" | sha256sum | cut -d' ' -f1) * moderately_sensitive bob reader
sha256:$(printf %s "$carol" | sha256sum | cut -d' ' -f1) other-team highly_sensitive carol reader
TOKENS
start gateway_d arca-gateway --catalog="$catalog_addr" --collector="$collector_addr" \
  --retention_gc="$retention_addr" "${s3[@]}" --presign_downloads=5m --tokens_file="$work/tokens"
mkdir -p "$work/job5/artifacts"
head -c $((2 << 20)) /dev/urandom > "$work/job5/artifacts/public.bin"
head -c $((2 << 20)) /dev/urandom > "$work/job5/artifacts/secret.bin"
(cd "$work/job5" && arca run --gc_strategy=on_job_deletion --name=s3-private --group=team-a \
  --pattern='secret.bin:highly_sensitive,*' -- true) >"$work/private.log" 2>&1 ||
  fail "arca run of the private job: $(cat "$work/private.log")"
job5=$(arca --json jobs list | python3 -c 'import json,sys; print([j["id"] for j in json.load(sys.stdin) if j["name"]=="s3-private"][0])')
status_as() {  # TOKEN PATH: the status gateway D answers, without following redirects
  curl -s -o /dev/null -w '%{http_code}' ${1:+-H "Authorization: Bearer $1"} \
    "http://$gateway_d_addr/api/v1/job/$job5/artifacts/$2"
}
[ "$(status_as "$bob" public.bin)" = 307 ] || fail "bob got $(status_as "$bob" public.bin) for public.bin, not a redirect"
[ "$(status_as "$bob" secret.bin)" = 404 ] || fail "bob got $(status_as "$bob" secret.bin) for a highly sensitive file"
[ "$(status_as "$carol" public.bin)" = 404 ] || fail "carol got $(status_as "$carol" public.bin) for another group's file"
[ "$(status_as "" public.bin)" = 401 ] || fail "no token got $(status_as "" public.bin)"
echo "gateway D redirected only the caller allowed to see the file (others: 404, no token: 401)"

# ------------------------------------------------------------------ 6. TTL
# A job whose outputs expire 3.6 s after they are collected (its log, kept
# longer, goes when the job is deleted); its bytes are unique.
mkdir -p "$work/job6/artifacts"
head -c $((12 << 20)) /dev/urandom > "$work/job6/artifacts/expiring.bin"
echo "short-lived $RANDOM$RANDOM" > "$work/job6/artifacts/small.txt"
(cd "$work/job6" && arca run --name=s3-ttl --gc_strategy=on_job_deletion --retention_hours=0.001 -- true) >/dev/null 2>&1 ||
  fail "arca run of the expiring job"
job6=$(arca --json jobs list | python3 -c 'import json,sys; print([j["id"] for j in json.load(sys.stdin) if j["name"]=="s3-ttl"][0])')
sha=$(sha256sum "$work/job6/artifacts/expiring.bin" | cut -d' ' -f1)
blob_url="$ARCA_S3_ENDPOINT/${store#s3://}/blobs/${sha:0:2}/${sha:2}"
in_bucket() {  # the object's HTTP status, asked of the store itself (curl signs
  # the request; RGW wants the empty payload's digest named)
  curl -s -o /dev/null -w '%{http_code}' -I --aws-sigv4 "aws:amz:${AWS_REGION:-us-east-1}:s3" \
    -H "x-amz-content-sha256: $(printf '' | sha256sum | cut -d' ' -f1)" \
    --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" "$blob_url"
}
[ "$(in_bucket)" = 200 ] || fail "the expiring blob is not in the bucket ($(in_bucket))"
gone_from_bucket() { [ "$(in_bucket)" = 404 ]; }
poll 120 gone_from_bucket || fail "the expired blob is still in the bucket"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$gateway_addr/api/v1/job/$job6/artifacts/expiring.bin")" = 404 ] ||
  fail "an expired file still downloads"
echo "files whose TTL ran out went from the catalog and the bucket"

# ------------------------------------------------------------ 7. compaction
# A job whose only file has the bytes of one of the first job's packed files
# refers to that record; once the first job goes, its pack is mostly dead.
mkdir -p "$work/job4/artifacts"
echo hello > "$work/job4/artifacts/shared.txt"
(cd "$work/job4" && arca run --gc_strategy=on_job_deletion --name=s3-share -- true) >/dev/null 2>&1 ||
  fail "arca run of the sharing job"
job4=$(arca --json jobs list | python3 -c 'import json,sys; print([j["id"] for j in json.load(sys.stdin) if j["name"]=="s3-share"][0])')
metric_sum() {  # NAME{LABELS} summed over both retention-gc replicas
  for m in "$retention_metrics" "$retention_b_metrics"; do curl -sf "http://$m/metrics"; done |
    awk -v name="$1" '$1 == name {sum += $2} END {print sum + 0}'
}
at_least() { [ "$(metric_sum "$1")" -ge "$2" ]; }
# A job with files gets one GC task when it is deleted.
with_files=0
for j in $(arca --json jobs list | python3 -c 'import json,sys; print(" ".join(j["id"] for j in json.load(sys.stdin)))'); do
  n=$(arca --json ls "$j" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
  [ "$n" = 0 ] || with_files=$((with_files + 1))
done
tasks_before=$(metric_sum 'arca_retention_gc_tasks_total{outcome="done"}')
arca jobs delete "$job" >/dev/null || fail "deleting the first job"
poll 120 at_least arca_retention_gc_packs_compacted_total 1 || fail "no pack was compacted"
curl -sf "http://$gateway_b_addr/api/v1/job/$job4/artifacts/shared.txt" | grep -qx hello ||
  fail "the shared file after compaction"
echo "a mostly dead pack was compacted; the file that shared it serves from the new one"

# ---------------------------------------------------- 8. delete, two replicas
jobs=$(arca --json jobs list | python3 -c 'import json,sys; print(" ".join(j["id"] for j in json.load(sys.stdin) if j["id"] != sys.argv[1]))' "$job")
for j in $jobs; do
  arca jobs delete "$j" >/dev/null || fail "deleting job $j"
done
empty() { [ "$(objects)" = 0 ]; }
poll 120 empty || fail "the bucket still holds $(objects) objects after every job was deleted"
tasks=$(( $(metric_sum 'arca_retention_gc_tasks_total{outcome="done"}') - tasks_before ))
[ "$tasks" = "$with_files" ] || fail "$with_files jobs with files were deleted, and the replicas did $tasks GC tasks"
echo "every job deleted: the bucket holds no blob and no pack; two replicas did $tasks tasks for the $with_files jobs with files"
