// The namenode's JSON API (docs/web.md) over real HTTP against a real cluster: every endpoint
// answers what an operator or the page would see, the cluster summary agrees with `talus
// dfsadmin -report`, a killed datanode turns dead, browsing acts as the web user with its
// permissions, and bad requests get a clean 4xx without ever showing a local file or taking the
// daemon down.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "namenode/web/ops_sampler.h"
#include "talus/file_system.h"
#include "test/support/client_data_util.h"
#include "test/support/http_client.h"
#include "test/support/mini_cluster.h"

namespace talus {
namespace {

using nlohmann::json;
using std::chrono::seconds;
using test::CommandResult;
using test::HttpAnswer;

constexpr int64_t kBlock = 1 << 20;

class NamenodeWebTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    test::MiniClusterOptions options;
    options.datanodes = 3;
    options.extra_flags = {"--heartbeat_interval_ms=300", "--datanode_dead_after_ms=2500",
                           "--web_ops_sample_interval_ms=200", "--replication_interval_ms=500"};
    auto cluster = test::MiniCluster::Start(options);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = std::move(*cluster).release();
    ClientOptions client;
    client.default_block_size = kBlock;
    auto fs = FileSystem::Connect(cluster_->uri(), client);
    ASSERT_TRUE(fs.ok()) << fs.status();
    fs_ = std::move(*fs).release();
  }
  static void TearDownTestSuite() {
    delete fs_;
    delete cluster_;
    fs_ = nullptr;
    cluster_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(cluster_, nullptr) << "the cluster did not start"; }

  static HttpAnswer Get(const std::string& target) {
    Result<HttpAnswer> answer = test::HttpGet(cluster_->namenode_http_address(0), target);
    EXPECT_TRUE(answer.ok()) << target << ": " << answer.status();
    return answer.ok() ? *answer : HttpAnswer{};
  }
  // GET `target` expecting `status` and a JSON body.
  static json GetJson(const std::string& target, int status = 200) {
    HttpAnswer answer = Get(target);
    EXPECT_EQ(answer.status, status) << target << "\n" << answer.body;
    EXPECT_EQ(answer.Header("Content-Type"), "application/json; charset=utf-8") << target;
    EXPECT_EQ(answer.Header("Cache-Control"), "no-store") << target;
    Result<json> body = answer.Json();
    EXPECT_TRUE(body.ok()) << target << ": " << body.status();
    return body.ok() ? *body : json();
  }
  // A 4xx answer in the documented error shape; returns its code.
  static std::string ExpectError(const std::string& target, int status) {
    json body = GetJson(target, status);
    EXPECT_TRUE(body.contains("error")) << target << "\n" << body.dump();
    if (!body.contains("error")) return "";
    EXPECT_EQ(body["error"]["status"], status) << target;
    EXPECT_TRUE(body["error"]["message"].is_string()) << target;
    return body["error"]["code"].get<std::string>();
  }
  static std::string P(const std::string& path) { return test::UrlEncode(path); }

  // Waits until every block of `path` has `replicas` live replicas (all reports in).
  static bool WaitReplicated(const std::string& path, size_t replicas) {
    return test::WaitFor(
        [&] {
          auto health = fs_->GetFileHealth(path);
          if (!health.ok()) return false;
          for (const BlockHealthInfo& b : health->blocks) {
            if (b.live.size() != replicas) return false;
          }
          return true;
        },
        seconds(20));
  }

  static test::MiniCluster* cluster_;
  static FileSystem* fs_;
};

test::MiniCluster* NamenodeWebTest::cluster_ = nullptr;
FileSystem* NamenodeWebTest::fs_ = nullptr;

// The number after "LABEL: " on its first line in `text`, or -1.
int64_t Field(const std::string& text, const std::string& label) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex("(^|\n)\t?" + label + ": (-?[0-9]+)"))) return -1;
  return std::stoll(m[2]);
}

// "Live datanodes (N):" of -report.
int64_t SectionCount(const std::string& text, const std::string& section) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex(section + " datanodes \\(([0-9]+)\\):"))) return -1;
  return std::stoll(m[1]);
}

// Whether `text` holds a whole HTTP answer (headers, then Content-Length bytes).
bool WholeAnswer(const std::string& text) {
  const size_t end = text.find("\r\n\r\n");
  if (end == std::string::npos) return false;
  std::smatch m;
  const std::string head = text.substr(0, end);
  if (!std::regex_search(head, m, std::regex("\r\n[Cc]ontent-[Ll]ength: *([0-9]+)"))) return true;
  return text.size() >= end + 4 + std::stoull(m[1]);
}

// Sends `raw` on a fresh connection and returns what came back before the server closed or
// `timeout` passed.
std::string RawExchange(const std::string& address, const std::string& raw) {
  const size_t colon = address.rfind(':');
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
  inet_pton(AF_INET, address.substr(0, colon).c_str(), &sa.sin_addr);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0 &&
      send(fd, raw.data(), raw.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(raw.size())) {
    char buf[4096];
    // Bounded: ends with one whole answer (headers and Content-Length bytes of body), when the
    // server closes, or at the receive timeout.
    for (int i = 0; i < 64 && !WholeAnswer(out); ++i) {
      ssize_t n = recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
  }
  close(fd);
  return out;
}

TEST_F(NamenodeWebTest, ClusterSummaryEqualsDfsadminReport) {
  ASSERT_TRUE(test::WriteWholeFile(*fs_, "/report/f", test::RandomBytes(2 * kBlock + 100, 1),
                                   65536, kBlock)
                  .ok());
  ASSERT_TRUE(WaitReplicated("/report/f", 3));
  // Capacity, used and remaining move with every heartbeat (the disk is shared): both views
  // must agree on a reading taken between two identical answers of the API.
  json cluster;
  std::string report;
  const bool agreed = test::WaitFor(
      [&] {
        json before = GetJson("/api/v1/cluster");
        CommandResult r = test::RunTalus({"dfsadmin", "-fs", cluster_->uri(), "-report"});
        if (r.exit_code != 0) return false;
        cluster = GetJson("/api/v1/cluster");
        report = r.out;
        for (const char* key : {"capacity_bytes", "used_bytes", "remaining_bytes", "blocks"}) {
          if (before[key] != cluster[key]) return false;
        }
        // Used bytes arrive with the datanodes' next heartbeats, after the replicas are known.
        if (cluster["used_bytes"].get<int64_t>() <= 0) return false;
        return Field(report, "Configured Capacity") == cluster["capacity_bytes"] &&
               Field(report, "DFS Used") == cluster["used_bytes"] &&
               Field(report, "DFS Remaining") == cluster["remaining_bytes"];
      },
      seconds(20), std::chrono::milliseconds(50));
  ASSERT_TRUE(agreed) << cluster.dump(1) << "\n" << report;
  EXPECT_GT(cluster["capacity_bytes"].get<int64_t>(), 0);
  EXPECT_GT(cluster["used_bytes"].get<int64_t>(), 0);
  EXPECT_EQ(Field(report, "Under replicated blocks"), cluster["under_replicated_blocks"]);
  EXPECT_EQ(Field(report, "Blocks with corrupt replicas"), cluster["corrupt_blocks"]);
  EXPECT_EQ(Field(report, "Missing blocks"), cluster["missing_blocks"]);
  EXPECT_EQ(Field(report, "Pending replication blocks"), cluster["pending_replication_blocks"]);
  EXPECT_EQ(Field(report, "Pending deletion blocks"), cluster["pending_deletion_blocks"]);
  EXPECT_EQ(Field(report, "Total blocks"), cluster["blocks"]);
  EXPECT_GE(cluster["blocks"].get<int64_t>(), 3);
  EXPECT_EQ(cluster["missing_blocks"], 0);
  // dfsadmin's "DFS Used%" is of the present capacity (used + remaining); so is used_percent.
  std::smatch pct;
  ASSERT_TRUE(std::regex_search(report, pct, std::regex("\nDFS Used%: ([0-9.]+)%")));
  EXPECT_NEAR(std::stod(pct[1]), cluster["used_percent"].get<double>(), 0.01);
  EXPECT_EQ(SectionCount(report, "Live"),
            cluster["datanodes"]["live"].get<int64_t>() +
                cluster["datanodes"]["stale"].get<int64_t>());
  EXPECT_EQ(SectionCount(report, "Dead"), cluster["datanodes"]["dead"]);
  EXPECT_EQ(report.find("Safe mode is ON"), std::string::npos);
  EXPECT_EQ(cluster["safe_mode"]["on"], false);
  EXPECT_EQ(cluster["safe_mode"]["manual"], false);
  EXPECT_TRUE(cluster["safe_mode"]["tip"].is_string());

  // Files and directories as getStats counts them (dfsadmin does not print these).
  auto stats = fs_->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(cluster["files"], stats->files);
  EXPECT_EQ(cluster["directories"], stats->directories);
  EXPECT_GE(cluster["files"].get<int64_t>(), 1);

  // The namenode itself: the cluster id drawn when its namespace was formatted.
  EXPECT_TRUE(std::regex_match(cluster["cluster_id"].get<std::string>(),
                               std::regex("CID-[0-9a-f]{32}")))
      << cluster["cluster_id"];
  EXPECT_EQ(cluster["version"], TALUS_VERSION);
  EXPECT_EQ(cluster["namenode"]["rpc_address"], cluster_->namenode_address(0));
  // A single namenode's local journal: the leader of term 1, alone (dfsadmin -journal's view).
  const json& nn = cluster["namenode"];
  EXPECT_EQ(nn["journal"], "local");
  EXPECT_EQ(nn["id"], 1);
  EXPECT_EQ(nn["role"], "leader");
  EXPECT_EQ(nn["term"], 1);
  EXPECT_EQ(nn["leader_id"], 1);
  EXPECT_EQ(nn["leader_address"], cluster_->namenode_address(0));
  EXPECT_GT(nn["last_index"].get<int64_t>(), 0);
  EXPECT_EQ(nn["applied_index"], nn["last_index"]);
  EXPECT_EQ(nn["commit_index"], nn["last_index"]);
  EXPECT_EQ(nn["peers"], json::array());
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  EXPECT_GT(cluster["start_time_ms"].get<int64_t>(), now_ms - 10 * 60 * 1000);
  EXPECT_LE(cluster["start_time_ms"].get<int64_t>(), cluster["now_ms"].get<int64_t>());
  EXPECT_NEAR(cluster["now_ms"].get<double>(), static_cast<double>(now_ms), 60000);
}

TEST_F(NamenodeWebTest, DatanodesListedAsTheReportShowsThem) {
  json nodes = GetJson("/api/v1/datanodes")["datanodes"];
  ASSERT_TRUE(nodes.is_array());
  CommandResult r = test::RunTalus({"dfsadmin", "-fs", cluster_->uri(), "-report"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (int i = 0; i < 3; ++i) {
    const std::string address = cluster_->datanode_data_address(i);
    json node;
    for (const json& n : nodes) {
      if (n["address"] == address) node = n;
    }
    ASSERT_FALSE(node.is_null()) << address << "\n" << nodes.dump(1);
    EXPECT_EQ(node["liveness"], "live");
    EXPECT_EQ(node["admin_state"], "In Service");
    EXPECT_EQ(node["host"], "127.0.0.1");
    EXPECT_EQ(node["web_url"], "http://" + cluster_->datanode_http_address(i));
    EXPECT_EQ(node["host"].get<std::string>() + ":" + std::to_string(node["http_port"].get<int>()),
              cluster_->datanode_http_address(i));
    EXPECT_EQ(node["rack"], "/default-rack");
    EXPECT_FALSE(node["storage_id"].get<std::string>().empty());
    EXPECT_GT(node["capacity_bytes"].get<int64_t>(), 0);
    EXPECT_EQ(node["volumes"], 1);
    EXPECT_EQ(node["failed_volumes"], 0);
    EXPECT_LT(node["last_contact_ms_ago"].get<int64_t>(), 2500);
    EXPECT_GE(node["used_percent"].get<double>(), 0.0);
    EXPECT_LE(node["used_percent"].get<double>(), 100.0);
    // The same node in -report, by the same name.
    EXPECT_NE(r.out.find("Name: " + address + " (127.0.0.1)\n"), std::string::npos) << r.out;
  }
  // Sorted as -report lists them: by host, then data port.
  for (size_t i = 1; i < nodes.size(); ++i) {
    EXPECT_TRUE(nodes[i - 1]["host"] < nodes[i]["host"] ||
                (nodes[i - 1]["host"] == nodes[i]["host"] &&
                 nodes[i - 1]["data_port"] < nodes[i]["data_port"]));
  }
}

TEST_F(NamenodeWebTest, ListingShowsOwnerGroupModeSizeReplicationAndTimes) {
  const int64_t before_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
  ASSERT_TRUE(fs_->Mkdirs("/browse/sub", 0755).ok());
  const std::string data = test::RandomBytes(12345, 2);
  ASSERT_TRUE(test::WriteWholeFile(*fs_, "/browse/a.txt", data, 65536, kBlock).ok());
  ASSERT_TRUE(fs_->SetPermission("/browse/a.txt", 0640).ok());
  ASSERT_TRUE(fs_->CreateEmptyFile("/browse/sub/x").ok());
  ASSERT_TRUE(fs_->CreateEmptyFile("/browse/sub/y").ok());

  json listing = GetJson("/api/v1/listing?path=/browse");
  EXPECT_EQ(listing["path"], "/browse");
  EXPECT_EQ(listing["truncated"], false);
  ASSERT_EQ(listing["entries"].size(), 2u) << listing.dump(1);
  const json& file = listing["entries"][0];
  EXPECT_EQ(file["name"], "a.txt");
  EXPECT_EQ(file["path"], "/browse/a.txt");
  EXPECT_EQ(file["type"], "file");
  EXPECT_EQ(file["owner"], fs_->user());
  EXPECT_TRUE(file["group"].is_string());
  EXPECT_EQ(file["mode"], 0640);
  EXPECT_EQ(file["permission"], "rw-r-----");
  EXPECT_EQ(file["length_bytes"], 12345);
  EXPECT_EQ(file["replication"], 3);
  EXPECT_EQ(file["block_size_bytes"], kBlock);
  EXPECT_EQ(file["under_construction"], false);
  EXPECT_GE(file["modification_time_ms"].get<int64_t>(), before_ms - 2000);
  EXPECT_LE(file["modification_time_ms"].get<int64_t>(), before_ms + 60000);
  EXPECT_GE(file["access_time_ms"].get<int64_t>(), 0);
  EXPECT_FALSE(file.contains("symlink_target"));
  const json& dir = listing["entries"][1];
  EXPECT_EQ(dir["name"], "sub");
  EXPECT_EQ(dir["type"], "directory");
  EXPECT_EQ(dir["permission"], "rwxr-xr-x");
  EXPECT_EQ(dir["children"], 2);
  EXPECT_EQ(dir["length_bytes"], 0);

  // The same entry alone; a file "lists itself".
  json entry = GetJson("/api/v1/file?path=/browse/a.txt");
  EXPECT_EQ(entry, file);
  json self = GetJson("/api/v1/listing?path=/browse/a.txt");
  ASSERT_EQ(self["entries"].size(), 1u);
  EXPECT_EQ(self["entries"][0], file);
  json root = GetJson("/api/v1/file?path=/");
  EXPECT_EQ(root["type"], "directory");
  EXPECT_EQ(root["path"], "/");

  // Pages: limit entries each, the next one after next_start_after.
  json first = GetJson("/api/v1/listing?path=/browse/sub&limit=1");
  ASSERT_EQ(first["entries"].size(), 1u);
  EXPECT_EQ(first["entries"][0]["name"], "x");
  EXPECT_EQ(first["truncated"], true);
  EXPECT_EQ(first["next_start_after"], "x");
  json second = GetJson("/api/v1/listing?path=/browse/sub&limit=1&start_after=x");
  ASSERT_EQ(second["entries"].size(), 1u);
  EXPECT_EQ(second["entries"][0]["name"], "y");
  EXPECT_EQ(second["truncated"], false);
  EXPECT_FALSE(second.contains("next_start_after"));
  EXPECT_EQ(ExpectError("/api/v1/listing?path=/browse&limit=0", 400), "INVALID_ARGUMENT");
  EXPECT_EQ(ExpectError("/api/v1/listing?path=/browse&limit=1001", 400), "INVALID_ARGUMENT");
  EXPECT_EQ(ExpectError("/api/v1/listing?path=/browse&limit=2x", 400), "INVALID_ARGUMENT");
  ExpectError("/api/v1/listing?path=/browse&start_after=a/b", 400);
  ExpectError("/api/v1/listing?path=/browse&start_after=..", 400);

  // A symlink is shown, not followed.
  ASSERT_TRUE(fs_->CreateSymlink("/browse/a.txt", "/links/to-a", true).ok());
  json link = GetJson("/api/v1/file?path=/links/to-a");
  EXPECT_EQ(link["type"], "symlink");
  EXPECT_EQ(link["symlink_target"], "/browse/a.txt");
  EXPECT_EQ(link["name"], "to-a");

  EXPECT_EQ(ExpectError("/api/v1/listing?path=/browse/none", 404), "NOT_FOUND");
  EXPECT_EQ(ExpectError("/api/v1/file?path=/browse/none", 404), "NOT_FOUND");
}

TEST_F(NamenodeWebTest, NamesAreSentAsExactJsonStrings) {
  // A name cannot hold '/', so the script tag spans a directory and its entry.
  const std::string dir = "/xss/<script>alert(1)<";
  const std::string file = dir + "/script>";
  const std::string quote = "/xss/\"quoted\" & 'single' \\ back";
  ASSERT_TRUE(fs_->Mkdirs(dir, 0755).ok());
  ASSERT_TRUE(fs_->CreateEmptyFile(file).ok());
  ASSERT_TRUE(fs_->CreateEmptyFile(quote).ok());
  EXPECT_EQ(file, "/xss/<script>alert(1)</script>");

  json top = GetJson("/api/v1/listing?path=/xss");
  ASSERT_EQ(top["entries"].size(), 2u) << top.dump();
  std::set<std::string> names;
  for (const json& e : top["entries"]) names.insert(e["name"].get<std::string>());
  EXPECT_EQ(names, (std::set<std::string>{"<script>alert(1)<", "\"quoted\" & 'single' \\ back"}));
  json inner = GetJson("/api/v1/listing?path=" + P(dir));
  ASSERT_EQ(inner["entries"].size(), 1u);
  EXPECT_EQ(inner["entries"][0]["name"], "script>");
  EXPECT_EQ(inner["entries"][0]["path"], "/xss/<script>alert(1)</script>");
  EXPECT_EQ(GetJson("/api/v1/file?path=" + P(file))["path"], file);
  // Answers are JSON the browser will not sniff into HTML.
  HttpAnswer raw = Get("/api/v1/file?path=" + P(file));
  EXPECT_EQ(raw.Header("X-Content-Type-Options"), "nosniff");
  EXPECT_NE(raw.Header("Content-Security-Policy").find("script-src 'self'"), std::string::npos);
}

TEST_F(NamenodeWebTest, BlocksOfAFileWithTheirThreeLocations) {
  ASSERT_TRUE(test::WriteWholeFile(*fs_, "/blocks/f", test::RandomBytes(2 * kBlock + 7, 3),
                                   65536, kBlock)
                  .ok());
  ASSERT_TRUE(WaitReplicated("/blocks/f", 3));
  std::set<std::string> datanodes;
  for (int i = 0; i < 3; ++i) datanodes.insert(cluster_->datanode_data_address(i));

  json blocks = GetJson("/api/v1/blocks?path=/blocks/f");
  EXPECT_EQ(blocks["path"], "/blocks/f");
  EXPECT_EQ(blocks["length_bytes"], 2 * kBlock + 7);
  EXPECT_EQ(blocks["replication"], 3);
  EXPECT_EQ(blocks["under_construction"], false);
  ASSERT_EQ(blocks["blocks"].size(), 3u) << blocks.dump(1);
  const int64_t lengths[] = {kBlock, kBlock, 7};
  std::set<int64_t> ids;
  for (size_t i = 0; i < 3; ++i) {
    const json& b = blocks["blocks"][i];
    ids.insert(b["block_id"].get<int64_t>());
    EXPECT_GT(b["generation_stamp"].get<int64_t>(), 0);
    EXPECT_EQ(b["offset_bytes"], static_cast<int64_t>(i) * kBlock);
    EXPECT_EQ(b["length_bytes"], lengths[i]);
    EXPECT_EQ(b["complete"], true);
    EXPECT_EQ(b["corrupt"], false);
    ASSERT_EQ(b["locations"].size(), 3u) << b.dump(1);
    std::set<std::string> where;
    for (const json& l : b["locations"]) {
      where.insert(l["address"].get<std::string>());
      EXPECT_EQ(l["liveness"], "live");
      EXPECT_EQ(l["corrupt"], false);
      EXPECT_FALSE(l["storage_id"].get<std::string>().empty());
      EXPECT_EQ(l["web_url"].get<std::string>().rfind("http://127.0.0.1:", 0), 0u) << l.dump();
    }
    EXPECT_EQ(where, datanodes);
  }
  EXPECT_EQ(ids.size(), 3u);
  // Blocks belong to files.
  EXPECT_EQ(ExpectError("/api/v1/blocks?path=/blocks", 400), "IS_A_DIRECTORY");
  EXPECT_EQ(ExpectError("/api/v1/blocks?path=/blocks/none", 404), "NOT_FOUND");
}

TEST_F(NamenodeWebTest, DownloadRedirectsToADatanodeHoldingTheFile) {
  ASSERT_TRUE(test::WriteWholeFile(*fs_, "/dl/file one", "hello web", 65536, kBlock).ok());
  ASSERT_TRUE(WaitReplicated("/dl/file one", 3));
  std::set<std::string> http_addresses;
  for (int i = 0; i < 3; ++i) http_addresses.insert(cluster_->datanode_http_address(i));

  HttpAnswer answer = Get("/api/v1/download?path=" + P("/dl/file one"));
  ASSERT_EQ(answer.status, 307) << answer.body;
  // The Location header as sent (the test client decodes it).
  const std::string raw = RawExchange(
      cluster_->namenode_http_address(0),
      "GET /api/v1/download?path=" + P("/dl/file one") + " HTTP/1.1\r\nHost: x\r\n\r\n");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(raw, m, std::regex("\r\nLocation: ([^\r]*)\r\n"))) << raw;
  const std::string location = m[1];
  ASSERT_TRUE(std::regex_match(location, m,
                               std::regex(R"(http://([0-9.]+:[0-9]+)(/api/v1/download\?.*))")))
      << location;
  EXPECT_TRUE(http_addresses.contains(m[1].str())) << location;
  EXPECT_EQ(m[2].str(), "/api/v1/download?path=%2Fdl%2Ffile%20one&namenode=" +
                            test::UrlEncode(cluster_->namenode_address(0)));
  EXPECT_EQ(answer.Header("Cache-Control"), "no-store");
  // Where it leads, the datanode serves the file's bytes.
  Result<HttpAnswer> served = test::HttpGet(m[1].str(), m[2].str());
  ASSERT_TRUE(served.ok()) << served.status();
  EXPECT_EQ(served->status, 200) << served->body.substr(0, 300);
  EXPECT_EQ(served->body, "hello web");

  // An empty file has no block: any live datanode serves it.
  ASSERT_TRUE(fs_->CreateEmptyFile("/dl/empty").ok());
  HttpAnswer empty = Get("/api/v1/download?path=/dl/empty");
  EXPECT_EQ(empty.status, 307);
  EXPECT_EQ(empty.Header("Location").rfind("http://127.0.0.1:", 0), 0u);

  EXPECT_EQ(ExpectError("/api/v1/download?path=/dl/none", 404), "NOT_FOUND");
  EXPECT_EQ(ExpectError("/api/v1/download?path=/dl", 400), "IS_A_DIRECTORY");
  ASSERT_TRUE(test::WriteWholeFile(*fs_, "/dl/mine", "secret", 65536, kBlock).ok());
  ASSERT_TRUE(fs_->SetPermission("/dl/mine", 0600).ok());
  EXPECT_EQ(ExpectError("/api/v1/download?path=/dl/mine", 403), "PERMISSION_DENIED");
  ExpectError("/api/v1/download", 400);
  ExpectError("/api/v1/download?path=/dl/../etc/passwd", 400);
}

TEST_F(NamenodeWebTest, WebUserHasOnlyTheWorldsPermissions) {
  // Made by the superuser (the user running the test started the namenode).
  ASSERT_TRUE(fs_->Mkdirs("/private", 0700).ok());
  ASSERT_TRUE(fs_->SetPermission("/private", 0700).ok());
  ASSERT_TRUE(test::WriteWholeFile(*fs_, "/private/f", "x", 65536, kBlock).ok());
  EXPECT_EQ(ExpectError("/api/v1/listing?path=/private", 403), "PERMISSION_DENIED");
  EXPECT_EQ(ExpectError("/api/v1/file?path=/private/f", 403), "PERMISSION_DENIED");
  EXPECT_EQ(ExpectError("/api/v1/blocks?path=/private/f", 403), "PERMISSION_DENIED");
  EXPECT_EQ(ExpectError("/api/v1/download?path=/private/f", 403), "PERMISSION_DENIED");
  json body = GetJson("/api/v1/listing?path=/private", 403);
  EXPECT_NE(body["error"]["message"].get<std::string>().find("user=dr.who"), std::string::npos)
      << body.dump();
  // The directory itself is visible in its parent, as `ls /` shows it.
  json entry = GetJson("/api/v1/file?path=/private");
  EXPECT_EQ(entry["mode"], 0700);
  EXPECT_EQ(entry["owner"], fs_->user());
}

TEST_F(NamenodeWebTest, BadRequestsGetACleanError) {
  // Unknown pages.
  EXPECT_EQ(ExpectError("/no/such/page", 404), "NOT_FOUND");
  EXPECT_EQ(ExpectError("/api/v1/nothing", 404), "NOT_FOUND");
  EXPECT_EQ(ExpectError("/api/v2/cluster", 404), "NOT_FOUND");
  // Missing, relative, non-canonical or hostile paths are refused, never resolved.
  for (const std::string& target :
       {std::string("/api/v1/listing"), std::string("/api/v1/listing?path="),
        std::string("/api/v1/listing?path=browse"), std::string("/api/v1/listing?path=/browse/"),
        std::string("/api/v1/listing?path=//browse"), std::string("/api/v1/listing?path=/./browse"),
        std::string("/api/v1/listing?path=/browse/.."),
        std::string("/api/v1/listing?path=/../../etc"),
        std::string("/api/v1/listing?path=%2F..%2F..%2Fetc"),
        std::string("/api/v1/file?path=/browse%00/a.txt"), std::string("/api/v1/file?path=%00"),
        std::string("/api/v1/file?path=/browse&path=/etc"),
        std::string("/api/v1/blocks?path=../etc/passwd"),
        std::string("/api/v1/file?path=/" + std::string(5000, 'a'))}) {
    HttpAnswer answer = Get(target);
    EXPECT_EQ(answer.status, 400) << target.substr(0, 100) << "\n" << answer.body.substr(0, 300);
    EXPECT_EQ(answer.body.find("root:"), std::string::npos);
  }
  // A URI over 8 KiB: the library refuses it.
  HttpAnswer huge = Get("/api/v1/file?path=/" + std::string(9000, 'a'));
  EXPECT_EQ(huge.status, 414);
  // Paths that exist on the namenode's machine do not exist in the namespace.
  EXPECT_EQ(ExpectError("/api/v1/file?path=/etc/passwd", 404), "NOT_FOUND");
  // Traversal out of the static files.
  for (const std::string& target :
       {std::string("/static/../../etc/passwd"), std::string("/static/..%2F..%2Fetc%2Fpasswd"),
        std::string("/static/%2e%2e/%2e%2e/etc/passwd"), std::string("/static/../index.html"),
        std::string("/../../etc/passwd"), std::string("/static//etc/passwd")}) {
    HttpAnswer answer = Get(target);
    EXPECT_GE(answer.status, 400) << target;
    EXPECT_LT(answer.status, 500) << target;
    EXPECT_EQ(answer.body.find("root:"), std::string::npos) << target;
  }
}

TEST_F(NamenodeWebTest, MalformedRequestLineGets4xxAndTheDaemonStillAnswers) {
  const std::string address = cluster_->namenode_http_address(0);
  for (const std::string& raw :
       {std::string("GARBAGE\r\n\r\n"), std::string("GET\r\n\r\n"),
        std::string("GET /api/v1/cluster HTTP/1.1 trailing junk\r\n\r\n"),
        std::string("GET /api/v1/cluster\x01\x02 HTTP/1.1\r\nHost: x\r\n\r\n"),
        std::string("\x16\x03\x01\x02\x00\r\n\r\n", 9)}) {
    const std::string answer = RawExchange(address, raw);
    // The library either answers 400 or closes; never a 2xx, never a crash.
    if (!answer.empty()) {
      EXPECT_EQ(answer.rfind("HTTP/1.1 4", 0), 0u) << answer.substr(0, 200);
    }
  }
  const std::string bad = RawExchange(address, "GARBAGE\r\n\r\n");
  EXPECT_EQ(bad.rfind("HTTP/1.1 400", 0), 0u) << bad.substr(0, 200);
  EXPECT_EQ(GetJson("/api/v1/cluster")["namenode"]["role"], "leader");
}

TEST_F(NamenodeWebTest, OpsAndLogs) {
  json ops = GetJson("/api/v1/ops");
  EXPECT_EQ(ops["interval_ms"], 200);
  ASSERT_TRUE(ops["samples"].is_array());
  // Rates come from the client RPC server's request counters, when it exports them.
  HttpAnswer metrics = Get("/metrics");
  ASSERT_EQ(metrics.status, 200);
  const bool counted = metrics.body.find("talus_rpc_requests_total{") != std::string::npos &&
                       metrics.body.find("server=\"client\"") != std::string::npos;
  if (counted) {
    int round = 0;
    bool seen = test::WaitFor(
        [&] {
          ++round;
          EXPECT_TRUE(fs_->Mkdirs("/ops/d" + std::to_string(round)).ok());
          EXPECT_TRUE(fs_->GetFileInfo("/ops").ok());
          bool reads = false, writes = false;
          const json ops = GetJson("/api/v1/ops");
          for (const json& s : ops["samples"]) {
            reads = reads || s["reads_per_s"].get<double>() > 0;
            writes = writes || s["writes_per_s"].get<double>() > 0;
          }
          return reads && writes;
        },
        seconds(10), std::chrono::milliseconds(100));
    EXPECT_TRUE(seen) << GetJson("/api/v1/ops").dump();
  } else {
    GTEST_LOG_(INFO) << "no talus_rpc_requests_total{server=\"client\"} yet: rates stay 0";
  }
  ASSERT_TRUE(test::WaitFor([&] { return !GetJson("/api/v1/ops")["samples"].empty(); },
                            seconds(5)));
  int64_t last = 0;
  const json sampled = GetJson("/api/v1/ops");
  for (const json& s : sampled["samples"]) {
    EXPECT_GT(s["time_ms"].get<int64_t>(), last);
    last = s["time_ms"].get<int64_t>();
    EXPECT_GE(s["reads_per_s"].get<double>(), 0.0);
    EXPECT_GE(s["writes_per_s"].get<double>(), 0.0);
  }

  json logs = GetJson("/api/v1/logs");
  ASSERT_TRUE(logs["entries"].is_array());
  for (const json& e : logs["entries"]) {
    EXPECT_TRUE(e["time_ms"].is_number_integer());
    EXPECT_TRUE(e["severity"] == "WARNING" || e["severity"] == "ERROR") << e.dump();
    EXPECT_TRUE(e["location"].is_string());
    EXPECT_TRUE(e["message"].is_string());
  }
}

// Last: it adds a datanode and kills it.
TEST_F(NamenodeWebTest, KilledDatanodeTurnsDead) {
  Result<int> added = cluster_->AddDatanode();
  ASSERT_TRUE(added.ok()) << added.status();
  const std::string address = cluster_->datanode_data_address(*added);
  auto liveness = [&]() -> std::string {
    const json nodes = GetJson("/api/v1/datanodes");
    for (const json& n : nodes["datanodes"]) {
      if (n["address"] == address) return n["liveness"].get<std::string>();
    }
    return "";
  };
  ASSERT_TRUE(test::WaitFor([&] { return liveness() == "live"; }, seconds(10)));
  const int64_t dead_before = GetJson("/api/v1/cluster")["datanodes"]["dead"].get<int64_t>();
  ASSERT_TRUE(cluster_->KillDatanode(*added).ok());
  ASSERT_TRUE(test::WaitFor([&] { return liveness() == "dead"; }, seconds(15))) << liveness();
  json cluster = GetJson("/api/v1/cluster");
  EXPECT_EQ(cluster["datanodes"]["dead"].get<int64_t>(), dead_before + 1);
  EXPECT_GE(cluster["datanodes"]["live"].get<int64_t>() +
                cluster["datanodes"]["stale"].get<int64_t>(),
            3);
  // The namenode's warning shows among the recent log entries.
  EXPECT_TRUE(test::WaitFor(
      [&] {
        const json logs = GetJson("/api/v1/logs");
        for (const json& e : logs["entries"]) {
          if (e["severity"] == "WARNING" &&
              e["message"].get<std::string>().find(" at " + address + " is dead") !=
                  std::string::npos) {
            return true;
          }
        }
        return false;
      },
      seconds(10)))
      << GetJson("/api/v1/logs").dump(1);
  // The report agrees.
  CommandResult r = test::RunTalus({"dfsadmin", "-fs", cluster_->uri(), "-report", "-dead"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Name: " + address + " ("), std::string::npos) << r.out;
  // A dead node is no download target.
  ASSERT_TRUE(fs_->Mkdirs("/dead").ok());
  ASSERT_TRUE(fs_->CreateEmptyFile("/dead/empty", true).ok());
  for (int i = 0; i < 5; ++i) {
    HttpAnswer answer = Get("/api/v1/download?path=/dead/empty");
    ASSERT_EQ(answer.status, 307);
    EXPECT_EQ(answer.Header("Location").find(cluster_->datanode_http_address(*added)),
              std::string::npos);
  }
}

// The rates of the ops chart from counters that grow by known amounts.
TEST(OpsSamplerTest, RatesOfClientReadsAndWritesPerSecond) {
  int64_t reads = 0;
  int64_t writes = 0;
  int64_t other = 0;
  auto source = [&]() {
    std::vector<std::pair<metrics::Labels, int64_t>> out;
    out.push_back({{{"server", "client"}, {"method", "getFileInfo"}}, reads});
    out.push_back({{{"server", "client"}, {"method", "create"}}, writes});
    out.push_back({{{"server", "client"}, {"method", "renewLease"}}, other});
    // Another server's counts are not the clients'.
    out.push_back({{{"server", "service"}, {"method", "create"}}, 1000 + writes});
    return out;
  };
  web::OpsSampler sampler(1000, 3000, source);
  sampler.SampleOnce(1'000'000, 0);  // the baseline
  EXPECT_TRUE(sampler.Samples().empty());
  reads = 10;
  writes = 4;
  other = 99;
  sampler.SampleOnce(1'002'000, 2000);
  std::vector<web::OpsSample> samples = sampler.Samples();
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].time_ms, 1'002'000);
  EXPECT_DOUBLE_EQ(samples[0].reads_per_s, 5.0);
  EXPECT_DOUBLE_EQ(samples[0].writes_per_s, 2.0);
  for (int i = 1; i <= 4; ++i) sampler.SampleOnce(1'002'000 + i * 1000, 2000 + i * 1000);
  samples = sampler.Samples();
  ASSERT_EQ(samples.size(), 3u);  // 3 s of 1 s samples kept, oldest first
  EXPECT_EQ(samples.front().time_ms, 1'004'000);
  EXPECT_EQ(samples.back().time_ms, 1'006'000);
  EXPECT_DOUBLE_EQ(samples.back().reads_per_s, 0.0);

  EXPECT_EQ(web::ClassifyClientMethod("getListing"), web::OpKind::kRead);
  EXPECT_EQ(web::ClassifyClientMethod("addBlock"), web::OpKind::kWrite);
  EXPECT_EQ(web::ClassifyClientMethod("ping"), web::OpKind::kOther);
  EXPECT_EQ(web::ClassifyClientMethod(""), web::OpKind::kOther);
}

}  // namespace
}  // namespace talus
