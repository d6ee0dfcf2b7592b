#ifndef ARCA_SERVICES_GATEWAY_GRAPHQL_INTERNAL_H_
#define ARCA_SERVICES_GATEWAY_GRAPHQL_INTERNAL_H_

// What the schema, the validator and the executor share. Internal to the
// engine.

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "services/gateway/graphql/graphql.h"

namespace arca::graphql {

using Kind = TypeDef::Kind;

bool IsBuiltinScalar(absl::string_view name);

// A literal's GraphQL text, for messages and introspection defaults.
std::string Print(const Value& v);
std::string PrintJsonLiteral(const Json& j);

struct DirectiveDef {
  std::string name, description;
  std::vector<std::string> locations;
  std::vector<InputValueDef> args;
};
// @include, @skip and @deprecated.
const std::vector<DirectiveDef>& Directives();
const DirectiveDef* FindDirective(absl::string_view name);

// A number literal's value, if it is a finite double.
std::optional<double> FiniteDouble(const std::string& text);

}  // namespace arca::graphql

#endif  // ARCA_SERVICES_GATEWAY_GRAPHQL_INTERNAL_H_
