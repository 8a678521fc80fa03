// AsyncThriftServer against the generated synchronous ClientNamenode client: answers inline and
// from another thread, errors, bad frames, disconnects and Stop() with completions pending.
#include "common/rpc/async_thrift_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <future>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>
#include <thrift/transport/TTransportException.h>

#include "common/rpc/thrift_server.h"
#include "talus_rpc/ClientNamenode.h"

namespace talus {
namespace {

using apache::thrift::TDelayedException;
using apache::thrift::protocol::TBinaryProtocol;
using apache::thrift::transport::TBufferedTransport;
using apache::thrift::transport::TFramedTransport;
using apache::thrift::transport::TMemoryBuffer;
using apache::thrift::transport::TSocket;
using apache::thrift::transport::TTransportException;
using namespace std::chrono_literals;

constexpr int kClientTimeoutMs = 20000;

// Waits for a condition, polling, until a deadline.
bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// Runs tasks on its own thread, in order; can hold them back to keep completions pending.
// Destruction runs whatever is still queued.
class Completer {
 public:
  Completer() : thread_([this] { Run(); }) {}
  ~Completer() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      paused_ = false;
    }
    cv_.notify_all();
    thread_.join();
  }

  void Add(std::function<void()> task) {
    std::lock_guard<std::mutex> lock(mu_);
    tasks_.push_back(std::move(task));
    cv_.notify_all();
  }
  void Pause() {
    std::lock_guard<std::mutex> lock(mu_);
    paused_ = true;
  }
  void Resume() {
    std::lock_guard<std::mutex> lock(mu_);
    paused_ = false;
    cv_.notify_all();
  }
  bool WaitForQueued(size_t n, std::chrono::seconds timeout = 10s) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return tasks_.size() >= n; });
  }
  bool WaitUntilIdle(std::chrono::seconds timeout = 10s) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return tasks_.empty() && !running_; });
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock,
               [&] { return (!paused_ && !tasks_.empty()) || (stopping_ && tasks_.empty()); });
      if (tasks_.empty()) return;
      std::function<void()> task = std::move(tasks_.front());
      tasks_.pop_front();
      running_ = true;
      lock.unlock();
      task();
      task = nullptr;  // the captured completion goes now, off the lock
      lock.lock();
      running_ = false;
      cv_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool paused_ = false;
  bool stopping_ = false;
  bool running_ = false;
  std::thread thread_;
};

// ping answers inline with the caller's call id; mkdirs answers later from the completer, with
// true, or with NOT_FOUND for "/fail".
class TestHandler : public rpc::ClientNamenodeCobSvNull {
 public:
  explicit TestHandler(Completer* completer) : completer_(completer) {}

  void ping(std::function<void(const rpc::Timespec&)> cob,
            std::function<void(TDelayedException*)> /*exn_cob*/,
            const rpc::RequestHeader& h) override {
    rpc::Timespec t;
    t.sec = h.call_id;
    t.nsec = 7;
    cob(t);
  }

  void mkdirs(std::function<void(const bool&)> cob, std::function<void(TDelayedException*)> exn_cob,
              const rpc::RequestHeader& /*h*/, const std::string& path, int32_t /*mode*/,
              bool /*create_parent*/) override {
    completer_->Add([cob = std::move(cob), exn_cob = std::move(exn_cob), path] {
      if (path == "/fail") {
        rpc::TalusError e;
        e.code = rpc::ErrorCode::NOT_FOUND;
        e.message = "no such directory: " + path;
        exn_cob(TDelayedException::delayException(e));
      } else {
        cob(true);
      }
    });
  }

 private:
  Completer* completer_;
};

// The same for the thread-per-connection server: mkdirs waits for the completer, as a
// synchronous handler waits for the journal.
class SyncHandler : public rpc::ClientNamenodeNull {
 public:
  explicit SyncHandler(Completer* completer) : completer_(completer) {}
  void ping(rpc::Timespec& _return, const rpc::RequestHeader& h) override {
    _return.sec = h.call_id;
    _return.nsec = 7;
  }
  bool mkdirs(const rpc::RequestHeader& /*h*/, const std::string& /*path*/, int32_t /*mode*/,
              bool /*create_parent*/) override {
    std::promise<bool> done;
    completer_->Add([&done] { done.set_value(true); });
    return done.get_future().get();
  }

 private:
  Completer* completer_;
};

rpc::RequestHeader Header(int64_t call_id) {
  rpc::RequestHeader h;
  h.user = "tester";
  h.client_id = std::string(16, 'c');
  h.call_id = call_id;
  return h;
}

// A client as Talus builds them: framed over buffered over a socket.
struct TestClient {
  explicit TestClient(int port) {
    socket = std::make_shared<TSocket>("127.0.0.1", port);
    socket->setRecvTimeout(kClientTimeoutMs);
    socket->setSendTimeout(kClientTimeoutMs);
    transport = std::make_shared<TFramedTransport>(std::make_shared<TBufferedTransport>(socket));
    client =
        std::make_unique<rpc::ClientNamenodeClient>(std::make_shared<TBinaryProtocol>(transport));
    transport->open();
  }
  int64_t Ping(int64_t call_id) {
    rpc::Timespec t;
    client->ping(t, Header(call_id));
    EXPECT_EQ(t.nsec, 7);
    return t.sec;
  }
  bool Mkdirs(const std::string& path) { return client->mkdirs(Header(1), path, 0755, false); }

  std::shared_ptr<TSocket> socket;
  std::shared_ptr<TFramedTransport> transport;
  std::unique_ptr<rpc::ClientNamenodeClient> client;
};

// The bytes a client sends for one call, frame header included.
std::string FramedCall(const std::function<void(rpc::ClientNamenodeClient&)>& send) {
  auto memory = std::make_shared<TMemoryBuffer>();
  auto framed = std::make_shared<TFramedTransport>(memory);
  rpc::ClientNamenodeClient client(std::make_shared<TBinaryProtocol>(framed));
  send(client);
  return memory->getBufferAsString();
}

std::string BigEndian32(uint32_t v) {
  uint32_t be = htonl(v);
  return std::string(reinterpret_cast<const char*>(&be), sizeof be);
}

// A plain TCP connection for sending bytes no Thrift client would.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    timeval tv{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~RawConnection() { ::close(fd_); }
  bool connected() const { return connected_; }
  bool Send(const std::string& bytes) {
    ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    return sent == static_cast<ssize_t>(bytes.size());
  }
  void ShutdownWrite() { ::shutdown(fd_, SHUT_WR); }
  // True once the server has closed the connection; false if it stays open for 10 s. What
  // arrived before the close goes to *received.
  bool WaitForClose(std::string* received = nullptr) {
    char buf[4096];
    for (;;) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;  // EAGAIN: the timeout passed
      if (received != nullptr) received->append(buf, static_cast<size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

class AsyncThriftServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(AsyncThriftServerOptions()); }
  void TearDown() override {
    if (server_) server_->Stop();
  }
  void StartServer(const AsyncThriftServerOptions& options) {
    if (server_) server_->Stop();
    auto handler = std::make_shared<TestHandler>(&completer_);
    auto result = AsyncThriftServer::Start(
        std::make_shared<rpc::ClientNamenodeAsyncProcessor>(handler), options);
    ASSERT_TRUE(result.ok()) << result.status();
    server_ = std::move(result).value();
    ASSERT_GT(server_->port(), 0);
  }
  int port() const { return server_->port(); }

  // Declared first so that it outlives the server: completions may run after Stop().
  Completer completer_;
  std::unique_ptr<AsyncThriftServer> server_;
};

TEST_F(AsyncThriftServerTest, AnswersInlineAndLaterCompletions) {
  TestClient client(port());
  EXPECT_EQ(client.Ping(42), 42);
  EXPECT_TRUE(client.Mkdirs("/a"));
  EXPECT_EQ(client.Ping(43), 43);
  EXPECT_EQ(server_->open_connections(), 1);
}

TEST_F(AsyncThriftServerTest, ManyConcurrentClientsGetTheirOwnAnswers) {
  constexpr int kThreads = 32;
  constexpr int kCallsPerThread = 500;
  std::atomic<int> correct{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        TestClient client(port());
        for (int i = 0; i < kCallsPerThread; ++i) {
          int64_t id = static_cast<int64_t>(t) * 1000000 + i;
          bool ok = (i % 3 == 0) ? client.Mkdirs("/dir" + std::to_string(id))
                                 : client.Ping(id) == id;
          (ok ? correct : failed)++;
        }
      } catch (const std::exception& e) {
        ADD_FAILURE() << "client " << t << ": " << e.what();
        failed++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(correct.load(), kThreads * kCallsPerThread);
}

TEST_F(AsyncThriftServerTest, ErrorFromACompletionArrivesAsTalusErrorWithItsCode) {
  TestClient client(port());
  try {
    client.Mkdirs("/fail");
    FAIL() << "mkdirs /fail succeeded";
  } catch (const rpc::TalusError& e) {
    EXPECT_EQ(e.code, rpc::ErrorCode::NOT_FOUND);
    EXPECT_EQ(e.message, "no such directory: /fail");
  }
  // The connection is still good.
  EXPECT_TRUE(client.Mkdirs("/ok"));
  EXPECT_EQ(client.Ping(5), 5);
}

TEST_F(AsyncThriftServerTest, BadFramesCloseOnlyTheirConnection) {
  TestClient survivor(port());
  EXPECT_EQ(survivor.Ping(1), 1);

  // A string whose announced length exceeds the frame: the generated code calls done(false).
  auto huge_string = std::make_shared<TMemoryBuffer>();
  {
    TBinaryProtocol proto(huge_string);
    proto.writeMessageBegin("ping", apache::thrift::protocol::T_CALL, 1);
    proto.writeStructBegin("ping_args");
    proto.writeFieldBegin("h", apache::thrift::protocol::T_STRUCT, 1);
    proto.writeFieldBegin("user", apache::thrift::protocol::T_STRING, 1);
    proto.writeI32(0x7fff0000);
  }
  std::string huge_string_body = huge_string->getBufferAsString();

  const std::vector<std::pair<std::string, std::string>> cases = {
      // The processor throws on a message that is not Thrift.
      {"garbage", BigEndian32(12) + "hello world!"},
      {"huge string", BigEndian32(huge_string_body.size()) + huge_string_body},
      {"oversize frame", BigEndian32(0x40000000)},
      {"negative frame", BigEndian32(0x80000000)},
      {"empty frame", BigEndian32(0)},
  };
  int64_t id = 2;
  for (const auto& [name, bytes] : cases) {
    SCOPED_TRACE(name);
    RawConnection bad(port());
    ASSERT_TRUE(bad.connected());
    ASSERT_TRUE(bad.Send(bytes));
    EXPECT_TRUE(bad.WaitForClose());
    EXPECT_EQ(survivor.Ping(id), id);
    ++id;
    TestClient fresh(port());
    EXPECT_EQ(fresh.Ping(id), id);
    ++id;
  }
  EXPECT_TRUE(WaitFor([&] { return server_->open_connections() == 1; }));
}

TEST_F(AsyncThriftServerTest, FrameAboveTheLimitClosesTheConnectionAndOneBelowIsServed) {
  AsyncThriftServerOptions options;
  options.max_frame_bytes = 64 << 10;
  StartServer(options);
  TestClient small(port());
  EXPECT_TRUE(small.Mkdirs(std::string(60 << 10, 'a')));
  TestClient big(port());
  EXPECT_THROW(big.Mkdirs(std::string(70 << 10, 'a')), TTransportException);
  EXPECT_EQ(small.Ping(3), 3);
}

TEST_F(AsyncThriftServerTest, FrameLimitAboveThriftsDefaultMessageSizeWorks) {
  AsyncThriftServerOptions options;
  options.max_frame_bytes = 256 << 20;  // Thrift's own default limit is 100 MB
  StartServer(options);
  TestClient client(port());
  EXPECT_EQ(client.Ping(8), 8);
  EXPECT_TRUE(client.Mkdirs("/big-limit"));
}

TEST_F(AsyncThriftServerTest, LargeRequestsGrowTheBufferAndAreServed) {
  TestClient client(port());
  for (size_t size : {size_t{1} << 20, size_t{8} << 20, size_t{100}}) {
    EXPECT_TRUE(client.Mkdirs("/" + std::string(size, 'x')));
  }
  EXPECT_EQ(client.Ping(9), 9);
}

TEST_F(AsyncThriftServerTest, RequestSentOneByteAtATimeIsServed) {
  TestClient client(port());
  std::string bytes = FramedCall([](rpc::ClientNamenodeClient& c) { c.send_ping(Header(77)); });
  for (char b : bytes) client.socket->write(reinterpret_cast<const uint8_t*>(&b), 1);
  rpc::Timespec t;
  client.client->recv_ping(t);
  EXPECT_EQ(t.sec, 77);
}

TEST_F(AsyncThriftServerTest, PipelinedRequestsAreAnsweredInOrder) {
  TestClient client(port());
  // Hold the mkdirs so that the ping behind it surely waits in the server's buffer.
  completer_.Pause();
  std::string bytes =
      FramedCall([](rpc::ClientNamenodeClient& c) { c.send_ping(Header(1)); }) +
      FramedCall([](rpc::ClientNamenodeClient& c) { c.send_mkdirs(Header(2), "/p", 0755, 0); }) +
      FramedCall([](rpc::ClientNamenodeClient& c) { c.send_ping(Header(3)); });
  client.socket->write(reinterpret_cast<const uint8_t*>(bytes.data()),
                       static_cast<uint32_t>(bytes.size()));
  ASSERT_TRUE(completer_.WaitForQueued(1));
  completer_.Resume();
  // recv_* checks the method name, so an answer out of order fails here.
  rpc::Timespec t;
  client.client->recv_ping(t);
  EXPECT_EQ(t.sec, 1);
  EXPECT_TRUE(client.client->recv_mkdirs());
  client.client->recv_ping(t);
  EXPECT_EQ(t.sec, 3);
}

TEST_F(AsyncThriftServerTest, ClientThatLeavesWithACompletionPendingDoesNotHurtTheServer) {
  completer_.Pause();
  {
    TestClient leaving(port());
    leaving.client->send_mkdirs(Header(1), "/pending", 0755, false);
    ASSERT_TRUE(completer_.WaitForQueued(1));
  }  // closes the socket with the call unanswered
  completer_.Resume();
  ASSERT_TRUE(completer_.WaitUntilIdle());
  EXPECT_TRUE(WaitFor([&] { return server_->open_connections() == 0; }));
  TestClient next(port());
  EXPECT_EQ(next.Ping(11), 11);
  EXPECT_TRUE(next.Mkdirs("/after"));
}

TEST_F(AsyncThriftServerTest, PeerThatHalfClosesGetsItsAnswerAndIsThenClosed) {
  RawConnection raw(port());
  ASSERT_TRUE(raw.connected());
  ASSERT_TRUE(raw.Send(FramedCall(
      [](rpc::ClientNamenodeClient& c) { c.send_mkdirs(Header(1), "/half", 0755, false); })));
  raw.ShutdownWrite();
  std::string response;
  ASSERT_TRUE(raw.WaitForClose(&response));
  auto memory = std::make_shared<TMemoryBuffer>(
      reinterpret_cast<uint8_t*>(response.data()), static_cast<uint32_t>(response.size()));
  rpc::ClientNamenodeClient reader(
      std::make_shared<TBinaryProtocol>(std::make_shared<TFramedTransport>(memory)));
  EXPECT_TRUE(reader.recv_mkdirs());
  EXPECT_TRUE(WaitFor([&] { return server_->open_connections() == 0; }));
}

TEST_F(AsyncThriftServerTest, PeerThatLeavesMidFrameIsCleanedUp) {
  std::string bytes = FramedCall([](rpc::ClientNamenodeClient& c) { c.send_ping(Header(1)); });
  {
    RawConnection raw(port());
    ASSERT_TRUE(raw.connected());
    ASSERT_TRUE(raw.Send(bytes.substr(0, 10)));
  }
  EXPECT_TRUE(WaitFor([&] { return server_->open_connections() == 0; }));
  TestClient next(port());
  EXPECT_EQ(next.Ping(2), 2);
}

TEST_F(AsyncThriftServerTest, StopWithCompletionsPendingNeitherCrashesNorHangs) {
  constexpr int kClients = 8;
  completer_.Pause();
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<TestClient>(port()));
    clients.back()->client->send_mkdirs(Header(i), "/stop" + std::to_string(i), 0755, false);
  }
  ASSERT_TRUE(completer_.WaitForQueued(kClients));
  auto start = std::chrono::steady_clock::now();
  server_->Stop();
  server_->Stop();  // idempotent
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(server_->open_connections(), 0);
  for (auto& c : clients) EXPECT_THROW(c->client->recv_mkdirs(), TTransportException);
  // The completions now run after the server is gone altogether.
  server_.reset();
  completer_.Resume();
  EXPECT_TRUE(completer_.WaitUntilIdle());
}

TEST_F(AsyncThriftServerTest, ConnectionsBeyondTheLimitAreRefused) {
  AsyncThriftServerOptions options;
  options.max_connections = 2;
  StartServer(options);
  auto first = std::make_unique<TestClient>(port());
  TestClient second(port());
  EXPECT_EQ(first->Ping(1), 1);
  EXPECT_EQ(second.Ping(2), 2);
  TestClient refused(port());
  EXPECT_THROW(refused.Ping(3), TTransportException);
  EXPECT_GE(server_->refused_connections(), 1);
  first.reset();
  ASSERT_TRUE(WaitFor([&] { return server_->open_connections() == 1; }));
  TestClient later(port());
  EXPECT_EQ(later.Ping(4), 4);
}

TEST(AsyncThriftServerOptionsTest, InvalidOptionsAreRefused) {
  Completer completer;
  auto processor = std::make_shared<rpc::ClientNamenodeAsyncProcessor>(
      std::make_shared<TestHandler>(&completer));
  AsyncThriftServerOptions bad_port;
  bad_port.port = 70000;
  EXPECT_FALSE(AsyncThriftServer::Start(processor, bad_port).ok());
  AsyncThriftServerOptions no_threads;
  no_threads.io_threads = 0;
  EXPECT_FALSE(AsyncThriftServer::Start(processor, no_threads).ok());
  AsyncThriftServerOptions bad_frame;
  bad_frame.max_frame_bytes = 0;
  EXPECT_FALSE(AsyncThriftServer::Start(processor, bad_frame).ok());
  EXPECT_FALSE(AsyncThriftServer::Start(nullptr, AsyncThriftServerOptions()).ok());
}

// Calls ping (or mkdirs) from `threads` clients, `calls` each; returns the calls per second.
double CallRate(int port, int threads, int calls, bool mkdirs = false) {
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      try {
        TestClient client(port);
        for (int i = 0; i < calls; ++i) {
          bool ok = mkdirs ? client.Mkdirs("/d") : client.Ping(t * 100000 + i) == t * 100000 + i;
          if (!ok) failures++;
        }
      } catch (const std::exception&) {
        failures++;
      }
    });
  }
  for (auto& w : workers) w.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(failures.load(), 0);
  return threads * calls / seconds;
}

// For information only: no assertion on speed.
TEST_F(AsyncThriftServerTest, PingThroughputWith32Clients) {
  double rate = CallRate(port(), 32, 1000);
  std::cout << "[   INFO   ] async server: " << static_cast<int64_t>(rate)
            << " pings/s with 32 client threads" << std::endl;
}

// Runs a server in a child process, so that the CPU it uses is measured alone.
class ServerProcess {
 public:
  // io_threads 0: the thread-per-connection ThriftServer; else AsyncThriftServer with that many
  // event loops.
  explicit ServerProcess(int io_threads) {
    int to_child[2], from_child[2];
    if (pipe(to_child) != 0 || pipe(from_child) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      ::close(to_child[1]);
      ::close(from_child[0]);
      ServeInChild(io_threads, to_child[0], from_child[1]);
      _exit(0);
    }
    ::close(to_child[0]);
    ::close(from_child[1]);
    to_child_ = to_child[1];
    from_child_ = from_child[0];
    if (::read(from_child_, &port_, sizeof port_) != sizeof port_) port_ = 0;
  }
  ~ServerProcess() {
    if (pid_ > 0) {
      ::close(to_child_);
      ::close(from_child_);
      int status;
      waitpid(pid_, &status, 0);
    }
  }
  int port() const { return port_; }
  void StartMeasuring() { Tell(); }
  // What the server process used since StartMeasuring().
  struct Usage {
    double user_seconds = 0;
    double system_seconds = 0;
    double voluntary_switches = 0;
    double involuntary_switches = 0;
  };
  Usage StopMeasuring() {
    Tell();
    Usage usage;
    if (::read(from_child_, &usage, sizeof usage) != sizeof usage) return Usage();
    return usage;
  }

 private:
  void Tell() {
    char c = 1;
    if (::write(to_child_, &c, 1) != 1) ADD_FAILURE() << "server process gone";
  }
  static double Seconds(const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; }
  static void ServeInChild(int io_threads, int in, int out) {
    Completer completer;
    std::unique_ptr<AsyncThriftServer> async_server;
    std::unique_ptr<ThriftServer> threaded_server;
    int port = 0;
    if (io_threads > 0) {
      AsyncThriftServerOptions options;
      options.io_threads = io_threads;
      auto r = AsyncThriftServer::Start(std::make_shared<rpc::ClientNamenodeAsyncProcessor>(
                                            std::make_shared<TestHandler>(&completer)),
                                        options);
      if (r.ok()) async_server = std::move(r).value();
      if (async_server) port = async_server->port();
    } else {
      auto r = ThriftServer::Start(
          std::make_shared<rpc::ClientNamenodeProcessor>(std::make_shared<SyncHandler>(&completer)),
          ThriftServerOptions());
      if (r.ok()) threaded_server = std::move(r).value();
      if (threaded_server) port = threaded_server->port();
    }
    if (::write(out, &port, sizeof port) != sizeof port) return;
    char c;
    if (::read(in, &c, 1) != 1) return;
    rusage before{}, after{};
    getrusage(RUSAGE_SELF, &before);
    if (::read(in, &c, 1) != 1) return;
    getrusage(RUSAGE_SELF, &after);
    Usage usage;
    usage.user_seconds = Seconds(after.ru_utime) - Seconds(before.ru_utime);
    usage.system_seconds = Seconds(after.ru_stime) - Seconds(before.ru_stime);
    usage.voluntary_switches = static_cast<double>(after.ru_nvcsw - before.ru_nvcsw);
    usage.involuntary_switches = static_cast<double>(after.ru_nivcsw - before.ru_nivcsw);
    if (::write(out, &usage, sizeof usage) != sizeof usage) return;
  }

  pid_t pid_ = -1;
  int to_child_ = -1;
  int from_child_ = -1;
  int port_ = 0;
};

// A benchmark, run by hand: --gtest_also_run_disabled_tests --gtest_filter='*VersusThreaded*'.
// Rounds alternate between the servers so that load from elsewhere on the machine spreads
// over all of them. mkdirs completes on the completer thread, as a mutation completes after
// the journal's fsync.
TEST(AsyncThriftServerBenchmark, DISABLED_PingVersusThreadedServerWith64Clients) {
  constexpr int kThreads = 64;
  constexpr int kCalls = 2000;
  constexpr int kRounds = 2;
  for (int round = 0; round < kRounds; ++round) {
    for (bool mkdirs : {false, true}) {
      for (int io_threads : {0, 1, 2}) {
        ServerProcess server(io_threads);
        ASSERT_GT(server.port(), 0);
        server.StartMeasuring();
        double rate = CallRate(server.port(), kThreads, kCalls, mkdirs);
        ServerProcess::Usage u = server.StopMeasuring();
        double calls = static_cast<double>(kThreads) * kCalls;
        std::string name = io_threads == 0
                               ? "TThreadedServer       "
                               : "AsyncThriftServer(io=" + std::to_string(io_threads) + ")";
        std::cout << "[   INFO   ] " << name << " " << (mkdirs ? "mkdirs" : "ping  ") << ": "
                  << static_cast<int64_t>(rate) << " calls/s, " << kThreads
                  << " client threads; server CPU/call "
                  << (u.user_seconds + u.system_seconds) / calls * 1e6 << " us (user "
                  << u.user_seconds / calls * 1e6 << ", sys " << u.system_seconds / calls * 1e6
                  << "); context switches/call: voluntary " << u.voluntary_switches / calls
                  << ", involuntary " << u.involuntary_switches / calls << std::endl;
      }
    }
  }
}

}  // namespace
}  // namespace talus
