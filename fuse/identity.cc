#include "fuse/identity.h"

#include <grp.h>
#include <pwd.h>

#include <vector>

namespace talus::fuse {

namespace {

constexpr size_t kBufferBytes = 16 * 1024;

// Name lookups go to NSS without holding our lock, so one slow lookup does not stall others.
bool LookupUid(const std::string& name, uid_t* uid) {
  std::vector<char> buf(kBufferBytes);
  passwd pw{};
  passwd* found = nullptr;
  if (getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
    return false;
  }
  *uid = found->pw_uid;
  return true;
}

bool LookupGid(const std::string& name, gid_t* gid) {
  std::vector<char> buf(kBufferBytes);
  group gr{};
  group* found = nullptr;
  if (getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
    return false;
  }
  *gid = found->gr_gid;
  return true;
}

std::string LookupUserName(uid_t uid) {
  std::vector<char> buf(kBufferBytes);
  passwd pw{};
  passwd* found = nullptr;
  if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
    return std::to_string(uid);
  }
  return found->pw_name;
}

std::string LookupGroupName(gid_t gid) {
  std::vector<char> buf(kBufferBytes);
  group gr{};
  group* found = nullptr;
  if (getgrgid_r(gid, &gr, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
    return std::to_string(gid);
  }
  return found->gr_name;
}

}  // namespace

uid_t Identity::UidOf(const std::string& user) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = uids_.find(user);
    if (it != uids_.end()) return it->second;
  }
  uid_t uid = kUnknownId;
  if (!LookupUid(user, &uid)) uid = kUnknownId;
  std::lock_guard<std::mutex> lock(mu_);
  uids_[user] = uid;
  return uid;
}

gid_t Identity::GidOf(const std::string& group_name) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = gids_.find(group_name);
    if (it != gids_.end()) return it->second;
  }
  gid_t gid = kUnknownId;
  if (!LookupGid(group_name, &gid)) gid = kUnknownId;
  std::lock_guard<std::mutex> lock(mu_);
  gids_[group_name] = gid;
  return gid;
}

std::string Identity::UserName(uid_t uid) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = user_names_.find(uid);
    if (it != user_names_.end()) return it->second;
  }
  std::string name = LookupUserName(uid);
  std::lock_guard<std::mutex> lock(mu_);
  user_names_[uid] = name;
  return name;
}

std::string Identity::GroupName(gid_t gid) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = group_names_.find(gid);
    if (it != group_names_.end()) return it->second;
  }
  std::string name = LookupGroupName(gid);
  std::lock_guard<std::mutex> lock(mu_);
  group_names_[gid] = name;
  return name;
}

}  // namespace talus::fuse
