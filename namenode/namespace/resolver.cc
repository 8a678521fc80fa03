#include "namenode/namespace/resolver.h"

#include "common/path.h"
#include "namenode/namespace/reserved_path.h"

namespace talus {

std::string ResolvedPath::PrefixPath(size_t i) const {
  if (i == 0) return "/";
  std::string out;
  for (size_t k = 0; k < i && k < components.size(); ++k) {
    out += '/';
    out += components[k];
  }
  return out;
}

namespace {

// Walks a real path (never reinterpreted as a reserved one).
Result<ResolvedPath> WalkPath(const NamespaceTxn& txn, std::string_view path,
                              const Caller& caller) {
  RETURN_NOT_OK(ValidatePath(path, kMaxNamespacePathBytes));
  ResolvedPath resolved;
  resolved.path = std::string(path);
  for (std::string_view part : SplitPath(path)) resolved.components.emplace_back(part);
  ASSIGN_OR_RETURN(std::shared_ptr<const Inode> root, txn.GetInodeShared(kRootInodeId));
  if (!root) return Status::Corruption("the root inode is missing");
  resolved.inodes.reserve(resolved.components.size() + 1);
  resolved.inodes.push_back(std::move(root));
  for (size_t i = 0; i < resolved.components.size(); ++i) {
    const Inode& dir = *resolved.inodes.back();
    if (!dir.IsDirectory()) {
      return Status::NotADirectory("Not a directory: " + resolved.PrefixPath(i) + " (in " +
                                   resolved.path + ")");
    }
    RETURN_NOT_OK(CheckAccess(caller, dir, kAccessExecute, resolved.PrefixPath(i)));
    ASSIGN_OR_RETURN(std::optional<uint64_t> child_id,
                     txn.Lookup(dir.id, resolved.components[i]));
    if (!child_id) break;
    ASSIGN_OR_RETURN(std::shared_ptr<const Inode> child, txn.GetInodeShared(*child_id));
    if (!child) {
      return Status::Corruption("directory entry " + resolved.PrefixPath(i + 1) +
                                " names missing inode " + std::to_string(*child_id));
    }
    resolved.inodes.push_back(std::move(child));
  }
  return resolved;
}

}  // namespace

Result<ResolvedPath> ResolvePath(const NamespaceTxn& txn, std::string_view path,
                                 const Caller& caller) {
  if (!IsReservedPath(path)) return WalkPath(txn, path, caller);
  ASSIGN_OR_RETURN(std::string real, CanonicalPath(txn, path));
  return WalkPath(txn, real, caller);
}

}  // namespace talus
