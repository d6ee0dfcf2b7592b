#include "common/auth/authorizer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/auth/tokens.h"
#include "common/rpc/status.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_interceptor.h"

namespace arca::auth {

const std::vector<Rule>& Rules() {
  using R = Role;
  using S = Scope;
  static const auto* rules = new std::vector<Rule>{
      // catalog
      {"/arca.catalog.v1.Catalog/RegisterJobArtifact", R::kWriter, S::kGlobal},  // overwrite: admin
      {"/arca.catalog.v1.Catalog/GetJobArtifact", R::kReader, S::kGlobal},
      {"/arca.catalog.v1.Catalog/ListJobArtifacts", R::kReader, S::kGlobal},
      {"/arca.catalog.v1.Catalog/ListJobArtifactNames", R::kReader, S::kGlobal},
      {"/arca.catalog.v1.Catalog/DeleteJobArtifact", R::kAdmin, S::kGlobal},
      {"/arca.catalog.v1.Catalog/CreateJob", R::kWriter, S::kGroup},
      {"/arca.catalog.v1.Catalog/GetJob", R::kReader, S::kJob},
      {"/arca.catalog.v1.Catalog/ListJobs", R::kReader, S::kResults},
      {"/arca.catalog.v1.Catalog/UpdateStep", R::kWriter, S::kJob},
      {"/arca.catalog.v1.Catalog/FinishJob", R::kWriter, S::kJob},
      {"/arca.catalog.v1.Catalog/DeleteJob", R::kAdmin, S::kJob},
      {"/arca.catalog.v1.Catalog/RemoveFinalizer", R::kService, S::kInternal},
      {"/arca.catalog.v1.Catalog/SetCondition", R::kService, S::kInternal},
      {"/arca.catalog.v1.Catalog/CommitFiles", R::kService, S::kInternal},
      {"/arca.catalog.v1.Catalog/ListFiles", R::kReader, S::kJob},
      {"/arca.catalog.v1.Catalog/GetFile", R::kReader, S::kJob},
      {"/arca.catalog.v1.Catalog/ListExpiredFiles", R::kService, S::kInternal},
      {"/arca.catalog.v1.Catalog/MarkFilesDeleted", R::kService, S::kInternal},
      {"/arca.catalog.v1.Catalog/GetBlobRef", R::kService, S::kInternal},
      {"/arca.catalog.v1.Catalog/GetBlobRefs", R::kService, S::kInternal},
      {"/arca.catalog.v1.Catalog/ListUnreferencedBlobs", R::kService, S::kInternal},
      {"/arca.catalog.v1.Catalog/ForgetBlob", R::kService, S::kInternal},
      {"/arca.catalog.v1.Catalog/ListPacks", R::kService, S::kInternal},
      {"/arca.catalog.v1.Catalog/ListPackedBlobs", R::kService, S::kInternal},
      {"/arca.catalog.v1.Catalog/MovePackedBlobs", R::kService, S::kInternal},
      {"/arca.catalog.v1.Catalog/ForgetPack", R::kService, S::kInternal},
      {"/arca.catalog.v1.Catalog/EnqueueGcTask", R::kService, S::kInternal},
      {"/arca.catalog.v1.Catalog/LeaseGcTasks", R::kService, S::kInternal},
      {"/arca.catalog.v1.Catalog/CompleteGcTask", R::kService, S::kInternal},
      {"/arca.catalog.v1.Catalog/RetryGcTask", R::kService, S::kInternal},
      {"/arca.catalog.v1.Catalog/GcQueueStats", R::kReader, S::kGlobal},
      {"/arca.catalog.v1.Catalog/ListGcTasks", R::kReader, S::kJob},
      {"/arca.catalog.v1.Catalog/CreateCheckpoint", R::kAdmin, S::kGlobal},
      {"/arca.catalog.v1.Catalog/WhoAmI", R::kReader, S::kGlobal},
      // collector
      {"/arca.collector.v1.Collector/Upload", R::kWriter, S::kJob},
      {"/arca.collector.v1.Collector/Download", R::kReader, S::kJob},
      // retention-gc
      {"/arca.retention.v1.RetentionGc/RunCleanup", R::kAdmin, S::kResults},
      {"/arca.retention.v1.RetentionGc/PreviewCleanup", R::kReader, S::kJob},
      {"/arca.retention.v1.RetentionGc/GcStatus", R::kReader, S::kJob},
      // scheduler-attribute
      {"/arca.scheduling.v1.SchedulerAttribute/Resolve", R::kReader, S::kGlobal},
      {"/arca.scheduling.v1.SchedulerAttribute/BatchResolve", R::kReader, S::kGlobal},
      {"/arca.scheduling.v1.SchedulerAttribute/ListArtifactsToCache", R::kReader, S::kGlobal},
  };
  return *rules;
}

const Rule* FindRule(absl::string_view full_method) {
  for (const Rule& r : Rules()) {
    if (r.method == full_method) return &r;
  }
  return nullptr;
}

absl::string_view MethodName(absl::string_view full_method) {
  const size_t slash = full_method.rfind('/');
  return slash == absl::string_view::npos ? full_method : full_method.substr(slash + 1);
}

Authorizer::Authorizer(std::shared_ptr<TokenFile> tokens) : tokens_(std::move(tokens)) {}
Authorizer::~Authorizer() = default;

namespace {

// The first value of a metadata key, or "".
absl::string_view Metadata(const std::multimap<grpc::string_ref, grpc::string_ref>& metadata,
                           absl::string_view key) {
  auto it = metadata.find(grpc::string_ref(key.data(), key.size()));
  return it == metadata.end() ? absl::string_view()
                              : absl::string_view(it->second.data(), it->second.size());
}

}  // namespace

absl::StatusOr<Identity> Authorizer::Caller(const grpc::ServerContextBase& context) const {
  const auto& metadata = context.client_metadata();
  if (absl::string_view bearer = Metadata(metadata, "authorization"); !bearer.empty()) {
    return tokens_->Authenticate(bearer);
  }
  if (auto peer = context.auth_context(); peer != nullptr && peer->IsPeerAuthenticated()) {
    for (const auto& name : peer->FindPropertyValues("x509_common_name")) {
      if (auto who = tokens_->ByCertificate(absl::string_view(name.data(), name.size()))) {
        return *who;
      }
    }
    return absl::UnauthenticatedError("the client certificate names no identity in the tokens file");
  }
  return absl::UnauthenticatedError(
      "no credentials: send authorization: Bearer <token>, or a client certificate");
}

absl::StatusOr<Identity> Authorizer::Identify(const grpc::ServerContextBase& context) const {
  ASSIGN_OR_RETURN(Identity identity, Caller(context));
  if (absl::string_view user = Metadata(context.client_metadata(), kActForHeader); !user.empty()) {
    RETURN_IF_ERROR(identity.Allows(Role::kService, "acting for another identity"));
    auto acted = tokens_->ByName(user);
    if (!acted.has_value()) {
      return absl::UnauthenticatedError(absl::StrCat("no identity is named \"", user, "\""));
    }
    identity = *std::move(acted);
  }
  return identity;
}

absl::StatusOr<Identity> Authorizer::Authorize(const grpc::ServerContextBase& context,
                                               absl::string_view full_method) const {
  if (!enabled()) return Identity::Everyone();
  const absl::string_view method = MethodName(full_method);
  auto denied = [&](absl::string_view who, const absl::Status& why) {
    ARCA_LOG(WARNING) << "audit: denied " << method << " to " << who << " from "
                      << context.peer() << ": " << why.message();
    return why;
  };
  auto identified = Identify(context);
  if (!identified.ok()) {
    auto caller = Caller(context);
    return denied(caller.ok() ? caller->name : "an unknown caller", identified.status());
  }
  Identity identity = *std::move(identified);
  const Rule* rule = FindRule(full_method);
  if (rule == nullptr) {
    return denied(identity.name,
                  absl::PermissionDeniedError(absl::StrCat(method, " has no authorization rule")));
  }
  if (absl::Status s = identity.Allows(rule->role, method); !s.ok()) {
    return denied(identity.name, s);
  }
  return identity;
}

namespace {

// The object a request names, for the audit log: its first id-like field,
// looked for in the message and in the messages it holds.
std::string ObjectOf(const google::protobuf::Message& m, int depth = 0) {
  static constexpr const char* kFields[] = {"job_id", "id", "artifact_id", "task_id",
                                            "sha256", "dir", "name", "group"};
  const auto* descriptor = m.GetDescriptor();
  const auto* reflection = m.GetReflection();
  for (const char* name : kFields) {
    const auto* field = descriptor->FindFieldByName(name);
    if (field == nullptr || field->is_repeated() ||
        field->type() != google::protobuf::FieldDescriptor::TYPE_STRING) {
      continue;
    }
    std::string value = reflection->GetString(m, field);
    if (!value.empty()) return absl::StrCat(name, "=", value.substr(0, 200));
  }
  if (depth > 0) return "";
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const auto* field = descriptor->field(i);
    if (field->is_repeated() || field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE ||
        !reflection->HasField(m, field)) {
      continue;
    }
    std::string inner = ObjectOf(reflection->GetMessage(m, field), depth + 1);
    if (!inner.empty()) return inner;
  }
  return "";
}

class AuditInterceptor : public grpc::experimental::Interceptor {
 public:
  AuditInterceptor(const Authorizer* authorizer, grpc::experimental::ServerRpcInfo* info)
      : authorizer_(authorizer), info_(info) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using H = grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(H::POST_RECV_MESSAGE) && object_.empty()) {
      if (const void* m = methods->GetRecvMessage(); m != nullptr) {
        object_ = ObjectOf(*static_cast<const google::protobuf::Message*>(m));
      }
    }
    if (methods->QueryInterceptionHookPoint(H::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      auto who = authorizer_->Identify(*info_->server_context());
      // Denied calls were logged where they were refused.
      if (who.ok() && status.error_code() != grpc::StatusCode::PERMISSION_DENIED &&
          status.error_code() != grpc::StatusCode::UNAUTHENTICATED) {
        auto caller = authorizer_->Caller(*info_->server_context());
        const std::string via =
            caller.ok() && caller->name != who->name ? absl::StrCat(" (via ", caller->name, ")")
                                                     : "";
        ARCA_LOG(INFO) << "audit: " << who->name << via << " " << MethodName(info_->method())
                       << " " << object_ << " -> "
                       << (status.ok() ? "OK"
                                       : absl::StrCat(rpc::StatusCodeName(status.error_code()), ": ",
                                                      status.error_message()));
      }
    }
    methods->Proceed();
  }

 private:
  const Authorizer* authorizer_;
  grpc::experimental::ServerRpcInfo* info_;
  std::string object_;
};

class AuditFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit AuditFactory(const Authorizer* authorizer) : authorizer_(authorizer) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    const Rule* rule = FindRule(info->method());
    // Reads are not audited; calls without a rule are refused (and logged).
    if (!authorizer_->enabled() || rule == nullptr || rule->role == Role::kReader) return nullptr;
    return new AuditInterceptor(authorizer_, info);
  }

 private:
  const Authorizer* authorizer_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
Authorizer::AuditInterceptor() const {
  return std::make_unique<AuditFactory>(this);
}

}  // namespace arca::auth
