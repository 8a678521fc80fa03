#pragma once

#include <sys/types.h>

#include <mutex>
#include <string>
#include <unordered_map>

namespace talus::fuse {

// Maps between the kernel's numeric ids and the user and group names the namenode stores,
// through the local passwd and group databases, with caches (a lookup may go to NSS and be
// slow; `ls -l` of a large directory asks for the same few names thousands of times).
// Thread-safe.
class Identity {
 public:
  // An owner or group the local system does not know shows as this id (nobody / nogroup).
  static constexpr uid_t kUnknownId = 65534;

  uid_t UidOf(const std::string& user);
  gid_t GidOf(const std::string& group);
  // A uid or gid without a local name is sent as its decimal number.
  std::string UserName(uid_t uid);
  std::string GroupName(gid_t gid);

 private:
  std::mutex mu_;
  std::unordered_map<std::string, uid_t> uids_;
  std::unordered_map<std::string, gid_t> gids_;
  std::unordered_map<uid_t, std::string> user_names_;
  std::unordered_map<gid_t, std::string> group_names_;
};

}  // namespace talus::fuse
