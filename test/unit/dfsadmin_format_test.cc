// The operators' words without a cluster: dfsadmin -report's layout, fsck's verdicts and lines,
// and the namenode's hosts exclude file parser.
#include <gtest/gtest.h>

#include "client/shell/admin_format.h"
#include "client/shell/fsck_report.h"
#include "namenode/rpc/decommission_hosts.h"

namespace talus {
namespace {

using shell::FsckOptions;
using shell::FsckReport;

TEST(AdminFormatTest, ByteDescAsHdfs) {
  EXPECT_EQ(shell::ByteDesc(0), "0 B");
  EXPECT_EQ(shell::ByteDesc(1023), "1023 B");
  EXPECT_EQ(shell::ByteDesc(1024), "1 KB");
  EXPECT_EQ(shell::ByteDesc(1536), "1.50 KB");
  EXPECT_EQ(shell::ByteDesc(1994752), "1.90 MB");
  EXPECT_EQ(shell::ByteDesc(105555197952), "98.31 GB");
  EXPECT_EQ(shell::ByteDesc(int64_t{3} << 40), "3 TB");
  EXPECT_EQ(shell::BytesWithDesc(2048), "2048 (2 KB)");
  EXPECT_EQ(shell::PercentOf(1, 3), "33.33%");
  EXPECT_EQ(shell::PercentOf(5, 0), "0.00%");
}

TEST(AdminFormatTest, ClusterAndDatanodeReportLines) {
  FsStats stats;
  stats.capacity = 3000;
  stats.used = 1000;
  stats.remaining = 1000;
  stats.under_replicated_blocks = 4;
  stats.corrupt_blocks = 1;
  stats.missing_blocks = 2;
  stats.pending_deletion_blocks = 7;
  stats.in_safe_mode = true;
  const std::string cluster = shell::FormatClusterReport(stats);
  EXPECT_NE(cluster.find("Configured Capacity: 3000 (2.93 KB)\n"), std::string::npos) << cluster;
  EXPECT_NE(cluster.find("Present Capacity: 2000 (1.95 KB)\n"), std::string::npos);
  EXPECT_NE(cluster.find("DFS Used%: 50.00%\n"), std::string::npos);
  EXPECT_NE(cluster.find("Safe mode is ON\n"), std::string::npos);
  EXPECT_NE(cluster.find("\tUnder replicated blocks: 4\n"), std::string::npos);
  EXPECT_NE(cluster.find("\tBlocks with corrupt replicas: 1\n"), std::string::npos);
  EXPECT_NE(cluster.find("\tMissing blocks: 2\n"), std::string::npos);
  EXPECT_NE(cluster.find("\tPending deletion blocks: 7\n"), std::string::npos);

  DatanodeReport node;
  node.host = "10.0.0.5";
  node.data_port = 9866;
  node.rack = "/r1";
  node.admin_state = "Decommission In Progress";
  node.capacity = 4096;
  node.used = 1024;
  node.remaining = 2048;
  node.num_blocks = 12;
  node.active_transfers = 3;
  const std::string text = shell::FormatDatanodeReport(node, 1'700'000'000);
  EXPECT_EQ(text.rfind("Name: 10.0.0.5:9866 (10.0.0.5)\n", 0), 0u) << text;
  EXPECT_NE(text.find("Rack: /r1\n"), std::string::npos);
  EXPECT_NE(text.find("Decommission Status : Decommission in progress\n"), std::string::npos);
  EXPECT_NE(text.find("Non DFS Used: 1024 (1 KB)\n"), std::string::npos);
  EXPECT_NE(text.find("DFS Used%: 25.00%\n"), std::string::npos);
  EXPECT_NE(text.find("DFS Remaining%: 50.00%\n"), std::string::npos);
  EXPECT_NE(text.find("Xceivers: 3\n"), std::string::npos);
  EXPECT_NE(text.find("Num of Blocks: 12\n"), std::string::npos);
  EXPECT_NE(text.find("Last contact: "), std::string::npos);
  EXPECT_EQ(shell::DecommissionStatus("In Service"), "Normal");
  EXPECT_EQ(shell::DecommissionStatus("Decommissioned"), "Decommissioned");
}

BlockHealthInfo Block(uint64_t id, std::vector<std::string> live, int32_t expected = 3,
                      std::vector<std::string> corrupt = {}) {
  BlockHealthInfo b;
  b.block_id = id;
  b.generation_stamp = 1001;
  b.length = 100;
  b.expected_replication = expected;
  b.complete = true;
  b.live = std::move(live);
  b.corrupt = std::move(corrupt);
  return b;
}

FsckReport NewReport(FsckOptions options) {
  return FsckReport(options, {{"a:1", "In Service"}, {"b:1", "In Service"}, {"c:1", "In Service"}},
                    {{"a:1", "/default-rack"}, {"b:1", "/default-rack"}, {"c:1", "/default-rack"}},
                    3, 3);
}

TEST(FsckReportTest, HealthyFileWithBlocksAndLocations) {
  FsckOptions options;
  options.files = options.blocks = options.locations = true;
  FsckReport report = NewReport(options);
  FileHealthInfo health;
  health.length = 200;
  health.replication = 3;
  health.blocks = {Block(7, {"a:1", "b:1", "c:1"}), Block(8, {"a:1", "b:1", "c:1"})};
  EXPECT_EQ(report.AddDirectory("/d"), "/d <dir>\n");
  EXPECT_EQ(report.AddFile("/d/f", FileInfo{}, health),
            "/d/f 200 bytes, replicated: replication=3, 2 block(s):  OK\n"
            "0. blk_7_1001 len=100 Live_repl=3 [a:1, b:1, c:1]\n"
            "1. blk_8_1001 len=100 Live_repl=3 [a:1, b:1, c:1]\n\n");
  EXPECT_TRUE(report.healthy());
  const std::string summary = report.Summary();
  EXPECT_EQ(summary.rfind("Status: HEALTHY\n", 0), 0u) << summary;
  EXPECT_NE(summary.find(" Total size:\t200 B\n"), std::string::npos);
  EXPECT_NE(summary.find(" Total dirs:\t1\n"), std::string::npos);
  EXPECT_NE(summary.find(" Total files:\t1\n"), std::string::npos);
  EXPECT_NE(summary.find(" Total blocks (validated):\t2 (avg. block size 100 B)\n"),
            std::string::npos);
  EXPECT_NE(summary.find(" Minimally replicated blocks:\t2 (100.0 %)\n"), std::string::npos);
  EXPECT_NE(summary.find(" Average block replication:\t3.0\n"), std::string::npos);
  EXPECT_NE(summary.find(" Number of data-nodes:\t\t3\n"), std::string::npos);
  EXPECT_NE(summary.find(" Number of racks:\t\t1\n"), std::string::npos);
}

TEST(FsckReportTest, UnderReplicatedIsReportedButHealthy) {
  FsckReport report = NewReport(FsckOptions{});
  FileHealthInfo health;
  health.length = 100;
  health.replication = 3;
  health.blocks = {Block(9, {"a:1"})};
  EXPECT_EQ(report.AddFile("/f", FileInfo{}, health),
            "/f: Under replicated blk_9_1001. Target Replicas is 3 but found 1 live "
            "replica(s), 0 decommissioned replica(s), 0 decommissioning replica(s).\n");
  EXPECT_TRUE(report.healthy());
  const std::string summary = report.Summary();
  EXPECT_NE(summary.find(" Under-replicated blocks:\t1 (100.0 %)\n"), std::string::npos) << summary;
  EXPECT_NE(summary.find(" Missing replicas:\t\t2 (66.666667 %)\n"), std::string::npos) << summary;
}

TEST(FsckReportTest, MissingAndCorruptBlocksMakeItCorrupt) {
  FsckOptions options;
  options.files = options.blocks = true;
  FsckReport report = NewReport(options);
  FileHealthInfo health;
  health.length = 300;
  health.replication = 3;
  health.blocks = {Block(1, {"a:1", "b:1", "c:1"}), Block(2, {}), Block(3, {}, 3, {"a:1"})};
  const std::string text = report.AddFile("/f", FileInfo{}, health);
  EXPECT_EQ(text,
            "/f 300 bytes, replicated: replication=3, 3 block(s):  CORRUPT block blk_3_1001\n"
            " MISSING 1 blocks of total size 100 B\n"
            "0. blk_1_1001 len=100 Live_repl=3\n"
            "1. blk_2_1001 len=100 MISSING!\n"
            "2. blk_3_1001 len=100 Live_repl=0\n\n");
  EXPECT_FALSE(report.healthy());
  const std::string summary = report.Summary();
  EXPECT_EQ(summary.rfind("Status: CORRUPT\n", 0), 0u);
  EXPECT_NE(summary.find("  CORRUPT FILES:\t1\n"), std::string::npos) << summary;
  EXPECT_NE(summary.find(" Missing blocks:\t\t1\n"), std::string::npos);
  EXPECT_NE(summary.find(" Corrupt blocks:\t\t1\n"), std::string::npos);
}

TEST(FsckReportTest, OpenFilesAreCountedApart) {
  FsckReport report = NewReport(FsckOptions{});
  FileInfo open;
  open.length = 10;
  open.block_size = 4;
  EXPECT_EQ(report.AddOpenFile("/open", open), "");
  const std::string summary = report.Summary();
  EXPECT_NE(summary.find(" Total files:\t0 (Files currently being written: 1)\n"),
            std::string::npos)
      << summary;
  EXPECT_NE(summary.find("(Total open file blocks (not validated): 3)"), std::string::npos);
  EXPECT_TRUE(report.healthy());
}

TEST(FsckReportTest, JavaFloat) {
  EXPECT_EQ(shell::JavaFloat(3), "3.0");
  EXPECT_EQ(shell::JavaFloat(100), "100.0");
  EXPECT_EQ(shell::JavaFloat(2.5), "2.5");
  EXPECT_EQ(shell::JavaFloat(200.0 / 3), "66.666667");
}

TEST(HostsFileTest, ParsesEntriesCommentsAndBlankLines) {
  Result<std::vector<std::string>> entries =
      ParseHostsFile("# decommission these\n\nhost1\n10.0.0.2:9866  host3 # trailing\n  \n");
  ASSERT_TRUE(entries.ok()) << entries.status();
  EXPECT_EQ(*entries, (std::vector<std::string>{"host1", "10.0.0.2:9866", "host3"}));
  EXPECT_TRUE(ParseHostsFile("").ok());
}

TEST(HostsFileTest, RejectsBadEntriesNamingTheLine) {
  for (const char* bad : {"host:0\n", "ok\nhost:70000\n", "host:abc\n", ":9866\n", "a:b:c\n"}) {
    Result<std::vector<std::string>> entries = ParseHostsFile(bad);
    EXPECT_FALSE(entries.ok()) << bad;
    if (!entries.ok()) {
      EXPECT_NE(entries.status().message().find("line "), std::string::npos)
          << entries.status().message();
    }
  }
  EXPECT_FALSE(ReadHostsFile("/nonexistent/excludes").ok());
}

TEST(HostsFileTest, UnionOfFileAndCommands) {
  DecommissionHosts hosts;
  hosts.SetFileEntries({"h1", "h2:5"}, nullptr);
  hosts.SetByCommand("h3:7", true, nullptr);
  hosts.SetByCommand("h2:5", true, nullptr);
  EXPECT_EQ(hosts.Union(), (std::vector<std::string>{"h1", "h2:5", "h3:7"}));
  EXPECT_EQ(hosts.FileEntryFor("h1", 99), "h1");
  EXPECT_EQ(hosts.FileEntryFor("h2", 5), "h2:5");
  EXPECT_EQ(hosts.FileEntryFor("h3", 7), "");
  hosts.SetByCommand("h3:7", false, nullptr);
  hosts.SetFileEntries({}, nullptr);
  EXPECT_EQ(hosts.Union(), (std::vector<std::string>{"h2:5"}));
}

}  // namespace
}  // namespace talus
