// File and directory operations through a talus-fuse mount, checked with syscalls and ordinary
// tools as a user would, and where it matters also behind the mount through the client API.
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <unistd.h>

#include <iostream>
#include <set>

#include "test/fuse/fuse_test_util.h"
#include "test/support/client_data_util.h"

namespace talus::test {
namespace {

class FusePosixTest : public SharedFuseTest {
 protected:
  static void SetUpTestSuite() { StartShared(); }
  static void TearDownTestSuite() { StopShared(); }

  // The file's contents read behind the mount, through the client API.
  std::string ReadBehind(const std::string& rel) {
    Result<std::string> got = ReadWholeFile(fs(), T(rel));
    EXPECT_TRUE(got.ok()) << T(rel) << ": " << got.status();
    return got.ok() ? *got : "";
  }
};

TEST_F(FusePosixTest, CreateWriteRead) {
  const std::string data = RandomBytes(3 * (1 << 20) + 12345, 1);
  ASSERT_TRUE(WriteFile(P("f"), data, 100000));
  struct stat st;
  ASSERT_EQ(::stat(P("f").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_size, static_cast<off_t>(data.size()));
  EXPECT_SAME_BYTES(ReadFile(P("f")), data);
  EXPECT_SAME_BYTES(ReadBehind("f"), data);
  // An empty file, and a file written by the client API read through the mount.
  ASSERT_TRUE(WriteFile(P("empty"), ""));
  ASSERT_EQ(::stat(P("empty").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 0);
  const std::string behind = RandomBytes(700000, 2);
  ASSERT_TRUE(WriteWholeFile(fs(), T("behind"), behind).ok());
  EXPECT_SAME_BYTES(ReadFile(P("behind")), behind);
  CommandResult cat = Sh("cat " + ShellQuote(P("behind")) + " | wc -c");
  EXPECT_EQ(cat.out, "700000\n") << Describe(cat);
}

TEST_F(FusePosixTest, OverwriteInTheMiddle) {
  std::string data = RandomBytes(3 * (1 << 20), 3);
  ASSERT_TRUE(WriteFile(P("f"), data));
  int fd = ::open(P("f").c_str(), O_RDWR);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  // Across the 1 MiB mark, and a few bytes further on.
  const std::string patch = RandomBytes(5000, 4);
  const off_t at = (1 << 20) - 1000;
  ASSERT_EQ(::pwrite(fd, patch.data(), patch.size(), at), static_cast<ssize_t>(patch.size()));
  ASSERT_EQ(::pwrite(fd, "XYZ", 3, 2 * (1 << 20) + 7), 3);
  data.replace(static_cast<size_t>(at), patch.size(), patch);
  data.replace(2 * (1 << 20) + 7, 3, "XYZ");
  // The writer sees its own writes before close.
  EXPECT_SAME_BYTES(ReadFd(fd), data);
  ASSERT_EQ(::close(fd), 0) << std::strerror(errno);
  struct stat st;
  ASSERT_EQ(::stat(P("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, static_cast<off_t>(data.size()));
  EXPECT_SAME_BYTES(ReadFile(P("f")), data);
  EXPECT_SAME_BYTES(ReadBehind("f"), data);
}

TEST_F(FusePosixTest, TruncateUpAndDown) {
  const std::string data = RandomBytes(100000, 5);
  ASSERT_TRUE(WriteFile(P("f"), data));
  ASSERT_EQ(::truncate(P("f").c_str(), 10000), 0) << std::strerror(errno);
  struct stat st;
  ASSERT_EQ(::stat(P("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 10000);
  EXPECT_SAME_BYTES(ReadFile(P("f")), data.substr(0, 10000));
  // Extending reads as zeros, also where the old bytes were.
  ASSERT_EQ(::truncate(P("f").c_str(), 2 * (1 << 20) + 3), 0) << std::strerror(errno);
  std::string want = data.substr(0, 10000) + std::string(2 * (1 << 20) + 3 - 10000, '\0');
  EXPECT_SAME_BYTES(ReadFile(P("f")), want);
  EXPECT_SAME_BYTES(ReadBehind("f"), want);
  // ftruncate on an open descriptor, interleaved with writes.
  int fd = ::open(P("f").c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, 5), 0) << std::strerror(errno);
  ASSERT_EQ(::pwrite(fd, "abc", 3, 20), 3);
  ASSERT_EQ(::ftruncate(fd, 22), 0);
  ASSERT_EQ(::close(fd), 0) << std::strerror(errno);
  want = data.substr(0, 5) + std::string(15, '\0') + "ab";
  EXPECT_SAME_BYTES(ReadFile(P("f")), want);
  EXPECT_SAME_BYTES(ReadBehind("f"), want);
  // O_TRUNC empties it, ftruncate to 0 of an empty file is fine.
  fd = ::open(P("f").c_str(), O_WRONLY | O_TRUNC);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(::ftruncate(fd, 0), 0);
  ASSERT_EQ(::close(fd), 0);
  ASSERT_EQ(::stat(P("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 0);
  EXPECT_SAME_BYTES(ReadBehind("f"), "");
}

TEST_F(FusePosixTest, RenameOverExistingAndAcrossDirectories) {
  ASSERT_TRUE(WriteFile(P("a"), "contents of a"));
  ASSERT_TRUE(WriteFile(P("b"), "contents of b, longer"));
  ASSERT_EQ(::rename(P("a").c_str(), P("b").c_str()), 0) << std::strerror(errno);
  EXPECT_FALSE(Exists(P("a")));
  EXPECT_EQ(ReadFile(P("b")), "contents of a");
  EXPECT_EQ(ReadBehind("b"), "contents of a");

  ASSERT_EQ(::mkdir(P("d1").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(P("d2").c_str(), 0755), 0);
  ASSERT_EQ(::rename(P("b").c_str(), P("d1/x").c_str()), 0) << std::strerror(errno);
  ASSERT_EQ(::rename(P("d1/x").c_str(), P("d2/y").c_str()), 0) << std::strerror(errno);
  EXPECT_FALSE(Exists(P("d1/x")));
  EXPECT_EQ(ReadFile(P("d2/y")), "contents of a");
  // A directory with contents moves as a whole, over an empty directory too.
  ASSERT_EQ(::mkdir(P("d3").c_str(), 0755), 0);
  ASSERT_EQ(::rename(P("d2").c_str(), P("d3").c_str()), 0) << std::strerror(errno);
  EXPECT_EQ(ReadFile(P("d3/y")), "contents of a");
  ASSERT_EQ(::rename(P("d3").c_str(), P("d1/inner").c_str()), 0) << std::strerror(errno);
  EXPECT_EQ(ReadFile(P("d1/inner/y")), "contents of a");
  EXPECT_EQ(ReadBehind("d1/inner/y"), "contents of a");
  // An open file renamed elsewhere keeps taking writes through its descriptor.
  int fd = ::open(P("d1/inner/y").c_str(), O_WRONLY | O_APPEND);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  ASSERT_EQ(::rename(P("d1/inner/y").c_str(), P("moved").c_str()), 0) << std::strerror(errno);
  ASSERT_EQ(::write(fd, "+more", 5), 5);
  ASSERT_EQ(::close(fd), 0) << std::strerror(errno);
  EXPECT_EQ(ReadFile(P("moved")), "contents of a+more");
  EXPECT_EQ(ReadBehind("moved"), "contents of a+more");
  // mv, the tool.
  CommandResult mv = Sh("mv " + ShellQuote(P("moved")) + " " + ShellQuote(P("d1/by_mv")));
  EXPECT_EQ(mv.exit_code, 0) << Describe(mv);
  EXPECT_EQ(ReadFile(P("d1/by_mv")), "contents of a+more");
}

TEST_F(FusePosixTest, RenameNoReplaceAndExchange) {
  ASSERT_TRUE(WriteFile(P("a"), "AAAA"));
  ASSERT_TRUE(WriteFile(P("b"), "BB"));
  EXPECT_ERRNO(EEXIST, ::renameat2(AT_FDCWD, P("a").c_str(), AT_FDCWD, P("b").c_str(),
                                   RENAME_NOREPLACE));
  EXPECT_EQ(ReadFile(P("a")), "AAAA");
  EXPECT_EQ(ReadFile(P("b")), "BB");
  EXPECT_EQ(::renameat2(AT_FDCWD, P("a").c_str(), AT_FDCWD, P("c").c_str(), RENAME_NOREPLACE), 0)
      << std::strerror(errno);
  EXPECT_FALSE(Exists(P("a")));
  EXPECT_EQ(ReadFile(P("c")), "AAAA");

  EXPECT_EQ(::renameat2(AT_FDCWD, P("b").c_str(), AT_FDCWD, P("c").c_str(), RENAME_EXCHANGE), 0)
      << std::strerror(errno);
  EXPECT_EQ(ReadFile(P("b")), "AAAA");
  EXPECT_EQ(ReadFile(P("c")), "BB");
  EXPECT_EQ(ReadBehind("b"), "AAAA");
  EXPECT_EQ(ReadBehind("c"), "BB");
  // A file and a directory swap places too.
  ASSERT_EQ(::mkdir(P("d").c_str(), 0755), 0);
  ASSERT_TRUE(WriteFile(P("d/inside"), "in"));
  EXPECT_EQ(::renameat2(AT_FDCWD, P("b").c_str(), AT_FDCWD, P("d").c_str(), RENAME_EXCHANGE), 0)
      << std::strerror(errno);
  EXPECT_EQ(ReadFile(P("d")), "AAAA");
  EXPECT_EQ(ReadFile(P("b/inside")), "in");
  EXPECT_ERRNO(ENOENT, ::renameat2(AT_FDCWD, P("b").c_str(), AT_FDCWD, P("missing").c_str(),
                                   RENAME_EXCHANGE));
}

TEST_F(FusePosixTest, UnlinkOfAnOpenFile) {
  // Written behind the mount, so the kernel holds none of it in its cache: reads after the
  // unlink must reach the daemon.
  const std::string data = RandomBytes(2 * (1 << 20) + 5, 6);
  ASSERT_TRUE(WriteWholeFile(fs(), T("f"), data).ok());
  int fd = ::open(P("f").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  ASSERT_EQ(::unlink(P("f").c_str()), 0) << std::strerror(errno);
  EXPECT_FALSE(Exists(P("f")));
  CommandResult ls = Sh("ls -A " + ShellQuote(dir()));
  EXPECT_EQ(ls.out, "") << Describe(ls);
  EXPECT_SAME_BYTES(ReadFd(fd), data);
  struct stat st;
  ASSERT_EQ(::fstat(fd, &st), 0);
  EXPECT_EQ(st.st_size, static_cast<off_t>(data.size()));
  EXPECT_EQ(::close(fd), 0);
  // Open for writing: writes and reads go on after the unlink.
  ASSERT_TRUE(WriteFile(P("g"), "start"));
  fd = ::open(P("g").c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::unlink(P("g").c_str()), 0) << std::strerror(errno);
  ASSERT_EQ(::pwrite(fd, "-after", 6, 5), 6);
  EXPECT_EQ(::fsync(fd), 0) << std::strerror(errno);
  EXPECT_EQ(ReadFd(fd), "start-after");
  EXPECT_EQ(::close(fd), 0) << std::strerror(errno);
  EXPECT_FALSE(Exists(P("g")));
  // A new file of the same name is a different file.
  ASSERT_TRUE(WriteFile(P("g"), "new"));
  EXPECT_EQ(ReadFile(P("g")), "new");
}

TEST_F(FusePosixTest, MkdirParentsAndRemoveRecursively) {
  CommandResult mk = Sh("mkdir -p " + ShellQuote(P("a/b/c/d/e")) + " " + ShellQuote(P("a/x/y")));
  ASSERT_EQ(mk.exit_code, 0) << Describe(mk);
  struct stat st;
  ASSERT_EQ(::stat(P("a/b/c/d/e").c_str(), &st), 0) << std::strerror(errno);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  // mkdir -p of what exists succeeds.
  mk = Sh("mkdir -p " + ShellQuote(P("a/b/c")));
  EXPECT_EQ(mk.exit_code, 0) << Describe(mk);
  for (const char* f : {"a/f1", "a/b/f2", "a/b/c/d/e/f3", "a/x/y/f4"}) {
    ASSERT_TRUE(WriteFile(P(f), f));
  }
  CommandResult find = Sh("cd " + ShellQuote(dir()) + " && find a | sort");
  EXPECT_EQ(find.out,
            "a\na/b\na/b/c\na/b/c/d\na/b/c/d/e\na/b/c/d/e/f3\na/b/f2\na/f1\na/x\na/x/y\na/x/y/f4\n")
      << Describe(find);
  CommandResult rm = Sh("rm -r " + ShellQuote(P("a")));
  ASSERT_EQ(rm.exit_code, 0) << Describe(rm);
  EXPECT_FALSE(Exists(P("a")));
  Result<FileInfo> behind = fs().GetFileInfo(T("a"));
  EXPECT_FALSE(behind.ok());
  EXPECT_EQ(::rmdir(dir().c_str()), 0) << std::strerror(errno);
  EXPECT_EQ(::mkdir(dir().c_str(), 0755), 0) << std::strerror(errno);
}

TEST_F(FusePosixTest, Symlinks) {
  ASSERT_TRUE(WriteFile(P("target"), "pointed at"));
  ASSERT_EQ(::symlink("target", P("rel").c_str()), 0) << std::strerror(errno);
  const std::string odd = "../some/where/../that/does not exist";
  ASSERT_EQ(::symlink(odd.c_str(), P("dangling").c_str()), 0) << std::strerror(errno);
  char buf[PATH_MAX];
  ssize_t n = ::readlink(P("rel").c_str(), buf, sizeof(buf));
  ASSERT_GE(n, 0) << std::strerror(errno);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), "target");
  n = ::readlink(P("dangling").c_str(), buf, sizeof(buf));
  ASSERT_GE(n, 0) << std::strerror(errno);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), odd);
  struct stat st;
  ASSERT_EQ(::lstat(P("rel").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_EQ(st.st_size, 6);
  // Followed by the kernel.
  EXPECT_EQ(ReadFile(P("rel")), "pointed at");
  ASSERT_EQ(::stat(P("rel").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_ERRNO(ENOENT, ::stat(P("dangling").c_str(), &st));
  ASSERT_EQ(::lstat(P("dangling").c_str(), &st), 0);
  // ln -s and ls -l, as a user sees them.
  CommandResult ln = Sh("ln -s /etc/hostname " + ShellQuote(P("abs")) + " && ls -l " +
                        ShellQuote(P("abs")));
  EXPECT_EQ(ln.exit_code, 0) << Describe(ln);
  EXPECT_NE(ln.out.find("abs -> /etc/hostname"), std::string::npos) << Describe(ln);
  Result<FileInfo> behind = fs().GetFileInfo(T("rel"));
  ASSERT_TRUE(behind.ok()) << behind.status();
  EXPECT_EQ(behind->type, FileType::kSymlink);
  EXPECT_EQ(behind->symlink_target, "target");
  // Removing the link leaves the target.
  ASSERT_EQ(::unlink(P("rel").c_str()), 0);
  EXPECT_EQ(ReadFile(P("target")), "pointed at");
  EXPECT_ERRNO(EEXIST, ::symlink("x", P("target").c_str()));
}

TEST_F(FusePosixTest, ChmodAndChown) {
  Result<TestUser> user = EnsureTestUser();
  ASSERT_TRUE(user.ok()) << user.status();
  ASSERT_TRUE(WriteFile(P("f"), "x"));
  ASSERT_EQ(::chmod(P("f").c_str(), 0640), 0) << std::strerror(errno);
  struct stat st;
  ASSERT_EQ(::stat(P("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  ASSERT_EQ(::chmod(P("f").c_str(), 0755), 0);
  ASSERT_EQ(::stat(P("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  // A file belongs to who created it (root here).
  EXPECT_EQ(st.st_uid, 0u);
  ASSERT_EQ(::chown(P("f").c_str(), user->uid, user->gid), 0) << std::strerror(errno);
  ASSERT_EQ(::stat(P("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, user->uid);
  EXPECT_EQ(st.st_gid, user->gid);
  Result<FileInfo> behind = fs().GetFileInfo(T("f"));
  ASSERT_TRUE(behind.ok()) << behind.status();
  EXPECT_EQ(behind->owner, user->name);
  EXPECT_EQ(behind->mode, 0755u);
  // chmod and chown the tools, on a directory; ls -l shows the names.
  CommandResult r = Sh("mkdir " + ShellQuote(P("d")) + " && chmod 0700 " + ShellQuote(P("d")) +
                       " && chown " + user->name + ":" + user->name + " " + ShellQuote(P("d")) +
                       " && stat -c '%a %U %G' " + ShellQuote(P("d")));
  EXPECT_EQ(r.out, "700 " + user->name + " " + user->name + "\n") << Describe(r);
  // Change only the group.
  ASSERT_EQ(::chown(P("f").c_str(), static_cast<uid_t>(-1), 0), 0) << std::strerror(errno);
  ASSERT_EQ(::stat(P("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, user->uid);
  EXPECT_EQ(st.st_gid, 0u);
}

TEST_F(FusePosixTest, TimesKeepNanosecondsAndSecondsPast2038) {
  ASSERT_TRUE(WriteFile(P("f"), "x"));
  struct timespec times[2];
  times[0] = {1234567890, 123456789};   // atime
  times[1] = {4102444805, 987654321};  // mtime: 2100-01-01 00:00:05
  ASSERT_EQ(::utimensat(AT_FDCWD, P("f").c_str(), times, 0), 0) << std::strerror(errno);
  struct stat st;
  ASSERT_EQ(::stat(P("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_atim.tv_sec, 1234567890);
  EXPECT_EQ(st.st_atim.tv_nsec, 123456789);
  EXPECT_EQ(st.st_mtim.tv_sec, 4102444805);
  EXPECT_EQ(st.st_mtim.tv_nsec, 987654321);
  Result<FileInfo> behind = fs().GetFileInfo(T("f"));
  ASSERT_TRUE(behind.ok()) << behind.status();
  EXPECT_EQ(behind->mtime.sec, 4102444805);
  EXPECT_EQ(behind->mtime.nsec, 987654321);
  EXPECT_EQ(behind->atime.sec, 1234567890);
  EXPECT_EQ(behind->atime.nsec, 123456789);
  // UTIME_OMIT keeps one; touch -d sets both.
  times[0] = {0, UTIME_OMIT};
  times[1] = {1600000000, 5};
  ASSERT_EQ(::utimensat(AT_FDCWD, P("f").c_str(), times, 0), 0) << std::strerror(errno);
  ASSERT_EQ(::stat(P("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_atim.tv_sec, 1234567890);
  EXPECT_EQ(st.st_atim.tv_nsec, 123456789);
  EXPECT_EQ(st.st_mtim.tv_sec, 1600000000);
  EXPECT_EQ(st.st_mtim.tv_nsec, 5);
  CommandResult touch = Sh("touch -d '2001-02-03 04:05:06.75 UTC' " + ShellQuote(P("f")) +
                           " && stat -c '%.9Y' " + ShellQuote(P("f")));
  EXPECT_EQ(touch.out, "981173106.750000000\n") << Describe(touch);
  // A write moves mtime forward to now.
  const time_t before = ::time(nullptr);
  ASSERT_TRUE(WriteFile(P("f"), "changed"));
  ASSERT_EQ(::stat(P("f").c_str(), &st), 0);
  EXPECT_GE(st.st_mtim.tv_sec, before - 1);
}

TEST_F(FusePosixTest, ErrorNumbers) {
  ASSERT_TRUE(WriteFile(P("file"), "x"));
  ASSERT_EQ(::mkdir(P("dir").c_str(), 0755), 0);
  ASSERT_TRUE(WriteFile(P("dir/child"), "y"));
  struct stat st;
  EXPECT_ERRNO(ENOENT, ::open(P("missing").c_str(), O_RDONLY));
  EXPECT_ERRNO(ENOENT, ::stat(P("missing/deeper").c_str(), &st));
  EXPECT_ERRNO(ENOENT, ::unlink(P("missing").c_str()));
  EXPECT_ERRNO(ENOENT, ::rename(P("missing").c_str(), P("other").c_str()));
  EXPECT_ERRNO(ENOENT, ::open(P("missing/new").c_str(), O_WRONLY | O_CREAT, 0644));
  EXPECT_ERRNO(EEXIST, ::mkdir(P("dir").c_str(), 0755));
  EXPECT_ERRNO(EEXIST, ::mkdir(P("file").c_str(), 0755));
  EXPECT_ERRNO(EEXIST, ::open(P("file").c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644));
  EXPECT_ERRNO(ENOTDIR, ::open(P("file/x").c_str(), O_RDONLY));
  EXPECT_ERRNO(ENOTDIR, ::mkdir(P("file/x").c_str(), 0755));
  EXPECT_ERRNO(ENOTDIR, ::rmdir(P("file").c_str()));
  EXPECT_ERRNO(ENOTDIR, ::open(P("file").c_str(), O_RDONLY | O_DIRECTORY));
  EXPECT_ERRNO(EISDIR, ::open(P("dir").c_str(), O_WRONLY));
  EXPECT_ERRNO(EISDIR, ::unlink(P("dir").c_str()));
  EXPECT_ERRNO(EISDIR, ::rename(P("file").c_str(), P("dir").c_str()));
  EXPECT_ERRNO(ENOTDIR, ::rename(P("dir").c_str(), P("file").c_str()));
  EXPECT_ERRNO(ENOTEMPTY, ::rmdir(P("dir").c_str()));
  ASSERT_EQ(::mkdir(P("empty").c_str(), 0755), 0);
  EXPECT_ERRNO(ENOTEMPTY, ::rename(P("empty").c_str(), P("dir").c_str()));
  // A directory cannot move below itself.
  ASSERT_EQ(::mkdir(P("dir/sub").c_str(), 0755), 0);
  EXPECT_ERRNO(EINVAL, ::rename(P("dir").c_str(), P("dir/sub/under").c_str()));
  // Reading a directory as a file.
  int fd = ::open(P("dir").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  char c;
  EXPECT_ERRNO(EISDIR, ::read(fd, &c, 1));
  ::close(fd);
  // Nothing changed on the way.
  EXPECT_EQ(ReadFile(P("file")), "x");
  EXPECT_EQ(ReadFile(P("dir/child")), "y");
}

TEST_F(FusePosixTest, NameTooLong) {
  const std::string longest(255, 'n');
  const std::string too_long(256, 'n');
  ASSERT_TRUE(WriteFile(P(longest), "ok"));
  EXPECT_EQ(ReadFile(P(longest)), "ok");
  EXPECT_ERRNO(ENAMETOOLONG, ::open(P(too_long).c_str(), O_WRONLY | O_CREAT, 0644));
  EXPECT_ERRNO(ENAMETOOLONG, ::mkdir(P(too_long).c_str(), 0755));
  EXPECT_ERRNO(ENAMETOOLONG, ::rename(P(longest).c_str(), P(too_long).c_str()));
  EXPECT_ERRNO(ENAMETOOLONG, ::symlink("x", P(too_long).c_str()));
  struct stat st;
  EXPECT_ERRNO(ENAMETOOLONG, ::stat(P(too_long).c_str(), &st));
  EXPECT_TRUE(Exists(P(longest)));
}

TEST_F(FusePosixTest, RelativePathOfPathMaxMinusOneBytes) {
  // Directories of 254-byte names down to where a relative path from dir() to a file reaches
  // PATH_MAX - 1 bytes (the longest the kernel takes). Built a level at a time through
  // descriptors, the way no full path is ever needed.
  const size_t target = PATH_MAX - 1;
  std::vector<std::string> parts;
  size_t length = 0;
  while (length + 255 + 1 < target) {
    parts.push_back(std::string(254, static_cast<char>('a' + parts.size() % 26)));
    length += 255;  // name and slash
  }
  const std::string file_name(target - length, 'f');
  ASSERT_LE(file_name.size(), 255u);
  std::string rel;
  for (const auto& p : parts) rel += p + "/";
  rel += file_name;
  ASSERT_EQ(rel.size(), target);

  int top = ::open(dir().c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(top, 0);
  int at = ::dup(top);
  for (const auto& p : parts) {
    ASSERT_EQ(::mkdirat(at, p.c_str(), 0755), 0) << std::strerror(errno);
    int next = ::openat(at, p.c_str(), O_RDONLY | O_DIRECTORY);
    ASSERT_GE(next, 0) << std::strerror(errno);
    ::close(at);
    at = next;
  }
  int fd = ::openat(at, file_name.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  ASSERT_EQ(::write(fd, "deep", 4), 4);
  ASSERT_EQ(::close(fd), 0);
  ::close(at);

  // The whole relative path in one call.
  fd = ::openat(top, rel.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0) << "openat of " << rel.size() << " bytes: " << std::strerror(errno);
  EXPECT_EQ(ReadFd(fd), "deep");
  ::close(fd);
  struct stat st;
  EXPECT_EQ(::fstatat(top, rel.c_str(), &st, 0), 0) << std::strerror(errno);
  EXPECT_EQ(st.st_size, 4);
  // From a working directory that was reached by chdir step by step.
  char saved[PATH_MAX];
  ASSERT_NE(::getcwd(saved, sizeof(saved)), nullptr);
  ASSERT_EQ(::fchdir(top), 0);
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    ASSERT_EQ(::chdir(parts[i].c_str()), 0) << "level " << i << ": " << std::strerror(errno);
  }
  const std::string last = parts.back() + "/" + file_name;
  fd = ::open(last.c_str(), O_RDONLY);
  EXPECT_GE(fd, 0) << std::strerror(errno);
  if (fd >= 0) {
    EXPECT_EQ(ReadFd(fd), "deep");
    ::close(fd);
  }
  ASSERT_EQ(::chdir(saved), 0);
  // Removable with rm -r (which also walks it relatively).
  CommandResult rm = Sh("cd " + ShellQuote(dir()) + " && rm -r " + ShellQuote(parts[0]));
  EXPECT_EQ(rm.exit_code, 0) << Describe(rm);
  EXPECT_ERRNO(ENOENT, ::fstatat(top, parts[0].c_str(), &st, 0));
  ::close(top);
}

TEST_F(FusePosixTest, PermissionsForAnUnprivilegedUser) {
  Result<TestUser> user = EnsureTestUser();
  ASSERT_TRUE(user.ok()) << user.status();
  const std::string u = user->name;
  ASSERT_EQ(::mkdir(P("pub").c_str(), 0755), 0);
  ASSERT_TRUE(WriteFile(P("pub/readable"), "for everyone", 1 << 20, 0644));
  ASSERT_TRUE(WriteFile(P("secret"), "root only", 1 << 20, 0600));
  ASSERT_EQ(::chmod(P("secret").c_str(), 0600), 0);

  // Reading what is readable works; writing into root's 0755 directory does not.
  CommandResult r = ShAs(*user, "cat " + ShellQuote(P("pub/readable")));
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "for everyone");
  r = ShAs(*user, "echo x > " + ShellQuote(P("pub/new")));
  EXPECT_NE(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.err.find("Permission denied"), std::string::npos) << Describe(r);
  r = ShAs(*user, "mkdir " + ShellQuote(P("pub/d")));
  EXPECT_NE(r.err.find("Permission denied"), std::string::npos) << Describe(r);
  r = ShAs(*user, "rm -f " + ShellQuote(P("pub/readable")));
  EXPECT_NE(r.err.find("Permission denied"), std::string::npos) << Describe(r);
  r = ShAs(*user, "echo x >> " + ShellQuote(P("pub/readable")));
  EXPECT_NE(r.err.find("Permission denied"), std::string::npos) << Describe(r);
  r = ShAs(*user, "cat " + ShellQuote(P("secret")));
  EXPECT_NE(r.err.find("Permission denied"), std::string::npos) << Describe(r);
  r = ShAs(*user, "chmod 0666 " + ShellQuote(P("secret")));
  EXPECT_NE(r.err.find("Operation not permitted"), std::string::npos) << Describe(r);
  r = ShAs(*user, "chown " + u + " " + ShellQuote(P("pub/readable")));
  EXPECT_NE(r.err.find("Operation not permitted"), std::string::npos) << Describe(r);
  EXPECT_FALSE(Exists(P("pub/new")));
  EXPECT_FALSE(Exists(P("pub/d")));
  EXPECT_EQ(ReadFile(P("pub/readable")), "for everyone");
  struct stat st;
  ASSERT_EQ(::stat(P("secret").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);

  // In a directory of their own, everything works and belongs to them.
  ASSERT_EQ(::mkdir(P("home").c_str(), 0755), 0);
  ASSERT_EQ(::chown(P("home").c_str(), user->uid, user->gid), 0) << std::strerror(errno);
  const std::string home = ShellQuote(P("home"));
  r = ShAs(*user, "cd " + home + " && echo hello > f && cat f && mkdir sub && mv f sub/g && "
                  "echo more >> sub/g && chmod 0600 sub/g && cat sub/g && "
                  "stat -c '%U %a' sub/g && ln -s sub/g link && cat link && rm link && "
                  "truncate -s 3 sub/g && cat sub/g && echo");
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "hello\nhello\nmore\n" + u + " 600\nhello\nmore\nhel\n") << Describe(r);
  Result<FileInfo> behind = fs().GetFileInfo(T("home/sub/g"));
  ASSERT_TRUE(behind.ok()) << behind.status();
  EXPECT_EQ(behind->owner, u);
  EXPECT_EQ(behind->mode, 0600u);
  // Root sees the user's file as theirs, and may read it whatever its mode.
  ASSERT_EQ(::stat(P("home/sub/g").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, user->uid);
  EXPECT_EQ(ReadFile(P("home/sub/g")), "hel");
  // The user cannot give their file away.
  r = ShAs(*user, "chown root " + ShellQuote(P("home/sub/g")));
  EXPECT_NE(r.exit_code, 0) << Describe(r);
  r = ShAs(*user, "cd " + home + " && rm -r sub && ls -A");
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "");
}

// Leaves safe mode even when an assertion fails half way.
class SafeModeGuard {
 public:
  explicit SafeModeGuard(FileSystem& fs) : fs_(fs) {}
  ~SafeModeGuard() { (void)fs_.SetSafeMode(SafeModeAction::kLeave); }

 private:
  FileSystem& fs_;
};

TEST_F(FusePosixTest, ReadOnlyWhileTheNamenodeIsInSafeMode) {
  ASSERT_TRUE(WriteFile(P("f"), "before"));
  ASSERT_EQ(::mkdir(P("d").c_str(), 0755), 0);
  SafeModeGuard guard(fs());
  Result<SafeModeState> entered = fs().SetSafeMode(SafeModeAction::kEnter);
  ASSERT_TRUE(entered.ok()) << entered.status();
  ASSERT_TRUE(entered->on);
  EXPECT_ERRNO(EROFS, ::mkdir(P("new_dir").c_str(), 0755));
  EXPECT_ERRNO(EROFS, ::open(P("new_file").c_str(), O_WRONLY | O_CREAT, 0644));
  EXPECT_ERRNO(EROFS, ::unlink(P("f").c_str()));
  EXPECT_ERRNO(EROFS, ::rmdir(P("d").c_str()));
  EXPECT_ERRNO(EROFS, ::rename(P("f").c_str(), P("g").c_str()));
  EXPECT_ERRNO(EROFS, ::chmod(P("f").c_str(), 0600));
  EXPECT_ERRNO(EROFS, ::truncate(P("f").c_str(), 1));
  EXPECT_ERRNO(EROFS, ::symlink("f", P("link").c_str()));
  // Writing to an existing file fails by close at the latest, and changes nothing.
  int fd = ::open(P("f").c_str(), O_WRONLY);
  if (fd >= 0) {
    ssize_t w = ::write(fd, "during", 6);
    const int write_errno = errno;
    int s = ::fsync(fd);
    const int fsync_errno = errno;
    int c = ::close(fd);
    const int close_errno = errno;
    EXPECT_TRUE(w < 0 || s != 0 || c != 0) << "a write in safe mode reported success";
    std::cout << "write in safe mode: write " << w << " (" << std::strerror(write_errno)
              << "), fsync " << s << " (" << std::strerror(fsync_errno) << "), close " << c
              << " (" << std::strerror(close_errno) << ")\n";
  } else {
    EXPECT_EQ(errno, EROFS) << std::strerror(errno);
  }
  // Reads go on, and show what the file holds: not the write that failed.
  EXPECT_EQ(ReadFile(P("f")), "before");
  Result<std::string> behind = ReadWholeFile(fs(), T("f"));
  ASSERT_TRUE(behind.ok()) << behind.status();
  EXPECT_EQ(*behind, "before");
  CommandResult ls = Sh("ls " + ShellQuote(dir()));
  EXPECT_EQ(ls.out, "d\nf\n") << Describe(ls);

  Result<SafeModeState> left = fs().SetSafeMode(SafeModeAction::kLeave);
  ASSERT_TRUE(left.ok()) << left.status();
  ASSERT_FALSE(left->on);
  // The refused write does not land later either.
  behind = ReadWholeFile(fs(), T("f"));
  ASSERT_TRUE(behind.ok()) << behind.status();
  EXPECT_EQ(*behind, "before");
  EXPECT_EQ(::mkdir(P("new_dir").c_str(), 0755), 0) << std::strerror(errno);
  ASSERT_TRUE(WriteFile(P("f"), "after"));
  EXPECT_EQ(ReadFile(P("f")), "after");
}

TEST_F(FusePosixTest, StatfsAndDirectoryListing) {
  struct statvfs vfs;
  ASSERT_EQ(::statvfs(mnt().c_str(), &vfs), 0) << std::strerror(errno);
  EXPECT_GT(vfs.f_blocks, 0u);
  EXPECT_GT(vfs.f_bavail, 0u);
  EXPECT_GE(vfs.f_namemax, 255u);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(WriteFile(P("e" + std::to_string(i)), "z"));
  ASSERT_EQ(::mkdir(P("sub").c_str(), 0755), 0);
  std::set<std::string> names;
  DIR* d = ::opendir(dir().c_str());
  ASSERT_NE(d, nullptr);
  while (dirent* e = ::readdir(d)) names.insert(e->d_name);
  ::closedir(d);
  EXPECT_EQ(names.size(), 53u);  // ., .., 50 files, sub
  EXPECT_TRUE(names.count(".") && names.count("..") && names.count("sub") && names.count("e49"));
  CommandResult df = Sh("df -P " + ShellQuote(mnt()) + " | tail -1");
  EXPECT_EQ(df.exit_code, 0) << Describe(df);
  EXPECT_EQ(df.out.rfind(fc().cluster().uri(), 0), 0u) << "df names the file system: " << df.out;
  CommandResult mounts = Sh("grep -F " + ShellQuote(mnt()) + " /proc/mounts");
  EXPECT_NE(mounts.out.find("fuse.talus"), std::string::npos) << Describe(mounts);
}

}  // namespace
}  // namespace talus::test
