#include "client/shell/progress.h"

#include <algorithm>
#include <cmath>

namespace talus::shell {

namespace {

constexpr int kBarWidth = 20;

std::string Printf(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), format, value);
  return buf;
}

}  // namespace

std::string ProgressSize(int64_t bytes) {
  if (bytes < 0) bytes = 0;
  double b = static_cast<double>(bytes);
  if (bytes < 1024) return std::to_string(bytes) + " B";
  if (bytes < (int64_t{1} << 20)) return Printf("%.1f KiB", b / 1024.0);
  if (bytes < (int64_t{1} << 30)) return Printf("%.1f MiB", b / (1024.0 * 1024.0));
  return Printf("%.2f GiB", b / (1024.0 * 1024.0 * 1024.0));
}

std::string FormatEta(double seconds) {
  // More than 99 hours is as good as unknown (a stalled copy).
  if (!(seconds >= 0) || seconds > 99 * 3600.0) return "--:--";
  int64_t s = static_cast<int64_t>(std::ceil(seconds));
  int64_t h = s / 3600;
  int64_t m = (s / 60) % 60;
  char buf[32];
  if (h > 0) {
    std::snprintf(buf, sizeof(buf), "%lld:%02lld:%02lld", static_cast<long long>(h),
                  static_cast<long long>(m), static_cast<long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof(buf), "%lld:%02lld", static_cast<long long>(m),
                  static_cast<long long>(s % 60));
  }
  return buf;
}

std::string FormatProgress(const std::string& label, int64_t done, int64_t total, double seconds) {
  double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;  // bytes per second
  std::string line = label.empty() ? "" : label + "  ";
  if (total >= 0) {
    double fraction =
        total == 0 ? 1.0
                   : std::clamp(static_cast<double>(done) / static_cast<double>(total), 0.0, 1.0);
    int filled = static_cast<int>(fraction * kBarWidth);
    std::string bar(static_cast<size_t>(filled), '=');
    if (filled < kBarWidth) bar += '>';
    bar.resize(kBarWidth, ' ');
    char percent[8];
    std::snprintf(percent, sizeof(percent), "%3d%%", static_cast<int>(fraction * 100));
    line += "[" + bar + "] " + percent + "  " + ProgressSize(done) + " / " + ProgressSize(total);
  } else {
    line += ProgressSize(done);
  }
  line += "  " + Printf("%.1f MiB/s", rate / (1024.0 * 1024.0));
  if (total >= 0) {
    double eta = done >= total ? 0 : (rate > 0 ? static_cast<double>(total - done) / rate : -1);
    line += "  ETA " + FormatEta(eta);
  }
  return line;
}

ProgressBar::ProgressBar(FILE* out, bool enabled, std::string label, int64_t total, Clock clock)
    : out_(out),
      enabled_(enabled),
      label_(std::move(label)),
      total_(total),
      clock_(clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); })) {
  start_ = clock_();
  last_draw_ = start_;
  if (enabled_) Draw();
}

ProgressBar::~ProgressBar() { Finish(); }

void ProgressBar::Add(int64_t n) {
  done_ += n;
  if (!enabled_ || finished_) return;
  auto now = clock_();
  if (now - last_draw_ < kMinRedrawInterval) return;
  last_draw_ = now;
  Draw();
}

void ProgressBar::Finish() {
  if (finished_) return;
  finished_ = true;
  if (!enabled_) return;
  Draw();
  std::fputc('\n', out_);
  std::fflush(out_);
}

void ProgressBar::Draw() {
  double seconds = std::chrono::duration<double>(clock_() - start_).count();
  std::string line = FormatProgress(label_, done_, total_, seconds);
  size_t width = line.size();
  // Blank out what is left of a longer previous line.
  if (width < last_width_) line.append(last_width_ - width, ' ');
  last_width_ = width;
  std::fputc('\r', out_);
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fflush(out_);
  ++redraws_;
}

}  // namespace talus::shell
