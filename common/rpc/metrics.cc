#include "common/rpc/metrics.h"

#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/metrics/table.h"
#include "common/version.h"
#include "common/rpc/status.h"

namespace arca::rpc {

struct GrpcMetrics::State {
  prometheus::Family<prometheus::Counter>* calls;
  prometheus::Family<prometheus::Histogram>* seconds;
  absl::Mutex mu;
  // (method, code) -> the two series, so the hot path skips label hashing.
  absl::flat_hash_map<std::pair<std::string, int>,
                      std::pair<prometheus::Counter*, prometheus::Histogram*>>
      series ABSL_GUARDED_BY(mu);
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
}

GrpcMetrics::~GrpcMetrics() = default;

void GrpcMetrics::Record(absl::string_view method, int code,
                         absl::Duration elapsed) {
  std::pair<prometheus::Counter*, prometheus::Histogram*> s;
  auto key = std::make_pair(std::string(method), code);
  {
    absl::ReaderMutexLock lock(&state_->mu);
    auto it = state_->series.find(key);
    if (it != state_->series.end()) s = it->second;
  }
  if (s.first == nullptr) {
    static const auto* kBuckets = new prometheus::Histogram::BucketBoundaries{
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
        0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
    std::map<std::string, std::string> labels = {
        {"method", key.first}, {"code", StatusCodeName(code)}};
    absl::MutexLock lock(&state_->mu);
    auto [it, inserted] = state_->series.try_emplace(key);
    if (inserted) {
      it->second = {&state_->calls->Add(labels),
                    &state_->seconds->Add(labels, *kBuckets)};
    }
    s = it->second;
  }
  s.first->Increment();
  s.second->Observe(absl::ToDoubleSeconds(elapsed));
}

namespace {

class MetricsInterceptor : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(GrpcMetrics* metrics, const char* method)
      : metrics_(metrics), method_(method), start_(absl::Now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    // Every answer says which Arca sent it (`arca version` shows it).
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->emplace(kVersionHeader, kVersion);
    }
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      metrics_->Record(method_, methods->GetSendStatus().error_code(),
                       absl::Now() - start_);
    }
    methods->Proceed();
  }

 private:
  GrpcMetrics* metrics_;
  const char* method_;
  absl::Time start_;
};

class MetricsInterceptorFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit MetricsInterceptorFactory(GrpcMetrics* metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new MetricsInterceptor(metrics_, info->method());
  }

 private:
  GrpcMetrics* metrics_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
GrpcMetrics::InterceptorFactory() {
  return std::make_unique<MetricsInterceptorFactory>(this);
}

}  // namespace arca::rpc
