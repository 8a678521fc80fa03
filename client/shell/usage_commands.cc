// -du and -df: space used, as left-aligned tables.
#include <cmath>
#include <optional>

#include "client/shell/commands.h"
#include "client/shell/errors.h"
#include "client/shell/format.h"
#include "client/shell/option_parser.h"
#include "client/shell/table.h"

namespace talus::shell {

namespace {

constexpr CommandInfo kDuInfo = {
    "du",
    "[-s] [-h] [-v] [-x] <path> ...",
    "Show the amount of space, in bytes, used by the files that match the specified file\n"
    "pattern. The following flags are optional:\n"
    "  -s  Rather than showing the size of each individual file that matches the pattern,\n"
    "      shows the total (summary) size.\n"
    "  -h  Formats the sizes of files in a human-readable fashion rather than a number of\n"
    "      bytes.\n"
    "  -v  option displays a header line.\n"
    "  -x  Excludes snapshots from being counted (Talus has no snapshots: no effect).\n"
    "\n"
    "Note that, even without the -s option, this only shows size summaries one level deep\n"
    "into a directory.\n"
    "\n"
    "The output is in the form\n"
    "\tsize\tdisk space consumed\tname(full path)",
};

class DuCommand : public Command {
 public:
  DuCommand() : Command(kDuInfo) {}

 protected:
  Status ParseOptions(std::vector<std::string>* args) override {
    OptionSpec spec;
    spec.flags = {"s", "h", "v", "x"};
    ASSIGN_OR_RETURN(ParsedOptions opts, shell::ParseOptions(spec, args));
    summary_ = opts.Has("s");
    human_ = opts.Has("h");
    if (opts.Has("v")) {
      table_.emplace(std::vector<std::string>{"SIZE", "DISK_SPACE_CONSUMED_WITH_ALL_REPLICAS",
                                              "FULL_PATH_NAME"});
    } else {
      table_.emplace(3);
    }
    if (args->empty()) args->push_back(".");
    return Status::OK();
  }

  void ProcessArguments(std::vector<PathItem>* items) override {
    Command::ProcessArguments(items);
    std::string rendered = table_->Render();
    std::fwrite(rendered.data(), 1, rendered.size(), ctx()->out());
  }

  Status ProcessPathArgument(PathItem* item) override {
    // One level deep into a directory named on the command line unless -s.
    if (!summary_ && item->is_directory()) {
      return RecursePath(item);
    }
    return Command::ProcessPathArgument(item);
  }

  Status ProcessPath(PathItem* item) override {
    Result<ContentSummary> summary = item->fs->GetContentSummary(item->path);
    if (!summary.ok()) return PathError(item->display, summary.status());
    table_->AddRow({FormatSize(summary->length, human_),
                    FormatSize(summary->space_consumed, human_), item->display});
    return Status::OK();
  }

 private:
  bool summary_ = false;
  bool human_ = false;
  std::optional<Table> table_;
};

constexpr CommandInfo kDfInfo = {
    "df",
    "[-h] [<path> ...]",
    "Shows the capacity, free and used space of the filesystem. If the filesystem has\n"
    "multiple partitions, and no path to a particular partition is specified, then the\n"
    "status of the root partitions will be shown.\n"
    "  -h  Formats the sizes of files in a human-readable fashion rather than a number of\n"
    "      bytes.",
};

class DfCommand : public Command {
 public:
  DfCommand() : Command(kDfInfo), table_({"Filesystem", "Size", "Used", "Available", "Use%"}) {
    for (size_t column = 1; column <= 4; ++column) table_.SetRightAlign(column);
  }

 protected:
  Status ParseOptions(std::vector<std::string>* args) override {
    OptionSpec spec;
    spec.flags = {"h"};
    ASSIGN_OR_RETURN(ParsedOptions opts, shell::ParseOptions(spec, args));
    human_ = opts.Has("h");
    if (args->empty()) args->push_back("/");
    return Status::OK();
  }

  void ProcessArguments(std::vector<PathItem>* items) override {
    Command::ProcessArguments(items);
    std::string rendered = table_.Render();
    std::fwrite(rendered.data(), 1, rendered.size(), ctx()->out());
  }

  Status ProcessPath(PathItem* item) override {
    Result<FsStats> stats = item->fs->GetStats();
    if (!stats.ok()) return PathError(item->display, stats.status());
    // With no datanodes the capacity is zero; say 0% rather than dividing by it.
    int64_t percent = stats->capacity > 0 ? std::llround(100.0 * static_cast<double>(stats->used) /
                                                         static_cast<double>(stats->capacity))
                                          : 0;
    table_.AddRow({item->fs->uri(), FormatSize(stats->capacity, human_),
                   FormatSize(stats->used, human_), FormatSize(stats->remaining, human_),
                   std::to_string(percent) + "%"});
    return Status::OK();
  }

 private:
  bool human_ = false;
  Table table_;
};

}  // namespace

std::unique_ptr<Command> NewDuCommand() { return std::make_unique<DuCommand>(); }
std::unique_ptr<Command> NewDfCommand() { return std::make_unique<DfCommand>(); }

}  // namespace talus::shell
