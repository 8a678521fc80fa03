#include "client/shell/glob.h"

namespace talus::shell {

bool HasGlob(std::string_view path) {
  for (size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '\\') {
      ++i;
    } else if (c == '*' || c == '?' || c == '[' || c == '{') {
      return true;
    }
  }
  return false;
}

std::string Unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) ++i;
    out += s[i];
  }
  return out;
}

namespace {

Status ExpandInto(std::string_view pattern, size_t limit, std::vector<std::string>* out) {
  // Find the first unquoted '{' and its matching '}'.
  size_t open = std::string_view::npos;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\') {
      ++i;
    } else if (pattern[i] == '{') {
      open = i;
      break;
    }
  }
  if (open == std::string_view::npos) {
    if (out->size() >= limit) {
      return Status::InvalidArgument("Illegal file pattern: expands to more than " +
                                     std::to_string(limit) + " patterns");
    }
    out->emplace_back(pattern);
    return Status::OK();
  }
  std::vector<std::string_view> alternatives;
  int depth = 0;
  size_t alt_start = open + 1;
  size_t close = std::string_view::npos;
  for (size_t i = open; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\') {
      ++i;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}') {
      if (--depth == 0) {
        alternatives.push_back(pattern.substr(alt_start, i - alt_start));
        close = i;
        break;
      }
    } else if (c == ',' && depth == 1) {
      alternatives.push_back(pattern.substr(alt_start, i - alt_start));
      alt_start = i + 1;
    }
  }
  if (close == std::string_view::npos) {
    return Status::InvalidArgument("Illegal file pattern: Unclosed group near index " +
                                   std::to_string(open));
  }
  std::string_view prefix = pattern.substr(0, open);
  std::string_view suffix = pattern.substr(close + 1);
  for (std::string_view alt : alternatives) {
    std::string next;
    next.reserve(prefix.size() + alt.size() + suffix.size());
    next.append(prefix).append(alt).append(suffix);
    RETURN_NOT_OK(ExpandInto(next, limit, out));
  }
  return Status::OK();
}

}  // namespace

Result<std::vector<std::string>> ExpandBraces(std::string_view pattern, size_t limit) {
  std::vector<std::string> out;
  RETURN_NOT_OK(ExpandInto(pattern, limit, &out));
  return out;
}

Result<GlobPattern> GlobPattern::Compile(std::string_view component) {
  GlobPattern pattern;
  for (size_t i = 0; i < component.size(); ++i) {
    char c = component[i];
    Token token;
    if (c == '\\') {
      if (i + 1 == component.size()) {
        return Status::InvalidArgument("Illegal file pattern: trailing backslash in '" +
                                       std::string(component) + "'");
      }
      token.literal = component[++i];
    } else if (c == '*') {
      token.kind = Token::kStar;
    } else if (c == '?') {
      token.kind = Token::kAnyByte;
    } else if (c == '[') {
      token.kind = Token::kSet;
      size_t j = i + 1;
      if (j < component.size() && (component[j] == '!' || component[j] == '^')) {
        token.negated = true;
        ++j;
      }
      bool closed = false;
      bool first = true;
      while (j < component.size()) {
        char lo = component[j];
        if (lo == ']' && !first) {
          closed = true;
          break;
        }
        first = false;
        if (lo == '\\' && j + 1 < component.size()) lo = component[++j];
        char hi = lo;
        if (j + 2 < component.size() && component[j + 1] == '-' && component[j + 2] != ']') {
          j += 2;
          hi = component[j];
          if (hi == '\\' && j + 1 < component.size()) hi = component[++j];
          if (static_cast<unsigned char>(hi) < static_cast<unsigned char>(lo)) {
            return Status::InvalidArgument("Illegal file pattern: invalid range " +
                                           std::string(1, lo) + "-" + std::string(1, hi) + " in '" +
                                           std::string(component) + "'");
          }
        }
        token.ranges.emplace_back(static_cast<unsigned char>(lo), static_cast<unsigned char>(hi));
        ++j;
      }
      if (!closed) {
        return Status::InvalidArgument("Illegal file pattern: Unclosed character class in '" +
                                       std::string(component) + "'");
      }
      i = j;
    } else {
      token.literal = c;
    }
    pattern.tokens_.push_back(std::move(token));
  }
  return pattern;
}

bool GlobPattern::TokenMatches(const Token& token, unsigned char c) const {
  switch (token.kind) {
    case Token::kLiteral:
      return static_cast<unsigned char>(token.literal) == c;
    case Token::kAnyByte:
      return true;
    case Token::kStar:
      return true;
    case Token::kSet: {
      bool in = false;
      for (const auto& [lo, hi] : token.ranges) {
        if (c >= lo && c <= hi) {
          in = true;
          break;
        }
      }
      return in != token.negated;
    }
  }
  return false;
}

bool GlobPattern::Matches(std::string_view name) const {
  // Greedy matching that backtracks only to the most recent star: linear in practice and never
  // exponential, since a later star subsumes what an earlier one could have absorbed.
  size_t t = 0, n = 0;
  size_t star_t = std::string_view::npos, star_n = 0;
  while (n < name.size()) {
    if (t < tokens_.size() && tokens_[t].kind == Token::kStar) {
      star_t = t++;
      star_n = n;
    } else if (t < tokens_.size() && TokenMatches(tokens_[t], name[n])) {
      ++t;
      ++n;
    } else if (star_t != std::string_view::npos) {
      t = star_t + 1;
      n = ++star_n;
    } else {
      return false;
    }
  }
  while (t < tokens_.size() && tokens_[t].kind == Token::kStar) ++t;
  return t == tokens_.size();
}

}  // namespace talus::shell
