#pragma once
// Paths that name an inode, as HDFS's "/.reserved/.inodes/<id>": "/.reserved/.inodes/<id>" is
// inode <id> wherever it is now, "/.reserved/.inodes/<id>/<rest>" is <rest> below it. The FUSE
// mount addresses everything this way, so an open handle follows its file across renames and a
// directory of any depth is reachable with a short path.
//
// Such a path is turned into the real path it stands for against a namespace view
// (CanonicalPath): readers do it when they resolve, mutations when they are applied (in journal
// order, so replay is deterministic and a concurrent rename cannot misdirect them). The real
// path may be longer than kMaxPathBytes (up to kMaxNamespacePathBytes); the path as sent may
// not. Nothing named "/.reserved" can ever exist in the namespace.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "namenode/namespace/namespace_txn.h"

namespace talus {

inline constexpr std::string_view kReservedName = ".reserved";
inline constexpr std::string_view kReservedInodesPrefix = "/.reserved/.inodes/";

// True when the first component of `path` is ".reserved" ("/.reserved", "/.reserved/x", ...).
bool IsReservedPath(std::string_view path);

// "/.reserved/.inodes/<id>".
std::string ReservedInodePath(uint64_t id);

// The real path `path` names: itself when it is not reserved, else the current path of the
// inode plus the rest. "/.reserved" and "/.reserved/.inodes" come back unchanged (they name
// nothing: readers find nothing there, writers are refused). Errors: INVALID_ARGUMENT for a
// malformed reserved path (bad id, unknown second component), NOT_FOUND for an unknown id,
// NAME_TOO_LONG when the real path would exceed kMaxNamespacePathBytes.
Result<std::string> CanonicalPath(const NamespaceTxn& txn, std::string_view path);

// For mutations: CanonicalPath, then refuses a real path that is (or lies under) "/.reserved",
// which can never be created, renamed onto or deleted.
Result<std::string> CanonicalPathForUpdate(const NamespaceTxn& txn, std::string_view path);

}  // namespace talus
