#pragma once

// What `talus fsck` prints, in HDFS's words, and the counts behind its verdict: fed one file at
// a time by the tree walk (fsck_command.cc), no I/O here so the rules are unit-tested.

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "talus/file_system.h"

namespace talus::shell {

struct FsckOptions {
  bool files = false;           // a line per file (and per directory)
  bool blocks = false;          // with files: a line per block
  bool locations = false;       // with blocks: where its replicas are
  bool open_for_write = false;  // check files being written too (else only counted)
  bool list_corrupt_file_blocks = false;
};

// Java's float printing, which HDFS's percentages and averages use: "100.0", "3.0", "2.6666667".
std::string JavaFloat(double value);

class FsckReport {
 public:
  // `admin_states` maps "host:port" of every known datanode to its admin state ("In Service",
  // "Decommission In Progress", "Decommissioned") and `racks` to its rack; `live_datanodes` is
  // how many are live. `default_replication` is the client's (dfs.replication).
  FsckReport(FsckOptions options, std::map<std::string, std::string> admin_states,
             std::map<std::string, std::string> racks, int live_datanodes, int default_replication);

  // Each returns the text to print for the entry (possibly empty).
  std::string AddDirectory(const std::string& path);
  std::string AddSymlink(const std::string& path);
  // A file being written when -openforwrite was not given: counted apart, not checked.
  std::string AddOpenFile(const std::string& path, const FileInfo& info);
  std::string AddFile(const std::string& path, const FileInfo& info, const FileHealthInfo& health);

  // Corrupt or missing blocks make the file system CORRUPT; under-replication does not.
  bool healthy() const { return missing_blocks_ == 0 && corrupt_blocks_ == 0; }
  // "Status: ..." through "Number of racks:" (no end line).
  std::string Summary() const;

 private:
  // Checks one block, adds to the counts; `line` gets the -blocks line, `problems` the
  // per-block messages HDFS prints.
  struct BlockVerdict {
    bool missing = false;
    bool corrupt = false;
  };
  BlockVerdict CheckBlock(size_t index, const BlockHealthInfo& block, std::string* line,
                          std::string* problems);
  bool IsDecommissioned(const std::string& node) const;

  const FsckOptions options_;
  const std::map<std::string, std::string> admin_states_;
  const std::map<std::string, std::string> racks_;
  std::set<std::string> distinct_racks_;
  const int live_datanodes_;
  const int default_replication_;

  int64_t total_dirs_ = 0;
  int64_t total_files_ = 0;
  int64_t total_symlinks_ = 0;
  int64_t total_size_ = 0;
  int64_t total_blocks_ = 0;
  int64_t open_files_ = 0;
  int64_t open_files_size_ = 0;
  int64_t open_files_blocks_ = 0;
  int64_t total_replicas_ = 0;
  int64_t expected_replicas_ = 0;
  int64_t min_replicated_blocks_ = 0;
  int64_t under_min_replicated_blocks_ = 0;
  int64_t over_replicated_blocks_ = 0;
  int64_t excess_replicas_ = 0;
  int64_t under_replicated_blocks_ = 0;
  int64_t mis_replicated_blocks_ = 0;
  int64_t missing_replicas_ = 0;
  int64_t missing_blocks_ = 0;
  int64_t missing_size_ = 0;
  int64_t corrupt_blocks_ = 0;
  int64_t corrupt_files_ = 0;
};

}  // namespace talus::shell
