#include "common/http/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "common/revision.h"
#include "common/version.h"

namespace arca::http {
namespace {

prometheus::MetricFamily Family(const std::string& name, const std::string& help,
                                prometheus::MetricType type, double value) {
  prometheus::MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  prometheus::ClientMetric m;
  if (type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(m);
  return f;
}

}  // namespace

prometheus::MetricFamily GaugeFamily(const std::string& name, const std::string& help,
                                     double value) {
  return Family(name, help, prometheus::MetricType::Gauge, value);
}

prometheus::MetricFamily CounterFamily(const std::string& name, const std::string& help,
                                       double value) {
  return Family(name, help, prometheus::MetricType::Counter, value);
}

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  std::vector<prometheus::MetricFamily> out;
  prometheus::MetricFamily build = GaugeFamily(
      "arca_build_info", "The Arca release and commit this binary was built from (always 1)", 1);
  build.metric[0].label = {{"version", kVersion}, {"revision", ARCA_REVISION}};
  out.push_back(std::move(build));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  // /proc/self/stat: fields after the ")" that ends the command name.
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), {});
  size_t close = stat.rfind(')');
  if (close != std::string::npos) {
    std::istringstream fields(stat.substr(close + 2));
    std::string f[24];
    for (int i = 0; i < 24 && fields >> f[i]; ++i) {
    }
    // Counting from field 3 (state) at index 0: utime 14, stime 15,
    // starttime 22, vsize 23, rss 24.
    const double cpu = (std::stod("0" + f[11]) + std::stod("0" + f[12])) / ticks;
    out.push_back(Family("process_cpu_seconds_total", "User and system CPU time spent",
                         prometheus::MetricType::Counter, cpu));
    out.push_back(GaugeFamily("process_virtual_memory_bytes", "Virtual memory size",
                              std::stod("0" + f[20])));
    out.push_back(GaugeFamily("process_resident_memory_bytes", "Resident memory size",
                              std::stod("0" + f[21]) * page));
    std::ifstream uptime_file("/proc/uptime");
    double uptime = 0;
    uptime_file >> uptime;
    const double boot = static_cast<double>(time(nullptr)) - uptime;
    out.push_back(GaugeFamily("process_start_time_seconds",
                              "Start time of the process since the Unix epoch",
                              boot + std::stod("0" + f[19]) / ticks));
  }
  int fds = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (dirent* e = readdir(d)) fds += e->d_name[0] != '.';
    closedir(d);
    --fds;  // the directory stream itself
  }
  out.push_back(GaugeFamily("process_open_fds", "Open file descriptors", fds));
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  out.push_back(GaugeFamily("process_max_fds", "Most file descriptors the process may open",
                            static_cast<double>(limit.rlim_cur)));
  return out;
}

}  // namespace arca::http
