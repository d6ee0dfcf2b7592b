#!/usr/bin/env bash
# The gateway against nginx on the same machine, same run:
#   (a) GET /api/v1/jobArtifacts?name=... through catalog and gateway, against
#       nginx serving the same response bytes as a static file: wrk, same
#       threads, connections and duration. Target >= 0.5x nginx.
#   (b) a 1 GiB download through the gateway, against nginx serving the same
#       file: curl to /dev/null, best of three. Target >= 0.7x for the gateway
#       reading the blob store itself (--blob_dir); the same through the
#       collector is printed beside it.
#   (c) a 4 KiB file's GET latency through the gateway (reading the blob
#       store itself), the file in a pack against the same size of file in a
#       blob file of its own: wrk with one connection. Target: packed
#       <= 1.5x loose.
#   (d) (a)'s JSON GET with access lines and traces at their defaults (one
#       success in ten logged, to the gateway's log file; every request a
#       span of the caller's traceparent, no exporter), against a gateway
#       with no access lines (--access_log_sample=0) and no traceparent:
#       wrk, alternating. Target >= 0.9x. Beside it, every request logged
#       and every span exported over OTLP (to nginx).
# Usage: tests/bench/gateway_bench.sh [--small]   (--small: 5 s runs, 256 MiB)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
seconds=10 download_mib=1024
if [ "${1:-}" = "--small" ]; then seconds=5 download_mib=256; fi

./deploy/local/install-deps.sh wrk nginx-light curl
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build arca arca-catalog arca-collector arca-gateway >/dev/null

bin="$root/build/bin"
TMPDIR="$root/build"
# shellcheck source=../lib/suite.sh
source "$root/tests/lib/suite.sh"
chmod 755 "$work"  # nginx workers read it as another user
start catalog arca-catalog --data_dir="$work/catalog"
start collector arca-collector --catalog="$catalog_addr" --blob_dir="$work/blobs" \
  --max_total_bytes=$((4 << 30))
start gateway arca-gateway --catalog="$catalog_addr" --collector="$collector_addr" \
  --blob_dir="$work/blobs"
start via_collector arca-gateway --catalog="$catalog_addr" --collector="$collector_addr"
# A collector that keeps every file loose, for (c).
start loose_collector arca-collector --catalog="$catalog_addr" --blob_dir="$work/blobs" \
  --pack_threshold=0
# Three more for (d): quiet, at the defaults, and logging and exporting
# every request.
start quiet arca-gateway --catalog="$catalog_addr" --access_log_sample=0
start defaults arca-gateway --catalog="$catalog_addr"
nginx_port=$(free_port)
start everything arca-gateway --catalog="$catalog_addr" --access_log_sample=1 \
  --otlp_endpoint="http://127.0.0.1:$nginx_port"
gateway=$gateway_addr
# The same bytes for nginx to serve statically.
mkdir -p "$work/www/api/v1" "$work/dl/artifacts"
arca artifact register --name bench-app --version 1.0.0 --tags jdkVersion=17,env=prod >/dev/null
json_path="/api/v1/jobArtifacts?name=bench-app"
curl -sf "http://$gateway$json_path" >"$work/www/api/v1/jobArtifacts.json"
head -c $((download_mib << 20)) /dev/urandom >"$work/dl/artifacts/big.bin"
job=bench-download
arca run --job "$job" --artifacts "$work/dl/artifacts" -- true 2>/dev/null

mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  default_type application/json;
  server {
    listen 127.0.0.1:$nginx_port;
    location = /json { alias $work/www/api/v1/jobArtifacts.json; }
    location /dl/ { alias $work/dl/artifacts/; }
    location = /v1/traces { client_max_body_size 0; return 200 '{}'; }
  }
}
CONF
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
pids+=($!)
poll 10 curl -sf "http://127.0.0.1:$nginx_port/json" || fail "nginx did not start"
cmp <(curl -sf "http://127.0.0.1:$nginx_port/json") <(curl -sf "http://$gateway$json_path")

rps() {
  wrk -t2 -c32 -d"${seconds}s" "$1" | awk '/Requests\/sec/ { print $2 }'
}
gw_rps=$(rps "http://$gateway$json_path")
ng_rps=$(rps "http://127.0.0.1:$nginx_port/json")
echo "$gw_rps $ng_rps" | awk '{ r = $1 / $2; printf "gateway JSON GET        arca %9.0f req/s | nginx static %9.0f req/s | %.2fx nginx (target >= 0.50x) %s\n", $1, $2, r, (r >= 0.5 ? "PASS" : "FAIL") }' |
  tee "$work/result"

best_mbps() {  # best of three downloads of URL, MB/s
  local best=0 speed
  for _ in 1 2 3; do
    speed=$(curl -sf -o /dev/null -w '%{speed_download}' "$1")
    best=$(echo "$best $speed" | awk '{ print ($2 > $1 ? $2 : $1) }')
  done
  echo "$best" | awk '{ printf "%.1f", $1 / 1048576 }'
}
gw_dl=$(best_mbps "http://$gateway/api/v1/job/$job/artifacts/big.bin")
via_dl=$(best_mbps "http://$via_collector_addr/api/v1/job/$job/artifacts/big.bin")
ng_dl=$(best_mbps "http://127.0.0.1:$nginx_port/dl/big.bin")
echo "$gw_dl $ng_dl $download_mib $via_dl" | awk '{ r = $1 / $2; printf "gateway %4d MiB download arca %7.1f MB/s | nginx %7.1f MB/s | %.2fx nginx (target >= 0.70x) %s | through the collector %7.1f MB/s, %.2fx\n", $3, $1, $2, r, (r >= 0.7 ? "PASS" : "FAIL"), $4, $4 / $2 }' |
  tee -a "$work/result"

mkdir -p "$work/small-packed" "$work/small-loose"
head -c 4096 /dev/urandom >"$work/small-packed/small.bin"
head -c 4096 /dev/urandom >"$work/small-loose/small.bin"
arca run --job bench-packed --artifacts "$work/small-packed" -- true 2>/dev/null
"$bin/arca" --catalog="$catalog_addr" --collector="$loose_collector_addr" run --job bench-loose \
  --artifacts "$work/small-loose" -- true 2>/dev/null
[ -n "$(find "$work/blobs/packs" -type f)" ] || fail "the packed file made no pack"
mean_ms() {  # mean latency of GET URL over one connection, ms
  wrk -t1 -c1 -d"${seconds}s" "$1" | awk '/Requests\/sec/ { printf "%.4f", 1000 / $2 }'
}
packed_ms=$(mean_ms "http://$gateway/api/v1/job/bench-packed/artifacts/small.bin")
loose_ms=$(mean_ms "http://$gateway/api/v1/job/bench-loose/artifacts/small.bin")
echo "$packed_ms $loose_ms" | awk '{ r = $1 / $2; printf "gateway 4 KiB GET       packed %.3f ms | loose %.3f ms | %.2fx loose (target <= 1.50x) %s\n", $1, $2, r, (r <= 1.5 ? "PASS" : "FAIL") }' |
  tee -a "$work/result"
traceparent="traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
half_rps() {  # half_rps URL [WRK FLAGS...]: req/s over half the run's seconds, halved (two rounds sum)
  local url=$1
  shift
  wrk -t2 -c32 -d"$((seconds / 2))s" "$@" "$url" | awk '/Requests\/sec/ { print $2 / 2 }'
}
quiet_rps=0 defaults_rps=0 everything_rps=0
for _ in 1 2; do
  quiet_rps=$(echo "$quiet_rps $(half_rps "http://$quiet_addr$json_path")" | awk '{ print $1 + $2 }')
  defaults_rps=$(echo "$defaults_rps $(half_rps "http://$defaults_addr$json_path" -H "$traceparent")" | awk '{ print $1 + $2 }')
  everything_rps=$(echo "$everything_rps $(half_rps "http://$everything_addr$json_path" -H "$traceparent")" | awk '{ print $1 + $2 }')
done
lines=$(grep -c 'route="GET /api/v1/jobArtifacts".* trace_id=4bf92f3577b34da6a3ce929d0e0e4736' "$work/everything.log" || true)
! grep -q "spans not exported" "$work/everything.log" ||
  fail "the exporting gateway could not export: $(grep -m1 'spans not exported' "$work/everything.log")"
echo "$defaults_rps $quiet_rps" | awk '{ r = $1 / $2; printf "gateway JSON GET, logs+traces at defaults %9.0f req/s | both off %9.0f req/s | %.2fx (target >= 0.90x) %s\n", $1, $2, r, (r >= 0.9 ? "PASS" : "FAIL") }' |
  tee -a "$work/result"
echo "$everything_rps $quiet_rps $lines" | awk '{ printf "  every request logged, every span exported %9.0f req/s | %.2fx  [%d access lines]\n", $1, $1 / $2, $3 }'
! grep -q FAIL "$work/result"
