#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "datanode/storage/replica_map.h"
#include "datanode/storage/volume.h"
#include "datanode/storage/volume_chooser.h"

namespace talus::datanode {
namespace {

namespace fs = std::filesystem;

class DatanodeVolumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/talus_vol_test_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { fs::remove_all(root_); }

  std::unique_ptr<Volume> OpenVolume(const std::string& name, uint64_t reserved = 0) {
    auto v = Volume::Open(root_ + "/" + name, reserved);
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? std::move(v).value() : nullptr;
  }

  std::string root_;
};

TEST_F(DatanodeVolumeTest, LayoutAndStableStorageId) {
  auto v = OpenVolume("a/");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->root(), root_ + "/a");
  EXPECT_TRUE(fs::is_directory(root_ + "/a/current/rbw"));
  EXPECT_TRUE(fs::is_directory(root_ + "/a/current/finalized"));
  EXPECT_TRUE(fs::is_regular_file(root_ + "/a/current/VERSION"));
  std::string id = v->storage_id();
  v.reset();
  EXPECT_EQ(OpenVolume("a")->storage_id(), id);
  EXPECT_NE(OpenVolume("b")->storage_id(), id);
  EXPECT_EQ(OpenVolume("a")->FinalizedDirFor(0x12345678),
            root_ + "/a/current/finalized/subdir20/subdir22");
}

TEST_F(DatanodeVolumeTest, CorruptVersionFileIsAnError) {
  ASSERT_NE(OpenVolume("a"), nullptr);
  std::FILE* f = std::fopen((root_ + "/a/current/VERSION").c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("storage_id=DS-x\nlayout_version=99\n", f);
  std::fclose(f);
  EXPECT_EQ(Volume::Open(root_ + "/a", 0).status().code(), ErrorCode::kCorruption);
}

TEST_F(DatanodeVolumeTest, UsageHonoursReservedBytes) {
  auto v = OpenVolume("a");
  auto plain = v->Usage();
  ASSERT_TRUE(plain.ok());
  EXPECT_GT(plain->capacity_bytes, 0u);
  EXPECT_LE(plain->remaining_bytes, plain->capacity_bytes);
  auto r = OpenVolume("b", uint64_t{1} << 20);
  auto reserved = r->Usage();
  ASSERT_TRUE(reserved.ok());
  EXPECT_EQ(reserved->capacity_bytes + (uint64_t{1} << 20), plain->capacity_bytes);
  v->AddUsedBytes(1000);
  EXPECT_EQ(v->Usage()->used_bytes, 1000u);
}

TEST_F(DatanodeVolumeTest, IoErrorsFailTheVolumeOthersDoNot) {
  auto v = OpenVolume("a");
  EXPECT_FALSE(v->CheckIo(Status::NotFound("gone")).ok());
  EXPECT_FALSE(v->CheckIo(Status::NoSpace("full")).ok());
  EXPECT_FALSE(v->failed());
  EXPECT_EQ(v->CheckIo(Status::IoError("EIO")).code(), ErrorCode::kIoError);
  EXPECT_TRUE(v->failed());
  EXPECT_NE(v->failure_reason().find("EIO"), std::string::npos);
}

TEST_F(DatanodeVolumeTest, RoundRobinSkipsFullAndFailedVolumes) {
  auto a = OpenVolume("a"), b = OpenVolume("b"), c = OpenVolume("c", uint64_t{1} << 62);
  RoundRobinVolumeChooser chooser;
  std::vector<Volume*> all = {a.get(), b.get(), c.get()};
  std::vector<Volume*> got;
  for (int i = 0; i < 4; ++i) got.push_back(*chooser.Choose(all, 4096));
  EXPECT_EQ(got, (std::vector<Volume*>{a.get(), b.get(), a.get(), b.get()}));
  b->MarkFailed("test");
  EXPECT_EQ(*chooser.Choose(all, 4096), a.get());
  EXPECT_EQ(*chooser.Choose(all, 4096), a.get());
  EXPECT_EQ(chooser.Choose(all, uint64_t{1} << 62).status().code(), ErrorCode::kNoSpace);
  EXPECT_EQ(chooser.Choose({}, 1).status().code(), ErrorCode::kNoSpace);
}

TEST(DatanodeReplicaMapTest, InsertGetRemoveSnapshot) {
  ReplicaMap map;
  auto r1 = std::make_shared<Replica>(9);
  r1->info.genstamp = 3;
  auto r2 = std::make_shared<Replica>(4);
  EXPECT_TRUE(map.Insert(r1));
  EXPECT_TRUE(map.Insert(r2));
  EXPECT_FALSE(map.Insert(std::make_shared<Replica>(9)));
  EXPECT_EQ(map.Get(9), r1);
  EXPECT_EQ(map.Get(5), nullptr);
  auto snap = map.Snapshot();
  ASSERT_EQ(snap.size(), 2u);
  EXPECT_EQ(snap[0].block_id, 4u);
  EXPECT_EQ(snap[1].genstamp, 3u);
  Replica other(9);
  map.Remove(9, &other);  // not the mapped record: no effect
  EXPECT_EQ(map.size(), 2u);
  map.Remove(9, r1.get());
  EXPECT_EQ(map.size(), 1u);
  EXPECT_EQ(map.Get(9), nullptr);
}

}  // namespace
}  // namespace talus::datanode
