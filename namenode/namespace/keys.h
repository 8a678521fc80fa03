#pragma once
// The namespace's LevelDB key layout. Written to disk: never change a prefix byte.
//   'I' be64(inode id)                    -> InodeRecord
//   'D' be64(parent id) name              -> be64(child id)      (children sorted by name bytes)
//   'M' name                              -> meta value (see kMeta* below)
//   'R' client_id be64(call id)           -> RetryRecord          (retry cache)
//   'Q' be64(journal index) client_id be64(call id) -> be64(time sec)  (retry cache expiry order)
//   'U' be64(inode id)                    -> lease holder          (files under construction)

#include <cstdint>
#include <string>
#include <string_view>

namespace talus::keys {

inline constexpr char kInodePrefix = 'I';
inline constexpr char kDirentPrefix = 'D';
inline constexpr char kMetaPrefix = 'M';
inline constexpr char kRetryPrefix = 'R';
inline constexpr char kRetryExpiryPrefix = 'Q';
inline constexpr char kUnderConstructionPrefix = 'U';

inline constexpr std::string_view kMetaAppliedIndex = "Mapplied_index";
inline constexpr std::string_view kMetaNextInodeId = "Mnext_inode_id";
inline constexpr std::string_view kMetaNextBlockId = "Mnext_block_id";
inline constexpr std::string_view kMetaNextGenerationStamp = "Mnext_generation_stamp";
inline constexpr std::string_view kMetaNumFiles = "Mnum_files";
inline constexpr std::string_view kMetaNumDirectories = "Mnum_directories";
inline constexpr std::string_view kMetaClusterId = "Mcluster_id";
inline constexpr std::string_view kMetaLayoutVersion = "Mlayout_version";

void AppendBigEndian64(std::string* out, uint64_t value);
uint64_t DecodeBigEndian64(std::string_view in);  // requires in.size() >= 8

std::string InodeKey(uint64_t id);
std::string DirentKey(uint64_t parent_id, std::string_view name);
// The prefix shared by every entry of one directory.
std::string DirentPrefix(uint64_t parent_id);
std::string RetryKey(std::string_view client_id, int64_t call_id);
std::string UnderConstructionKey(uint64_t inode_id);
std::string RetryExpiryKey(uint64_t journal_index, std::string_view client_id, int64_t call_id);

}  // namespace talus::keys
