// -checksum: the file's composite CRC32C, which does not depend on its block size.
#include <cstdio>

#include "client/shell/commands.h"
#include "client/shell/errors.h"
#include "client/shell/option_parser.h"

namespace talus::shell {

namespace {

constexpr CommandInfo kChecksumInfo = {
    "checksum",
    "[-v] <src> ...",
    "Dump checksum information for files that match the file pattern <src> to stdout, as\n"
    "PATH<tab>COMPOSITE-CRC32C<tab>CHECKSUM. The checksum is the CRC32C of the file's\n"
    "whole contents: files with the same bytes have the same checksum whatever their block\n"
    "sizes.\n"
    "  -v  Also shows the block size of each file.",
};

class ChecksumCommand : public Command {
 public:
  ChecksumCommand() : Command(kChecksumInfo) {}

 protected:
  Status ParseOptions(std::vector<std::string>* args) override {
    OptionSpec spec;
    spec.min_args = 1;
    spec.flags = {"v"};
    ASSIGN_OR_RETURN(ParsedOptions opts, shell::ParseOptions(spec, args));
    verbose_ = opts.Has("v");
    return Status::OK();
  }

  Status ProcessPath(PathItem* item) override {
    if (item->is_directory()) return PathError(item->display, ErrorCode::kIsADirectory);
    Result<FileChecksum> sum = item->fs->GetFileChecksum(item->path);
    if (!sum.ok()) return PathError(item->display, sum.status());
    char hex[9];
    std::snprintf(hex, sizeof(hex), "%08x", sum->crc);
    std::string line = item->display + "\t";
    if (verbose_) line += "BlockSize=" + std::to_string(item->info->block_size) + "\t";
    PrintLine(line + sum->algorithm + "\t" + hex);
    return Status::OK();
  }

 private:
  bool verbose_ = false;
};

}  // namespace

std::unique_ptr<Command> NewChecksumCommand() { return std::make_unique<ChecksumCommand>(); }

}  // namespace talus::shell
