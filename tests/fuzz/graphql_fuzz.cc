// libFuzzer target: any bytes as a GraphQL request to a schema with objects,
// lists, non-null fields, enums, input objects and a failing resolver:
// parsing, validation and execution must not crash, hang or grow without
// bound, and every answer must serialize. Bytes after a NUL are the
// request's variables, as JSON.
#include <cstddef>
#include <cstdint>
#include <string>

#include "services/gateway/graphql/graphql.h"
#include "services/gateway/http_util.h"

namespace gq = arca::graphql;

static gq::Schema* MakeSchema() {
  auto* s = new gq::Schema();
  gq::TypeDef color;
  color.kind = gq::TypeDef::Kind::kEnum;
  color.name = "Color";
  color.values = {"RED", "GREEN"};
  s->Add(color);
  gq::TypeDef where;
  where.kind = gq::TypeDef::Kind::kInputObject;
  where.name = "Where";
  where.input_fields = {{"id", gq::NonNull(gq::Named("String"))}, {"n", gq::Named("Int"), "", gq::Json(1)}};
  s->Add(where);
  gq::TypeDef item;
  item.name = "Item";
  item.fields = {{"name", gq::NonNull(gq::Named("String"))},
                 {"color", gq::Named("Color")},
                 {"fails", gq::NonNull(gq::Named("Int")), "", {},
                  [](const gq::Json&, const gq::Json&, gq::RequestContext&) -> absl::StatusOr<gq::Json> {
                    return absl::InternalError("no");
                  }},
                 {"self", gq::Named("Item"), "", {},
                  [](const gq::Json& src, const gq::Json&, gq::RequestContext&) -> absl::StatusOr<gq::Json> { return src; }}};
  s->Add(item);
  gq::TypeDef query;
  query.name = "Query";
  query.fields = {{"item", gq::Named("Item"), "", {{"where", gq::NonNull(gq::Named("Where"))}},
                   [](const gq::Json&, const gq::Json& a, gq::RequestContext&) -> absl::StatusOr<gq::Json> {
                     return gq::Json{{"name", a["where"]["id"]}, {"color", "RED"}};
                   }},
                  {"items", gq::ListOf(gq::Named("Item")), "", {{"first", gq::Named("Int"), "", gq::Json(2)}},
                   [](const gq::Json&, const gq::Json& a, gq::RequestContext&) -> absl::StatusOr<gq::Json> {
                     gq::Json out = gq::Json::array();
                     int n = a["first"].is_number() ? a["first"].get<int>() : 0;
                     for (int i = 0; i < n && i < 50; ++i) out.push_back(gq::Json{{"name", "x"}});
                     return out;
                   }},
                  {"echo", gq::Named("String"), "", {{"s", gq::Named("String")}, {"f", gq::Named("Float")}, {"l", gq::ListOf(gq::Named("Color"))}}}};
  s->Add(query);
  return s;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static gq::Schema* schema = MakeSchema();
  std::string doc(reinterpret_cast<const char*>(data), size);
  gq::Json vars = {{"id", "v"}, {"n", 3}, {"c", "GREEN"}, {"b", true}};
  if (size_t nul = doc.find('\0'); nul != std::string::npos) {
    auto parsed = arca::gateway::ParseJson(absl::string_view(doc).substr(nul + 1), "variables");
    if (!parsed.ok()) return 0;
    vars = *std::move(parsed);
    doc.resize(nul);
  }
  struct : gq::RequestContext {} context;
  gq::Json result = schema->Execute(doc, vars, "", context);
  (void)result.dump();  // throws (and so fails) on anything that is not UTF-8
  return 0;
}
