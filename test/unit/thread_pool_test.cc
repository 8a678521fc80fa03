#include "common/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

namespace talus {
namespace {

TEST(ThreadPoolTest, RunsEveryTaskAndDrainsOnDestruction) {
  std::atomic<int> ran{0};
  {
    ThreadPool pool("test pool", 2, 1000);
    for (int i = 0; i < 500; ++i) ASSERT_TRUE(pool.Submit([&] { ++ran; }).ok());
  }
  EXPECT_EQ(ran.load(), 500);
}

TEST(ThreadPoolTest, AFullQueueRefusesWorkInsteadOfGrowing) {
  ThreadPool pool("test pool", 1, 2);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::promise<void> started;
  ASSERT_TRUE(pool.Submit([&] {
    started.set_value();
    gate.wait();
  }).ok());
  started.get_future().wait();  // the only thread is now busy
  ASSERT_TRUE(pool.Submit([] {}).ok());
  ASSERT_TRUE(pool.Submit([] {}).ok());
  Status refused = pool.Submit([] {});
  EXPECT_EQ(refused.code(), ErrorCode::kBusy);
  release.set_value();
}

}  // namespace
}  // namespace talus
