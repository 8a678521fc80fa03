// DirtyExtents, the bookkeeping under RandomWriteFile's copy-on-write: what a range of a file
// holds over its committed content, and which blocks a flush rewrites. Checked against a plain
// byte-string model with random writes and truncations, and by applying the changed blocks to
// the committed content as a commit would.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "client/rewrite/dirty_extents.h"

namespace talus::client {
namespace {

// The committed file behind a DirtyExtents: reads count the bytes they fetch.
struct Committed {
  std::string bytes;
  int64_t bytes_read = 0;
  DirtyExtents::CommittedReader Reader() {
    return [this](int64_t off, size_t n, char* out) -> Status {
      if (off < 0 || off + static_cast<int64_t>(n) > static_cast<int64_t>(bytes.size())) {
        return Status::Internal("read past the committed end");
      }
      bytes.copy(out, n, static_cast<size_t>(off));
      bytes_read += static_cast<int64_t>(n);
      return Status::OK();
    };
  }
};

std::string FillAll(const DirtyExtents& d, Committed& c, int64_t off, int64_t n) {
  std::string out(static_cast<size_t>(n), '?');
  Status s = d.Fill(off, static_cast<size_t>(n), out.data(), c.Reader());
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

TEST(DirtyExtentsTest, WritesOverlayCommittedBytes) {
  Committed c{std::string(100, 'a')};
  DirtyExtents d(100);
  EXPECT_FALSE(d.changed());
  d.Write(10, "XYZ", 3);
  d.Write(12, "QR", 2);  // overlaps the end of the first write and extends it
  EXPECT_EQ(d.Ranges(), (std::vector<std::pair<int64_t, int64_t>>{{10, 4}}));
  EXPECT_EQ(d.dirty_bytes(), 4u);
  EXPECT_EQ(FillAll(d, c, 8, 8), "aaXYQRaa");
  EXPECT_EQ(d.length(), 100);
  EXPECT_TRUE(d.changed());
}

TEST(DirtyExtentsTest, CoveredRangesAreNotReadFromTheCommittedFile) {
  Committed c{std::string(100, 'a')};
  DirtyExtents d(100);
  d.Write(0, std::string(50, 'b').data(), 50);
  EXPECT_EQ(FillAll(d, c, 0, 50), std::string(50, 'b'));
  EXPECT_EQ(c.bytes_read, 0);
  EXPECT_EQ(FillAll(d, c, 40, 20), std::string(10, 'b') + std::string(10, 'a'));
  EXPECT_EQ(c.bytes_read, 10);
}

TEST(DirtyExtentsTest, AWriteSpanningSeveralExtentsMergesThem) {
  DirtyExtents d(0);
  d.Write(0, "aa", 2);
  d.Write(4, "bb", 2);
  d.Write(8, "cccc", 4);
  d.Write(1, "XXXXXXXX", 8);  // covers [1, 9): keeps the tail of "cccc"
  EXPECT_EQ(d.Ranges(), (std::vector<std::pair<int64_t, int64_t>>{{0, 12}}));
  EXPECT_EQ(d.dirty_bytes(), 12u);
  Committed c;
  EXPECT_EQ(FillAll(d, c, 0, 12), "aXXXXXXXXccc");
}

TEST(DirtyExtentsTest, TruncateDownThenUpShowsZerosNotOldBytes) {
  Committed c{std::string(100, 'a')};
  DirtyExtents d(100);
  d.Write(50, "bbbb", 4);
  d.Truncate(52);
  EXPECT_EQ(d.dirty_bytes(), 2u);
  d.Truncate(20);
  EXPECT_EQ(d.dirty_bytes(), 0u);
  EXPECT_EQ(d.committed_visible(), 20);
  d.Truncate(60);
  EXPECT_EQ(d.length(), 60);
  EXPECT_EQ(FillAll(d, c, 15, 10), std::string(5, 'a') + std::string(5, '\0'));
}

TEST(DirtyExtentsTest, WritePastTheEndLeavesAHoleOfZeros) {
  Committed c{"abc"};
  DirtyExtents d(3);
  d.Write(6, "Z", 1);
  EXPECT_EQ(d.length(), 7);
  EXPECT_EQ(FillAll(d, c, 0, 7), std::string("abc\0\0\0Z", 7));
}

TEST(DirtyExtentsTest, ChangedBlocksListsOnlyWhatDiffers) {
  const int64_t bs = 10;
  DirtyExtents d(35);  // blocks of 10, 10, 10, 5
  const std::vector<int64_t> old = {10, 10, 10, 5};
  EXPECT_TRUE(d.ChangedBlocks(bs, old).empty());
  d.Write(12, "x", 1);
  using C = DirtyExtents::BlockChange;
  EXPECT_EQ(d.ChangedBlocks(bs, old), (std::vector<C>{{1, 10, 10}}));
  // Growing past the partial last block fills it and adds blocks.
  d.Write(41, "y", 1);
  EXPECT_EQ(d.ChangedBlocks(bs, old), (std::vector<C>{{1, 10, 10}, {3, 30, 10}, {4, 40, 2}}));
  // Truncating on a block boundary rewrites nothing: the commit cuts.
  d.Reset(35);
  d.Truncate(20);
  EXPECT_TRUE(d.ChangedBlocks(bs, old).empty());
  // Inside a block: that block is rewritten shorter.
  d.Truncate(15);
  EXPECT_EQ(d.ChangedBlocks(bs, old), (std::vector<C>{{1, 10, 5}}));
  // Down then back up to the same length: the zeros must be written.
  d.Reset(35);
  d.Truncate(25);
  d.Truncate(35);
  EXPECT_EQ(d.ChangedBlocks(bs, old), (std::vector<C>{{2, 20, 10}, {3, 30, 5}}));
}

// Random writes and truncations against a byte-string model; after each batch the changed
// blocks are applied to the committed bytes as a commit would, and the result must be the model.
TEST(DirtyExtentsTest, RandomOperationsMatchAModel) {
  for (uint64_t seed : {1u, 2u, 3u, 4u}) {
    std::mt19937_64 rng(seed);
    const int64_t bs = 64 + 64 * static_cast<int64_t>(rng() % 4);
    Committed c{std::string(static_cast<size_t>(rng() % 1000), 'c')};
    for (char& ch : c.bytes) ch = static_cast<char>('a' + rng() % 26);
    std::string model = c.bytes;
    DirtyExtents d(static_cast<int64_t>(model.size()));
    for (int round = 0; round < 60; ++round) {
      for (int op = 0; op < 20; ++op) {
        const int kind = static_cast<int>(rng() % 10);
        if (kind < 7) {
          const int64_t off = static_cast<int64_t>(rng() % (model.size() + 200));
          const size_t n = 1 + rng() % 150;
          std::string data(n, '\0');
          for (char& ch : data) ch = static_cast<char>('A' + rng() % 26);
          d.Write(off, data.data(), n);
          if (model.size() < off + n) model.resize(off + n, '\0');
          model.replace(static_cast<size_t>(off), n, data);
        } else {
          const int64_t len = static_cast<int64_t>(rng() % (model.size() + 300));
          d.Truncate(len);
          model.resize(static_cast<size_t>(len), '\0');
        }
        ASSERT_EQ(d.length(), static_cast<int64_t>(model.size()));
        // A random read of what the file holds now.
        if (!model.empty()) {
          const int64_t off = static_cast<int64_t>(rng() % model.size());
          const int64_t n = std::min<int64_t>(1 + rng() % 300, model.size() - off);
          ASSERT_EQ(FillAll(d, c, off, n), model.substr(off, n)) << "seed " << seed;
        }
      }
      // Commit: changed blocks from Fill, the others kept from the committed bytes.
      std::vector<int64_t> old_lengths;
      for (int64_t off = 0; off < static_cast<int64_t>(c.bytes.size()); off += bs) {
        old_lengths.push_back(std::min<int64_t>(bs, c.bytes.size() - off));
      }
      std::vector<std::string> blocks;
      for (size_t i = 0; i < old_lengths.size(); ++i) {
        blocks.push_back(c.bytes.substr(i * bs, old_lengths[i]));
      }
      const auto changes = d.ChangedBlocks(bs, old_lengths);
      for (const auto& ch : changes) {
        ASSERT_EQ(ch.offset, ch.index * bs);
        if (blocks.size() <= static_cast<size_t>(ch.index)) blocks.resize(ch.index + 1);
        blocks[ch.index] = FillAll(d, c, ch.offset, ch.length);
      }
      const size_t count = (model.size() + bs - 1) / bs;
      blocks.resize(count);
      std::string result;
      for (size_t i = 0; i < blocks.size(); ++i) {
        if (i + 1 < blocks.size()) {
          ASSERT_EQ(static_cast<int64_t>(blocks[i].size()), bs);
        }
        result += blocks[i];
      }
      ASSERT_EQ(result, model) << "seed " << seed << " round " << round;
      c.bytes = model;
      d.Reset(static_cast<int64_t>(model.size()));
    }
  }
}

}  // namespace
}  // namespace talus::client
