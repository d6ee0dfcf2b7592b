#include "common/metrics/table.h"

#include <map>
#include <string>

#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"

namespace arca::metrics {
namespace {

#define ARCA_TEST_METRICS(M)                                                              \
  M(Counter, served, {"arca_test_served_total", "Things served"})                         \
  M(Counters, refused, {"arca_test_refused_total", "Things refused", "reason", {"busy", "bad"}}) \
  M(Gauge, running, {"arca_test_running", "Things running"})                             \
  M(Histograms, phases,                                                                   \
    {"arca_test_phase_seconds", "Time by phase", "phase", {"read", "write"}, {0.1, 1}})   \
  M(Histogram, read_seconds,                                                              \
    {"arca_test_phase_seconds", "Time by phase", "phase", {"read"}, {0.1, 1}})

struct TestMetrics {
  explicit TestMetrics(prometheus::Registry& registry)
      : registry(registry) ARCA_TEST_METRICS(ARCA_METRIC_INIT) {}
  prometheus::Registry& registry;
  ARCA_TEST_METRICS(ARCA_METRIC_MEMBER)
};

// Series by "name{labels}" as the registry exposes them.
std::map<std::string, double> Exposed(prometheus::Registry& registry) {
  std::map<std::string, double> out;
  for (const auto& family : registry.Collect()) {
    for (const auto& m : family.metric) {
      std::string key = family.name;
      for (const auto& l : m.label) key += "{" + l.name + "=" + l.value + "}";
      if (family.type == prometheus::MetricType::Histogram) {
        out[key] = static_cast<double>(m.histogram.sample_count);
      } else if (family.type == prometheus::MetricType::Gauge) {
        out[key] = m.gauge.value;
      } else {
        out[key] = m.counter.value;
      }
    }
  }
  return out;
}

TEST(MetricsTableTest, EveryRowIsRegisteredWithItsLabelledSeriesFromZero) {
  prometheus::Registry registry;
  TestMetrics metrics(registry);
  const std::map<std::string, double> expected = {
      {"arca_test_served_total", 0},
      {"arca_test_refused_total{reason=busy}", 0},
      {"arca_test_refused_total{reason=bad}", 0},
      {"arca_test_running", 0},
      {"arca_test_phase_seconds{phase=read}", 0},
      {"arca_test_phase_seconds{phase=write}", 0},
  };
  EXPECT_EQ(Exposed(registry), expected);
}

TEST(MetricsTableTest, MembersAreTheRegisteredSeries) {
  prometheus::Registry registry;
  TestMetrics metrics(registry);
  metrics.served.Increment(3);
  metrics.refused.Add({{"reason", "busy"}}).Increment();
  metrics.running.Set(2);
  metrics.read_seconds.Observe(0.5);  // one series of the phases family
  auto exposed = Exposed(registry);
  EXPECT_EQ(exposed["arca_test_served_total"], 3);
  EXPECT_EQ(exposed["arca_test_refused_total{reason=busy}"], 1);
  EXPECT_EQ(exposed["arca_test_running"], 2);
  EXPECT_EQ(exposed["arca_test_phase_seconds{phase=read}"], 1);
  EXPECT_EQ(exposed["arca_test_phase_seconds{phase=write}"], 0);
  const std::string text = prometheus::TextSerializer().Serialize(registry.Collect());
  EXPECT_NE(text.find("# HELP arca_test_refused_total Things refused"), std::string::npos);
  EXPECT_NE(text.find("arca_test_phase_seconds_bucket{phase=\"read\",le=\"1\"} 1"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace arca::metrics
