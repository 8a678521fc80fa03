#include "test/support/prometheus_text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <set>

namespace talus::test {

namespace {

bool IsMetricNameChar(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
         (!first && c >= '0' && c <= '9');
}

bool IsMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!IsMetricNameChar(name[i], i == 0)) return false;
  }
  return true;
}

bool IsLabelName(std::string_view name) {
  if (name.empty() || name.substr(0, 2) == "__") return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// A float as the format writes one: decimal with optional fraction and exponent, or NaN, +Inf,
// -Inf, Inf. Hex floats, "inf", "1,5", "" and the like are refused.
std::optional<double> ParseNumber(std::string_view s) {
  if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (s == "+Inf" || s == "Inf") return std::numeric_limits<double>::infinity();
  if (s == "-Inf") return -std::numeric_limits<double>::infinity();
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t digits = 0;
  while (i < s.size() && IsDigit(s[i])) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && IsDigit(s[i])) ++i, ++digits;
  }
  if (digits == 0) return std::nullopt;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t exp_digits = 0;
    while (i < s.size() && IsDigit(s[i])) ++i, ++exp_digits;
    if (exp_digits == 0) return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  const std::string copy(s);
  return std::strtod(copy.c_str(), nullptr);
}

std::optional<int64_t> ParseTimestamp(std::string_view s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Labels in a canonical order, for comparing label sets.
PromLabels Sorted(PromLabels labels) {
  std::sort(labels.begin(), labels.end());
  return labels;
}

PromLabels Without(const PromLabels& labels, std::string_view name) {
  PromLabels out;
  for (const auto& label : labels) {
    if (label.first != name) out.push_back(label);
  }
  return Sorted(std::move(out));
}

bool HasAll(const PromLabels& labels, const PromLabels& subset) {
  for (const auto& wanted : subset) {
    if (std::find(labels.begin(), labels.end(), wanted) == labels.end()) return false;
  }
  return true;
}

class Parser {
 public:
  Status Line(std::string_view line, int number) {
    line_number_ = number;
    size_t i = 0;
    while (i < line.size() && IsBlank(line[i])) ++i;
    if (i == line.size()) return Status::OK();
    if (line[i] == '#') return Comment(line.substr(i + 1));
    return Sample(line.substr(i));
  }

  Status Finish() {
    for (const PromFamily& family : families_) {
      Status s = family.type == "histogram" ? CheckHistogram(family)
                 : family.type == "summary" ? CheckSummary(family)
                                            : Status::OK();
      if (!s.ok()) return s;
    }
    return Status::OK();
  }

  std::vector<PromFamily> TakeFamilies() { return std::move(families_); }

 private:
  Status Error(const std::string& message) const {
    return Status::InvalidArgument("line " + std::to_string(line_number_) + ": " + message);
  }

  // The family `name` for new metadata or samples: the current one, or a new one. A family
  // seen before but not current has been left, and may not come back.
  Result<PromFamily*> Enter(const std::string& name, const char* what) {
    auto it = index_.find(name);
    if (it == index_.end()) {
      index_[name] = families_.size();
      families_.push_back(PromFamily{});
      families_.back().name = name;
      current_ = families_.size() - 1;
      return &families_.back();
    }
    if (it->second != current_) {
      return Error(std::string(what) + " of family " + name +
                   " after another family's lines: a family's lines must be contiguous");
    }
    return &families_[it->second];
  }

  Status Comment(std::string_view rest) {
    size_t i = 0;
    while (i < rest.size() && IsBlank(rest[i])) ++i;
    size_t start = i;
    while (i < rest.size() && !IsBlank(rest[i])) ++i;
    const std::string_view keyword = rest.substr(start, i - start);
    if (keyword != "HELP" && keyword != "TYPE") return Status::OK();  // a plain comment
    if (i == rest.size()) return Error(std::string(keyword) + " without a metric name");
    while (i < rest.size() && IsBlank(rest[i])) ++i;
    start = i;
    while (i < rest.size() && !IsBlank(rest[i])) ++i;
    const std::string name(rest.substr(start, i - start));
    if (!IsMetricName(name))
      return Error("bad metric name '" + name + "' in " + std::string(keyword));
    Result<PromFamily*> entered = Enter(name, keyword == "HELP" ? "HELP" : "TYPE");
    if (!entered.ok()) return entered.status();
    PromFamily* family = *entered;
    if (keyword == "HELP") {
      if (family->has_help) return Error("second HELP for " + name);
      if (i < rest.size()) ++i;  // the one blank before the text
      std::string help;
      for (; i < rest.size(); ++i) {
        if (rest[i] != '\\') {
          help += rest[i];
          continue;
        }
        if (i + 1 == rest.size()) return Error("HELP of " + name + " ends in a backslash");
        const char next = rest[++i];
        if (next == '\\') {
          help += '\\';
        } else if (next == 'n') {
          help += '\n';
        } else {
          return Error("bad escape \\" + std::string(1, next) + " in HELP of " + name);
        }
      }
      family->help = std::move(help);
      family->has_help = true;
      return Status::OK();
    }
    if (family->has_type) return Error("second TYPE for " + name);
    if (!family->samples.empty()) return Error("TYPE of " + name + " after its samples");
    while (i < rest.size() && IsBlank(rest[i])) ++i;
    start = i;
    while (i < rest.size() && !IsBlank(rest[i])) ++i;
    const std::string type(rest.substr(start, i - start));
    while (i < rest.size() && IsBlank(rest[i])) ++i;
    if (i != rest.size()) return Error("text after the TYPE of " + name);
    if (type != "counter" && type != "gauge" && type != "histogram" && type != "summary" &&
        type != "untyped") {
      return Error("unknown TYPE '" + type + "' for " + name);
    }
    family->type = type;
    family->has_type = true;
    return Status::OK();
  }

  // Which family a sample named `name` belongs to: a histogram's or summary's by suffix when
  // that family was declared, else the family of its own name.
  std::string FamilyNameOf(const std::string& name) const {
    for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
      if (!EndsWith(name, suffix)) continue;
      const std::string base = name.substr(0, name.size() - suffix.size());
      auto it = index_.find(base);
      if (it == index_.end()) continue;
      const std::string& type = families_[it->second].type;
      if (type == "histogram" || (type == "summary" && suffix != "_bucket")) return base;
    }
    return name;
  }

  Status Sample(std::string_view line) {
    size_t i = 0;
    while (i < line.size() && IsMetricNameChar(line[i], false)) ++i;
    PromSample sample;
    sample.name = std::string(line.substr(0, i));
    if (!IsMetricName(sample.name)) {
      return Error("bad metric name '" + std::string(line.substr(0, std::max<size_t>(i, 1))) + "'");
    }
    size_t before = i;
    while (i < line.size() && IsBlank(line[i])) ++i;
    bool blank = i > before;
    if (i < line.size() && line[i] == '{') {
      ++i;
      std::set<std::string> names;
      for (;;) {
        while (i < line.size() && IsBlank(line[i])) ++i;
        if (i < line.size() && line[i] == '}') {
          ++i;
          break;
        }
        size_t start = i;
        while (i < line.size() && line[i] != '=' && line[i] != '}' && line[i] != ',' &&
               !IsBlank(line[i])) {
          ++i;
        }
        const std::string label(line.substr(start, i - start));
        if (!IsLabelName(label)) return Error("bad label name '" + label + "' of " + sample.name);
        if (!names.insert(label).second) {
          return Error("label " + label + " twice in a sample of " + sample.name);
        }
        while (i < line.size() && IsBlank(line[i])) ++i;
        if (i == line.size() || line[i] != '=') return Error("no '=' after label " + label);
        ++i;
        while (i < line.size() && IsBlank(line[i])) ++i;
        if (i == line.size() || line[i] != '"') {
          return Error("value of label " + label + " of " + sample.name + " is not quoted");
        }
        ++i;
        std::string value;
        bool closed = false;
        while (i < line.size()) {
          const char c = line[i++];
          if (c == '"') {
            closed = true;
            break;
          }
          if (c != '\\') {
            value += c;
            continue;
          }
          if (i == line.size()) break;
          const char next = line[i++];
          if (next == '\\') {
            value += '\\';
          } else if (next == '"') {
            value += '"';
          } else if (next == 'n') {
            value += '\n';
          } else {
            return Error("bad escape \\" + std::string(1, next) + " in label " + label + " of " +
                         sample.name);
          }
        }
        if (!closed) return Error("unterminated value of label " + label);
        sample.labels.emplace_back(label, std::move(value));
        while (i < line.size() && IsBlank(line[i])) ++i;
        if (i < line.size() && line[i] == ',') {
          ++i;
          continue;
        }
        if (i < line.size() && line[i] == '}') {
          ++i;
          break;
        }
        return Error("expected ',' or '}' after label " + label + " of " + sample.name);
      }
      before = i;
      while (i < line.size() && IsBlank(line[i])) ++i;
      blank = i > before;
    }
    if (!blank || i == line.size()) return Error("no value for " + sample.name);
    size_t start = i;
    while (i < line.size() && !IsBlank(line[i])) ++i;
    const std::string_view value_text = line.substr(start, i - start);
    std::optional<double> value = ParseNumber(value_text);
    if (!value) {
      return Error("value '" + std::string(value_text) + "' of " + sample.name +
                   " is not a number");
    }
    sample.value = *value;
    while (i < line.size() && IsBlank(line[i])) ++i;
    if (i < line.size()) {
      start = i;
      while (i < line.size() && !IsBlank(line[i])) ++i;
      const std::string_view ts_text = line.substr(start, i - start);
      std::optional<int64_t> ts = ParseTimestamp(ts_text);
      if (!ts) return Error("timestamp '" + std::string(ts_text) + "' is not an integer");
      sample.timestamp_ms = *ts;
      while (i < line.size() && IsBlank(line[i])) ++i;
      if (i != line.size()) return Error("text after the timestamp of " + sample.name);
    }

    const std::string family_name = FamilyNameOf(sample.name);
    Result<PromFamily*> entered = Enter(family_name, "sample");
    if (!entered.ok()) return entered.status();
    PromFamily* family = *entered;
    const std::string& type = family->type;
    if (type == "histogram") {
      if (sample.name != family_name + "_bucket" && sample.name != family_name + "_sum" &&
          sample.name != family_name + "_count") {
        return Error(sample.name + " in histogram " + family_name);
      }
    } else if (type == "summary") {
      if (sample.name != family_name && sample.name != family_name + "_sum" &&
          sample.name != family_name + "_count") {
        return Error(sample.name + " in summary " + family_name);
      }
    } else if (sample.name != family_name) {
      return Error(sample.name + " in " + type + " " + family_name);
    }
    if (type == "counter" && !(sample.value >= 0)) {
      return Error("counter " + sample.name + " is " + std::string(value_text));
    }
    std::string key = sample.name;
    for (const auto& [name, value] : Sorted(sample.labels)) {
      key += '\0' + name + '\0' + value;
    }
    if (!series_.insert(key).second) return Error("series " + sample.name + " given twice");
    family->samples.push_back(std::move(sample));
    return Status::OK();
  }

  static Status FamilyError(const PromFamily& family, const std::string& message) {
    return Status::InvalidArgument(family.type + " " + family.name + ": " + message);
  }

  static Status CheckHistogram(const PromFamily& family) {
    struct Series {
      std::vector<std::pair<double, double>> buckets;  // (le, count), in order written
      std::optional<double> sum;
      std::optional<double> count;
    };
    std::map<PromLabels, Series> series;
    for (const PromSample& s : family.samples) {
      Series& one = series[Without(s.labels, "le")];
      if (s.name == family.name + "_bucket") {
        std::optional<std::string> le = s.Label("le");
        if (!le) return FamilyError(family, "a bucket without le");
        std::optional<double> bound = ParseNumber(*le);
        if (!bound || std::isnan(*bound)) return FamilyError(family, "le \"" + *le + "\"");
        if (!one.buckets.empty() && !(one.buckets.back().first < *bound)) {
          return FamilyError(family, "le=\"" + *le + "\" not above the bucket before it");
        }
        if (!(s.value >= 0)) return FamilyError(family, "a bucket count below zero");
        if (!one.buckets.empty() && s.value < one.buckets.back().second) {
          return FamilyError(family, "bucket le=\"" + *le +
                                         "\" below the bucket before it: "
                                         "buckets are not cumulative");
        }
        one.buckets.emplace_back(*bound, s.value);
      } else if (s.name == family.name + "_sum") {
        one.sum = s.value;
      } else {
        if (!(s.value >= 0)) return FamilyError(family, "_count below zero");
        one.count = s.value;
      }
    }
    for (const auto& [labels, one] : series) {
      std::string where;
      for (const auto& [name, value] : labels) where += " " + name + "=\"" + value + "\"";
      if (one.buckets.empty() || !std::isinf(one.buckets.back().first)) {
        return FamilyError(family, "no le=\"+Inf\" bucket (last) for{" + where + " }");
      }
      if (!one.sum) return FamilyError(family, "no _sum for{" + where + " }");
      if (!one.count) return FamilyError(family, "no _count for{" + where + " }");
      if (*one.count != one.buckets.back().second) {
        return FamilyError(family, "_count differs from the +Inf bucket for{" + where + " }");
      }
    }
    return Status::OK();
  }

  static Status CheckSummary(const PromFamily& family) {
    struct Series {
      bool sum = false;
      bool count = false;
    };
    std::map<PromLabels, Series> series;
    for (const PromSample& s : family.samples) {
      Series& one = series[Without(s.labels, "quantile")];
      if (s.name == family.name) {
        std::optional<std::string> q = s.Label("quantile");
        if (!q) return FamilyError(family, "a sample without quantile");
        std::optional<double> quantile = ParseNumber(*q);
        if (!quantile || !(*quantile >= 0 && *quantile <= 1)) {
          return FamilyError(family, "quantile \"" + *q + "\"");
        }
      } else if (s.name == family.name + "_sum") {
        one.sum = true;
      } else {
        if (!(s.value >= 0)) return FamilyError(family, "_count below zero");
        one.count = true;
      }
    }
    for (const auto& [labels, one] : series) {
      if (!one.sum || !one.count) return FamilyError(family, "a series without _sum or _count");
    }
    return Status::OK();
  }

  std::vector<PromFamily> families_;
  std::map<std::string, size_t> index_;
  size_t current_ = static_cast<size_t>(-1);
  std::set<std::string> series_;
  int line_number_ = 0;
};

}  // namespace

std::optional<std::string> PromSample::Label(std::string_view name) const {
  for (const auto& label : labels) {
    if (label.first == name) return label.second;
  }
  return std::nullopt;
}

const PromFamily* PromExposition::Family(std::string_view name) const {
  for (const PromFamily& family : families) {
    if (family.name == name) return &family;
  }
  return nullptr;
}

std::optional<double> PromExposition::Value(std::string_view name, const PromLabels& labels) const {
  const PromLabels wanted = Sorted(labels);
  for (const PromFamily& family : families) {
    for (const PromSample& s : family.samples) {
      if (s.name == name && Sorted(s.labels) == wanted) return s.value;
    }
  }
  return std::nullopt;
}

double PromExposition::Sum(std::string_view name, const PromLabels& subset) const {
  double sum = 0;
  for (const PromFamily& family : families) {
    for (const PromSample& s : family.samples) {
      if (s.name == name && HasAll(s.labels, subset)) sum += s.value;
    }
  }
  return sum;
}

size_t PromExposition::Count(std::string_view name, const PromLabels& subset) const {
  size_t n = 0;
  for (const PromFamily& family : families) {
    for (const PromSample& s : family.samples) {
      if (s.name == name && HasAll(s.labels, subset)) ++n;
    }
  }
  return n;
}

Result<PromExposition> ParsePrometheusText(std::string_view text) {
  if (text.find('\r') != std::string_view::npos) {
    return Status::InvalidArgument("carriage return in the text (lines end in \\n only)");
  }
  if (!text.empty() && text.back() != '\n') {
    return Status::InvalidArgument("the last line does not end with a line feed");
  }
  Parser parser;
  int number = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    ++number;
    Status s = parser.Line(text.substr(pos, end - pos), number);
    if (!s.ok()) return s;
    pos = end + 1;
  }
  Status s = parser.Finish();
  if (!s.ok()) return s;
  PromExposition out;
  out.families = parser.TakeFamilies();
  return out;
}

}  // namespace talus::test
