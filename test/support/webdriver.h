#pragma once
// A headless Chromium driven over the W3C WebDriver HTTP protocol, for the browser tests:
// chromedriver runs as our child on a free loopback port, one session, and the handful of
// commands a test of a page needs (navigate, find by CSS, read text and attributes, click,
// run a script, screenshot). Spoken with cpp-httplib's client and nlohmann-json; nothing else.
//
// Every call returns an error (never throws) with WebDriver's own error code and message, e.g.
// "no such element: ...", so a failed assertion says what the browser said.
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace httplib {
class Client;
}

namespace talus::test {

struct WebDriverOptions {
  std::string chromedriver = "/usr/bin/chromedriver";
  std::string chromium = "/usr/bin/chromium";
  // Where clicked downloads land (created if missing). Empty: the browser's default.
  std::string download_dir;
  // chromedriver's log (appended); empty: discarded.
  std::string log_path;
  int window_width = 1400;
  int window_height = 1000;
  // How long chromedriver and the browser get to start.
  std::chrono::milliseconds start_timeout = std::chrono::seconds(30);
};

// A reference to an element of the current page (WebDriver's element id). It goes stale when
// the page replaces the element; find it again then.
struct WebElement {
  std::string id;
};

class WebDriver {
 public:
  // Whether the binaries of `options` exist and are executable; if not, `why` says which.
  static bool Available(const WebDriverOptions& options, std::string* why);

  // Starts chromedriver and opens a session (a fresh headless browser).
  static Result<std::unique_ptr<WebDriver>> Start(const WebDriverOptions& options);
  // Closes the session and kills chromedriver with every process it started.
  ~WebDriver();
  WebDriver(const WebDriver&) = delete;
  WebDriver& operator=(const WebDriver&) = delete;

  Status Navigate(const std::string& url);
  Result<std::string> CurrentUrl();

  // The first element matching the CSS selector (NotFound when none), or all of them.
  Result<WebElement> Find(const std::string& css);
  Result<std::vector<WebElement>> FindAll(const std::string& css);
  Result<WebElement> FindIn(const WebElement& parent, const std::string& css);

  // The element's rendered text (what a user sees; "" when hidden).
  Result<std::string> Text(const WebElement& element);
  // The attribute's value, nullopt when the element has no such attribute.
  Result<std::optional<std::string>> Attribute(const WebElement& element, const std::string& name);
  Status Click(const WebElement& element);

  // Shortcuts: Find(css) then Text / Attribute ("" when absent).
  Result<std::string> TextOf(const std::string& css);
  Result<std::string> AttributeOf(const std::string& css, const std::string& name);

  // Runs `script` as the body of a function in the page (synchronously) with `args`; returns
  // what it returns.
  Result<nlohmann::json> Execute(const std::string& script,
                                 const nlohmann::json& args = nlohmann::json::array());

  // The text of an open alert/confirm/prompt dialog, nullopt when none is open.
  Result<std::optional<std::string>> DialogText();

  // Saves a PNG of the viewport to `path`.
  Status Screenshot(const std::string& path);

  pid_t chromedriver_pid() const { return pid_; }

 private:
  WebDriver() = default;
  // One WebDriver command: METHOD /session/ID + `path` (or `path` alone when `session` is
  // false); the answer's "value", or the error it carries.
  Result<nlohmann::json> Command(const std::string& method, const std::string& path,
                                 const nlohmann::json& body = nullptr, bool session = true);
  void Shutdown();

  pid_t pid_ = 0;
  int port_ = 0;
  std::string session_;
  std::unique_ptr<httplib::Client> http_;
};

}  // namespace talus::test
