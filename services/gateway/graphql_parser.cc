// GraphQL lexer and parser for executable documents (spec sections 2 and
// B.1-B.3): ignored tokens, punctuators, names, numbers, strings and block
// strings with their escapes, then operations, fragments and values.

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "services/gateway/graphql.h"

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
  return out;
}

namespace {

// Nesting of selection sets, lists, objects and types the parser follows
// before giving up (validation caps selection depth far lower).
constexpr int kMaxNesting = 64;

struct Token {
  enum class Kind { kEnd, kPunct, kName, kInt, kFloat, kString, kBlockString };
  Kind kind = Kind::kEnd;
  std::string value;  // punctuator text, name, number text, decoded string
  Location loc;
};

std::string Describe(const Token& t) {
  switch (t.kind) {
    case Token::Kind::kEnd: return "<EOF>";
    case Token::Kind::kPunct: return absl::StrCat("\"", t.value, "\"");
    case Token::Kind::kName: return absl::StrCat("Name \"", t.value, "\"");
    case Token::Kind::kInt: return absl::StrCat("Int \"", t.value, "\"");
    case Token::Kind::kFloat: return absl::StrCat("Float \"", t.value, "\"");
    case Token::Kind::kString: return "String";
    case Token::Kind::kBlockString: return "BlockString";
  }
  return "?";
}

bool IsNameStart(char c) { return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool IsNameContinue(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// The spec's BlockStringValue(): common indentation and blank first and
// last lines removed, lines joined with \n.
std::string BlockStringValue(const std::string& raw) {
  std::vector<std::string> lines;
  std::string line;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\r' || raw[i] == '\n') {
      lines.push_back(line);
      line.clear();
      if (raw[i] == '\r' && i + 1 < raw.size() && raw[i + 1] == '\n') ++i;
    } else {
      line.push_back(raw[i]);
    }
  }
  lines.push_back(line);
  auto indent_of = [](const std::string& l) {
    size_t n = 0;
    while (n < l.size() && (l[n] == ' ' || l[n] == '\t')) ++n;
    return n;
  };
  std::optional<size_t> common;
  for (size_t i = 1; i < lines.size(); ++i) {
    size_t indent = indent_of(lines[i]);
    if (indent < lines[i].size() && (!common || indent < *common)) common = indent;
  }
  if (common) {
    for (size_t i = 1; i < lines.size(); ++i) {
      lines[i] = lines[i].size() >= *common ? lines[i].substr(*common) : "";
    }
  }
  auto blank = [&](const std::string& l) { return indent_of(l) == l.size(); };
  while (!lines.empty() && blank(lines.front())) lines.erase(lines.begin());
  while (!lines.empty() && blank(lines.back())) lines.pop_back();
  return absl::StrJoin(lines, "\n");
}

class Lexer {
 public:
  explicit Lexer(absl::string_view src) : src_(src) {}

  // Reads the next token into *t; an error is a syntax error.
  std::optional<Error> Next(Token* t) {
    SkipIgnored();
    t->loc = Here();
    t->value.clear();
    if (pos_ >= src_.size()) {
      t->kind = Token::Kind::kEnd;
      return std::nullopt;
    }
    char c = src_[pos_];
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t') {
      return Fail(absl::StrCat("Invalid character: U+", absl::Hex(c, absl::kZeroPad4), "."));
    }
    if (c == '.') {
      if (src_.substr(pos_, 3) != "...") return Fail("Unexpected \".\"; did you mean \"...\"?");
      Advance(3);
      t->kind = Token::Kind::kPunct;
      t->value = "...";
      return std::nullopt;
    }
    static constexpr absl::string_view kPunctuators = "!$&()/:=@[]{|}";
    if (c != '/' && kPunctuators.find(c) != absl::string_view::npos) {
      Advance(1);
      t->kind = Token::Kind::kPunct;
      t->value = std::string(1, c);
      return std::nullopt;
    }
    if (IsNameStart(c)) {
      size_t start = pos_;
      while (pos_ < src_.size() && IsNameContinue(src_[pos_])) Advance(1);
      t->kind = Token::Kind::kName;
      t->value = std::string(src_.substr(start, pos_ - start));
      return std::nullopt;
    }
    if (c == '-' || IsDigit(c)) return Number(t);
    if (c == '"') {
      if (src_.substr(pos_, 3) == "\"\"\"") return BlockString(t);
      return String(t);
    }
    return Fail(absl::StrCat("Unexpected character \"", std::string(Utf8At(pos_)), "\"."));
  }

 private:
  Location Here() const { return Location{line_, column_}; }
  std::optional<Error> Fail(std::string message) const {
    return Error{absl::StrCat("Syntax Error: ", message), {Here()}, nullptr};
  }
  absl::string_view Utf8At(size_t p) const {
    size_t n = 1;
    while (p + n < src_.size() && (static_cast<unsigned char>(src_[p + n]) & 0xC0) == 0x80) ++n;
    return src_.substr(p, n);
  }
  // Moves over n bytes of one line; columns count characters, not bytes.
  void Advance(size_t n) {
    for (size_t i = 0; i < n && pos_ < src_.size(); ++i, ++pos_) {
      if ((static_cast<unsigned char>(src_[pos_]) & 0xC0) != 0x80) ++column_;
    }
  }
  void NewLine(size_t bytes) {
    pos_ += bytes;
    ++line_;
    column_ = 1;
  }
  void SkipIgnored() {
    while (pos_ < src_.size()) {
      char c = src_[pos_];
      if (c == ' ' || c == '\t' || c == ',') {
        Advance(1);
      } else if (c == '\n') {
        NewLine(1);
      } else if (c == '\r') {
        NewLine(pos_ + 1 < src_.size() && src_[pos_ + 1] == '\n' ? 2 : 1);
      } else if (src_.substr(pos_, 3) == "\xEF\xBB\xBF") {  // BOM
        Advance(3);
      } else if (c == '#') {
        while (pos_ < src_.size() && src_[pos_] != '\n' && src_[pos_] != '\r') Advance(1);
      } else {
        return;
      }
    }
  }

  std::optional<Error> Number(Token* t) {
    size_t start = pos_;
    bool is_float = false;
    if (src_[pos_] == '-') Advance(1);
    if (pos_ < src_.size() && src_[pos_] == '0') {
      Advance(1);
      if (pos_ < src_.size() && IsDigit(src_[pos_])) {
        return Fail(absl::StrCat("Invalid number, unexpected digit after 0: \"", std::string(1, src_[pos_]), "\"."));
      }
    } else if (!Digits()) {
      return Fail("Invalid number, expected digit.");
    }
    if (pos_ < src_.size() && src_[pos_] == '.') {
      is_float = true;
      Advance(1);
      if (!Digits()) return Fail("Invalid number, expected digit after \".\".");
    }
    if (pos_ < src_.size() && (src_[pos_] == 'e' || src_[pos_] == 'E')) {
      is_float = true;
      Advance(1);
      if (pos_ < src_.size() && (src_[pos_] == '+' || src_[pos_] == '-')) Advance(1);
      if (!Digits()) return Fail("Invalid number, expected digit in the exponent.");
    }
    if (pos_ < src_.size() && (src_[pos_] == '.' || IsNameStart(src_[pos_]))) {
      return Fail(absl::StrCat("Invalid number, unexpected \"", std::string(1, src_[pos_]), "\" after it."));
    }
    t->kind = is_float ? Token::Kind::kFloat : Token::Kind::kInt;
    t->value = std::string(src_.substr(start, pos_ - start));
    return std::nullopt;
  }
  bool Digits() {
    size_t start = pos_;
    while (pos_ < src_.size() && IsDigit(src_[pos_])) Advance(1);
    return pos_ > start;
  }
  int Hex4(size_t p) const {
    if (p + 4 > src_.size()) return -1;
    int v = 0;
    for (size_t i = p; i < p + 4; ++i) {
      char c = src_[i];
      int d = IsDigit(c) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
      if (d < 0) return -1;
      v = v * 16 + d;
    }
    return v;
  }

  std::optional<Error> String(Token* t) {
    Advance(1);
    std::string out;
    while (pos_ < src_.size()) {
      char c = src_[pos_];
      if (c == '"') {
        Advance(1);
        t->kind = Token::Kind::kString;
        t->value = std::move(out);
        return std::nullopt;
      }
      if (c == '\n' || c == '\r') return Fail("Unterminated string.");
      if (static_cast<unsigned char>(c) < 0x20 && c != '\t') {
        return Fail(absl::StrCat("Invalid character within String: U+", absl::Hex(c, absl::kZeroPad4), "."));
      }
      if (c != '\\') {
        out.push_back(c);
        Advance(1);
        continue;
      }
      if (pos_ + 1 >= src_.size()) break;
      char e = src_[pos_ + 1];
      static constexpr absl::string_view kEscapes = "\"\\/bfnrt";
      static constexpr absl::string_view kValues = "\"\\/\b\f\n\r\t";
      if (auto k = kEscapes.find(e); k != absl::string_view::npos) {
        out.push_back(kValues[k]);
        Advance(2);
        continue;
      }
      if (e != 'u') {
        return Fail(absl::StrCat("Invalid character escape sequence: \"\\", std::string(Utf8At(pos_ + 1)), "\"."));
      }
      int cp = Hex4(pos_ + 2);
      if (cp < 0) return Fail("Invalid Unicode escape sequence.");
      Advance(6);
      if (cp >= 0xD800 && cp <= 0xDBFF) {  // a pair, or invalid
        int low = src_.substr(pos_, 2) == "\\u" ? Hex4(pos_ + 2) : -1;
        if (low < 0xDC00 || low > 0xDFFF) return Fail("Invalid Unicode escape sequence: a lone surrogate.");
        Advance(6);
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
      } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        return Fail("Invalid Unicode escape sequence: a lone surrogate.");
      }
      AppendUtf8(static_cast<uint32_t>(cp), &out);
    }
    return Fail("Unterminated string.");
  }

  std::optional<Error> BlockString(Token* t) {
    Advance(3);
    std::string raw;
    while (pos_ < src_.size()) {
      if (src_.substr(pos_, 3) == "\"\"\"") {
        Advance(3);
        t->kind = Token::Kind::kBlockString;
        t->value = BlockStringValue(raw);
        return std::nullopt;
      }
      if (src_.substr(pos_, 4) == "\\\"\"\"") {
        raw += "\"\"\"";
        Advance(4);
        continue;
      }
      char c = src_[pos_];
      if (c == '\n') {
        raw.push_back(c);
        NewLine(1);
      } else if (c == '\r') {
        raw.push_back(c);
        if (pos_ + 1 < src_.size() && src_[pos_ + 1] == '\n') {
          raw.push_back('\n');
          NewLine(2);
        } else {
          NewLine(1);
        }
      } else if (static_cast<unsigned char>(c) < 0x20 && c != '\t') {
        return Fail(absl::StrCat("Invalid character within String: U+", absl::Hex(c, absl::kZeroPad4), "."));
      } else {
        raw.push_back(c);
        Advance(1);
      }
    }
    return Fail("Unterminated string.");
  }

  absl::string_view src_;
  size_t pos_ = 0;
  int line_ = 1, column_ = 1;
};

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
