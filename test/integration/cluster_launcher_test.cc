// `talus cluster up|down|status` as a user runs it, the MiniCluster fixture built on the same
// code, and the process helpers both rely on.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>

#include "cluster/cluster_state.h"
#include "cluster/local_cluster.h"
#include "cluster/net_probe.h"
#include "cluster/process.h"
#include "test/support/http_client.h"
#include "test/support/mini_cluster.h"

namespace talus::test {
namespace {

using namespace std::chrono_literals;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The value of the line "TALUS_FS=..." in `text`, or "".
std::string FileSystemUriIn(const std::string& text) {
  std::smatch match;
  std::regex line("(^|\n)TALUS_FS=([^\n]*)");
  return std::regex_search(text, match, line) ? match[2].str() : "";
}

// The value of the line "TALUS_WEB=..." in `text`, or "".
std::string WebUrlIn(const std::string& text) {
  std::smatch match;
  std::regex line("(^|\n)TALUS_WEB=([^\n]*)");
  return std::regex_search(text, match, line) ? match[2].str() : "";
}

// "namenode 0 running pid=123 role=leader term=1 http=... rpc=127.0.0.1:4000 service_rpc=...
// dir=..." -> fields (role and term only for a running namenode).
struct StatusLine {
  std::string state;
  pid_t pid = 0;
  std::string role;
  std::string term;
  std::string http;         // the status page
  std::string rpc;
  std::string service_rpc;  // the datanode-facing port
};

std::optional<StatusLine> NamenodeStatus(const std::string& status_output) {
  std::smatch match;
  std::regex line(
      "(^|\n)namenode 0 (\\S+) pid=(\\S+)(?: role=(\\S+) term=(\\S+))? http=(\\S+) rpc=(\\S+) "
      "service_rpc=(\\S+) dir=");
  if (!std::regex_search(status_output, match, line)) return std::nullopt;
  StatusLine result;
  result.state = match[2].str();
  result.pid = match[3].str() == "-" ? 0 : std::stoi(match[3].str());
  result.role = match[4].str();
  result.term = match[5].str();
  result.http = match[6].str();
  result.rpc = match[7].str();
  result.service_rpc = match[8].str();
  return result;
}

// The namenode lines of a group's status ("namenode N STATE pid=P [role=R term=T] http=...
// raft=... rpc=... service_rpc=... dir=..."), by index.
struct GroupNamenodeLine {
  std::string state;
  pid_t pid = 0;
  std::string role;
  std::string term;
  std::string http;
  std::string raft;
  std::string rpc;
  std::string service_rpc;
};

std::map<int, GroupNamenodeLine> GroupNamenodeStatuses(const std::string& status_output) {
  std::map<int, GroupNamenodeLine> lines;
  std::regex line(
      "(^|\n)namenode ([0-9]+) (\\S+) pid=(\\S+)(?: role=(\\S+) term=(\\S+))? http=(\\S+) "
      "raft=(\\S+) rpc=(\\S+) service_rpc=(\\S+) dir=");
  for (auto it = std::sregex_iterator(status_output.begin(), status_output.end(), line);
       it != std::sregex_iterator(); ++it) {
    const std::smatch& m = *it;
    GroupNamenodeLine n;
    n.state = m[3].str();
    n.pid = m[4].str() == "-" ? 0 : std::stoi(m[4].str());
    n.role = m[5].str();
    n.term = m[6].str();
    n.http = m[7].str();
    n.raft = m[8].str();
    n.rpc = m[9].str();
    n.service_rpc = m[10].str();
    lines[std::stoi(m[2].str())] = n;
  }
  return lines;
}

// The index of the one namenode whose status line says leader, or -1 (none or several).
int LeaderIn(const std::map<int, GroupNamenodeLine>& lines) {
  int leader = -1;
  for (const auto& [index, line] : lines) {
    if (line.role != "leader") continue;
    if (leader >= 0) return -1;
    leader = index;
  }
  return leader;
}

// "datanode N STATE pid=P data=HOST:PORT http=HOST:PORT rpc=HOST:PORT dir=DIR" lines, by index.
struct DatanodeLine {
  std::string state;
  pid_t pid = 0;
  std::string data;
  std::string http;
  std::string rpc;
  std::string dir;
};

std::map<int, DatanodeLine> DatanodeStatuses(const std::string& status_output) {
  std::map<int, DatanodeLine> lines;
  std::regex line(
      "(^|\n)datanode ([0-9]+) (\\S+) pid=(\\S+) data=(\\S+) http=(\\S+) rpc=(\\S+) "
      "dir=([^\n]*)");
  for (auto it = std::sregex_iterator(status_output.begin(), status_output.end(), line);
       it != std::sregex_iterator(); ++it) {
    const std::smatch& m = *it;
    DatanodeLine d;
    d.state = m[3].str();
    d.pid = m[4].str() == "-" ? 0 : std::stoi(m[4].str());
    d.data = m[5].str();
    d.http = m[6].str();
    d.rpc = m[7].str();
    d.dir = m[8].str();
    lines[std::stoi(m[2].str())] = d;
  }
  return lines;
}

// The Size column of `talus dfs -df` (bytes), or -1.
int64_t DfSize(const std::string& df_output) {
  std::smatch match;
  std::regex line("\ntalus://\\S+\\s+([0-9]+)\\s");
  return std::regex_search(df_output, match, line) ? std::stoll(match[1].str()) : -1;
}

std::string Describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
}

bool Answers(const std::string& address) {
  Result<cluster::HostPort> hp = cluster::ParseHostPort(address);
  return hp.ok() && cluster::TcpConnects(*hp, 1s);
}

// Stops whatever a test's `talus cluster up` left running, even when the test failed midway:
// those daemons are detached and would otherwise outlive the test.
class ClusterDirGuard {
 public:
  explicit ClusterDirGuard(std::string dir) : dir_(std::move(dir)) {}
  ~ClusterDirGuard() {
    cluster::LocalClusterOptions options;
    options.dir = dir_;
    options.bin_dir = BinDir();
    auto opened = cluster::LocalCluster::OpenExisting(options);
    if (opened.ok()) (*opened)->KillAll();  // only processes that are still ours
  }

 private:
  std::string dir_;
};

class ClusterLauncherTest : public ::testing::Test {
 protected:
  CommandResult Cluster(std::vector<std::string> args) {
    args.insert(args.begin(), "cluster");
    return RunTalus(args);
  }
  CommandResult Dfs(const std::string& uri, std::vector<std::string> args) {
    args.insert(args.begin(), {"dfs", "-fs", uri});
    return RunTalus(args);
  }

  TempDir temp_;
  std::string dir_ = temp_.path() + "/cluster";
  ClusterDirGuard guard_{dir_};
};

TEST_F(ClusterLauncherTest, UpStatusDownAndRestartKeepPortsAndData) {
  // --launcher_test_marker is defined by no daemon: it must reach the namenode's command line
  // and be tolerated through --undefok.
  CommandResult up = Cluster({"up", "--dir", dir_, "--", "--launcher_test_marker=42"});
  ASSERT_EQ(up.exit_code, 0) << Describe(up);
  std::string uri = FileSystemUriIn(up.out);
  ASSERT_TRUE(std::regex_match(uri, std::regex("talus://127\\.0\\.0\\.1:[0-9]+"))) << up.out;
  // The status page's address is printed and recorded beside the file system's.
  const std::string web = WebUrlIn(up.out);
  ASSERT_TRUE(std::regex_match(web, std::regex("http://127\\.0\\.0\\.1:[0-9]+"))) << up.out;
  EXPECT_EQ(ReadFile(dir_ + "/cluster.env"), "TALUS_FS=" + uri + "\nTALUS_WEB=" + web + "\n");
  Result<HttpAnswer> page = HttpGet(web.substr(strlen("http://")), "/");
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("Talus"), std::string::npos) << page->body;

  CommandResult status = Cluster({"status", "--dir", dir_});
  ASSERT_EQ(status.exit_code, 0) << Describe(status);
  std::optional<StatusLine> nn = NamenodeStatus(status.out);
  ASSERT_TRUE(nn.has_value()) << status.out;
  EXPECT_EQ(nn->state, "running");
  EXPECT_EQ(nn->role, "leader");  // a single namenode's local journal
  EXPECT_EQ(nn->term, "1");
  EXPECT_EQ("talus://" + nn->rpc, uri);
  EXPECT_EQ("http://" + nn->http, web);
  EXPECT_EQ(FileSystemUriIn(status.out), uri);
  EXPECT_EQ(WebUrlIn(status.out), web);
  ASSERT_TRUE(cluster::IsRunning(nn->pid));
  EXPECT_TRUE(Answers(nn->rpc));
  EXPECT_TRUE(Answers(nn->service_rpc));

  Result<cluster::ProcessInfo> info = cluster::ReadProcessInfo(nn->pid);
  ASSERT_TRUE(info.ok()) << info.status();
  auto has_arg = [&](const std::string& arg) {
    return std::find(info->argv.begin(), info->argv.end(), arg) != info->argv.end();
  };
  EXPECT_TRUE(has_arg("--launcher_test_marker=42"));
  EXPECT_TRUE(has_arg("--undefok=launcher_test_marker"));
  EXPECT_TRUE(has_arg("--dir=" + dir_ + "/namenode-0"));

  // Three datanodes by default, each with its own directory and ports, talking to the
  // namenode's service port.
  std::map<int, DatanodeLine> datanodes = DatanodeStatuses(status.out);
  ASSERT_EQ(datanodes.size(), 3u) << status.out;
  std::map<int, std::string> datanode_ids;
  for (const auto& [index, dn] : datanodes) {
    EXPECT_EQ(dn.state, "running") << index;
    EXPECT_EQ(dn.dir, dir_ + "/datanode-" + std::to_string(index));
    EXPECT_TRUE(cluster::IsRunning(dn.pid));
    EXPECT_TRUE(Answers(dn.data)) << dn.data;
    EXPECT_TRUE(Answers(dn.rpc)) << dn.rpc;
    Result<cluster::ProcessInfo> dn_info = cluster::ReadProcessInfo(dn.pid);
    ASSERT_TRUE(dn_info.ok()) << dn_info.status();
    EXPECT_NE(std::find(dn_info->argv.begin(), dn_info->argv.end(),
                        "--namenodes=" + nn->service_rpc),
              dn_info->argv.end());
    EXPECT_NE(std::find(dn_info->argv.begin(), dn_info->argv.end(), "--launcher_test_marker=42"),
              dn_info->argv.end());
  }
  // Once they have registered and heartbeated, the file system has their capacity.
  CommandResult df;
  EXPECT_TRUE(WaitFor(
      [&] {
        df = Dfs(uri, {"-df"});
        return df.exit_code == 0 && DfSize(df.out) > 0;
      },
      30s))
      << Describe(df);
  for (const auto& [index, dn] : datanodes) {
    datanode_ids[index] = ReadFile(dn.dir + "/data/datanode_id");
    EXPECT_FALSE(datanode_ids[index].empty()) << index;
  }

  // The namenode serves the file system.
  CommandResult mkdir = Dfs(uri, {"-mkdir", "/x"});
  ASSERT_EQ(mkdir.exit_code, 0) << Describe(mkdir);

  // Up again while running: nothing new starts.
  CommandResult again = Cluster({"up", "--dir", dir_});
  ASSERT_EQ(again.exit_code, 0) << Describe(again);
  EXPECT_NE(again.out.find("already running"), std::string::npos) << again.out;
  EXPECT_EQ(FileSystemUriIn(again.out), uri);
  std::optional<StatusLine> same = NamenodeStatus(Cluster({"status", "--dir", dir_}).out);
  ASSERT_TRUE(same.has_value());
  EXPECT_EQ(same->pid, nn->pid);

  CommandResult down = Cluster({"down", "--dir", dir_});
  ASSERT_EQ(down.exit_code, 0) << Describe(down);
  EXPECT_FALSE(cluster::IsRunning(nn->pid)) << "down returned before the namenode ended";
  EXPECT_FALSE(Answers(nn->rpc));
  std::string stopped_status = Cluster({"status", "--dir", dir_}).out;
  std::optional<StatusLine> stopped = NamenodeStatus(stopped_status);
  ASSERT_TRUE(stopped.has_value());
  EXPECT_EQ(stopped->state, "stopped");
  std::map<int, DatanodeLine> stopped_datanodes = DatanodeStatuses(stopped_status);
  ASSERT_EQ(stopped_datanodes.size(), 3u) << stopped_status;
  for (const auto& [index, dn] : stopped_datanodes) {
    EXPECT_EQ(dn.state, "stopped") << index;
    EXPECT_FALSE(cluster::IsRunning(datanodes[index].pid)) << "datanode " << index;
    EXPECT_FALSE(Answers(datanodes[index].data)) << index;
  }

  // Restart on the same directory: same port, so cluster.env stays valid, and the data kept.
  CommandResult restart = Cluster({"up", "--dir", dir_});
  ASSERT_EQ(restart.exit_code, 0) << Describe(restart);
  EXPECT_EQ(FileSystemUriIn(restart.out), uri);
  EXPECT_EQ(WebUrlIn(restart.out), web);
  EXPECT_EQ(ReadFile(dir_ + "/cluster.env"), "TALUS_FS=" + uri + "\nTALUS_WEB=" + web + "\n");
  CommandResult test_dir = Dfs(uri, {"-test", "-d", "/x"});
  EXPECT_EQ(test_dir.exit_code, 0) << Describe(test_dir);
  // The datanodes are back on their own directories, with the same identities.
  std::map<int, DatanodeLine> restarted_datanodes =
      DatanodeStatuses(Cluster({"status", "--dir", dir_}).out);
  ASSERT_EQ(restarted_datanodes.size(), 3u);
  for (const auto& [index, dn] : restarted_datanodes) {
    EXPECT_EQ(dn.state, "running") << index;
    EXPECT_TRUE(Answers(dn.data)) << index;
    EXPECT_EQ(ReadFile(dn.dir + "/data/datanode_id"), datanode_ids[index]) << index;
  }

  // A daemon killed behind the launcher's back shows as dead; down still succeeds.
  std::optional<StatusLine> restarted = NamenodeStatus(Cluster({"status", "--dir", dir_}).out);
  ASSERT_TRUE(restarted.has_value());
  ASSERT_EQ(restarted->state, "running");
  ASSERT_EQ(::kill(restarted->pid, SIGKILL), 0);
  std::string last_status;
  EXPECT_TRUE(WaitFor(
      [&] {
        last_status = Cluster({"status", "--dir", dir_}).out;
        auto line = NamenodeStatus(last_status);
        return line && line->state == "dead";
      },
      30s))
      << last_status;
  CommandResult down_dead = Cluster({"down", "--dir", dir_});
  EXPECT_EQ(down_dead.exit_code, 0) << Describe(down_dead);
  EXPECT_NE(down_dead.out.find("already exited"), std::string::npos) << down_dead.out;
}

// Three namenodes sharing a Raft journal: each gets its id and the same peers, the datanodes
// and the URI name all three, one leader is elected before the datanodes start, and a killed
// leader is replaced; `up` brings the killed one back on the same ports.
TEST_F(ClusterLauncherTest, ThreeNamenodesElectALeaderAndRestartOnTheirPorts) {
  CommandResult up = Cluster({"up", "--dir", dir_, "--namenodes", "3", "--datanodes", "1", "--",
                              "--raft_tick_ms=50", "--heartbeat_interval_ms=200"});
  ASSERT_EQ(up.exit_code, 0) << Describe(up);
  EXPECT_NE(up.out.find("is the leader"), std::string::npos) << up.out;
  const std::string uri = FileSystemUriIn(up.out);
  ASSERT_TRUE(std::regex_match(
      uri, std::regex("talus://127\\.0\\.0\\.1:[0-9]+,127\\.0\\.0\\.1:[0-9]+,127\\.0\\.0\\.1:[0-9]+")))
      << up.out;
  const std::string web = WebUrlIn(up.out);

  const std::string first_status = Cluster({"status", "--dir", dir_}).out;
  std::map<int, GroupNamenodeLine> nns = GroupNamenodeStatuses(first_status);
  ASSERT_EQ(nns.size(), 3u) << first_status;
  EXPECT_GE(LeaderIn(nns), 0) << first_status;
  std::string expected_uri = "talus://";
  std::string peers = "--raft_peers=";
  std::string service = "--namenodes=";
  for (const auto& [index, nn] : nns) {
    EXPECT_EQ(nn.state, "running") << index;
    EXPECT_TRUE(nn.role == "leader" || nn.role == "follower") << first_status;
    EXPECT_TRUE(Answers(nn.rpc)) << index;
    expected_uri += (index == 0 ? "" : ",") + nn.rpc;
    peers += (index == 0 ? "" : ",") + std::to_string(index + 1) + "=" + nn.raft;
    service += (index == 0 ? "" : ",") + nn.service_rpc;
  }
  EXPECT_EQ(uri, expected_uri);
  EXPECT_EQ(web, "http://" + nns[0].http);
  for (const auto& [index, nn] : nns) {
    Result<cluster::ProcessInfo> info = cluster::ReadProcessInfo(nn.pid);
    ASSERT_TRUE(info.ok()) << info.status();
    auto has_arg = [&](const std::string& arg) {
      return std::find(info->argv.begin(), info->argv.end(), arg) != info->argv.end();
    };
    EXPECT_TRUE(has_arg("--namenode_id=" + std::to_string(index + 1))) << index;
    EXPECT_TRUE(has_arg(peers)) << index << " " << peers;
    EXPECT_TRUE(has_arg("--rpc_port=" + nn.rpc.substr(nn.rpc.rfind(':') + 1))) << index;
  }
  std::map<int, DatanodeLine> datanodes = DatanodeStatuses(first_status);
  ASSERT_EQ(datanodes.size(), 1u);
  Result<cluster::ProcessInfo> dn_info = cluster::ReadProcessInfo(datanodes[0].pid);
  ASSERT_TRUE(dn_info.ok());
  EXPECT_NE(std::find(dn_info->argv.begin(), dn_info->argv.end(), service), dn_info->argv.end())
      << service;

  // The group serves the file system through the URI naming all three.
  CommandResult mkdir = Dfs(uri, {"-mkdir", "/x"});
  ASSERT_EQ(mkdir.exit_code, 0) << Describe(mkdir);

  // The leader dies; another takes over and serves.
  const int old_leader = LeaderIn(nns);
  ASSERT_EQ(::kill(nns[old_leader].pid, SIGKILL), 0);
  std::string status_text;
  std::map<int, GroupNamenodeLine> after;
  ASSERT_TRUE(WaitFor(
      [&] {
        status_text = Cluster({"status", "--dir", dir_}).out;
        after = GroupNamenodeStatuses(status_text);
        const int leader = LeaderIn(after);
        return after.size() == 3 && after[old_leader].state == "dead" && leader >= 0 &&
               leader != old_leader;
      },
      30s, 200ms))
      << status_text;
  CommandResult mkdir2 = Dfs(uri, {"-mkdir", "/y"});
  ASSERT_EQ(mkdir2.exit_code, 0) << Describe(mkdir2);

  // `up` restarts only the dead namenode, on the ports recorded for it.
  CommandResult again = Cluster({"up", "--dir", dir_});
  ASSERT_EQ(again.exit_code, 0) << Describe(again);
  EXPECT_EQ(FileSystemUriIn(again.out), uri);
  std::map<int, GroupNamenodeLine> restarted =
      GroupNamenodeStatuses(Cluster({"status", "--dir", dir_}).out);
  ASSERT_EQ(restarted.size(), 3u);
  for (const auto& [index, nn] : restarted) {
    EXPECT_EQ(nn.state, "running") << index;
    EXPECT_EQ(nn.rpc, nns[index].rpc) << index;
    EXPECT_EQ(nn.raft, nns[index].raft) << index;
    EXPECT_EQ(nn.http, nns[index].http) << index;
    EXPECT_EQ(nn.service_rpc, nns[index].service_rpc) << index;
    if (index != old_leader) {
      EXPECT_EQ(nn.pid, after[index].pid) << index;
    }
  }
  CommandResult both = Dfs(uri, {"-test", "-d", "/y"});
  EXPECT_EQ(both.exit_code, 0) << Describe(both);

  CommandResult down = Cluster({"down", "--dir", dir_});
  ASSERT_EQ(down.exit_code, 0) << Describe(down);
  for (const auto& [index, nn] : restarted) EXPECT_FALSE(cluster::IsRunning(nn.pid)) << index;
}

TEST_F(ClusterLauncherTest, DaemonThatCannotStartFailsWithItsLog) {
  CommandResult up = Cluster({"up", "--dir", dir_, "--datanodes", "1"});
  ASSERT_EQ(up.exit_code, 0) << Describe(up);
  EXPECT_EQ(DatanodeStatuses(Cluster({"status", "--dir", dir_}).out).size(), 1u);
  std::string address = FileSystemUriIn(up.out).substr(strlen("talus://"));
  ASSERT_EQ(Cluster({"down", "--dir", dir_}).exit_code, 0);

  // Someone else now listens on the recorded port, so the restarted namenode cannot bind it.
  Result<cluster::HostPort> hp = cluster::ParseHostPort(address);
  ASSERT_TRUE(hp.ok());
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in sa = {};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(hp->port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0) << strerror(errno);
  ASSERT_EQ(::listen(fd, 4), 0);

  CommandResult failed = Cluster({"up", "--dir", dir_, "--timeout_s", "30"});
  ::close(fd);
  EXPECT_EQ(failed.exit_code, 1) << Describe(failed);
  EXPECT_NE(failed.err.find("namenode 0"), std::string::npos) << failed.err;
  EXPECT_NE(failed.err.find("Last lines of " + dir_ + "/logs/namenode-0.out"), std::string::npos)
      << failed.err;
  std::string failed_status = Cluster({"status", "--dir", dir_}).out;
  std::optional<StatusLine> nn = NamenodeStatus(failed_status);
  ASSERT_TRUE(nn.has_value());
  EXPECT_EQ(nn->state, "stopped");
  // Nothing else was started without its namenode.
  ASSERT_EQ(DatanodeStatuses(failed_status).size(), 1u);
  EXPECT_EQ(DatanodeStatuses(failed_status)[0].state, "stopped");

  // With the port free again the same directory starts on it.
  CommandResult retry = Cluster({"up", "--dir", dir_});
  ASSERT_EQ(retry.exit_code, 0) << Describe(retry);
  EXPECT_EQ(FileSystemUriIn(retry.out), "talus://" + address);
  EXPECT_EQ(Cluster({"down", "--dir", dir_}).exit_code, 0);
}

TEST_F(ClusterLauncherTest, DatanodesCanBeAddedButNotRemoved) {
  CommandResult up = Cluster({"up", "--dir", dir_, "--datanodes", "0"});
  ASSERT_EQ(up.exit_code, 0) << Describe(up);
  EXPECT_TRUE(DatanodeStatuses(Cluster({"status", "--dir", dir_}).out).empty());

  // Two datanodes join the running cluster.
  CommandResult grow = Cluster({"up", "--dir", dir_, "--datanodes", "2"});
  ASSERT_EQ(grow.exit_code, 0) << Describe(grow);
  std::map<int, DatanodeLine> datanodes = DatanodeStatuses(Cluster({"status", "--dir", dir_}).out);
  ASSERT_EQ(datanodes.size(), 2u);
  for (const auto& [index, dn] : datanodes) {
    EXPECT_EQ(dn.state, "running") << index;
    EXPECT_TRUE(Answers(dn.data)) << index;
  }
  CommandResult df;
  EXPECT_TRUE(WaitFor(
      [&] {
        df = Dfs(FileSystemUriIn(grow.out), {"-df"});
        return df.exit_code == 0 && DfSize(df.out) > 0;
      },
      30s))
      << Describe(df);

  CommandResult shrink = Cluster({"up", "--dir", dir_, "--datanodes", "1"});
  EXPECT_EQ(shrink.exit_code, 1) << Describe(shrink);
  EXPECT_NE(shrink.err.find("datanodes may only be added"), std::string::npos) << shrink.err;
  EXPECT_EQ(DatanodeStatuses(Cluster({"status", "--dir", dir_}).out).size(), 2u);
  EXPECT_EQ(Cluster({"down", "--dir", dir_}).exit_code, 0);
}

TEST_F(ClusterLauncherTest, UpWithMountServesFilesAndDownUnmounts) {
  if (::geteuid() != 0 || ::access("/dev/fuse", R_OK | W_OK) != 0) {
    GTEST_SKIP() << "needs root and /dev/fuse";
  }
  const std::string mnt = temp_.path() + "/mnt";
  CommandResult up = Cluster({"up", "--dir", dir_, "--mount", mnt});
  ASSERT_EQ(up.exit_code, 0) << Describe(up);
  const std::string uri = FileSystemUriIn(up.out);
  std::ofstream(mnt + "/hello.txt") << "through the mount";
  CommandResult cat;
  // The datanodes may still be registering when the first block is written: wait for it.
  WaitFor(
      [&] {
        cat = Dfs(uri, {"-cat", "/hello.txt"});
        return cat.exit_code == 0;
      },
      std::chrono::seconds(30), std::chrono::milliseconds(200));
  EXPECT_EQ(cat.out, "through the mount") << Describe(cat);
  CommandResult status = Cluster({"status", "--dir", dir_});
  EXPECT_NE(status.out.find("mount"), std::string::npos) << status.out;
  CommandResult down = Cluster({"down", "--dir", dir_});
  EXPECT_EQ(down.exit_code, 0) << Describe(down);
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mountinfo, line)) {
    EXPECT_EQ(line.find(" " + mnt + " "), std::string::npos) << "still mounted: " << line;
  }
}

TEST_F(ClusterLauncherTest, RejectsWhatItCannotDoWithoutStartingAnything) {
  CommandResult two = Cluster({"up", "--dir", dir_, "--namenodes", "2"});
  EXPECT_EQ(two.exit_code, 1);
  EXPECT_NE(two.err.find("--namenodes must be 1, 3 or 5, got 2"), std::string::npos) << two.err;
  EXPECT_NE(two.err.find("odd"), std::string::npos) << two.err;
  CommandResult seven = Cluster({"up", "--dir", dir_, "--namenodes", "7"});
  EXPECT_EQ(seven.exit_code, 1);
  EXPECT_NE(seven.err.find("--namenodes must be 1, 3 or 5, got 7"), std::string::npos)
      << seven.err;

  CommandResult reserved = Cluster({"up", "--dir", dir_, "--", "--rpc_port=1"});
  EXPECT_EQ(reserved.exit_code, 1);
  EXPECT_NE(reserved.err.find("--rpc_port is set by the launcher"), std::string::npos)
      << reserved.err;

  CommandResult not_flag = Cluster({"up", "--dir", dir_, "--", "value"});
  EXPECT_EQ(not_flag.exit_code, 1);
  EXPECT_NE(not_flag.err.find("--name=value"), std::string::npos) << not_flag.err;

  EXPECT_FALSE(std::filesystem::exists(dir_ + "/cluster.state"));

  // A non-empty directory that is not a cluster is left alone.
  std::ofstream(temp_.path() + "/precious.txt") << "keep me";
  CommandResult foreign = Cluster({"up", "--dir", temp_.path()});
  EXPECT_EQ(foreign.exit_code, 1);
  EXPECT_NE(foreign.err.find("not empty"), std::string::npos) << foreign.err;
  EXPECT_FALSE(std::filesystem::exists(temp_.path() + "/cluster.state"));

  CommandResult status = Cluster({"status", "--dir", dir_});
  EXPECT_EQ(status.exit_code, 1);
  EXPECT_NE(status.err.find("no cluster in"), std::string::npos) << status.err;
  EXPECT_EQ(Cluster({"down", "--dir", dir_}).exit_code, 1);
  EXPECT_EQ(Cluster({"up"}).exit_code, 1);
  EXPECT_EQ(Cluster({"frobnicate", "--dir", dir_}).exit_code, 1);

  CommandResult help = Cluster({"-help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("talus cluster up --dir DIR"), std::string::npos) << help.out;
}

TEST(MiniClusterTest, KillRestartKeepsAddressAndCleansUp) {
  std::string dir;
  pid_t first_pid = 0;
  {
    Result<std::unique_ptr<MiniCluster>> started =
        MiniCluster::Start({.extra_flags = {"--mini_cluster_marker=1"}});
    ASSERT_TRUE(started.ok()) << started.status();
    MiniCluster& mc = **started;
    dir = mc.dir();
    ASSERT_EQ(mc.num_namenodes(), 1);
    std::string address = mc.namenode_address(0);
    EXPECT_EQ(mc.uri(), "talus://" + address);
    first_pid = mc.namenode_pid(0);
    ASSERT_GT(first_pid, 0);
    EXPECT_TRUE(Answers(address));

    ASSERT_TRUE(mc.KillNamenode(0, SIGKILL).ok());
    EXPECT_EQ(mc.namenode_pid(0), 0);
    EXPECT_FALSE(cluster::IsRunning(first_pid));
    EXPECT_FALSE(Answers(address));
    EXPECT_FALSE(mc.KillNamenode(0).ok()) << "killing a dead namenode should say it is not running";

    ASSERT_TRUE(mc.RestartNamenode(0).ok());
    EXPECT_EQ(mc.namenode_address(0), address);
    EXPECT_TRUE(Answers(address));
    EXPECT_NE(mc.namenode_pid(0), first_pid);
    first_pid = mc.namenode_pid(0);

    ASSERT_TRUE(mc.KillNamenode(0, SIGTERM).ok());
    ASSERT_TRUE(mc.RestartNamenode(0).ok());
    first_pid = mc.namenode_pid(0);
    EXPECT_TRUE(Answers(address));
  }
  // The destructor killed and reaped the namenode and removed the directory.
  EXPECT_FALSE(cluster::IsRunning(first_pid));
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(RunCommandTest, LargeOutputsAndInputDoNotDeadlock) {
  // 4 MiB on each stream, far beyond a pipe's buffer, written in an interleaving the reader
  // cannot predict.
  CommandResult big = RunCommand(
      "/bin/sh", {"-c", "head -c 4194304 /dev/zero; head -c 4194304 /dev/zero >&2; exit 3"});
  EXPECT_EQ(big.exit_code, 3);
  EXPECT_EQ(big.out.size(), 4194304u);
  EXPECT_EQ(big.err.size(), 4194304u);

  std::string input(3 << 20, 'x');
  CommandResult echo = RunCommand("/bin/cat", {}, {}, input);
  EXPECT_EQ(echo.exit_code, 0);
  EXPECT_EQ(echo.out, input);

  // A child that exits without reading its input does not hurt the caller (no SIGPIPE).
  CommandResult ignore = RunCommand("/bin/true", {}, {}, input);
  EXPECT_EQ(ignore.exit_code, 0);

  CommandResult env =
      RunCommand("/bin/sh", {"-c", "echo $TALUS_TEST_VAR"}, {{"TALUS_TEST_VAR", "hello"}});
  EXPECT_EQ(env.out, "hello\n");
}

TEST(RunCommandTest, TimesOutAndReportsMissingBinary) {
  auto start = std::chrono::steady_clock::now();
  CommandResult slow = RunCommand("/bin/sleep", {"30"}, {}, "", 200ms);
  EXPECT_EQ(slow.exit_code, -1);
  EXPECT_NE(slow.err.find("killed"), std::string::npos) << slow.err;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);

  CommandResult missing = RunCommand("/nonexistent/talus-nothing", {});
  EXPECT_EQ(missing.exit_code, -1);
  EXPECT_NE(missing.err.find("cannot run"), std::string::npos) << missing.err;

  CommandResult killed = RunCommand("/bin/sh", {"-c", "kill -9 $$"});
  EXPECT_EQ(killed.exit_code, 128 + SIGKILL);
}

TEST(ClusterStateTest, RoundTripsAndRejectsGarbage) {
  cluster::ClusterState state;
  state.cluster_id = "abc123";
  cluster::DaemonRecord nn;
  nn.role = "namenode";
  nn.index = 0;
  nn.pid = 4242;
  nn.start_time = 987654321;
  nn.ports = {{"rpc", 40001}};
  nn.data_dir = "/tmp/a dir with spaces/namenode-0";
  state.daemons.push_back(nn);
  cluster::DaemonRecord dn = nn;
  dn.role = "datanode";
  dn.ports = {{"rpc", 40002}, {"data", 40003}};
  state.daemons.push_back(dn);

  Result<cluster::ClusterState> parsed = cluster::ParseClusterState(FormatClusterState(state));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->cluster_id, "abc123");
  ASSERT_EQ(parsed->daemons.size(), 2u);
  EXPECT_EQ(parsed->daemons[0].pid, 4242);
  EXPECT_EQ(parsed->daemons[0].start_time, 987654321u);
  EXPECT_EQ(parsed->daemons[0].data_dir, nn.data_dir);
  EXPECT_EQ(parsed->daemons[1].ports, dn.ports);
  EXPECT_EQ(parsed->CountRole("datanode"), 1);

  EXPECT_FALSE(cluster::ParseClusterState("").ok());
  EXPECT_FALSE(cluster::ParseClusterState("hello\n").ok());
  EXPECT_FALSE(cluster::ParseClusterState("talus-cluster-state 1\ndaemon role=x\n").ok());
  EXPECT_FALSE(cluster::ParseClusterState(
                   "talus-cluster-state 1\ndaemon role=namenode index=0 pid=-3 dir=/x\n")
                   .ok());
  EXPECT_FALSE(cluster::ParseClusterState(
                   "talus-cluster-state 1\ndaemon role=namenode index=0 ports=rpc:99999 dir=/x\n")
                   .ok());
}

}  // namespace
}  // namespace talus::test
