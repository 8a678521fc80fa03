// `talus dfsadmin` end to end: the real binary against a namenode and real datanodes, checking
// what an operator reads (HDFS's lines), the exit codes, and that the namenode acted (safe mode
// refuses mutations, decommission states show in the report, a dead node is listed as dead).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "talus/file_system.h"
#include "test/support/client_data_util.h"
#include "test/support/mini_cluster.h"

namespace talus {
namespace {

using Args = std::vector<std::string>;
using std::chrono::seconds;
using test::CommandResult;

constexpr int64_t kBlock = 1 << 20;

std::vector<std::string> FastFlags() {
  return {"--heartbeat_interval_ms=200", "--datanode_dead_after_ms=3000"};
}

// `talus dfsadmin ARGS...` against `uri`, as `user` when given (else the superuser: the user
// running the test started the namenode).
CommandResult Admin(const std::string& uri, const Args& args, const std::string& user = "",
                    std::chrono::milliseconds timeout = seconds(30)) {
  Args full{"dfsadmin", "-fs", uri};
  full.insert(full.end(), args.begin(), args.end());
  std::map<std::string, std::string> env;
  if (!user.empty()) env["TALUS_USER_NAME"] = user;
  return test::RunTalus(full, env, "", timeout);
}

CommandResult Dfs(const std::string& uri, const Args& args) {
  Args full{"dfs", "-fs", uri};
  full.insert(full.end(), args.begin(), args.end());
  return test::RunTalus(full);
}

// The number after "LABEL: " on its first line in `text`, or -1.
int64_t Field(const std::string& text, const std::string& label) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex("(^|\n)\t?" + label + ": (-?[0-9]+)"))) return -1;
  return std::stoll(m[2]);
}

// The paragraph of -report about the node at `address` (empty when not listed).
std::string NodeParagraph(const std::string& report, const std::string& address) {
  const size_t start = report.find("Name: " + address + " (");
  if (start == std::string::npos) return "";
  const size_t end = report.find("\n\n", start);
  return report.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

class DfsAdminTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    exclude_dir_ = new test::TempDir();
    exclude_file_ = exclude_dir_->path() + "/excludes";
    std::ofstream(exclude_file_) << "# nothing excluded yet\n";
    test::MiniClusterOptions options;
    options.datanodes = 3;
    options.extra_flags = FastFlags();
    options.extra_flags.push_back("--hosts_exclude_file=" + exclude_file_);
    auto cluster = test::MiniCluster::Start(options);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = std::move(*cluster).release();
    ClientOptions client;
    client.default_block_size = kBlock;
    auto fs = FileSystem::Connect(cluster_->uri(), client);
    ASSERT_TRUE(fs.ok()) << fs.status();
    fs_ = std::move(*fs).release();
  }
  static void TearDownTestSuite() {
    delete fs_;
    delete cluster_;
    delete exclude_dir_;
    fs_ = nullptr;
    cluster_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(cluster_, nullptr) << "the cluster did not start"; }

  static std::string Uri() { return cluster_->uri(); }
  static void WriteExcludes(const std::string& text) {
    std::ofstream(exclude_file_, std::ios::trunc) << text;
  }
  // Decommission Status of a node as -report shows it.
  static std::string StatusOf(const std::string& address) {
    CommandResult r = Admin(Uri(), {"-report"});
    std::smatch m;
    const std::string para = NodeParagraph(r.out, address);
    if (!std::regex_search(para, m, std::regex("Decommission Status : ([^\n]*)"))) return "";
    return m[1];
  }

  static test::MiniCluster* cluster_;
  static FileSystem* fs_;
  static test::TempDir* exclude_dir_;
  static std::string exclude_file_;
};

test::MiniCluster* DfsAdminTest::cluster_ = nullptr;
FileSystem* DfsAdminTest::fs_ = nullptr;
test::TempDir* DfsAdminTest::exclude_dir_ = nullptr;
std::string DfsAdminTest::exclude_file_;

TEST_F(DfsAdminTest, ReportMatchesStatsAndListsEveryDatanode) {
  ASSERT_TRUE(
      test::WriteWholeFile(*fs_, "/report/f", test::RandomBytes(3 * kBlock, 1), 65536, kBlock)
          .ok());
  // Every replica reported (3 blocks x 3 nodes) before the numbers are compared.
  ASSERT_TRUE(test::WaitFor(
      [] {
        auto health = fs_->GetFileHealth("/report/f");
        if (!health.ok()) return false;
        for (const BlockHealthInfo& b : health->blocks) {
          if (b.live.size() != 3) return false;
        }
        return true;
      },
      seconds(20)));
  auto stats = fs_->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  CommandResult r = Admin(Uri(), {"-report"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(Field(r.out, "Configured Capacity"), stats->capacity) << r.out;
  EXPECT_EQ(Field(r.out, "Under replicated blocks"), stats->under_replicated_blocks);
  EXPECT_EQ(Field(r.out, "Blocks with corrupt replicas"), stats->corrupt_blocks);
  EXPECT_EQ(Field(r.out, "Missing blocks"), 0);
  EXPECT_EQ(Field(r.out, "Total blocks"), stats->total_blocks);
  EXPECT_GE(stats->total_blocks, 3);
  for (const char* line : {"Present Capacity: ", "DFS Remaining: ", "DFS Used: ", "DFS Used%: ",
                           "Replicated Blocks:\n", "\tPending deletion blocks: ",
                           "\n-------------------------------------------------\n",
                           "Live datanodes (3):\n\n", "Dead datanodes (0):\n"}) {
    EXPECT_NE(r.out.find(line), std::string::npos) << line << "\n" << r.out;
  }
  EXPECT_EQ(r.out.find("Safe mode is ON"), std::string::npos);
  int64_t replicas = 0;
  for (int i = 0; i < cluster_->num_datanodes(); ++i) {
    const std::string address = cluster_->datanode_data_address(i);
    const std::string para = NodeParagraph(r.out, address);
    ASSERT_FALSE(para.empty()) << address << "\n" << r.out;
    for (const char* line :
         {"Hostname: 127.0.0.1\n", "Decommission Status : Normal\n",
          "Configured Capacity: ", "DFS Used: ", "Non DFS Used: ", "DFS Remaining: ", "DFS Used%: ",
          "DFS Remaining%: ", "Xceivers: ", "Last contact: "}) {
      EXPECT_NE(para.find(line), std::string::npos) << line << "\n" << para;
    }
    replicas += Field(para, "Num of Blocks");
  }
  auto report = fs_->GetDatanodeReport(DatanodeReportType::kAll);
  ASSERT_TRUE(report.ok());
  int64_t reported = 0;
  for (const DatanodeReport& n : *report) reported += n.num_blocks;
  EXPECT_EQ(replicas, reported);
  EXPECT_GE(replicas, 9);

  // Filters: only the sections asked for.
  CommandResult live = Admin(Uri(), {"-report", "-live"});
  EXPECT_EQ(live.exit_code, 0);
  EXPECT_NE(live.out.find("Live datanodes (3):"), std::string::npos);
  EXPECT_EQ(live.out.find("Dead datanodes"), std::string::npos);
  CommandResult decom = Admin(Uri(), {"-report", "-decommissioning"});
  EXPECT_NE(decom.out.find("Decommissioning datanodes (0):"), std::string::npos) << decom.out;
  EXPECT_EQ(decom.out.find("Live datanodes"), std::string::npos);
  CommandResult bad = Admin(Uri(), {"-report", "-bogus"});
  EXPECT_EQ(bad.exit_code, 255);
  EXPECT_NE(bad.err.find("-report: Illegal option -bogus"), std::string::npos) << bad.err;
}

TEST_F(DfsAdminTest, SafeModeEnterRefusesMutationsUntilLeave) {
  CommandResult enter = Admin(Uri(), {"-safemode", "enter"});
  EXPECT_EQ(enter.exit_code, 0) << enter.err;
  EXPECT_EQ(enter.out, "Safe mode is ON\n");
  CommandResult mkdir = Dfs(Uri(), {"-mkdir", "/safe"});
  EXPECT_EQ(mkdir.exit_code, 1);
  EXPECT_NE(mkdir.err.find("safe mode"), std::string::npos) << mkdir.err;
  EXPECT_EQ(Admin(Uri(), {"-safemode", "get"}).out, "Safe mode is ON\n");
  // Anyone may ask; only the superuser may change it.
  EXPECT_EQ(Admin(Uri(), {"-safemode", "get"}, "mallory").out, "Safe mode is ON\n");
  CommandResult denied = Admin(Uri(), {"-safemode", "leave"}, "mallory");
  EXPECT_EQ(denied.exit_code, 255);
  EXPECT_EQ(denied.err,
            "dfsadmin: Access denied for user mallory. Superuser privilege is required\n");
  EXPECT_EQ(Admin(Uri(), {"-safemode", "get"}).out, "Safe mode is ON\n");
  // A manual safe mode never ends by itself: wait gives up at its timeout.
  CommandResult wait = Admin(Uri(), {"-safemode", "wait", "-timeout", "300"});
  EXPECT_EQ(wait.exit_code, 255);
  EXPECT_NE(wait.err.find("dfsadmin: safe mode is still ON after 300 ms"), std::string::npos)
      << wait.err;
  auto stats = fs_->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_TRUE(stats->in_safe_mode);
  EXPECT_NE(Admin(Uri(), {"-report"}).out.find("Safe mode is ON\n"), std::string::npos);

  CommandResult leave = Admin(Uri(), {"-safemode", "leave"});
  EXPECT_EQ(leave.exit_code, 0) << leave.err;
  EXPECT_EQ(leave.out, "Safe mode is OFF\n");
  EXPECT_EQ(Dfs(Uri(), {"-mkdir", "/safe"}).exit_code, 0);
  CommandResult off_wait = Admin(Uri(), {"-safemode", "wait"});
  EXPECT_EQ(off_wait.exit_code, 0);
  EXPECT_EQ(off_wait.out, "Safe mode is OFF\n");
  EXPECT_EQ(Admin(Uri(), {"-safemode", "enter"}, "mallory").exit_code, 255);
  EXPECT_EQ(Admin(Uri(), {"-safemode", "get"}).out, "Safe mode is OFF\n");
  CommandResult bad = Admin(Uri(), {"-safemode", "sideways"});
  EXPECT_EQ(bad.exit_code, 255);
  EXPECT_NE(bad.err.find("-safemode: Illegal action sideways"), std::string::npos) << bad.err;
}

TEST_F(DfsAdminTest, DecommissionOfAnUnknownNodeFailsClearly) {
  CommandResult unknown = Admin(Uri(), {"-decommission", "127.0.0.1:1"});
  EXPECT_EQ(unknown.exit_code, 255);
  EXPECT_EQ(unknown.out, "");
  EXPECT_NE(unknown.err.find("dfsadmin: no datanode is registered at 127.0.0.1:1"),
            std::string::npos)
      << unknown.err;
  CommandResult malformed = Admin(Uri(), {"-decommission", "somehost"});
  EXPECT_EQ(malformed.exit_code, 255);
  EXPECT_NE(malformed.err.find("\"somehost\" is not HOST:PORT"), std::string::npos);
  CommandResult missing = Admin(Uri(), {"-recommission"});
  EXPECT_EQ(missing.exit_code, 255);
  CommandResult denied =
      Admin(Uri(), {"-decommission", cluster_->datanode_data_address(0)}, "mallory");
  EXPECT_EQ(denied.exit_code, 255);
  EXPECT_NE(denied.err.find("Superuser privilege is required"), std::string::npos);
  EXPECT_EQ(StatusOf(cluster_->datanode_data_address(0)), "Normal");
  EXPECT_EQ(Admin(Uri(), {"-refreshNodes"}, "mallory").exit_code, 255);
}

TEST_F(DfsAdminTest, DecommissionAndRecommissionShowInTheReport) {
  const std::string node = cluster_->datanode_data_address(1);
  CommandResult start = Admin(Uri(), {"-decommission", node});
  ASSERT_EQ(start.exit_code, 0) << start.err;
  EXPECT_EQ(start.out, "Decommission started for " + node + "\n");
  // With three datanodes and three replicas per block, its replicas have nowhere else to go
  // (unless it holds none): in progress or, if it holds nothing, decommissioned.
  std::string status = StatusOf(node);
  EXPECT_TRUE(status == "Decommission in progress" || status == "Decommissioned") << status;
  CommandResult decom = Admin(Uri(), {"-report", "-decommissioning"});
  // With two nodes left in service a block needs only those two, so the node may finish
  // decommissioning between the two reports; it is listed while still in progress.
  if (status == "Decommission in progress" && StatusOf(node) == "Decommission in progress") {
    EXPECT_NE(decom.out.find("Name: " + node + " ("), std::string::npos) << decom.out;
  }
  // Nothing new is placed on it: getStats counts only nodes in service.
  CommandResult recommission = Admin(Uri(), {"-recommission", node});
  ASSERT_EQ(recommission.exit_code, 0) << recommission.err;
  EXPECT_EQ(recommission.out, "Recommissioned " + node + "\n");
  EXPECT_EQ(StatusOf(node), "Normal");
}

TEST_F(DfsAdminTest, RefreshNodesAppliesTheExcludeFile) {
  const std::string node = cluster_->datanode_data_address(2);
  WriteExcludes("# maintenance\n" + node + "\n");
  CommandResult refresh = Admin(Uri(), {"-refreshNodes"});
  ASSERT_EQ(refresh.exit_code, 0) << refresh.err;
  EXPECT_EQ(refresh.out, "Refresh nodes successful\n");
  EXPECT_NE(StatusOf(node), "Normal");
  // A node listed in the file is not recommissioned by command.
  CommandResult refused = Admin(Uri(), {"-recommission", node});
  EXPECT_EQ(refused.exit_code, 255);
  EXPECT_NE(refused.err.find("hosts exclude file"), std::string::npos) << refused.err;
  // A bad file changes nothing.
  WriteExcludes("good-host\nbad-host:99999\n");
  CommandResult bad = Admin(Uri(), {"-refreshNodes"});
  EXPECT_EQ(bad.exit_code, 255);
  EXPECT_NE(bad.err.find("line 2"), std::string::npos) << bad.err;
  EXPECT_NE(StatusOf(node), "Normal");
  // Off the list: back in service.
  WriteExcludes("\n");
  ASSERT_EQ(Admin(Uri(), {"-refreshNodes"}).exit_code, 0);
  EXPECT_EQ(StatusOf(node), "Normal");
}

TEST_F(DfsAdminTest, HelpAndUsage) {
  CommandResult help = Admin(Uri(), {"-help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* word :
       {"-report", "-safemode", "-decommission", "-recommission", "-refreshNodes", "-journal"}) {
    EXPECT_NE(help.out.find(word), std::string::npos) << word;
  }
  EXPECT_EQ(Admin(Uri(), {"-help", "safemode"}).exit_code, 0);
  CommandResult journal_help = Admin(Uri(), {"-help", "journal"});
  EXPECT_EQ(journal_help.exit_code, 0);
  EXPECT_NE(journal_help.out.find("match index"), std::string::npos) << journal_help.out;
  CommandResult none = test::RunTalus({"dfsadmin"});
  EXPECT_EQ(none.exit_code, 255);
  EXPECT_NE(none.err.find("Usage: talus dfsadmin"), std::string::npos);
  CommandResult unknown = Admin(Uri(), {"-frobnicate"});
  EXPECT_EQ(unknown.exit_code, 255);
  EXPECT_NE(unknown.err.find("-frobnicate: Unknown command"), std::string::npos);
}

// A single namenode answers with its local journal: the leader of term 1, no peers, its
// indexes moving with each mutation.
TEST_F(DfsAdminTest, JournalOfASingleNamenodeIsLocalAndLeads) {
  const std::string address = cluster_->namenode_address(0);
  CommandResult before = Admin(Uri(), {"-journal"});
  ASSERT_EQ(before.exit_code, 0) << before.err;
  EXPECT_EQ(before.err, "");
  EXPECT_NE(before.out.find("Journal of " + Uri() + "\n"), std::string::npos) << before.out;
  EXPECT_NE(before.out.find("Leader: namenode id 1 at " + address + ", term 1\n"),
            std::string::npos)
      << before.out;
  EXPECT_NE(before.out.find("Namenodes answering: 1 of 1\n"), std::string::npos) << before.out;
  EXPECT_NE(before.out.find("\nNamenode " + address + "\nJournal: local\nNamenode id: 1\n"
                            "Role: leader\nTerm: 1\n"),
            std::string::npos)
      << before.out;
  EXPECT_EQ(before.out.find("Peers ("), std::string::npos) << before.out;
  const int64_t last = Field(before.out, "Last index");
  EXPECT_GT(last, 0) << before.out;  // the datanodes' registrations and this suite's writes
  EXPECT_EQ(Field(before.out, "Applied index"), last) << before.out;
  EXPECT_EQ(Field(before.out, "Commit index"), last) << before.out;

  ASSERT_EQ(Dfs(Uri(), {"-mkdir", "-p", "/journal/a/b"}).exit_code, 0);
  CommandResult after = Admin(Uri(), {"-journal"});
  ASSERT_EQ(after.exit_code, 0) << after.err;
  EXPECT_GT(Field(after.out, "Last index"), last) << after.out;

  CommandResult extra = Admin(Uri(), {"-journal", "x"});
  EXPECT_EQ(extra.exit_code, 255);
  EXPECT_NE(extra.err.find("Usage: talus dfsadmin [-journal]"), std::string::npos) << extra.err;
}

// Every namenode of the URI is asked: one that does not answer is shown as unreachable, and
// without any leader answering the command fails.
TEST_F(DfsAdminTest, JournalShowsUnreachableNamenodes) {
  const std::string address = cluster_->namenode_address(0);
  // Nothing listens on port 1 of loopback (a privileged port no test daemon uses).
  const std::string nowhere = "127.0.0.1:1";
  CommandResult mixed = Admin("talus://" + address + "," + nowhere, {"-journal"});
  EXPECT_EQ(mixed.exit_code, 0) << mixed.err;
  EXPECT_NE(mixed.out.find("Namenodes answering: 1 of 2\n"), std::string::npos) << mixed.out;
  EXPECT_NE(mixed.out.find("\nNamenode " + nowhere + "\nUnreachable: "), std::string::npos)
      << mixed.out;
  EXPECT_NE(mixed.out.find("Role: leader"), std::string::npos) << mixed.out;

  CommandResult none = Admin("talus://" + nowhere, {"-journal"});
  EXPECT_EQ(none.exit_code, 255);
  EXPECT_NE(none.out.find("Leader: none"), std::string::npos) << none.out;
  EXPECT_NE(none.out.find("Unreachable: "), std::string::npos) << none.out;
  EXPECT_NE(none.err.find("dfsadmin: no namenode of talus://" + nowhere), std::string::npos)
      << none.err;
}

// Its own cluster: a datanode is killed, and the namenode restarted.
TEST(DfsAdminFailureTest, DeadNodeIsListedAndSafeModeWaitEndsAfterRestart) {
  test::MiniClusterOptions options;
  options.datanodes = 2;
  options.extra_flags = FastFlags();
  options.extra_flags.push_back("--safemode_extension_ms=500");
  auto cluster = test::MiniCluster::Start(options);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  test::MiniCluster& mc = **cluster;
  ClientOptions client;
  client.default_replication = 2;
  auto fs = FileSystem::Connect(mc.uri(), client);
  ASSERT_TRUE(fs.ok());
  ASSERT_TRUE(
      test::WriteWholeFile(**fs, "/f", test::RandomBytes(kBlock + 5, 2), 65536, kBlock).ok());

  // Restarted namenode: in safe mode until the datanodes have reported, then -safemode wait
  // returns by itself.
  ASSERT_TRUE(mc.KillNamenode(0, SIGKILL).ok());
  ASSERT_TRUE(mc.RestartNamenode(0).ok());
  CommandResult wait = Admin(mc.uri(), {"-safemode", "wait"}, "", seconds(40));
  EXPECT_EQ(wait.exit_code, 0) << wait.err;
  EXPECT_EQ(wait.out, "Safe mode is OFF\n");
  EXPECT_EQ(Dfs(mc.uri(), {"-mkdir", "/after"}).exit_code, 0);

  const std::string victim = mc.datanode_data_address(1);
  ASSERT_TRUE(mc.KillDatanode(1, SIGKILL).ok());
  CommandResult report;
  ASSERT_TRUE(test::WaitFor(
      [&] {
        report = Admin(mc.uri(), {"-report", "-dead"});
        return report.out.find("Dead datanodes (1):") != std::string::npos;
      },
      seconds(20), std::chrono::milliseconds(200)))
      << report.out;
  EXPECT_NE(report.out.find("Name: " + victim + " ("), std::string::npos) << report.out;
  CommandResult live = Admin(mc.uri(), {"-report", "-live"});
  EXPECT_NE(live.out.find("Live datanodes (1):"), std::string::npos) << live.out;
  EXPECT_EQ(NodeParagraph(live.out, victim), "");
  EXPECT_NE(NodeParagraph(live.out, mc.datanode_data_address(0)), "");
}

}  // namespace
}  // namespace talus
