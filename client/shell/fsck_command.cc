// `talus fsck`: the tree walk of HDFS's fsck, done by the client with getListing pages and one
// getFileHealth per file; the rules and words are in fsck_report.cc.
#include "client/shell/fsck_command.h"

#include <chrono>
#include <ctime>
#include <functional>
#include <map>
#include <optional>

#include "client/shell/admin_format.h"
#include "client/shell/errors.h"
#include "client/shell/fsck_report.h"
#include "client/shell/generic_options.h"
#include "client/shell/shell_context.h"

namespace talus::shell {

namespace {

constexpr int kFailureExitCode = 255;
constexpr int kCorruptExitCode = 1;
// listCorruptFileBlocks answers at most this many (HDFS's cap too).
constexpr int32_t kMaxCorruptFileBlocks = 500;

constexpr const char* kUsage =
    "Usage: talus fsck [-fs <uri>] [-D <property=value>] <path> [-list-corruptfileblocks | "
    "[-openforwrite] [-files [-blocks [-locations]]]]\n"
    "\t<path>\tstart checking from this path\n"
    "\t-openforwrite\tcheck files opened for write too (else only counted)\n"
    "\t-files\tprint out files being checked\n"
    "\t-blocks\tprint out block report (with -files)\n"
    "\t-locations\tprint out locations for every block (with -blocks)\n"
    "\t-list-corruptfileblocks\tprint out list of missing blocks and files they belong to\n"
    "Please Note:\n"
    "\t1. By default fsck ignores files opened for write, use -openforwrite to report such\n"
    "\t   files. They are usually tagged CORRUPT or HEALTHY depending on their block\n"
    "\t   allocation status\n"
    "\t2. A block is CORRUPT or MISSING when no good replica of it is left; under-replicated\n"
    "\t   blocks alone leave the verdict HEALTHY.\n";

std::string Message(const Status& status) {
  return status.message().empty() ? DescribeStatus(status) : status.message();
}

class Fsck {
 public:
  Fsck(FileSystem* fs, FsckOptions options, FILE* out, FILE* err)
      : fs_(fs), options_(options), out_(out), err_(err) {}

  int Run(const std::string& user_path, int default_replication) {
    Result<std::string> path = fs_->MakeAbsolute(user_path);
    if (!path.ok()) return Failure(path.status());
    if (options_.list_corrupt_file_blocks) return ListCorrupt(*path);

    const auto started = std::chrono::steady_clock::now();
    Print("Connecting to namenode via " + fs_->uri() + "\n");
    Print("FSCK started by " + fs_->user() + " for path " + *path + " at " +
          JavaDate(std::time(nullptr)) + "\n");
    Result<FileInfo> root = fs_->GetFileInfo(*path);
    if (!root.ok() && root.status().code() != ErrorCode::kNotFound) return Failure(root.status());
    if (!root.ok()) {
      // As HDFS: a path that does not exist is reported, not a failure.
      Print("FSCK ended at " + JavaDate(std::time(nullptr)) + " in " + Elapsed(started) +
            " milliseconds\n\n\nThe filesystem under path '" + *path + "' does not exist\n");
      return 0;
    }

    Result<std::vector<DatanodeReport>> nodes = fs_->GetDatanodeReport(DatanodeReportType::kAll);
    if (!nodes.ok()) return Failure(nodes.status());
    std::map<std::string, std::string> admin_states, racks;
    int live = 0;
    for (const DatanodeReport& node : *nodes) {
      admin_states[node.address()] = node.admin_state;
      if (node.dead()) continue;
      ++live;
      racks[node.address()] = node.rack.empty() ? "/default-rack" : node.rack;
    }
    report_.emplace(options_, std::move(admin_states), std::move(racks), live, default_replication);

    Visit(*root, *path);
    Print("\n" + report_->Summary());
    Print("FSCK ended at " + JavaDate(std::time(nullptr)) + " in " + Elapsed(started) +
          " milliseconds\n\n\n");
    if (failed_) {
      Print("Fsck on path '" + *path + "' FAILED\n");
      return kFailureExitCode;
    }
    const bool healthy = report_->healthy();
    Print("The filesystem under path '" + *path + "' is " + (healthy ? "HEALTHY" : "CORRUPT") +
          "\n");
    return healthy ? 0 : kCorruptExitCode;
  }

 private:
  void Print(const std::string& text) { std::fputs(text.c_str(), out_); }
  int Failure(const Status& status) {
    std::fflush(out_);
    std::fprintf(err_, "fsck: %s\n", Message(status).c_str());
    return kFailureExitCode;
  }
  // An error on one path: printed, the walk goes on, the verdict is FAILED.
  void PathFailure(const std::string& path, const Status& status) {
    std::fflush(out_);
    std::fprintf(err_, "fsck: %s\n", Message(PathError(path, status)).c_str());
    failed_ = true;
  }
  static std::string Elapsed(std::chrono::steady_clock::time_point since) {
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - since)
                              .count());
  }

  void Visit(const FileInfo& info, const std::string& path) {
    if (info.IsDirectory()) {
      Print(report_->AddDirectory(path));
      // Entries arrive a page at a time; each subdirectory is walked as it comes.
      Status listed = fs_->ListDirectoryPaged(path, [&](const FileInfo& entry) {
        Visit(entry, path == "/" ? "/" + entry.name : path + "/" + entry.name);
        return true;
      });
      if (!listed.ok()) PathFailure(path, listed);
      return;
    }
    if (info.type == FileType::kSymlink) {
      Print(report_->AddSymlink(path));
      return;
    }
    if (info.under_construction && !options_.open_for_write) {
      Print(report_->AddOpenFile(path, info));
      return;
    }
    Result<FileHealthInfo> health = fs_->GetFileHealth(path);
    if (!health.ok()) {
      // Deleted since it was listed: nothing to check.
      if (health.status().code() == ErrorCode::kNotFound) return;
      PathFailure(path, health.status());
      return;
    }
    FileInfo current = info;
    current.under_construction = health->under_construction;
    if (current.under_construction && !options_.open_for_write) {
      Print(report_->AddOpenFile(path, info));
      return;
    }
    Print(report_->AddFile(path, current, *health));
  }

  int ListCorrupt(const std::string& path) {
    Result<std::vector<CorruptFileBlock>> blocks =
        fs_->ListCorruptFileBlocks(path, kMaxCorruptFileBlocks);
    if (!blocks.ok()) return Failure(blocks.status());
    std::string text;
    if (!blocks->empty()) {
      text += "The list of corrupt files under path '" + path + "' are:\n";
      for (const CorruptFileBlock& b : *blocks) {
        text += "blk_" + std::to_string(b.block_id) + "_" + std::to_string(b.generation_stamp) +
                "\t" + b.path + "\n";
      }
    }
    text += "The filesystem under path '" + path + "' has " + std::to_string(blocks->size()) +
            " CORRUPT files\n";
    Print(text);
    return 0;
  }

  FileSystem* const fs_;
  const FsckOptions options_;
  FILE* const out_;
  FILE* const err_;
  std::optional<FsckReport> report_;
  bool failed_ = false;
};

}  // namespace

int RunFsckCommand(const std::vector<std::string>& args, FILE* out, FILE* err) {
  Result<GenericOptions> generic = ParseGenericOptions(args);
  if (!generic.ok()) {
    std::fprintf(err, "%s\n%s", generic.status().message().c_str(), kUsage);
    return kFailureExitCode;
  }
  FsckOptions options;
  std::string path;
  for (size_t i = generic->consumed; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-files") {
      options.files = true;
    } else if (a == "-blocks") {
      options.blocks = true;
    } else if (a == "-locations") {
      options.locations = true;
    } else if (a == "-openforwrite") {
      options.open_for_write = true;
    } else if (a == "-list-corruptfileblocks") {
      options.list_corrupt_file_blocks = true;
    } else if (a == "-help" || a == "-h") {
      std::fputs(kUsage, out);
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(err, "fsck: Illegal option '%s'\n%s", a.c_str(), kUsage);
      return kFailureExitCode;
    } else if (path.empty()) {
      path = a;
    } else {
      std::fprintf(err, "fsck: only one path may be checked, got '%s' and '%s'\n%s", path.c_str(),
                   a.c_str(), kUsage);
      return kFailureExitCode;
    }
  }
  if (path.empty()) path = "/";  // as HDFS
  Result<ShellConfig> config = MakeShellConfig(*generic);
  if (!config.ok()) {
    std::fprintf(err, "fsck: %s\n", config.status().message().c_str());
    return kFailureExitCode;
  }
  const int default_replication = config->client.default_replication;
  ShellContext ctx(std::move(config).value(), out, err);
  Result<FileSystem*> fs = ctx.DefaultFs();
  if (!fs.ok()) {
    std::fprintf(err, "fsck: %s\n", Message(fs.status()).c_str());
    return kFailureExitCode;
  }
  const int code = Fsck(*fs, options, out, err).Run(path, default_replication);
  std::fflush(out);
  return code;
}

}  // namespace talus::shell
