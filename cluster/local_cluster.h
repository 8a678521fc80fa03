#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "client/shell/journal_status.h"
#include "cluster/cluster_state.h"
#include "common/result.h"

namespace talus::cluster {

inline constexpr char kNamenodeRole[] = "namenode";
inline constexpr char kDatanodeRole[] = "datanode";
// Datanodes of a new cluster when no count is given: enough for three-way replication.
inline constexpr int kDefaultDatanodes = 3;

// A cluster runs 1 namenode (local journal) or a group of 3 or 5 sharing a Raft journal: a
// group needs a majority, so an even count would survive no more failures than one fewer.
bool IsValidNamenodeCount(int n);

struct LocalClusterOptions {
  std::string dir;      // the cluster directory; made absolute by Open()
  std::string bin_dir;  // holds talus-namenode and talus-datanode
  // Holds optional default flag files ROLE.flags (e.g. namenode.flags), given to each daemon
  // first with --flagfile so that every later flag overrides them. Empty: none.
  std::string conf_dir;
  // Daemon counts. -1: as recorded in an existing directory (1 namenode and kDefaultDatanodes
  // datanodes for a new one). An existing directory rejects counts that differ from what it
  // records, except a larger datanode count, which adds (empty) datanodes. Namenodes: 1, 3 or
  // 5 (IsValidNamenodeCount).
  int namenodes = -1;
  int datanodes = -1;
  // Given to every daemon after the launcher's own flags, e.g. "--heartbeat_interval_ms=200".
  // Each must be --name=value (or --name / --noname for booleans). Their names are also passed
  // in --undefok, so a flag meant for one kind of daemon does not abort the others.
  std::vector<std::string> extra_flags;
  // true: daemons get their own session and outlive this process (`talus cluster up`).
  bool detach = true;
  // Non-zero: the daemons receive this signal when the spawning thread ends (tests).
  int parent_death_signal = 0;
  // How long a daemon may take from spawn to answering on its ports.
  std::chrono::milliseconds start_timeout = std::chrono::seconds(60);
};

// What one recorded daemon is doing now.
enum class DaemonState {
  kRunning,  // the recorded pid is alive and is that daemon
  kDead,     // it was started and is gone (crashed, killed), or its pid now belongs to another
  kStopped,  // never started, or stopped by Stop()
};
const char* DaemonStateName(DaemonState state);

// A cluster of talus daemons on loopback, rooted in one directory:
//   DIR/cluster.state          what was started (see cluster_state.h)
//   DIR/cluster.env            TALUS_FS=talus://127.0.0.1:PORT[,...]
//                              TALUS_WEB=http://127.0.0.1:PORT (the first namenode's page)
//   DIR/namenode-0/            the daemon's data directory (a datanode's volume is
//                              DIR/datanode-N/data)
//   DIR/logs/namenode-0.out    its stdout and stderr, appended to across restarts
//   DIR/logs/namenode-0/       its glog files
//   DIR/run/namenode-0.address written by the daemon once it listens
// A group of namenodes (3 or 5) shares a Raft journal: each gets --namenode_id=INDEX+1, the
// same --raft_peers=1=127.0.0.1:P1,2=... and --cluster_id=CID-ID (ID from cluster.state), so
// all format one namespace. All their ports (client, service, http, raft) are chosen before
// the first start and recorded, so every restart keeps the addresses that the datanodes,
// cluster.env and the other members know. Datanodes start once a leader is elected.
// Shared by `talus cluster` and the test fixture, so tests exercise the launcher users run.
// Not thread-safe.
class LocalCluster {
 public:
  using Progress = std::function<void(const std::string&)>;

  // Loads the cluster recorded in options.dir, or plans a new one if the directory is absent
  // or empty. Starts nothing. Refuses a non-empty directory that holds no cluster.state, so
  // that a mistyped --dir never scatters files into, say, a home directory.
  static Result<std::unique_ptr<LocalCluster>> Open(LocalClusterOptions options);
  // Like Open, but only for a directory that already records a cluster (status, down).
  static Result<std::unique_ptr<LocalCluster>> OpenExisting(LocalClusterOptions options);
  ~LocalCluster();

  // Takes an exclusive lock on DIR/cluster.lock for the life of this object, so two `talus
  // cluster` commands never start or stop the same daemons at once. Fails at once if held.
  Status LockDirectory();

  // Starts every daemon that is not running (namenodes first, since datanodes need their
  // addresses), waits until each answers on its ports (and, for a group of namenodes, until
  // one of them is the leader before starting datanodes), then writes cluster.env. A daemon
  // restarts on its recorded ports. If one fails, those started by this call are stopped
  // again and the error carries the tail of the failed daemon's log.
  Status StartAll(const Progress& progress = {});
  // Starts one daemon (by position in state().daemons) and waits until it answers.
  Status StartDaemon(size_t i, const Progress& progress = {});
  // Records one more daemon of `role` (only datanodes), starts it and waits until it answers.
  // Returns its position in state().daemons.
  Result<size_t> AddDaemon(const std::string& role, const Progress& progress = {});

  // SIGTERM to every running daemon, SIGKILL to those still running after `timeout`.
  Status StopAll(std::chrono::milliseconds timeout, const Progress& progress = {});
  Status StopDaemon(size_t i, std::chrono::milliseconds timeout, const Progress& progress = {});

  // Sends `signal` to daemon i if it runs. For SIGKILL and SIGTERM, waits (up to `timeout`)
  // until it is gone and reaps it if it is our child, then records it as stopped.
  Status SignalDaemon(size_t i, int signal, std::chrono::milliseconds timeout);
  // SIGKILL to every daemon and reap the ones that are our children (test clean-up).
  void KillAll();

  DaemonState GetDaemonState(size_t i) const;
  bool AllRunning() const;
  // Index into state().daemons of ROLE's INDEX-th daemon, or -1.
  int Find(const std::string& role, int index) const;

  // Each namenode's view of the journal, in namenode index order, asked of all at once (each
  // may take `timeout`). Those not running or never started are not asked: their status says
  // so.
  std::vector<shell::NamenodeJournal> NamenodeJournals(std::chrono::milliseconds timeout) const;
  // Asks the namenodes until one answers that it is the leader (the highest term wins if two
  // say so) and serves client calls (a new leader refuses them until it has caught up), and
  // returns its namenode index; TimedOut at `deadline`, with each one's view.
  Result<int> WaitForLeader(std::chrono::steady_clock::time_point deadline) const;
  // More than one namenode: a Raft group.
  bool IsNamenodeGroup() const;

  // talus://127.0.0.1:PORT[,127.0.0.1:PORT...] over the namenodes' RPC ports.
  std::string FileSystemUri() const;
  // http://127.0.0.1:PORT of the first namenode's status page, empty if unknown.
  std::string WebUrl() const;
  // "127.0.0.1:PORT" of daemon i's port `name` ("rpc", "http"...), empty if unknown.
  std::string Address(size_t i, const std::string& port_name = "rpc") const;

  const std::string& dir() const { return options_.dir; }
  const ClusterState& state() const { return state_; }
  std::string StatePath() const;
  std::string EnvPath() const;
  std::string OutputPath(size_t i) const;  // the daemon's .out file
  std::string LogDir(size_t i) const;      // its glog directory

 private:
  explicit LocalCluster(LocalClusterOptions options);

  // Appends a record for the next daemon of `role` (not started, ports unknown).
  void AddRecord(const std::string& role);
  Status Save() const;
  // Gives every namenode of a group a fixed port for each of its servers and its Raft
  // transport, where none is recorded yet.
  Status AssignNamenodePorts();
  Status WriteEnvFile() const;
  std::string AddressFile(size_t i) const;
  std::string BinaryPath(size_t i) const;
  Result<std::vector<std::string>> DaemonArgs(size_t i) const;
  // Spawns daemon i without waiting; records its pid.
  Status Spawn(size_t i, const Progress& progress);
  // Waits until daemon i has written its address file and accepts connections there.
  Status WaitUntilServing(size_t i, std::chrono::steady_clock::time_point deadline);
  // A clear account of why daemon i is not serving, with the end of its logs.
  std::string DescribeFailure(size_t i, const std::string& what) const;
  bool IsOurProcess(const DaemonRecord& record) const;
  // Reaps daemon i if it is our child and has exited; returns how it ended, if it did.
  std::string ReapIfExited(size_t i);

  LocalClusterOptions options_;
  ClusterState state_;
  std::set<pid_t> children_;  // daemons spawned by this object and not yet reaped
  int lock_fd_ = -1;
};

}  // namespace talus::cluster
