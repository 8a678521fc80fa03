#include "test/support/mini_cluster.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>

#include "cluster/local_cluster.h"
#include "cluster/process.h"
#include "common/rpc/thrift_status.h"
#include "talus_rpc/ClientNamenode.h"
#include "talus_rpc/RaftService.h"

namespace talus::test {

namespace {

constexpr auto kStopTimeout = std::chrono::seconds(60);

std::string TempRoot() {
  const char* tmpdir = std::getenv("TMPDIR");
  return tmpdir != nullptr && tmpdir[0] != '\0' ? tmpdir : "/tmp";
}

// The namenode's getStats capacity (what every live datanode heartbeated), or an error.
Result<int64_t> OneNamenodeCapacity(const std::string& address) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) return Status::InvalidArgument("no namenode address");
  try {
    auto socket = std::make_shared<apache::thrift::transport::TSocket>(
        address.substr(0, colon), std::stoi(address.substr(colon + 1)));
    socket->setConnTimeout(2000);
    socket->setRecvTimeout(5000);
    socket->setSendTimeout(5000);
    auto transport = std::make_shared<apache::thrift::transport::TFramedTransport>(socket);
    rpc::ClientNamenodeClient client(
        std::make_shared<apache::thrift::protocol::TBinaryProtocol>(transport));
    transport->open();
    rpc::RequestHeader header;
    header.user = "mini-cluster";
    header.client_id = std::string(16, '\x01');
    header.call_id = 0;
    rpc::FsStats stats;
    client.getStats(stats, header);
    transport->close();
    return stats.capacity;
  } catch (const std::exception& e) {
    return Status::Unavailable(std::string("getStats: ") + e.what());
  }
}

// The capacity as the first namenode that answers sees it: in a group, followers refuse
// getStats (NOT_LEADER), so this is the leader's.
Result<int64_t> NamenodeCapacity(const std::vector<std::string>& addresses) {
  Result<int64_t> capacity = Status::Unavailable("no namenode");
  for (const std::string& address : addresses) {
    capacity = OneNamenodeCapacity(address);
    if (capacity.ok()) return capacity;
  }
  return capacity;
}

// RaftService.setBlockedPeers on the Raft transport at `address` (the namenode must run with
// --raft_enable_fault_injection). The same call as raft::SetRemoteBlockedPeers, made here so
// the fixture needs only the generated Thrift code, not the Raft transport library.
Status CallSetBlockedPeers(const std::string& address, const std::vector<int64_t>& ids) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) return Status::InvalidArgument("no Raft address");
  try {
    auto socket = std::make_shared<apache::thrift::transport::TSocket>(
        address.substr(0, colon), std::stoi(address.substr(colon + 1)));
    socket->setConnTimeout(2000);
    socket->setRecvTimeout(5000);
    socket->setSendTimeout(5000);
    auto transport = std::make_shared<apache::thrift::transport::TFramedTransport>(socket);
    rpc::RaftServiceClient client(
        std::make_shared<apache::thrift::protocol::TBinaryProtocol>(transport));
    transport->open();
    client.setBlockedPeers(ids);
    transport->close();
    return Status::OK();
  } catch (const rpc::TalusError& e) {
    return FromThriftError(e);
  } catch (const std::exception& e) {
    return Status::Unavailable(std::string("setBlockedPeers: ") + e.what());
  }
}

// Raft timeouts for tests: an election within about a second of losing the leader.
const std::vector<std::string>& GroupTestFlags() {
  static const auto* flags = new std::vector<std::string>{
      "--raft_tick_ms=50", "--raft_election_ticks=10", "--raft_enable_fault_injection=true"};
  return *flags;
}

// --reserved_bytes_per_volume among the daemon flags (the datanodes count it out of capacity).
uint64_t ReservedBytes(const std::vector<std::string>& flags) {
  const std::string name = "--reserved_bytes_per_volume=";
  uint64_t reserved = 0;
  for (const auto& flag : flags) {
    if (flag.rfind(name, 0) == 0) reserved = std::strtoull(flag.c_str() + name.size(), nullptr, 10);
  }
  return reserved;
}

}  // namespace

// The directory comes first so that it outlives the cluster that lives in it.
struct MiniCluster::Impl {
  TempDir dir;
  std::unique_ptr<cluster::LocalCluster> cluster;

  std::vector<std::string> extra_flags;

  int NamenodeSlot(int index) const {
    return cluster ? cluster->Find(cluster::kNamenodeRole, index) : -1;
  }
  int DatanodeSlot(int index) const {
    return cluster ? cluster->Find(cluster::kDatanodeRole, index) : -1;
  }
};

Result<std::unique_ptr<MiniCluster>> MiniCluster::Start(const MiniClusterOptions& options) {
  std::unique_ptr<MiniCluster> mini(new MiniCluster());
  mini->impl_ = std::make_unique<Impl>();
  cluster::LocalClusterOptions local;
  local.dir = mini->impl_->dir.path();
  local.bin_dir = BinDir();
  local.conf_dir = local.bin_dir + "/../conf/local";
  local.namenodes = options.namenodes;
  local.datanodes = options.datanodes;
  // Tests run the block monitor often and leave safe mode soon after the threshold is met; a
  // test's own flags come after these and override them.
  local.extra_flags = {"--replication_interval_ms=200", "--safemode_extension_ms=200"};
  if (options.namenodes > 1) {
    local.extra_flags.insert(local.extra_flags.end(), GroupTestFlags().begin(),
                             GroupTestFlags().end());
  }
  local.extra_flags.insert(local.extra_flags.end(), options.extra_flags.begin(),
                           options.extra_flags.end());
  // Daemons stay in the test's session and die with it, even if the test is killed.
  local.detach = false;
  local.parent_death_signal = SIGKILL;
  ASSIGN_OR_RETURN(mini->impl_->cluster, cluster::LocalCluster::Open(std::move(local)));
  mini->impl_->extra_flags = options.extra_flags;
  Status s = mini->impl_->cluster->StartAll();
  if (!s.ok()) return s.Prepend("starting a MiniCluster in " + mini->dir());
  if (options.datanodes > 0) RETURN_NOT_OK(mini->WaitForDatanodes());
  return mini;
}

MiniCluster::~MiniCluster() {
  if (impl_ && impl_->cluster) impl_->cluster->KillAll();
}

std::string MiniCluster::uri() const { return impl_->cluster->FileSystemUri(); }

const std::string& MiniCluster::dir() const { return impl_->dir.path(); }

int MiniCluster::num_namenodes() const {
  return impl_->cluster->state().CountRole(cluster::kNamenodeRole);
}

pid_t MiniCluster::namenode_pid(int index) const {
  int slot = impl_->NamenodeSlot(index);
  if (slot < 0 || impl_->cluster->GetDaemonState(slot) != cluster::DaemonState::kRunning) {
    return 0;
  }
  return impl_->cluster->state().daemons[slot].pid;
}

std::string MiniCluster::namenode_address(int index) const {
  int slot = impl_->NamenodeSlot(index);
  return slot < 0 ? "" : impl_->cluster->Address(slot);
}

std::string MiniCluster::namenode_service_address(int index) const {
  int slot = impl_->NamenodeSlot(index);
  return slot < 0 ? "" : impl_->cluster->Address(slot, "service_rpc");
}

std::string MiniCluster::namenode_http_address(int index) const {
  int slot = impl_->NamenodeSlot(index);
  return slot < 0 ? "" : impl_->cluster->Address(slot, "http");
}

std::string MiniCluster::namenode_raft_address(int index) const {
  int slot = impl_->NamenodeSlot(index);
  return slot < 0 ? "" : impl_->cluster->Address(slot, "raft");
}

Status MiniCluster::KillNamenode(int index, int signal) {
  int slot = impl_->NamenodeSlot(index);
  if (slot < 0) return Status::InvalidArgument("no namenode " + std::to_string(index));
  return impl_->cluster->SignalDaemon(slot, signal, kStopTimeout);
}

Result<int> MiniCluster::LeaderIndex(std::chrono::milliseconds timeout) const {
  return impl_->cluster->WaitForLeader(std::chrono::steady_clock::now() + timeout);
}

Status MiniCluster::SetBlockedPeers(int index, const std::vector<int>& ids) {
  const std::string address = namenode_raft_address(index);
  if (address.empty()) {
    return Status::InvalidArgument("namenode " + std::to_string(index) +
                                   " is not a member of a group");
  }
  std::vector<int64_t> peers(ids.begin(), ids.end());
  return CallSetBlockedPeers(address, peers).Prepend("namenode " + std::to_string(index));
}

Status MiniCluster::RestartNamenode(int index) {
  int slot = impl_->NamenodeSlot(index);
  if (slot < 0) return Status::InvalidArgument("no namenode " + std::to_string(index));
  if (impl_->cluster->GetDaemonState(slot) == cluster::DaemonState::kRunning) {
    return Status::InvalidArgument("namenode " + std::to_string(index) +
                                   " is running; kill it first");
  }
  return impl_->cluster->StartDaemon(slot);
}

int MiniCluster::num_datanodes() const {
  return impl_->cluster->state().CountRole(cluster::kDatanodeRole);
}

pid_t MiniCluster::datanode_pid(int index) const {
  int slot = impl_->DatanodeSlot(index);
  if (slot < 0 || impl_->cluster->GetDaemonState(slot) != cluster::DaemonState::kRunning) {
    return 0;
  }
  return impl_->cluster->state().daemons[slot].pid;
}

std::string MiniCluster::datanode_rpc_address(int index) const {
  int slot = impl_->DatanodeSlot(index);
  return slot < 0 ? "" : impl_->cluster->Address(slot, "rpc");
}

std::string MiniCluster::datanode_data_address(int index) const {
  int slot = impl_->DatanodeSlot(index);
  return slot < 0 ? "" : impl_->cluster->Address(slot, "data");
}

std::string MiniCluster::datanode_http_address(int index) const {
  int slot = impl_->DatanodeSlot(index);
  return slot < 0 ? "" : impl_->cluster->Address(slot, "http");
}

std::vector<std::string> MiniCluster::datanode_data_dirs(int index) const {
  int slot = impl_->DatanodeSlot(index);
  if (slot < 0) return {};
  // The launcher gives each datanode one volume, DIR/datanode-N/data.
  return {impl_->cluster->state().daemons[slot].data_dir + "/data"};
}

Status MiniCluster::KillDatanode(int index, int signal) {
  int slot = impl_->DatanodeSlot(index);
  if (slot < 0) return Status::InvalidArgument("no datanode " + std::to_string(index));
  return impl_->cluster->SignalDaemon(slot, signal, kStopTimeout);
}

Status MiniCluster::RestartDatanode(int index) {
  int slot = impl_->DatanodeSlot(index);
  if (slot < 0) return Status::InvalidArgument("no datanode " + std::to_string(index));
  if (impl_->cluster->GetDaemonState(slot) == cluster::DaemonState::kRunning) {
    return Status::InvalidArgument("datanode " + std::to_string(index) +
                                   " is running; kill it first");
  }
  return impl_->cluster->StartDaemon(slot);
}

Result<int> MiniCluster::AddDatanode() {
  ASSIGN_OR_RETURN(size_t slot, impl_->cluster->AddDaemon(cluster::kDatanodeRole));
  RETURN_NOT_OK(WaitForDatanodes());
  return impl_->cluster->state().daemons[slot].index;
}

Status MiniCluster::WaitForDatanodes(std::chrono::milliseconds timeout) {
  // Every volume of this cluster lies on the file system of its directory, so each running
  // datanode adds that file system's size (less the reserved bytes) to the namenode's capacity.
  struct statvfs st;
  if (::statvfs(dir().c_str(), &st) != 0) return Status::FromErrno(errno, "statvfs " + dir());
  const uint64_t total = static_cast<uint64_t>(st.f_blocks) * st.f_frsize;
  const uint64_t reserved = ReservedBytes(impl_->extra_flags);
  const uint64_t per_volume = total > reserved ? total - reserved : 0;
  int running = 0;
  for (int i = 0; i < num_datanodes(); ++i) running += datanode_pid(i) != 0 ? 1 : 0;
  const int64_t expected = static_cast<int64_t>(per_volume) * running;
  Result<int64_t> capacity = Status::Unavailable("not asked yet");
  std::vector<std::string> addresses;
  for (int i = 0; i < num_namenodes(); ++i) {
    if (namenode_pid(i) != 0) addresses.push_back(namenode_address(i));
  }
  bool ok = WaitFor(
      [&] {
        capacity = NamenodeCapacity(addresses);
        return capacity.ok() && *capacity >= expected;
      },
      timeout, std::chrono::milliseconds(50));
  if (ok) return Status::OK();
  const std::string seen =
      capacity.ok() ? std::to_string(*capacity) : capacity.status().ToString();
  return Status::TimedOut("the namenode did not count all " + std::to_string(running) +
                          " datanodes within " + std::to_string(timeout.count()) +
                          " ms (capacity " + seen + ", expected " + std::to_string(expected) + "); logs in " + dir() +
                          "/logs");
}

std::string BinDir() {
  const char* env = std::getenv("TALUS_BIN_DIR");
  if (env != nullptr && env[0] != '\0') return env;
  // Test binaries live in build/tests, the programs in build/bin.
  Result<std::string> self = cluster::SelfExeDir();
  return self.ok() ? *self + "/../bin" : "bin";
}

CommandResult RunCommand(const std::string& binary, const std::vector<std::string>& args,
                         const std::map<std::string, std::string>& env,
                         const std::string& stdin_data, std::chrono::milliseconds timeout) {
  cluster::SpawnOptions options;
  options.binary = binary;
  options.args = args;
  options.env = env;
  // Anything it leaves running (it should not) dies with the test.
  options.parent_death_signal = SIGKILL;
  CommandResult result;
  Result<cluster::CapturedRun> run = cluster::RunAndCapture(options, stdin_data, timeout);
  if (!run.ok()) {
    result.err = run.status().ToString();
    return result;
  }
  result.out = std::move(run->out);
  result.err = std::move(run->err);
  if (run->timed_out) {
    result.err += "\n[test support: killed " + binary + " after " +
                  std::to_string(timeout.count()) + " ms]\n";
  } else if (run->exit.exited) {
    result.exit_code = run->exit.code;
  } else {
    result.exit_code = 128 + run->exit.signal;
  }
  return result;
}

CommandResult RunTalus(const std::vector<std::string>& args,
                       const std::map<std::string, std::string>& env, const std::string& stdin_data,
                       std::chrono::milliseconds timeout) {
  return RunCommand(BinDir() + "/talus", args, env, stdin_data, timeout);
}

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
             std::chrono::milliseconds poll) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(poll);
  }
}

TempDir::TempDir() {
  std::string pattern = TempRoot() + "/talus-test-XXXXXX";
  char* made = ::mkdtemp(pattern.data());
  CHECK(made != nullptr) << "mkdtemp " << pattern << ": " << strerror(errno);
  path_ = made;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace talus::test
