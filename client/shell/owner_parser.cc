#include "client/shell/owner_parser.h"

namespace talus::shell {

namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '/' || c == '@';
}

bool IsName(std::string_view s) {
  for (char c : s) {
    if (!IsNameChar(c)) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<OwnerGroup> ParseOwnerGroup(std::string_view text) {
  std::string_view s = Trim(text);
  OwnerGroup out;
  size_t colon = s.find(':');
  std::string_view owner = s.substr(0, colon);
  std::string_view group =
      colon == std::string_view::npos ? std::string_view() : s.substr(colon + 1);
  if (!IsName(owner) || !IsName(group)) {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' does not match expected pattern for [owner][:group].");
  }
  if (owner.empty() && group.empty()) {
    return Status::InvalidArgument("'" + std::string(text) + "' does not specify owner or group.");
  }
  out.owner = std::string(owner);
  out.group = std::string(group);
  return out;
}

Result<std::string> ParseGroup(std::string_view text) {
  std::string_view s = Trim(text);
  if (s.empty() || !IsName(s)) {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' does not match expected pattern for group");
  }
  return std::string(s);
}

}  // namespace talus::shell
