// talus-namenode: the metadata server. Opens the namespace (LevelDB) and the journal, replays
// what the journal holds beyond the namespace's applied index, then serves clients over Thrift.
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <vector>
#include <mutex>
#include <optional>
#include <thread>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <gflags/gflags.h>
#include <glog/logging.h>

#include "common/flag_checks.h"
#include "common/rpc/async_thrift_server.h"
#include "common/thread_pool.h"
#include "namenode/blocks/block_manager.h"
#include "namenode/blocks/block_map.h"
#include "namenode/blocks/safe_mode.h"
#include "namenode/blocks/clock.h"
#include "namenode/blocks/datanode_manager.h"
#include "namenode/blocks/datanode_service.h"
#include "namenode/blocks/topology.h"
#include "namenode/journal/local_journal.h"
#include "namenode/journal/raft_journal.h"
#include "namenode/leases/block_recovery.h"
#include "namenode/leases/lease_manager.h"
#include "namenode/namespace/namespace_snapshot.h"
#include "namenode/namespace/namespace_store.h"
#include "namenode/metrics/namenode_metrics.h"
#include "namenode/namesystem.h"
#include "namenode/rpc/client_service.h"
#include "namenode/security/user_groups.h"
#include "namenode/web/namenode_web.h"
#include "common/web/http_server.h"
#include "common/web/recent_log.h"
#include "talus_rpc/ClientNamenode.h"
#include "talus_rpc/DatanodeNamenode.h"

DEFINE_string(dir, "", "Data directory of this namenode: namespace/ and journal/ live below it. "
              "Created and formatted on first start.");
DEFINE_string(rpc_host, "127.0.0.1", "Address the client RPC server binds to.");
DEFINE_int32(rpc_port, 8020, "Port of the client RPC server; 0 picks a free port.");
DEFINE_string(address_file, "", "When set, once every server listens, three lines are written "
              "here (atomically): \"host:port\" of the client RPC server, of the datanode "
              "service, then of the web server; for launchers that start the namenode on port "
              "0.");
DEFINE_int32(http_port, 9870, "Port of the web server (status page, /api/v1, /metrics), bound "
             "on --rpc_host; 0 picks a free port (HDFS: 9870).");
DEFINE_string(web_user, "dr.who", "The user the web page browses and downloads as, with that "
              "user's permissions (HDFS hadoop.http.staticuser.user).");
DEFINE_int64(web_ops_sample_interval_ms, 5000, "How often the web page's operations-per-second "
             "chart samples the client RPC counters; the last 10 minutes are kept.");
DEFINE_int32(service_rpc_port, 8021, "Port of the datanode-facing RPC server (registrations, "
             "heartbeats, block reports), apart from clients' so neither starves the other; 0 "
             "picks a free port.");
DEFINE_int64(heartbeat_interval_ms, 3000, "How often datanodes are expected to heartbeat "
             "(they are told nothing; their own flag of the same name sets it).");
DEFINE_int64(datanode_dead_after_ms, 630000, "A datanode silent for this long is dead and its "
             "replicas leave the block map (HDFS: 10.5 min).");
DEFINE_string(topology_file, "", "Optional file mapping datanode hosts to racks, for "
              "rack-aware placement.");
DEFINE_string(superuser, "", "The superuser's name; empty means the OS user running the "
              "namenode, as in HDFS.");
DEFINE_string(supergroup, "supergroup", "Members of this group are superusers "
              "(HDFS dfs.permissions.superusergroup).");
DEFINE_string(static_user_groups, "", "Fixed group lists replacing the OS lookup for the "
              "named users, \"alice=g1,g2;bob=\" (HDFS static mapping overrides).");
DEFINE_int32(rpc_max_frame_bytes, 16 << 20, "Largest RPC frame accepted; larger ones close "
             "their connection.");
DEFINE_int32(rpc_max_connections, 4096, "Most client connections served at once.");
DEFINE_int32(rpc_io_threads, 2, "Event-loop threads of the client RPC server. Reads are served "
             "on them; mutations are answered from the journal's apply thread.");
DEFINE_int32(namespace_cache_mb, 64, "LevelDB block cache of the namespace, in MiB.");
DEFINE_int32(metadata_cache_entries, 200000, "Decoded inodes and directory entries kept in "
             "RAM (an LRU); the namespace itself stays in LevelDB.");
DEFINE_uint64(journal_segment_mb, 64, "Journal segment size before a new one is started, MiB.");
DEFINE_uint32(journal_group_commit_delay_us, 500, "Under concurrent mutations, how long the "
              "journal may wait for more entries before an fsync, so each fsync carries more; "
              "a lone client never waits. 0 syncs at once.");
DEFINE_uint32(journal_inline_apply_entries, 4, "A synced journal batch of at most this many "
              "entries is applied by the journal's writer thread when the apply thread is "
              "idle, sparing a lone client a thread handoff; 0 always hands off.");
DEFINE_int64(lease_soft_limit_ms, 60 * 1000, "After this long without a lease renewal another "
             "client may take over a file being written (HDFS: 60 s).");
DEFINE_int64(lease_hard_limit_ms, 20 * 60 * 1000, "After this long without a lease renewal the "
             "namenode recovers and closes a file being written (HDFS: 20 min).");
DEFINE_int64(lease_check_interval_ms, 1000, "How often expired leases are looked for.");
DEFINE_int64(block_recovery_retry_ms, 30000, "A lease recovery whose primary datanode has not "
             "reported back within this long is started again with a new generation stamp.");
DEFINE_int64(replication_interval_ms, 3000, "How often the block monitor runs: dead datanodes "
             "collected, safe mode checked, re-replication and excess deletion scheduled, "
             "decommissioning progressed (HDFS: 3 s).");
DEFINE_int64(replication_timeout_ms, 300000, "A replica copy handed to a datanode and not "
             "reported within this long is scheduled again elsewhere (HDFS: 5 min).");
DEFINE_int32(max_replication_streams, 2, "Replica copies one datanode may be sending at once; "
             "the highest-priority blocks may use up to twice this (HDFS: 2 and 4).");
DEFINE_double(safemode_threshold_pct, 0.999, "Fraction of blocks that must have reported a "
              "replica before the namenode leaves safe mode at start (HDFS: 0.999).");
DEFINE_int64(safemode_extension_ms, 30000, "How long the safe mode threshold must hold before "
             "the namenode leaves safe mode (HDFS: 30 s).");
DEFINE_int32(safemode_min_datanodes, 0, "Live datanodes required as well to leave safe mode.");
DEFINE_string(hosts_exclude_file, "", "File of datanodes to decommission, one \"host\" or "
              "\"host:data_port\" per line (# comments); re-read by `talus dfsadmin "
              "-refreshNodes` (HDFS dfs.hosts.exclude).");
DEFINE_uint64(journal_checkpoint_entries, 100000, "Applied entries between checkpoints, after "
              "which fully applied journal segments are deleted.");
DEFINE_string(raft_peers, "", "The namenode group, \"1=host:port,2=host:port,3=host:port\": every "
              "member's id and Raft transport address, this one included. Empty: a single "
              "namenode with a local journal. With peers, the journal is replicated by Raft, the "
              "leader serves and the others follow (docs/raft.md).");
DEFINE_uint64(namenode_id, 0, "This namenode's id in --raft_peers.");
DEFINE_string(cluster_id, "", "The cluster id a new namespace is formatted with (CID- and 32 hex "
              "digits); required with --raft_peers, so every member of the group starts from the "
              "same namespace. Empty: a fresh random one (single namenode).");
DEFINE_int32(raft_tick_ms, 100, "Raft's unit of time: heartbeats go out every tick.");
DEFINE_int32(raft_election_ticks, 10, "A follower that hears no leader for a random 1-2x this "
             "many ticks starts an election (default 1-2 s).");
DEFINE_uint64(raft_log_retention_entries, 10000, "Entries kept below a checkpoint so that a "
              "slightly lagging follower needs no snapshot.");
DEFINE_bool(raft_unsafe_stale_reads, false, "TESTS ONLY, deliberately unsafe: every member of "
            "the group serves reads from what it has applied, leader or not (shows that the "
            "linearizability test catches stale reads). Never in production.");
DEFINE_bool(raft_enable_fault_injection, false, "Tests only: lets the Raft transport's "
            "setBlockedPeers call cut this namenode off from chosen peers.");

namespace talus {
namespace {

// Run() returns this when a staged snapshot needs a fresh process: main() re-executes itself.
constexpr int kRestartExitCode = 75;
std::atomic<bool> g_restart_requested{false};

DEFINE_validator(rpc_port, &IsPortFlag);
DEFINE_validator(service_rpc_port, &IsPortFlag);
DEFINE_validator(http_port, &IsPortFlag);

bool ValidateIoThreads(const char* flag, int32_t value) {
  if (value >= 1 && value <= 64) return true;
  std::fprintf(stderr, "--%s must be within 1..64\n", flag);
  return false;
}
DEFINE_validator(rpc_io_threads, &ValidateIoThreads);

std::string OsUser() {
  passwd* pw = getpwuid(geteuid());
  return pw != nullptr ? pw->pw_name : std::to_string(geteuid());
}

Status WriteAddressFile(const std::string& path, const std::string& address) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << address << "\n";
    out.flush();
    if (!out) return Status::IoError("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return Status::FromErrno(errno, "rename " + tmp);
  return Status::OK();
}

int Run() {
  if (FLAGS_dir.empty()) {
    std::fprintf(stderr, "talus-namenode: --dir is required\n");
    return 2;
  }
  const int64_t start_time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count();
  web::RecentLog::Install();
  std::error_code ec;
  std::filesystem::create_directories(FLAGS_dir, ec);
  if (ec) {
    LOG(ERROR) << "cannot create " << FLAGS_dir << ": " << ec.message();
    return 1;
  }
  // Termination signals are taken by sigwait below, on the main thread only.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  const std::string superuser = FLAGS_superuser.empty() ? OsUser() : FLAGS_superuser;
  NamespaceStoreOptions store_options;
  if (FLAGS_namespace_cache_mb < 1 || FLAGS_metadata_cache_entries < 1) {
    LOG(ERROR) << "--namespace_cache_mb and --metadata_cache_entries must be positive";
    return 2;
  }
  store_options.block_cache_bytes = static_cast<size_t>(FLAGS_namespace_cache_mb) << 20;
  store_options.metadata_cache_entries = static_cast<size_t>(FLAGS_metadata_cache_entries);
  store_options.root_owner = superuser;
  store_options.root_group = FLAGS_supergroup;
  store_options.cluster_id = FLAGS_cluster_id;
  if (!FLAGS_raft_peers.empty()) {
    // The group's members must start from the same namespace and name each other.
    if (FLAGS_cluster_id.empty()) {
      LOG(ERROR) << "--raft_peers needs --cluster_id (the same on every member)";
      return 2;
    }
    if (FLAGS_rpc_port == 0) {
      LOG(ERROR) << "--raft_peers needs a fixed --rpc_port: followers name the leader's";
      return 2;
    }
    if (FLAGS_namenode_id == 0 || FLAGS_raft_tick_ms < 1 || FLAGS_raft_election_ticks < 3) {
      LOG(ERROR) << "--raft_peers needs --namenode_id >= 1, --raft_tick_ms >= 1 and "
                    "--raft_election_ticks >= 3";
      return 2;
    }
  }
  // A snapshot from the leader staged before the last restart replaces the namespace now.
  raft::SnapshotMeta installed_snapshot;
  const std::string namespace_dir = FLAGS_dir + "/namespace";
  Result<std::optional<NamespaceSnapshotMeta>> installed = CompleteStagedNamespace(namespace_dir);
  if (!installed.ok()) {
    LOG(ERROR) << "cannot finish installing a staged namespace snapshot: " << installed.status();
    return 1;
  }
  if (installed->has_value()) {
    installed_snapshot = raft::SnapshotMeta{(*installed)->index, (*installed)->term};
    LOG(INFO) << "The namespace is the leader's snapshot at index " << installed_snapshot.index
              << " (term " << installed_snapshot.term << ")";
  }
  Result<std::unique_ptr<NamespaceStore>> store =
      NamespaceStore::Open(namespace_dir, store_options);
  if (!store.ok()) {
    LOG(ERROR) << "cannot open the namespace: " << store.status();
    return 1;
  }
  if (!FLAGS_cluster_id.empty() && (*store)->cluster_id() != FLAGS_cluster_id) {
    LOG(ERROR) << FLAGS_dir << " belongs to cluster " << (*store)->cluster_id() << ", not "
               << FLAGS_cluster_id;
    return 2;
  }
  Namesystem namesystem(store->get(), NamesystemOptions{});
  // Role changes reach the block side through this, once it exists (see role_hooks below).
  std::mutex role_mu;
  std::function<void(bool)> role_handler;
  bool serving_as_leader = false;  // guarded by role_mu
  std::unique_ptr<Journal> journal;
  const bool replicated = !FLAGS_raft_peers.empty();
  if (replicated) {
    Result<std::vector<raft::RaftPeer>> peers = ParseRaftPeers(FLAGS_raft_peers);
    if (!peers.ok()) {
      LOG(ERROR) << "--raft_peers: " << peers.status();
      return 2;
    }
    RaftJournalOptions raft_options;
    raft_options.node.id = FLAGS_namenode_id;
    raft_options.node.peers = std::move(*peers);
    raft_options.node.dir = FLAGS_dir + "/raft";
    raft_options.node.tick_ms = FLAGS_raft_tick_ms;
    raft_options.node.election_ticks = FLAGS_raft_election_ticks;
    // Followers ignore candidates for election_ticks after hearing the leader; the lease stops
    // 20 % short of that for clock drift.
    raft_options.node.lease_ticks = std::max(1, FLAGS_raft_election_ticks * 8 / 10);
    raft_options.node.log_retention_entries = FLAGS_raft_log_retention_entries;
    raft_options.node.checkpoint_every_entries = FLAGS_journal_checkpoint_entries;
    raft_options.node.enable_fault_injection = FLAGS_raft_enable_fault_injection;
    raft_options.unsafe_stale_reads = FLAGS_raft_unsafe_stale_reads;
    if (FLAGS_raft_unsafe_stale_reads) {
      LOG(WARNING) << "--raft_unsafe_stale_reads: reads are NOT linearizable (tests only)";
    }
    raft_options.node.client_address = FLAGS_rpc_host + ":" + std::to_string(FLAGS_rpc_port);
    raft_options.node.installed_snapshot = installed_snapshot;
    raft_options.node.on_restart_required = [] {
      g_restart_requested.store(true);
      kill(getpid(), SIGTERM);
    };
    raft_options.on_leadership_change = [&role_mu, &role_handler, &serving_as_leader](
                                            bool is_leader, uint64_t term) {
      LOG(INFO) << (is_leader ? "Leading" : "No longer leading") << " the namenode group in term "
                << term;
      std::lock_guard<std::mutex> lock(role_mu);
      serving_as_leader = is_leader;
      if (role_handler) role_handler(is_leader);
    };
    journal = std::make_unique<RaftJournal>(std::move(raft_options));
  } else {
    LocalJournalOptions journal_options;
    journal_options.directory = FLAGS_dir + "/journal";
    journal_options.segment_size_limit_bytes = FLAGS_journal_segment_mb << 20;
    journal_options.checkpoint_every_entries = FLAGS_journal_checkpoint_entries;
    journal_options.group_commit_delay_us = FLAGS_journal_group_commit_delay_us;
    journal_options.inline_apply_max_entries = FLAGS_journal_inline_apply_entries;
    journal = std::make_unique<LocalJournal>(journal_options);
  }
  namesystem.SetJournal(journal.get());
  if (FLAGS_lease_soft_limit_ms <= 0 || FLAGS_lease_hard_limit_ms < FLAGS_lease_soft_limit_ms ||
      FLAGS_lease_check_interval_ms <= 0) {
    LOG(ERROR) << "lease limits must be positive, the hard one at least the soft one";
    return 2;
  }
  LeaseOptions lease_options;
  lease_options.soft_limit = std::chrono::milliseconds(FLAGS_lease_soft_limit_ms);
  lease_options.hard_limit = std::chrono::milliseconds(FLAGS_lease_hard_limit_ms);
  LeaseManager leases(lease_options);
  namesystem.SetLeaseManager(&leases);
  Result<std::map<std::string, std::vector<std::string>>> static_groups =
      ParseStaticGroups(FLAGS_static_user_groups);
  if (!static_groups.ok()) {
    LOG(ERROR) << "--static_user_groups: " << static_groups.status();
    return 2;
  }
  UserGroupsOptions ug_options;
  ug_options.superuser = superuser;
  ug_options.supergroup = FLAGS_supergroup;
  ug_options.static_groups = std::move(*static_groups);
  UserGroups user_groups(std::move(ug_options));

  // The datanode-facing service: soft state (block map, datanodes) rebuilt from their reports.
  if (FLAGS_heartbeat_interval_ms <= 0 || FLAGS_datanode_dead_after_ms <= FLAGS_heartbeat_interval_ms) {
    LOG(ERROR) << "--datanode_dead_after_ms must exceed a positive --heartbeat_interval_ms";
    return 2;
  }
  std::optional<blocks::Topology> topology;
  if (!FLAGS_topology_file.empty()) {
    Result<blocks::Topology> loaded = blocks::Topology::LoadFile(FLAGS_topology_file);
    if (!loaded.ok()) {
      LOG(ERROR) << "--topology_file: " << loaded.status();
      return 2;
    }
    topology = std::move(*loaded);
  }
  blocks::SteadyClock clock;
  blocks::DatanodeManagerOptions dn_options;
  dn_options.heartbeat_interval_ms = FLAGS_heartbeat_interval_ms;
  dn_options.dead_after_ms = FLAGS_datanode_dead_after_ms;
  blocks::DatanodeManager datanodes(dn_options, &clock, topology ? &*topology : nullptr);
  blocks::BlockMap block_map(&datanodes);
  blocks::SafeModeOptions safe_mode_options;
  safe_mode_options.threshold = FLAGS_safemode_threshold_pct;
  safe_mode_options.extension_ms = FLAGS_safemode_extension_ms;
  safe_mode_options.min_datanodes = FLAGS_safemode_min_datanodes;
  if (Status valid = safe_mode_options.Validate(); !valid.ok()) {
    LOG(ERROR) << "safe mode flags: " << valid;
    return 2;
  }
  blocks::SafeMode safe_mode(safe_mode_options, &clock);
  // Before the journal opens (a Raft node applies entries from then on, on its own thread) and
  // before either server starts: every edit applied from here on updates the map, and the
  // first block reports find every block we have. A group member starts in standby.
  if (replicated) block_map.SetStandby(true);
  Status blocks_loaded = namesystem.AttachBlockMap(&block_map);
  if (!blocks_loaded.ok()) {
    LOG(ERROR) << "cannot load the block map: " << blocks_loaded;
    return 1;
  }
  uint64_t before = namesystem.LastAppliedIndex();
  Status opened = journal->Open(&namesystem);
  if (!opened.ok()) {
    LOG(ERROR) << "cannot open the journal: " << opened;
    return 1;
  }
  // Whatever way Run() returns from here, the journal (whose apply thread feeds the namesystem,
  // the block map and the leases) stops before they are destroyed.
  struct JournalCloser {
    Journal* journal;
    ~JournalCloser() { journal->Close(); }
  } journal_closer{journal.get()};
  if (installed_snapshot.index != 0) {
    // The Raft log has been reset to the snapshot by now (RaftNode::Start).
    if (Status forgot = ForgetInstalledSnapshot(namespace_dir); !forgot.ok()) {
      LOG(WARNING) << "cannot remove the installed-snapshot marker: " << forgot;
    }
  }
  LOG(INFO) << "Namespace at journal index " << namesystem.LastAppliedIndex() << " (replayed "
            << namesystem.LastAppliedIndex() - before << " entries)";
  Status leases_loaded = namesystem.LoadLeases();
  if (!leases_loaded.ok()) {
    LOG(ERROR) << "cannot load the leases: " << leases_loaded;
    return 1;
  }

  auto dn_service = std::make_shared<blocks::DatanodeService>(&datanodes, &block_map, &clock, "");
  if (replicated) {
    // Commands go out only while this namenode leads with a read lease: a deposed leader that
    // has not noticed yet must not delete replicas of blocks the new leader created.
    Journal* j = journal.get();
    dn_service->SetLeaderCheck([j] { return j->IsLeader() && j->CheckServing().ok(); },
                               [j] { return j->CheckServing().detail(); });
  }
  // Calls too slow for an event loop; bounded so a flood of them is refused, not queued forever.
  ThreadPool slow_calls("slow-call pool", 2, 1024);
  blocks::PlacementPolicy placement;
  blocks::BlockManagerOptions manager_options;
  manager_options.monitor_interval_ms = FLAGS_replication_interval_ms;
  manager_options.pending_replication_timeout_ms = FLAGS_replication_timeout_ms;
  manager_options.max_replication_streams = FLAGS_max_replication_streams;
  manager_options.max_replication_streams_hard_limit = 2 * FLAGS_max_replication_streams;
  if (Status valid = manager_options.Validate(); !valid.ok()) {
    LOG(ERROR) << "replication flags: " << valid;
    return 2;
  }
  blocks::BlockManager block_manager(manager_options, &block_map, &datanodes, &placement,
                                     &safe_mode, &clock);
  // A follower keeps a warm block map but decides nothing: no re-replication, no deletes, no
  // lease recovery; leaving or taking the lead starts from an empty command queue, and a new
  // leader gives every writer a fresh lease (its predecessor took their renewals).
  struct RoleHooks {
    std::mutex* mu;
    std::function<void(bool)>* handler;
    ~RoleHooks() {
      std::lock_guard<std::mutex> lock(*mu);
      *handler = nullptr;
    }
  } role_hooks{&role_mu, &role_handler};
  if (replicated) {
    std::lock_guard<std::mutex> lock(role_mu);
    role_handler = [&](bool is_leader) {
      block_map.SetStandby(!is_leader);
      block_manager.SetActive(is_leader);
      datanodes.ClearPendingCommands();
      // Replicas marked excess had deletes queued that were just dropped: count them again.
      for (const blocks::DatanodeSnapshot& node : datanodes.ListNodes()) {
        block_map.OnDatanodeRegistered(node.index);
      }
      if (is_leader) leases.RenewAll();
    };
    block_manager.SetActive(false);
    if (serving_as_leader) role_handler(true);
  }
  BlockRecovery::Options recovery_options;
  recovery_options.retry_after = std::chrono::milliseconds(FLAGS_block_recovery_retry_ms);
  BlockRecovery block_recovery(&namesystem, &block_map, &datanodes, recovery_options);
  namesystem.SetBlockRecoveryStarter([&block_recovery](const Inode& file, const std::string& path) {
    return block_recovery.Start(file, path);
  });
  dn_service->SetCommitBlockSyncHandler(
      [&block_recovery](const blocks::Block& old_block, const blocks::Block& new_block,
                        const std::vector<std::string>& storage_ids, bool close_file,
                        bool delete_block) {
        return block_recovery.Commit(old_block, new_block, storage_ids, close_file, delete_block);
      },
      &slow_calls);
  auto service = std::make_shared<ClientService>(&namesystem, &user_groups, &slow_calls);
  service->SetBlockManagement(&datanodes, &block_map, &placement);
  service->SetOperations(&safe_mode, &block_manager);
  if (Status excludes = service->SetHostsExcludeFile(FLAGS_hosts_exclude_file); !excludes.ok()) {
    LOG(ERROR) << excludes;
    return 2;
  }
  auto processor = std::make_shared<rpc::ClientNamenodeAsyncProcessor>(service);
  AsyncThriftServerOptions server_options;
  server_options.host = FLAGS_rpc_host;
  server_options.port = FLAGS_rpc_port;
  server_options.max_frame_bytes = FLAGS_rpc_max_frame_bytes;
  server_options.max_connections = FLAGS_rpc_max_connections;
  server_options.io_threads = FLAGS_rpc_io_threads;
  server_options.metrics_name = "client";
  // An empty namespace leaves safe mode at once, before the first client can see it.
  block_manager.RunOnce();
  Result<std::unique_ptr<AsyncThriftServer>> server =
      AsyncThriftServer::Start(processor, server_options);
  if (!server.ok()) {
    LOG(ERROR) << server.status();
    return 1;
  }
  const std::string address = FLAGS_rpc_host + ":" + std::to_string((*server)->port());
  LOG(INFO) << "talus-namenode serving on " << address << " (superuser " << superuser << ")";
  // The lease monitor: closes files whose writers vanished.
  std::mutex monitor_mu;
  std::condition_variable monitor_cv;
  bool stopping = false;
  std::thread lease_monitor([&] {
    std::unique_lock<std::mutex> lock(monitor_mu);
    while (!monitor_cv.wait_for(lock, std::chrono::milliseconds(FLAGS_lease_check_interval_ms),
                                [&] { return stopping; })) {
      lock.unlock();
      if (!journal->IsLeader()) {  // a follower's leases are the leader's business
        lock.lock();
        continue;
      }
      Result<int> recovered = namesystem.RecoverExpiredLeases();
      if (!recovered.ok()) LOG(WARNING) << "lease recovery: " << recovered.status();
      block_recovery.RetryStalled();
      lock.lock();
    }
  });
  // For a failure from here on: the monitor thread must be joined before Run() returns.
  auto stop_lease_monitor = [&] {
    {
      std::lock_guard<std::mutex> lock(monitor_mu);
      stopping = true;
    }
    monitor_cv.notify_all();
    if (lease_monitor.joinable()) lease_monitor.join();
  };
  AsyncThriftServerOptions service_options = server_options;
  service_options.port = FLAGS_service_rpc_port;
  service_options.io_threads = 1;
  service_options.metrics_name = "service";
  Result<std::unique_ptr<AsyncThriftServer>> service_server = AsyncThriftServer::Start(
      std::make_shared<rpc::DatanodeNamenodeAsyncProcessor>(dn_service), service_options);
  if (!service_server.ok()) {
    LOG(ERROR) << "datanode service: " << service_server.status();
    stop_lease_monitor();
    return 1;
  }
  const std::string service_address =
      FLAGS_rpc_host + ":" + std::to_string((*service_server)->port());
  LOG(INFO) << "datanode service on " << service_address;
  block_manager.Start();
  // Block map sizes, queues, nodes and leases, read at each scrape of /metrics.
  const int metrics_collector = RegisterNamenodeCollector(
      &metrics::DefaultRegistry(),
      {&block_map, &block_manager, &datanodes, &safe_mode, &namesystem, &leases});
  web::HttpServerOptions http_options;
  http_options.host = FLAGS_rpc_host;
  http_options.port = FLAGS_http_port;
  http_options.daemon = "namenode";
  Result<std::unique_ptr<web::HttpServer>> http = web::HttpServer::Create(http_options);
  if (!http.ok()) {
    LOG(ERROR) << "web server: " << http.status();
    block_manager.Stop();
    metrics::DefaultRegistry().RemoveCollector(metrics_collector);
    stop_lease_monitor();
    return 1;
  }
  NamenodeWebOptions web_options;
  web_options.namesystem = &namesystem;
  web_options.user_groups = &user_groups;
  web_options.datanodes = &datanodes;
  web_options.block_map = &block_map;
  web_options.block_manager = &block_manager;
  web_options.safe_mode = &safe_mode;
  web_options.rpc_address = address;
  web_options.cluster_id = (*store)->cluster_id();
  web_options.start_time_ms = start_time_ms;
  web_options.web_user = FLAGS_web_user;
  web_options.ops_sample_interval_ms = FLAGS_web_ops_sample_interval_ms;
  Result<std::unique_ptr<NamenodeWeb>> namenode_web = NamenodeWeb::Create(std::move(web_options));
  if (!namenode_web.ok()) {
    LOG(ERROR) << "web: " << namenode_web.status();
    block_manager.Stop();
    metrics::DefaultRegistry().RemoveCollector(metrics_collector);
    stop_lease_monitor();
    return 2;
  }
  (*namenode_web)->Register(http->get());
  (*http)->Start();
  const std::string http_address = FLAGS_rpc_host + ":" + std::to_string((*http)->port());
  if (!FLAGS_address_file.empty()) {
    Status written = WriteAddressFile(FLAGS_address_file,
                                      address + "\n" + service_address + "\n" + http_address);
    if (!written.ok()) {
      LOG(ERROR) << written;
      (*http)->Stop();
      block_manager.Stop();
      metrics::DefaultRegistry().RemoveCollector(metrics_collector);
      stop_lease_monitor();
      return 1;
    }
  }

  int received = 0;
  sigwait(&signals, &received);
  LOG(INFO) << "signal " << received << ": shutting down";
  // The server first, so no new mutation arrives; then the journal finishes what it holds
  // (answers to connections already closed are dropped safely).
  (*http)->Stop();
  metrics::DefaultRegistry().RemoveCollector(metrics_collector);
  (*server)->Stop();
  (*service_server)->Stop();
  block_manager.Stop();
  stop_lease_monitor();
  journal->Close();
  return g_restart_requested.load() ? kRestartExitCode : 0;
}

}  // namespace
}  // namespace talus

int main(int argc, char** argv) {
  // Kept before gflags rewrites argv, for re-executing with the same arguments.
  std::vector<char*> saved_argv;
  for (int i = 0; i < argc; ++i) saved_argv.push_back(strdup(argv[i]));
  saved_argv.push_back(nullptr);
  gflags::SetUsageMessage("talus-namenode --dir=DIR [--rpc_port=PORT] [flags]");
  gflags::SetVersionString(TALUS_VERSION);
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  google::InitGoogleLogging(argv[0]);
  google::InstallFailureSignalHandler();
  const int code = talus::Run();
  if (code == talus::kRestartExitCode) {
    LOG(WARNING) << "Re-executing to install the staged namespace snapshot";
    google::FlushLogFiles(google::GLOG_INFO);
    execv("/proc/self/exe", saved_argv.data());
    PLOG(ERROR) << "cannot re-execute /proc/self/exe";
    return 1;
  }
  return code;
}
