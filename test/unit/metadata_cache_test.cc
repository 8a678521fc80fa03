#include "namenode/namespace/metadata_cache.h"

#include <gtest/gtest.h>

namespace talus {
namespace {

CachedValue Child(uint64_t id) {
  CachedValue v;
  v.child_id = id;
  return v;
}

TEST(MetadataCacheTest, HitsMissesAndNegativeEntries) {
  MetadataCache cache(1000);
  EXPECT_FALSE(cache.Get("Dkey").has_value());
  cache.Insert("Dkey", cache.Ticket("Dkey"), Child(7));
  ASSERT_TRUE(cache.Get("Dkey").has_value());
  EXPECT_EQ(cache.Get("Dkey")->child_id, 7u);
  cache.Insert("Dabsent", cache.Ticket("Dabsent"), CachedValue{});  // known to be absent
  auto absent = cache.Get("Dabsent");
  ASSERT_TRUE(absent.has_value());
  EXPECT_FALSE(absent->child_id.has_value());
  cache.Erase("Dkey");
  EXPECT_FALSE(cache.Get("Dkey").has_value());
}

TEST(MetadataCacheTest, AReaderThatRacedAWriteCannotPlantAStaleValue) {
  MetadataCache cache(1000);
  // Reader: misses and takes a ticket, then reads the store (old value 1)...
  const uint64_t ticket = cache.Ticket("Dk");
  // ...meanwhile the writer stores value 2 and erases the key...
  cache.Erase("Dk");
  // ...and the reader's insert of what it read must be dropped.
  cache.Insert("Dk", ticket, Child(1));
  EXPECT_FALSE(cache.Get("Dk").has_value());
  cache.Insert("Dk", cache.Ticket("Dk"), Child(2));
  EXPECT_EQ(cache.Get("Dk")->child_id, 2u);
}

TEST(MetadataCacheTest, CapacityIsBounded) {
  MetadataCache cache(160);  // 16 shards of 10
  for (int i = 0; i < 5000; ++i) {
    std::string key = "D" + std::to_string(i);
    cache.Insert(key, cache.Ticket(key), Child(i));
  }
  EXPECT_LE(cache.size(), 160u);
  EXPECT_GT(cache.size(), 0u);
}

}  // namespace
}  // namespace talus
