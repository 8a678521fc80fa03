// -count: directory, file and byte counts (and quotas) in HDFS's fixed-width columns.
#include <cstdio>

#include "client/shell/commands.h"
#include "client/shell/errors.h"
#include "client/shell/format.h"
#include "client/shell/option_parser.h"

namespace talus::shell {

namespace {

constexpr CommandInfo kCountInfo = {
    "count",
    "[-q] [-h] [-v] [-u] <path> ...",
    "Count the number of directories, files and bytes under the paths that match the\n"
    "specified file pattern. The output columns are:\n"
    "DIR_COUNT FILE_COUNT CONTENT_SIZE PATHNAME\n"
    "or, with the -q option:\n"
    "QUOTA REM_QUOTA SPACE_QUOTA REM_SPACE_QUOTA\n"
    "      DIR_COUNT FILE_COUNT CONTENT_SIZE PATHNAME\n"
    "or, with the -u option:\n"
    "QUOTA REM_QUOTA SPACE_QUOTA REM_SPACE_QUOTA PATHNAME\n"
    "  -q  show the quotas and what remains of them.\n"
    "  -h  shows file sizes in human readable format.\n"
    "  -v  displays a header line.\n"
    "  -u  shows the quota and the usage against the quota without the detailed content\n"
    "      summary.",
};

std::string Format(const char* format, const std::string& a, const std::string& b,
                   const std::string& c) {
  char buf[256];
  std::snprintf(buf, sizeof(buf), format, a.c_str(), b.c_str(), c.c_str());
  return buf;
}

std::string Format(const char* format, const std::string& a, const std::string& b,
                   const std::string& c, const std::string& d) {
  char buf[256];
  std::snprintf(buf, sizeof(buf), format, a.c_str(), b.c_str(), c.c_str(), d.c_str());
  return buf;
}

constexpr const char* kSummaryFormat = "%12s %12s %18s ";
constexpr const char* kQuotaFormat = "%12s %15s %15s %15s ";

class CountCommand : public Command {
 public:
  CountCommand() : Command(kCountInfo) {}

 protected:
  Status ParseOptions(std::vector<std::string>* args) override {
    OptionSpec spec;
    spec.min_args = 1;
    spec.flags = {"q", "h", "v", "u"};
    ASSIGN_OR_RETURN(ParsedOptions opts, shell::ParseOptions(spec, args));
    show_quotas_ = opts.Has("q");
    human_ = opts.Has("h");
    quotas_only_ = opts.Has("u");
    if (opts.Has("v")) {
      std::string quota_header =
          Format(kQuotaFormat, "QUOTA", "REM_QUOTA", "SPACE_QUOTA", "REM_SPACE_QUOTA");
      std::string summary_header =
          Format(kSummaryFormat, "DIR_COUNT", "FILE_COUNT", "CONTENT_SIZE");
      if (quotas_only_) {
        PrintLine(quota_header + "PATHNAME");
      } else {
        PrintLine((show_quotas_ ? quota_header : "") + summary_header + "PATHNAME");
      }
    }
    return Status::OK();
  }

  Status ProcessPath(PathItem* item) override {
    Result<ContentSummary> summary = item->fs->GetContentSummary(item->path);
    if (!summary.ok()) return PathError(item->display, summary.status());
    std::string line;
    if (show_quotas_ || quotas_only_) line += QuotaColumns(*summary);
    if (!quotas_only_) {
      line += Format(kSummaryFormat, FormatSize(summary->directory_count, human_),
                     FormatSize(summary->file_count, human_), FormatSize(summary->length, human_));
    }
    PrintLine(line + item->display);
    return Status::OK();
  }

 private:
  std::string QuotaColumns(const ContentSummary& s) const {
    std::string quota = "none", quota_rem = "inf", space = "none", space_rem = "inf";
    if (s.quota >= 0) {
      quota = FormatSize(s.quota, human_);
      quota_rem = FormatSize(s.quota - (s.file_count + s.directory_count), human_);
    }
    if (s.space_quota >= 0) {
      space = FormatSize(s.space_quota, human_);
      space_rem = FormatSize(s.space_quota - s.space_consumed, human_);
    }
    return Format(kQuotaFormat, quota, quota_rem, space, space_rem);
  }

  bool show_quotas_ = false;
  bool human_ = false;
  bool quotas_only_ = false;
};

}  // namespace

std::unique_ptr<Command> NewCountCommand() { return std::make_unique<CountCommand>(); }

}  // namespace talus::shell
