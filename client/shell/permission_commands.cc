// -chmod, -chown and -chgrp.
#include "client/shell/commands.h"
#include "client/shell/errors.h"
#include "client/shell/mode_parser.h"
#include "client/shell/option_parser.h"
#include "client/shell/owner_parser.h"

namespace talus::shell {

namespace {

constexpr CommandInfo kChmodInfo = {
    "chmod",
    "[-R] <MODE[,MODE]... | OCTALMODE> PATH...",
    "Changes permissions of a file. This works similar to the shell's chmod command with a\n"
    "few exceptions.\n"
    "  -R           modifies the files recursively.\n"
    "  <MODE>       Mode is the same as mode used for the shell's command. The only letters\n"
    "               recognized are 'rwxXt', e.g. +t,a+r,g-w,+rwx,o=r.\n"
    "  <OCTALMODE>  Mode specified in 3 or 4 digits. If 4 digits, the first may be 1 or 0 to\n"
    "               turn the sticky bit on or off, respectively. Unlike the shell command, it\n"
    "               is not possible to specify only part of the mode, e.g. 754 is same as\n"
    "               u=rwx,g=rx,o=r.\n"
    "\n"
    "If none of 'augo' is specified, 'a' is assumed and unlike the shell command, no umask is\n"
    "applied.",
};

class ChmodCommand : public Command {
 public:
  ChmodCommand() : Command(kChmodInfo) {}

 protected:
  Status ParseOptions(std::vector<std::string>* args) override {
    OptionSpec spec;
    spec.min_args = 2;
    spec.flags = {"R"};
    spec.stop_at_unknown = true;  // "-w" is a mode, not an option
    ASSIGN_OR_RETURN(ParsedOptions opts, shell::ParseOptions(spec, args));
    recursive_ = opts.Has("R");
    std::string mode = args->front();
    args->erase(args->begin());
    Result<ModeSpec> spec_or = ModeSpec::Parse(mode);
    if (!spec_or.ok()) {
      return UsageError("chmod : mode '" + mode + "' does not match the expected pattern.");
    }
    mode_ = std::move(spec_or).value();
    return Status::OK();
  }

  Status ProcessPath(PathItem* item) override {
    uint32_t old_mode = item->info->mode & 07777;
    uint32_t new_mode = mode_->Apply(old_mode, item->is_directory()) & 07777;
    if (new_mode == old_mode) return Status::OK();
    Status s = item->fs->SetPermission(item->path, new_mode);
    if (!s.ok()) {
      return Status(s.code(),
                    "changing permissions of '" + item->display + "': " + DescribeStatus(s));
    }
    return Status::OK();
  }

 private:
  std::optional<ModeSpec> mode_;
};

constexpr CommandInfo kChownInfo = {
    "chown",
    "[-R] [OWNER][:[GROUP]] PATH...",
    "Changes owner and group of a file. This is similar to the shell's chown command with a\n"
    "few exceptions.\n"
    "  -R  modifies the files recursively.\n"
    "\n"
    "If only the owner or group is specified, then only the owner or group is modified. The\n"
    "owner and group names may only consist of digits, alphabet, and any of [-_./@]. The names\n"
    "are case sensitive. Only the superuser may change the owner; the owner may change the\n"
    "group to one of its own groups.",
};

class ChownCommand : public Command {
 public:
  ChownCommand() : Command(kChownInfo) {}
  explicit ChownCommand(const CommandInfo& info) : Command(info) {}

 protected:
  Status ParseOptions(std::vector<std::string>* args) override {
    OptionSpec spec;
    spec.min_args = 2;
    spec.flags = {"R"};
    ASSIGN_OR_RETURN(ParsedOptions opts, shell::ParseOptions(spec, args));
    recursive_ = opts.Has("R");
    std::string text = args->front();
    args->erase(args->begin());
    return ParseOwnerArgument(text);
  }

  virtual Status ParseOwnerArgument(const std::string& text) {
    ASSIGN_OR_RETURN(OwnerGroup owner_group, ParseOwnerGroup(text));
    owner_ = owner_group.owner;
    group_ = owner_group.group;
    return Status::OK();
  }

  Status ProcessPath(PathItem* item) override {
    std::string owner = owner_ == item->info->owner ? "" : owner_;
    std::string group = group_ == item->info->group ? "" : group_;
    if (owner.empty() && group.empty()) return Status::OK();
    Status s = item->fs->SetOwner(item->path, owner, group);
    if (!s.ok()) {
      return Status(s.code(),
                    "changing ownership of '" + item->display + "': " + DescribeStatus(s));
    }
    return Status::OK();
  }

  std::string owner_;
  std::string group_;
};

constexpr CommandInfo kChgrpInfo = {
    "chgrp",
    "[-R] GROUP PATH...",
    "This is equivalent to -chown ... :GROUP ...",
};

class ChgrpCommand : public ChownCommand {
 public:
  ChgrpCommand() : ChownCommand(kChgrpInfo) {}

 protected:
  Status ParseOwnerArgument(const std::string& text) override {
    ASSIGN_OR_RETURN(group_, ParseGroup(text));
    return Status::OK();
  }
};

}  // namespace

std::unique_ptr<Command> NewChmodCommand() { return std::make_unique<ChmodCommand>(); }
std::unique_ptr<Command> NewChownCommand() { return std::make_unique<ChownCommand>(); }
std::unique_ptr<Command> NewChgrpCommand() { return std::make_unique<ChgrpCommand>(); }

}  // namespace talus::shell
