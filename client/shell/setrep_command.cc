// -setrep: records the replication factor of files (enforced once datanodes exist).
#include <charconv>

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
    "  -w  It requests that the command waits for the replication to complete. Talus has no\n"
    "      datanodes yet, so there is nothing to wait for: the factor is recorded and a note\n"
    "      says so.\n"
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
    if (wait_ && set_any_) {
      DisplayWarning(
          "-w: waiting for replication is not supported until Talus has "
          "datanodes; the replication factor was recorded");
    }
  }

  Status ProcessPath(PathItem* item) override {
    if (!item->info->IsFile()) return Status::OK();
    Result<bool> set = item->fs->SetReplication(item->path, replication_);
    if (!set.ok()) return PathError(item->display, set.status());
    if (!*set) return Status::IoError("Could not set replication for: " + item->display);
    PrintLine("Replication " + std::to_string(replication_) + " set: " + item->display);
    set_any_ = true;
    return Status::OK();
  }

 private:
  bool wait_ = false;
  bool set_any_ = false;
  int16_t replication_ = 0;
};

}  // namespace

std::unique_ptr<Command> NewSetrepCommand() { return std::make_unique<SetrepCommand>(); }

}  // namespace talus::shell
