#include "fuse/deferred_closer.h"

#include <glog/logging.h>

#include <algorithm>

namespace talus::fuse {

DeferredCloser::DeferredCloser(int threads, size_t batch, std::chrono::milliseconds max_delay)
    : batch_(std::max<size_t>(batch, 1)), max_delay_(max_delay) {
  for (int i = 0; i < std::max(threads, 1); ++i) threads_.emplace_back([this] { Loop(); });
}

DeferredCloser::~DeferredCloser() {
  Drain();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void DeferredCloser::Add(uint64_t ino, std::shared_ptr<FileSystem> fs,
                         std::shared_ptr<RandomWriteFile> writer) {
  std::lock_guard<std::mutex> lock(mu_);
  queue_.push_back(Item{ino, std::move(fs), std::move(writer), std::chrono::steady_clock::now()});
  ++pending_[ino];
  if (queue_.size() >= batch_ || queue_.size() == 1 || draining_ > 0) work_cv_.notify_all();
}

void DeferredCloser::CloseItem(Item& item) {
  Status s = item.writer->Close();
  // The file may have been deleted or replaced through another mount meanwhile.
  if (!s.ok()) LOG(WARNING) << "closing created file inode " << item.ino << ": " << s;
  item.writer.reset();
  item.fs.reset();
}

void DeferredCloser::Finish(uint64_t ino) {
  auto it = pending_.find(ino);
  if (it != pending_.end() && --it->second == 0) pending_.erase(it);
  done_cv_.notify_all();
}

void DeferredCloser::Wait(uint64_t ino) {
  std::unique_lock<std::mutex> lock(mu_);
  if (pending_.count(ino) == 0) return;
  for (auto it = queue_.begin(); it != queue_.end();) {
    if (it->ino != ino) {
      ++it;
      continue;
    }
    Item item = std::move(*it);
    it = queue_.erase(it);
    if (release_ > 0) --release_;
    lock.unlock();
    CloseItem(item);
    lock.lock();
    Finish(ino);
    it = queue_.begin();  // the queue may have changed meanwhile
  }
  done_cv_.wait(lock, [&] { return pending_.count(ino) == 0; });
}

void DeferredCloser::Drain() {
  std::unique_lock<std::mutex> lock(mu_);
  ++draining_;
  work_cv_.notify_all();
  done_cv_.wait(lock, [this] { return pending_.empty(); });
  --draining_;
}

void DeferredCloser::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (queue_.empty()) {
      if (stopping_) return;
      work_cv_.wait(lock);
      continue;
    }
    const auto due = queue_.front().added + max_delay_;
    if (release_ == 0 && draining_ == 0 && !stopping_ && queue_.size() < batch_ &&
        std::chrono::steady_clock::now() < due) {
      work_cv_.wait_until(lock, due);
      continue;
    }
    // A batch starts: every waiting close goes out at once, one per thread, so the namenode
    // receives them together.
    if (release_ == 0) {
      release_ = queue_.size();
      work_cv_.notify_all();
    }
    --release_;
    Item item = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    const uint64_t ino = item.ino;
    CloseItem(item);
    lock.lock();
    Finish(ino);
  }
}

}  // namespace talus::fuse
