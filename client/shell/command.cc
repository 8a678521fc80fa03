#include "client/shell/command.h"

#include <algorithm>

#include "client/shell/errors.h"
#include "client/shell/path_expander.h"

namespace talus::shell {

Result<int> Command::Run(ShellContext* ctx, std::vector<std::string> args) {
  ctx_ = ctx;
  RETURN_NOT_OK(ParseOptions(&args));
  ProcessRawArguments(args);
  std::fflush(ctx_->out());
  return num_errors_ == 0 ? exit_code_ : 1;
}

void Command::ProcessRawArguments(const std::vector<std::string>& args) {
  std::vector<PathItem> items;
  for (const std::string& arg : args) {
    if (aborted_) return;
    Result<std::vector<PathItem>> expanded = ExpandArgument(arg);
    if (!expanded.ok()) {
      DisplayError(expanded.status());
      continue;
    }
    for (PathItem& item : *expanded) items.push_back(std::move(item));
  }
  ProcessArguments(&items);
}

Result<std::vector<PathItem>> Command::ExpandArgument(const std::string& arg) {
  return shell::ExpandArgument(ctx_, arg);
}

void Command::ProcessArguments(std::vector<PathItem>* items) {
  for (PathItem& item : *items) {
    if (aborted_) return;
    ProcessArgument(&item);
  }
}

void Command::ProcessArgument(PathItem* item) {
  Status s = item->exists() ? ProcessPathArgument(item) : ProcessNonexistentPath(item);
  if (!s.ok()) DisplayError(s);
}

Status Command::ProcessPathArgument(PathItem* item) {
  std::vector<PathItem> one{*item};
  ProcessPaths(nullptr, &one);
  return Status::OK();
}

Status Command::ProcessNonexistentPath(PathItem* item) {
  return PathError(item->display, ErrorCode::kNotFound);
}

void Command::ProcessPaths(const PathItem* parent, std::vector<PathItem>* items) {
  for (PathItem& item : *items) {
    if (aborted_) return;
    Status s = ProcessPath(&item);
    if (s.ok() && recursive_ && item.is_directory()) s = RecursePath(&item);
    if (!s.ok()) DisplayError(s);
  }
}

Status Command::ProcessPath(PathItem* item) { return Status::OK(); }

Status Command::RecursePath(PathItem* item) {
  Result<std::vector<FileInfo>> entries = item->fs->ListDirectory(item->path);
  if (!entries.ok()) return PathError(item->display, entries.status());
  std::vector<PathItem> children;
  children.reserve(entries->size());
  for (const FileInfo& entry : *entries) children.push_back(item->Child(entry));
  std::sort(children.begin(), children.end(),
            [](const PathItem& a, const PathItem& b) { return a.path < b.path; });
  ProcessPaths(item, &children);
  return Status::OK();
}

void Command::DisplayError(const Status& status) {
  ++num_errors_;
  if (IsConnectionError(status) || ctx_->default_fs_failed()) aborted_ = true;
  DisplayWarning(status.message());
}

void Command::DisplayWarning(const std::string& message) {
  // Keep stdout and stderr in order when both go to one terminal or file.
  std::fflush(ctx_->out());
  // Only the first line, as HDFS prints exceptions.
  std::string first_line = message.substr(0, message.find('\n'));
  std::fprintf(ctx_->err(), "%s: %s\n", name_.c_str(), first_line.c_str());
  std::fflush(ctx_->err());
}

void Command::PrintLine(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), ctx_->out());
  std::fputc('\n', ctx_->out());
}

}  // namespace talus::shell
