// -setrep: sets the replication factor of files; with -w waits until every block has exactly
// that many live replicas (the namenode's replication monitor adds or removes them).
#include <charconv>
#include <chrono>
#include <cstdio>
#include <thread>

#include "client/shell/commands.h"
#include "client/shell/errors.h"
#include "client/shell/option_parser.h"

namespace talus::shell {

namespace {

constexpr CommandInfo kSetrepInfo = {
    "setrep",
    "[-R] [-w] <rep> <path> ...",
    "Set the replication level of a file. If <path> is a directory then the command\n"
    "recursively changes the replication factor of all files under the directory tree rooted\n"
    "at <path>.\n"
    "  -w  It requests that the command waits for the replication to complete. This\n"
    "      can potentially take a very long time (at most 10 minutes per file here).\n"
    "  -R  It is accepted for backwards compatibility. It has no effect.",
};

class SetrepCommand : public Command {
 public:
  SetrepCommand() : Command(kSetrepInfo) {}

 protected:
  Status ParseOptions(std::vector<std::string>* args) override {
    OptionSpec spec;
    spec.min_args = 2;
    spec.flags = {"R", "w"};
    ASSIGN_OR_RETURN(ParsedOptions opts, shell::ParseOptions(spec, args));
    wait_ = opts.Has("w");
    recursive_ = true;
    std::string text = args->front();
    args->erase(args->begin());
    int16_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
      DisplayWarning("Illegal replication, a positive integer expected");
      return UsageError("For input string: \"" + text + "\"");
    }
    if (value < 1) return UsageError("replication must be >= 1");
    replication_ = value;
    return Status::OK();
  }

  void ProcessArguments(std::vector<PathItem>* items) override {
    Command::ProcessArguments(items);
    if (!wait_) return;
    for (const Waiting& w : waiting_) {
      Status done = WaitForReplication(w);
      if (!done.ok()) DisplayError(done);
    }
  }

  Status ProcessPath(PathItem* item) override {
    if (!item->info->IsFile()) return Status::OK();
    Result<bool> set = item->fs->SetReplication(item->path, replication_);
    if (!set.ok()) return PathError(item->display, set.status());
    if (!*set) return Status::IoError("Could not set replication for: " + item->display);
    PrintLine("Replication " + std::to_string(replication_) + " set: " + item->display);
    if (wait_) waiting_.push_back(Waiting{item->fs, item->path, item->display});
    return Status::OK();
  }

 private:
  struct Waiting {
    FileSystem* fs;
    std::string path;
    std::string display;
  };

  // Done when every block is complete with exactly replication_ live replicas.
  Result<bool> Replicated(const Waiting& w) const {
    Result<FileHealthInfo> health = w.fs->GetFileHealth(w.path);
    if (!health.ok()) return health.status();
    for (const BlockHealthInfo& b : health->blocks) {
      if (!b.complete || static_cast<int64_t>(b.live.size()) != replication_) return false;
    }
    return true;
  }

  // As HDFS: "Waiting for PATH ...", a dot a second, then " done".
  Status WaitForReplication(const Waiting& w) {
    FILE* out = ctx()->out();
    std::fprintf(out, "Waiting for %s ...", w.display.c_str());
    std::fflush(out);
    const auto start = std::chrono::steady_clock::now();
    auto last_dot = start;
    while (true) {
      Result<bool> done = Replicated(w);
      if (!done.ok()) {
        std::fprintf(out, "\n");
        return PathError(w.display, done.status());
      }
      if (*done) break;
      const auto now = std::chrono::steady_clock::now();
      if (now - start >= kWaitLimit) {
        std::fprintf(out, "\n");
        return PathError(w.display,
                         "timed out waiting for replication " + std::to_string(replication_));
      }
      if (now - last_dot >= std::chrono::seconds(1)) {
        std::fputc('.', out);
        std::fflush(out);
        last_dot = now;
      }
      std::this_thread::sleep_for(kPollInterval);
    }
    std::fprintf(out, " done\n");
    std::fflush(out);
    return Status::OK();
  }

  static constexpr auto kPollInterval = std::chrono::milliseconds(200);
  static constexpr auto kWaitLimit = std::chrono::minutes(10);

  bool wait_ = false;
  int16_t replication_ = 0;
  std::vector<Waiting> waiting_;
};

}  // namespace

std::unique_ptr<Command> NewSetrepCommand() { return std::make_unique<SetrepCommand>(); }

}  // namespace talus::shell
