#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "namenode/namespace/permission.h"

namespace talus {

struct UserGroupsOptions {
  // The superuser: the user who started the namenode, as in HDFS.
  std::string superuser;
  // Members of this group are superusers too (HDFS dfs.permissions.superusergroup).
  std::string supergroup = "supergroup";
  // Fixed group lists that replace the OS lookup for these users, like HDFS's
  // hadoop.user.group.static.mapping.overrides ("alice=g1,g2;bob=").
  std::map<std::string, std::vector<std::string>> static_groups;
  std::chrono::seconds cache_ttl{300};
};

// Parses "alice=g1,g2;bob=" into a static group map.
Result<std::map<std::string, std::vector<std::string>>> ParseStaticGroups(const std::string& spec);

// Checks a user or group name stated by a client.
Status ValidateUserName(const std::string& user);

// Resolves a stated user name to a Caller: its groups (static map, else the OS's group
// database, as HDFS's shell-based mapping) and whether it is a superuser. Thread-safe, cached.
class UserGroups {
 public:
  explicit UserGroups(UserGroupsOptions options) : options_(std::move(options)) {}
  Caller Resolve(const std::string& user);

 private:
  std::vector<std::string> LookupOsGroups(const std::string& user) const;

  const UserGroupsOptions options_;
  std::mutex mu_;
  struct Entry {
    std::vector<std::string> groups;
    std::chrono::steady_clock::time_point expires;
  };
  std::unordered_map<std::string, Entry> cache_;  // guarded by mu_
};

}  // namespace talus
