// The -put/-get progress line: what it says, how often it is redrawn, and that it stays silent
// when stdout is not a terminal.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "client/shell/progress.h"

namespace talus::shell {
namespace {

constexpr int64_t kMiB = 1024 * 1024;

TEST(ProgressSizeTest, BinaryUnits) {
  EXPECT_EQ(ProgressSize(0), "0 B");
  EXPECT_EQ(ProgressSize(1023), "1023 B");
  EXPECT_EQ(ProgressSize(1536), "1.5 KiB");
  EXPECT_EQ(ProgressSize(12 * kMiB + kMiB / 2), "12.5 MiB");
  EXPECT_EQ(ProgressSize(3 * 1024 * kMiB), "3.00 GiB");
  EXPECT_EQ(ProgressSize(-5), "0 B");
}

TEST(ProgressEtaTest, MinutesHoursAndUnknown) {
  EXPECT_EQ(FormatEta(0), "0:00");
  EXPECT_EQ(FormatEta(1.2), "0:02");  // rounded up: never promise earlier than likely
  EXPECT_EQ(FormatEta(125), "2:05");
  EXPECT_EQ(FormatEta(3723), "1:02:03");
  EXPECT_EQ(FormatEta(-1), "--:--");
  EXPECT_EQ(FormatEta(1e9), "--:--");
}

TEST(FormatProgressTest, HalfwayWithRateAndEta) {
  // 50 of 100 MiB in 5 s: 10 MiB/s, 5 s to go.
  EXPECT_EQ(FormatProgress("/a/f", 50 * kMiB, 100 * kMiB, 5.0),
            "/a/f  [==========>         ]  50%  50.0 MiB / 100.0 MiB  10.0 MiB/s  ETA 0:05");
}

TEST(FormatProgressTest, StartAndEnd) {
  EXPECT_EQ(FormatProgress("f", 0, 4 * kMiB, 0.0),
            "f  [>                   ]   0%  0 B / 4.0 MiB  0.0 MiB/s  ETA --:--");
  EXPECT_EQ(FormatProgress("f", 4 * kMiB, 4 * kMiB, 2.0),
            "f  [====================] 100%  4.0 MiB / 4.0 MiB  2.0 MiB/s  ETA 0:00");
}

TEST(FormatProgressTest, EmptyFileIsComplete) {
  EXPECT_EQ(FormatProgress("e", 0, 0, 0.0),
            "e  [====================] 100%  0 B / 0 B  0.0 MiB/s  ETA 0:00");
}

TEST(FormatProgressTest, UnknownTotalShowsBytesAndRateOnly) {
  EXPECT_EQ(FormatProgress("-", 3 * kMiB, -1, 1.5), "-  3.0 MiB  2.0 MiB/s");
}

// A FILE in memory whose contents the test can read back.
class CapturedFile {
 public:
  CapturedFile() { file_ = open_memstream(&buf_, &size_); }
  ~CapturedFile() {
    std::fclose(file_);
    std::free(buf_);
  }
  FILE* get() { return file_; }
  std::string contents() {
    std::fflush(file_);
    return std::string(buf_, size_);
  }

 private:
  char* buf_ = nullptr;
  size_t size_ = 0;
  FILE* file_;
};

struct FakeClock {
  std::chrono::steady_clock::time_point now{};
  void Advance(std::chrono::milliseconds d) { now += d; }
  ProgressBar::Clock fn() {
    return [this] { return now; };
  }
};

TEST(ProgressBarTest, DisabledPrintsNothing) {
  CapturedFile out;
  FakeClock clock;
  {
    ProgressBar bar(out.get(), /*enabled=*/false, "f", 100, clock.fn());
    for (int i = 0; i < 10; ++i) {
      clock.Advance(std::chrono::seconds(1));
      bar.Add(10);
    }
    EXPECT_EQ(bar.done(), 100);
    bar.Finish();
  }
  EXPECT_EQ(out.contents(), "");
}

TEST(ProgressBarTest, RedrawsAtMostTenTimesASecond) {
  CapturedFile out;
  FakeClock clock;
  ProgressBar bar(out.get(), /*enabled=*/true, "f", 1000 * kMiB, clock.fn());
  EXPECT_EQ(bar.redraws(), 1);  // the empty bar, at once
  // 1000 updates over one second, one per millisecond: about 10 redraws, not 1000.
  for (int i = 0; i < 1000; ++i) {
    clock.Advance(std::chrono::milliseconds(1));
    bar.Add(kMiB);
  }
  EXPECT_GE(bar.redraws(), 10);
  EXPECT_LE(bar.redraws(), 11);
  bar.Finish();
  std::string text = out.contents();
  EXPECT_EQ(text.front(), '\r');
  EXPECT_EQ(text.back(), '\n');
  // The last state drawn is the final one: everything copied in one second.
  size_t last = text.rfind('\r');
  EXPECT_EQ(text.substr(last + 1),
            "f  [====================] 100%  1000.0 MiB / 1000.0 MiB  1000.0 MiB/s  ETA 0:00\n");
}

TEST(ProgressBarTest, ShorterLineBlanksTheRestOfTheLongerOne) {
  CapturedFile out;
  FakeClock clock;
  ProgressBar bar(out.get(), true, "f", -1, clock.fn());
  clock.Advance(std::chrono::seconds(1));
  bar.Add(5000 * kMiB);  // "5000.0 MiB"... then the rate drops and the line gets shorter
  std::string first = out.contents();
  clock.Advance(std::chrono::seconds(1000));
  bar.Add(1);
  std::string text = out.contents().substr(first.size());
  size_t previous_width = first.size() - first.rfind('\r') - 1;
  EXPECT_EQ(text.size(), 1 + previous_width);  // '\r' + the line padded to the old width
  bar.Finish();
}

TEST(ProgressBarTest, FinishIsIdempotent) {
  CapturedFile out;
  FakeClock clock;
  {
    ProgressBar bar(out.get(), true, "f", 10, clock.fn());
    bar.Add(10);
    bar.Finish();
    bar.Finish();
  }  // and the destructor
  std::string text = out.contents();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
}

}  // namespace
}  // namespace talus::shell
