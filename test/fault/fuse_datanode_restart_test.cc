// A datanode killed (SIGKILL) and restarted while `cp` copies a large file into a talus-fuse
// mount, twice: the copy completes and the file is byte-identical, through the mount and behind
// it.
#include <signal.h>

#include <cstring>
#include <fstream>
#include <iostream>

#include "cluster/process.h"
#include "test/fuse/fuse_test_util.h"
#include "test/support/client_data_util.h"

namespace talus::test {
namespace {

constexpr int64_t kFileBytes = 256 << 20;

// Bytes `pid` has written so far (wchar of /proc/PID/io), -1 once it is gone.
int64_t BytesWritten(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/io");
  std::string key;
  int64_t value = 0;
  while (in >> key >> value) {
    if (key == "wchar:") return value;
  }
  return -1;
}

// Compares the file at `talus_path` read through the client API with the local file `local`,
// a megabyte at a time; "" when equal.
std::string CompareBehind(FileSystem& fs, const std::string& talus_path, const std::string& local) {
  Result<std::unique_ptr<InputStream>> in = fs.Open(talus_path);
  if (!in.ok()) return in.status().ToString();
  std::ifstream want(local, std::ios::binary);
  std::string a(1 << 20, '\0'), b(1 << 20, '\0');
  int64_t offset = 0;
  while (true) {
    size_t got = 0;
    while (got < a.size()) {
      Result<size_t> n = (*in)->Read(a.data() + got, a.size() - got);
      if (!n.ok()) return "read at " + std::to_string(offset + got) + ": " + n.status().ToString();
      if (*n == 0) break;
      got += *n;
    }
    want.read(b.data(), static_cast<std::streamsize>(b.size()));
    const size_t expected = static_cast<size_t>(want.gcount());
    if (got != expected || std::memcmp(a.data(), b.data(), got) != 0) {
      return "differs in the megabyte at " + std::to_string(offset) + " (read " +
             std::to_string(got) + " bytes, expected " + std::to_string(expected) + ")";
    }
    if (got == 0) return "";
    offset += static_cast<int64_t>(got);
  }
}

class FuseDatanodeRestartTest : public SharedFuseTest {
 protected:
  static void SetUpTestSuite() { StartShared(); }
  static void TearDownTestSuite() { StopShared(); }
};

TEST_F(FuseDatanodeRestartTest, CopySurvivesDatanodeKillAndRestart) {
  // The source, on local disk.
  const std::string src = fc().scratch() + "/source.bin";
  {
    std::ofstream out(src, std::ios::binary);
    for (int64_t off = 0; off < kFileBytes; off += 8 << 20) {
      const std::string piece = RandomBytes(8 << 20, static_cast<uint64_t>(off) + 1);
      out.write(piece.data(), static_cast<std::streamsize>(piece.size()));
    }
    ASSERT_TRUE(out.good());
  }
  const std::string dst = P("big.bin");
  cluster::SpawnOptions cp;
  cp.binary = "/bin/cp";
  cp.args = {src, dst};
  cp.output_path = fc().scratch() + "/cp.out";
  cp.parent_death_signal = SIGKILL;
  Result<pid_t> pid = cluster::Spawn(cp);
  ASSERT_TRUE(pid.ok()) << pid.status();

  // Kill a datanode of the pipeline at 1/5 and another at 3/5 of the copy; each comes back
  // while the copy goes on.
  int kills_during_copy = 0;
  for (auto [node, at] : {std::pair{0, kFileBytes / 5}, std::pair{1, kFileBytes * 3 / 5}}) {
    const bool reached = WaitFor([&, at = at] {
      const int64_t w = BytesWritten(*pid);
      return w < 0 || w >= at;
    }, std::chrono::seconds(60));
    ASSERT_TRUE(reached) << "cp wrote less than " << at << " bytes in 60 s; log:\n"
                         << fc().mount().LogTail();
    if (BytesWritten(*pid) < 0) break;  // the copy has finished
    ++kills_during_copy;
    ASSERT_TRUE(fc().cluster().KillDatanode(node, SIGKILL).ok());
    ASSERT_TRUE(fc().cluster().RestartDatanode(node).ok());
  }
  Result<cluster::ExitStatus> exit =
      cluster::WaitChild(*pid, cluster::Clock::now() + std::chrono::seconds(80));
  ASSERT_TRUE(exit.ok()) << "cp did not finish within 80 s: " << exit.status() << "; log:\n"
                         << fc().mount().LogTail();
  std::ifstream cp_out(fc().scratch() + "/cp.out");
  std::string cp_said((std::istreambuf_iterator<char>(cp_out)), std::istreambuf_iterator<char>());
  ASSERT_TRUE(exit->success()) << "cp " << exit->ToString() << ": " << cp_said << "; log:\n"
                               << fc().mount().LogTail();
  EXPECT_GE(kills_during_copy, 1) << "the copy finished before the first datanode was killed";
  std::cout << "datanodes killed and restarted during the copy: " << kills_during_copy << "\n";

  CommandResult cmp = Sh("cmp " + ShellQuote(src) + " " + ShellQuote(dst), std::chrono::seconds(60));
  EXPECT_EQ(cmp.exit_code, 0) << Describe(cmp);
  EXPECT_EQ(CompareBehind(fs(), T("big.bin"), src), "");
  // The cluster knows every replica again once the restarted nodes have reported.
  EXPECT_TRUE(fc().cluster().WaitForDatanodes().ok());
}

}  // namespace
}  // namespace talus::test
