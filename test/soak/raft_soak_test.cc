// Soak run of the Raft simulation (test/soak/raft_simulation.h): the unit test's 1,000 seeds
// are a smoke test; this runs many more, across a few fault profiles, with every invariant
// checked. Not in the default run: `ctest -L soak`.
//
// TALUS_RAFT_SOAK_SEEDS       how many seeds (default 100000)
// TALUS_RAFT_SOAK_FIRST_SEED  the first one (default 1001: after the unit test's)
// TALUS_RAFT_SOAK_SECONDS     stop after this long even if seeds remain (default 270, under
//                             ctest's 300 s per-test timeout; raise both together)
// A failure names its seed; rerun it alone with TALUS_RAFT_SOAK_FIRST_SEED=<seed>
// TALUS_RAFT_SOAK_SEEDS=1.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>

#include <gtest/gtest.h>

#include "test/soak/raft_simulation.h"

namespace talus::raft::sim {
namespace {

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  unsigned long long n = std::strtoull(v, &end, 10);
  if (*end != '\0') {
    ADD_FAILURE() << name << "=" << v << " is not a number; using " << fallback;
    return fallback;
  }
  return n;
}

// A few fault profiles, chosen by seed.
SimOptions Profile(uint64_t seed) {
  SimOptions o;
  o.nodes = seed % 2 ? 3 : 5;
  switch ((seed / 2) % 4) {
    case 0:  // the unit test's
      break;
    case 1:  // plain Raft, no leases: elections come sooner
      o.lease_ticks = 0;
      break;
    case 2:  // churn: partitions and crashes three times as often, slower network
      o.partition_chance = 0.09;
      o.crash_chance = 0.03;
      o.max_delay = 8;
      break;
    case 3:  // long runs on a lossy network
      o.steps = 2000;
      o.drop_chance = 0.3;
      break;
  }
  return o;
}

TEST(RaftSoakTest, InvariantsHoldOverManySeeds) {
  uint64_t first = EnvOr("TALUS_RAFT_SOAK_FIRST_SEED", 1001);
  uint64_t count = EnvOr("TALUS_RAFT_SOAK_SEEDS", 100000);
  uint64_t budget_s = EnvOr("TALUS_RAFT_SOAK_SECONDS", 270);
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + std::chrono::seconds(budget_s);
  uint64_t ran = 0, committed = 0, snapshots = 0;
  for (uint64_t seed = first; seed < first + count; ++seed) {
    if (std::chrono::steady_clock::now() >= deadline) break;
    Simulation sim(seed, Profile(seed));
    ASSERT_TRUE(sim.Run()) << sim.violation();
    ++ran;
    committed += sim.committed();
    snapshots += sim.snapshots_installed();
  }
  double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "seeds " << first << ".." << first + ran - 1 << " (" << ran << " of " << count
            << ") in " << secs << " s: " << committed << " entries committed, " << snapshots
            << " snapshots installed\n";
  RecordProperty("seeds_run", std::to_string(ran));
  RecordProperty("seconds", std::to_string(secs));
  EXPECT_GT(ran, 0u);
}

}  // namespace
}  // namespace talus::raft::sim
