#include "services/scheduling/scheduler_attribute.h"

#include <string>

#include "common/rpc/server.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "services/catalog/catalog_testing.h"
#include "services/scheduling/scheduler_attribute_service.h"

namespace arca::scheduling {
namespace {

namespace cat = ::arca::catalog::v1;

google::protobuf::Map<std::string, std::string> Map(
    std::initializer_list<std::pair<const std::string, std::string>> entries) {
  google::protobuf::Map<std::string, std::string> m;
  for (const auto& [k, v] : entries) m[k] = v;
  return m;
}

const v1::Attribute* Find(const v1::SchedulingConstraints& c, const std::string& key) {
  for (const auto& a : c.attributes()) {
    if (a.key() == key) return &a;
  }
  return nullptr;
}

TEST(ArtifactIdFromJarUrl, MantisRuleAndItsEdges) {
  struct Row {
    const char* url;
    const char* id;
  } table[] = {
      {"http://host/path/my-app-1.0.0.zip", "my-app-1.0.0.zip"},
      {"https://host:8080/a/b/my-app.jar?token=abc", "my-app.jar"},
      {"s3://bucket/dir/my-app.zip#frag", "my-app.zip"},
      {"http://host/dir/my-app.zip/", "my-app.zip"},  // trailing slash ignored
      {"http://host", ""},                            // no path
      {"http://host/", ""},
      {"file:///opt/jobs/pkg%2B1.zip", "pkg+1.zip"},  // percent-decoded
      {"my-app-1.0.0.zip", "my-app-1.0.0.zip"},       // not a URL: a bare name
      {"relative/dir/pkg.zip", "pkg.zip"},
      {"", ""},
  };
  for (const Row& r : table) EXPECT_EQ(ArtifactIdFromJarUrl(r.url), r.id) << r.url;
}

TEST(MergeAttributes, PrecedenceTable) {
  auto c = MergeAttributes(Map({{"jdkVersion", "17"}, {"environment", "production"}}),
                           Map({{"_mantis.schedulingAttribute.jdkVersion", "21"},
                                {"_mantis.schedulingAttribute.gpu", "a100"},
                                {"team", "ml"}}));
  ASSERT_EQ(c.attributes_size(), 3);  // sorted by key; "team" is not an attribute
  EXPECT_EQ(c.attributes(0).key(), "environment");
  EXPECT_EQ(c.attributes(0).source(), kFromArtifactTag);
  EXPECT_FALSE(c.attributes(0).overrode());
  const v1::Attribute* jdk = Find(c, "jdkVersion");
  ASSERT_NE(jdk, nullptr);
  EXPECT_EQ(jdk->value(), "21");  // labels win
  EXPECT_EQ(jdk->source(), kFromJobLabel);
  EXPECT_TRUE(jdk->overrode());
  EXPECT_EQ(jdk->overridden_value(), "17");
  EXPECT_EQ(jdk->source_key(), "_mantis.schedulingAttribute.jdkVersion");
  const v1::Attribute* gpu = Find(c, "gpu");
  ASSERT_NE(gpu, nullptr);
  EXPECT_FALSE(gpu->overrode());
  EXPECT_TRUE(c.warnings().empty());
}

TEST(MergeAttributes, PrefixIsCaseInsensitiveKeyKeepsItsCase) {
  auto c = MergeAttributes(Map({}), Map({{"_MANTIS.SCHEDULINGATTRIBUTE.Zone", "us-east-1a"},
                                         {"_mantis.schedulingattribute.diskType", "ssd"}}));
  ASSERT_NE(Find(c, "Zone"), nullptr);
  EXPECT_EQ(Find(c, "Zone")->value(), "us-east-1a");
  ASSERT_NE(Find(c, "diskType"), nullptr);
  EXPECT_EQ(Find(c, "zone"), nullptr);
}

TEST(MergeAttributes, EmptyKeysAndCaseCollisionsWarn) {
  auto c = MergeAttributes(
      Map({{"jdk", "11"}}),
      Map({{"_mantis.schedulingAttribute.", "x"},
           {"_mantis.schedulingAttribute.jdk", "17"},
           {"_mantis.schedulingAttribute.JDK", "21"},
           {"_MANTIS.schedulingAttribute.jdk", "8"}}));  // same key "jdk", other label
  ASSERT_EQ(c.warnings_size(), 3) << c.DebugString();
  EXPECT_NE(c.warnings(0).find("empty attribute key"), std::string::npos);
  // Byte order: "_MANTIS..." < "_mantis...": the lower-case label comes later
  // and wins for "jdk".
  EXPECT_EQ(Find(c, "jdk")->value(), "17");
  EXPECT_EQ(Find(c, "jdk")->overridden_value(), "11");
  EXPECT_EQ(Find(c, "JDK")->value(), "21");
  bool saw_both = false, saw_case = false;
  for (const auto& w : c.warnings()) {
    saw_both |= w.find("both set attribute \"jdk\"") != std::string::npos;
    saw_case |= w.find("differ only in case") != std::string::npos;
  }
  EXPECT_TRUE(saw_both);
  EXPECT_TRUE(saw_case);
}

// Against a real catalog over gRPC.
class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    metrics_ = std::make_unique<SchedulerMetrics>(*registry_);
    options_.max_artifacts_to_cache = 3;
    core_ = std::make_unique<SchedulerAttribute>(options_, client_, metrics_.get());
  }
  void Register(const std::string& id, const std::string& name, const std::string& version,
                const std::string& jdk, bool overwrite = false) {
    cat::RegisterJobArtifactRequest r;
    r.mutable_artifact()->set_artifact_id(id);
    r.mutable_artifact()->set_name(name);
    r.mutable_artifact()->set_version(version);
    (*r.mutable_artifact()->mutable_tags())["jdkVersion"] = jdk;
    r.set_overwrite(overwrite);
    ASSERT_TRUE(catalog_->RegisterJobArtifact(r).ok());
    clock_.Advance(absl::Seconds(1));
  }
  v1::JobDefinition ByUrl(const std::string& url, const std::string& cluster = "") {
    v1::JobDefinition d;
    d.mutable_artifact()->set_job_jar_url(url);
    d.set_cluster(cluster);
    d.set_machine_definition("cpu=4,mem=8g");
    d.set_size_attribute("large");
    return d;
  }

  FakeClock clock_;
  catalog::TestCatalog test_catalog_{&clock_};
  catalog::Catalog* catalog_ = &test_catalog_.catalog();
  clients::CatalogClient* client_ = &test_catalog_.client();
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  std::unique_ptr<SchedulerMetrics> metrics_;
  SchedulerOptions options_;
  std::unique_ptr<SchedulerAttribute> core_;
};

TEST_F(SchedulerTest, ResolvesFromTheJarUrlsArtifact) {
  Register("my-app-1.0.zip", "my-app", "1.0", "17");
  auto c = core_->Resolve(ByUrl("https://repo/jobs/my-app-1.0.zip?sig=1"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->artifact_id(), "my-app-1.0.zip");
  EXPECT_EQ(c->machine_definition(), "cpu=4,mem=8g");
  EXPECT_EQ(c->size_attribute(), "large");
  ASSERT_NE(Find(*c, "jdkVersion"), nullptr);
  EXPECT_EQ(Find(*c, "jdkVersion")->value(), "17");
  EXPECT_TRUE(c->warnings().empty());
}

TEST_F(SchedulerTest, AJarUrlResolvesAsMantisDoesWithoutItsZipExtension) {
  // Mantis' own case: http://repo/other-2.0.0.zip names artifact other-2.0.0.
  Register("other-2.0.0", "other", "2.0.0", "11");
  auto c = core_->Resolve(ByUrl("http://repo/other-2.0.0.zip"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->artifact_id(), "other-2.0.0");
  EXPECT_EQ(Find(*c, "jdkVersion")->value(), "11");
  // Both registered: Mantis' name wins.
  Register("other-2.0.0.zip", "other", "2.0.0-zip", "8");
  EXPECT_EQ(core_->Resolve(ByUrl("http://repo/other-2.0.0.zip"))->artifact_id(), "other-2.0.0");
  // Only ".zip" is stripped, as Mantis does.
  Register("tool-1.jar", "tool", "1", "17");
  EXPECT_EQ(core_->Resolve(ByUrl("http://repo/tool-1.jar"))->artifact_id(), "tool-1.jar");
  EXPECT_TRUE(core_->Resolve(ByUrl("http://repo/.zip"))->artifact_id().empty());
}

TEST_F(SchedulerTest, MissingArtifactIsAWarningNotASilentFallback) {
  v1::JobDefinition d = ByUrl("http://repo/absent.zip");
  (*d.mutable_labels())["_mantis.schedulingAttribute.zone"] = "a";
  auto c = core_->Resolve(d);
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->warnings_size(), 1);
  EXPECT_NE(c->warnings(0).find("absent.zip\" not found"), std::string::npos) << c->warnings(0);
  EXPECT_EQ(c->attributes_size(), 1);
  EXPECT_TRUE(c->artifact_id().empty());
  auto no_path = core_->Resolve(ByUrl("http://repo"));
  ASSERT_TRUE(no_path.ok());
  EXPECT_NE(no_path->warnings(0).find("names no artifact"), std::string::npos);
  auto none = core_->Resolve(v1::JobDefinition());
  ASSERT_TRUE(none.ok());
  EXPECT_NE(none->warnings(0).find("no artifact given"), std::string::npos);
}

TEST_F(SchedulerTest, NameMeansNewestAndOverwriteIsSeenAtOnce) {
  Register("svc-1", "svc", "1", "11");
  Register("svc-2", "svc", "2", "17");
  v1::JobDefinition d;
  d.mutable_artifact()->mutable_name_version()->set_name("svc");
  auto newest = core_->Resolve(d);
  ASSERT_TRUE(newest.ok());
  EXPECT_EQ(newest->artifact_id(), "svc-2");
  d.mutable_artifact()->mutable_name_version()->set_version("1");
  EXPECT_EQ(core_->Resolve(d)->artifact_id(), "svc-1");

  // No stale answers: the next Resolve sees the overwrite's new tags.
  Register("svc-1", "svc", "1", "21", /*overwrite=*/true);
  auto after = core_->Resolve(d);
  EXPECT_EQ(Find(*after, "jdkVersion")->value(), "21");
  EXPECT_EQ(after->artifact_revision(), 2);
}

TEST_F(SchedulerTest, BatchAndBadInput) {
  Register("a.zip", "a", "1", "17");
  v1::BatchResolveRequest batch;
  *batch.add_definitions() = ByUrl("http://r/a.zip");
  *batch.add_definitions() = ByUrl("http://r/b.zip");
  auto r = core_->BatchResolve(batch);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->results_size(), 2);
  EXPECT_EQ(r->results(0).artifact_id(), "a.zip");
  EXPECT_EQ(r->results(1).warnings_size(), 1);

  v1::BatchResolveRequest too_big;
  for (int i = 0; i < 1001; ++i) *too_big.add_definitions() = ByUrl("x");
  EXPECT_EQ(core_->BatchResolve(too_big).status().code(), absl::StatusCode::kInvalidArgument);
  v1::JobDefinition bad_label = ByUrl("x");
  (*bad_label.mutable_labels())["k"] = "\xff";
  EXPECT_EQ(core_->Resolve(bad_label).status().code(), absl::StatusCode::kInvalidArgument);
  v1::JobDefinition bad_cluster = ByUrl("x", "no such/cluster");
  EXPECT_EQ(core_->Resolve(bad_cluster).status().code(), absl::StatusCode::kInvalidArgument);
  v1::JobDefinition bad_name;
  bad_name.mutable_artifact()->mutable_name_version()->set_name("a b");
  EXPECT_EQ(core_->Resolve(bad_name).status().code(), absl::StatusCode::kInvalidArgument);
  v1::BatchResolveRequest bad_inside;
  *bad_inside.add_definitions() = ByUrl("x");
  *bad_inside.add_definitions() = bad_label;
  auto s = core_->BatchResolve(bad_inside).status();
  EXPECT_NE(s.message().find("definitions[1]"), std::string::npos) << s;
  v1::ListArtifactsToCacheRequest list;
  EXPECT_EQ(core_->ListArtifactsToCache(list).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(SchedulerTest, ArtifactsToCacheAreMostRecentFirstAndBounded) {
  for (const char* id : {"p1.zip", "p2.zip", "p3.zip", "p4.zip"}) Register(id, id, "1", "17");
  for (const char* id : {"p1.zip", "p2.zip", "p3.zip", "p1.zip", "p4.zip"}) {
    ASSERT_TRUE(core_->Resolve(ByUrl(std::string("http://r/") + id, "prod")).ok());
  }
  ASSERT_TRUE(core_->Resolve(ByUrl("http://r/p2.zip", "staging")).ok());
  ASSERT_TRUE(core_->Resolve(ByUrl("http://r/missing.zip", "prod")).ok());  // not recorded
  v1::ListArtifactsToCacheRequest list;
  list.set_cluster("prod");
  auto prod = core_->ListArtifactsToCache(list);
  ASSERT_TRUE(prod.ok());
  EXPECT_EQ(std::vector<std::string>(prod->artifact_ids().begin(), prod->artifact_ids().end()),
            (std::vector<std::string>{"p4.zip", "p1.zip", "p3.zip"}));
  list.set_cluster("staging");
  EXPECT_EQ(core_->ListArtifactsToCache(list)->artifact_ids_size(), 1);

  // An allow-list keeps other clusters out; caching off records nothing.
  SchedulerOptions only_prod = options_;
  only_prod.caching_clusters = {"prod"};
  SchedulerAttribute limited(only_prod, client_, metrics_.get());
  ASSERT_TRUE(limited.Resolve(ByUrl("http://r/p1.zip", "staging")).ok());
  EXPECT_EQ(limited.ListArtifactsToCache(list)->artifact_ids_size(), 0);
  SchedulerOptions off = options_;
  off.caching_enabled = false;
  SchedulerAttribute disabled(off, client_, metrics_.get());
  ASSERT_TRUE(disabled.Resolve(ByUrl("http://r/p1.zip", "prod")).ok());
  list.set_cluster("prod");
  EXPECT_EQ(disabled.ListArtifactsToCache(list)->artifact_ids_size(), 0);
}

TEST_F(SchedulerTest, OverGrpc) {
  Register("g.zip", "g", "1", "17");
  SchedulerAttributeServiceImpl service(core_.get());
  rpc::ServerOptions so;
  so.name = "scheduler_attribute";
  auto server = *rpc::Server::Start(so, {{v1::SchedulerAttribute::service_full_name(), &service}},
                               std::make_shared<prometheus::Registry>());
  auto stub = v1::SchedulerAttribute::NewStub(
      grpc::CreateChannel(server->address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  v1::SchedulingConstraints c;
  ASSERT_TRUE(stub->Resolve(&context, ByUrl("http://r/g.zip"), &c).ok());
  EXPECT_EQ(Find(c, "jdkVersion")->value(), "17");
  grpc::ClientContext bad;
  v1::ListArtifactsToCacheResponse r;
  EXPECT_EQ(stub->ListArtifactsToCache(&bad, v1::ListArtifactsToCacheRequest(), &r).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(SchedulerTest, CatalogDownIsUnavailable) {
  test_catalog_.StopServer();
  auto c = core_->Resolve(ByUrl("http://r/a.zip"));
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnavailable) << c.status();
}

}  // namespace
}  // namespace arca::scheduling
