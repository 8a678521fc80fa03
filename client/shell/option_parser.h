#pragma once

#include <cstddef>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"

namespace talus::shell {

// The options one command accepts, in HDFS's style: each is a word starting with '-', given
// before the other arguments.
struct OptionSpec {
  size_t min_args = 0;
  size_t max_args = std::numeric_limits<size_t>::max();
  // Names without their dash: "R", "skipTrash", "-ignore-fail-on-non-empty".
  std::set<std::string> flags;
  // Options that take the next word as their value, e.g. "t" for -touch -t TIMESTAMP.
  std::set<std::string> value_options;
  // Stop at the first unknown option instead of rejecting it, for -chmod whose MODE may itself
  // start with '-' ("-chmod -R -w /a").
  bool stop_at_unknown = false;
};

class ParsedOptions {
 public:
  bool Has(const std::string& name) const { return flags_.count(name) > 0; }
  std::optional<std::string> Value(const std::string& name) const;
  // Flags given, each once, in a stable order.
  const std::set<std::string>& flags() const { return flags_; }

 private:
  friend Result<ParsedOptions> ParseOptions(const OptionSpec&, std::vector<std::string>*);
  std::set<std::string> flags_;
  std::map<std::string, std::string> values_;
};

// Removes the leading options from `args` and checks how many arguments remain. Single-letter
// flags may be combined ("-rf" is "-r -f"); "--" ends the options; "-" alone is an argument.
// Errors are InvalidArgument with HDFS's wording ("Illegal option -x", "Not enough arguments:
// expected 1 but got 0", "Too many arguments: expected 1 but got 2").
Result<ParsedOptions> ParseOptions(const OptionSpec& spec, std::vector<std::string>* args);

}  // namespace talus::shell
