#!/usr/bin/env bash
# The whole suite on free loopback ports, watched as an operator would:
#   1. a real Prometheus scrapes all five services; after `arca run` collects
#      two files (and its log), the upload counters read back through its HTTP query API,
#      and every target is up;
#   2. `promtool check metrics` finds nothing to say about any /metrics;
#   3. every metric the Grafana dashboard's PromQL names exists in the
#      suite's real /metrics output;
#   4. an access line per HTTP request and gRPC call, as text and as JSON;
#   5. readiness apart from liveness: with the catalog killed, the services
#      that need it report NOT_SERVING (their servers stay SERVING) and the
#      gateway's /readyz is 503 while /healthz stays 200; with the catalog
#      back, all are ready again.
# Usage: tests/e2e/observability_e2e.sh BIN_DIR   (CTest passes build/bin)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
bin=$(cd "${1:?usage: observability_e2e.sh BIN_DIR}" && pwd)
# shellcheck source=../lib/suite.sh
source "$root/tests/lib/suite.sh"
start_suite --blob_stats_interval=1s
metrics_targets=("$catalog_metrics" "$collector_metrics" "$retention_metrics" "$scheduler_metrics" "$gateway_metrics")

# ----------------------------------------------------------- Prometheus
prom_port=$(free_port)
cat >"$work/prometheus.yml" <<CONF
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: arca-catalog
    static_configs: [{targets: ["$catalog_metrics"]}]
  - job_name: arca-collector
    static_configs: [{targets: ["$collector_metrics"]}]
  - job_name: arca-retention-gc
    static_configs: [{targets: ["$retention_metrics"]}]
  - job_name: arca-scheduler-attribute
    static_configs: [{targets: ["$scheduler_metrics"]}]
  - job_name: arca-gateway
    static_configs: [{targets: ["$gateway_metrics"]}]
CONF
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &
pids+=($!)
prom="http://127.0.0.1:$prom_port"
poll 60 curl -sf "$prom/-/ready" || fail "Prometheus did not start: $(tail -5 "$work/prometheus.log")"

# The PrimeHub journey, plus one hidden file the collector skips.
mkdir -p "$work/job"
(cd "$work/job" && arca run -- \
  sh -c 'mkdir -p artifacts/sub; echo hello > artifacts/test.txt; echo hello > artifacts/sub/test.txt; echo k > artifacts/.key') \
  >/dev/null 2>&1
job=$(arca --json jobs list | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
arca gc run >/dev/null
arca sched resolve \
  --labels _mantis.schedulingAttribute.jdkVersion=21 >/dev/null
curl -sf "http://$gateway_addr/api/v1/job/$job/artifacts/test.txt" | grep -qx hello ||
  fail "download through the gateway"

query() {  # query PROMQL EXPECTED: the single result's value equals EXPECTED
  curl -sf --get "$prom/api/v1/query" --data-urlencode "query=$1" |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; sys.exit(0 if len(r)==1 and float(r[0]["value"][1])==float(sys.argv[1]) else 1)' "$2"
}
# Two outputs and the job's log.
poll 60 query 'arca_collector_files_accepted_total' 3 ||
  fail "Prometheus never saw 3 accepted files"
poll 60 query 'arca_collector_bytes_accepted_total' 12 || fail "bytes accepted"
poll 60 query 'sum(arca_collector_files_skipped_total{reason="hidden"})' 1 || fail "hidden skip"
poll 60 query 'count(up{job=~"arca-.*"} == 1)' 5 || fail "not every target is up"
echo "Prometheus read back the upload counters of a real collect; all 5 targets up"

# ----------------------------------------------------------- promtool lint
for target in "${metrics_targets[@]}"; do
  out=$(curl -sf "http://$target/metrics" | promtool check metrics 2>&1) ||
    fail "promtool check metrics on $target: $out"
  [ -z "$out" ] || fail "promtool check metrics on $target: $out"
  curl -sf "http://$target/metrics" >>"$work/all-metrics.txt"
done
echo "promtool check metrics: nothing to report on any of the 5 services"

# ----------------------------------------------------------- dashboard
python3 - "$root/deploy/grafana/arca-dashboard.json" "$work/all-metrics.txt" <<'PY'
import json, re, sys
dashboard = json.load(open(sys.argv[1]))
exposed = set()
for line in open(sys.argv[2]):
    if line.startswith("# TYPE "):
        exposed.add(line.split()[2])
    elif line.strip() and not line.startswith("#"):
        exposed.add(re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0))
exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
named = set()
for e in exprs:
    e = re.sub(r'"[^"]*"', "", e)                      # label values
    e = re.sub(r"\{[^}]*\}", "", e)                    # matchers
    e = re.sub(r"\b(by|without)\s*\([^)]*\)", "", e)   # grouping labels
    for name in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", e):
        if name in {"sum", "rate", "increase", "histogram_quantile", "count", "max", "min",
                    "avg", "le", "up"} or name.startswith("__"):
            continue
        named.add(name)
missing = sorted(n for n in named if n not in exposed)
if missing:
    sys.exit("the dashboard names metrics the suite does not expose: " + ", ".join(missing))
print(f"dashboard: all {len(named)} metrics it queries exist in the suite's /metrics")
PY

# ------------------------------------------------------------------ logs
# An access line for the download at the gateway, and for the catalog call
# it made.
grep -Eq "arca-gateway\] http method=GET target=/api/v1/job/$job/artifacts/test.txt route=\"GET /api/v1/job/\{id\}/artifacts/\{\*path\}\" status=200 ms=[0-9]+ bytes=[0-9]+ peer=127.0.0.1:" \
  "$work/gateway.log" || fail "no access line for the download: $(grep '] http' "$work/gateway.log" | tail -3)"
grep -Eq "arca-catalog\] grpc method=/arca.catalog.v1.Catalog/GetFile code=OK ms=[0-9]+ peer=ipv4:127.0.0.1:" \
  "$work/catalog.log" || fail "no access line for the catalog's GetFile: $(grep '] grpc' "$work/catalog.log" | tail -3)"
# JSON lines for log pipelines: every line one object with the four fields.
start json_logs arca-scheduler-attribute --catalog="$catalog_addr" --log_format=json
arca health --target="$json_logs_addr" >/dev/null || fail "the JSON-logging service is not alive"
poll 10 grep -q '"message":"grpc"' "$work/json_logs.log" || fail "no JSON access line: $(cat "$work/json_logs.log")"
python3 - "$work/json_logs.log" <<'PY' || fail "the JSON log: $(cat "$work/json_logs.log")"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert all({"time", "level", "service", "message"} <= l.keys() for l in lines), lines
assert all(l["service"] == "arca-scheduler-attribute" for l in lines), lines
calls = [l for l in lines if l["message"] == "grpc"]
assert calls[0]["method"] == "/grpc.health.v1.Health/Check" and calls[0]["code"] == "OK", calls
PY
"$bin/arca-catalog" --log_format=xml --data_dir="$work/never" >"$work/bad-flag.log" 2>&1 && fail "--log_format=xml was taken"
grep -q 'log_format must be text or json, got "xml"' "$work/bad-flag.log" || fail "unclear: $(cat "$work/bad-flag.log")"
echo "logs: access lines for HTTP and gRPC, JSON lines on request, a bad --log_format refused"

# ------------------------------------------------------------ readiness
ready() { arca health --target="$1" --service="$2"; }
gateway_ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$gateway_addr/readyz")" = "$1" ]; }
for svc in "$collector_addr arca.collector.v1.Collector" "$retention_addr arca.retention.v1.RetentionGc" \
           "$scheduler_addr arca.scheduling.v1.SchedulerAttribute"; do
  # shellcheck disable=SC2086
  poll 30 ready $svc || fail "not ready with the catalog up: $svc"
done
gateway_ready 200 || fail "gateway /readyz is not 200 with every backend up"
kill "${pids[0]}"  # the catalog
wait "${pids[0]}" 2>/dev/null || true
for svc in "$collector_addr arca.collector.v1.Collector" "$retention_addr arca.retention.v1.RetentionGc" \
           "$scheduler_addr arca.scheduling.v1.SchedulerAttribute"; do
  # shellcheck disable=SC2086
  poll 30 eval "! ready $svc" || fail "still SERVING without the catalog: $svc"
  arca health --target="${svc%% *}" >/dev/null || fail "not alive without the catalog: $svc"
done
grep -q '^arca_collector_ready 0' <<<"$(curl -sf "http://$collector_metrics/metrics")" ||
  fail "arca_collector_ready is not 0 without the catalog"
grep -q "is not ready (health NOT_SERVING): catalog" "$work/collector.log" ||
  fail "the collector did not log why it is not ready: $(tail -3 "$work/collector.log")"
gateway_ready 503 || fail "gateway /readyz is not 503 without the catalog"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$gateway_addr/healthz")" = 200 ] ||
  fail "gateway /healthz is not 200 without the catalog"
start catalog_again arca-catalog --data_dir="$work/catalog" --listen="$catalog_addr"
poll 30 ready "$collector_addr" arca.collector.v1.Collector || fail "the collector is not ready again"
grep -q '^arca_collector_ready 1' <<<"$(curl -sf "http://$collector_metrics/metrics")" ||
  fail "arca_collector_ready is not 1 again"
poll 30 gateway_ready 200 || fail "gateway /readyz is not 200 again"
echo "readiness: NOT_SERVING and /readyz 503 without the catalog, alive throughout, ready again after"
echo "observability e2e: 5 passed, 0 failed"
