#ifndef ARCA_COMMON_OTLP_OTLP_H_
#define ARCA_COMMON_OTLP_OTLP_H_

// Spans out over OTLP/HTTP with the JSON encoding (the OpenTelemetry
// protocol's /v1/traces), for any collector that speaks it: the
// OpenTelemetry Collector, Jaeger, Tempo.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/trace.h"

namespace arca::otlp {

struct ExporterOptions {
  // The collector: "http://HOST:4318" (spans go to its /v1/traces) or a
  // URL that ends in /v1/traces; https works with the system's CAs.
  std::string endpoint;
  // The resource's service.name, e.g. "arca-catalog".
  std::string service;
  // How long a span waits to go out with others (1,024 waiting go at
  // once). Default: 1 s.
  absl::Duration interval = absl::Seconds(1);
  // Spans waiting beyond this are dropped (and the drop logged), so a
  // collector that is down costs memory only up to here. Default: 8192.
  size_t max_queue = 8192;
};

// From now on, every sampled span that ends (trace::SetSink) is sent in
// batches from a thread of its own; what waits at exit is sent then.
// A batch the collector refuses or does not take in 5 s is dropped and
// logged. INVALID_ARGUMENT for an endpoint that is not an http(s) URL.
absl::Status StartExport(const ExporterOptions& options);

// One ExportTraceServiceRequest in OTLP's JSON encoding.
std::string EncodeJson(absl::string_view service, const std::vector<trace::SpanData>& spans);

}  // namespace arca::otlp

#endif  // ARCA_COMMON_OTLP_OTLP_H_
