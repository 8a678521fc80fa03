#include "client/shell/shell_context.h"

#include <cctype>

#include "client/shell/errors.h"

namespace talus::shell {

namespace {

std::string StripTrailingSlashes(std::string uri) {
  // "talus://h:p/" and "talus://h:p" name the same file system.
  while (uri.size() > 1 && uri.back() == '/' && uri.find("://") + 3 < uri.size()) uri.pop_back();
  return uri;
}

}  // namespace

bool SplitUri(const std::string& arg, std::string* scheme, std::string* authority,
              std::string* path) {
  size_t colon = arg.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= arg.size() ||
      arg[colon + 1] != '/') {
    return false;
  }
  if (!std::isalpha(static_cast<unsigned char>(arg[0]))) return false;
  for (size_t i = 1; i < colon; ++i) {
    char c = arg[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
      return false;
    }
  }
  *scheme = arg.substr(0, colon);
  std::string rest = arg.substr(colon + 1);
  if (rest.rfind("//", 0) == 0) {
    size_t slash = rest.find('/', 2);
    *authority = rest.substr(2, slash == std::string::npos ? std::string::npos : slash - 2);
    *path = slash == std::string::npos ? "/" : rest.substr(slash);
  } else {
    authority->clear();
    *path = rest;
  }
  return true;
}

ShellContext::ShellContext(ShellConfig config, FILE* out, FILE* err)
    : config_(std::move(config)), out_(out), err_(err) {}

ShellContext::~ShellContext() = default;

Result<FileSystem*> ShellContext::Connect(const std::string& uri) {
  std::string key = StripTrailingSlashes(uri);
  auto it = connected_.find(key);
  if (it != connected_.end()) return it->second.get();
  Result<std::unique_ptr<FileSystem>> fs = FileSystem::Connect(key, config_.client);
  if (!fs.ok()) return Status(fs.status().code(), DescribeStatus(fs.status()));
  FileSystem* raw = fs->get();
  connected_[key] = std::move(fs).value();
  return raw;
}

Result<FileSystem*> ShellContext::DefaultFs() {
  if (default_fs_ != nullptr) return default_fs_;
  if (default_fs_error_) return *default_fs_error_;
  std::string uri = config_.fs_uri;
  if (uri.empty()) {
    Result<std::string> default_uri = FileSystem::DefaultUri();
    if (!default_uri.ok()) {
      // Its message already says where a file system can be named.
      default_fs_error_ = default_uri.status();
      return *default_fs_error_;
    }
    uri = *default_uri;
  }
  Result<FileSystem*> fs = Connect(uri);
  if (!fs.ok()) {
    default_fs_error_ = fs.status();
    return *default_fs_error_;
  }
  default_fs_ = *fs;
  return default_fs_;
}

Result<FileSystem*> ShellContext::Resolve(const std::string& arg, std::string* path) {
  std::string scheme, authority;
  if (!SplitUri(arg, &scheme, &authority, path)) {
    *path = arg;
    return DefaultFs();
  }
  if (scheme != "talus") {
    return Status::NotSupported("No FileSystem for scheme \"" + scheme + "\"");
  }
  if (authority.empty()) return DefaultFs();
  return Connect("talus://" + authority);
}

}  // namespace talus::shell
