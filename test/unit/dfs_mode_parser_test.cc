// The -chmod mode parser, fs.permissions.umask-mode and the -chown/-chgrp name parser.
#include <gtest/gtest.h>

#include "client/shell/mode_parser.h"
#include "client/shell/owner_parser.h"

namespace talus::shell {
namespace {

uint32_t ApplyTo(const std::string& text, uint32_t mode, bool dir = false) {
  Result<ModeSpec> spec = ModeSpec::Parse(text);
  EXPECT_TRUE(spec.ok()) << text << ": " << spec.status().ToString();
  if (!spec.ok()) return 0xFFFFFFFF;
  return spec->Apply(mode, dir);
}

TEST(DfsModeParserTest, OctalReplacesTheWholeMode) {
  EXPECT_EQ(ApplyTo("755", 0000), 0755u);
  EXPECT_EQ(ApplyTo("644", 0777), 0644u);
  EXPECT_EQ(ApplyTo("0644", 01777), 0644u);
  EXPECT_EQ(ApplyTo("1777", 0755), 01777u);
  EXPECT_EQ(ApplyTo("000", 0777), 0u);
  EXPECT_EQ(ApplyTo(" 750 ", 0), 0750u);
  EXPECT_EQ(ApplyTo("+640", 0), 0640u);
}

TEST(DfsModeParserTest, OctalRejectsWhatHdfsRejects) {
  for (const char* bad : {"75", "77777", "2755", "4755", "789", "7a5", "-755", "0x1ff"}) {
    EXPECT_FALSE(ModeSpec::Parse(bad).ok()) << bad;
  }
}

TEST(DfsModeParserTest, SymbolicAddRemoveSet) {
  EXPECT_EQ(ApplyTo("u+x", 0644), 0744u);
  EXPECT_EQ(ApplyTo("go-w", 0666), 0644u);
  EXPECT_EQ(ApplyTo("a=r", 0777), 0444u);
  EXPECT_EQ(ApplyTo("o=", 0777), 0770u);
  EXPECT_EQ(ApplyTo("+rwx", 0), 0777u);  // no class means all, without a umask
  EXPECT_EQ(ApplyTo("-w", 0666), 0444u);
  EXPECT_EQ(ApplyTo("ug=rw", 0755), 0665u);
  EXPECT_EQ(ApplyTo("uo+r", 0), 0404u);
}

TEST(DfsModeParserTest, ClausesApplyLeftToRight) {
  EXPECT_EQ(ApplyTo("a=r,u+w", 0), 0644u);
  EXPECT_EQ(ApplyTo("u+r,u+w", 0), 0600u);   // both clauses count, unlike HDFS's last-one-wins
  EXPECT_EQ(ApplyTo("u+r-w", 0600), 0400u);  // several actions in one clause
  EXPECT_EQ(ApplyTo("u=rwx, g=rx ,o=", 0), 0750u);
}

TEST(DfsModeParserTest, ConditionalExecute) {
  EXPECT_EQ(ApplyTo("a+X", 0644, /*dir=*/true), 0755u);
  EXPECT_EQ(ApplyTo("a+X", 0644, /*dir=*/false), 0644u);
  EXPECT_EQ(ApplyTo("a+X", 0744, /*dir=*/false), 0755u);  // someone may already execute it
  EXPECT_EQ(ApplyTo("go=X", 0700, /*dir=*/false), 0711u);
}

TEST(DfsModeParserTest, StickyBitBelongsToOthers) {
  EXPECT_EQ(ApplyTo("+t", 0777), 01777u);
  EXPECT_EQ(ApplyTo("o+t", 0755), 01755u);
  EXPECT_EQ(ApplyTo("u+t", 0755), 0755u);  // not the others class: no sticky bit
  EXPECT_EQ(ApplyTo("-t", 01777), 0777u);
  EXPECT_EQ(ApplyTo("o=rx", 01777), 0775u);  // = on others clears what is not listed
  EXPECT_EQ(ApplyTo("a=rwxt", 0), 01777u);
  EXPECT_EQ(ApplyTo("u=rwx", 01755), 01755u);  // = on the user class keeps the sticky bit
}

TEST(DfsModeParserTest, RejectsMalformedSymbolicModes) {
  for (const char* bad : {"", " ", "u", "ug", "u+q", "x+r", "u+r,", ",u+r", "u+r,,g+w", "u+", "a-",
                          "+", "rwx", "u+r g+w", "u*r"}) {
    Result<ModeSpec> spec = ModeSpec::Parse(bad);
    EXPECT_FALSE(spec.ok()) << "'" << bad << "'";
    if (!spec.ok()) {
      EXPECT_EQ(spec.status().code(), ErrorCode::kInvalidArgument);
    }
  }
}

TEST(DfsModeParserTest, ErrorsSayWhatIsWrong) {
  Result<ModeSpec> spec = ModeSpec::Parse("u+q");
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.status().message().find("'q'"), std::string::npos) << spec.status().message();
}

TEST(DfsModeParserTest, Umask) {
  EXPECT_EQ(*ParseUmask("022"), 022u);
  EXPECT_EQ(*ParseUmask("0027"), 027u);
  EXPECT_EQ(*ParseUmask("000"), 0u);
  EXPECT_EQ(*ParseUmask("u=rwx,g=rx,o="), 027u);
  EXPECT_EQ(*ParseUmask("u=rwx,g=rwx,o=rwx"), 0u);
  EXPECT_EQ(*ParseUmask("go-w"), 022u);
  for (const char* bad : {"", "8", "22", "0228", "abc", "u+q", "1777"}) {
    EXPECT_FALSE(ParseUmask(bad).ok()) << bad;
  }
}

TEST(DfsOwnerParserTest, OwnerAndGroup) {
  Result<OwnerGroup> both = ParseOwnerGroup("alice:staff");
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->owner, "alice");
  EXPECT_EQ(both->group, "staff");

  Result<OwnerGroup> owner_only = ParseOwnerGroup("bob");
  ASSERT_TRUE(owner_only.ok());
  EXPECT_EQ(owner_only->owner, "bob");
  EXPECT_EQ(owner_only->group, "");

  Result<OwnerGroup> owner_colon = ParseOwnerGroup("bob:");
  ASSERT_TRUE(owner_colon.ok());
  EXPECT_EQ(owner_colon->owner, "bob");
  EXPECT_EQ(owner_colon->group, "");

  Result<OwnerGroup> group_only = ParseOwnerGroup(":hadoop");
  ASSERT_TRUE(group_only.ok());
  EXPECT_EQ(group_only->owner, "");
  EXPECT_EQ(group_only->group, "hadoop");

  Result<OwnerGroup> odd_chars = ParseOwnerGroup("svc-1.x_y@EXAMPLE.COM:g/1");
  ASSERT_TRUE(odd_chars.ok());
  EXPECT_EQ(odd_chars->owner, "svc-1.x_y@EXAMPLE.COM");
  EXPECT_EQ(odd_chars->group, "g/1");
}

TEST(DfsOwnerParserTest, RejectsWithHdfsWording) {
  Result<OwnerGroup> empty = ParseOwnerGroup(":");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().message(), "':' does not specify owner or group.");

  Result<OwnerGroup> bad = ParseOwnerGroup("al ice");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "'al ice' does not match expected pattern for [owner][:group].");
  EXPECT_FALSE(ParseOwnerGroup("a:b:c").ok());
  EXPECT_FALSE(ParseOwnerGroup("a!").ok());

  EXPECT_EQ(*ParseGroup("staff"), "staff");
  Result<std::string> bad_group = ParseGroup("a:b");
  ASSERT_FALSE(bad_group.ok());
  EXPECT_EQ(bad_group.status().message(), "'a:b' does not match expected pattern for group");
  EXPECT_FALSE(ParseGroup("").ok());
}

}  // namespace
}  // namespace talus::shell
