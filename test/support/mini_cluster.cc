#include "test/support/mini_cluster.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "cluster/local_cluster.h"
#include "cluster/process.h"

namespace talus::test {

namespace {

constexpr auto kStopTimeout = std::chrono::seconds(60);

std::string TempRoot() {
  const char* tmpdir = std::getenv("TMPDIR");
  return tmpdir != nullptr && tmpdir[0] != '\0' ? tmpdir : "/tmp";
}

}  // namespace

// The directory comes first so that it outlives the cluster that lives in it.
struct MiniCluster::Impl {
  TempDir dir;
  std::unique_ptr<cluster::LocalCluster> cluster;

  int NamenodeSlot(int index) const {
    return cluster ? cluster->Find(cluster::kNamenodeRole, index) : -1;
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
  local.extra_flags = options.extra_flags;
  // Daemons stay in the test's session and die with it, even if the test is killed.
  local.detach = false;
  local.parent_death_signal = SIGKILL;
  ASSIGN_OR_RETURN(mini->impl_->cluster, cluster::LocalCluster::Open(std::move(local)));
  Status s = mini->impl_->cluster->StartAll();
  if (!s.ok()) return s.Prepend("starting a MiniCluster in " + mini->dir());
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

Status MiniCluster::KillNamenode(int index, int signal) {
  int slot = impl_->NamenodeSlot(index);
  if (slot < 0) return Status::InvalidArgument("no namenode " + std::to_string(index));
  return impl_->cluster->SignalDaemon(slot, signal, kStopTimeout);
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
