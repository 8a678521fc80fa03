#include "namenode/namespace/permission.h"

#include <gtest/gtest.h>

#include "namenode/security/user_groups.h"

namespace talus {
namespace {

Inode MakeInode(const std::string& owner, const std::string& group, uint32_t mode,
                InodeType type = InodeType::kFile) {
  Inode inode;
  inode.owner = owner;
  inode.group = group;
  inode.mode = mode;
  inode.type = type;
  return inode;
}

TEST(PermissionTest, OwnerGroupOtherClasses) {
  Inode file = MakeInode("alice", "staff", 0640);
  Caller alice{"alice", {}, false};
  Caller staff{"bob", {"staff"}, false};
  Caller other{"eve", {"users"}, false};
  EXPECT_TRUE(CheckAccess(alice, file, kAccessRead | kAccessWrite, "/f").ok());
  EXPECT_TRUE(CheckAccess(staff, file, kAccessRead, "/f").ok());
  EXPECT_EQ(CheckAccess(staff, file, kAccessWrite, "/f").code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(CheckAccess(other, file, kAccessRead, "/f").code(), ErrorCode::kPermissionDenied);
  // The owner class applies to the owner even when the group would grant more.
  Inode odd = MakeInode("alice", "staff", 0070);
  Caller alice_in_staff{"alice", {"staff"}, false};
  EXPECT_EQ(CheckAccess(alice_in_staff, odd, kAccessRead, "/o").code(),
            ErrorCode::kPermissionDenied);
}

TEST(PermissionTest, SuperuserPassesEverything) {
  Inode locked = MakeInode("alice", "staff", 0000);
  Caller root{"root", {}, true};
  EXPECT_TRUE(CheckAccess(root, locked, kAccessRead | kAccessWrite | kAccessExecute, "/").ok());
  EXPECT_TRUE(CheckOwner(root, locked, "/").ok());
}

TEST(PermissionTest, DeniedMessageLooksLikeHdfs) {
  Inode dir = MakeInode("root", "supergroup", 0755, InodeType::kDirectory);
  Status s = CheckAccess(Caller{"alice", {}, false}, dir, kAccessWrite, "/data");
  EXPECT_EQ(s.message(),
            "Permission denied: user=alice, access=WRITE, "
            "inode=\"/data\":root:supergroup:drwxr-xr-x");
}

TEST(PermissionTest, ModeStrings) {
  EXPECT_EQ(ModeString(InodeType::kDirectory, 01777), "drwxrwxrwt");
  EXPECT_EQ(ModeString(InodeType::kFile, 0644), "-rw-r--r--");
  EXPECT_EQ(ModeString(InodeType::kFile, 04754), "-rwsr-xr--");
  EXPECT_EQ(ModeString(InodeType::kDirectory, 01700), "drwx-----T");
}

TEST(PermissionTest, StickyBit) {
  Inode tmp = MakeInode("root", "supergroup", 01777, InodeType::kDirectory);
  Inode theirs = MakeInode("alice", "users", 0644);
  EXPECT_EQ(CheckStickyBit(Caller{"bob", {}, false}, tmp, theirs, "/tmp/x").code(),
            ErrorCode::kPermissionDenied);
  EXPECT_TRUE(CheckStickyBit(Caller{"alice", {}, false}, tmp, theirs, "/tmp/x").ok());
  Inode plain = MakeInode("root", "supergroup", 0777, InodeType::kDirectory);
  EXPECT_TRUE(CheckStickyBit(Caller{"bob", {}, false}, plain, theirs, "/p/x").ok());
}

TEST(UserGroupsTest, StaticMappingAndSupergroup) {
  auto parsed = ParseStaticGroups("alice=staff,admins;bob=");
  ASSERT_TRUE(parsed.ok());
  UserGroupsOptions options;
  options.superuser = "hdfs";
  options.supergroup = "admins";
  options.static_groups = *parsed;
  UserGroups groups(options);
  Caller alice = groups.Resolve("alice");
  EXPECT_EQ(alice.groups, (std::vector<std::string>{"staff", "admins"}));
  EXPECT_TRUE(alice.superuser);  // member of the supergroup
  EXPECT_FALSE(groups.Resolve("bob").superuser);
  EXPECT_TRUE(groups.Resolve("hdfs").superuser);
  EXPECT_FALSE(ParseStaticGroups("=x").ok());
  EXPECT_FALSE(ParseStaticGroups("nogroups").ok());
}

TEST(UserGroupsTest, UserNamesAreValidated) {
  EXPECT_TRUE(ValidateUserName("alice").ok());
  EXPECT_FALSE(ValidateUserName("").ok());
  EXPECT_FALSE(ValidateUserName("a:b").ok());
  EXPECT_FALSE(ValidateUserName(std::string("a\0b", 3)).ok());
  EXPECT_FALSE(ValidateUserName(std::string(300, 'u')).ok());
}

}  // namespace
}  // namespace talus
