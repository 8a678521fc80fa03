// The client's pipeline recovery decisions (client/stream/pipeline_recovery.h): which node of a
// pipeline is to blame, when a replacement node is wanted, and what the survivors are told.
#include <gtest/gtest.h>

#include "client/stream/pipeline_recovery.h"

namespace talus::client {
namespace {

using transfer::PipelineAck;
using transfer::TransferStatus;

DatanodeInfo Node(const std::string& host, int port) {
  return DatanodeInfo{"s-" + std::to_string(port), host, port, 0, ""};
}

TEST(PipelineRecoveryTest, TheFirstFailingReplyNamesTheBadNode) {
  PipelineAck ack;
  ack.seqno = 4;
  ack.replies = {TransferStatus::kSuccess, TransferStatus::kSuccess, TransferStatus::kSuccess};
  EXPECT_EQ(BadNodeOfAck(ack, 3), -1);
  // DN2 says its downstream (DN3) failed: DN3 is bad, not DN2.
  ack.replies = {TransferStatus::kSuccess, TransferStatus::kSuccess, TransferStatus::kError};
  EXPECT_EQ(BadNodeOfAck(ack, 3), 2);
  ack.replies = {TransferStatus::kSuccess, TransferStatus::kErrorChecksum,
                 TransferStatus::kError};
  EXPECT_EQ(BadNodeOfAck(ack, 3), 1);
  ack.replies = {TransferStatus::kError};
  EXPECT_EQ(BadNodeOfAck(ack, 3), 0);
  // Fewer replies than nodes: the first node without one is missing.
  ack.replies = {TransferStatus::kSuccess, TransferStatus::kSuccess};
  EXPECT_EQ(BadNodeOfAck(ack, 3), 2);
  // A failure beyond the pipeline (a confused node) is pinned to its last node.
  ack.replies = {TransferStatus::kSuccess, TransferStatus::kSuccess, TransferStatus::kSuccess,
                 TransferStatus::kError};
  EXPECT_EQ(BadNodeOfAck(ack, 3), 2);
}

TEST(PipelineRecoveryTest, ASetupMessageNamesTheBadNodeByItsWholeAddress) {
  const std::vector<DatanodeInfo> nodes = {Node("127.0.0.1", 34567), Node("127.0.0.1", 3456),
                                           Node("127.0.0.2", 3456)};
  EXPECT_EQ(BadNodeOfSetup("bad datanode 127.0.0.1:3456: connection refused", nodes), 1);
  EXPECT_EQ(BadNodeOfSetup("bad datanode 127.0.0.2:3456: timed out", nodes), 2);
  EXPECT_EQ(BadNodeOfSetup("bad datanode 127.0.0.2:3456", nodes), 2);
  // Not a node of the pipeline, or no node named: the node that answered.
  EXPECT_EQ(BadNodeOfSetup("bad datanode 127.0.0.1:345: x", nodes), 0);
  EXPECT_EQ(BadNodeOfSetup("disk full", nodes), 0);
}

TEST(PipelineRecoveryTest, ReplacementFollowsHdfsDefaultPolicy) {
  using P = ReplaceDatanodePolicy;
  // Replication 3: one of three lost keeps going with two, unless the data is visible.
  EXPECT_FALSE(ShouldAddDatanode(P::kDefault, 3, 2, false));
  EXPECT_TRUE(ShouldAddDatanode(P::kDefault, 3, 2, true));
  EXPECT_TRUE(ShouldAddDatanode(P::kDefault, 3, 1, false));
  EXPECT_FALSE(ShouldAddDatanode(P::kDefault, 3, 3, true));
  // Below replication 3 the default never replaces.
  EXPECT_FALSE(ShouldAddDatanode(P::kDefault, 2, 1, true));
  EXPECT_FALSE(ShouldAddDatanode(P::kNever, 3, 1, true));
  EXPECT_TRUE(ShouldAddDatanode(P::kAlways, 2, 1, false));
  EXPECT_FALSE(ShouldAddDatanode(P::kAlways, 2, 2, false));
  // Replication 5: at most half surviving means two.
  EXPECT_TRUE(ShouldAddDatanode(P::kDefault, 5, 2, false));
  EXPECT_FALSE(ShouldAddDatanode(P::kDefault, 5, 3, false));
}

TEST(PipelineRecoveryTest, TheRecoveryOpResumesAtTheAckedLengthUnderTheNewStamp) {
  RecoveryPoint point;
  point.block_id = 7;
  point.replica_genstamp = 1001;
  point.new_genstamp = 1005;
  point.acked_bytes = 3 * 65536;
  point.sent_bytes = 5 * 65536 + 12;
  point.client_name = "c";
  transfer::WriteBlockOp op = RecoveryOp(point);
  EXPECT_EQ(op.stage, transfer::WriteStage::kRecovery);
  EXPECT_EQ(op.block_id, 7u);
  EXPECT_EQ(op.genstamp, 1001u);
  EXPECT_EQ(op.latest_genstamp, 1005u);
  EXPECT_EQ(op.min_bytes_rcvd, 3u * 65536);
  EXPECT_EQ(op.max_bytes_rcvd, 5u * 65536 + 12);
  EXPECT_EQ(op.client_name, "c");
  EXPECT_TRUE(op.targets.empty());  // filled in with the survivors when it is sent
  // Nothing sent beyond the acked bytes (a failure at a packet boundary).
  point.sent_bytes = 0;
  EXPECT_EQ(RecoveryOp(point).max_bytes_rcvd, 3u * 65536);
}

TEST(PipelineRecoveryTest, TimeoutsGrowDownThePipelineSoTheNodeNextToAHungOneNamesIt) {
  // A node with k nodes after it waits longer than each of them: DN3's neighbour DN2 gives up
  // first, then DN1, then the client.
  EXPECT_EQ(transfer::PipelineTimeoutMs(60000, 0), 60000);
  EXPECT_EQ(transfer::PipelineTimeoutMs(60000, 1), 65000);
  EXPECT_EQ(transfer::PipelineTimeoutMs(60000, 3), 75000);
  EXPECT_EQ(transfer::PipelineTimeoutMs(3000, 1), 3750);
  EXPECT_EQ(transfer::PipelineTimeoutMs(3000, 2), 4500);
  EXPECT_LT(transfer::PipelineTimeoutMs(3000, 2), transfer::PipelineTimeoutMs(3000, 3));
}

}  // namespace
}  // namespace talus::client
