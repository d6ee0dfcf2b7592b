#include "common/rpc/server.h"

#include <signal.h>

#include <exception>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/auth/authorizer.h"
#include "common/metrics/table.h"
#include "common/rpc/metrics.h"
#include "common/logging.h"
#include "common/http/metrics_server.h"
#include "common/http/process_metrics.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace arca::rpc {
namespace {

std::string HostOf(const std::string& address) {
  auto colon = address.rfind(':');
  return colon == std::string::npos ? address : address.substr(0, colon);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(
    const ServerOptions& options, const std::vector<ServiceEntry>& services,
    std::shared_ptr<prometheus::Registry> registry,
    const std::vector<std::shared_ptr<prometheus::Collectable>>& more_metrics) {
  std::unique_ptr<Server> s(new Server);
  s->options_ = options;
  s->registry_ = registry;
  s->metrics_ = std::make_unique<GrpcMetrics>(*registry, options.name);
  const std::string ready_name = absl::StrCat("arca_", options.name, "_ready");
  s->ready_gauge_ = &metrics::Register<metrics::Gauge>(
      *registry, {ready_name.c_str(),
                  "1 while the services can do their job (health SERVING), 0 while they "
                  "report NOT_SERVING"});
  s->ready_gauge_->Set(1);

  auto credentials = auth::ServerCredentials(
      options.listen, options.tls, options.authorizer != nullptr && options.authorizer->enabled(),
      options.insecure);
  if (!credentials.ok()) return credentials.status();
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, *credentials, &s->port_);
  builder.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS,
                              options.min_pollers);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS,
                              options.max_pollers);
  grpc::ResourceQuota quota(absl::StrCat("arca-", options.name));
  quota.SetMaxThreads(options.max_threads);
  builder.SetResourceQuota(quota);
  for (const ServiceEntry& entry : services) builder.RegisterService(entry.service);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(s->metrics_->InterceptorFactory(options.authorizer.get()));
  if (options.authorizer != nullptr) interceptors.push_back(options.authorizer->AuditInterceptor());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  s->server_ = builder.BuildAndStart();
  if (s->server_ == nullptr || s->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen));
  }
  s->address_ = absl::StrCat(HostOf(options.listen), ":", s->port_);

  if (!options.metrics_listen.empty()) {
    std::vector<std::shared_ptr<prometheus::Collectable>> collectables = more_metrics;
    collectables.push_back(registry);
    collectables.push_back(std::make_shared<http::ProcessCollector>());
    auto metrics = http::MetricsServer::Start(options.metrics_listen, options.tls, collectables);
    if (!metrics.ok()) {
      return absl::Status(metrics.status().code(),
                          absl::StrCat("metrics on ", options.metrics_listen, ": ",
                                       metrics.status().message()));
    }
    s->metrics_server_ = *std::move(metrics);
    s->metrics_port_ = s->metrics_server_->port();
  }
  grpc::HealthCheckServiceInterface* health = s->server_->GetHealthCheckService();
  health->SetServingStatus(true);
  for (const ServiceEntry& entry : services) {
    health->SetServingStatus(entry.name, true);
    s->services_.push_back(entry.name);
  }
  if (options.readiness) {
    s->readiness_ = std::make_unique<Periodic>(options.readiness_interval,
                                               [srv = s.get()] { srv->CheckReadiness(); });
  }
  ARCA_LOG(INFO) << "arca-" << options.name << " listening on " << s->address_
                 << (options.tls.enabled() ? " (TLS)" : "")
                 << (s->metrics_server_ ? absl::StrCat(" metrics on ",
                                                HostOf(options.metrics_listen), ":",
                                                s->metrics_port_)
                                 : std::string());
  return s;
}

Server::~Server() { Shutdown(); }

void Server::CheckReadiness() {
  const absl::Status ready = options_.readiness();
  if (ready.ok() != ready_) {
    ready_ = ready.ok();
    if (ready_) {
      ARCA_LOG(INFO) << "arca-" << options_.name << " is ready again";
    } else {
      ARCA_LOG(WARNING) << "arca-" << options_.name << " is not ready (health NOT_SERVING): "
                        << ready.message();
    }
  }
  ready_gauge_->Set(ready_ ? 1 : 0);
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  for (const std::string& name : services_) health->SetServingStatus(name, ready_);
}

std::shared_ptr<grpc::Channel> Server::InProcessChannel() {
  return server_->InProcessChannel(grpc::ChannelArguments());
}

void Server::Shutdown() {
  if (shut_down_ || server_ == nullptr) return;
  shut_down_ = true;
  readiness_.reset();  // its last check is done before health shuts down
  server_->GetHealthCheckService()->Shutdown();
  server_->Shutdown(std::chrono::system_clock::now() +
                    absl::ToChronoSeconds(options_.shutdown_deadline));
  server_->Wait();
}

int ServeUntilSignal(
    const ServerOptions& options, const std::vector<ServiceEntry>& services,
    std::shared_ptr<prometheus::Registry> registry,
    const std::vector<std::shared_ptr<prometheus::Collectable>>& more_metrics) {
  auto server = Server::Start(options, services, std::move(registry), more_metrics);
  if (!server.ok()) {
    ARCA_LOG(ERROR) << server.status().message();
    return 1;
  }
  int sig = WaitForTerminationSignal();
  ARCA_LOG(INFO) << "signal " << sig << ": shutting down";
  (*server)->Shutdown();
  ARCA_LOG(INFO) << "stopped";
  return 0;
}

void BlockTerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForTerminationSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

}  // namespace arca::rpc
