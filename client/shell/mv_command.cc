// -mv: rename on one file system; several sources move into a directory.
#include "client/shell/commands.h"
#include "client/shell/errors.h"
#include "client/shell/glob.h"
#include "client/shell/option_parser.h"
#include "client/shell/path_expander.h"
#include "common/path.h"

namespace talus::shell {

namespace {

constexpr CommandInfo kMvInfo = {
    "mv",
    "<src> ... <dst>",
    "Move files that match the specified file pattern <src> to a destination <dst>. When\n"
    "moving multiple files, the destination must be a directory. When <dst> is an existing\n"
    "directory, the sources move into it. An existing file is never overwritten.",
};

class MvCommand : public Command {
 public:
  MvCommand() : Command(kMvInfo) {}

 protected:
  Status ParseOptions(std::vector<std::string>* args) override {
    OptionSpec spec;
    spec.min_args = 2;
    ASSIGN_OR_RETURN(ParsedOptions opts, shell::ParseOptions(spec, args));
    dst_arg_ = args->back();
    args->pop_back();
    return Status::OK();
  }

  void ProcessRawArguments(const std::vector<std::string>& args) override {
    Status s = ResolveDestination();
    if (!s.ok()) {
      DisplayError(s);
      return;
    }
    Command::ProcessRawArguments(args);
  }

  void ProcessArguments(std::vector<PathItem>* items) override {
    Status s = CheckDestination(items->size());
    if (!s.ok()) {
      DisplayError(s);
      return;
    }
    Command::ProcessArguments(items);
  }

  Status ProcessPathArgument(PathItem* src) override {
    PathItem target = dst_;
    if (dst_.is_directory()) {
      ASSIGN_OR_RETURN(target, LookupPath(dst_.fs, ChildDisplay(dst_.display, src->name()),
                                          JoinPath(dst_.path, src->name())));
    }
    if (src->fs->uri() != target.fs->uri()) {
      return PathError(src->display, "Does not match target filesystem");
    }
    if (src->is_directory()) {
      if (target.path == src->path)
        return PathPairError(src->display, target.display, "are identical");
      if (IsSameOrUnder(target.path, src->path)) {
        return PathPairError(src->display, target.display, "is a subdirectory of itself");
      }
    }
    if (target.exists()) return PathError(target.display, ErrorCode::kAlreadyExists);
    Status s = src->fs->Rename(src->path, target.path, /*overwrite=*/false);
    if (!s.ok()) return PathPairError(src->display, target.display, s);
    return Status::OK();
  }

 private:
  Status ResolveDestination() {
    if (!HasGlob(dst_arg_)) {
      ASSIGN_OR_RETURN(std::vector<PathItem> items, shell::ExpandArgument(ctx(), dst_arg_));
      dst_ = std::move(items.front());
      return Status::OK();
    }
    Result<std::vector<PathItem>> items = shell::ExpandArgument(ctx(), dst_arg_);
    if (items.ok() && items->size() > 1) return PathError(dst_arg_, "Too many matches");
    if (items.ok()) {
      dst_ = std::move(items->front());
      return Status::OK();
    }
    if (items.status().code() != ErrorCode::kNotFound) return items.status();
    // A pattern that matches nothing names a new path, characters and all.
    std::string path_part;
    ASSIGN_OR_RETURN(FileSystem * fs, ctx()->Resolve(dst_arg_, &path_part));
    Result<std::string> abs = fs->MakeAbsolute(path_part);
    if (!abs.ok()) return PathError(dst_arg_, abs.status());
    dst_.fs = fs;
    dst_.display = CleanDisplay(dst_arg_);
    dst_.path = std::move(abs).value();
    return Status::OK();
  }

  // With several sources the destination must be a directory; with one it may be a new path
  // whose parent exists.
  Status CheckDestination(size_t num_sources) {
    if (num_sources > 1) {
      if (!dst_.exists()) return PathError(dst_.display, ErrorCode::kNotFound);
      if (!dst_.is_directory()) return PathError(dst_.display, ErrorCode::kNotADirectory);
      return Status::OK();
    }
    if (dst_.exists()) {
      if (!dst_.is_directory()) return PathError(dst_.display, ErrorCode::kAlreadyExists);
      return Status::OK();
    }
    Result<FileInfo> parent = dst_.fs->GetFileInfo(std::string(ParentPath(dst_.path)));
    if (!parent.ok()) {
      if (parent.status().code() == ErrorCode::kNotFound) {
        return PathError(dst_.display, ErrorCode::kNotFound);
      }
      return PathError(ParentDisplay(dst_), parent.status());
    }
    if (!parent->IsDirectory()) return PathError(ParentDisplay(dst_), ErrorCode::kNotADirectory);
    return Status::OK();
  }

  std::string dst_arg_;
  PathItem dst_;
};

}  // namespace

std::unique_ptr<Command> NewMvCommand() { return std::make_unique<MvCommand>(); }

}  // namespace talus::shell
