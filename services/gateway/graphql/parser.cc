// The GraphQL parser for executable documents (spec sections B.2-B.3):
// operations, fragments, selections, values and types, over the lexer.

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/gateway/graphql/graphql.h"
#include "services/gateway/graphql/lexer.h"

namespace arca::graphql {

TypeRef Named(std::string name) {
  TypeRef t;
  t.name = std::move(name);
  return t;
}
TypeRef NonNull(TypeRef of) {
  TypeRef t;
  t.kind = TypeRef::Kind::kNonNull;
  t.of = std::make_shared<TypeRef>(std::move(of));
  return t;
}
TypeRef ListOf(TypeRef of) {
  TypeRef t;
  t.kind = TypeRef::Kind::kList;
  t.of = std::make_shared<TypeRef>(std::move(of));
  return t;
}

std::string TypeRef::ToString() const {
  switch (kind) {
    case Kind::kNamed: return name;
    case Kind::kList: return absl::StrCat("[", of->ToString(), "]");
    case Kind::kNonNull: return absl::StrCat(of->ToString(), "!");
  }
  return name;
}

Json Error::ToJson() const {
  Json out{{"message", message}};
  if (!locations.empty()) {
    Json locs = Json::array();
    for (const auto& l : locations) locs.push_back(Json{{"line", l.line}, {"column", l.column}});
    out["locations"] = locs;
  }
  if (!path.is_null()) out["path"] = path;
  if (!code.empty()) out["extensions"] = Json{{"code", code}};
  return out;
}

std::string ErrorCode(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange: return "BAD_USER_INPUT";
    case absl::StatusCode::kNotFound: return "NOT_FOUND";
    case absl::StatusCode::kPermissionDenied: return "FORBIDDEN";
    case absl::StatusCode::kUnauthenticated: return "UNAUTHENTICATED";
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kFailedPrecondition: return "CONFLICT";
    case absl::StatusCode::kResourceExhausted: return "LIMIT_EXCEEDED";
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded: return "UNAVAILABLE";
    default: return "INTERNAL_SERVER_ERROR";
  }
}

namespace {

class Parser {
 public:
  explicit Parser(absl::string_view src) : lexer_(src) {}

  ParseResult Run() {
    ParseResult result;
    Document doc;
    if (!Advance()) return Failed();
    if (At(Token::Kind::kEnd)) return Fail("Syntax Error: Unexpected <EOF>.");
    while (!At(Token::Kind::kEnd)) {
      if (AtPunct("{")) {
        Operation op;
        op.loc = tok_.loc;
        if (!SelectionSet(&op.selections)) return Failed();
        doc.operations.push_back(std::move(op));
      } else if (AtName("query") || AtName("mutation") || AtName("subscription")) {
        Operation op;
        op.loc = tok_.loc;
        op.type = tok_.value;
        if (!Advance()) return Failed();
        if (At(Token::Kind::kName)) {
          op.name = tok_.value;
          if (!Advance()) return Failed();
        }
        if (AtPunct("(") && !VariableDefinitions(&op.variables)) return Failed();
        if (!Directives(&op.directives, true)) return Failed();
        if (!SelectionSet(&op.selections)) return Failed();
        doc.operations.push_back(std::move(op));
      } else if (AtName("fragment")) {
        Fragment f;
        f.loc = tok_.loc;
        if (!Advance()) return Failed();
        if (AtName("on")) return Unexpected();
        if (!Name(&f.name)) return Failed();
        if (!ExpectName("on")) return Failed();
        if (!Name(&f.type_condition)) return Failed();
        if (!Directives(&f.directives, false)) return Failed();
        if (!SelectionSet(&f.selections)) return Failed();
        doc.fragments.push_back(std::move(f));
      } else if (At(Token::Kind::kName)) {
        return Fail(absl::StrCat("Syntax Error: Unexpected Name \"", tok_.value,
                                 "\": only executable definitions (operations and fragments) are "
                                 "accepted."));
      } else {
        return Unexpected();
      }
    }
    result.document = std::move(doc);
    return result;
  }

 private:
  bool Advance() {
    auto e = lexer_.Next(&tok_);
    if (e) error_ = std::move(e);
    return !error_;
  }
  bool At(Token::Kind k) const { return tok_.kind == k; }
  bool AtPunct(absl::string_view p) const { return tok_.kind == Token::Kind::kPunct && tok_.value == p; }
  bool AtName(absl::string_view n) const { return tok_.kind == Token::Kind::kName && tok_.value == n; }

  ParseResult Failed() {
    ParseResult r;
    r.error = error_;
    return r;
  }
  ParseResult Fail(std::string message) {
    error_ = Error{std::move(message), {tok_.loc}, nullptr};
    return Failed();
  }
  ParseResult Unexpected() { return Fail(absl::StrCat("Syntax Error: Unexpected ", Describe(tok_), ".")); }
  bool SetError(std::string message) {
    error_ = Error{std::move(message), {tok_.loc}, nullptr};
    return false;
  }
  bool Expected(absl::string_view what) {
    return SetError(absl::StrCat("Syntax Error: Expected ", what, ", found ", Describe(tok_), "."));
  }
  bool ExpectPunct(absl::string_view p) {
    if (!AtPunct(p)) return Expected(absl::StrCat("\"", p, "\""));
    return Advance();
  }
  bool ExpectName(absl::string_view n) {
    if (!AtName(n)) return Expected(absl::StrCat("\"", n, "\""));
    return Advance();
  }
  bool Name(std::string* out) {
    if (!At(Token::Kind::kName)) return Expected("Name");
    *out = tok_.value;
    return Advance();
  }
  bool Enter() {
    if (++depth_ > kMaxNesting) {
      return SetError(absl::StrCat("Syntax Error: nested more than ", kMaxNesting, " levels deep."));
    }
    return true;
  }
  void Leave() { --depth_; }

  bool SelectionSet(std::vector<Selection>* out) {
    if (!Enter()) return false;
    if (!ExpectPunct("{")) return false;
    do {
      Selection s;
      if (!ParseSelection(&s)) return false;
      out->push_back(std::move(s));
    } while (!AtPunct("}"));
    Leave();
    return Advance();
  }

  bool ParseSelection(Selection* s) {
    s->loc = tok_.loc;
    if (AtPunct("...")) {
      if (!Advance()) return false;
      if (At(Token::Kind::kName) && tok_.value != "on") {
        s->kind = Selection::Kind::kFragmentSpread;
        s->name = tok_.value;
        if (!Advance()) return false;
        return Directives(&s->directives, false);
      }
      s->kind = Selection::Kind::kInlineFragment;
      if (AtName("on")) {
        if (!Advance() || !Name(&s->type_condition)) return false;
      }
      if (!Directives(&s->directives, false)) return false;
      return SelectionSet(&s->selections);
    }
    s->kind = Selection::Kind::kField;
    if (!Name(&s->name)) return false;
    if (AtPunct(":")) {
      s->alias = s->name;
      if (!Advance() || !Name(&s->name)) return false;
    }
    if (AtPunct("(") && !Arguments(&s->arguments, false)) return false;
    if (!Directives(&s->directives, false)) return false;
    if (AtPunct("{")) return SelectionSet(&s->selections);
    return true;
  }

  bool Arguments(std::vector<Argument>* out, bool constant) {
    if (!ExpectPunct("(")) return false;
    do {
      Argument a;
      a.loc = tok_.loc;
      if (!Name(&a.name) || !ExpectPunct(":") || !ParseValue(&a.value, constant)) return false;
      out->push_back(std::move(a));
    } while (!AtPunct(")"));
    return Advance();
  }

  bool Directives(std::vector<Directive>* out, bool constant) {
    while (AtPunct("@")) {
      Directive d;
      d.loc = tok_.loc;
      if (!Advance() || !Name(&d.name)) return false;
      if (AtPunct("(") && !Arguments(&d.arguments, constant)) return false;
      out->push_back(std::move(d));
    }
    return true;
  }

  bool VariableDefinitions(std::vector<VariableDefinition>* out) {
    if (!ExpectPunct("(")) return false;
    do {
      VariableDefinition v;
      v.loc = tok_.loc;
      if (!ExpectPunct("$") || !Name(&v.name) || !ExpectPunct(":") || !Type(&v.type)) return false;
      if (AtPunct("=")) {
        v.default_value.emplace();
        if (!Advance() || !ParseValue(&*v.default_value, true)) return false;
      }
      std::vector<Directive> ignored;
      if (!Directives(&ignored, true)) return false;
      out->push_back(std::move(v));
    } while (!AtPunct(")"));
    return Advance();
  }

  bool Type(TypeRef* out) {
    if (!Enter()) return false;
    if (AtPunct("[")) {
      TypeRef inner;
      if (!Advance() || !Type(&inner) || !ExpectPunct("]")) return false;
      *out = ListOf(std::move(inner));
    } else {
      std::string name;
      if (!Name(&name)) return false;
      *out = Named(std::move(name));
    }
    if (AtPunct("!")) {
      *out = NonNull(std::move(*out));
      if (!Advance()) return false;
    }
    Leave();
    return true;
  }

  bool ParseValue(Value* v, bool constant) {
    if (!Enter()) return false;
    v->loc = tok_.loc;
    switch (tok_.kind) {
      case Token::Kind::kInt:
        v->kind = Value::Kind::kInt;
        v->text = tok_.value;
        break;
      case Token::Kind::kFloat:
        v->kind = Value::Kind::kFloat;
        v->text = tok_.value;
        break;
      case Token::Kind::kString:
      case Token::Kind::kBlockString:
        v->kind = Value::Kind::kString;
        v->text = tok_.value;
        break;
      case Token::Kind::kName:
        if (tok_.value == "true" || tok_.value == "false") {
          v->kind = Value::Kind::kBoolean;
          v->boolean = tok_.value == "true";
        } else if (tok_.value == "null") {
          v->kind = Value::Kind::kNull;
        } else {
          v->kind = Value::Kind::kEnum;
          v->text = tok_.value;
        }
        break;
      case Token::Kind::kPunct:
        if (tok_.value == "$" && !constant) {
          v->kind = Value::Kind::kVariable;
          if (!Advance() || !Name(&v->text)) return false;
          Leave();
          return true;
        }
        if (tok_.value == "[") {
          v->kind = Value::Kind::kList;
          if (!Advance()) return false;
          while (!AtPunct("]")) {
            Value item;
            if (!ParseValue(&item, constant)) return false;
            v->list.push_back(std::move(item));
          }
          break;
        }
        if (tok_.value == "{") {
          v->kind = Value::Kind::kObject;
          if (!Advance()) return false;
          while (!AtPunct("}")) {
            std::string name;
            Value field;
            if (!Name(&name) || !ExpectPunct(":") || !ParseValue(&field, constant)) return false;
            v->fields.emplace_back(std::move(name), std::move(field));
          }
          break;
        }
        [[fallthrough]];
      default:
        return SetError(absl::StrCat("Syntax Error: Unexpected ", Describe(tok_), "."));
    }
    Leave();
    return Advance();
  }

  Lexer lexer_;
  Token tok_;
  std::optional<Error> error_;
  int depth_ = 0;
};

}  // namespace

ParseResult Parse(absl::string_view source) {
  if (source.size() > kMaxDocumentBytes) {
    ParseResult r;
    r.error = Error{absl::StrCat("Document is ", source.size(), " bytes; the limit is ",
                                 kMaxDocumentBytes, "."),
                    {},
                    nullptr};
    return r;
  }
  // Source text is Unicode: the first byte that is not valid UTF-8 is a
  // syntax error at its place.
  int line = 1, column = 1;
  for (size_t i = 0; i < source.size();) {
    unsigned char c = static_cast<unsigned char>(source[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = n > 0 && i + n <= source.size();
    for (size_t k = 1; ok && k < n; ++k) {
      ok = (static_cast<unsigned char>(source[i + k]) & 0xC0) == 0x80;
    }
    if (ok && n > 1) {  // no overlong forms, surrogates or code points past U+10FFFF
      uint32_t cp = c & (0xFF >> (n + 1));
      for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(source[i + k]) & 0x3F);
      static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
      ok = cp >= kMin[n] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    }
    if (!ok) {
      ParseResult r;
      r.error = Error{"Syntax Error: Invalid UTF-8.", {Location{line, column}}, nullptr};
      return r;
    }
    if (c == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
    i += n;
  }
  return Parser(source).Run();
}

}  // namespace arca::graphql
