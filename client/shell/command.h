#pragma once

#include <memory>
#include <string>
#include <vector>

#include "client/shell/path_item.h"
#include "client/shell/shell_context.h"

namespace talus::shell {

// What -help and -usage show for a command.
struct CommandInfo {
  const char* name;         // "ls", without the dash
  const char* usage;        // the arguments, e.g. "[-p] <path> ..."
  const char* description;  // help text; lines separated by '\n'
};

// One `talus dfs -NAME` command. The default flow mirrors HDFS's shell so that every command
// treats its arguments alike: each argument is expanded (globs), then each resulting path is
// processed, recursing into directories when the command is recursive. A failure on one path is
// printed as "NAME: message" and the command goes on with the next; the exit code is then 1.
class Command {
 public:
  explicit Command(const CommandInfo& info) : info_(info) {}
  virtual ~Command() = default;
  Command(const Command&) = delete;
  Command& operator=(const Command&) = delete;

  const CommandInfo& info() const { return info_; }

  // Runs the command on the words after its name and returns its exit code. A usage error (an
  // unknown option, too few arguments, a malformed mode...) comes back as an InvalidArgument
  // Status for the caller to print with the usage, as HDFS does (exit code 255).
  Result<int> Run(ShellContext* ctx, std::vector<std::string> args);

 protected:
  // Removes and interprets the options at the front of `args`.
  virtual Status ParseOptions(std::vector<std::string>* args) = 0;
  // Expands every argument, then hands the paths to ProcessArguments.
  virtual void ProcessRawArguments(const std::vector<std::string>& args);
  virtual Result<std::vector<PathItem>> ExpandArgument(const std::string& arg);
  // Calls ProcessArgument on each path.
  virtual void ProcessArguments(std::vector<PathItem>* items);
  // ProcessPathArgument for an existing path, else ProcessNonexistentPath; prints failures.
  void ProcessArgument(PathItem* item);
  // Default: ProcessPaths on the path alone.
  virtual Status ProcessPathArgument(PathItem* item);
  // Default: "`path': No such file or directory".
  virtual Status ProcessNonexistentPath(PathItem* item);
  // ProcessPath on each item, then recursion into directories when recursive_; failures are
  // printed and do not stop the others. `parent` is null for command-line arguments.
  virtual void ProcessPaths(const PathItem* parent, std::vector<PathItem>* items);
  virtual Status ProcessPath(PathItem* item);
  // Lists the directory `item` and calls ProcessPaths on its entries, sorted by name.
  Status RecursePath(PathItem* item);

  // "NAME: message" on stderr; counts as a failure. After an error that no other path can escape
  // (the namenode cannot be reached, no file system is configured) the command stops.
  void DisplayError(const Status& status);
  // "NAME: message" on stderr without failing the command.
  void DisplayWarning(const std::string& message);
  // A line on stdout.
  void PrintLine(const std::string& line);

  ShellContext* ctx() const { return ctx_; }
  const std::string& name() const { return name_; }

  bool recursive_ = false;
  // The exit code when nothing failed (-test sets 1 for a false answer).
  int exit_code_ = 0;

 private:
  const CommandInfo& info_;
  const std::string name_ = info_.name;
  ShellContext* ctx_ = nullptr;
  int num_errors_ = 0;
  bool aborted_ = false;
};

// A usage error: InvalidArgument with the text HDFS prints after "-NAME: ".
inline Status UsageError(const std::string& message) { return Status::InvalidArgument(message); }

}  // namespace talus::shell
