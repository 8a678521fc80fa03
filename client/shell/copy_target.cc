#include "client/shell/copy_target.h"

#include "client/shell/errors.h"
#include "client/shell/glob.h"
#include "client/shell/path_expander.h"
#include "common/path.h"

namespace talus::shell {

Result<PathItem> ResolveClusterDestination(ShellContext* ctx, const std::string& arg) {
  std::string dst_arg = arg.empty() ? "." : arg;
  if (!HasGlob(dst_arg)) {
    ASSIGN_OR_RETURN(std::vector<PathItem> items, ExpandArgument(ctx, dst_arg));
    return std::move(items.front());
  }
  Result<std::vector<PathItem>> items = ExpandArgument(ctx, dst_arg);
  if (items.ok() && items->size() > 1) return PathError(dst_arg, "Too many matches");
  if (items.ok()) return std::move(items->front());
  if (items.status().code() != ErrorCode::kNotFound) return items.status();
  std::string path_part;
  ASSIGN_OR_RETURN(FileSystem * fs, ctx->Resolve(dst_arg, &path_part));
  Result<std::string> abs = fs->MakeAbsolute(path_part);
  if (!abs.ok()) return PathError(dst_arg, abs.status());
  PathItem dst;
  dst.fs = fs;
  dst.display = CleanDisplay(dst_arg);
  dst.path = std::move(abs).value();
  return dst;
}

Status CheckClusterDestination(const PathItem& dst, size_t num_sources) {
  if (num_sources > 1) {
    if (!dst.exists()) return PathError(dst.display, ErrorCode::kNotFound);
    if (!dst.is_directory()) return PathError(dst.display, ErrorCode::kNotADirectory);
    return Status::OK();
  }
  if (dst.exists()) return Status::OK();
  // The working directory (also what an omitted destination means) must exist: a file is
  // never created in its place.
  if (dst.display == ".") return PathError(dst.display, ErrorCode::kNotFound);
  Result<FileInfo> parent = dst.fs->GetFileInfo(std::string(ParentPath(dst.path)));
  if (!parent.ok()) {
    if (parent.status().code() == ErrorCode::kNotFound ||
        parent.status().code() == ErrorCode::kNotADirectory) {
      return PathError(dst.display, ErrorCode::kNotFound);
    }
    return PathError(ParentDisplay(dst), parent.status());
  }
  if (!parent->IsDirectory()) return PathError(ParentDisplay(dst), ErrorCode::kNotADirectory);
  return Status::OK();
}

Result<PathItem> ClusterTarget(const PathItem& dst, const std::string& name) {
  if (!dst.is_directory()) return dst;
  return LookupPath(dst.fs, ChildDisplay(dst.display, name), JoinPath(dst.path, name));
}

Status WriteClusterFile(const PathItem& target, bool overwrite, bool direct,
                        const std::function<Status(OutputStream*)>& fill) {
  if (target.exists() && (!overwrite || target.is_directory())) {
    return PathError(target.display, ErrorCode::kAlreadyExists);
  }
  FileSystem* fs = target.fs;
  const std::string path = direct ? target.path : target.path + kCopyingSuffix;
  const std::string display = direct ? target.display : target.display + kCopyingSuffix;
  CreateOptions options;
  options.overwrite = direct ? overwrite : true;
  options.create_parent = false;
  Result<std::unique_ptr<OutputStream>> out = fs->Create(path, options);
  if (!out.ok()) return PathError(display, out.status());
  Status s = fill(out->get());
  Status closed = (*out)->Close();
  if (s.ok() && !closed.ok()) s = PathError(display, closed);
  if (s.ok() && !direct) {
    Status renamed = fs->Rename(path, target.path, overwrite);
    if (!renamed.ok()) s = PathError(target.display, renamed);
  }
  if (!s.ok()) {
    out->reset();
    (void)fs->Delete(path, false);  // best effort: the first error is the one to report
  }
  return s;
}

}  // namespace talus::shell
