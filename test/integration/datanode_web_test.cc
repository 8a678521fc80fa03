// The datanode's web server against a real cluster (one namenode, one datanode): its JSON
// API, its page and static files, /metrics, downloads (bytes, headers, file names that need
// care) and the bad requests a browser or an attacker may send. What is checked is what an
// operator or a browser sees over HTTP.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "talus/file_system.h"
#include "test/support/client_data_util.h"
#include "test/support/http_client.h"
#include "test/support/mini_cluster.h"

namespace talus {
namespace {

constexpr int64_t kBlock = 1 << 20;

class DatanodeWebTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    test::MiniClusterOptions options;
    options.datanodes = 1;
    options.extra_flags = {"--heartbeat_interval_ms=200"};
    auto started = test::MiniCluster::Start(options);
    ASSERT_TRUE(started.ok()) << started.status();
    cluster_ = started->release();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(cluster_, nullptr);
    ClientOptions options;
    options.default_block_size = kBlock;
    options.default_replication = 1;
    auto fs = FileSystem::Connect(cluster_->uri(), options);
    ASSERT_TRUE(fs.ok()) << fs.status();
    fs_ = std::move(*fs);
    ASSERT_TRUE(fs_->Mkdirs("/web").ok());
    web_ = cluster_->datanode_http_address(0);
    ASSERT_FALSE(web_.empty());
  }

  // GET on the datanode's web server; fails the test when no HTTP answer comes.
  test::HttpAnswer Get(const std::string& target) {
    Result<test::HttpAnswer> answer = test::HttpGet(web_, target);
    EXPECT_TRUE(answer.ok()) << answer.status();
    return answer.ok() ? *answer : test::HttpAnswer{};
  }

  nlohmann::json DatanodeJson() {
    test::HttpAnswer answer = Get("/api/v1/datanode");
    EXPECT_EQ(answer.status, 200) << answer.body;
    Result<nlohmann::json> json = answer.Json();
    EXPECT_TRUE(json.ok()) << json.status();
    return json.ok() ? *json : nlohmann::json::object();
  }

  // The value of header `name` exactly as the server sent it (read from the socket).
  std::string RawHeader(const std::string& target, const std::string& name) {
    const size_t colon = web_.rfind(':');
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(std::stoi(web_.substr(colon + 1))));
    inet_pton(AF_INET, web_.substr(0, colon).c_str(), &addr.sin_addr);
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_GE(fd, 0);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      close(fd);
      ADD_FAILURE() << "cannot connect to " << web_;
      return "";
    }
    const std::string request = "GET " + target + " HTTP/1.1\r\nHost: " + web_ +
                                "\r\nConnection: close\r\n\r\n";
    EXPECT_EQ(write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
    std::string head;
    char buf[4096];
    while (head.find("\r\n\r\n") == std::string::npos && head.size() < 65536) {
      const ssize_t n = read(fd, buf, sizeof(buf));
      if (n <= 0) break;
      head.append(buf, static_cast<size_t>(n));
    }
    close(fd);
    const std::string key = "\r\n" + name + ": ";
    const size_t at = head.find(key);
    if (at == std::string::npos) return "";
    const size_t begin = at + key.size();
    return head.substr(begin, head.find("\r\n", begin) - begin);
  }

  std::string DownloadTarget(const std::string& path) {
    return "/api/v1/download?path=" + test::UrlEncode(path) +
           "&namenode=" + test::UrlEncode(cluster_->namenode_address(0));
  }

  static test::MiniCluster* cluster_;
  std::unique_ptr<FileSystem> fs_;
  std::string web_;
};

test::MiniCluster* DatanodeWebTest::cluster_ = nullptr;

TEST_F(DatanodeWebTest, ApiDescribesTheDatanode) {
  test::HttpAnswer answer = Get("/api/v1/datanode");
  ASSERT_EQ(answer.status, 200);
  EXPECT_EQ(answer.Header("Content-Type"), "application/json; charset=utf-8");
  EXPECT_EQ(answer.Header("Cache-Control"), "no-store");
  // Registered and heartbeating (the cluster waited for its capacity, so soon if not yet).
  nlohmann::json d;
  ASSERT_TRUE(test::WaitFor(
      [&] {
        d = DatanodeJson();
        return d["namenodes"].size() == 1 && d["namenodes"][0]["registered"] == true &&
               d["namenodes"][0]["last_heartbeat_ms_ago"].is_number();
      },
      std::chrono::seconds(10)))
      << d.dump(2);
  EXPECT_FALSE(d["storage_id"].get<std::string>().empty());
  EXPECT_EQ(d["version"], TALUS_VERSION);
  const int64_t start = d["start_time_ms"];
  const int64_t now = d["now_ms"];
  EXPECT_GT(start, 0);
  EXPECT_LE(start, now);
  EXPECT_EQ(d["rpc_address"], cluster_->datanode_rpc_address(0));
  EXPECT_EQ(d["data_address"], cluster_->datanode_data_address(0));
  EXPECT_EQ(d["http_address"], web_);
  EXPECT_EQ(d["namenodes"][0]["address"], cluster_->namenode_service_address(0));
  EXPECT_LT(d["namenodes"][0]["last_heartbeat_ms_ago"].get<int64_t>(), 5000);

  const std::vector<std::string> dirs = cluster_->datanode_data_dirs(0);
  ASSERT_EQ(d["volumes"].size(), dirs.size());
  uint64_t capacity = 0;
  for (size_t i = 0; i < dirs.size(); ++i) {
    const nlohmann::json& v = d["volumes"][i];
    EXPECT_EQ(v["path"], dirs[i]);
    EXPECT_FALSE(v["volume_id"].get<std::string>().empty());
    EXPECT_EQ(v["failed"], false);
    EXPECT_GT(v["capacity_bytes"].get<uint64_t>(), 0u);
    EXPECT_LE(v["remaining_bytes"].get<uint64_t>(), v["capacity_bytes"].get<uint64_t>());
    EXPECT_TRUE(v["replicas"].is_number());
    capacity += v["capacity_bytes"].get<uint64_t>();
  }
  EXPECT_EQ(d["capacity_bytes"].get<uint64_t>(), capacity);
  EXPECT_TRUE(d["used_bytes"].is_number());
  EXPECT_TRUE(d["remaining_bytes"].is_number());
  EXPECT_TRUE(d["replicas"].is_number());
  EXPECT_EQ(d["active_transfers"], 0);
  for (const char* key : {"reads", "writes", "replications"}) {
    EXPECT_TRUE(d["transfers"][key].is_number()) << key;
  }
  EXPECT_TRUE(d["recent_errors"].is_array());
}

TEST_F(DatanodeWebTest, ReplicasGrowAfterAFileIsWritten) {
  const nlohmann::json before = DatanodeJson();
  const uint64_t replicas = before["replicas"];
  const uint64_t used = before["used_bytes"];
  const uint64_t writes = before["transfers"]["writes"];
  const std::string data = test::RandomBytes(3 * kBlock, 7);
  ASSERT_TRUE(test::WriteWholeFile(*fs_, "/web/three-blocks", data).ok());
  nlohmann::json after;
  EXPECT_TRUE(test::WaitFor(
      [&] {
        after = DatanodeJson();
        return after["replicas"].get<uint64_t>() >= replicas + 3;
      },
      std::chrono::seconds(10)))
      << after.dump(2);
  EXPECT_EQ(after["volumes"][0]["replicas"], after["replicas"]);
  EXPECT_GE(after["used_bytes"].get<uint64_t>(), used + data.size());
  EXPECT_GE(after["transfers"]["writes"].get<uint64_t>(), writes + 3);
  EXPECT_GE(after["volumes"][0]["used_bytes"].get<uint64_t>(), used + data.size());
}

TEST_F(DatanodeWebTest, ThePageAndItsFilesAreServed) {
  test::HttpAnswer page = Get("/");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.Header("Content-Type").rfind("text/html", 0), 0u) << page.Header("Content-Type");
  EXPECT_NE(page.body.find("/static/datanode.js"), std::string::npos);
  for (const char* id : {"volumes-table", "namenodes-table", "errors-table", "replicas",
                         "active-transfers"}) {
    EXPECT_NE(page.body.find("id=\"" + std::string(id) + "\""), std::string::npos) << id;
  }
  // No inline script or style: the CSP would block them.
  EXPECT_EQ(page.body.find("<script>"), std::string::npos);
  EXPECT_EQ(page.body.find("style=\""), std::string::npos);
  EXPECT_NE(page.Header("Content-Security-Policy").find("script-src 'self'"), std::string::npos);

  test::HttpAnswer js = Get("/static/datanode.js");
  ASSERT_EQ(js.status, 200);
  EXPECT_NE(js.Header("Content-Type").find("javascript"), std::string::npos);
  EXPECT_NE(js.body.find("/api/v1/datanode"), std::string::npos);
  EXPECT_EQ(js.body.find("innerHTML"), std::string::npos);
  test::HttpAnswer css = Get("/static/style.css");
  ASSERT_EQ(css.status, 200);
  EXPECT_EQ(css.Header("Content-Type").rfind("text/css", 0), 0u);
  test::HttpAnswer missing = Get("/static/nothing.js");
  EXPECT_EQ(missing.status, 404);
}

TEST_F(DatanodeWebTest, MetricsAreServed) {
  const std::string sample = "talus_datanode_heartbeats_sent_total{namenode=\"" +
                             cluster_->namenode_service_address(0) + "\"} ";
  test::HttpAnswer metrics;
  EXPECT_TRUE(test::WaitFor(
      [&] {
        metrics = Get("/metrics");
        const size_t at = metrics.body.find(sample);
        // Requests are counted once answered: the earlier scrapes show up in later ones.
        return metrics.status == 200 && at != std::string::npos &&
               std::stoll(metrics.body.substr(at + sample.size())) > 0 &&
               metrics.body.find("talus_http_requests_total{daemon=\"datanode\"") !=
                   std::string::npos;
      },
      std::chrono::seconds(10)))
      << metrics.body.substr(0, 2000);
  EXPECT_EQ(metrics.Header("Content-Type").rfind("text/plain; version=0.0.4", 0), 0u);
  EXPECT_NE(metrics.body.find("# TYPE talus_datanode_heartbeats_sent_total counter"),
            std::string::npos);
  EXPECT_NE(metrics.body.find("talus_datanode_heartbeat_failures_total"), std::string::npos);
  EXPECT_NE(metrics.body.find("talus_rpc_connections_total{server=\"datanode\"}"),
            std::string::npos);
}

TEST_F(DatanodeWebTest, DownloadReturnsTheFileBytes) {
  // Several blocks, and not a whole number of the server's 1 MiB chunks.
  const std::string data = test::RandomBytes(5 * kBlock + 12345, 11);
  ASSERT_TRUE(test::WriteWholeFile(*fs_, "/web/big.bin", data).ok());
  const int64_t reads = DatanodeJson()["transfers"]["reads"];
  test::HttpAnswer answer = Get(DownloadTarget("/web/big.bin"));
  ASSERT_EQ(answer.status, 200) << answer.body.substr(0, 500);
  EXPECT_EQ(answer.Header("Content-Type"), "application/octet-stream");
  EXPECT_EQ(answer.Header("Content-Length"), std::to_string(data.size()));
  EXPECT_EQ(answer.Header("Content-Disposition"), "attachment; filename=\"big.bin\"");
  ASSERT_EQ(answer.body.size(), data.size());
  EXPECT_TRUE(answer.body == data);
  // Its six blocks were read from this datanode's data port.
  // (counted as each read ends, which may be just after the client has its last byte).
  EXPECT_TRUE(test::WaitFor(
      [&] { return DatanodeJson()["transfers"]["reads"].get<int64_t>() >= reads + 6; },
      std::chrono::seconds(5)));

  ASSERT_TRUE(fs_->CreateEmptyFile("/web/empty", true).ok());
  test::HttpAnswer empty = Get(DownloadTarget("/web/empty"));
  EXPECT_EQ(empty.status, 200);
  EXPECT_EQ(empty.Header("Content-Length"), "0");
  EXPECT_TRUE(empty.body.empty());
}

TEST_F(DatanodeWebTest, TheNamenodesDownloadLinkLeadsHere) {
  const std::string data = test::RandomBytes(kBlock + 777, 13);
  ASSERT_TRUE(test::WriteWholeFile(*fs_, "/web/linked.bin", data).ok());
  Result<test::HttpAnswer> redirect = test::HttpGet(
      cluster_->namenode_http_address(0), "/api/v1/download?path=/web/linked.bin");
  ASSERT_TRUE(redirect.ok()) << redirect.status();
  ASSERT_EQ(redirect->status, 307) << redirect->body;
  const std::string location = redirect->Header("Location");
  const std::string prefix = "http://" + web_ + "/";
  ASSERT_EQ(location.rfind(prefix, 0), 0u) << location;
  test::HttpAnswer answer = Get(location.substr(prefix.size() - 1));
  ASSERT_EQ(answer.status, 200) << answer.body.substr(0, 300);
  EXPECT_EQ(answer.Header("Content-Disposition"), "attachment; filename=\"linked.bin\"");
  EXPECT_TRUE(answer.body == data);
}

TEST_F(DatanodeWebTest, AFileNameThatNeedsCareGetsASafeContentDisposition) {
  const std::string name = "we\"ird \xc3\xb1" "ame;.txt";
  const std::string data = "hello, browser\n";
  ASSERT_TRUE(test::WriteWholeFile(*fs_, "/web/" + name, data).ok());
  test::HttpAnswer answer = Get(DownloadTarget("/web/" + name));
  ASSERT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(answer.body, data);
  // As sent: cpp-httplib's client percent-decodes header values.
  const std::string disposition = RawHeader(DownloadTarget("/web/" + name), "Content-Disposition");
  EXPECT_EQ(disposition,
            "attachment; filename=\"we_ird __ame;.txt\"; "
            "filename*=UTF-8''we%22ird%20%C3%B1ame%3B.txt");
  for (char c : disposition) {
    EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "byte " << static_cast<int>(c);
  }
  // CR and LF (the namespace takes them) would split the header; a backslash escapes.
  ASSERT_TRUE(fs_->CreateEmptyFile("/web/a\r\nX-Evil: 1\\.txt", true).ok());
  EXPECT_EQ(RawHeader(DownloadTarget("/web/a\r\nX-Evil: 1\\.txt"), "Content-Disposition"),
            "attachment; filename=\"a__X-Evil: 1_.txt\"; "
            "filename*=UTF-8''a%0D%0AX-Evil%3A%201%5C.txt");
  EXPECT_EQ(RawHeader(DownloadTarget("/web/a\r\nX-Evil: 1\\.txt"), "X-Evil"), "");
}

TEST_F(DatanodeWebTest, BadRequestsGetClean4xxAndTheDaemonKeepsServing) {
  ASSERT_TRUE(test::WriteWholeFile(*fs_, "/web/ok.txt", "ok").ok());
  {
    CreateOptions private_file;
    private_file.mode = 0600;
    private_file.overwrite = true;
    auto out = fs_->Create("/web/private.txt", private_file);
    ASSERT_TRUE(out.ok()) << out.status();
    ASSERT_TRUE((*out)->Write("secret", 6).ok());
    ASSERT_TRUE((*out)->Close().ok());
  }
  const std::string nn = test::UrlEncode(cluster_->namenode_address(0));
  const std::string nn_host = "127.0.0.1";
  struct Case {
    std::string target;
    int status;
  };
  const std::vector<Case> cases = {
      {"/api/v1/download", 400},
      {"/api/v1/download?path=/web/ok.txt", 400},
      {"/api/v1/download?namenode=" + nn, 400},
      {"/api/v1/download?path=web/ok.txt&namenode=" + nn, 400},
      {"/api/v1/download?path=/web/../web/ok.txt&namenode=" + nn, 400},
      {"/api/v1/download?path=/web/%2E%2E/web/ok.txt&namenode=" + nn, 400},
      {"/api/v1/download?path=/web/./ok.txt&namenode=" + nn, 400},
      {"/api/v1/download?path=/web//ok.txt&namenode=" + nn, 400},
      {"/api/v1/download?path=/web/ok.txt/&namenode=" + nn, 400},
      {"/api/v1/download?path=/web/ok.txt%00.png&namenode=" + nn, 400},
      {"/api/v1/download?path=/" + std::string(4200, 'a') + "&namenode=" + nn, 400},
      {"/api/v1/download?path=/web/ok.txt&path=/web/private.txt&namenode=" + nn, 400},
      {"/api/v1/download?path=/web/ok.txt&namenode=evil.example:1", 400},
      {"/api/v1/download?path=/web/ok.txt&namenode=evil.example", 400},
      {"/api/v1/download?path=/web/ok.txt&namenode=" + nn_host, 400},
      {"/api/v1/download?path=/web/ok.txt&namenode=" + nn_host + ":", 400},
      {"/api/v1/download?path=/web/ok.txt&namenode=" + nn_host + ":0", 400},
      {"/api/v1/download?path=/web/ok.txt&namenode=" + nn_host + ":65536", 400},
      {"/api/v1/download?path=/web/ok.txt&namenode=" + nn_host + ":http", 400},
      {"/api/v1/download?path=/web/ok.txt&namenode=" + nn_host + ":%2B80", 400},
      {"/api/v1/download?path=/web/ok.txt&namenode=http://" + nn_host + ":80", 400},
      {"/api/v1/download?path=/web/ok.txt&namenode=" + nn_host + "%00:80", 400},
      {"/api/v1/download?path=/web&namenode=" + nn, 400},
      {"/api/v1/download?path=/&namenode=" + nn, 400},
      {"/api/v1/download?path=/web/missing.txt&namenode=" + nn, 404},
      {"/api/v1/download?path=/nowhere/ok.txt&namenode=" + nn, 404},
      {"/api/v1/download?path=/web/private.txt&namenode=" + nn, 403},
      {"/api/v1/nothing", 404},
      {"/api/v1/datanode/../../etc/passwd", 404},
      {"/static/..%2F..%2Fetc%2Fpasswd", 404},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.target.substr(0, 200));
    test::HttpAnswer answer = Get(c.target);
    EXPECT_EQ(answer.status, c.status) << answer.body.substr(0, 300);
    Result<nlohmann::json> body = answer.Json();
    ASSERT_TRUE(body.ok()) << body.status();
    EXPECT_EQ((*body)["error"]["status"], c.status);
    EXPECT_TRUE((*body)["error"]["message"].is_string());
  }
  // A URI over the server's limit.
  test::HttpAnswer huge = Get("/api/v1/download?path=/" + std::string(9000, 'a'));
  EXPECT_EQ(huge.status, 414);
  // Still serving, and the readable file downloads.
  EXPECT_EQ(Get("/api/v1/datanode").status, 200);
  test::HttpAnswer ok = Get(DownloadTarget("/web/ok.txt"));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "ok");
}

TEST_F(DatanodeWebTest, RecentErrorsShowWhatTheDatanodeLogged) {
  // A replica corrupted on disk: the checksum op verifies it, fails, and the datanode logs
  // the bad replica as a warning.
  const std::string data = test::RandomBytes(100000, 5);
  ASSERT_TRUE(test::WriteWholeFile(*fs_, "/web/corrupt.bin", data).ok());
  auto locations = fs_->GetFileBlockLocations("/web/corrupt.bin", 0, 1);
  ASSERT_TRUE(locations.ok()) << locations.status();
  ASSERT_EQ(locations->size(), 1u);
  const uint64_t block_id = (*locations)[0].block_id;
  std::vector<std::string> files = test::ReplicaFiles(cluster_->dir(), 0, block_id);
  ASSERT_EQ(files.size(), 1u);
  {
    std::fstream f(files[0], std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(f.good());
    f.seekp(1000);
    const char garbage[8] = {'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x'};
    f.write(garbage, sizeof(garbage));
  }
  (void)fs_->GetFileChecksum("/web/corrupt.bin");  // fails: the only replica is bad
  const std::string needle = "blk_" + std::to_string(block_id);
  nlohmann::json d;
  nlohmann::json found;
  EXPECT_TRUE(test::WaitFor(
      [&] {
        d = DatanodeJson();
        for (const nlohmann::json& e : d["recent_errors"]) {
          if (e["message"].get<std::string>().find(needle) != std::string::npos) {
            found = e;
            return true;
          }
        }
        return false;
      },
      std::chrono::seconds(10)))
      << d["recent_errors"].dump(2);
  EXPECT_EQ(found["severity"], "WARNING");
  EXPECT_FALSE(found["location"].get<std::string>().empty());
  EXPECT_GT(found["time_ms"].get<int64_t>(), 0);
  EXPECT_GE(d["transfers"]["checksum_errors"].get<int64_t>(), 0);
}

}  // namespace
}  // namespace talus

namespace talus {
namespace {

// A cluster of its own: this test stops the namenode.
TEST(DatanodeWebNamenodeTest, NamenodeStateFollowsTheNamenode) {
  test::MiniClusterOptions options;
  options.datanodes = 1;
  options.extra_flags = {"--heartbeat_interval_ms=200"};
  auto cluster = test::MiniCluster::Start(options);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  const std::string web = (*cluster)->datanode_http_address(0);
  const std::string service = (*cluster)->namenode_service_address(0);
  auto get = [&]() -> nlohmann::json {
    Result<test::HttpAnswer> answer = test::HttpGet(web, "/api/v1/datanode");
    if (!answer.ok() || answer->status != 200) return nlohmann::json::object();
    Result<nlohmann::json> json = answer->Json();
    return json.ok() ? *json : nlohmann::json::object();
  };
  auto namenode = [&](const nlohmann::json& d) -> nlohmann::json {
    return d.contains("namenodes") && d["namenodes"].size() == 1 ? d["namenodes"][0]
                                                                 : nlohmann::json::object();
  };
  nlohmann::json d;
  ASSERT_TRUE(test::WaitFor([&] { d = get(); return namenode(d).value("registered", false); },
                            std::chrono::seconds(10)))
      << d.dump(2);

  ASSERT_TRUE((*cluster)->KillNamenode(0).ok());
  // Unregistered once a heartbeat fails; the last answered one only grows older; the
  // failure is among the recent errors.
  ASSERT_TRUE(test::WaitFor([&] { d = get(); return !namenode(d).value("registered", true); },
                            std::chrono::seconds(10)))
      << d.dump(2);
  const int64_t age = namenode(d)["last_heartbeat_ms_ago"];
  EXPECT_TRUE(test::WaitFor(
      [&] {
        d = get();
        for (const nlohmann::json& e : d["recent_errors"]) {
          if (e["message"].get<std::string>().find("Namenode " + service) != std::string::npos) {
            return true;
          }
        }
        return false;
      },
      std::chrono::seconds(10)))
      << d["recent_errors"].dump(2);
  EXPECT_GE(namenode(get())["last_heartbeat_ms_ago"].get<int64_t>(), age);

  ASSERT_TRUE((*cluster)->RestartNamenode(0).ok());
  EXPECT_TRUE(test::WaitFor(
      [&] {
        d = get();
        const nlohmann::json nn = namenode(d);
        return nn.value("registered", false) && nn["last_heartbeat_ms_ago"].is_number() &&
               nn["last_heartbeat_ms_ago"].get<int64_t>() < 2000;
      },
      std::chrono::seconds(20)))
      << d.dump(2);
}

}  // namespace
}  // namespace talus
