// Tables and JSON for people and scripts, and the words of enums.

#include "common/gc/policy.h"
#include "services/cli/runner.h"

namespace arca::cli {

std::string EnumWord(const google::protobuf::EnumValueDescriptor& value) {
  std::string prefix;
  for (char c : value.type()->name()) {
    if (absl::ascii_isupper(c) && !prefix.empty()) prefix += '_';
    prefix += absl::ascii_toupper(c);
  }
  absl::string_view word = value.name();
  absl::ConsumePrefix(&word, prefix + "_");
  if (value.type() == types::v1::GcStrategy_descriptor()) {
    return gc::StrategyName(static_cast<types::v1::GcStrategy>(value.number()));
  }
  if (value.type()->name() == "StepStatus" && word == "SKIP") return "skipped";
  if (value.type()->name() == "PrivacyLevel" && word == "UNSPECIFIED") return "moderately_sensitive";
  return absl::AsciiStrToLower(word);
}

namespace {

using google::protobuf::FieldDescriptor;

// Protobuf's JSON made plain: 64-bit numbers as numbers, enums as words.
void Plain(const google::protobuf::Descriptor& type, nlohmann::json& json) {
  if (!json.is_object()) return;
  for (int i = 0; i < type.field_count(); ++i) {
    const FieldDescriptor& f = *type.field(i);
    auto it = json.find(f.json_name());
    if (it == json.end()) continue;
    auto one = [&](nlohmann::json& v) {
      switch (f.cpp_type()) {
        case FieldDescriptor::CPPTYPE_INT64:
          if (v.is_string()) v = std::stoll(v.get<std::string>());
          break;
        case FieldDescriptor::CPPTYPE_UINT64:
          if (v.is_string()) v = std::stoull(v.get<std::string>());
          break;
        case FieldDescriptor::CPPTYPE_ENUM:
          if (v.is_string()) {
            if (const auto* e = f.enum_type()->FindValueByName(v.get<std::string>())) v = EnumWord(*e);
          }
          break;
        case FieldDescriptor::CPPTYPE_MESSAGE:
          if (!f.is_map()) Plain(*f.message_type(), v);
          break;
        default:
          break;
      }
    };
    if (f.is_repeated() && !f.is_map() && it->is_array()) {
      for (auto& v : *it) one(v);
    } else if (f.is_map() && it->is_object() && f.message_type()->map_value()->cpp_type() ==
                                                     FieldDescriptor::CPPTYPE_MESSAGE) {
      for (auto& [k, v] : it->items()) Plain(*f.message_type()->map_value()->message_type(), v);
    } else {
      one(*it);
    }
  }
}

void Yaml(const nlohmann::json& v, int indent, std::ostream& out) {
  const std::string pad(indent, ' ');
  if (v.is_object()) {
    if (v.empty()) return void(out << " {}\n");
    out << "\n";
    for (const auto& [k, item] : v.items()) {
      out << pad << k << ":";
      Yaml(item, indent + 2, out);
    }
  } else if (v.is_array()) {
    if (v.empty()) return void(out << " []\n");
    out << "\n";
    for (const auto& item : v) {
      out << pad << "-";
      Yaml(item, indent + 2, out);
    }
  } else {
    out << " " << v.dump() << "\n";  // JSON's scalars are YAML's
  }
}

}  // namespace

nlohmann::json ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string text;
  if (!google::protobuf::util::MessageToJsonString(message, &text, options).ok()) return nullptr;
  nlohmann::json json = nlohmann::json::parse(text);
  Plain(*message.GetDescriptor(), json);
  return json;
}

void Print(const nlohmann::json& json, const std::string& format, std::ostream& out) {
  if (format == "yaml") {
    if (json.is_object() || json.is_array()) {
      std::ostringstream body;
      Yaml(json, 0, body);
      out << body.str().substr(1);  // no blank first line
    } else {
      out << json.dump() << "\n";
    }
    return;
  }
  out << json.dump(2) << "\n";
}

std::string When(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0 && t.nanos() == 0) return "-";
  return FormatRfc3339(absl::FromUnixSeconds(t.seconds()));
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
