#include "namenode/leases/lease_manager.h"

#include <gtest/gtest.h>

namespace talus {
namespace {

class LeaseManagerTest : public ::testing::Test {
 protected:
  LeaseManagerTest()
      : leases_(LeaseOptions{std::chrono::seconds(60), std::chrono::seconds(600)},
                [this] { return now_; }) {}
  void Advance(std::chrono::seconds s) { now_ += s; }

  std::chrono::steady_clock::time_point now_{};
  LeaseManager leases_;
};

TEST_F(LeaseManagerTest, LimitsPassOnlyWithoutRenewal) {
  leases_.Add("a", 10);
  leases_.Add("a", 11);
  leases_.Add("b", 20);
  EXPECT_EQ(leases_.holders(), 2u);
  EXPECT_EQ(leases_.files(), 3u);
  Advance(std::chrono::seconds(61));
  EXPECT_TRUE(leases_.SoftLimitPassed("a"));
  EXPECT_TRUE(leases_.Renew("a"));
  EXPECT_FALSE(leases_.SoftLimitPassed("a"));
  EXPECT_TRUE(leases_.SoftLimitPassed("b"));
  Advance(std::chrono::seconds(560));  // b: 621 s without renewal, a: 560 s
  auto expired = leases_.HardLimitPassed(100);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0], std::make_pair(std::string("b"), uint64_t{20}));
  Advance(std::chrono::seconds(60));
  EXPECT_EQ(leases_.HardLimitPassed(100).size(), 3u);
  EXPECT_EQ(leases_.HardLimitPassed(2).size(), 2u);  // bounded
}

TEST_F(LeaseManagerTest, RemovingTheLastFileDropsTheHolder) {
  leases_.Add("a", 1);
  leases_.Add("a", 2);
  leases_.Remove("a", 1);
  EXPECT_EQ(leases_.holders(), 1u);
  leases_.Remove("a", 2);
  EXPECT_EQ(leases_.holders(), 0u);
  EXPECT_FALSE(leases_.Renew("a"));
  leases_.Remove("nobody", 5);  // harmless
  Advance(std::chrono::seconds(10000));
  EXPECT_TRUE(leases_.HardLimitPassed(10).empty());
}

}  // namespace
}  // namespace talus
