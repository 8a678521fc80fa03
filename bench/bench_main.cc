// talus-bench SUBCOMMAND ...: the benchmarks recorded in bench/RESULTS.md.
#include <cstdio>
#include <cstring>

#include "bench/benches.h"
#include "talus/file_system.h"

bool ResolveBenchUri(const std::string& fs, std::string* uri) {
  if (!fs.empty()) {
    *uri = fs;
    return true;
  }
  talus::Result<std::string> def = talus::FileSystem::DefaultUri();
  if (!def.ok()) {
    std::fprintf(stderr, "talus-bench: %s\n", def.status().message().c_str());
    return false;
  }
  *uri = *def;
  return true;
}

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "meta") == 0) return MetaBenchMain(argc, argv);
  if (argc >= 2 && std::strcmp(argv[1], "io") == 0) return IoBenchMain(argc, argv);
  std::fprintf(stderr,
               "Usage: talus-bench meta ...  namenode metadata throughput (NNThroughputBenchmark)\n"
               "       talus-bench io ...    data read/write throughput (TestDFSIO)\n"
               "Run a subcommand without arguments for its options.\n");
  return 2;
}
