// talus-bench io: data throughput in the manner of HDFS's TestDFSIO. K client threads, each with
// its own FileSystem, write (or read back) N files of M MiB in all under /benchmarks/io/io_data,
// file i handled by thread i % K. Writes use 1 MiB calls with freshly generated pseudo-random
// bytes and end with Close (every replica finalized and durable); reads consume every byte in
// 1 MiB calls. The clock runs from the moment all threads start to the last Close.
// The last line printed is one JSON object: mode, clients, files, bytes, seconds, mb_per_s.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/benches.h"
#include "talus/file_system.h"

namespace {

constexpr int64_t kMiB = 1 << 20;
constexpr size_t kIoBytes = 1 << 20;  // bytes per Write / Read call, as TestDFSIO's buffer

struct IoArgs {
  std::string mode;
  int clients = 1;
  int files = 1;
  int64_t size_mb = 128;
  std::string fs;
  int replication = 3;
  int64_t block_size_mb = 0;  // 0: the client's default
  std::string dir = "/benchmarks/io";
};

void IoUsage() {
  std::fprintf(stderr,
               "Usage: talus-bench io --mode write|read --clients K --files N --size-mb M\n"
               "                      [-fs URI] [--replication R] [--block-size-mb B]\n"
               "                      [--dir PATH]\n"
               "  K threads (each its own client) write or read N files of M MiB in all,\n"
               "  PATH/io_data/file_<i> (PATH defaults to /benchmarks/io). Run write before\n"
               "  read with the same N and M. The file system is -fs, else $TALUS_FS, else the\n"
               "  client config.\n");
}

bool ParseIoArgs(int argc, char** argv, IoArgs* args) {
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        return nullptr;
      }
      return argv[++i];
    };
    const char* v = nullptr;
    if (a == "--mode") {
      if (!(v = value())) return false;
      args->mode = v;
    } else if (a == "--clients") {
      if (!(v = value())) return false;
      args->clients = std::atoi(v);
    } else if (a == "--files") {
      if (!(v = value())) return false;
      args->files = std::atoi(v);
    } else if (a == "--size-mb") {
      if (!(v = value())) return false;
      args->size_mb = std::atoll(v);
    } else if (a == "-fs" || a == "--fs") {
      if (!(v = value())) return false;
      args->fs = v;
    } else if (a == "--replication") {
      if (!(v = value())) return false;
      args->replication = std::atoi(v);
    } else if (a == "--block-size-mb") {
      if (!(v = value())) return false;
      args->block_size_mb = std::atoll(v);
    } else if (a == "--dir") {
      if (!(v = value())) return false;
      args->dir = v;
    } else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return false;
    }
  }
  if (args->mode != "write" && args->mode != "read") {
    std::fprintf(stderr, "--mode must be write or read\n");
    return false;
  }
  if (args->clients < 1 || args->clients > 256) {
    std::fprintf(stderr, "--clients must be within 1..256\n");
    return false;
  }
  if (args->files < 1 || args->files > 100000) {
    std::fprintf(stderr, "--files must be within 1..100000\n");
    return false;
  }
  if (args->size_mb < 1 || args->size_mb > 1024 * 1024) {
    std::fprintf(stderr, "--size-mb must be within 1..1048576\n");
    return false;
  }
  if (args->replication < 1 || args->replication > 32) {
    std::fprintf(stderr, "--replication must be within 1..32\n");
    return false;
  }
  if (args->block_size_mb < 0 || args->block_size_mb > 64 * 1024) {
    std::fprintf(stderr, "--block-size-mb must be within 1..65536\n");
    return false;
  }
  return true;
}

// xorshift64*: a few cycles per 8 bytes, so generating fresh data costs little next to
// checksumming and copying it.
class RandomBytes {
 public:
  explicit RandomBytes(uint64_t seed) : state_(seed | 1) {}
  void Fill(char* buf, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      uint64_t v = Next();
      std::memcpy(buf + i, &v, 8);
    }
    uint64_t v = Next();
    std::memcpy(buf + i, &v, n - i);
  }

 private:
  uint64_t Next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545F4914F6CDD1DULL;
  }
  uint64_t state_;
};

talus::Status WriteOne(talus::FileSystem* fs, const std::string& path, const IoArgs& args,
                       RandomBytes* random, char* buf) {
  talus::CreateOptions options;
  options.overwrite = true;
  options.replication = static_cast<int16_t>(args.replication);
  options.block_size = args.block_size_mb * kMiB;
  talus::Result<std::unique_ptr<talus::OutputStream>> out = fs->Create(path, options);
  if (!out.ok()) return out.status();
  int64_t left = args.size_mb * kMiB;
  while (left > 0) {
    size_t n = static_cast<size_t>(std::min<int64_t>(left, kIoBytes));
    random->Fill(buf, n);
    talus::Status s = (*out)->Write(buf, n);
    if (!s.ok()) return s;
    left -= static_cast<int64_t>(n);
  }
  return (*out)->Close();
}

talus::Result<int64_t> ReadOne(talus::FileSystem* fs, const std::string& path, char* buf) {
  talus::Result<std::unique_ptr<talus::InputStream>> in = fs->Open(path);
  if (!in.ok()) return in.status();
  int64_t total = 0;
  while (true) {
    talus::Result<size_t> n = (*in)->Read(buf, kIoBytes);
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    total += static_cast<int64_t>(*n);
  }
  talus::Status s = (*in)->Close();
  if (!s.ok()) return s;
  return total;
}

}  // namespace

int IoBenchMain(int argc, char** argv) {
  IoArgs args;
  if (!ParseIoArgs(argc, argv, &args)) {
    IoUsage();
    return 2;
  }
  std::string uri;
  if (!ResolveBenchUri(args.fs, &uri)) return 2;
  std::vector<std::unique_ptr<talus::FileSystem>> clients;
  for (int t = 0; t < args.clients; ++t) {
    auto fs = talus::FileSystem::Connect(uri);
    if (!fs.ok()) {
      std::fprintf(stderr, "talus-bench: %s\n", fs.status().ToString().c_str());
      return 1;
    }
    clients.push_back(std::move(*fs));
  }
  const std::string data_dir = args.dir + "/io_data";
  auto file_path = [&](int i) { return data_dir + "/file_" + std::to_string(i); };
  if (args.mode == "write") {
    talus::Status s = clients[0]->Mkdirs(data_dir, 0755, true);
    if (!s.ok()) {
      std::fprintf(stderr, "talus-bench: mkdirs %s: %s\n", data_dir.c_str(), s.ToString().c_str());
      return 1;
    }
  } else {
    // Reading files of another size would measure something else: refuse it.
    for (int i = 0; i < args.files; ++i) {
      auto info = clients[0]->GetFileInfo(file_path(i));
      if (!info.ok() || info->length != args.size_mb * kMiB) {
        std::fprintf(stderr, "talus-bench: %s is missing or not %lld MiB; run --mode write first\n",
                     file_path(i).c_str(), static_cast<long long>(args.size_mb));
        return 1;
      }
    }
  }
  std::fprintf(stderr, "%s %d files of %lld MiB with %d clients in %s ...\n",
               args.mode == "write" ? "writing" : "reading", args.files,
               static_cast<long long>(args.size_mb), args.clients, data_dir.c_str());

  std::atomic<int64_t> bytes{0};
  std::atomic<int> failures{0};
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < args.clients; ++t) {
    workers.emplace_back([&, t] {
      std::unique_ptr<char[]> buf(new char[kIoBytes]);
      RandomBytes random(
          0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(t + 1) +
          static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
      ready.fetch_add(1);
      while (!go.load()) std::this_thread::yield();
      for (int i = t; i < args.files; i += args.clients) {
        if (args.mode == "write") {
          talus::Status s = WriteOne(clients[t].get(), file_path(i), args, &random, buf.get());
          if (!s.ok()) {
            std::fprintf(stderr, "talus-bench: write %s: %s\n", file_path(i).c_str(),
                         s.ToString().c_str());
            failures.fetch_add(1);
            continue;
          }
          bytes.fetch_add(args.size_mb * kMiB);
        } else {
          talus::Result<int64_t> n = ReadOne(clients[t].get(), file_path(i), buf.get());
          if (!n.ok() || *n != args.size_mb * kMiB) {
            std::fprintf(stderr, "talus-bench: read %s: %s\n", file_path(i).c_str(),
                         n.ok() ? "short read" : n.status().ToString().c_str());
            failures.fetch_add(1);
            continue;
          }
          bytes.fetch_add(*n);
        }
      }
    });
  }
  while (ready.load() < args.clients) std::this_thread::yield();
  auto start = std::chrono::steady_clock::now();
  go.store(true);
  for (std::thread& w : workers) w.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (failures.load() > 0) {
    std::fprintf(stderr, "talus-bench: %d files failed\n", failures.load());
  }
  double mb_per_s = seconds > 0 ? static_cast<double>(bytes.load()) / kMiB / seconds : 0;
  std::printf(
      "{\"mode\":\"%s\",\"clients\":%d,\"files\":%d,\"bytes\":%lld,\"seconds\":%.3f,"
      "\"mb_per_s\":%.1f}\n",
      args.mode.c_str(), args.clients, args.files, static_cast<long long>(bytes.load()), seconds,
      mb_per_s);
  return failures.load() > 0 ? 1 : 0;
}
