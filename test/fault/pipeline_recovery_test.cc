// Pipeline recovery with real processes: a datanode of a write pipeline hangs (SIGSTOP) or dies
// (SIGKILL) in the middle of a write; the writer drops it, rebuilds the pipeline from the
// survivors under a new generation stamp and finishes without seeing an error; the file reads
// back byte for byte. The hung node's replica, left at the old stamp, is deleted once it
// comes back.
#include <signal.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "client/stream/output_stream_impl.h"
#include "talus/file_system.h"
#include "test/support/client_data_util.h"
#include "test/support/mini_cluster.h"

namespace talus {
namespace {

constexpr int64_t kBlock = 8 << 20;
constexpr size_t kPiece = 256 * 1024;

class PipelineRecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test::MiniClusterOptions options;
    options.datanodes = 5;
    // A hung datanode is noticed after ~3 s (its upstream neighbour's ack timeout, plus the
    // pipeline's per-node extension); the namenode declares it dead after 4 s. Its replica left
    // at the old stamp is deleted by the namenode when the block commits (no full block report
    // needed: those come every 6 h by default).
    options.extra_flags = {"--heartbeat_interval_ms=200", "--datanode_dead_after_ms=4000",
                           "--transfer_socket_timeout_ms=3000"};
    auto started = test::MiniCluster::Start(options);
    ASSERT_TRUE(started.ok()) << started.status();
    cluster_ = std::move(*started);
    ClientOptions client;
    client.default_block_size = kBlock;
    client.datanode_timeout_ms = 3000;
    auto fs = FileSystem::Connect(cluster_->uri(), client);
    ASSERT_TRUE(fs.ok()) << fs.status();
    fs_ = std::move(*fs);
  }

  int IndexOf(const std::string& data_address) const {
    for (int i = 0; i < cluster_->num_datanodes(); ++i) {
      if (cluster_->datanode_data_address(i) == data_address) return i;
    }
    return -1;
  }

  // Writes `data` to `path`: the first half, hflush, `between` (which breaks a node of the
  // pipeline, given the block being written), then the rest, and closes. Any error fails.
  void WriteBreakingThePipeline(
      const std::string& path, const std::string& data,
      const std::function<void(const client::LocatedBlock&)>& between, int* recoveries) {
    CreateOptions options;
    options.block_size = kBlock;
    auto out = fs_->Create(path, options);
    ASSERT_TRUE(out.ok()) << out.status();
    auto* stream = dynamic_cast<client::OutputStreamImpl*>(out->get());
    ASSERT_NE(stream, nullptr);
    const size_t half = data.size() / 2;
    for (size_t off = 0; off < half; off += kPiece) {
      ASSERT_TRUE((*out)->Write(data.data() + off, std::min(kPiece, half - off)).ok());
    }
    ASSERT_TRUE((*out)->Hflush().ok());
    std::optional<client::LocatedBlock> block = stream->CurrentBlock();
    ASSERT_TRUE(block.has_value());
    ASSERT_EQ(block->locations.size(), 3u);
    between(*block);
    for (size_t off = half; off < data.size(); off += kPiece) {
      Status s = (*out)->Write(data.data() + off, std::min(kPiece, data.size() - off));
      ASSERT_TRUE(s.ok()) << s;
    }
    Status closed = (*out)->Close();
    ASSERT_TRUE(closed.ok()) << closed;
    *recoveries = stream->pipeline_recoveries();
  }

  void ExpectSameAsAnUnfailedWrite(const std::string& path, const std::string& data) {
    auto back = test::ReadWholeFile(*fs_, path);
    ASSERT_TRUE(back.ok()) << back.status();
    ASSERT_EQ(back->size(), data.size());
    EXPECT_TRUE(*back == data) << "contents differ";
    ASSERT_TRUE(test::WriteWholeFile(*fs_, path + ".reference", data, kPiece, kBlock).ok());
    auto sum = fs_->GetFileChecksum(path);
    auto reference = fs_->GetFileChecksum(path + ".reference");
    ASSERT_TRUE(sum.ok()) << sum.status();
    ASSERT_TRUE(reference.ok()) << reference.status();
    EXPECT_EQ(sum->crc, reference->crc);
  }

  // Waits until the namenode lists `copies` replicas of the file's first block, none on
  // datanode `gone`.
  void ExpectReplicasWithout(const std::string& path, size_t copies, int gone) {
    Result<std::vector<BlockLocation>> locations = Status::NotFound("not asked yet");
    EXPECT_TRUE(test::WaitFor(
        [&] {
          locations = fs_->GetFileBlockLocations(path, 0, 1);
          return locations.ok() && locations->size() == 1 &&
                 (*locations)[0].hosts.size() == copies;
        },
        std::chrono::seconds(10)))
        << (locations.ok() ? std::to_string(locations->empty() ? 0 : (*locations)[0].hosts.size())
                           : locations.status().ToString());
    if (!locations.ok() || locations->empty()) return;
    for (const std::string& host : (*locations)[0].hosts) {
      EXPECT_NE(host, cluster_->datanode_data_address(gone));
    }
  }

  // Whether datanode `index` still has a file of `block_id` at generation stamp `stamp`.
  bool HasReplicaAtStamp(int index, uint64_t block_id, uint64_t stamp) const {
    const std::string meta =
        "blk_" + std::to_string(block_id) + "_" + std::to_string(stamp) + ".meta";
    for (const std::string& dir : cluster_->datanode_data_dirs(index)) {
      std::error_code ec;
      for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
           !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (it->path().filename() == meta) return true;
      }
    }
    return false;
  }

  std::unique_ptr<test::MiniCluster> cluster_;
  std::unique_ptr<FileSystem> fs_;
};

TEST_F(PipelineRecoveryTest, HungDatanodeIsDroppedAndItsStaleReplicaDeleted) {
  const std::string data = test::RandomBytes(4 << 20, 41);
  int stopped = -1;
  client::BlockRef old_block;
  int recoveries = 0;
  const auto start = std::chrono::steady_clock::now();
  WriteBreakingThePipeline(
      "/hung", data,
      [&](const client::LocatedBlock& block) {
        old_block = block.block;
        stopped = IndexOf(block.locations[1].DataAddress());
        ASSERT_GE(stopped, 0);
        ASSERT_TRUE(cluster_->KillDatanode(stopped, SIGSTOP).ok());
      },
      &recoveries);
  ASSERT_GE(stopped, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  EXPECT_GE(recoveries, 1);
  ASSERT_NO_FATAL_FAILURE(ExpectSameAsAnUnfailedWrite("/hung", data));

  // The namenode never offers the hung node's replica: the block moved to a new stamp.
  auto locations = fs_->GetFileBlockLocations("/hung", 0, 1);
  ASSERT_TRUE(locations.ok()) << locations.status();
  ASSERT_EQ(locations->size(), 1u);
  EXPECT_EQ((*locations)[0].block_id, old_block.block_id);
  for (const std::string& host : (*locations)[0].hosts) {
    EXPECT_NE(host, cluster_->datanode_data_address(stopped));
  }
  ASSERT_TRUE(HasReplicaAtStamp(stopped, old_block.block_id, old_block.genstamp));
  ExpectReplicasWithout("/hung", 3, stopped);

  // Back from the hang, the node reports its replica at the old stamp and is told to delete it.
  ASSERT_TRUE(cluster_->KillDatanode(stopped, SIGCONT).ok());
  EXPECT_TRUE(test::WaitFor(
      [&] { return !HasReplicaAtStamp(stopped, old_block.block_id, old_block.genstamp); },
      std::chrono::seconds(20)))
      << "datanode " << stopped << " still holds blk_" << old_block.block_id << "_"
      << old_block.genstamp;
  // And the file is still whole.
  auto back = test::ReadWholeFile(*fs_, "/hung");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(*back == data);
}

TEST_F(PipelineRecoveryTest, KilledMiddleDatanodeIsDropped) {
  const std::string data = test::RandomBytes(4 << 20, 42);
  int recoveries = 0;
  int killed = -1;
  WriteBreakingThePipeline(
      "/killed", data,
      [&](const client::LocatedBlock& block) {
        killed = IndexOf(block.locations[1].DataAddress());
        ASSERT_GE(killed, 0);
        ASSERT_TRUE(cluster_->KillDatanode(killed, SIGKILL).ok());
      },
      &recoveries);
  EXPECT_GE(recoveries, 1);
  ASSERT_NO_FATAL_FAILURE(ExpectSameAsAnUnfailedWrite("/killed", data));
  // The hflushed block got a replacement node (given the acked bytes by a survivor).
  ExpectReplicasWithout("/killed", 3, killed);
}

TEST_F(PipelineRecoveryTest, ANodeLostAtCloseIsDroppedAndTheLastPacketResent) {
  const std::string data = test::RandomBytes(3 << 20, 44);
  CreateOptions options;
  options.block_size = kBlock;
  auto out = fs_->Create("/closing", options);
  ASSERT_TRUE(out.ok()) << out.status();
  auto* stream = dynamic_cast<client::OutputStreamImpl*>(out->get());
  ASSERT_NE(stream, nullptr);
  ASSERT_TRUE((*out)->Write(data.data(), data.size()).ok());
  ASSERT_TRUE((*out)->Hflush().ok());
  std::optional<client::LocatedBlock> block = stream->CurrentBlock();
  ASSERT_TRUE(block.has_value());
  const int killed = IndexOf(block->locations[2].DataAddress());
  ASSERT_GE(killed, 0);
  ASSERT_TRUE(cluster_->KillDatanode(killed, SIGKILL).ok());
  // Only the last packet is left to send: it meets the dead node.
  Status closed = (*out)->Close();
  ASSERT_TRUE(closed.ok()) << closed;
  EXPECT_GE(stream->pipeline_recoveries(), 1);
  ASSERT_NO_FATAL_FAILURE(ExpectSameAsAnUnfailedWrite("/closing", data));
}

TEST_F(PipelineRecoveryTest, HungFirstDatanodeIsDroppedOnTheClientsTimeout) {
  const std::string data = test::RandomBytes(2 << 20, 43);
  int recoveries = 0;
  WriteBreakingThePipeline(
      "/first", data,
      [&](const client::LocatedBlock& block) {
        const int first = IndexOf(block.locations[0].DataAddress());
        ASSERT_GE(first, 0);
        ASSERT_TRUE(cluster_->KillDatanode(first, SIGSTOP).ok());
      },
      &recoveries);
  EXPECT_GE(recoveries, 1);
  ASSERT_NO_FATAL_FAILURE(ExpectSameAsAnUnfailedWrite("/first", data));
}

}  // namespace
}  // namespace talus
