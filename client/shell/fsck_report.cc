#include "client/shell/fsck_report.h"

#include <cmath>
#include <cstdio>

namespace talus::shell {

namespace {

std::string BlockName(const BlockHealthInfo& b) {
  return "blk_" + std::to_string(b.block_id) + "_" + std::to_string(b.generation_stamp);
}

std::string Percent(int64_t part, int64_t whole) {
  return JavaFloat(whole <= 0 ? 0.0
                              : 100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

}  // namespace

std::string JavaFloat(double value) {
  if (!std::isfinite(value)) return std::isnan(value) ? "NaN" : "Infinity";
  char buf[64];
  if (value == std::floor(value) && std::fabs(value) < 1e7) {
    std::snprintf(buf, sizeof(buf), "%.1f", value);
    return buf;
  }
  // A float carries about 8 significant digits; drop the trailing zeros as Java does.
  std::snprintf(buf, sizeof(buf), "%.8g", value);
  std::string s = buf;
  if (s.find('e') == std::string::npos && s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s += '0';
  }
  return s;
}

FsckReport::FsckReport(FsckOptions options, std::map<std::string, std::string> admin_states,
                       std::map<std::string, std::string> racks, int live_datanodes,
                       int default_replication)
    : options_(options),
      admin_states_(std::move(admin_states)),
      racks_(std::move(racks)),
      live_datanodes_(live_datanodes),
      default_replication_(default_replication) {
  for (const auto& [node, rack] : racks_) distinct_racks_.insert(rack);
}

std::string FsckReport::AddDirectory(const std::string& path) {
  ++total_dirs_;
  return options_.files ? path + " <dir>\n" : "";
}

std::string FsckReport::AddSymlink(const std::string& path) {
  ++total_symlinks_;
  return options_.files ? path + " <symlink>\n" : "";
}

std::string FsckReport::AddOpenFile(const std::string&, const FileInfo& info) {
  ++open_files_;
  open_files_size_ += info.length;
  if (info.block_size > 0) {
    open_files_blocks_ += (info.length + info.block_size - 1) / info.block_size;
  }
  return "";
}

bool FsckReport::IsDecommissioned(const std::string& node) const {
  auto it = admin_states_.find(node);
  return it != admin_states_.end() && it->second == "Decommissioned";
}

FsckReport::BlockVerdict FsckReport::CheckBlock(size_t index, const BlockHealthInfo& b,
                                                std::string* line, std::string* problems) {
  BlockVerdict verdict;
  const int64_t live = static_cast<int64_t>(b.live.size());
  int64_t decommissioned = 0;
  for (const std::string& node : b.decommissioning) {
    if (IsDecommissioned(node)) ++decommissioned;
  }
  const int64_t decommissioning = static_cast<int64_t>(b.decommissioning.size()) - decommissioned;
  // Replicas on nodes leaving service still hold good data and serve reads.
  const int64_t total = live + decommissioned + decommissioning;
  const int64_t expected = b.expected_replication;
  ++total_blocks_;
  if (!b.complete) {
    // The block being written: its replicas finalize when the writer closes; not judged.
    ++min_replicated_blocks_;
    total_replicas_ += total;
    expected_replicas_ += total;
  } else {
    total_replicas_ += total;
    expected_replicas_ += expected;
    if (total < 1) ++under_min_replicated_blocks_;
    if (total >= 1) ++min_replicated_blocks_;
    if (live > expected) {
      ++over_replicated_blocks_;
      excess_replicas_ += live - expected;
    }
    if (total == 0) {
      if (b.corrupt.empty()) {
        verdict.missing = true;
        ++missing_blocks_;
        missing_size_ += b.length;
      } else {
        verdict.corrupt = true;
        ++corrupt_blocks_;
        *problems += "CORRUPT block " + BlockName(b) + "\n";
      }
    } else if (total < expected) {
      ++under_replicated_blocks_;
      missing_replicas_ += expected - total;
      *problems += "Under replicated " + BlockName(b) + ". Target Replicas is " +
                   std::to_string(expected) + " but found " + std::to_string(live) +
                   " live replica(s), " + std::to_string(decommissioned) +
                   " decommissioned replica(s), " + std::to_string(decommissioning) +
                   " decommissioning replica(s).\n";
    }
    // Every replica on one rack while the cluster has several: a rack failure loses the block.
    if (distinct_racks_.size() > 1 && expected >= 2 && live >= 2) {
      std::set<std::string> block_racks;
      for (const std::string& node : b.live) {
        auto it = racks_.find(node);
        block_racks.insert(it == racks_.end() ? "" : it->second);
      }
      if (block_racks.size() == 1) ++mis_replicated_blocks_;
    }
  }

  *line = std::to_string(index) + ". " + BlockName(b) + " len=" + std::to_string(b.length);
  if (verdict.missing) {
    *line += " MISSING!";
  } else {
    *line += " Live_repl=" + std::to_string(live);
  }
  if (!b.complete) *line += " UNDER_CONSTRUCTION";
  if (options_.locations) {
    std::string nodes;
    auto add = [&nodes](const std::string& node, const char* mark) {
      if (!nodes.empty()) nodes += ", ";
      nodes += node;
      nodes += mark;
    };
    for (const std::string& node : b.live) {
      bool stale = false;
      for (const std::string& s : b.stale) stale = stale || s == node;
      add(node, stale ? "(STALE)" : "");
    }
    for (const std::string& node : b.decommissioning) {
      add(node, IsDecommissioned(node) ? "(DECOMMISSIONED)" : "(DECOMMISSIONING)");
    }
    for (const std::string& node : b.corrupt) add(node, "(CORRUPT)");
    *line += " [" + nodes + "]";
  }
  *line += "\n";
  return verdict;
}

std::string FsckReport::AddFile(const std::string& path, const FileInfo& info,
                                const FileHealthInfo& health) {
  ++total_files_;
  total_size_ += health.length;
  std::string block_lines;
  std::string problems_all;
  int64_t missing = 0, missing_size = 0, corrupt = 0, corrupt_size = 0, problems = 0;
  for (size_t i = 0; i < health.blocks.size(); ++i) {
    std::string line, block_problems;
    BlockVerdict v = CheckBlock(i, health.blocks[i], &line, &block_problems);
    block_lines += line;
    if (v.missing) {
      ++missing;
      missing_size += health.blocks[i].length;
    }
    if (v.corrupt) {
      ++corrupt;
      corrupt_size += health.blocks[i].length;
    }
    if (!block_problems.empty()) {
      ++problems;
      problems_all += block_problems;
    }
  }
  if (missing > 0 || corrupt > 0) ++corrupt_files_;

  std::string out;
  if (!options_.files) {
    // Only what is wrong, each line naming the file.
    size_t start = 0;
    while (start < problems_all.size()) {
      size_t end = problems_all.find('\n', start);
      out += path + ": " + problems_all.substr(start, end - start) + "\n";
      start = end + 1;
    }
    if (missing > 0) {
      out += path + ": MISSING " + std::to_string(missing) + " blocks of total size " +
             std::to_string(missing_size) + " B.\n";
    }
    return out;
  }
  out += path + " " + std::to_string(health.length) +
         " bytes, replicated: replication=" + std::to_string(health.replication) + ", " +
         std::to_string(health.blocks.size()) + " block(s)" +
         (info.under_construction ? ", OPENFORWRITE" : "") + ": ";
  // The first problem continues the file's line, the others follow, as HDFS prints them.
  size_t start = 0;
  while (start < problems_all.size()) {
    size_t end = problems_all.find('\n', start);
    out += " " + problems_all.substr(start, end - start) + "\n";
    start = end + 1;
  }
  if (missing > 0) {
    out += " MISSING " + std::to_string(missing) + " blocks of total size " +
           std::to_string(missing_size) + " B\n";
  } else if (corrupt > 0) {
    out += " CORRUPT " + std::to_string(corrupt) + " blocks of total size " +
           std::to_string(corrupt_size) + " B\n";
  } else if (problems == 0) {
    out += " OK\n";
  }
  if (options_.blocks) out += block_lines;
  out += "\n";
  return out;
}

std::string FsckReport::Summary() const {
  std::string s;
  s += std::string("Status: ") + (healthy() ? "HEALTHY" : "CORRUPT") + "\n";
  s += " Total size:\t" + std::to_string(total_size_) + " B";
  if (open_files_ > 0) {
    s += " (Total open files size: " + std::to_string(open_files_size_) + " B)";
  }
  s += "\n Total dirs:\t" + std::to_string(total_dirs_) + "\n";
  s += " Total files:\t" + std::to_string(total_files_);
  if (open_files_ > 0) s += " (Files currently being written: " + std::to_string(open_files_) + ")";
  s += "\n Total symlinks:\t\t" + std::to_string(total_symlinks_) + "\n";
  s += " Total blocks (validated):\t" + std::to_string(total_blocks_);
  if (total_blocks_ > 0) {
    s += " (avg. block size " + std::to_string(total_size_ / total_blocks_) + " B)";
  }
  if (open_files_blocks_ > 0) {
    s += " (Total open file blocks (not validated): " + std::to_string(open_files_blocks_) + ")";
  }
  s += "\n";
  if (!healthy()) {
    s += "  ********************************\n";
    s += "  UNDER MIN REPL'D BLOCKS:\t" + std::to_string(under_min_replicated_blocks_) + " (" +
         Percent(under_min_replicated_blocks_, total_blocks_) + " %)\n";
    s += "  MINIMAL BLOCK REPLICATION:\t1\n";
    s += "  CORRUPT FILES:\t" + std::to_string(corrupt_files_) + "\n";
    if (missing_blocks_ > 0) {
      s += "  MISSING BLOCKS:\t" + std::to_string(missing_blocks_) + "\n";
      s += "  MISSING SIZE:\t\t" + std::to_string(missing_size_) + " B\n";
    }
    if (corrupt_blocks_ > 0) {
      s += "  CORRUPT BLOCKS: \t" + std::to_string(corrupt_blocks_) + "\n";
    }
    s += "  ********************************\n";
  }
  s += " Minimally replicated blocks:\t" + std::to_string(min_replicated_blocks_) + " (" +
       Percent(min_replicated_blocks_, total_blocks_) + " %)\n";
  s += " Over-replicated blocks:\t" + std::to_string(over_replicated_blocks_) + " (" +
       Percent(over_replicated_blocks_, total_blocks_) + " %)\n";
  s += " Under-replicated blocks:\t" + std::to_string(under_replicated_blocks_) + " (" +
       Percent(under_replicated_blocks_, total_blocks_) + " %)\n";
  s += " Mis-replicated blocks:\t\t" + std::to_string(mis_replicated_blocks_) + " (" +
       Percent(mis_replicated_blocks_, total_blocks_) + " %)\n";
  s += " Default replication factor:\t" + std::to_string(default_replication_) + "\n";
  s += " Average block replication:\t" +
       JavaFloat(total_blocks_ == 0
                     ? 0.0
                     : static_cast<double>(total_replicas_) / static_cast<double>(total_blocks_)) +
       "\n";
  s += " Missing blocks:\t\t" + std::to_string(missing_blocks_) + "\n";
  s += " Corrupt blocks:\t\t" + std::to_string(corrupt_blocks_) + "\n";
  s += " Missing replicas:\t\t" + std::to_string(missing_replicas_) + " (" +
       Percent(missing_replicas_, expected_replicas_) + " %)\n";
  s += " Number of data-nodes:\t\t" + std::to_string(live_datanodes_) + "\n";
  s += " Number of racks:\t\t" + std::to_string(distinct_racks_.size()) + "\n";
  return s;
}

}  // namespace talus::shell
