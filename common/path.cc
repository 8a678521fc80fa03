#include "common/path.h"

namespace talus {

Status ValidateName(std::string_view name) {
  if (name.empty()) return Status::InvalidArgument("empty path component");
  if (name == "." || name == "..") {
    return Status::InvalidArgument("path component \"" + std::string(name) + "\" is not allowed");
  }
  if (name.size() > kMaxNameBytes) {
    return Status::NameTooLong("path component of " + std::to_string(name.size()) +
                               " bytes exceeds the limit of " + std::to_string(kMaxNameBytes));
  }
  for (char c : name) {
    if (c == '\0') return Status::InvalidArgument("path contains a NUL byte");
    if (c == '/') return Status::InvalidArgument("name contains '/'");
  }
  return Status::OK();
}

Status ValidatePath(std::string_view path, size_t max_bytes) {
  if (path.empty()) return Status::InvalidArgument("empty path");
  if (path.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("path contains a NUL byte");
  }
  if (path.front() != '/') {
    return Status::InvalidArgument("path is not absolute: " + std::string(path));
  }
  if (path.size() > max_bytes) {
    return Status::NameTooLong("path of " + std::to_string(path.size()) +
                               " bytes exceeds the limit of " + std::to_string(max_bytes));
  }
  if (path.size() == 1) return Status::OK();
  if (path.back() == '/') {
    return Status::InvalidArgument("path ends with '/': " + std::string(path));
  }
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    Status s = ValidateName(path.substr(start, end - start));
    if (!s.ok()) return s.Prepend("invalid path " + std::string(path.substr(0, 256)));
    start = end + 1;
  }
  return Status::OK();
}

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t start = 1;
  while (start < path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

std::string_view ParentPath(std::string_view path) {
  size_t pos = path.rfind('/');
  if (pos == std::string_view::npos || pos == 0) return "/";
  return path.substr(0, pos);
}

std::string_view BaseName(std::string_view path) {
  size_t pos = path.rfind('/');
  if (pos == std::string_view::npos) return path;
  return path.substr(pos + 1);
}

std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (out.empty() || out.back() != '/') out += '/';
  out += name;
  return out;
}

bool IsSameOrUnder(std::string_view descendant, std::string_view ancestor) {
  if (ancestor == "/") return true;
  if (descendant.size() < ancestor.size()) return false;
  if (descendant.substr(0, ancestor.size()) != ancestor) return false;
  return descendant.size() == ancestor.size() || descendant[ancestor.size()] == '/';
}

Result<std::string> NormalizeUserPath(std::string_view path, std::string_view working_dir) {
  if (path.empty()) return Status::InvalidArgument("empty path");
  if (path.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("path contains a NUL byte");
  }
  std::string joined;
  if (path.front() == '/') {
    joined = std::string(path);
  } else if (path == ".") {
    joined = std::string(working_dir);
  } else {
    joined = std::string(working_dir) + "/" + std::string(path);
  }
  std::string out;
  out.reserve(joined.size());
  size_t start = 0;
  while (start < joined.size()) {
    size_t end = joined.find('/', start);
    if (end == std::string::npos) end = joined.size();
    std::string_view part(joined.data() + start, end - start);
    if (!part.empty()) {
      if (part == "." || part == "..") {
        return Status::InvalidArgument("path component \"" + std::string(part) +
                                       "\" is not supported: " + std::string(path));
      }
      out += '/';
      out += part;
    }
    start = end + 1;
  }
  if (out.empty()) out = "/";
  Status s = ValidatePath(out);
  if (!s.ok()) return s;
  return out;
}

}  // namespace talus
