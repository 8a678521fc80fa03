#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "fuse/write_sequencer.h"
#include "talus/file_system.h"

namespace talus::fuse {

// What the mount keeps about one inode the kernel knows (FUSE node id = Talus inode id).
struct InodeState {
  explicit InodeState(uint64_t inode_id) : id(inode_id) {}

  const uint64_t id;

  // Guards everything below. Held across namenode calls that must not interleave for this
  // inode (opening the writer, closing it), never while taking the table's lock.
  std::mutex mu;
  // One writer per inode, shared by every handle: with the writeback cache the kernel may send a
  // write with any handle of the file. Opened at the first write (or create), closed when the
  // last handle is released.
  std::shared_ptr<RandomWriteFile> writer;
  // Orders the writer's writes (see write_sequencer.h); has its own lock.
  WriteSequencer sequencer;
  // Bumped whenever this mount changes the file's data outside the writer (truncate by path) or
  // closes the writer, so read streams opened before know to reopen.
  uint64_t data_version = 0;
  // The file version (size, mtime) whose pages the kernel may have cached: set at each open
  // and when this mount's writer closes; an open that finds another version drops the cache.
  bool content_known = false;
  int64_t content_size = 0;
  Timestamp content_mtime;
  // The writer here wrote or truncated since it was opened: at its close the mount learns the
  // version it made (the kernel's cache holds exactly those bytes).
  bool wrote = false;
  // The writer is the one `create` made here: closed with nothing written, it is handed to
  // the DeferredCloser instead of being completed at flush (see deferred_closer.h).
  bool created_here = false;
  // A write, flush or fsync failed: the kernel's pages hold data the cluster never took, even
  // while this mount still has a writer. The next open drops them (keep_cache = 0).
  bool cache_distrusted = false;
  // The size the kernel believes (writeback cache only: the kernel takes a regular file's size
  // from the daemon only when it creates the inode, then keeps its own).
  bool kernel_size_known = false;
  int64_t kernel_size = 0;
  // The writeback cache makes the kernel trust its own size of a cached regular file over any
  // size the mount reports, so a file another mount resized would keep its old size here. An
  // open that finds the size changed fails once with ESTALE (`stale_open_bounced`); the VFS
  // then revalidates the name, and that lookup answers ENOENT once (`bounce_next_lookup`), so
  // the kernel drops the dentry and its inode and looks the name up afresh: a new inode with the
  // new size, and the retried open succeeds.
  bool stale_open_bounced = false;
  bool bounce_next_lookup = false;
  // Unlinked while open here: renamed to `hidden_name` in directory `hidden_parent`, deleted at
  // the last release (as NFS clients do).
  bool unlinked = false;
  uint64_t hidden_parent = 0;
  std::string hidden_name;
};

// The inodes the kernel holds (lookup counts) or has open (handle counts). An entry lives while
// either count is above zero. Thread-safe.
class InodeTable {
 public:
  // Adds `n` kernel lookups of `id` (every reply carrying an entry adds one). `was_known`, if
  // given, tells whether the kernel held a reference before (its inode already exists).
  std::shared_ptr<InodeState> AddLookup(uint64_t id, uint64_t n = 1, bool* was_known = nullptr);
  void Forget(uint64_t id, uint64_t n);
  // The inode's state, or null if the kernel holds no reference to it.
  std::shared_ptr<InodeState> Find(uint64_t id);
  // Counts one more open handle (creating the entry if needed).
  std::shared_ptr<InodeState> Open(uint64_t id);
  // Counts one handle less; true when it was the inode's last open handle.
  bool Release(uint64_t id);
  int OpenHandles(uint64_t id);
  // Every inode with a writer (for flushing at unmount).
  std::vector<std::shared_ptr<InodeState>> WithWriters();

 private:
  struct Entry {
    std::shared_ptr<InodeState> state;
    uint64_t nlookup = 0;
    int open_handles = 0;
  };
  void EraseIfUnusedLocked(std::unordered_map<uint64_t, Entry>::iterator it);

  std::mutex mu_;
  std::unordered_map<uint64_t, Entry> inodes_;
};

}  // namespace talus::fuse
