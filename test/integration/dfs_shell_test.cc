// `talus dfs` end to end: the real `talus` binary against a real namenode, checking what a user
// sees (stdout, stderr, exit code) for every command, as `hdfs dfs` would print it. One cluster
// serves the whole suite; each test works in its own directory, /<TestName>.
#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <regex>
#include <string>
#include <vector>

#include "test/support/mini_cluster.h"

namespace talus {
namespace {

using test::CommandResult;
using Args = std::vector<std::string>;

constexpr int kUsageError = 255;
const char kDate[] = R"(\d{4}-\d{2}-\d{2} \d{2}:\d{2})";

std::string OsUser() {
  struct passwd* pw = getpwuid(geteuid());
  return pw != nullptr ? pw->pw_name : "";
}

// Turns an expected line into a regex: everything literal except DATE, which matches the -ls
// date column.
std::string LinePattern(const std::string& line) {
  static const std::regex special(R"([.^$|()\[\]{}*+?\\])");
  std::string escaped = std::regex_replace(line, special, R"(\$&)");
  size_t at = escaped.find("DATE");
  if (at != std::string::npos) escaped.replace(at, 4, kDate);
  return escaped;
}

// Checks `out` line by line against `expected` (see LinePattern).
void ExpectLines(const std::string& out, const std::vector<std::string>& expected) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < out.size()) {
    size_t end = out.find('\n', start);
    if (end == std::string::npos) end = out.size();
    lines.push_back(out.substr(start, end - start));
    start = end + 1;
  }
  ASSERT_EQ(lines.size(), expected.size()) << "output was:\n" << out;
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_TRUE(std::regex_match(lines[i], std::regex(LinePattern(expected[i]))))
        << "line " << i << ": \"" << lines[i] << "\"\nexpected: \"" << expected[i] << "\"";
  }
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class DfsShellTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto cluster = test::MiniCluster::Start();
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = std::move(*cluster).release();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(cluster_, nullptr) << "the cluster did not start";
    base_ = std::string("/") + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    Ok({"-mkdir", base_});
    me_ = OsUser();
    CommandResult group = Dfs({"-stat", "%g", base_});
    ASSERT_EQ(group.exit_code, 0) << group.err;
    group_ = group.out.substr(0, group.out.find('\n'));
  }

  // `talus dfs -fs URI ARGS...`, as the user running the test (the superuser: it started the
  // namenode).
  static CommandResult Dfs(const Args& args, const std::map<std::string, std::string>& env = {}) {
    Args full{"dfs", "-fs", cluster_->uri()};
    full.insert(full.end(), args.begin(), args.end());
    return test::RunTalus(full, env);
  }
  // The same as another user.
  static CommandResult DfsAs(const std::string& user, const Args& args) {
    Args full{"-D", "talus.user=" + user};
    full.insert(full.end(), args.begin(), args.end());
    return Dfs(full);
  }
  // Runs a command that must succeed silently on stderr.
  static CommandResult Ok(const Args& args) {
    CommandResult r = Dfs(args);
    EXPECT_EQ(r.exit_code, 0) << Join(args) << "\nstderr: " << r.err;
    EXPECT_EQ(r.err, "") << Join(args);
    return r;
  }
  static std::string Join(const Args& args) {
    std::string out;
    for (const auto& a : args) out += a + " ";
    return out;
  }
  // Expects `args` to fail with exit code 1, nothing on stdout and exactly `err` on stderr.
  static void Fails(const Args& args, const std::string& err) {
    CommandResult r = Dfs(args);
    EXPECT_EQ(r.exit_code, 1) << Join(args) << "\nstderr: " << r.err;
    EXPECT_EQ(r.out, "") << Join(args);
    EXPECT_EQ(r.err, err) << Join(args);
  }
  static bool Exists(const std::string& path) { return Dfs({"-test", "-e", path}).exit_code == 0; }
  std::string Stat(const std::string& format, const std::string& path) {
    CommandResult r = Dfs({"-stat", format, path});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }
  // Everything below base_, for checking that a failed command changed nothing.
  std::string Tree() { return Dfs({"-ls", "-R", base_}).out; }
  std::string P(const std::string& rel) const { return base_ + "/" + rel; }

  static test::MiniCluster* cluster_;
  std::string base_;
  std::string me_;
  std::string group_;
};

test::MiniCluster* DfsShellTest::cluster_ = nullptr;

// --- -ls ---------------------------------------------------------------------------------------

TEST_F(DfsShellTest, LsListsADirectoryInHdfsLayout) {
  Ok({"-mkdir", P("dir")});
  Ok({"-touchz", P("file")});
  CommandResult r = Ok({"-ls", base_});
  std::string og = me_ + " " + group_ + " ";
  ExpectLines(r.out, {"Found 2 items", "drwxr-xr-x   - " + og + "         0 DATE " + P("dir"),
                      "-rw-r--r--   3 " + og + "         0 DATE " + P("file")});
}

TEST_F(DfsShellTest, LsOfAFileAndOfADirectoryItself) {
  Ok({"-mkdir", P("d")});
  Ok({"-touchz", P("d/f")});
  std::string og = me_ + " " + group_ + " ";
  ExpectLines(Ok({"-ls", P("d/f")}).out, {"-rw-r--r--   3 " + og + "         0 DATE " + P("d/f")});
  ExpectLines(Ok({"-ls", "-d", P("d")}).out,
              {"drwxr-xr-x   - " + og + "         0 DATE " + P("d")});
  ExpectLines(Ok({"-ls", "-C", P("d")}).out, {P("d/f")});
}

TEST_F(DfsShellTest, LsRecursiveHasNoFoundLines) {
  Ok({"-mkdir", "-p", P("a/b")});
  Ok({"-touchz", P("a/b/f"), P("a/g")});
  std::string og = me_ + " " + group_ + " ";
  ExpectLines(Ok({"-ls", "-R", base_}).out,
              {"drwxr-xr-x   - " + og + "         0 DATE " + P("a"),
               "drwxr-xr-x   - " + og + "         0 DATE " + P("a/b"),
               "-rw-r--r--   3 " + og + "         0 DATE " + P("a/b/f"),
               "-rw-r--r--   3 " + og + "         0 DATE " + P("a/g")});
}

TEST_F(DfsShellTest, LsColumnsWidenForTheLongestOwnerAndGroup) {
  Ok({"-touchz", P("x"), P("y")});
  Ok({"-chown", "averyveryverylongowner:g", P("x")});
  Ok({"-chown", "o:averylonggroupname", P("y")});
  // Owner padded to 22, group to 18, size right-aligned in 10.
  ExpectLines(Ok({"-ls", base_}).out, {"Found 2 items",
                                       "-rw-r--r--   3 averyveryverylongowner g" +
                                           std::string(17, ' ') + "          0 DATE " + P("x"),
                                       "-rw-r--r--   3 o" + std::string(21, ' ') +
                                           " averylonggroupname          0 DATE " + P("y")});
}

TEST_F(DfsShellTest, LsEmptyDirectoryPrintsNothing) {
  Ok({"-mkdir", P("empty")});
  EXPECT_EQ(Ok({"-ls", P("empty")}).out, "");
}

TEST_F(DfsShellTest, LsMissingPathFailsButListsTheOthers) {
  Ok({"-touchz", P("here")});
  CommandResult r = Dfs({"-ls", P("nope"), P("here")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "ls: `" + P("nope") + "': No such file or directory\n");
  ExpectLines(r.out, {"-rw-r--r--   3 " + me_ + " " + group_ + "          0 DATE " + P("here")});
}

TEST_F(DfsShellTest, LsSortsByTimeAndReverses) {
  Ok({"-touchz", P("old"), P("new"), P("mid")});
  Ok({"-touch", "-m", "-t", "20200101:000000", P("old")});
  Ok({"-touch", "-m", "-t", "20210101:000000", P("mid")});
  Ok({"-touch", "-m", "-t", "20220101:000000", P("new")});
  ExpectLines(Ok({"-ls", "-C", "-t", base_}).out, {P("new"), P("mid"), P("old")});
  ExpectLines(Ok({"-ls", "-C", "-t", "-r", base_}).out, {P("old"), P("mid"), P("new")});
  ExpectLines(Ok({"-ls", "-C", "-r", base_}).out, {P("old"), P("new"), P("mid")});
  CommandResult sized = Ok({"-ls", "-S", "-h", base_});
  EXPECT_TRUE(Contains(sized.out, "Found 3 items")) << sized.out;
}

// --- -mkdir ------------------------------------------------------------------------------------

TEST_F(DfsShellTest, Mkdir) {
  Ok({"-mkdir", P("a"), P("b")});
  EXPECT_TRUE(Exists(P("a")) && Exists(P("b")));
  Fails({"-mkdir", P("a")}, "mkdir: `" + P("a") + "': File exists\n");
  Ok({"-mkdir", "-p", P("a")});
  Fails({"-mkdir", P("x/y/z")}, "mkdir: `" + P("x/y") + "': No such file or directory\n");
  EXPECT_FALSE(Exists(P("x")));
  Ok({"-mkdir", "-p", P("x/y/z")});
  EXPECT_EQ(Stat("%F", P("x/y/z")), "directory\n");
  Ok({"-touchz", P("f")});
  Fails({"-mkdir", P("f")}, "mkdir: `" + P("f") + "': Is not a directory\n");
  Fails({"-mkdir", "-p", P("f/sub")}, "mkdir: `" + P("f/sub") + "': Is not a directory\n");
  Fails({"-ls", P("f/sub")}, "ls: `" + P("f/sub") + "': No such file or directory\n");
  EXPECT_FALSE(Exists(P("f/sub")));
}

TEST_F(DfsShellTest, MkdirGoesOnAfterAFailure) {
  Ok({"-mkdir", P("dup")});
  CommandResult r = Dfs({"-mkdir", P("dup"), P("fresh")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "mkdir: `" + P("dup") + "': File exists\n");
  EXPECT_TRUE(Exists(P("fresh")));
}

TEST_F(DfsShellTest, MkdirAppliesTheUmask) {
  Ok({"-D", "fs.permissions.umask-mode=077", "-mkdir", P("private")});
  EXPECT_EQ(Stat("%A", P("private")), "rwx------\n");
  Ok({"-D", "fs.permissions.umask-mode=u=rwx,g=rx,o=", "-touchz", P("f")});
  EXPECT_EQ(Stat("%a", P("f")), "640\n");
}

// --- -rm and -rmdir ----------------------------------------------------------------------------

TEST_F(DfsShellTest, Rm) {
  Ok({"-mkdir", "-p", P("d/sub")});
  Ok({"-touchz", P("f"), P("d/sub/g")});
  CommandResult r = Ok({"-rm", P("f")});
  EXPECT_EQ(r.out, "Deleted " + P("f") + "\n");
  EXPECT_FALSE(Exists(P("f")));
  Fails({"-rm", P("d")}, "rm: `" + P("d") + "': Is a directory\n");
  Fails({"-rm", P("f")}, "rm: `" + P("f") + "': No such file or directory\n");
  EXPECT_EQ(Ok({"-rm", "-r", "-skipTrash", P("d")}).out, "Deleted " + P("d") + "\n");
  EXPECT_FALSE(Exists(P("d")));
}

TEST_F(DfsShellTest, RmForceAndCombinedFlags) {
  EXPECT_EQ(Ok({"-rm", "-f", P("nope"), P("nope*")}).out, "");
  Ok({"-mkdir", "-p", P("tree/a/b")});
  EXPECT_EQ(Ok({"-rm", "-rf", P("tree")}).out, "Deleted " + P("tree") + "\n");
  EXPECT_EQ(Ok({"-rm", "-R", "-f", P("tree")}).out, "");
}

TEST_F(DfsShellTest, RmOfTheRootIsRefused) {
  CommandResult r = Dfs({"-rm", "-r", "/"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(Contains(r.err, "rm: `/': ")) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(Exists(base_));
}

TEST_F(DfsShellTest, Rmdir) {
  Ok({"-mkdir", "-p", P("empty"), P("full/x")});
  Ok({"-touchz", P("f")});
  Ok({"-rmdir", P("empty")});
  EXPECT_FALSE(Exists(P("empty")));
  Fails({"-rmdir", P("full")}, "rmdir: `" + P("full") + "': Directory is not empty\n");
  Ok({"-rmdir", "--ignore-fail-on-non-empty", P("full")});
  EXPECT_TRUE(Exists(P("full/x")));
  Fails({"-rmdir", P("f")}, "rmdir: `" + P("f") + "': Is not a directory\n");
  Fails({"-rmdir", P("gone")}, "rmdir: `" + P("gone") + "': No such file or directory\n");
}

// --- -mv ---------------------------------------------------------------------------------------

TEST_F(DfsShellTest, MvRenamesAndMovesIntoDirectories) {
  Ok({"-mkdir", P("dir")});
  Ok({"-touchz", P("a"), P("b"), P("c")});
  Ok({"-mv", P("a"), P("a2")});
  EXPECT_FALSE(Exists(P("a")));
  EXPECT_TRUE(Exists(P("a2")));
  Ok({"-mv", P("a2"), P("dir")});
  EXPECT_TRUE(Exists(P("dir/a2")));
  Ok({"-mv", P("b"), P("c"), P("dir")});
  ExpectLines(Ok({"-ls", "-C", P("dir")}).out, {P("dir/a2"), P("dir/b"), P("dir/c")});
}

TEST_F(DfsShellTest, MvErrors) {
  Ok({"-mkdir", "-p", P("d/sub")});
  Ok({"-touchz", P("f"), P("g"), P("d/f")});
  std::string before = Tree();
  Fails({"-mv", P("f"), P("g")}, "mv: `" + P("g") + "': File exists\n");
  Fails({"-mv", P("f"), P("d")}, "mv: `" + P("d/f") + "': File exists\n");
  Fails({"-mv", P("f"), P("g"), P("nodir")},
        "mv: `" + P("nodir") + "': No such file or directory\n");
  Fails({"-mv", P("f"), P("d"), P("g")}, "mv: `" + P("g") + "': Is not a directory\n");
  Fails({"-mv", P("missing"), P("x")}, "mv: `" + P("missing") + "': No such file or directory\n");
  Fails({"-mv", P("f"), P("no/such/dst")},
        "mv: `" + P("no/such/dst") + "': No such file or directory\n");
  Fails({"-mv", P("d"), P("d/sub")},
        "mv: `" + P("d") + "' to `" + P("d/sub/d") + "': is a subdirectory of itself\n");
  Fails({"-mv", P("d"), P("d/sub/deeper")},
        "mv: `" + P("d") + "' to `" + P("d/sub/deeper") + "': is a subdirectory of itself\n");
  EXPECT_EQ(Tree(), before);
  CommandResult usage = Dfs({"-mv", P("f")});
  EXPECT_EQ(usage.exit_code, kUsageError);
  EXPECT_TRUE(Contains(usage.err, "-mv: Not enough arguments: expected 2 but got 1\n"))
      << usage.err;
}

TEST_F(DfsShellTest, MvOfTheRootIsRefused) {
  CommandResult r = Dfs({"-mv", "/", P("root")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err, "");
  EXPECT_FALSE(Exists(P("root")));
}

// --- -stat -------------------------------------------------------------------------------------

TEST_F(DfsShellTest, Stat) {
  Ok({"-mkdir", P("d")});
  Ok({"-touchz", P("f")});
  CommandResult def = Ok({"-stat", P("f")});
  EXPECT_TRUE(std::regex_match(def.out, std::regex(R"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\n)")))
      << def.out;
  EXPECT_EQ(Ok({"-stat", "%n|%F|%a|%A|%b|%r|%o|%u|%g", P("f"), P("d")}).out,
            "f|regular file|644|rw-r--r--|0|3|134217728|" + me_ + "|" + group_ + "\n" +
                "d|directory|755|rwxr-xr-x|0|0|0|" + me_ + "|" + group_ + "\n");
  CommandResult millis = Ok({"-stat", "%Y %X", P("f")});
  EXPECT_TRUE(std::regex_match(millis.out, std::regex(R"(\d{13} \d{13}\n)"))) << millis.out;
  EXPECT_EQ(Ok({"-stat", "-R", "%n", P("d")}).out, "d\n");
  Fails({"-stat", "%n", P("nope")}, "stat: `" + P("nope") + "': No such file or directory\n");
}

// --- -test -------------------------------------------------------------------------------------

TEST_F(DfsShellTest, TestAnswersWithTheExitCodeOnly) {
  Ok({"-mkdir", P("d")});
  Ok({"-touchz", P("f")});
  struct Case {
    const char* flag;
    const char* path;
    int code;
  } cases[] = {{"-e", "d", 0}, {"-e", "f", 0},    {"-e", "nope", 1}, {"-d", "d", 0},
               {"-d", "f", 1}, {"-f", "f", 0},    {"-f", "d", 1},    {"-z", "f", 0},
               {"-s", "f", 1}, {"-d", "nope", 1}, {"-z", "nope", 1}, {"-e", "f/below", 1}};
  for (const Case& c : cases) {
    CommandResult r = Dfs({"-test", c.flag, P(c.path)});
    EXPECT_EQ(r.exit_code, c.code) << c.flag << " " << c.path;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "");
  }
  CommandResult none = Dfs({"-test", P("f")});
  EXPECT_EQ(none.exit_code, kUsageError);
  EXPECT_TRUE(Contains(none.err, "-test: No test flag given\n")) << none.err;
  CommandResult two = Dfs({"-test", "-d", "-e", P("f")});
  EXPECT_EQ(two.exit_code, kUsageError);
  EXPECT_TRUE(Contains(two.err, "-test: Only one test flag is allowed\n")) << two.err;
}

// --- -touchz and -touch ------------------------------------------------------------------------

TEST_F(DfsShellTest, Touchz) {
  Ok({"-mkdir", P("d")});
  Ok({"-touchz", P("f")});
  EXPECT_EQ(Stat("%F %b", P("f")), "regular file 0\n");
  Ok({"-touchz", P("f")});  // an empty file may be touched again
  Fails({"-touchz", P("d")}, "touchz: `" + P("d") + "': Is a directory\n");
  Fails({"-touchz", P("no/f")}, "touchz: `" + P("no/f") + "': No such file or directory\n");
}

TEST_F(DfsShellTest, TouchSetsTimes) {
  Ok({"-touch", "-t", "20200102:030405", P("f")});
  EXPECT_TRUE(Exists(P("f")));
  std::string both = Stat("%Y %X", P("f"));
  std::string mtime = both.substr(0, both.find(' '));
  EXPECT_EQ(both, mtime + " " + mtime + "\n");
  Ok({"-touch", "-a", "-t", "20210101:000000", P("f")});
  std::string after = Stat("%Y %X", P("f"));
  EXPECT_EQ(after.substr(0, after.find(' ')), mtime);  // -a leaves the modification time
  EXPECT_NE(after, both);
  Ok({"-touch", "-c", P("absent")});
  EXPECT_FALSE(Exists(P("absent")));
  CommandResult bad = Dfs({"-touch", "-t", "yesterday", P("f")});
  EXPECT_EQ(bad.exit_code, kUsageError);
  EXPECT_TRUE(Contains(bad.err, "-touch: Unable to parse the specified timestamp yesterday\n"))
      << bad.err;
}

// --- -chmod, -chown, -chgrp --------------------------------------------------------------------

TEST_F(DfsShellTest, Chmod) {
  Ok({"-mkdir", "-p", P("d/sub")});
  Ok({"-touchz", P("d/sub/f"), P("f")});
  Ok({"-chmod", "600", P("f")});
  EXPECT_EQ(Stat("%a", P("f")), "600\n");
  Ok({"-chmod", "u+x,g=r", P("f")});
  EXPECT_EQ(Stat("%A", P("f")), "rwxr-----\n");
  Ok({"-chmod", "-w", P("f")});  // a mode that looks like an option
  EXPECT_EQ(Stat("%A", P("f")), "r-xr-----\n");
  Ok({"-chmod", "-R", "go-rx", P("d")});
  EXPECT_EQ(Stat("%a", P("d")) + Stat("%a", P("d/sub")) + Stat("%a", P("d/sub/f")),
            "700\n700\n600\n");
  Ok({"-chmod", "1777", P("d")});
  ExpectLines(Ok({"-ls", "-d", P("d")}).out,
              {"drwxrwxrwt   - " + me_ + " " + group_ + "          0 DATE " + P("d")});
  Ok({"-chmod", "a+X", P("f")});
  Fails({"-chmod", "755", P("nope")}, "chmod: `" + P("nope") + "': No such file or directory\n");
}

TEST_F(DfsShellTest, ChmodRejectsBadModes) {
  Ok({"-touchz", P("f")});
  for (const char* mode : {"999", "u+q", "2755", "rwx", "u+r,,g+w"}) {
    CommandResult r = Dfs({"-chmod", mode, P("f")});
    EXPECT_EQ(r.exit_code, kUsageError) << mode;
    EXPECT_TRUE(Contains(r.err, std::string("-chmod: chmod : mode '") + mode +
                                    "' does not match the expected pattern.\n"))
        << r.err;
    EXPECT_TRUE(Contains(r.err, "Usage: talus dfs [generic options] -chmod ")) << r.err;
  }
  EXPECT_EQ(Stat("%a", P("f")), "644\n");
}

TEST_F(DfsShellTest, ChownAndChgrp) {
  Ok({"-mkdir", "-p", P("d/sub")});
  Ok({"-touchz", P("d/sub/f")});
  Ok({"-chown", "alice", P("d")});
  EXPECT_EQ(Stat("%u:%g", P("d")), "alice:" + group_ + "\n");
  Ok({"-chown", "-R", "bob:staff", P("d")});
  EXPECT_EQ(Stat("%u:%g", P("d/sub/f")), "bob:staff\n");
  Ok({"-chown", ":ops", P("d")});
  EXPECT_EQ(Stat("%u:%g", P("d")), "bob:ops\n");
  Ok({"-chgrp", "-R", "eng", P("d")});
  EXPECT_EQ(Stat("%u:%g", P("d/sub")), "bob:eng\n");
  CommandResult bad = Dfs({"-chown", "a:b:c", P("d")});
  EXPECT_EQ(bad.exit_code, kUsageError);
  EXPECT_TRUE(
      Contains(bad.err, "-chown: 'a:b:c' does not match expected pattern for [owner][:group].\n"))
      << bad.err;
  CommandResult bad_group = Dfs({"-chgrp", "a:b", P("d")});
  EXPECT_EQ(bad_group.exit_code, kUsageError);
  EXPECT_TRUE(Contains(bad_group.err, "-chgrp: 'a:b' does not match expected pattern for group\n"))
      << bad_group.err;
  Fails({"-chown", "x", P("nope")}, "chown: `" + P("nope") + "': No such file or directory\n");
}

// --- permissions as another user ---------------------------------------------------------------

TEST_F(DfsShellTest, OtherUsersAreHeldToPermissions) {
  Ok({"-mkdir", P("locked")});
  Ok({"-touchz", P("locked/f")});
  std::string before = Tree();

  CommandResult mkdir = DfsAs("mallory", {"-mkdir", P("locked/x")});
  EXPECT_EQ(mkdir.exit_code, 1);
  EXPECT_TRUE(Contains(mkdir.err, "mkdir: Permission denied: user=mallory")) << mkdir.err;

  CommandResult rm = DfsAs("mallory", {"-rm", P("locked/f")});
  EXPECT_EQ(rm.exit_code, 1);
  EXPECT_EQ(rm.out, "");
  EXPECT_TRUE(Contains(rm.err, "rm: Permission denied: user=mallory")) << rm.err;

  CommandResult chmod = DfsAs("mallory", {"-chmod", "777", P("locked")});
  EXPECT_EQ(chmod.exit_code, 1);
  EXPECT_TRUE(Contains(chmod.err,
                       "chmod: changing permissions of '" + P("locked") + "': Permission denied"))
      << chmod.err;

  CommandResult chown = DfsAs("mallory", {"-chown", "mallory", P("locked")});
  EXPECT_EQ(chown.exit_code, 1);
  EXPECT_TRUE(
      Contains(chown.err, "chown: changing ownership of '" + P("locked") + "': Permission denied"))
      << chown.err;

  CommandResult mv = DfsAs("mallory", {"-mv", P("locked/f"), P("stolen")});
  EXPECT_EQ(mv.exit_code, 1);
  EXPECT_TRUE(Contains(mv.err, "Permission denied")) << mv.err;

  CommandResult env_user = Dfs({"-touchz", P("locked/g")}, {{"TALUS_USER_NAME", "mallory"}});
  EXPECT_EQ(env_user.exit_code, 1);
  EXPECT_TRUE(Contains(env_user.err, "user=mallory")) << env_user.err;

  EXPECT_EQ(Tree(), before);
  // Reading is allowed: the directory is drwxr-xr-x.
  CommandResult ls = DfsAs("mallory", {"-ls", P("locked")});
  EXPECT_EQ(ls.exit_code, 0) << ls.err;
}

TEST_F(DfsShellTest, OwnersActInTheirOwnDirectories) {
  Ok({"-mkdir", P("home")});
  Ok({"-chown", "carol", P("home")});
  CommandResult r = DfsAs("carol", {"-mkdir", P("home/mine")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Stat("%u", P("home/mine")), "carol\n");
  EXPECT_EQ(DfsAs("carol", {"-chmod", "700", P("home")}).exit_code, 0);
  CommandResult denied = DfsAs("dave", {"-ls", P("home")});
  EXPECT_EQ(denied.exit_code, 1);
  EXPECT_TRUE(Contains(denied.err, "ls: Permission denied: user=dave")) << denied.err;
}

// --- -count, -du, -df --------------------------------------------------------------------------

TEST_F(DfsShellTest, Count) {
  Ok({"-mkdir", "-p", P("d/a"), P("d/b")});
  Ok({"-touchz", P("d/a/f"), P("d/g"), P("d/h")});
  EXPECT_EQ(Ok({"-count", P("d")}).out,
            "           3            3                  0 " + P("d") + "\n");
  EXPECT_EQ(Ok({"-count", "-v", P("d/a")}).out,
            "   DIR_COUNT   FILE_COUNT       CONTENT_SIZE PATHNAME\n"
            "           1            1                  0 " +
                P("d/a") + "\n");
  EXPECT_EQ(Ok({"-count", "-q", "-h", P("d/g")}).out,
            "        none             inf            none             inf            0            1"
            "                  0 " +
                P("d/g") + "\n");
  EXPECT_EQ(Ok({"-count", "-u", "-v", P("d")}).out,
            "       QUOTA       REM_QUOTA     SPACE_QUOTA REM_SPACE_QUOTA PATHNAME\n"
            "        none             inf            none             inf " +
                P("d") + "\n");
  Fails({"-count", P("nope")}, "count: `" + P("nope") + "': No such file or directory\n");
}

TEST_F(DfsShellTest, Du) {
  Ok({"-mkdir", "-p", P("d/sub")});
  Ok({"-touchz", P("d/f")});
  EXPECT_EQ(Ok({"-du", P("d")}).out, "0  0  " + P("d/f") + "\n0  0  " + P("d/sub") + "\n");
  EXPECT_EQ(Ok({"-du", "-s", P("d"), P("d/f")}).out,
            "0  0  " + P("d") + "\n0  0  " + P("d/f") + "\n");
  EXPECT_EQ(Ok({"-du", "-s", "-h", "-v", P("d")}).out,
            "SIZE  DISK_SPACE_CONSUMED_WITH_ALL_REPLICAS  FULL_PATH_NAME\n"
            "0     0                                      " +
                P("d") + "\n");
  EXPECT_EQ(Ok({"-du", P("d/sub")}).out, "");
  Fails({"-du", P("nope")}, "du: `" + P("nope") + "': No such file or directory\n");
}

TEST_F(DfsShellTest, Df) {
  CommandResult r = Ok({"-df", "-h"});
  std::string uri = cluster_->uri();
  ExpectLines(r.out,
              {"Filesystem" + std::string(uri.size() - 10, ' ') + "  Size  Used  Available  Use%",
               uri + "     0     0          0    0%"});
}

// --- -setrep -----------------------------------------------------------------------------------

TEST_F(DfsShellTest, Setrep) {
  Ok({"-mkdir", "-p", P("d/sub")});
  Ok({"-touchz", P("f"), P("d/a"), P("d/sub/b")});
  EXPECT_EQ(Ok({"-setrep", "2", P("f")}).out, "Replication 2 set: " + P("f") + "\n");
  EXPECT_EQ(Stat("%r", P("f")), "2\n");
  EXPECT_EQ(Ok({"-setrep", "-R", "5", P("d")}).out,
            "Replication 5 set: " + P("d/a") + "\nReplication 5 set: " + P("d/sub/b") + "\n");
  EXPECT_EQ(Stat("%r", P("d/sub/b")), "5\n");
  ExpectLines(
      Ok({"-ls", P("d")}).out,
      {"Found 2 items", "-rw-r--r--   5 " + me_ + " " + group_ + "          0 DATE " + P("d/a"),
       "drwxr-xr-x   - " + me_ + " " + group_ + "          0 DATE " + P("d/sub")});

  // An empty file has no block to wait for.
  CommandResult wait = Dfs({"-setrep", "-w", "1", P("f")});
  EXPECT_EQ(wait.exit_code, 0) << wait.err;
  EXPECT_EQ(wait.out, "Replication 1 set: " + P("f") + "\nWaiting for " + P("f") + " ... done\n");
  EXPECT_EQ(wait.err, "");

  CommandResult bad = Dfs({"-setrep", "x", P("f")});
  EXPECT_EQ(bad.exit_code, kUsageError);
  EXPECT_TRUE(Contains(bad.err, "Illegal replication, a positive integer expected")) << bad.err;
  CommandResult zero = Dfs({"-setrep", "0", P("f")});
  EXPECT_EQ(zero.exit_code, kUsageError);
  EXPECT_TRUE(Contains(zero.err, "-setrep: replication must be >= 1\n")) << zero.err;
  EXPECT_EQ(Stat("%r", P("f")), "1\n");
}

// --- globs, relative paths, URIs ---------------------------------------------------------------

TEST_F(DfsShellTest, Globs) {
  Ok({"-mkdir", "-p", P("logs/2023"), P("logs/2024"), P("other")});
  Ok({"-touchz", P("logs/2023/a.log"), P("logs/2024/b.log"), P("logs/2024/c.txt")});
  ExpectLines(Ok({"-ls", "-C", P("logs/*/*.log")}).out,
              {P("logs/2023/a.log"), P("logs/2024/b.log")});
  ExpectLines(Ok({"-ls", "-C", "-d", P("logs/202?")}).out, {P("logs/2023"), P("logs/2024")});
  ExpectLines(Ok({"-ls", "-C", "-d", P("logs/202[!3]")}).out, {P("logs/2024")});
  ExpectLines(Ok({"-ls", "-C", "-d", P("{logs/2023,other}")}).out, {P("logs/2023"), P("other")});
  Fails({"-ls", P("logs/*.none")}, "ls: `" + P("logs/*.none") + "': No such file or directory\n");
  EXPECT_EQ(Ok({"-rm", P("logs/*/*.txt")}).out, "Deleted " + P("logs/2024/c.txt") + "\n");
  Ok({"-mv", P("logs/*/*.log"), P("other")});
  ExpectLines(Ok({"-ls", "-C", P("other")}).out, {P("other/a.log"), P("other/b.log")});
  CommandResult many = Dfs({"-mv", P("other/a.log"), P("logs/*")});
  EXPECT_EQ(many.exit_code, 1);
  EXPECT_EQ(many.err, "mv: `" + P("logs/*") + "': Too many matches\n");
}

TEST_F(DfsShellTest, RelativePathsResolveAgainstTheHomeDirectory) {
  Ok({"-mkdir", "-p", "/user/erin"});
  Ok({"-chown", "erin", "/user/erin"});
  EXPECT_EQ(DfsAs("erin", {"-mkdir", "proj"}).exit_code, 0);
  EXPECT_EQ(DfsAs("erin", {"-touchz", "proj/f"}).exit_code, 0);
  EXPECT_TRUE(Exists("/user/erin/proj/f"));
  CommandResult ls = DfsAs("erin", {"-ls"});
  EXPECT_EQ(ls.exit_code, 0) << ls.err;
  ExpectLines(ls.out, {"Found 1 items", "drwxr-xr-x   - erin " + group_ + "          0 DATE proj"});
  ExpectLines(DfsAs("erin", {"-ls", "-C", "proj"}).out, {"proj/f"});
  ExpectLines(DfsAs("erin", {"-ls", "-C", "-d", "pr*"}).out, {"proj"});
  CommandResult missing = DfsAs("frank", {"-ls"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.err, "ls: `.': No such file or directory\n");
}

TEST_F(DfsShellTest, FullUrisAndOtherSchemes) {
  Ok({"-touchz", P("f")});
  std::string uri = cluster_->uri();
  ExpectLines(Ok({"-ls", "-C", uri + base_}).out, {uri + P("f")});
  ExpectLines(Ok({"-ls", "-C", "talus://" + base_}).out, {"talus://" + P("f")});
  CommandResult other = Dfs({"-ls", "hdfs://nn:8020/"});
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_EQ(other.err, "ls: No FileSystem for scheme \"hdfs\"\n");
}

// --- bad input changes nothing -----------------------------------------------------------------

TEST_F(DfsShellTest, BadPathsAreRefusedClearly) {
  Ok({"-mkdir", P("d")});
  std::string before = Tree();
  std::string long_name(256, 'n');
  std::string long_path = base_;
  while (long_path.size() <= 4096) long_path += "/" + std::string(200, 'p');

  struct Case {
    std::string path;
    std::string error;  // what stderr must contain
  } cases[] = {
      {P("d/../x"), "Invalid argument"},
      {P("./x"), "Invalid argument"},
      {P(long_name), "File name too long"},
      {long_path, "File name too long"},
  };
  for (const Args& args : {Args{"-mkdir", ""}, Args{"-touchz", ""}, Args{"-ls", ""}}) {
    CommandResult r = Dfs(args);
    EXPECT_EQ(r.exit_code, 1) << Join(args);
    EXPECT_EQ(r.err, args[0].substr(1) + ": `': Invalid argument: empty path\n");
  }
  for (const Case& c : cases) {
    for (const Args& args : {Args{"-mkdir", "-p", c.path}, Args{"-touchz", c.path},
                             Args{"-mv", P("d"), c.path}, Args{"-ls", c.path}}) {
      CommandResult r = Dfs(args);
      EXPECT_EQ(r.exit_code, 1) << Join(args).substr(0, 200);
      EXPECT_TRUE(Contains(r.err, c.error)) << Join(args).substr(0, 200) << "\n"
                                            << r.err.substr(0, 500);
      EXPECT_TRUE(Contains(r.err, "`" + c.path + "'")) << r.err.substr(0, 300);
      EXPECT_EQ(r.out, "");
    }
  }
  EXPECT_EQ(Tree(), before);
}

// --- help, usage and errors in the command line ------------------------------------------------

TEST_F(DfsShellTest, HelpDocumentsEveryCommandAndOption) {
  CommandResult help = test::RunTalus({"dfs", "-help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_EQ(help.err, "");
  for (const char* text : {"Usage: talus dfs [generic options]",
                           "-ls [-C] [-d] [-h] [-R]",
                           "-mkdir [-p] <path> ...",
                           "-rm [-f] [-r|-R] [-skipTrash]",
                           "-rmdir [--ignore-fail-on-non-empty]",
                           "-mv <src> ... <dst>",
                           "-stat [-R] [format] <path> ...",
                           "-test -[defsz] <path>",
                           "-touchz <path> ...",
                           "-touch [-a] [-m]",
                           "-chmod [-R] <MODE[,MODE]... | OCTALMODE> PATH...",
                           "-chown [-R] [OWNER][:[GROUP]] PATH...",
                           "-chgrp [-R] GROUP PATH...",
                           "-count [-q] [-h] [-v] [-u] <path> ...",
                           "-du [-s] [-h] [-v]",
                           "-df [-h]",
                           "-setrep [-R] [-w] <rep> <path> ...",
                           "-help [cmd ...]",
                           "-usage [cmd ...]",
                           "-fs <talus://host:port",
                           "-D <property=value>",
                           "talus.user=NAME",
                           "fs.permissions.umask-mode",
                           "%y",
                           "--ignore-fail-on-non-empty"}) {
    EXPECT_TRUE(Contains(help.out, text)) << text;
  }
  CommandResult one = test::RunTalus({"dfs", "-help", "mkdir"});
  EXPECT_EQ(one.exit_code, 0);
  EXPECT_EQ(one.out,
            "-mkdir [-p] <path> ... :\n"
            "  Create a directory in specified location.\n"
            "    -p  Do not fail if the directory already exists; create missing parents.\n");
  CommandResult usage = test::RunTalus({"dfs", "-usage", "-rmdir"});
  EXPECT_EQ(usage.out,
            "Usage: talus dfs [generic options] -rmdir [--ignore-fail-on-non-empty] <dir> ...\n");
  CommandResult unknown = test::RunTalus({"dfs", "-help", "frobnicate"});
  EXPECT_EQ(unknown.exit_code, kUsageError);
  EXPECT_TRUE(Contains(unknown.err, "-help: `frobnicate': Unknown command\n")) << unknown.err;
}

TEST_F(DfsShellTest, CommandLineErrors) {
  CommandResult unknown = test::RunTalus({"dfs", "-foo"});
  EXPECT_EQ(unknown.exit_code, kUsageError);
  EXPECT_EQ(unknown.out, "");
  EXPECT_EQ(unknown.err.substr(0, 22), "-foo: Unknown command\n");
  EXPECT_TRUE(Contains(unknown.err, "Usage: talus dfs [generic options]\n"));

  CommandResult dashless = test::RunTalus({"dfs", "ls"});
  EXPECT_EQ(dashless.exit_code, kUsageError);
  EXPECT_TRUE(Contains(
      dashless.err, "ls: Unknown command\nDid you mean -ls?  This command begins with a dash.\n"));

  CommandResult nothing = test::RunTalus({"dfs"});
  EXPECT_EQ(nothing.exit_code, kUsageError);
  EXPECT_TRUE(Contains(nothing.err, "Usage: talus dfs [generic options]"));

  CommandResult illegal = Dfs({"-ls", "-Z", "/"});
  EXPECT_EQ(illegal.exit_code, kUsageError);
  EXPECT_EQ(illegal.out, "");
  EXPECT_EQ(illegal.err.substr(0, 22), "-ls: Illegal option -Z");
  EXPECT_TRUE(Contains(illegal.err, "Usage: talus dfs [generic options] -ls [-C]"));

  CommandResult few = Dfs({"-mkdir"});
  EXPECT_EQ(few.exit_code, kUsageError);
  EXPECT_TRUE(Contains(few.err, "-mkdir: Not enough arguments: expected 1 but got 0\n"));

  CommandResult bad_d = Dfs({"-D", "dfs.replication=zero", "-touchz", P("f")});
  EXPECT_EQ(bad_d.exit_code, kUsageError);
  EXPECT_TRUE(Contains(bad_d.err, "dfs.replication")) << bad_d.err;
  EXPECT_FALSE(Exists(P("f")));

  CommandResult no_fs_value = test::RunTalus({"dfs", "-fs"});
  EXPECT_EQ(no_fs_value.exit_code, kUsageError);
  EXPECT_TRUE(Contains(no_fs_value.err, "Missing argument for option: fs\n"));
}

// --- choosing the file system ------------------------------------------------------------------

TEST_F(DfsShellTest, FileSystemFromTheEnvironmentOrProperty) {
  Ok({"-touchz", P("f")});
  CommandResult env = test::RunTalus({"dfs", "-ls", "-C", base_}, {{"TALUS_FS", cluster_->uri()}});
  EXPECT_EQ(env.exit_code, 0) << env.err;
  EXPECT_EQ(env.out, P("f") + "\n");
  CommandResult prop =
      test::RunTalus({"dfs", "-D", "fs.defaultFS=" + cluster_->uri(), "-ls", "-C", base_},
                     {{"TALUS_FS", "talus://127.0.0.1:1"}});
  EXPECT_EQ(prop.exit_code, 0) << prop.err;
  EXPECT_EQ(prop.out, P("f") + "\n");
}

TEST_F(DfsShellTest, UnreachableNamenodeIsReportedOnce) {
  CommandResult r = test::RunTalus({"dfs", "-fs", "talus://127.0.0.1:1", "-D",
                                    "talus.client.retry-deadline-ms=300", "-ls", "/", "/a", "/b"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  size_t first = r.err.find("ls: Cannot reach the namenode");
  EXPECT_NE(first, std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("ls: Cannot reach the namenode", first + 1), std::string::npos) << r.err;
}

TEST_F(DfsShellTest, NoFileSystemConfigured) {
  test::TempDir empty_conf;
  CommandResult r = test::RunTalus({"dfs", "-ls", "/", "/a"},
                                   {{"TALUS_FS", ""}, {"TALUS_CONF_DIR", empty_conf.path()}});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  // One line, naming the ways to choose a file system, however many paths were given.
  EXPECT_EQ(r.err.rfind("ls: ", 0), 0u) << r.err;
  EXPECT_TRUE(Contains(r.err, "TALUS_FS")) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
}

}  // namespace
}  // namespace talus
