#ifndef ARCA_COMMON_RPC_METRICS_H_
#define ARCA_COMMON_RPC_METRICS_H_

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/support/server_interceptor.h"

namespace prometheus {
class Registry;
}
namespace arca::auth {
class Authorizer;
}

namespace arca::rpc {

// Per-method call counts and latency histograms by status code:
//   arca_<svc>_grpc_calls_total{method, code}
//   arca_<svc>_grpc_call_seconds{method, code}
// `svc` is the metric prefix, e.g. "catalog" or "retention_gc". Beside them
// the names go-grpc-prometheus gives (and stock Grafana dashboards read):
//   grpc_server_started_total{grpc_type, grpc_service, grpc_method}
//   grpc_server_handled_total{grpc_type, grpc_service, grpc_method, grpc_code}
//   grpc_server_handling_seconds{grpc_type, grpc_service, grpc_method}
class GrpcMetrics {
 public:
  GrpcMetrics(prometheus::Registry& registry, absl::string_view svc);
  ~GrpcMetrics();
  // A call to "/pkg.Service/Method" of `type` ("unary", "client_stream",
  // "server_stream" or "bidi_stream") began; it ended with `code`.
  void Started(absl::string_view method, absl::string_view type);
  void Record(absl::string_view method, absl::string_view type, int code, absl::Duration elapsed);

  // An interceptor factory feeding this object; install it on a
  // grpc::ServerBuilder with experimental().SetInterceptorCreators(). Each
  // call also gets its server span (a child of the caller's `traceparent`,
  // else a new trace's root, current on the handler's thread) and its
  // access line, naming the caller when `authorizer` checks tokens.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
  InterceptorFactory(const auth::Authorizer* authorizer);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace arca::rpc

#endif  // ARCA_COMMON_RPC_METRICS_H_
