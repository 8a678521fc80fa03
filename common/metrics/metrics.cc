#include "common/metrics/metrics.h"

#include <glog/logging.h>
#include <prometheus/check_names.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <locale>
#include <set>
#include <sstream>

namespace talus::metrics {

namespace {

enum Kind { kCounter = 0, kGauge = 1, kHistogram = 2 };

prometheus::Labels ToPrometheus(const Labels& labels) {
  return prometheus::Labels(labels.begin(), labels.end());
}

// HELP text escapes backslash and newline only. prometheus-cpp 1.0.1 writes HELP as given (it
// escapes label values only), so the help is escaped before it reaches the library.
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

// prometheus-cpp keeps a series' labels in a std::map and so writes them sorted by name; put
// them back in the order they were registered in (callers and readers of /metrics expect
// {daemon=...,code=...} as given), and sort the series by label values for a stable output.
void RestoreLabelOrder(const std::vector<std::string>& label_names,
                       std::vector<prometheus::ClientMetric>* metrics) {
  for (prometheus::ClientMetric& metric : *metrics) {
    std::vector<prometheus::ClientMetric::Label> ordered;
    ordered.reserve(metric.label.size());
    for (const std::string& name : label_names) {
      auto it = std::find_if(metric.label.begin(), metric.label.end(),
                             [&](const auto& label) { return label.name == name; });
      if (it != metric.label.end()) ordered.push_back(std::move(*it));
    }
    metric.label = std::move(ordered);
  }
  std::stable_sort(metrics->begin(), metrics->end(), [](const auto& a, const auto& b) {
    return std::lexicographical_compare(
        a.label.begin(), a.label.end(), b.label.begin(), b.label.end(),
        [](const auto& x, const auto& y) { return x.value < y.value; });
  });
}

}  // namespace

Counter::Counter() : owned_(std::make_unique<prometheus::Counter>()), counter_(owned_.get()) {}
Counter::Counter(prometheus::Counter* counter) : counter_(counter) {}
Counter::~Counter() = default;

void Counter::Increment(int64_t by) { counter_->Increment(static_cast<double>(by)); }
int64_t Counter::value() const { return static_cast<int64_t>(counter_->Value()); }

Gauge::Gauge() : owned_(std::make_unique<prometheus::Gauge>()), gauge_(owned_.get()) {}
Gauge::Gauge(prometheus::Gauge* gauge) : gauge_(gauge) {}
Gauge::~Gauge() = default;

void Gauge::Set(int64_t v) { gauge_->Set(static_cast<double>(v)); }
void Gauge::Add(int64_t by) { gauge_->Increment(static_cast<double>(by)); }
int64_t Gauge::value() const { return static_cast<int64_t>(gauge_->Value()); }

namespace {

// prometheus-cpp throws on bounds that do not ascend strictly; here that is a programming error.
const std::vector<double>& CheckedBounds(const std::vector<double>& upper_bounds) {
  CHECK(std::is_sorted(upper_bounds.begin(), upper_bounds.end()) &&
        std::adjacent_find(upper_bounds.begin(), upper_bounds.end()) == upper_bounds.end())
      << "histogram bounds must ascend strictly";
  return upper_bounds;
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : owned_(std::make_unique<prometheus::Histogram>(CheckedBounds(upper_bounds))),
      histogram_(owned_.get()) {}
Histogram::Histogram(prometheus::Histogram* histogram) : histogram_(histogram) {}
Histogram::~Histogram() = default;

void Histogram::Observe(double value) {
  // The library would count NaN in the +Inf bucket and make the sum NaN for good.
  if (std::isnan(value)) return;
  histogram_->Observe(value);
}

Histogram::Snapshot Histogram::Take() const {
  // Collect() reads every bucket and the sum under the histogram's lock; its last bucket is +Inf.
  const prometheus::ClientMetric metric = histogram_->Collect();
  Snapshot s;
  for (const auto& bucket : metric.histogram.bucket) {
    if (!std::isinf(bucket.upper_bound)) s.upper_bounds.push_back(bucket.upper_bound);
    s.cumulative.push_back(bucket.cumulative_count);
  }
  s.count = metric.histogram.sample_count;
  s.sum = metric.histogram.sample_sum;
  return s;
}

const std::vector<double>& LatencyBuckets() {
  static const auto* buckets = new std::vector<double>{
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
      0.025,   0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,     10};
  return *buckets;
}

struct Registry::Family {
  int kind = kCounter;
  std::vector<std::string> label_names;  // in the order registered (the export order)
  std::vector<double> bounds;            // histograms
  // The library's family of this name (one of the three, by kind); it owns the metrics.
  prometheus::Family<prometheus::Counter>* counter_family = nullptr;
  prometheus::Family<prometheus::Gauge>* gauge_family = nullptr;
  prometheus::Family<prometheus::Histogram>* histogram_family = nullptr;
  // Our handles by label values. Owned here, never freed while the registry lives.
  std::map<std::vector<std::string>, std::unique_ptr<Counter>> counters;
  std::map<std::vector<std::string>, std::unique_ptr<metrics::Gauge>> gauges;
  std::map<std::vector<std::string>, std::unique_ptr<Histogram>> histograms;
};

Registry::Registry() : prometheus_(std::make_unique<prometheus::Registry>()) {}
Registry::~Registry() = default;

Registry::Family* Registry::FamilyFor(const std::string& name, const std::string& help,
                                      int kind, const Labels& labels) {
  // Checked here rather than left to the library, which would throw (and so abort with less
  // to say) or, for the last three, accept.
  CHECK(IsValidMetricName(name)) << "bad metric name " << name;
  for (const auto& label : labels) {
    CHECK(IsValidLabelName(label.first)) << "bad label name " << label.first << " of " << name;
    CHECK(!(kind == kHistogram && label.first == "le")) << name << ": le is reserved";
  }
  CHECK(!HasDuplicateNames(labels)) << name << " with a label given twice";
  auto it = families_.find(name);
  if (it != families_.end()) {
    CHECK_EQ(it->second->kind, kind) << name << " registered as two kinds";
    CHECK(it->second->label_names == LabelNames(labels)) << name << " with other label names";
    return it->second.get();
  }
  CHECK(!ClashesWith(name, kind, families_, [](const auto& f) { return f->kind; }))
      << name << " clashes with a histogram's _bucket/_sum/_count series";
  auto family = std::make_unique<Family>();
  family->kind = kind;
  family->label_names = LabelNames(labels);
  const std::string escaped_help = EscapeHelp(help);
  switch (kind) {
    case kCounter:
      family->counter_family =
          &prometheus::BuildCounter().Name(name).Help(escaped_help).Register(*prometheus_);
      break;
    case kGauge:
      family->gauge_family =
          &prometheus::BuildGauge().Name(name).Help(escaped_help).Register(*prometheus_);
      break;
    default:
      family->histogram_family =
          &prometheus::BuildHistogram().Name(name).Help(escaped_help).Register(*prometheus_);
      break;
  }
  return families_.emplace(name, std::move(family)).first->second.get();
}

Counter* Registry::GetCounter(const std::string& name, const std::string& help,
                              const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  Family* family = FamilyFor(name, help, kCounter, labels);
  auto& slot = family->counters[LabelValues(labels)];
  if (slot == nullptr) {
    slot.reset(new Counter(&family->counter_family->Add(ToPrometheus(labels))));
  }
  return slot.get();
}

Gauge* Registry::GetGauge(const std::string& name, const std::string& help,
                          const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  Family* family = FamilyFor(name, help, kGauge, labels);
  auto& slot = family->gauges[LabelValues(labels)];
  if (slot == nullptr) {
    slot.reset(new metrics::Gauge(&family->gauge_family->Add(ToPrometheus(labels))));
  }
  return slot.get();
}

Histogram* Registry::GetHistogram(const std::string& name, const std::string& help,
                                  const std::vector<double>& upper_bounds,
                                  const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  Family* family = FamilyFor(name, help, kHistogram, labels);
  if (family->histograms.empty()) {
    family->bounds = CheckedBounds(upper_bounds);
  } else {
    CHECK(family->bounds == upper_bounds) << name << " with other bucket bounds";
  }
  auto& slot = family->histograms[LabelValues(labels)];
  if (slot == nullptr) {
    slot.reset(new Histogram(&family->histogram_family->Add(
        ToPrometheus(labels), prometheus::Histogram::BucketBoundaries(upper_bounds))));
  }
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
  // Collectors run first, under collectors_mu_ only: they may register metrics (mu_).
  GroupingWriter collected;
  std::lock_guard<std::mutex> collectors_lock(collectors_mu_);
  for (const auto& [id, collector] : collectors_) collector(collected);

  std::vector<prometheus::MetricFamily> families;
  {
    std::lock_guard<std::mutex> lock(mu_);
    families = prometheus_->Collect();
    for (prometheus::MetricFamily& family : families) {
      auto it = families_.find(family.name);
      if (it != families_.end()) RestoreLabelOrder(it->second->label_names, &family.metric);
    }
    for (auto& [name, gathered] : collected.families) {
      if (families_.count(name) != 0) {
        LOG_EVERY_N(ERROR, 100) << "metric " << name << " both registered and collected; "
                                << "the collected samples are dropped";
        continue;
      }
      if (ClashesWith(name, gathered.kind, families_, [](const auto& f) { return f->kind; })) {
        LOG_EVERY_N(ERROR, 100) << "collected metric " << name
                                << " clashes with a histogram's series; dropped";
        continue;
      }
      prometheus::MetricFamily family;
      family.name = name;
      family.help = EscapeHelp(gathered.help);
      family.type =
          gathered.kind == kCounter ? prometheus::MetricType::Counter : prometheus::MetricType::Gauge;
      for (const auto& [labels, value] : gathered.samples) {
        prometheus::ClientMetric metric;
        for (const auto& [label_name, label_value] : labels) {
          metric.label.push_back({label_name, label_value});  // in the collector's order
        }
        if (gathered.kind == kCounter) {
          metric.counter.value = value;
        } else {
          metric.gauge.value = value;
        }
        family.metric.push_back(std::move(metric));
      }
      families.push_back(std::move(family));
    }
  }
  std::sort(families.begin(), families.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  std::ostringstream out;
  out.imbue(std::locale::classic());  // no digit grouping, whatever the global locale
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

Registry& DefaultRegistry() {
  static auto* registry = new Registry();
  return *registry;
}

bool IsValidMetricName(const std::string& name) { return prometheus::CheckMetricName(name); }

bool IsValidLabelName(const std::string& name) { return prometheus::CheckLabelName(name); }

}  // namespace talus::metrics
