#ifndef ARCA_SERVICES_GATEWAY_GRAPHQL_H_
#define ARCA_SERVICES_GATEWAY_GRAPHQL_H_

// A small, strict GraphQL engine (October 2021 specification) for executable
// documents: lexer and parser, validation, execution over a schema built in
// code, and introspection. Values are JSON (nlohmann::ordered_json).

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace arca::graphql {

using Json = nlohmann::ordered_json;

// ------------------------------------------------------------------ AST

struct Location {
  int line = 0;    // 1-based
  int column = 0;  // 1-based, in characters
};

struct Value {
  enum class Kind { kVariable, kInt, kFloat, kString, kBoolean, kNull, kEnum, kList, kObject };
  Kind kind = Kind::kNull;
  std::string text;  // variable name, number literal, string, enum name
  bool boolean = false;
  std::vector<Value> list;
  std::vector<std::pair<std::string, Value>> fields;
  Location loc;
};

struct TypeRef {
  enum class Kind { kNamed, kList, kNonNull };
  Kind kind = Kind::kNamed;
  std::string name;             // kNamed
  std::shared_ptr<TypeRef> of;  // kList, kNonNull
  std::string ToString() const;
  const std::string& NamedType() const { return kind == Kind::kNamed ? name : of->NamedType(); }
};
TypeRef Named(std::string name);
TypeRef NonNull(TypeRef of);
TypeRef ListOf(TypeRef of);

struct Argument {
  std::string name;
  Value value;
  Location loc;
};

struct Directive {
  std::string name;
  std::vector<Argument> arguments;
  Location loc;
};

struct Selection {
  enum class Kind { kField, kFragmentSpread, kInlineFragment };
  Kind kind = Kind::kField;
  std::string alias;  // kField; empty: the name
  std::string name;   // field name, or the spread fragment's name
  std::vector<Argument> arguments;
  std::vector<Directive> directives;
  std::vector<Selection> selections;
  std::string type_condition;  // kInlineFragment; may be empty
  Location loc;
  const std::string& ResponseKey() const { return alias.empty() ? name : alias; }
};

struct VariableDefinition {
  std::string name;
  TypeRef type;
  std::optional<Value> default_value;
  Location loc;
};

struct Operation {
  std::string type = "query";  // query, mutation, subscription
  std::string name;
  std::vector<VariableDefinition> variables;
  std::vector<Directive> directives;
  std::vector<Selection> selections;
  Location loc;
};

struct Fragment {
  std::string name;
  std::string type_condition;
  std::vector<Directive> directives;
  std::vector<Selection> selections;
  Location loc;
};

struct Document {
  std::vector<Operation> operations;
  std::vector<Fragment> fragments;
};

// A GraphQL error as the response shows it.
struct Error {
  std::string message;
  std::vector<Location> locations;
  Json path;  // null or an array of keys and indexes
  Json ToJson() const;
};

// Largest document accepted. Default: 64 KiB.
inline constexpr size_t kMaxDocumentBytes = 64 << 10;

// Parses an executable document (operations and fragments only). On a
// syntax error returns it with its location.
struct ParseResult {
  std::optional<Document> document;
  std::optional<Error> error;
};
ParseResult Parse(absl::string_view source);

// --------------------------------------------------------------- schema

// Resolves a field: `source` is the parent object's value, `args` the
// coerced arguments, `context` the caller's (passed through Execute). An
// error becomes a field error at the field's path, the value null.
using Resolver =
    std::function<absl::StatusOr<Json>(const Json& source, const Json& args, void* context)>;

struct InputValueDef {
  InputValueDef(std::string name, TypeRef type, std::string description = "",
                std::optional<Json> default_value = std::nullopt)
      : name(std::move(name)),
        type(std::move(type)),
        description(std::move(description)),
        default_value(std::move(default_value)) {}
  std::string name;
  TypeRef type;
  std::string description;
  std::optional<Json> default_value;  // a boolean, number or string
};

struct FieldDef {
  FieldDef(std::string name, TypeRef type, std::string description = "",
           std::vector<InputValueDef> args = {}, Resolver resolve = nullptr)
      : name(std::move(name)),
        type(std::move(type)),
        description(std::move(description)),
        args(std::move(args)),
        resolve(std::move(resolve)) {}
  std::string name;
  TypeRef type;
  std::string description;
  std::vector<InputValueDef> args;
  Resolver resolve;  // unset: source[name]
};

struct TypeDef {
  enum class Kind { kScalar, kObject, kEnum, kInputObject };
  Kind kind = Kind::kObject;
  std::string name;
  std::string description;
  std::vector<FieldDef> fields;             // kObject
  std::vector<InputValueDef> input_fields;  // kInputObject
  std::vector<std::string> values;          // kEnum
};

// Limits validation enforces.
inline constexpr int kMaxSelectionDepth = 15;
inline constexpr int kMaxFields = 1000;

// A schema of object, scalar, enum and input object types, with the
// built-in scalars (Int, Float, String, Boolean, ID), directives (@include,
// @skip, @deprecated) and introspection (__schema, __type, __typename).
class Schema {
 public:
  Schema();
  void Add(TypeDef type);
  void SetQueryType(std::string name) { query_ = std::move(name); }
  void SetMutationType(std::string name) { mutation_ = std::move(name); }
  const TypeDef* Find(absl::string_view name) const;

  // A whole request, as GraphQL over HTTP sees it: parses, validates and
  // executes, and returns the response ({"data": …} and/or {"errors": […]}).
  // With queries_only, a mutation is refused (GET requests). *request_error
  // is set when there is no "data" at all (the request itself was bad).
  Json Execute(absl::string_view document, const Json& variables,
               const std::string& operation_name, void* context, bool queries_only = false,
               bool* request_error = nullptr) const;

  // The errors of validating a parsed document; empty if it is valid.
  std::vector<Error> Validate(const Document& document) const;

 private:
  friend class Executor;
  friend class Validator;
  // The field of `type` by name, with __schema and __type on the query type.
  const FieldDef* FindField(const TypeDef& type, absl::string_view name) const;
  // Introspection values: a __Type for a reference, and the rest.
  Json TypeRefJson(const TypeRef& type) const;
  Json InputValueJson(const InputValueDef& value) const;
  Json FieldJson(const FieldDef& field) const;
  Json SchemaJson() const;
  std::map<std::string, TypeDef, std::less<>> types_;
  std::vector<std::string> order_;  // types in the order added
  std::string query_ = "Query", mutation_;
};

}  // namespace arca::graphql

#endif  // ARCA_SERVICES_GATEWAY_GRAPHQL_H_
