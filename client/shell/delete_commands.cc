// -rm and -rmdir.
#include "client/shell/commands.h"
#include "client/shell/errors.h"
#include "client/shell/option_parser.h"

namespace talus::shell {

namespace {

constexpr CommandInfo kRmInfo = {
    "rm",
    "[-f] [-r|-R] [-skipTrash] [-safely] <src> ...",
    "Delete all files that match the specified file pattern. Equivalent to the Unix command\n"
    "\"rm <src>\".\n"
    "  -f          If the file does not exist, do not display a diagnostic message or\n"
    "              modify the exit status to reflect an error.\n"
    "  -[rR]       Recursively deletes directories.\n"
    "  -skipTrash  Accepted for compatibility: Talus has no trash yet, so every delete is\n"
    "              immediate.\n"
    "  -safely     Accepted for compatibility; has no effect.",
};

class RmCommand : public Command {
 public:
  RmCommand() : Command(kRmInfo) {}

 protected:
  Status ParseOptions(std::vector<std::string>* args) override {
    OptionSpec spec;
    spec.min_args = 1;
    spec.flags = {"f", "r", "R", "skipTrash", "safely"};
    ASSIGN_OR_RETURN(ParsedOptions opts, shell::ParseOptions(spec, args));
    ignore_not_found_ = opts.Has("f");
    delete_dirs_ = opts.Has("r") || opts.Has("R");
    return Status::OK();
  }

  Result<std::vector<PathItem>> ExpandArgument(const std::string& arg) override {
    Result<std::vector<PathItem>> items = Command::ExpandArgument(arg);
    // -f also silences a pattern that matches nothing.
    if (!items.ok() && ignore_not_found_ && items.status().code() == ErrorCode::kNotFound) {
      return std::vector<PathItem>{};
    }
    return items;
  }

  Status ProcessNonexistentPath(PathItem* item) override {
    if (ignore_not_found_) return Status::OK();
    return Command::ProcessNonexistentPath(item);
  }

  Status ProcessPath(PathItem* item) override {
    if (item->is_directory() && !delete_dirs_) {
      return PathError(item->display, ErrorCode::kIsADirectory);
    }
    Result<bool> deleted = item->fs->Delete(item->path, delete_dirs_);
    if (!deleted.ok()) {
      if (deleted.status().code() == ErrorCode::kNotFound && ignore_not_found_) {
        return Status::OK();
      }
      return PathError(item->display, deleted.status());
    }
    if (!*deleted) {
      // Someone else removed it between our lookup and the delete.
      if (ignore_not_found_) return Status::OK();
      return PathError(item->display, ErrorCode::kNotFound);
    }
    PrintLine("Deleted " + item->display);
    return Status::OK();
  }

 private:
  bool ignore_not_found_ = false;
  bool delete_dirs_ = false;
};

constexpr CommandInfo kRmdirInfo = {
    "rmdir",
    "[--ignore-fail-on-non-empty] <dir> ...",
    "Removes the directory entry specified by each directory argument, provided it is empty.\n"
    "  --ignore-fail-on-non-empty  Do not report a directory that is not empty.",
};

class RmdirCommand : public Command {
 public:
  RmdirCommand() : Command(kRmdirInfo) {}

 protected:
  Status ParseOptions(std::vector<std::string>* args) override {
    OptionSpec spec;
    spec.min_args = 1;
    spec.flags = {"-ignore-fail-on-non-empty"};
    ASSIGN_OR_RETURN(ParsedOptions opts, shell::ParseOptions(spec, args));
    ignore_non_empty_ = opts.Has("-ignore-fail-on-non-empty");
    return Status::OK();
  }

  Status ProcessPath(PathItem* item) override {
    if (!item->is_directory()) return PathError(item->display, ErrorCode::kNotADirectory);
    // A non-recursive delete is refused for a non-empty directory, atomically on the namenode.
    Result<bool> deleted = item->fs->Delete(item->path, /*recursive=*/false);
    if (deleted.ok()) {
      if (!*deleted) return PathError(item->display, ErrorCode::kNotFound);
      return Status::OK();
    }
    if (deleted.status().code() == ErrorCode::kNotEmpty && ignore_non_empty_) return Status::OK();
    return PathError(item->display, deleted.status());
  }

 private:
  bool ignore_non_empty_ = false;
};

}  // namespace

std::unique_ptr<Command> NewRmCommand() { return std::make_unique<RmCommand>(); }
std::unique_ptr<Command> NewRmdirCommand() { return std::make_unique<RmdirCommand>(); }

}  // namespace talus::shell
