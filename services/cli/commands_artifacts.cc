// arca artifact register|get|search|names|delete.

#include "services/cli/runner.h"

namespace arca::cli {

void Runner::PrintArtifacts(const google::protobuf::RepeatedPtrField<v1::JobArtifact>& artifacts) {
  Table t({"ARTIFACT ID", "NAME", "VERSION", "CREATED", "REVISION", "TAGS"});
  for (const v1::JobArtifact& a : artifacts) {
    std::vector<std::string> tags;
    for (const auto& [k, v] : a.tags()) tags.push_back(absl::StrCat(k, "=", v));
    std::sort(tags.begin(), tags.end());
    t.Add({a.artifact_id(), a.name(), a.version(), When(a.created_at()),
           absl::StrCat(a.revision()), absl::StrJoin(tags, ",")});
  }
  t.Print(out_);
}

absl::Status Runner::ArtifactRegister(const std::vector<std::string>& rest) {
  v1::RegisterJobArtifactRequest request;
  if (rest.size() == 1) {
    // A JobArtifact as JSON (Mantis' REST body), from a file or "-".
    std::stringstream buffer;
    if (rest[0] == "-") {
      buffer << std::cin.rdbuf();
    } else {
      std::ifstream in(rest[0]);
      if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", rest[0]));
      buffer << in.rdbuf();
    }
    auto parsed = google::protobuf::util::JsonStringToMessage(buffer.str(),
                                                              request.mutable_artifact());
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(rest[0], " is not a JobArtifact: ", parsed.message().as_string()));
    }
  } else if (!rest.empty()) {
    return absl::InvalidArgumentError("usage: arca artifact register [FILE.json|-] [flags]");
  }
  v1::JobArtifact* a = request.mutable_artifact();
  if (!options_.name.empty()) a->set_name(options_.name);
  if (!options_.version.empty()) a->set_version(options_.version);
  if (!options_.runtime_type.empty()) a->set_runtime_type(options_.runtime_type);
  if (!options_.entrypoint.empty()) a->set_entrypoint(options_.entrypoint);
  RETURN_IF_ERROR(ParsePairs("tags", options_.tags, a->mutable_tags()));
  RETURN_IF_ERROR(ParsePairs("dependencies", options_.dependencies, a->mutable_dependencies()));
  request.set_overwrite(options_.overwrite);
  request.set_expected_revision(options_.expected_revision);
  ASSIGN_OR_RETURN(v1::RegisterJobArtifactResponse response, Catalog().RegisterJobArtifact(request));
  if (options_.json) {
    Emit(response);
  } else {
    out_ << (response.created() ? "registered " : "unchanged or replaced ")
         << response.artifact().artifact_id() << " (" << response.artifact().name() << "@"
         << response.artifact().version() << ", revision " << response.artifact().revision()
         << ")\n";
  }
  return absl::OkStatus();
}

absl::Status Runner::ArtifactGet(const std::vector<std::string>& rest) {
  v1::GetJobArtifactRequest request;
  request.set_artifact_id(rest[0]);
  ASSIGN_OR_RETURN(v1::JobArtifact a, Catalog().GetJobArtifact(request));
  if (options_.json) {
    Emit(a);
    return absl::OkStatus();
  }
  google::protobuf::RepeatedPtrField<v1::JobArtifact> one;
  *one.Add() = a;
  PrintArtifacts(one);
  return absl::OkStatus();
}

absl::Status Runner::ArtifactSearch(const std::vector<std::string>& rest) {
  v1::ListJobArtifactsRequest request;
  request.set_name(rest[0]);
  request.set_version(options_.version);
  request.set_page_size(std::min(options_.limit, 1000));
  ASSIGN_OR_RETURN(v1::ListJobArtifactsResponse response, Catalog().ListJobArtifacts(request));
  if (options_.json) {
    Emit(ToJson(response.artifacts()));
  } else {
    PrintArtifacts(response.artifacts());
  }
  return absl::OkStatus();
}

absl::Status Runner::ArtifactNames() {
  v1::ListJobArtifactNamesRequest request;
  request.set_prefix(options_.prefix);
  request.set_contains(options_.contains);
  request.set_page_size(std::min(options_.limit, 1000));
  ASSIGN_OR_RETURN(v1::ListJobArtifactNamesResponse response, Catalog().ListJobArtifactNames(request));
  if (options_.json) {
    Emit(nlohmann::json(std::vector<std::string>(response.names().begin(), response.names().end())));
  } else {
    for (const std::string& n : response.names()) out_ << n << "\n";
  }
  return absl::OkStatus();
}

absl::Status Runner::ArtifactDelete(const std::vector<std::string>& rest) {
  v1::DeleteJobArtifactRequest request;
  request.set_artifact_id(rest[0]);
  request.set_expected_revision(options_.expected_revision);
  ASSIGN_OR_RETURN(v1::DeleteJobArtifactResponse response, Catalog().DeleteJobArtifact(request));
  out_ << "deleted " << rest[0] << "\n";
  return absl::OkStatus();
}

}  // namespace arca::cli
