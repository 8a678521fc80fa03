#pragma once

// A linearizability checker for histories of concurrent metadata operations (mkdir, create,
// rename, delete, getFileInfo), and a recorder that collects such histories from real clients.
//
// The checker is Wing & Gong's search with Lowe's memoization, as Porcupine does it: the
// history becomes a list of call and return events in time order; the search linearizes one
// pending call at a time (its operation applied to a sequential model must give the answer the
// client saw), backtracks when it reaches the return of an operation not yet linearized, and
// never revisits a (set of linearized operations, model state) pair. An operation whose outcome
// is unknown (timed out, connection lost) returns at "infinity": it may take effect at any point
// after its call, or never (the same as taking effect after everything else).
//
// The sequential model is the namespace as Talus implements it (namenode/ops/): HDFS semantics,
// rename2 without overwrite, paths resolved component by component (a file among the ancestors
// is NOT_A_DIRECTORY).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "talus/file_system.h"

namespace talus::test::lin {

enum class OpKind : uint8_t { kMkdir, kCreate, kRename, kDelete, kGetFileInfo };

// What an operation answered, in the terms the model predicts.
enum class Outcome : uint8_t {
  kUnknown,  // no answer (timed out, connection lost, not leader...): may or may not have run
  kOk,       // mkdir, create, rename succeeded; delete returned true
  kFalse,    // delete returned false: nothing existed at the path
  kNotFound,
  kAlreadyExists,
  kIsADirectory,
  kNotADirectory,
  kNotEmpty,
  kInvalidArgument,
  kNotPermitted,
  kFile,       // getFileInfo: a file
  kDirectory,  // getFileInfo: a directory
};

const char* OpKindName(OpKind kind);
const char* OutcomeName(Outcome outcome);

// What the client API returned, as an Outcome. Errors that say nothing about the namespace
// (UNAVAILABLE, TIMED_OUT, NOT_LEADER, SAFE_MODE, IO_ERROR, INTERNAL, ...) are kUnknown.
Outcome OutcomeOf(const Status& status);  // mkdir, create, rename
Outcome OutcomeOfDelete(const Result<bool>& result);
Outcome OutcomeOfFileInfo(const Result<FileInfo>& result);

struct Operation {
  int client = 0;
  OpKind kind = OpKind::kGetFileInfo;
  std::string path;           // rename: the source
  std::string dst;            // rename only
  bool recursive = true;      // delete only
  bool create_parent = true;  // mkdir and create
  int64_t call_ns = 0;        // invocation, on one clock shared by the whole history
  int64_t return_ns = 0;      // response; ignored when the outcome is kUnknown
  Outcome outcome = Outcome::kUnknown;

  bool IsMutation() const { return kind != OpKind::kGetFileInfo; }
  // "c2 rename(/lin/a, /lin/b) -> ALREADY_EXISTS"
  std::string Describe() const;
};

using History = std::vector<Operation>;

// One line per operation, by call time: "[  12.345,   13.001] c2 create(/lin/a) -> OK"
// (milliseconds since `origin_ns`; "?" for the response of an unknown outcome).
std::string FormatHistory(const History& history, int64_t origin_ns = 0);

// The sequential specification: which paths exist and whether each is a file or a directory.
class FsModel {
 public:
  // "/" and `dirs` (with their ancestors) as directories, nothing else.
  explicit FsModel(const std::vector<std::string>& dirs = {});

  // Applies `op` (its outcome field is ignored) and returns what Talus answers.
  Outcome Apply(const Operation& op);

  // kNotFound, kFile or kDirectory (kNotADirectory when an ancestor is a file).
  Outcome Stat(const std::string& path) const;

  // Canonical: equal encodings are equal namespaces.
  std::string Encode() const;
  // "{/lin/ /lin/a /lin/d/ /lin/d/x}" (directories end with '/'). With `base`, only what
  // differs from it: entries it lacks, and "-/lin/b" for its entries missing here.
  std::string ToString(const FsModel* base = nullptr) const;

 private:
  bool AncestorIsFile(const std::string& path) const;
  // 0: missing, 1: file, 2: directory.
  int TypeOf(const std::string& path) const;
  bool HasChildren(const std::string& dir) const;
  void EraseSubtree(const std::string& path);

  std::map<std::string, bool> entries_;  // path -> is a directory ("/" included)
};

struct CheckOptions {
  // The namespace before the history: these directories exist (and "/").
  std::vector<std::string> initial_dirs = {"/lin"};
  // When every path lies strictly below this directory (one of initial_dirs or below one) the
  // history is cut into independent parts by the first component below it ("/lin/g3/a" and
  // "/lin/g3/d/x" are in part "g3"; a rename joins the parts of its two paths), and each part
  // is checked alone. Empty: one part.
  std::string partition_root = "/lin";
  // Search steps over all parts; beyond it the verdict is kUnknown rather than a hang.
  int64_t max_steps = 5'000'000;
};

enum class Verdict { kLinearizable, kViolation, kUnknown };
const char* VerdictName(Verdict verdict);

struct CheckResult {
  Verdict verdict = Verdict::kUnknown;
  int64_t steps = 0;
  int parts = 0;
  // kViolation: the part that failed, the longest linearizable prefix the search found (with the
  // model's state after it) and the operation it could not get past, with the operations
  // concurrent with it and what the model would answer for each. kUnknown: which budget ran out.
  std::string explanation;
  // kViolation: the operations of the failing part (indexes into the history).
  std::vector<size_t> part_ops;
};

CheckResult CheckHistory(const History& history, const CheckOptions& options = {});

// Paths that an acknowledged create or mkdir made and that are gone at the end (`stat_now`
// says what a path is now), although no operation that could have removed them (a delete or a
// rename of the path or an ancestor whose outcome was OK or unknown, responding after the
// create was called) exists in the history. Empty when nothing was lost.
std::vector<std::string> LostAcknowledgedPaths(
    const History& history, const std::function<Outcome(const std::string&)>& stat_now);

// Collects a history from client threads: thread-safe; times from a steady clock, in
// nanoseconds since the recorder was made.
class HistoryRecorder {
 public:
  HistoryRecorder();
  int64_t NowNs() const;
  // Records the call of `op` (call_ns is set now); returns the id to complete it with.
  size_t Invoke(Operation op);
  // Records the response (return_ns is set now).
  void Complete(size_t id, Outcome outcome);
  // Everything so far; operations called and not completed are kUnknown.
  History Snapshot() const;

 private:
  const std::chrono::steady_clock::time_point origin_;
  mutable std::mutex mu_;
  History ops_;  // guarded by mu_
};

// Runs one operation against the file system and records it. A create is FileSystem::Create
// (the create call alone: its answer is exactly the namenode's), then the stream is closed
// outside the recorded interval, its error ignored.
void RunRecordedOp(FileSystem& fs, HistoryRecorder& recorder, Operation op);

struct RandomClientsOptions {
  int clients = 4;
  // Each operation picks one group and paths within it: g/a, g/b, g/c, g/d, g/d/x.
  std::vector<std::string> groups = {"/lin/g0", "/lin/g1", "/lin/g2", "/lin/g3"};
  std::chrono::milliseconds duration{5000};
  int max_ops_per_client = 5000;
  uint64_t seed = 1;
  ClientOptions client_options;
  // Set by the caller to end the run early; checked before every operation.
  const std::atomic<bool>* stop = nullptr;
  // One more client per entry that only reads (getFileInfo), connected to that URI (e.g. one
  // follower's address alone), numbered after the others.
  std::vector<std::string> reader_uris;
};

// The paths RandomClients chooses from, for every group (for final reads and checks).
std::vector<std::string> RandomClientPaths(const std::vector<std::string>& groups);

// `clients` threads, each with its own FileSystem connected to `uri`, issue random mkdir,
// create, rename, delete and getFileInfo operations until the duration, the count or `stop`
// ends them, recording everything in `recorder`. Blocks until all threads end. Fails only when
// a client cannot be made.
Status RunRandomClients(const std::string& uri, const RandomClientsOptions& options,
                        HistoryRecorder& recorder);

}  // namespace talus::test::lin
