// talus-datanode: stores replicas on its volumes, serves them on its data port, answers recovery
// calls on its RPC port, and reports to every namenode.
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include <gflags/gflags.h>
#include <glog/logging.h>
#include <thrift/Thrift.h>

#include "common/flag_checks.h"
#include "common/web/http_server.h"
#include "common/web/recent_log.h"
#include "datanode/server/datanode.h"
#include "datanode/web/datanode_web.h"

DEFINE_string(dir, "", "This datanode's own directory. When --data_dirs is empty its one volume "
              "is DIR/data. (Launchers also use it to tell their daemons apart.)");
DEFINE_string(data_dirs, "", "Comma-separated volume directories, one per disk; each is created "
              "and formatted on first use.");
DEFINE_string(namenodes, "", "Comma-separated host:port of every namenode's service RPC port "
              "(where datanodes register, heartbeat and report).");
DEFINE_string(rpc_host, "127.0.0.1", "Address both servers bind to and the host this datanode "
              "registers with.");
DEFINE_int32(rpc_port, 9867, "Port of the DatanodeProtocol RPC server (visible lengths, replica "
             "recovery); 0 picks a free port.");
DEFINE_int32(data_port, 9866, "Port of the data transfer server (block reads and writes); 0 "
             "picks a free port.");
DEFINE_string(address_file, "", "When set, once every server listens, three lines are written "
              "here (atomically): \"host:port\" of the RPC server, of the data port, then of "
              "the web server; for launchers that start the datanode on port 0.");
DEFINE_int32(http_port, 9864, "Port of the web server (status page, /metrics, downloads), bound "
             "on --rpc_host and registered with the namenodes; 0 picks a free port (HDFS: "
             "9864).");
DEFINE_string(web_user, "dr.who", "The user downloads from the web server read files as, with "
              "that user's permissions (HDFS's static web user): an ordinary user with no "
              "groups, so only what the world may read can be downloaded.");
DEFINE_int64(heartbeat_interval_ms, 3000, "How often a heartbeat (capacity, use, transfers) goes "
             "to each namenode; its replies carry commands. Give the namenode the same value.");
DEFINE_int64(block_report_interval_ms, 6LL * 3600 * 1000, "How often a full block report goes to "
             "each namenode, besides the one at registration (HDFS: 6 h).");
DEFINE_uint64(reserved_bytes_per_volume, 0, "Bytes of each volume's file system left for "
              "others: never counted as capacity nor filled with replicas.");
DEFINE_string(cluster_id, "", "Registered with; a namenode that serves another cluster id "
              "refuses this datanode. Empty: accepted by any namenode that does not check.");
DEFINE_int32(rpc_timeout_ms, 30000, "Timeout of each call to a namenode or peer datanode.");
DEFINE_int32(transfer_socket_timeout_ms, 60000, "Timeout of each read or write on a data "
             "transfer connection.");
DEFINE_int32(max_transfer_connections, 256, "Most data transfer connections served at once; "
             "more are refused with an error.");
DEFINE_uint64(expected_block_bytes, 128ULL << 20, "Space a new replica is assumed to need: a "
              "volume with less remaining (after --reserved_bytes_per_volume and the space held "
              "for replicas being written) takes no new replica, and when no volume has room a "
              "write is refused with a no-space error (the client then writes elsewhere). Each "
              "replica being written holds this much until it is finalized, as HDFS reserves "
              "a block. The write op does not say the block size; give the file system's usual "
              "block size (HDFS: 128 MiB).");
DEFINE_int32(max_replication_streams, 2, "Most replica copies to other datanodes "
             "(REPLICATE_BLOCKS from the namenode) running at once; more wait in a queue.");
DEFINE_int32(max_queued_replications, 1024, "Most replica copies waiting to run; more are "
             "dropped (the namenode asks again after its timeout).");
DEFINE_uint64(replication_bandwidth_bytes_per_sec, 0, "Combined data rate of the replica copies "
              "this datanode sends, so re-replication leaves disk and network to clients; 0 "
              "is unlimited.");
DEFINE_uint64(block_scan_bytes_per_sec, 1ULL << 20, "Rate at which the block scanner re-reads "
              "finalized replicas to verify their checksums (HDFS: 1 MiB/s); 0 turns the "
              "scanner off.");
DEFINE_int64(block_scan_period_ms, 21LL * 24 * 3600 * 1000, "How long before the block scanner "
             "verifies the same replica again (HDFS: 3 weeks).");

namespace talus::datanode {
namespace {

DEFINE_validator(rpc_port, &IsPortFlag);
DEFINE_validator(http_port, &IsPortFlag);
DEFINE_validator(data_port, &IsPortFlag);
DEFINE_validator(heartbeat_interval_ms, &IsPositiveFlag);
DEFINE_validator(block_report_interval_ms, &IsPositiveFlag);
DEFINE_validator(rpc_timeout_ms, &IsPositiveFlag32);
DEFINE_validator(transfer_socket_timeout_ms, &IsPositiveFlag32);
DEFINE_validator(max_transfer_connections, &IsPositiveFlag32);
DEFINE_validator(max_replication_streams, &IsPositiveFlag32);
DEFINE_validator(max_queued_replications, &IsPositiveFlag32);
DEFINE_validator(block_scan_period_ms, &IsPositiveFlag);

Status WriteAddressFile(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text << "\n";
    out.flush();
    if (!out) return Status::IoError("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return Status::FromErrno(errno, "rename " + tmp);
  return Status::OK();
}

// Thrift prints every failed connect to stderr; the link logs what matters, rate-limited.
void QuietThriftOutput(const char* message) { VLOG(1) << "thrift: " << message; }

std::vector<std::string> SplitList(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    std::string item = list.substr(start, comma == std::string::npos ? std::string::npos
                                                                      : comma - start);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

int Run() {
  DatanodeOptions options;
  options.data_dirs = SplitList(FLAGS_data_dirs);
  if (options.data_dirs.empty()) {
    if (FLAGS_dir.empty()) {
      std::fprintf(stderr, "talus-datanode: --data_dirs (or --dir) is required\n");
      return 2;
    }
    options.data_dirs.push_back(FLAGS_dir + "/data");
  }
  for (const std::string& d : options.data_dirs) {
    if (d.empty() || d[0] != '/') {
      std::fprintf(stderr, "talus-datanode: data directory '%s' is not an absolute path\n",
                   d.c_str());
      return 2;
    }
  }
  Result<std::vector<HostPort>> namenodes = ParseHostPortList(FLAGS_namenodes);
  if (FLAGS_namenodes.empty() || !namenodes.ok()) {
    std::fprintf(stderr, "talus-datanode: --namenodes needs host:port[,host:port...]%s%s\n",
                 namenodes.ok() ? "" : ": ",
                 namenodes.ok() ? "" : namenodes.status().message().c_str());
    return 2;
  }
  options.namenodes = std::move(*namenodes);
  if (FLAGS_web_user.empty()) {
    std::fprintf(stderr, "talus-datanode: --web_user must name a user\n");
    return 2;
  }
  options.reserved_bytes_per_volume = FLAGS_reserved_bytes_per_volume;
  options.rpc_host = FLAGS_rpc_host;
  options.rpc_port = FLAGS_rpc_port;
  options.data_port = FLAGS_data_port;
  options.heartbeat_interval_ms = FLAGS_heartbeat_interval_ms;
  options.block_report_interval_ms = FLAGS_block_report_interval_ms;
  options.cluster_id = FLAGS_cluster_id;
  options.rpc_timeout_ms = FLAGS_rpc_timeout_ms;
  options.transfer_socket_timeout_ms = FLAGS_transfer_socket_timeout_ms;
  options.max_transfer_connections = FLAGS_max_transfer_connections;
  options.expected_block_bytes = FLAGS_expected_block_bytes;
  options.max_replication_streams = FLAGS_max_replication_streams;
  options.max_queued_replications = FLAGS_max_queued_replications;
  options.replication_bandwidth_bytes_per_sec = FLAGS_replication_bandwidth_bytes_per_sec;
  options.block_scan_bytes_per_sec = FLAGS_block_scan_bytes_per_sec;
  options.block_scan_period = std::chrono::milliseconds(FLAGS_block_scan_period_ms);

  // Termination signals are taken by sigwait below, on the main thread only.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  const int64_t start_time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count();
  web::RecentLog::Install();
  // Bound before the datanode starts: its port goes into the registration.
  web::HttpServerOptions http_options;
  http_options.host = FLAGS_rpc_host;
  http_options.port = FLAGS_http_port;
  http_options.daemon = "datanode";
  Result<std::unique_ptr<web::HttpServer>> http = web::HttpServer::Create(http_options);
  if (!http.ok()) {
    LOG(ERROR) << "web server: " << http.status();
    return 1;
  }
  options.http_port = (*http)->port();

  Result<std::unique_ptr<Datanode>> started = Datanode::Start(options);
  if (!started.ok()) {
    LOG(ERROR) << "cannot start the datanode: " << started.status();
    return 1;
  }
  Datanode& dn = **started;
  DatanodeWebOptions web_options;
  web_options.datanode = &dn;
  web_options.start_time_ms = start_time_ms;
  web_options.web_user = FLAGS_web_user;
  RegisterDatanodeWeb(http->get(), web_options);
  (*http)->Start();
  const std::string http_address = FLAGS_rpc_host + ":" + std::to_string((*http)->port());
  if (!FLAGS_address_file.empty()) {
    Status written = WriteAddressFile(
        FLAGS_address_file, dn.rpc_address() + "\n" + dn.data_address() + "\n" + http_address);
    if (!written.ok()) {
      LOG(ERROR) << written;
      // The web server's threads read the datanode: stop them before it is destroyed.
      (*http)->Stop();
      dn.Stop();
      return 1;
    }
  }
  dn.StartNamenodeLinks();
  LOG(INFO) << "talus-datanode " << dn.storage_id() << " serving; namenodes " << FLAGS_namenodes;

  int received = 0;
  sigwait(&signals, &received);
  LOG(INFO) << "signal " << received << ": shutting down";
  (*http)->Stop();
  dn.Stop();
  return 0;
}

}  // namespace
}  // namespace talus::datanode

int main(int argc, char** argv) {
  gflags::SetUsageMessage("talus-datanode --data_dirs=DIR[,DIR...] --namenodes=HOST:PORT[,...] "
                          "[--rpc_port=PORT] [--data_port=PORT] [flags]");
  gflags::SetVersionString(TALUS_VERSION);
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  google::InitGoogleLogging(argv[0]);
  google::InstallFailureSignalHandler();
  apache::thrift::GlobalOutput.setOutputFunction(talus::datanode::QuietThriftOutput);
  return talus::datanode::Run();
}
