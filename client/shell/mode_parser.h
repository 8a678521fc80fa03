#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace talus::shell {

// A mode as `-chmod` takes it, parsed once and applied to each file.
//
// Octal: 3 digits, or 4 whose first is 0 or 1 (the sticky bit), e.g. 755 or 1777; the whole mode
// is replaced, as in HDFS.
// Symbolic: comma-separated clauses WHO ACTION..., WHO being any of u g o a (none means all; no
// umask is applied), ACTION an operator + - = followed by letters from r w x X t, e.g.
// "u+x", "go-w", "a=r,u+w", "u+r-w", "o=" (clears). X grants execute only to directories and to
// files that some class may already execute; t is the sticky bit and belongs to the others
// class. Clauses apply left to right, like chmod(1).
class ModeSpec {
 public:
  // InvalidArgument saying what is wrong when `text` is neither form.
  static Result<ModeSpec> Parse(std::string_view text);

  // The mode a file with permission bits `mode` ends up with.
  uint32_t Apply(uint32_t mode, bool is_directory) const;

 private:
  struct Action {
    char op;       // '+', '-' or '='
    uint32_t rwx;  // r=4 w=2 x=1, before shifting into the classes
    bool cond_x;   // X
    bool sticky;   // t
  };
  struct Clause {
    bool user, group, others;
    std::vector<Action> actions;
  };

  std::optional<uint32_t> octal_;
  std::vector<Clause> clauses_;
};

// fs.permissions.umask-mode as HDFS takes it: octal ("022", "0027") or symbolic, where the
// symbolic form names the permissions to keep ("u=rwx,g=rx,o=" is umask 027).
Result<uint32_t> ParseUmask(std::string_view text);

}  // namespace talus::shell
