#ifndef ARCA_SERVICES_CATALOG_CATALOG_METRICS_H_
#define ARCA_SERVICES_CATALOG_CATALOG_METRICS_H_

#include <vector>

#include "common/clock.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"
#include "services/catalog/catalog.h"

namespace arca::catalog {

// Gauges read from the database at each scrape:
//   arca_catalog_rocksdb_live_data_bytes, _estimated_keys, _memtable_bytes,
//   _pending_compaction_bytes, _write_stopped (1 while RocksDB stalls
//   writes), arca_catalog_disk_free_bytes, arca_catalog_writes_refused (1
//   while the disk is too full to write), arca_catalog_gc_queue_depth and
//   arca_catalog_gc_queue_oldest_due_age_seconds (0 when nothing is overdue).
class CatalogCollector : public prometheus::Collectable {
 public:
  CatalogCollector(Catalog* catalog, Clock* clock) : catalog_(catalog), clock_(clock) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  Catalog* catalog_;
  Clock* clock_;
};

}  // namespace arca::catalog

#endif  // ARCA_SERVICES_CATALOG_CATALOG_METRICS_H_
