// `talus dfs` data commands end to end (-put/-copyFromLocal, -get/-copyToLocal, -cat, -head,
// -tail [-f], -appendToFile, -cp, -checksum, -getmerge, -df): the real `talus` binary against a
// namenode and three datanodes, checking the bytes, what is printed (HDFS's messages) and the
// exit codes. One cluster serves the suite; each test works in /<TestName> and its own local
// temporary directory.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "common/crc32c.h"
#include "talus/file_system.h"
#include "test/support/mini_cluster.h"

extern char** environ;

namespace talus {
namespace {

using test::CommandResult;
using Args = std::vector<std::string>;

constexpr int64_t kBlock = 1 << 20;  // small blocks, so modest files span several

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

void WriteLocal(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

std::string ReadLocal(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool LocalExists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

// A `talus` process whose stdout and stderr the test reads while it runs (for -tail -f), or
// whose stdout is a terminal (for the progress line).
class LiveTalus {
 public:
  // With `pty_stdout`, stdout is the slave side of a new pseudo-terminal; with `stdin_pipe`,
  // stdin is a pipe the test writes with WriteStdin (else /dev/null).
  LiveTalus(const Args& args, bool pty_stdout, bool stdin_pipe = false) {
    int out_pipe[2], err_pipe[2], in_pipe[2] = {-1, -1};
    if (stdin_pipe) {
      EXPECT_EQ(pipe2(in_pipe, O_CLOEXEC), 0);
    }
    EXPECT_EQ(pipe2(out_pipe, O_CLOEXEC), 0);
    EXPECT_EQ(pipe2(err_pipe, O_CLOEXEC), 0);
    int child_out = out_pipe[1];
    if (pty_stdout) {
      pty_master_ = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
      EXPECT_GE(pty_master_, 0);
      EXPECT_EQ(grantpt(pty_master_), 0);
      EXPECT_EQ(unlockpt(pty_master_), 0);
      pty_slave_ = open(ptsname(pty_master_), O_RDWR | O_NOCTTY | O_CLOEXEC);
      EXPECT_GE(pty_slave_, 0);
      child_out = pty_slave_;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (stdin_pipe) {
      posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
    } else {
      posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    }
    posix_spawn_file_actions_adddup2(&actions, child_out, 1);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    std::string binary = test::BinDir() + "/talus";
    std::vector<char*> argv{binary.data()};
    std::vector<std::string> copy = args;
    for (std::string& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    EXPECT_EQ(posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    close(out_pipe[1]);
    close(err_pipe[1]);
    if (stdin_pipe) {
      close(in_pipe[0]);
      in_fd_ = in_pipe[1];
    }
    out_fd_ = out_pipe[0];
    err_fd_ = err_pipe[0];
    fcntl(out_fd_, F_SETFL, O_NONBLOCK);
    fcntl(err_fd_, F_SETFL, O_NONBLOCK);
  }
  ~LiveTalus() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      Wait();
    }
    for (int fd : {in_fd_, out_fd_, err_fd_, pty_master_, pty_slave_}) {
      if (fd >= 0) close(fd);
    }
  }

  // What the process wrote so far to stdout (the pipe; empty with a pty) and stderr.
  const std::string& out() {
    Drain(out_fd_, &out_);
    return out_;
  }
  const std::string& err() {
    Drain(err_fd_, &err_);
    return err_;
  }
  // Waits for the exit (bounded: the caller's WaitFor) and returns the exit status.
  int Wait() {
    int status = 0;
    if (pid_ > 0 && waitpid(pid_, &status, 0) == pid_) pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  bool Exited() {
    int status = 0;
    if (pid_ > 0 && waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    return pid_ < 0;
  }
  int exit_code() const { return exit_code_; }
  bool WriteStdin(const std::string& data) {
    return write(in_fd_, data.data(), data.size()) == static_cast<ssize_t>(data.size());
  }
  void Signal(int sig) { kill(pid_, sig); }

 private:
  static void Drain(int fd, std::string* into) {
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0) into->append(buf, static_cast<size_t>(n));
  }

  pid_t pid_ = -1;
  int in_fd_ = -1, out_fd_ = -1, err_fd_ = -1, pty_master_ = -1, pty_slave_ = -1;
  int exit_code_ = -1;
  std::string out_, err_;
};

class DfsDataShellTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    test::MiniClusterOptions options;
    options.datanodes = 3;
    auto cluster = test::MiniCluster::Start(options);
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
    local_ = std::make_unique<test::TempDir>();
  }

  // `talus dfs -fs URI -D dfs.blocksize=1MiB ARGS...`.
  static CommandResult Dfs(const Args& args, const std::string& stdin_data = "") {
    Args full{"dfs", "-fs", cluster_->uri(), "-D", "dfs.blocksize=" + std::to_string(kBlock)};
    full.insert(full.end(), args.begin(), args.end());
    return test::RunTalus(full, {}, stdin_data, std::chrono::seconds(120));
  }
  static std::string Join(const Args& args) {
    std::string out;
    for (const auto& a : args) out += a + " ";
    return out;
  }
  // A command that must succeed with nothing on stderr (stdout is not a terminal here, so no
  // progress line either).
  static CommandResult Ok(const Args& args, const std::string& stdin_data = "") {
    CommandResult r = Dfs(args, stdin_data);
    EXPECT_EQ(r.exit_code, 0) << Join(args) << "\nstderr: " << r.err;
    EXPECT_EQ(r.err, "") << Join(args);
    return r;
  }
  // A command that must fail with exit code 1 and exactly `err` on stderr.
  static void Fails(const Args& args, const std::string& err) {
    CommandResult r = Dfs(args);
    EXPECT_EQ(r.exit_code, 1) << Join(args) << "\nstderr: " << r.err;
    EXPECT_EQ(r.err, err) << Join(args);
  }
  static std::string Cat(const std::string& path) { return Ok({"-cat", path}).out; }
  static bool Exists(const std::string& path) { return Dfs({"-test", "-e", path}).exit_code == 0; }

  std::string P(const std::string& rel) const { return base_ + "/" + rel; }
  std::string L(const std::string& rel) const { return local_->path() + "/" + rel; }

  static test::MiniCluster* cluster_;
  std::string base_;
  std::unique_ptr<test::TempDir> local_;
};

test::MiniCluster* DfsDataShellTest::cluster_ = nullptr;

// --- -put / -get ---------------------------------------------------------------------------------

TEST_F(DfsDataShellTest, PutAndGetRoundTripEveryByteAcrossBlockBoundaries) {
  const std::vector<size_t> sizes = {
      0, 1, 511, 512, 513, 65535, 65536, 65537, kBlock - 1, kBlock, kBlock + 1, 3 * kBlock + 123};
  Args put{"-put"};
  for (size_t i = 0; i < sizes.size(); ++i) {
    WriteLocal(L("f" + std::to_string(i)), RandomBytes(sizes[i], static_cast<uint32_t>(i)));
    put.push_back(L("f" + std::to_string(i)));
  }
  Ok({"-mkdir", P("in")});
  put.push_back(P("in"));  // several sources into an existing directory
  Ok(put);
  ASSERT_EQ(mkdir(L("out").c_str(), 0755), 0);
  for (size_t i = 0; i < sizes.size(); ++i) {
    const std::string name = "f" + std::to_string(i);
    EXPECT_EQ(Ok({"-stat", "%b", P("in/" + name)}).out, std::to_string(sizes[i]) + "\n");
    Ok({"-get", P("in/" + name), L("out/" + name)});
    EXPECT_TRUE(ReadLocal(L("out/" + name)) == ReadLocal(L(name))) << "size " << sizes[i];
  }
  // -cat gives the same bytes; nothing is left under a temporary name.
  EXPECT_TRUE(Cat(P("in/f11")) == ReadLocal(L("f11")));
  EXPECT_EQ(Ok({"-ls", P("in")}).out.find("_COPYING_"), std::string::npos);
  EXPECT_FALSE(LocalExists(L("out/f11._COPYING_")));
}

TEST_F(DfsDataShellTest, CopyFromLocalAndCopyToLocalAreAliases) {
  WriteLocal(L("a"), "alias\n");
  Ok({"-copyFromLocal", L("a"), P("a")});
  Ok({"-copyToLocal", P("a"), L("b")});
  EXPECT_EQ(ReadLocal(L("b")), "alias\n");
}

TEST_F(DfsDataShellTest, MoveFromLocalRemovesWhatWasCopied) {
  ASSERT_EQ(mkdir(L("dir").c_str(), 0755), 0);
  WriteLocal(L("dir/x"), "x\n");
  WriteLocal(L("f"), "f\n");
  Ok({"-moveFromLocal", L("f"), L("dir"), base_});
  EXPECT_EQ(Cat(P("f")), "f\n");
  EXPECT_EQ(Cat(P("dir/x")), "x\n");
  EXPECT_FALSE(LocalExists(L("f")));
  EXPECT_FALSE(LocalExists(L("dir")));
  // A copy that fails keeps its source.
  WriteLocal(L("f"), "again\n");
  Fails({"-moveFromLocal", L("f"), base_}, "moveFromLocal: `" + P("f") + "': File exists\n");
  EXPECT_EQ(ReadLocal(L("f")), "again\n");
}

TEST_F(DfsDataShellTest, PutRefusesAnExistingFileUnlessForced) {
  WriteLocal(L("one"), "one\n");
  WriteLocal(L("two"), "two\n");
  Ok({"-put", L("one"), P("f")});
  Fails({"-put", L("two"), P("f")}, "put: `" + P("f") + "': File exists\n");
  EXPECT_EQ(Cat(P("f")), "one\n");
  Ok({"-put", "-f", L("two"), P("f")});
  EXPECT_EQ(Cat(P("f")), "two\n");
  EXPECT_FALSE(Exists(P("f._COPYING_")));
}

TEST_F(DfsDataShellTest, PutDestinationRulesAndErrors) {
  WriteLocal(L("a"), "a");
  WriteLocal(L("b"), "b");
  Ok({"-touchz", P("file")});
  Fails({"-put", L("a"), L("b"), P("missing")},
        "put: `" + P("missing") + "': No such file or directory\n");
  Fails({"-put", L("a"), L("b"), P("file")}, "put: `" + P("file") + "': Is not a directory\n");
  Fails({"-put", L("a"), P("no/such/f")},
        "put: `" + P("no/such/f") + "': No such file or directory\n");
  Fails({"-put", L("nope"), P("x")}, "put: `" + L("nope") + "': No such file or directory\n");
  // A missing source does not stop the others.
  CommandResult r = Dfs({"-put", L("nope"), L("a"), P("")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "put: `" + L("nope") + "': No such file or directory\n");
  EXPECT_EQ(Cat(P("a")), "a");
  // Into a new name whose parent exists: the file gets that name.
  Ok({"-put", L("b"), P("renamed")});
  EXPECT_EQ(Cat(P("renamed")), "b");
  // Without a destination, into the working directory (the home directory), which must exist.
  const std::string home = "/user/" + std::string(getpwuid(geteuid())->pw_name);
  ASSERT_FALSE(Exists(home));
  Fails({"-put", L("a")}, "put: `.': No such file or directory\n");
  Ok({"-mkdir", "-p", home});
  Ok({"-put", L("a")});
  EXPECT_EQ(Cat(home + "/a"), "a");
  Ok({"-rm", "-r", "-skipTrash", home});
}

TEST_F(DfsDataShellTest, PutReadsStandardInput) {
  std::string data = RandomBytes(kBlock + 4321, 7);
  Ok({"-put", "-", P("stdin")}, data);
  EXPECT_TRUE(Cat(P("stdin")) == data);
  Fails({"-put", "-", P("stdin")}, "put: `" + P("stdin") + "': File exists\n");
  Ok({"-put", "-f", "-", P("stdin")}, "again\n");
  EXPECT_EQ(Cat(P("stdin")), "again\n");
}

TEST_F(DfsDataShellTest, PutAndGetWholeDirectories) {
  ASSERT_EQ(system(("mkdir -p " + L("tree/sub/deeper") + " " + L("tree/empty")).c_str()), 0);
  WriteLocal(L("tree/top"), "top\n");
  WriteLocal(L("tree/sub/mid"), RandomBytes(70000, 3));
  WriteLocal(L("tree/sub/deeper/low"), "low\n");
  Ok({"-put", L("tree"), base_});  // an existing directory: the tree goes below it
  CommandResult ls = Ok({"-ls", "-R", P("tree")});
  for (const char* entry : {"tree/top", "tree/sub/mid", "tree/sub/deeper/low", "tree/empty"}) {
    EXPECT_NE(ls.out.find(P(entry) + "\n"), std::string::npos) << entry << "\n" << ls.out;
  }
  // Back to a new local name: the copy is the tree itself.
  Ok({"-get", P("tree"), L("back")});
  EXPECT_EQ(ReadLocal(L("back/top")), "top\n");
  EXPECT_TRUE(ReadLocal(L("back/sub/mid")) == ReadLocal(L("tree/sub/mid")));
  EXPECT_EQ(ReadLocal(L("back/sub/deeper/low")), "low\n");
  struct stat st;
  EXPECT_EQ(stat(L("back/empty").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  // Again to the same name, now an existing directory: the tree goes below it, and once more
  // every file there exists.
  Ok({"-get", P("tree"), L("back")});
  EXPECT_EQ(ReadLocal(L("back/tree/sub/deeper/low")), "low\n");
  CommandResult again = Dfs({"-get", P("tree"), L("back")});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("get: `" + L("back/tree/top") + "': File exists\n"), std::string::npos)
      << again.err;
  EXPECT_NE(again.err.find("get: `" + L("back/tree/sub/mid") + "': File exists\n"),
            std::string::npos)
      << again.err;
}

TEST_F(DfsDataShellTest, InterruptedPutLeavesNoTemporaryFile) {
  Args put{"dfs", "-fs", cluster_->uri(), "-put", "-", P("s")};
  LiveTalus p(put, /*pty_stdout=*/false, /*stdin_pipe=*/true);
  ASSERT_TRUE(p.WriteStdin(RandomBytes(64 * 1024, 5)));
  // Standard input stays open: the copy is under way under its temporary name.
  ASSERT_TRUE(test::WaitFor([&] { return Exists(P("s._COPYING_")); }, std::chrono::seconds(30)));
  p.Signal(SIGINT);
  ASSERT_TRUE(test::WaitFor([&] { return p.Exited(); }, std::chrono::seconds(60)));
  EXPECT_EQ(p.exit_code(), 128 + SIGINT) << p.err();
  EXPECT_FALSE(Exists(P("s._COPYING_")));
  EXPECT_FALSE(Exists(P("s")));
}

TEST_F(DfsDataShellTest, GetRefusesAnExistingLocalFileUnlessForced) {
  Ok({"-put", "-", P("f")}, "cluster\n");
  WriteLocal(L("f"), "local\n");
  Fails({"-get", P("f"), L("f")}, "get: `" + L("f") + "': File exists\n");
  EXPECT_EQ(ReadLocal(L("f")), "local\n");
  Ok({"-get", "-f", P("f"), L("f")});
  EXPECT_EQ(ReadLocal(L("f")), "cluster\n");
  Fails({"-get", P("nope"), L("g")}, "get: `" + P("nope") + "': No such file or directory\n");
  Fails({"-get", P("f"), L("no/such")}, "get: `" + L("no/such") + "': No such file or directory\n");
}

TEST_F(DfsDataShellTest, PreserveKeepsTimesAndMode) {
  WriteLocal(L("old"), "old\n");
  ASSERT_EQ(chmod(L("old").c_str(), 0640), 0);
  struct timespec times[2] = {{978307200, 0}, {978307200, 0}};  // 2001-01-01 00:00:00 UTC
  ASSERT_EQ(utimensat(AT_FDCWD, L("old").c_str(), times, 0), 0);
  Ok({"-put", "-p", L("old"), P("kept")});
  EXPECT_EQ(Ok({"-stat", "%Y %a", P("kept")}).out, "978307200000 640\n");
  Ok({"-put", L("old"), P("plain")});
  EXPECT_NE(Ok({"-stat", "%Y", P("plain")}).out, "978307200000\n");
  Ok({"-get", "-p", P("kept"), L("back")});
  struct stat st;
  ASSERT_EQ(stat(L("back").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, 978307200);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
}

// --- -cat / -head / -tail ------------------------------------------------------------------------

TEST_F(DfsDataShellTest, CatHeadAndTail) {
  std::string big = RandomBytes(kBlock + 5000, 11);
  Ok({"-put", "-", P("big")}, big);
  Ok({"-put", "-", P("small")}, "small\n");
  Ok({"-mkdir", P("dir")});
  EXPECT_TRUE(Cat(P("small")) + "" == "small\n");
  EXPECT_TRUE(Ok({"-cat", P("small"), P("big")}).out == "small\n" + big);
  EXPECT_TRUE(Ok({"-head", P("big")}).out == big.substr(0, 1024));
  EXPECT_TRUE(Ok({"-tail", P("big")}).out == big.substr(big.size() - 1024));
  EXPECT_EQ(Ok({"-tail", P("small")}).out, "small\n");
  EXPECT_EQ(Ok({"-head", P("small")}).out, "small\n");
  CommandResult r = Dfs({"-cat", P("small"), P("dir"), P("nope")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "small\n");
  EXPECT_EQ(r.err, "cat: `" + P("dir") + "': Is a directory\ncat: `" + P("nope") +
                       "': No such file or directory\n");
  Fails({"-head", P("dir")}, "head: `" + P("dir") + "': Is a directory\n");
  Fails({"-tail", P("nope")}, "tail: `" + P("nope") + "': No such file or directory\n");
}

TEST_F(DfsDataShellTest, TailFollowsAGrowingFile) {
  auto fs = FileSystem::Connect(cluster_->uri());
  ASSERT_TRUE(fs.ok()) << fs.status();
  auto out = (*fs)->Create(P("log"));
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_TRUE((*out)->Write("first\n", 6).ok());
  ASSERT_TRUE((*out)->Hflush().ok());
  LiveTalus tail({"dfs", "-fs", cluster_->uri(), "-tail", "-f", "-s", "100", P("log")}, false);
  EXPECT_TRUE(test::WaitFor([&] { return tail.out() == "first\n"; }, std::chrono::seconds(30)))
      << tail.out() << tail.err();
  ASSERT_TRUE((*out)->Write("second\n", 7).ok());
  ASSERT_TRUE((*out)->Hflush().ok());
  EXPECT_TRUE(
      test::WaitFor([&] { return tail.out() == "first\nsecond\n"; }, std::chrono::seconds(30)))
      << tail.out() << tail.err();
  ASSERT_TRUE((*out)->Write("third\n", 6).ok());
  ASSERT_TRUE((*out)->Close().ok());
  EXPECT_TRUE(test::WaitFor([&] { return tail.out() == "first\nsecond\nthird\n"; },
                            std::chrono::seconds(30)))
      << tail.out() << tail.err();
  EXPECT_FALSE(tail.Exited());  // it keeps following until interrupted, like tail -f
  tail.Signal(SIGINT);
  EXPECT_TRUE(test::WaitFor([&] { return tail.Exited(); }, std::chrono::seconds(10)));
}

// --- -appendToFile / -cp / -checksum / -getmerge / -df -------------------------------------------

TEST_F(DfsDataShellTest, AppendToFileFromFilesAndStdinMatchesOneWrite) {
  std::string a = RandomBytes(kBlock - 10, 21), b = RandomBytes(3000, 22), c = "tail\n";
  WriteLocal(L("a"), a);
  WriteLocal(L("b"), b);
  Ok({"-appendToFile", L("a"), L("b"), P("app")});  // created
  Ok({"-appendToFile", "-", P("app")}, c);          // appended from stdin
  EXPECT_TRUE(Cat(P("app")) == a + b + c);
  WriteLocal(L("all"), a + b + c);
  Ok({"-put", L("all"), P("all")});
  std::string app_sum = Ok({"-checksum", P("app")}).out;
  std::string all_sum = Ok({"-checksum", P("all")}).out;
  EXPECT_EQ(app_sum.substr(app_sum.find('\t')), all_sum.substr(all_sum.find('\t')));
  Fails({"-appendToFile", L("nope"), P("app")},
        "appendToFile: `" + L("nope") + "': No such file or directory\n");
  EXPECT_TRUE(Cat(P("app")) == a + b + c);  // nothing appended on a failed check
  Ok({"-mkdir", P("dir")});
  Fails({"-appendToFile", L("b"), P("dir")}, "appendToFile: `" + P("dir") + "': Is a directory\n");
}

TEST_F(DfsDataShellTest, CpCopiesFilesAndDirectories) {
  std::string data = RandomBytes(2 * kBlock + 17, 31);
  Ok({"-put", "-", P("src")}, data);
  Ok({"-cp", P("src"), P("copy")});
  EXPECT_TRUE(Cat(P("copy")) == data);
  Ok({"-put", "-", P("other")}, "other\n");
  Fails({"-cp", P("other"), P("copy")}, "cp: `" + P("copy") + "': File exists\n");
  Ok({"-cp", "-f", P("other"), P("copy")});
  EXPECT_EQ(Cat(P("copy")), "other\n");
  Ok({"-mkdir", "-p", P("d/sub")});
  Ok({"-put", "-", P("d/sub/x")}, "x\n");
  Ok({"-cp", P("d"), P("d2")});
  EXPECT_EQ(Cat(P("d2/sub/x")), "x\n");
  Fails({"-cp", P("d"), P("d/sub")},
        "cp: `" + P("d") + "' to `" + P("d/sub/d") + "': is a subdirectory of itself\n");
  Ok({"-touch", "-m", "-t", "20010101:000000", P("other")});
  std::string mtime = Ok({"-stat", "%Y", P("other")}).out;
  Ok({"-cp", "-p", P("other"), P("kept")});
  EXPECT_EQ(Ok({"-stat", "%Y", P("kept")}).out, mtime);
  Fails({"-cp", P("nope"), P("x")}, "cp: `" + P("nope") + "': No such file or directory\n");
}

TEST_F(DfsDataShellTest, ChecksumIsTheCrc32cOfTheBytesWhateverTheBlockSize) {
  std::string data = RandomBytes(3 * kBlock + 99, 41);
  WriteLocal(L("data"), data);
  Ok({"-put", L("data"), P("one-mib")});
  CommandResult two = test::RunTalus({"dfs", "-fs", cluster_->uri(), "-D",
                                      "dfs.blocksize=" + std::to_string(2 * kBlock), "-put",
                                      L("data"), P("two-mib")});
  ASSERT_EQ(two.exit_code, 0) << two.err;
  char hex[9];
  std::snprintf(hex, sizeof(hex), "%08x", crc32c::Value(data.data(), data.size()));
  EXPECT_EQ(Ok({"-checksum", P("one-mib"), P("two-mib")}).out,
            P("one-mib") + "\tCOMPOSITE-CRC32C\t" + hex + "\n" + P("two-mib") +
                "\tCOMPOSITE-CRC32C\t" + hex + "\n");
  Ok({"-touchz", P("empty")});
  EXPECT_EQ(Ok({"-checksum", P("empty")}).out, P("empty") + "\tCOMPOSITE-CRC32C\t00000000\n");
  Fails({"-checksum", base_}, "checksum: `" + base_ + "': Is a directory\n");
}

TEST_F(DfsDataShellTest, GetmergeConcatenatesADirectorysFiles) {
  Ok({"-mkdir", P("parts")});
  Ok({"-put", "-", P("parts/b")}, "bee");
  Ok({"-put", "-", P("parts/a")}, "ay");
  Ok({"-touchz", P("parts/c")});
  Ok({"-getmerge", P("parts"), L("merged")});
  EXPECT_EQ(ReadLocal(L("merged")), "aybee");
  Ok({"-getmerge", "-nl", P("parts"), L("merged")});
  EXPECT_EQ(ReadLocal(L("merged")), "ay\nbee\n\n");
  Ok({"-getmerge", "-nl", "-skip-empty-file", P("parts"), L("merged")});
  EXPECT_EQ(ReadLocal(L("merged")), "ay\nbee\n");
}

TEST_F(DfsDataShellTest, DfShowsTheClusterCapacity) {
  CommandResult r = Ok({"-df"});
  std::istringstream lines(r.out);
  std::string header, row;
  std::getline(lines, header);
  std::getline(lines, row);
  EXPECT_TRUE(std::regex_match(header, std::regex(R"(Filesystem +Size +Used +Available +Use%)")))
      << header;
  EXPECT_TRUE(std::regex_match(row, std::regex(cluster_->uri() + R"( +[1-9]\d* +\d+ +\d+ +\d+%)")))
      << row;
  CommandResult h = Ok({"-df", "-h"});
  EXPECT_TRUE(std::regex_search(h.out, std::regex(R"(\d+(\.\d)? [KMGTP]\s)"))) << h.out;
}

// --- progress line -------------------------------------------------------------------------------

TEST_F(DfsDataShellTest, ProgressLineOnlyWhenStdoutIsATerminal) {
  WriteLocal(L("f"), RandomBytes(3 * kBlock, 51));
  // Not a terminal (a pipe): nothing at all on stderr, as checked by Ok() everywhere.
  Ok({"-put", L("f"), P("quiet")});
  Args base{"dfs", "-fs", cluster_->uri(), "-D", "dfs.blocksize=" + std::to_string(kBlock)};
  Args put = base;
  put.insert(put.end(), {"-put", L("f"), P("loud")});
  LiveTalus p(put, /*pty_stdout=*/true);
  ASSERT_TRUE(test::WaitFor([&] { return p.Exited(); }, std::chrono::seconds(60)));
  EXPECT_EQ(p.exit_code(), 0) << p.err();
  const std::string err = p.err();
  EXPECT_EQ(err.front(), '\r') << err;
  EXPECT_EQ(err.back(), '\n') << err;
  const std::regex last_line(
      R"(\r.*loud  \[=+\] 100%  3\.0 MiB / 3\.0 MiB  \d+\.\d MiB/s  ETA 0:00 *\n$)");
  EXPECT_TRUE(std::regex_search(err, last_line)) << err;
  Args get = base;
  get.insert(get.end(), {"-get", P("loud"), L("back")});
  LiveTalus g(get, /*pty_stdout=*/true);
  ASSERT_TRUE(test::WaitFor([&] { return g.Exited(); }, std::chrono::seconds(60)));
  EXPECT_EQ(g.exit_code(), 0) << g.err();
  EXPECT_NE(g.err().find("100%  3.0 MiB / 3.0 MiB"), std::string::npos) << g.err();
  EXPECT_TRUE(ReadLocal(L("back")) == ReadLocal(L("f")));
}

}  // namespace
}  // namespace talus
