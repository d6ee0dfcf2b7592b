#include "services/gateway/graphql/graphql.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace arca::graphql {
namespace {

// ------------------------------------------------------------- parsing

TEST(ParseTest, AcceptsTheExecutableGrammar) {
  const char* valid[] = {
      "{ a }",
      "query { a }",
      "query Q($id: ID!, $n: Int = 10, $l: [String!]! = [\"x\"]) @skip(if: false) { a(id: $id) }",
      "mutation { cleanupPhJobArtifact }",
      "{ alias: a(x: 1, y: 2.5e3, z: \"s\", w: true, v: null, e: ENUM, l: [1, 2], o: {k: [1]}) }",
      "{ ...F } fragment F on Query { a }",
      "{ ... on Query { a } ... @include(if: true) { b } }",
      "# comment\n\xEF\xBB\xBF{ a, b ,, c }",
      "{ a(s: \"\"\"\n    block\n      indented\n    \"\"\") }",
      "{ a(s: \"\\u00e9\\n\\\"\\\\\\/\\b\\f\\r\\t\\ud83d\\ude00\") }",
      "{ a(x: -0, y: 0.5, z: 1E-2) }",
  };
  for (const char* doc : valid) {
    ParseResult r = Parse(doc);
    EXPECT_TRUE(r.document.has_value()) << doc << ": " << (r.error ? r.error->message : "");
  }
}

TEST(ParseTest, DecodesStringsAndBlockStrings) {
  auto arg = [](const char* doc) {
    ParseResult r = Parse(doc);
    EXPECT_TRUE(r.document) << doc;
    return r.document ? r.document->operations[0].selections[0].arguments[0].value.text : "";
  };
  EXPECT_EQ(arg("{ a(s: \"\\u00e9\\ud83d\\ude00\\t\") }"), "\xC3\xA9\xF0\x9F\x98\x80\t");
  EXPECT_EQ(arg("{ a(s: \"\"\"\n    Hello,\n      World!\n\n    Yours,\n      GraphQL.\n  \"\"\") }"),
            "Hello,\n  World!\n\nYours,\n  GraphQL.");
  EXPECT_EQ(arg("{ a(s: \"\"\"x \\\"\"\" y\"\"\") }"), "x \"\"\" y");
}

TEST(ParseTest, ReportsSyntaxErrorsWithTheirLocation) {
  struct Case {
    const char* doc;
    const char* message;
    int line, column;
  } cases[] = {
      {"", "Syntax Error: Unexpected <EOF>.", 1, 1},
      {"{", "Syntax Error: Expected Name, found <EOF>.", 1, 2},
      {"{ a(x: ) }", "Syntax Error: Unexpected \")\".", 1, 8},
      {"{ a }\n  }", "Syntax Error: Unexpected \"}\".", 2, 3},
      {"{ a(x: 01) }", "Syntax Error: Invalid number, unexpected digit after 0: \"1\".", 1, 9},
      {"{ a(x: 1.) }", "Syntax Error: Invalid number, expected digit after \".\".", 1, 10},
      {"{ a(x: 1x) }", "Syntax Error: Invalid number, unexpected \"x\" after it.", 1, 9},
      {"{ a(s: \"open) }", "Syntax Error: Unterminated string.", 1, 16},
      {"{ a(s: \"\\q\") }", "Syntax Error: Invalid character escape sequence: \"\\q\".", 1, 9},
      {"{ a(s: \"\\ud800\") }", "Syntax Error: Invalid Unicode escape sequence: a lone surrogate.", 1, 15},
      {"{ a(s: \"\\u12\") }", "Syntax Error: Invalid Unicode escape sequence.", 1, 9},
      {"{ ..F }", "Syntax Error: Unexpected \".\"; did you mean \"...\"?", 1, 3},
      {"{ a ? }", "Syntax Error: Unexpected character \"?\".", 1, 5},
      {"type Query { a: Int }", "Syntax Error: Unexpected Name \"type\": only executable definitions (operations and fragments) are accepted.", 1, 1},
      {"fragment on on Query { a }", "Syntax Error: Unexpected Name \"on\".", 1, 10},
      {"query ($x: ) { a }", "Syntax Error: Expected Name, found \")\".", 1, 12},
      {"query ($x: Int = $y) { a }", "Syntax Error: Unexpected \"$\".", 1, 18},
      {"{ a(x: \"\x01\") }", "Syntax Error: Invalid character within String: U+0001.", 1, 9},
      {"{ a(x: \"\xC3\xA9\xA2\") }", "Syntax Error: Invalid UTF-8.", 1, 10},
      {"{\n\xC0\xAF }", "Syntax Error: Invalid UTF-8.", 2, 1},
  };
  for (const auto& c : cases) {
    ParseResult r = Parse(c.doc);
    ASSERT_TRUE(r.error.has_value()) << c.doc;
    EXPECT_EQ(r.error->message, c.message) << c.doc;
    ASSERT_EQ(r.error->locations.size(), 1u) << c.doc;
    EXPECT_EQ(r.error->locations[0].line, c.line) << c.doc;
    EXPECT_EQ(r.error->locations[0].column, c.column) << c.doc;
  }
}

TEST(ParseTest, RefusesHugeAndAbsurdlyNestedDocuments) {
  std::string big = "{ a }" + std::string(kMaxDocumentBytes, ' ');
  EXPECT_TRUE(absl::StrContains(Parse(big).error->message, "the limit is 65536"));
  std::string nested = std::string(200, '[');
  EXPECT_TRUE(absl::StrContains(Parse("{ a(x: " + nested + ") }").error->message, "nested more than"));
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "{ a ";
  EXPECT_TRUE(absl::StrContains(Parse(deep).error->message, "nested more than"));
}

// ------------------------------------------------------------ a schema

struct Context : RequestContext {
  int calls = 0;
};

Schema TestSchema() {
  Schema s;
  TypeDef color;
  color.kind = TypeDef::Kind::kEnum;
  color.name = "Color";
  color.values = {"RED", "GREEN"};
  s.Add(color);
  TypeDef where;
  where.kind = TypeDef::Kind::kInputObject;
  where.name = "Where";
  where.input_fields = {{"id", NonNull(Named("String"))}, {"limit", Named("Int"), "", Json(2)}};
  s.Add(where);
  TypeDef item;
  item.name = "Item";
  item.fields = {{"name", NonNull(Named("String"))},
                 {"size", Named("Int")},
                 {"color", Named("Color")},
                 {"broken", NonNull(Named("String")), "", {},
                  [](const Json&, const Json&, graphql::RequestContext&) -> absl::StatusOr<Json> {
                    return absl::UnavailableError("backend down");
                  }},
                 {"child", Named("Item")}};
  s.Add(item);
  TypeDef query;
  query.name = "Query";
  query.fields = {
      {"item", Named("Item"), "One item.", {{"where", NonNull(Named("Where"))}},
       [](const Json&, const Json& args, graphql::RequestContext& ctx) -> absl::StatusOr<Json> {
         ctx.As<Context>().calls++;
         if (args["where"]["id"] == "none") return Json();
         return Json{{"name", args["where"]["id"]},
                     {"size", args["where"]["limit"]},
                     {"color", "RED"},
                     {"child", {{"name", "kid"}, {"size", 1}}}};
       },
       FieldCost{1, "", 0}},
      {"items", NonNull(ListOf(NonNull(Named("Item")))), "", {{"first", Named("Int"), "", Json(10)}},
       [](const Json&, const Json& args, graphql::RequestContext&) -> absl::StatusOr<Json> {
         Json out = Json::array();
         for (int i = 0; i < args["first"].get<int>(); ++i) out.push_back(Json{{"name", absl::StrCat("i", i)}});
         return out;
       },
       FieldCost{1, "first", 0}},
      {"echo", Named("String"), "", {{"s", Named("String")}, {"c", Named("Color")}, {"f", Named("Float")}},
       [](const Json&, const Json& args, graphql::RequestContext&) -> absl::StatusOr<Json> { return Json(args.dump()); }},
      {"badItems", ListOf(NonNull(Named("Item"))), "", {},
       [](const Json&, const Json&, graphql::RequestContext&) -> absl::StatusOr<Json> {
         return Json::array({Json{{"name", "ok"}}, Json{{"size", 1}}});
       }},
  };
  s.Add(query);
  TypeDef mutation;
  mutation.name = "Mutation";
  mutation.fields = {{"bump", NonNull(Named("Int")), "", {},
                      [](const Json&, const Json&, graphql::RequestContext& ctx) -> absl::StatusOr<Json> {
                        return ++ctx.As<Context>().calls;
                      }}};
  s.Add(mutation);
  s.SetMutationType("Mutation");
  return s;
}

class ExecuteTest : public ::testing::Test {
 protected:
  Json Run(const std::string& doc, const Json& variables = Json(), const std::string& op = "",
           bool queries_only = false, const ExecutionLimits& limits = {}) {
    return schema_.Execute(doc, variables, op, ctx_, queries_only, nullptr, limits);
  }
  std::vector<std::string> Messages(const std::string& doc) {
    std::vector<std::string> out;
    Json r = Run(doc);
    for (const auto& e : r.value("errors", Json::array())) out.push_back(e["message"]);
    return out;
  }
  Schema schema_ = TestSchema();
  Context ctx_;
};

TEST_F(ExecuteTest, ResolvesFieldsAliasesFragmentsAndDirectives) {
  Json r = Run(R"(
    query Q($id: String!, $skip: Boolean = false) {
      first: item(where: {id: $id}) { ...Parts child { name } }
      second: item(where: {id: "b", limit: 5}) { name size @skip(if: $skip) }
      ... on Query { items(first: 2) { name } }
      gone: item(where: {id: "none"}) { name }
      __typename
    }
    fragment Parts on Item { name size color __typename }
  )", Json{{"id", "a"}, {"skip", true}});
  ASSERT_FALSE(r.contains("errors")) << r.dump();
  EXPECT_EQ(r["data"].dump(),
            R"({"first":{"name":"a","size":2,"color":"RED","__typename":"Item","child":{"name":"kid"}},)"
            R"("second":{"name":"b"},"items":[{"name":"i0"},{"name":"i1"}],"gone":null,"__typename":"Query"})");
}

TEST_F(ExecuteTest, FieldErrorsLandOnTheirPathAndNullsPropagate) {
  Json r = Run("{ item(where: {id: \"a\"}) { name broken } echo(s: \"x\") }");
  EXPECT_TRUE(r["data"]["item"].is_null());  // broken is non-null: its parent is null
  EXPECT_EQ(r["data"]["echo"], "{\"s\":\"x\"}");
  ASSERT_EQ(r["errors"].size(), 1u);
  EXPECT_EQ(r["errors"][0]["message"], "backend down");
  EXPECT_EQ(r["errors"][0]["path"], Json({"item", "broken"}));
  EXPECT_EQ(r["errors"][0]["locations"][0], (Json{{"line", 1}, {"column", 33}}));

  Json list = Run("{ badItems { name } }");
  EXPECT_TRUE(list["data"]["badItems"].is_null());
  EXPECT_EQ(list["errors"][0]["path"], Json({"badItems", 1, "name"}));
  EXPECT_EQ(list["errors"][0]["message"], "Cannot return null for non-nullable field name.");
}

TEST_F(ExecuteTest, VariablesAreCoercedOrRejected) {
  EXPECT_EQ(Run("query($c: Color, $f: Float) { echo(c: $c, f: $f) }", Json{{"c", "GREEN"}, {"f", 2}})["data"]["echo"],
            "{\"c\":\"GREEN\",\"f\":2}");
  auto error = [&](const std::string& doc, const Json& vars) {
    Json r = Run(doc, vars);
    EXPECT_FALSE(r.contains("data")) << r.dump();
    return r["errors"][0]["message"].get<std::string>();
  };
  EXPECT_EQ(error("query($id: String!) { item(where: {id: $id}) { name } }", Json::object()),
            "Variable \"$id\" of required type \"String!\" was not provided.");
  EXPECT_TRUE(absl::StrContains(error("query($c: Color) { echo(c: $c) }", Json{{"c", "BLUE"}}),
                                "expected one of RED, GREEN"));
  EXPECT_TRUE(absl::StrContains(error("query($w: Where!) { item(where: $w) { name } }", Json{{"w", {{"limit", 1}}}}),
                                "field \"id\" of required type \"String!\" was not provided"));
  EXPECT_TRUE(absl::StrContains(error("query($f: Float) { echo(f: $f) }", Json{{"f", "x"}}), "expected a Float"));
  EXPECT_EQ(error("{ echo }", Json::array()), "Variables must be an object.");
}

TEST_F(ExecuteTest, ValidationCatchesWhatTheSpecForbids) {
  struct Case {
    const char* doc;
    const char* message;
  } cases[] = {
      {"{ nope }", "Cannot query field \"nope\" on type \"Query\"."},
      {"{ echo(x: 1) }", "Unknown argument \"x\" on field \"Query.echo\"."},
      {"{ echo(s: 1) }", "Argument \"s\" has invalid value 1: expected type \"String\"."},
      {"{ echo(s: \"a\", s: \"b\") }", "There can be only one argument named \"s\"."},
      {"{ echo(c: BLUE) }", "Argument \"c\" has invalid value BLUE: expected one of RED, GREEN."},
      {"{ items(first: 3000000000) { name } }", "Argument \"first\" has invalid value 3000000000: expected a 32-bit Int."},
      {"{ echo(f: 1.5e999) }", "Argument \"f\" has invalid value 1.5e999: expected a finite Float."},
      {"{ item { name } }", "field \"Query.item\" argument \"where\" of type \"Where!\" is required, but it was not provided."},
      {"{ item(where: {}) { name } }", "Argument \"where\" has invalid value {}: field \"Where.id\" of required type \"String!\" was not provided."},
      {"{ item(where: {id: \"a\", x: 1}) { name } }", "Argument \"where\" has invalid value {id: \"a\", x: 1}: field \"x\" is not defined by type \"Where\"."},
      {"{ items }", "Field \"items\" of type \"[Item!]!\" must have a selection of subfields. Did you mean \"items { ... }\"?"},
      {"{ echo { a } }", "Field \"echo\" must not have a selection since type \"String\" has no subfields."},
      {"query($x: Int) { echo }", "Variable \"$x\" is never used."},
      {"{ echo(s: $s) }", "Variable \"$s\" is not defined."},
      {"query($s: Int) { echo(s: $s) }", "Variable \"$s\" of type \"Int\" used in position expecting type \"String\"."},
      {"query($w: Item) { echo }", "Variable \"$w\" cannot be non-input type \"Item\"."},
      {"{ ...F }", "Unknown fragment \"F\"."},
      {"{ echo } fragment F on Query { echo }", "Fragment \"F\" is never used."},
      {"{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }", "Cannot spread fragment \"A\" within itself."},
      {"{ ... on Nope { echo } }", "Unknown type \"Nope\"."},
      {"{ ... on Item { name } }", "Fragment cannot be spread here as objects of type \"Query\" can never be of type \"Item\"."},
      {"{ echo @nope }", "Unknown directive \"@nope\"."},
      {"{ echo @skip }", "Directive \"@skip\" argument \"if\" of type \"Boolean!\" is required, but it was not provided."},
      {"query @skip(if: true) { echo }", "Directive \"@skip\" may not be used on QUERY."},
      {"{ a: echo(s: \"x\") a: echo(s: \"y\") }", "Fields \"a\" conflict because they differ in name or arguments. Use different aliases on the fields to fetch both."},
      {"query A { echo } query A { echo }", "There can be only one operation named \"A\"."},
      {"{ echo } query B { echo }", "This anonymous operation must be the only defined operation."},
      {"subscription { echo }", "Schema is not configured to execute subscription operation."},
  };
  for (const auto& c : cases) {
    std::vector<std::string> m = Messages(c.doc);
    EXPECT_NE(std::find(m.begin(), m.end(), c.message), m.end())
        << c.doc << "\n got: " << (m.empty() ? "(no error)" : m[0]);
  }
}

TEST_F(ExecuteTest, DepthAndSizeLimits) {
  std::string deep = "{ item(where: {id: \"a\"}) ";
  std::string close;
  for (int i = 0; i < 15; ++i) {
    deep += "{ child ";
    close += "}";
  }
  deep += "{ name } " + close + " }";
  std::vector<std::string> m = Messages(deep);
  ASSERT_FALSE(m.empty());
  EXPECT_EQ(m[0], "Query is nested 17 levels deep; the limit is 15.");

  std::string wide = "{ item(where: {id: \"a\"}) { ...F } } fragment F on Item { ";
  for (int i = 0; i < 1001; ++i) absl::StrAppend(&wide, "f", i, ": name ");
  wide += "}";
  m = Messages(wide);
  ASSERT_FALSE(m.empty());
  EXPECT_EQ(m[0], "Query selects more than 1000 fields.");
}

TEST_F(ExecuteTest, OperationsAreChosenByNameAndMutationsNeedPost) {
  const char* doc = "query A { echo(s: \"a\") } query B { echo(s: \"b\") } mutation M { bump }";
  EXPECT_EQ(Run(doc, Json(), "B")["data"]["echo"], "{\"s\":\"b\"}");
  EXPECT_EQ(Run(doc)["errors"][0]["message"],
            "Must provide operation name if query contains multiple operations.");
  EXPECT_EQ(Run(doc, Json(), "C")["errors"][0]["message"], "Unknown operation named \"C\".");
  EXPECT_EQ(Run(doc, Json(), "M", /*queries_only=*/true)["errors"][0]["message"],
            "Can only perform a mutation operation from a POST request.");
  EXPECT_EQ(ctx_.calls, 0);
  Schema::Outcome outcome;
  schema_.Execute(doc, Json(), "M", ctx_, /*queries_only=*/true, &outcome);
  EXPECT_EQ(outcome, Schema::Outcome::kMutationNotAllowed);  // the transport's 405
  schema_.Execute(doc, Json(), "B", ctx_, /*queries_only=*/true, &outcome);
  EXPECT_EQ(outcome, Schema::Outcome::kExecuted);
  schema_.Execute(doc, Json(), "C", ctx_, /*queries_only=*/true, &outcome);
  EXPECT_EQ(outcome, Schema::Outcome::kRequestError);
  EXPECT_EQ(Run(doc, Json(), "M")["data"]["bump"], 1);
}

TEST_F(ExecuteTest, IntrospectionDescribesTheSchema) {
  Json r = Run(R"({
    __schema { queryType { name } mutationType { name } subscriptionType { name }
               types { name kind } directives { name locations args { name defaultValue } } }
    item: __type(name: "Item") { kind name fields { name type { kind name ofType { kind name } } } }
    where: __type(name: "Where") { inputFields { name defaultValue type { kind ofType { name } } } }
    color: __type(name: "Color") { enumValues { name } fields { name } }
    none: __type(name: "Nope") { name }
  })");
  ASSERT_FALSE(r.contains("errors")) << r.dump();
  const Json& d = r["data"];
  EXPECT_EQ(d["__schema"]["queryType"]["name"], "Query");
  EXPECT_EQ(d["__schema"]["mutationType"]["name"], "Mutation");
  EXPECT_TRUE(d["__schema"]["subscriptionType"].is_null());
  std::set<std::string> names;
  for (const auto& t : d["__schema"]["types"]) names.insert(t["name"]);
  for (const char* n : {"Query", "Item", "Where", "Color", "String", "Boolean", "__Type", "__Schema"}) {
    EXPECT_TRUE(names.count(n)) << n;
  }
  EXPECT_EQ(d["__schema"]["directives"][0]["name"], "include");
  EXPECT_EQ(d["item"]["kind"], "OBJECT");
  EXPECT_EQ(d["item"]["fields"][0].dump(),
            R"({"name":"name","type":{"kind":"NON_NULL","name":null,"ofType":{"kind":"SCALAR","name":"String"}}})");
  EXPECT_EQ(d["where"]["inputFields"][1]["defaultValue"], "2");
  EXPECT_EQ(d["color"]["enumValues"], Json::parse(R"([{"name":"RED"},{"name":"GREEN"}])"));
  EXPECT_TRUE(d["color"]["fields"].is_null());
  EXPECT_TRUE(d["none"].is_null());
}

TEST_F(ExecuteTest, AQueryOverItsCostBudgetIsRefusedBeforeAnythingRuns) {
  ExecutionLimits limits;
  limits.max_cost = 1000;
  // items: 1 + 100 for its call; then per item, name 1 and child 1 with
  // its name 1: 101 + 100 x 3.
  const std::string doc = R"({ one: item(where: {id: "a"}) { name }
                               many: items(first: $n) { name child { name } } })";
  const std::string query = absl::StrCat("query($n: Int) ", doc);
  Json fits = Run(query, Json{{"n", 100}}, "", false, limits);
  ASSERT_FALSE(fits.contains("errors")) << fits.dump();
  EXPECT_EQ(fits["data"]["many"].size(), 100u);
  EXPECT_EQ(ctx_.calls, 1);
  Schema::Outcome outcome;
  Json over = schema_.Execute(query, Json{{"n", 1000}}, "", ctx_, false, &outcome, limits);
  EXPECT_EQ(outcome, Schema::Outcome::kRequestError);
  EXPECT_FALSE(over.contains("data"));
  // item 1 + 100 and its name 1, items 1 + 100, 1,000 items x 3.
  EXPECT_EQ(over["errors"][0]["message"].get<std::string>().substr(0, 45),
            "Query cost 3203 exceeds the budget of 1000: e");
  EXPECT_EQ(ctx_.calls, 1);  // nothing ran
  // Aliases count each time: 198 of a cheap field are not cheap.
  std::string aliases = "{";
  for (int i = 0; i < 198; ++i) absl::StrAppend(&aliases, " a", i, ": items(first: 10) { name }");
  EXPECT_NE(Run(aliases + " }", Json(), "", false, limits)["errors"][0]["message"].get<std::string>().find(
                "Query cost 21978 exceeds"),
            std::string::npos);
  // Introspection is answered from memory: a whole schema's worth is cheap.
  Json schema = Run("{ __schema { types { name fields { name args { name type { name } } } } } }",
                    Json(), "", false, limits);
  EXPECT_FALSE(schema.contains("errors")) << schema.dump();
}

TEST_F(ExecuteTest, ADeadlineOrAResponseSizeStopsResolvingAndSaysSo) {
  ExecutionLimits late;
  late.deadline = absl::InfinitePast();
  Json r = Run(R"({ item(where: {id: "a"}) { name } echo(s: "x") })", Json(), "", false, late);
  ASSERT_EQ(r["errors"].size(), 1u) << r.dump();
  EXPECT_NE(r["errors"][0]["message"].get<std::string>().find("ran out of time"), std::string::npos);
  EXPECT_EQ(r["errors"][0]["path"], Json::parse(R"(["item"])"));
  EXPECT_TRUE(r["data"]["item"].is_null());
  EXPECT_EQ(ctx_.calls, 0);

  ExecutionLimits small;
  small.max_response_bytes = 200;
  Json big = Run("{ items(first: 1000) { name } }", Json(), "", false, small);
  ASSERT_EQ(big["errors"].size(), 1u) << big.dump().substr(0, 500);
  EXPECT_NE(big["errors"][0]["message"].get<std::string>().find("larger than 200 bytes"),
            std::string::npos);
  EXPECT_LT(big.dump().size(), 1000u);
}

}  // namespace
}  // namespace arca::graphql
