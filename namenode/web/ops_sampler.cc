#include "namenode/web/ops_sampler.h"

#include <algorithm>
#include <array>
#include <chrono>

namespace talus::web {

namespace {

constexpr std::array<std::string_view, 8> kReads = {
    "getFileInfo",       "getListing",    "getContentSummary", "getStats",
    "getBlockLocations", "getFileHealth", "getDatanodeReport", "listCorruptFileBlocks"};

constexpr std::array<std::string_view, 23> kWrites = {
    "mkdirs",          "create",         "deletePath",           "rename",
    "setPermission",   "setOwner",       "setTimes",             "setReplication",
    "append",          "addBlock",       "abandonBlock",         "complete",
    "updatePipeline",  "createSymlink",  "openForOverwrite",     "allocateBlock",
    "commitBlocks",    "reportBadBlocks", "updateBlockForPipeline", "getAdditionalDatanode",
    "setSafeMode",     "refreshNodes",   "setDatanodeAdminState"};

const std::string* LabelValue(const metrics::Labels& labels, std::string_view name) {
  for (const auto& [key, value] : labels) {
    if (key == name) return &value;
  }
  return nullptr;
}

int64_t NowMs(bool wall) {
  const auto now = wall ? std::chrono::system_clock::now().time_since_epoch()
                        : std::chrono::steady_clock::now().time_since_epoch();
  return std::chrono::duration_cast<std::chrono::milliseconds>(now).count();
}

}  // namespace

OpKind ClassifyClientMethod(std::string_view method) {
  if (std::find(kReads.begin(), kReads.end(), method) != kReads.end()) return OpKind::kRead;
  if (std::find(kWrites.begin(), kWrites.end(), method) != kWrites.end()) return OpKind::kWrite;
  return OpKind::kOther;
}

OpsSampler::OpsSampler(int64_t interval_ms, int64_t window_ms, Source source)
    : interval_ms_(std::max<int64_t>(1, interval_ms)),
      capacity_(static_cast<size_t>(std::max<int64_t>(1, window_ms / interval_ms_))),
      source_(std::move(source)) {}

OpsSampler::~OpsSampler() { Stop(); }

void OpsSampler::Start() {
  if (thread_.joinable()) return;
  SampleOnce(NowMs(true), NowMs(false));
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::milliseconds(interval_ms_),
                         [this] { return stopping_; })) {
      lock.unlock();
      SampleOnce(NowMs(true), NowMs(false));
      lock.lock();
    }
  });
}

void OpsSampler::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void OpsSampler::SampleOnce(int64_t wall_ms, int64_t steady_ms) {
  int64_t reads = 0;
  int64_t writes = 0;
  for (const auto& [labels, value] : source_()) {
    const std::string* server = LabelValue(labels, "server");
    const std::string* method = LabelValue(labels, "method");
    if (server == nullptr || *server != "client" || method == nullptr) continue;
    switch (ClassifyClientMethod(*method)) {
      case OpKind::kRead:
        reads += value;
        break;
      case OpKind::kWrite:
        writes += value;
        break;
      case OpKind::kOther:
        break;
    }
  }
  const bool first = !have_baseline_;
  const double seconds = static_cast<double>(steady_ms - last_steady_ms_) / 1000.0;
  OpsSample sample;
  sample.time_ms = wall_ms;
  if (!first && seconds > 0) {
    // Counters only grow; a negative step could only come from a counter that vanished.
    sample.reads_per_s = static_cast<double>(std::max<int64_t>(0, reads - last_reads_)) / seconds;
    sample.writes_per_s =
        static_cast<double>(std::max<int64_t>(0, writes - last_writes_)) / seconds;
  }
  have_baseline_ = true;
  last_reads_ = reads;
  last_writes_ = writes;
  last_steady_ms_ = steady_ms;
  if (first) return;
  std::lock_guard<std::mutex> lock(mu_);
  samples_.push_back(sample);
  while (samples_.size() > capacity_) samples_.pop_front();
}

std::vector<OpsSample> OpsSampler::Samples() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {samples_.begin(), samples_.end()};
}

}  // namespace talus::web
