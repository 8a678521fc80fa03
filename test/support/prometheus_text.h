#pragma once
// A strict parser of the Prometheus text exposition format 0.0.4, for tests of /metrics.
//
// Stricter than Prometheus itself where the format leaves room for mistakes an exporter should
// not make. Refused (the error names the line, or the family for checks across lines):
//   - metric or label names outside the format's alphabets, label names starting with "__",
//     a label given twice in one sample, label values not in double quotes, escapes other
//     than \\ \" \n in label values (\\ and \n in HELP), carriage returns, a last line without
//     its line feed;
//   - values or timestamps that are not numbers ("NaN", "+Inf", "-Inf" are numbers);
//   - TYPE or HELP given twice for one name, TYPE after the family's samples, an unknown TYPE;
//   - a family's lines not contiguous (once another family's sample, HELP or TYPE has come, the
//     family cannot come back), and so metadata of another name in the middle of a family;
//   - the same series (name and label set, in any order) twice;
//   - counters below zero or NaN; a sample of a typed family whose name is not the family's
//     (histograms: only NAME_bucket, NAME_sum, NAME_count; summaries: NAME, NAME_sum,
//     NAME_count);
//   - histograms: a bucket without le, le not a number, le not strictly ascending within a
//     series, bucket counts decreasing, no le="+Inf" bucket (or one not last), a missing _sum or
//     _count, _count not equal to the +Inf bucket, negative counts;
//   - summaries: quantile outside [0, 1], a missing _sum or _count.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace talus::test {

using PromLabels = std::vector<std::pair<std::string, std::string>>;

struct PromSample {
  std::string name;   // the series name as written (e.g. x_bucket for histogram x)
  PromLabels labels;  // in the order written, values unescaped
  double value = 0;
  std::optional<int64_t> timestamp_ms;

  // The value of label `name`, or nullopt.
  std::optional<std::string> Label(std::string_view name) const;
};

struct PromFamily {
  std::string name;
  std::string type = "untyped";  // counter, gauge, histogram, summary or untyped
  std::string help;              // unescaped
  bool has_help = false;
  bool has_type = false;
  std::vector<PromSample> samples;  // in the order written
};

struct PromExposition {
  std::vector<PromFamily> families;  // in the order they appeared

  const PromFamily* Family(std::string_view name) const;
  // The sample of series `name` whose label set is exactly `labels` (any order), or nullopt.
  std::optional<double> Value(std::string_view name, const PromLabels& labels = {}) const;
  // The sum over samples of series `name` that carry every label of `subset` (0 when none).
  double Sum(std::string_view name, const PromLabels& subset = {}) const;
  // How many samples of series `name` carry every label of `subset`.
  size_t Count(std::string_view name, const PromLabels& subset = {}) const;
};

// InvalidArgument ("line N: ..." or "histogram NAME: ...") for anything the rules above refuse.
Result<PromExposition> ParsePrometheusText(std::string_view text);

}  // namespace talus::test
