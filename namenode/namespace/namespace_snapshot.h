#pragma once

// Namespace snapshots: the whole durable namenode state (the namespace LevelDB: inodes,
// directory entries, counters, cluster id, retry cache, applied journal index) as one file,
// for a Raft follower that fell behind the leader's compacted log; and the staged install
// that swaps such a file in when the namenode next starts.
//
// Snapshot file (integers little-endian):
//
//   file    = header record* trailer
//   header  = magic "TALUSNSS" | version u32 (=1) | reserved u32 (=0) | applied_index u64
//             | term u64 | entry_count u64                                     (40 bytes)
//   record  = key_length u32 | value_length u32 | key | value
//   trailer = crc u32 | magic "TALUSEND"                                       (12 bytes)
//
// The crc is CRC32C (common/crc32c.h) over the header and every record. Records are the
// database's every key, in strictly increasing bytewise order, and one of them is the applied
// index (keys::kMetaAppliedIndex) equal to the header's. `term` is the term of the entry at
// applied_index when the writer knew it, 0 otherwise (the Raft journal carries the term beside
// the file). A file that is torn, has bytes after its trailer, or fails any check is refused
// with Corruption. The file is written as `<path>.tmp`, fsynced and renamed, so `path` only
// ever names a whole file.
//
// Install by restart, three steps:
//   1. StageNamespaceSnapshot (while the namenode runs on its live namespace, untouched):
//      builds a fresh database in `<namespace_dir>.staged` and completes it with a marker file
//      `<namespace_dir>.staged/STAGED` (index and term), written last and durably.
//   2. The process restarts itself.
//   3. CompleteStagedNamespace, before the namespace is opened: swaps the staged database in
//      (`<dir>` → `<dir>.old`, `<dir>.staged` → `<dir>`, `<dir>.old` removed) and reports the
//      installed index and term, which the namespace keeps in `<dir>/INSTALLED_SNAPSHOT` until
//      ForgetInstalledSnapshot. Every step is crash-safe: whatever point a crash stops it at,
//      the next call finishes the swap or, with no complete staged database, keeps the live
//      one (a staged directory without its marker is removed).

#include <cstdint>
#include <optional>
#include <string>

#include "common/result.h"
#include "namenode/namespace/namespace_store.h"

namespace talus {

// Which journal entry a namespace snapshot ends at.
struct NamespaceSnapshotMeta {
  uint64_t index = 0;
  uint64_t term = 0;
  bool operator==(const NamespaceSnapshotMeta&) const = default;
};

// What a verified snapshot file holds.
struct NamespaceSnapshotInfo {
  NamespaceSnapshotMeta meta;  // meta.term as recorded in the header (0: unknown)
  uint64_t entries = 0;
  uint64_t bytes = 0;  // file size
};

// Writes every key of `store` as one consistent image (a LevelDB snapshot: concurrent journal
// batches are not blocked, and are either wholly in or wholly out) to `path`, replacing any
// file there. Returns the applied index the image holds. `term` goes into the header as is.
Result<uint64_t> WriteNamespaceSnapshot(const NamespaceStore& store, const std::string& path,
                                        uint64_t term = 0);

// Reads the whole file and checks everything the format promises, without writing anything.
Result<NamespaceSnapshotInfo> VerifyNamespaceSnapshot(const std::string& path);

// Verifies the snapshot file (Corruption when it is damaged; InvalidArgument when it holds
// another index than `index`, or names a term other than `term`), then builds
// `<namespace_dir>.staged` from it, replacing leftovers of an earlier attempt, and marks it
// complete. Never touches `namespace_dir` itself. On failure nothing is left staged.
Status StageNamespaceSnapshot(const std::string& snapshot_path, const std::string& namespace_dir,
                              uint64_t index, uint64_t term);

// Call before opening the namespace at `namespace_dir`, on every start. Finishes a staged
// install (or one a crash interrupted) and cleans up after incomplete ones. Returns the
// snapshot the namespace was last replaced with, as long as `<dir>/INSTALLED_SNAPSHOT`
// exists (every start until ForgetInstalledSnapshot), nullopt otherwise. An error means the
// directories are in a state it does not know how to repair: do not open the namespace.
Result<std::optional<NamespaceSnapshotMeta>> CompleteStagedNamespace(
    const std::string& namespace_dir);

// Removes `<dir>/INSTALLED_SNAPSHOT` (durably), once whoever needed the installed snapshot's
// meta (the Raft log reset) has recorded it. OK when there is none.
Status ForgetInstalledSnapshot(const std::string& namespace_dir);

// The directory a snapshot is staged in for `namespace_dir`, and the one the live namespace
// is moved to during the swap.
std::string StagedNamespaceDir(const std::string& namespace_dir);
std::string OldNamespaceDir(const std::string& namespace_dir);

}  // namespace talus
