#include "services/gateway/http_util.h"

#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/paths.h"

namespace arca::gateway {

absl::StatusOr<nlohmann::ordered_json> ParseJson(absl::string_view text, absl::string_view what) {
  // Brackets outside strings; a string's escaped quote does not end it.
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) {
        return absl::InvalidArgumentError(absl::StrCat(
            what, " nests arrays and objects deeper than ", kMaxJsonDepth, " levels"));
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  auto json = nlohmann::ordered_json::parse(text.begin(), text.end(), nullptr,
                                            /*allow_exceptions=*/false);
  if (json.is_discarded()) return absl::InvalidArgumentError(absl::StrCat(what, " is not valid JSON"));
  return json;
}
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool ParseNonNegative(absl::string_view text, int64_t* out) {
  if (text.empty() || !absl::ascii_isdigit(static_cast<unsigned char>(text[0]))) return false;
  return absl::SimpleAtoi(text, out) && *out >= 0;
}

}  // namespace

absl::StatusOr<std::string> PercentDecode(absl::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      int hi = i + 2 < in.size() ? HexValue(in[i + 1]) : -1;
      int lo = i + 2 < in.size() ? HexValue(in[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("bad percent-encoding at \"", in.substr(i, 3), "\""));
      }
      char decoded = static_cast<char>(hi * 16 + lo);
      if (decoded == '\0') return absl::InvalidArgumentError("percent-encoded NUL (%00)");
      out.push_back(decoded);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  // Everything past here (routes, protobuf strings, JSON) is text.
  if (!IsValidUtf8(out)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", absl::CHexEscape(in.substr(0, 200)), "\" is not UTF-8 once decoded"));
  }
  return out;
}

std::string PercentEncode(absl::string_view in, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : in) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
        (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

absl::StatusOr<QueryParams> QueryParams::Parse(absl::string_view text) {
  QueryParams q;
  for (absl::string_view pair : absl::StrSplit(text, '&', absl::SkipEmpty())) {
    std::vector<absl::string_view> kv = absl::StrSplit(pair, absl::MaxSplits('=', 1));
    auto key = PercentDecode(kv[0], true);
    if (!key.ok()) return key.status();
    auto value = PercentDecode(kv.size() > 1 ? kv[1] : "", true);
    if (!value.ok()) return value.status();
    q.params_.emplace_back(*std::move(key), *std::move(value));
  }
  return q;
}

std::optional<std::string> QueryParams::Get(absl::string_view key) const {
  for (auto it = params_.rbegin(); it != params_.rend(); ++it) {
    if (it->first == key) return it->second;
  }
  return std::nullopt;
}

std::string QueryParams::GetOr(absl::string_view key, std::string fallback) const {
  auto v = Get(key);
  return v ? *v : fallback;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseMultipartForm(
    absl::string_view content_type, absl::string_view body) {
  std::string boundary;
  for (absl::string_view param : absl::StrSplit(content_type, ';')) {
    param = absl::StripAsciiWhitespace(param);
    if (absl::StartsWithIgnoreCase(param, "boundary=")) {
      boundary = std::string(absl::StripAsciiWhitespace(param.substr(9)));
      if (boundary.size() >= 2 && boundary.front() == '"' && boundary.back() == '"') {
        boundary = boundary.substr(1, boundary.size() - 2);
      }
    }
  }
  if (boundary.empty() || boundary.size() > 200) {
    return absl::InvalidArgumentError("multipart/form-data needs a boundary parameter");
  }
  auto malformed = [] { return absl::InvalidArgumentError("malformed multipart/form-data body"); };
  const std::string delimiter = "--" + boundary;
  size_t pos = body.find(delimiter);
  if (pos == absl::string_view::npos) return malformed();
  std::vector<std::pair<std::string, std::string>> fields;
  for (;;) {
    pos += delimiter.size();
    if (body.substr(pos, 2) == "--") return fields;  // the closing delimiter
    if (body.substr(pos, 2) != "\r\n") return malformed();
    pos += 2;
    size_t end = body.find("\r\n" + delimiter, pos);
    if (end == absl::string_view::npos) return malformed();
    absl::string_view part = body.substr(pos, end - pos);
    size_t split = part.find("\r\n\r\n");
    if (split == absl::string_view::npos) return malformed();
    std::string name;
    for (absl::string_view line : absl::StrSplit(part.substr(0, split), "\r\n")) {
      if (!absl::StartsWithIgnoreCase(line, "content-disposition:")) continue;
      for (absl::string_view param : absl::StrSplit(line, ';')) {
        param = absl::StripAsciiWhitespace(param);
        if (absl::StartsWith(param, "name=\"") && absl::EndsWith(param, "\"") &&
            param.size() >= 7) {
          name = std::string(param.substr(6, param.size() - 7));
        }
      }
    }
    if (name.empty()) return malformed();
    fields.emplace_back(std::move(name), std::string(part.substr(split + 4)));
    pos = end + 2;
  }
}

absl::StatusOr<Target> ParseTarget(absl::string_view target) {
  if (target.empty() || target[0] != '/') {
    return absl::InvalidArgumentError("request target must be an absolute path");
  }
  Target t;
  absl::string_view path = target, query;
  if (auto q = target.find('?'); q != absl::string_view::npos) {
    path = target.substr(0, q);
    query = target.substr(q + 1);
  }
  if (auto f = query.find('#'); f != absl::string_view::npos) query = query.substr(0, f);
  auto decoded = PercentDecode(path);
  if (!decoded.ok()) return decoded.status();
  t.path = *std::move(decoded);
  for (absl::string_view seg : absl::StrSplit(path.substr(1), '/')) {
    auto s = PercentDecode(seg);
    if (!s.ok()) return s.status();
    t.segments.push_back(*std::move(s));
  }
  // "/a/b/" routes as "/a/b".
  if (t.segments.size() > 1 && t.segments.back().empty()) t.segments.pop_back();
  auto params = QueryParams::Parse(query);
  if (!params.ok()) return params.status();
  t.query = *std::move(params);
  return t;
}

bool MatchRoute(absl::string_view pattern, const std::vector<std::string>& segments,
                std::map<std::string, std::string>* captures) {
  std::vector<absl::string_view> parts = absl::StrSplit(pattern.substr(1), '/');
  std::map<std::string, std::string> found;
  for (size_t i = 0; i < parts.size(); ++i) {
    absl::string_view p = parts[i];
    if (absl::StartsWith(p, "{*")) {
      if (i >= segments.size()) return false;
      std::vector<std::string> rest(segments.begin() + i, segments.end());
      found[std::string(p.substr(2, p.size() - 3))] = absl::StrJoin(rest, "/");
      *captures = std::move(found);
      return true;
    }
    if (i >= segments.size()) return false;
    if (absl::StartsWith(p, "{")) {
      if (segments[i].empty()) return false;
      found[std::string(p.substr(1, p.size() - 2))] = segments[i];
    } else if (p != segments[i]) {
      return false;
    }
  }
  if (parts.size() != segments.size()) return false;
  *captures = std::move(found);
  return true;
}

absl::StatusOr<std::optional<ByteRange>> ParseRange(absl::string_view header, int64_t size) {
  absl::string_view spec = absl::StripAsciiWhitespace(header);
  if (spec.empty() || !absl::ConsumePrefix(&spec, "bytes=")) return std::nullopt;
  if (absl::StrContains(spec, ',')) return std::nullopt;  // several ranges: send it all
  auto dash = spec.find('-');
  if (dash == absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("malformed Range \"", header, "\""));
  }
  absl::string_view first = absl::StripAsciiWhitespace(spec.substr(0, dash));
  absl::string_view last = absl::StripAsciiWhitespace(spec.substr(dash + 1));
  ByteRange r;
  if (first.empty()) {  // suffix: the last N bytes
    int64_t n = 0;
    if (!ParseNonNegative(last, &n)) {
      return absl::InvalidArgumentError(absl::StrCat("malformed Range \"", header, "\""));
    }
    if (n == 0 || size == 0) {
      return absl::OutOfRangeError(absl::StrCat("range ", header, " of a ", size, "-byte file"));
    }
    r.length = std::min(n, size);
    r.offset = size - r.length;
    return r;
  }
  int64_t start = 0, end = std::numeric_limits<int64_t>::max();
  if (!ParseNonNegative(first, &start) || (!last.empty() && !ParseNonNegative(last, &end)) ||
      end < start) {
    return absl::InvalidArgumentError(absl::StrCat("malformed Range \"", header, "\""));
  }
  if (start >= size) {
    return absl::OutOfRangeError(absl::StrCat("range ", header, " of a ", size, "-byte file"));
  }
  r.offset = start;
  r.length = std::min(end, size - 1) - start + 1;
  return r;
}

std::string ContentTypeFor(absl::string_view path) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {"txt", "text/plain; charset=utf-8"},  {"log", "text/plain; charset=utf-8"},
      {"csv", "text/csv; charset=utf-8"},    {"tsv", "text/tab-separated-values; charset=utf-8"},
      {"md", "text/markdown; charset=utf-8"}, {"html", "text/html; charset=utf-8"},
      {"htm", "text/html; charset=utf-8"},   {"css", "text/css; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"}, {"json", "application/json"},
      {"xml", "application/xml"},            {"yaml", "application/yaml"},
      {"yml", "application/yaml"},           {"pdf", "application/pdf"},
      {"png", "image/png"},                  {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},                {"gif", "image/gif"},
      {"svg", "image/svg+xml"},              {"webp", "image/webp"},
      {"zip", "application/zip"},            {"gz", "application/gzip"},
      {"tgz", "application/gzip"},           {"tar", "application/x-tar"},
      {"parquet", "application/vnd.apache.parquet"},
      {"ipynb", "application/x-ipynb+json"},
  };
  absl::string_view name = path.substr(path.rfind('/') + 1);
  auto dot = name.rfind('.');
  if (dot == absl::string_view::npos || dot == 0) return "application/octet-stream";
  std::string ext = absl::AsciiStrToLower(name.substr(dot + 1));
  for (const auto& [e, type] : kTypes) {
    if (ext == e) return type;
  }
  return "application/octet-stream";
}

std::string ContentDisposition(absl::string_view path) {
  absl::string_view name = path.substr(path.rfind('/') + 1);
  std::string ascii;
  for (unsigned char c : name) {
    ascii.push_back(c < 0x20 || c >= 0x7f || c == '"' || c == '\\' ? '_' : static_cast<char>(c));
  }
  return absl::StrCat("attachment; filename=\"", ascii, "\"; filename*=UTF-8''",
                      PercentEncode(name));
}

bool IfNoneMatchHits(absl::string_view header, absl::string_view etag) {
  for (absl::string_view tag : absl::StrSplit(header, ',')) {
    tag = absl::StripAsciiWhitespace(tag);
    absl::ConsumePrefix(&tag, "W/");
    if (tag == "*" || tag == etag) return true;
  }
  return false;
}

}  // namespace arca::gateway
