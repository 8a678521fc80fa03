#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"

namespace talus::test {

struct MiniClusterOptions {
  // 1, or a Raft group of 3 or 5 namenodes (with fast test timeouts: --raft_tick_ms=50,
  // --raft_election_ticks=10, and --raft_enable_fault_injection for SetBlockedPeers; a test's
  // extra_flags override them). Start() returns once the group has a leader.
  int namenodes = 1;
  // talus-datanode processes, each with one volume in its own directory.
  int datanodes = 0;
  // Passed to every daemon started, e.g. "--heartbeat_interval_ms=200".
  std::vector<std::string> extra_flags;
};

// A real cluster for integration tests: `talus-namenode` and `talus-datanode` processes on
// ephemeral loopback ports in a fresh temporary directory. The destructor kills every process
// it started (SIGKILL) and removes the directory, whatever state the test left it in.
// It runs the same LocalCluster code as `talus cluster up` (cluster/local_cluster.h), with the
// daemons as children of the test that get SIGKILL if the test dies: the kernel sends it when
// the *thread* that started them ends, so start and restart daemons from the test's main
// thread (or a thread that outlives them). Not thread-safe.
class MiniCluster {
 public:
  static Result<std::unique_ptr<MiniCluster>> Start(const MiniClusterOptions& options = {});
  ~MiniCluster();

  // talus://127.0.0.1:PORT[,...], every namenode's client address.
  std::string uri() const;
  std::string FileSystemUri() const { return uri(); }
  // The cluster's working directory (daemons' data and logs live below it).
  const std::string& dir() const;

  int num_namenodes() const;
  pid_t namenode_pid(int index) const;
  std::string namenode_address(int index) const;  // "127.0.0.1:PORT"
  // Where datanodes talk to namenode `index` (registrations, heartbeats, block reports).
  std::string namenode_service_address(int index) const;
  // Its web server (status page, /api/v1, /metrics), "127.0.0.1:PORT".
  std::string namenode_http_address(int index) const;
  // Its Raft transport in a group ("127.0.0.1:PORT"; empty for a single namenode). Its
  // namenode id in --raft_peers is index + 1.
  std::string namenode_raft_address(int index) const;
  // Sends `signal` to namenode `index` (SIGKILL, SIGTERM, SIGSTOP, SIGCONT...) and, for
  // SIGKILL/SIGTERM, reaps it.
  Status KillNamenode(int index, int signal = 9);
  // Starts namenode `index` again on its existing data and the same ports (client, service,
  // http and, in a group, raft); waits until it serves, not until it has caught up.
  Status RestartNamenode(int index);

  // A group of namenodes. The index of the namenode that says it is the leader (the highest
  // term if two do) and serves client calls, asking every running namenode's
  // getJournalStatus (and the leader's ping) until one does or `timeout` passes (TimedOut
  // then, with what each one said). A single namenode is always its own leader (index 0).
  Result<int> LeaderIndex(std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  Status WaitForLeader(std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
    return LeaderIndex(timeout).status();
  }
  // Raft fault injection (a partition without ip netns): namenode `index` drops every Raft
  // message to and from the namenodes with these ids (namenode ids: index + 1); empty heals.
  // Client, service and web ports are not affected.
  Status SetBlockedPeers(int index, const std::vector<int>& ids);

  // Datanodes. Start() returns once every datanode has registered and heartbeated (the
  // namenode's getStats counts the capacity of each).
  int num_datanodes() const;
  pid_t datanode_pid(int index) const;            // 0 when not running
  std::string datanode_rpc_address(int index) const;   // DatanodeProtocol, "127.0.0.1:PORT"
  std::string datanode_data_address(int index) const;  // the data transfer port
  std::string datanode_http_address(int index) const;  // its web server, "127.0.0.1:PORT"
  std::vector<std::string> datanode_data_dirs(int index) const;  // its volumes
  // Sends `signal` to datanode `index` and, for SIGKILL/SIGTERM, reaps it.
  Status KillDatanode(int index, int signal = 9);
  // Starts datanode `index` again on its data (and ports, when still free); waits until it
  // serves, not until it has registered again (WaitFor what the test needs).
  Status RestartDatanode(int index);
  // Starts one more datanode and waits until the namenode counts it; returns its index.
  Result<int> AddDatanode();
  // Waits until the namenodes' getStats capacity (the leader's, in a group) covers every
  // running datanode's volumes, i.e. all of them have registered and heartbeated.
  Status WaitForDatanodes(std::chrono::milliseconds timeout = std::chrono::seconds(30));

 private:
  MiniCluster() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// What a command printed and how it exited.
struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Directory holding the built binaries ($TALUS_BIN_DIR, set by ctest; else ./bin next to tests).
std::string BinDir();

// Runs `binary args...` to completion like RunTalus (below). exit_code is the exit status,
// 128 + N if killed by signal N, and -1 if it timed out or could not be started (err says why).
CommandResult RunCommand(const std::string& binary, const std::vector<std::string>& args,
                         const std::map<std::string, std::string>& env = {},
                         const std::string& stdin_data = "",
                         std::chrono::milliseconds timeout = std::chrono::seconds(60));

// Runs `BinDir()/talus args...` to completion with `env` added to the environment and
// `stdin_data` on standard input; kills it after `timeout`.
CommandResult RunTalus(const std::vector<std::string>& args,
                       const std::map<std::string, std::string>& env = {},
                       const std::string& stdin_data = "",
                       std::chrono::milliseconds timeout = std::chrono::seconds(60));

// Polls `condition` until it returns true or `timeout` passes; returns whether it became true.
// Use instead of sleeps.
bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
             std::chrono::milliseconds poll = std::chrono::milliseconds(20));

// A fresh temporary directory, removed (recursively) when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace talus::test
