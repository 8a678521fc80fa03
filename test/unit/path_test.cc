#include "common/path.h"

#include <gtest/gtest.h>

namespace talus {
namespace {

TEST(PathTest, ValidPaths) {
  EXPECT_TRUE(ValidatePath("/").ok());
  EXPECT_TRUE(ValidatePath("/a").ok());
  EXPECT_TRUE(ValidatePath("/a/b.c/..d/...").ok());
  EXPECT_TRUE(ValidatePath("/" + std::string(255, 'x')).ok());
}

TEST(PathTest, InvalidPaths) {
  EXPECT_EQ(ValidatePath("").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ValidatePath("a/b").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ValidatePath("/a/./b").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ValidatePath("/a/..").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ValidatePath("/a//b").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ValidatePath("/a/").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ValidatePath(std::string("/a\0b", 4)).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ValidatePath("/" + std::string(256, 'x')).code(), ErrorCode::kNameTooLong);
  std::string long_path;
  while (long_path.size() <= kMaxPathBytes) long_path += "/abcdefgh";
  EXPECT_EQ(ValidatePath(long_path).code(), ErrorCode::kNameTooLong);
}

TEST(PathTest, SplitAndJoin) {
  auto parts = SplitPath("/a/bb/c");
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[1], "bb");
  EXPECT_TRUE(SplitPath("/").empty());
  EXPECT_EQ(ParentPath("/a/b"), "/a");
  EXPECT_EQ(ParentPath("/a"), "/");
  EXPECT_EQ(BaseName("/a/b"), "b");
  EXPECT_EQ(JoinPath("/", "a"), "/a");
  EXPECT_EQ(JoinPath("/a", "b"), "/a/b");
}

TEST(PathTest, SubtreeTest) {
  EXPECT_TRUE(IsSameOrUnder("/a/b", "/a"));
  EXPECT_TRUE(IsSameOrUnder("/a", "/a"));
  EXPECT_TRUE(IsSameOrUnder("/a", "/"));
  EXPECT_FALSE(IsSameOrUnder("/ab", "/a"));
  EXPECT_FALSE(IsSameOrUnder("/a", "/a/b"));
}

TEST(PathTest, NormalizeUserPath) {
  EXPECT_EQ(*NormalizeUserPath("x/y", "/user/u"), "/user/u/x/y");
  EXPECT_EQ(*NormalizeUserPath(".", "/user/u"), "/user/u");
  EXPECT_EQ(*NormalizeUserPath("//a///b/", "/user/u"), "/a/b");
  EXPECT_EQ(*NormalizeUserPath("/", "/user/u"), "/");
  EXPECT_EQ(NormalizeUserPath("/a/../b", "/").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(NormalizeUserPath("", "/").status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace talus
