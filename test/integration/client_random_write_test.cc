// RandomWriteFile against real daemons (one namenode, three datanodes, 1 MiB blocks): random
// writes and truncations against an in-memory model with every byte compared after each flush
// through a fresh reader, whole-block atomicity for concurrent readers, the streaming path for
// sequential writes, deletion of replaced replicas, inode addressing across renames, error codes,
// symlinks and RENAME_EXCHANGE.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <set>
#include <thread>

#include "client/rewrite/random_write_file_impl.h"
#include "talus/file_system.h"
#include "test/support/client_data_util.h"
#include "test/support/mini_cluster.h"

namespace talus {
namespace {

constexpr int64_t kBlock = 1 << 20;

class ClientRandomWriteTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    test::MiniClusterOptions options;
    options.datanodes = 3;
    options.extra_flags = {"--heartbeat_interval_ms=200"};
    auto started = test::MiniCluster::Start(options);
    ASSERT_TRUE(started.ok()) << started.status();
    cluster_ = started->release();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(cluster_, nullptr);
    fs_ = Connect();
    ASSERT_NE(fs_, nullptr);
    ASSERT_TRUE(fs_->Mkdirs("/rw").ok());
  }

  static std::unique_ptr<FileSystem> Connect() {
    ClientOptions options;
    options.default_block_size = kBlock;
    options.datanode_timeout_ms = 20000;
    auto fs = FileSystem::Connect(cluster_->uri(), options);
    EXPECT_TRUE(fs.ok()) << fs.status();
    return fs.ok() ? std::move(*fs) : nullptr;
  }

  std::unique_ptr<RandomWriteFile> Create(const std::string& path) {
    CreateOptions options;
    options.overwrite = true;
    options.block_size = kBlock;
    auto f = fs_->CreateRandomWrite(path, options);
    EXPECT_TRUE(f.ok()) << f.status();
    return f.ok() ? std::move(*f) : nullptr;
  }

  std::unique_ptr<RandomWriteFile> Open(const std::string& path) {
    auto f = fs_->OpenRandomWrite(path);
    EXPECT_TRUE(f.ok()) << f.status();
    return f.ok() ? std::move(*f) : nullptr;
  }

  std::string ReadBack(const std::string& path) {
    auto back = test::ReadWholeFile(*fs_, path);
    EXPECT_TRUE(back.ok()) << back.status();
    return back.ok() ? *back : "<unreadable>";
  }

  static client::RandomWriteFileImpl::Stats StatsOf(RandomWriteFile& f) {
    return dynamic_cast<client::RandomWriteFileImpl&>(f).stats();
  }

  static test::MiniCluster* cluster_;
  std::unique_ptr<FileSystem> fs_;
};

test::MiniCluster* ClientRandomWriteTest::cluster_ = nullptr;

// Where the model and the file differ first, for a readable failure.
std::string FirstDifference(const std::string& got, const std::string& want) {
  if (got.size() != want.size()) {
    return "length " + std::to_string(got.size()) + ", expected " + std::to_string(want.size());
  }
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i] != want[i]) return "first difference at byte " + std::to_string(i);
  }
  return "equal";
}

TEST_F(ClientRandomWriteTest, RandomOperationsMatchAModel) {
  for (uint64_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const std::string path = "/rw/model-" + std::to_string(seed);
    std::mt19937_64 rng(seed);
    std::string model;
    std::unique_ptr<RandomWriteFile> f = Create(path);
    ASSERT_NE(f, nullptr);
    int flushes = 0;
    for (int op = 0; op < 800; ++op) {
      const int kind = static_cast<int>(rng() % 100);
      if (kind < 50) {
        // Half near the end (the streaming path), half anywhere, a few large ones.
        int64_t off;
        if (rng() % 2 == 0) {
          off = static_cast<int64_t>(model.size()) - static_cast<int64_t>(rng() % 64);
          off = std::max<int64_t>(off, 0);
        } else {
          off = static_cast<int64_t>(rng() % (model.size() + 4096));
        }
        const size_t n = rng() % 20 == 0 ? 1 + rng() % (2 * kBlock) : 1 + rng() % 65536;
        std::string data = test::RandomBytes(n, rng());
        if (rng() % 2 == 0 && off < static_cast<int64_t>(model.size())) {
          // Repeats what the file holds up to its end (a re-sent last page).
          const size_t same = std::min<size_t>(n, model.size() - off);
          data.replace(0, same, model, off, same);
        }
        Status s = f->Write(off, data.data(), n);
        ASSERT_TRUE(s.ok()) << "op " << op << ": " << s;
        if (model.size() < off + n) model.resize(off + n, '\0');
        model.replace(off, n, data);
      } else if (kind < 58) {
        // Files stay under ~5 MiB.
        const int64_t len = static_cast<int64_t>(rng() % std::min<size_t>(model.size() + kBlock,
                                                                           5 * kBlock));
        Status s = f->Truncate(len);
        ASSERT_TRUE(s.ok()) << "op " << op << ": " << s;
        model.resize(len, '\0');
      } else if (kind < 88) {
        const int64_t off = static_cast<int64_t>(rng() % (model.size() + 100));
        const size_t n = 1 + rng() % (kBlock + 1000);
        std::string got(n, '\0');
        auto r = f->Read(off, got.data(), n);
        ASSERT_TRUE(r.ok()) << "op " << op << ": " << r.status();
        got.resize(*r);
        const std::string want =
            off < static_cast<int64_t>(model.size()) ? model.substr(off, n) : "";
        ASSERT_TRUE(got == want) << "op " << op << " read at " << off << ": "
                                 << FirstDifference(got, want);
      } else if (kind < 97) {
        Status s = rng() % 3 == 0 ? f->Sync() : f->Flush();
        ASSERT_TRUE(s.ok()) << "op " << op << ": " << s;
        ++flushes;
        const std::string back = ReadBack(path);
        ASSERT_TRUE(back == model) << "op " << op << " after flush: "
                                   << FirstDifference(back, model);
      } else {
        Status s = f->Close();
        ASSERT_TRUE(s.ok()) << "op " << op << ": " << s;
        const std::string back = ReadBack(path);
        ASSERT_TRUE(back == model) << "op " << op << " after close: "
                                   << FirstDifference(back, model);
        f = Open(path);
        ASSERT_NE(f, nullptr);
        ASSERT_EQ(f->Length(), static_cast<int64_t>(model.size()));
      }
      ASSERT_EQ(f->Length(), static_cast<int64_t>(model.size())) << "op " << op;
    }
    ASSERT_TRUE(f->Close().ok());
    const std::string back = ReadBack(path);
    EXPECT_TRUE(back == model) << FirstDifference(back, model);
    auto info = fs_->GetFileInfo(path);
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_EQ(info->length, static_cast<int64_t>(model.size()));
    EXPECT_FALSE(info->under_construction);
    EXPECT_GT(flushes, 10);
  }
}

// Each commit replaces whole blocks: a reader, whenever it opened, sees every block wholly at
// one version (old or new), never a mix within a block.
TEST_F(ClientRandomWriteTest, ReadersSeeWholeOldOrWholeNewBlocks) {
  const std::string path = "/rw/atomic";
  const int kBlocks = 3;
  auto version_block = [](int version, int block) {
    return std::string(kBlock, static_cast<char>('A' + (version * 7 + block) % 26));
  };
  std::unique_ptr<RandomWriteFile> f = Create(path);
  ASSERT_NE(f, nullptr);
  for (int b = 0; b < kBlocks; ++b) {
    const std::string data = version_block(0, b);
    ASSERT_TRUE(f->Write(b * kBlock, data.data(), data.size()).ok());
  }
  ASSERT_TRUE(f->Flush().ok());

  // A reader opened before the flushes below.
  auto early = fs_->Open(path);
  ASSERT_TRUE(early.ok()) << early.status();

  std::atomic<bool> stop{false};
  std::atomic<int> reads{0};
  std::atomic<int> torn{0};
  std::thread reader([&] {
    auto fs = Connect();
    while (!stop) {
      auto in = fs->Open(path);
      if (!in.ok()) continue;
      std::string buf(kBlock, '\0');
      for (int b = 0; b < kBlocks; ++b) {
        auto n = (*in)->Pread(b * kBlock, buf.data(), buf.size());
        if (!n.ok() || *n != static_cast<size_t>(kBlock)) continue;
        if (buf.find_first_not_of(buf[0]) != std::string::npos) ++torn;
      }
      ++reads;
    }
  });
  for (int version = 1; version <= 6; ++version) {
    // Each version rewrites every block in two halves (two extents per block).
    for (int b = 0; b < kBlocks; ++b) {
      const std::string data = version_block(version, b);
      ASSERT_TRUE(f->Write(b * kBlock + kBlock / 2, data.data(), kBlock / 2).ok());
      ASSERT_TRUE(f->Write(b * kBlock, data.data(), kBlock / 2).ok());
    }
    ASSERT_TRUE(f->Flush().ok());
  }
  EXPECT_TRUE(test::WaitFor([&] { return reads.load() >= 3; }, std::chrono::seconds(30)));
  stop = true;
  reader.join();
  EXPECT_EQ(torn.load(), 0);

  // The early reader still reads whole blocks: the old ones, or the new ones once the old
  // replicas are gone and it looks the block up again.
  std::string buf(kBlock, '\0');
  for (int b = 0; b < kBlocks; ++b) {
    auto n = (*early)->Pread(b * kBlock, buf.data(), buf.size());
    if (!n.ok()) continue;  // the old replicas were deleted: an error, never torn data
    ASSERT_EQ(*n, static_cast<size_t>(kBlock));
    EXPECT_EQ(buf.find_first_not_of(buf[0]), std::string::npos) << "block " << b;
  }
  ASSERT_TRUE(f->Close().ok());
  std::string want;
  for (int b = 0; b < kBlocks; ++b) want += version_block(6, b);
  EXPECT_TRUE(ReadBack(path) == want);
}

TEST_F(ClientRandomWriteTest, SequentialWritesUseTheStreamingPath) {
  const std::string path = "/rw/sequential";
  const std::string data = test::RandomBytes(5 * kBlock + 12345, 7);
  std::unique_ptr<RandomWriteFile> f = Create(path);
  ASSERT_NE(f, nullptr);
  EXPECT_GT(f->file_id(), 0u);
  EXPECT_EQ(f->opened_info().inode_id, f->file_id());
  EXPECT_EQ(f->opened_info().mode, 0644u);  // 0666 under the umask 022
  EXPECT_FALSE(f->opened_info().owner.empty());
  for (size_t off = 0; off < data.size(); off += 131072) {
    ASSERT_TRUE(f->Write(off, data.data() + off, std::min<size_t>(131072, data.size() - off)).ok());
  }
  ASSERT_TRUE(f->Close().ok());
  EXPECT_EQ(StatsOf(*f).commits, 0);
  EXPECT_EQ(StatsOf(*f).overwrites, 0);
  EXPECT_EQ(StatsOf(*f).streams, 1);
  EXPECT_TRUE(ReadBack(path) == data);

  // Appending through a reopened file streams too (append, no commit).
  std::unique_ptr<RandomWriteFile> g = Open(path);
  ASSERT_NE(g, nullptr);
  ASSERT_TRUE(g->Write(data.size(), "tail", 4).ok());
  ASSERT_TRUE(g->Close().ok());
  EXPECT_EQ(StatsOf(*g).commits, 0);
  EXPECT_TRUE(ReadBack(path) == data + "tail");
}

// The sequential fast path costs what OutputStream costs (logged; loosely bounded, the machine
// is shared).
TEST_F(ClientRandomWriteTest, SequentialThroughputMatchesOutputStream) {
  const std::string data = test::RandomBytes(32 * kBlock, 8);
  auto mibs = [&](auto&& write_all) {
    const auto start = std::chrono::steady_clock::now();
    write_all();
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return data.size() / 1048576.0 / s;
  };
  double stream_rate = 0, random_rate = 0;
  for (int round = 0; round < 2; ++round) {
    stream_rate = std::max(stream_rate, mibs([&] {
      ASSERT_TRUE(test::WriteWholeFile(*fs_, "/rw/tp-stream", data, 1 << 20, kBlock).ok());
    }));
    random_rate = std::max(random_rate, mibs([&] {
      std::unique_ptr<RandomWriteFile> f = Create("/rw/tp-random");
      ASSERT_NE(f, nullptr);
      for (size_t off = 0; off < data.size(); off += 1 << 20) {
        ASSERT_TRUE(f->Write(off, data.data() + off, 1 << 20).ok());
      }
      ASSERT_TRUE(f->Close().ok());
    }));
  }
  LOG(INFO) << "sequential 32 MiB: OutputStream " << stream_rate << " MiB/s, RandomWriteFile "
            << random_rate << " MiB/s";
  std::cerr << "sequential 32 MiB: OutputStream " << stream_rate
            << " MiB/s, RandomWriteFile " << random_rate << " MiB/s\n";
  EXPECT_GT(random_rate, 0.5 * stream_rate);
}

TEST_F(ClientRandomWriteTest, ReplacedAndCutBlocksAreDeletedFromDatanodes) {
  const std::string path = "/rw/deleted";
  const std::string data = test::RandomBytes(3 * kBlock, 9);
  ASSERT_TRUE(test::WriteWholeFile(*fs_, path, data, 1 << 20, kBlock).ok());
  auto before = fs_->GetFileBlockLocations(path, 0, data.size());
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_EQ(before->size(), 3u);
  // Every replica reported before we look for their files.
  ASSERT_TRUE(test::WaitFor(
      [&] {
        for (int i = 0; i < 3; ++i) {
          for (const BlockLocation& b : *before) {
            if (test::ReplicaFiles(cluster_->dir(), i, b.block_id).empty()) return false;
          }
        }
        return true;
      },
      std::chrono::seconds(20)));

  std::unique_ptr<RandomWriteFile> f = Open(path);
  ASSERT_NE(f, nullptr);
  ASSERT_TRUE(f->Write(10, "patch", 5).ok());              // block 0 replaced
  ASSERT_TRUE(f->Truncate(kBlock + kBlock / 2).ok());     // block 1 cut short, block 2 cut
  ASSERT_TRUE(f->Close().ok());
  std::string want = data.substr(0, kBlock + kBlock / 2);
  want.replace(10, 5, "patch");
  EXPECT_TRUE(ReadBack(path) == want);

  auto after = fs_->GetFileBlockLocations(path, 0, want.size());
  ASSERT_TRUE(after.ok()) << after.status();
  ASSERT_EQ(after->size(), 2u);
  std::set<uint64_t> live;
  for (const BlockLocation& b : *after) live.insert(b.block_id);
  for (const BlockLocation& b : *before) {
    EXPECT_EQ(live.count(b.block_id), 0u) << "block " << b.block_id << " still in the file";
  }
  EXPECT_TRUE(test::WaitFor(
      [&] {
        for (int i = 0; i < 3; ++i) {
          for (const BlockLocation& b : *before) {
            if (!test::ReplicaFiles(cluster_->dir(), i, b.block_id).empty()) return false;
          }
        }
        return true;
      },
      std::chrono::seconds(30)))
      << "replicas of the replaced blocks are still on the datanodes";
  // The new blocks are fully replicated.
  EXPECT_TRUE(test::WaitFor(
      [&] {
        auto now = fs_->GetFileBlockLocations(path, 0, want.size());
        if (!now.ok()) return false;
        for (const BlockLocation& b : *now) {
          if (b.hosts.size() < 3) return false;
        }
        return true;
      },
      std::chrono::seconds(20)));
}

TEST_F(ClientRandomWriteTest, AnOpenFileFollowsRenames) {
  ASSERT_TRUE(fs_->Mkdirs("/rw/from").ok());
  ASSERT_TRUE(fs_->Mkdirs("/rw/to").ok());
  std::unique_ptr<RandomWriteFile> f = Create("/rw/from/file");
  ASSERT_NE(f, nullptr);
  ASSERT_TRUE(f->Write(0, "hello ", 6).ok());
  ASSERT_TRUE(fs_->Rename("/rw/from/file", "/rw/to/file", false).ok());
  ASSERT_TRUE(f->Write(6, "world", 5).ok());
  ASSERT_TRUE(f->Flush().ok());
  ASSERT_TRUE(fs_->Rename("/rw/to", "/rw/moved", false).ok());
  ASSERT_TRUE(f->Write(0, "HELLO", 5).ok());  // copy-on-write after the directory moved
  ASSERT_TRUE(f->Close().ok());
  EXPECT_EQ(ReadBack("/rw/moved/file"), "HELLO world");
  EXPECT_FALSE(fs_->GetFileInfo("/rw/from/file").ok());
}

TEST_F(ClientRandomWriteTest, TruncateAPath) {
  const std::string path = "/rw/truncated";
  const std::string data = test::RandomBytes(2 * kBlock + 100, 10);
  ASSERT_TRUE(test::WriteWholeFile(*fs_, path, data, 1 << 20, kBlock).ok());
  ASSERT_TRUE(fs_->Truncate(path, kBlock + 7).ok());
  EXPECT_TRUE(ReadBack(path) == data.substr(0, kBlock + 7));
  ASSERT_TRUE(fs_->Truncate(path, kBlock + 7 + 3000).ok());
  EXPECT_TRUE(ReadBack(path) == data.substr(0, kBlock + 7) + std::string(3000, '\0'));
  ASSERT_TRUE(fs_->Truncate(path, 0).ok());
  EXPECT_EQ(ReadBack(path), "");
  EXPECT_EQ(fs_->Truncate("/rw/no-such-file", 0).code(), ErrorCode::kNotFound);
  EXPECT_EQ(fs_->Truncate("/rw", 0).code(), ErrorCode::kIsADirectory);
}

TEST_F(ClientRandomWriteTest, ErrorsKeepTheirCodes) {
  const std::string path = "/rw/contended";
  ASSERT_TRUE(test::WriteWholeFile(*fs_, path, "0123456789", 10, kBlock).ok());
  std::unique_ptr<RandomWriteFile> f = Open(path);
  ASSERT_NE(f, nullptr);
  // Another client holds the lease (an open append stream).
  auto other = Connect();
  auto appending = other->Append(path);
  ASSERT_TRUE(appending.ok()) << appending.status();
  EXPECT_EQ(f->Write(2, "x", 1).code(), ErrorCode::kLeaseConflict);
  EXPECT_EQ(f->Write(10, "x", 1).code(), ErrorCode::kLeaseConflict);
  EXPECT_EQ(f->Truncate(3).code(), ErrorCode::kLeaseConflict);
  ASSERT_TRUE((*appending)->Close().ok());
  ASSERT_TRUE(f->Write(2, "x", 1).ok());
  ASSERT_TRUE(f->Close().ok());
  EXPECT_EQ(ReadBack(path), "01x3456789");

  // Safe mode: no lease can be taken.
  auto entered = fs_->SetSafeMode(SafeModeAction::kEnter);
  ASSERT_TRUE(entered.ok()) << entered.status();
  std::unique_ptr<RandomWriteFile> g = Open(path);
  ASSERT_NE(g, nullptr);
  const Status s = g->Write(0, "y", 1);
  auto left = fs_->SetSafeMode(SafeModeAction::kLeave);
  ASSERT_TRUE(left.ok()) << left.status();
  EXPECT_EQ(s.code(), ErrorCode::kSafeMode) << s;
  ASSERT_TRUE(g->Close().ok());

  EXPECT_EQ(fs_->OpenRandomWrite("/rw/missing").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(fs_->OpenRandomWrite("/rw").status().code(), ErrorCode::kIsADirectory);
  CreateOptions exclusive;
  EXPECT_EQ(fs_->CreateRandomWrite(path, exclusive).status().code(), ErrorCode::kAlreadyExists);
}

TEST_F(ClientRandomWriteTest, SymlinksAndExchange) {
  ASSERT_TRUE(fs_->CreateSymlink("../target/x", "/rw/link").ok());
  auto link = fs_->GetFileInfo("/rw/link");
  ASSERT_TRUE(link.ok()) << link.status();
  EXPECT_EQ(link->type, FileType::kSymlink);
  EXPECT_EQ(link->symlink_target, "../target/x");
  EXPECT_EQ(fs_->CreateSymlink("t", "/rw/link").code(), ErrorCode::kAlreadyExists);

  ASSERT_TRUE(test::WriteWholeFile(*fs_, "/rw/a", "aaa", 10, kBlock).ok());
  ASSERT_TRUE(fs_->Mkdirs("/rw/b").ok());
  ASSERT_TRUE(fs_->RenameExchange("/rw/a", "/rw/b").ok());
  EXPECT_TRUE(fs_->GetFileInfo("/rw/a")->IsDirectory());
  EXPECT_EQ(ReadBack("/rw/b"), "aaa");
  EXPECT_EQ(fs_->RenameExchange("/rw/a", "/rw/none").code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace talus

namespace talus {
namespace {

// A datanode dies between writes and the flush: the copy-on-write blocks go to pipelines
// without it (a refused pipeline is written again to a new block), the committed bytes are read
// from the surviving replicas.
TEST(ClientRandomWriteFaultTest, AFlushSurvivesADeadDatanode) {
  test::MiniClusterOptions options;
  options.datanodes = 4;
  options.extra_flags = {"--heartbeat_interval_ms=200"};
  auto cluster = test::MiniCluster::Start(options);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ClientOptions client_options;
  client_options.default_block_size = kBlock;
  client_options.datanode_timeout_ms = 10000;
  auto fs = FileSystem::Connect((*cluster)->uri(), client_options);
  ASSERT_TRUE(fs.ok()) << fs.status();
  std::string model = test::RandomBytes(4 * kBlock, 11);
  ASSERT_TRUE(test::WriteWholeFile(**fs, "/f", model, 1 << 20, kBlock).ok());

  auto f = (*fs)->OpenRandomWrite("/f");
  ASSERT_TRUE(f.ok()) << f.status();
  for (int b = 0; b < 4; ++b) {
    const std::string patch = test::RandomBytes(1000, 100 + b);
    ASSERT_TRUE((*f)->Write(b * kBlock + 500, patch.data(), patch.size()).ok());
    model.replace(b * kBlock + 500, patch.size(), patch);
  }
  ASSERT_TRUE((*cluster)->KillDatanode(0).ok());
  Status s = (*f)->Close();
  ASSERT_TRUE(s.ok()) << s;
  auto back = test::ReadWholeFile(**fs, "/f");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(*back == model);
  const std::string dead = (*cluster)->datanode_data_address(0);
  auto locations = (*fs)->GetFileBlockLocations("/f", 0, model.size());
  ASSERT_TRUE(locations.ok()) << locations.status();
  for (const BlockLocation& loc : *locations) {
    for (const std::string& host : loc.hosts) EXPECT_NE(host, dead) << "block " << loc.block_id;
  }
}

}  // namespace
}  // namespace talus
