// Three namenodes sharing the Raft journal, as an operator sees them: one leader, every member
// replicating (dfsadmin -journal's peer table and /api/v1/cluster), a killed leader replaced
// and a restarted member catching up, a hung member shown as unreachable.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "talus/file_system.h"
#include "test/support/client_data_util.h"
#include "test/support/http_client.h"
#include "test/support/mini_cluster.h"

namespace talus {
namespace {

using Args = std::vector<std::string>;
using json = nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using test::CommandResult;

CommandResult Admin(const std::string& uri, const Args& args,
                    std::chrono::milliseconds timeout = seconds(30)) {
  Args full{"dfsadmin", "-fs", uri};
  full.insert(full.end(), args.begin(), args.end());
  return test::RunTalus(full, {}, "", timeout);
}

CommandResult Dfs(const std::string& uri, const Args& args) {
  Args full{"dfs", "-fs", uri};
  full.insert(full.end(), args.begin(), args.end());
  return test::RunTalus(full);
}

std::string Describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
}

// The paragraph of -journal about the namenode at `address` (up to the next one).
std::string Paragraph(const std::string& report, const std::string& address) {
  const size_t start = report.find("\nNamenode " + address + "\n");
  if (start == std::string::npos) return "";
  const size_t end = report.find("\n\nNamenode ", start + 1);
  return report.substr(start + 1, end == std::string::npos ? std::string::npos : end - start);
}

// The number after "LABEL: " in `text`, or -1.
int64_t Field(const std::string& text, const std::string& label) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex("(^|\n)" + label + ": (-?[0-9]+)"))) return -1;
  return std::stoll(m[2]);
}

std::string Word(const std::string& text, const std::string& label) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex("(^|\n)" + label + ": ([^\n]*)"))) return "";
  return m[2];
}

// Peer id -> match index, from a leader's peer table.
std::map<int, int64_t> PeerMatches(const std::string& paragraph) {
  std::map<int, int64_t> out;
  std::regex row("\n  ([0-9]+)(?: \\(self\\))?\\s+\\S+\\s+\\S+\\s+([0-9]+)\\s+([0-9]+)\\s");
  for (auto it = std::sregex_iterator(paragraph.begin(), paragraph.end(), row);
       it != std::sregex_iterator(); ++it) {
    out[std::stoi((*it)[1].str())] = std::stoll((*it)[2].str());
  }
  return out;
}

json ClusterJson(const std::string& http_address) {
  Result<test::HttpAnswer> answer = test::HttpGet(http_address, "/api/v1/cluster");
  if (!answer.ok() || answer->status != 200) return json();
  Result<json> body = answer->Json();
  return body.ok() ? *body : json();
}

class NamenodeGroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test::MiniClusterOptions options;
    options.namenodes = 3;
    options.datanodes = 3;
    options.extra_flags = {"--heartbeat_interval_ms=200"};
    auto cluster = test::MiniCluster::Start(options);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = std::move(*cluster);
  }

  // -journal until the leader's peer table shows every member at its last index.
  bool WaitForFullReplication(std::string* report, int* leader_index) {
    return test::WaitFor(
        [&] {
          Result<int> leader = cluster_->LeaderIndex(seconds(5));
          if (!leader.ok()) return false;
          *leader_index = *leader;
          CommandResult r = Admin(cluster_->uri(), {"-journal"});
          *report = r.out + r.err;
          if (r.exit_code != 0) return false;
          const std::string para = Paragraph(r.out, cluster_->namenode_address(*leader));
          const int64_t last = Field(para, "Last index");
          std::map<int, int64_t> matches = PeerMatches(para);
          if (matches.size() != 3 || last <= 0) return false;
          for (const auto& [id, match] : matches) {
            if (match != last) return false;
          }
          return true;
        },
        seconds(20), milliseconds(200));
  }

  std::unique_ptr<test::MiniCluster> cluster_;
};

TEST_F(NamenodeGroupTest, OneLeaderEveryPeerReplicatesAndFailoverKeepsTheNamespace) {
  ASSERT_EQ(cluster_->num_namenodes(), 3);
  EXPECT_EQ(cluster_->FileSystemUri(),
            "talus://" + cluster_->namenode_address(0) + "," + cluster_->namenode_address(1) +
                "," + cluster_->namenode_address(2));
  Result<int> leader = cluster_->LeaderIndex();
  ASSERT_TRUE(leader.ok()) << leader.status();

  // A mutation and a file through the URI naming the group.
  ASSERT_EQ(Dfs(cluster_->uri(), {"-mkdir", "-p", "/group/a"}).exit_code, 0);
  ClientOptions client;
  client.default_block_size = 1 << 20;
  auto fs = FileSystem::Connect(cluster_->uri(), client);
  ASSERT_TRUE(fs.ok()) << fs.status();
  const std::string data = test::RandomBytes((1 << 20) + 17, 7);
  ASSERT_TRUE(test::WriteWholeFile(**fs, "/group/f", data, 65536, 1 << 20).ok());

  // -journal: every namenode answers; exactly one leads, the others follow it in its term;
  // the leader's table lists the three members, each at the leader's last index.
  std::string report;
  int leader_index = -1;
  ASSERT_TRUE(WaitForFullReplication(&report, &leader_index)) << report;
  CommandResult journal = Admin(cluster_->uri(), {"-journal"});
  ASSERT_EQ(journal.exit_code, 0) << Describe(journal);
  EXPECT_NE(journal.out.find("Namenodes answering: 3 of 3\n"), std::string::npos) << journal.out;
  const std::string leader_para =
      Paragraph(journal.out, cluster_->namenode_address(leader_index));
  EXPECT_EQ(Word(leader_para, "Journal"), "raft") << leader_para;
  EXPECT_EQ(Word(leader_para, "Role"), "leader") << leader_para;
  EXPECT_EQ(Field(leader_para, "Namenode id"), leader_index + 1) << leader_para;
  const int64_t term = Field(leader_para, "Term");
  EXPECT_GE(term, 1);
  EXPECT_NE(leader_para.find("Peers (3):"), std::string::npos) << leader_para;
  EXPECT_NE(journal.out.find("Leader: namenode id " + std::to_string(leader_index + 1) + " at " +
                             cluster_->namenode_address(leader_index) + ", term " +
                             std::to_string(term) + "\n"),
            std::string::npos)
      << journal.out;
  for (int i = 0; i < 3; ++i) {
    if (i == leader_index) continue;
    const std::string para = Paragraph(journal.out, cluster_->namenode_address(i));
    EXPECT_EQ(Word(para, "Role"), "follower") << para;
    EXPECT_EQ(Field(para, "Term"), term) << para;
    EXPECT_EQ(Word(para, "Leader"), std::to_string(leader_index + 1) + " (" +
                                        cluster_->namenode_address(leader_index) + ")")
        << para;
    EXPECT_EQ(para.find("Peers ("), std::string::npos) << para;
  }

  // The status pages say the same.
  json on_leader = ClusterJson(cluster_->namenode_http_address(leader_index));
  ASSERT_TRUE(on_leader.is_object());
  EXPECT_EQ(on_leader["namenode"]["journal"], "raft");
  EXPECT_EQ(on_leader["namenode"]["role"], "leader");
  EXPECT_EQ(on_leader["namenode"]["term"], term);
  ASSERT_EQ(on_leader["namenode"]["peers"].size(), 3u) << on_leader.dump();
  for (const json& peer : on_leader["namenode"]["peers"]) {
    EXPECT_TRUE(peer["match_index"].is_number()) << peer.dump();
    EXPECT_TRUE(peer["lag"].is_number()) << peer.dump();
  }
  const int follower = (leader_index + 1) % 3;
  json on_follower = ClusterJson(cluster_->namenode_http_address(follower));
  ASSERT_TRUE(on_follower.is_object());
  EXPECT_EQ(on_follower["namenode"]["role"], "follower");
  EXPECT_EQ(on_follower["namenode"]["leader_id"], leader_index + 1);
  EXPECT_EQ(on_follower["namenode"]["leader_address"], cluster_->namenode_address(leader_index));

  // The leader is killed: another is elected, the namespace and the file are intact, and -journal
  // shows the dead one as unreachable.
  ASSERT_TRUE(cluster_->KillNamenode(leader_index, SIGKILL).ok());
  Result<int> next = cluster_->LeaderIndex(seconds(15));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_NE(*next, leader_index);
  ASSERT_EQ(Dfs(cluster_->uri(), {"-test", "-d", "/group/a"}).exit_code, 0);
  Result<std::string> read = test::ReadWholeFile(**fs, "/group/f");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(*read == data);
  ASSERT_EQ(Dfs(cluster_->uri(), {"-mkdir", "/group/after"}).exit_code, 0);
  CommandResult degraded = Admin(cluster_->uri(), {"-journal"});
  EXPECT_EQ(degraded.exit_code, 0) << Describe(degraded);
  EXPECT_NE(degraded.out.find("Namenodes answering: 2 of 3\n"), std::string::npos)
      << degraded.out;
  EXPECT_NE(Paragraph(degraded.out, cluster_->namenode_address(leader_index))
                .find("Unreachable: "),
            std::string::npos)
      << degraded.out;

  // Back on the same ports and directory, it catches up: all three at the last index again.
  const std::string old_address = cluster_->namenode_address(leader_index);
  ASSERT_TRUE(cluster_->RestartNamenode(leader_index).ok());
  EXPECT_EQ(cluster_->namenode_address(leader_index), old_address);
  ASSERT_TRUE(WaitForFullReplication(&report, &leader_index)) << report;
}

TEST_F(NamenodeGroupTest, AHungFollowerIsShownUnreachableAndTheGroupGoesOn) {
  Result<int> leader = cluster_->LeaderIndex();
  ASSERT_TRUE(leader.ok()) << leader.status();
  const int follower = (*leader + 1) % 3;
  ASSERT_TRUE(cluster_->KillNamenode(follower, SIGSTOP).ok());
  // Mutations still commit with two of three. A client that tries the stopped namenode first
  // waits for its RPC timeout there (20 s by default), so this one is shortened.
  CommandResult mkdir = Dfs(cluster_->uri(), {"-D", "talus.client.rpc-timeout-ms=2000",
                                              "-mkdir", "/while-stopped"});
  EXPECT_EQ(mkdir.exit_code, 0) << Describe(mkdir);
  CommandResult journal = Admin(cluster_->uri(), {"-journal"});
  EXPECT_EQ(journal.exit_code, 0) << Describe(journal);
  EXPECT_NE(Paragraph(journal.out, cluster_->namenode_address(follower)).find("Unreachable: "),
            std::string::npos)
      << journal.out;
  ASSERT_TRUE(cluster_->KillNamenode(follower, SIGCONT).ok());
  std::string report;
  int leader_index = -1;
  EXPECT_TRUE(WaitForFullReplication(&report, &leader_index)) << report;
}

// The leader is cut off from the others (the transport's fault hook): they elect a new leader
// that serves, the old one steps down; healed, it follows and catches up.
TEST_F(NamenodeGroupTest, AnIsolatedLeaderStepsDownAndRejoinsWhenHealed) {
  Result<int> leader = cluster_->LeaderIndex();
  ASSERT_TRUE(leader.ok()) << leader.status();
  const int old = *leader;
  std::vector<int> others;
  for (int i = 0; i < 3; ++i) {
    if (i != old) others.push_back(i + 1);
  }
  ASSERT_TRUE(cluster_->SetBlockedPeers(old, others).ok());
  int next = -1;
  ASSERT_TRUE(test::WaitFor(
      [&] {
        Result<int> now = cluster_->LeaderIndex(seconds(1));
        next = now.ok() ? *now : -1;
        return next >= 0 && next != old;
      },
      seconds(15), milliseconds(100)));
  CommandResult mkdir = Dfs(cluster_->uri(), {"-mkdir", "/while-isolated"});
  EXPECT_EQ(mkdir.exit_code, 0) << Describe(mkdir);
  // Without a quorum the old leader gives up leading.
  std::string para;
  EXPECT_TRUE(test::WaitFor(
      [&] {
        CommandResult r = Admin(cluster_->uri(), {"-journal"});
        para = Paragraph(r.out, cluster_->namenode_address(old));
        return !para.empty() && Word(para, "Role") != "leader";
      },
      seconds(15), milliseconds(200)))
      << para;

  ASSERT_TRUE(cluster_->SetBlockedPeers(old, {}).ok());
  std::string report;
  int leader_index = -1;
  ASSERT_TRUE(WaitForFullReplication(&report, &leader_index)) << report;
  CommandResult journal = Admin(cluster_->uri(), {"-journal"});
  EXPECT_EQ(Word(Paragraph(journal.out, cluster_->namenode_address(old)), "Role"), "follower")
      << journal.out;
  EXPECT_EQ(Dfs(cluster_->uri(), {"-test", "-d", "/while-isolated"}).exit_code, 0);

  // Only members of a group have a Raft transport to cut.
  EXPECT_FALSE(cluster_->SetBlockedPeers(7, {}).ok());
}

}  // namespace
}  // namespace talus
