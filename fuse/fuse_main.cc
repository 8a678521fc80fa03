// talus-fuse: mounts a Talus file system. TODO(issue 5): the real daemon.
#include <cstdio>
int main() {
  std::fprintf(stderr, "talus-fuse: not built yet\n");
  return 1;
}
