// The namenode over real RPC: the client library against a real talus-namenode process,
// including what a hostile or broken peer sends.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "talus/file_system.h"
#include "test/support/mini_cluster.h"

namespace talus {
namespace {

class NamenodeRpcTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto cluster = test::MiniCluster::Start();
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = std::move(*cluster).release();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(cluster_, nullptr);
    auto fs = FileSystem::Connect(cluster_->uri());
    ASSERT_TRUE(fs.ok()) << fs.status();
    fs_ = std::move(*fs);
  }

  // Opens a raw TCP connection to the namenode.
  static int RawConnect() {
    std::string addr = cluster_->namenode_address(0);
    int port = std::stoi(addr.substr(addr.rfind(':') + 1));
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(port));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
      close(fd);
      return -1;
    }
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
  }

  // Sends bytes and returns true when the server closed the connection (read gives 0 or
  // ECONNRESET) rather than hanging or answering.
  static bool ServerCloses(const std::string& bytes) {
    int fd = RawConnect();
    if (fd < 0) return false;
    (void)!write(fd, bytes.data(), bytes.size());
    char buf[256];
    ssize_t n;
    do {
      n = read(fd, buf, sizeof(buf));
    } while (n > 0);
    bool closed = n == 0 || (n < 0 && errno == ECONNRESET);
    close(fd);
    return closed;
  }

  static test::MiniCluster* cluster_;
  std::unique_ptr<FileSystem> fs_;
};

test::MiniCluster* NamenodeRpcTest::cluster_ = nullptr;

TEST_F(NamenodeRpcTest, MetadataRoundTrip) {
  ASSERT_TRUE(fs_->Mkdirs("/rt/a/b").ok());
  auto info = fs_->GetFileInfo("/rt/a/b");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_TRUE(info->IsDirectory());
  EXPECT_EQ(info->mode, 0755u);  // 0777 under the default umask 022
  EXPECT_EQ(info->owner, fs_->user());
  ASSERT_TRUE(fs_->CreateEmptyFile("/rt/a/f").ok());
  auto listing = fs_->ListDirectory("/rt/a");
  ASSERT_TRUE(listing.ok());
  ASSERT_EQ(listing->size(), 2u);
  EXPECT_EQ((*listing)[0].path, "/rt/a/b");
  EXPECT_EQ((*listing)[1].path, "/rt/a/f");
  EXPECT_EQ((*listing)[1].mode, 0644u);
  ASSERT_TRUE(fs_->Rename("/rt/a/f", "/rt/g", false).ok());
  EXPECT_EQ(fs_->GetFileInfo("/rt/a/f").status().code(), ErrorCode::kNotFound);
  auto deleted = fs_->Delete("/rt", true);
  ASSERT_TRUE(deleted.ok());
  EXPECT_TRUE(*deleted);
}

TEST_F(NamenodeRpcTest, ListingOfManyEntriesIsPaged) {
  ASSERT_TRUE(fs_->Mkdirs("/many").ok());
  for (int i = 0; i < 2500; ++i) {
    ASSERT_TRUE(fs_->Mkdirs("/many/d" + std::to_string(i), 0755, false).ok());
  }
  auto listing = fs_->ListDirectory("/many");
  ASSERT_TRUE(listing.ok()) << listing.status();
  EXPECT_EQ(listing->size(), 2500u);
  auto summary = fs_->GetContentSummary("/many");
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->directory_count, 2501);
}

TEST_F(NamenodeRpcTest, GarbageFrameClosesOnlyThatConnection) {
  ASSERT_TRUE(ServerCloses(std::string("\x00\x00\x00\x10this is not thrift", 22)));
  ASSERT_TRUE(ServerCloses("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  // Still serving everyone else.
  ASSERT_TRUE(fs_->Mkdirs("/after-garbage").ok());
  EXPECT_TRUE(fs_->GetFileInfo("/after-garbage").ok());
}

TEST_F(NamenodeRpcTest, OversizeFrameIsRefused) {
  // A frame header announcing 1 GiB: refused without reading (or allocating) it.
  ASSERT_TRUE(ServerCloses(std::string("\x40\x00\x00\x00", 4) + std::string(64, 'x')));
  // A negative frame size.
  ASSERT_TRUE(ServerCloses(std::string("\xff\xff\xff\xf0", 4) + std::string(64, 'x')));
  EXPECT_TRUE(fs_->Mkdirs("/after-oversize").ok());
}

TEST_F(NamenodeRpcTest, BadInputIsRefusedAndChangesNothing) {
  ASSERT_TRUE(fs_->Mkdirs("/bad").ok());
  ASSERT_TRUE(fs_->CreateEmptyFile("/bad/file").ok());
  ASSERT_TRUE(fs_->Mkdirs("/bad/dir/sub").ok());
  struct Case {
    std::string path;
    ErrorCode code;
  };
  for (const Case& c : std::vector<Case>{
           {"/bad/./x", ErrorCode::kInvalidArgument},
           {"/bad/../x", ErrorCode::kInvalidArgument},
           {std::string("/bad/a\0b", 8), ErrorCode::kInvalidArgument},
           {"/bad/" + std::string(256, 'n'), ErrorCode::kNameTooLong},
           {"/bad/" + std::string(4100, 'p'), ErrorCode::kNameTooLong},
           {"", ErrorCode::kInvalidArgument},
       }) {
    Status s = fs_->Mkdirs(c.path);
    EXPECT_EQ(s.code(), c.code) << c.path.substr(0, 40) << ": " << s;
  }
  EXPECT_EQ(fs_->Mkdirs("/bad/file").code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(fs_->Delete("/bad/dir", false).status().code(), ErrorCode::kNotEmpty);
  EXPECT_EQ(fs_->Delete("/", true).status().code(), ErrorCode::kNotPermitted);
  EXPECT_EQ(fs_->Rename("/", "/x", false).code(), ErrorCode::kNotPermitted);
  EXPECT_EQ(fs_->Rename("/bad/dir", "/bad/dir/sub/inner", false).code(),
            ErrorCode::kInvalidArgument);
  auto listing = fs_->ListDirectory("/bad");
  ASSERT_TRUE(listing.ok());
  ASSERT_EQ(listing->size(), 2u);
  EXPECT_EQ((*listing)[0].name, "dir");
  EXPECT_EQ((*listing)[1].name, "file");
  EXPECT_TRUE(fs_->GetFileInfo("/bad/dir/sub").ok());
}

TEST_F(NamenodeRpcTest, ConcurrentClientsShareTheServer) {
  ASSERT_TRUE(fs_->Mkdirs("/conc").ok());
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      auto fs = FileSystem::Connect(cluster_->uri());
      if (!fs.ok()) {
        ++failures;
        return;
      }
      for (int i = 0; i < 50; ++i) {
        if (!(*fs)->Mkdirs("/conc/t" + std::to_string(t) + "/d" + std::to_string(i)).ok()) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto summary = fs_->GetContentSummary("/conc");
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->directory_count, 1 + 16 + 16 * 50);
}

}  // namespace
}  // namespace talus
