#include "common/rpc/trace.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "common/rpc/status.h"

namespace arca::rpc {
namespace {

class TraceInterceptor : public grpc::experimental::Interceptor {
 public:
  TraceInterceptor(absl::string_view method, const trace::Context* parent)
      : span_(std::string(absl::StripPrefix(method, "/")), trace::Kind::kClient, parent) {
    span_.Set("rpc.system", "grpc");
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      auto* metadata = methods->GetSendInitialMetadata();
      metadata->emplace("traceparent", trace::Format(span_.context()));
      if (!span_.context().tracestate.empty()) metadata->emplace("tracestate", span_.context().tracestate);
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_STATUS)) {
      const grpc::Status* status = methods->GetRecvStatus();
      span_.Set("rpc.grpc.status_code", int64_t{status->error_code()});
      if (!status->ok()) span_.SetError(StatusCodeName(status->error_code()) + ": " + status->error_message());
      span_.End();
    }
    methods->Proceed();
  }

 private:
  trace::Span span_;
};

class TraceInterceptorFactoryImpl : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateClientInterceptor(grpc::experimental::ClientRpcInfo* info) override {
    const trace::Context* parent = trace::Current();
    if (parent == nullptr) return nullptr;  // not inside a trace
    return new TraceInterceptor(info->method(), parent);
  }
};

}  // namespace

std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface> TraceInterceptorFactory() {
  return std::make_unique<TraceInterceptorFactoryImpl>();
}

std::optional<trace::Context> IncomingTrace(const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) {
  auto parent = metadata.find("traceparent");
  if (parent == metadata.end()) return std::nullopt;
  auto state = metadata.find("tracestate");
  return trace::Parse(absl::string_view(parent->second.data(), parent->second.size()),
                      state == metadata.end() ? absl::string_view()
                                              : absl::string_view(state->second.data(), state->second.size()));
}

}  // namespace arca::rpc
