#ifndef ARCA_SERVICES_GATEWAY_GRAPHQL_GRAPHQL_H_
#define ARCA_SERVICES_GATEWAY_GRAPHQL_GRAPHQL_H_

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
#include "absl/time/time.h"
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
  // extensions.code, as Apollo's servers name them: GRAPHQL_PARSE_FAILED,
  // GRAPHQL_VALIDATION_FAILED, BAD_USER_INPUT, NOT_FOUND, FORBIDDEN,
  // UNAUTHENTICATED, UNAVAILABLE, LIMIT_EXCEEDED, INTERNAL_SERVER_ERROR.
  std::string code = "";
  Json ToJson() const;
};

// The extensions.code of a resolver's error.
std::string ErrorCode(absl::StatusCode code);

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

// What the transport knows of one request (its caller, what it already
// fetched), passed through Execute to every resolver. The engine never
// looks inside: a schema derives its own and its resolvers take that back
// with RequestContext::As.
class RequestContext {
 public:
  template <typename T>
  T& As() {
    return static_cast<T&>(*this);
  }
};

// Resolves a field: `source` is the parent object's value, `args` the
// coerced arguments, `context` the request's. An error becomes a field
// error at the field's path, the value null.
using Resolver = std::function<absl::StatusOr<Json>(const Json& source, const Json& args,
                                                    RequestContext& context)>;

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

// What a field costs, for a query's cost before it runs (see
// ExecutionLimits::max_cost). A field costs 1 for each time it is resolved,
// plus kCallCost for each backend call its resolver makes; what is selected
// inside it is resolved once for each object its value may hold: the value
// of `items_argument` when the query gives one (a page size), else `items`
// (0: 1 for an object, kDefaultListItems for a list).
struct FieldCost {
  int calls = 0;
  std::string items_argument;
  int items = 0;
};
inline constexpr int64_t kCallCost = 100;
inline constexpr int kDefaultListItems = 100;

struct FieldDef {
  FieldDef(std::string name, TypeRef type, std::string description = "",
           std::vector<InputValueDef> args = {}, Resolver resolve = nullptr,
           FieldCost cost = {})
      : name(std::move(name)),
        type(std::move(type)),
        description(std::move(description)),
        args(std::move(args)),
        resolve(std::move(resolve)),
        cost(std::move(cost)) {}
  std::string name;
  TypeRef type;
  std::string description;
  std::vector<InputValueDef> args;
  Resolver resolve;  // unset: source[name]
  FieldCost cost;
};

// Bounds on one request's work. Zero (or InfiniteFuture) means no bound.
struct ExecutionLimits {
  // A query whose cost (see FieldCost) is higher is refused before it runs.
  int64_t max_cost = 0;
  // Fields not resolved by then are not resolved: the response says so.
  absl::Time deadline = absl::InfiniteFuture();
  // Once the response holds about this many bytes, nothing more is
  // resolved: the response says so.
  size_t max_response_bytes = 0;
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

  // How a request went, for the transport's status: it ran (any errors are
  // field errors beside "data"), it was refused before running (no "data":
  // it was malformed, invalid, or cost more than limits allow), or it asked
  // for a mutation where only queries are allowed (GET requests).
  enum class Outcome { kExecuted, kRequestError, kMutationNotAllowed };

  // A whole request, as GraphQL over HTTP sees it: parses, validates and
  // executes, and returns the response ({"data": …} and/or {"errors": […]}).
  // With queries_only, a mutation is refused.
  Json Execute(absl::string_view document, const Json& variables,
               const std::string& operation_name, RequestContext& context,
               bool queries_only = false,
               Outcome* outcome = nullptr, const ExecutionLimits& limits = {}) const;

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

#endif  // ARCA_SERVICES_GATEWAY_GRAPHQL_GRAPHQL_H_
