#include "client/shell/path_expander.h"

#include <algorithm>
#include <set>

#include "client/shell/errors.h"
#include "client/shell/glob.h"
#include "common/path.h"

namespace talus::shell {

namespace {

struct Candidate {
  std::string path;
  std::optional<FileInfo> info;  // unknown until needed
};

// Splits an absolute or relative pattern into components, refusing "." and ".." as the rest of
// the shell does.
Result<std::vector<std::string>> PatternComponents(const std::string& pattern,
                                                   const std::string& cwd) {
  std::string full = pattern.front() == '/' ? pattern : cwd + "/" + pattern;
  std::vector<std::string> parts;
  size_t start = 0;
  while (start < full.size()) {
    size_t end = full.find('/', start);
    if (end == std::string::npos) end = full.size();
    std::string part = full.substr(start, end - start);
    if (part == "." || part == "..") {
      return Status::InvalidArgument("path component \"" + part + "\" is not supported");
    }
    if (!part.empty()) parts.push_back(std::move(part));
    start = end + 1;
  }
  return parts;
}

// Fills in `c.info`; false when nothing is there.
Result<bool> Stat(FileSystem* fs, Candidate* c) {
  if (c->info) return true;
  Result<FileInfo> info = fs->GetFileInfo(c->path);
  if (info.ok()) {
    c->info = std::move(info).value();
    return true;
  }
  if (info.status().code() == ErrorCode::kNotFound ||
      info.status().code() == ErrorCode::kNotADirectory) {
    return false;
  }
  return info.status();
}

// The existing paths matching one brace-free pattern.
Status MatchPattern(FileSystem* fs, const std::string& pattern, std::vector<Candidate>* out) {
  ASSIGN_OR_RETURN(std::vector<std::string> parts,
                   PatternComponents(pattern, fs->working_directory()));
  std::vector<Candidate> current{{"/", std::nullopt}};
  for (const std::string& part : parts) {
    std::vector<Candidate> next;
    if (!HasGlob(part)) {
      std::string name = Unescape(part);
      RETURN_NOT_OK(ValidateName(name));
      for (Candidate& c : current) next.push_back({JoinPath(c.path, name), std::nullopt});
    } else {
      ASSIGN_OR_RETURN(GlobPattern glob, GlobPattern::Compile(part));
      for (Candidate& c : current) {
        ASSIGN_OR_RETURN(bool exists, Stat(fs, &c));
        if (!exists || !c.info->IsDirectory()) continue;
        Result<std::vector<FileInfo>> entries = fs->ListDirectory(c.path);
        if (!entries.ok()) {
          ErrorCode code = entries.status().code();
          if (code == ErrorCode::kNotFound || code == ErrorCode::kNotADirectory) continue;
          return entries.status();
        }
        for (FileInfo& entry : *entries) {
          if (!glob.Matches(entry.name)) continue;
          std::string path = JoinPath(c.path, entry.name);
          next.push_back({std::move(path), std::move(entry)});
        }
      }
    }
    current = std::move(next);
    if (current.empty()) return Status::OK();
  }
  for (Candidate& c : current) {
    ASSIGN_OR_RETURN(bool exists, Stat(fs, &c));
    if (exists) out->push_back(std::move(c));
  }
  return Status::OK();
}

// A match displayed the way the pattern was written.
std::string MatchDisplay(const std::string& arg, const std::string& pattern_path,
                         const std::string& match, const std::string& cwd) {
  std::string scheme, authority, ignored;
  if (SplitUri(arg, &scheme, &authority, &ignored)) {
    return scheme + ":" + (authority.empty() ? "" : "//" + authority) + match;
  }
  if (pattern_path.front() == '/') return match;
  if (match == cwd) return ".";
  if (IsSameOrUnder(match, cwd)) return match.substr(cwd == "/" ? 1 : cwd.size() + 1);
  return match;
}

Result<std::vector<PathItem>> ExpandGlob(FileSystem* fs, const std::string& arg,
                                         const std::string& path_part) {
  ASSIGN_OR_RETURN(std::vector<std::string> patterns, ExpandBraces(path_part));
  std::vector<Candidate> matches;
  for (const std::string& pattern : patterns) {
    if (pattern.empty()) continue;
    RETURN_NOT_OK(MatchPattern(fs, pattern, &matches));
  }
  std::vector<PathItem> items;
  std::set<std::string> seen;
  for (Candidate& c : matches) {
    if (!seen.insert(c.path).second) continue;
    PathItem item;
    item.fs = fs;
    item.display = MatchDisplay(arg, path_part, c.path, fs->working_directory());
    item.path = std::move(c.path);
    item.info = std::move(c.info);
    items.push_back(std::move(item));
  }
  std::sort(items.begin(), items.end(),
            [](const PathItem& a, const PathItem& b) { return a.display < b.display; });
  return items;
}

}  // namespace

Result<PathItem> LookupPath(FileSystem* fs, std::string display, std::string path) {
  PathItem item;
  item.fs = fs;
  item.display = std::move(display);
  item.path = std::move(path);
  Result<FileInfo> info = fs->GetFileInfo(item.path);
  if (info.ok()) {
    item.info = std::move(info).value();
    return item;
  }
  // Below a file nothing exists, as HDFS sees it ("-test -e /file/x" is simply false); a
  // command that then tries to create something there gets the namenode's "Is not a directory".
  ErrorCode code = info.status().code();
  if (code != ErrorCode::kNotFound && code != ErrorCode::kNotADirectory) {
    return PathError(item.display, info.status());
  }
  return item;
}

Result<std::vector<PathItem>> ExpandArgument(ShellContext* ctx, const std::string& arg) {
  std::string path_part;
  Result<FileSystem*> fs = ctx->Resolve(arg, &path_part);
  if (!fs.ok()) return fs.status();
  if (!HasGlob(path_part)) {
    std::string display = CleanDisplay(Unescape(arg));
    Result<std::string> abs = (*fs)->MakeAbsolute(Unescape(path_part));
    if (!abs.ok()) return PathError(display, abs.status());
    ASSIGN_OR_RETURN(PathItem item, LookupPath(*fs, std::move(display), std::move(abs).value()));
    return std::vector<PathItem>{std::move(item)};
  }
  Result<std::vector<PathItem>> items = ExpandGlob(*fs, arg, path_part);
  if (!items.ok()) return PathError(arg, items.status());
  if (items->empty()) return PathError(arg, ErrorCode::kNotFound);
  return items;
}

}  // namespace talus::shell
