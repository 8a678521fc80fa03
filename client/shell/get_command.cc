// -get and -copyToLocal (files and directories to the local disk) and -getmerge.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "client/shell/commands.h"
#include "client/shell/data_copy.h"
#include "client/shell/errors.h"
#include "client/shell/local_files.h"
#include "client/shell/option_parser.h"
#include "common/path.h"

namespace talus::shell {

namespace {

constexpr CommandInfo kGetInfo = {
    "get",
    "[-f] [-p] [-crc] [-ignoreCrc] [-t <thread count>] [-q <threadPool queue size>] "
    "<src> ... <localdst>",
    "Copy files that match the file pattern <src> to the local name. <src> is kept.\n"
    "When copying multiple files, the destination must be a directory.\n"
    "Flags:\n"
    "  -p                 Preserves timestamps, ownership and the mode.\n"
    "  -f                 Overwrites the destination if it already exists.\n"
    "  -crc -ignoreCrc    Accepted for compatibility (every read is verified; no .crc files).\n"
    "  -t <thread count>  Accepted for compatibility; files are copied one at a time.\n"
    "  -q <threadPool queue size>  Accepted for compatibility.\n"
    "A progress line is shown on stderr while copying when stdout is a terminal.",
};

constexpr CommandInfo kCopyToLocalInfo = {
    "copyToLocal",
    "[-f] [-p] [-crc] [-ignoreCrc] [-t <thread count>] [-q <threadPool queue size>] "
    "<src> ... <localdst>",
    "Identical to the -get command.",
};

class GetCommand : public Command {
 public:
  explicit GetCommand(const CommandInfo& info) : Command(info) {}

 protected:
  Status ParseOptions(std::vector<std::string>* args) override {
    OptionSpec spec;
    spec.min_args = 1;
    spec.flags = {"f", "p", "crc", "ignoreCrc"};
    spec.value_options = {"t", "q"};
    ASSIGN_OR_RETURN(ParsedOptions opts, shell::ParseOptions(spec, args));
    overwrite_ = opts.Has("f");
    if (opts.Has("p")) preserve_ = Preserve::All();
    if (args->size() > 1) {
      dst_ = args->back();
      args->pop_back();
    }
    return Status::OK();
  }

  void ProcessArguments(std::vector<PathItem>* items) override {
    if (items->empty()) return;
    InterruptGuard interrupt_guard;
    Result<std::optional<struct stat>> st = StatLocal(dst_);
    if (!st.ok()) return DisplayError(PathError(dst_, st.status()));
    bool dst_is_dir = st->has_value() && S_ISDIR((*st)->st_mode);
    if (items->size() > 1) {
      if (!st->has_value()) return DisplayError(PathError(dst_, ErrorCode::kNotFound));
      if (!dst_is_dir) return DisplayError(PathError(dst_, ErrorCode::kNotADirectory));
    } else if (!st->has_value()) {
      Result<std::optional<struct stat>> parent = StatLocal(LocalParent(dst_));
      if (!parent.ok()) return DisplayError(PathError(dst_, parent.status()));
      if (!parent->has_value()) return DisplayError(PathError(dst_, ErrorCode::kNotFound));
      if (!S_ISDIR((*parent)->st_mode)) {
        return DisplayError(PathError(LocalParent(dst_), ErrorCode::kNotADirectory));
      }
    }
    for (PathItem& item : *items) {
      if (!item.exists()) {
        DisplayError(PathError(item.display, ErrorCode::kNotFound));
        continue;
      }
      std::string target = dst_is_dir ? JoinLocal(dst_, item.name()) : dst_;
      Status s = CopyItem(item, target);
      if (CopyInterrupted()) return;  // the guard's destructor ends the shell by the signal
      if (!s.ok()) DisplayError(s);
    }
  }

 private:
  Status CopyItem(const PathItem& item, const std::string& target) {
    Result<std::optional<struct stat>> st = StatLocal(target);
    if (!st.ok()) return PathError(target, st.status());
    if (item.is_directory()) return CopyDirectory(item, target, st->has_value() ? &**st : nullptr);
    if (st->has_value() && (!overwrite_ || S_ISDIR((*st)->st_mode))) {
      return PathError(target, ErrorCode::kAlreadyExists);
    }
    return CopyFile(item, target);
  }

  Status CopyDirectory(const PathItem& item, const std::string& target,
                       const struct stat* existing) {
    if (existing != nullptr) {
      if (!S_ISDIR(existing->st_mode)) return PathError(target, ErrorCode::kNotADirectory);
    } else if (::mkdir(target.c_str(), 0777) != 0) {
      return PathError(target, ErrnoStatus(errno, "mkdir"));
    }
    Result<std::vector<FileInfo>> entries = item.fs->ListDirectory(item.path);
    if (!entries.ok()) return PathError(item.display, entries.status());
    std::sort(entries->begin(), entries->end(),
              [](const FileInfo& a, const FileInfo& b) { return a.name < b.name; });
    for (const FileInfo& entry : *entries) {
      Status s = CopyItem(item.Child(entry), JoinLocal(target, entry.name));
      if (CopyInterrupted()) return s;
      if (!s.ok()) DisplayError(s);
    }
    if (!preserve_.any()) return Status::OK();
    return PreserveClusterToLocal(*item.info, target, preserve_);
  }

  // Into TARGET._COPYING_, renamed onto the target when complete, as HDFS does.
  Status CopyFile(const PathItem& item, const std::string& target) {
    Result<std::unique_ptr<InputStream>> in = item.fs->Open(item.path);
    if (!in.ok()) return PathError(item.display, in.status());
    const std::string tmp = target + "._COPYING_";
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666));
    if (fd.get() < 0) return PathError(tmp, ErrnoStatus(errno, "open"));
    ProgressBar progress(ctx()->err(), ShowProgress(ctx()), item.display, (*in)->Length());
    Status s = CopyStreamToFd(in->get(), item.display, fd.get(), tmp, &progress);
    if (s.ok()) {
      Status closed = fd.Close();
      if (!closed.ok()) s = PathError(tmp, closed);
    }
    if (s.ok() && ::rename(tmp.c_str(), target.c_str()) != 0) {
      s = PathError(target, ErrnoStatus(errno, "rename"));
    }
    if (!s.ok()) {
      ::unlink(tmp.c_str());
      return s;
    }
    progress.Finish();
    if (!preserve_.any()) return Status::OK();
    return PreserveClusterToLocal(*item.info, target, preserve_);
  }

  std::string dst_ = ".";  // with one argument, the working directory as in HDFS
  bool overwrite_ = false;
  Preserve preserve_;
};

constexpr CommandInfo kGetmergeInfo = {
    "getmerge",
    "[-nl] [-skip-empty-file] <src> <localdst>",
    "Get all the files in the directories that match the source file pattern and merge and\n"
    "sort them to only one file on local fs. <src> is kept.\n"
    "  -nl               Add a newline character at the end of each file.\n"
    "  -skip-empty-file  Do not add new line character for empty file.",
};

class GetmergeCommand : public Command {
 public:
  GetmergeCommand() : Command(kGetmergeInfo) {}

 protected:
  Status ParseOptions(std::vector<std::string>* args) override {
    OptionSpec spec;
    spec.min_args = 2;
    spec.max_args = 2;
    spec.flags = {"nl", "skip-empty-file"};
    ASSIGN_OR_RETURN(ParsedOptions opts, shell::ParseOptions(spec, args));
    newline_ = opts.Has("nl");
    skip_empty_ = opts.Has("skip-empty-file");
    dst_ = args->back();
    args->pop_back();
    return Status::OK();
  }

  void ProcessArguments(std::vector<PathItem>* items) override {
    Result<std::optional<struct stat>> st = StatLocal(dst_);
    if (!st.ok()) return DisplayError(PathError(dst_, st.status()));
    if (st->has_value() && S_ISDIR((*st)->st_mode)) {
      return DisplayError(PathError(dst_, ErrorCode::kIsADirectory));
    }
    // The files to merge: each file named, and the files directly in each directory named.
    std::vector<PathItem> files;
    for (PathItem& item : *items) {
      if (!item.exists()) {
        DisplayError(PathError(item.display, ErrorCode::kNotFound));
        continue;
      }
      if (!item.is_directory()) {
        files.push_back(item);
        continue;
      }
      Result<std::vector<FileInfo>> entries = item.fs->ListDirectory(item.path);
      if (!entries.ok()) {
        DisplayError(PathError(item.display, entries.status()));
        continue;
      }
      std::vector<PathItem> children;
      for (const FileInfo& entry : *entries) {
        if (entry.IsFile()) children.push_back(item.Child(entry));
      }
      std::sort(children.begin(), children.end(),
                [](const PathItem& a, const PathItem& b) { return a.path < b.path; });
      files.insert(files.end(), children.begin(), children.end());
    }
    Fd fd(::open(dst_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666));
    if (fd.get() < 0) return DisplayError(PathError(dst_, ErrnoStatus(errno, "open")));
    for (const PathItem& file : files) {
      Status s = Append(file, fd.get());
      if (!s.ok()) DisplayError(s);
    }
    Status closed = fd.Close();
    if (!closed.ok()) DisplayError(PathError(dst_, closed));
  }

 private:
  Status Append(const PathItem& file, int fd) {
    if (skip_empty_ && file.info->length == 0) return Status::OK();
    Result<std::unique_ptr<InputStream>> in = file.fs->Open(file.path);
    if (!in.ok()) return PathError(file.display, in.status());
    RETURN_NOT_OK(CopyStreamToFd(in->get(), file.display, fd, dst_, nullptr));
    if (newline_) {
      Status s = WriteFully(fd, "\n", 1);
      if (!s.ok()) return PathError(dst_, s);
    }
    return Status::OK();
  }

  std::string dst_;
  bool newline_ = false;
  bool skip_empty_ = false;
};

}  // namespace

std::unique_ptr<Command> NewGetCommand() { return std::make_unique<GetCommand>(kGetInfo); }
std::unique_ptr<Command> NewCopyToLocalCommand() {
  return std::make_unique<GetCommand>(kCopyToLocalInfo);
}
std::unique_ptr<Command> NewGetmergeCommand() { return std::make_unique<GetmergeCommand>(); }

}  // namespace talus::shell
