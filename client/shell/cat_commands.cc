// -cat, -head and -tail: file contents to stdout.
#include <chrono>
#include <thread>

#include "client/shell/commands.h"
#include "client/shell/data_copy.h"
#include "client/shell/errors.h"
#include "client/shell/option_parser.h"

namespace talus::shell {

namespace {

// -head and -tail show this much, as HDFS does.
constexpr int64_t kHeadTailBytes = 1024;

Result<std::unique_ptr<InputStream>> OpenFile(const PathItem& item) {
  if (item.is_directory()) return PathError(item.display, ErrorCode::kIsADirectory);
  Result<std::unique_ptr<InputStream>> in = item.fs->Open(item.path);
  if (!in.ok()) return PathError(item.display, in.status());
  return in;
}

constexpr CommandInfo kCatInfo = {
    "cat",
    "[-ignoreCrc] <src> ...",
    "Fetch all files that match the file pattern <src> and display their content on stdout.",
};

class CatCommand : public Command {
 public:
  CatCommand() : Command(kCatInfo) {}

 protected:
  Status ParseOptions(std::vector<std::string>* args) override {
    OptionSpec spec;
    spec.min_args = 1;
    spec.flags = {"ignoreCrc"};
    return shell::ParseOptions(spec, args).status();
  }

  Status ProcessPath(PathItem* item) override {
    ASSIGN_OR_RETURN(std::unique_ptr<InputStream> in, OpenFile(*item));
    return CopyStreamToFile(in.get(), item->display, ctx()->out());
  }
};

constexpr CommandInfo kHeadInfo = {
    "head",
    "<file>",
    "Show the first 1KB of the file.",
};

class HeadCommand : public Command {
 public:
  HeadCommand() : Command(kHeadInfo) {}

 protected:
  Status ParseOptions(std::vector<std::string>* args) override {
    OptionSpec spec;
    spec.min_args = 1;
    spec.max_args = 1;
    return shell::ParseOptions(spec, args).status();
  }

  Status ProcessPath(PathItem* item) override {
    ASSIGN_OR_RETURN(std::unique_ptr<InputStream> in, OpenFile(*item));
    return CopyStreamToFile(in.get(), item->display, ctx()->out(), kHeadTailBytes);
  }
};

constexpr CommandInfo kTailInfo = {
    "tail",
    "[-f] [-s <sleep interval>] <file>",
    "Show the last 1KB of the file.\n"
    "  -f  Shows appended data as the file grows.\n"
    "  -s  With -f, defines the sleep interval between iterations in milliseconds\n"
    "      (default 1000).",
};

class TailCommand : public Command {
 public:
  TailCommand() : Command(kTailInfo) {}

 protected:
  Status ParseOptions(std::vector<std::string>* args) override {
    OptionSpec spec;
    spec.min_args = 1;
    spec.max_args = 1;
    spec.flags = {"f"};
    spec.value_options = {"s"};
    ASSIGN_OR_RETURN(ParsedOptions opts, shell::ParseOptions(spec, args));
    follow_ = opts.Has("f");
    if (std::optional<std::string> s = opts.Value("s")) {
      char* end = nullptr;
      long long ms = std::strtoll(s->c_str(), &end, 10);
      if (s->empty() || *end != '\0' || ms <= 0 || ms > 3600 * 1000) {
        return UsageError("Invalid sleep interval " + *s);
      }
      interval_ = std::chrono::milliseconds(ms);
    }
    return Status::OK();
  }

  Status ProcessPath(PathItem* item) override {
    ASSIGN_OR_RETURN(std::unique_ptr<InputStream> in, OpenFile(*item));
    int64_t length = in->Length();
    int64_t start = length > kHeadTailBytes ? length - kHeadTailBytes : 0;
    Status s = in->Seek(start);
    if (!s.ok()) return PathError(item->display, s);
    RETURN_NOT_OK(CopyStreamToFile(in.get(), item->display, ctx()->out(), length - start));
    // Followed until the user interrupts, as `tail -f` is; each round asks the namenode (and the
    // writer's datanodes) how long the file is now and prints what was added.
    int64_t shown = length;
    while (follow_) {
      std::this_thread::sleep_for(interval_);
      Result<int64_t> now = in->RefreshLength();
      if (!now.ok()) return PathError(item->display, now.status());
      if (*now <= shown) continue;
      s = in->Seek(shown);
      if (!s.ok()) return PathError(item->display, s);
      RETURN_NOT_OK(CopyStreamToFile(in.get(), item->display, ctx()->out(), *now - shown));
      shown = *now;
    }
    return Status::OK();
  }

 private:
  bool follow_ = false;
  std::chrono::milliseconds interval_{1000};
};

}  // namespace

std::unique_ptr<Command> NewCatCommand() { return std::make_unique<CatCommand>(); }
std::unique_ptr<Command> NewHeadCommand() { return std::make_unique<HeadCommand>(); }
std::unique_ptr<Command> NewTailCommand() { return std::make_unique<TailCommand>(); }

}  // namespace talus::shell
