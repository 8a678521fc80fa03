// talus-meta-files: single-threaded metadata rate of any mounted file system, through plain
// syscalls, for bench/run_fuse_bench.sh (the same job on raw disk, MooseFS and a Talus mount).
//   talus-meta-files --op create|stat|unlink --dir DIR [--files N]
// create: open(O_CREAT|O_EXCL|O_WRONLY) + close of DIR/f000000 ... (empty files); stat: stat()
// of each; unlink: unlink() of each. One operation at a time, in name order, so the figure is
// the round trip of one metadata call through the whole stack (kernel, FUSE daemon, server).
// The last line printed is one JSON object: op, files, seconds, ops_per_s.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

void Usage() {
  std::fprintf(stderr,
               "Usage: talus-meta-files --op create|stat|unlink --dir DIR [--files N]\n"
               "  N files named f000000... in DIR (default 10000), one syscall at a time.\n"
               "  Prints {\"op\":..,\"files\":..,\"seconds\":..,\"ops_per_s\":..}.\n");
}

bool RunOne(const std::string& op, const std::string& path) {
  if (op == "create") {
    int fd = open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0) return false;
    return close(fd) == 0;
  }
  if (op == "stat") {
    struct stat st;
    return stat(path.c_str(), &st) == 0;
  }
  return unlink(path.c_str()) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string op;
  std::string dir;
  long files = 10000;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) {
      Usage();
      return 2;
    }
    if (a == "--op") {
      op = argv[++i];
    } else if (a == "--dir") {
      dir = argv[++i];
    } else if (a == "--files") {
      char* end = nullptr;
      files = std::strtol(argv[++i], &end, 10);
      if (*end != '\0' || files <= 0 || files > 1000000) {
        std::fprintf(stderr, "--files must be 1..1000000\n");
        return 2;
      }
    } else {
      Usage();
      return 2;
    }
  }
  if ((op != "create" && op != "stat" && op != "unlink") || dir.empty()) {
    Usage();
    return 2;
  }
  // Names are built before the clock starts: the figure is the file system's, not snprintf's.
  std::vector<std::string> paths;
  paths.reserve(files);
  for (long i = 0; i < files; ++i) {
    char name[32];
    std::snprintf(name, sizeof(name), "/f%06ld", i);
    paths.push_back(dir + name);
  }
  auto start = std::chrono::steady_clock::now();
  for (const std::string& path : paths) {
    if (!RunOne(op, path)) {
      std::fprintf(stderr, "talus-meta-files: %s %s: %s\n", op.c_str(), path.c_str(),
                   std::strerror(errno));
      return 1;
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("{\"op\":\"%s\",\"files\":%ld,\"seconds\":%.4f,\"ops_per_s\":%.1f}\n", op.c_str(),
              files, secs, files / secs);
  return 0;
}
