// The strict Prometheus text-format parser the /metrics tests rely on: it reads good
// expositions back exactly, and demonstrably refuses each kind of bad one.
#include "test/support/prometheus_text.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cmath>

namespace talus::test {
namespace {

TEST(PrometheusTextTest, ParsesFamiliesSamplesAndValues) {
  const std::string text =
      "# A plain comment.\n"
      "# HELP talus_x_total Things done,\\nin two lines \\\\ with a backslash.\n"
      "# TYPE talus_x_total counter\n"
      "talus_x_total{op=\"create\",path=\"a\\\"b\\\\c\\nd\"} 12\n"
      "talus_x_total{op=\"delete\",} 3 1700000000000\n"
      "\n"
      "# TYPE talus_g gauge\n"
      "talus_g -1.5e-3\n"
      "talus_untyped{a=\"1\"} NaN\n"
      "# TYPE talus_h histogram\n"
      "talus_h_bucket{m=\"x\",le=\"0.5\"} 1\n"
      "talus_h_bucket{m=\"x\",le=\"1\"} 2\n"
      "talus_h_bucket{m=\"x\",le=\"+Inf\"} 3\n"
      "talus_h_sum{m=\"x\"} 4.25\n"
      "talus_h_count{m=\"x\"} 3\n"
      "talus_h_bucket{m=\"y\",le=\"0.5\"} 0\n"
      "talus_h_bucket{m=\"y\",le=\"1\"} 0\n"
      "talus_h_bucket{m=\"y\",le=\"+Inf\"} 0\n"
      "talus_h_sum{m=\"y\"} 0\n"
      "talus_h_count{m=\"y\"} 0\n"
      "# TYPE talus_s summary\n"
      "talus_s{quantile=\"0.5\"} 1\n"
      "talus_s_sum 10\n"
      "talus_s_count 4\n"
      "talus_g2 +Inf\n";
  auto parsed = ParsePrometheusText(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const PromExposition& e = *parsed;
  ASSERT_EQ(e.families.size(), 6u);
  const PromFamily* x = e.Family("talus_x_total");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->type, "counter");
  EXPECT_EQ(x->help, "Things done,\nin two lines \\ with a backslash.");
  ASSERT_EQ(x->samples.size(), 2u);
  EXPECT_EQ(x->samples[0].Label("path"), "a\"b\\c\nd");
  EXPECT_EQ(x->samples[1].timestamp_ms, 1700000000000);
  EXPECT_EQ(e.Value("talus_x_total", {{"path", "a\"b\\c\nd"}, {"op", "create"}}), 12);
  EXPECT_EQ(e.Value("talus_g"), -0.0015);
  EXPECT_TRUE(std::isnan(*e.Value("talus_untyped", {{"a", "1"}})));
  EXPECT_EQ(e.Family("talus_untyped")->type, "untyped");
  EXPECT_EQ(e.Family("talus_h")->type, "histogram");
  EXPECT_EQ(e.Family("talus_h")->samples.size(), 10u);
  EXPECT_EQ(e.Value("talus_h_count", {{"m", "x"}}), 3);
  EXPECT_EQ(e.Sum("talus_h_count"), 3);
  EXPECT_EQ(e.Count("talus_h_bucket", {{"m", "y"}}), 3u);
  EXPECT_TRUE(std::isinf(*e.Value("talus_g2")));
  EXPECT_FALSE(e.Value("talus_x_total").has_value());  // labels must match exactly
}

TEST(PrometheusTextTest, EmptyTextIsValid) {
  auto parsed = ParsePrometheusText("");
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->families.empty());
}

struct BadCase {
  const char* what;
  const char* text;
  const char* error;  // part of the message
};

class PrometheusTextBadTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(PrometheusTextBadTest, Refused) {
  const BadCase& c = GetParam();
  auto parsed = ParsePrometheusText(c.text);
  ASSERT_FALSE(parsed.ok()) << c.what << " was accepted:\n" << c.text;
  EXPECT_NE(parsed.status().message().find(c.error), std::string::npos)
      << c.what << ": " << parsed.status();
}

// A valid histogram, for cases that break one thing in it.
#define HIST_HEAD "# TYPE h histogram\n"

const BadCase kBadCases[] = {
    {"metric name starting with a digit", "1abc 1\n", "bad metric name"},
    {"metric name with a dash", "a-b 1\n", "no value"},
    {"bad metric name in TYPE", "# TYPE a-b counter\n", "bad metric name"},
    {"label name with a dash", "a{b-c=\"1\"} 1\n", "bad label name"},
    {"label name starting with __", "a{__x=\"1\"} 1\n", "bad label name"},
    {"label name starting with a digit", "a{1x=\"1\"} 1\n", "bad label name"},
    {"label given twice", "a{x=\"1\",x=\"2\"} 1\n", "twice"},
    {"unquoted label value", "a{x=1} 1\n", "not quoted"},
    {"single-quoted label value", "a{x='1'} 1\n", "not quoted"},
    {"bad escape in label value", "a{x=\"\\t\"} 1\n", "bad escape"},
    {"unterminated label value", "a{x=\"1} 1\n", "unterminated"},
    {"missing brace", "a{x=\"1\" 1\n", "expected ','"},
    {"bad escape in HELP", "# HELP a text \\\" quote\n", "bad escape"},
    {"duplicate series", "a{x=\"1\",y=\"2\"} 1\na{y=\"2\",x=\"1\"} 2\n", "twice"},
    {"duplicate series without labels", "# TYPE a gauge\na 1\na 2\n", "twice"},
    {"TYPE after samples", "a 1\n# TYPE a gauge\n", "TYPE of a after its samples"},
    {"TYPE twice", "# TYPE a gauge\n# TYPE a gauge\n", "second TYPE"},
    {"HELP twice", "# HELP a x\n# HELP a y\n", "second HELP"},
    {"samples not contiguous", "# TYPE a gauge\na{x=\"1\"} 1\nb 1\na{x=\"2\"} 1\n", "contiguous"},
    {"HELP of another name in the middle",
     "# TYPE a gauge\na{x=\"1\"} 1\n# HELP b other\na{x=\"2\"} 1\n", "contiguous"},
    {"TYPE of another name in the middle", "# TYPE a gauge\n# TYPE b gauge\na 1\n", "contiguous"},
    {"metadata of a family already left", "# TYPE a gauge\na 1\nb 1\n# HELP a late\n",
     "contiguous"},
    {"unknown TYPE", "# TYPE a countr\n", "unknown TYPE"},
    {"text after TYPE", "# TYPE a counter extra\n", "text after"},
    {"non-numeric value", "a 1,5\n", "not a number"},
    {"word as value", "a abc\n", "not a number"},
    {"hex value", "a 0x10\n", "not a number"},
    {"lower-case inf", "a inf\n", "not a number"},
    {"missing value", "a\n", "no value"},
    {"non-integer timestamp", "a 1 1.5\n", "timestamp"},
    {"text after timestamp", "a 1 2 3\n", "after the timestamp"},
    {"negative counter", "# TYPE a_total counter\na_total -1\n", "counter a_total is -1"},
    {"NaN counter", "# TYPE a_total counter\na_total NaN\n", "counter a_total is NaN"},
    {"carriage return", "a 1\r\n", "carriage return"},
    {"no final line feed", "a 1", "line feed"},
    {"histogram without +Inf", HIST_HEAD "h_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n", "+Inf"},
    {"histogram +Inf not last",
     HIST_HEAD "h_bucket{le=\"+Inf\"} 1\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n", "not above"},
    {"histogram buckets not cumulative",
     HIST_HEAD "h_bucket{le=\"1\"} 2\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"+Inf\"} 2\n"
               "h_sum 1\nh_count 2\n",
     "not cumulative"},
    {"histogram le not ascending",
     HIST_HEAD "h_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\n"
               "h_sum 1\nh_count 1\n",
     "not above"},
    {"histogram le repeated with other labels order",
     HIST_HEAD "h_bucket{a=\"1\",le=\"1\"} 1\nh_bucket{le=\"1\",a=\"1\"} 1\n", "twice"},
    {"histogram le not a number",
     HIST_HEAD "h_bucket{le=\"one\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
     "le \"one\""},
    {"histogram bucket without le",
     HIST_HEAD "h_bucket 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n", "without le"},
    {"histogram _count differs from +Inf",
     HIST_HEAD "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n", "differs"},
    {"histogram without _sum", HIST_HEAD "h_bucket{le=\"+Inf\"} 2\nh_count 2\n", "no _sum"},
    {"histogram without _count", HIST_HEAD "h_bucket{le=\"+Inf\"} 2\nh_sum 2\n", "no _count"},
    {"histogram series with only _sum and _count",
     HIST_HEAD "h_bucket{m=\"a\",le=\"+Inf\"} 1\nh_sum{m=\"a\"} 1\nh_count{m=\"a\"} 1\n"
               "h_sum{m=\"b\"} 1\nh_count{m=\"b\"} 1\n",
     "+Inf"},
    {"histogram with a plain sample", HIST_HEAD "h 1\n", "in histogram"},
    {"histogram with a negative bucket",
     HIST_HEAD "h_bucket{le=\"+Inf\"} -1\nh_sum 1\nh_count -1\n", "below zero"},
    {"summary quantile out of range",
     "# TYPE s summary\ns{quantile=\"1.5\"} 1\ns_sum 1\ns_count 1\n", "quantile"},
    {"summary without _count", "# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 1\n",
     "without _sum or _count"},
};

INSTANTIATE_TEST_SUITE_P(Cases, PrometheusTextBadTest, ::testing::ValuesIn(kBadCases),
                         [](const ::testing::TestParamInfo<BadCase>& info) {
                           std::string name;
                           for (const char* p = info.param.what; *p; ++p) {
                             name += std::isalnum(static_cast<unsigned char>(*p)) ? *p : '_';
                           }
                           return name;
                         });

TEST(PrometheusTextTest, EachBadCaseIsOneMistakeAwayFromGood) {
  // The histogram the bad cases break, whole: accepted.
  auto parsed = ParsePrometheusText(HIST_HEAD
                                    "h_bucket{le=\"1\"} 1\nh_bucket{le=\"2\"} 2\n"
                                    "h_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 2\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  // So are the neighbours of other cases.
  for (const char* good :
       {"a{x=\"1\"} 1\n", "a{x=\"\\\\\"} 1\n", "# HELP a text \\\\ \\n\n",
        "# TYPE a gauge\na{x=\"1\"} 1\na{x=\"2\"} 1\nb 1\n", "# TYPE a_total counter\na_total 0\n",
        "a 1 2\n", "a 1e3\n", "a -Inf\n", "a .5\n", "# TYPE a counter\n# HELP a x\na 1\n"}) {
    auto p = ParsePrometheusText(good);
    EXPECT_TRUE(p.ok()) << good << ": " << p.status();
  }
}

}  // namespace
}  // namespace talus::test
