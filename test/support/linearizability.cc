#include "test/support/linearizability.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <limits>
#include <memory>
#include <numeric>
#include <random>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "common/path.h"

namespace talus::test::lin {

const char* OpKindName(OpKind kind) {
  switch (kind) {
    case OpKind::kMkdir:
      return "mkdir";
    case OpKind::kCreate:
      return "create";
    case OpKind::kRename:
      return "rename";
    case OpKind::kDelete:
      return "delete";
    case OpKind::kGetFileInfo:
      return "getFileInfo";
  }
  return "?";
}

const char* OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kUnknown:
      return "UNKNOWN";
    case Outcome::kOk:
      return "OK";
    case Outcome::kFalse:
      return "FALSE";
    case Outcome::kNotFound:
      return "NOT_FOUND";
    case Outcome::kAlreadyExists:
      return "ALREADY_EXISTS";
    case Outcome::kIsADirectory:
      return "IS_A_DIRECTORY";
    case Outcome::kNotADirectory:
      return "NOT_A_DIRECTORY";
    case Outcome::kNotEmpty:
      return "NOT_EMPTY";
    case Outcome::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case Outcome::kNotPermitted:
      return "NOT_PERMITTED";
    case Outcome::kFile:
      return "FILE";
    case Outcome::kDirectory:
      return "DIRECTORY";
  }
  return "?";
}

const char* VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kLinearizable:
      return "linearizable";
    case Verdict::kViolation:
      return "NOT linearizable";
    case Verdict::kUnknown:
      return "unknown (search budget exceeded)";
  }
  return "?";
}

Outcome OutcomeOf(const Status& status) {
  switch (status.code()) {
    case ErrorCode::kOk:
      return Outcome::kOk;
    case ErrorCode::kNotFound:
      return Outcome::kNotFound;
    case ErrorCode::kAlreadyExists:
      return Outcome::kAlreadyExists;
    case ErrorCode::kIsADirectory:
      return Outcome::kIsADirectory;
    case ErrorCode::kNotADirectory:
      return Outcome::kNotADirectory;
    case ErrorCode::kNotEmpty:
      return Outcome::kNotEmpty;
    case ErrorCode::kInvalidArgument:
      return Outcome::kInvalidArgument;
    case ErrorCode::kNotPermitted:
      return Outcome::kNotPermitted;
    default:
      return Outcome::kUnknown;
  }
}

Outcome OutcomeOfDelete(const Result<bool>& result) {
  if (result.ok()) return *result ? Outcome::kOk : Outcome::kFalse;
  return OutcomeOf(result.status());
}

Outcome OutcomeOfFileInfo(const Result<FileInfo>& result) {
  if (result.ok()) return result->IsDirectory() ? Outcome::kDirectory : Outcome::kFile;
  return OutcomeOf(result.status());
}

std::string Operation::Describe() const {
  std::string out = "c" + std::to_string(client) + " " + OpKindName(kind) + "(" + path;
  if (kind == OpKind::kRename) out += ", " + dst;
  if (kind == OpKind::kDelete && !recursive) out += ", non-recursive";
  if ((kind == OpKind::kMkdir || kind == OpKind::kCreate) && !create_parent) {
    out += ", no parents";
  }
  out += ") -> ";
  out += OutcomeName(outcome);
  return out;
}

namespace {

std::string FormatMs(int64_t ns) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%10.3f", static_cast<double>(ns) / 1e6);
  return buf;
}

std::string FormatOp(const Operation& op, int64_t origin_ns) {
  std::string ret = op.outcome == Outcome::kUnknown ? std::string(10, ' ') + "?"
                                                    : FormatMs(op.return_ns - origin_ns);
  return "[" + FormatMs(op.call_ns - origin_ns) + ", " + ret + "] " + op.Describe();
}

}  // namespace

std::string FormatHistory(const History& history, int64_t origin_ns) {
  std::vector<size_t> order(history.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return history[a].call_ns < history[b].call_ns; });
  std::string out;
  for (size_t i : order) out += FormatOp(history[i], origin_ns) + "\n";
  return out;
}

// ---------------------------------------------------------------------------------------------
// The model.

FsModel::FsModel(const std::vector<std::string>& dirs) {
  entries_["/"] = true;
  for (const std::string& dir : dirs) {
    Operation mkdir;
    mkdir.kind = OpKind::kMkdir;
    mkdir.path = dir;
    Apply(mkdir);
  }
}

bool FsModel::AncestorIsFile(const std::string& path) const {
  for (size_t pos = path.find('/', 1); pos != std::string::npos; pos = path.find('/', pos + 1)) {
    auto it = entries_.find(path.substr(0, pos));
    if (it == entries_.end()) return false;  // missing: so is everything below it
    if (!it->second) return true;
  }
  return false;
}

int FsModel::TypeOf(const std::string& path) const {
  auto it = entries_.find(path);
  if (it == entries_.end()) return 0;
  return it->second ? 2 : 1;
}

bool FsModel::HasChildren(const std::string& dir) const {
  const std::string prefix = dir == "/" ? "/" : dir + "/";
  // Descendants sort together right from "dir/" (a sibling "dir-x" sorts before them).
  auto it = dir == "/" ? entries_.upper_bound("/") : entries_.lower_bound(prefix);
  return it != entries_.end() && it->first.compare(0, prefix.size(), prefix) == 0;
}

void FsModel::EraseSubtree(const std::string& path) {
  entries_.erase(path);
  const std::string prefix = path + "/";
  auto it = entries_.lower_bound(prefix);
  while (it != entries_.end() && it->first.compare(0, prefix.size(), prefix) == 0) {
    it = entries_.erase(it);
  }
}

Outcome FsModel::Stat(const std::string& path) const {
  if (AncestorIsFile(path)) return Outcome::kNotADirectory;
  switch (TypeOf(path)) {
    case 1:
      return Outcome::kFile;
    case 2:
      return Outcome::kDirectory;
    default:
      return Outcome::kNotFound;
  }
}

Outcome FsModel::Apply(const Operation& op) {
  if (!ValidatePath(op.path).ok()) return Outcome::kInvalidArgument;
  switch (op.kind) {
    case OpKind::kGetFileInfo:
      return Stat(op.path);

    case OpKind::kMkdir: {  // namenode/ops/mkdirs.cc
      if (AncestorIsFile(op.path)) return Outcome::kNotADirectory;
      const int type = TypeOf(op.path);
      if (type == 2) return Outcome::kOk;
      if (type == 1) return Outcome::kAlreadyExists;
      if (!op.create_parent && TypeOf(std::string(ParentPath(op.path))) == 0) {
        return Outcome::kNotFound;
      }
      for (std::string p = op.path; TypeOf(p) == 0; p = std::string(ParentPath(p))) {
        entries_[p] = true;
      }
      return Outcome::kOk;
    }

    case OpKind::kCreate: {  // namenode/ops/create.cc, overwrite = false
      if (op.path == "/") return Outcome::kIsADirectory;
      if (AncestorIsFile(op.path)) return Outcome::kNotADirectory;
      const int type = TypeOf(op.path);
      if (type == 2) return Outcome::kIsADirectory;
      if (type == 1) return Outcome::kAlreadyExists;
      const std::string parent(ParentPath(op.path));
      if (TypeOf(parent) == 0) {
        if (!op.create_parent) return Outcome::kNotFound;
        for (std::string p = parent; TypeOf(p) == 0; p = std::string(ParentPath(p))) {
          entries_[p] = true;
        }
      }
      entries_[op.path] = false;
      return Outcome::kOk;
    }

    case OpKind::kRename: {  // namenode/ops/rename.cc, rename2 without overwrite
      if (!ValidatePath(op.dst).ok()) return Outcome::kInvalidArgument;
      if (op.path == "/") return Outcome::kNotPermitted;
      if (op.dst == "/") return Outcome::kAlreadyExists;
      if (AncestorIsFile(op.path)) return Outcome::kNotADirectory;
      const int type = TypeOf(op.path);
      if (type == 0) return Outcome::kNotFound;
      if (op.path == op.dst) return Outcome::kOk;
      if (type == 2 && IsSameOrUnder(op.dst, op.path)) return Outcome::kInvalidArgument;
      if (AncestorIsFile(op.dst)) return Outcome::kNotADirectory;
      if (TypeOf(std::string(ParentPath(op.dst))) == 0) return Outcome::kNotFound;
      if (TypeOf(op.dst) != 0) return Outcome::kAlreadyExists;
      std::vector<std::pair<std::string, bool>> moved;
      const std::string prefix = op.path + "/";
      for (auto it = entries_.lower_bound(op.path); it != entries_.end(); ++it) {
        if (it->first == op.path) {
          moved.emplace_back(op.dst, it->second);
        } else if (it->first.compare(0, prefix.size(), prefix) == 0) {
          moved.emplace_back(op.dst + it->first.substr(op.path.size()), it->second);
        } else if (it->first > prefix) {
          break;
        }
      }
      EraseSubtree(op.path);
      for (auto& [path, is_dir] : moved) entries_[path] = is_dir;
      return Outcome::kOk;
    }

    case OpKind::kDelete: {  // namenode/ops/delete.cc
      if (op.path == "/") return Outcome::kNotPermitted;
      if (AncestorIsFile(op.path)) return Outcome::kNotADirectory;
      const int type = TypeOf(op.path);
      if (type == 0) return Outcome::kFalse;
      if (type == 2 && !op.recursive && HasChildren(op.path)) return Outcome::kNotEmpty;
      EraseSubtree(op.path);
      return Outcome::kOk;
    }
  }
  return Outcome::kInvalidArgument;
}

std::string FsModel::Encode() const {
  std::string out;
  for (const auto& [path, is_dir] : entries_) {
    out += path;
    out += is_dir ? '\1' : '\2';
  }
  return out;
}

std::string FsModel::ToString(const FsModel* base) const {
  std::string out = "{";
  auto add = [&](const std::string& text) {
    if (out.size() > 1) out += ' ';
    out += text;
  };
  for (const auto& [path, is_dir] : entries_) {
    if (path == "/") continue;
    if (base != nullptr) {
      auto it = base->entries_.find(path);
      if (it != base->entries_.end() && it->second == is_dir) continue;
    }
    add(is_dir ? path + "/" : path);
  }
  if (base != nullptr) {
    for (const auto& [path, is_dir] : base->entries_) {
      if (entries_.count(path) == 0) add("-" + path);
    }
  }
  return out + "}";
}

// ---------------------------------------------------------------------------------------------
// The checker.

namespace {

constexpr int64_t kInfinity = std::numeric_limits<int64_t>::max();

// The search over one independent part of a history.
class PartSearch {
 public:
  PartSearch(const History& history, std::vector<size_t> ops, const FsModel& initial)
      : history_(history), ops_(std::move(ops)), initial_(initial) {}

  // Returns kLinearizable, kViolation or kUnknown (when `*budget` ran out); `*budget` is
  // decreased by the steps taken.
  Verdict Run(int64_t* budget);

  // For kViolation: the longest linearizable prefix and what stopped it.
  std::string Explain() const;

 private:
  struct Event {
    int op = 0;  // index into ops_
    bool is_call = false;
    int64_t time = 0;
    int match = -1;  // the call's return event
    int prev = -1;
    int next = -1;
  };

  const Operation& Op(int i) const { return history_[ops_[i]]; }
  bool Known(int i) const { return Op(i).outcome != Outcome::kUnknown; }
  void Lift(int call);
  void Unlift(int call);

  const History& history_;
  const std::vector<size_t> ops_;
  const FsModel initial_;
  std::vector<Event> events_;  // events_[n] is the head sentinel
  int head_ = -1;
  std::vector<int> best_;  // the longest linearization found (indexes into ops_)
};

void PartSearch::Lift(int call) {
  Event& c = events_[call];
  events_[c.prev].next = c.next;
  if (c.next >= 0) events_[c.next].prev = c.prev;
  Event& r = events_[c.match];
  events_[r.prev].next = r.next;
  if (r.next >= 0) events_[r.next].prev = r.prev;
}

void PartSearch::Unlift(int call) {
  Event& c = events_[call];
  Event& r = events_[c.match];
  events_[r.prev].next = c.match;
  if (r.next >= 0) events_[r.next].prev = c.match;
  events_[c.prev].next = call;
  if (c.next >= 0) events_[c.next].prev = call;
}

Verdict PartSearch::Run(int64_t* budget) {
  // Reads whose answer is unknown constrain nothing: leave them out.
  std::vector<int> kept;
  for (int i = 0; i < static_cast<int>(ops_.size()); ++i) {
    if (Known(i) || Op(i).IsMutation()) kept.push_back(i);
  }
  events_.clear();
  for (int i : kept) {
    Event call;
    call.op = i;
    call.is_call = true;
    call.time = Op(i).call_ns;
    Event ret;
    ret.op = i;
    ret.time = Known(i) ? std::max(Op(i).return_ns, Op(i).call_ns) : kInfinity;
    events_.push_back(call);
    events_.push_back(ret);
  }
  // Time order; at equal times calls first, so touching intervals count as concurrent.
  std::sort(events_.begin(), events_.end(), [](const Event& a, const Event& b) {
    if (a.time != b.time) return a.time < b.time;
    if (a.is_call != b.is_call) return a.is_call;
    return a.op < b.op;
  });
  const int n = static_cast<int>(events_.size());
  std::vector<int> call_of(ops_.size(), -1);
  for (int e = 0; e < n; ++e) {
    if (events_[e].is_call) call_of[events_[e].op] = e;
  }
  for (int e = 0; e < n; ++e) {
    if (!events_[e].is_call) events_[call_of[events_[e].op]].match = e;
  }
  events_.emplace_back();  // head sentinel
  head_ = n;
  for (int e = 0; e < n; ++e) {
    events_[e].prev = e == 0 ? head_ : e - 1;
    events_[e].next = e + 1 < n ? e + 1 : -1;
  }
  events_[head_].next = n > 0 ? 0 : -1;

  int known_left = 0;
  for (int i : kept) known_left += Known(i) ? 1 : 0;

  const size_t words = (ops_.size() + 63) / 64;
  std::vector<uint64_t> linearized(words, 0);
  auto memo_key = [&](const std::string& state) {
    std::string key(reinterpret_cast<const char*>(linearized.data()), words * 8);
    key += state;
    return key;
  };
  std::unordered_set<std::string> memo;
  struct Frame {
    int call;
    FsModel state;
  };
  std::vector<Frame> stack;
  FsModel state = initial_;
  best_.clear();

  int cur = events_[head_].next;
  while (known_left > 0) {
    if (--*budget < 0) return Verdict::kUnknown;
    const Event& e = events_[cur];
    if (e.is_call) {
      const Operation& op = Op(e.op);
      FsModel next = state;
      const Outcome got = next.Apply(op);
      if (op.outcome == Outcome::kUnknown || got == op.outcome) {
        linearized[e.op / 64] |= uint64_t{1} << (e.op % 64);
        if (memo.insert(memo_key(next.Encode())).second) {
          stack.push_back(Frame{cur, std::move(state)});
          state = std::move(next);
          Lift(cur);
          if (Known(e.op)) --known_left;
          if (stack.size() > best_.size()) {
            best_.clear();
            for (const Frame& f : stack) best_.push_back(events_[f.call].op);
          }
          cur = events_[head_].next;
          continue;
        }
        linearized[e.op / 64] &= ~(uint64_t{1} << (e.op % 64));
      }
      cur = e.next;
    } else {
      // The return of an operation not linearized yet: this prefix leads nowhere.
      if (stack.empty()) return Verdict::kViolation;
      Frame top = std::move(stack.back());
      stack.pop_back();
      const int op = events_[top.call].op;
      state = std::move(top.state);
      linearized[op / 64] &= ~(uint64_t{1} << (op % 64));
      Unlift(top.call);
      if (Known(op)) ++known_left;
      cur = events_[top.call].next;
    }
  }
  return Verdict::kLinearizable;
}

std::string PartSearch::Explain() const {
  constexpr size_t kPrefixShown = 20;
  const int64_t origin = 0;  // times as recorded, as FormatHistory prints them
  std::string out = "longest linearizable prefix found: " + std::to_string(best_.size()) + " of " +
                    std::to_string(ops_.size()) + " operations";
  FsModel state = initial_;
  std::vector<bool> in_prefix(ops_.size(), false);
  for (size_t k = 0; k < best_.size(); ++k) {
    in_prefix[best_[k]] = true;
    state.Apply(Op(best_[k]));
    if (k + kPrefixShown >= best_.size()) {
      out += "\n  " + std::to_string(k + 1) + ". " + FormatOp(Op(best_[k]), origin) + "   => " +
             state.ToString(&initial_);
    } else if (k == 0) {
      out += "\n  ... (" + std::to_string(best_.size() - kPrefixShown) + " earlier ones)";
    }
  }
  if (best_.empty()) out += "\n  (none)";
  // The operation the search could not get past: the first to respond of those left over.
  int stuck = -1;
  for (size_t i = 0; i < ops_.size(); ++i) {
    if (in_prefix[i] || !Known(static_cast<int>(i))) continue;
    if (stuck < 0 || Op(static_cast<int>(i)).return_ns < Op(stuck).return_ns) {
      stuck = static_cast<int>(i);
    }
  }
  if (stuck < 0) return out;
  out += "\nno order of the remaining operations explains:\n  " + FormatOp(Op(stuck), origin) +
         "\noperations left over that were called before it responded (model's answer after "
         "the prefix):";
  for (size_t i = 0; i < ops_.size(); ++i) {
    const Operation& op = Op(static_cast<int>(i));
    if (in_prefix[i] || op.call_ns > Op(stuck).return_ns) continue;
    if (!op.IsMutation() && op.outcome == Outcome::kUnknown) continue;
    FsModel copy = state;
    out += "\n  " + FormatOp(op, origin) + "   (model: " + OutcomeName(copy.Apply(op)) + ")";
  }
  out += "\nmodel state after the prefix: " + state.ToString() +
         "\n(states after each operation are shown as changes from the initial one: " +
         initial_.ToString() + ")";
  return out;
}

// The part of a path below `root` (the first component under it); "" when not strictly below.
std::string PartKey(const std::string& path, const std::string& root) {
  if (root.empty() || path == root || !IsSameOrUnder(path, root)) return "";
  const size_t start = root == "/" ? 1 : root.size() + 1;
  const size_t end = path.find('/', start);
  return path.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// Groups operations into independent parts; one part when the history cannot be cut.
std::vector<std::vector<size_t>> Partition(const History& history, const CheckOptions& options,
                                           const FsModel& initial) {
  std::vector<std::vector<size_t>> one(1);
  one[0].resize(history.size());
  std::iota(one[0].begin(), one[0].end(), 0);
  if (options.partition_root.empty() ||
      initial.Stat(options.partition_root) != Outcome::kDirectory) {
    return one;
  }
  std::unordered_map<std::string, int> id_of;
  std::vector<int> parent;
  auto find = [&](int x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  auto id = [&](const std::string& key) {
    auto [it, inserted] = id_of.emplace(key, static_cast<int>(parent.size()));
    if (inserted) parent.push_back(it->second);
    return it->second;
  };
  std::vector<int> op_key(history.size());
  for (size_t i = 0; i < history.size(); ++i) {
    const std::string key = PartKey(history[i].path, options.partition_root);
    if (key.empty()) return one;
    op_key[i] = id(key);
    if (history[i].kind == OpKind::kRename) {
      const std::string dst_key = PartKey(history[i].dst, options.partition_root);
      if (dst_key.empty()) return one;
      const int dst_root = find(id(dst_key));
      parent[dst_root] = find(op_key[i]);
    }
  }
  std::map<int, std::vector<size_t>> parts;
  for (size_t i = 0; i < history.size(); ++i) parts[find(op_key[i])].push_back(i);
  std::vector<std::vector<size_t>> out;
  for (auto& [root, ops] : parts) out.push_back(std::move(ops));
  return out;
}

}  // namespace

CheckResult CheckHistory(const History& history, const CheckOptions& options) {
  CheckResult result;
  const FsModel initial(options.initial_dirs);
  std::vector<std::vector<size_t>> parts = Partition(history, options, initial);
  result.parts = static_cast<int>(parts.size());
  int64_t budget = options.max_steps;
  bool unknown = false;
  std::string unknown_parts;
  for (std::vector<size_t>& part : parts) {
    const int64_t before = budget;
    PartSearch search(history, part, initial);
    const Verdict verdict = search.Run(&budget);
    result.steps += before - std::max<int64_t>(budget, 0);
    if (verdict == Verdict::kViolation) {
      result.verdict = Verdict::kViolation;
      result.explanation = "part of " + std::to_string(part.size()) +
                           " operations (first: " + history[part[0]].path +
                           ") is not linearizable\n" + search.Explain();
      result.part_ops = std::move(part);
      return result;
    }
    if (verdict == Verdict::kUnknown) {
      unknown = true;
      unknown_parts += " (part of " + std::to_string(part.size()) +
                       " operations, first: " + history[part[0]].path + ")";
      budget = 0;
    }
  }
  if (unknown) {
    result.verdict = Verdict::kUnknown;
    result.explanation =
        "search budget of " + std::to_string(options.max_steps) + " steps exceeded" + unknown_parts;
    return result;
  }
  result.verdict = Verdict::kLinearizable;
  return result;
}

std::vector<std::string> LostAcknowledgedPaths(
    const History& history, const std::function<Outcome(const std::string&)>& stat_now) {
  std::vector<std::string> lost;
  for (const Operation& made : history) {
    if ((made.kind != OpKind::kCreate && made.kind != OpKind::kMkdir) ||
        made.outcome != Outcome::kOk) {
      continue;
    }
    bool may_be_removed = false;
    for (const Operation& op : history) {
      if (op.kind != OpKind::kDelete && op.kind != OpKind::kRename) continue;
      if (op.outcome != Outcome::kOk && op.outcome != Outcome::kUnknown) continue;
      if (op.outcome == Outcome::kOk && op.return_ns < made.call_ns) continue;
      if (IsSameOrUnder(made.path, op.path)) {
        may_be_removed = true;
        break;
      }
    }
    if (may_be_removed) continue;
    const Outcome now = stat_now(made.path);
    const Outcome want = made.kind == OpKind::kMkdir ? Outcome::kDirectory : Outcome::kFile;
    if (now != want) {
      lost.push_back(made.Describe() + " at " + std::to_string(made.call_ns) + " ns: now " +
                     OutcomeName(now));
    }
  }
  return lost;
}

// ---------------------------------------------------------------------------------------------
// Recording.

HistoryRecorder::HistoryRecorder() : origin_(std::chrono::steady_clock::now()) {}

int64_t HistoryRecorder::NowNs() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                              origin_)
      .count();
}

size_t HistoryRecorder::Invoke(Operation op) {
  op.outcome = Outcome::kUnknown;
  op.return_ns = 0;
  std::lock_guard<std::mutex> lock(mu_);
  op.call_ns = NowNs();  // under the lock: ids follow call order
  ops_.push_back(std::move(op));
  return ops_.size() - 1;
}

void HistoryRecorder::Complete(size_t id, Outcome outcome) {
  const int64_t now = NowNs();  // before the lock: waiting for it is not part of the call
  std::lock_guard<std::mutex> lock(mu_);
  ops_.at(id).return_ns = now;
  ops_.at(id).outcome = outcome;
}

History HistoryRecorder::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ops_;
}

void RunRecordedOp(FileSystem& fs, HistoryRecorder& recorder, Operation op) {
  const Operation o = op;
  const size_t id = recorder.Invoke(std::move(op));
  switch (o.kind) {
    case OpKind::kMkdir:
      recorder.Complete(id, OutcomeOf(fs.Mkdirs(o.path, 0777, o.create_parent)));
      return;
    case OpKind::kCreate: {
      CreateOptions options;
      options.overwrite = false;
      options.create_parent = o.create_parent;
      Result<std::unique_ptr<OutputStream>> out = fs.Create(o.path, options);
      recorder.Complete(id, out.ok() ? Outcome::kOk : OutcomeOf(out.status()));
      if (out.ok()) (void)(*out)->Close();  // the file may be gone already: not recorded
      return;
    }
    case OpKind::kRename:
      recorder.Complete(id, OutcomeOf(fs.Rename(o.path, o.dst, /*overwrite=*/false)));
      return;
    case OpKind::kDelete:
      recorder.Complete(id, OutcomeOfDelete(fs.Delete(o.path, o.recursive)));
      return;
    case OpKind::kGetFileInfo:
      recorder.Complete(id, OutcomeOfFileInfo(fs.GetFileInfo(o.path)));
      return;
  }
}

std::vector<std::string> RandomClientPaths(const std::vector<std::string>& groups) {
  std::vector<std::string> paths;
  for (const std::string& g : groups) {
    for (const char* name : {"/a", "/b", "/c", "/d", "/d/x"}) paths.push_back(g + name);
  }
  return paths;
}

namespace {

Operation RandomOp(std::mt19937_64& rng, const std::vector<std::string>& groups, int client) {
  static const char* const kNames[] = {"/a", "/b", "/c", "/d", "/d/x"};
  auto pick = [&](uint64_t n) { return static_cast<size_t>(rng() % n); };
  const std::string& group = groups[pick(groups.size())];
  Operation op;
  op.client = client;
  op.path = group + kNames[pick(5)];
  const size_t roll = pick(100);
  if (roll < 30) {
    op.kind = OpKind::kGetFileInfo;
  } else if (roll < 52) {
    op.kind = OpKind::kCreate;
    op.create_parent = false;
  } else if (roll < 64) {
    op.kind = OpKind::kMkdir;
    op.path = group + (pick(2) == 0 ? "/d" : kNames[pick(5)]);
    op.create_parent = pick(4) != 0;
  } else if (roll < 82) {
    op.kind = OpKind::kRename;
    do {
      op.dst = group + kNames[pick(5)];
    } while (op.dst == op.path);
  } else {
    op.kind = OpKind::kDelete;
    op.recursive = pick(4) != 0;
  }
  return op;
}

}  // namespace

Status RunRandomClients(const std::string& uri, const RandomClientsOptions& options,
                        HistoryRecorder& recorder) {
  const int writers = options.clients;
  std::vector<std::unique_ptr<FileSystem>> clients;
  for (int c = 0; c < writers + static_cast<int>(options.reader_uris.size()); ++c) {
    const std::string& target = c < writers ? uri : options.reader_uris[c - writers];
    Result<std::unique_ptr<FileSystem>> fs = FileSystem::Connect(target, options.client_options);
    if (!fs.ok()) return fs.status().Prepend("client " + std::to_string(c));
    clients.push_back(std::move(*fs));
  }
  const auto deadline = std::chrono::steady_clock::now() + options.duration;
  std::vector<std::thread> threads;
  for (int c = 0; c < static_cast<int>(clients.size()); ++c) {
    threads.emplace_back([&, c] {
      std::mt19937_64 rng(options.seed * 1000003 + static_cast<uint64_t>(c));
      for (int i = 0; i < options.max_ops_per_client; ++i) {
        if (std::chrono::steady_clock::now() >= deadline) break;
        if (options.stop != nullptr && options.stop->load()) break;
        Operation op = RandomOp(rng, options.groups, c);
        if (c >= writers) {
          op.kind = OpKind::kGetFileInfo;
          op.dst.clear();
        }
        RunRecordedOp(*clients[c], recorder, std::move(op));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return Status::OK();
}

}  // namespace talus::test::lin
