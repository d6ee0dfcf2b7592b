#!/usr/bin/env bash
# The whole suite on free loopback ports, watched as an operator would:
#   1. a real Prometheus scrapes all five services; after `arca run` collects
#      two files (and its log), the upload counters read back through its HTTP query API,
#      and every target is up;
#   2. `promtool check metrics` finds nothing to say about any /metrics;
#   3. every metric the Grafana dashboard's PromQL names exists in the
#      suite's real /metrics output;
#   4. an access line per HTTP request and gRPC call, as text and as JSON;
#      bad logging and tracing flags refused with a message;
#   5. one trace across the hops: a download through the gateway with a
#      W3C traceparent reaches a local OTLP receiver as the gateway's server
#      span, its client spans, and the catalog's and collector's server
#      spans under them, all in the caller's trace; the access lines of
#      every hop carry its trace id;
#   6. readiness apart from liveness: with the catalog killed, the services
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
# Every service sends its spans to a stand-in OpenTelemetry collector.
python3 "$root/tests/lib/otlp_receiver.py" "$work/otlp.port" "$work/spans.jsonl" >"$work/otlp.log" 2>&1 &
pids+=($!)
poll 10 test -s "$work/otlp.port" || fail "the OTLP receiver did not start: $(cat "$work/otlp.log")"
service_flags=(--otlp_endpoint="http://127.0.0.1:$(cat "$work/otlp.port")" --access_log_sample=1)
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
refused() {  # refused FLAG MESSAGE: the catalog will not start with FLAG, exits 2 and says MESSAGE
  local rc=0
  "$bin/arca-catalog" "$1" --data_dir="$work/never" >"$work/bad-flag.log" 2>&1 || rc=$?
  [ "$rc" = 2 ] || fail "$1: exit $rc, not 2"
  grep -qF "$2" "$work/bad-flag.log" || fail "$1 is refused unclearly: $(cat "$work/bad-flag.log")"
}
refused --log_format=xml 'log_format must be text or json, got "xml"'
refused --log_level=debug 'log_level must be info, warning or error, got "debug"'
refused --access_log_sample=2 'access_log_sample must be between 0 and 1'
refused --trace_sample=-0.5 'trace_sample must be between 0 and 1'
refused --otlp_endpoint=localhost:4318 'otlp_endpoint must be an http:// or https:// URL, got "localhost:4318"'
[ ! -e "$work/never" ] || fail "a refused start created the data directory"
echo "logs: access lines for HTTP and gRPC, JSON lines on request, bad logging and tracing flags refused"

# ---------------------------------------------------------------- traces
trace_id=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
caller_span=00f067aa0ba902b7
curl -sf -H "traceparent: 00-$trace_id-$caller_span-01" -H "tracestate: vendor=1" \
  "http://$gateway_addr/api/v1/job/$job/artifacts/test.txt" | grep -qx hello || fail "the traced download"
curl -sf "http://$gateway_addr/api/v1/job" >/dev/null  # untraced: a trace of its own
one_trace() {
  python3 - "$work/spans.jsonl" "$trace_id" "$caller_span" <<'PY'
import json, sys
spans = []  # (service, span)
for line in open(sys.argv[1]):
    for rs in json.loads(line)["resourceSpans"]:
        service = {a["key"]: a["value"]["stringValue"] for a in rs["resource"]["attributes"]}["service.name"]
        for ss in rs["scopeSpans"]:
            spans += [(service, s) for s in ss["spans"]]
trace = [(svc, s) for svc, s in spans if s["traceId"] == sys.argv[2]]
by_id = {s["spanId"]: (svc, s) for svc, s in trace}
roots = [(svc, s) for svc, s in trace if s.get("parentSpanId") == sys.argv[3]]
assert len(roots) == 1, f"one span under the caller's, got {roots}"
svc, root = roots[0]
assert svc == "arca-gateway" and root["kind"] == 2, root
assert root["name"] == "GET /api/v1/job/{id}/artifacts/{*path}", root["name"]
assert root.get("traceState") == "vendor=1", root
attrs = {a["key"]: a["value"] for a in root["attributes"]}
assert attrs["http.response.status_code"] == {"intValue": "200"}, attrs
for svc, s in trace:  # one tree: every other span's parent is in the trace
    if s is not root:
        assert s["parentSpanId"] in by_id, f"{svc} {s['name']} hangs outside the trace"
def served(service, rpc):  # a server span of `service` under a gateway client span of that rpc
    for svc, s in trace:
        if svc == service and s["kind"] == 2 and s["name"].startswith(rpc):
            psvc, parent = by_id[s["parentSpanId"]]
            if psvc == "arca-gateway" and parent["kind"] == 3 and parent["name"] == s["name"]:
                return True
    return False
assert served("arca-catalog", "arca.catalog.v1.Catalog/"), "no catalog span under the gateway's call"
assert served("arca-collector", "arca.collector.v1.Collector/"), "no collector span under the gateway's call"
jobs = [s for svc, s in spans if s["name"] == "GET /api/v1/job"]
assert jobs and all("parentSpanId" not in s and s["traceId"] != sys.argv[2] for s in jobs), jobs
print(f"traces: the download is one trace of {len(trace)} spans across gateway, catalog and collector")
PY
}
poll 30 one_trace || { one_trace || true; fail "no whole trace at the OTLP receiver"; }
one_trace
for log in gateway catalog collector; do
  grep -q "trace_id=$trace_id" "$work/$log.log" || fail "no $log line carries the trace id"
done
echo "traces: every hop's access line carries the trace id"

# ------------------------------------------------------------ readiness
ready() { arca health --target="$1" --service="$2"; }
gateway_ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$gateway_addr/readyz")" = "$1" ]; }
for svc in "$collector_addr arca.collector.v1.Collector" "$retention_addr arca.retention.v1.RetentionGc" \
           "$scheduler_addr arca.scheduling.v1.SchedulerAttribute"; do
  # shellcheck disable=SC2086
  poll 30 ready $svc || fail "not ready with the catalog up: $svc"
done
gateway_ready 200 || fail "gateway /readyz is not 200 with every backend up"
kill "$catalog_pid"
wait "$catalog_pid" 2>/dev/null || true
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
echo "observability e2e: 6 passed, 0 failed"
