#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/result.h"
#include "talus/file_system.h"

namespace talus::fuse {

// One talus::FileSystem per user making requests, so the namenode checks each request with the
// permissions of the user behind it. The kernel has already applied the caller's umask to new
// modes, so these clients use umask 0. At most `capacity` clients are kept (least recently used
// goes first); a client still in use by an open file stays alive through its shared_ptr.
// Thread-safe.
class UserClients {
 public:
  UserClients(std::string uri, ClientOptions base_options, size_t capacity);

  Result<std::shared_ptr<FileSystem>> Get(const std::string& user);

 private:
  const std::string uri_;
  const ClientOptions base_options_;
  const size_t capacity_;
  std::mutex mu_;
  std::list<std::string> lru_;  // most recent first
  struct Entry {
    std::shared_ptr<FileSystem> fs;
    std::list<std::string>::iterator position;
  };
  std::unordered_map<std::string, Entry> clients_;
};

}  // namespace talus::fuse
