#include "fuse/user_clients.h"

namespace talus::fuse {

UserClients::UserClients(std::string uri, ClientOptions base_options, size_t capacity)
    : uri_(std::move(uri)), base_options_(std::move(base_options)), capacity_(capacity) {}

Result<std::shared_ptr<FileSystem>> UserClients::Get(const std::string& user) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = clients_.find(user);
  if (it != clients_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.position);
    return it->second.fs;
  }
  ClientOptions options = base_options_;
  options.user = user;
  options.umask = 0;
  // Connect only parses the URI and sets up a lazy connection pool: cheap under the lock.
  ASSIGN_OR_RETURN(std::unique_ptr<FileSystem> fs, FileSystem::Connect(uri_, options));
  std::shared_ptr<FileSystem> shared(std::move(fs));
  lru_.push_front(user);
  clients_[user] = Entry{shared, lru_.begin()};
  while (clients_.size() > capacity_) {
    clients_.erase(lru_.back());
    lru_.pop_back();
  }
  return shared;
}

}  // namespace talus::fuse
