// Mounting and unmounting talus-fuse as a user does: fusermount3 -u and umount stop the daemon
// with exit 0, a daemonized mount (no --foreground) is ready when the command returns, a
// SIGKILLed daemon leaves a dead mount (ENOTCONN) that is cleared and mounted again with the
// data intact.
#include <dirent.h>
#include <signal.h>

#include <filesystem>
#include <fstream>

#include "test/fuse/fuse_test_util.h"

namespace talus::test {
namespace {

class FuseMountLifecycleTest : public SharedFuseTest {
 protected:
  static void SetUpTestSuite() { StartShared(); }
  static void TearDownTestSuite() { StopShared(); }
};

// Pids of processes whose command line mentions `needle`.
std::vector<pid_t> ProcessesMentioning(const std::string& needle) {
  std::vector<pid_t> out;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return out;
  while (dirent* e = ::readdir(proc)) {
    const pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid <= 0) continue;
    std::ifstream in(std::string("/proc/") + e->d_name + "/cmdline", std::ios::binary);
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmdline.find(needle) != std::string::npos) out.push_back(pid);
  }
  ::closedir(proc);
  return out;
}

TEST_F(FuseMountLifecycleTest, FusermountUnmountsCleanlyAndDataSurvivesARemount) {
  ASSERT_TRUE(WriteFile(P("kept"), "written before the unmount"));
  // Unmount() checks that the daemon exits with status 0.
  Status s = fc().mount().Unmount();
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_FALSE(fc().mount().Mounted());
  ASSERT_TRUE(fc().Remount(0).ok());
  EXPECT_EQ(ReadFile(P("kept")), "written before the unmount");
}

TEST_F(FuseMountLifecycleTest, UmountAsRootStopsTheDaemon) {
  ASSERT_TRUE(WriteFile(P("kept"), "x"));
  CommandResult r = RunCommand("/bin/umount", {fc().mount().path()});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_FALSE(fc().mount().Mounted());
  Status s = fc().mount().Unmount();  // reaps the daemon: exit status 0 or an error
  EXPECT_TRUE(s.ok()) << s;
  ASSERT_TRUE(fc().Remount(0).ok());
  EXPECT_EQ(ReadFile(P("kept")), "x");
}

TEST_F(FuseMountLifecycleTest, KilledDaemonLeavesADeadMountThatIsCleared) {
  ASSERT_TRUE(WriteFile(P("kept"), "closed before the kill"));
  ASSERT_TRUE(fc().mount().Kill(SIGKILL).ok());
  struct stat st;
  EXPECT_ERRNO(ENOTCONN, ::stat(P("kept").c_str(), &st));
  EXPECT_TRUE(fc().mount().Mounted());
  Status s = fc().mount().Unmount();
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_FALSE(fc().mount().Mounted());
  ASSERT_TRUE(fc().Remount(0).ok());
  EXPECT_EQ(ReadFile(P("kept")), "closed before the kill");
  // A file open for writing when the daemon died keeps what was closed before; the new mount
  // can write it again (the dead writer's lease is recovered).
  ASSERT_TRUE(WriteFile(P("again"), "v1"));
  int fd = ::open(P("again").c_str(), O_WRONLY | O_APPEND);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "+lost?", 6), 6);
  ASSERT_TRUE(fc().mount().Kill(SIGKILL).ok());
  ::close(fd);  // fails or not: the connection is gone
  ASSERT_TRUE(fc().Remount(0).ok());
  const std::string now = ReadFile(P("again"));
  EXPECT_TRUE(now == "v1" || now == "v1+lost?") << now;
  CommandResult w = Sh("echo v2 > " + ShellQuote(P("again")), std::chrono::seconds(90));
  EXPECT_EQ(w.exit_code, 0) << Describe(w) << "\n" << fc().mount().LogTail();
  EXPECT_EQ(ReadFile(P("again")), "v2\n");
}

TEST_F(FuseMountLifecycleTest, BackgroundMountIsReadyWhenTheCommandReturns) {
  const std::string dir = fc().scratch() + "/background";
  ASSERT_TRUE(std::filesystem::create_directories(dir));
  CommandResult r = RunCommand(BinDir() + "/talus-fuse",
                               {"--fs=" + fc().cluster().uri(), "--allow_other", dir}, {}, "",
                               std::chrono::seconds(30));
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_TRUE(IsFuseMountpoint(dir));
  EXPECT_TRUE(WriteFile(dir + talus_dir() + "/bg", "from the background mount"));
  EXPECT_EQ(ReadFile(P("bg")), "from the background mount");
  CommandResult df = Sh("df -P " + ShellQuote(dir) + " | tail -1");
  EXPECT_EQ(df.out.rfind(fc().cluster().uri(), 0), 0u) << Describe(df);
  ASSERT_TRUE(ForceUnmount(dir).ok());
  EXPECT_TRUE(WaitFor([&] { return ProcessesMentioning(dir).empty(); }, std::chrono::seconds(30)))
      << "the background talus-fuse is still running after its unmount";
}

}  // namespace
}  // namespace talus::test
