#pragma once

// Helpers of the client data-path tests: deterministic bytes, whole-file writes and reads
// through the public API, and finding a datanode's replica files in a MiniCluster directory.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "talus/file_system.h"

namespace talus::test {

inline std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    std::memcpy(&s[i], &v, std::min<size_t>(8, n - i));
  }
  return s;
}

// Writes `data` in pieces of `piece` bytes and closes; returns the first error.
inline Status WriteWholeFile(FileSystem& fs, const std::string& path, const std::string& data,
                             size_t piece = 65536, int64_t block_size = 1 << 20) {
  CreateOptions options;
  options.block_size = block_size;
  options.overwrite = true;
  Result<std::unique_ptr<OutputStream>> out = fs.Create(path, options);
  if (!out.ok()) return out.status();
  for (size_t off = 0; off < data.size(); off += piece) {
    RETURN_NOT_OK((*out)->Write(data.data() + off, std::min(piece, data.size() - off)));
  }
  return (*out)->Close();
}

inline Result<std::string> ReadWholeFile(FileSystem& fs, const std::string& path,
                                         size_t piece = 1 << 20) {
  Result<std::unique_ptr<InputStream>> in = fs.Open(path);
  if (!in.ok()) return in.status();
  std::string out;
  std::string buf(piece, '\0');
  while (true) {
    Result<size_t> n = (*in)->Read(buf.data(), buf.size());
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    out.append(buf.data(), *n);
  }
  return out;
}

// "host:port" of datanode `index`'s data port, from the address file it wrote (rpc line, then
// data line) under the cluster directory.
inline std::string DatanodeDataAddress(const std::string& cluster_dir, int index) {
  std::ifstream in(cluster_dir + "/run/datanode-" + std::to_string(index) + ".address");
  std::string rpc, data;
  std::getline(in, rpc);
  std::getline(in, data);
  return data;
}

// Paths of the data files (not .meta) of block `block_id` under datanode `index`'s directory.
inline std::vector<std::string> ReplicaFiles(const std::string& cluster_dir, int index,
                                             uint64_t block_id) {
  std::vector<std::string> out;
  const std::string name = "blk_" + std::to_string(block_id);
  std::error_code ec;
  const std::string root = cluster_dir + "/datanode-" + std::to_string(index);
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file() && it->path().filename() == name) out.push_back(it->path());
  }
  return out;
}

}  // namespace talus::test
