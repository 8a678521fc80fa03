// The block scanner over a real DataSet in a temporary directory: good replicas pass, a flipped
// data byte, a damaged checksum, a truncated file and a lost file are each found and reported
// once; replicas being written are left alone; a replica deleted while it is being scanned is
// not reported; the byte rate bounds a pass.
#include "datanode/server/block_scanner.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "datanode/storage/block_meta.h"
#include "test/support/mini_cluster.h"

namespace talus::datanode {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test::WaitFor;

std::string Bytes(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 1103515245 + 12345;
    s[i] = static_cast<char>(seed >> 16);
  }
  return s;
}

void FlipByte(const std::string& path, uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(c ^ 0x20));
}

class ScannerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DataSetOptions options;
    options.volume_dirs = {dir_.path() + "/vol"};
    ScanReport report;
    auto data = DataSet::Open(options, &report);
    ASSERT_TRUE(data.ok()) << data.status();
    data_ = std::move(*data);
  }
  void TearDown() override { scanner_.reset(); }

  ReplicaInfo Put(uint64_t id, size_t n, bool finalize = true) {
    auto created = data_->CreateRbw(id, 1001, 0);
    EXPECT_TRUE(created.ok()) << created.status();
    std::string bytes = Bytes(n, static_cast<uint32_t>(id));
    EXPECT_TRUE(data_->Append(id, 1001, 0, bytes, ComputeChecksums(bytes, 0)).ok());
    if (finalize) {
      EXPECT_TRUE(data_->Finalize(id, 1001).ok());
    }
    return *data_->GetReplica(id);
  }

  void StartScanner(uint64_t bytes_per_sec, std::chrono::milliseconds period,
                    uint64_t read_bytes = 64 * 1024) {
    BlockScannerOptions options;
    options.bytes_per_sec = bytes_per_sec;
    options.period = period;
    options.read_bytes = read_bytes;
    options.max_idle = 20ms;
    BlockScanner::Callbacks callbacks;
    callbacks.on_corrupt = [this](const ReplicaInfo& r, const std::string&) {
      std::lock_guard<std::mutex> l(mu_);
      corrupt_.push_back(r.block_id);
    };
    callbacks.on_missing = [this](const ReplicaInfo& r, const std::string&) {
      std::lock_guard<std::mutex> l(mu_);
      missing_.push_back(r.block_id);
    };
    scanner_ = std::make_unique<BlockScanner>(data_.get(), options, std::move(callbacks));
    scanner_->Start();
  }
  std::vector<uint64_t> corrupt() {
    std::lock_guard<std::mutex> l(mu_);
    return corrupt_;
  }
  std::vector<uint64_t> missing() {
    std::lock_guard<std::mutex> l(mu_);
    return missing_;
  }

  test::TempDir dir_;
  std::unique_ptr<DataSet> data_;
  std::unique_ptr<BlockScanner> scanner_;
  std::mutex mu_;
  std::vector<uint64_t> corrupt_;
  std::vector<uint64_t> missing_;
};

TEST_F(ScannerTest, GoodReplicasPassAndReplicasBeingWrittenAreLeftAlone) {
  Put(1, 100000);
  Put(2, 0);
  Put(3, 700);
  Put(4, 5000, /*finalize=*/false);
  StartScanner(0, 1h);
  ASSERT_TRUE(WaitFor([&] { return scanner_->counters().replicas_scanned >= 3; }, 10s));
  const uint64_t passes = scanner_->counters().passes;
  ASSERT_TRUE(WaitFor([&] { return scanner_->counters().passes >= passes + 3; }, 10s));
  BlockScannerCounters c = scanner_->counters();
  EXPECT_EQ(c.replicas_scanned, 3u) << "each finalized replica once per period, RBW never";
  EXPECT_EQ(c.bytes_scanned, 100700u);
  EXPECT_EQ(c.corrupt_found, 0u);
  EXPECT_TRUE(corrupt().empty());
  EXPECT_TRUE(missing().empty());
}

TEST_F(ScannerTest, CorruptDataAndChecksumsAreReportedOnceEach) {
  ReplicaInfo data_bad = Put(10, 200000);
  ReplicaInfo meta_bad = Put(11, 3000);
  ReplicaInfo truncated = Put(12, 4096);
  Put(13, 50000);
  FlipByte(data_bad.data_path, 123456);
  FlipByte(meta_bad.meta_path, MetaFileLength(3000) - 1);  // the last chunk's checksum
  ASSERT_EQ(::truncate(truncated.data_path.c_str(), 2000), 0);
  StartScanner(0, 50ms);
  ASSERT_TRUE(WaitFor([&] { return corrupt().size() >= 3; }, 10s));
  // The good replica is verified again every period; meanwhile the bad ones are not
  // reported again.
  ASSERT_TRUE(WaitFor([&] { return scanner_->counters().replicas_scanned >= 8; }, 10s));
  std::vector<uint64_t> found = corrupt();
  std::sort(found.begin(), found.end());
  EXPECT_EQ(found, (std::vector<uint64_t>{10, 11, 12}));
  EXPECT_EQ(scanner_->counters().corrupt_found, 3u);
  EXPECT_TRUE(missing().empty());
}

TEST_F(ScannerTest, AReplicaWhoseFileVanishedIsReportedMissing) {
  ReplicaInfo lost_data = Put(20, 10000);
  ReplicaInfo lost_meta = Put(21, 10000);
  ASSERT_EQ(::unlink(lost_data.data_path.c_str()), 0);
  ASSERT_EQ(::unlink(lost_meta.meta_path.c_str()), 0);
  StartScanner(0, 1h);
  ASSERT_TRUE(WaitFor([&] { return missing().size() >= 2; }, 10s));
  std::vector<uint64_t> found = missing();
  std::sort(found.begin(), found.end());
  EXPECT_EQ(found, (std::vector<uint64_t>{20, 21}));
  EXPECT_TRUE(corrupt().empty());
}

TEST_F(ScannerTest, AReplicaDeletedWhileBeingScannedIsNotReported) {
  // 2 MiB at 1 MiB/s in 64 KiB reads: the scan is still on this replica when it is deleted.
  ReplicaInfo doomed = Put(30, 2 << 20);
  StartScanner(1 << 20, 1h);
  ASSERT_TRUE(WaitFor([&] { return scanner_->counters().bytes_scanned > 0; }, 10s));
  ASSERT_LT(scanner_->counters().bytes_scanned, uint64_t{2} << 20);
  ASSERT_TRUE(data_->Delete(30, 1001).ok());
  // A new replica after it: once that one is verified, the scan is past the deleted one.
  Put(31, 1000);
  ASSERT_TRUE(WaitFor([&] { return scanner_->counters().replicas_scanned >= 1; }, 10s));
  EXPECT_TRUE(corrupt().empty());
  EXPECT_TRUE(missing().empty());
  EXPECT_EQ(scanner_->counters().corrupt_found + scanner_->counters().missing_found, 0u);
}

TEST_F(ScannerTest, ARateBoundsThePass) {
  Put(40, 1 << 20);
  Put(41, 1 << 20);
  // 4 MiB/s (a 4 MiB bucket) after the bucket is emptied by a first pass: the second pass of
  // 2 MiB takes about half a second.
  StartScanner(4 << 20, 100ms, 256 * 1024);
  ASSERT_TRUE(WaitFor([&] { return scanner_->counters().replicas_scanned >= 2; }, 10s));
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitFor([&] { return scanner_->counters().replicas_scanned >= 6; }, 20s));
  // Two more passes, 4 MiB: at least ~0.5 s beyond what the bucket held after the first pass.
  EXPECT_GE(std::chrono::steady_clock::now() - start, 300ms);
  EXPECT_GE(scanner_->counters().bytes_scanned, uint64_t{6} << 20);
}

TEST_F(ScannerTest, ASuspectIsVerifiedAgainAtOnce) {
  ReplicaInfo r = Put(60, 10000);
  StartScanner(0, 1h);
  ASSERT_TRUE(WaitFor([&] { return scanner_->counters().replicas_scanned >= 1; }, 10s));
  ASSERT_EQ(::unlink(r.data_path.c_str()), 0);
  // Not due for an hour; marked suspect, it is looked at now.
  scanner_->MarkSuspect(60);
  ASSERT_TRUE(WaitFor([&] { return missing().size() == 1; }, 10s));
  EXPECT_EQ(missing()[0], 60u);
}

TEST_F(ScannerTest, VerifyNowAnswersAtOnce) {
  Put(50, 3000);
  ReplicaInfo bad = Put(51, 3000);
  FlipByte(bad.data_path, 10);
  StartScanner(1, 1h);  // a scanner too slow to matter
  std::string why;
  EXPECT_EQ(scanner_->VerifyNow(50, &why), BlockScanner::Verdict::kGood);
  EXPECT_EQ(scanner_->VerifyNow(51, &why), BlockScanner::Verdict::kCorrupt);
  EXPECT_NE(why.find("checksum"), std::string::npos) << why;
  EXPECT_EQ(scanner_->VerifyNow(52, &why), BlockScanner::Verdict::kSkipped);
}

}  // namespace
}  // namespace talus::datanode
