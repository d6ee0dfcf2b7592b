#ifndef ARCA_SERVICES_GATEWAY_GRAPHQL_LEXER_H_
#define ARCA_SERVICES_GATEWAY_GRAPHQL_LEXER_H_

// The GraphQL lexer (spec section 2 and B.1): ignored tokens, punctuators,
// names, numbers, strings and block strings with their escapes. Internal
// to the parser.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "services/gateway/graphql/graphql.h"

namespace arca::graphql {

// Nesting of selection sets, lists, objects and types the parser follows
// before giving up (validation caps selection depth far lower).
inline constexpr int kMaxNesting = 64;

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

}  // namespace arca::graphql

#endif  // ARCA_SERVICES_GATEWAY_GRAPHQL_LEXER_H_
