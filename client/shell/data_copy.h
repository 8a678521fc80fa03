#pragma once

#include <sys/stat.h>

#include <cstdio>
#include <string>

#include "client/shell/progress.h"
#include "client/shell/shell_context.h"
#include "talus/file_system.h"

namespace talus::shell {

// The byte-moving loops shared by -put, -get, -cp, -cat, -appendToFile and -getmerge. Each reads
// and writes kCopyBufferBytes at a time and counts on `progress` (may be null). A failure comes
// back as a PathError naming the side that failed (`src` or `dst`, as displayed).

// Local file descriptor (or standard input) to the cluster, until end of input.
Status CopyFdToStream(int fd, const std::string& src, OutputStream* out, const std::string& dst,
                      ProgressBar* progress);
// The cluster to a local file descriptor, from the stream's position to its end, or `limit`
// bytes when limit >= 0.
Status CopyStreamToFd(InputStream* in, const std::string& src, int fd, const std::string& dst,
                      ProgressBar* progress, int64_t limit = -1);
// Within the cluster.
Status CopyStreamToStream(InputStream* in, const std::string& src, OutputStream* out,
                          const std::string& dst, ProgressBar* progress);
// The cluster to stdout (or any FILE), -cat and friends.
Status CopyStreamToFile(InputStream* in, const std::string& src, FILE* out, int64_t limit = -1);

// While alive, SIGINT and SIGTERM only set a flag that the copy loops check between buffers, so
// that an interrupted copy still removes its TARGET._COPYING_ file (HDFS deletes it on exit
// too). The destructor restores the previous handlers and, when a signal came, raises it again:
// the shell then dies of it, as the user asked. One guard at a time.
class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;
};
// True once SIGINT or SIGTERM arrived under an InterruptGuard.
bool CopyInterrupted();

// Whether -put and -get draw their progress line: only when the shell's stdout is a terminal.
bool ShowProgress(ShellContext* ctx);

// What -p keeps.
struct Preserve {
  bool times = false;
  bool mode = false;
  bool owner = false;  // owner and group, where the caller may set them
  bool any() const { return times || mode || owner; }
  static Preserve All() { return Preserve{true, true, true}; }
};

// Gives the cluster file `path` the local file's times, mode and owner as `what` says. Owner
// changes are attempted and a refusal (only the superuser may give files away) is ignored.
Status PreserveLocalToCluster(FileSystem* fs, const std::string& path, const std::string& display,
                              const struct stat& st, const Preserve& what);
// The local file `path` gets the cluster file's times and mode (and owner when permitted).
Status PreserveClusterToLocal(const FileInfo& info, const std::string& path, const Preserve& what);
// Between two cluster files.
Status PreserveClusterToCluster(const FileInfo& info, FileSystem* fs, const std::string& path,
                                const std::string& display, const Preserve& what);

}  // namespace talus::shell
