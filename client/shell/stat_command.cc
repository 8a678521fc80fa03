// -stat [format]
#include "client/shell/commands.h"
#include "client/shell/option_parser.h"
#include "client/shell/stat_format.h"

namespace talus::shell {

namespace {

constexpr CommandInfo kStatInfo = {
    "stat",
    "[-R] [format] <path> ...",
    "Print statistics about the file/directory at <path> in the specified format. Format\n"
    "accepts permissions in octal (%a) and symbolic (%A), filesize in bytes (%b), type (%F),\n"
    "group name of owner (%g), name (%n), block size (%o), replication (%r), user name of\n"
    "owner (%u), access date (%x, %X), modification date (%y, %Y). %x and %y show UTC date as\n"
    "\"yyyy-MM-dd HH:mm:ss\", and %X and %Y show milliseconds since January 1, 1970 UTC. If the\n"
    "format is not specified, %y is used by default.\n"
    "  -R  Also print every file and directory below each directory.",
};

class StatCommand : public Command {
 public:
  StatCommand() : Command(kStatInfo) {}

 protected:
  Status ParseOptions(std::vector<std::string>* args) override {
    OptionSpec spec;
    spec.min_args = 1;
    spec.flags = {"R"};
    ASSIGN_OR_RETURN(ParsedOptions opts, shell::ParseOptions(spec, args));
    recursive_ = opts.Has("R");
    // The first argument is the format when it has a '%' in it.
    if (args->front().find('%') != std::string::npos) {
      format_ = args->front();
      args->erase(args->begin());
      if (args->empty()) return UsageError("Not enough arguments: expected 1 but got 0");
    }
    return Status::OK();
  }

  Status ProcessPath(PathItem* item) override {
    PrintLine(FormatStat(format_, *item->info, item->name()));
    return Status::OK();
  }

 private:
  std::string format_{kDefaultStatFormat};
};

}  // namespace

std::unique_ptr<Command> NewStatCommand() { return std::make_unique<StatCommand>(); }

}  // namespace talus::shell
