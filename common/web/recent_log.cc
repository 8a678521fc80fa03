#include "common/web/recent_log.h"

#include <chrono>

namespace talus::web {

namespace {
std::atomic<RecentLog*> installed{nullptr};
std::mutex install_mu;
}  // namespace

RecentLog* RecentLog::Install(size_t capacity) {
  std::lock_guard<std::mutex> lock(install_mu);
  if (RecentLog* sink = installed.load()) return sink;
  auto* sink = new RecentLog(capacity == 0 ? 1 : capacity);
  google::AddLogSink(sink);
  installed.store(sink);
  return sink;
}

RecentLog* RecentLog::Get() { return installed.load(); }

std::vector<LogEntry> RecentLog::Entries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {entries_.begin(), entries_.end()};
}

void RecentLog::send(google::LogSeverity severity, const char* full_filename,
                     const char* base_filename, int line, const struct ::tm* tm_time,
                     const char* message, size_t message_len) {
  if (severity < google::GLOG_WARNING) return;
  LogEntry entry;
  entry.time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  entry.severity = google::GetLogSeverityName(severity);
  entry.location = std::string(base_filename) + ":" + std::to_string(line);
  entry.message.assign(message, std::min(message_len, kMaxMessageBytes));
  std::lock_guard<std::mutex> lock(mu_);
  entries_.push_back(std::move(entry));
  while (entries_.size() > capacity_) entries_.pop_front();
}

}  // namespace talus::web
