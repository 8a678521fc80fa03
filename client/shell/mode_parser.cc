#include "client/shell/mode_parser.h"

#include <string>

namespace talus::shell {

namespace {

constexpr uint32_t kSticky = 01000;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "755", "0755", "1777", "+755"; nullopt when `s` is not an octal mode.
std::optional<uint32_t> ParseOctal(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.size() != 3 && s.size() != 4) return std::nullopt;
  if (s.size() == 4 && s.front() != '0' && s.front() != '1') return std::nullopt;
  uint32_t mode = 0;
  for (char c : s) {
    if (c < '0' || c > '7') return std::nullopt;
    mode = mode * 8 + static_cast<uint32_t>(c - '0');
  }
  return mode;
}

Status Invalid(std::string_view text, std::string_view why) {
  return Status::InvalidArgument("mode '" + std::string(text) + "' " + std::string(why));
}

// Spreads r/w/x bits (4/2/1) over the selected classes.
uint32_t Spread(uint32_t rwx, bool user, bool group, bool others) {
  uint32_t out = 0;
  if (user) out |= rwx << 6;
  if (group) out |= rwx << 3;
  if (others) out |= rwx;
  return out;
}

}  // namespace

Result<ModeSpec> ModeSpec::Parse(std::string_view text) {
  ModeSpec spec;
  std::string_view trimmed = Trim(text);
  if (trimmed.empty()) return Invalid(text, "is empty");
  std::string_view digits = trimmed.front() == '+' ? trimmed.substr(1) : trimmed;
  if (!digits.empty() && digits.front() >= '0' && digits.front() <= '9') {
    std::optional<uint32_t> octal = ParseOctal(trimmed);
    if (!octal) {
      return Invalid(text, "is not an octal mode of 3 digits, or 4 starting with 0 or 1");
    }
    spec.octal_ = *octal;
    return spec;
  }
  size_t start = 0;
  while (start <= trimmed.size()) {
    size_t end = trimmed.find(',', start);
    if (end == std::string_view::npos) end = trimmed.size();
    std::string_view part = Trim(trimmed.substr(start, end - start));
    if (part.empty()) return Invalid(text, "has an empty clause");
    Clause clause{false, false, false, {}};
    size_t i = 0;
    for (; i < part.size(); ++i) {
      char c = part[i];
      if (c == 'u') {
        clause.user = true;
      } else if (c == 'g') {
        clause.group = true;
      } else if (c == 'o') {
        clause.others = true;
      } else if (c == 'a') {
        clause.user = clause.group = clause.others = true;
      } else {
        break;
      }
    }
    if (!clause.user && !clause.group && !clause.others) {
      clause.user = clause.group = clause.others = true;
    }
    if (i == part.size()) return Invalid(text, "has a clause without + - or =");
    while (i < part.size()) {
      char op = part[i];
      if (op != '+' && op != '-' && op != '=') {
        return Invalid(text,
                       "has '" + std::string(1, op) + "' where one of u g o a + - = was expected");
      }
      ++i;
      Action action{op, 0, false, false};
      size_t letters = 0;
      for (; i < part.size(); ++i, ++letters) {
        char c = part[i];
        if (c == 'r') {
          action.rwx |= 4;
        } else if (c == 'w') {
          action.rwx |= 2;
        } else if (c == 'x') {
          action.rwx |= 1;
        } else if (c == 'X') {
          action.cond_x = true;
        } else if (c == 't') {
          action.sticky = true;
        } else if (c == '+' || c == '-' || c == '=') {
          break;
        } else {
          return Invalid(text,
                         "has '" + std::string(1, c) + "' where one of r w x X t was expected");
        }
      }
      if (letters == 0 && op != '=') {
        return Invalid(text, "has '" + std::string(1, op) + "' without permission letters");
      }
      clause.actions.push_back(action);
    }
    spec.clauses_.push_back(std::move(clause));
    if (end == trimmed.size()) break;
    start = end + 1;
  }
  return spec;
}

uint32_t ModeSpec::Apply(uint32_t mode, bool is_directory) const {
  if (octal_) return (mode & ~07777u) | *octal_;
  for (const Clause& clause : clauses_) {
    for (const Action& action : clause.actions) {
      uint32_t rwx = action.rwx;
      if (action.cond_x && (is_directory || (mode & 0111) != 0)) rwx |= 1;
      uint32_t bits = Spread(rwx, clause.user, clause.group, clause.others);
      uint32_t sticky = (action.sticky && clause.others) ? kSticky : 0;
      switch (action.op) {
        case '+':
          mode |= bits | sticky;
          break;
        case '-':
          mode &= ~(bits | sticky);
          break;
        case '=': {
          uint32_t affected = Spread(7, clause.user, clause.group, clause.others);
          if (clause.others) affected |= kSticky;
          mode = (mode & ~affected) | bits | sticky;
          break;
        }
      }
    }
  }
  return mode;
}

Result<uint32_t> ParseUmask(std::string_view text) {
  std::string_view trimmed = Trim(text);
  if (!trimmed.empty() && trimmed.front() >= '0' && trimmed.front() <= '9') {
    // Leading zeros are allowed in any number ("0022").
    while (trimmed.size() > 3 && trimmed.front() == '0') trimmed.remove_prefix(1);
    std::optional<uint32_t> octal = trimmed.size() == 3 ? ParseOctal(trimmed) : std::nullopt;
    if (!octal) {
      return Status::InvalidArgument("umask '" + std::string(text) +
                                     "' is not 3 octal digits or a symbolic mode");
    }
    return *octal;
  }
  Result<ModeSpec> spec = ModeSpec::Parse(trimmed);
  if (!spec.ok()) {
    return Status::InvalidArgument("umask '" + std::string(text) +
                                   "' is not 3 octal digits or a symbolic mode");
  }
  // The symbolic form says what new files may keep; the umask is what they lose.
  uint32_t keep = spec->Apply(0777, /*is_directory=*/true) & 0777;
  return 0777 & ~keep;
}

}  // namespace talus::shell
