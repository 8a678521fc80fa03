// -mkdir [-p]
#include "client/shell/commands.h"
#include "client/shell/errors.h"
#include "client/shell/option_parser.h"

namespace talus::shell {

namespace {

constexpr CommandInfo kMkdirInfo = {
    "mkdir",
    "[-p] <path> ...",
    "Create a directory in specified location.\n"
    "  -p  Do not fail if the directory already exists; create missing parents.",
};

class MkdirCommand : public Command {
 public:
  MkdirCommand() : Command(kMkdirInfo) {}

 protected:
  Status ParseOptions(std::vector<std::string>* args) override {
    OptionSpec spec;
    spec.min_args = 1;
    spec.flags = {"p"};
    ASSIGN_OR_RETURN(ParsedOptions opts, shell::ParseOptions(spec, args));
    create_parents_ = opts.Has("p");
    return Status::OK();
  }

  Status ProcessPath(PathItem* item) override {
    if (!item->is_directory()) return PathError(item->display, ErrorCode::kNotADirectory);
    if (!create_parents_) return PathError(item->display, ErrorCode::kAlreadyExists);
    return Status::OK();
  }

  Status ProcessNonexistentPath(PathItem* item) override {
    Status s = item->fs->Mkdirs(item->path, 0777, create_parents_);
    if (s.ok()) return s;
    // Without -p a missing parent is what the user needs to hear about.
    if (s.code() == ErrorCode::kNotFound && !create_parents_) {
      return PathError(ParentDisplay(*item), s);
    }
    return PathError(item->display, s);
  }

 private:
  bool create_parents_ = false;
};

}  // namespace

std::unique_ptr<Command> NewMkdirCommand() { return std::make_unique<MkdirCommand>(); }

}  // namespace talus::shell
