// -test: answers with the exit code only.
#include "client/shell/commands.h"
#include "client/shell/option_parser.h"

namespace talus::shell {

namespace {

constexpr CommandInfo kTestInfo = {
    "test",
    "-[defsz] <path>",
    "Answer various questions about <path>, with result via exit status.\n"
    "  -d  return 0 if <path> is a directory.\n"
    "  -e  return 0 if <path> exists.\n"
    "  -f  return 0 if <path> is a file.\n"
    "  -s  return 0 if file <path> is greater than zero bytes in size.\n"
    "  -z  return 0 if file <path> is zero bytes in size, else return 1.",
};

class TestCommand : public Command {
 public:
  TestCommand() : Command(kTestInfo) {}

 protected:
  Status ParseOptions(std::vector<std::string>* args) override {
    OptionSpec spec;
    spec.min_args = 1;
    spec.max_args = 1;
    spec.flags = {"d", "e", "f", "s", "z"};
    ASSIGN_OR_RETURN(ParsedOptions opts, shell::ParseOptions(spec, args));
    if (opts.flags().empty()) return UsageError("No test flag given");
    if (opts.flags().size() > 1) return UsageError("Only one test flag is allowed");
    flag_ = opts.flags().begin()->front();
    return Status::OK();
  }

  Status ProcessPath(PathItem* item) override {
    const FileInfo& info = *item->info;
    bool answer = false;
    switch (flag_) {
      case 'd':
        answer = info.IsDirectory();
        break;
      case 'e':
        answer = true;
        break;
      case 'f':
        answer = info.IsFile();
        break;
      case 's':
        answer = info.length > 0;
        break;
      case 'z':
        answer = info.length == 0;
        break;
    }
    if (!answer) exit_code_ = 1;
    return Status::OK();
  }

  Status ProcessNonexistentPath(PathItem* item) override {
    exit_code_ = 1;
    return Status::OK();
  }

 private:
  char flag_ = 'e';
};

}  // namespace

std::unique_ptr<Command> NewTestCommand() { return std::make_unique<TestCommand>(); }

}  // namespace talus::shell
