#pragma once
// Process-wide metrics, exported in the Prometheus text format on /metrics. A facade over
// prometheus-cpp (core only: the registry, metrics and text serializer; /metrics is served by our
// HttpServer), so that callers keep one small API with the project's checks and conventions.
//
// Counted where things happen: a hot path holds a pointer to its Counter or Histogram (looked up
// once, never freed) and updates it without a registry lock (counters and gauges are atomics;
// a histogram takes its own short lock). Values that already live
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
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
class Registry;
}  // namespace prometheus

namespace talus::metrics {

// {{"method", "create"}, {"server", "client"}}: label name, value. Order is kept on export.
using Labels = std::vector<std::pair<std::string, std::string>>;

// The metric classes below are handles on prometheus-cpp's metrics (the library keeps and
// formats the values; this facade adds the checks and conventions above). A handle made by a
// Registry is owned by it; one constructed directly owns a metric of its own, exported nowhere.

// Monotonic; only grows (a restart of the process starts it again at 0, as Prometheus expects).
// Kept as a double by the library: exact up to 2^53.
class Counter {
 public:
  Counter();
  ~Counter();
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  // `by` must not be negative (a counter that went down would read as a restart; the library
  // ignores such an increment).
  void Increment(int64_t by = 1);
  int64_t value() const;

 private:
  friend class Registry;
  explicit Counter(prometheus::Counter* counter);
  std::unique_ptr<prometheus::Counter> owned_;  // when not made by a Registry
  prometheus::Counter* const counter_;
};

// A value that goes up and down, set where it changes.
class Gauge {
 public:
  Gauge();
  ~Gauge();
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void Set(int64_t v);
  void Add(int64_t by);
  int64_t value() const;

 private:
  friend class Registry;
  explicit Gauge(prometheus::Gauge* gauge);
  std::unique_ptr<prometheus::Gauge> owned_;  // when not made by a Registry
  prometheus::Gauge* const gauge_;
};

// Cumulative-bucket histogram. Bucket bounds are fixed at creation, ascending; +Inf is implied.
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  ~Histogram();
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // NaN is ignored (it would poison the sum for good).
  void Observe(double value);

  struct Snapshot {
    std::vector<double> upper_bounds;      // without +Inf
    std::vector<uint64_t> cumulative;      // one per bound, then one for +Inf (== count)
    double sum = 0;
    uint64_t count = 0;
  };
  // Consistent: taken under the library's lock of the histogram, so count == the +Inf bucket.
  Snapshot Take() const;

 private:
  friend class Registry;
  explicit Histogram(prometheus::Histogram* histogram);
  std::unique_ptr<prometheus::Histogram> owned_;  // when not made by a Registry
  prometheus::Histogram* const histogram_;
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

  // Everything, in the Prometheus text exposition format 0.0.4 (families sorted by name, series
  // by label values, labels in the order given at registration), written by prometheus-cpp's
  // TextSerializer.
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
  // Where the metrics live. Thread-safe by itself; mu_ orders registrations with their checks.
  const std::unique_ptr<prometheus::Registry> prometheus_;
  std::map<std::string, std::unique_ptr<Family>> families_;  // guarded by mu_
};

// The registry a daemon exports on /metrics.
Registry& DefaultRegistry();

// Whether `name` may be a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*, not starting with "__") or a
// label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with "__"): prometheus-cpp's rules.
bool IsValidMetricName(const std::string& name);
bool IsValidLabelName(const std::string& name);

}  // namespace talus::metrics
