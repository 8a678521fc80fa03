#pragma once

#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "talus/file_system.h"

namespace talus::shell {

// How `talus dfs` was asked to connect (generic options, environment, client config).
struct ShellConfig {
  // From -fs or -D fs.defaultFS; empty means FileSystem::DefaultUri().
  std::string fs_uri;
  ClientOptions client;
};

// What every command shares while it runs: where to print and the file systems it talks to,
// connected on first use so that -help never needs a namenode.
class ShellContext {
 public:
  ShellContext(ShellConfig config, FILE* out, FILE* err);
  ~ShellContext();
  ShellContext(const ShellContext&) = delete;
  ShellContext& operator=(const ShellContext&) = delete;

  FILE* out() const { return out_; }
  FILE* err() const { return err_; }
  const ClientOptions& client_options() const { return config_.client; }

  // Errors from these two are ready to print after "cmd: ".
  // The file system chosen by -fs, $TALUS_FS or the client config.
  Result<FileSystem*> DefaultFs();
  // The file system an argument names and its path part: "talus://host:port/a" names that
  // file system and "/a"; "talus:///a" and plain paths belong to the default one. Other
  // schemes are an error.
  Result<FileSystem*> Resolve(const std::string& arg, std::string* path);
  // True once the default file system could not be set up: nothing else will work.
  bool default_fs_failed() const { return default_fs_error_.has_value(); }

 private:
  Result<FileSystem*> Connect(const std::string& uri);

  ShellConfig config_;
  FILE* out_;
  FILE* err_;
  FileSystem* default_fs_ = nullptr;
  std::optional<Status> default_fs_error_;
  std::map<std::string, std::unique_ptr<FileSystem>> connected_;  // keyed by URI
};

// Splits "scheme://authority/path" into its parts; false when `arg` has no scheme (a plain
// path). A scheme needs a ':' followed by '/', so "a:b" stays a relative path.
bool SplitUri(const std::string& arg, std::string* scheme, std::string* authority,
              std::string* path);

}  // namespace talus::shell
