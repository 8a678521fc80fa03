// The client data path against real daemons: one namenode and three datanodes on loopback,
// 1 MiB blocks. Every byte read back is compared with what was written.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <random>
#include <thread>

#include "common/crc32c.h"
#include "talus/file_system.h"
#include "test/support/client_data_util.h"
#include "test/support/mini_cluster.h"

namespace talus {
namespace {

constexpr int64_t kBlock = 1 << 20;

class ClientDataPathTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    test::MiniClusterOptions options;
    options.datanodes = 3;
    options.extra_flags = {"--heartbeat_interval_ms=200"};
    auto started = test::MiniCluster::Start(options);
    ASSERT_TRUE(started.ok()) << started.status();
    cluster_ = started->release();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(cluster_, nullptr);
    ClientOptions options;
    options.default_block_size = kBlock;
    options.datanode_timeout_ms = 20000;
    auto fs = FileSystem::Connect(cluster_->uri(), options);
    ASSERT_TRUE(fs.ok()) << fs.status();
    fs_ = std::move(*fs);
    ASSERT_TRUE(fs_->Mkdirs("/data").ok());
  }

  static test::MiniCluster* cluster_;
  std::unique_ptr<FileSystem> fs_;
};

test::MiniCluster* ClientDataPathTest::cluster_ = nullptr;

TEST_F(ClientDataPathTest, RoundTripsOfEverySize) {
  for (int64_t size : {0L, 1L, 511L, 512L, 513L, 65535L, 65536L, 65537L, kBlock - 1, kBlock,
                       kBlock + 1, 3 * kBlock + 4097}) {
    SCOPED_TRACE("size " + std::to_string(size));
    const std::string path = "/data/size-" + std::to_string(size);
    const std::string data = test::RandomBytes(static_cast<size_t>(size), size);
    Status s = test::WriteWholeFile(*fs_, path, data, 10000);
    ASSERT_TRUE(s.ok()) << s;
    auto info = fs_->GetFileInfo(path);
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_EQ(info->length, size);
    EXPECT_FALSE(info->under_construction);
    auto back = test::ReadWholeFile(*fs_, path);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->size(), data.size());
    EXPECT_TRUE(*back == data);
    auto sum = fs_->GetFileChecksum(path);
    ASSERT_TRUE(sum.ok()) << sum.status();
    EXPECT_EQ(sum->crc, crc32c::Value(data.data(), data.size()));
    EXPECT_EQ(sum->length, size);
    // Every block on all three datanodes once their reports are in (close waits for one of
    // them): a busy node is never a reason for fewer replicas.
    size_t blocks = 0;
    EXPECT_TRUE(test::WaitFor(
        [&] {
          auto locations = fs_->GetFileBlockLocations(path, 0, size);
          if (!locations.ok()) return false;
          blocks = locations->size();
          for (const BlockLocation& loc : *locations) {
            if (loc.hosts.size() < 3) return false;
          }
          return true;
        },
        std::chrono::seconds(10)))
        << [&] {
             std::string where;
             auto locations = fs_->GetFileBlockLocations(path, 0, size);
             if (!locations.ok()) return locations.status().ToString();
             for (const BlockLocation& loc : *locations) {
               where += "blk_" + std::to_string(loc.block_id) + " at " +
                        std::to_string(loc.offset) + ":";
               for (const std::string& h : loc.hosts) where += " " + h;
               where += "; ";
             }
             return where;
           }();
    EXPECT_EQ(static_cast<int64_t>(blocks), (size + kBlock - 1) / kBlock);
  }
}

TEST_F(ClientDataPathTest, FourConcurrentWriters) {
  const size_t size = 2 * kBlock + 12345;
  std::vector<std::thread> writers;
  std::vector<Status> results(4);
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      results[t] = test::WriteWholeFile(*fs_, "/data/concurrent-" + std::to_string(t),
                                        test::RandomBytes(size, 100 + t), 30000);
    });
  }
  for (auto& w : writers) w.join();
  for (int t = 0; t < 4; ++t) {
    ASSERT_TRUE(results[t].ok()) << results[t];
    auto back = test::ReadWholeFile(*fs_, "/data/concurrent-" + std::to_string(t));
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_TRUE(*back == test::RandomBytes(size, 100 + t)) << "writer " << t;
  }
}

TEST_F(ClientDataPathTest, ReaderOfAFileBeingWrittenSeesWhatWasHflushed) {
  const std::string data = test::RandomBytes(2 * kBlock + 5000, 7);
  CreateOptions options;
  options.block_size = kBlock;
  options.overwrite = true;
  auto out = fs_->Create("/data/growing", options);
  ASSERT_TRUE(out.ok()) << out.status();
  size_t written = 0;
  // Flush points: mid-chunk, a chunk boundary, across a block boundary, exactly at one.
  for (size_t upto : {size_t{100}, size_t{1024}, size_t{70001}, size_t(kBlock + 3),
                      size_t(2 * kBlock), data.size()}) {
    ASSERT_TRUE((*out)->Write(data.data() + written, upto - written).ok());
    written = upto;
    Status flushed = written % 2 ? (*out)->Hflush() : (*out)->Hsync();
    ASSERT_TRUE(flushed.ok()) << flushed;
    auto in = fs_->Open("/data/growing");
    ASSERT_TRUE(in.ok()) << in.status();
    EXPECT_EQ((*in)->Length(), static_cast<int64_t>(written));
    std::string buf(written, '\0');
    auto n = (*in)->Pread(0, buf.data(), buf.size());
    ASSERT_TRUE(n.ok()) << n.status();
    ASSERT_EQ(*n, written);
    EXPECT_TRUE(buf == data.substr(0, written)) << "after hflush at " << written;
  }
  // A reader opened early follows the file with RefreshLength.
  ASSERT_TRUE((*out)->Close().ok());
  auto in = fs_->Open("/data/growing");
  ASSERT_TRUE(in.ok());
  EXPECT_EQ((*in)->Length(), static_cast<int64_t>(data.size()));
}

TEST_F(ClientDataPathTest, RefreshLengthFollowsAGrowingFile) {
  CreateOptions options;
  options.block_size = kBlock;
  options.overwrite = true;
  auto out = fs_->Create("/data/tail", options);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_TRUE((*out)->Write("first line\n", 11).ok());
  ASSERT_TRUE((*out)->Hflush().ok());
  auto in = fs_->Open("/data/tail");
  ASSERT_TRUE(in.ok()) << in.status();
  std::string buf(100, '\0');
  auto n = (*in)->Read(buf.data(), buf.size());
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(buf.substr(0, *n), "first line\n");
  ASSERT_TRUE((*out)->Write("second\n", 7).ok());
  ASSERT_TRUE((*out)->Hflush().ok());
  auto length = (*in)->RefreshLength();
  ASSERT_TRUE(length.ok()) << length.status();
  EXPECT_EQ(*length, 18);
  n = (*in)->Read(buf.data(), buf.size());
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(buf.substr(0, *n), "second\n");
  ASSERT_TRUE((*out)->Close().ok());
}

TEST_F(ClientDataPathTest, AppendsGiveTheChecksumOfTheWholeBytes) {
  const std::string data = test::RandomBytes(2 * kBlock + 3000, 21);
  // Cuts mid-chunk, on a chunk boundary, exactly at a block's end, and just past it.
  const std::vector<size_t> cuts = {0, 700, 1024, 5000, size_t(kBlock), size_t(kBlock + 1),
                                    data.size()};
  ASSERT_TRUE(test::WriteWholeFile(*fs_, "/data/appended", data.substr(0, cuts[1])).ok());
  for (size_t i = 1; i + 1 < cuts.size(); ++i) {
    auto out = fs_->Append("/data/appended");
    ASSERT_TRUE(out.ok()) << "append " << i << ": " << out.status();
    EXPECT_EQ((*out)->Tell(), static_cast<int64_t>(cuts[i]));
    ASSERT_TRUE((*out)->Write(data.data() + cuts[i], cuts[i + 1] - cuts[i]).ok());
    Status s = (*out)->Close();
    ASSERT_TRUE(s.ok()) << "append " << i << ": " << s;
  }
  auto back = test::ReadWholeFile(*fs_, "/data/appended");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(*back == data);
  ASSERT_TRUE(test::WriteWholeFile(*fs_, "/data/one-go", data).ok());
  auto appended = fs_->GetFileChecksum("/data/appended");
  auto one_go = fs_->GetFileChecksum("/data/one-go");
  ASSERT_TRUE(appended.ok()) << appended.status();
  ASSERT_TRUE(one_go.ok()) << one_go.status();
  EXPECT_EQ(appended->crc, one_go->crc);
  EXPECT_EQ(appended->crc, crc32c::Value(data.data(), data.size()));
  EXPECT_EQ(appended->length, static_cast<int64_t>(data.size()));
  // Same bytes in another block size: same checksum.
  Status small_written = test::WriteWholeFile(*fs_, "/data/small-blocks", data, 65536, 2 * kBlock);
  ASSERT_TRUE(small_written.ok()) << small_written;
  auto small = fs_->GetFileChecksum("/data/small-blocks");
  ASSERT_TRUE(small.ok()) << small.status();
  EXPECT_EQ(small->crc, one_go->crc);
}

TEST_F(ClientDataPathTest, PreadsAndSeeksAtRandomOffsets) {
  const std::string data = test::RandomBytes(3 * kBlock + 777, 31);
  ASSERT_TRUE(test::WriteWholeFile(*fs_, "/data/random", data).ok());
  auto in = fs_->Open("/data/random");
  ASSERT_TRUE(in.ok()) << in.status();
  std::mt19937_64 rng(3);
  std::string buf;
  for (int i = 0; i < 40; ++i) {
    const size_t off = rng() % data.size();
    const size_t n = rng() % (i % 4 == 0 ? 2 * kBlock : 5000);
    buf.assign(n, '\0');
    auto got = (*in)->Pread(static_cast<int64_t>(off), buf.data(), n);
    ASSERT_TRUE(got.ok()) << got.status();
    const size_t want = std::min(n, data.size() - off);
    ASSERT_EQ(*got, want);
    EXPECT_TRUE(buf.compare(0, want, data, off, want) == 0) << "pread at " << off;
  }
  for (int i = 0; i < 40; ++i) {
    const size_t target = i % 3 == 0 ? rng() % data.size()
                                     : std::min<size_t>((*in)->Tell() + rng() % 4000, data.size());
    ASSERT_TRUE((*in)->Seek(static_cast<int64_t>(target)).ok());
    const size_t n = rng() % 100000;
    buf.assign(n, '\0');
    auto got = (*in)->Read(buf.data(), n);
    ASSERT_TRUE(got.ok()) << got.status();
    const size_t want = std::min(n, data.size() - target);
    ASSERT_EQ(*got, want);
    EXPECT_TRUE(buf.compare(0, want, data, target, want) == 0) << "read after seek to " << target;
  }
  EXPECT_EQ((*in)->Seek(static_cast<int64_t>(data.size()) + 1).code(),
            ErrorCode::kInvalidArgument);
}

TEST_F(ClientDataPathTest, CorruptReplicaIsReadAroundAndReported) {
  const std::string data = test::RandomBytes(kBlock + kBlock / 2, 41);
  ASSERT_TRUE(test::WriteWholeFile(*fs_, "/data/corrupt", data).ok());
  // Once every replica has reported (close waits for one), the block has another good copy.
  Result<std::vector<BlockLocation>> locations = Status::NotFound("not asked yet");
  test::WaitFor(
      [&] {
        locations = fs_->GetFileBlockLocations("/data/corrupt", 0, kBlock);
        return locations.ok() && !locations->empty() && (*locations)[0].hosts.size() == 3;
      },
      std::chrono::seconds(5));
  ASSERT_TRUE(locations.ok()) << locations.status();
  ASSERT_FALSE(locations->empty());
  const BlockLocation first = (*locations)[0];
  ASSERT_GE(first.hosts.size(), 2u);
  // Corrupt the replica the reader tries first (the first location).
  int victim = -1;
  for (int i = 0; i < 3; ++i) {
    if (test::DatanodeDataAddress(cluster_->dir(), i) == first.hosts[0]) victim = i;
  }
  ASSERT_GE(victim, 0) << "no datanode serves " << first.hosts[0];
  std::vector<std::string> files = test::ReplicaFiles(cluster_->dir(), victim, first.block_id);
  ASSERT_EQ(files.size(), 1u);
  {
    std::fstream f(files[0], std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(f.good());
    f.seekp(1000);
    const char garbage[8] = {'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x'};
    f.write(garbage, sizeof(garbage));
  }
  auto back = test::ReadWholeFile(*fs_, "/data/corrupt");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(*back == data);
  // The namenode has been told: it counts a corrupt replica or stops listing the bad one.
  const std::string bad_host = first.hosts[0];
  EXPECT_TRUE(test::WaitFor(
      [&] {
        auto stats = fs_->GetStats();
        if (stats.ok() && stats->corrupt_blocks > 0) return true;
        auto now = fs_->GetFileBlockLocations("/data/corrupt", 0, kBlock);
        if (!now.ok() || now->empty()) return false;
        const auto& hosts = (*now)[0].hosts;
        return std::find(hosts.begin(), hosts.end(), bad_host) == hosts.end();
      },
      std::chrono::seconds(10)))
      << "the namenode was not told of the corrupt replica on " << bad_host;
}

TEST_F(ClientDataPathTest, ExistingFileWithoutOverwriteIsRefused) {
  ASSERT_TRUE(test::WriteWholeFile(*fs_, "/data/exists", "abc").ok());
  CreateOptions options;
  options.overwrite = false;
  auto out = fs_->Create("/data/exists", options);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kAlreadyExists) << out.status();
  auto missing = fs_->Open("/data/missing");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound) << missing.status();
}

TEST_F(ClientDataPathTest, StreamsOutliveTheirFileSystem) {
  std::unique_ptr<OutputStream> out;
  std::unique_ptr<InputStream> in;
  ASSERT_TRUE(test::WriteWholeFile(*fs_, "/data/outlived-read", "read me").ok());
  {
    auto fs = FileSystem::Connect(cluster_->uri());
    ASSERT_TRUE(fs.ok());
    auto created = (*fs)->Create("/data/outlived-write");
    ASSERT_TRUE(created.ok()) << created.status();
    out = std::move(*created);
    auto opened = (*fs)->Open("/data/outlived-read");
    ASSERT_TRUE(opened.ok()) << opened.status();
    in = std::move(*opened);
  }
  ASSERT_TRUE(out->Write("still here", 10).ok());
  ASSERT_TRUE(out->Close().ok());
  std::string buf(16, '\0');
  auto n = in->Read(buf.data(), buf.size());
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(buf.substr(0, *n), "read me");
  auto back = test::ReadWholeFile(*fs_, "/data/outlived-write");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, "still here");
}

}  // namespace
}  // namespace talus
