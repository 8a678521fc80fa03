// `ls -l` of a directory of 10,000 files through a talus-fuse mount lists every name with its
// attributes (the mount answers with readdirplus pages, not one lookup per entry).
#include <dirent.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "test/fuse/fuse_test_util.h"

namespace talus::test {
namespace {

class FuseListingTest : public SharedFuseTest {
 protected:
  static void SetUpTestSuite() { StartShared(); }
  static void TearDownTestSuite() { StopShared(); }
};

std::string Name(int i) { return "file_" + std::to_string(i); }

TEST_F(FuseListingTest, LongListingOfTenThousandFiles) {
  constexpr int kFiles = 10000;
  // Created behind the mount by several threads (the namenode groups their journal syncs).
  std::atomic<int> next{0};
  std::atomic<int> failures{0};
  std::string first_error;
  std::mutex error_mu;
  std::vector<std::thread> creators;
  for (int t = 0; t < 8; ++t) {
    creators.emplace_back([&] {
      for (int i = next++; i < kFiles; i = next++) {
        Status s = fs().CreateEmptyFile(T(Name(i)), false, 0644);
        if (!s.ok()) {
          std::lock_guard<std::mutex> lock(error_mu);
          if (failures++ == 0) first_error = s.ToString();
        }
      }
    });
  }
  for (auto& c : creators) c.join();
  ASSERT_EQ(failures.load(), 0) << first_error;
  // One of them written through the mount, with contents.
  ASSERT_TRUE(WriteFile(P(Name(kFiles)), "through the mount"));

  for (int round = 0; round < 2; ++round) {
    const auto start = std::chrono::steady_clock::now();
    CommandResult ls = Sh("ls -l " + ShellQuote(dir()));
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ASSERT_EQ(ls.exit_code, 0) << Describe(ls);
    std::cout << "ls -l of " << kFiles + 1 << " files, " << (round == 0 ? "first" : "second")
              << " listing: " << seconds << " s (target on an idle machine: < 0.5 s)\n";
    std::set<std::string> names;
    std::istringstream lines(ls.out);
    std::string line;
    int regular = 0;
    while (std::getline(lines, line)) {
      if (line.rfind("total", 0) == 0) continue;
      // -rw-r--r-- 1 root root 0 Nov 22 17:40 file_12
      std::istringstream fields(line);
      std::string mode, links, owner, group, size, month, day, time, name;
      fields >> mode >> links >> owner >> group >> size >> month >> day >> time >> name;
      if (mode == "-rw-r--r--" && owner == "root") ++regular;
      if (name == Name(kFiles)) {
        EXPECT_EQ(size, "17") << line;
      }
      names.insert(name);
    }
    EXPECT_EQ(regular, kFiles + 1);
    EXPECT_EQ(names.size(), static_cast<size_t>(kFiles + 1));
    for (int i = 0; i <= kFiles; ++i) {
      if (names.count(Name(i)) == 0) {
        ADD_FAILURE() << Name(i) << " missing from ls -l";
        break;
      }
    }
  }
  // readdir alone agrees, and a listing after removals does not show removed names.
  for (int i = 0; i < 100; ++i) ASSERT_EQ(::unlink(P(Name(i)).c_str()), 0);
  int count = 0;
  DIR* d = ::opendir(dir().c_str());
  ASSERT_NE(d, nullptr);
  while (dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    ++count;
    EXPECT_NE(n, Name(5));
  }
  ::closedir(d);
  EXPECT_EQ(count, kFiles + 1 - 100);
}

}  // namespace
}  // namespace talus::test
