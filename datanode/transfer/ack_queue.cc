#include "datanode/transfer/ack_queue.h"

namespace talus::datanode {

bool AckQueue::Push(const Entry& entry) {
  std::unique_lock<std::mutex> l(mu_);
  room_.wait(l, [&] { return aborted_ || count_ < ring_.size(); });
  if (aborted_) return false;
  ring_[(head_ + count_) % ring_.size()] = entry;
  ++count_;
  l.unlock();
  changed_.notify_one();
  return true;
}

void AckQueue::MarkNewestWritten(transfer::TransferStatus status) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (count_ == 0) return;
    Entry& e = ring_[(head_ + count_ - 1) % ring_.size()];
    e.written = true;
    e.status = status;
  }
  changed_.notify_one();
}

bool AckQueue::WaitFront(Entry* entry) {
  std::unique_lock<std::mutex> l(mu_);
  changed_.wait(l, [&] { return aborted_ || count_ > 0; });
  if (aborted_) return false;
  *entry = ring_[head_];
  return true;
}

bool AckQueue::WaitFrontWritten(Entry* entry) {
  std::unique_lock<std::mutex> l(mu_);
  changed_.wait(l, [&] { return aborted_ || (count_ > 0 && ring_[head_].written); });
  if (aborted_) return false;
  *entry = ring_[head_];
  return true;
}

void AckQueue::PopFront() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (count_ == 0) return;
    head_ = (head_ + 1) % ring_.size();
    --count_;
  }
  room_.notify_one();
}

void AckQueue::Abort() {
  {
    std::lock_guard<std::mutex> l(mu_);
    aborted_ = true;
  }
  changed_.notify_all();
  room_.notify_all();
}

bool AckQueue::aborted() const {
  std::lock_guard<std::mutex> l(mu_);
  return aborted_;
}

}  // namespace talus::datanode
