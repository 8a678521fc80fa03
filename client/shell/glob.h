#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace talus::shell {

// Glob patterns as HDFS's shell expands them: * (any run of bytes within one path component),
// ? (one byte), [abc] [a-z] [!a-z] [^a-z] (one byte of a set), {a,b} (alternatives, which may
// nest and may contain '/'), and \ to quote the next character.

// True when `path` holds an unquoted * ? [ or {.
bool HasGlob(std::string_view path);

// Expands every {a,b} group into whole patterns, in order: "/x/{a,b{1,2}}" gives "/x/a",
// "/x/b1", "/x/b2". Errors on an unclosed group or more than `limit` results.
Result<std::vector<std::string>> ExpandBraces(std::string_view pattern, size_t limit = 4096);

// Drops the backslashes that quote characters: "a\*b" -> "a*b".
std::string Unescape(std::string_view s);

// One path component of a pattern (braces already expanded).
class GlobPattern {
 public:
  static Result<GlobPattern> Compile(std::string_view component);
  bool Matches(std::string_view name) const;

 private:
  struct Token {
    enum Kind { kLiteral, kAnyByte, kStar, kSet };
    Kind kind = kLiteral;
    char literal = 0;
    bool negated = false;
    std::vector<std::pair<unsigned char, unsigned char>> ranges;
  };
  bool TokenMatches(const Token& token, unsigned char c) const;

  std::vector<Token> tokens_;
};

}  // namespace talus::shell
