// -appendToFile: local files or standard input appended to one cluster file.
#include <fcntl.h>
#include <unistd.h>

#include "client/shell/commands.h"
#include "client/shell/copy_target.h"
#include "client/shell/data_copy.h"
#include "client/shell/errors.h"
#include "client/shell/local_files.h"
#include "client/shell/option_parser.h"

namespace talus::shell {

namespace {

constexpr CommandInfo kAppendToFileInfo = {
    "appendToFile",
    "<localsrc> ... <dst>",
    "Appends the contents of all the given local files to the given dst file. The dst file\n"
    "will be created if it does not exist. If <localSrc> is -, then the input is read from\n"
    "stdin.",
};

class AppendToFileCommand : public Command {
 public:
  AppendToFileCommand() : Command(kAppendToFileInfo) {}

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
    // Every source must be there before anything is appended, so a typo appends nothing.
    std::vector<std::string> sources;
    for (const std::string& arg : args) {
      if (arg == "-") {
        sources.push_back(arg);
        continue;
      }
      Result<std::vector<std::string>> paths = ExpandLocalGlob(arg);
      if (!paths.ok()) return DisplayError(PathError(arg, paths.status()));
      if (paths->empty()) return DisplayError(PathError(arg, ErrorCode::kNotFound));
      for (const std::string& path : *paths) {
        Result<std::optional<struct stat>> st = StatLocal(path);
        if (!st.ok()) return DisplayError(PathError(path, st.status()));
        if (!st->has_value()) return DisplayError(PathError(path, ErrorCode::kNotFound));
        if (S_ISDIR((*st)->st_mode)) return DisplayError(PathError(path, ErrorCode::kIsADirectory));
        sources.push_back(path);
      }
    }
    Result<PathItem> dst = ResolveClusterDestination(ctx(), dst_arg_);
    if (!dst.ok()) return DisplayError(dst.status());
    Status s = Append(*dst, sources);
    if (!s.ok()) DisplayError(s);
  }

 private:
  Status Append(const PathItem& dst, const std::vector<std::string>& sources) {
    if (dst.is_directory()) return PathError(dst.display, ErrorCode::kIsADirectory);
    Result<std::unique_ptr<OutputStream>> out =
        dst.exists() ? dst.fs->Append(dst.path) : dst.fs->Create(dst.path, CreateOptions{});
    if (!out.ok()) return PathError(dst.display, out.status());
    Status s;
    for (const std::string& src : sources) {
      if (src == "-") {
        s = CopyFdToStream(STDIN_FILENO, src, out->get(), dst.display, nullptr);
      } else {
        Fd fd(::open(src.c_str(), O_RDONLY | O_CLOEXEC));
        s = fd.get() < 0 ? PathError(src, ErrnoStatus(errno, "open"))
                         : CopyFdToStream(fd.get(), src, out->get(), dst.display, nullptr);
      }
      if (!s.ok()) break;
    }
    // Close even after a failure: what was written so far stays appended, as in HDFS.
    Status closed = (*out)->Close();
    if (s.ok() && !closed.ok()) s = PathError(dst.display, closed);
    return s;
  }

  std::string dst_arg_;
};

}  // namespace

std::unique_ptr<Command> NewAppendToFileCommand() {
  return std::make_unique<AppendToFileCommand>();
}

}  // namespace talus::shell
