// GraphQL over HTTP (/graphql): the transport, the schema and its resolvers.

#include "services/gateway/gateway_impl.h"

namespace arca::gateway {

absl::Status Gateway::Impl::GraphQl(Request& req) {
  std::string query, operation;
  graphql::Json variables;
  const bool get = req.http.method == "GET" || req.http.method == "HEAD";
  const absl::string_view type = req.http.Header("content-type");
  // PrimeHub's SDK posts a form: query=…&variables=<JSON>.
  const bool form = !get && absl::StartsWithIgnoreCase(type, "application/x-www-form-urlencoded");
  if (get || form) {
    QueryParams params = req.target.query;
    if (form) {
      ASSIGN_OR_RETURN(params, QueryParams::Parse(req.http.body));
    }
    query = params.GetOr("query", "");
    operation = params.GetOr("operationName", "");
    const std::string vars = params.GetOr("variables", "");
    if (!vars.empty()) {
      ASSIGN_OR_RETURN(variables, ParseJson(vars, "variables"));
    }
  } else {
    if (!absl::StartsWithIgnoreCase(type, "application/json")) {
      req.ReplyError(415,
                     "POST /graphql takes Content-Type: application/json or "
                     "application/x-www-form-urlencoded");
      return absl::OkStatus();
    }
    if (absl::StartsWith(absl::StripLeadingAsciiWhitespace(req.http.body), "[")) {
      return absl::InvalidArgumentError(
          "batched queries are not supported: send one {\"query\": …} per request");
    }
    ASSIGN_OR_RETURN(Json body, ParseJsonObject(req.http.body));
    if (!body.contains("query") || !body["query"].is_string()) {
      return absl::InvalidArgumentError("\"query\" must be a string");
    }
    query = body["query"].get<std::string>();
    if (body.contains("operationName") && !body["operationName"].is_null()) {
      if (!body["operationName"].is_string()) {
        return absl::InvalidArgumentError("\"operationName\" must be a string");
      }
      operation = body["operationName"].get<std::string>();
    }
    if (body.contains("variables")) variables = body["variables"];
  }
  if (query.empty()) return absl::InvalidArgumentError("no GraphQL query given");
  graphql::ExecutionLimits limits;
  limits.max_cost = options_.graphql_max_cost;
  limits.deadline = absl::Now() + options_.graphql_timeout;
  limits.max_response_bytes = options_.graphql_max_response_bytes;
  graphql::Schema::Outcome outcome;
  graphql::Json result =
      schema_.Execute(query, variables, operation, req, get, &outcome, limits);
  switch (outcome) {
    case graphql::Schema::Outcome::kMutationNotAllowed:
      req.Reply(405, result, {{"Allow", "POST"}});
      break;
    case graphql::Schema::Outcome::kRequestError:
      req.Reply(400, result);
      break;
    case graphql::Schema::Outcome::kExecuted:
      req.Reply(200, result);
      break;
  }
  return absl::OkStatus();
}

graphql::Json Gateway::Impl::Entries(const google::protobuf::Map<std::string, std::string>& m) {
  std::map<std::string, std::string> sorted(m.begin(), m.end());
  graphql::Json out = graphql::Json::array();
  for (const auto& [k, v] : sorted) out.push_back(graphql::Json{{"key", k}, {"value", v}});
  return out;
}

graphql::Json Gateway::Impl::GqlArtifact(const cat::JobArtifact& a) {
  return graphql::Json{{"artifactID", a.artifact_id()},   {"name", a.name()},
                       {"version", a.version()},          {"createdAt", TimeJson(a.created_at())},
                       {"runtimeType", a.runtime_type()}, {"dependencies", Entries(a.dependencies())},
                       {"entrypoint", a.entrypoint()},    {"tags", Entries(a.tags())},
                       {"revision", static_cast<int>(a.revision())}};
}

namespace {

// PrimeHub's displayName: the name, else the id.
std::string DisplayName(const cat::Job& job) { return job.name().empty() ? job.id() : job.name(); }

// PrimeHub's phase: Pending, Running until the job ends, then Succeeded or
// Failed.
const char* Phase(const cat::Job& job) {
  if (job.has_finished_at()) return job.status() == types::JOB_STATUS_SUCCESS ? "Succeeded" : "Failed";
  return job.status() == types::JOB_STATUS_QUEUED ? "Pending" : "Running";
}

}  // namespace

graphql::Json Gateway::Impl::GqlJob(const cat::Job& job) {
  graphql::Json steps = graphql::Json::array();
  for (const auto& st : job.steps()) {
    steps.push_back(graphql::Json{{"name", st.name()},
                                  {"status", StepStatusName(st.status())},
                                  {"start", TimeJson(st.start())},
                                  {"end", TimeJson(st.end())},
                                  {"text", st.text()}});
  }
  graphql::Json conditions = graphql::Json::array();
  for (const auto& c : job.conditions()) {
    conditions.push_back(graphql::Json{{"type", c.type()}, {"message", c.message()}});
  }
  const bool finished = job.has_finished_at();
  // PrimeHub's view of the same job (its PhJob as the console reads it).
  const google::protobuf::Timestamp* start = nullptr;  // when the first step started
  for (const auto& st : job.steps()) {
    if (st.has_start() && (start == nullptr || FromProtoTime(st.start()) < FromProtoTime(*start))) {
      start = &st.start();
    }
  }
  graphql::Json reason, message;
  if (job.conditions_size() > 0) {
    reason = job.conditions().rbegin()->type();
    message = job.conditions().rbegin()->message();
  }
  return graphql::Json{{"id", job.id()},
                       {"name", job.name()},
                       {"group", job.group()},
                       {"status", JobStatusName(job.status())},
                       {"finished", finished},
                       {"compendiumId", job.compendium_id()},
                       {"createdAt", TimeJson(job.created_at())},
                       {"finishedAt", TimeJson(job.finished_at())},
                       {"labels", Entries(job.labels())},
                       {"steps", steps},
                       {"conditions", conditions},
                       {"displayName", DisplayName(job)},
                       {"cancel", false},
                       {"command", job.command()},
                       {"groupId", job.group()},
                       {"groupName", job.group()},
                       {"phase", Phase(job)},
                       {"reason", reason},
                       {"message", message},
                       {"createTime", TimeJson(job.created_at())},
                       {"startTime", start == nullptr ? graphql::Json() : TimeJson(*start)},
                       {"finishTime", TimeJson(job.finished_at())},
                       {"logEndpoint", absl::StrCat("/api/v1/job/", PercentEncode(job.id()), "/logs")}};
}

graphql::Json Gateway::Impl::GqlItems(const std::string& job_id,
                              const std::vector<cat::ArtifactFile>& files) {
  graphql::Json items = graphql::Json::array();
  for (const auto& f : files) {
    items.push_back(graphql::Json{{"name", f.path()},
                                  {"size", f.size()},  // an Int, exact beyond 2^31
                                  {"lastModified", TimeJson(f.last_modified())},
                                  {"downloadUrl", DownloadUrl(job_id, f.path())},
                                  {"privacyLevel", PrivacyName(f.privacy_level())},
                                  {"sha256", f.sha256()}});
  }
  return items;
}

namespace {

// A PhJobWhereInput: what the catalog filters, and what is checked here.
struct JobWhere {
  cat::ListJobsRequest list;
  std::optional<std::string> id;
  std::vector<std::string> groups;  // groupId_in; empty: any the caller sees
  std::string name_contains, search;  // lower case

  bool Keeps(const cat::Job& job) const {
    if (!list.group().empty() && job.group() != list.group()) return false;
    if (list.statuses_size() > 0 && !absl::c_linear_search(list.statuses(), job.status())) return false;
    if (list.compendium_ids_size() > 0 && !absl::c_linear_search(list.compendium_ids(), job.compendium_id())) {
      return false;
    }
    if (!groups.empty() && !absl::c_linear_search(groups, job.group())) return false;
    const std::string name = absl::AsciiStrToLower(DisplayName(job));
    if (!absl::StrContains(name, name_contains)) return false;
    return search.empty() || absl::StrContains(name, search) ||
           absl::StrContains(absl::AsciiStrToLower(job.id()), search);
  }
  // Whether it filters on what only the gateway can check.
  bool Local() const { return !groups.empty() || !name_contains.empty() || !search.empty(); }
};

absl::StatusOr<JobWhere> ParseJobWhere(const graphql::Json& where) {
  JobWhere w;
  if (!where.is_object()) return w;
  auto text = [&](const char* k) {
    return where.value(k, graphql::Json()).is_string() ? where[k].get<std::string>() : std::string();
  };
  if (!text("status").empty()) {
    ASSIGN_OR_RETURN(types::JobStatus st, ParseJobStatus(text("status")));
    w.list.add_statuses(st);
  }
  w.list.set_group(text("group"));
  if (!text("compendiumId").empty()) w.list.add_compendium_ids(text("compendiumId"));
  if (where.value("id", graphql::Json()).is_string()) w.id = text("id");
  if (where.value("groupId_in", graphql::Json()).is_array()) {
    for (const auto& g : where["groupId_in"]) {
      if (g.is_string()) w.groups.push_back(g.get<std::string>());
    }
    // One group: the catalog filters it.
    if (w.groups.size() == 1 && (w.list.group().empty() || w.list.group() == w.groups[0])) {
      w.list.set_group(w.groups[0]);
      w.groups.clear();
    }
  }
  w.name_contains = absl::AsciiStrToLower(text("displayName_contains"));
  w.search = absl::AsciiStrToLower(text("search"));
  return w;
}

}  // namespace

void Gateway::Impl::BuildSchema() {
  using graphql::FieldDef;
  using graphql::ListOf;
  using graphql::Named;
  using graphql::NonNull;
  using graphql::TypeDef;
  using GJson = graphql::Json;
  auto str = [] { return Named("String"); };
  auto nn = [](const char* t) { return NonNull(Named(t)); };
  auto list = [](const char* t) { return NonNull(ListOf(NonNull(Named(t)))); };
  auto object = [&](const char* name, const char* description, std::vector<FieldDef> fields) {
    TypeDef t;
    t.name = name;
    t.description = description;
    t.fields = std::move(fields);
    schema_.Add(std::move(t));
  };
  auto input = [&](const char* name, std::vector<graphql::InputValueDef> fields) {
    TypeDef t;
    t.kind = TypeDef::Kind::kInputObject;
    t.name = name;
    t.input_fields = std::move(fields);
    schema_.Add(std::move(t));
  };
  auto fail = [](const absl::Status& s) -> absl::StatusOr<GJson> { return s; };
  // What fields cost, for a query's budget (graphql::FieldCost): a call to
  // a backend; a short list (labels, steps, tags); a job's files, at most
  // the collector's default 1,000; a page's items, already counted by the
  // page's limit.
  const graphql::FieldCost one_call{1, "", 0};
  const graphql::FieldCost few{0, "", 20};
  const graphql::FieldCost files_per_job{0, "", 1000};
  const graphql::FieldCost counted_by_page{0, "", 1};
  // The jobs a PhJobWhereInput matches, newest first: the one its id
  // names, or `limit` after `offset` of the listing. `every`: walk them all
  // through the gateway's own filter (to count them), which otherwise is
  // used only when the where needs it.
  auto matching = [this](Request& req, const JobWhere& where, int64_t offset, int limit, bool every,
                         std::vector<cat::Job>* jobs, bool* more) -> absl::Status {
    *more = false;
    if (where.id.has_value()) {
      auto job = VisibleJob(req, *where.id);
      if (absl::IsNotFound(job.status())) return absl::OkStatus();
      RETURN_IF_ERROR(job.status());
      if (offset == 0 && where.Keeps(*job)) jobs->push_back(*std::move(job));
      return absl::OkStatus();
    }
    std::function<bool(const cat::Job&)> keep;
    if (every || where.Local()) keep = [&where](const cat::Job& j) { return where.Keeps(j); };
    return ListVisibleJobs(req.caller, where.list, offset, limit, jobs, more, keep);
  };

  object("Entry", "A key and its value (tags, dependencies, labels).",
         {{"key", nn("String")}, {"value", nn("String")}});
  object("Step", "One step of a job (o2r).",
         {{"name", nn("String")},
          {"status", nn("String"), "queued, running, success, failure, warning or skipped"},
          {"start", str()},
          {"end", str()},
          {"text", str()}});
  object("Condition", "A job condition, e.g. ArtifactGCError.",
         {{"type", nn("String")}, {"message", str()}});
  object("PhJobArtifactItem", "One collected file of a job.",
         {{"name", nn("String"), "Path relative to the job's artifacts folder."},
          {"size", nn("Int"),
           "Bytes. An Int as PrimeHub's, written exactly past 2^31 (JSON numbers are exact to 2^53)."},
          {"lastModified", str()},
          {"downloadUrl", nn("String")},
          {"privacyLevel", nn("String")},
          {"sha256", nn("String")}});
  object("PhJobArtifact", "A job's artifacts, as PrimeHub's phJob.artifact.",
         {{"prefix", nn("String"), "groups/<group>/jobArtifacts/<job>"},
          {"items", list("PhJobArtifactItem"), "", {}, nullptr, files_per_job}});
  object("InstanceType", "PrimeHub's instance type; Arca does not schedule, so a job has none.",
         {{"id", nn("ID")},
          {"name", nn("String")},
          {"displayName", str()},
          {"cpuLimit", Named("Float")},
          {"memoryLimit", Named("Float")},
          {"gpuLimit", Named("Int")}});
  object("PhJob", "One job.",
         {{"id", nn("ID")},
          {"displayName", str(), "PrimeHub's: the name, else the id."},
          {"cancel", Named("Boolean")},
          {"command", str()},
          {"groupId", str(), "The group (Arca's groups are their own ids)."},
          {"groupName", str()},
          {"image", str()},
          {"instanceType", Named("InstanceType")},
          {"userId", str(), "Arca keeps no users: null."},
          {"userName", str(), "Arca keeps no users: null."},
          {"phase", str(), "PrimeHub's: Pending, Running, Succeeded or Failed."},
          {"reason", str(), "The latest condition's type."},
          {"message", str(), "The latest condition's message."},
          {"schedule", str()},
          {"createTime", str()},
          {"startTime", str(), "When the first step started."},
          {"finishTime", str()},
          {"logEndpoint", str(), "Where the job's log is read (REST)."},
          {"activeDeadlineSeconds", Named("Int")},
          {"name", str()},
          {"group", nn("String")},
          {"status", nn("String"), "queued, running, success or failure"},
          {"finished", nn("Boolean")},
          {"compendiumId", str()},
          {"createdAt", str()},
          {"finishedAt", str()},
          {"labels", list("Entry"), "", {}, nullptr, few},
          {"steps", list("Step"), "", {}, nullptr, few},
          {"conditions", list("Condition"), "", {}, nullptr, few},
          {"artifact", nn("PhJobArtifact"), "The files the job collected (not its logs).", {},
           [this](const GJson& job, const GJson&, graphql::RequestContext& ctx) -> absl::StatusOr<GJson> {
             const std::string id = job["id"];
             auto files = VisibleFiles(ctx.As<Request>(), id);
             if (!files.ok()) return files.status();
             return GJson{{"prefix", absl::StrCat("groups/", job["group"].get<std::string>(),
                                                  "/jobArtifacts/", id)},
                          {"items", GqlItems(id, files->outputs)}};
           },
           one_call},
          {"logs", list("PhJobArtifactItem"), "The job's logs (what arca run recorded).", {},
           [this](const GJson& job, const GJson&, graphql::RequestContext& ctx) -> absl::StatusOr<GJson> {
             const std::string id = job["id"];
             auto files = VisibleFiles(ctx.As<Request>(), id);
             if (!files.ok()) return files.status();
             return GqlItems(id, files->logs);
           },
           graphql::FieldCost{1, "", 20}}});
  object("PhJobPage", "A page of jobs, newest first.",
         {{"items", list("PhJob"), "", {}, nullptr, counted_by_page},
          {"hasNextPage", nn("Boolean")}});
  object("PageInfo", "Where a page is (PrimeHub's numbered pages).",
         {{"currentPage", Named("Int")},
          {"totalPage", Named("Int")},
          {"hasNextPage", nn("Boolean")},
          {"hasPreviousPage", nn("Boolean")},
          {"startCursor", str()},
          {"endCursor", str()}});
  object("PhJobEdge", "A job and its cursor (its id).",
         {{"node", nn("PhJob")}, {"cursor", nn("String")}});
  object("PhJobConnection", "A page of jobs as PrimeHub's console reads them.",
         {{"pageInfo", nn("PageInfo")},
          {"edges", NonNull(ListOf(Named("PhJobEdge"))), "", {}, nullptr, counted_by_page}});
  object("JobArtifact", "A package jobs run from (Mantis).",
         {{"artifactID", nn("ID")},
          {"name", nn("String")},
          {"version", nn("String")},
          {"createdAt", str()},
          {"runtimeType", str()},
          {"dependencies", list("Entry"), "", {}, nullptr, few},
          {"entrypoint", str()},
          {"tags", list("Entry"), "", {}, nullptr, few},
          {"revision", nn("Int")}});
  object("SchedulingAttribute", "One merged attribute and where it came from.",
         {{"key", nn("String")},
          {"value", nn("String")},
          {"source", nn("String"), "artifact_tag or job_label"},
          {"sourceKey", nn("String")},
          {"overrode", nn("Boolean")},
          {"overriddenValue", str()}});
  object("SchedulingConstraints", "What a job needs from the scheduler.",
         {{"machineDefinition", str()},
          {"sizeAttribute", str()},
          {"artifactId", str()},
          {"attributes", list("SchedulingAttribute")},
          {"warnings", list("String")}});
  object("DeleteJobResult", "The job as deletion left it.",
         {{"id", nn("ID")}, {"purged", nn("Boolean")}, {"pendingFinalizers", list("String")}});
  input("PhJobWhereUniqueInput", {{"id", nn("ID")}});
  input("PhJobWhereInput", {{"status", str()},
                            {"group", str()},
                            {"compendiumId", str()},
                            {"id", Named("ID")},
                            {"groupId_in", ListOf(Named("String"))},
                            {"displayName_contains", str()},
                            {"search", str(), "A substring of the name or id, any case."},
                            {"mine", Named("Boolean"), "Accepted; Arca keeps no submitters."}});
  input("PhJobOrderByInput", {{"displayName", str()},
                              {"schedule", str()},
                              {"createTime", str()},
                              {"userName", str()},
                              {"groupName", str()},
                              {"phase", str()}});
  input("EntryInput", {{"key", nn("String")}, {"value", nn("String")}});
  input("JobArtifactInput", {{"artifactID", Named("ID")},
                             {"name", nn("String")},
                             {"version", nn("String")},
                             {"createdAt", str()},
                             {"runtimeType", str()},
                             {"entrypoint", str()},
                             {"dependencies", ListOf(NonNull(Named("EntryInput")))},
                             {"tags", ListOf(NonNull(Named("EntryInput")))}});

  object("Query", "Arca's jobs, their artifacts, packages and scheduling.",
         {{"phJob", nn("PhJob"),
           "One job; an error naming it (as PrimeHub's, which its SDK recognises) if there is none the caller may see.",
           {{"where", NonNull(Named("PhJobWhereUniqueInput"))}},
           [this, fail](const GJson&, const GJson& args, graphql::RequestContext& ctx) -> absl::StatusOr<GJson> {
             const std::string id = args["where"]["id"];
             auto job = VisibleJob(ctx.As<Request>(), id);
             if (absl::IsNotFound(job.status())) {
               return fail(absl::NotFoundError(
                   absl::StrCat("no job with id ", id, " (phjobs.primehub.io \"", id, "\" not found)")));
             }
             if (!job.ok()) return fail(job.status());
             return GqlJob(*job);
           },
           one_call},
          {"phJobsConnection", nn("PhJobConnection"),
           "PrimeHub's numbered pages of 10 jobs, newest first unless orderBy says otherwise, with the page count.",
           {{"where", Named("PhJobWhereInput")},
            {"page", Named("Int"), "1-indexed", GJson(1)},
            {"orderBy", Named("PhJobOrderByInput"), "one field: \"asc\" or \"desc\""}},
           [this, fail, matching](const GJson&, const GJson& args, graphql::RequestContext& ctx) -> absl::StatusOr<GJson> {
             constexpr int kPerPage = 10;  // PrimeHub's ITEMS_PER_PAGE
             constexpr int kMaxJobs = 100000;
             const int page = args["page"].is_number_integer() ? args["page"].get<int>() : 1;
             if (page < 1) return fail(absl::InvalidArgumentError("page must be at least 1"));
             auto where = ParseJobWhere(args.value("where", GJson()));
             if (!where.ok()) return fail(where.status());
             // Counting pages and ordering need every match.
             std::vector<cat::Job> jobs;
             bool more = false;
             absl::Status s = matching(ctx.As<Request>(), *where, 0, kMaxJobs, /*every=*/true, &jobs, &more);
             if (!s.ok()) return fail(s);
             if (more) {
               return fail(absl::ResourceExhaustedError(absl::StrCat(
                   "phJobsConnection counts at most ", kMaxJobs,
                   " jobs; narrow it with where (groupId_in, search) or page with phJobs")));
             }
             // Jobs come newest first; another order is stable on that.
             const GJson order = args.value("orderBy", GJson());
             if (order.is_object() && !order.empty()) {
               const std::string field = order.begin().key();
               const GJson dir = order.begin().value();
               if (order.size() > 1 || !dir.is_string() || (dir != "asc" && dir != "desc")) {
                 return fail(absl::InvalidArgumentError(
                     "orderBy takes one field with \"asc\" or \"desc\", e.g. {createTime: \"asc\"}"));
               }
               const bool asc = dir == "asc";
               if (field == "createTime") {
                 if (asc) std::reverse(jobs.begin(), jobs.end());
               } else if (field == "displayName" || field == "groupName" || field == "phase") {
                 auto key = [&](const cat::Job& j) {
                   return field == "displayName" ? DisplayName(j) : field == "groupName" ? j.group() : Phase(j);
                 };
                 std::vector<std::pair<std::string, size_t>> keyed;
                 for (size_t i = 0; i < jobs.size(); ++i) keyed.emplace_back(key(jobs[i]), i);
                 std::stable_sort(keyed.begin(), keyed.end(), [asc](const auto& a, const auto& b) {
                   return asc ? a.first < b.first : b.first < a.first;
                 });
                 std::vector<cat::Job> sorted;
                 for (const auto& [k, i] : keyed) sorted.push_back(std::move(jobs[i]));
                 jobs = std::move(sorted);
               }  // schedule and userName: Arca has neither; the order stays
             }
             const int total_pages = std::max<int>(1, (jobs.size() + kPerPage - 1) / kPerPage);
             GJson edges = GJson::array();
             const size_t first = static_cast<size_t>(page - 1) * kPerPage;
             for (size_t i = first; i < jobs.size() && i < first + kPerPage; ++i) {
               edges.push_back(GJson{{"cursor", jobs[i].id()}, {"node", GqlJob(jobs[i])}});
             }
             GJson info{{"currentPage", page},
                        {"totalPage", total_pages},
                        {"hasNextPage", page < total_pages},
                        {"hasPreviousPage", page > 1},
                        {"startCursor", edges.empty() ? GJson() : edges.front()["cursor"]},
                        {"endCursor", edges.empty() ? GJson() : edges.back()["cursor"]}};
             return GJson{{"pageInfo", info}, {"edges", edges}};
           },
           graphql::FieldCost{1, "", 10}},
          {"phJobs", nn("PhJobPage"), "Jobs newest first, filtered, a page at a time.",
           {{"where", Named("PhJobWhereInput")},
            {"limit", Named("Int"), "", GJson(20)},
            {"page", Named("Int"), "1-indexed", GJson(1)}},
           [fail, matching](const GJson&, const GJson& args, graphql::RequestContext& ctx) -> absl::StatusOr<GJson> {
             const int limit = args["limit"], page = args["page"];
             if (limit < 1 || limit > 1000) return fail(absl::InvalidArgumentError("limit must be 1 to 1000"));
             if (page < 1) return fail(absl::InvalidArgumentError("page must be at least 1"));
             auto where = ParseJobWhere(args.value("where", GJson()));
             if (!where.ok()) return fail(where.status());
             std::vector<cat::Job> jobs;
             bool more = false;
             absl::Status s = matching(ctx.As<Request>(), *where, static_cast<int64_t>(page - 1) * limit, limit,
                                       /*every=*/false, &jobs, &more);
             if (!s.ok()) return fail(s);
             GJson items = GJson::array();
             for (const auto& j : jobs) items.push_back(GqlJob(j));
             return GJson{{"items", items}, {"hasNextPage", more}};
           },
           graphql::FieldCost{1, "limit", 0}},
          {"jobArtifacts", list("JobArtifact"), "A name's versions, newest first (or one version).",
           {{"name", nn("String")}, {"version", str()}},
           [this, fail](const GJson&, const GJson& args, graphql::RequestContext&) -> absl::StatusOr<GJson> {
             cat::ListJobArtifactsRequest list;
             list.set_name(args["name"]);
             if (args.value("version", GJson()).is_string()) list.set_version(args["version"]);
             auto artifacts = AllArtifacts(list);
             if (!artifacts.ok()) return fail(artifacts.status());
             GJson out = GJson::array();
             for (const auto& a : *artifacts) out.push_back(GqlArtifact(a));
             return out;
           },
           one_call},
          {"jobArtifactNames", list("String"), "Package names by prefix and/or substring.",
           {{"prefix", str()}, {"contains", str()}},
           [this, fail](const GJson&, const GJson& args, graphql::RequestContext&) -> absl::StatusOr<GJson> {
             cat::ListJobArtifactNamesRequest list;
             if (args.value("prefix", GJson()).is_string()) list.set_prefix(args["prefix"]);
             if (args.value("contains", GJson()).is_string()) list.set_contains(args["contains"]);
             auto names = AllArtifactNames(list);
             if (!names.ok()) return fail(names.status());
             return GJson(*names);
           },
           one_call},
          {"schedulingConstraints", Named("SchedulingConstraints"),
           "Mantis' merge of artifact tags and _mantis.schedulingAttribute.* labels, with sources.",
           {{"jobJarUrl", str()}, {"artifactId", str()}, {"name", str()}, {"version", str()},
            {"labels", ListOf(NonNull(Named("EntryInput")))},
            {"machineDefinition", str()}, {"sizeAttribute", str()}},
           [this, fail](const GJson&, const GJson& args, graphql::RequestContext& ctx) -> absl::StatusOr<GJson> {
             RETURN_IF_ERROR(Need(scheduler_, "scheduler-attribute"));
             scheduling::v1::JobDefinition def;
             auto text = [&](const char* k) {
               return args.value(k, GJson()).is_string() ? args[k].get<std::string>() : std::string();
             };
             if (!text("jobJarUrl").empty()) {
               def.mutable_artifact()->set_job_jar_url(text("jobJarUrl"));
             } else if (!text("artifactId").empty()) {
               def.mutable_artifact()->set_artifact_id(text("artifactId"));
             } else if (!text("name").empty()) {
               def.mutable_artifact()->mutable_name_version()->set_name(text("name"));
               def.mutable_artifact()->mutable_name_version()->set_version(text("version"));
             }
             if (args.value("labels", GJson()).is_array()) {
               for (const auto& l : args["labels"]) (*def.mutable_labels())[l["key"]] = l["value"];
             }
             def.set_machine_definition(text("machineDefinition"));
             def.set_size_attribute(text("sizeAttribute"));
             auto resolved = scheduler_->Resolve(def, Call(&ctx.As<Request>().caller));
             if (!resolved.ok()) return fail(resolved.status());
             const scheduling::v1::SchedulingConstraints& c = *resolved;
             GJson attributes = GJson::array();
             for (const auto& a : c.attributes()) {
               attributes.push_back(GJson{{"key", a.key()}, {"value", a.value()}, {"source", a.source()},
                                          {"sourceKey", a.source_key()}, {"overrode", a.overrode()},
                                          {"overriddenValue", a.overrode() ? GJson(a.overridden_value()) : GJson()}});
             }
             return GJson{{"machineDefinition", c.machine_definition()},
                          {"sizeAttribute", c.size_attribute()},
                          {"artifactId", c.artifact_id()},
                          {"attributes", attributes},
                          {"warnings", std::vector<std::string>(c.warnings().begin(), c.warnings().end())}};
           },
           one_call}});
  object("Mutation", "Changes.",
         {{"cleanupPhJobArtifact", nn("Int"),
           "Runs a retention sweep now (PrimeHub's); returns how many files it removed. Needs a token for every group.",
           {},
           [this, fail](const GJson&, const GJson&, graphql::RequestContext& ctx) -> absl::StatusOr<GJson> {
             RETURN_IF_ERROR(Need(retention_, "retention-gc"));
             RETURN_IF_ERROR(ctx.As<Request>().caller.Allows(auth::Role::kAdmin, "cleanupPhJobArtifact"));
             if (!ctx.As<Request>().caller.all_groups) {
               return fail(absl::PermissionDeniedError("running a sweep needs a token for every group (\"*\")"));
             }
             auto ran = retention_->RunCleanup(retention::v1::RunCleanupRequest(),
                                               Call(&ctx.As<Request>().caller, absl::Minutes(10)));
             if (!ran.ok()) return fail(ran.status());
             const retention::v1::RunCleanupResponse& resp = *ran;
             // Files above the caller's level are not counted.
             int removed = 0;
             for (const auto& r : resp.removed()) removed += ctx.As<Request>().caller.SeesPrivacy(r.privacy_level());
             return GJson(removed);
           },
           one_call},
          {"registerJobArtifact", nn("JobArtifact"),
           "Registers a package; an existing name+version with other content is an error unless overwrite.",
           {{"input", NonNull(Named("JobArtifactInput"))},
            {"overwrite", Named("Boolean"), "", GJson(false)},
            {"expectedRevision", Named("Int")}},
           [this, fail](const GJson&, const GJson& args, graphql::RequestContext& ctx) -> absl::StatusOr<GJson> {
             RETURN_IF_ERROR(ctx.As<Request>().caller.Allows(auth::Role::kWriter, "registerJobArtifact"));
             if (args["overwrite"].get<bool>()) {
               RETURN_IF_ERROR(ctx.As<Request>().caller.Allows(auth::Role::kAdmin, "registerJobArtifact with overwrite"));
             }
             const GJson& in = args["input"];
             cat::RegisterJobArtifactRequest reg;
             cat::JobArtifact* a = reg.mutable_artifact();
             auto text = [&](const char* k) {
               return in.value(k, GJson()).is_string() ? in[k].get<std::string>() : std::string();
             };
             a->set_artifact_id(text("artifactID"));
             a->set_name(text("name"));
             a->set_version(text("version"));
             a->set_runtime_type(text("runtimeType"));
             a->set_entrypoint(text("entrypoint"));
             if (!text("createdAt").empty()) {
               absl::Time t;
               std::string err;
               if (!absl::ParseTime(absl::RFC3339_full, text("createdAt"), &t, &err)) {
                 return fail(absl::InvalidArgumentError("createdAt must be an RFC 3339 time"));
               }
               *a->mutable_created_at() = ToProtoTime(t);
             }
             for (const char* k : {"dependencies", "tags"}) {
               if (!in.value(k, GJson()).is_array()) continue;
               auto* m = std::string(k) == "tags" ? a->mutable_tags() : a->mutable_dependencies();
               for (const auto& e : in[k]) (*m)[e["key"]] = e["value"];
             }
             reg.set_overwrite(args["overwrite"].get<bool>());
             if (args.value("expectedRevision", GJson()).is_number()) {
               reg.set_expected_revision(args["expectedRevision"].get<int64_t>());
             }
             auto resp = Register(ctx.As<Request>().caller, reg);
             if (!resp.ok()) return fail(resp.status());
             return GqlArtifact(resp->artifact());
           },
           one_call},
          {"deleteJob", nn("DeleteJobResult"),
           "Deletes a job; while GC holds it, purged is false and the finalizers are listed. force drops them.",
           {{"id", nn("ID")}, {"force", Named("Boolean"), "", GJson(false)}},
           [this, fail](const GJson&, const GJson& args, graphql::RequestContext& ctx) -> absl::StatusOr<GJson> {
             RETURN_IF_ERROR(ctx.As<Request>().caller.Allows(auth::Role::kAdmin, "deleteJob"));
             auto job = VisibleJob(ctx.As<Request>(), args["id"]);
             if (!job.ok()) return fail(job.status());
             cat::DeleteJobRequest del;
             del.set_id(job->id());
             del.set_force(args["force"].get<bool>());
             auto deleted = catalog_->DeleteJob(del, Call(&ctx.As<Request>().caller));
             if (!deleted.ok()) return fail(deleted.status());
             const cat::DeleteJobResponse& resp = *deleted;
             return GJson{{"id", job->id()},
                          {"purged", resp.purged()},
                          {"pendingFinalizers", std::vector<std::string>(resp.pending_finalizers().begin(),
                                                                         resp.pending_finalizers().end())}};
           },
           graphql::FieldCost{2, "", 0}}});
  schema_.SetMutationType("Mutation");
}

}  // namespace arca::gateway
