// The namenode's status page in a real browser (headless Chromium over WebDriver), against a
// real cluster of three datanodes, checked the way an operator would use it: the numbers on the
// Overview are the ones `talus dfsadmin -report` prints; a killed datanode turns dead on the
// Datanodes tab; Browse reaches a file by clicking, shows its blocks and downloads its exact
// bytes; a file named like markup is shown as text and runs nothing; a namenode that stops
// answering is reported while the last figures stay. Screenshots of each step are saved.
//
// Needs /usr/bin/chromium and /usr/bin/chromedriver (Debian: chromium, chromium-driver; other
// paths through $TALUS_CHROMIUM and $TALUS_CHROMEDRIVER): skipped without them, except under
// CI=true where their absence is a failure.
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "talus/file_system.h"
#include "test/support/client_data_util.h"
#include "test/support/http_client.h"
#include "test/support/mini_cluster.h"
#include "test/support/replication_util.h"
#include "test/support/webdriver.h"

namespace talus {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using std::chrono::seconds;

constexpr int64_t kBlock = 1 << 20;
constexpr const char* kDir = "/web/docs";
constexpr const char* kFile = "/web/docs/report.bin";
// A name a page that builds HTML from data would turn into an element with a handler.
constexpr const char* kMarkupName = "<img src=x onerror=alert(1)>";

// The screenshots and chromedriver's log: $TALUS_TEST_OUTPUT_DIR, else
// BUILD/tests/browser-output.
std::string OutputDir() {
  const char* env = std::getenv("TALUS_TEST_OUTPUT_DIR");
  fs::path dir = env != nullptr && *env != '\0'
                     ? fs::path(env)
                     : fs::path(test::BinDir()).parent_path() / "tests" / "browser-output";
  fs::create_directories(dir);
  return fs::absolute(dir).lexically_normal().string();
}

// The figures `talus dfsadmin -report` prints, by the page element id that shows each.
std::map<std::string, std::string> ParseReport(const std::string& report) {
  std::map<std::string, std::string> out;
  // The first occurrence of each key is the cluster's (the per-datanode sections follow).
  auto number_after = [&](const std::string& key) -> std::string {
    const size_t at = report.find(key);
    if (at == std::string::npos) return "?";
    size_t i = at + key.size();
    while (i < report.size() && report[i] == ' ') ++i;
    size_t end = i;
    while (end < report.size() && std::isdigit(static_cast<unsigned char>(report[end]))) ++end;
    return end > i ? report.substr(i, end - i) : "?";
  };
  out["capacity-bytes"] = number_after("Configured Capacity:");
  out["used-bytes"] = number_after("DFS Used:");
  out["remaining-bytes"] = number_after("DFS Remaining:");
  out["blocks"] = number_after("Total blocks:");
  out["under-replicated-blocks"] = number_after("Under replicated blocks:");
  out["corrupt-blocks"] = number_after("Blocks with corrupt replicas:");
  out["missing-blocks"] = number_after("Missing blocks:");
  out["pending-deletion-blocks"] = number_after("Pending deletion blocks:");
  out["pending-replication-blocks"] = number_after("Pending replication blocks:");
  out["live-nodes"] = number_after("Live datanodes (");
  out["dead-nodes"] = number_after("Dead datanodes (");
  return out;
}

std::string Describe(const std::map<std::string, std::string>& m) {
  std::string s;
  for (const auto& [k, v] : m) s += k + "=" + v + " ";
  return s;
}

// The browser and driver to use: Debian's, or those $TALUS_CHROMIUM / $TALUS_CHROMEDRIVER name.
test::WebDriverOptions BrowserOptions() {
  test::WebDriverOptions options;
  if (const char* v = std::getenv("TALUS_CHROMIUM"); v != nullptr && *v != '\0') {
    options.chromium = v;
  }
  if (const char* v = std::getenv("TALUS_CHROMEDRIVER"); v != nullptr && *v != '\0') {
    options.chromedriver = v;
  }
  return options;
}

class WebUiBrowserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!test::WebDriver::Available(BrowserOptions(), &why)) {
      const char* ci = std::getenv("CI");
      if (ci != nullptr && std::string(ci) == "true") {
        FAIL() << "CI=true but the browser test cannot run: " << why;
      }
      GTEST_SKIP() << why;
    }
    out_dir_ = OutputDir();
    std::cout << "browser test output (screenshots, chromedriver.log): " << out_dir_ << std::endl;
    download_dir_ = out_dir_ + "/downloads";
    fs::remove_all(download_dir_);

    // Heartbeats every second rather than FastFailureFlags' 200 ms: a datanode's remaining
    // bytes move with anything written to its (shared) disk and each heartbeat carries them, so
    // the report and the page can only agree between heartbeats. A node is dead after 5 s.
    test::StartFastCluster(3, kBlock,
                           {"--heartbeat_interval_ms=1000", "--datanode_dead_after_ms=5000"},
                           &cluster_, &fs_);
    if (HasFatalFailure()) return;
    base_ = "http://" + cluster_->namenode_http_address(0) + "/";

    test::WebDriverOptions options = BrowserOptions();
    options.download_dir = download_dir_;
    options.log_path = out_dir_ + "/chromedriver.log";
    auto driver = test::WebDriver::Start(options);
    ASSERT_TRUE(driver.ok()) << driver.status() << " (see " << options.log_path << ")";
    driver_ = std::move(*driver);
  }

  test::CommandResult Talus(const std::vector<std::string>& args) {
    return test::RunTalus(args, {{"TALUS_FS", cluster_->uri()}});
  }

  void Screenshot(const std::string& name) {
    const std::string path = out_dir_ + "/" + name + ".png";
    Status s = driver_->Screenshot(path);
    EXPECT_TRUE(s.ok()) << s;
    std::cout << "screenshot: " << path << std::endl;
  }

  // Clicks the element matching `css`, finding it again if the page redrew it meanwhile.
  void Click(const std::string& css) {
    Status last;
    const bool clicked = test::WaitFor(
        [&] {
          auto e = driver_->Find(css);
          if (!e.ok()) {
            last = e.status();
            return false;
          }
          last = driver_->Click(*e);
          return last.ok();
        },
        seconds(15), std::chrono::milliseconds(100));
    ASSERT_TRUE(clicked) << "click " << css << ": " << last;
  }

  // Runs `script` in the page; a failure to run it is a test failure with json null returned.
  json Js(const std::string& script, const json& args = json::array()) {
    auto r = driver_->Execute(script, args);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : json();
  }

  // data-value of each element id (null when the element is missing).
  std::map<std::string, std::string> PageValues(const std::vector<std::string>& ids) {
    json v = Js(
        "const out = {};"
        "for (const id of arguments[0]) {"
        "  const e = document.getElementById(id);"
        "  out[id] = e ? e.getAttribute('data-value') : null;"
        "}"
        "return out;",
        json::array({ids}));
    std::map<std::string, std::string> out;
    for (const std::string& id : ids) {
      out[id] = v.is_object() && v.contains(id) && v[id].is_string() ? v[id].get<std::string>()
                                                                      : "(missing)";
    }
    return out;
  }

  // Waits until the Overview shows exactly what dfsadmin -report prints. Each try has the page
  // fetch afresh (its Refresh button), reads the report, has the page fetch again, and
  // compares the report with both: a figure that moved between two reads is no failure, only a
  // page that never agrees is.
  void ExpectOverviewMatchesReport() {
    std::map<std::string, std::string> report, page;
    std::string raw;
    int tries = 0;
    const bool agree = test::WaitFor(
        [&] {
          ++tries;
          const std::vector<std::string> ids = {
              "capacity-bytes", "used-bytes", "remaining-bytes", "blocks",
              "under-replicated-blocks", "corrupt-blocks", "missing-blocks",
              "pending-deletion-blocks", "pending-replication-blocks", "live-nodes",
              "dead-nodes"};
          RefreshNow();
          const std::map<std::string, std::string> before = PageValues(ids);
          test::CommandResult r = Talus({"dfsadmin", "-report"});
          if (r.exit_code != 0) {
            raw = r.out + r.err;
            return false;
          }
          raw = r.out;
          report = ParseReport(r.out);
          if (before == report) {
            page = before;
            return true;
          }
          RefreshNow();
          page = PageValues(ids);
          return page == report;
        },
        seconds(30), std::chrono::milliseconds(100));
    EXPECT_TRUE(agree) << "page:   " << Describe(page) << "\nreport: " << Describe(report)
                       << "\n" << raw;
    std::cout << "overview and dfsadmin -report agreed after " << tries << " tries" << std::endl;

    // Files and directories are not in the report; `dfs -count /` counts them.
    std::string count_line;
    std::map<std::string, std::string> counted, shown;
    const bool counts_agree = test::WaitFor(
        [&] {
          test::CommandResult r = Talus({"dfs", "-count", "/"});
          count_line = r.out + r.err;
          std::istringstream in(r.out);
          std::string dirs, files;
          if (r.exit_code != 0 || !(in >> dirs >> files)) return false;
          counted = {{"directories", dirs}, {"files", files}};
          RefreshNow();
          shown = PageValues({"directories", "files"});
          return shown == counted;
        },
        seconds(10), std::chrono::milliseconds(300));
    EXPECT_TRUE(counts_agree) << "page: " << Describe(shown) << " dfs -count /: " << count_line;
  }

  // The rows of the Datanodes table: data-address → data-liveness.
  std::map<std::string, std::string> DatanodeRows() {
    json v = Js(
        "const out = {};"
        "for (const tr of document.querySelectorAll('#datanodes-table tbody tr[data-address]')) {"
        "  out[tr.getAttribute('data-address')] ="
        "      tr.getAttribute('data-liveness') + '/' + tr.className + '/' +"
        "      tr.querySelector('.dn-state').textContent;"
        "}"
        "return out;");
    std::map<std::string, std::string> out;
    if (v.is_object()) {
      for (const auto& [k, val] : v.items()) out[k] = val.get<std::string>();
    }
    return out;
  }

  // The text of / an attribute of the element `css` selects; "(...)" saying why when it
  // cannot be read (so a comparison fails with the reason in its message).
  std::string Text(const std::string& css) {
    auto r = driver_->TextOf(css);
    return r.ok() ? *r : "(" + r.status().ToString() + ")";
  }
  std::string Attr(const std::string& css, const std::string& name) {
    auto r = driver_->AttributeOf(css, name);
    return r.ok() ? *r : "(" + r.status().ToString() + ")";
  }

  // The number of the last refresh (fetch and redraw) the page finished / began.
  int RefreshCount() { return BodyNumber("data-refresh-count"); }
  int RefreshStarted() { return BodyNumber("data-refresh-started"); }
  int BodyNumber(const std::string& attribute) {
    json v = Js("return Number(document.body.getAttribute(arguments[0]) || 0);",
                json::array({attribute}));
    return v.is_number() ? v.get<int>() : -1;
  }

  // Waits until the page has finished a refresh begun after this call: on its own timer, or at
  // once when `click` presses the page's Refresh button.
  void WaitForRefresh(bool click = false) {
    const int begun = RefreshStarted();
    if (click) Click("#refresh-now");
    EXPECT_TRUE(test::WaitFor([&] { return RefreshCount() > begun; }, seconds(10),
                              std::chrono::milliseconds(20)))
        << "no refresh after #" << begun;
  }
  void RefreshNow() { WaitForRefresh(/*click=*/true); }

  std::string out_dir_;
  std::string download_dir_;
  std::string base_;
  std::unique_ptr<test::MiniCluster> cluster_;
  std::unique_ptr<FileSystem> fs_;
  std::unique_ptr<test::WebDriver> driver_;
};

TEST_F(WebUiBrowserTest, OperatorReadsHealthBrowsesDownloadsAndSeesANodeDie) {
  // Something to look at: a 3-block file two directories down, and a file named like markup.
  const std::string contents = test::RandomBytes(static_cast<size_t>(2 * kBlock + 12345), 77);
  ASSERT_TRUE(test::WriteWholeFile(*fs_, kFile, contents, 65536, kBlock).ok());
  const std::string markup_path = std::string("/web/") + kMarkupName;
  ASSERT_TRUE(test::WriteWholeFile(*fs_, markup_path, "harmless", 65536, kBlock).ok());

  std::set<std::string> datanodes;
  for (int i = 0; i < 3; ++i) datanodes.insert(cluster_->datanode_data_address(i));

  // ---- Overview: the report's numbers, and a healthy banner.
  ASSERT_TRUE(driver_->Navigate(base_ + "#overview").ok());
  ASSERT_TRUE(test::WaitFor([&] { return RefreshCount() > 0; }, seconds(15)))
      << "the page never finished a refresh";
  ExpectOverviewMatchesReport();
  EXPECT_EQ(PageValues({"live-nodes"})["live-nodes"], "3");
  // Human-readable figure, exact bytes in the tooltip.
  auto capacity_title = driver_->AttributeOf("#capacity-bytes", "title");
  ASSERT_TRUE(capacity_title.ok()) << capacity_title.status();
  EXPECT_NE(capacity_title->find(" bytes"), std::string::npos) << *capacity_title;
  auto capacity_text = driver_->TextOf("#capacity-bytes");
  ASSERT_TRUE(capacity_text.ok());
  EXPECT_TRUE(capacity_text->find("iB") != std::string::npos) << *capacity_text;
  auto version = driver_->TextOf("#version");
  ASSERT_TRUE(version.ok());
  EXPECT_FALSE(version->empty());
  EXPECT_TRUE(test::WaitFor(
      [&] { return Attr("#health", "data-health") == "ok"; },
      seconds(20), std::chrono::milliseconds(200)))
      << "health: " << Text("#health");
  // The chart has a bar per datanode.
  EXPECT_TRUE(test::WaitFor(
      [&] {
        return Js("return document.querySelectorAll('#chart-capacity g.cap-row').length;") == 3;
      },
      seconds(10), std::chrono::milliseconds(200)));
  Screenshot("01-overview");

  // ---- Browse, by clicking: / → web → docs → report.bin; its blocks and their locations.
  Click("#tabs a[data-tab=\"browse\"]");
  Click("#listing a.entry-link[data-path=\"/web\"]");
  Click("#listing a.entry-link[data-path=\"/web/docs\"]");
  EXPECT_EQ(Attr("#breadcrumb", "data-path"), kDir);
  Click(std::string("#listing a.entry-link[data-path=\"") + kFile + "\"]");
  std::string blocks_seen;
  const bool blocks_shown = test::WaitFor(
      [&] {
        // Three blocks, each with its three replicas (reported shortly after the write).
        json v = Js(
            "const box = document.getElementById('file-detail');"
            "if (box.hidden || box.getAttribute('data-loaded') !== 'true') return 'loading';"
            "const rows = document.querySelectorAll('#blocks-table tbody tr[data-block-id]');"
            "return Array.from(rows).map(r => Array.from(r.querySelectorAll('li.loc'))"
            "    .map(li => li.getAttribute('data-address')).sort().join(',')).join(' | ');");
        blocks_seen = v.is_string() ? v.get<std::string>() : v.dump();
        std::string expected_row;
        for (const std::string& a : datanodes) {
          expected_row += (expected_row.empty() ? "" : ",") + a;
        }
        return blocks_seen == expected_row + " | " + expected_row + " | " + expected_row;
      },
      seconds(20), std::chrono::milliseconds(200));
  EXPECT_TRUE(blocks_shown) << "blocks shown: " << blocks_seen;
  EXPECT_EQ(PageValues({"file-length"})["file-length"], std::to_string(contents.size()));
  EXPECT_EQ(Text("#file-detail-path"), kFile);
  Screenshot("02-browse-file");

  // ---- Download: the link goes through the namenode's redirect to a datanode.
  Click("#download-link");
  std::string in_dir;
  fs::path downloaded;
  const bool got = test::WaitFor(
      [&] {
        in_dir.clear();
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(download_dir_, ec)) {
          in_dir += e.path().filename().string() + " ";
          if (e.path().extension() == ".crdownload" || !e.is_regular_file()) continue;
          if (e.file_size() == contents.size()) downloaded = e.path();
        }
        return !downloaded.empty();
      },
      seconds(30), std::chrono::milliseconds(200));
  if (!got) {
    auto answer = test::HttpGet(cluster_->namenode_http_address(0),
                                "/api/v1/download?path=" + test::UrlEncode(kFile));
    ADD_FAILURE() << "no complete download in " << download_dir_ << " (files: " << in_dir
                  << "); the namenode's /api/v1/download answers "
                  << (answer.ok() ? std::to_string(answer->status) + " Location: " +
                                        answer->Header("Location") + " " +
                                        answer->body.substr(0, 200)
                                  : answer.status().ToString());
  } else {
    std::ifstream in(downloaded, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_TRUE(bytes == contents) << "the downloaded " << downloaded << " differs from the file";
    EXPECT_EQ(downloaded.filename().string(), "report.bin");
  }

  // ---- A name that looks like markup is text, and runs nothing.
  Click("#breadcrumb a.crumb[data-path=\"/web\"]");
  const std::string markup_link = "#listing a.entry-link[data-path=\"" + markup_path + "\"]";
  ASSERT_TRUE(test::WaitFor([&] { return driver_->Find(markup_link).ok(); }, seconds(15)))
      << "no listing row for " << markup_path;
  EXPECT_EQ(Text(markup_link), kMarkupName);
  EXPECT_EQ(Js("return document.querySelectorAll('main img, main script').length;"), 0)
      << "a name became markup";
  Click(markup_link);
  EXPECT_TRUE(test::WaitFor(
      [&] { return Text("#file-detail-path") == markup_path; },
      seconds(15), std::chrono::milliseconds(100)));
  WaitForRefresh();
  auto dialog = driver_->DialogText();
  ASSERT_TRUE(dialog.ok()) << dialog.status();
  EXPECT_FALSE(dialog->has_value()) << "a dialog opened: " << dialog->value_or("");
  Screenshot("03-browse-markup-name");

  // ---- A directory larger than one listing page (1,000 entries) is browsed page by page.
  for (int i = 0; i < 1003; ++i) {
    char name[32];
    std::snprintf(name, sizeof(name), "/big/f%04d", i);
    ASSERT_TRUE(test::WriteWholeFile(*fs_, name, "", 65536, kBlock).ok()) << name;
  }
  Click("#breadcrumb a.crumb[data-path=\"/\"]");
  Click("#listing a.entry-link[data-path=\"/big\"]");
  const std::string row_count = "return document.querySelectorAll('#listing tbody tr').length;";
  EXPECT_TRUE(test::WaitFor([&] { return Js(row_count) == 1000; }, seconds(15)))
      << "first page: " << Js(row_count) << " rows";
  EXPECT_EQ(Text("#listing tbody tr:last-child a.entry-link"), "f0999");
  Click("#listing-next");
  EXPECT_TRUE(test::WaitFor([&] { return Js(row_count) == 3; }, seconds(15)))
      << "second page: " << Js(row_count) << " rows";
  EXPECT_EQ(Text("#listing tbody tr:first-child a.entry-link"), "f1000");
  EXPECT_TRUE(driver_->Find("#listing-first").ok());
  EXPECT_FALSE(driver_->Find("#listing-next").ok()) << "a next page after the last";
  Screenshot("03b-browse-second-page");

  // ---- Datanodes: three live rows; sorting by a header survives refreshes.
  Click("#tabs a[data-tab=\"datanodes\"]");
  std::map<std::string, std::string> rows;
  EXPECT_TRUE(test::WaitFor(
      [&] {
        rows = DatanodeRows();
        if (rows.size() != datanodes.size()) return false;
        for (const auto& [address, what] : rows) {
          if (!datanodes.count(address) || what.rfind("live/", 0) != 0) return false;
        }
        return true;
      },
      seconds(15), std::chrono::milliseconds(200)))
      << [&] { std::string s; for (auto& [a, w] : rows) s += a + "=" + w + " "; return s; }();
  Click("#datanodes-table th[data-sort=\"address\"]");  // already ascending: now descending
  EXPECT_EQ(Attr("#datanodes-table", "data-sort-dir"), "desc");
  WaitForRefresh();
  EXPECT_EQ(Attr("#datanodes-table", "data-sort-key"), "address");
  EXPECT_EQ(Attr("#datanodes-table", "data-sort-dir"), "desc");
  json order = Js(
      "return Array.from(document.querySelectorAll('#datanodes-table tbody tr[data-address]'))"
      "    .map(r => r.getAttribute('data-address'));");
  std::vector<std::string> descending(datanodes.rbegin(), datanodes.rend());
  std::sort(descending.begin(), descending.end(), [](const std::string& a, const std::string& b) {
    // The page compares numerically within the text (natural order), as people read ports.
    const auto port = [](const std::string& s) { return std::stoi(s.substr(s.rfind(':') + 1)); };
    return port(a) > port(b);
  });
  EXPECT_EQ(order, json(descending));

  // ---- Kill a datanode: its row turns dead (marked by class and label), the rest stay live.
  const std::string victim = cluster_->datanode_data_address(2);
  ASSERT_TRUE(cluster_->KillDatanode(2, SIGKILL).ok());
  EXPECT_TRUE(test::WaitFor(
      [&] {
        rows = DatanodeRows();
        return rows.count(victim) && rows[victim] == "dead/dn-dead/Dead";
      },
      seconds(20), std::chrono::milliseconds(200)))
      << victim << " shows as " << (rows.count(victim) ? rows[victim] : "(no row)");
  for (const auto& [address, what] : rows) {
    if (address != victim) {
      EXPECT_EQ(what.substr(0, 5), "live/") << address;
    }
  }
  Screenshot("04-datanodes-one-dead");

  // The Overview agrees with the report again, and says the cluster is degraded.
  Click("#tabs a[data-tab=\"overview\"]");
  ExpectOverviewMatchesReport();
  EXPECT_EQ(PageValues({"dead-nodes"})["dead-nodes"], "1");
  EXPECT_TRUE(test::WaitFor(
      [&] { return Attr("#health", "data-health") == "warn"; },
      seconds(10), std::chrono::milliseconds(200)))
      << Text("#health");
  Screenshot("05-overview-degraded");

  // ---- The namenode stops answering: a notice, and the last figures stay on the page.
  ASSERT_TRUE(cluster_->KillNamenode(0, SIGKILL).ok());
  EXPECT_TRUE(test::WaitFor(
      [&] { return Js("return !document.getElementById('conn-error').hidden;") == true; },
      seconds(15), std::chrono::milliseconds(200)));
  EXPECT_NE(Text("#conn-error").find("Cannot reach the namenode"),
            std::string::npos);
  EXPECT_EQ(PageValues({"capacity-bytes"})["capacity-bytes"].empty(), false);
  EXPECT_EQ(Attr("#health", "data-health"), "bad");
  Screenshot("06-namenode-unreachable");

  // Nothing the page did all along was blocked by its Content-Security-Policy.
  EXPECT_EQ(Js("return document.body.getAttribute('data-csp-violations');"), json(nullptr));
}

}  // namespace
}  // namespace talus
