#include "namenode/web/namenode_web.h"

#include <atomic>
#include <charconv>
#include <chrono>
#include <unordered_map>
#include <vector>

#include <glog/logging.h>

#include "common/metrics/metrics.h"
#include "common/path.h"
#include "common/web/embedded_files.h"
#include "common/web/http_server.h"
#include "common/web/recent_log.h"
#include "namenode/blocks/block_map.h"
#include "namenode/blocks/datanode_manager.h"
#include "namenode/namespace/permission.h"
#include "namenode/namesystem.h"
#include "namenode/security/user_groups.h"
#include "namenode/status/cluster_status.h"
#include "namenode/web/json_convert.h"
#include "namenode/web/ops_sampler.h"
#include "common/web/query_params.h"

namespace talus {

namespace web {
const std::vector<EmbeddedFile>& NamenodeUiFiles();
}  // namespace web

namespace {

using nlohmann::json;

// One page of a listing (HDFS dfs.ls.limit); the rest is fetched with start_after.
constexpr int32_t kListingPageEntries = 1000;
// Children of a directory are counted up to this many (each listed directory costs a scan of
// its entries, so a page of directories stays bounded).
constexpr int64_t kMaxCountedChildren = 1000;
// The ops chart covers the last 10 minutes.
constexpr int64_t kOpsWindowMs = 10 * 60 * 1000;

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct NamenodeWeb::State {
  NamenodeWebOptions options;
  std::unique_ptr<web::OpsSampler> sampler;
  // Spreads downloads of files without a located first block over the datanodes.
  std::atomic<uint64_t> next_download_node{0};

  status::StatusSources Sources() const {
    status::StatusSources sources;
    sources.namesystem = options.namesystem;
    sources.datanodes = options.datanodes;
    sources.block_map = options.block_map;
    sources.block_manager = options.block_manager;
    sources.safe_mode = options.safe_mode;
    return sources;
  }

  // The web user as a caller, resolved as ClientService::CallerOf resolves an RPC's user.
  Caller WebCaller() const { return options.user_groups->Resolve(options.web_user); }

  // The file at `path` if the web user may read its contents (as getBlockLocations checks).
  Result<Inode> ReadableFile(const std::string& path) const {
    const Caller caller = WebCaller();
    ASSIGN_OR_RETURN(Inode file, options.namesystem->GetFileInfo(caller, path));
    if (!file.IsFile()) return Status::IsADirectory(path + " is not a file");
    RETURN_NOT_OK(CheckAccess(caller, file, kAccessRead, path));
    return file;
  }

  Result<json> Entry(const Inode& inode, const std::string& path) const {
    int64_t children = 0;
    if (inode.IsDirectory()) {
      ASSIGN_OR_RETURN(children,
                       options.namesystem->CountChildren(inode.id, kMaxCountedChildren));
    }
    return web::EntryJson(inode, path, children);
  }

  // Entries per listing page: `limit` (1..1000) or 1000.
  static Result<int32_t> LimitParam(const httplib::Request& req) {
    ASSIGN_OR_RETURN(std::optional<std::string> text, web::QueryParam(req, "limit"));
    if (!text) return kListingPageEntries;
    int32_t limit = 0;
    const char* end = text->data() + text->size();
    auto [ptr, ec] = std::from_chars(text->data(), end, limit);
    if (ec != std::errc() || ptr != end || limit < 1 || limit > kListingPageEntries) {
      return Status::InvalidArgument("limit must be a number within 1.." +
                                     std::to_string(kListingPageEntries));
    }
    return limit;
  }

  void Cluster(const httplib::Request&, httplib::Response& res) const {
    Result<status::ClusterSummary> summary = status::ComputeClusterSummary(Sources());
    if (!summary.ok()) return web::SendStatusError(res, summary.status());
    json out = web::ClusterSummaryJson(*summary);
    out["cluster_id"] = options.cluster_id;
    out["version"] = TALUS_VERSION;
    out["start_time_ms"] = options.start_time_ms;
    out["now_ms"] = WallMs();
    // This namenode's own view of the journal (docs/web.md), as dfsadmin -journal shows it.
    out["namenode"] = web::NamenodeJson(options.rpc_address, options.namesystem->JournalStatus());
    web::SendJson(res, out);
  }

  void Datanodes(const httplib::Request&, httplib::Response& res) const {
    json nodes = json::array();
    for (const status::DatanodeRow& row : status::ListDatanodeRows(Sources())) {
      nodes.push_back(web::DatanodeJson(row));
    }
    web::SendJson(res, json{{"datanodes", std::move(nodes)}});
  }

  void Listing(const httplib::Request& req, httplib::Response& res) const {
    Result<std::string> path = web::PathParam(req);
    if (!path.ok()) return web::SendStatusError(res, path.status());
    Result<std::optional<std::string>> start_after = web::QueryParam(req, "start_after");
    if (start_after.ok() && start_after->has_value()) {
      Status valid = ValidateName(**start_after);
      if (!valid.ok()) start_after = valid.Prepend("start_after");
    }
    if (!start_after.ok()) return web::SendStatusError(res, start_after.status());
    Result<int32_t> limit = LimitParam(req);
    if (!limit.ok()) return web::SendStatusError(res, limit.status());
    const Caller caller = WebCaller();
    Result<Inode> target = options.namesystem->GetFileInfo(caller, *path);
    if (!target.ok()) return web::SendStatusError(res, target.status());
    json entries = json::array();
    json out{{"path", *path}, {"truncated", false}};
    if (!target->IsDirectory()) {
      // A file (or symlink) lists itself, as `ls` does.
      Result<json> entry = Entry(*target, *path);
      if (!entry.ok()) return web::SendStatusError(res, entry.status());
      entries.push_back(std::move(*entry));
    } else {
      Result<talus::Listing> listing = options.namesystem->GetListing(
          caller, *path, start_after->value_or(""), *limit);
      if (!listing.ok()) return web::SendStatusError(res, listing.status());
      for (const Inode& child : listing->entries) {
        Result<json> entry = Entry(child, JoinPath(*path, child.name));
        if (!entry.ok()) return web::SendStatusError(res, entry.status());
        entries.push_back(std::move(*entry));
      }
      if (listing->has_more && !listing->entries.empty()) {
        out["truncated"] = true;
        out["next_start_after"] = listing->entries.back().name;
      }
    }
    out["entries"] = std::move(entries);
    web::SendJson(res, out);
  }

  void File(const httplib::Request& req, httplib::Response& res) const {
    Result<std::string> path = web::PathParam(req);
    if (!path.ok()) return web::SendStatusError(res, path.status());
    Result<Inode> inode = options.namesystem->GetFileInfo(WebCaller(), *path);
    if (!inode.ok()) return web::SendStatusError(res, inode.status());
    Result<json> entry = Entry(*inode, *path);
    if (!entry.ok()) return web::SendStatusError(res, entry.status());
    web::SendJson(res, *entry);
  }

  void Blocks(const httplib::Request& req, httplib::Response& res) const {
    Result<std::string> path = web::PathParam(req);
    if (!path.ok()) return web::SendStatusError(res, path.status());
    Result<Inode> file = ReadableFile(*path);
    if (!file.ok()) return web::SendStatusError(res, file.status());
    const int64_t inode_id = static_cast<int64_t>(file->id);
    // Locations as a reader gets them (live nodes; a block with only corrupt replicas lists
    // them marked corrupt), plus the replicas known corrupt, so the page shows both.
    std::unordered_map<int64_t, blocks::LocatedBlock> located;
    for (blocks::LocatedBlock& b : options.block_map->FileBlocks(inode_id)) {
      located.emplace(b.block.id, std::move(b));
    }
    std::unordered_map<int64_t, std::vector<blocks::DatanodeIndex>> corrupt;
    for (blocks::BlockHealth& h : options.block_map->FileBlockHealth(inode_id)) {
      corrupt.emplace(h.block.id, std::move(h.corrupt));
    }
    std::unordered_map<blocks::DatanodeIndex, blocks::DatanodeSnapshot> nodes;
    for (const blocks::DatanodeSnapshot& node : options.datanodes->ListNodes()) {
      nodes.emplace(node.index, node);
    }
    auto location = [&](blocks::DatanodeIndex index, bool is_corrupt) {
      auto it = nodes.find(index);
      if (it == nodes.end()) {
        return json{{"address", "unknown-node-" + std::to_string(index)},
                    {"storage_id", ""},
                    {"web_url", ""},
                    {"liveness", "dead"},
                    {"corrupt", is_corrupt}};
      }
      const blocks::DatanodeRegistration& r = it->second.registration;
      return json{{"address", r.host + ":" + std::to_string(r.data_port)},
                  {"storage_id", r.storage_id},
                  {"web_url", web::DatanodeWebUrl(r.host, r.http_port)},
                  {"liveness", web::LivenessJson(it->second.liveness)},
                  {"corrupt", is_corrupt}};
    };
    json out_blocks = json::array();
    int64_t offset = 0;
    for (size_t i = 0; i < file->blocks.size(); ++i) {
      const BlockInfo& b = file->blocks[i];
      json block{{"block_id", b.block_id},
                 {"generation_stamp", b.generation_stamp},
                 {"offset_bytes", offset},
                 {"length_bytes", b.num_bytes}};
      json locations = json::array();
      bool complete = file->BlocksAllComplete() || i + 1 < file->blocks.size();
      bool all_corrupt = false;
      auto it = located.find(b.block_id);
      if (it != located.end()) {
        complete = it->second.complete;
        all_corrupt = it->second.corrupt;
        for (const blocks::ReplicaLocation& replica : it->second.replicas) {
          locations.push_back(location(replica.node, all_corrupt));
        }
      }
      if (!all_corrupt) {
        for (blocks::DatanodeIndex index : corrupt[b.block_id]) {
          locations.push_back(location(index, true));
        }
      }
      block["complete"] = complete;
      // Nothing readable is left: every replica listed is known corrupt.
      block["corrupt"] = all_corrupt;
      block["locations"] = std::move(locations);
      out_blocks.push_back(std::move(block));
      offset += b.num_bytes;
    }
    web::SendJson(res, json{{"path", *path},
                            {"length_bytes", file->length},
                            {"replication", file->replication},
                            {"under_construction", file->UnderConstruction()},
                            {"blocks", std::move(out_blocks)}});
  }

  // The datanode that serves a download: one holding the first block (a good replica, on a
  // live node with a web server, not stale if possible), else any live datanode in service.
  std::optional<blocks::DatanodeSnapshot> DownloadNode(const Inode& file) {
    std::vector<blocks::DatanodeSnapshot> holders;
    if (!file.blocks.empty()) {
      for (const blocks::LocatedBlock& b :
           options.block_map->FileBlocks(static_cast<int64_t>(file.id))) {
        if (b.block.id != file.blocks.front().block_id || b.corrupt) continue;
        std::vector<blocks::DatanodeIndex> indexes;
        for (const blocks::ReplicaLocation& r : b.replicas) indexes.push_back(r.node);
        holders = options.datanodes->Describe(indexes);
      }
    }
    std::optional<blocks::DatanodeSnapshot> stale;
    for (const blocks::DatanodeSnapshot& node : holders) {
      if (node.registration.http_port <= 0) continue;
      if (node.liveness == blocks::DatanodeLiveness::kLive) return node;
      if (node.liveness == blocks::DatanodeLiveness::kStale && !stale) stale = node;
    }
    if (stale) return stale;
    std::vector<blocks::DatanodeSnapshot> candidates;
    for (blocks::DatanodeSnapshot& node : options.datanodes->ListLiveNodes()) {
      if (node.in_service() && node.registration.http_port > 0 &&
          node.liveness == blocks::DatanodeLiveness::kLive) {
        candidates.push_back(std::move(node));
      }
    }
    if (candidates.empty()) return std::nullopt;
    return candidates[next_download_node.fetch_add(1) % candidates.size()];
  }

  void Download(const httplib::Request& req, httplib::Response& res) {
    Result<std::string> path = web::PathParam(req);
    if (!path.ok()) return web::SendStatusError(res, path.status());
    Result<Inode> file = ReadableFile(*path);
    if (!file.ok()) return web::SendStatusError(res, file.status());
    std::optional<blocks::DatanodeSnapshot> node = DownloadNode(*file);
    if (!node) {
      return web::SendStatusError(
          res, Status::Unavailable("no live datanode with a web server to serve the download"));
    }
    const std::string location =
        web::DatanodeWebUrl(node->registration.host, node->registration.http_port) +
        "/api/v1/download?path=" + web::EncodeQueryValue(*path) +
        "&namenode=" + web::EncodeQueryValue(options.rpc_address);
    res.set_header("Cache-Control", "no-store");
    res.set_redirect(location, 307);
    web::SendJson(res, json{{"location", location}}, 307);
  }

  void Ops(const httplib::Request&, httplib::Response& res) const {
    json samples = json::array();
    for (const web::OpsSample& s : sampler->Samples()) {
      samples.push_back({{"time_ms", s.time_ms},
                         {"reads_per_s", s.reads_per_s},
                         {"writes_per_s", s.writes_per_s}});
    }
    web::SendJson(res,
                  json{{"interval_ms", sampler->interval_ms()}, {"samples", std::move(samples)}});
  }

  void Logs(const httplib::Request&, httplib::Response& res) const {
    json entries = json::array();
    if (web::RecentLog* log = web::RecentLog::Get(); log != nullptr) {
      for (const web::LogEntry& e : log->Entries()) {
        entries.push_back({{"time_ms", e.time_ms},
                           {"severity", e.severity},
                           {"location", e.location},
                           {"message", e.message}});
      }
    }
    web::SendJson(res, json{{"entries", std::move(entries)}});
  }
};

Result<std::unique_ptr<NamenodeWeb>> NamenodeWeb::Create(NamenodeWebOptions options) {
  if (options.namesystem == nullptr || options.user_groups == nullptr ||
      options.datanodes == nullptr || options.block_map == nullptr ||
      options.block_manager == nullptr || options.safe_mode == nullptr) {
    return Status::InvalidArgument("the namenode web needs every part of the namenode");
  }
  RETURN_NOT_OK(ValidateUserName(options.web_user).Prepend("web user"));
  if (options.ops_sample_interval_ms <= 0 || options.ops_sample_interval_ms > kOpsWindowMs) {
    return Status::InvalidArgument("the ops sample interval must be within 1 ms..10 min");
  }
  auto state = std::make_shared<State>();
  state->options = std::move(options);
  state->sampler = std::make_unique<web::OpsSampler>(
      state->options.ops_sample_interval_ms, kOpsWindowMs,
      [] { return metrics::DefaultRegistry().CounterValues("talus_rpc_requests_total"); });
  return std::unique_ptr<NamenodeWeb>(new NamenodeWeb(std::move(state)));
}

NamenodeWeb::~NamenodeWeb() { state_->sampler->Stop(); }

void NamenodeWeb::Register(web::HttpServer* server) {
  server->ServeFiles(&web::NamenodeUiFiles());
  server->ServeMetrics(&metrics::DefaultRegistry());
  std::shared_ptr<State> state = state_;
  auto route = [&](const char* pattern, void (State::*handler)(const httplib::Request&,
                                                                httplib::Response&) const) {
    server->Get(pattern, [state, handler](const httplib::Request& req, httplib::Response& res) {
      ((*state).*handler)(req, res);
    });
  };
  route("/api/v1/cluster", &State::Cluster);
  route("/api/v1/datanodes", &State::Datanodes);
  route("/api/v1/listing", &State::Listing);
  route("/api/v1/file", &State::File);
  route("/api/v1/blocks", &State::Blocks);
  route("/api/v1/ops", &State::Ops);
  route("/api/v1/logs", &State::Logs);
  server->Get("/api/v1/download", [state](const httplib::Request& req, httplib::Response& res) {
    state->Download(req, res);
  });
  state_->sampler->Start();
}

}  // namespace talus
