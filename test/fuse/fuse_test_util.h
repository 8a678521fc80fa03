#pragma once

// Helpers of the fuse tests: whole-file reads and writes with plain syscalls, errno checks, and a
// test fixture sharing one cluster with one mount among the tests of a suite.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "test/support/fuse_mount.h"

namespace talus::test {

// Expects `call` to fail with -1 and errno `err`.
#define EXPECT_ERRNO(err, call)                                                    \
  do {                                                                             \
    errno = 0;                                                                     \
    const auto talus_rc = (call);                                                  \
    const int talus_errno = errno;                                                 \
    EXPECT_EQ(talus_rc, -1) << #call << " succeeded";                              \
    EXPECT_EQ(talus_errno, err) << #call << ": " << std::strerror(talus_errno)     \
                                << " instead of " << std::strerror(err);           \
  } while (0)

// Expects `call` to return >= 0.
#define EXPECT_SYS_OK(call)                                                            \
  do {                                                                                 \
    errno = 0;                                                                         \
    const auto talus_rc = (call);                                                      \
    EXPECT_GE(talus_rc, 0) << #call << ": " << std::strerror(errno);                   \
  } while (0)

#define ASSERT_SYS_OK(call)                                                            \
  do {                                                                                 \
    errno = 0;                                                                         \
    const auto talus_rc = (call);                                                      \
    ASSERT_GE(talus_rc, 0) << #call << ": " << std::strerror(errno);                   \
  } while (0)

// Writes `data` to `path` (created or truncated) in pieces of `piece` bytes and closes it;
// false (with a test failure) on any error, close included.
inline bool WriteFile(const std::string& path, const std::string& data, size_t piece = 1 << 20,
                      mode_t mode = 0644) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, mode);
  if (fd < 0) {
    ADD_FAILURE() << "open " << path << ": " << std::strerror(errno);
    return false;
  }
  for (size_t off = 0; off < data.size();) {
    ssize_t w = ::write(fd, data.data() + off, std::min(piece, data.size() - off));
    if (w <= 0) {
      ADD_FAILURE() << "write " << path << " at " << off << ": " << std::strerror(errno);
      ::close(fd);
      return false;
    }
    off += static_cast<size_t>(w);
  }
  if (::close(fd) != 0) {
    ADD_FAILURE() << "close " << path << ": " << std::strerror(errno);
    return false;
  }
  return true;
}

// Everything read from `fd` from `offset` to its end.
inline std::string ReadFd(int fd, off_t offset = 0) {
  std::string out;
  std::string buf(1 << 20, '\0');
  while (true) {
    ssize_t r = ::pread(fd, buf.data(), buf.size(), offset);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      ADD_FAILURE() << "pread at " << offset << ": " << std::strerror(errno);
      return out;
    }
    if (r == 0) return out;
    out.append(buf.data(), static_cast<size_t>(r));
    offset += r;
  }
}

// The contents of `path`, "" (with a test failure) if it cannot be read.
inline std::string ReadFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) {
    ADD_FAILURE() << "open " << path << ": " << std::strerror(errno);
    return "";
  }
  std::string out = ReadFd(fd);
  ::close(fd);
  return out;
}

inline bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// Describes where two strings first differ (for EXPECT_TRUE(a == b) << FirstDifference(a, b)).
inline std::string FirstDifference(const std::string& got, const std::string& want) {
  if (got.size() != want.size()) {
    return "sizes differ: got " + std::to_string(got.size()) + " want " +
           std::to_string(want.size());
  }
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i] != want[i]) return "first difference at byte " + std::to_string(i);
  }
  return "equal";
}

#define EXPECT_SAME_BYTES(got, want)                                                  \
  do {                                                                                \
    const std::string& talus_got = (got);                                             \
    const std::string& talus_want = (want);                                           \
    EXPECT_TRUE(talus_got == talus_want) << #got << ": "                              \
                                         << FirstDifference(talus_got, talus_want);   \
  } while (0)

// Tests sharing one FuseCluster (one mount by default) per suite; each test gets a fresh
// directory named after it, dir() in the mount and talus_dir() in the namespace.
class SharedFuseTest : public ::testing::Test {
 protected:
  static void StartShared(const FuseClusterOptions& options = {}) {
    if (!FuseUnavailableReason().empty()) return;
    Result<std::unique_ptr<FuseCluster>> started = FuseCluster::Start(options);
    if (started.ok()) {
      shared_ = std::move(*started).release();
    } else {
      start_error_ = new std::string(started.status().ToString());
    }
  }
  static void StopShared() {
    delete shared_;
    shared_ = nullptr;
    delete start_error_;
    start_error_ = nullptr;
  }

  void SetUp() override {
    TALUS_SKIP_WITHOUT_FUSE();
    ASSERT_EQ(start_error_, nullptr) << *start_error_;
    ASSERT_NE(shared_, nullptr);
    for (int i = 0; i < shared_->num_mounts(); ++i) {
      Status alive = shared_->mount(i).CheckAlive();
      ASSERT_TRUE(alive.ok()) << alive;
    }
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    name_ = std::string(info->test_suite_name()) + "." + info->name();
    talus_dir_ = "/" + name_;
    dir_ = mnt() + talus_dir_;
    if (::mkdir(dir_.c_str(), 0755) != 0) {
      const int err = errno;
      // A dead connection: say why the daemon ended (it may take a moment to be reaped).
      Status alive;
      if (err == ENOTCONN || err == ECONNABORTED) {
        WaitFor([&] { return !(alive = shared_->mount().CheckAlive()).ok(); },
                std::chrono::seconds(5));
      }
      FAIL() << dir_ << ": " << std::strerror(err) << "; " << alive << "; log:\n"
             << shared_->mount().LogTail();
    }
  }

  FuseCluster& fc() { return *shared_; }
  FileSystem& fs() { return shared_->fs(); }
  std::string mnt() const { return shared_->mount().path(); }
  const std::string& dir() const { return dir_; }
  const std::string& talus_dir() const { return talus_dir_; }
  std::string P(const std::string& rel) const { return dir_ + "/" + rel; }
  std::string T(const std::string& rel) const { return talus_dir_ + "/" + rel; }

  static FuseCluster* shared_;
  static std::string* start_error_;

 private:
  std::string name_;
  std::string dir_;
  std::string talus_dir_;
};

inline FuseCluster* SharedFuseTest::shared_ = nullptr;
inline std::string* SharedFuseTest::start_error_ = nullptr;

}  // namespace talus::test
