// -cp: copies within the cluster (files and whole directories), through the client.
#include <algorithm>

#include "client/shell/commands.h"
#include "client/shell/copy_target.h"
#include "client/shell/data_copy.h"
#include "client/shell/errors.h"
#include "client/shell/option_parser.h"
#include "common/path.h"

namespace talus::shell {

namespace {

constexpr CommandInfo kCpInfo = {
    "cp",
    "[-f] [-p | -p[topax]] [-d] [-t <thread count>] [-q <thread pool queue size>] "
    "<src> ... <dst>",
    "Copy files that match the file pattern <src> to a destination. When copying multiple\n"
    "files, the destination must be a directory.\n"
    "Flags:\n"
    "  -p[topax]  Preserve file attributes [topx] (timestamps, ownership, permission, ACL,\n"
    "             XAttr). If -p is specified with no arg, then preserves timestamps,\n"
    "             ownership, permission. ACLs and XAttrs do not exist in Talus.\n"
    "  -f         Overwrites the destination if it already exists.\n"
    "  -d         Skip creation of temporary file(<dst>._COPYING_).\n"
    "  -t <thread count>  Accepted for compatibility; files are copied one at a time.\n"
    "  -q <thread pool queue size>  Accepted for compatibility.",
};

class CpCommand : public Command {
 public:
  CpCommand() : Command(kCpInfo) {}

 protected:
  Status ParseOptions(std::vector<std::string>* args) override {
    // -p takes its letters attached ("-ptop"), which the generic parser would split into flags.
    std::vector<std::string> rest;
    bool options_done = false;
    for (std::string& word : *args) {
      if (word == "--") options_done = true;
      if (!options_done && word.size() >= 2 && word.rfind("-p", 0) == 0 &&
          word.find_first_not_of("topax", 2) == std::string::npos) {
        RETURN_NOT_OK(ParsePreserve(word.substr(2)));
        continue;
      }
      rest.push_back(std::move(word));
    }
    *args = std::move(rest);
    OptionSpec spec;
    spec.min_args = 2;
    spec.flags = {"f", "d"};
    spec.value_options = {"t", "q"};
    ASSIGN_OR_RETURN(ParsedOptions opts, shell::ParseOptions(spec, args));
    overwrite_ = opts.Has("f");
    direct_ = opts.Has("d");
    dst_arg_ = args->back();
    args->pop_back();
    return Status::OK();
  }

  void ProcessRawArguments(const std::vector<std::string>& args) override {
    Result<PathItem> dst = ResolveClusterDestination(ctx(), dst_arg_);
    if (!dst.ok()) return DisplayError(dst.status());
    dst_ = std::move(dst).value();
    Command::ProcessRawArguments(args);
  }

  void ProcessArguments(std::vector<PathItem>* items) override {
    size_t existing = std::count_if(items->begin(), items->end(),
                                    [](const PathItem& item) { return item.exists(); });
    for (PathItem& item : *items) {
      if (!item.exists()) DisplayError(PathError(item.display, ErrorCode::kNotFound));
    }
    if (existing == 0) return;
    Status s = CheckClusterDestination(dst_, existing);
    if (!s.ok()) return DisplayError(s);
    InterruptGuard interrupt_guard;
    for (PathItem& item : *items) {
      if (!item.exists()) continue;
      s = CopyInto(item, dst_, /*top=*/true);
      if (CopyInterrupted()) return;  // the guard's destructor ends the shell by the signal
      if (!s.ok()) DisplayError(s);
    }
  }

 private:
  Status ParsePreserve(const std::string& letters) {
    if (letters.empty()) {
      preserve_ = Preserve::All();
      return Status::OK();
    }
    for (char c : letters) {
      if (c == 't') preserve_.times = true;
      if (c == 'o') preserve_.owner = true;
      if (c == 'p') preserve_.mode = true;
    }
    return Status::OK();
  }

  Status CopyInto(const PathItem& src, const PathItem& dst, bool top) {
    ASSIGN_OR_RETURN(PathItem target, ClusterTarget(dst, src.name()));
    if (src.is_directory()) {
      if (top && src.fs->uri() == target.fs->uri() && IsSameOrUnder(target.path, src.path)) {
        return PathPairError(src.display, target.display, "is a subdirectory of itself");
      }
      return CopyDirectory(src, &target);
    }
    return CopyFile(src, target);
  }

  Status CopyDirectory(const PathItem& src, PathItem* target) {
    if (target->exists()) {
      if (!target->is_directory()) return PathError(target->display, ErrorCode::kNotADirectory);
    } else {
      Status s = target->fs->Mkdirs(target->path, 0777, /*create_parent=*/false);
      if (!s.ok()) return PathError(target->display, s);
      Result<FileInfo> info = target->fs->GetFileInfo(target->path);
      if (!info.ok()) return PathError(target->display, info.status());
      target->info = std::move(info).value();
    }
    Result<std::vector<FileInfo>> entries = src.fs->ListDirectory(src.path);
    if (!entries.ok()) return PathError(src.display, entries.status());
    std::sort(entries->begin(), entries->end(),
              [](const FileInfo& a, const FileInfo& b) { return a.name < b.name; });
    for (const FileInfo& entry : *entries) {
      Status s = CopyInto(src.Child(entry), *target, /*top=*/false);
      if (CopyInterrupted()) return s;
      if (!s.ok()) DisplayError(s);
    }
    if (!preserve_.any()) return Status::OK();
    return PreserveClusterToCluster(*src.info, target->fs, target->path, target->display,
                                    preserve_);
  }

  Status CopyFile(const PathItem& src, const PathItem& target) {
    if (target.exists() && (!overwrite_ || target.is_directory())) {
      return PathError(target.display, ErrorCode::kAlreadyExists);
    }
    Result<std::unique_ptr<InputStream>> in = src.fs->Open(src.path);
    if (!in.ok()) return PathError(src.display, in.status());
    RETURN_NOT_OK(WriteClusterFile(target, overwrite_, direct_, [&](OutputStream* out) {
      return CopyStreamToStream(in->get(), src.display, out, target.display, nullptr);
    }));
    if (!preserve_.any()) return Status::OK();
    return PreserveClusterToCluster(*src.info, target.fs, target.path, target.display, preserve_);
  }

  std::string dst_arg_;
  PathItem dst_;
  bool overwrite_ = false;
  bool direct_ = false;
  Preserve preserve_;
};

}  // namespace

std::unique_ptr<Command> NewCpCommand() { return std::make_unique<CpCommand>(); }

}  // namespace talus::shell
