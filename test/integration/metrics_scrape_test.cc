// /metrics of a real cluster (one namenode, three datanodes) after files were written and read
// through the client: every scrape passes the strict text-format parser, and the families an
// operator relies on are there with HELP and TYPE and values that match what was done.
#include <gtest/gtest.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "talus/file_system.h"
#include "test/support/client_data_util.h"
#include "test/support/http_client.h"
#include "test/support/mini_cluster.h"
#include "test/support/prometheus_text.h"

namespace talus {
namespace {

using test::PromExposition;
using test::PromLabels;

constexpr int64_t kBlock = 1 << 20;

Result<std::string> ScrapeText(const std::string& address) {
  ASSIGN_OR_RETURN(test::HttpAnswer answer, test::HttpGet(address, "/metrics"));
  if (answer.status != 200) {
    return Status::IoError("GET /metrics of " + address + ": HTTP " +
                           std::to_string(answer.status));
  }
  if (answer.Header("Content-Type").find("text/plain") != 0 ||
      answer.Header("Content-Type").find("version=0.0.4") == std::string::npos) {
    return Status::IoError("GET /metrics of " + address + ": Content-Type " +
                           answer.Header("Content-Type"));
  }
  return answer.body;
}

Result<PromExposition> Scrape(const std::string& address) {
  ASSIGN_OR_RETURN(std::string text, ScrapeText(address));
  Result<PromExposition> parsed = test::ParsePrometheusText(text);
  if (!parsed.ok()) {
    return Status::InvalidArgument("/metrics of " + address +
                                   " is not valid: " + parsed.status().message());
  }
  return parsed;
}

// Every family named has HELP, and the TYPE given.
void ExpectFamilies(const PromExposition& e,
                    const std::vector<std::pair<std::string, std::string>>& families) {
  for (const auto& [name, type] : families) {
    const test::PromFamily* f = e.Family(name);
    if (f == nullptr) {
      ADD_FAILURE() << "no family " << name;
      continue;
    }
    EXPECT_TRUE(f->has_help && !f->help.empty()) << name << " without HELP";
    EXPECT_TRUE(f->has_type) << name << " without TYPE";
    EXPECT_EQ(f->type, type) << name;
    EXPECT_FALSE(f->samples.empty()) << name << " without samples";
  }
}

// Calls a method the namenode does not have over the Thrift wire, as a confused or hostile
// client would; returns the type of the message answered.
Result<int> CallUnknownMethod(const std::string& address, const std::string& method) {
  using apache::thrift::protocol::TBinaryProtocol;
  using apache::thrift::protocol::TMessageType;
  using apache::thrift::transport::TFramedTransport;
  using apache::thrift::transport::TSocket;
  const size_t colon = address.rfind(':');
  try {
    auto socket =
        std::make_shared<TSocket>(address.substr(0, colon), std::stoi(address.substr(colon + 1)));
    socket->setRecvTimeout(10000);
    auto transport = std::make_shared<TFramedTransport>(socket);
    TBinaryProtocol protocol(transport);
    transport->open();
    protocol.writeMessageBegin(method, apache::thrift::protocol::T_CALL, 1);
    protocol.writeStructBegin("args");
    protocol.writeFieldStop();
    protocol.writeStructEnd();
    protocol.writeMessageEnd();
    transport->flush();
    std::string name;
    TMessageType type;
    int32_t seq = 0;
    protocol.readMessageBegin(name, type, seq);
    transport->close();
    return static_cast<int>(type);
  } catch (const std::exception& e) {
    return Status::IoError(std::string("raw Thrift call: ") + e.what());
  }
}

TEST(MetricsScrapeTest, NamenodeAndDatanodesExportWhatOperatorsRelyOn) {
  test::MiniClusterOptions cluster_options;
  cluster_options.datanodes = 3;
  cluster_options.extra_flags = {"--heartbeat_interval_ms=200"};
  auto started = test::MiniCluster::Start(cluster_options);
  ASSERT_TRUE(started.ok()) << started.status();
  std::unique_ptr<test::MiniCluster> cluster = std::move(*started);

  ClientOptions client_options;
  client_options.default_block_size = kBlock;
  auto connected = FileSystem::Connect(cluster->uri(), client_options);
  ASSERT_TRUE(connected.ok()) << connected.status();
  std::unique_ptr<FileSystem> fs = std::move(*connected);
  ASSERT_TRUE(fs->Mkdirs("/m").ok());

  // Five files, one over a block, written (replication 3) and read back once.
  constexpr int kFiles = 5;
  int64_t bytes = 0;
  for (int i = 0; i < kFiles; ++i) {
    const std::string path = "/m/f" + std::to_string(i);
    const std::string data = test::RandomBytes(i == 0 ? kBlock + 4097 : 100000 + i, i);
    Status s = test::WriteWholeFile(*fs, path, data, 65536);
    ASSERT_TRUE(s.ok()) << s;
    auto back = test::ReadWholeFile(*fs, path);
    ASSERT_TRUE(back.ok()) << back.status();
    ASSERT_TRUE(*back == data);
    bytes += static_cast<int64_t>(data.size());
  }

  // A method the namenode does not have, and a name that is no identifier: answered with an
  // exception, and neither may become a label.
  const std::string kMadeUp = "noSuchMethodForMetricsTest";
  for (const std::string& method : {kMadeUp, std::string("bad name!")}) {
    auto type = CallUnknownMethod(cluster->namenode_address(0), method);
    ASSERT_TRUE(type.ok()) << type.status();
    EXPECT_EQ(*type, apache::thrift::protocol::T_EXCEPTION);
  }

  const std::string nn = cluster->namenode_http_address(0);
  auto scraped = Scrape(nn);
  ASSERT_TRUE(scraped.ok()) << scraped.status();
  PromExposition e = std::move(*scraped);

  ExpectFamilies(e, {
                        {"talus_rpc_requests_total", "counter"},
                        {"talus_rpc_latency_seconds", "histogram"},
                        {"talus_rpc_open_connections", "gauge"},
                        {"talus_rpc_refused_connections_total", "counter"},
                        {"talus_namenode_journal_sync_seconds", "histogram"},
                        {"talus_namenode_journal_commit_seconds", "histogram"},
                        {"talus_namenode_journal_apply_seconds", "histogram"},
                        {"talus_namenode_journal_batch_entries", "histogram"},
                        {"talus_namenode_journal_entries_total", "counter"},
                        {"talus_namenode_journal_syncs_total", "counter"},
                        {"talus_namenode_journal_last_applied_index", "gauge"},
                        {"talus_namenode_heartbeats_total", "counter"},
                        {"talus_namenode_block_reports_total", "counter"},
                        {"talus_namenode_incremental_report_blocks_total", "counter"},
                        {"talus_namenode_blocks", "gauge"},
                        {"talus_namenode_under_replicated_blocks", "gauge"},
                        {"talus_namenode_missing_blocks", "gauge"},
                        {"talus_namenode_corrupt_replica_blocks", "gauge"},
                        {"talus_namenode_pending_replication_blocks", "gauge"},
                        {"talus_namenode_pending_deletion_blocks", "gauge"},
                        {"talus_namenode_replication_queue_blocks", "gauge"},
                        {"talus_namenode_datanodes", "gauge"},
                        {"talus_namenode_safe_mode", "gauge"},
                        {"talus_namenode_files", "gauge"},
                        {"talus_namenode_directories", "gauge"},
                    });

  // RPCs: counted per method, with a latency observation for each.
  const PromLabels creates = {{"server", "client"}, {"method", "create"}};
  EXPECT_GE(e.Value("talus_rpc_requests_total", creates).value_or(0), kFiles);
  EXPECT_GE(e.Value("talus_rpc_requests_total", {{"server", "client"}, {"method", "complete"}})
                .value_or(0),
            kFiles);
  // One latency observation per request (methods this test called and finished: nothing in
  // the background calls them while the scrape reads the two families).
  for (const char* method :
       {"create", "complete", "addBlock", "getBlockLocations", "mkdirs", "unknown"}) {
    const PromLabels labels = {{"server", "client"}, {"method", method}};
    EXPECT_GE(e.Value("talus_rpc_requests_total", labels).value_or(0), 1) << method;
    EXPECT_EQ(e.Value("talus_rpc_latency_seconds_count", labels),
              e.Value("talus_rpc_requests_total", labels))
        << method;
  }
  EXPECT_GT(e.Value("talus_rpc_latency_seconds_sum", creates).value_or(0), 0);
  EXPECT_EQ(e.Count("talus_rpc_requests_total", {{"method", kMadeUp}}), 0u);
  EXPECT_EQ(e.Count("talus_rpc_requests_total", {{"method", "bad name!"}}), 0u);
  EXPECT_GE(e.Value("talus_rpc_requests_total", {{"server", "client"}, {"method", "unknown"}})
                .value_or(0),
            2);
  EXPECT_GE(e.Value("talus_rpc_open_connections", {{"server", "client"}}).value_or(0), 1);
  EXPECT_GE(e.Value("talus_rpc_requests_total", {{"server", "service"}, {"method", "heartbeat"}})
                .value_or(0),
            1);

  // The journal: every create was journaled, synced and applied.
  EXPECT_GE(e.Value("talus_namenode_journal_entries_total").value_or(0), kFiles);
  EXPECT_GE(e.Value("talus_namenode_journal_syncs_total").value_or(0), 1);
  // One sync latency per sync (a sync landing between the two reads may make them differ).
  EXPECT_NEAR(e.Value("talus_namenode_journal_sync_seconds_count").value_or(-10),
              e.Value("talus_namenode_journal_syncs_total").value_or(0), 1);
  EXPECT_GE(e.Value("talus_namenode_journal_commit_seconds_count").value_or(0), kFiles);
  EXPECT_GE(e.Value("talus_namenode_journal_last_applied_index").value_or(0),
            e.Value("talus_namenode_journal_entries_total").value_or(0));

  // The namespace and block map as the collector reads them.
  EXPECT_EQ(
      e.Value("talus_namenode_datanodes", {{"liveness", "live"}, {"admin_state", "in_service"}}),
      3);
  EXPECT_EQ(e.Sum("talus_namenode_datanodes", {{"liveness", "dead"}}), 0);
  EXPECT_EQ(e.Value("talus_namenode_safe_mode"), 0);
  EXPECT_GE(e.Value("talus_namenode_files").value_or(0), kFiles);
  EXPECT_GE(e.Value("talus_namenode_directories").value_or(0), 1);
  EXPECT_EQ(e.Value("talus_namenode_blocks"), kFiles + 1);  // f0 has two blocks
  EXPECT_EQ(e.Value("talus_namenode_missing_blocks"), 0);
  EXPECT_EQ(e.Value("talus_namenode_corrupt_replica_blocks"), 0);
  EXPECT_GE(e.Value("talus_namenode_block_reports_total").value_or(0), 3);
  EXPECT_GT(e.Value("talus_namenode_capacity_bytes").value_or(0), 0);

  // Datanodes: three copies of every byte stored, every byte read served by someone.
  double written = 0, read = 0, write_ops = 0;
  for (int i = 0; i < cluster->num_datanodes(); ++i) {
    SCOPED_TRACE("datanode " + std::to_string(i));
    auto dn = Scrape(cluster->datanode_http_address(i));
    ASSERT_TRUE(dn.ok()) << dn.status();
    ExpectFamilies(*dn, {
                            {"talus_datanode_bytes_written_total", "counter"},
                            {"talus_datanode_bytes_read_total", "counter"},
                            {"talus_datanode_blocks_written_total", "counter"},
                            {"talus_datanode_checksum_failures_total", "counter"},
                            {"talus_datanode_transfer_ops_total", "counter"},
                            {"talus_datanode_transfer_op_seconds", "histogram"},
                            {"talus_datanode_active_transfers", "gauge"},
                            {"talus_datanode_packet_write_seconds", "histogram"},
                            {"talus_rpc_open_connections", "gauge"},
                        });
    written += dn->Value("talus_datanode_bytes_written_total").value_or(0);
    read += dn->Value("talus_datanode_bytes_read_total").value_or(0);
    write_ops +=
        dn->Value("talus_datanode_transfer_ops_total", {{"op", "write_block"}}).value_or(0);
    EXPECT_EQ(dn->Sum("talus_datanode_checksum_failures_total"), 0);
    EXPECT_EQ(dn->Count("talus_datanode_checksum_failures_total"), 3u);  // write, read, scanner
    EXPECT_EQ(dn->Value("talus_datanode_transfer_op_seconds_count", {{"op", "write_block"}}),
              dn->Value("talus_datanode_transfer_ops_total", {{"op", "write_block"}}));
  }
  EXPECT_GE(written, 3.0 * static_cast<double>(bytes));
  EXPECT_GE(read, static_cast<double>(bytes));
  EXPECT_GE(write_ops, 3.0 * (kFiles + 1));  // each block's pipeline reaches three nodes

  // Heartbeats keep coming (every 200 ms here): the counter grows between scrapes.
  const double heartbeats = e.Value("talus_namenode_heartbeats_total").value_or(0);
  EXPECT_GT(heartbeats, 0);
  EXPECT_TRUE(test::WaitFor(
      [&] {
        auto later = Scrape(nn);
        return later.ok() &&
               later->Value("talus_namenode_heartbeats_total").value_or(0) >= heartbeats + 6;
      },
      std::chrono::seconds(15), std::chrono::milliseconds(100)));

  // Optionally, Prometheus's own checker agrees (Debian's prometheus package; not installed by
  // default).
  if (::access("/usr/bin/promtool", X_OK) == 0) {
    auto text = ScrapeText(nn);
    ASSERT_TRUE(text.ok()) << text.status();
    test::TempDir dir;
    const std::string file = dir.path() + "/metrics.txt";
    std::ofstream(file) << *text;
    const std::string command =
        "/usr/bin/promtool check metrics < " + file + " > " + dir.path() + "/promtool.out 2>&1";
    EXPECT_EQ(std::system(command.c_str()), 0) << "promtool check metrics failed";
  } else {
    std::cout << "promtool not installed: only the strict parser checked /metrics\n";
  }
}

}  // namespace
}  // namespace talus
