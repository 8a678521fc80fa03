// talus-bench meta: namenode metadata throughput in the manner of HDFS's NNThroughputBenchmark.
// T threads, each with its own FileSystem (its own namenode connection), run N operations of
// one kind in all. Objects an op needs (files to stat, rename or delete) are made first, untimed.
// The last line printed is one JSON object: op, threads, ops, ops_per_s, p50_us, p99_us.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "bench/benches.h"
#include "talus/file_system.h"

namespace {

struct Args {
  std::string op;
  int threads = 1;
  int64_t ops = 10000;
  std::string fs;
  std::string dir = "/talus-bench";
  std::string user;
  bool keep = false;
};

void Usage() {
  std::fprintf(stderr,
               "Usage: talus-bench meta --op OP --threads T --ops N [-fs URI] [--dir PATH]\n"
               "                        [--user NAME] [--keep]\n"
               "  OP: mkdirs | create | getFileInfo | getListing | rename | delete | stat-root\n"
               "  stat-root (getFileInfo of /, no path walk) measures the bare RPC round trip.\n"
               "  create is create + complete of an empty file. N is the total over all threads.\n"
               "  The file system is -fs, else $TALUS_FS, else the client config.\n");
}

bool ParseArgs(int argc, char** argv, Args* args) {
  if (argc < 2 || std::strcmp(argv[1], "meta") != 0) return false;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&](const char* name) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", name);
        return nullptr;
      }
      return argv[++i];
    };
    const char* v = nullptr;
    if (a == "--op") {
      if (!(v = next("--op"))) return false;
      args->op = v;
    } else if (a == "--threads") {
      if (!(v = next("--threads"))) return false;
      args->threads = std::atoi(v);
    } else if (a == "--ops") {
      if (!(v = next("--ops"))) return false;
      args->ops = std::atoll(v);
    } else if (a == "-fs" || a == "--fs") {
      if (!(v = next("-fs"))) return false;
      args->fs = v;
    } else if (a == "--dir") {
      if (!(v = next("--dir"))) return false;
      args->dir = v;
    } else if (a == "--user") {
      if (!(v = next("--user"))) return false;
      args->user = v;
    } else if (a == "--keep") {
      args->keep = true;
    } else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return false;
    }
  }
  static const char* kOps[] = {"mkdirs", "create", "getFileInfo", "getListing", "rename",
                               "delete", "stat-root"};
  if (std::find_if(std::begin(kOps), std::end(kOps),
                   [&](const char* o) { return args->op == o; }) == std::end(kOps)) {
    std::fprintf(stderr, "unknown --op '%s'\n", args->op.c_str());
    return false;
  }
  if (args->threads < 1 || args->threads > 1024) {
    std::fprintf(stderr, "--threads must be within 1..1024\n");
    return false;
  }
  if (args->ops < 1 || args->ops > 100000000) {
    std::fprintf(stderr, "--ops must be within 1..100000000\n");
    return false;
  }
  return true;
}

}  // namespace

int MetaBenchMain(int argc, char** argv) {
  Args args;
  if (!ParseArgs(argc, argv, &args)) {
    Usage();
    return 2;
  }
  std::string uri;
  if (!ResolveBenchUri(args.fs, &uri)) return 2;
  talus::ClientOptions options;
  options.user = args.user;
  std::vector<std::unique_ptr<talus::FileSystem>> clients;
  for (int t = 0; t < args.threads; ++t) {
    auto fs = talus::FileSystem::Connect(uri, options);
    if (!fs.ok()) {
      std::fprintf(stderr, "talus-bench: %s\n", fs.status().ToString().c_str());
      return 1;
    }
    clients.push_back(std::move(*fs));
  }
  const std::string run_dir =
      args.dir + "/" + args.op + "-" + std::to_string(getpid()) + "-" +
      std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 1000000000);
  // Per-thread directories keep threads from all touching one parent, as the HDFS benchmark's
  // files-per-directory layout does.
  auto thread_dir = [&](int t) { return run_dir + "/t" + std::to_string(t); };
  auto object = [&](int t, int64_t i) { return thread_dir(t) + "/o" + std::to_string(i); };
  const int64_t per_thread = (args.ops + args.threads - 1) / args.threads;
  auto ops_of = [&](int t) {
    return std::max<int64_t>(0, std::min(per_thread, args.ops - per_thread * t));
  };

  std::fprintf(stderr, "preparing %s ...\n", run_dir.c_str());
  for (int t = 0; t < args.threads; ++t) {
    talus::Status s = clients[0]->Mkdirs(thread_dir(t), 0755, true);
    if (!s.ok()) {
      std::fprintf(stderr, "talus-bench: mkdirs %s: %s\n", thread_dir(t).c_str(),
                   s.ToString().c_str());
      return 1;
    }
  }
  const bool needs_objects =
      args.op == "getFileInfo" || args.op == "rename" || args.op == "delete";
  if (needs_objects || args.op == "getListing") {
    std::vector<std::thread> preparers;
    std::atomic<bool> failed{false};
    for (int t = 0; t < args.threads; ++t) {
      preparers.emplace_back([&, t] {
        // getListing lists a directory of 16 entries, like a small user directory.
        int64_t n = args.op == "getListing" ? 16 : ops_of(t);
        for (int64_t i = 0; i < n && !failed; ++i) {
          if (!clients[t]->CreateEmptyFile(object(t, i)).ok()) failed = true;
        }
      });
    }
    for (auto& th : preparers) th.join();
    if (failed) {
      std::fprintf(stderr, "talus-bench: preparing the objects failed\n");
      return 1;
    }
  }

  std::vector<std::vector<uint32_t>> latencies(args.threads);
  std::atomic<int64_t> errors{0};
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < args.threads; ++t) {
    workers.emplace_back([&, t] {
      talus::FileSystem& fs = *clients[t];
      const int64_t n = ops_of(t);
      latencies[t].reserve(n);
      ready.fetch_add(1);
      while (!go.load()) std::this_thread::yield();
      for (int64_t i = 0; i < n; ++i) {
        auto start = std::chrono::steady_clock::now();
        bool ok = true;
        if (args.op == "mkdirs") {
          ok = fs.Mkdirs(object(t, i), 0755, false).ok();
        } else if (args.op == "create") {
          ok = fs.CreateEmptyFile(object(t, i)).ok();
        } else if (args.op == "getFileInfo") {
          ok = fs.GetFileInfo(object(t, i)).ok();
        } else if (args.op == "stat-root") {
          ok = fs.GetFileInfo("/").ok();
        } else if (args.op == "getListing") {
          ok = fs.ListDirectory(thread_dir(t)).ok();
        } else if (args.op == "rename") {
          ok = fs.Rename(object(t, i), object(t, i) + "r", false).ok();
        } else if (args.op == "delete") {
          auto r = fs.Delete(object(t, i), false);
          ok = r.ok() && *r;
        }
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
        if (!ok) errors.fetch_add(1);
        latencies[t].push_back(static_cast<uint32_t>(std::min<int64_t>(us, UINT32_MAX)));
      }
    });
  }
  while (ready.load() < args.threads) std::this_thread::yield();
  auto start = std::chrono::steady_clock::now();
  go.store(true);
  for (auto& th : workers) th.join();
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::vector<uint32_t> all;
  all.reserve(args.ops);
  for (auto& v : latencies) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) -> uint32_t {
    if (all.empty()) return 0;
    size_t idx = static_cast<size_t>(p * (all.size() - 1) + 0.5);
    return all[std::min(idx, all.size() - 1)];
  };
  if (!args.keep) {
    auto removed = clients[0]->Delete(run_dir, true);
    if (!removed.ok()) {
      std::fprintf(stderr, "cleanup of %s failed: %s\n", run_dir.c_str(),
                   removed.status().ToString().c_str());
    }
  }
  if (errors.load() > 0) {
    std::fprintf(stderr, "talus-bench: %lld operations failed\n",
                 static_cast<long long>(errors.load()));
  }
  std::printf("{\"op\":\"%s\",\"threads\":%d,\"ops\":%lld,\"errors\":%lld,\"seconds\":%.3f,"
              "\"ops_per_s\":%.0f,\"p50_us\":%u,\"p99_us\":%u}\n",
              args.op.c_str(), args.threads, static_cast<long long>(all.size()),
              static_cast<long long>(errors.load()), seconds, all.size() / seconds, pct(0.50),
              pct(0.99));
  return errors.load() > 0 ? 1 : 0;
}
