// The datanode-wide identity kept in every volume.
#include "datanode/server/datanode_id.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "test/support/mini_cluster.h"

namespace talus::datanode {
namespace {

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(DatanodeIdTest, MadeOnceKeptAndCopiedToNewVolumes) {
  test::TempDir dir;
  const std::string a = dir.path() + "/a", b = dir.path() + "/b", c = dir.path() + "/c";
  for (const auto& d : {a, b, c}) std::filesystem::create_directories(d);

  auto first = LoadOrCreateDatanodeId({a, b});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->rfind("DN-", 0), 0u);
  EXPECT_EQ(Read(a + "/datanode_id"), *first + "\n");
  EXPECT_EQ(Read(b + "/datanode_id"), *first + "\n");

  // A restart, with one volume lost and a new one added: same id, written to the new one.
  auto again = LoadOrCreateDatanodeId({b, c});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, *first);
  EXPECT_EQ(Read(c + "/datanode_id"), *first + "\n");
}

TEST(DatanodeIdTest, RefusesVolumesOfDifferentDatanodesAndGarbage) {
  test::TempDir dir;
  const std::string a = dir.path() + "/a", b = dir.path() + "/b";
  std::filesystem::create_directories(a);
  std::filesystem::create_directories(b);
  std::ofstream(a + "/datanode_id") << "DS-one\n";
  std::ofstream(b + "/datanode_id") << "DS-two\n";
  auto mixed = LoadOrCreateDatanodeId({a, b});
  EXPECT_EQ(mixed.status().code(), ErrorCode::kCorruption);
  EXPECT_NE(mixed.status().message().find("different datanodes"), std::string::npos);

  std::ofstream(b + "/datanode_id") << "not an id!\n";
  EXPECT_EQ(LoadOrCreateDatanodeId({b}).status().code(), ErrorCode::kCorruption);
  EXPECT_FALSE(LoadOrCreateDatanodeId({}).ok());
}

}  // namespace
}  // namespace talus::datanode
