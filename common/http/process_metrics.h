#ifndef ARCA_COMMON_HTTP_PROCESS_METRICS_H_
#define ARCA_COMMON_HTTP_PROCESS_METRICS_H_

#include <memory>
#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace arca::http {

// The standard process metrics, read from /proc/self at each scrape:
// process_resident_memory_bytes, process_virtual_memory_bytes,
// process_cpu_seconds_total, process_open_fds, process_max_fds,
// process_start_time_seconds; and arca_build_info{version, revision} = 1.
// Every Arca server exposes them.
class ProcessCollector : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

// Families with one unlabelled sample, for hand-written collectors.
prometheus::MetricFamily GaugeFamily(const std::string& name, const std::string& help,
                                     double value);
prometheus::MetricFamily CounterFamily(const std::string& name, const std::string& help,
                                       double value);

}  // namespace arca::http

#endif  // ARCA_COMMON_HTTP_PROCESS_METRICS_H_
