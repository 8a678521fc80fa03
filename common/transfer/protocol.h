#pragma once

// Talus data transfer protocol: how clients and datanodes (and datanodes among themselves, down a
// write pipeline) move block data over a datanode's data port. Bulk data never goes through
// Thrift. Modelled on HDFS's DataTransferProtocol; the encoding is our own.
//
// Every integer is fixed width and LITTLE-ENDIAN. Nothing here is padded by the compiler: each
// message is encoded and decoded field by field with bounds checks.
//
// 1. Frame (a request op, or the response to one): a 16-byte prefix, then a body.
//      u32 magic      0x54444C54 (the bytes "TLDT")
//      u16 version    kProtocolVersion (1)
//      u8  kind       an OpCode (1 WRITE_BLOCK, 2 READ_BLOCK, 3 BLOCK_CHECKSUM, 4 TRANSFER_BLOCK)
//                     or 0x80 RESPONSE
//      u8  reserved   0
//      u32 body_len   <= kMaxFrameBodyBytes (64 KiB); checked before anything is allocated
//      u32 body_crc   CRC32C of the body
//    Bodies (strings are u16 length + bytes, each with its own bound; no trailing bytes allowed):
//      WRITE_BLOCK     u64 block_id, u64 genstamp, u64 latest_genstamp, u8 stage
//                      (0 create, 1 append, 2 recovery), u8 checksum_type (1 CRC32C),
//                      u16 reserved, u32 bytes_per_checksum, u64 min_bytes_rcvd,
//                      u64 max_bytes_rcvd, str client_name, u8 target_count (<= 15),
//                      target_count x (str host, u16 port): the nodes AFTER the receiver.
//      READ_BLOCK      u64 block_id, u64 genstamp, u64 offset, u64 length, u8 send_checksums,
//                      str client_name
//      BLOCK_CHECKSUM  u64 block_id, u64 genstamp, u64 length (kWholeBlock for all of it)
//      TRANSFER_BLOCK  u64 block_id, u64 genstamp, u64 length, str client_name,
//                      u8 target_count (1..15), target_count x (str host, u16 port)
//      RESPONSE        u8 status (TransferStatus), u8 checksum_type, u16 reserved,
//                      u32 bytes_per_checksum, u64 first_chunk_offset, u32 block_crc,
//                      u32 reserved, u64 block_crc_length, str message
//
// 2. Packets (after WRITE_BLOCK upstream→downstream; after READ_BLOCK datanode→reader):
//    a 32-byte header, then checksum_len bytes of checksums, then data_len bytes of data.
//      i64 seqno           consecutive from 0; -1 (kHeartbeatSeqno) for an empty keep-alive
//      u64 offset_in_block where data[0] belongs in the block
//      u32 data_len        <= the stream's limit (writes: what the receiver allows, 64 KiB by
//                          default; reads: the datanode sends up to 256 KiB and readers accept
//                          up to 16 MiB), never above 16 MiB
//      u32 checksum_len    4 x ChecksumCount(offset_in_block, data_len), or 0 when checksums
//                          were not requested (reads only)
//      u8  flags           bit 0 last packet of the block, bit 1 sync (hsync) requested
//      u8  reserved[3]     0
//      u32 header_crc      CRC32C of the 28 bytes above, so a corrupt length is never trusted
//    Checksums are little-endian CRC32C values, one per PIECE of the data, where pieces are cut
//    at the block's chunk boundaries (multiples of bytes_per_checksum, 512). A packet normally
//    starts at a chunk boundary, so every piece is a full chunk except possibly the last. The one
//    allowed exception: a packet may start mid-chunk when the replica's last chunk is partial
//    (after an hflush of a partial chunk, an append, or a pipeline recovery); its first checksum
//    then covers only [offset_in_block, next boundary). The datanode gets the whole chunk's CRC
//    without rereading disk as crc32c::Extend(stored partial-chunk CRC, new bytes).
//    Offsets advance contiguously: each packet starts where the previous one ended.
//
// 3. Pipeline acks (downstream→upstream, one per data packet, in seqno order):
//      i64 seqno, u8 count (1..kMaxPipelineNodes), u8 reserved[3],
//      count x u8 status (TransferStatus; the first is the sender's own, then its downstream's),
//      u32 crc (CRC32C of all the bytes before it)
//
// Pipeline recovery (stage 2): after a node failed, the client resends WRITE_BLOCK to the
// surviving nodes with the old stamp as genstamp, the new one as latest_genstamp and
// min_bytes_rcvd = the length every node acknowledged (max_bytes_rcvd = what it had sent). Each
// node cuts its replica (being written, or finalized at the old stamp when it got the last
// packet) to min_bytes_rcvd under the new stamp; packets then start there at seqno 0.
//
// A node joining a rebuilt pipeline first gets what the others acknowledged: the client sends
// TRANSFER_BLOCK to a survivor, which copies the first `length` bytes of its replica (at exactly
// `genstamp`) to the targets as a WRITE_BLOCK without a last packet, so they hold a replica
// being written of that length; it answers RESPONSE once every target acknowledged it all.
//
// Timeouts: a node waits for the acks (and accepts writes) of the nodes after it for its socket
// timeout plus PipelineTimeoutMs's extension per node further down, so the node next to a hung
// one gives up first and names it in its ack before anyone upstream gives up on it.
//
// Exchange for a write: client sends WRITE_BLOCK to DN1, which connects to the next target and
// forwards the op with the target list shortened by one; the last node answers RESPONSE, each
// node answers its upstream once its downstream has (status of the first failure). Then packets
// flow down and acks flow up; the last packet (flags bit 0, may be empty) finalizes the replica.
// For a read: READ_BLOCK, RESPONSE (first_chunk_offset = where the first packet starts, at or
// before the requested offset, on a chunk boundary), then packets until the last flag.

#include <cstdint>
#include <string_view>

#include "common/status.h"

namespace talus::transfer {

inline constexpr uint32_t kMagic = 0x54444C54u;
inline constexpr uint16_t kProtocolVersion = 1;
inline constexpr size_t kFramePrefixBytes = 16;
inline constexpr size_t kMaxFrameBodyBytes = 64 * 1024;
inline constexpr size_t kPacketHeaderBytes = 32;
inline constexpr size_t kChecksumBytes = 4;
inline constexpr uint32_t kDefaultBytesPerChecksum = 512;
inline constexpr uint32_t kMaxBytesPerChecksum = 64 * 1024;
inline constexpr uint32_t kDefaultPacketDataBytes = 64 * 1024;
inline constexpr uint32_t kMaxPacketDataBytes = 16 * 1024 * 1024;
// A pipeline of the client's first datanode plus its targets never exceeds this.
inline constexpr size_t kMaxPipelineNodes = 16;
inline constexpr size_t kMaxClientNameBytes = 1024;
inline constexpr size_t kMaxHostBytes = 255;
inline constexpr size_t kMaxMessageBytes = 4096;
inline constexpr int64_t kHeartbeatSeqno = -1;
inline constexpr uint64_t kWholeBlock = UINT64_MAX;

// Values are on the wire: never renumber, only append.
enum class OpCode : uint8_t {
  kWriteBlock = 1,
  kReadBlock = 2,
  kBlockChecksum = 3,
  kTransferBlock = 4,
};
inline constexpr uint8_t kResponseKind = 0x80;

enum class ChecksumType : uint8_t {
  kNone = 0,
  kCrc32c = 1,
};

// How a WRITE_BLOCK treats the replica. Values are on the wire.
enum class WriteStage : uint8_t {
  kCreate = 0,    // a new replica
  kAppend = 1,    // reopen a finalized replica and add to it
  kRecovery = 2,  // resume a replica being written, under latest_genstamp, after a node failed
};

// Per-node outcome in acks and responses. Values are on the wire.
enum class TransferStatus : uint8_t {
  kSuccess = 0,
  kError = 1,                // anything not listed below (I/O error, internal error)
  kErrorChecksum = 2,        // data did not match its checksums
  kErrorInvalid = 3,         // malformed or out-of-order op, packet or ack
  kErrorUnknownBlock = 4,    // no such replica
  kErrorStaleGenstamp = 5,   // the replica's generation stamp differs from the request's
  kErrorExists = 6,          // create of a replica that already exists
  kErrorNoSpace = 7,         // no volume can hold the replica
};
inline constexpr uint8_t kMaxTransferStatus = 7;

// How long to wait on a pipeline with `nodes_after` nodes further down (HDFS's read timeout
// extension): base_timeout_ms plus min(5 s, base / 4) per node.
int PipelineTimeoutMs(int base_timeout_ms, size_t nodes_after);

const char* OpCodeName(OpCode op);
const char* TransferStatusName(TransferStatus status);
// OK for kSuccess; otherwise a Status whose code fits (checksum → Corruption, unknown block →
// NotFound, ...) and whose message is `message` prefixed by the status name.
Status TransferStatusToStatus(TransferStatus status, std::string_view message);

}  // namespace talus::transfer
