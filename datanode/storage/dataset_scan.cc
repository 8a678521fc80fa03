// Start-up: open the volumes and rebuild the replica map from what is on disk.
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <set>

#include <glog/logging.h>

#include "common/crc32c.h"
#include "datanode/storage/block_meta.h"
#include "datanode/storage/dataset.h"

namespace talus::datanode {
namespace {

struct DirEntry {
  std::string name;
  bool is_dir = false;
};

Result<std::vector<DirEntry>> ListDir(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return Status::FromErrno(errno, "opendir " + dir);
  std::vector<DirEntry> out;
  errno = 0;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    bool is_dir = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN) {
      DIR* probe = ::opendir((dir + "/" + name).c_str());
      if (probe != nullptr) {
        is_dir = true;
        ::closedir(probe);
      }
    }
    out.push_back({std::move(name), is_dir});
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) return Status::FromErrno(err, "readdir " + dir);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

bool ParseNumber(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v == 0 || v > uint64_t{INT64_MAX}) return false;
  *out = v;
  return true;
}

// "blk_<id>" -> data file; "blk_<id>_<genstamp>.meta" -> meta file.
enum class FileKind { kOther, kData, kMeta };
FileKind ParseReplicaFileName(const std::string& name, uint64_t* id, uint64_t* genstamp) {
  std::string_view s = name;
  if (s.substr(0, 4) != "blk_") return FileKind::kOther;
  s.remove_prefix(4);
  size_t us = s.find('_');
  if (us == std::string_view::npos) return ParseNumber(s, id) ? FileKind::kData : FileKind::kOther;
  constexpr std::string_view kSuffix = ".meta";
  std::string_view rest = s.substr(us + 1);
  if (rest.size() <= kSuffix.size() || rest.substr(rest.size() - kSuffix.size()) != kSuffix) {
    return FileKind::kOther;
  }
  rest.remove_suffix(kSuffix.size());
  if (!ParseNumber(s.substr(0, us), id) || !ParseNumber(rest, genstamp)) return FileKind::kOther;
  return FileKind::kMeta;
}

// The files of one block id found on one volume.
struct FileSet {
  std::string data;                                // path, empty if none
  std::vector<std::pair<uint64_t, std::string>> metas;  // (genstamp, path)
  bool complete() const { return !data.empty() && !metas.empty(); }
  bool empty() const { return data.empty() && metas.empty(); }
};
struct Found {
  FileSet rbw;
  FileSet finalized;
};


Status CollectDir(const std::string& dir, bool finalized, int depth,
                  std::map<uint64_t, Found>* found, std::vector<std::string>* others) {
  ASSIGN_OR_RETURN(auto entries, ListDir(dir));
  for (const auto& e : entries) {
    std::string path = dir + "/" + e.name;
    if (e.is_dir) {
      if (finalized && depth < 2 && e.name.compare(0, 6, "subdir") == 0) {
        RETURN_NOT_OK(CollectDir(path, finalized, depth + 1, found, others));
      } else {
        others->push_back(path);
      }
      continue;
    }
    uint64_t id = 0, gs = 0;
    FileKind kind = ParseReplicaFileName(e.name, &id, &gs);
    if (kind == FileKind::kOther) {
      others->push_back(path);
      continue;
    }
    FileSet& set = finalized ? (*found)[id].finalized : (*found)[id].rbw;
    if (kind == FileKind::kData) {
      if (!set.data.empty()) {
        others->push_back(path);  // the same block twice in finalized/: keep the first
      } else {
        set.data = path;
      }
    } else {
      set.metas.emplace_back(gs, path);
    }
  }
  return Status::OK();
}

// The largest n < len with CRC32C(data[0, n)) == want, or 0.
uint64_t LongestMatchingPrefix(const char* data, uint64_t len, uint32_t want) {
  uint64_t best = 0;
  uint32_t crc = 0;
  for (uint64_t n = 1; n < len; ++n) {
    crc = crc32c::Extend(crc, data + n - 1, 1);
    if (crc == want) best = n;
  }
  return best;
}

}  // namespace

Result<std::unique_ptr<DataSet>> DataSet::Open(const DataSetOptions& options,
                                               ScanReport* report) {
  if (options.volume_dirs.empty()) return Status::InvalidArgument("no volume directories given");
  if (options.max_block_bytes == 0 || options.max_io_bytes == 0) {
    return Status::InvalidArgument("max_block_bytes and max_io_bytes must be positive");
  }
  ScanReport local;
  if (report == nullptr) report = &local;
  std::unique_ptr<DataSet> ds(new DataSet(options));
  std::set<std::string> roots, ids;
  for (const std::string& dir : options.volume_dirs) {
    auto v = Volume::Open(dir, options.reserved_bytes_per_volume);
    if (!v.ok()) {
      report->failed_volumes.push_back(dir + ": " + v.status().ToString());
      LOG(ERROR) << "Volume " << dir << " unusable: " << v.status();
      continue;
    }
    if (!roots.insert((*v)->root()).second) {
      return Status::InvalidArgument("volume " + dir + " is listed twice");
    }
    if (!ids.insert((*v)->storage_id()).second) {
      return Status::InvalidArgument("volume " + dir + " has the storage id " +
                                     (*v)->storage_id() + " of another volume (a copied "
                                     "directory?)");
    }
    ds->volumes_.push_back(std::move(v).value());
  }
  for (auto& v : ds->volumes_) {
    std::vector<std::shared_ptr<Replica>> found;
    Status s = ds->ScanVolume(v.get(), &found, report);
    if (!s.ok()) {
      v->MarkFailed("start-up scan: " + s.ToString());
      report->failed_volumes.push_back(v->root() + ": " + s.ToString());
      continue;
    }
    for (auto& r : found) ds->AddReplicaFromScan(std::move(r), report);
  }
  bool any_healthy = false;
  for (auto& v : ds->volumes_) any_healthy = any_healthy || !v->failed();
  if (!any_healthy) {
    return Status::IoError("no usable volume among " +
                           std::to_string(options.volume_dirs.size()) + " configured");
  }
  for (const auto& r : ds->map_.All()) {
    if (r->info.state == ReplicaState::kFinalized) {
      ++report->finalized;
    } else {
      ++report->rwr;
    }
  }
  LOG(INFO) << "Replica scan: " << report->finalized << " finalized, " << report->rwr
            << " waiting for recovery, " << report->removed_files.size() << " files removed, "
            << report->problems.size() << " problems, " << report->failed_volumes.size()
            << " failed volumes";
  for (const auto& p : report->problems) LOG(WARNING) << "Replica scan: " << p;
  return ds;
}

Status DataSet::ScanVolume(Volume* v, std::vector<std::shared_ptr<Replica>>* out,
                           ScanReport* report) {
  std::map<uint64_t, Found> found;
  std::vector<std::string> others;
  RETURN_NOT_OK(CollectDir(v->rbw_dir(), false, 0, &found, &others));
  RETURN_NOT_OK(CollectDir(v->finalized_dir(), true, 0, &found, &others));
  for (const auto& path : others) {
    bool tmp = path.size() > 4 && path.compare(path.size() - 4, 4, ".tmp") == 0;
    if (tmp && options_.remove_orphans && RemoveFile(path).ok()) {
      report->removed_files.push_back(path);
    } else {
      report->problems.push_back(path + ": not a replica file, left alone");
    }
  }
  auto discard = [&](const std::string& path, const std::string& why) {
    if (options_.remove_orphans) {
      Status s = RemoveFile(path);
      if (s.ok()) {
        report->removed_files.push_back(path);
        return;
      }
      report->problems.push_back(path + ": " + why + "; removing it failed: " + s.ToString());
      return;
    }
    report->problems.push_back(path + ": " + why);
  };
  auto discard_set = [&](const FileSet& set, const std::string& why) {
    if (!set.data.empty()) discard(set.data, why);
    for (const auto& [gs, path] : set.metas) discard(path, why);
  };

  for (auto& [id, f] : found) {
    FileSet set;
    bool finalized = false;
    if (f.finalized.complete()) {
      discard_set(f.rbw, "leftover beside a finalized replica");
      set = f.finalized;
      finalized = true;
    } else if (f.rbw.complete()) {
      discard_set(f.finalized, "leftover beside a replica being written");
      set = f.rbw;
    } else if (!f.rbw.empty() && !f.finalized.empty()) {
      // A crash between the two renames of Finalize or AppendToFinalized: bring the pieces
      // together in rbw/, where recovery decides the length.
      set = f.rbw;
      if (!f.finalized.data.empty()) {
        set.data = v->rbw_dir() + "/" + BlockFileName(id);
        RETURN_NOT_OK(RenameFile(f.finalized.data, set.data));
      }
      for (const auto& [gs, path] : f.finalized.metas) {
        std::string to = v->rbw_dir() + "/" + MetaFileName(id, gs);
        RETURN_NOT_OK(RenameFile(path, to));
        set.metas.emplace_back(gs, to);
      }
      report->problems.push_back(BlockFileName(id) + " on " + v->root() +
                                 ": split between rbw/ and finalized/, recovered as RWR");
    } else {
      discard_set(f.rbw.empty() ? f.finalized : f.rbw,
                  f.rbw.data.empty() && f.finalized.data.empty() ? "meta file without data"
                                                                 : "data file without meta");
      continue;
    }
    if (!set.complete()) {
      discard_set(set, "incomplete replica");
      continue;
    }
    std::sort(set.metas.begin(), set.metas.end());
    for (size_t i = 0; i + 1 < set.metas.size(); ++i) {
      discard(set.metas[i].second, "meta file of an older generation stamp");
    }
    auto r = std::make_shared<Replica>(id);
    r->info.genstamp = set.metas.back().first;
    r->info.volume = v;
    r->info.data_path = set.data;
    r->info.meta_path = set.metas.back().second;
    if (finalized) {
      r->info.state = ReplicaState::kFinalized;
      ASSIGN_OR_RETURN(uint64_t data_size, FileSizeAt(set.data));
      ASSIGN_OR_RETURN(uint64_t meta_size, FileSizeAt(r->info.meta_path));
      ASSIGN_OR_RETURN(std::string header, [&]() -> Result<std::string> {
        ASSIGN_OR_RETURN(ScopedFd fd, OpenFile(r->info.meta_path, O_RDONLY));
        std::string h(std::min<uint64_t>(meta_size, kMetaHeaderBytes), '\0');
        RETURN_NOT_OK(PreadAll(fd.get(), h.data(), h.size(), 0, r->info.meta_path));
        return h;
      }());
      Status hs = DecodeMetaHeader(header, r->info.meta_path);
      if (!hs.ok() || meta_size != MetaFileLength(data_size)) {
        // Kept on disk for inspection but not served: the namenode re-replicates the block.
        report->problems.push_back(
            set.data + ": finalized replica not served: " +
            (hs.ok() ? "meta file is " + std::to_string(meta_size) + " bytes, " +
                           std::to_string(MetaFileLength(data_size)) + " expected for " +
                           std::to_string(data_size) + " data bytes"
                     : hs.ToString()));
        continue;
      }
      r->info.bytes_on_disk = data_size;
    } else {
      r->info.state = ReplicaState::kRwr;
      RETURN_NOT_OK(RecoverRbw(v, r.get(), report));
    }
    out->push_back(std::move(r));
  }
  return Status::OK();
}

// Cuts a replica found in rbw/ to the longest prefix whose chunks all match their checksums.
Status DataSet::RecoverRbw(Volume* v, Replica* r, ScanReport* report) {
  const std::string& data_path = r->info.data_path;
  const std::string& meta_path = r->info.meta_path;
  ASSIGN_OR_RETURN(ScopedFd data, OpenFile(data_path, O_RDWR));
  ASSIGN_OR_RETURN(ScopedFd meta, OpenFile(meta_path, O_RDWR));
  ASSIGN_OR_RETURN(uint64_t data_size, FileSize(data.get(), data_path));
  ASSIGN_OR_RETURN(uint64_t meta_size, FileSize(meta.get(), meta_path));
  uint64_t verified = 0;
  bool header_ok = false;
  if (meta_size >= kMetaHeaderBytes) {
    std::string header(kMetaHeaderBytes, '\0');
    RETURN_NOT_OK(PreadAll(meta.get(), header.data(), header.size(), 0, meta_path));
    header_ok = DecodeMetaHeader(header, meta_path).ok();
  }
  if (header_ok) {
    uint64_t chunks = (meta_size - kMetaHeaderBytes) / kChecksumBytes;
    uint64_t limit = std::min<uint64_t>(data_size, chunks * kBytesPerChecksum);
    constexpr uint64_t kPiece = uint64_t{1} << 20;  // a multiple of the chunk size
    std::string buf, sums;
    bool bad = false;
    while (verified < limit && !bad) {
      uint64_t n = std::min(kPiece, limit - verified);
      buf.resize(n);
      sums.resize(kChecksumBytes * ChunkCount(n));
      RETURN_NOT_OK(PreadAll(data.get(), buf.data(), n, verified, data_path));
      RETURN_NOT_OK(PreadAll(meta.get(), sums.data(), sums.size(), ChecksumOffsetInMeta(verified),
                             meta_path));
      for (uint64_t pos = 0; pos < n; pos += kBytesPerChecksum) {
        uint64_t len = std::min<uint64_t>(kBytesPerChecksum, n - pos);
        uint32_t want = GetChecksum(sums.data() + kChecksumBytes * (pos / kBytesPerChecksum));
        if (crc32c::Value(buf.data() + pos, len) != want) {
          if (verified + len == limit && verified / kBytesPerChecksum + 1 == chunks) {
            // The last checksum may cover a shorter partial chunk than the data now holds
            // (data written, meta not yet updated): keep the longest prefix it matches.
            verified += LongestMatchingPrefix(buf.data() + pos, len, want);
          }
          bad = true;
          break;
        }
        verified += len;
      }
    }
  } else {
    std::string header = EncodeMetaHeader();
    RETURN_NOT_OK(PwriteAll(meta.get(), header.data(), header.size(), 0, meta_path));
  }
  if (verified != data_size || meta_size != MetaFileLength(verified)) {
    report->problems.push_back(data_path + ": replica being written had " +
                               std::to_string(data_size) + " data bytes, " +
                               std::to_string(verified) + " match their checksums; cut to that");
    if (::ftruncate(data.get(), static_cast<off_t>(verified)) != 0) {
      return Status::FromErrno(errno, "truncate " + data_path);
    }
    if (::ftruncate(meta.get(), static_cast<off_t>(MetaFileLength(verified))) != 0) {
      return Status::FromErrno(errno, "truncate " + meta_path);
    }
    RETURN_NOT_OK(Fdatasync(data.get(), data_path));
    RETURN_NOT_OK(Fdatasync(meta.get(), meta_path));
  }
  r->info.bytes_on_disk = verified;
  return Status::OK();
}

void DataSet::DropReplicaFiles(const ReplicaInfo& info, ScanReport* report) {
  ++report->duplicates_dropped;
  for (const std::string* path : {&info.data_path, &info.meta_path}) {
    if (options_.remove_orphans && RemoveFile(*path).ok()) {
      report->removed_files.push_back(*path);
    } else {
      report->problems.push_back(*path + ": older duplicate of a replica on another volume");
    }
  }
}

void DataSet::AddReplicaFromScan(std::shared_ptr<Replica> r, ScanReport* report) {
  auto rank = [](const ReplicaInfo& i) {
    return std::make_tuple(i.genstamp, i.state == ReplicaState::kFinalized ? 1 : 0,
                           i.bytes_on_disk);
  };
  auto existing = map_.Get(r->block_id);
  if (existing != nullptr) {
    bool keep_new = rank(r->info) > rank(existing->info);
    const ReplicaInfo& loser = keep_new ? existing->info : r->info;
    report->problems.push_back(BlockFileName(r->block_id) + ": found on " +
                               existing->info.volume->root() + " and " +
                               r->info.volume->root() + "; dropped the copy on " +
                               loser.volume->root() + " (generation stamp " +
                               std::to_string(loser.genstamp) + ")");
    DropReplicaFiles(loser, report);
    if (!keep_new) return;
    map_.Remove(existing->block_id, existing.get());
    existing->info.volume->AddUsedBytes(
        -static_cast<int64_t>(existing->info.bytes_on_disk +
                              MetaFileLength(existing->info.bytes_on_disk)));
  }
  r->info.volume->AddUsedBytes(
      static_cast<int64_t>(r->info.bytes_on_disk + MetaFileLength(r->info.bytes_on_disk)));
  map_.Insert(std::move(r));
}

}  // namespace talus::datanode
