#include "common/metrics/metrics.h"

#include <glog/logging.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <set>

namespace talus::metrics {

namespace {

enum Kind { kCounter = 0, kGauge = 1, kHistogram = 2 };

const char* KindName(int kind) {
  switch (kind) {
    case kCounter:
      return "counter";
    case kGauge:
      return "gauge";
    default:
      return "histogram";
  }
}

// Label values may hold anything; the text format escapes backslash, quote and newline.
std::string EscapeLabelValue(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// HELP text escapes backslash and newline only.
std::string EscapeHelp(const std::string& help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Integers (the common case: counts, bytes) print exactly; others with full precision.
  if (v == std::floor(v) && std::fabs(v) < 9.007199254740992e15) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.0f", v);
    return buf;
  }
  // The shortest text that reads back as the same double, in %g style as Prometheus's own
  // clients write it: 0.00025 and 0.0005 (not 0.00025000000000000001 or 5e-04), 5e-05.
  char buf[40];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::general);
  return std::string(buf, end);
}

std::string FormatLabels(const Labels& labels, const std::string& extra_name = "",
                         const std::string& extra_value = "") {
  if (labels.empty() && extra_name.empty()) return "";
  std::string out = "{";
  bool first = true;
  for (const auto& [name, value] : labels) {
    out += (first ? "" : ",") + name + "=\"" + EscapeLabelValue(value) + "\"";
    first = false;
  }
  if (!extra_name.empty()) {
    out += (first ? "" : ",") + extra_name + "=\"" + EscapeLabelValue(extra_value) + "\"";
  }
  return out + "}";
}

std::vector<std::string> LabelNames(const Labels& labels) {
  std::vector<std::string> names;
  for (const auto& label : labels) names.push_back(label.first);
  return names;
}

std::vector<std::string> LabelValues(const Labels& labels) {
  std::vector<std::string> values;
  for (const auto& label : labels) values.push_back(label.second);
  return values;
}

bool HasDuplicateNames(const Labels& labels) {
  std::set<std::string> names;
  for (const auto& label : labels) {
    if (!names.insert(label.first).second) return true;
  }
  return false;
}

// Collects collectors' samples grouped by family, so that each family is exported whole.
class GroupingWriter : public SampleWriter {
 public:
  struct CollectedFamily {
    std::string help;
    int kind = kGauge;
    std::vector<std::pair<Labels, double>> samples;
    std::set<Labels> seen;
  };

  void Gauge(const std::string& name, const std::string& help, const Labels& labels,
             double value) override {
    Add(name, help, kGauge, labels, value);
  }
  void Counter(const std::string& name, const std::string& help, const Labels& labels,
               double value) override {
    Add(name, help, kCounter, labels, value);
  }

  std::map<std::string, CollectedFamily> families;

 private:
  void Add(const std::string& name, const std::string& help, int kind, const Labels& labels,
           double value) {
    CHECK(IsValidMetricName(name)) << "bad metric name " << name;
    for (const auto& label : labels) {
      CHECK(IsValidLabelName(label.first)) << "bad label name " << label.first << " of " << name;
    }
    CHECK(!HasDuplicateNames(labels)) << name << " with a label given twice";
    auto [it, inserted] = families.try_emplace(name);
    if (inserted) {
      it->second.help = help;
      it->second.kind = kind;
    } else {
      CHECK_EQ(it->second.kind, kind) << name << " collected as two kinds";
    }
    if (!it->second.seen.insert(labels).second) {
      LOG_EVERY_N(ERROR, 100) << "metric " << name << " collected twice with the same labels; "
                              << "the repeat is dropped";
      return;
    }
    it->second.samples.emplace_back(labels, value);
  }
};

// The names of the series a histogram family writes besides its own.
const char* const kHistogramSuffixes[] = {"_bucket", "_sum", "_count"};

// Whether exporting family `name` (of `kind`) next to `others` would write a series name twice:
// a histogram "x" writes x_bucket, x_sum and x_count.
template <typename Map, typename KindOf>
bool ClashesWith(const std::string& name, int kind, const Map& others, KindOf kind_of) {
  if (kind == kHistogram) {
    for (const char* suffix : kHistogramSuffixes) {
      if (others.count(name + suffix) != 0) return true;
    }
  }
  for (const char* suffix : kHistogramSuffixes) {
    const std::string s = suffix;
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
      auto it = others.find(name.substr(0, name.size() - s.size()));
      if (it != others.end() && kind_of(it->second) == kHistogram) return true;
    }
  }
  return false;
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)),
      buckets_(new std::atomic<uint64_t>[upper_bounds_.size() + 1]) {
  CHECK(std::is_sorted(upper_bounds_.begin(), upper_bounds_.end()) &&
        std::adjacent_find(upper_bounds_.begin(), upper_bounds_.end()) == upper_bounds_.end())
      << "histogram bounds must ascend strictly";
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double value) {
  if (std::isnan(value)) return;
  // Buckets are "less than or equal": the first bound >= value.
  size_t i = std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) -
             upper_bounds_.begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  uint64_t old_bits = sum_bits_.load(std::memory_order_relaxed);
  while (!sum_bits_.compare_exchange_weak(
      old_bits, std::bit_cast<uint64_t>(std::bit_cast<double>(old_bits) + value),
      std::memory_order_relaxed)) {
  }
}

Histogram::Snapshot Histogram::Take() const {
  Snapshot s;
  s.upper_bounds = upper_bounds_;
  uint64_t running = 0;
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  // The buckets are read one by one while others observe: report a count consistent with them
  // (never below the +Inf bucket), so a scrape never shows count < le="+Inf".
  s.count = running;
  s.sum = std::bit_cast<double>(sum_bits_.load(std::memory_order_relaxed));
  return s;
}

const std::vector<double>& LatencyBuckets() {
  static const auto* buckets = new std::vector<double>{
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
      0.025,   0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,     10};
  return *buckets;
}

struct Registry::Family {
  std::string help;
  int kind = kCounter;
  std::vector<std::string> label_names;
  std::vector<double> bounds;  // histograms
  // Children by label values. Owned here, never freed while the registry lives.
  std::map<std::vector<std::string>, std::unique_ptr<Counter>> counters;
  std::map<std::vector<std::string>, std::unique_ptr<metrics::Gauge>> gauges;
  std::map<std::vector<std::string>, std::unique_ptr<Histogram>> histograms;
};

Registry::Registry() = default;
Registry::~Registry() = default;

Registry::Family* Registry::FamilyFor(const std::string& name, const std::string& help,
                                      int kind, const Labels& labels) {
  CHECK(IsValidMetricName(name)) << "bad metric name " << name;
  for (const auto& label : labels) {
    CHECK(IsValidLabelName(label.first)) << "bad label name " << label.first << " of " << name;
    CHECK(!(kind == kHistogram && label.first == "le")) << name << ": le is reserved";
  }
  CHECK(!HasDuplicateNames(labels)) << name << " with a label given twice";
  auto it = families_.find(name);
  const bool inserted = it == families_.end();
  if (inserted) {
    CHECK(!ClashesWith(name, kind, families_, [](const auto& f) { return f->kind; }))
        << name << " clashes with a histogram's _bucket/_sum/_count series";
    it = families_.emplace(name, std::make_unique<Family>()).first;
    it->second->help = help;
    it->second->kind = kind;
    it->second->label_names = LabelNames(labels);
  } else {
    CHECK_EQ(it->second->kind, kind) << name << " registered as two kinds";
    CHECK(it->second->label_names == LabelNames(labels)) << name << " with other label names";
  }
  return it->second.get();
}

Counter* Registry::GetCounter(const std::string& name, const std::string& help,
                              const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  Family* family = FamilyFor(name, help, kCounter, labels);
  auto& slot = family->counters[LabelValues(labels)];
  if (slot == nullptr) slot = std::make_unique<Counter>();
  return slot.get();
}

Gauge* Registry::GetGauge(const std::string& name, const std::string& help,
                          const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  Family* family = FamilyFor(name, help, kGauge, labels);
  auto& slot = family->gauges[LabelValues(labels)];
  if (slot == nullptr) slot = std::make_unique<metrics::Gauge>();
  return slot.get();
}

Histogram* Registry::GetHistogram(const std::string& name, const std::string& help,
                                  const std::vector<double>& upper_bounds,
                                  const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  Family* family = FamilyFor(name, help, kHistogram, labels);
  if (family->histograms.empty()) {
    family->bounds = upper_bounds;
  } else {
    CHECK(family->bounds == upper_bounds) << name << " with other bucket bounds";
  }
  auto& slot = family->histograms[LabelValues(labels)];
  if (slot == nullptr) slot = std::make_unique<Histogram>(upper_bounds);
  return slot.get();
}

int Registry::AddCollector(Collector collector) {
  std::lock_guard<std::mutex> lock(collectors_mu_);
  int id = next_collector_id_++;
  collectors_.emplace(id, std::move(collector));
  return id;
}

void Registry::RemoveCollector(int id) {
  std::lock_guard<std::mutex> lock(collectors_mu_);
  collectors_.erase(id);
}

std::vector<std::pair<Labels, int64_t>> Registry::CounterValues(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<Labels, int64_t>> out;
  auto it = families_.find(name);
  if (it == families_.end()) return out;
  const Family& f = *it->second;
  for (const auto& [values, counter] : f.counters) {
    Labels labels;
    for (size_t i = 0; i < values.size(); ++i) labels.emplace_back(f.label_names[i], values[i]);
    out.emplace_back(std::move(labels), counter->value());
  }
  return out;
}

std::string Registry::ExportText() const {
  GroupingWriter collected;
  std::lock_guard<std::mutex> collectors_lock(collectors_mu_);
  for (const auto& [id, collector] : collectors_) collector(collected);
  std::lock_guard<std::mutex> lock(mu_);

  std::set<std::string> names;
  for (const auto& [name, family] : families_) names.insert(name);
  for (const auto& [name, family] : collected.families) names.insert(name);

  std::string out;
  for (const std::string& name : names) {
    auto registered = families_.find(name);
    auto gathered = collected.families.find(name);
    if (registered != families_.end() && gathered != collected.families.end()) {
      LOG_EVERY_N(ERROR, 100) << "metric " << name << " both registered and collected; "
                              << "the collected samples are dropped";
      gathered = collected.families.end();
    } else if (gathered != collected.families.end() &&
               ClashesWith(name, gathered->second.kind, families_,
                           [](const auto& f) { return f->kind; })) {
      LOG_EVERY_N(ERROR, 100) << "collected metric " << name
                              << " clashes with a histogram's series; dropped";
      gathered = collected.families.end();
    }
    if (registered == families_.end() && gathered == collected.families.end()) continue;
    if (registered != families_.end()) {
      const Family& f = *registered->second;
      out += "# HELP " + name + " " + EscapeHelp(f.help) + "\n";
      out += "# TYPE " + name + " " + KindName(f.kind) + "\n";
      auto labels_of = [&](const std::vector<std::string>& values) {
        Labels labels;
        for (size_t i = 0; i < values.size(); ++i) labels.emplace_back(f.label_names[i], values[i]);
        return labels;
      };
      for (const auto& [values, counter] : f.counters) {
        out += name + FormatLabels(labels_of(values)) + " " +
               FormatValue(static_cast<double>(counter->value())) + "\n";
      }
      for (const auto& [values, gauge] : f.gauges) {
        out += name + FormatLabels(labels_of(values)) + " " +
               FormatValue(static_cast<double>(gauge->value())) + "\n";
      }
      for (const auto& [values, histogram] : f.histograms) {
        const Labels labels = labels_of(values);
        const Histogram::Snapshot s = histogram->Take();
        for (size_t i = 0; i < s.upper_bounds.size(); ++i) {
          out += name + "_bucket" + FormatLabels(labels, "le", FormatValue(s.upper_bounds[i])) +
                 " " + FormatValue(static_cast<double>(s.cumulative[i])) + "\n";
        }
        out += name + "_bucket" + FormatLabels(labels, "le", "+Inf") + " " +
               FormatValue(static_cast<double>(s.count)) + "\n";
        out += name + "_sum" + FormatLabels(labels) + " " + FormatValue(s.sum) + "\n";
        out += name + "_count" + FormatLabels(labels) + " " +
               FormatValue(static_cast<double>(s.count)) + "\n";
      }
    } else {
      const GroupingWriter::CollectedFamily& f = gathered->second;
      out += "# HELP " + name + " " + EscapeHelp(f.help) + "\n";
      out += "# TYPE " + name + " " + KindName(f.kind) + "\n";
      for (const auto& [labels, value] : f.samples) {
        out += name + FormatLabels(labels) + " " + FormatValue(value) + "\n";
      }
    }
  }
  return out;
}

Registry& DefaultRegistry() {
  static auto* registry = new Registry();
  return *registry;
}

bool IsValidMetricName(const std::string& name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool IsValidLabelName(const std::string& name) {
  if (name.empty() || name.rfind("__", 0) == 0) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

}  // namespace talus::metrics
