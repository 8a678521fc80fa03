#pragma once
// Process-wide metrics, exported in the Prometheus text format on /metrics.
//
// Counted where things happen: a hot path holds a pointer to its Counter or Histogram (looked up
// once, never freed) and updates it with relaxed atomics, no lock. Values that already live
// elsewhere (block map sizes, queue lengths, capacity) are not mirrored: a collector reads them
// at scrape time.
//
//   static metrics::Counter* const written = metrics::DefaultRegistry().GetCounter(
//       "talus_datanode_bytes_written_total", "Bytes of block data received and stored.");
//   written->Increment(n);
//
// Names follow Prometheus conventions: talus_<daemon>_<what>_<unit>, counters end in _total,
// durations are in seconds. A name or label that breaks the text format's rules is a programming
// error (CHECK). Label values are escaped on export; keep their number bounded (no paths, no
// block ids).
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace talus::metrics {

// {{"method", "create"}, {"server", "client"}}: label name, value. Order is kept on export.
using Labels = std::vector<std::pair<std::string, std::string>>;

// Monotonic; only grows (a restart of the process starts it again at 0, as Prometheus expects).
class Counter {
 public:
  // `by` must not be negative (a counter that went down would read as a restart).
  void Increment(int64_t by = 1) { value_.fetch_add(by, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// A value that goes up and down, set where it changes.
class Gauge {
 public:
  void Set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  void Add(int64_t by) { value_.fetch_add(by, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// Cumulative-bucket histogram. Bucket bounds are fixed at creation, ascending; +Inf is implied.
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  // NaN is ignored (it would poison the sum for good).
  void Observe(double value);

  struct Snapshot {
    std::vector<double> upper_bounds;      // without +Inf
    std::vector<uint64_t> cumulative;      // one per bound, then one for +Inf (== count)
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot Take() const;

 private:
  const std::vector<double> upper_bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // non-cumulative, size bounds + 1
  std::atomic<uint64_t> sum_bits_{0};  // a double, updated by compare-and-swap
  // The count is the sum of the buckets (read at Take), so it is never out of step with them.
};

// Seconds, 50 µs to 10 s: RPCs, journal syncs, disk writes.
const std::vector<double>& LatencyBuckets();

// What a collector writes at scrape time. Each call is one sample; samples of one family must
// come from one collector, and a family's TYPE and HELP are given with its first sample.
class SampleWriter {
 public:
  virtual ~SampleWriter() = default;
  virtual void Gauge(const std::string& name, const std::string& help, const Labels& labels,
                     double value) = 0;
  virtual void Counter(const std::string& name, const std::string& help, const Labels& labels,
                       double value) = 0;
};

class Registry {
 public:
  Registry();   // out of line, as the destructor
  ~Registry();  // Family is defined in the .cc
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // The metric of this name and labels, created on first use; the pointer stays valid for the
  // registry's life. Every call for one name must give the same kind, help and label names.
  Counter* GetCounter(const std::string& name, const std::string& help,
                      const Labels& labels = {});
  Gauge* GetGauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram* GetHistogram(const std::string& name, const std::string& help,
                          const std::vector<double>& upper_bounds, const Labels& labels = {});

  // Called at every scrape, in the order added. Returns an id for RemoveCollector (a collector
  // reading an object must be removed before the object dies: RemoveCollector waits for a scrape
  // running it). A collector may call Get* of this registry, but not Add/RemoveCollector or
  // ExportText. A family both registered and collected is exported as registered only; a
  // collected sample repeating an earlier one's name and labels is dropped (both logged).
  using Collector = std::function<void(SampleWriter&)>;
  int AddCollector(Collector collector);
  void RemoveCollector(int id);

  // The registered counters of family `name` with their labels (none if unknown): for code that
  // derives figures from the counts, e.g. the status page's operations per second.
  std::vector<std::pair<Labels, int64_t>> CounterValues(const std::string& name) const;

  // Everything, in the Prometheus text exposition format 0.0.4 (families sorted by name).
  std::string ExportText() const;

 private:
  struct Family;
  Family* FamilyFor(const std::string& name, const std::string& help, int kind,
                    const Labels& labels);

  // Lock order: collectors_mu_ before mu_. Collectors run under collectors_mu_ only, so they may
  // register metrics.
  mutable std::mutex collectors_mu_;
  std::map<int, Collector> collectors_;  // guarded by collectors_mu_
  int next_collector_id_ = 1;            // guarded by collectors_mu_
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Family>> families_;  // guarded by mu_
};

// The registry a daemon exports on /metrics.
Registry& DefaultRegistry();

// Whether `name` may be a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) or a label name
// ([a-zA-Z_][a-zA-Z0-9_]*, not starting with "__").
bool IsValidMetricName(const std::string& name);
bool IsValidLabelName(const std::string& name);

}  // namespace talus::metrics
