#include "common/metrics/table.h"

namespace arca::metrics {
namespace {

template <typename T>
prometheus::Family<T>& Family(prometheus::Registry& registry, const Def& def) {
  return prometheus::detail::Builder<T>().Name(def.name).Help(def.help).Register(registry);
}

template <typename T>
T& Series(prometheus::Family<T>& family, const Def& def, const std::string& value) {
  prometheus::Labels labels;
  if (def.label != nullptr) labels[def.label] = value;
  if constexpr (std::is_same_v<T, prometheus::Histogram>) {
    return family.Add(labels, prometheus::Histogram::BucketBoundaries(def.buckets));
  } else {
    return family.Add(labels);
  }
}

template <typename T>
T& One(prometheus::Registry& registry, const Def& def) {
  return Series(Family<T>(registry, def), def, def.values.empty() ? "" : def.values[0]);
}

template <typename T>
prometheus::Family<T>& All(prometheus::Registry& registry, const Def& def) {
  prometheus::Family<T>& family = Family<T>(registry, def);
  for (const std::string& value : def.values) Series(family, def, value);
  return family;
}

}  // namespace

template <>
Counter& Register<Counter>(prometheus::Registry& r, const Def& d) { return One<Counter>(r, d); }
template <>
Gauge& Register<Gauge>(prometheus::Registry& r, const Def& d) { return One<Gauge>(r, d); }
template <>
Histogram& Register<Histogram>(prometheus::Registry& r, const Def& d) {
  return One<Histogram>(r, d);
}
template <>
Counters& Register<Counters>(prometheus::Registry& r, const Def& d) { return All<Counter>(r, d); }
template <>
Gauges& Register<Gauges>(prometheus::Registry& r, const Def& d) { return All<Gauge>(r, d); }
template <>
Histograms& Register<Histograms>(prometheus::Registry& r, const Def& d) {
  return All<prometheus::Histogram>(r, d);
}

}  // namespace arca::metrics
