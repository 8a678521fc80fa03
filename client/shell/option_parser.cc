#include "client/shell/option_parser.h"

namespace talus::shell {

std::optional<std::string> ParsedOptions::Value(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

namespace {

// "-rf" as {"r", "f"} when every letter is a known single-letter flag.
bool SplitCombined(const OptionSpec& spec, const std::string& word, std::vector<std::string>* out) {
  if (word.size() < 3) return false;
  for (size_t i = 1; i < word.size(); ++i) {
    std::string letter(1, word[i]);
    if (!spec.flags.count(letter)) return false;
    out->push_back(letter);
  }
  return true;
}

}  // namespace

Result<ParsedOptions> ParseOptions(const OptionSpec& spec, std::vector<std::string>* args) {
  ParsedOptions parsed;
  size_t pos = 0;
  while (pos < args->size()) {
    const std::string& word = (*args)[pos];
    if (word.size() < 2 || word[0] != '-') break;
    if (word == "--") {
      ++pos;
      break;
    }
    std::string name = word.substr(1);
    std::vector<std::string> letters;
    if (spec.flags.count(name)) {
      parsed.flags_.insert(name);
      ++pos;
    } else if (spec.value_options.count(name)) {
      if (pos + 1 >= args->size()) {
        return Status::InvalidArgument("Missing value for option " + word);
      }
      parsed.values_[name] = (*args)[pos + 1];
      pos += 2;
    } else if (SplitCombined(spec, word, &letters)) {
      parsed.flags_.insert(letters.begin(), letters.end());
      ++pos;
    } else if (spec.stop_at_unknown) {
      break;
    } else {
      return Status::InvalidArgument("Illegal option " + word);
    }
  }
  args->erase(args->begin(), args->begin() + static_cast<std::ptrdiff_t>(pos));
  if (args->size() < spec.min_args) {
    return Status::InvalidArgument("Not enough arguments: expected " +
                                   std::to_string(spec.min_args) + " but got " +
                                   std::to_string(args->size()));
  }
  if (args->size() > spec.max_args) {
    return Status::InvalidArgument("Too many arguments: expected " + std::to_string(spec.max_args) +
                                   " but got " + std::to_string(args->size()));
  }
  return parsed;
}

}  // namespace talus::shell
