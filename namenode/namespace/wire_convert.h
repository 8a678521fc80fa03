#pragma once
// Core namespace types <-> their Thrift twins, for the codecs and RPC handlers (the only code
// that sees Thrift types).

#include "namenode/namespace/inode.h"
#include "talus_rpc/common_types.h"

namespace talus {

inline rpc::Timespec ToWire(const NsTime& t) {
  rpc::Timespec out;
  out.sec = t.sec;
  out.nsec = t.nsec;
  return out;
}
inline NsTime FromWire(const rpc::Timespec& t) { return NsTime{t.sec, t.nsec}; }

inline rpc::ExtendedBlock ToWire(const BlockInfo& b) {
  rpc::ExtendedBlock out;
  out.block_id = b.block_id;
  out.generation_stamp = b.generation_stamp;
  out.num_bytes = b.num_bytes;
  return out;
}
inline BlockInfo FromWire(const rpc::ExtendedBlock& b) {
  return BlockInfo{b.block_id, b.generation_stamp, b.num_bytes};
}

}  // namespace talus
