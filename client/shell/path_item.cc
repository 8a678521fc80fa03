#include "client/shell/path_item.h"

#include "common/path.h"

namespace talus::shell {

std::string PathItem::name() const { return std::string(BaseName(path)); }

PathItem PathItem::Child(const FileInfo& child) const {
  PathItem item;
  item.fs = fs;
  item.display = ChildDisplay(display, child.name);
  item.path = JoinPath(path, child.name);
  item.info = child;
  return item;
}

std::string ChildDisplay(std::string_view parent_display, std::string_view name) {
  if (parent_display == ".") return std::string(name);
  std::string out(parent_display);
  if (out.empty() || out.back() != '/') out += '/';
  out += name;
  return out;
}

namespace {

// Where the path part of a display starts: after "scheme://authority", else 0.
size_t PathStart(std::string_view s) {
  size_t sep = s.find("://");
  if (sep == std::string_view::npos || s.find('/') < sep) return 0;
  size_t slash = s.find('/', sep + 3);
  return slash == std::string_view::npos ? s.size() : slash;
}

}  // namespace

std::string CleanDisplay(std::string_view arg) {
  size_t start = PathStart(arg);
  std::string out(arg.substr(0, start));
  std::string_view rest = arg.substr(start);
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '/' && !out.empty() && out.back() == '/' && out.size() > start) continue;
    out += rest[i];
  }
  while (out.size() > start + 1 && out.back() == '/') out.pop_back();
  return out;
}

std::string ParentDisplay(const PathItem& item) {
  size_t start = PathStart(item.display);
  size_t slash = item.display.rfind('/');
  if (slash == std::string::npos || slash < start) return std::string(ParentPath(item.path));
  if (slash == start) return item.display.substr(0, start + 1);
  return item.display.substr(0, slash);
}

}  // namespace talus::shell
