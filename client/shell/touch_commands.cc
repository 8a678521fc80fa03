// -touchz and -touch.
#include <ctime>

#include "client/shell/commands.h"
#include "client/shell/errors.h"
#include "client/shell/option_parser.h"

namespace talus::shell {

namespace {

constexpr CommandInfo kTouchzInfo = {
    "touchz",
    "<path> ...",
    "Creates a file of zero length at <path> with current time as the timestamp of that\n"
    "<path>. An error is returned if the file exists with non-zero length.",
};

class TouchzCommand : public Command {
 public:
  TouchzCommand() : Command(kTouchzInfo) {}

 protected:
  Status ParseOptions(std::vector<std::string>* args) override {
    OptionSpec spec;
    spec.min_args = 1;
    return shell::ParseOptions(spec, args).status();
  }

  Status ProcessPath(PathItem* item) override {
    if (item->is_directory()) return PathError(item->display, ErrorCode::kIsADirectory);
    if (item->info->length != 0) return PathError(item->display, "Not a zero-length file");
    // As in HDFS, an existing empty file is created anew, which gives it the current time.
    Status s = item->fs->CreateEmptyFile(item->path, /*overwrite=*/true);
    return s.ok() ? s : PathError(item->display, s);
  }

  Status ProcessNonexistentPath(PathItem* item) override {
    Status s = item->fs->CreateEmptyFile(item->path, /*overwrite=*/false);
    return s.ok() ? s : PathError(item->display, s);
  }
};

constexpr CommandInfo kTouchInfo = {
    "touch",
    "[-a] [-m] [-t TIMESTAMP (yyyyMMdd:HHmmss) ] [-c] <path> ...",
    "Updates the access and modification times of the file specified by the <path> to the\n"
    "current time. If the file does not exist, then a zero length file is created at <path>\n"
    "with current time as the timestamp of that <path>.\n"
    "  -a            Change only the access time\n"
    "  -m            Change only the modification time\n"
    "  -t TIMESTAMP  Use specified timestamp (in format yyyyMMdd:HHmmss, local time)\n"
    "                instead of current time\n"
    "  -c            Do not create any files",
};

// "20240131:235959" (or without the colon) in local time.
Result<Timestamp> ParseTouchTimestamp(const std::string& text) {
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%Y%m%d:%H%M%S", &tm);
  if (end == nullptr || *end != '\0') {
    tm = std::tm{};
    end = strptime(text.c_str(), "%Y%m%d%H%M%S", &tm);
  }
  if (end == nullptr || *end != '\0') {
    return UsageError("Unable to parse the specified timestamp " + text);
  }
  tm.tm_isdst = -1;
  std::time_t secs = std::mktime(&tm);
  if (secs == static_cast<std::time_t>(-1)) {
    return UsageError("Unable to parse the specified timestamp " + text);
  }
  return Timestamp{static_cast<int64_t>(secs), 0};
}

Timestamp Now() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return Timestamp{static_cast<int64_t>(ts.tv_sec), static_cast<int32_t>(ts.tv_nsec)};
}

class TouchCommand : public Command {
 public:
  TouchCommand() : Command(kTouchInfo) {}

 protected:
  Status ParseOptions(std::vector<std::string>* args) override {
    OptionSpec spec;
    spec.min_args = 1;
    spec.flags = {"a", "m", "c"};
    spec.value_options = {"t"};
    ASSIGN_OR_RETURN(ParsedOptions opts, shell::ParseOptions(spec, args));
    bool only_atime = opts.Has("a") && !opts.Has("m");
    bool only_mtime = opts.Has("m") && !opts.Has("a");
    change_atime_ = !only_mtime;
    change_mtime_ = !only_atime;
    no_create_ = opts.Has("c");
    if (std::optional<std::string> t = opts.Value("t")) {
      ASSIGN_OR_RETURN(Timestamp ts, ParseTouchTimestamp(*t));
      time_ = ts;
    }
    return Status::OK();
  }

  Status ProcessPath(PathItem* item) override {
    if (item->is_directory()) return PathError(item->display, ErrorCode::kIsADirectory);
    return Touch(*item);
  }

  Status ProcessNonexistentPath(PathItem* item) override {
    if (no_create_) return Status::OK();
    Status s = item->fs->CreateEmptyFile(item->path, /*overwrite=*/false);
    if (!s.ok()) return PathError(item->display, s);
    if (!time_) return Status::OK();
    return Touch(*item);
  }

 private:
  Status Touch(const PathItem& item) {
    Timestamp when = time_ ? *time_ : Now();
    Timestamp unchanged{-1, 0};
    Status s = item.fs->SetTimes(item.path, change_mtime_ ? when : unchanged,
                                 change_atime_ ? when : unchanged);
    return s.ok() ? s : PathError(item.display, s);
  }

  bool change_atime_ = true;
  bool change_mtime_ = true;
  bool no_create_ = false;
  std::optional<Timestamp> time_;
};

}  // namespace

std::unique_ptr<Command> NewTouchzCommand() { return std::make_unique<TouchzCommand>(); }
std::unique_ptr<Command> NewTouchCommand() { return std::make_unique<TouchCommand>(); }

}  // namespace talus::shell
