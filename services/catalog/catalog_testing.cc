#include "services/catalog/catalog_testing.h"

#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "grpcpp/grpcpp.h"
#include "prometheus/registry.h"

namespace arca::catalog {

TestCatalog::TestCatalog(Clock* clock) {
  char tmpl[] = "/tmp/arca-test-XXXXXX";
  dir_ = mkdtemp(tmpl);
  CatalogOptions options;
  options.data_dir = dir_ + "/catalog";
  options.backup_dir = dir_ + "/backups";
  options.min_free_bytes = 0;  // tests do not depend on the machine's disk
  options.reserve_bytes = 0;
  auto opened = Catalog::Open(options, clock);
  if (!opened.ok()) {
    std::fprintf(stderr, "TestCatalog: %s\n", opened.status().ToString().c_str());
    std::abort();
  }
  catalog_ = *std::move(opened);
  service_ = std::make_unique<CatalogServiceImpl>(catalog_.get());
  rpc::ServerOptions server_options;
  server_options.name = "catalog";
  auto server = rpc::Server::Start(server_options, {{v1::Catalog::service_full_name(), service_.get()}},
                              registry_);
  if (!server.ok()) {
    std::fprintf(stderr, "TestCatalog: %s\n", server.status().ToString().c_str());
    std::abort();
  }
  server_ = *std::move(server);
  address_ = server_->address();
  auto channel = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
  stub_ = v1::Catalog::NewStub(channel);
  client_ = clients::NewCatalogClient(channel);
}

double TestCatalog::Calls() const {
  double calls = 0;
  for (const auto& family : registry_->Collect()) {
    if (family.name != "arca_catalog_grpc_calls_total") continue;
    for (const auto& metric : family.metric) calls += metric.counter.value;
  }
  return calls;
}

TestCatalog::~TestCatalog() {
  stub_.reset();
  client_.reset();
  server_.reset();
  catalog_.reset();
  std::filesystem::remove_all(dir_);
}

}  // namespace arca::catalog
