#include "common/rpc/metrics.h"

#include <map>
#include <optional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "grpcpp/server_context.h"
#include "common/auth/authorizer.h"
#include "common/logging.h"
#include "common/metrics/table.h"
#include "common/rpc/status.h"
#include "common/rpc/trace.h"
#include "common/trace.h"
#include "common/version.h"

namespace arca::rpc {

struct GrpcMetrics::State {
  prometheus::Family<prometheus::Counter>* calls;
  prometheus::Family<prometheus::Histogram>* seconds;
  // The names go-grpc-prometheus gives, which stock dashboards read.
  prometheus::Family<prometheus::Counter>* started;
  prometheus::Family<prometheus::Counter>* handled;
  prometheus::Family<prometheus::Histogram>* handling;
  struct Series {
    prometheus::Counter* calls;
    prometheus::Histogram* seconds;
    prometheus::Counter* handled;
    prometheus::Histogram* handling;
  };
  absl::Mutex mu;
  // (method, code) -> its series, so the hot path skips label hashing.
  absl::flat_hash_map<std::pair<std::string, int>, Series> series ABSL_GUARDED_BY(mu);
  absl::flat_hash_map<std::string, prometheus::Counter*> starts ABSL_GUARDED_BY(mu);
};

GrpcMetrics::GrpcMetrics(prometheus::Registry& registry, absl::string_view svc)
    : state_(std::make_unique<State>()) {
  // Named after the service, so one table row each would not do.
  const std::string calls = absl::StrCat("arca_", svc, "_grpc_calls_total");
  const std::string seconds = absl::StrCat("arca_", svc, "_grpc_call_seconds");
  state_->calls = &metrics::Register<metrics::Counters>(
      registry, {calls.c_str(), "gRPC calls handled, by method and status code"});
  state_->seconds = &metrics::Register<metrics::Histograms>(
      registry, {seconds.c_str(), "gRPC call latency, by method and status code"});
  state_->started = &metrics::Register<metrics::Counters>(
      registry, {"grpc_server_started_total", "RPCs started on the server."});
  state_->handled = &metrics::Register<metrics::Counters>(
      registry, {"grpc_server_handled_total", "RPCs completed on the server, regardless of success or failure."});
  state_->handling = &metrics::Register<metrics::Histograms>(
      registry, {"grpc_server_handling_seconds",
                 "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server."});
}

namespace {

const prometheus::Histogram::BucketBoundaries& Buckets() {
  static const auto* kBuckets = new prometheus::Histogram::BucketBoundaries{
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
      0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
  return *kBuckets;
}

// go-grpc-prometheus' labels for "/pkg.Service/Method" of a type.
std::map<std::string, std::string> StandardLabels(absl::string_view method, absl::string_view type) {
  absl::string_view m = absl::StripPrefix(method, "/");
  const size_t slash = m.rfind('/');
  return {{"grpc_type", std::string(type)},
          {"grpc_service", std::string(m.substr(0, slash == absl::string_view::npos ? 0 : slash))},
          {"grpc_method", std::string(slash == absl::string_view::npos ? m : m.substr(slash + 1))}};
}

// Go's names of the codes (codes.Code.String()), as grpc_code says them.
std::string GoCodeName(int code) {
  static constexpr const char* kNames[] = {
      "OK",       "Canceled",          "Unknown",            "InvalidArgument", "DeadlineExceeded",
      "NotFound", "AlreadyExists",     "PermissionDenied",   "ResourceExhausted", "FailedPrecondition",
      "Aborted",  "OutOfRange",        "Unimplemented",      "Internal",        "Unavailable",
      "DataLoss", "Unauthenticated"};
  return code >= 0 && code < 17 ? kNames[code] : absl::StrCat("Code(", code, ")");
}

}  // namespace

void GrpcMetrics::Started(absl::string_view method, absl::string_view type) {
  prometheus::Counter* c = nullptr;
  {
    absl::ReaderMutexLock lock(&state_->mu);  // as Record: shared on the hot path
    auto it = state_->starts.find(method);
    if (it != state_->starts.end()) c = it->second;
  }
  if (c == nullptr) {
    absl::MutexLock lock(&state_->mu);
    auto [it, inserted] = state_->starts.try_emplace(std::string(method));
    if (inserted) it->second = &state_->started->Add(StandardLabels(method, type));
    c = it->second;
  }
  c->Increment();
}

GrpcMetrics::~GrpcMetrics() = default;

void GrpcMetrics::Record(absl::string_view method, absl::string_view type, int code,
                         absl::Duration elapsed) {
  State::Series s{};  // copied out: the map moves its values as it grows
  auto key = std::make_pair(std::string(method), code);
  {
    absl::ReaderMutexLock lock(&state_->mu);
    auto it = state_->series.find(key);
    if (it != state_->series.end()) s = it->second;
  }
  if (s.calls == nullptr) {
    const std::map<std::string, std::string> labels = {{"method", key.first}, {"code", StatusCodeName(code)}};
    const std::map<std::string, std::string> standard = StandardLabels(method, type);
    auto with_code = standard;
    with_code["grpc_code"] = GoCodeName(code);
    absl::MutexLock lock(&state_->mu);
    auto [it, inserted] = state_->series.try_emplace(key);
    if (inserted) {
      it->second = {&state_->calls->Add(labels), &state_->seconds->Add(labels, Buckets()),
                    &state_->handled->Add(with_code), &state_->handling->Add(standard, Buckets())};
    }
    s = it->second;
  }
  const double seconds = absl::ToDoubleSeconds(elapsed);
  s.calls->Increment();
  s.seconds->Observe(seconds);
  s.handled->Increment();
  s.handling->Observe(seconds);
}

namespace {

class MetricsInterceptor : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(GrpcMetrics* metrics, const auth::Authorizer* authorizer,
                     grpc::experimental::ServerRpcInfo* info, const char* type)
      : metrics_(metrics), authorizer_(authorizer), info_(info), method_(info->method()), type_(type),
        start_(absl::Now()) {
    metrics_->Started(method_, type_);
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    // The call's span, current on the thread that runs its handler (a sync
    // server runs the hooks and the handler on one thread).
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::POST_RECV_INITIAL_METADATA) &&
        !absl::StartsWith(method_, "/grpc.health.v1.Health/")) {  // probes are not worth a trace
      const std::optional<trace::Context> parent = IncomingTrace(*methods->GetRecvInitialMetadata());
      span_.emplace(std::string(absl::StripPrefix(method_, "/")), trace::Kind::kServer,
                    parent ? &*parent : nullptr);
      scope_.emplace(&span_->context());
    }
    // Every answer says which Arca sent it (`arca version` shows it).
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->emplace(kVersionHeader, kVersion);
    }
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      const int code = methods->GetSendStatus().error_code();
      const absl::Duration took = absl::Now() - start_;
      metrics_->Record(method_, type_, code, took);
      // The access line: a failure on the server's side always.
      const bool bad = code == grpc::StatusCode::INTERNAL || code == grpc::StatusCode::UNAVAILABLE ||
                       code == grpc::StatusCode::DATA_LOSS || code == grpc::StatusCode::UNKNOWN;
      if (AccessLogged(bad)) {
        LogFields fields = {{"method", method_}, {"code", StatusCodeName(code)},
                            {"ms", absl::StrCat(absl::ToInt64Milliseconds(took))}};
        if (const grpc::ServerContextBase* context = info_->server_context(); context != nullptr) {
          fields.emplace_back("peer", context->peer());
          if (authorizer_ != nullptr && authorizer_->enabled()) {
            if (auto who = authorizer_->Identify(*context); who.ok()) fields.emplace_back("identity", who->name);
          }
        }
        if (bad) fields.emplace_back("error", methods->GetSendStatus().error_message());
        LogAccessLine(bad ? LogSeverity::WARNING : LogSeverity::INFO, "grpc", fields);
      }
      if (span_) {
        span_->Set("rpc.system", "grpc");
        span_->Set("rpc.grpc.status_code", int64_t{code});
        if (bad) span_->SetError(StatusCodeName(code) + ": " + methods->GetSendStatus().error_message());
        scope_.reset();
        span_->End();
      }
    }
    methods->Proceed();
  }

 private:
  GrpcMetrics* metrics_;
  const auth::Authorizer* authorizer_;
  grpc::experimental::ServerRpcInfo* info_;
  const char* method_;
  const char* type_;
  absl::Time start_;
  std::optional<trace::Span> span_;
  std::optional<trace::Scope> scope_;
};

class MetricsInterceptorFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  MetricsInterceptorFactory(GrpcMetrics* metrics, const auth::Authorizer* authorizer)
      : metrics_(metrics), authorizer_(authorizer) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    using Type = grpc::experimental::ServerRpcInfo::Type;
    const Type t = info->type();
    return new MetricsInterceptor(metrics_, authorizer_, info,
                                  t == Type::UNARY              ? "unary"
                                  : t == Type::CLIENT_STREAMING ? "client_stream"
                                  : t == Type::SERVER_STREAMING ? "server_stream"
                                                                : "bidi_stream");
  }

 private:
  GrpcMetrics* metrics_;
  const auth::Authorizer* authorizer_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
GrpcMetrics::InterceptorFactory(const auth::Authorizer* authorizer) {
  return std::make_unique<MetricsInterceptorFactory>(this, authorizer);
}

}  // namespace arca::rpc
