// talus_word_count URI DIR [--threads N]
//
// A small batch job on the public Talus client API: counts the words of every file below DIR
// (recursively) with N threads, then prints "word<TAB>count" lines sorted by word (byte order,
// as `LC_ALL=C sort`). A word is a maximal run of bytes other than space, tab and newline, so
// the counts match `cat FILES | tr -s ' \n\t' '\n' | sort | uniq -c` for files that end in a
// newline.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "talus/file_system.h"

namespace {

using Counts = std::unordered_map<std::string, int64_t>;

constexpr size_t kReadBytes = 1 << 20;

bool IsSeparator(char c) { return c == ' ' || c == '\n' || c == '\t'; }

// Every file below `dir`, depth first.
talus::Status ListFiles(talus::FileSystem* fs, const std::string& dir,
                        std::vector<std::string>* files) {
  talus::Result<std::vector<talus::FileInfo>> entries = fs->ListDirectory(dir);
  if (!entries.ok()) return entries.status();
  for (const talus::FileInfo& entry : *entries) {
    std::string path = dir == "/" ? "/" + entry.name : dir + "/" + entry.name;
    if (entry.IsDirectory()) {
      talus::Status s = ListFiles(fs, path, files);
      if (!s.ok()) return s;
    } else if (entry.IsFile()) {
      files->push_back(path);
    }
  }
  return talus::Status::OK();
}

// Adds the words of one file to `counts`. A word cut by a read boundary is carried over.
talus::Status CountFile(talus::FileSystem* fs, const std::string& path, Counts* counts,
                        std::vector<char>* buf) {
  talus::Result<std::unique_ptr<talus::InputStream>> in = fs->Open(path);
  if (!in.ok()) return in.status();
  std::string partial;
  while (true) {
    talus::Result<size_t> n = (*in)->Read(buf->data(), buf->size());
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    const char* p = buf->data();
    const char* end = p + *n;
    while (p < end) {
      const char* word = p;
      while (p < end && !IsSeparator(*p)) ++p;
      if (p == end) {  // the word may go on in the next read
        partial.append(word, p);
        break;
      }
      if (!partial.empty()) {
        partial.append(word, p);
        ++(*counts)[partial];
        partial.clear();
      } else if (p > word) {
        ++(*counts)[std::string(word, p)];
      }
      ++p;  // the separator
    }
  }
  if (!partial.empty()) ++(*counts)[partial];
  return (*in)->Close();
}

int Usage() {
  std::fprintf(stderr, "Usage: talus_word_count URI DIR [--threads N]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return Usage();
  std::string uri = argv[1];
  std::string dir = argv[2];
  int threads = 4;
  for (int i = 3; i < argc; ++i) {
    if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else {
      return Usage();
    }
  }
  if (threads < 1 || threads > 256) {
    std::fprintf(stderr, "talus_word_count: --threads must be within 1..256\n");
    return 2;
  }

  talus::Result<std::unique_ptr<talus::FileSystem>> fs = talus::FileSystem::Connect(uri);
  if (!fs.ok()) {
    std::fprintf(stderr, "talus_word_count: %s\n", fs.status().ToString().c_str());
    return 1;
  }
  std::vector<std::string> files;
  talus::Status listed = ListFiles(fs->get(), dir, &files);
  if (!listed.ok()) {
    std::fprintf(stderr, "talus_word_count: %s: %s\n", dir.c_str(), listed.ToString().c_str());
    return 1;
  }

  // Threads take the next file until none is left; one FileSystem serves them all.
  std::atomic<size_t> next{0};
  std::vector<Counts> partial_counts(threads);
  std::mutex error_mu;
  std::string first_error;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::vector<char> buf(kReadBytes);
      for (size_t i = next++; i < files.size(); i = next++) {
        talus::Status s = CountFile(fs->get(), files[i], &partial_counts[t], &buf);
        if (!s.ok()) {
          std::lock_guard<std::mutex> lock(error_mu);
          if (first_error.empty()) first_error = files[i] + ": " + s.ToString();
        }
      }
    });
  }
  for (std::thread& w : workers) w.join();
  if (!first_error.empty()) {
    std::fprintf(stderr, "talus_word_count: %s\n", first_error.c_str());
    return 1;
  }

  // std::string orders by unsigned bytes, as `LC_ALL=C sort` does.
  std::map<std::string, int64_t> total;
  for (Counts& counts : partial_counts) {
    for (auto& [word, n] : counts) total[word] += n;
  }
  for (const auto& [word, n] : total) {
    std::fwrite(word.data(), 1, word.size(), stdout);
    std::printf("\t%lld\n", static_cast<long long>(n));
  }
  return 0;
}
