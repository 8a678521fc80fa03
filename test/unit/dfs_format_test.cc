// Output formatting of `talus dfs`: -h sizes, permissions, -stat formats, times, tables and how
// paths are displayed.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

#include "client/shell/format.h"
#include "client/shell/path_item.h"
#include "client/shell/stat_format.h"
#include "client/shell/table.h"

namespace talus::shell {
namespace {

TEST(DfsFormatTest, HumanSizeMatchesHdfs) {
  EXPECT_EQ(HumanSize(0), "0");
  EXPECT_EQ(HumanSize(1), "1");
  EXPECT_EQ(HumanSize(1023), "1023");
  EXPECT_EQ(HumanSize(1024), "1 K");
  EXPECT_EQ(HumanSize(1536), "1.5 K");
  EXPECT_EQ(HumanSize(1024 * 1024), "1 M");
  EXPECT_EQ(HumanSize(1024 * 1024 - 1), "1.0 M");  // 1023.999 K would print as 1024.0 K
  EXPECT_EQ(HumanSize(128LL << 20), "128 M");
  EXPECT_EQ(HumanSize((3LL << 30) + (1LL << 29)), "3.5 G");
  EXPECT_EQ(HumanSize(1LL << 40), "1 T");
  EXPECT_EQ(HumanSize(1LL << 50), "1 P");
  EXPECT_EQ(HumanSize(1LL << 60), "1 E");
  EXPECT_EQ(HumanSize(-2048), "-2 K");
  EXPECT_EQ(FormatSize(1536, false), "1536");
  EXPECT_EQ(FormatSize(1536, true), "1.5 K");
}

TEST(DfsFormatTest, PermissionString) {
  EXPECT_EQ(PermissionString(0755), "rwxr-xr-x");
  EXPECT_EQ(PermissionString(0644), "rw-r--r--");
  EXPECT_EQ(PermissionString(0), "---------");
  EXPECT_EQ(PermissionString(01777), "rwxrwxrwt");
  EXPECT_EQ(PermissionString(01776), "rwxrwxrwT");
  EXPECT_EQ(OctalMode(0755), "755");
  EXPECT_EQ(OctalMode(01777), "1777");
  EXPECT_EQ(OctalMode(0), "0");
  EXPECT_EQ(OctalMode(044), "44");
}

class ScopedTimeZone {
 public:
  explicit ScopedTimeZone(const char* tz) {
    const char* old = std::getenv("TZ");
    had_ = old != nullptr;
    if (had_) old_ = old;
    setenv("TZ", tz, 1);
    tzset();
  }
  ~ScopedTimeZone() {
    if (had_) {
      setenv("TZ", old_.c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }

 private:
  bool had_ = false;
  std::string old_;
};

TEST(DfsFormatTest, Times) {
  Timestamp t{1700000000, 123456789};  // 2023-11-14 22:13:20 UTC
  EXPECT_EQ(FormatUtcSecond(t), "2023-11-14 22:13:20");
  EXPECT_EQ(ToMillis(t), 1700000000123);
  {
    ScopedTimeZone utc("UTC");
    EXPECT_EQ(FormatLocalMinute(t), "2023-11-14 22:13");
  }
  {
    ScopedTimeZone tokyo("Asia/Tokyo");
    EXPECT_EQ(FormatLocalMinute(t), "2023-11-15 07:13");
    EXPECT_EQ(FormatUtcSecond(t), "2023-11-14 22:13:20");  // -stat is always UTC
  }
}

FileInfo SampleFile() {
  FileInfo info;
  info.type = FileType::kFile;
  info.length = 1234;
  info.replication = 3;
  info.block_size = 134217728;
  info.mode = 0640;
  info.owner = "alice";
  info.group = "staff";
  info.mtime = {1700000000, 500000000};
  info.atime = {1600000000, 0};
  return info;
}

TEST(DfsFormatTest, StatSpecifiers) {
  FileInfo file = SampleFile();
  EXPECT_EQ(FormatStat("%y", file, "f"), "2023-11-14 22:13:20");
  EXPECT_EQ(FormatStat("%Y", file, "f"), "1700000000500");
  EXPECT_EQ(FormatStat("%x|%X", file, "f"), "2020-09-13 12:26:40|1600000000000");
  EXPECT_EQ(FormatStat("%n %b %o %r %u:%g %a %A %F", file, "data.txt"),
            "data.txt 1234 134217728 3 alice:staff 640 rw-r----- regular file");
  FileInfo dir;
  dir.type = FileType::kDirectory;
  dir.mode = 01777;
  EXPECT_EQ(FormatStat("%F %a %A %r %o %b", dir, "tmp"), "directory 1777 rwxrwxrwt 0 0 0");
  EXPECT_EQ(FormatStat("%n", dir, ""), "");
}

TEST(DfsFormatTest, StatOddFormats) {
  FileInfo file = SampleFile();
  EXPECT_EQ(FormatStat("100%%", file, "f"), "100%");
  EXPECT_EQ(FormatStat("%q", file, "f"), "q");          // unknown: the letter itself, as HDFS
  EXPECT_EQ(FormatStat("size %", file, "f"), "size ");  // a trailing % is dropped
  EXPECT_EQ(FormatStat("no specifiers", file, "f"), "no specifiers");
  EXPECT_EQ(FormatStat("", file, "f"), "");
}

TEST(DfsFormatTest, TableLeftAlignedWithoutTrailingSpaces) {
  Table table(3);
  table.AddRow({"0", "0", "/a"});
  table.AddRow({"12345", "37035", "/bb"});
  EXPECT_EQ(table.Render(), "0      0      /a\n12345  37035  /bb\n");
}

TEST(DfsFormatTest, TableHeaderAndRightAlign) {
  Table table(std::vector<std::string>{"Filesystem", "Size", "Use%"});
  EXPECT_TRUE(table.empty());
  EXPECT_EQ(table.Render(), "");
  table.SetRightAlign(1);
  table.SetRightAlign(2);
  table.AddRow({"talus://h:1", "0", "0%"});
  EXPECT_FALSE(table.empty());
  EXPECT_EQ(table.Render(),
            "Filesystem   Size  Use%\n"
            "talus://h:1     0    0%\n");
}

TEST(DfsFormatTest, DisplayedPaths) {
  EXPECT_EQ(ChildDisplay("/a", "b"), "/a/b");
  EXPECT_EQ(ChildDisplay("/", "b"), "/b");
  EXPECT_EQ(ChildDisplay(".", "b"), "b");
  EXPECT_EQ(ChildDisplay("rel/dir", "b"), "rel/dir/b");
  EXPECT_EQ(ChildDisplay("talus://h:1/", "b"), "talus://h:1/b");

  EXPECT_EQ(CleanDisplay("/a//b/"), "/a/b");
  EXPECT_EQ(CleanDisplay("/"), "/");
  EXPECT_EQ(CleanDisplay("//"), "/");
  EXPECT_EQ(CleanDisplay("a/"), "a");
  EXPECT_EQ(CleanDisplay("."), ".");
  EXPECT_EQ(CleanDisplay("talus://h:1//x/"), "talus://h:1/x");
  EXPECT_EQ(CleanDisplay("talus://h:1/"), "talus://h:1/");

  PathItem item;
  item.path = "/user/me/x";
  item.display = "x";
  EXPECT_EQ(ParentDisplay(item), "/user/me");
  item.display = "d/x";
  EXPECT_EQ(ParentDisplay(item), "d");
  item.path = "/x";
  item.display = "/x";
  EXPECT_EQ(ParentDisplay(item), "/");
  item.display = "talus://h:1/x";
  EXPECT_EQ(ParentDisplay(item), "talus://h:1/");
}

}  // namespace
}  // namespace talus::shell
