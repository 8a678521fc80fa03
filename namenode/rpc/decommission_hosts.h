#pragma once

// The operators' decommission list as the namenode keeps it: the hosts exclude file's entries
// (HDFS dfs.hosts.exclude, re-read by refreshNodes) and the nodes named by
// `talus dfsadmin -decommission`. Their union is what DatanodeManager::SetDecommissionList gets.
// Header-only: small, and shared by the RPC handlers and their unit test.

#include <charconv>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "namenode/blocks/datanode_manager.h"

namespace talus {

// Checks one entry: "host" or "host:port" (port 1..65535); the host has no ':' or whitespace.
inline Status ValidateHostEntry(std::string_view entry) {
  const size_t colon = entry.rfind(':');
  const std::string_view host = colon == std::string_view::npos ? entry : entry.substr(0, colon);
  if (host.empty() || host.size() > 255 || host.find(':') != std::string_view::npos) {
    return Status::InvalidArgument("\"" + std::string(entry) + "\" is not host or host:port");
  }
  for (char c : host) {
    if (c <= ' ' || c == '/' || c == '#' || c == 127) {
      return Status::InvalidArgument("\"" + std::string(entry) + "\" is not a host name");
    }
  }
  if (colon != std::string_view::npos) {
    const std::string_view port = entry.substr(colon + 1);
    int value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value < 1 ||
        value > 65535) {
      return Status::InvalidArgument("\"" + std::string(entry) + "\" has a bad port");
    }
  }
  return Status::OK();
}

// Parses a hosts file as HDFS reads one: entries separated by whitespace or new lines, each
// "host" or "host:port"; '#' starts a comment to the end of its line; blank lines are skipped.
// Any bad entry rejects the whole file, naming its line.
inline Result<std::vector<std::string>> ParseHostsFile(std::string_view text) {
  std::vector<std::string> entries;
  std::istringstream in{std::string(text)};
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (size_t hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    std::string word;
    while (words >> word) {
      Status valid = ValidateHostEntry(word);
      if (!valid.ok()) return valid.Prepend("line " + std::to_string(line_number));
      entries.push_back(word);
    }
  }
  return entries;
}

// Reads and parses a hosts file; a missing or unreadable file is an error.
inline Result<std::vector<std::string>> ReadHostsFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read the hosts exclude file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::IoError("error reading the hosts exclude file " + path);
  Result<std::vector<std::string>> entries = ParseHostsFile(text.str());
  if (!entries.ok()) return entries.status().Prepend(path);
  return entries;
}

// Thread-safe. Every change is applied to the DatanodeManager under this object's lock, so
// concurrent changes reach it in the order they were made.
class DecommissionHosts {
 public:
  // Replaces the file's entries and applies the union.
  void SetFileEntries(std::vector<std::string> entries, blocks::DatanodeManager* datanodes) {
    std::lock_guard lock(mu_);
    from_file_ = std::move(entries);
    ApplyUnlocked(datanodes);
  }
  // Adds (decommission) or removes a "host:port" named by an operator, and applies the union.
  void SetByCommand(const std::string& host_port, bool decommission,
                    blocks::DatanodeManager* datanodes) {
    std::lock_guard lock(mu_);
    if (decommission) {
      by_command_.insert(host_port);
    } else {
      by_command_.erase(host_port);
    }
    ApplyUnlocked(datanodes);
  }
  // The exclude file entry that names host:port ("host" or "host:port"), or empty.
  std::string FileEntryFor(const std::string& host, int32_t port) const {
    std::lock_guard lock(mu_);
    const std::string host_port = host + ":" + std::to_string(port);
    for (const std::string& entry : from_file_) {
      if (entry == host || entry == host_port) return entry;
    }
    return "";
  }
  std::vector<std::string> Union() const {
    std::lock_guard lock(mu_);
    return UnionUnlocked();
  }

 private:
  std::vector<std::string> UnionUnlocked() const {
    std::set<std::string> all(from_file_.begin(), from_file_.end());
    all.insert(by_command_.begin(), by_command_.end());
    return std::vector<std::string>(all.begin(), all.end());
  }
  void ApplyUnlocked(blocks::DatanodeManager* datanodes) {
    if (datanodes != nullptr) datanodes->SetDecommissionList(UnionUnlocked());
  }

  mutable std::mutex mu_;
  std::vector<std::string> from_file_;
  std::set<std::string> by_command_;
};

}  // namespace talus
