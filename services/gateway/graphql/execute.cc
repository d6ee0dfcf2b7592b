// GraphQL execution (spec section 6) and introspection (section 4).

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

class Executor {
 public:
  Executor(const Schema& schema, const Document& doc, const Operation& op, Json variables,
           RequestContext& context, const ExecutionLimits& limits)
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
    if (!stopped_) errors_.push_back(Error{std::move(why), {s.loc}, path, "LIMIT_EXCEEDED"});
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
      return FieldError(s, path, arguments.status(), f->type, null_parent);
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
    if (!value.ok()) return FieldError(s, path, value.status(), f->type, null_parent);
    std::vector<Selection> merged;
    for (const Selection* g : group) merged.insert(merged.end(), g->selections.begin(), g->selections.end());
    return Complete(f->type, s, merged, *value, path, null_parent);
  }

  Json FieldError(const Selection& s, const Json& path, const absl::Status& status, const TypeRef& type,
                  bool* null_parent) {
    errors_.push_back(Error{std::string(status.message()), {s.loc}, path, ErrorCode(status.code())});
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
  RequestContext& context_;
  const ExecutionLimits& limits_;
  size_t bytes_ = 0;      // about what the response holds so far
  bool stopped_ = false;  // a limit was reached
  std::map<std::string, const Fragment*> fragments_;
  std::vector<Error> errors_;
};

Json Schema::Execute(absl::string_view document, const Json& variables,
                     const std::string& operation_name, RequestContext& context, bool queries_only,
                     Outcome* outcome, const ExecutionLimits& limits) const {
  Outcome ignored;
  if (outcome == nullptr) outcome = &ignored;
  auto fail = [&](std::vector<Error> errors, Outcome why = Outcome::kRequestError,
                  const char* code = "BAD_REQUEST") {
    *outcome = why;
    Json list = Json::array();
    for (auto& e : errors) {
      if (e.code.empty()) e.code = code;
      list.push_back(e.ToJson());
    }
    return Json{{"errors", list}};
  };
  *outcome = Outcome::kExecuted;
  ParseResult parsed = Parse(document);
  if (parsed.error) return fail({*parsed.error}, Outcome::kRequestError, "GRAPHQL_PARSE_FAILED");
  const Document& doc = *parsed.document;
  std::vector<Error> invalid = Validate(doc);
  if (!invalid.empty()) return fail(invalid, Outcome::kRequestError, "GRAPHQL_VALIDATION_FAILED");
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
                       nullptr}},
                Outcome::kMutationNotAllowed);
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
                         nullptr}}, Outcome::kRequestError, "LIMIT_EXCEEDED");
    }
  }
  std::vector<Error> errors;
  Json data = executor.Run(*root, &errors);
  Json out{{"data", data}};
  if (!errors.empty()) {
    Json list = Json::array();
    for (auto& e : errors) {
      if (e.code.empty()) e.code = "INTERNAL_SERVER_ERROR";  // a value the schema cannot represent
      list.push_back(e.ToJson());
    }
    out = Json{{"errors", list}, {"data", data}};
  }
  return out;
}

}  // namespace arca::graphql
