// Close-to-open consistency between two talus-fuse mounts of one cluster: what is written and
// closed through mount A is what a later open through mount B reads, even when B had the old
// contents and attributes cached.
#include "test/fuse/fuse_test_util.h"
#include "test/support/client_data_util.h"

namespace talus::test {
namespace {

class FuseTwoMountsTest : public SharedFuseTest {
 protected:
  static void SetUpTestSuite() {
    FuseClusterOptions options;
    options.mounts = 2;
    StartShared(options);
  }
  static void TearDownTestSuite() { StopShared(); }

  std::string A(const std::string& rel) const { return P(rel); }
  std::string B(const std::string& rel) { return fc().mount(1).path() + talus_dir() + "/" + rel; }
};

TEST_F(FuseTwoMountsTest, CloseToOpen) {
  // A new file written through A appears, whole, through B.
  std::string v1 = RandomBytes(1500000, 11);
  ASSERT_TRUE(WriteFile(A("f"), v1));
  EXPECT_SAME_BYTES(ReadFile(B("f")), v1);

  // B has read it (pages and attributes cached); A overwrites the middle and closes.
  std::string v2 = v1;
  {
    int fd = ::open(A("f").c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    const std::string patch = RandomBytes(10000, 12);
    ASSERT_EQ(::pwrite(fd, patch.data(), patch.size(), 700000), 10000);
    v2.replace(700000, patch.size(), patch);
    ASSERT_EQ(::close(fd), 0) << std::strerror(errno);
  }
  EXPECT_SAME_BYTES(ReadFile(B("f")), v2);

  // Growth: B must not cut the file at the size it knew.
  std::string v3 = v2 + RandomBytes(300000, 13);
  {
    int fd = ::open(A("f").c_str(), O_WRONLY | O_APPEND);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, v3.data() + v2.size(), v3.size() - v2.size()),
              static_cast<ssize_t>(v3.size() - v2.size()));
    ASSERT_EQ(::close(fd), 0) << std::strerror(errno);
  }
  EXPECT_SAME_BYTES(ReadFile(B("f")), v3);
  struct stat st;
  ASSERT_EQ(::stat(B("f").c_str(), &st), 0);

  // Shrinking by truncate through A.
  ASSERT_EQ(::truncate(A("f").c_str(), 1000), 0);
  EXPECT_SAME_BYTES(ReadFile(B("f")), v3.substr(0, 1000));

  // Replaced by a new file of the same name (rename over it), as editors save.
  ASSERT_TRUE(WriteFile(A("f.tmp"), "new version"));
  ASSERT_EQ(::rename(A("f.tmp").c_str(), A("f").c_str()), 0);
  EXPECT_EQ(ReadFile(B("f")), "new version");

  // And the other way round, B to A.
  ASSERT_TRUE(WriteFile(B("g"), "from B"));
  EXPECT_EQ(ReadFile(A("g")), "from B");
  Result<std::string> behind = ReadWholeFile(fs(), T("g"));
  ASSERT_TRUE(behind.ok()) << behind.status();
  EXPECT_EQ(*behind, "from B");
}

TEST_F(FuseTwoMountsTest, GrowthAndShrinkAfterOnlyAStatInB) {
  // B knows the file only from stat (attributes cached, no pages) when A changes its size.
  ASSERT_TRUE(WriteFile(A("s"), std::string(100000, 'a')));
  struct stat st;
  ASSERT_EQ(::stat(B("s").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 100000);
  const std::string grown = std::string(100000, 'a') + std::string(50000, 'b');
  ASSERT_TRUE(WriteFile(A("s"), grown));
  EXPECT_SAME_BYTES(ReadFile(B("s")), grown);
  ASSERT_EQ(::stat(B("s").c_str(), &st), 0);
  ASSERT_TRUE(WriteFile(A("s"), "short"));
  EXPECT_EQ(ReadFile(B("s")), "short");
  // Through a descriptor opened with O_RDWR in B, after A's change.
  ASSERT_TRUE(WriteFile(A("s"), grown));
  int fd = ::open(B("s").c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  EXPECT_SAME_BYTES(ReadFd(fd), grown);
  ASSERT_EQ(::pwrite(fd, "B", 1, 0), 1);
  ASSERT_EQ(::close(fd), 0) << std::strerror(errno);
  Result<std::string> behind = ReadWholeFile(fs(), T("s"));
  ASSERT_TRUE(behind.ok()) << behind.status();
  EXPECT_SAME_BYTES(*behind, "B" + grown.substr(1));
  // A's cache holds its own earlier write of the file: the open must drop it.
  EXPECT_SAME_BYTES(ReadFile(A("s")), "B" + grown.substr(1));
}

TEST_F(FuseTwoMountsTest, BOpenDuringAWrite) {
  // B holds the file open while A rewrites a region and closes; a new open through B sees the
  // new bytes (the old descriptor may see either, whole blocks at a time).
  std::string v1(2 << 20, 'a');
  ASSERT_TRUE(WriteFile(A("h"), v1));
  int b_old = ::open(B("h").c_str(), O_RDONLY);
  ASSERT_GE(b_old, 0);
  EXPECT_SAME_BYTES(ReadFd(b_old), v1);
  int fd = ::open(A("h").c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  const std::string patch(4096, 'b');
  ASSERT_EQ(::pwrite(fd, patch.data(), patch.size(), 1 << 20), 4096);
  ASSERT_EQ(::close(fd), 0);
  std::string v2 = v1;
  v2.replace(1 << 20, 4096, patch);
  EXPECT_SAME_BYTES(ReadFile(B("h")), v2);
  ::close(b_old);
  // Deleted through A: gone through B.
  ASSERT_EQ(::unlink(A("h").c_str()), 0);
  EXPECT_TRUE(WaitFor([&] { return !Exists(B("h")); }, std::chrono::seconds(5)))
      << "still visible through B 5 s after the unlink through A (entry timeout 1 s)";
}

}  // namespace
}  // namespace talus::test
