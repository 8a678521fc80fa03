// -put, -copyFromLocal and -moveFromLocal: local files, directories or standard input into the
// cluster.
#include <fcntl.h>
#include <unistd.h>

#include "client/shell/commands.h"
#include "client/shell/copy_target.h"
#include "client/shell/data_copy.h"
#include "client/shell/errors.h"
#include "client/shell/local_files.h"
#include "client/shell/option_parser.h"
#include "common/path.h"

namespace talus::shell {

namespace {

constexpr CommandInfo kPutInfo = {
    "put",
    "[-f] [-p] [-l] [-d] [-t <thread count>] [-q <threadPool queue size>] <localsrc> ... <dst>",
    "Copy files from the local file system into fs. Copying fails if the file already\n"
    "exists, unless the -f flag is given.\n"
    "Flags:\n"
    "  -p                 Preserves timestamps, ownership and the mode.\n"
    "  -f                 Overwrites the destination if it already exists.\n"
    "  -t <thread count>  Accepted for compatibility; files are copied one at a time.\n"
    "  -q <threadPool queue size>  Accepted for compatibility.\n"
    "  -l                 Accepted for compatibility (lazy persist).\n"
    "  -d                 Skip creation of temporary file(<dst>._COPYING_).\n"
    "When <localsrc> is -, the input is read from standard input. A progress line is shown\n"
    "on stderr while copying when stdout is a terminal.",
};

constexpr CommandInfo kCopyFromLocalInfo = {
    "copyFromLocal",
    "[-f] [-p] [-l] [-d] [-t <thread count>] [-q <threadPool queue size>] <localsrc> ... <dst>",
    "Copy files from the local file system into fs. Identical to the -put command.",
};

constexpr CommandInfo kMoveFromLocalInfo = {
    "moveFromLocal",
    "[-f] [-p] [-l] [-d] <localsrc> ... <dst>",
    "Same as -put, except that the source is deleted after it's copied.",
};

class PutCommand : public Command {
 public:
  PutCommand(const CommandInfo& info, bool move) : Command(info), move_(move) {}

 protected:
  Status ParseOptions(std::vector<std::string>* args) override {
    OptionSpec spec;
    spec.min_args = 1;
    spec.flags = {"f", "p", "l", "d"};
    spec.value_options = {"t", "q"};
    ASSIGN_OR_RETURN(ParsedOptions opts, shell::ParseOptions(spec, args));
    overwrite_ = opts.Has("f");
    direct_ = opts.Has("d");
    if (opts.Has("p")) preserve_ = Preserve::All();
    // With one argument the destination is the working directory, as in HDFS.
    if (args->size() > 1) {
      dst_arg_ = args->back();
      args->pop_back();
    }
    return Status::OK();
  }

  void ProcessRawArguments(const std::vector<std::string>& args) override {
    InterruptGuard interrupt_guard;
    Result<PathItem> dst = ResolveClusterDestination(ctx(), dst_arg_);
    if (!dst.ok()) return DisplayError(dst.status());
    dst_ = std::move(dst).value();
    if (args.size() == 1 && args[0] == "-") {
      Status s = PutStdin();
      if (!s.ok() && !CopyInterrupted()) DisplayError(s);
      return;
    }
    std::vector<std::pair<std::string, struct stat>> sources;
    for (const std::string& arg : args) {
      Result<std::vector<std::string>> paths = ExpandLocalGlob(arg);
      if (!paths.ok()) {
        DisplayError(PathError(arg, paths.status()));
        continue;
      }
      if (paths->empty()) DisplayError(PathError(arg, ErrorCode::kNotFound));
      for (const std::string& path : *paths) {
        Result<std::optional<struct stat>> st = StatLocal(path);
        if (!st.ok()) {
          DisplayError(PathError(path, st.status()));
        } else if (!st->has_value()) {
          DisplayError(PathError(path, ErrorCode::kNotFound));
        } else {
          sources.emplace_back(path, **st);
        }
      }
    }
    if (sources.empty()) return;
    Status s = CheckClusterDestination(dst_, sources.size());
    if (!s.ok()) return DisplayError(s);
    for (const auto& [path, st] : sources) {
      s = CopyInto(path, st, dst_);
      if (CopyInterrupted()) return;  // the guard's destructor ends the shell by the signal
      if (!s.ok()) DisplayError(s);
    }
  }

 private:
  Status PutStdin() {
    RETURN_NOT_OK(CheckClusterDestination(dst_, 1));
    ASSIGN_OR_RETURN(PathItem target, ClusterTarget(dst_, "-"));
    ProgressBar progress(ctx()->err(), ShowProgress(ctx()), target.display, -1);
    return WriteClusterFile(target, overwrite_, direct_, [&](OutputStream* out) {
      return CopyFdToStream(STDIN_FILENO, "-", out, target.display, &progress);
    });
  }

  // Copies the local `src` to `dst`, or below it when `dst` is an existing directory.
  Status CopyInto(const std::string& src, const struct stat& st, const PathItem& dst) {
    ASSIGN_OR_RETURN(PathItem target, ClusterTarget(dst, BaseName(src)));
    if (S_ISDIR(st.st_mode)) {
      RETURN_NOT_OK(CopyDirectory(src, st, &target));
      // A child that could not be moved keeps its directory, and was reported already.
      if (move_ && ::rmdir(src.c_str()) != 0 && errno != ENOTEMPTY && errno != EEXIST) {
        return PathError(src, ErrnoStatus(errno, "rmdir"));
      }
      return Status::OK();
    }
    if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode)) {
      return PathError(src, "Not a regular file");
    }
    RETURN_NOT_OK(CopyFile(src, st, target));
    if (move_ && ::unlink(src.c_str()) != 0) return PathError(src, ErrnoStatus(errno, "unlink"));
    return Status::OK();
  }

  Status CopyDirectory(const std::string& src, const struct stat& st, PathItem* target) {
    if (target->exists()) {
      if (!target->is_directory()) return PathError(target->display, ErrorCode::kNotADirectory);
    } else {
      Status s = target->fs->Mkdirs(target->path, 0777, /*create_parent=*/false);
      if (!s.ok()) return PathError(target->display, s);
      Result<FileInfo> info = target->fs->GetFileInfo(target->path);
      if (!info.ok()) return PathError(target->display, info.status());
      target->info = std::move(info).value();
    }
    Result<std::vector<std::string>> names = ListLocalDirectory(src);
    if (!names.ok()) return PathError(src, names.status());
    for (const std::string& name : *names) {
      std::string child = JoinLocal(src, name);
      Result<std::optional<struct stat>> child_st = StatLocal(child);
      Status s;
      if (!child_st.ok()) {
        s = PathError(child, child_st.status());
      } else if (!child_st->has_value()) {
        s = PathError(child, ErrorCode::kNotFound);  // removed while we copied
      } else {
        s = CopyInto(child, **child_st, *target);
      }
      if (CopyInterrupted()) return s;
      if (!s.ok()) DisplayError(s);
    }
    if (!preserve_.any()) return Status::OK();
    return PreserveLocalToCluster(target->fs, target->path, target->display, st, preserve_);
  }

  Status CopyFile(const std::string& src, const struct stat& st, const PathItem& target) {
    if (target.exists() && (!overwrite_ || target.is_directory())) {
      return PathError(target.display, ErrorCode::kAlreadyExists);
    }
    Fd fd(::open(src.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return PathError(src, ErrnoStatus(errno, "open"));
    ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    int64_t total = S_ISREG(st.st_mode) ? static_cast<int64_t>(st.st_size) : -1;
    ProgressBar progress(ctx()->err(), ShowProgress(ctx()), target.display, total);
    RETURN_NOT_OK(WriteClusterFile(target, overwrite_, direct_, [&](OutputStream* out) {
      return CopyFdToStream(fd.get(), src, out, target.display, &progress);
    }));
    progress.Finish();
    if (!preserve_.any()) return Status::OK();
    return PreserveLocalToCluster(target.fs, target.path, target.display, st, preserve_);
  }

  std::string dst_arg_;
  PathItem dst_;
  bool overwrite_ = false;
  bool direct_ = false;
  const bool move_;  // -moveFromLocal: each source is removed once copied
  Preserve preserve_;
};

}  // namespace

std::unique_ptr<Command> NewPutCommand() { return std::make_unique<PutCommand>(kPutInfo, false); }
std::unique_ptr<Command> NewCopyFromLocalCommand() {
  return std::make_unique<PutCommand>(kCopyFromLocalInfo, false);
}
std::unique_ptr<Command> NewMoveFromLocalCommand() {
  return std::make_unique<PutCommand>(kMoveFromLocalInfo, true);
}

}  // namespace talus::shell
