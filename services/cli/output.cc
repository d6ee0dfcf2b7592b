// Tables and JSON for people and scripts, and the words of enums.

#include "services/cli/runner.h"

namespace arca::cli {

void PrintJson(const google::protobuf::Message& message, std::ostream& out) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  std::string json;
  auto status = google::protobuf::util::MessageToJsonString(message, &json, options);
  out << (status.ok() ? json : "{\"error\": \"cannot print as JSON\"}\n");
}

std::string When(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0 && t.nanos() == 0) return "-";
  return FormatRfc3339(absl::FromUnixSeconds(t.seconds()));
}

std::string Lower(absl::string_view enum_name, absl::string_view prefix) {
  if (absl::StartsWith(enum_name, prefix)) enum_name.remove_prefix(prefix.size());
  return absl::AsciiStrToLower(enum_name);
}

std::string StatusName(types::v1::JobStatus s) {
  return Lower(types::v1::JobStatus_Name(s), "JOB_STATUS_");
}

absl::StatusOr<types::v1::JobStatus> ParseStatus(const std::string& text) {
  types::v1::JobStatus s;
  if (!types::v1::JobStatus_Parse(absl::StrCat("JOB_STATUS_", absl::AsciiStrToUpper(text)), &s) ||
      s == types::v1::JOB_STATUS_UNSPECIFIED) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--status must be queued, running, success or failure, got \"", text, "\""));
  }
  return s;
}

absl::Status ParsePairs(absl::string_view flag, const std::vector<std::string>& pairs,
                        google::protobuf::Map<std::string, std::string>* out) {
  for (const std::string& pair : pairs) {
    std::vector<std::string> kv = absl::StrSplit(pair, absl::MaxSplits('=', 1));
    if (kv.size() != 2 || kv[0].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", flag, " takes key=value, got \"", pair, "\""));
    }
    (*out)[kv[0]] = kv[1];
  }
  return absl::OkStatus();
}

}  // namespace arca::cli
