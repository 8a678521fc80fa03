#include "common/transfer/ops.h"

#include <cstdio>

#include <glog/logging.h>

#include "common/crc32c.h"
#include "common/transfer/byte_codec.h"

namespace talus::transfer {
namespace {

const uint8_t* Bytes(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

bool KnownKind(uint8_t kind) {
  return kind == static_cast<uint8_t>(OpCode::kWriteBlock) ||
         kind == static_cast<uint8_t>(OpCode::kReadBlock) ||
         kind == static_cast<uint8_t>(OpCode::kBlockChecksum) ||
         kind == static_cast<uint8_t>(OpCode::kTransferBlock) || kind == kResponseKind;
}

std::string WithPrefix(uint8_t kind, const std::string& body) {
  std::string frame(kFramePrefixBytes, '\0');
  auto* p = reinterpret_cast<uint8_t*>(frame.data());
  StoreLe32(p, kMagic);
  StoreLe16(p + 4, kProtocolVersion);
  p[6] = kind;
  p[7] = 0;
  StoreLe32(p + 8, static_cast<uint32_t>(body.size()));
  StoreLe32(p + 12, crc32c::Value(body.data(), body.size()));
  frame += body;
  return frame;
}

Status CheckString(const std::string& s, size_t max_len, const char* field) {
  if (s.size() <= max_len) return Status::OK();
  return Status::InvalidArgument(std::string(field) + " is " + std::to_string(s.size()) +
                                 " bytes, limit " + std::to_string(max_len));
}

// How many targets an op may name: at least `min_targets`, and fewer than kMaxPipelineNodes.
std::string TargetCountError(size_t count, std::string_view what, size_t min_targets) {
  const std::string limit = std::to_string(kMaxPipelineNodes - 1);
  return std::string(what) + ": " + std::to_string(count) + " targets, " +
         (min_targets == 0 ? "limit " + limit
                           : "expected " + std::to_string(min_targets) + " to " + limit);
}

bool TargetCountOk(size_t count, size_t min_targets) {
  return count >= min_targets && count < kMaxPipelineNodes;
}

Status ValidateTargets(const std::vector<HostPort>& targets, std::string_view what,
                       size_t min_targets) {
  if (!TargetCountOk(targets.size(), min_targets)) {
    return Status::InvalidArgument(TargetCountError(targets.size(), what, min_targets));
  }
  for (const HostPort& t : targets) {
    if (t.host.empty() || t.port == 0) {
      return Status::InvalidArgument(std::string(what) + ": target '" + t.host + ":" +
                                     std::to_string(t.port) + "' needs a host and a port");
    }
    const std::string field = std::string(what) + ": target host";
    RETURN_NOT_OK(CheckString(t.host, kMaxHostBytes, field.c_str()));
  }
  return Status::OK();
}

void EncodeTargets(ByteWriter* w, const std::vector<HostPort>& targets) {
  w->U8(static_cast<uint8_t>(targets.size()));
  for (const HostPort& t : targets) {
    w->Str(t.host);
    w->U16(t.port);
  }
}

// `header` names the op's header in errors ("WRITE_BLOCK header").
Status DecodeTargets(ByteReader* r, std::string_view header, size_t min_targets,
                     std::vector<HostPort>* targets) {
  uint8_t count = 0;
  RETURN_NOT_OK(r->U8(&count, "target_count"));
  if (!TargetCountOk(count, min_targets)) {
    return Status::Corruption(TargetCountError(count, header, min_targets));
  }
  targets->resize(count);
  for (HostPort& t : *targets) {
    RETURN_NOT_OK(r->Str(&t.host, kMaxHostBytes, "target host"));
    RETURN_NOT_OK(r->U16(&t.port, "target port"));
  }
  return Status::OK();
}

Status ValidateWriteBlock(const WriteBlockOp& op) {
  if (op.stage > WriteStage::kRecovery) {
    return Status::InvalidArgument("WRITE_BLOCK: unknown stage " +
                                   std::to_string(static_cast<int>(op.stage)));
  }
  if (op.checksum_type != ChecksumType::kCrc32c) {
    return Status::InvalidArgument("WRITE_BLOCK: checksum type " +
                                   std::to_string(static_cast<int>(op.checksum_type)) +
                                   " is not supported (only CRC32C)");
  }
  if (op.bytes_per_checksum == 0 || op.bytes_per_checksum > kMaxBytesPerChecksum) {
    return Status::InvalidArgument("WRITE_BLOCK: bytes_per_checksum " +
                                   std::to_string(op.bytes_per_checksum) + " not in [1, " +
                                   std::to_string(kMaxBytesPerChecksum) + "]");
  }
  if (op.min_bytes_rcvd > op.max_bytes_rcvd) {
    return Status::InvalidArgument("WRITE_BLOCK: min_bytes_rcvd " +
                                   std::to_string(op.min_bytes_rcvd) + " > max_bytes_rcvd " +
                                   std::to_string(op.max_bytes_rcvd));
  }
  RETURN_NOT_OK(CheckString(op.client_name, kMaxClientNameBytes, "WRITE_BLOCK: client_name"));
  return ValidateTargets(op.targets, "WRITE_BLOCK", 0);
}

Status ValidateTransferBlock(const TransferBlockOp& op) {
  RETURN_NOT_OK(CheckString(op.client_name, kMaxClientNameBytes, "TRANSFER_BLOCK: client_name"));
  return ValidateTargets(op.targets, "TRANSFER_BLOCK", 1);
}

Status ValidateReadBlock(const ReadBlockOp& op) {
  if (op.offset + op.length < op.offset) {
    return Status::InvalidArgument("READ_BLOCK: offset " + std::to_string(op.offset) +
                                   " + length " + std::to_string(op.length) + " overflows");
  }
  return CheckString(op.client_name, kMaxClientNameBytes, "READ_BLOCK: client_name");
}

std::string EncodeWriteBlockBody(const WriteBlockOp& op) {
  std::string body;
  ByteWriter w(&body);
  w.U64(op.block_id);
  w.U64(op.genstamp);
  w.U64(op.latest_genstamp);
  w.U8(static_cast<uint8_t>(op.stage));
  w.U8(static_cast<uint8_t>(op.checksum_type));
  w.U16(0);
  w.U32(op.bytes_per_checksum);
  w.U64(op.min_bytes_rcvd);
  w.U64(op.max_bytes_rcvd);
  w.Str(op.client_name);
  EncodeTargets(&w, op.targets);
  return body;
}

std::string EncodeReadBlockBody(const ReadBlockOp& op) {
  std::string body;
  ByteWriter w(&body);
  w.U64(op.block_id);
  w.U64(op.genstamp);
  w.U64(op.offset);
  w.U64(op.length);
  w.U8(op.send_checksums ? 1 : 0);
  w.Str(op.client_name);
  return body;
}

std::string EncodeTransferBlockBody(const TransferBlockOp& op) {
  std::string body;
  ByteWriter w(&body);
  w.U64(op.block_id);
  w.U64(op.genstamp);
  w.U64(op.length);
  w.Str(op.client_name);
  EncodeTargets(&w, op.targets);
  return body;
}

std::string EncodeBlockChecksumBody(const BlockChecksumOp& op) {
  std::string body;
  ByteWriter w(&body);
  w.U64(op.block_id);
  w.U64(op.genstamp);
  w.U64(op.length);
  return body;
}

Status DecodeBool(ByteReader* r, bool* v, const char* field) {
  uint8_t b = 0;
  RETURN_NOT_OK(r->U8(&b, field));
  if (b > 1) return Status::Corruption(std::string(field) + " is " + std::to_string(b) + ", not 0 or 1");
  *v = b == 1;
  return Status::OK();
}

}  // namespace

Result<uint32_t> DecodeFramePrefix(const uint8_t* p, uint8_t* kind) {
  uint32_t magic = LoadLe32(p);
  if (magic != kMagic) {
    char hex[16];
    std::snprintf(hex, sizeof(hex), "0x%08x", magic);
    return Status::Corruption(std::string("not a Talus data transfer frame (magic ") + hex + ")");
  }
  uint16_t version = LoadLe16(p + 4);
  if (version != kProtocolVersion) {
    return Status::NotSupported("data transfer protocol version " + std::to_string(version) +
                                " is not supported (this node speaks " +
                                std::to_string(kProtocolVersion) + ")");
  }
  if (!KnownKind(p[6])) {
    return Status::NotSupported("unknown data transfer op " + std::to_string(p[6]));
  }
  if (p[7] != 0) return Status::Corruption("frame prefix: reserved byte is not zero");
  uint32_t len = LoadLe32(p + 8);
  if (len > kMaxFrameBodyBytes) {
    return Status::InvalidArgument("frame body of " + std::to_string(len) +
                                   " bytes exceeds the limit of " +
                                   std::to_string(kMaxFrameBodyBytes));
  }
  *kind = p[6];
  return len;
}

Status CheckFrameBody(const uint8_t* prefix, const std::string& body) {
  uint32_t expected = LoadLe32(prefix + 12);
  uint32_t actual = crc32c::Value(body.data(), body.size());
  if (expected == actual) return Status::OK();
  return Status::Corruption("frame body checksum mismatch");
}

WriteBlockOp DownstreamOp(const WriteBlockOp& op) {
  CHECK(!op.targets.empty()) << "DownstreamOp of a WRITE_BLOCK with no targets";
  WriteBlockOp next = op;
  next.targets.erase(next.targets.begin());
  return next;
}

Result<std::string> EncodeOp(const TransferOp& op) {
  if (const auto* w = std::get_if<WriteBlockOp>(&op)) {
    RETURN_NOT_OK(ValidateWriteBlock(*w));
    return WithPrefix(static_cast<uint8_t>(OpCode::kWriteBlock), EncodeWriteBlockBody(*w));
  }
  if (const auto* r = std::get_if<ReadBlockOp>(&op)) {
    RETURN_NOT_OK(ValidateReadBlock(*r));
    return WithPrefix(static_cast<uint8_t>(OpCode::kReadBlock), EncodeReadBlockBody(*r));
  }
  if (const auto* t = std::get_if<TransferBlockOp>(&op)) {
    RETURN_NOT_OK(ValidateTransferBlock(*t));
    return WithPrefix(static_cast<uint8_t>(OpCode::kTransferBlock), EncodeTransferBlockBody(*t));
  }
  const auto& c = std::get<BlockChecksumOp>(op);
  return WithPrefix(static_cast<uint8_t>(OpCode::kBlockChecksum), EncodeBlockChecksumBody(c));
}

Result<std::string> EncodeResponse(const OpResponse& response) {
  RETURN_NOT_OK(CheckString(response.message, kMaxMessageBytes, "response message"));
  std::string body;
  ByteWriter w(&body);
  w.U8(static_cast<uint8_t>(response.status));
  w.U8(static_cast<uint8_t>(response.checksum_type));
  w.U16(0);
  w.U32(response.bytes_per_checksum);
  w.U64(response.first_chunk_offset);
  w.U32(response.block_crc);
  w.U32(0);
  w.U64(response.block_crc_length);
  w.Str(response.message);
  return WithPrefix(kResponseKind, body);
}

Result<WriteBlockOp> DecodeWriteBlockBody(const std::string& body) {
  ByteReader r(Bytes(body), body.size(), "WRITE_BLOCK header");
  WriteBlockOp op;
  uint8_t stage = 0, type = 0;
  RETURN_NOT_OK(r.U64(&op.block_id, "block_id"));
  RETURN_NOT_OK(r.U64(&op.genstamp, "genstamp"));
  RETURN_NOT_OK(r.U64(&op.latest_genstamp, "latest_genstamp"));
  RETURN_NOT_OK(r.U8(&stage, "stage"));
  RETURN_NOT_OK(r.U8(&type, "checksum_type"));
  RETURN_NOT_OK(r.Zero(2, "reserved"));
  RETURN_NOT_OK(r.U32(&op.bytes_per_checksum, "bytes_per_checksum"));
  RETURN_NOT_OK(r.U64(&op.min_bytes_rcvd, "min_bytes_rcvd"));
  RETURN_NOT_OK(r.U64(&op.max_bytes_rcvd, "max_bytes_rcvd"));
  RETURN_NOT_OK(r.Str(&op.client_name, kMaxClientNameBytes, "client_name"));
  RETURN_NOT_OK(DecodeTargets(&r, "WRITE_BLOCK header", 0, &op.targets));
  RETURN_NOT_OK(r.Finish());
  op.stage = static_cast<WriteStage>(stage);
  op.checksum_type = static_cast<ChecksumType>(type);
  RETURN_NOT_OK(ValidateWriteBlock(op));
  return op;
}

Result<ReadBlockOp> DecodeReadBlockBody(const std::string& body) {
  ByteReader r(Bytes(body), body.size(), "READ_BLOCK header");
  ReadBlockOp op;
  RETURN_NOT_OK(r.U64(&op.block_id, "block_id"));
  RETURN_NOT_OK(r.U64(&op.genstamp, "genstamp"));
  RETURN_NOT_OK(r.U64(&op.offset, "offset"));
  RETURN_NOT_OK(r.U64(&op.length, "length"));
  RETURN_NOT_OK(DecodeBool(&r, &op.send_checksums, "send_checksums"));
  RETURN_NOT_OK(r.Str(&op.client_name, kMaxClientNameBytes, "client_name"));
  RETURN_NOT_OK(r.Finish());
  RETURN_NOT_OK(ValidateReadBlock(op));
  return op;
}

Result<BlockChecksumOp> DecodeBlockChecksumBody(const std::string& body) {
  ByteReader r(Bytes(body), body.size(), "BLOCK_CHECKSUM header");
  BlockChecksumOp op;
  RETURN_NOT_OK(r.U64(&op.block_id, "block_id"));
  RETURN_NOT_OK(r.U64(&op.genstamp, "genstamp"));
  RETURN_NOT_OK(r.U64(&op.length, "length"));
  RETURN_NOT_OK(r.Finish());
  return op;
}

Result<TransferBlockOp> DecodeTransferBlockBody(const std::string& body) {
  ByteReader r(Bytes(body), body.size(), "TRANSFER_BLOCK header");
  TransferBlockOp op;
  RETURN_NOT_OK(r.U64(&op.block_id, "block_id"));
  RETURN_NOT_OK(r.U64(&op.genstamp, "genstamp"));
  RETURN_NOT_OK(r.U64(&op.length, "length"));
  RETURN_NOT_OK(r.Str(&op.client_name, kMaxClientNameBytes, "client_name"));
  RETURN_NOT_OK(DecodeTargets(&r, "TRANSFER_BLOCK header", 1, &op.targets));
  RETURN_NOT_OK(r.Finish());
  RETURN_NOT_OK(ValidateTransferBlock(op));
  return op;
}

Result<TransferOp> DecodeOp(const Frame& frame) {
  switch (frame.kind) {
    case static_cast<uint8_t>(OpCode::kWriteBlock): {
      ASSIGN_OR_RETURN(WriteBlockOp op, DecodeWriteBlockBody(frame.body));
      return TransferOp(std::move(op));
    }
    case static_cast<uint8_t>(OpCode::kReadBlock): {
      ASSIGN_OR_RETURN(ReadBlockOp op, DecodeReadBlockBody(frame.body));
      return TransferOp(std::move(op));
    }
    case static_cast<uint8_t>(OpCode::kBlockChecksum): {
      ASSIGN_OR_RETURN(BlockChecksumOp op, DecodeBlockChecksumBody(frame.body));
      return TransferOp(op);
    }
    case static_cast<uint8_t>(OpCode::kTransferBlock): {
      ASSIGN_OR_RETURN(TransferBlockOp op, DecodeTransferBlockBody(frame.body));
      return TransferOp(std::move(op));
    }
  }
  return Status::InvalidArgument("expected an op, got frame kind " + std::to_string(frame.kind));
}

Result<OpResponse> DecodeResponse(const Frame& frame) {
  if (frame.kind != kResponseKind) {
    return Status::InvalidArgument("expected a response, got frame kind " +
                                   std::to_string(frame.kind));
  }
  ByteReader r(Bytes(frame.body), frame.body.size(), "response");
  OpResponse resp;
  uint8_t status = 0, type = 0;
  RETURN_NOT_OK(r.U8(&status, "status"));
  RETURN_NOT_OK(r.U8(&type, "checksum_type"));
  RETURN_NOT_OK(r.Zero(2, "reserved"));
  RETURN_NOT_OK(r.U32(&resp.bytes_per_checksum, "bytes_per_checksum"));
  RETURN_NOT_OK(r.U64(&resp.first_chunk_offset, "first_chunk_offset"));
  RETURN_NOT_OK(r.U32(&resp.block_crc, "block_crc"));
  RETURN_NOT_OK(r.Zero(4, "reserved"));
  RETURN_NOT_OK(r.U64(&resp.block_crc_length, "block_crc_length"));
  RETURN_NOT_OK(r.Str(&resp.message, kMaxMessageBytes, "message"));
  RETURN_NOT_OK(r.Finish());
  if (status > kMaxTransferStatus) {
    return Status::Corruption("response: unknown status " + std::to_string(status));
  }
  if (type > static_cast<uint8_t>(ChecksumType::kCrc32c)) {
    return Status::Corruption("response: unknown checksum type " + std::to_string(type));
  }
  if (type == static_cast<uint8_t>(ChecksumType::kCrc32c) &&
      (resp.bytes_per_checksum == 0 || resp.bytes_per_checksum > kMaxBytesPerChecksum)) {
    return Status::Corruption("response: bytes_per_checksum " +
                              std::to_string(resp.bytes_per_checksum) + " out of range");
  }
  resp.status = static_cast<TransferStatus>(status);
  resp.checksum_type = static_cast<ChecksumType>(type);
  return resp;
}

}  // namespace talus::transfer
