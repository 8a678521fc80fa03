#include "datanode/web/download_handler.h"

#include <algorithm>
#include <optional>

#include <glog/logging.h>

#include "common/web/http_server.h"
#include "common/web/query_params.h"
#include "datanode/web/download_request.h"
#include "talus/file_system.h"

namespace talus::datanode {
namespace {

// One download's open file and its read buffer, owned by the response's content provider.
struct Download {
  std::string path;
  std::string namenode;
  std::unique_ptr<InputStream> in;
  std::shared_ptr<FileSystem> fs;  // keeps the client alive while the file is read
  std::string buffer;
};

// The single value of a required query parameter, or an error naming it.
Result<std::string> SingleParam(const httplib::Request& req, const std::string& name) {
  ASSIGN_OR_RETURN(std::optional<std::string> value, web::QueryParam(req, name));
  if (!value) return Status::InvalidArgument("parameter '" + name + "' is required");
  return std::move(*value);
}

}  // namespace

DownloadHandler::DownloadHandler(DownloadHandlerOptions options) : options_(std::move(options)) {}

DownloadHandler::~DownloadHandler() = default;

Result<std::shared_ptr<FileSystem>> DownloadHandler::ClientFor(const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = clients_.find(address);
  if (it != clients_.end()) return it->second;
  ClientOptions client_options;
  client_options.user = options_.user;
  client_options.retry_deadline_ms = options_.namenode_deadline_ms;
  client_options.connect_timeout_ms = std::min(options_.namenode_deadline_ms, 5000);
  ASSIGN_OR_RETURN(std::unique_ptr<FileSystem> fs,
                   FileSystem::Connect("talus://" + address, client_options));
  // Downloads in flight hold their own reference: dropping an old client here is safe.
  if (clients_.size() >= options_.max_clients) clients_.erase(clients_.begin());
  std::shared_ptr<FileSystem> shared(std::move(fs));
  clients_.emplace(address, shared);
  return shared;
}

void DownloadHandler::Handle(const httplib::Request& req, httplib::Response& res) {
  Result<std::string> path = web::PathParam(req);
  Result<std::string> namenode = SingleParam(req, "namenode");
  Status valid = !path.ok() ? path.status() : namenode.status();
  if (valid.ok()) {
    Result<std::string> checked = ValidateNamenodeParam(*namenode, options_.namenode_hosts);
    valid = checked.status();
  }
  if (!valid.ok()) {
    VLOG(1) << "download refused: " << valid;
    web::SendJsonError(res, 400, "BAD_REQUEST", valid.message());
    return;
  }
  Result<std::shared_ptr<FileSystem>> fs = ClientFor(*namenode);
  if (!fs.ok()) {
    web::SendStatusError(res, fs.status());
    return;
  }
  Result<FileInfo> info = (*fs)->GetFileInfo(*path);
  if (!info.ok()) {
    web::SendStatusError(res, info.status());
    return;
  }
  if (info->IsDirectory()) {
    web::SendJsonError(res, 400, "BAD_REQUEST", *path + " is a directory");
    return;
  }
  Result<std::unique_ptr<InputStream>> in = (*fs)->Open(*path);
  if (!in.ok()) {
    web::SendStatusError(res, in.status());
    return;
  }
  const int64_t length = (*in)->Length();
  res.status = 200;
  res.set_header("Content-Disposition", ContentDispositionFor(*path));
  res.set_header("Cache-Control", "no-store");
  if (length <= 0) {
    res.set_content("", "application/octet-stream");
    return;
  }
  auto download = std::make_shared<Download>();
  download->path = *path;
  download->namenode = *namenode;
  download->in = std::move(*in);
  download->fs = *fs;
  const size_t chunk = options_.chunk_bytes;
  res.set_content_provider(
      static_cast<size_t>(length), "application/octet-stream",
      [download, chunk](size_t offset, size_t wanted, httplib::DataSink& sink) {
        if (download->buffer.empty()) download->buffer.resize(chunk);
        const size_t n = std::min(wanted, chunk);
        Result<size_t> got =
            download->in->Pread(static_cast<int64_t>(offset), download->buffer.data(), n);
        if (!got.ok() || *got == 0) {
          // The status line is sent already: all that is left is to cut the answer short,
          // which the browser reports as a failed download.
          LOG(WARNING) << "Download of " << download->path << " from namenode "
                       << download->namenode << " failed at byte " << offset << ": "
                       << (got.ok() ? std::string("the file ended early")
                                    : got.status().ToString());
          return false;
        }
        return sink.write(download->buffer.data(), *got);
      },
      [download](bool) { (void)download->in->Close(); });
}

}  // namespace talus::datanode
