#include "test/support/webdriver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <httplib.h>

#include "cluster/process.h"

namespace talus::test {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// W3C WebDriver's key of an element reference in JSON.
constexpr const char* kElementKey = "element-6066-11e4-a52e-4f735466cecf";

bool Executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

// A loopback port free right now (bound, read, released): chromedriver takes it a moment later.
Result<int> FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::FromErrno(errno, "socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    Status s = Status::FromErrno(errno, "bind a free port");
    ::close(fd);
    return s;
  }
  ::close(fd);
  return static_cast<int>(ntohs(addr.sin_port));
}

Result<std::string> Base64Decode(const std::string& in) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=' || c == '\n' || c == '\r') continue;
    const size_t v = kAlphabet.find(c);
    if (v == std::string::npos) return Status::InvalidArgument("not base64");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

// WebDriver's error codes that have a Status of their own; the rest are internal errors.
Status ErrorStatus(const std::string& error, const std::string& message) {
  const std::string text = error + ": " + message.substr(0, 600);
  if (error == "no such element" || error == "no such alert" || error == "no such window") {
    return Status::NotFound(text);
  }
  if (error == "stale element reference") return Status::Unavailable(text);
  if (error == "timeout" || error == "script timeout") return Status::TimedOut(text);
  if (error == "invalid argument" || error == "invalid selector") {
    return Status::InvalidArgument(text);
  }
  return Status::Internal(text);
}

Result<WebElement> ToElement(const json& value) {
  if (!value.is_object() || !value.contains(kElementKey)) {
    return Status::Internal("not an element reference: " + value.dump().substr(0, 200));
  }
  return WebElement{value[kElementKey].get<std::string>()};
}

}  // namespace

bool WebDriver::Available(const WebDriverOptions& options, std::string* why) {
  for (const std::string& path : {options.chromium, options.chromedriver}) {
    if (!Executable(path)) {
      if (why != nullptr) *why = path + " is not installed (Debian: chromium, chromium-driver)";
      return false;
    }
  }
  return true;
}

Result<std::unique_ptr<WebDriver>> WebDriver::Start(const WebDriverOptions& options) {
  std::string why;
  if (!Available(options, &why)) return Status::NotFound(why);
  if (!options.download_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options.download_dir, ec);
    if (ec) return Status::IoError("create " + options.download_dir + ": " + ec.message());
  }
  std::unique_ptr<WebDriver> driver(new WebDriver());
  ASSIGN_OR_RETURN(driver->port_, FreePort());
  cluster::SpawnOptions spawn;
  spawn.binary = options.chromedriver;
  spawn.args = {"--port=" + std::to_string(driver->port_)};
  spawn.output_path = options.log_path;
  // Its own session (so its process group holds the browser too, killed together at the end)
  // and SIGKILL if the test dies first.
  spawn.new_session = true;
  spawn.parent_death_signal = SIGKILL;
  ASSIGN_OR_RETURN(driver->pid_, cluster::Spawn(spawn));

  driver->http_ = std::make_unique<httplib::Client>("127.0.0.1", driver->port_);
  driver->http_->set_connection_timeout(2, 0);
  driver->http_->set_read_timeout(60, 0);
  driver->http_->set_write_timeout(10, 0);

  // chromedriver answers /status once it listens.
  const Clock::time_point deadline = Clock::now() + options.start_timeout;
  while (true) {
    Result<json> status = driver->Command("GET", "/status", nullptr, /*session=*/false);
    if (status.ok() && status->value("ready", false)) break;
    Result<std::optional<cluster::ExitStatus>> ended = cluster::PollChild(driver->pid_);
    if (ended.ok() && ended->has_value()) {
      driver->pid_ = 0;
      return Status::Unavailable("chromedriver ended at start: " + (*ended)->ToString() +
                                 " (log: " + options.log_path + ")");
    }
    if (Clock::now() >= deadline) {
      return Status::TimedOut("chromedriver did not answer within the start timeout");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }

  json chrome = {
      {"binary", options.chromium},
      {"args",
       {"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--no-first-run", "--no-default-browser-check", "--disable-extensions",
        "--window-size=" + std::to_string(options.window_width) + "," +
            std::to_string(options.window_height)}},
  };
  if (!options.download_dir.empty()) {
    chrome["prefs"] = {{"download.default_directory", options.download_dir},
                       {"download.prompt_for_download", false},
                       {"download.directory_upgrade", true},
                       {"safebrowsing.enabled", false}};
  }
  // Dialogs are left open (not dismissed behind the test's back) so DialogText() sees them.
  json capabilities = {{"alwaysMatch",
                        {{"browserName", "chrome"},
                         {"unhandledPromptBehavior", "ignore"},
                         {"goog:chromeOptions", chrome}}}};
  ASSIGN_OR_RETURN(json session, driver->Command("POST", "/session",
                                                 json{{"capabilities", capabilities}},
                                                 /*session=*/false));
  if (!session.contains("sessionId")) {
    return Status::Internal("no session id in " + session.dump().substr(0, 300));
  }
  driver->session_ = session["sessionId"].get<std::string>();
  if (!options.download_dir.empty()) {
    // The headless browser honours the profile's download directory, but say it through the
    // DevTools protocol as well so a download never waits on a prompt.
    (void)driver->Command("POST", "/chromium/send_command",
                          json{{"cmd", "Page.setDownloadBehavior"},
                               {"params", {{"behavior", "allow"},
                                           {"downloadPath", options.download_dir}}}});
  }
  return driver;
}

WebDriver::~WebDriver() { Shutdown(); }

void WebDriver::Shutdown() {
  if (!session_.empty() && http_ != nullptr) {
    http_->set_read_timeout(10, 0);
    (void)Command("DELETE", "");
    session_.clear();
  }
  if (pid_ > 0) {
    // The whole process group: chromedriver and any browser process left behind.
    ::kill(-pid_, SIGKILL);
    (void)cluster::WaitChild(pid_, Clock::now() + std::chrono::seconds(10));
    pid_ = 0;
  }
}

Result<json> WebDriver::Command(const std::string& method, const std::string& path,
                                const json& body, bool session) {
  if (http_ == nullptr) return Status::Unavailable("no chromedriver");
  if (session && session_.empty()) return Status::Unavailable("no WebDriver session");
  const std::string target = session ? "/session/" + session_ + path : path;
  const std::string payload = body.is_null() ? "{}" : body.dump();
  if (method != "GET" && method != "POST" && method != "DELETE") {
    return Status::InvalidArgument("method " + method);
  }
  httplib::Result res = method == "GET"    ? http_->Get(target)
                        : method == "POST" ? http_->Post(target, payload,
                                                         "application/json; charset=utf-8")
                                           : http_->Delete(target);
  if (!res) {
    return Status::Unavailable(method + " " + target + ": " + httplib::to_string(res.error()));
  }
  json answer = json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  if (answer.is_discarded() || !answer.is_object() || !answer.contains("value")) {
    return Status::Internal(method + " " + target + ": HTTP " + std::to_string(res->status) +
                            ", not a WebDriver answer: " + res->body.substr(0, 300));
  }
  json value = answer["value"];
  if (res->status != 200) {
    std::string error = "unknown error", message;
    if (value.is_object()) {
      error = value.value("error", error);
      message = value.value("message", "");
    }
    return ErrorStatus(error, method + " " + path + ": " + message);
  }
  return value;
}

Status WebDriver::Navigate(const std::string& url) {
  return Command("POST", "/url", json{{"url", url}}).status();
}

Result<std::string> WebDriver::CurrentUrl() {
  ASSIGN_OR_RETURN(json v, Command("GET", "/url"));
  return v.is_string() ? v.get<std::string>() : std::string();
}

Result<WebElement> WebDriver::Find(const std::string& css) {
  ASSIGN_OR_RETURN(json v,
                   Command("POST", "/element", json{{"using", "css selector"}, {"value", css}}));
  return ToElement(v);
}

Result<std::vector<WebElement>> WebDriver::FindAll(const std::string& css) {
  ASSIGN_OR_RETURN(json v,
                   Command("POST", "/elements", json{{"using", "css selector"}, {"value", css}}));
  std::vector<WebElement> out;
  if (!v.is_array()) return Status::Internal("elements: not an array");
  for (const json& e : v) {
    ASSIGN_OR_RETURN(WebElement element, ToElement(e));
    out.push_back(element);
  }
  return out;
}

Result<WebElement> WebDriver::FindIn(const WebElement& parent, const std::string& css) {
  ASSIGN_OR_RETURN(json v, Command("POST", "/element/" + parent.id + "/element",
                                   json{{"using", "css selector"}, {"value", css}}));
  return ToElement(v);
}

Result<std::string> WebDriver::Text(const WebElement& element) {
  ASSIGN_OR_RETURN(json v, Command("GET", "/element/" + element.id + "/text"));
  return v.is_string() ? v.get<std::string>() : std::string();
}

Result<std::optional<std::string>> WebDriver::Attribute(const WebElement& element,
                                                        const std::string& name) {
  ASSIGN_OR_RETURN(json v, Command("GET", "/element/" + element.id + "/attribute/" + name));
  if (v.is_null()) return std::optional<std::string>();
  return std::optional<std::string>(v.is_string() ? v.get<std::string>() : v.dump());
}

Status WebDriver::Click(const WebElement& element) {
  return Command("POST", "/element/" + element.id + "/click").status();
}

Result<std::string> WebDriver::TextOf(const std::string& css) {
  ASSIGN_OR_RETURN(WebElement e, Find(css));
  return Text(e);
}

Result<std::string> WebDriver::AttributeOf(const std::string& css, const std::string& name) {
  ASSIGN_OR_RETURN(WebElement e, Find(css));
  ASSIGN_OR_RETURN(std::optional<std::string> v, Attribute(e, name));
  return v.value_or("");
}

Result<json> WebDriver::Execute(const std::string& script, const json& args) {
  return Command("POST", "/execute/sync", json{{"script", script}, {"args", args}});
}

Result<std::optional<std::string>> WebDriver::DialogText() {
  Result<json> v = Command("GET", "/alert/text");
  if (!v.ok()) {
    if (v.status().code() == ErrorCode::kNotFound) return std::optional<std::string>();
    return v.status();
  }
  return std::optional<std::string>(v->is_string() ? v->get<std::string>() : v->dump());
}

Status WebDriver::Screenshot(const std::string& path) {
  ASSIGN_OR_RETURN(json v, Command("GET", "/screenshot"));
  if (!v.is_string()) return Status::Internal("screenshot: not a string");
  ASSIGN_OR_RETURN(std::string png, Base64Decode(v.get<std::string>()));
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(png.data(), static_cast<std::streamsize>(png.size()));
  out.close();
  if (!out) return Status::IoError("write " + path);
  return Status::OK();
}

}  // namespace talus::test
