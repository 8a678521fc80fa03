#include "client/file_info_convert.h"

namespace talus::client {

namespace {
Timestamp FromWire(const rpc::Timespec& t) { return Timestamp{t.sec, t.nsec}; }
}  // namespace

FileInfo FileInfoFromWire(const rpc::FileStatus& st, std::string path) {
  FileInfo info;
  info.inode_id = static_cast<uint64_t>(st.inode_id);
  info.path = std::move(path);
  info.name = st.name;
  info.type = static_cast<FileType>(st.type);
  info.length = st.length;
  info.replication = st.replication;
  info.block_size = st.block_size;
  info.mtime = FromWire(st.mtime);
  info.atime = FromWire(st.atime);
  info.ctime = FromWire(st.ctime);
  info.mode = static_cast<uint32_t>(st.mode) & 07777;
  info.owner = st.owner;
  info.group = st.group;
  info.children_count = st.__isset.children_count ? st.children_count : 0;
  info.under_construction = st.__isset.under_construction && st.under_construction;
  info.symlink_target = st.__isset.symlink_target ? st.symlink_target : "";
  return info;
}

}  // namespace talus::client
