#include "common/web/http_server.h"

#include <glog/logging.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "common/metrics/metrics.h"

namespace talus::web {

namespace {

// Nothing a status page or API call sends needs more; a larger body is refused (413).
constexpr size_t kMaxBodyBytes = 64 << 10;
constexpr time_t kReadTimeoutSeconds = 10;
constexpr time_t kWriteTimeoutSeconds = 60;
constexpr time_t kKeepAliveSeconds = 5;

// Connections accepted but not yet taken by a thread. Beyond this the acceptor waits, so
// further clients wait in the kernel's listen backlog instead of holding descriptors here: a
// flood of idle connections cannot use up the daemon's file descriptors (which its RPC
// servers, journal and namespace share).
constexpr size_t kMaxQueuedConnections = 64;

// httplib's own pool (0.11) queues without limit; this one makes the acceptor wait instead.
class BoundedThreadPool : public httplib::TaskQueue {
 public:
  explicit BoundedThreadPool(int threads) {
    for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { Work(); });
  }
  ~BoundedThreadPool() override = default;

  void enqueue(std::function<void()> fn) override {
    std::unique_lock<std::mutex> lock(mu_);
    // Every accepted connection must run (its job closes the socket), so wait, never drop.
    has_room_.wait(lock, [&] { return jobs_.size() < kMaxQueuedConnections || stopping_; });
    jobs_.push_back(std::move(fn));
    has_job_.notify_one();
  }

  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    has_job_.notify_all();
    has_room_.notify_all();
    for (std::thread& t : workers_) t.join();
  }

 private:
  void Work() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        has_job_.wait(lock, [&] { return !jobs_.empty() || stopping_; });
        if (jobs_.empty()) return;  // stopping, and everything accepted has run
        job = std::move(jobs_.front());
        jobs_.pop_front();
        has_room_.notify_one();
      }
      job();
    }
  }

  std::mutex mu_;
  std::condition_variable has_job_;
  std::condition_variable has_room_;
  std::deque<std::function<void()>> jobs_;  // guarded by mu_
  bool stopping_ = false;                   // guarded by mu_
  std::vector<std::thread> workers_;
};

// Statuses are counted by class so that the label set stays small and bounded.
std::string StatusClass(int status) {
  if (status < 200 || status > 599) return "other";
  return std::to_string(status / 100) + "xx";
}

void CountRequest(const std::string& daemon, int status) {
  static std::mutex mu;
  static auto* counters = new std::map<std::pair<std::string, std::string>, metrics::Counter*>;
  const std::string code = StatusClass(status);
  metrics::Counter* counter = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu);
    metrics::Counter*& slot = (*counters)[{daemon, code}];
    if (slot == nullptr) {
      slot = metrics::DefaultRegistry().GetCounter(
          "talus_http_requests_total", "HTTP requests answered by the status server, by class of status code.",
          {{"daemon", daemon}, {"code", code}});
    }
    counter = slot;
  }
  counter->Increment();
}

// For the library's own refusals, which come without a message.
const char* ErrorNameOf(int status) {
  switch (status) {
    case 404:
      return "NOT_FOUND";
    case 405:
      return "METHOD_NOT_ALLOWED";
    case 413:
      return "PAYLOAD_TOO_LARGE";
    case 414:
      return "URI_TOO_LONG";
    case 431:
      return "HEADERS_TOO_LARGE";
    default:
      return status >= 500 ? "INTERNAL" : "BAD_REQUEST";
  }
}

}  // namespace

const EmbeddedFile* FindEmbeddedFile(const std::vector<EmbeddedFile>& files,
                                     std::string_view name) {
  for (const EmbeddedFile& file : files) {
    if (file.name == name) return &file;
  }
  return nullptr;
}

HttpServer::HttpServer(const HttpServerOptions& options)
    : options_(options), server_(std::make_unique<httplib::Server>()) {}

Result<std::unique_ptr<HttpServer>> HttpServer::Create(const HttpServerOptions& options) {
  if (options.port < 0 || options.port > 65535) {
    return Status::InvalidArgument("HTTP port " + std::to_string(options.port) +
                                   " is not within 0..65535");
  }
  if (options.threads < 1 || options.threads > 256) {
    return Status::InvalidArgument("HTTP threads must be within 1..256");
  }
  std::unique_ptr<HttpServer> server(new HttpServer(options));
  httplib::Server& s = *server->server_;
  const int threads = options.threads;
  s.new_task_queue = [threads] { return new BoundedThreadPool(threads); };
  s.set_payload_max_length(kMaxBodyBytes);
  s.set_read_timeout(kReadTimeoutSeconds, 0);
  s.set_write_timeout(kWriteTimeoutSeconds, 0);
  s.set_keep_alive_timeout(kKeepAliveSeconds);
  // A page may run only its own scripts and styles: even a name that slipped through unescaped
  // could not execute. Nothing is framed by other sites.
  s.set_default_headers({
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "no-referrer"},
      {"Content-Security-Policy",
       "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"},
  });
  const std::string daemon = options.daemon.empty() ? "daemon" : options.daemon;
  s.set_exception_handler([daemon](const httplib::Request& req, httplib::Response& res,
                                   std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    LOG(ERROR) << daemon << " web: " << req.method << " " << req.path << ": " << what;
    SendJsonError(res, 500, "INTERNAL", "internal error");
  });
  s.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    // Only errors without a body of their own (no route: 404; the library's 400/413/414).
    if (!res.body.empty()) return;
    SendJsonError(res, res.status, ErrorNameOf(res.status),
                  res.status == 404 ? "no such page: " + req.path.substr(0, 200)
                                    : std::string(ErrorNameOf(res.status)));
  });
  s.set_logger([daemon](const httplib::Request& req, const httplib::Response& res) {
    CountRequest(daemon, res.status);
    VLOG(1) << daemon << " web: " << req.remote_addr << " " << req.method << " "
            << req.path.substr(0, 200) << " " << res.status;
  });
  int port = options.port;
  if (port == 0) {
    port = s.bind_to_any_port(options.host);
    if (port < 0) return Status::IoError("cannot bind an HTTP port on " + options.host);
  } else if (!s.bind_to_port(options.host, port)) {
    return Status::IoError("cannot bind HTTP port " + options.host + ":" + std::to_string(port));
  }
  server->port_ = port;
  return server;
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Get(const std::string& pattern, Handler handler) {
  CHECK(!started_) << "routes are added before Start()";
  server_->Get(pattern, std::move(handler));
}

void HttpServer::ServeFiles(const std::vector<EmbeddedFile>* files) {
  auto serve = [files](const std::string& name, httplib::Response& res) {
    const EmbeddedFile* file = FindEmbeddedFile(*files, name);
    if (file == nullptr) {
      SendJsonError(res, 404, "NOT_FOUND", "no such file");
      return;
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_content(std::string(file->data), std::string(file->content_type));
  };
  Get("/", [serve](const httplib::Request&, httplib::Response& res) { serve("index.html", res); });
  // Names of embedded files only: letters, digits, '.', '-', '_' — no way up a directory.
  Get(R"(/static/([A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}))",
      [serve](const httplib::Request& req, httplib::Response& res) {
        serve(req.matches[1].str(), res);
      });
}

void HttpServer::ServeMetrics(const metrics::Registry* registry) {
  Get("/metrics", [registry](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    res.set_content(registry->ExportText(), "text/plain; version=0.0.4; charset=utf-8");
  });
}

void HttpServer::Start() {
  CHECK(!started_);
  started_ = true;
  thread_ = std::thread([this] {
    if (!server_->listen_after_bind()) {
      LOG(ERROR) << options_.daemon << " web: the HTTP server stopped serving";
    }
  });
  // httplib's stop() does nothing before its loop runs: wait for it, so that a Stop() right
  // after Start() cannot leave the thread serving and the join hanging. The socket is bound
  // already, so this is the time the thread takes to start (bounded, in case it failed).
  for (int i = 0; i < 5000 && !server_->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  LOG(INFO) << options_.daemon << " web: serving http://" << options_.host << ":" << port_;
}

void HttpServer::Stop() {
  if (!started_) return;
  server_->stop();
  if (thread_.joinable()) thread_.join();
  started_ = false;
}

void SendJson(httplib::Response& res, const nlohmann::json& body, int status) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  // Invalid UTF-8 in a name (the namespace takes any bytes) is replaced, not thrown on.
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json; charset=utf-8");
}

void SendJsonError(httplib::Response& res, int status, const std::string& code,
                   const std::string& message) {
  nlohmann::json body;
  body["error"] = {{"status", status}, {"code", code}, {"message", message}};
  SendJson(res, body, status);
}

void SendStatusError(httplib::Response& res, const Status& status) {
  int http = 500;
  switch (status.code()) {
    case ErrorCode::kNotFound:
      http = 404;
      break;
    case ErrorCode::kPermissionDenied:
    case ErrorCode::kNotPermitted:
      http = 403;
      break;
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kNameTooLong:
    case ErrorCode::kNotADirectory:
    case ErrorCode::kIsADirectory:
      http = 400;
      break;
    case ErrorCode::kSafeMode:
    case ErrorCode::kUnavailable:
    case ErrorCode::kNotLeader:
    case ErrorCode::kBusy:
      http = 503;
      break;
    case ErrorCode::kTimedOut:
      http = 504;
      break;
    default:
      break;
  }
  SendJsonError(res, http, ErrorCodeName(status.code()), status.message());
}

}  // namespace talus::web
