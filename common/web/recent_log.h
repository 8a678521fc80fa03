#pragma once
// The last warnings and errors a daemon logged, kept in memory for its status page ("recent
// errors"): an operator sees what went wrong without reading log files. A glog sink, so every
// LOG(WARNING) and LOG(ERROR) anywhere in the process lands here with no extra call.
#include <glog/logging.h>

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace talus::web {

struct LogEntry {
  int64_t time_ms = 0;     // wall clock, ms since the epoch
  std::string severity;    // "WARNING", "ERROR", "FATAL"
  std::string location;    // "file.cc:123"
  std::string message;     // cut to kMaxMessageBytes
};

class RecentLog : public google::LogSink {
 public:
  static constexpr size_t kMaxMessageBytes = 1024;

  // Installs a process-wide sink keeping the last `capacity` entries of WARNING and above.
  // Idempotent; the sink lives until the process ends.
  static RecentLog* Install(size_t capacity = 100);
  // The installed sink, or nullptr.
  static RecentLog* Get();

  // Newest last.
  std::vector<LogEntry> Entries() const;

  void send(google::LogSeverity severity, const char* full_filename, const char* base_filename,
            int line, const struct ::tm* tm_time, const char* message,
            size_t message_len) override;

 private:
  explicit RecentLog(size_t capacity) : capacity_(capacity) {}

  const size_t capacity_;
  mutable std::mutex mu_;
  std::deque<LogEntry> entries_;  // guarded by mu_
};

}  // namespace talus::web
