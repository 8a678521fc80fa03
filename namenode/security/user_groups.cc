#include "namenode/security/user_groups.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>

namespace talus {

Status ValidateUserName(const std::string& user) {
  if (user.empty()) return Status::InvalidArgument("empty user name");
  if (user.size() > 255) return Status::InvalidArgument("user name longer than 255 bytes");
  for (unsigned char c : user) {
    if (c < 0x20 || c == ':' || c == '/' || c == ' ' || c == 0x7f) {
      return Status::InvalidArgument("user name contains a character that is not allowed");
    }
  }
  return Status::OK();
}

Result<std::map<std::string, std::vector<std::string>>> ParseStaticGroups(
    const std::string& spec) {
  std::map<std::string, std::vector<std::string>> out;
  size_t start = 0;
  while (start < spec.size()) {
    size_t end = spec.find(';', start);
    if (end == std::string::npos) end = spec.size();
    std::string item = spec.substr(start, end - start);
    start = end + 1;
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status::InvalidArgument("static group mapping \"" + item + "\" is not user=g1,g2");
    }
    std::vector<std::string> groups;
    std::string list = item.substr(eq + 1);
    size_t gs = 0;
    while (gs < list.size()) {
      size_t ge = list.find(',', gs);
      if (ge == std::string::npos) ge = list.size();
      if (ge > gs) groups.push_back(list.substr(gs, ge - gs));
      gs = ge + 1;
    }
    out[item.substr(0, eq)] = std::move(groups);
  }
  return out;
}

std::vector<std::string> UserGroups::LookupOsGroups(const std::string& user) const {
  std::vector<std::string> names;
  std::vector<char> buf(16384);
  passwd pw;
  passwd* found = nullptr;
  if (getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
    return names;  // unknown to the OS: no groups, as HDFS's shell mapping gives
  }
  int count = 64;
  std::vector<gid_t> gids(count);
  if (getgrouplist(user.c_str(), pw.pw_gid, gids.data(), &count) == -1) {
    gids.resize(count);
    if (getgrouplist(user.c_str(), pw.pw_gid, gids.data(), &count) == -1) count = 0;
  }
  gids.resize(count);
  for (gid_t gid : gids) {
    group gr;
    group* gfound = nullptr;
    std::vector<char> gbuf(16384);
    if (getgrgid_r(gid, &gr, gbuf.data(), gbuf.size(), &gfound) == 0 && gfound != nullptr) {
      names.emplace_back(gr.gr_name);
    }
  }
  return names;
}

Caller UserGroups::Resolve(const std::string& user) {
  Caller caller;
  caller.user = user;
  auto fixed = options_.static_groups.find(user);
  if (fixed != options_.static_groups.end()) {
    caller.groups = fixed->second;
  } else {
    auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = cache_.find(user);
      if (it != cache_.end() && it->second.expires > now) caller.groups = it->second.groups;
    }
    if (caller.groups.empty()) {
      caller.groups = LookupOsGroups(user);
      std::lock_guard<std::mutex> lock(mu_);
      if (cache_.size() > 100000) cache_.clear();  // bound the cache against made-up names
      cache_[user] = Entry{caller.groups, now + options_.cache_ttl};
    }
  }
  caller.superuser = user == options_.superuser ||
                     std::find(caller.groups.begin(), caller.groups.end(),
                               options_.supergroup) != caller.groups.end();
  return caller;
}

}  // namespace talus
