// Glob patterns and URI splitting of `talus dfs` arguments.
#include <gtest/gtest.h>

#include "client/shell/glob.h"
#include "client/shell/shell_context.h"

namespace talus::shell {
namespace {

bool Match(const char* pattern, const char* name) {
  Result<GlobPattern> glob = GlobPattern::Compile(pattern);
  EXPECT_TRUE(glob.ok()) << pattern << ": " << glob.status().ToString();
  return glob.ok() && glob->Matches(name);
}

TEST(DfsGlobTest, HasGlob) {
  EXPECT_FALSE(HasGlob("/a/b"));
  EXPECT_FALSE(HasGlob("/a\\*b"));
  EXPECT_FALSE(HasGlob("a,b}"));
  EXPECT_TRUE(HasGlob("/a/*"));
  EXPECT_TRUE(HasGlob("f?le"));
  EXPECT_TRUE(HasGlob("[ab]"));
  EXPECT_TRUE(HasGlob("{a,b}"));
}

TEST(DfsGlobTest, StarAndQuestionMark) {
  EXPECT_TRUE(Match("*", "anything"));
  EXPECT_TRUE(Match("*", ".hidden"));  // HDFS's * matches dot files too
  EXPECT_TRUE(Match("*", ""));
  EXPECT_TRUE(Match("a*", "a"));
  EXPECT_TRUE(Match("a*c", "abbbc"));
  EXPECT_FALSE(Match("a*c", "abbbd"));
  EXPECT_TRUE(Match("*.txt", "notes.txt"));
  EXPECT_FALSE(Match("*.txt", "notes.txt.bak"));
  EXPECT_TRUE(Match("a*b*c", "aXbYbZc"));
  EXPECT_TRUE(Match("f?le", "file"));
  EXPECT_FALSE(Match("f?le", "fle"));
  EXPECT_TRUE(Match("**", "x"));
  EXPECT_FALSE(Match("abc", "abcd"));
  EXPECT_TRUE(Match("abc", "abc"));
}

TEST(DfsGlobTest, CharacterClasses) {
  EXPECT_TRUE(Match("[abc]", "b"));
  EXPECT_FALSE(Match("[abc]", "d"));
  EXPECT_TRUE(Match("file[0-9]", "file7"));
  EXPECT_FALSE(Match("file[0-9]", "filex"));
  EXPECT_TRUE(Match("[!a-c]x", "dx"));
  EXPECT_FALSE(Match("[!a-c]x", "bx"));
  EXPECT_TRUE(Match("[^a]", "b"));
  EXPECT_TRUE(Match("[]]", "]"));
  EXPECT_TRUE(Match("[a-]", "-"));
  EXPECT_TRUE(Match("[\\]]", "]"));
}

TEST(DfsGlobTest, EscapesAndErrors) {
  EXPECT_TRUE(Match("a\\*", "a*"));
  EXPECT_FALSE(Match("a\\*", "ab"));
  EXPECT_TRUE(Match("\\[x\\]", "[x]"));
  EXPECT_FALSE(GlobPattern::Compile("[abc").ok());
  EXPECT_FALSE(GlobPattern::Compile("[z-a]").ok());
  EXPECT_FALSE(GlobPattern::Compile("x\\").ok());
  EXPECT_EQ(Unescape("a\\*b\\\\c"), "a*b\\c");
  EXPECT_EQ(Unescape("plain"), "plain");
}

TEST(DfsGlobTest, NoExponentialBacktracking) {
  std::string pattern;
  for (int i = 0; i < 30; ++i) pattern += "a*";
  pattern += "b";
  std::string name(200, 'a');
  EXPECT_FALSE(Match(pattern.c_str(), name.c_str()));  // returns promptly
}

TEST(DfsGlobTest, BraceExpansion) {
  auto expand = [](const char* p) {
    Result<std::vector<std::string>> r = ExpandBraces(p);
    EXPECT_TRUE(r.ok()) << p << ": " << r.status().ToString();
    return r.ok() ? *r : std::vector<std::string>{};
  };
  EXPECT_EQ(expand("/x"), (std::vector<std::string>{"/x"}));
  EXPECT_EQ(expand("/x/{a,b}"), (std::vector<std::string>{"/x/a", "/x/b"}));
  EXPECT_EQ(expand("/x/{a,b{1,2}}"), (std::vector<std::string>{"/x/a", "/x/b1", "/x/b2"}));
  EXPECT_EQ(expand("/{a/b,c}/d"), (std::vector<std::string>{"/a/b/d", "/c/d"}));
  EXPECT_EQ(expand("{a,b}{1,2}"), (std::vector<std::string>{"a1", "a2", "b1", "b2"}));
  EXPECT_EQ(expand("f{,.txt}"), (std::vector<std::string>{"f", "f.txt"}));
  EXPECT_EQ(expand("a\\{b,c}"), (std::vector<std::string>{"a\\{b,c}"}));
  EXPECT_FALSE(ExpandBraces("/x/{a,b").ok());
  EXPECT_FALSE(ExpandBraces("{a,b}{c,d}{e,f}", /*limit=*/4).ok());
}

TEST(DfsGlobTest, SplitUri) {
  std::string scheme, authority, path;
  ASSERT_TRUE(SplitUri("talus://h:1,h:2/a/b", &scheme, &authority, &path));
  EXPECT_EQ(scheme, "talus");
  EXPECT_EQ(authority, "h:1,h:2");
  EXPECT_EQ(path, "/a/b");
  ASSERT_TRUE(SplitUri("talus://h:1", &scheme, &authority, &path));
  EXPECT_EQ(path, "/");
  ASSERT_TRUE(SplitUri("talus:///a", &scheme, &authority, &path));
  EXPECT_EQ(authority, "");
  EXPECT_EQ(path, "/a");
  ASSERT_TRUE(SplitUri("hdfs://nn:8020/x", &scheme, &authority, &path));
  EXPECT_EQ(scheme, "hdfs");
  EXPECT_FALSE(SplitUri("/a/b", &scheme, &authority, &path));
  EXPECT_FALSE(SplitUri("a:b", &scheme, &authority, &path));
  EXPECT_FALSE(SplitUri("dir/x:/y", &scheme, &authority, &path));
  EXPECT_FALSE(SplitUri("1a://x", &scheme, &authority, &path));
}

}  // namespace
}  // namespace talus::shell
