#include "datanode/storage/dataset.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <string>

#include "datanode/storage/block_meta.h"

namespace talus::datanode {
namespace {

namespace fs = std::filesystem;

std::string Bytes(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 1103515245 + 12345;
    s[i] = static_cast<char>(seed >> 16);
  }
  return s;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Spit(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

class DatanodeDataSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/talus_dn_test_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override {
    ds_.reset();
    fs::remove_all(root_);
  }

  DataSetOptions Options(int volumes) {
    DataSetOptions o;
    for (int i = 0; i < volumes; ++i) o.volume_dirs.push_back(root_ + "/vol" + std::to_string(i));
    return o;
  }
  void Open(int volumes = 1) { OpenWith(Options(volumes)); }
  void OpenWith(const DataSetOptions& o) {
    ds_.reset();
    report_ = ScanReport();
    auto r = DataSet::Open(o, &report_);
    ASSERT_TRUE(r.ok()) << r.status();
    ds_ = std::move(r).value();
  }

  // Writes `data` from replica offset `start` in packets of `packet` bytes, as a sender would.
  void Write(uint64_t id, uint64_t gs, const std::string& data, size_t packet,
             uint64_t start = 0) {
    for (size_t pos = 0; pos < data.size(); pos += packet) {
      std::string piece = data.substr(pos, packet);
      Status s = ds_->Append(id, gs, start + pos, piece, ComputeChecksums(piece, start + pos));
      ASSERT_TRUE(s.ok()) << s;
    }
  }
  std::string ReadAll(uint64_t id, uint64_t gs, uint64_t length) {
    auto r = ds_->Read(id, gs, 0, length);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return "";
    EXPECT_EQ(r->aligned_offset, 0u);
    EXPECT_EQ(r->skip, 0u);
    EXPECT_EQ(r->checksums, ComputeChecksums(r->data, 0));
    return r->data;
  }

  std::string root_;
  ScanReport report_;
  std::unique_ptr<DataSet> ds_;
};

TEST_F(DatanodeDataSetTest, RoundTripOfManySizes) {
  Open();
  uint64_t id = 1;
  for (size_t size : {0, 1, 511, 512, 513, 65537}) {
    SCOPED_TRACE(size);
    std::string data = Bytes(size, static_cast<uint32_t>(size));
    auto created = ds_->CreateRbw(id, 1000, size);
    ASSERT_TRUE(created.ok()) << created.status();
    EXPECT_EQ(created->state, ReplicaState::kRbw);
    Write(id, 1000, data, 4096);
    ASSERT_TRUE(ds_->Sync(id, 1000).ok());
    auto fin = ds_->Finalize(id, 1000);
    ASSERT_TRUE(fin.ok()) << fin.status();
    EXPECT_EQ(fin->state, ReplicaState::kFinalized);
    EXPECT_EQ(fin->bytes_on_disk, size);
    EXPECT_NE(fin->data_path.find("/current/finalized/subdir0/subdir0/blk_" + std::to_string(id)),
              std::string::npos);
    EXPECT_EQ(fs::file_size(fin->data_path), size);
    EXPECT_EQ(fs::file_size(fin->meta_path), MetaFileLength(size));
    EXPECT_FALSE(fs::exists(created->data_path));
    EXPECT_EQ(ReadAll(id, 1000, size), data);
    if (size > 700) {
      auto part = ds_->Read(id, 1000, 700, size - 701);
      ASSERT_TRUE(part.ok()) << part.status();
      EXPECT_EQ(part->aligned_offset, 512u);
      EXPECT_EQ(part->skip, 188u);
      EXPECT_EQ(part->data.substr(part->skip, size - 701), data.substr(700, size - 701));
      EXPECT_EQ(part->checksums, ComputeChecksums(part->data, 512));
    }
    ++id;
  }
}

TEST_F(DatanodeDataSetTest, FinalizedSubdirectoriesComeFromTheBlockId) {
  Open();
  uint64_t id = (uint64_t{7} << 16) | (uint64_t{3} << 8) | 1;
  ASSERT_TRUE(ds_->CreateRbw(id, 1, 0).ok());
  auto fin = ds_->Finalize(id, 1);
  ASSERT_TRUE(fin.ok()) << fin.status();
  EXPECT_EQ(fin->data_path, root_ + "/vol0/current/finalized/subdir7/subdir3/blk_" +
                                std::to_string(id));
  EXPECT_EQ(fin->meta_path, DirName(fin->data_path) + "/blk_" + std::to_string(id) + "_1.meta");
}

TEST_F(DatanodeDataSetTest, PartialChunkAppendsRecomputeTheLastChecksum) {
  Open();
  ASSERT_TRUE(ds_->CreateRbw(5, 1, 0).ok());
  std::string all = Bytes(5000, 5);
  uint64_t pos = 0;
  // Odd packet sizes so most appends start inside a chunk.
  for (size_t n : {100, 300, 200, 1, 511, 1024, 13, 2851}) {
    std::string piece = all.substr(pos, n);
    ASSERT_TRUE(ds_->Append(5, 1, pos, piece, ComputeChecksums(piece, pos)).ok()) << pos;
    pos += n;
    // Every flush point is readable with correct checksums.
    EXPECT_EQ(ReadAll(5, 1, pos), all.substr(0, pos));
  }
  ASSERT_EQ(pos, all.size());
  auto info = ds_->GetReplica(5);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->bytes_on_disk, 5000u);
  // The stored meta file is exactly what checksumming the whole data in one go gives.
  EXPECT_EQ(Slurp(info->meta_path), EncodeMetaHeader() + ComputeChecksums(all, 0));
}

TEST_F(DatanodeDataSetTest, ResendFromTheStartOfThePartialChunkOverwrites) {
  Open();
  ASSERT_TRUE(ds_->CreateRbw(6, 1, 0).ok());
  std::string all = Bytes(3000, 6);
  Write(6, 1, all.substr(0, 1100), 1100);  // 1100 = 2 chunks + 76 bytes
  // After an hflush a sender resends the partial chunk from its start together with more.
  std::string resend = all.substr(1024, 1000);
  ASSERT_TRUE(ds_->Append(6, 1, 1024, resend, ComputeChecksums(resend, 1024)).ok());
  // A packet wholly on disk already is accepted and ignored.
  std::string dup = all.substr(1024, 500);
  ASSERT_TRUE(ds_->Append(6, 1, 1024, dup, ComputeChecksums(dup, 1024)).ok());
  EXPECT_EQ(ds_->GetReplica(6)->bytes_on_disk, 2024u);
  // Writes before the last partial chunk or past the end are refused.
  std::string early = all.substr(0, 2100);  // rewrites whole chunks already on disk
  EXPECT_EQ(ds_->Append(6, 1, 0, early, ComputeChecksums(early, 0)).code(),
            ErrorCode::kInvalidArgument);
  std::string gap = all.substr(0, 10);
  EXPECT_EQ(ds_->Append(6, 1, 2100, gap, ComputeChecksums(gap, 2100)).code(),
            ErrorCode::kInvalidArgument);
  Write(6, 1, all.substr(2024), 700, 2024);
  ASSERT_TRUE(ds_->Finalize(6, 1).ok());
  EXPECT_EQ(ReadAll(6, 1, 3000), all);
}

TEST_F(DatanodeDataSetTest, WrongChecksumFromTheSenderIsRejectedAndNothingWritten) {
  Open();
  ASSERT_TRUE(ds_->CreateRbw(8, 1, 0).ok());
  std::string data = Bytes(1500, 8);
  std::string sums = ComputeChecksums(data, 0);
  sums[5] ^= 0x40;
  Status s = ds_->Append(8, 1, 0, data, sums);
  EXPECT_EQ(s.code(), ErrorCode::kCorruption) << s;
  EXPECT_NE(s.message().find("offset 512"), std::string::npos) << s;
  EXPECT_EQ(ds_->Append(8, 1, 0, data, sums.substr(0, 8)).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ds_->GetReplica(8)->bytes_on_disk, 0u);
  EXPECT_EQ(fs::file_size(ds_->GetReplica(8)->data_path), 0u);
}

TEST_F(DatanodeDataSetTest, FlippedByteOnDiskIsDetectedOnRead) {
  Open();
  ASSERT_TRUE(ds_->CreateRbw(9, 1, 0).ok());
  std::string data = Bytes(5000, 9);
  Write(9, 1, data, 65536);
  auto fin = ds_->Finalize(9, 1);
  ASSERT_TRUE(fin.ok());
  {
    int fd = ::open(fin->data_path.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    char c = static_cast<char>(data[1234] ^ 0x01);
    ASSERT_EQ(::pwrite(fd, &c, 1, 1234), 1);
    ::close(fd);
  }
  auto bad = ds_->Read(9, 1, 0, 5000);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kCorruption);
  EXPECT_NE(bad.status().message().find("offset 1024"), std::string::npos) << bad.status();
  EXPECT_EQ(ds_->Read(9, 1, 1200, 10).status().code(), ErrorCode::kCorruption);
  // Other chunks still read fine, and a corrupt replica does not fail its volume.
  auto good = ds_->Read(9, 1, 2048, 100);
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_EQ(good->data.substr(good->skip, 100), data.substr(2048, 100));
  EXPECT_FALSE(ds_->volumes()[0]->failed());
}

TEST_F(DatanodeDataSetTest, ReadsValidateRangeAndGenerationStamp) {
  Open();
  ASSERT_TRUE(ds_->CreateRbw(10, 5, 0).ok());
  Write(10, 5, Bytes(1000, 10), 1000);
  EXPECT_EQ(ds_->Read(10, 5, 1001, 0).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ds_->Read(10, 5, 900, 101).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ds_->Read(10, 5, UINT64_MAX, 2).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ds_->Read(10, 6, 0, 10).status().code(), ErrorCode::kInvalidArgument);  // stale
  EXPECT_TRUE(ds_->Read(10, 4, 0, 10).ok());  // the replica is newer than the reader knew
  auto empty = ds_->Read(10, 5, 1000, 0);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->data.empty());
  EXPECT_EQ(ds_->Read(11, 5, 0, 0).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(ds_->Read(0, 5, 0, 0).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ds_->Read(10, 0, 0, 0).status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(DatanodeDataSetTest, InputValidation) {
  DataSetOptions o = Options(1);
  o.max_block_bytes = 10000;
  o.max_io_bytes = 4096;
  OpenWith(o);
  EXPECT_EQ(ds_->CreateRbw(0, 1, 0).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ds_->CreateRbw(1, 0, 0).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ds_->CreateRbw(uint64_t{1} << 63, 1, 0).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ds_->CreateRbw(1, 1, 10001).status().code(), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(ds_->CreateRbw(1, 1, 0).ok());
  EXPECT_EQ(ds_->CreateRbw(1, 2, 0).status().code(), ErrorCode::kAlreadyExists);
  std::string big = Bytes(4097, 1);
  EXPECT_EQ(ds_->Append(1, 1, 0, big, ComputeChecksums(big, 0)).code(),
            ErrorCode::kInvalidArgument);
  Write(1, 1, Bytes(9999, 2), 4096);
  std::string two = Bytes(2, 3);
  EXPECT_EQ(ds_->Append(1, 1, 9999, two, ComputeChecksums(two, 9999)).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(ds_->Append(1, 2, 9999, two.substr(1), ComputeChecksums(two.substr(1), 9999)).code(),
            ErrorCode::kInvalidArgument);  // wrong genstamp
  ASSERT_TRUE(ds_->Finalize(1, 1).ok());
  std::string one = two.substr(1);
  EXPECT_EQ(ds_->Append(1, 1, 9999, one, ComputeChecksums(one, 9999)).code(),
            ErrorCode::kInvalidArgument);  // finalized
  EXPECT_EQ(ds_->Truncate(1, 1, 10).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ds_->BumpGenstamp(1, 1, 1).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ds_->Delete(1, 2).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ds_->Append(2, 1, 0, "", "").code(), ErrorCode::kNotFound);
}

TEST_F(DatanodeDataSetTest, GenstampBumpAndTruncate) {
  Open();
  std::string data = Bytes(3000, 12);
  ASSERT_TRUE(ds_->CreateRbw(12, 1, 0).ok());
  Write(12, 1, data, 1000);
  ASSERT_TRUE(ds_->BumpGenstamp(12, 1, 2).ok());
  auto info = ds_->GetReplica(12);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->genstamp, 2u);
  EXPECT_EQ(info->meta_path, root_ + "/vol0/current/rbw/blk_12_2.meta");
  EXPECT_TRUE(fs::exists(info->meta_path));
  EXPECT_FALSE(fs::exists(root_ + "/vol0/current/rbw/blk_12_1.meta"));
  EXPECT_EQ(ds_->Append(12, 1, 3000, "x", ComputeChecksums("x", 3000)).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(ds_->Truncate(12, 2, 3001).code(), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(ds_->Truncate(12, 2, 1500).ok());
  EXPECT_EQ(ds_->GetReplica(12)->bytes_on_disk, 1500u);
  EXPECT_EQ(fs::file_size(info->data_path), 1500u);
  EXPECT_EQ(fs::file_size(info->meta_path), MetaFileLength(1500));
  EXPECT_EQ(ReadAll(12, 2, 1500), data.substr(0, 1500));
  // Writing continues after the cut, into the recomputed partial chunk.
  Write(12, 2, data.substr(1500, 200), 200, 1500);
  ASSERT_TRUE(ds_->Finalize(12, 2).ok());
  ASSERT_TRUE(ds_->BumpGenstamp(12, 2, 3).ok());  // a finalized replica's too (recovery)
  Open();
  auto after = ds_->GetReplica(12);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->state, ReplicaState::kFinalized);
  EXPECT_EQ(after->genstamp, 3u);
  EXPECT_EQ(after->bytes_on_disk, 1700u);
  EXPECT_EQ(ReadAll(12, 3, 1700), data.substr(0, 1700));
}

TEST_F(DatanodeDataSetTest, DeleteRemovesFilesAndForgetsTheReplica) {
  Open();
  ASSERT_TRUE(ds_->CreateRbw(13, 1, 0).ok());
  Write(13, 1, Bytes(2000, 13), 2000);
  auto fin = ds_->Finalize(13, 1);
  ASSERT_TRUE(fin.ok());
  Volume* v = ds_->volumes()[0];
  EXPECT_EQ(v->used_bytes(), 2000 + MetaFileLength(2000));
  ASSERT_TRUE(ds_->Delete(13, 1).ok());
  EXPECT_FALSE(fs::exists(fin->data_path));
  EXPECT_FALSE(fs::exists(fin->meta_path));
  EXPECT_EQ(ds_->GetReplica(13).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(ds_->Read(13, 1, 0, 1).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(ds_->Delete(13, 1).code(), ErrorCode::kNotFound);
  EXPECT_TRUE(ds_->Replicas().empty());
  EXPECT_EQ(v->used_bytes(), 0u);
  // An RBW replica can be deleted too, and its id reused afterwards.
  ASSERT_TRUE(ds_->CreateRbw(13, 2, 0).ok());
  Write(13, 2, Bytes(100, 1), 100);
  ASSERT_TRUE(ds_->Delete(13, 2).ok());
  EXPECT_FALSE(fs::exists(root_ + "/vol0/current/rbw/blk_13"));
  ASSERT_TRUE(ds_->CreateRbw(13, 3, 0).ok());
}

TEST_F(DatanodeDataSetTest, AppendToFinalizedReopensAsRbwWithNewGenstamp) {
  Open();
  std::string all = Bytes(3000, 14);
  ASSERT_TRUE(ds_->CreateRbw(14, 1, 0).ok());
  Write(14, 1, all.substr(0, 700), 700);
  ASSERT_TRUE(ds_->Finalize(14, 1).ok());
  EXPECT_EQ(ds_->AppendToFinalized(14, 2, 3).status().code(), ErrorCode::kInvalidArgument);
  auto rbw = ds_->AppendToFinalized(14, 1, 2);
  ASSERT_TRUE(rbw.ok()) << rbw.status();
  EXPECT_EQ(rbw->state, ReplicaState::kRbw);
  EXPECT_EQ(rbw->genstamp, 2u);
  EXPECT_EQ(rbw->bytes_on_disk, 700u);
  EXPECT_EQ(rbw->data_path, root_ + "/vol0/current/rbw/blk_14");
  Write(14, 2, all.substr(700, 1300), 650, 700);
  ASSERT_TRUE(ds_->Finalize(14, 2).ok());
  ASSERT_TRUE(ds_->AppendToFinalized(14, 2, 3).ok());
  Write(14, 3, all.substr(2000), 333, 2000);
  auto fin = ds_->Finalize(14, 3);
  ASSERT_TRUE(fin.ok());
  EXPECT_EQ(ReadAll(14, 3, 3000), all);
  EXPECT_EQ(Slurp(fin->meta_path), EncodeMetaHeader() + ComputeChecksums(all, 0));
}

TEST_F(DatanodeDataSetTest, StartupScanRebuildsTheMap) {
  Open();
  std::string a = Bytes(3000, 20), b = Bytes(2000, 21), c = Bytes(2000, 22);
  ASSERT_TRUE(ds_->CreateRbw(20, 1, 0).ok());
  Write(20, 1, a, 1024);
  ASSERT_TRUE(ds_->Finalize(20, 1).ok());
  ASSERT_TRUE(ds_->CreateRbw(21, 4, 0).ok());
  Write(21, 4, b, 1000);
  ASSERT_TRUE(ds_->Sync(21, 4).ok());
  ASSERT_TRUE(ds_->CreateRbw(22, 1, 0).ok());
  Write(22, 1, c, 1000);
  ASSERT_TRUE(ds_->CreateRbw(23, 1, 0).ok());  // empty
  std::string rbw = root_ + "/vol0/current/rbw";
  ds_.reset();
  // Torn tail: data bytes reached the disk, their checksums did not.
  {
    std::ofstream out(rbw + "/blk_21", std::ios::binary | std::ios::app);
    out << Bytes(300, 99);
  }
  // A damaged middle chunk cuts the replica before it.
  {
    int fd = ::open((rbw + "/blk_22").c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, "zz", 2, 1100), 2);
    ::close(fd);
  }
  // Leftovers: data without meta, meta without data, a temporary file, an older meta.
  Spit(rbw + "/blk_30", "orphan data");
  std::string fin_dir = root_ + "/vol0/current/finalized/subdir0/subdir0";
  Spit(fin_dir + "/blk_31_2.meta", EncodeMetaHeader());
  Spit(root_ + "/vol0/current/VERSION.tmp", "x");  // removed when the volume opens
  Spit(rbw + "/blk_33.tmp", "x");
  Spit(fin_dir + "/blk_20_0.meta", "not a valid genstamp");  // not a replica name: left alone
  fs::copy_file(fin_dir + "/blk_20_1.meta", fin_dir + "/blk_20_0.meta",
                fs::copy_options::overwrite_existing);
  Open();
  // blk_20_0.meta has genstamp 0, which is no valid name: reported, left alone.
  EXPECT_EQ(report_.finalized, 1u);
  EXPECT_EQ(report_.rwr, 3u);
  auto ra = ds_->GetReplica(20);
  ASSERT_TRUE(ra.ok());
  EXPECT_EQ(ra->state, ReplicaState::kFinalized);
  EXPECT_EQ(ra->bytes_on_disk, 3000u);
  EXPECT_EQ(ReadAll(20, 1, 3000), a);
  auto rb = ds_->GetReplica(21);
  ASSERT_TRUE(rb.ok());
  EXPECT_EQ(rb->state, ReplicaState::kRwr);
  EXPECT_EQ(rb->genstamp, 4u);
  EXPECT_EQ(rb->bytes_on_disk, 2000u);  // the 300 unchecksummed bytes are dropped
  EXPECT_EQ(fs::file_size(rbw + "/blk_21"), 2000u);
  EXPECT_EQ(ReadAll(21, 4, 2000), b);
  auto rc = ds_->GetReplica(22);
  ASSERT_TRUE(rc.ok());
  EXPECT_EQ(rc->bytes_on_disk, 1024u);
  EXPECT_EQ(ReadAll(22, 1, 1024), c.substr(0, 1024));
  EXPECT_EQ(ds_->GetReplica(23)->bytes_on_disk, 0u);
  EXPECT_EQ(ds_->GetReplica(30).status().code(), ErrorCode::kNotFound);
  EXPECT_FALSE(fs::exists(rbw + "/blk_30"));
  EXPECT_FALSE(fs::exists(fin_dir + "/blk_31_2.meta"));
  EXPECT_FALSE(fs::exists(root_ + "/vol0/current/VERSION.tmp"));
  EXPECT_FALSE(fs::exists(rbw + "/blk_33.tmp"));
  EXPECT_TRUE(fs::exists(fin_dir + "/blk_20_0.meta"));
  EXPECT_EQ(report_.removed_files.size(), 3u);
  // RWR replicas are not writable, but recovery can cut and finalize them.
  EXPECT_EQ(ds_->Append(21, 4, 2000, "x", ComputeChecksums("x", 2000)).code(),
            ErrorCode::kInvalidArgument);
  ASSERT_TRUE(ds_->BumpGenstamp(21, 4, 5).ok());
  ASSERT_TRUE(ds_->Truncate(21, 5, 1999).ok());
  ASSERT_TRUE(ds_->Finalize(21, 5).ok());
  EXPECT_EQ(ReadAll(21, 5, 1999), b.substr(0, 1999));
  // Block reports list every replica, sorted.
  auto all = ds_->Replicas();
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].block_id, 20u);
  EXPECT_EQ(all[3].block_id, 23u);
}

TEST_F(DatanodeDataSetTest, CrashBetweenFinalizeRenamesRecoversAsRwr) {
  Open();
  std::string data = Bytes(1000, 40);
  ASSERT_TRUE(ds_->CreateRbw(40, 1, 0).ok());
  Write(40, 1, data, 1000);
  ASSERT_TRUE(ds_->Sync(40, 1).ok());
  ds_.reset();
  // Finalize moves the meta file first; simulate a crash right after that rename.
  std::string fin_dir = root_ + "/vol0/current/finalized/subdir0/subdir0";
  fs::create_directories(fin_dir);
  fs::rename(root_ + "/vol0/current/rbw/blk_40_1.meta", fin_dir + "/blk_40_1.meta");
  Open();
  auto r = ds_->GetReplica(40);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->state, ReplicaState::kRwr);
  EXPECT_EQ(r->bytes_on_disk, 1000u);
  EXPECT_EQ(r->meta_path, root_ + "/vol0/current/rbw/blk_40_1.meta");
  ASSERT_TRUE(ds_->Finalize(40, 1).ok());
  EXPECT_EQ(ReadAll(40, 1, 1000), data);
}

TEST_F(DatanodeDataSetTest, TwoVolumesRoundRobinAndDuplicatesKeepNewestGenstamp) {
  Open(2);
  auto vols = ds_->volumes();
  ASSERT_EQ(vols.size(), 2u);
  EXPECT_NE(vols[0]->storage_id(), vols[1]->storage_id());
  std::vector<Volume*> chosen;
  for (uint64_t id = 50; id < 54; ++id) {
    auto r = ds_->CreateRbw(id, 1, 1000);
    ASSERT_TRUE(r.ok());
    chosen.push_back(r->volume);
    Write(id, 1, Bytes(600, static_cast<uint32_t>(id)), 600);
    ASSERT_TRUE(ds_->Finalize(id, 1).ok());
  }
  EXPECT_NE(chosen[0], chosen[1]);
  EXPECT_EQ(chosen[0], chosen[2]);
  EXPECT_EQ(chosen[1], chosen[3]);
  EXPECT_EQ(vols[0]->used_bytes(), 2 * (600 + MetaFileLength(600)));
  // Copy block 50 to the other volume under a newer genstamp: after a restart the newer copy
  // wins and the older one is removed.
  auto b50 = ds_->GetReplica(50);
  ASSERT_TRUE(b50.ok());
  Volume* other = b50->volume == vols[0] ? vols[1] : vols[0];
  std::string other_root = other->root(), old_data = b50->data_path;
  ds_.reset();
  std::string dir = other_root + "/current/finalized/subdir0/subdir0";
  fs::create_directories(dir);
  fs::copy_file(old_data, dir + "/blk_50");
  fs::copy_file(DirName(old_data) + "/blk_50_1.meta", dir + "/blk_50_7.meta");
  Open(2);
  EXPECT_EQ(report_.duplicates_dropped, 1u);
  auto now = ds_->GetReplica(50);
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->genstamp, 7u);
  EXPECT_EQ(now->volume->root(), other_root);
  EXPECT_FALSE(fs::exists(old_data));
  EXPECT_EQ(ReadAll(50, 7, 600), Bytes(600, 50));
  EXPECT_EQ(ds_->Replicas().size(), 4u);
}

TEST_F(DatanodeDataSetTest, NoSpaceWhenReservedExceedsTheDisk) {
  DataSetOptions o = Options(2);
  o.reserved_bytes_per_volume = uint64_t{1} << 60;
  OpenWith(o);
  auto usage = ds_->volumes()[0]->Usage();
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->capacity_bytes, 0u);
  EXPECT_EQ(usage->remaining_bytes, 0u);
  EXPECT_EQ(ds_->CreateRbw(1, 1, 1).status().code(), ErrorCode::kNoSpace);
}

TEST_F(DatanodeDataSetTest, FailedVolumeTakesNoNewReplicas) {
  Open(2);
  auto vols = ds_->volumes();
  vols[0]->MarkFailed("test");
  for (uint64_t id = 1; id <= 3; ++id) {
    auto r = ds_->CreateRbw(id, 1, 0);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->volume, vols[1]);
  }
  vols[1]->MarkFailed("test");
  EXPECT_EQ(ds_->CreateRbw(9, 1, 0).status().code(), ErrorCode::kNoSpace);
  EXPECT_EQ(ds_->Append(1, 1, 0, "a", ComputeChecksums("a", 0)).code(), ErrorCode::kIoError);
}

TEST_F(DatanodeDataSetTest, StorageIdIsStableAcrossReopen) {
  Open(2);
  std::string id0 = ds_->volumes()[0]->storage_id(), id1 = ds_->volumes()[1]->storage_id();
  EXPECT_EQ(id0.substr(0, 3), "DS-");
  EXPECT_EQ(id0.size(), 39u);
  std::string version = Slurp(root_ + "/vol0/current/VERSION");
  EXPECT_NE(version.find("storage_id=" + id0), std::string::npos);
  EXPECT_NE(version.find("layout_version=1"), std::string::npos);
  Open(2);
  EXPECT_EQ(ds_->volumes()[0]->storage_id(), id0);
  EXPECT_EQ(ds_->volumes()[1]->storage_id(), id1);
  // A copied volume (same storage id twice) is refused.
  ds_.reset();
  fs::copy_file(root_ + "/vol0/current/VERSION", root_ + "/vol1/current/VERSION",
                fs::copy_options::overwrite_existing);
  EXPECT_EQ(DataSet::Open(Options(2), nullptr).status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(DatanodeDataSetTest, UnusableVolumeIsReportedAndOthersServe) {
  DataSetOptions o = Options(1);
  Spit(root_ + "/not_a_dir", "file");
  o.volume_dirs.push_back(root_ + "/not_a_dir");
  OpenWith(o);
  ASSERT_EQ(report_.failed_volumes.size(), 1u);
  EXPECT_EQ(ds_->volumes().size(), 1u);
  EXPECT_EQ(DataSet::Open({.volume_dirs = {root_ + "/not_a_dir"}}, nullptr).status().code(),
            ErrorCode::kIoError);
  EXPECT_EQ(DataSet::Open({.volume_dirs = {"relative"}}, nullptr).status().code(),
            ErrorCode::kIoError);
}

TEST_F(DatanodeDataSetTest, OpenForSendExposesFilesAndOffsets) {
  Open();
  std::string data = Bytes(3000, 60);
  ASSERT_TRUE(ds_->CreateRbw(60, 1, 0).ok());
  Write(60, 1, data, 3000);
  auto h = ds_->OpenForSend(60, 1, 1000, 1000);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->aligned_offset, 512u);
  EXPECT_EQ(h->end_offset, 2048u);
  EXPECT_EQ(h->meta_offset, kMetaHeaderBytes + 4);
  EXPECT_EQ(h->replica_length, 3000u);
  std::string got(h->end_offset - h->aligned_offset, '\0');
  ASSERT_EQ(::pread(h->data_fd.get(), got.data(), got.size(), 512),
            static_cast<ssize_t>(got.size()));
  EXPECT_EQ(got, data.substr(512, got.size()));
  std::string sums(12, '\0');
  ASSERT_EQ(::pread(h->meta_fd.get(), sums.data(), 12, h->meta_offset), 12);
  EXPECT_EQ(sums, ComputeChecksums(got, 512));
  // The descriptors survive finalization (a rename) of the replica.
  ASSERT_TRUE(ds_->Finalize(60, 1).ok());
  ASSERT_EQ(::pread(h->data_fd.get(), got.data(), 10, 0), 10);
  EXPECT_EQ(ds_->OpenForSend(60, 1, 2999, 2).status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(DatanodeDataSetTest, ReaderAndWriterOfOneReplicaRunTogether) {
  Open();
  ASSERT_TRUE(ds_->CreateRbw(70, 1, 0).ok());
  std::string all = Bytes(200000, 70);
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::thread reader([&] {
    for (int i = 0; i < 100000 && !done.load(); ++i) {
      auto info = ds_->GetReplica(70);
      if (!info.ok()) continue;
      uint64_t len = info->bytes_on_disk;
      auto r = ds_->Read(70, 1, 0, len);
      if (!r.ok() || r->data.substr(0, len) != all.substr(0, len)) bad.fetch_add(1);
    }
  });
  Write(70, 1, all, 777);
  done = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST_F(DatanodeDataSetTest, ConcurrentWritersOnTwoVolumes) {
  Open(2);
  constexpr int kWriters = 4;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      uint64_t id = 100 + w;
      std::string data = Bytes(100000 + w * 333, static_cast<uint32_t>(id));
      if (!ds_->CreateRbw(id, 1, data.size()).ok()) return failures.fetch_add(1), void();
      for (size_t pos = 0; pos < data.size(); pos += 4000) {
        std::string piece = data.substr(pos, 4000);
        if (!ds_->Append(id, 1, pos, piece, ComputeChecksums(piece, pos)).ok()) {
          failures.fetch_add(1);
          return;
        }
      }
      if (!ds_->Finalize(id, 1).ok()) failures.fetch_add(1);
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(failures.load(), 0);
  for (int w = 0; w < kWriters; ++w) {
    uint64_t id = 100 + w;
    std::string data = Bytes(100000 + w * 333, static_cast<uint32_t>(id));
    EXPECT_EQ(ReadAll(id, 1, data.size()), data);
  }
  auto total = ds_->TotalUsage();
  uint64_t expect = 0;
  for (int w = 0; w < kWriters; ++w) expect += 100000 + w * 333 + MetaFileLength(100000 + w * 333);
  EXPECT_EQ(total.used_bytes, expect);
  EXPECT_TRUE(ds_->FailedVolumes().empty());
}

TEST_F(DatanodeDataSetTest, ScanKeepsOrphansWhenAskedAndSkipsInconsistentFinalized) {
  Open();
  ASSERT_TRUE(ds_->CreateRbw(80, 1, 0).ok());
  Write(80, 1, Bytes(1000, 80), 1000);
  auto fin = ds_->Finalize(80, 1);
  ASSERT_TRUE(fin.ok());
  ds_.reset();
  // A finalized meta file that does not match its data's length is not served.
  {
    std::ofstream out(fin->meta_path, std::ios::binary | std::ios::app);
    out << "xxxx";
  }
  std::string orphan = root_ + "/vol0/current/rbw/blk_81";
  Spit(orphan, "data without meta");
  DataSetOptions o = Options(1);
  o.remove_orphans = false;
  OpenWith(o);
  EXPECT_EQ(ds_->GetReplica(80).status().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(fs::exists(fin->data_path));  // kept for inspection
  EXPECT_TRUE(fs::exists(orphan));
  EXPECT_TRUE(report_.removed_files.empty());
  ASSERT_EQ(report_.problems.size(), 2u);
  EXPECT_NE(report_.problems[0].find("blk_80"), std::string::npos) << report_.problems[0];
  EXPECT_NE(report_.problems[1].find("data file without meta"), std::string::npos)
      << report_.problems[1];
}

// A replica being written holds a whole block's space on its volume (as HDFS reserves it), so
// a second new replica does not take a volume with room for one; the reservation shrinks as
// data arrives and goes at finalize or delete.
TEST_F(DatanodeDataSetTest, ReplicasBeingWrittenReserveABlockOfSpace) {
  Open();
  Volume* v = ds_->volumes()[0];
  auto usage = v->Usage();
  ASSERT_TRUE(usage.ok());
  // Room for one such block, not two (the margin absorbs what others write meanwhile).
  const uint64_t block = usage->remaining_bytes / 10 * 6;
  DataSetOptions o = Options(1);
  o.expected_block_bytes = block;
  OpenWith(o);
  v = ds_->volumes()[0];
  const uint64_t reserve = block + MetaFileLength(block);
  ASSERT_TRUE(ds_->CreateRbw(1, 1001, 0).ok());
  EXPECT_EQ(v->reserved_for_replicas(), reserve);
  auto second = ds_->CreateRbw(2, 1001, 0);
  EXPECT_EQ(second.status().code(), ErrorCode::kNoSpace) << second.status();
  EXPECT_NE(second.status().message().find(v->root()), std::string::npos) << second.status();

  const std::string data = Bytes(100000, 5);
  Write(1, 1001, data, 65536);
  EXPECT_EQ(v->reserved_for_replicas(), reserve - data.size() - (MetaFileLength(data.size()) -
                                                                 MetaFileLength(0)));
  ASSERT_TRUE(ds_->Finalize(1, 1001).ok());
  EXPECT_EQ(v->reserved_for_replicas(), 0u);
  ASSERT_TRUE(ds_->CreateRbw(2, 1001, 0).ok());
  EXPECT_EQ(v->reserved_for_replicas(), reserve);
  ASSERT_TRUE(ds_->Delete(2, 1001).ok());
  EXPECT_EQ(v->reserved_for_replicas(), 0u);
  // A create refused for an existing id gives its reservation back.
  EXPECT_EQ(ds_->CreateRbw(1, 1001, 0).status().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(v->reserved_for_replicas(), 0u);
}

}  // namespace
}  // namespace talus::datanode
