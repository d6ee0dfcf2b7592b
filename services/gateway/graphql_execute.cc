// GraphQL schema, validation (spec section 5), execution (section 6) and
// introspection (section 4).

#include <cmath>
#include <limits>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "services/gateway/graphql.h"

namespace arca::graphql {
namespace {

using Kind = TypeDef::Kind;

bool IsBuiltinScalar(absl::string_view name) {
  return name == "Int" || name == "Float" || name == "String" || name == "Boolean" || name == "ID";
}

// A literal's GraphQL text, for messages and introspection defaults.
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

struct DirectiveDef {
  std::string name, description;
  std::vector<std::string> locations;
  std::vector<InputValueDef> args;
};

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

// A number literal's value, if it is a finite double.
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

}  // namespace

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
        [type_of](const Json& s, const Json&, void*) -> absl::StatusOr<Json> {
          const TypeDef* t = type_of(s);
          return t == nullptr || t->description.empty() ? Json() : Json(t->description);
        }},
       {"specifiedByURL", Named("String")},
       {"fields", ListOf(NonNull(Named("__Field"))), "", {include_deprecated},
        [this, type_of](const Json& s, const Json&, void*) -> absl::StatusOr<Json> {
          const TypeDef* t = type_of(s);
          if (t == nullptr || t->kind != Kind::kObject) return Json();
          Json out = Json::array();
          for (const auto& f : t->fields) out.push_back(FieldJson(f));
          return out;
        }},
       {"interfaces", ListOf(NonNull(Named("__Type"))), "", {},
        [type_of](const Json& s, const Json&, void*) -> absl::StatusOr<Json> {
          const TypeDef* t = type_of(s);
          return t != nullptr && t->kind == Kind::kObject ? Json::array() : Json();
        }},
       {"possibleTypes", ListOf(NonNull(Named("__Type")))},
       {"enumValues", ListOf(NonNull(Named("__EnumValue"))), "", {include_deprecated},
        [type_of](const Json& s, const Json&, void*) -> absl::StatusOr<Json> {
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
        [this, type_of](const Json& s, const Json&, void*) -> absl::StatusOr<Json> {
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

// ------------------------------------------------------------ validation

class Validator {
 public:
  Validator(const Schema& schema, const Document& doc) : schema_(schema), doc_(doc) {}

  std::vector<Error> Run() {
    std::set<std::string> op_names;
    for (const auto& op : doc_.operations) {
      if (op.name.empty() && doc_.operations.size() > 1) {
        Add("This anonymous operation must be the only defined operation.", op.loc);
      }
      if (!op.name.empty() && !op_names.insert(op.name).second) {
        Add(absl::StrCat("There can be only one operation named \"", op.name, "\"."), op.loc);
      }
    }
    std::set<std::string> frag_names;
    for (const auto& f : doc_.fragments) {
      if (!frag_names.insert(f.name).second) {
        Add(absl::StrCat("There can be only one fragment named \"", f.name, "\"."), f.loc);
      }
      fragments_[f.name] = &f;
    }
    // Fragment definitions: their type conditions, then their selections.
    for (const auto& f : doc_.fragments) {
      const TypeDef* t = schema_.Find(f.type_condition);
      if (t == nullptr) {
        Add(absl::StrCat("Unknown type \"", f.type_condition, "\"."), f.loc);
      } else if (t->kind != Kind::kObject) {
        Add(absl::StrCat("Fragment \"", f.name, "\" cannot condition on non composite type \"",
                         f.type_condition, "\"."),
            f.loc);
      } else {
        CheckDirectives(f.directives, "FRAGMENT_DEFINITION");
        CheckSelections(*t, f.selections, nullptr);
      }
    }
    bool cycles = CheckFragmentCycles();
    std::set<std::string> used_fragments;
    for (const auto& op : doc_.operations) {
      const TypeDef* root = nullptr;
      if (op.type == "query") {
        root = schema_.Find(schema_.query_);
      } else if (op.type == "mutation" && !schema_.mutation_.empty()) {
        root = schema_.Find(schema_.mutation_);
      }
      if (root == nullptr) {
        Add(absl::StrCat("Schema is not configured to execute ", op.type, " operation."), op.loc);
        continue;
      }
      CheckDirectives(op.directives, op.type == "query" ? "QUERY" : "MUTATION");
      OperationScope scope;
      scope.op = &op;
      std::set<std::string> var_names;
      for (const auto& v : op.variables) {
        if (!var_names.insert(v.name).second) {
          Add(absl::StrCat("There can be only one variable named \"$", v.name, "\"."), v.loc);
        }
        const TypeDef* t = schema_.Find(v.type.NamedType());
        if (t == nullptr) {
          Add(absl::StrCat("Unknown type \"", v.type.NamedType(), "\"."), v.loc);
        } else if (t->kind == Kind::kObject) {
          Add(absl::StrCat("Variable \"$", v.name, "\" cannot be non-input type \"",
                           v.type.ToString(), "\"."),
              v.loc);
        } else if (v.default_value) {
          CheckValue(*v.default_value, v.type, absl::StrCat("Variable \"$", v.name, "\""));
        }
        scope.defined[v.name] = &v;
      }
      CheckSelections(*root, op.selections, &scope);
      // Variables used through fragments, and the fragments used.
      std::set<std::string> seen;
      CollectFragmentUsage(op.selections, &scope, &seen);
      used_fragments.insert(seen.begin(), seen.end());
      std::set<std::string> used_vars;
      for (const auto& u : scope.usages) {
        used_vars.insert(u.name);
        auto it = scope.defined.find(u.name);
        if (it == scope.defined.end()) {
          Add(op.name.empty()
                  ? absl::StrCat("Variable \"$", u.name, "\" is not defined.")
                  : absl::StrCat("Variable \"$", u.name, "\" is not defined by operation \"",
                                 op.name, "\"."),
              u.loc);
        } else if (!VariableFits(*it->second, u.expected)) {
          Add(absl::StrCat("Variable \"$", u.name, "\" of type \"", it->second->type.ToString(),
                           "\" used in position expecting type \"", u.expected.ToString(), "\"."),
              u.loc);
        }
      }
      for (const auto& v : op.variables) {
        if (!used_vars.count(v.name)) {
          Add(op.name.empty()
                  ? absl::StrCat("Variable \"$", v.name, "\" is never used.")
                  : absl::StrCat("Variable \"$", v.name, "\" is never used in operation \"",
                                 op.name, "\"."),
              v.loc);
        }
      }
      if (!cycles) {
        int fields = 0;
        int depth = Depth(op.selections, 0, &fields);
        if (depth > kMaxSelectionDepth) {
          Add(absl::StrCat("Query is nested ", depth, " levels deep; the limit is ",
                           kMaxSelectionDepth, "."),
              op.loc);
        }
        if (fields > kMaxFields) {
          Add(absl::StrCat("Query selects more than ", kMaxFields, " fields."), op.loc);
        }
      }
    }
    for (const auto& f : doc_.fragments) {
      if (!used_fragments.count(f.name)) {
        Add(absl::StrCat("Fragment \"", f.name, "\" is never used."), f.loc);
      }
    }
    return std::move(errors_);
  }

 private:
  struct Usage {
    std::string name;
    TypeRef expected;
    Location loc;
  };
  struct OperationScope {
    const Operation* op = nullptr;
    std::map<std::string, const VariableDefinition*> defined;
    std::vector<Usage> usages;
  };

  void Add(std::string message, Location loc) { errors_.push_back(Error{std::move(message), {loc}, nullptr}); }

  void CheckDirectives(const std::vector<Directive>& directives, absl::string_view location,
                       OperationScope* scope = nullptr) {
    std::set<std::string> seen;
    for (const auto& d : directives) {
      const DirectiveDef* def = FindDirective(d.name);
      if (def == nullptr) {
        Add(absl::StrCat("Unknown directive \"@", d.name, "\"."), d.loc);
        continue;
      }
      if (std::find(def->locations.begin(), def->locations.end(), location) == def->locations.end()) {
        Add(absl::StrCat("Directive \"@", d.name, "\" may not be used on ", location, "."), d.loc);
      }
      if (!seen.insert(d.name).second) {
        Add(absl::StrCat("The directive \"@", d.name, "\" can only be used once at this location."),
            d.loc);
      }
      CheckArguments(d.arguments, def->args, absl::StrCat("Directive \"@", d.name, "\""), d.loc,
                     scope);
    }
  }

  // `scope` is null inside fragment definitions: their variables are
  // checked per operation by CollectFragmentUsage.
  void CheckArguments(const std::vector<Argument>& given, const std::vector<InputValueDef>& defs,
                      const std::string& owner, Location loc, OperationScope* scope) {
    std::set<std::string> seen;
    for (const auto& a : given) {
      if (!seen.insert(a.name).second) {
        Add(absl::StrCat("There can be only one argument named \"", a.name, "\"."), a.loc);
        continue;
      }
      auto def = std::find_if(defs.begin(), defs.end(), [&](const auto& d) { return d.name == a.name; });
      if (def == defs.end()) {
        Add(absl::StrCat("Unknown argument \"", a.name, "\" on ", owner, "."), a.loc);
        continue;
      }
      CheckValue(a.value, def->type, absl::StrCat("Argument \"", a.name, "\""), scope);
    }
    for (const auto& d : defs) {
      if (d.type.kind == TypeRef::Kind::kNonNull && !d.default_value && !seen.count(d.name)) {
        Add(absl::StrCat(owner, " argument \"", d.name, "\" of type \"", d.type.ToString(),
                         "\" is required, but it was not provided."),
            loc);
      }
    }
  }

  // Literal `v` against `type`; variables, at any depth, are recorded as
  // usages (LiteralProblem does both).
  void CheckValue(const Value& v, const TypeRef& type, const std::string& what,
                  OperationScope* scope = nullptr) {
    std::string problem = LiteralProblem(v, type, scope);
    if (!problem.empty()) {
      Add(absl::StrCat(what, " has invalid value ", Print(v), ": ", problem), v.loc);
    }
  }

  std::string LiteralProblem(const Value& v, const TypeRef& type, OperationScope* scope) {
    if (v.kind == Value::Kind::kVariable) {
      if (scope != nullptr) scope->usages.push_back(Usage{v.text, type, v.loc});
      return "";
    }
    if (type.kind == TypeRef::Kind::kNonNull) {
      if (v.kind == Value::Kind::kNull) return absl::StrCat("expected non-null type \"", type.ToString(), "\".");
      return LiteralProblem(v, *type.of, scope);
    }
    if (v.kind == Value::Kind::kNull) return "";
    if (type.kind == TypeRef::Kind::kList) {
      if (v.kind != Value::Kind::kList) return LiteralProblem(v, *type.of, scope);
      for (const auto& item : v.list) {
        std::string p = LiteralProblem(item, *type.of, scope);
        if (!p.empty()) return p;
      }
      return "";
    }
    const TypeDef* t = schema_.Find(type.name);
    if (t == nullptr) return absl::StrCat("unknown type \"", type.name, "\".");
    const std::string expected = absl::StrCat("expected type \"", type.name, "\".");
    switch (t->kind) {
      case Kind::kScalar:
        if (type.name == "Int") {
          int64_t n = 0;
          if (v.kind != Value::Kind::kInt || !absl::SimpleAtoi(v.text, &n) ||
              n < std::numeric_limits<int32_t>::min() || n > std::numeric_limits<int32_t>::max()) {
            return "expected a 32-bit Int.";
          }
        } else if (type.name == "Float") {
          if (v.kind != Value::Kind::kInt && v.kind != Value::Kind::kFloat) return expected;
          if (!FiniteDouble(v.text)) return "expected a finite Float.";
        } else if (type.name == "String") {
          if (v.kind != Value::Kind::kString) return expected;
        } else if (type.name == "Boolean") {
          if (v.kind != Value::Kind::kBoolean) return expected;
        } else if (type.name == "ID") {
          if (v.kind != Value::Kind::kString && v.kind != Value::Kind::kInt) return expected;
        }
        return "";
      case Kind::kEnum:
        if (v.kind != Value::Kind::kEnum ||
            std::find(t->values.begin(), t->values.end(), v.text) == t->values.end()) {
          return absl::StrCat("expected one of ", absl::StrJoin(t->values, ", "), ".");
        }
        return "";
      case Kind::kInputObject: {
        if (v.kind != Value::Kind::kObject) return expected;
        std::set<std::string> seen;
        for (const auto& entry : v.fields) {
          const std::string& name = entry.first;
          const Value& field = entry.second;
          auto def = std::find_if(t->input_fields.begin(), t->input_fields.end(),
                                  [&](const auto& d) { return d.name == name; });
          if (def == t->input_fields.end()) {
            return absl::StrCat("field \"", name, "\" is not defined by type \"", t->name, "\".");
          }
          if (!seen.insert(name).second) return absl::StrCat("field \"", name, "\" is given twice.");
          std::string p = LiteralProblem(field, def->type, scope);
          if (!p.empty()) return p;
        }
        for (const auto& d : t->input_fields) {
          if (d.type.kind == TypeRef::Kind::kNonNull && !d.default_value && !seen.count(d.name)) {
            return absl::StrCat("field \"", t->name, ".", d.name, "\" of required type \"",
                                d.type.ToString(), "\" was not provided.");
          }
        }
        return "";
      }
      case Kind::kObject: return absl::StrCat("\"", type.name, "\" is not an input type.");
    }
    return "";
  }

  static bool TypeFits(const TypeRef& var, const TypeRef& expected) {
    if (expected.kind == TypeRef::Kind::kNonNull) {
      return var.kind == TypeRef::Kind::kNonNull && TypeFits(*var.of, *expected.of);
    }
    if (var.kind == TypeRef::Kind::kNonNull) return TypeFits(*var.of, expected);
    if (expected.kind == TypeRef::Kind::kList) {
      return var.kind == TypeRef::Kind::kList && TypeFits(*var.of, *expected.of);
    }
    return var.kind == TypeRef::Kind::kNamed && var.name == expected.name;
  }
  static bool VariableFits(const VariableDefinition& v, const TypeRef& expected) {
    // A nullable variable with a default may fill a non-null position.
    if (expected.kind == TypeRef::Kind::kNonNull && v.type.kind != TypeRef::Kind::kNonNull &&
        v.default_value && v.default_value->kind != Value::Kind::kNull) {
      return TypeFits(v.type, *expected.of);
    }
    return TypeFits(v.type, expected);
  }

  void CheckSelections(const TypeDef& parent, const std::vector<Selection>& selections,
                       OperationScope* scope) {
    std::map<std::string, const Selection*> by_key;
    for (const auto& s : selections) {
      switch (s.kind) {
        case Selection::Kind::kField: {
          CheckDirectives(s.directives, "FIELD", scope);
          auto [it, fresh] = by_key.emplace(s.ResponseKey(), &s);
          if (!fresh && (it->second->name != s.name || Args(*it->second) != Args(s))) {
            Add(absl::StrCat("Fields \"", s.ResponseKey(), "\" conflict because they differ in "
                             "name or arguments. Use different aliases on the fields to fetch both."),
                s.loc);
          }
          if (s.name == "__typename") {
            if (!s.arguments.empty()) Add("Field \"__typename\" takes no arguments.", s.loc);
            if (!s.selections.empty()) {
              Add("Field \"__typename\" must not have a selection since type \"String!\" has no "
                  "subfields.",
                  s.loc);
            }
            break;
          }
          const FieldDef* f = schema_.FindField(parent, s.name);
          if (f == nullptr) {
            Add(absl::StrCat("Cannot query field \"", s.name, "\" on type \"", parent.name, "\"."), s.loc);
            break;
          }
          CheckArguments(s.arguments, f->args, absl::StrCat("field \"", parent.name, ".", s.name, "\""),
                         s.loc, scope);
          const TypeDef* t = schema_.Find(f->type.NamedType());
          if (t == nullptr) break;
          if (t->kind == Kind::kObject) {
            if (s.selections.empty()) {
              Add(absl::StrCat("Field \"", s.name, "\" of type \"", f->type.ToString(),
                               "\" must have a selection of subfields. Did you mean \"", s.name,
                               " { ... }\"?"),
                  s.loc);
            } else {
              CheckSelections(*t, s.selections, scope);
            }
          } else if (!s.selections.empty()) {
            Add(absl::StrCat("Field \"", s.name, "\" must not have a selection since type \"",
                             f->type.ToString(), "\" has no subfields."),
                s.loc);
          }
          break;
        }
        case Selection::Kind::kFragmentSpread: {
          CheckDirectives(s.directives, "FRAGMENT_SPREAD", scope);
          auto it = fragments_.find(s.name);
          if (it == fragments_.end()) {
            Add(absl::StrCat("Unknown fragment \"", s.name, "\"."), s.loc);
          } else if (schema_.Find(it->second->type_condition) != nullptr &&
                     it->second->type_condition != parent.name) {
            Add(absl::StrCat("Fragment \"", s.name, "\" cannot be spread here as objects of type \"",
                             parent.name, "\" can never be of type \"", it->second->type_condition,
                             "\"."),
                s.loc);
          }
          break;
        }
        case Selection::Kind::kInlineFragment: {
          CheckDirectives(s.directives, "INLINE_FRAGMENT", scope);
          const TypeDef* t = &parent;
          if (!s.type_condition.empty()) {
            t = schema_.Find(s.type_condition);
            if (t == nullptr) {
              Add(absl::StrCat("Unknown type \"", s.type_condition, "\"."), s.loc);
              break;
            }
            if (t->kind != Kind::kObject) {
              Add(absl::StrCat("Fragment cannot condition on non composite type \"",
                               s.type_condition, "\"."),
                  s.loc);
              break;
            }
            if (t->name != parent.name) {
              Add(absl::StrCat("Fragment cannot be spread here as objects of type \"", parent.name,
                               "\" can never be of type \"", t->name, "\"."),
                  s.loc);
              break;
            }
          }
          CheckSelections(*t, s.selections, scope);
          break;
        }
      }
    }
  }

  static std::string Args(const Selection& s) {
    std::vector<std::string> parts;
    for (const auto& a : s.arguments) parts.push_back(absl::StrCat(a.name, ":", Print(a.value)));
    std::sort(parts.begin(), parts.end());
    return absl::StrJoin(parts, ",");
  }

  // Reports each fragment that spreads itself, directly or not. Returns
  // whether there was any cycle.
  bool CheckFragmentCycles() {
    bool any = false;
    std::map<std::string, int> state;  // 0 new, 1 on stack, 2 done
    std::function<void(const Fragment&)> visit = [&](const Fragment& f) {
      state[f.name] = 1;
      std::function<void(const std::vector<Selection>&)> walk = [&](const std::vector<Selection>& sels) {
        for (const auto& s : sels) {
          if (s.kind == Selection::Kind::kFragmentSpread) {
            auto it = fragments_.find(s.name);
            if (it == fragments_.end()) continue;
            if (state[s.name] == 1) {
              Add(absl::StrCat("Cannot spread fragment \"", s.name, "\" within itself."), s.loc);
              any = true;
            } else if (state[s.name] == 0) {
              visit(*it->second);
            }
          }
          walk(s.selections);
        }
      };
      walk(f.selections);
      state[f.name] = 2;
    };
    for (const auto& f : doc_.fragments) {
      if (state[f.name] == 0) visit(f);
    }
    return any;
  }

  // The fragments an operation uses and the variables they use.
  void CollectFragmentUsage(const std::vector<Selection>& selections, OperationScope* scope,
                            std::set<std::string>* seen) {
    for (const auto& s : selections) {
      if (s.kind == Selection::Kind::kFragmentSpread) {
        auto it = fragments_.find(s.name);
        if (it == fragments_.end() || !seen->insert(s.name).second) continue;
        const TypeDef* t = schema_.Find(it->second->type_condition);
        if (t != nullptr && t->kind == Kind::kObject) {
          // Again with this operation's scope, for its variables only.
          Validator inner(schema_, doc_);
          inner.fragments_ = fragments_;
          inner.CheckSelections(*t, it->second->selections, scope);
        }
        CollectFragmentUsage(it->second->selections, scope, seen);
      } else {
        CollectFragmentUsage(s.selections, scope, seen);
      }
    }
  }

  // Deepest field nesting (fragments expanded); counts fields on the way.
  int Depth(const std::vector<Selection>& selections, int depth, int* fields) {
    int deepest = depth;
    if (*fields > kMaxFields) return deepest;
    for (const auto& s : selections) {
      if (s.kind == Selection::Kind::kField) {
        ++*fields;
        deepest = std::max(deepest, s.selections.empty() ? depth + 1 : Depth(s.selections, depth + 1, fields));
      } else if (s.kind == Selection::Kind::kFragmentSpread) {
        auto it = fragments_.find(s.name);
        if (it != fragments_.end()) deepest = std::max(deepest, Depth(it->second->selections, depth, fields));
      } else {
        deepest = std::max(deepest, Depth(s.selections, depth, fields));
      }
      if (*fields > kMaxFields) break;
    }
    return deepest;
  }

  const Schema& schema_;
  const Document& doc_;
  std::map<std::string, const Fragment*> fragments_;
  std::vector<Error> errors_;
};

std::vector<Error> Schema::Validate(const Document& document) const {
  return Validator(*this, document).Run();
}

// -------------------------------------------------------------- execution

class Executor {
 public:
  Executor(const Schema& schema, const Document& doc, const Operation& op, Json variables,
           void* context, const ExecutionLimits& limits)
      : schema_(schema),
        op_(op),
        variables_(std::move(variables)),
        context_(context),
        limits_(limits) {
    for (const auto& f : doc.fragments) fragments_[f.name] = &f;
  }

  Json Run(const TypeDef& root, std::vector<Error>* errors) {
    Json data = ExecuteSelections(root, Json::object(), op_.selections, Json::array());
    *errors = std::move(errors_);
    return data;
  }

  // The operation's cost (see FieldCost), before anything is resolved.
  double Cost(const TypeDef& root) { return CostOf(root, op_.selections, 1); }

  // Coerces a variables object against the operation's definitions.
  static absl::StatusOr<Json> CoerceVariables(const Schema& schema, const Operation& op,
                                              const Json& given) {
    Json out = Json::object();
    for (const auto& v : op.variables) {
      const std::string where = absl::StrCat("Variable \"$", v.name, "\"");
      if (given.contains(v.name)) {
        auto value = CoerceInput(schema, given[v.name], v.type, where);
        if (!value.ok()) return value.status();
        out[v.name] = *value;
      } else if (v.default_value) {
        auto value = LiteralToJson(schema, *v.default_value, v.type, Json::object());
        if (!value.ok()) return value.status();
        out[v.name] = *value;
      } else if (v.type.kind == TypeRef::Kind::kNonNull) {
        return absl::InvalidArgumentError(absl::StrCat(where, " of required type \"",
                                                       v.type.ToString(), "\" was not provided."));
      }
    }
    return out;
  }

 private:
  // A JSON input (a variable's value) coerced to `type`.
  static absl::StatusOr<Json> CoerceInput(const Schema& schema, const Json& value,
                                          const TypeRef& type, const std::string& where) {
    auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat(where, " got invalid value ", value.dump(),
                                                     "; ", why));
    };
    if (type.kind == TypeRef::Kind::kNonNull) {
      if (value.is_null()) return bad(absl::StrCat("expected non-null type \"", type.ToString(), "\"."));
      return CoerceInput(schema, value, *type.of, where);
    }
    if (value.is_null()) return Json();
    if (type.kind == TypeRef::Kind::kList) {
      Json out = Json::array();
      if (!value.is_array()) {
        auto item = CoerceInput(schema, value, *type.of, where);
        if (!item.ok()) return item.status();
        out.push_back(*item);
        return out;
      }
      for (const auto& item : value) {
        auto c = CoerceInput(schema, item, *type.of, where);
        if (!c.ok()) return c.status();
        out.push_back(*c);
      }
      return out;
    }
    const TypeDef* t = schema.Find(type.name);
    if (t == nullptr) return bad("unknown type.");
    switch (t->kind) {
      case Kind::kScalar:
        if (type.name == "Int") {
          if (!value.is_number_integer() || value.get<int64_t>() < std::numeric_limits<int32_t>::min() ||
              value.get<int64_t>() > std::numeric_limits<int32_t>::max()) {
            return bad("expected a 32-bit Int.");
          }
        } else if (type.name == "Float") {
          if (!value.is_number()) return bad("expected a Float.");
        } else if (type.name == "String") {
          if (!value.is_string()) return bad("expected a String.");
        } else if (type.name == "Boolean") {
          if (!value.is_boolean()) return bad("expected a Boolean.");
        } else if (type.name == "ID") {
          if (value.is_number_integer()) return Json(value.dump());
          if (!value.is_string()) return bad("expected an ID.");
        }
        return value;
      case Kind::kEnum:
        if (!value.is_string() ||
            std::find(t->values.begin(), t->values.end(), value.get<std::string>()) == t->values.end()) {
          return bad(absl::StrCat("expected one of ", absl::StrJoin(t->values, ", "), "."));
        }
        return value;
      case Kind::kInputObject: {
        if (!value.is_object()) return bad(absl::StrCat("expected an object of type \"", t->name, "\"."));
        Json out = Json::object();
        for (const auto& item : value.items()) {
          const std::string& k = item.key();
          const Json& v = item.value();
          auto def = std::find_if(t->input_fields.begin(), t->input_fields.end(),
                                  [&](const auto& d) { return d.name == k; });
          if (def == t->input_fields.end()) {
            return bad(absl::StrCat("field \"", k, "\" is not defined by type \"", t->name, "\"."));
          }
          auto c = CoerceInput(schema, v, def->type, absl::StrCat(where, ".", k));
          if (!c.ok()) return c.status();
          out[k] = *c;
        }
        for (const auto& d : t->input_fields) {
          if (out.contains(d.name)) continue;
          if (d.default_value) {
            out[d.name] = *d.default_value;
          } else if (d.type.kind == TypeRef::Kind::kNonNull) {
            return bad(absl::StrCat("field \"", d.name, "\" of required type \"", d.type.ToString(),
                                    "\" was not provided."));
          }
        }
        return out;
      }
      case Kind::kObject: return bad("not an input type.");
    }
    return value;
  }

  // A (validated) literal as JSON, variables substituted.
  static absl::StatusOr<Json> LiteralToJson(const Schema& schema, const Value& v, const TypeRef& type,
                                            const Json& variables) {
    if (v.kind == Value::Kind::kVariable) {
      return variables.contains(v.text) ? variables[v.text] : Json();
    }
    if (type.kind == TypeRef::Kind::kNonNull) return LiteralToJson(schema, v, *type.of, variables);
    if (v.kind == Value::Kind::kNull) return Json();
    if (type.kind == TypeRef::Kind::kList) {
      Json out = Json::array();
      if (v.kind != Value::Kind::kList) {
        auto item = LiteralToJson(schema, v, *type.of, variables);
        if (!item.ok()) return item.status();
        out.push_back(*item);
        return out;
      }
      for (const auto& item : v.list) {
        auto c = LiteralToJson(schema, item, *type.of, variables);
        if (!c.ok()) return c.status();
        out.push_back(*c);
      }
      return out;
    }
    switch (v.kind) {
      case Value::Kind::kInt: {
        if (type.name == "Float") return Json(FiniteDouble(v.text).value_or(0));
        if (type.name == "ID") return Json(v.text);
        int64_t n = 0;
        (void)absl::SimpleAtoi(v.text, &n);
        return Json(n);
      }
      case Value::Kind::kFloat: return Json(FiniteDouble(v.text).value_or(0));
      case Value::Kind::kString:
      case Value::Kind::kEnum: return Json(v.text);
      case Value::Kind::kBoolean: return Json(v.boolean);
      case Value::Kind::kObject: {
        const TypeDef* t = schema.Find(type.name);
        Json out = Json::object();
        for (const auto& [k, f] : v.fields) {
          TypeRef ft = Named("String");
          if (t != nullptr) {
            for (const auto& d : t->input_fields) {
              if (d.name == k) ft = d.type;
            }
          }
          auto c = LiteralToJson(schema, f, ft, variables);
          if (!c.ok()) return c.status();
          out[k] = *c;
        }
        if (t != nullptr) {
          for (const auto& d : t->input_fields) {
            if (!out.contains(d.name) && d.default_value) out[d.name] = *d.default_value;
          }
        }
        return out;
      }
      default: return Json();
    }
  }

  bool Skipped(const std::vector<Directive>& directives) {
    for (const auto& d : directives) {
      if (d.name != "skip" && d.name != "include") continue;
      for (const auto& a : d.arguments) {
        if (a.name != "if") continue;
        auto v = LiteralToJson(schema_, a.value, Named("Boolean"), variables_);
        bool flag = v.ok() && v->is_boolean() && v->get<bool>();
        if (d.name == "skip" && flag) return true;
        if (d.name == "include" && !flag) return true;
      }
    }
    return false;
  }

  // CollectFields: response keys in order, each with its field selections.
  void Collect(const TypeDef& type, const std::vector<Selection>& selections,
               std::vector<std::pair<std::string, std::vector<const Selection*>>>* out,
               std::set<std::string>* visited) {
    for (const auto& s : selections) {
      if (Skipped(s.directives)) continue;
      if (s.kind == Selection::Kind::kField) {
        auto it = std::find_if(out->begin(), out->end(), [&](const auto& e) { return e.first == s.ResponseKey(); });
        if (it == out->end()) {
          out->push_back({s.ResponseKey(), {&s}});
        } else {
          it->second.push_back(&s);
        }
      } else if (s.kind == Selection::Kind::kFragmentSpread) {
        if (!visited->insert(s.name).second) continue;
        auto f = fragments_.find(s.name);
        if (f == fragments_.end() || f->second->type_condition != type.name) continue;
        Collect(type, f->second->selections, out, visited);
      } else {
        if (!s.type_condition.empty() && s.type_condition != type.name) continue;
        Collect(type, s.selections, out, visited);
      }
    }
  }

  // Each field once per object it is resolved on, calls weighted, inner
  // selections once per item their parent may hold. Introspection is
  // answered from memory and bounded by the schema: it costs its field.
  double CostOf(const TypeDef& type, const std::vector<Selection>& selections, double multiplier) {
    std::vector<std::pair<std::string, std::vector<const Selection*>>> fields;
    std::set<std::string> visited;
    Collect(type, selections, &fields, &visited);
    double cost = 0;
    for (const auto& [key, group] : fields) {
      const Selection& s = *group.front();
      const FieldDef* f = s.name == "__typename" ? nullptr : schema_.FindField(type, s.name);
      if (f == nullptr) {
        cost += multiplier;
        continue;
      }
      cost += multiplier * static_cast<double>(1 + f->cost.calls * kCallCost);
      const TypeDef* t = schema_.Find(f->type.NamedType());
      if (t == nullptr || t->kind != Kind::kObject || absl::StartsWith(t->name, "__")) continue;
      double items = f->cost.items > 0 ? f->cost.items : IsList(f->type) ? kDefaultListItems : 1;
      if (!f->cost.items_argument.empty()) {
        auto args = Arguments(*f, s);
        if (args.ok() && (*args)[f->cost.items_argument].is_number()) {
          items = std::max(0.0, (*args)[f->cost.items_argument].get<double>());
        }
      }
      std::vector<Selection> merged;
      for (const Selection* g : group) {
        merged.insert(merged.end(), g->selections.begin(), g->selections.end());
      }
      cost += CostOf(*t, merged, multiplier * items);
    }
    return cost;
  }

  static bool IsList(const TypeRef& type) {
    return type.kind == TypeRef::Kind::kList ||
           (type.kind == TypeRef::Kind::kNonNull && IsList(*type.of));
  }

  // A field's arguments as given (variables substituted), defaults filled
  // in. INVALID_ARGUMENT naming what is wrong.
  absl::StatusOr<Json> Arguments(const FieldDef& f, const Selection& s) {
    Json args = Json::object();
    for (const auto& def : f.args) {
      auto given = std::find_if(s.arguments.begin(), s.arguments.end(),
                                [&](const Argument& a) { return a.name == def.name; });
      if (given != s.arguments.end()) {
        if (given->value.kind == Value::Kind::kVariable && !variables_.contains(given->value.text)) {
          if (def.default_value) args[def.name] = *def.default_value;
          continue;
        }
        auto v = LiteralToJson(schema_, given->value, def.type, variables_);
        if (!v.ok()) return v.status();
        if (v->is_null() && def.type.kind == TypeRef::Kind::kNonNull) {
          return absl::InvalidArgumentError(absl::StrCat("Argument \"", def.name,
                                                         "\" of non-null type \"",
                                                         def.type.ToString(), "\" must not be null."));
        }
        args[def.name] = *v;
      } else if (def.default_value) {
        args[def.name] = *def.default_value;
      }
    }
    return args;
  }

  // Ends the execution early: nothing more is resolved, and the response
  // says why once.
  Json Stop(const Selection& s, const Json& path, std::string why, const TypeRef& type,
            bool* null_parent) {
    if (!stopped_) errors_.push_back(Error{std::move(why), {s.loc}, path});
    stopped_ = true;
    if (type.kind == TypeRef::Kind::kNonNull) *null_parent = true;
    return Json();
  }

  Json ExecuteSelections(const TypeDef& type, const Json& source,
                         const std::vector<Selection>& selections, const Json& path) {
    std::vector<std::pair<std::string, std::vector<const Selection*>>> fields;
    std::set<std::string> visited;
    Collect(type, selections, &fields, &visited);
    Json out = Json::object();
    for (const auto& [key, group] : fields) {
      bytes_ += key.size() + 4;
      Json field_path = path;
      field_path.push_back(key);
      bool null_parent = false;
      out[key] = ExecuteField(type, source, group, field_path, &null_parent);
      if (null_parent) return Json();  // a non-null field failed: this object is null
    }
    return out;
  }

  Json ExecuteField(const TypeDef& type, const Json& source, const std::vector<const Selection*>& group,
                    const Json& path, bool* null_parent) {
    const Selection& s = *group.front();
    if (s.name == "__typename") return type.name;
    const FieldDef* f = schema_.FindField(type, s.name);
    if (f == nullptr) return Json();  // validation rules this out
    if (stopped_) return Stop(s, path, "", f->type, null_parent);
    if (limits_.max_response_bytes > 0 && bytes_ > limits_.max_response_bytes) {
      return Stop(s, path,
                  absl::StrCat("The response would be larger than ", limits_.max_response_bytes,
                               " bytes; nothing more was resolved. Ask for fewer items or fields."),
                  f->type, null_parent);
    }
    if (f->resolve && absl::Now() > limits_.deadline) {
      return Stop(s, path,
                  "The query ran out of time; nothing more was resolved. Ask for fewer items "
                  "or fields.",
                  f->type, null_parent);
    }
    auto arguments = Arguments(*f, s);
    if (!arguments.ok()) {
      return FieldError(s, path, std::string(arguments.status().message()), f->type, null_parent);
    }
    const Json& args = *arguments;
    absl::StatusOr<Json> value;
    if (f->resolve) {
      value = f->resolve(source, args, context_);
    } else if (s.name == "__schema") {
      value = schema_.SchemaJson();
    } else if (s.name == "__type") {
      const TypeDef* t = schema_.Find(args.value("name", ""));
      value = t == nullptr ? Json() : schema_.TypeRefJson(Named(t->name));
    } else {
      value = source.is_object() && source.contains(s.name) ? source[s.name] : Json();
    }
    if (!value.ok()) return FieldError(s, path, std::string(value.status().message()), f->type, null_parent);
    std::vector<Selection> merged;
    for (const Selection* g : group) merged.insert(merged.end(), g->selections.begin(), g->selections.end());
    return Complete(f->type, s, merged, *value, path, null_parent);
  }

  Json FieldError(const Selection& s, const Json& path, std::string message, const TypeRef& type,
                  bool* null_parent) {
    errors_.push_back(Error{std::move(message), {s.loc}, path});
    if (type.kind == TypeRef::Kind::kNonNull) *null_parent = true;
    return Json();
  }

  Json Complete(const TypeRef& type, const Selection& s, const std::vector<Selection>& selections,
                const Json& value, const Json& path, bool* null_parent) {
    if (type.kind == TypeRef::Kind::kNonNull) {
      bool inner_null = false;
      Json v = Complete(*type.of, s, selections, value, path, &inner_null);
      if (v.is_null()) {
        if (!inner_null && !stopped_) {
          errors_.push_back(Error{absl::StrCat("Cannot return null for non-nullable field ",
                                               s.name, "."),
                                  {s.loc},
                                  path});
        }
        *null_parent = true;
      }
      return v;
    }
    if (value.is_null()) return Json();
    if (type.kind == TypeRef::Kind::kList) {
      if (!value.is_array()) {
        errors_.push_back(Error{absl::StrCat("Expected a list for field ", s.name, "."), {s.loc}, path});
        return Json();
      }
      Json out = Json::array();
      for (size_t i = 0; i < value.size(); ++i) {
        Json item_path = path;
        item_path.push_back(i);
        bool item_null = false;
        Json item = Complete(*type.of, s, selections, value[i], item_path, &item_null);
        if (item_null) return Json();  // a non-null item failed: the list is null
        out.push_back(std::move(item));
      }
      return out;
    }
    const TypeDef* t = schema_.Find(type.name);
    if (t == nullptr) return Json();
    if (t->kind == Kind::kObject) return ExecuteSelections(*t, value, selections, path);
    if (t->kind == Kind::kEnum) {
      if (!value.is_string() ||
          std::find(t->values.begin(), t->values.end(), value.get<std::string>()) == t->values.end()) {
        errors_.push_back(Error{absl::StrCat("Enum \"", t->name, "\" cannot represent value: ", value.dump()),
                                {s.loc},
                                path});
        return Json();
      }
      bytes_ += value.get<std::string>().size() + 2;
      return value;
    }
    // Scalars: the value must already have the right JSON type.
    bool ok = (type.name == "Int" && value.is_number_integer()) ||
              (type.name == "Float" && value.is_number()) ||
              ((type.name == "String" || type.name == "ID") && value.is_string()) ||
              (type.name == "Boolean" && value.is_boolean()) || !IsBuiltinScalar(type.name);
    if (!ok) {
      errors_.push_back(Error{absl::StrCat(type.name, " cannot represent value: ", value.dump()),
                              {s.loc},
                              path});
      return Json();
    }
    bytes_ += value.is_string() ? value.get<std::string>().size() + 2 : 8;
    return value;
  }

  const Schema& schema_;
  const Operation& op_;
  Json variables_;
  void* context_;
  const ExecutionLimits& limits_;
  size_t bytes_ = 0;      // about what the response holds so far
  bool stopped_ = false;  // a limit was reached
  std::map<std::string, const Fragment*> fragments_;
  std::vector<Error> errors_;
};

Json Schema::Execute(absl::string_view document, const Json& variables,
                     const std::string& operation_name, void* context, bool queries_only,
                     bool* request_error, const ExecutionLimits& limits) const {
  auto fail = [&](std::vector<Error> errors) {
    if (request_error != nullptr) *request_error = true;
    Json list = Json::array();
    for (const auto& e : errors) list.push_back(e.ToJson());
    return Json{{"errors", list}};
  };
  if (request_error != nullptr) *request_error = false;
  ParseResult parsed = Parse(document);
  if (parsed.error) return fail({*parsed.error});
  const Document& doc = *parsed.document;
  std::vector<Error> invalid = Validate(doc);
  if (!invalid.empty()) return fail(invalid);
  const Operation* op = nullptr;
  if (operation_name.empty()) {
    if (doc.operations.size() != 1) {
      return fail({Error{"Must provide operation name if query contains multiple operations.", {}, nullptr}});
    }
    op = &doc.operations[0];
  } else {
    for (const auto& o : doc.operations) {
      if (o.name == operation_name) op = &o;
    }
    if (op == nullptr) {
      return fail({Error{absl::StrCat("Unknown operation named \"", operation_name, "\"."), {}, nullptr}});
    }
  }
  if (queries_only && op->type != "query") {
    return fail({Error{absl::StrCat("Can only perform a ", op->type, " operation from a POST request."),
                       {op->loc},
                       nullptr}});
  }
  if (!variables.is_null() && !variables.is_object()) {
    return fail({Error{"Variables must be an object.", {}, nullptr}});
  }
  auto coerced = Executor::CoerceVariables(*this, *op, variables.is_null() ? Json::object() : variables);
  if (!coerced.ok()) return fail({Error{std::string(coerced.status().message()), {op->loc}, nullptr}});
  const TypeDef* root = Find(op->type == "mutation" ? mutation_ : query_);
  Executor executor(*this, doc, *op, *coerced, context, limits);
  if (limits.max_cost > 0) {
    const double cost = executor.Cost(*root);
    if (cost > static_cast<double>(limits.max_cost)) {
      return fail({Error{absl::StrCat("Query cost ", static_cast<int64_t>(std::min(cost, 9e18)), " exceeds the budget of ",
                                      limits.max_cost,
                                      ": each field counts once per object it is resolved on and ",
                                      kCallCost, " more per backend call, lists as many times as "
                                      "the items they may hold. Ask for fewer items or fields."),
                         {op->loc},
                         nullptr}});
    }
  }
  std::vector<Error> errors;
  Json data = executor.Run(*root, &errors);
  Json out{{"data", data}};
  if (!errors.empty()) {
    Json list = Json::array();
    for (const auto& e : errors) list.push_back(e.ToJson());
    out = Json{{"errors", list}, {"data", data}};
  }
  return out;
}

}  // namespace arca::graphql
