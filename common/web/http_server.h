#pragma once
// The embedded HTTP server of every daemon (status pages, /api/v1, /metrics), on cpp-httplib.
//
// Why a wrapper: each daemon gets the same hardening and accounting in one place — a bounded
// thread pool, request size limits (long URIs get 414, bodies 413), timeouts, security headers
// that keep a page from running anything but its own scripts, every request counted on
// /metrics by status code, handlers' exceptions turned into a 500 instead of a crash.
//
// Handlers get cpp-httplib's Request and Response directly: the library is the interface.
// Routes are registered between Create() and Start().
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "common/result.h"
#include "common/web/embedded_files.h"

namespace talus::metrics {
class Registry;
}

namespace talus::web {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;          // 0: pick a free port
  int threads = 8;       // connections served at once; 64 more queue, then the listen backlog
  std::string daemon;    // "namenode", "datanode": label of the request metrics, log prefix
};

class HttpServer {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

  // Binds the port (so port() is known) without serving yet.
  static Result<std::unique_ptr<HttpServer>> Create(const HttpServerOptions& options);
  ~HttpServer();  // Stop()

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // GET (and HEAD) of `pattern`, a regular expression over the path as cpp-httplib matches it.
  void Get(const std::string& pattern, Handler handler);
  // GET / answers with the file named "index.html"; GET /static/NAME with file NAME.
  void ServeFiles(const std::vector<EmbeddedFile>* files);
  // GET /metrics: `registry` in the Prometheus text format.
  void ServeMetrics(const metrics::Registry* registry);

  // Serves on a thread of its own until Stop().
  void Start();
  // Stops accepting and waits for requests in flight. Idempotent.
  void Stop();

  int port() const { return port_; }
  const std::string& host() const { return options_.host; }

 private:
  explicit HttpServer(const HttpServerOptions& options);

  HttpServerOptions options_;
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
  std::thread thread_;
  bool started_ = false;
};

// A JSON answer (application/json; charset=utf-8, not cached).
void SendJson(httplib::Response& res, const nlohmann::json& body, int status = 200);
// An error answer: {"error": {"status": 404, "code": "FileNotFound", "message": "..."}}.
void SendJsonError(httplib::Response& res, int status, const std::string& code,
                   const std::string& message);
// The HTTP status that fits a Status from the core (NotFound → 404, PermissionDenied → 403,
// InvalidArgument → 400, SafeMode/Unavailable → 503, anything else → 500), and sends it.
void SendStatusError(httplib::Response& res, const Status& status);

}  // namespace talus::web
