#include "namenode/namespace/permission.h"

#include <algorithm>

namespace talus {

bool Caller::InGroup(std::string_view group) const {
  return std::find(groups.begin(), groups.end(), group) != groups.end();
}

std::string AccessName(uint32_t access) {
  switch (access) {
    case kAccessRead: return "READ";
    case kAccessWrite: return "WRITE";
    case kAccessExecute: return "EXECUTE";
    case kAccessRead | kAccessExecute: return "READ_EXECUTE";
    case kAccessWrite | kAccessExecute: return "WRITE_EXECUTE";
    case kAccessRead | kAccessWrite: return "READ_WRITE";
    case kAccessRead | kAccessWrite | kAccessExecute: return "ALL";
    default: return "NONE";
  }
}

std::string ModeString(InodeType type, uint32_t mode) {
  std::string s(10, '-');
  s[0] = type == InodeType::kDirectory ? 'd' : (type == InodeType::kSymlink ? 'l' : '-');
  const char rwx[] = "rwx";
  for (int i = 0; i < 9; ++i) {
    if (mode & (0400 >> i)) s[1 + i] = rwx[i % 3];
  }
  if (mode & 04000) s[3] = (mode & 0100) ? 's' : 'S';
  if (mode & 02000) s[6] = (mode & 0010) ? 's' : 'S';
  if (mode & 01000) s[9] = (mode & 0001) ? 't' : 'T';
  return s;
}

namespace {
Status Denied(const Caller& caller, const Inode& inode, std::string_view what,
              std::string_view path) {
  return Status::PermissionDenied("Permission denied: user=" + caller.user + ", access=" +
                                  std::string(what) + ", inode=\"" + std::string(path) + "\":" +
                                  inode.owner + ":" + inode.group + ":" +
                                  ModeString(inode.type, inode.mode));
}
}  // namespace

Status CheckAccess(const Caller& caller, const Inode& inode, uint32_t access,
                   std::string_view path) {
  if (caller.superuser) return Status::OK();
  uint32_t granted;
  if (caller.user == inode.owner) {
    granted = (inode.mode >> 6) & 7;
  } else if (caller.InGroup(inode.group)) {
    granted = (inode.mode >> 3) & 7;
  } else {
    granted = inode.mode & 7;
  }
  if ((granted & access) == access) return Status::OK();
  return Denied(caller, inode, AccessName(access), path);
}

Status CheckStickyBit(const Caller& caller, const Inode& parent, const Inode& child,
                      std::string_view child_path) {
  if (caller.superuser || (parent.mode & 01000) == 0) return Status::OK();
  if (caller.user == child.owner || caller.user == parent.owner) return Status::OK();
  return Status::PermissionDenied("Permission denied by sticky bit: user=" + caller.user +
                                  ", path=\"" + std::string(child_path) + "\":" + child.owner +
                                  ":" + child.group + ":" + ModeString(child.type, child.mode) +
                                  ", parent owned by " + parent.owner);
}

Status CheckOwner(const Caller& caller, const Inode& inode, std::string_view path) {
  if (caller.superuser || caller.user == inode.owner) return Status::OK();
  return Status::PermissionDenied("Permission denied. user=" + caller.user +
                                  " is not the owner of inode=" + std::string(path));
}

}  // namespace talus
