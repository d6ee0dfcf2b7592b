#ifndef ARCA_COMMON_RPC_TRACE_H_
#define ARCA_COMMON_RPC_TRACE_H_

// W3C Trace Context over gRPC: `traceparent` (and `tracestate`) metadata.

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/trace.h"
#include "grpcpp/support/client_interceptor.h"
#include "grpcpp/support/string_ref.h"

namespace arca::rpc {

// A client span for every call made while the calling thread works inside a
// trace (trace::Current()), passed on in the call's metadata; calls made
// outside any trace are left alone. For every channel to a peer.
std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface> TraceInterceptorFactory();

// The trace context a call's metadata carries, or nullopt (none, or
// malformed: the call then starts a trace of its own).
std::optional<trace::Context> IncomingTrace(const std::multimap<grpc::string_ref, grpc::string_ref>& metadata);

}  // namespace arca::rpc

#endif  // ARCA_COMMON_RPC_TRACE_H_
