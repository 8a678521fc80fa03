// The linearizability checker (test/support/linearizability.h): its model against Talus's
// namespace rules, hand-built histories that are and are not linearizable, unknown outcomes,
// the step budget, and thousands of random small histories checked against a brute-force
// search over every order.

#include "test/support/linearizability.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

namespace talus::test::lin {
namespace {

Operation Op(int client, OpKind kind, std::string path, int64_t call, int64_t ret, Outcome outcome,
             std::string dst = "") {
  Operation op;
  op.client = client;
  op.kind = kind;
  op.path = std::move(path);
  op.dst = std::move(dst);
  op.call_ns = call;
  op.return_ns = ret;
  op.outcome = outcome;
  return op;
}

Operation Mkdir(int c, std::string p, int64_t call, int64_t ret, Outcome o) {
  return Op(c, OpKind::kMkdir, std::move(p), call, ret, o);
}
Operation Create(int c, std::string p, int64_t call, int64_t ret, Outcome o) {
  return Op(c, OpKind::kCreate, std::move(p), call, ret, o);
}
Operation Rename(int c, std::string src, std::string dst, int64_t call, int64_t ret, Outcome o) {
  return Op(c, OpKind::kRename, std::move(src), call, ret, o, std::move(dst));
}
Operation Delete(int c, std::string p, int64_t call, int64_t ret, Outcome o) {
  return Op(c, OpKind::kDelete, std::move(p), call, ret, o);
}
Operation Stat(int c, std::string p, int64_t call, int64_t ret, Outcome o) {
  return Op(c, OpKind::kGetFileInfo, std::move(p), call, ret, o);
}

// The verdict, with the checker's explanation when it is not the expected one.
::testing::AssertionResult Is(Verdict expected, const History& h) {
  CheckResult r = CheckHistory(h);
  if (r.verdict == expected) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << VerdictName(r.verdict) << "\n"
                                       << FormatHistory(h) << r.explanation;
}

// --- the model --------------------------------------------------------------------------

Outcome ApplyTo(FsModel& m, Operation op) { return m.Apply(op); }

TEST(LinearizabilityModelTest, FollowsTalusNamespaceRules) {
  FsModel m({"/lin"});
  EXPECT_EQ(ApplyTo(m, Stat(0, "/lin/a", 0, 0, {})), Outcome::kNotFound);
  EXPECT_EQ(ApplyTo(m, Create(0, "/lin/a", 0, 0, {})), Outcome::kOk);
  EXPECT_EQ(ApplyTo(m, Create(0, "/lin/a", 0, 0, {})), Outcome::kAlreadyExists);
  EXPECT_EQ(ApplyTo(m, Stat(0, "/lin/a", 0, 0, {})), Outcome::kFile);
  EXPECT_EQ(ApplyTo(m, Mkdir(0, "/lin/a", 0, 0, {})), Outcome::kAlreadyExists);
  EXPECT_EQ(ApplyTo(m, Mkdir(0, "/lin/d/x", 0, 0, {})), Outcome::kOk);  // parents made
  EXPECT_EQ(ApplyTo(m, Mkdir(0, "/lin/d", 0, 0, {})), Outcome::kOk);    // an existing dir is OK
  EXPECT_EQ(ApplyTo(m, Stat(0, "/lin/d", 0, 0, {})), Outcome::kDirectory);
  EXPECT_EQ(ApplyTo(m, Create(0, "/lin/d", 0, 0, {})), Outcome::kIsADirectory);
  // A file among the ancestors.
  EXPECT_EQ(ApplyTo(m, Create(0, "/lin/a/y", 0, 0, {})), Outcome::kNotADirectory);
  EXPECT_EQ(ApplyTo(m, Stat(0, "/lin/a/y", 0, 0, {})), Outcome::kNotADirectory);
  EXPECT_EQ(ApplyTo(m, Mkdir(0, "/lin/a/y", 0, 0, {})), Outcome::kNotADirectory);
  EXPECT_EQ(ApplyTo(m, Delete(0, "/lin/a/y", 0, 0, {})), Outcome::kNotADirectory);
  EXPECT_EQ(ApplyTo(m, Rename(0, "/lin/d", "/lin/a/y", 0, 0, {})), Outcome::kNotADirectory);
  // create without parents.
  Operation orphan = Create(0, "/lin/e/x", 0, 0, {});
  orphan.create_parent = false;
  EXPECT_EQ(ApplyTo(m, orphan), Outcome::kNotFound);
  orphan.create_parent = true;
  EXPECT_EQ(ApplyTo(m, orphan), Outcome::kOk);
  // rename2 without overwrite.
  EXPECT_EQ(ApplyTo(m, Rename(0, "/lin/a", "/lin/d", 0, 0, {})), Outcome::kAlreadyExists);
  EXPECT_EQ(ApplyTo(m, Rename(0, "/lin/nope", "/lin/b", 0, 0, {})), Outcome::kNotFound);
  EXPECT_EQ(ApplyTo(m, Rename(0, "/lin/a", "/lin/q/b", 0, 0, {})), Outcome::kNotFound);
  EXPECT_EQ(ApplyTo(m, Rename(0, "/lin/d", "/lin/d/x/in", 0, 0, {})), Outcome::kInvalidArgument);
  EXPECT_EQ(ApplyTo(m, Rename(0, "/lin/a", "/lin/a", 0, 0, {})), Outcome::kOk);
  EXPECT_EQ(ApplyTo(m, Rename(0, "/lin/d", "/lin/b", 0, 0, {})),
            Outcome::kOk);  // moves the subtree
  EXPECT_EQ(ApplyTo(m, Stat(0, "/lin/b/x", 0, 0, {})), Outcome::kDirectory);
  EXPECT_EQ(ApplyTo(m, Stat(0, "/lin/d/x", 0, 0, {})), Outcome::kNotFound);
  // delete.
  Operation rmdir = Delete(0, "/lin/b", 0, 0, {});
  rmdir.recursive = false;
  EXPECT_EQ(ApplyTo(m, rmdir), Outcome::kNotEmpty);
  EXPECT_EQ(ApplyTo(m, Delete(0, "/lin/b", 0, 0, {})), Outcome::kOk);
  EXPECT_EQ(ApplyTo(m, Delete(0, "/lin/b", 0, 0, {})), Outcome::kFalse);
  EXPECT_EQ(ApplyTo(m, Stat(0, "/lin/b/x", 0, 0, {})), Outcome::kNotFound);
  EXPECT_EQ(m.ToString(), "{/lin/ /lin/a /lin/e/ /lin/e/x}");
  const FsModel base({"/lin/b"});
  EXPECT_EQ(m.ToString(&base), "{/lin/a /lin/e/ /lin/e/x -/lin/b}");
}

TEST(LinearizabilityModelTest, SiblingNamesThatSortInsideASubtreeAreNotChildren) {
  FsModel m({"/lin/d"});
  EXPECT_EQ(ApplyTo(m, Create(0, "/lin/d-x", 0, 0, {})), Outcome::kOk);
  Operation rmdir = Delete(0, "/lin/d", 0, 0, {});
  rmdir.recursive = false;
  EXPECT_EQ(ApplyTo(m, rmdir), Outcome::kOk);  // empty: /lin/d-x is a sibling
  EXPECT_EQ(ApplyTo(m, Stat(0, "/lin/d-x", 0, 0, {})), Outcome::kFile);
  EXPECT_EQ(ApplyTo(m, Mkdir(0, "/lin/d/y", 0, 0, {})), Outcome::kOk);
  EXPECT_EQ(ApplyTo(m, Rename(0, "/lin/d", "/lin/e", 0, 0, {})), Outcome::kOk);
  EXPECT_EQ(m.ToString(), "{/lin/ /lin/d-x /lin/e/ /lin/e/y/}");
}

// --- hand-built histories ---------------------------------------------------------------

TEST(LinearizabilityCheckTest, SequentialHistoryIsLinearizable) {
  History h = {Create(0, "/lin/a", 0, 10, Outcome::kOk),
               Stat(1, "/lin/a", 20, 30, Outcome::kFile),
               Rename(0, "/lin/a", "/lin/b", 40, 50, Outcome::kOk),
               Stat(1, "/lin/a", 60, 70, Outcome::kNotFound),
               Stat(1, "/lin/b", 80, 90, Outcome::kFile),
               Delete(2, "/lin/b", 100, 110, Outcome::kOk),
               Delete(2, "/lin/b", 120, 130, Outcome::kFalse)};
  EXPECT_TRUE(Is(Verdict::kLinearizable, h));
}

TEST(LinearizabilityCheckTest, ConcurrentOperationsMayTakeEffectInAnyOrder) {
  // A read overlapping a create may see the file or not.
  EXPECT_TRUE(Is(Verdict::kLinearizable, {Create(0, "/lin/a", 0, 100, Outcome::kOk),
                                          Stat(1, "/lin/a", 10, 20, Outcome::kFile)}));
  EXPECT_TRUE(Is(Verdict::kLinearizable, {Create(0, "/lin/a", 0, 100, Outcome::kOk),
                                          Stat(1, "/lin/a", 10, 20, Outcome::kNotFound)}));
  // Two overlapping creates: exactly one wins, whichever was called first.
  EXPECT_TRUE(Is(Verdict::kLinearizable, {Create(0, "/lin/a", 0, 100, Outcome::kAlreadyExists),
                                          Create(1, "/lin/a", 50, 60, Outcome::kOk)}));
  // Reads during a rename: the old name gone before the new one appears is impossible only
  // when both reads finished in that order; overlapping reads may see either.
  EXPECT_TRUE(Is(Verdict::kLinearizable,
                 {Create(0, "/lin/a", 0, 5, Outcome::kOk),
                  Rename(0, "/lin/a", "/lin/b", 10, 100, Outcome::kOk),
                  Stat(1, "/lin/b", 20, 30, Outcome::kFile),
                  Stat(2, "/lin/a", 25, 50, Outcome::kFile)}));  // overlaps the read of b
  // Touching intervals (a response and a call at the same instant) count as concurrent.
  EXPECT_TRUE(Is(Verdict::kLinearizable, {Create(0, "/lin/a", 0, 10, Outcome::kOk),
                                          Stat(1, "/lin/a", 10, 20, Outcome::kNotFound)}));
  // Four clients interleaving on one path: mkdir, delete, create, reads.
  EXPECT_TRUE(Is(
      Verdict::kLinearizable,
      {Mkdir(0, "/lin/d", 0, 40, Outcome::kOk), Delete(1, "/lin/d", 10, 50, Outcome::kOk),
       Create(2, "/lin/d", 20, 60, Outcome::kOk), Stat(3, "/lin/d", 5, 15, Outcome::kNotFound),
       Stat(3, "/lin/d", 16, 45, Outcome::kDirectory), Stat(3, "/lin/d", 70, 80, Outcome::kFile)}));
}

TEST(LinearizabilityCheckTest, StaleReadAfterAcknowledgedCreateIsCaught) {
  History h = {Create(0, "/lin/a", 0, 10, Outcome::kOk),
               Stat(1, "/lin/a", 20, 30, Outcome::kNotFound)};
  CheckResult r = CheckHistory(h);
  ASSERT_EQ(r.verdict, Verdict::kViolation);
  EXPECT_NE(r.explanation.find("c1 getFileInfo(/lin/a) -> NOT_FOUND"), std::string::npos)
      << r.explanation;
  EXPECT_NE(r.explanation.find("c0 create(/lin/a) -> OK"), std::string::npos) << r.explanation;
  EXPECT_NE(r.explanation.find("(model: FILE)"), std::string::npos) << r.explanation;
  EXPECT_EQ(r.part_ops.size(), 2u);
}

TEST(LinearizabilityCheckTest, TwoSuccessfulCreatesOfOnePathAreCaught) {
  EXPECT_TRUE(Is(Verdict::kViolation, {Create(0, "/lin/a", 0, 100, Outcome::kOk),
                                       Create(1, "/lin/a", 10, 90, Outcome::kOk)}));
}

TEST(LinearizabilityCheckTest, LostAcknowledgedWriteIsCaught) {
  History h = {Create(0, "/lin/a", 0, 10, Outcome::kOk), Stat(1, "/lin/a", 20, 30, Outcome::kFile),
               Mkdir(2, "/lin/d", 25, 35, Outcome::kOk),
               Stat(1, "/lin/a", 40, 50, Outcome::kNotFound)};
  CheckResult r = CheckHistory(h, CheckOptions{{"/lin"}, /*partition_root=*/"", 1000});
  ASSERT_EQ(r.verdict, Verdict::kViolation);
  EXPECT_EQ(r.parts, 1);
  // The longest prefix holds the create and the first read; the last read cannot follow it.
  EXPECT_NE(r.explanation.find("longest linearizable prefix found: 3 of 4"), std::string::npos)
      << r.explanation;
  EXPECT_NE(r.explanation.find("explains:\n  [     0.000,      0.000] c1 getFileInfo(/lin/a)"),
            std::string::npos)
      << r.explanation;
}

// Found by namenode_failover_test against a real namenode: a create applied, then a concurrent
// delete removed the new file before the create's answer was built from its inode, so the
// creator was told NOT_FOUND although the other creator saw the file.
TEST(LinearizabilityCheckTest, CreateThatTookEffectButAnsweredNotFoundIsCaught) {
  History h = {Mkdir(9, "/lin/d", 0, 10, Outcome::kOk),
               Create(2, "/lin/d/x", 100, 300, Outcome::kNotFound),
               Create(0, "/lin/d/x", 110, 310, Outcome::kAlreadyExists),
               Delete(1, "/lin/d", 120, 290, Outcome::kOk)};
  EXPECT_TRUE(Is(Verdict::kViolation, h));
  h[1].outcome = Outcome::kOk;  // what the namenode should have answered
  EXPECT_TRUE(Is(Verdict::kLinearizable, h));
}

// What a namenode without a (replicated) retry cache shows after a failover: the first attempt
// of a create committed, the client retried against the new leader, and the retry ran again.
TEST(LinearizabilityCheckTest, RetriedCreateAppliedTwiceIsCaught) {
  EXPECT_TRUE(Is(Verdict::kViolation, {Create(0, "/lin/a", 0, 3000, Outcome::kAlreadyExists),
                                       Stat(1, "/lin/a", 3100, 3200, Outcome::kFile)}));
  // Another client's create of the same path would explain it.
  EXPECT_TRUE(Is(Verdict::kLinearizable, {Create(0, "/lin/a", 0, 3000, Outcome::kAlreadyExists),
                                          Create(2, "/lin/a", 0, 0, Outcome::kUnknown),
                                          Stat(1, "/lin/a", 3100, 3200, Outcome::kFile)}));
}

TEST(LinearizabilityCheckTest, ReadsGoingBackInTimeAreCaught) {
  EXPECT_TRUE(Is(Verdict::kViolation, {Create(0, "/lin/a", 0, 100, Outcome::kOk),
                                       Stat(1, "/lin/a", 10, 20, Outcome::kFile),
                                       Stat(2, "/lin/a", 30, 40, Outcome::kNotFound)}));
  // A rename seen done at its destination, then undone at its source.
  EXPECT_TRUE(Is(Verdict::kViolation, {Create(0, "/lin/a", 0, 5, Outcome::kOk),
                                       Rename(0, "/lin/a", "/lin/b", 10, 100, Outcome::kOk),
                                       Stat(1, "/lin/b", 20, 30, Outcome::kFile),
                                       Stat(2, "/lin/a", 35, 50, Outcome::kFile)}));
}

TEST(LinearizabilityCheckTest, UnknownOutcomeMayTakeEffectLaterOrNever) {
  // A create that timed out: later readers may see the file ...
  EXPECT_TRUE(Is(Verdict::kLinearizable, {Create(0, "/lin/a", 0, 0, Outcome::kUnknown),
                                          Stat(1, "/lin/a", 1000, 1010, Outcome::kFile)}));
  // ... or not ...
  EXPECT_TRUE(Is(Verdict::kLinearizable, {Create(0, "/lin/a", 0, 0, Outcome::kUnknown),
                                          Stat(1, "/lin/a", 1000, 1010, Outcome::kNotFound)}));
  // ... or not, then yes (it took effect late) ...
  EXPECT_TRUE(Is(Verdict::kLinearizable, {Create(0, "/lin/a", 0, 0, Outcome::kUnknown),
                                          Stat(1, "/lin/a", 1000, 1010, Outcome::kNotFound),
                                          Stat(1, "/lin/a", 2000, 2010, Outcome::kFile)}));
  // ... but it takes effect once: seen, then gone with nothing removing it, is a violation.
  EXPECT_TRUE(Is(Verdict::kViolation, {Create(0, "/lin/a", 0, 0, Outcome::kUnknown),
                                       Stat(1, "/lin/a", 1000, 1010, Outcome::kFile),
                                       Stat(1, "/lin/a", 2000, 2010, Outcome::kNotFound)}));
  // Not before it was called.
  EXPECT_TRUE(Is(Verdict::kViolation, {Stat(1, "/lin/a", 0, 10, Outcome::kFile),
                                       Create(0, "/lin/a", 20, 0, Outcome::kUnknown)}));
  // An unknown delete explains a vanished file; and an unknown read says nothing.
  EXPECT_TRUE(Is(
      Verdict::kLinearizable,
      {Create(0, "/lin/a", 0, 10, Outcome::kOk), Delete(2, "/lin/a", 15, 0, Outcome::kUnknown),
       Stat(1, "/lin/a", 20, 30, Outcome::kFile), Stat(1, "/lin/a", 40, 0, Outcome::kUnknown),
       Stat(1, "/lin/a", 50, 60, Outcome::kNotFound), Create(3, "/lin/a", 70, 80, Outcome::kOk)}));
  // An unknown create that another acknowledged create of the same path made impossible
  // to have succeeded still may have failed: fine.
  EXPECT_TRUE(Is(Verdict::kLinearizable, {Create(0, "/lin/a", 0, 0, Outcome::kUnknown),
                                          Create(1, "/lin/a", 10, 20, Outcome::kOk),
                                          Stat(2, "/lin/a", 30, 40, Outcome::kFile)}));
}

TEST(LinearizabilityCheckTest, HistoryIsCutIntoIndependentParts) {
  History h = {Create(0, "/lin/g0/a", 0, 10, Outcome::kOk),
               Create(1, "/lin/g1/a", 0, 10, Outcome::kOk),
               Create(2, "/lin/g2/a", 0, 10, Outcome::kOk),
               Rename(0, "/lin/g1/a", "/lin/g2/b", 20, 30, Outcome::kOk),
               Stat(1, "/lin/g2/b", 40, 50, Outcome::kFile)};
  CheckResult r = CheckHistory(h, CheckOptions{{"/lin/g0", "/lin/g1", "/lin/g2"}});
  EXPECT_EQ(r.verdict, Verdict::kLinearizable) << r.explanation;
  EXPECT_EQ(r.parts, 2);  // g0, and g1+g2 joined by the rename
  // The violation is found in its part, and only that part is reported.
  h.push_back(Stat(2, "/lin/g0/a", 60, 70, Outcome::kNotFound));
  r = CheckHistory(h, CheckOptions{{"/lin/g0", "/lin/g1", "/lin/g2"}});
  ASSERT_EQ(r.verdict, Verdict::kViolation);
  EXPECT_EQ(r.part_ops, (std::vector<size_t>{0, 5}));
  // A path outside the root: one part.
  h.push_back(Stat(2, "/other", 80, 90, Outcome::kNotFound));
  r = CheckHistory(h, CheckOptions{{"/lin/g0", "/lin/g1", "/lin/g2"}});
  EXPECT_EQ(r.parts, 1);
  EXPECT_EQ(r.verdict, Verdict::kViolation);
}

TEST(LinearizabilityCheckTest, BudgetExceededIsUnknownNotAHang) {
  // Unknown creates and deletes of one path and reads seeing it flip: the search must try
  // which of them took effect when.
  History h;
  for (int i = 0; i < 4; ++i) {
    h.push_back(Create(i, "/lin/a", i, 0, Outcome::kUnknown));
    h.push_back(Delete(i, "/lin/a", i, 0, Outcome::kUnknown));
  }
  for (int i = 0; i < 8; ++i) {
    h.push_back(Stat(20, "/lin/a", 100 + 10 * i, 105 + 10 * i,
                     i % 2 == 0 ? Outcome::kFile : Outcome::kNotFound));
  }
  CheckResult r = CheckHistory(h);
  EXPECT_EQ(r.verdict, Verdict::kLinearizable) << r.explanation;
  // One flip too many: a fifth create would be needed.
  h.push_back(Stat(20, "/lin/a", 200, 205, Outcome::kFile));
  r = CheckHistory(h);
  EXPECT_EQ(r.verdict, Verdict::kViolation) << r.explanation;
  const int64_t needed = r.steps;
  r = CheckHistory(h, CheckOptions{{"/lin"}, "/lin", needed / 2});
  EXPECT_EQ(r.verdict, Verdict::kUnknown);
  EXPECT_NE(r.explanation.find("budget of " + std::to_string(needed / 2) + " steps"),
            std::string::npos)
      << r.explanation;
}

TEST(LinearizabilityCheckTest, LongLowConcurrencyHistoryIsFast) {
  // 4 clients, 20,000 operations over 8 groups, generated from a real sequential execution:
  // each operation takes effect at a random instant inside its interval.
  std::mt19937_64 rng(7);
  std::vector<std::string> groups;
  for (int g = 0; g < 8; ++g) groups.push_back("/lin/g" + std::to_string(g));
  const std::vector<std::string> paths = RandomClientPaths(groups);
  struct Pending {
    Operation op;
    int64_t point;
  };
  std::vector<Pending> ops;
  for (int c = 0; c < 4; ++c) {
    int64_t t = 0;
    for (int i = 0; i < 5000; ++i) {
      Operation op;
      op.client = c;
      const int g = static_cast<int>(rng() % 8);
      const auto path = [&] { return paths[g * 5 + rng() % 5]; };
      op.kind = static_cast<OpKind>(rng() % 5);
      op.path = path();
      if (op.kind == OpKind::kRename) op.dst = path();
      op.call_ns = t + static_cast<int64_t>(rng() % 100);
      op.return_ns = op.call_ns + 1 + static_cast<int64_t>(rng() % 300);
      const int64_t point = op.call_ns + static_cast<int64_t>(rng() % (op.return_ns - op.call_ns));
      t = op.return_ns;
      ops.push_back({op, point});
    }
  }
  std::sort(ops.begin(), ops.end(),
            [](const Pending& a, const Pending& b) { return a.point < b.point; });
  FsModel model(groups);
  History h;
  for (Pending& p : ops) {
    p.op.outcome = model.Apply(p.op);
    h.push_back(p.op);
  }
  const auto start = std::chrono::steady_clock::now();
  CheckResult r = CheckHistory(h, CheckOptions{groups});
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.verdict, Verdict::kLinearizable) << r.explanation;
  EXPECT_EQ(r.parts, 8);
  // About one step per operation (wall time on a shared machine says less).
  EXPECT_LT(r.steps, 3 * static_cast<int64_t>(h.size()));
  std::cout << "20,000 operations checked in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms, "
            << r.steps << " steps\n";
}

// --- random small histories against a brute-force search ---------------------------------

// Tries every order of the operations that respects real time (an operation that responded
// before another was called comes first); operations of unknown outcome may be left out.
bool BruteForce(const History& h, const FsModel& state, std::vector<bool>& done) {
  bool all_known_done = true;
  for (size_t i = 0; i < h.size(); ++i) {
    if (!done[i] && h[i].outcome != Outcome::kUnknown) all_known_done = false;
  }
  if (all_known_done) return true;
  for (size_t i = 0; i < h.size(); ++i) {
    if (done[i]) continue;
    bool minimal = true;
    for (size_t j = 0; j < h.size() && minimal; ++j) {
      if (j != i && !done[j] && h[j].outcome != Outcome::kUnknown &&
          h[j].return_ns < h[i].call_ns) {
        minimal = false;
      }
    }
    if (!minimal) continue;
    FsModel next = state;
    const Outcome got = next.Apply(h[i]);
    if (h[i].outcome != Outcome::kUnknown && got != h[i].outcome) continue;
    done[i] = true;
    const bool ok = BruteForce(h, next, done);
    done[i] = false;
    if (ok) return true;
  }
  return false;
}

Outcome RandomOutcome(std::mt19937_64& rng, OpKind kind) {
  static const std::vector<Outcome> kMkdir = {Outcome::kOk, Outcome::kAlreadyExists,
                                              Outcome::kNotADirectory, Outcome::kNotFound};
  static const std::vector<Outcome> kCreate = {Outcome::kOk, Outcome::kAlreadyExists,
                                               Outcome::kIsADirectory, Outcome::kNotADirectory,
                                               Outcome::kNotFound};
  static const std::vector<Outcome> kRename = {Outcome::kOk, Outcome::kNotFound,
                                               Outcome::kAlreadyExists, Outcome::kNotADirectory,
                                               Outcome::kInvalidArgument};
  static const std::vector<Outcome> kDelete = {Outcome::kOk, Outcome::kFalse, Outcome::kNotEmpty,
                                               Outcome::kNotADirectory};
  static const std::vector<Outcome> kStat = {Outcome::kFile, Outcome::kDirectory,
                                             Outcome::kNotFound, Outcome::kNotADirectory};
  const std::vector<Outcome>* set = &kStat;
  switch (kind) {
    case OpKind::kMkdir:
      set = &kMkdir;
      break;
    case OpKind::kCreate:
      set = &kCreate;
      break;
    case OpKind::kRename:
      set = &kRename;
      break;
    case OpKind::kDelete:
      set = &kDelete;
      break;
    case OpKind::kGetFileInfo:
      break;
  }
  return (*set)[rng() % set->size()];
}

// A history from a real execution (each operation takes effect at a random instant inside its
// interval, or, when its outcome is unknown, maybe never), then maybe one answer changed.
History RandomHistory(std::mt19937_64& rng, int n, bool corrupt) {
  static const char* const kPaths[] = {"/lin/a", "/lin/b", "/lin/d", "/lin/d/x"};
  struct Gen {
    Operation op;
    double point;
    bool happens;
  };
  std::vector<Gen> gen;
  for (int i = 0; i < n; ++i) {
    Operation op;
    op.client = i;
    op.kind = static_cast<OpKind>(rng() % 5);
    op.path = kPaths[rng() % 4];
    if (op.kind == OpKind::kRename) op.dst = kPaths[rng() % 4];
    op.recursive = rng() % 3 != 0;
    op.create_parent = rng() % 2 == 0;
    op.call_ns = static_cast<int64_t>(rng() % 16);
    op.return_ns = op.call_ns + static_cast<int64_t>(rng() % 8);
    const double u = static_cast<double>(rng() % 1000) / 1000.0;
    const bool unknown = rng() % 6 == 0;
    const double point =
        unknown && rng() % 2 == 0
            ? static_cast<double>(op.call_ns) + 30 * u  // took effect after it "timed out"
            : static_cast<double>(op.call_ns) + u * static_cast<double>(op.return_ns - op.call_ns);
    op.outcome = unknown ? Outcome::kUnknown : Outcome::kOk;
    gen.push_back({op, point, !unknown || rng() % 2 == 0});
  }
  std::vector<size_t> order(gen.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return gen[a].point < gen[b].point; });
  FsModel model({"/lin"});
  for (size_t i : order) {
    if (!gen[i].happens) continue;
    const Outcome got = model.Apply(gen[i].op);
    if (gen[i].op.outcome != Outcome::kUnknown) gen[i].op.outcome = got;
  }
  History h;
  for (Gen& g : gen) h.push_back(g.op);
  if (corrupt) {
    Operation& victim = h[rng() % h.size()];
    if (victim.outcome != Outcome::kUnknown) victim.outcome = RandomOutcome(rng, victim.kind);
  }
  return h;
}

TEST(LinearizabilityCheckTest, AgreesWithBruteForceOnRandomSmallHistories) {
  std::mt19937_64 rng(20261122);
  int violations = 0;
  int checked = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int iter = 0; iter < 6000; ++iter) {
    const int n = 1 + static_cast<int>(rng() % (iter % 10 == 0 ? 8 : 6));
    const bool corrupt = rng() % 2 == 0;
    History h = RandomHistory(rng, n, corrupt);
    CheckResult r = CheckHistory(h);
    ASSERT_NE(r.verdict, Verdict::kUnknown);
    std::vector<bool> done(h.size(), false);
    const bool brute = BruteForce(h, FsModel({"/lin"}), done);
    ASSERT_EQ(r.verdict == Verdict::kLinearizable, brute)
        << "iteration " << iter << ": checker says " << VerdictName(r.verdict) << ", brute force "
        << brute << "\n"
        << FormatHistory(h) << r.explanation;
    if (!corrupt) {
      ASSERT_TRUE(brute) << "a real execution must be linearizable\n" << FormatHistory(h);
    }
    violations += brute ? 0 : 1;
    ++checked;
  }
  const auto took = std::chrono::steady_clock::now() - start;
  std::cout << checked << " histories, " << violations << " not linearizable, in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n";
  // The corrupted half must produce a fair share of violations, or the test proves little.
  EXPECT_GT(violations, checked / 8);
}

// --- recording ---------------------------------------------------------------------------

TEST(HistoryRecorderTest, RecordsCallsAndResponsesFromManyThreads) {
  HistoryRecorder recorder;
  std::vector<std::thread> threads;
  for (int c = 0; c < 4; ++c) {
    threads.emplace_back([&, c] {
      for (int i = 0; i < 100; ++i) {
        Operation op;
        op.client = c;
        op.kind = OpKind::kGetFileInfo;
        op.path = "/lin/a";
        const size_t id = recorder.Invoke(op);
        recorder.Complete(id, Outcome::kNotFound);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const size_t pending = recorder.Invoke(Create(9, "/lin/a", 0, 0, Outcome::kOk));
  History h = recorder.Snapshot();
  ASSERT_EQ(h.size(), 401u);
  EXPECT_EQ(h[pending].outcome, Outcome::kUnknown);  // called, never completed
  for (size_t i = 0; i + 1 < h.size(); ++i) {
    EXPECT_LE(h[i].call_ns, h[i].return_ns);
    EXPECT_EQ(h[i].outcome, Outcome::kNotFound);
    if (i > 0) {
      EXPECT_LE(h[i - 1].call_ns, h[i].call_ns);
    }
  }
  EXPECT_EQ(CheckHistory(h).verdict, Verdict::kLinearizable);
}

TEST(HistoryRecorderTest, OutcomesOfClientResults) {
  EXPECT_EQ(OutcomeOf(Status::OK()), Outcome::kOk);
  EXPECT_EQ(OutcomeOf(Status::AlreadyExists("x")), Outcome::kAlreadyExists);
  EXPECT_EQ(OutcomeOf(Status::Unavailable("x")), Outcome::kUnknown);
  EXPECT_EQ(OutcomeOf(Status::TimedOut("x")), Outcome::kUnknown);
  EXPECT_EQ(OutcomeOf(Status::NotLeader("x", "h:1")), Outcome::kUnknown);
  EXPECT_EQ(OutcomeOfDelete(Result<bool>(false)), Outcome::kFalse);
  EXPECT_EQ(OutcomeOfDelete(Result<bool>(true)), Outcome::kOk);
  FileInfo dir;
  dir.type = FileType::kDirectory;
  EXPECT_EQ(OutcomeOfFileInfo(Result<FileInfo>(dir)), Outcome::kDirectory);
  EXPECT_EQ(OutcomeOfFileInfo(Result<FileInfo>(Status::NotFound("x"))), Outcome::kNotFound);
}

TEST(LostAcknowledgedPathsTest, ReportsOnlyWhatNothingCouldHaveRemoved) {
  History h = {Create(0, "/lin/a", 0, 10, Outcome::kOk),
               Mkdir(0, "/lin/d/x", 0, 10, Outcome::kOk),
               Create(0, "/lin/b", 0, 10, Outcome::kOk),
               Delete(1, "/lin/b", 20, 0, Outcome::kUnknown),  // may have removed b
               Create(0, "/lin/c", 30, 40, Outcome::kOk),
               Delete(1, "/lin/c", 5, 15, Outcome::kOk),  // responded before c was created
               Create(0, "/lin/e", 0, 0, Outcome::kUnknown)};
  std::map<std::string, Outcome> now = {{"/lin/a", Outcome::kFile},
                                        {"/lin/d/x", Outcome::kNotFound},
                                        {"/lin/b", Outcome::kNotFound},
                                        {"/lin/c", Outcome::kNotFound}};
  std::vector<std::string> lost = LostAcknowledgedPaths(h, [&](const std::string& p) {
    auto it = now.find(p);
    return it == now.end() ? Outcome::kNotFound : it->second;
  });
  ASSERT_EQ(lost.size(), 2u);
  EXPECT_NE(lost[0].find("mkdir(/lin/d/x)"), std::string::npos) << lost[0];
  EXPECT_NE(lost[1].find("create(/lin/c)"), std::string::npos) << lost[1];
}

}  // namespace
}  // namespace talus::test::lin
