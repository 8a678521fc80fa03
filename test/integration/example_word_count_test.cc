// client/examples built the way a user would build them: `cmake --install` of this build into a
// fresh prefix, then the standalone example project configured with find_package(Talus) and
// compiled against what was installed. The word count it runs over a directory in a real cluster
// must give the counts of `cat | tr -s ' \n\t' '\n' | sort | uniq -c` over the local copies.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "talus/file_system.h"
#include "test/support/mini_cluster.h"

namespace talus {
namespace {

using test::CommandResult;

std::string SourceDir() {
  const char* dir = std::getenv("TALUS_SOURCE_DIR");  // set by ctest
  if (dir != nullptr) return dir;
  std::string self = __FILE__;
  return self.substr(0, self.rfind("/test/integration/"));
}

// The build directory holding this test: bin/ is beside tests/.
std::string BuildDir() { return test::BinDir() + "/.."; }

CommandResult Sh(const std::string& script, std::chrono::seconds timeout) {
  return test::RunCommand("/bin/sh", {"-c", script}, {}, "", timeout);
}

std::string Quote(const std::string& s) { return "'" + s + "'"; }

// Text of `words` words drawn from a small vocabulary with uneven frequencies, separated by runs
// of spaces, tabs and newlines, ending in a newline (so that `cat` never glues two files' words).
std::string MakeText(std::mt19937* rng, int words) {
  static const std::vector<std::string> kVocabulary = {
      "the",      "a",        "of",    "talus",       "block",    "replica",
      "datanode", "namenode", "lease", "checksum",    "pipeline", "Zebra",
      "zebra",    "x",        "naïve", "file-system", "42",       "end."};
  static const char* kSeparators[] = {" ", " ", " ", "\n", "\t", "  ", " \t ", "\n\n"};
  std::geometric_distribution<size_t> pick(0.15);
  std::uniform_int_distribution<size_t> sep(0, 7);
  std::string text;
  if ((*rng)() % 2 == 0) text += " ";  // some files start with a separator
  for (int i = 0; i < words; ++i) {
    text += kVocabulary[pick(*rng) % kVocabulary.size()];
    text += i + 1 == words ? "\n" : kSeparators[sep(*rng)];
  }
  return text;
}

TEST(ExampleWordCountTest, InstalledApiWordCountMatchesCoreutils) {
  test::TempDir tmp;
  const std::string prefix = tmp.path() + "/prefix";
  const std::string example_build = tmp.path() + "/example-build";

  // 1. Install the client into a fresh prefix and build the example against it.
  CommandResult install = Sh("cmake --install " + Quote(BuildDir()) + " --prefix " + Quote(prefix),
                             std::chrono::seconds(120));
  ASSERT_EQ(install.exit_code, 0) << install.out << install.err;
  ASSERT_EQ(access((prefix + "/lib/cmake/Talus/TalusConfig.cmake").c_str(), R_OK), 0);
  ASSERT_EQ(access((prefix + "/include/talus/file_system.h").c_str(), R_OK), 0);
  CommandResult configure =
      Sh("cmake -S " + Quote(SourceDir() + "/client/examples") + " -B " + Quote(example_build) +
             " -DCMAKE_PREFIX_PATH=" + Quote(prefix) +
             " -DCMAKE_BUILD_TYPE=Release 2>&1 && cmake --build " + Quote(example_build) + " 2>&1",
         std::chrono::seconds(280));
  ASSERT_EQ(configure.exit_code, 0) << configure.out << configure.err;
  const std::string word_count = example_build + "/talus_word_count";
  ASSERT_EQ(access(word_count.c_str(), X_OK), 0) << configure.out;

  // 2. A directory of files in a real cluster, written through the C++ API and the shell, with
  // local copies.
  test::MiniClusterOptions options;
  options.datanodes = 3;
  auto cluster = test::MiniCluster::Start(options);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  auto fs = FileSystem::Connect((*cluster)->uri());
  ASSERT_TRUE(fs.ok()) << fs.status();
  const std::string local = tmp.path() + "/local";
  ASSERT_EQ(Sh("mkdir -p " + Quote(local + "/sub/deeper"), std::chrono::seconds(10)).exit_code, 0);
  ASSERT_TRUE((*fs)->Mkdirs("/wc/sub/deeper").ok());  // -put does not create parents
  std::mt19937 rng(20261122);
  // Sizes chosen so that reads cross the example's 1 MiB buffers and the 1 MiB blocks.
  const std::vector<std::pair<std::string, int>> files = {{"a.txt", 10},
                                                          {"b.txt", 1000},
                                                          {"empty.txt", 0},
                                                          {"sub/c.txt", 5000},
                                                          {"sub/big.txt", 400000},
                                                          {"sub/deeper/d.txt", 3},
                                                          {"sub/deeper/e.txt", 20000}};
  for (size_t i = 0; i < files.size(); ++i) {
    const auto& [name, words] = files[i];
    std::string text = words == 0 ? "" : MakeText(&rng, words);
    std::ofstream(local + "/" + name, std::ios::binary) << text;
    const std::string path = "/wc/" + name;
    if (i % 2 == 0) {
      CreateOptions create;
      create.block_size = 1 << 20;
      auto out = (*fs)->Create(path, create);
      ASSERT_TRUE(out.ok()) << out.status();
      ASSERT_TRUE((*out)->Write(text.data(), text.size()).ok());
      ASSERT_TRUE((*out)->Close().ok());
    } else {
      CommandResult put =
          test::RunTalus({"dfs", "-fs", (*cluster)->uri(), "-D", "dfs.blocksize=1048576", "-put",
                          local + "/" + name, path});
      ASSERT_EQ(put.exit_code, 0) << put.err;
    }
  }

  // 3. The reference: coreutils over the local copies. uniq -c prints "  COUNT WORD".
  std::string cat_list;
  for (const auto& [name, words] : files) cat_list += " " + Quote(local + "/" + name);
  CommandResult reference = Sh("cat" + cat_list +
                                   " | tr -s ' \\n\\t' '\\n' | grep -v '^$' | LC_ALL=C sort |"
                                   " LC_ALL=C uniq -c",
                               std::chrono::seconds(60));
  ASSERT_EQ(reference.exit_code, 0) << reference.err;
  std::map<std::string, int64_t> expected;
  std::istringstream ref_lines(reference.out);
  std::string line;
  while (std::getline(ref_lines, line)) {
    size_t start = line.find_first_not_of(' ');
    size_t space = line.find(' ', start);
    ASSERT_NE(space, std::string::npos) << line;
    expected[line.substr(space + 1)] = std::stoll(line.substr(start, space - start));
  }
  ASSERT_GT(expected.size(), 10u);

  // 4. The example, with several threads; its lines are "WORD<TAB>COUNT" sorted by word.
  CommandResult run = test::RunCommand(word_count, {(*cluster)->uri(), "/wc", "--threads", "3"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::map<std::string, int64_t> actual;
  std::vector<std::string> order;
  std::istringstream run_lines(run.out);
  while (std::getline(run_lines, line)) {
    size_t tab = line.rfind('\t');
    ASSERT_NE(tab, std::string::npos) << line;
    order.push_back(line.substr(0, tab));
    actual[line.substr(0, tab)] = std::stoll(line.substr(tab + 1));
  }
  EXPECT_EQ(actual, expected);
  EXPECT_TRUE(std::is_sorted(order.begin(), order.end())) << run.out;

  // A directory that does not exist is an error, not an empty result.
  CommandResult missing = test::RunCommand(word_count, {(*cluster)->uri(), "/nope"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("/nope"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace talus
