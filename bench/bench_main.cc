// talus-bench SUBCOMMAND ...: the benchmarks recorded in bench/RESULTS.md.
#include <cstdio>
#include <cstring>

#include "bench/benches.h"

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "meta") == 0) return MetaBenchMain(argc, argv);
  if (argc >= 2 && std::strcmp(argv[1], "io") == 0) return IoBenchMain(argc, argv);
  std::fprintf(stderr,
               "Usage: talus-bench meta ...  namenode metadata throughput (NNThroughputBenchmark)\n"
               "       talus-bench io ...    data read/write throughput (TestDFSIO)\n"
               "Run a subcommand without arguments for its options.\n");
  return 2;
}
