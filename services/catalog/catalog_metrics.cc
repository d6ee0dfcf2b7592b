#include "services/catalog/catalog_metrics.h"

#include <algorithm>

#include "common/http/process_metrics.h"
#include "common/time_util.h"

namespace arca::catalog {

std::vector<prometheus::MetricFamily> CatalogCollector::Collect() const {
  struct Property {
    const char* metric;
    const char* property;
    const char* help;
  };
  static constexpr Property kProperties[] = {
      {"arca_catalog_rocksdb_sst_bytes", "rocksdb.total-sst-files-size",
       "Bytes of the catalog database's SST files on disk"},
      {"arca_catalog_rocksdb_live_data_bytes", "rocksdb.estimate-live-data-size",
       "Estimated bytes of live data in the catalog database"},
      {"arca_catalog_rocksdb_estimated_keys", "rocksdb.estimate-num-keys",
       "Estimated number of keys in the catalog database"},
      {"arca_catalog_rocksdb_memtable_bytes", "rocksdb.cur-size-all-mem-tables",
       "Bytes held in memtables"},
      {"arca_catalog_rocksdb_pending_compaction_bytes", "rocksdb.estimate-pending-compaction-bytes",
       "Estimated bytes compaction still has to rewrite"},
      {"arca_catalog_rocksdb_write_stopped", "rocksdb.is-write-stopped",
       "1 while RocksDB stops writes (a stall)"},
      {"arca_catalog_rocksdb_delayed_write_rate_bytes", "rocksdb.actual-delayed-write-rate",
       "Bytes per second writes are slowed to while RocksDB delays them; 0 otherwise"},
  };
  std::vector<prometheus::MetricFamily> out;
  for (const Property& p : kProperties) {
    out.push_back(http::GaugeFamily(p.metric, p.help,
                              static_cast<double>(catalog_->GetIntProperty(p.property))));
  }
  out.push_back(http::CounterFamily("arca_catalog_rocksdb_write_stall_seconds_total",
                              "Time writes spent stalled by RocksDB since the catalog started",
                              catalog_->WriteStallSeconds()));
  out.push_back(http::GaugeFamily("arca_catalog_disk_free_bytes",
                            "Bytes free on the catalog database's disk, as last seen by a write",
                            static_cast<double>(catalog_->DiskFreeBytes())));
  out.push_back(http::GaugeFamily("arca_catalog_writes_refused",
                            "1 while writes are refused because the catalog's disk is full",
                            catalog_->WritesRefused() ? 1 : 0));
  auto stats = catalog_->GcQueueStats();
  double depth = 0, age = 0;
  if (stats.ok()) {
    depth = static_cast<double>(stats->depth());
    if (stats->depth() > 0) {
      age = std::max(0.0, absl::ToDoubleSeconds(clock_->Now() - FromProtoTime(stats->oldest_due())));
    }
  }
  out.push_back(http::GaugeFamily("arca_catalog_gc_queue_depth", "GC tasks waiting or leased", depth));
  out.push_back(http::GaugeFamily("arca_catalog_gc_queue_oldest_due_age_seconds",
                            "How long the oldest due GC task has been waiting", age));
  return out;
}

}  // namespace arca::catalog
