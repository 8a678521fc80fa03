// -ls: the listing in HDFS's layout, columns sized over everything listed so far.
#include <algorithm>

#include "client/shell/commands.h"
#include "client/shell/format.h"
#include "client/shell/option_parser.h"

namespace talus::shell {

namespace {

constexpr CommandInfo kLsInfo = {
    "ls",
    "[-C] [-d] [-h] [-R] [-t] [-S] [-r] [-u] [<path> ...]",
    "List the contents that match the specified file pattern. If path is not specified, the\n"
    "contents of /user/<currentUser> will be listed. For a directory a list of its direct\n"
    "children is returned (unless -d option is specified).\n"
    "\n"
    "Directory entries are of the form:\n"
    "\tpermissions - userId groupId sizeOfDirectory(in bytes) modificationDate(yyyy-MM-dd HH:mm) "
    "directoryName\n"
    "\n"
    "and file entries are of the form:\n"
    "\tpermissions numberOfReplicas userId groupId sizeOfFile(in bytes) "
    "modificationDate(yyyy-MM-dd HH:mm) fileName\n"
    "\n"
    "  -C  Display the paths of files and directories only.\n"
    "  -d  Directories are listed as plain files.\n"
    "  -h  Formats the sizes of files in a human-readable fashion\n"
    "      rather than a number of bytes.\n"
    "  -R  Recursively list the contents of directories.\n"
    "  -t  Sort files by modification time (most recent first).\n"
    "  -S  Sort files by size.\n"
    "  -r  Reverse the order of the sort.\n"
    "  -u  Use time of last access instead of modification for\n"
    "      display and sorting.",
};

bool Later(const Timestamp& a, const Timestamp& b) {
  return a.sec != b.sec ? a.sec > b.sec : a.nsec > b.nsec;
}

class LsCommand : public Command {
 public:
  LsCommand() : Command(kLsInfo) {}

 protected:
  Status ParseOptions(std::vector<std::string>* args) override {
    OptionSpec spec;
    spec.flags = {"C", "d", "h", "R", "r", "t", "S", "u"};
    ASSIGN_OR_RETURN(ParsedOptions opts, shell::ParseOptions(spec, args));
    path_only_ = opts.Has("C");
    dir_recurse_ = !opts.Has("d");
    recursive_ = opts.Has("R") && dir_recurse_;
    human_ = opts.Has("h");
    reverse_ = opts.Has("r");
    order_time_ = opts.Has("t");
    order_size_ = !order_time_ && opts.Has("S");
    use_atime_ = opts.Has("u");
    if (args->empty()) args->push_back(".");
    return Status::OK();
  }

  Status ProcessPathArgument(PathItem* item) override {
    // A directory on the command line stands for its entries.
    if (dir_recurse_ && item->is_directory()) {
      return RecursePath(item);
    }
    return Command::ProcessPathArgument(item);
  }

  void ProcessPaths(const PathItem* parent, std::vector<PathItem>* items) override {
    if (parent != nullptr) {
      if (!recursive_ && !items->empty() && !path_only_) {
        PrintLine("Found " + std::to_string(items->size()) + " items");
      }
      Sort(items);
    }
    if (!path_only_) AdjustColumnWidths(*items);
    Command::ProcessPaths(parent, items);
  }

  Status ProcessPath(PathItem* item) override {
    if (path_only_) {
      PrintLine(item->display);
      return Status::OK();
    }
    const FileInfo& info = *item->info;
    std::string line;
    line += info.IsDirectory() ? 'd' : '-';
    line += PermissionString(info.mode);
    line += ' ';  // where HDFS puts '+' for an ACL
    line += PadLeft(info.IsFile() ? std::to_string(info.replication) : "-", max_replication_);
    line += ' ';
    line += PadRight(info.owner, max_owner_);
    if (max_owner_ > 0) line += ' ';
    line += PadRight(info.group, max_group_);
    if (max_group_ > 0) line += ' ';
    line += PadLeft(FormatSize(info.length, human_), max_length_);
    line += ' ';
    line += FormatLocalMinute(use_atime_ ? info.atime : info.mtime);
    line += ' ';
    line += item->display;
    PrintLine(line);
    return Status::OK();
  }

 private:
  static int64_t Length(const PathItem& item) { return item.info ? item.info->length : 0; }
  static std::string PadLeft(const std::string& s, size_t width) {
    return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
  }
  static std::string PadRight(const std::string& s, size_t width) {
    return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
  }

  // Widths only grow during one command, so the columns of later directories line up with
  // earlier ones where they can.
  void AdjustColumnWidths(const std::vector<PathItem>& items) {
    for (const PathItem& item : items) {
      const FileInfo& info = *item.info;
      max_replication_ = std::max(max_replication_, std::to_string(info.replication).size());
      max_length_ = std::max(max_length_, std::to_string(info.length).size());
      max_owner_ = std::max(max_owner_, info.owner.size());
      max_group_ = std::max(max_group_, info.group.size());
    }
  }

  void Sort(std::vector<PathItem>* items) const {
    auto by_name = [](const PathItem& a, const PathItem& b) { return a.display < b.display; };
    std::sort(items->begin(), items->end(), by_name);
    if (order_time_) {
      std::stable_sort(items->begin(), items->end(), [this](const PathItem& a, const PathItem& b) {
        return use_atime_ ? Later(a.info->atime, b.info->atime)
                          : Later(a.info->mtime, b.info->mtime);
      });
    } else if (order_size_) {
      std::stable_sort(items->begin(), items->end(),
                       [](const PathItem& a, const PathItem& b) { return Length(a) > Length(b); });
    }
    if (reverse_) std::reverse(items->begin(), items->end());
  }

  bool path_only_ = false;
  bool dir_recurse_ = true;
  bool human_ = false;
  bool reverse_ = false;
  bool order_time_ = false;
  bool order_size_ = false;
  bool use_atime_ = false;
  size_t max_replication_ = 3;
  size_t max_length_ = 10;
  size_t max_owner_ = 0;
  size_t max_group_ = 0;
};

}  // namespace

std::unique_ptr<Command> NewLsCommand() { return std::make_unique<LsCommand>(); }

}  // namespace talus::shell
