// GraphQL validation (spec section 5): every rule, before anything runs.

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

}  // namespace arca::graphql
