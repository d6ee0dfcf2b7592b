// The GraphQL schema, its built-in directives and the literal helpers the
// validator and executor share.

#include <cmath>
#include <limits>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "services/gateway/graphql/graphql.h"
#include "services/gateway/graphql/internal.h"

namespace arca::graphql {

bool IsBuiltinScalar(absl::string_view name) {
  return name == "Int" || name == "Float" || name == "String" || name == "Boolean" || name == "ID";
}

std::string Print(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kVariable: return "$" + v.text;
    case Value::Kind::kInt:
    case Value::Kind::kFloat:
    case Value::Kind::kEnum: return v.text;
    case Value::Kind::kString: return Json(v.text).dump();
    case Value::Kind::kBoolean: return v.boolean ? "true" : "false";
    case Value::Kind::kNull: return "null";
    case Value::Kind::kList: {
      std::vector<std::string> items;
      for (const auto& i : v.list) items.push_back(Print(i));
      return absl::StrCat("[", absl::StrJoin(items, ", "), "]");
    }
    case Value::Kind::kObject: {
      std::vector<std::string> items;
      for (const auto& [k, f] : v.fields) items.push_back(absl::StrCat(k, ": ", Print(f)));
      return absl::StrCat("{", absl::StrJoin(items, ", "), "}");
    }
  }
  return "";
}

std::string PrintJsonLiteral(const Json& j) {
  if (j.is_string()) return j.dump();
  if (j.is_boolean() || j.is_number()) return j.dump();
  return "null";
}

const std::vector<DirectiveDef>& Directives() {
  static const auto* d = new std::vector<DirectiveDef>{
      {"include", "Directs the executor to include this field or fragment only when the `if` argument is true.",
       {"FIELD", "FRAGMENT_SPREAD", "INLINE_FRAGMENT"},
       {{"if", NonNull(Named("Boolean")), "Included when true.", std::nullopt}}},
      {"skip", "Directs the executor to skip this field or fragment when the `if` argument is true.",
       {"FIELD", "FRAGMENT_SPREAD", "INLINE_FRAGMENT"},
       {{"if", NonNull(Named("Boolean")), "Skipped when true.", std::nullopt}}},
      {"deprecated", "Marks an element of a GraphQL schema as no longer supported.",
       {"FIELD_DEFINITION", "ARGUMENT_DEFINITION", "INPUT_FIELD_DEFINITION", "ENUM_VALUE"},
       {{"reason", Named("String"), "Why, and what to use instead.", Json("No longer supported")}}},
  };
  return *d;
}

std::optional<double> FiniteDouble(const std::string& text) {
  double d = 0;
  if (!absl::SimpleAtod(text, &d) || !std::isfinite(d)) return std::nullopt;
  return d;
}

const DirectiveDef* FindDirective(absl::string_view name) {
  for (const auto& d : Directives()) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

// ------------------------------------------------------------ the schema

Schema::Schema() {
  for (const char* s : {"Int", "Float", "String", "Boolean", "ID"}) {
    TypeDef t;
    t.kind = Kind::kScalar;
    t.name = s;
    types_[s] = t;
  }
  types_["Int"].description = "A signed 32-bit integer.";
  types_["Float"].description = "A double-precision floating-point number.";
  types_["String"].description = "UTF-8 text.";
  types_["Boolean"].description = "true or false.";
  types_["ID"].description = "A unique identifier, serialized as a String.";

  auto enum_type = [&](const char* name, std::vector<std::string> values) {
    TypeDef t;
    t.kind = Kind::kEnum;
    t.name = name;
    t.values = std::move(values);
    types_[name] = t;
  };
  enum_type("__TypeKind", {"SCALAR", "OBJECT", "INTERFACE", "UNION", "ENUM", "INPUT_OBJECT", "LIST",
                           "NON_NULL"});
  enum_type("__DirectiveLocation",
            {"QUERY", "MUTATION", "SUBSCRIPTION", "FIELD", "FRAGMENT_DEFINITION", "FRAGMENT_SPREAD",
             "INLINE_FRAGMENT", "VARIABLE_DEFINITION", "SCHEMA", "SCALAR", "OBJECT",
             "FIELD_DEFINITION", "ARGUMENT_DEFINITION", "INTERFACE", "UNION", "ENUM", "ENUM_VALUE",
             "INPUT_OBJECT", "INPUT_FIELD_DEFINITION"});

  const InputValueDef include_deprecated{"includeDeprecated", Named("Boolean"), "", Json(false)};
  auto obj = [&](const char* name, std::vector<FieldDef> fields) {
    TypeDef t;
    t.name = name;
    t.fields = std::move(fields);
    types_[name] = t;
  };
  auto type_of = [this](const Json& source) -> const TypeDef* {
    if (!source.contains("name") || !source["name"].is_string()) return nullptr;
    return Find(source["name"].get<std::string>());
  };
  obj("__Schema",
      {{"description", Named("String")},
       {"types", NonNull(ListOf(NonNull(Named("__Type"))))},
       {"queryType", NonNull(Named("__Type"))},
       {"mutationType", Named("__Type")},
       {"subscriptionType", Named("__Type")},
       {"directives", NonNull(ListOf(NonNull(Named("__Directive"))))}});
  obj("__Type",
      {{"kind", NonNull(Named("__TypeKind"))},
       {"name", Named("String")},
       {"description", Named("String"), "", {},
        [type_of](const Json& s, const Json&, RequestContext&) -> absl::StatusOr<Json> {
          const TypeDef* t = type_of(s);
          return t == nullptr || t->description.empty() ? Json() : Json(t->description);
        }},
       {"specifiedByURL", Named("String")},
       {"fields", ListOf(NonNull(Named("__Field"))), "", {include_deprecated},
        [this, type_of](const Json& s, const Json&, RequestContext&) -> absl::StatusOr<Json> {
          const TypeDef* t = type_of(s);
          if (t == nullptr || t->kind != Kind::kObject) return Json();
          Json out = Json::array();
          for (const auto& f : t->fields) out.push_back(FieldJson(f));
          return out;
        }},
       {"interfaces", ListOf(NonNull(Named("__Type"))), "", {},
        [type_of](const Json& s, const Json&, RequestContext&) -> absl::StatusOr<Json> {
          const TypeDef* t = type_of(s);
          return t != nullptr && t->kind == Kind::kObject ? Json::array() : Json();
        }},
       {"possibleTypes", ListOf(NonNull(Named("__Type")))},
       {"enumValues", ListOf(NonNull(Named("__EnumValue"))), "", {include_deprecated},
        [type_of](const Json& s, const Json&, RequestContext&) -> absl::StatusOr<Json> {
          const TypeDef* t = type_of(s);
          if (t == nullptr || t->kind != Kind::kEnum) return Json();
          Json out = Json::array();
          for (const auto& v : t->values) {
            out.push_back(Json{{"name", v}, {"description", nullptr}, {"isDeprecated", false},
                               {"deprecationReason", nullptr}});
          }
          return out;
        }},
       {"inputFields", ListOf(NonNull(Named("__InputValue"))), "", {include_deprecated},
        [this, type_of](const Json& s, const Json&, RequestContext&) -> absl::StatusOr<Json> {
          const TypeDef* t = type_of(s);
          if (t == nullptr || t->kind != Kind::kInputObject) return Json();
          Json out = Json::array();
          for (const auto& f : t->input_fields) out.push_back(InputValueJson(f));
          return out;
        }},
       {"ofType", Named("__Type")}});
  obj("__Field", {{"name", NonNull(Named("String"))},
                  {"description", Named("String")},
                  {"args", NonNull(ListOf(NonNull(Named("__InputValue")))), "", {include_deprecated}},
                  {"type", NonNull(Named("__Type"))},
                  {"isDeprecated", NonNull(Named("Boolean"))},
                  {"deprecationReason", Named("String")}});
  obj("__InputValue", {{"name", NonNull(Named("String"))},
                       {"description", Named("String")},
                       {"type", NonNull(Named("__Type"))},
                       {"defaultValue", Named("String")},
                       {"isDeprecated", NonNull(Named("Boolean"))},
                       {"deprecationReason", Named("String")}});
  obj("__EnumValue", {{"name", NonNull(Named("String"))},
                      {"description", Named("String")},
                      {"isDeprecated", NonNull(Named("Boolean"))},
                      {"deprecationReason", Named("String")}});
  obj("__Directive", {{"name", NonNull(Named("String"))},
                      {"description", Named("String")},
                      {"isRepeatable", NonNull(Named("Boolean"))},
                      {"locations", NonNull(ListOf(NonNull(Named("__DirectiveLocation"))))},
                      {"args", NonNull(ListOf(NonNull(Named("__InputValue")))), "", {include_deprecated}}});
}

void Schema::Add(TypeDef type) {
  order_.push_back(type.name);
  std::string name = type.name;
  types_[name] = std::move(type);
}

const TypeDef* Schema::Find(absl::string_view name) const {
  auto it = types_.find(name);
  return it == types_.end() ? nullptr : &it->second;
}

Json Schema::TypeRefJson(const TypeRef& t) const {
  switch (t.kind) {
    case TypeRef::Kind::kNonNull:
      return Json{{"kind", "NON_NULL"}, {"name", nullptr}, {"ofType", TypeRefJson(*t.of)}};
    case TypeRef::Kind::kList:
      return Json{{"kind", "LIST"}, {"name", nullptr}, {"ofType", TypeRefJson(*t.of)}};
    case TypeRef::Kind::kNamed: break;
  }
  const TypeDef* def = Find(t.name);
  static const char* kKinds[] = {"SCALAR", "OBJECT", "ENUM", "INPUT_OBJECT"};
  return Json{{"kind", def == nullptr ? "SCALAR" : kKinds[static_cast<int>(def->kind)]},
              {"name", t.name},
              {"ofType", nullptr}};
}

Json Schema::InputValueJson(const InputValueDef& v) const {
  return Json{{"name", v.name},
              {"description", v.description.empty() ? Json() : Json(v.description)},
              {"type", TypeRefJson(v.type)},
              {"defaultValue", v.default_value ? Json(PrintJsonLiteral(*v.default_value)) : Json()},
              {"isDeprecated", false},
              {"deprecationReason", nullptr}};
}

Json Schema::FieldJson(const FieldDef& f) const {
  Json args = Json::array();
  for (const auto& a : f.args) args.push_back(InputValueJson(a));
  return Json{{"name", f.name},
              {"description", f.description.empty() ? Json() : Json(f.description)},
              {"args", args},
              {"type", TypeRefJson(f.type)},
              {"isDeprecated", false},
              {"deprecationReason", nullptr}};
}

Json Schema::SchemaJson() const {
  Json types = Json::array();
  for (const auto& [name, t] : types_) types.push_back(TypeRefJson(Named(name)));
  Json directives = Json::array();
  for (const auto& d : Directives()) {
    Json args = Json::array();
    for (const auto& a : d.args) args.push_back(InputValueJson(a));
    directives.push_back(Json{{"name", d.name},
                              {"description", d.description},
                              {"isRepeatable", false},
                              {"locations", d.locations},
                              {"args", args}});
  }
  return Json{{"description", nullptr},
              {"types", types},
              {"queryType", TypeRefJson(Named(query_))},
              {"mutationType", mutation_.empty() ? Json() : TypeRefJson(Named(mutation_))},
              {"subscriptionType", nullptr},
              {"directives", directives}};
}

const FieldDef* Schema::FindField(const TypeDef& type, absl::string_view name) const {
  for (const auto& f : type.fields) {
    if (f.name == name) return &f;
  }
  if (type.name == query_) {
    static const FieldDef* schema_field = new FieldDef{"__schema", NonNull(Named("__Schema"))};
    static const FieldDef* type_field = new FieldDef{
        "__type", Named("__Type"), "", {{"name", NonNull(Named("String")), "", std::nullopt}}};
    if (name == "__schema") return schema_field;
    if (name == "__type") return type_field;
  }
  return nullptr;
}

}  // namespace arca::graphql
