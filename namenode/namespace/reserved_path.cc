#include "namenode/namespace/reserved_path.h"

#include <charconv>
#include <vector>

#include "common/path.h"
#include "namenode/namespace/inode.h"

namespace talus {

namespace {

// The current path of inode `id`, walked up through its parents.
Result<std::string> PathOfInode(const NamespaceTxn& txn, uint64_t id, size_t rest_bytes) {
  std::vector<std::string> names;
  size_t bytes = rest_bytes;
  uint64_t current = id;
  while (current != kRootInodeId) {
    ASSIGN_OR_RETURN(std::shared_ptr<const Inode> inode, txn.GetInodeShared(current));
    if (!inode) {
      if (current == id) return Status::NotFound("inode " + std::to_string(id) + " does not exist");
      return Status::Corruption("inode " + std::to_string(current) + ", an ancestor of inode " +
                                std::to_string(id) + ", is missing");
    }
    bytes += inode->name.size() + 1;
    // Every level adds at least two bytes, so this also bounds a (corrupt) parent cycle.
    if (bytes > kMaxNamespacePathBytes) {
      return Status::NameTooLong("the path of inode " + std::to_string(id) +
                                 " would exceed the limit of " +
                                 std::to_string(kMaxNamespacePathBytes) + " bytes");
    }
    names.push_back(inode->name);
    current = inode->parent_id;
  }
  std::string path;
  path.reserve(bytes);
  for (auto it = names.rbegin(); it != names.rend(); ++it) {
    path += '/';
    path += *it;
  }
  return path;
}

}  // namespace

bool IsReservedPath(std::string_view path) {
  if (!path.starts_with("/.reserved")) return false;
  return path.size() == kReservedName.size() + 1 || path[kReservedName.size() + 1] == '/';
}

std::string ReservedInodePath(uint64_t id) {
  return std::string(kReservedInodesPrefix) + std::to_string(id);
}

Result<std::string> CanonicalPath(const NamespaceTxn& txn, std::string_view path) {
  if (!IsReservedPath(path)) return std::string(path);
  RETURN_NOT_OK(ValidatePath(path));
  if (path == "/.reserved" || path == "/.reserved/.inodes") return std::string(path);
  if (!path.starts_with(kReservedInodesPrefix)) {
    return Status::InvalidArgument("invalid reserved path " + std::string(path) +
                                   ": only /.reserved/.inodes/<inode id> is supported");
  }
  std::string_view tail = path.substr(kReservedInodesPrefix.size());
  const size_t slash = tail.find('/');
  const std::string_view id_text = tail.substr(0, slash);
  const std::string_view rest =
      slash == std::string_view::npos ? std::string_view() : tail.substr(slash);
  uint64_t id = 0;
  const auto [end, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
  if (ec != std::errc() || end != id_text.data() + id_text.size() || id == 0 ||
      id_text.front() == '0') {
    return Status::InvalidArgument("invalid inode id \"" + std::string(id_text) + "\" in " +
                                   std::string(path));
  }
  ASSIGN_OR_RETURN(std::string real, PathOfInode(txn, id, rest.size()));
  if (real.empty() && rest.empty()) return std::string("/");
  real += rest;
  return real;
}

Result<std::string> CanonicalPathForUpdate(const NamespaceTxn& txn, std::string_view path) {
  ASSIGN_OR_RETURN(std::string real, CanonicalPath(txn, path));
  if (IsReservedPath(real)) {
    return Status::InvalidArgument("/.reserved is a reserved name: " + std::string(path) +
                                   " cannot be created, renamed or deleted");
  }
  return real;
}

}  // namespace talus
