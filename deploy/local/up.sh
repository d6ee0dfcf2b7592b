#!/usr/bin/env bash
# Installs what is missing, builds, and starts the Arca suite on loopback
# with its embedded defaults (data under ./var/). Ctrl-C stops everything;
# if one service dies, the rest are stopped too. With --s3, the blobs go to
# a bucket of a single-node Ceph (tests/s3/ceph.sh) started under var/ceph
# instead of var/blobs.
# Usage: deploy/local/up.sh [--no-build] [--s3]
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

build=1
s3=0
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    --s3) s3=1 ;;
    *) echo "usage: deploy/local/up.sh [--no-build] [--s3]" >&2; exit 2 ;;
  esac
done

if [ "$build" = 1 ]; then
  extra=()
  [ "$s3" = 1 ] && extra+=(ceph-mon ceph-osd radosgw)
  ./deploy/local/install-deps.sh "${extra[@]}"
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  ninja -C build
fi
bin="$root/build/bin"
var="$root/var"
mkdir -p "$var/log"

blobs="--blob_dir=$var/blobs"
if [ "$s3" = 1 ]; then
  ./tests/s3/ceph.sh start "$var/ceph"
  # shellcheck source=/dev/null
  source "$var/ceph/env"
  blobs="--blob_store=s3://arca/blobs --s3_endpoint=$ARCA_S3_ENDPOINT --s3_create_bucket"
fi

# name | binary | gRPC address | metrics address | extra flags
services=(
  "catalog|arca-catalog|127.0.0.1:7401|127.0.0.1:9401|--data_dir=$var/catalog --backup_dir=$var/backups"
  "collector|arca-collector|127.0.0.1:7402|127.0.0.1:9402|--catalog=127.0.0.1:7401 $blobs"
  "retention-gc|arca-retention-gc|127.0.0.1:7403|127.0.0.1:9403|--catalog=127.0.0.1:7401 $blobs"
  "scheduler-attribute|arca-scheduler-attribute|127.0.0.1:7404|127.0.0.1:9404|--catalog=127.0.0.1:7401"
  "gateway|arca-gateway|127.0.0.1:7480|127.0.0.1:9405|--catalog=127.0.0.1:7401 --collector=127.0.0.1:7402 --retention_gc=127.0.0.1:7403 --scheduler_attribute=127.0.0.1:7404 $blobs"
)

# Healthy: gRPC health checking, or for the gateway GET /healthz.
healthy() {
  if [ "$1" = gateway ]; then
    (exec 3<>"/dev/tcp/${2%:*}/${2#*:}" && printf 'GET /healthz HTTP/1.0\r\n\r\n' >&3 &&
       head -n 1 <&3 | grep -q ' 200 ') 2>/dev/null
  else
    "$bin/arca" --timeout=1 health --target="$2" >/dev/null 2>&1
  fi
}

pids=()
names=()
stop_all() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$s3" = 1 ]; then ./tests/s3/ceph.sh stop "$var/ceph"; fi
}
trap 'echo; echo "stopping..."; stop_all; exit 0' INT TERM
trap stop_all EXIT

for entry in "${services[@]}"; do
  IFS='|' read -r name binary listen metrics extra <<<"$entry"
  "$bin/$binary" --listen="$listen" --metrics_listen="$metrics" $extra \
    >>"$var/log/$name.log" 2>&1 &
  pids+=($!)
  names+=("$name")
  # Wait until healthy, or give up if it died or took too long.
  deadline=$(( $(date +%s) + 30 ))
  until healthy "$name" "$listen"; do
    if ! kill -0 "${pids[-1]}" 2>/dev/null; then
      echo "arca-$name failed to start; its log ($var/log/$name.log) ends:" >&2
      tail -n 20 "$var/log/$name.log" >&2
      exit 1
    fi
    if [ "$(date +%s)" -gt "$deadline" ]; then
      echo "arca-$name did not become healthy within 30 s; see $var/log/$name.log" >&2
      exit 1
    fi
    sleep 0.2
  done
  if [ "$name" = gateway ]; then
    printf '  %-26s HTTP %-16s metrics http://%s/metrics\n' "arca-$name" "$listen" "$metrics"
    printf '  %-26s web page http://%s/  GraphQL http://%s/graphql  REST http://%s/api/v1/\n' \
      "" "$listen" "$listen" "$listen"
  else
    printf '  %-26s gRPC %-16s metrics http://%s/metrics\n' "arca-$name" "$listen" "$metrics"
  fi
done
echo
echo "Arca is up. Data in $var, logs in $var/log$([ "$s3" = 1 ] && echo "; blobs in s3://arca/blobs at $ARCA_S3_ENDPOINT"). Try:"
echo "  build/bin/arca artifact register --name my-app --version 1.0.0 --tags jdkVersion=17"
echo "  build/bin/arca jobs list"
echo "  open http://127.0.0.1:7480/                               # the web page"
echo "  curl http://127.0.0.1:7480/api/v1/jobArtifacts/names      # REST"
echo "  curl http://127.0.0.1:7480/api/v1/job                     # o2r job list"
echo "Ctrl-C stops everything."

# If any service exits, say which and stop the rest.
set +e
wait -n "${pids[@]}"
for i in "${!pids[@]}"; do
  if ! kill -0 "${pids[$i]}" 2>/dev/null; then
    echo "arca-${names[$i]} exited unexpectedly; stopping the rest. Its log ends:" >&2
    tail -n 20 "$var/log/${names[$i]}.log" >&2
  fi
done
exit 1
