#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "namenode/namespace/inode.h"

namespace talus {

// Who is asking, as the namenode resolved it (simple authentication: the user is as stated).
struct Caller {
  std::string user;
  std::vector<std::string> groups;
  bool superuser = false;

  bool InGroup(std::string_view group) const;
};

enum Access : uint32_t { kAccessRead = 4, kAccessWrite = 2, kAccessExecute = 1 };

// HDFS/POSIX owner-group-other check; the superuser passes everything. The error reads like
// HDFS's: Permission denied: user=U, access=WRITE, inode="/p":owner:group:drwxr-xr-x.
Status CheckAccess(const Caller& caller, const Inode& inode, uint32_t access,
                   std::string_view path);

// The sticky bit on `parent`: only the owner of `child`, of `parent`, or the superuser may
// remove or rename `child`.
Status CheckStickyBit(const Caller& caller, const Inode& parent, const Inode& child,
                      std::string_view child_path);

// Changing mode or times needs the owner or the superuser.
Status CheckOwner(const Caller& caller, const Inode& inode, std::string_view path);

// "drwxr-xr-x", "-rw-r--r--", with s/S/t/T as ls shows them.
std::string ModeString(InodeType type, uint32_t mode);
std::string AccessName(uint32_t access);

}  // namespace talus
