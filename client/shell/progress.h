#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

namespace talus::shell {

// "12.5 MiB", "512 B", "3.00 GiB": sizes in the progress line, binary units.
std::string ProgressSize(int64_t bytes);

// One progress line, without the carriage return:
//   "name  [=====>    ]  45%  12.0 MiB / 26.7 MiB  45.3 MiB/s  ETA 0:02"
// `total` < 0 means unknown (standard input): no bar, percentage or ETA, only bytes and rate.
// `seconds` is the time since the copy started; the rate is done / seconds.
std::string FormatProgress(const std::string& label, int64_t done, int64_t total, double seconds);

// "0:05", "12:34", "1:02:03"; "--:--" when unknown (negative or absurdly large).
std::string FormatEta(double seconds);

// A progress line redrawn in place on a terminal while -put or -get copies. Disabled (it prints
// nothing at all) when the shell's stdout is not a terminal, so that scripts see clean output.
// Redraws are throttled so that a fast copy does not spend its time printing.
class ProgressBar {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  static constexpr std::chrono::milliseconds kMinRedrawInterval{100};

  // `out` is where the line is drawn (stderr). `clock` is for tests; by default the steady clock.
  ProgressBar(FILE* out, bool enabled, std::string label, int64_t total, Clock clock = {});
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // `n` more bytes were copied. Redraws when the last redraw is at least kMinRedrawInterval old.
  void Add(int64_t n);
  // Draws the final state and ends the line. Idempotent; called by the destructor.
  void Finish();

  int64_t done() const { return done_; }
  int redraws() const { return redraws_; }

 private:
  void Draw();

  FILE* out_;
  bool enabled_;
  std::string label_;
  int64_t total_;
  Clock clock_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  int64_t done_ = 0;
  int redraws_ = 0;
  size_t last_width_ = 0;
  bool finished_ = false;
};

}  // namespace talus::shell
