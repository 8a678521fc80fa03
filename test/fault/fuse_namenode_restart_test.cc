// A talus-fuse mount across namenode restarts: a call made while the namenode is down completes
// once it is back (the daemon retries), the mount goes on working afterwards, and with the
// namenode gone for good a call fails within bounded time instead of hanging.
#include <signal.h>

#include <chrono>
#include <iostream>
#include <thread>

#include "test/fuse/fuse_test_util.h"
#include "test/support/client_data_util.h"

namespace talus::test {
namespace {

class FuseNamenodeRestartTest : public SharedFuseTest {
 protected:
  static void SetUpTestSuite() { StartShared(); }
  static void TearDownTestSuite() { StopShared(); }

  // Waits until the restarted namenode has left safe mode (datanodes reported their blocks).
  void WaitForWritable() {
    bool writable = WaitFor(
        [&] {
          Result<SafeModeState> state = fs().SetSafeMode(SafeModeAction::kGet);
          return state.ok() && !state->on;
        },
        std::chrono::seconds(40), std::chrono::milliseconds(100));
    ASSERT_TRUE(writable) << "the namenode stayed in safe mode";
  }
};

TEST_F(FuseNamenodeRestartTest, CallsDuringARestartCompleteAndTheMountGoesOn) {
  // Written behind the mount so that the kernel has cached nothing about them.
  ASSERT_TRUE(WriteWholeFile(fs(), T("a"), "contents of a").ok());
  ASSERT_TRUE(WriteWholeFile(fs(), T("b"), RandomBytes(3 << 20, 1)).ok());
  ASSERT_TRUE(fc().cluster().KillNamenode(0, SIGKILL).ok());
  // Lookups and a read issued while it is down, answered once it is back.
  CommandResult during;
  std::thread reader([&] {
    during = Sh("stat -c %s " + ShellQuote(P("a")) + " && cat " + ShellQuote(P("a")),
                std::chrono::seconds(60));
  });
  ASSERT_TRUE(fc().cluster().RestartNamenode(0).ok());
  reader.join();
  EXPECT_EQ(during.exit_code, 0) << Describe(during) << "\n" << fc().mount().LogTail();
  EXPECT_EQ(during.out, "13\ncontents of a");

  WaitForWritable();
  EXPECT_SAME_BYTES(ReadFile(P("b")), RandomBytes(3 << 20, 1));
  ASSERT_TRUE(WriteFile(P("c"), "written after the restart"));
  EXPECT_EQ(ReadFile(P("c")), "written after the restart");
  ASSERT_EQ(::mkdir(P("d").c_str(), 0755), 0) << std::strerror(errno);
  ASSERT_EQ(::rename(P("c").c_str(), P("d/c").c_str()), 0) << std::strerror(errno);
  Result<std::string> behind = ReadWholeFile(fs(), T("d/c"));
  ASSERT_TRUE(behind.ok()) << behind.status();
  EXPECT_EQ(*behind, "written after the restart");
}

TEST_F(FuseNamenodeRestartTest, NoNamenodeFailsInBoundedTime) {
  ASSERT_TRUE(WriteWholeFile(fs(), T("e"), "e").ok());
  ASSERT_TRUE(fc().cluster().KillNamenode(0, SIGKILL).ok());
  const auto start = std::chrono::steady_clock::now();
  CommandResult r = Sh("stat " + ShellQuote(P("e")), std::chrono::seconds(75));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_NE(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.exit_code, -1) << "stat hung for 75 s with the namenode down";
  std::cout << "stat with no namenode failed after " << seconds << " s: " << r.err;
  ASSERT_TRUE(fc().cluster().RestartNamenode(0).ok());
  WaitForWritable();
  EXPECT_EQ(ReadFile(P("e")), "e");
}

}  // namespace
}  // namespace talus::test
