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

namespace arca::rpc {

// Per-method call counts and latency histograms by status code:
//   arca_<svc>_grpc_calls_total{method, code}
//   arca_<svc>_grpc_call_seconds{method, code}
// `svc` is the metric prefix, e.g. "catalog" or "retention_gc".
class GrpcMetrics {
 public:
  GrpcMetrics(prometheus::Registry& registry, absl::string_view svc);
  ~GrpcMetrics();
  void Record(absl::string_view method, int code, absl::Duration elapsed);

  // An interceptor factory feeding this object; install it on a
  // grpc::ServerBuilder with experimental().SetInterceptorCreators().
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
  InterceptorFactory();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace arca::rpc

#endif  // ARCA_COMMON_RPC_METRICS_H_
