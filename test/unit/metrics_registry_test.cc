// The metrics registry: what /metrics shows for counters, gauges, histograms and collectors,
// checked through the strict text-format parser the integration tests use.
#include <gtest/gtest.h>

#include <cmath>
#include <thread>
#include <vector>

#include "common/metrics/metrics.h"
#include "test/support/prometheus_text.h"

namespace talus::metrics {
namespace {

using test::ParsePrometheusText;
using test::PromExposition;

PromExposition Parse(const Registry& registry) {
  const std::string text = registry.ExportText();
  auto parsed = ParsePrometheusText(text);
  EXPECT_TRUE(parsed.ok()) << parsed.status() << "\n" << text;
  return parsed.ok() ? *parsed : PromExposition{};
}

TEST(MetricsRegistryTest, CountersAndGaugesExportWithHelpAndType) {
  Registry r;
  Counter* ops = r.GetCounter("talus_test_ops_total", "Operations done.", {{"op", "create"}});
  ops->Increment();
  ops->Increment(41);
  r.GetCounter("talus_test_ops_total", "Operations done.", {{"op", "delete"}})->Increment(2);
  Gauge* open = r.GetGauge("talus_test_open", "Open things.");
  open->Set(7);
  open->Add(-3);

  // The same name and labels give the same metric.
  EXPECT_EQ(ops, r.GetCounter("talus_test_ops_total", "Operations done.", {{"op", "create"}}));
  EXPECT_EQ(ops->value(), 42);

  const std::string text = r.ExportText();
  EXPECT_NE(text.find("# HELP talus_test_ops_total Operations done.\n"
                      "# TYPE talus_test_ops_total counter\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("talus_test_ops_total{op=\"create\"} 42\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE talus_test_open gauge\ntalus_test_open 4\n"), std::string::npos)
      << text;

  PromExposition e = Parse(r);
  ASSERT_NE(e.Family("talus_test_ops_total"), nullptr);
  EXPECT_EQ(e.Family("talus_test_ops_total")->type, "counter");
  EXPECT_EQ(e.Family("talus_test_ops_total")->help, "Operations done.");
  EXPECT_EQ(e.Value("talus_test_ops_total", {{"op", "create"}}), 42);
  EXPECT_EQ(e.Value("talus_test_ops_total", {{"op", "delete"}}), 2);
  EXPECT_EQ(e.Value("talus_test_open"), 4);
  EXPECT_EQ(e.Sum("talus_test_ops_total"), 44);
}

TEST(MetricsRegistryTest, HistogramBucketsAreCumulativeWithInfCountAndSum) {
  Registry r;
  Histogram* h = r.GetHistogram("talus_test_latency_seconds", "Latency.", {0.1, 1, 10},
                                {{"method", "create"}});
  for (double v : {0.05, 0.1, 0.5, 2.0, 20.0, 30.0}) h->Observe(v);
  h->Observe(std::nan(""));  // ignored

  const Histogram::Snapshot s = h->Take();
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{2, 3, 4, 6}));
  EXPECT_EQ(s.count, 6u);
  EXPECT_DOUBLE_EQ(s.sum, 52.65);

  PromExposition e = Parse(r);
  const test::PromFamily* f = e.Family("talus_test_latency_seconds");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->type, "histogram");
  const test::PromLabels m = {{"method", "create"}};
  EXPECT_EQ(e.Value("talus_test_latency_seconds_bucket", {{"method", "create"}, {"le", "0.1"}}),
            2);  // 0.1 itself falls in le="0.1"
  EXPECT_EQ(e.Value("talus_test_latency_seconds_bucket", {{"method", "create"}, {"le", "1"}}), 3);
  EXPECT_EQ(e.Value("talus_test_latency_seconds_bucket", {{"method", "create"}, {"le", "10"}}), 4);
  EXPECT_EQ(e.Value("talus_test_latency_seconds_bucket", {{"method", "create"}, {"le", "+Inf"}}),
            6);
  EXPECT_EQ(e.Value("talus_test_latency_seconds_count", m), 6);
  EXPECT_DOUBLE_EQ(*e.Value("talus_test_latency_seconds_sum", m), 52.65);
}

TEST(MetricsRegistryTest, LatencyBucketsPrintAsShortNumbers) {
  Registry r;
  r.GetHistogram("talus_test_seconds", "Durations.", LatencyBuckets())->Observe(0.0003);
  const std::string text = r.ExportText();
  EXPECT_NE(text.find("le=\"0.00025\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("le=\"0.0005\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("le=\"10\"} 1\n"), std::string::npos) << text;
  PromExposition e = Parse(r);
  EXPECT_EQ(e.Count("talus_test_seconds_bucket"), LatencyBuckets().size() + 1);
}

TEST(MetricsRegistryTest, LabelValuesAreEscaped) {
  Registry r;
  const std::string nasty = "a\\b\"c\nd";
  r.GetCounter("talus_test_escaped_total", "Escapes.", {{"path", nasty}})->Increment(3);
  const std::string text = r.ExportText();
  EXPECT_NE(text.find("talus_test_escaped_total{path=\"a\\\\b\\\"c\\nd\"} 3\n"), std::string::npos)
      << text;
  PromExposition e = Parse(r);
  // Parsed back to the original value.
  EXPECT_EQ(e.Value("talus_test_escaped_total", {{"path", nasty}}), 3);
}

TEST(MetricsRegistryTest, HelpIsEscaped) {
  Registry r;
  r.GetGauge("talus_test_help", "Line one\nback\\slash")->Set(1);
  const std::string text = r.ExportText();
  EXPECT_NE(text.find("# HELP talus_test_help Line one\\nback\\\\slash\n"), std::string::npos)
      << text;
  PromExposition e = Parse(r);
  ASSERT_NE(e.Family("talus_test_help"), nullptr);
  EXPECT_EQ(e.Family("talus_test_help")->help, "Line one\nback\\slash");
}

TEST(MetricsRegistryTest, CollectorsAddFamiliesAtScrapeTime) {
  Registry r;
  r.GetCounter("talus_test_b_total", "Registered.")->Increment();
  int64_t blocks = 5;
  int id = r.AddCollector([&](SampleWriter& w) {
    w.Gauge("talus_test_blocks", "Blocks known.", {}, static_cast<double>(blocks));
    w.Gauge("talus_test_nodes", "Nodes by state.", {{"state", "live"}}, 3);
    w.Gauge("talus_test_nodes", "Nodes by state.", {{"state", "dead"}}, 1);
    w.Counter("talus_test_a_total", "Collected counter.", {}, 9);
    // A repeat of a series is dropped, not exported twice.
    w.Gauge("talus_test_nodes", "Nodes by state.", {{"state", "dead"}}, 2);
  });
  PromExposition e = Parse(r);
  EXPECT_EQ(e.Value("talus_test_blocks"), 5);
  EXPECT_EQ(e.Value("talus_test_nodes", {{"state", "live"}}), 3);
  EXPECT_EQ(e.Value("talus_test_nodes", {{"state", "dead"}}), 1);
  EXPECT_EQ(e.Family("talus_test_a_total")->type, "counter");
  EXPECT_EQ(e.Value("talus_test_b_total"), 1);
  // Families come sorted by name, registered and collected alike.
  ASSERT_EQ(e.families.size(), 4u);
  EXPECT_EQ(e.families[0].name, "talus_test_a_total");
  EXPECT_EQ(e.families[1].name, "talus_test_b_total");

  blocks = 6;  // read again at the next scrape
  EXPECT_EQ(Parse(r).Value("talus_test_blocks"), 6);

  r.RemoveCollector(id);
  e = Parse(r);
  EXPECT_EQ(e.Family("talus_test_blocks"), nullptr);
  EXPECT_NE(e.Family("talus_test_b_total"), nullptr);
}

TEST(MetricsRegistryTest, CollectedFamilyClashingWithRegisteredIsDropped) {
  Registry r;
  r.GetCounter("talus_test_x_total", "Registered.")->Increment(2);
  r.GetHistogram("talus_test_h", "A histogram.", {1})->Observe(0.5);
  r.AddCollector([](SampleWriter& w) {
    w.Counter("talus_test_x_total", "Collected too.", {}, 100);
    w.Gauge("talus_test_h_count", "Clashes with the histogram's _count.", {}, 7);
  });
  PromExposition e = Parse(r);
  EXPECT_EQ(e.Value("talus_test_x_total"), 2);
  EXPECT_EQ(e.Value("talus_test_h_count"), 1);
}

TEST(MetricsRegistryTest, CollectorMayRegisterMetrics) {
  Registry r;
  r.AddCollector([&r](SampleWriter& w) {
    r.GetCounter("talus_test_scrapes_total", "Scrapes.")->Increment();
    w.Gauge("talus_test_g", "A gauge.", {}, 1);
  });
  Parse(r);
  EXPECT_EQ(Parse(r).Value("talus_test_scrapes_total"), 2);
}

TEST(MetricsRegistryTest, CounterValuesListsAFamily) {
  Registry r;
  r.GetCounter("talus_test_rpc_total", "RPCs.", {{"server", "client"}, {"method", "create"}})
      ->Increment(3);
  r.GetCounter("talus_test_rpc_total", "RPCs.", {{"server", "client"}, {"method", "mkdirs"}})
      ->Increment(4);
  auto values = r.CounterValues("talus_test_rpc_total");
  ASSERT_EQ(values.size(), 2u);
  int64_t total = 0;
  for (const auto& [labels, value] : values) {
    ASSERT_EQ(labels.size(), 2u);
    EXPECT_EQ(labels[0].first, "server");
    EXPECT_EQ(labels[1].first, "method");
    total += value;
  }
  EXPECT_EQ(total, 7);
  EXPECT_TRUE(r.CounterValues("talus_test_unknown_total").empty());
}

TEST(MetricsRegistryTest, ConcurrentUpdatesAreAllCounted) {
  Registry r;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20000;
  Counter* c = r.GetCounter("talus_test_concurrent_total", "Concurrent increments.");
  Histogram* h =
      r.GetHistogram("talus_test_concurrent_seconds", "Concurrent observations.", LatencyBuckets());
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        c->Increment();
        h->Observe(0.001 * (i % 3));
        // Some threads look up their metric every time, as a cold path would.
        if (t % 2 == 0 && i % 1000 == 0) {
          r.GetCounter("talus_test_concurrent_total", "Concurrent increments.")->Increment(0);
        }
      }
    });
  }
  // Scrapes while the threads run must parse (counts never below the +Inf bucket...).
  for (int i = 0; i < 20; ++i) Parse(r);
  for (auto& t : threads) t.join();
  PromExposition e = Parse(r);
  EXPECT_EQ(e.Value("talus_test_concurrent_total"), kThreads * kPerThread);
  EXPECT_EQ(e.Value("talus_test_concurrent_seconds_count"), kThreads * kPerThread);
  // Each thread observed 0, 0.001, 0.002 in turn: the sum is exact up to rounding.
  double expected_sum = 0;
  for (int i = 0; i < kPerThread; ++i) expected_sum += kThreads * 0.001 * (i % 3);
  EXPECT_NEAR(*e.Value("talus_test_concurrent_seconds_sum"), expected_sum, 1e-6);
}

TEST(MetricsRegistryTest, NamesAreValidated) {
  EXPECT_TRUE(IsValidMetricName("talus_rpc_requests_total"));
  EXPECT_TRUE(IsValidMetricName("a:b"));
  EXPECT_FALSE(IsValidMetricName(""));
  EXPECT_FALSE(IsValidMetricName("1abc"));
  EXPECT_FALSE(IsValidMetricName("a-b"));
  EXPECT_TRUE(IsValidLabelName("method"));
  EXPECT_FALSE(IsValidLabelName("__name"));
  EXPECT_FALSE(IsValidLabelName("a:b"));
  EXPECT_FALSE(IsValidLabelName("9"));
}

TEST(MetricsRegistryDeathTest, MisuseIsAProgrammingError) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Registry r;
        r.GetCounter("bad-name", "x");
      },
      "bad metric name");
  EXPECT_DEATH(
      {
        Registry r;
        r.GetCounter("talus_test_total", "x");
        r.GetGauge("talus_test_total", "x");
      },
      "two kinds");
  EXPECT_DEATH(
      {
        Registry r;
        r.GetHistogram("talus_test_h", "x", {1});
        r.GetCounter("talus_test_h_count", "x");
      },
      "clashes");
  EXPECT_DEATH(
      {
        Registry r;
        r.GetCounter("talus_test_total", "x", {{"a", "1"}, {"a", "2"}});
      },
      "twice");
}

}  // namespace
}  // namespace talus::metrics
