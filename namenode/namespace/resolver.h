#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "namenode/namespace/inode.h"
#include "namenode/namespace/namespace_txn.h"
#include "namenode/namespace/permission.h"

namespace talus {

// A path walked as far as it exists. inodes[0] is "/", inodes[i] the i-th component.
struct ResolvedPath {
  std::string path;
  std::vector<std::string> components;
  // Shared with the metadata cache: a walk copies no inode.
  std::vector<std::shared_ptr<const Inode>> inodes;

  bool Exists() const { return inodes.size() == components.size() + 1; }
  bool IsRoot() const { return components.empty(); }
  // The target; requires Exists().
  const Inode& Target() const { return *inodes.back(); }
  // Whether the parent of the target exists (the target itself may not).
  bool ParentExists() const { return inodes.size() >= components.size(); }
  // Requires ParentExists() and !IsRoot().
  const Inode& Parent() const { return *inodes[components.size() - 1]; }
  const std::string& LastName() const { return components.back(); }
  // The path of inodes[i]: "/" for 0.
  std::string PrefixPath(size_t i) const;
  // Deepest existing inode.
  const Inode& LastExisting() const { return *inodes.back(); }
};

// Validates `path` and walks it. Requires EXECUTE on every directory it looks into (so a
// missing entry below an unsearchable directory is PERMISSION_DENIED, as in POSIX). A file
// met before the last component gives NOT_A_DIRECTORY. A reserved inode path
// ("/.reserved/.inodes/<id>[/...]", see reserved_path.h) is walked as the real path it stands
// for now, which the answer's `path` holds; real paths may be up to kMaxNamespacePathBytes.
Result<ResolvedPath> ResolvePath(const NamespaceTxn& txn, std::string_view path,
                                 const Caller& caller);

}  // namespace talus
