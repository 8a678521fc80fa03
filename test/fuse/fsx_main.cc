// talus-fsx: a file system exerciser in the spirit of fsx. It applies random operations to one
// file (writes at random offsets and lengths, truncates up and down, reads, mapped reads and
// writes, fsync, close and reopen) and to an in-memory model of what the file must contain, and compares every
// byte the file returns with the model. On the first difference (or failed call) it prints the
// operations that led there and exits 1; the same --seed replays the same operations.
//
//   talus-fsx --file=/mnt/talus/fsx.dat --seed=7 --ops=5000
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include <gflags/gflags.h>

DEFINE_string(file, "", "The file to exercise; created (or emptied) at the start.");
DEFINE_uint64(seed, 1, "Seed of the random operations; the same seed repeats the same run.");
DEFINE_int64(ops, 10000, "How many operations to run.");
DEFINE_int64(max_file_bytes, 1 << 20, "Writes and truncates keep the file at most this long.");
DEFINE_int64(max_op_bytes, 64 << 10, "Longest single write or read, in bytes.");
DEFINE_bool(odirect, false, "Open the file with O_DIRECT (no mapped reads then).");
DEFINE_bool(mmap_reads, true, "Also read through shared read-only mappings of the file.");
DEFINE_bool(mmap_writes, true, "Also write through shared writable mappings of the file (within "
            "its size), with msync or without.");
DEFINE_int32(log_ops, 200, "How many of the last operations to print on failure (-1: all).");
DEFINE_bool(verbose, false, "Print every operation as it runs.");
DEFINE_bool(unlink_at_end, false, "Remove the file after a successful run.");
DEFINE_int64(inject_corruption_at_op, 0, "Self-test: after this operation, change one byte of the "
             "file behind the model's back (the run must then fail).");
DEFINE_string(model_out, "", "After a successful run, write what the file must contain to this "
              "path (to compare with the file as seen from elsewhere).");

namespace {

enum class OpKind { kWrite, kRead, kMapRead, kTruncate, kFsync, kReopen, kCheckAll, kMapWrite };

const char* OpName(OpKind k) {
  switch (k) {
    case OpKind::kWrite: return "write";
    case OpKind::kRead: return "read";
    case OpKind::kMapRead: return "mapread";
    case OpKind::kTruncate: return "truncate";
    case OpKind::kFsync: return "fsync";
    case OpKind::kReopen: return "reopen";
    case OpKind::kCheckAll: return "checkall";
    case OpKind::kMapWrite: return "mapwrite";
  }
  return "?";
}

struct OpRecord {
  int64_t n = 0;
  OpKind kind = OpKind::kRead;
  int64_t offset = 0;
  int64_t length = 0;
  int64_t size_before = 0;
  int64_t size_after = 0;
};

std::string Describe(const OpRecord& op) {
  char buf[200];
  std::snprintf(buf, sizeof(buf),
                "#%-7" PRId64 " %-8s off 0x%08" PRIx64 " len 0x%06" PRIx64 "  size 0x%08" PRIx64
                " -> 0x%08" PRIx64,
                op.n, OpName(op.kind), static_cast<uint64_t>(op.offset),
                static_cast<uint64_t>(op.length), static_cast<uint64_t>(op.size_before),
                static_cast<uint64_t>(op.size_after));
  return buf;
}

// The byte operation `n` writes at file offset `pos`: never zero (holes read as zero), and
// different for different operations, so a wrong byte tells which write it came from.
uint8_t PatternByte(int64_t n, int64_t pos) {
  return static_cast<uint8_t>((n * 7 + pos) % 255 + 1);
}

class Exerciser {
 public:
  Exerciser() : rng_(FLAGS_seed) {}

  int Run() {
    fd_ = ::open(FLAGS_file.c_str(), OpenFlags() | O_CREAT | O_TRUNC, 0644);
    if (fd_ < 0) return SysFail("open (create)");
    auto start = std::chrono::steady_clock::now();
    for (int64_t n = 1; n <= FLAGS_ops; ++n) {
      OpRecord op;
      op.n = n;
      op.kind = PickOp();
      op.size_before = Size();
      int rc = Apply(&op);
      op.size_after = Size();
      Remember(op);
      if (FLAGS_verbose) std::printf("%s\n", Describe(op).c_str());
      if (rc != 0) return Fail(rc == 1 ? "contents differ" : "a call failed");
      if (n == FLAGS_inject_corruption_at_op && Size() > 0) {
        const uint8_t wrong = static_cast<uint8_t>(model_[static_cast<size_t>(Size() / 2)] ^ 0x5a);
        if (::pwrite(fd_, &wrong, 1, Size() / 2) != 1) return SysFail("pwrite (injected)");
      }
      if (int s = CheckSize(); s != 0) return Fail("size differs");
    }
    // A fresh descriptor must see everything the last one wrote.
    OpRecord last;
    last.n = FLAGS_ops + 1;
    last.kind = OpKind::kReopen;
    last.size_before = last.size_after = Size();
    if (Reopen() != 0 || CheckAll() != 0) {
      Remember(last);
      return Fail("final check after reopen");
    }
    ::close(fd_);
    if (!FLAGS_model_out.empty() && WriteModel() != 0) return 2;
    if (FLAGS_unlink_at_end && ::unlink(FLAGS_file.c_str()) != 0) return SysFail("unlink");
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("talus-fsx: seed %" PRIu64 ": %" PRId64 " operations OK in %.1f s (", FLAGS_seed,
                FLAGS_ops, seconds);
    for (size_t k = 0; k < counts_.size(); ++k) {
      std::printf("%s%s %" PRId64, k ? ", " : "", OpName(static_cast<OpKind>(k)), counts_[k]);
    }
    std::printf("); final size %" PRId64 "\n", Size());
    return 0;
  }

 private:
  int OpenFlags() const { return O_RDWR | (FLAGS_odirect ? O_DIRECT : 0); }
  int64_t Size() const { return static_cast<int64_t>(model_.size()); }
  int64_t Rand(int64_t bound) {  // [0, bound)
    return bound <= 0 ? 0 : static_cast<int64_t>(rng_() % static_cast<uint64_t>(bound));
  }

  OpKind PickOp() {
    // Weights: mostly writes and reads; the operations that reach the cluster (fsync, reopen)
    // often enough to interleave with everything else.
    struct Choice {
      OpKind kind;
      int weight;
    };
    const bool maps = FLAGS_mmap_reads && !FLAGS_odirect;
    const Choice choices[] = {{OpKind::kWrite, 40},        {OpKind::kRead, 25},
                              {OpKind::kMapRead, maps ? 8 : 0}, {OpKind::kTruncate, 8},
                              {OpKind::kFsync, 3},         {OpKind::kReopen, 3},
                              {OpKind::kCheckAll, 1},
                              {OpKind::kMapWrite, FLAGS_mmap_writes && !FLAGS_odirect ? 4 : 0}};
    int total = 0;
    for (const Choice& c : choices) total += c.weight;
    int r = static_cast<int>(Rand(total));
    for (const Choice& c : choices) {
      if (r < c.weight) return c.kind;
      r -= c.weight;
    }
    return OpKind::kRead;
  }

  // 0: fine; 1: contents differ; 2: a call failed.
  int Apply(OpRecord* op) {
    counts_[static_cast<size_t>(op->kind)]++;
    switch (op->kind) {
      case OpKind::kWrite: {
        // A quarter of the writes land at or past the end (appends and holes).
        int64_t offset = Rand(4) == 0 ? Size() + Rand(FLAGS_max_op_bytes)
                                      : Rand(std::max<int64_t>(Size(), 1));
        offset = std::min(offset, FLAGS_max_file_bytes - 1);
        int64_t length = 1 + Rand(FLAGS_max_op_bytes);
        length = std::min(length, FLAGS_max_file_bytes - offset);
        op->offset = offset;
        op->length = length;
        return Write(op->n, offset, length);
      }
      case OpKind::kRead: {
        int64_t offset = Rand(Size() + 4096);  // some start past the end
        int64_t length = 1 + Rand(FLAGS_max_op_bytes);
        op->offset = offset;
        op->length = length;
        return Read(offset, length);
      }
      case OpKind::kMapRead: {
        if (Size() == 0) return 0;
        int64_t offset = Rand(Size());
        int64_t length = 1 + Rand(std::min(FLAGS_max_op_bytes, Size() - offset));
        op->offset = offset;
        op->length = length;
        return MapRead(offset, length);
      }
      case OpKind::kTruncate: {
        // Half cut within the file, half anywhere up to the limit (extensions read as zeros).
        int64_t size = Rand(2) == 0 ? Rand(Size() + 1) : Rand(FLAGS_max_file_bytes + 1);
        op->offset = size;
        if (::ftruncate(fd_, size) != 0) return SysFail("ftruncate");
        model_.resize(static_cast<size_t>(size), 0);
        return 0;
      }
      case OpKind::kFsync:
        if (::fsync(fd_) != 0) return SysFail("fsync");
        return 0;
      case OpKind::kReopen:
        return Reopen();
      case OpKind::kCheckAll:
        op->length = Size();
        return CheckAll();
      case OpKind::kMapWrite: {
        if (Size() == 0) return 0;
        int64_t offset = Rand(Size());
        int64_t length = 1 + Rand(std::min(FLAGS_max_op_bytes, Size() - offset));
        op->offset = offset;
        op->length = length;
        return MapWrite(op->n, offset, length);
      }
    }
    return 0;
  }

  int Write(int64_t n, int64_t offset, int64_t length) {
    std::vector<uint8_t> buf(static_cast<size_t>(length));
    for (int64_t i = 0; i < length; ++i) buf[static_cast<size_t>(i)] = PatternByte(n, offset + i);
    int64_t done = 0;
    while (done < length) {
      ssize_t w = ::pwrite(fd_, buf.data() + done, static_cast<size_t>(length - done),
                           offset + done);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return SysFail("pwrite");
      done += w;
    }
    if (offset + length > Size()) model_.resize(static_cast<size_t>(offset + length), 0);
    std::memcpy(model_.data() + offset, buf.data(), buf.size());
    return 0;
  }

  int Read(int64_t offset, int64_t length) {
    std::vector<uint8_t> buf(static_cast<size_t>(length));
    int64_t done = 0;
    while (done < length) {
      ssize_t r = ::pread(fd_, buf.data() + done, static_cast<size_t>(length - done),
                          offset + done);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return SysFail("pread");
      if (r == 0) break;
      done += r;
    }
    const int64_t expected = std::max<int64_t>(0, std::min(length, Size() - offset));
    if (done != expected) {
      std::fprintf(stderr, "talus-fsx: read at 0x%" PRIx64 " of 0x%" PRIx64 " bytes returned 0x%" PRIx64
                   " bytes, the model has 0x%" PRIx64 "\n",
                   offset, length, done, expected);
      return 1;
    }
    return Compare(offset, buf.data(), done, "read");
  }

  int MapRead(int64_t offset, int64_t length) {
    const int64_t page = ::sysconf(_SC_PAGESIZE);
    const int64_t start = offset / page * page;
    const size_t span = static_cast<size_t>(offset + length - start);
    void* map = ::mmap(nullptr, span, PROT_READ, MAP_SHARED, fd_, start);
    if (map == MAP_FAILED) return SysFail("mmap");
    std::vector<uint8_t> copy(static_cast<size_t>(length));
    std::memcpy(copy.data(), static_cast<const uint8_t*>(map) + (offset - start), copy.size());
    ::munmap(map, span);
    return Compare(offset, copy.data(), length, "mapped read");
  }

  // Writes through a shared mapping (which cannot extend the file), msync'ed half the time;
  // the rest reaches the daemon at a later fsync, close or writeback.
  int MapWrite(int64_t n, int64_t offset, int64_t length) {
    const int64_t page = ::sysconf(_SC_PAGESIZE);
    const int64_t start = offset / page * page;
    const size_t span = static_cast<size_t>(offset + length - start);
    void* map = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, start);
    if (map == MAP_FAILED) return SysFail("mmap (writable)");
    uint8_t* bytes = static_cast<uint8_t*>(map) + (offset - start);
    for (int64_t i = 0; i < length; ++i) {
      bytes[i] = PatternByte(n, offset + i);
      model_[static_cast<size_t>(offset + i)] = bytes[i];
    }
    if (Rand(2) == 0 && ::msync(map, span, MS_SYNC) != 0) {
      ::munmap(map, span);
      return SysFail("msync");
    }
    ::munmap(map, span);
    return 0;
  }

  int CheckAll() {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return SysFail("fstat");
    if (st.st_size != Size()) return ReportSize(st.st_size);
    return Read(0, std::max<int64_t>(Size(), 1));
  }

  int Reopen() {
    if (::close(fd_) != 0) {
      fd_ = -1;
      return SysFail("close");
    }
    fd_ = ::open(FLAGS_file.c_str(), OpenFlags());
    if (fd_ < 0) return SysFail("open");
    return 0;
  }

  int WriteModel() {
    FILE* out = std::fopen(FLAGS_model_out.c_str(), "wb");
    if (out == nullptr ||
        std::fwrite(model_.data(), 1, model_.size(), out) != model_.size() ||
        std::fclose(out) != 0) {
      std::fprintf(stderr, "talus-fsx: cannot write %s: %s\n", FLAGS_model_out.c_str(),
                   std::strerror(errno));
      return 2;
    }
    return 0;
  }

  int CheckSize() {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return SysFail("fstat");
    return st.st_size == Size() ? 0 : ReportSize(st.st_size);
  }

  int ReportSize(int64_t got) {
    std::fprintf(stderr, "talus-fsx: the file is 0x%" PRIx64 " bytes long, the model 0x%" PRIx64 "\n",
                 got, Size());
    return 1;
  }

  int Compare(int64_t offset, const uint8_t* got, int64_t length, const char* how) {
    for (int64_t i = 0; i < length; ++i) {
      const uint8_t want = model_[static_cast<size_t>(offset + i)];
      if (got[i] == want) continue;
      int64_t bad = 0;
      for (int64_t j = i; j < length; ++j) {
        bad += got[j] != model_[static_cast<size_t>(offset + j)] ? 1 : 0;
      }
      std::fprintf(stderr,
                   "talus-fsx: %s at 0x%" PRIx64 ": first wrong byte at 0x%" PRIx64
                   " (got 0x%02x, want 0x%02x); %" PRId64 " of the 0x%" PRIx64
                   " bytes from there differ\n",
                   how, offset, offset + i, got[i], want, bad, length - i);
      std::fprintf(stderr, "  got :");
      for (int64_t j = i; j < std::min(length, i + 16); ++j) std::fprintf(stderr, " %02x", got[j]);
      std::fprintf(stderr, "\n  want:");
      for (int64_t j = i; j < std::min(length, i + 16); ++j) {
        std::fprintf(stderr, " %02x", model_[static_cast<size_t>(offset + j)]);
      }
      std::fprintf(stderr, "\n");
      return 1;
    }
    return 0;
  }

  int SysFail(const char* what) {
    std::fprintf(stderr, "talus-fsx: %s of %s failed: %s\n", what, FLAGS_file.c_str(),
                 std::strerror(errno));
    return 2;
  }

  void Remember(const OpRecord& op) {
    log_.push_back(op);
    if (FLAGS_log_ops >= 0 && log_.size() > static_cast<size_t>(FLAGS_log_ops)) log_.pop_front();
  }

  int Fail(const char* why) {
    std::fprintf(stderr, "talus-fsx: seed %" PRIu64 ": FAILED (%s) at operation %" PRId64
                 "; the last %zu operations:\n",
                 FLAGS_seed, why, log_.empty() ? int64_t{0} : log_.back().n, log_.size());
    for (const OpRecord& op : log_) std::fprintf(stderr, "  %s\n", Describe(op).c_str());
    std::fprintf(stderr, "replay: talus-fsx --file=%s --seed=%" PRIu64 " --ops=%" PRId64
                 " --max_file_bytes=%" PRId64 " --max_op_bytes=%" PRId64 "%s%s%s\n",
                 FLAGS_file.c_str(), FLAGS_seed, FLAGS_ops, FLAGS_max_file_bytes,
                 FLAGS_max_op_bytes, FLAGS_odirect ? " --odirect" : "",
                 FLAGS_mmap_reads ? "" : " --nommap_reads",
                 FLAGS_mmap_writes ? "" : " --nommap_writes");
    return 1;
  }

  std::mt19937_64 rng_;
  int fd_ = -1;
  std::vector<uint8_t> model_;
  std::deque<OpRecord> log_;
  std::vector<int64_t> counts_ = std::vector<int64_t>(8, 0);
};

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage("talus-fsx --file=PATH [--seed=N] [--ops=N]: random file operations "
                          "checked byte for byte against an in-memory model");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  if (FLAGS_file.empty()) {
    std::fprintf(stderr, "talus-fsx: --file is required\n");
    return 2;
  }
  if (FLAGS_ops < 0 || FLAGS_max_file_bytes < 1 || FLAGS_max_op_bytes < 1) {
    std::fprintf(stderr, "talus-fsx: --ops must be >= 0, --max_file_bytes and --max_op_bytes >= 1\n");
    return 2;
  }
  return Exerciser().Run();
}
