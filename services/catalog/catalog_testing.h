#ifndef ARCA_SERVICES_CATALOG_CATALOG_TESTING_H_
#define ARCA_SERVICES_CATALOG_CATALOG_TESTING_H_

#include <memory>
#include <string>

#include "common/clients/catalog.h"
#include "common/clock.h"
#include "common/rpc/server.h"
#include "proto/catalog/v1/catalog.grpc.pb.h"
#include "services/catalog/catalog.h"
#include "services/catalog/catalog_service.h"

namespace prometheus {
class Registry;
}

namespace arca::catalog {

// For other services' tests: a real catalog (RocksDB in a fresh temporary
// directory) behind a real gRPC server on a free loopback port. The
// destructor stops the server and removes the directory.
class TestCatalog {
 public:
  explicit TestCatalog(Clock* clock = Clock::Real());
  ~TestCatalog();

  Catalog& catalog() { return *catalog_; }
  // A client over the real socket.
  v1::Catalog::Stub& stub() { return *stub_; }
  // The typed client the other services use, over the same socket.
  clients::CatalogClient& client() { return *client_; }
  const std::string& address() const { return address_; }
  // A scratch directory that goes away with this object.
  const std::string& dir() const { return dir_; }
  // Stops serving (to test a catalog that is down).
  void StopServer() { server_.reset(); }
  // gRPC calls the server has answered so far.
  double Calls() const;

 private:
  std::string dir_, address_;
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<CatalogServiceImpl> service_;
  std::unique_ptr<rpc::Server> server_;
  std::unique_ptr<v1::Catalog::Stub> stub_;
  std::unique_ptr<clients::CatalogClient> client_;
};

}  // namespace arca::catalog

#endif  // ARCA_SERVICES_CATALOG_CATALOG_TESTING_H_
