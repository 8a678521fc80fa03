// Real programs on a talus-fuse mount: git (init, commits, fsck), tar of a source tree in and out
// compared with diff -r, a C program compiled and run from the mount, and sqlite3 with 10,000 rows
// in 100 transactions passing its integrity check.
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "test/fuse/fuse_test_util.h"

namespace talus::test {
namespace {

class FuseProgramsTest : public SharedFuseTest {
 protected:
  static void SetUpTestSuite() { StartShared(); }
  static void TearDownTestSuite() { StopShared(); }

  // Runs `script` in dir() and expects exit 0; returns what it printed.
  std::string RunIn(const std::string& script, std::chrono::seconds timeout = std::chrono::seconds(60),
                    const std::map<std::string, std::string>& env = {}) {
    CommandResult r = Sh("set -e; cd " + ShellQuote(dir()) + "; " + script, timeout, env);
    EXPECT_EQ(r.exit_code, 0) << script << "\n" << Describe(r) << "\ntalus-fuse log:\n"
                              << fc().mount().LogTail(2000);
    return r.out;
  }

  bool Have(const std::string& program) {
    return Sh("command -v " + program).exit_code == 0;
  }
};

// The repository's root: $TALUS_SOURCE_DIR (set by ctest), else found from this file's path.
std::string SourceDir() {
  const char* env = std::getenv("TALUS_SOURCE_DIR");
  if (env != nullptr && env[0] != '\0') return env;
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path().string();
}

TEST_F(FuseProgramsTest, GitInitCommitsAndFsck) {
  if (!Have("git")) GTEST_SKIP() << "git is not installed (scripts/setup.sh installs it)";
  // A clean environment: no user or system configuration, a fixed identity.
  const std::map<std::string, std::string> env = {
      {"HOME", fc().scratch()},          {"GIT_CONFIG_NOSYSTEM", "1"},
      {"GIT_AUTHOR_NAME", "Talus Test"}, {"GIT_AUTHOR_EMAIL", "test@talus.invalid"},
      {"GIT_COMMITTER_NAME", "Talus Test"}, {"GIT_COMMITTER_EMAIL", "test@talus.invalid"}};
  RunIn("git init -q -b main repo", std::chrono::seconds(60), env);
  std::string script = "cd repo; ";
  for (int i = 0; i < 5; ++i) {
    const std::string n = std::to_string(i);
    script += "mkdir -p dir" + n + "; seq 1 " + std::to_string(1000 * (i + 1)) + " > dir" + n +
              "/numbers; echo change " + n + " >> README; git add -A; git commit -q -m 'commit " +
              n + "'; ";
  }
  // A rename, a deletion, a branch and a merge, then repack (rewrites packs and refs) and fsck.
  script += "git mv dir0 renamed; git rm -q dir1/numbers; git commit -q -m moves; "
            "git checkout -q -b side HEAD~2; echo side > side.txt; git add side.txt; "
            "git commit -q -m side; git checkout -q main; git merge -q --no-edit side; "
            "git gc -q; git fsck --full --strict; git log --oneline | wc -l; git status --porcelain";
  const std::string out = RunIn(script, std::chrono::seconds(80), env);
  EXPECT_EQ(out, "8\n");
  const std::string files = RunIn("cd repo; git ls-files | sort | tr '\\n' ' '", std::chrono::seconds(30), env);
  EXPECT_EQ(files, "README dir2/numbers dir3/numbers dir4/numbers renamed/numbers side.txt ");
}

TEST_F(FuseProgramsTest, TarIntoTheMountAndBackOut) {
  const std::string src = SourceDir();
  ASSERT_TRUE(std::filesystem::is_directory(src + "/common")) << src;
  const std::string out = fc().scratch() + "/untarred";
  std::filesystem::create_directories(out);
  RunIn("tar -C " + ShellQuote(src) + " -cf - common | tar -xpf - && "
        "tar -cf - common | tar -C " + ShellQuote(out) + " -xpf - && "
        "diff -r " + ShellQuote(src + "/common") + " common && "
        "diff -r " + ShellQuote(src + "/common") + " " + ShellQuote(out + "/common") +
        " && echo same");
  // Sizes and modes survive too.
  const std::string listing_src =
      Sh("cd " + ShellQuote(src) + " && find common -printf '%p %s %m %y\\n' | sort").out;
  const std::string listing_mount =
      Sh("cd " + ShellQuote(dir()) + " && find common -printf '%p %s %m %y\\n' | sort").out;
  EXPECT_FALSE(listing_src.empty());
  EXPECT_EQ(listing_mount, listing_src);
  // And a tar file kept in the mount lists and extracts the same.
  RunIn("tar -czf tree.tgz common && mkdir again && tar -C again -xzf tree.tgz && "
        "diff -r common again/common");
}

TEST_F(FuseProgramsTest, CompileAndRunACProgram) {
  if (!Have("cc")) GTEST_SKIP() << "no C compiler (scripts/setup.sh installs build-essential)";
  ASSERT_TRUE(WriteFile(P("sum.c"),
                        "#include <stdio.h>\n"
                        "#include \"sum.h\"\n"
                        "int main(int argc, char** argv) {\n"
                        "  long total = 0;\n"
                        "  for (int i = 1; i <= LIMIT; ++i) total += i;\n"
                        "  printf(\"%s: %ld\\n\", argv[0], total);\n"
                        "  return argc > 1 ? 3 : 0;\n"
                        "}\n"));
  ASSERT_TRUE(WriteFile(P("sum.h"), "#define LIMIT 1000\n"));
  // Separate compile and link steps (object file, temporary files in the mount).
  const std::string out = RunIn("TMPDIR=$PWD cc -O1 -c sum.c -o sum.o && cc sum.o -o sum && "
                                "./sum && " + ShellQuote(P("sum")));
  EXPECT_EQ(out, "./sum: 500500\n" + P("sum") + ": 500500\n");
  struct stat st;
  ASSERT_EQ(::stat(P("sum").c_str(), &st), 0);
  EXPECT_TRUE(st.st_mode & S_IXUSR);
  CommandResult r = Sh(ShellQuote(P("sum")) + " with-argument");
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  // Rebuilt after a change (make-style: a new file replaces the running one's name).
  ASSERT_TRUE(WriteFile(P("sum.h"), "#define LIMIT 10\n"));
  EXPECT_EQ(RunIn("cc sum.c -o sum && ./sum"), "./sum: 55\n");
}

TEST_F(FuseProgramsTest, Sqlite3TenThousandRowsInTransactions) {
  if (!Have("sqlite3")) GTEST_SKIP() << "sqlite3 is not installed (scripts/setup.sh installs it)";
  std::ostringstream sql;
  sql << "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, payload BLOB);\n"
         "CREATE INDEX t_name ON t(name);\n";
  for (int tx = 0; tx < 100; ++tx) {
    sql << "BEGIN;\n";
    for (int i = 0; i < 100; ++i) {
      const int id = tx * 100 + i;
      sql << "INSERT INTO t VALUES (" << id << ", 'row" << id << "', randomblob(" << (id % 500)
          << "));\n";
    }
    sql << "COMMIT;\n";
  }
  ASSERT_TRUE(WriteFile(fc().scratch() + "/insert.sql", sql.str()));
  const std::string script = ShellQuote(fc().scratch() + "/insert.sql");
  EXPECT_EQ(RunIn("sqlite3 test.db < " + script + " && sqlite3 test.db "
                  "'SELECT count(*), sum(id), count(DISTINCT name) FROM t; PRAGMA integrity_check;'",
                  std::chrono::seconds(80)),
            "10000|49995000|10000\nok\n");
  // Updates and deletes in place, a write-ahead-log database, and VACUUM (rewrites the file).
  EXPECT_EQ(RunIn("sqlite3 test.db 'BEGIN; UPDATE t SET payload = randomblob(1000) WHERE id % 7 = 0; "
                  "DELETE FROM t WHERE id % 10 = 3; COMMIT; VACUUM; "
                  "SELECT count(*) FROM t; PRAGMA integrity_check;'"),
            "9000\nok\n");
  EXPECT_EQ(RunIn("sqlite3 wal.db 'PRAGMA journal_mode=WAL;' && sqlite3 wal.db "
                  "'CREATE TABLE w(x); INSERT INTO w SELECT value FROM generate_series(1, 5000); "
                  "PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null && sqlite3 wal.db "
                  "'SELECT count(*), sum(x) FROM w; PRAGMA integrity_check;'"),
            "wal\n5000|12502500\nok\n");
}

}  // namespace
}  // namespace talus::test
