#ifndef ARCA_COMMON_METRICS_TABLE_H_
#define ARCA_COMMON_METRICS_TABLE_H_

// Metrics declared once, as a table (after Envoy's ALL_*_STATS): each row
// says kind, member, and the metric's name, help, label and buckets. A
// service writes its table as a macro, ARCA_THING_METRICS(M), whose rows
// read (each line ending in a backslash)
//
//     M(Counter, served, {"arca_thing_served_total", "Things served"})
//     M(Counters, refused, {"arca_thing_refused_total", "Things refused",
//                           "reason", {"busy", "bad"}})
//
// and lets it declare and register the members:
//
//   struct ThingMetrics {
//     explicit ThingMetrics(prometheus::Registry& r)
//         : registry(r) ARCA_THING_METRICS(ARCA_METRIC_INIT) {}
//     prometheus::Registry& registry;
//     ARCA_THING_METRICS(ARCA_METRIC_MEMBER)
//   };
//
// Kinds: Counter, Gauge, Histogram are one series (labelled label=values[0]
// when the row has a label); Counters, Gauges, Histograms are the family,
// every value in `values` present from zero so rates and alerts see the
// series before the first event.

#include <string>
#include <vector>

#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace arca::metrics {

struct Def {
  const char* name;
  const char* help;
  const char* label = nullptr;
  std::vector<std::string> values = {};
  std::vector<double> buckets = {};  // histograms only
};

using Counter = prometheus::Counter;
using Gauge = prometheus::Gauge;
using Histogram = prometheus::Histogram;
using Counters = prometheus::Family<prometheus::Counter>;
using Gauges = prometheus::Family<prometheus::Gauge>;
using Histograms = prometheus::Family<prometheus::Histogram>;

// Registers (or finds, for a name registered before) what a row declares.
template <typename T>
T& Register(prometheus::Registry& registry, const Def& def);

}  // namespace arca::metrics

#define ARCA_METRIC_MEMBER(kind, member, ...) ::arca::metrics::kind& member;
#define ARCA_METRIC_INIT(kind, member, ...) \
  , member(::arca::metrics::Register<::arca::metrics::kind>(registry, __VA_ARGS__))

#endif  // ARCA_COMMON_METRICS_TABLE_H_
