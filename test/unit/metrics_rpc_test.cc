// The Thrift server's metrics: requests and latency per method, labels kept bounded (unknown
// and malformed method names, more methods than the limit), connections open.
#include <gtest/gtest.h>
#include <thrift/TApplicationException.h>
#include <thrift/async/TAsyncProcessor.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/metrics/metrics.h"
#include "common/rpc/async_thrift_server.h"
#include "test/support/prometheus_text.h"

namespace talus {
namespace {

using apache::thrift::TApplicationException;
using apache::thrift::protocol::TBinaryProtocol;
using apache::thrift::protocol::TMessageType;
using apache::thrift::protocol::TProtocol;
using apache::thrift::transport::TFramedTransport;
using apache::thrift::transport::TSocket;

// Knows every method whose name starts with "known" (answers an empty reply) and answers
// anything else as generated processors do: an exception message.
class FakeProcessor : public apache::thrift::async::TAsyncProcessor {
 public:
  using TAsyncProcessor::process;
  void process(std::function<void(bool)> cob, std::shared_ptr<TProtocol> in,
               std::shared_ptr<TProtocol> out) override {
    std::string name;
    TMessageType type;
    int32_t seq = 0;
    in->readMessageBegin(name, type, seq);
    in->skip(apache::thrift::protocol::T_STRUCT);
    in->readMessageEnd();
    if (name.rfind("known", 0) == 0) {
      out->writeMessageBegin(name, apache::thrift::protocol::T_REPLY, seq);
      out->writeStructBegin("result");
      out->writeFieldStop();
      out->writeStructEnd();
    } else {
      TApplicationException x(TApplicationException::UNKNOWN_METHOD,
                              "Invalid method name: '" + name + "'");
      out->writeMessageBegin(name, apache::thrift::protocol::T_EXCEPTION, seq);
      x.write(out.get());
    }
    out->writeMessageEnd();
    out->getTransport()->writeEnd();
    out->getTransport()->flush();
    cob(true);
  }
};

class Client {
 public:
  explicit Client(int port)
      : socket_(std::make_shared<TSocket>("127.0.0.1", port)),
        transport_(std::make_shared<TFramedTransport>(socket_)),
        protocol_(transport_) {
    socket_->setRecvTimeout(10000);
    transport_->open();
  }
  // Calls `method`; returns the type of message answered.
  TMessageType Call(const std::string& method) {
    protocol_.writeMessageBegin(method, apache::thrift::protocol::T_CALL, ++seq_);
    protocol_.writeStructBegin("args");
    protocol_.writeFieldStop();
    protocol_.writeStructEnd();
    protocol_.writeMessageEnd();
    transport_->flush();
    std::string name;
    TMessageType type;
    int32_t seq = 0;
    protocol_.readMessageBegin(name, type, seq);
    protocol_.skip(apache::thrift::protocol::T_STRUCT);
    protocol_.readMessageEnd();
    transport_->readEnd();
    return type;
  }
  void Close() { transport_->close(); }

 private:
  std::shared_ptr<TSocket> socket_;
  std::shared_ptr<TFramedTransport> transport_;
  TBinaryProtocol protocol_;
  int32_t seq_ = 0;
};

test::PromExposition Parse(const metrics::Registry& registry) {
  auto parsed = test::ParsePrometheusText(registry.ExportText());
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return parsed.ok() ? *parsed : test::PromExposition{};
}

std::unique_ptr<AsyncThriftServer> StartServer(metrics::Registry* registry,
                                               const std::string& name) {
  AsyncThriftServerOptions options;
  options.metrics_name = name;
  options.metrics_registry = registry;
  auto server = AsyncThriftServer::Start(std::make_shared<FakeProcessor>(), options);
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? std::move(*server) : nullptr;
}

bool WaitFor(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

TEST(RpcMetricsTest, CountsAndTimesEachMethod) {
  metrics::Registry registry;
  auto server = StartServer(&registry, "test");
  ASSERT_NE(server, nullptr);
  Client client(server->port());
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(client.Call("knownCreate"), apache::thrift::protocol::T_REPLY);
  for (int i = 0; i < 2; ++i)
    EXPECT_EQ(client.Call("knownMkdirs"), apache::thrift::protocol::T_REPLY);

  test::PromExposition e = Parse(registry);
  const test::PromLabels create = {{"server", "test"}, {"method", "knownCreate"}};
  EXPECT_EQ(e.Value("talus_rpc_requests_total", create), 5);
  EXPECT_EQ(e.Value("talus_rpc_latency_seconds_count", create), 5);
  EXPECT_GT(*e.Value("talus_rpc_latency_seconds_sum", create), 0);
  EXPECT_EQ(e.Value("talus_rpc_requests_total", {{"server", "test"}, {"method", "knownMkdirs"}}),
            2);
  EXPECT_EQ(e.Value("talus_rpc_open_connections", {{"server", "test"}}), 1);
  EXPECT_EQ(e.Value("talus_rpc_connections_total", {{"server", "test"}}), 1);

  client.Close();
  EXPECT_TRUE(WaitFor([&] {
    return Parse(registry).Value("talus_rpc_open_connections", {{"server", "test"}}) == 0;
  }));
}

TEST(RpcMetricsTest, UnknownAndMalformedNamesMakeNoLabels) {
  metrics::Registry registry;
  auto server = StartServer(&registry, "test");
  ASSERT_NE(server, nullptr);
  Client client(server->port());
  // Answered with an exception: never a label of its own, however often it comes.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(client.Call("madeUpMethod"), apache::thrift::protocol::T_EXCEPTION);
  }
  // Not identifiers, or too long: not even looked at.
  EXPECT_EQ(client.Call("known but spaced"), apache::thrift::protocol::T_REPLY);
  EXPECT_EQ(client.Call("known\"quote\n"), apache::thrift::protocol::T_REPLY);
  EXPECT_EQ(client.Call("known" + std::string(60, 'x')), apache::thrift::protocol::T_REPLY);
  EXPECT_EQ(client.Call("knownFine"), apache::thrift::protocol::T_REPLY);

  test::PromExposition e = Parse(registry);
  EXPECT_EQ(e.Value("talus_rpc_requests_total", {{"server", "test"}, {"method", "unknown"}}), 6);
  EXPECT_EQ(e.Value("talus_rpc_requests_total", {{"server", "test"}, {"method", "knownFine"}}), 1);
  // unknown, other, knownFine: nothing else.
  EXPECT_EQ(e.Count("talus_rpc_requests_total", {{"server", "test"}}), 3u);
}

TEST(RpcMetricsTest, MethodsBeyondTheLimitCountAsOther) {
  metrics::Registry registry;
  auto server = StartServer(&registry, "test");
  ASSERT_NE(server, nullptr);
  Client client(server->port());
  constexpr int kNames = 300;  // above the limit of 256 methods per server
  for (int i = 0; i < kNames; ++i) {
    ASSERT_EQ(client.Call("known" + std::to_string(i)), apache::thrift::protocol::T_REPLY);
  }
  ASSERT_EQ(client.Call("known0"), apache::thrift::protocol::T_REPLY);  // learned: its own label
  test::PromExposition e = Parse(registry);
  EXPECT_EQ(e.Count("talus_rpc_requests_total", {{"server", "test"}}), 256u + 2);
  EXPECT_EQ(e.Value("talus_rpc_requests_total", {{"server", "test"}, {"method", "other"}}),
            kNames - 256);
  EXPECT_EQ(e.Value("talus_rpc_requests_total", {{"server", "test"}, {"method", "known0"}}), 2);
  EXPECT_EQ(e.Sum("talus_rpc_requests_total", {{"server", "test"}}), kNames + 1);
  EXPECT_EQ(e.Sum("talus_rpc_latency_seconds_count", {{"server", "test"}}), kNames + 1);
}

TEST(RpcMetricsTest, ConcurrentClientsOnSeveralLoopsAreAllCounted) {
  metrics::Registry registry;
  AsyncThriftServerOptions options;
  options.metrics_name = "test";
  options.metrics_registry = &registry;
  options.io_threads = 3;
  auto started = AsyncThriftServer::Start(std::make_shared<FakeProcessor>(), options);
  ASSERT_TRUE(started.ok()) << started.status();
  std::unique_ptr<AsyncThriftServer> server = std::move(*started);
  constexpr int kClients = 6;
  constexpr int kCalls = 200;
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&] {
      Client client(server->port());
      for (int i = 0; i < kCalls; ++i) {
        // Every loop learns the same methods at once; the odd calls are unknown.
        const std::string method = i % 4 == 3 ? "nope" : (i % 2 == 0 ? "knownA" : "knownB");
        const TMessageType want = method == "nope" ? apache::thrift::protocol::T_EXCEPTION
                                                   : apache::thrift::protocol::T_REPLY;
        if (client.Call(method) != want) wrong.fetch_add(1);
      }
    });
  }
  // Scrapes while the calls run: always valid.
  for (int i = 0; i < 20; ++i) Parse(registry);
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  test::PromExposition e = Parse(registry);
  EXPECT_EQ(e.Value("talus_rpc_requests_total", {{"server", "test"}, {"method", "knownA"}}),
            kClients * kCalls / 2);
  EXPECT_EQ(e.Value("talus_rpc_requests_total", {{"server", "test"}, {"method", "knownB"}}),
            kClients * kCalls / 4);
  EXPECT_EQ(e.Value("talus_rpc_requests_total", {{"server", "test"}, {"method", "unknown"}}),
            kClients * kCalls / 4);
  EXPECT_EQ(e.Count("talus_rpc_requests_total", {{"server", "test"}}), 4u);
  EXPECT_EQ(e.Sum("talus_rpc_latency_seconds_count", {{"server", "test"}}), kClients * kCalls);
}

TEST(RpcMetricsTest, NoMetricsWithoutAName) {
  metrics::Registry registry;
  auto server = StartServer(&registry, "");
  ASSERT_NE(server, nullptr);
  Client client(server->port());
  EXPECT_EQ(client.Call("knownCreate"), apache::thrift::protocol::T_REPLY);
  EXPECT_EQ(registry.ExportText(), "");
}

}  // namespace
}  // namespace talus
