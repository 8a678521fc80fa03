#include "client/stream/datanode_client.h"

#include <thrift/TApplicationException.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>
#include <thrift/transport/TTransportException.h>

#include <variant>

#include "common/rpc/thrift_status.h"
#include "common/transfer/stream_io.h"
#include "talus_rpc/DatanodeProtocol.h"

namespace talus::client {

Result<transfer::UniqueFd> ConnectDataPort(const DatanodeInfo& node, int timeout_ms) {
  Result<transfer::UniqueFd> fd =
      transfer::SocketConnect(node.host, static_cast<uint16_t>(node.data_port),
                              transfer::DeadlineAfterMs(timeout_ms));
  if (!fd.ok()) {
    return Status::Unavailable("cannot connect to datanode " + node.DataAddress() + ": " +
                               fd.status().message());
  }
  return fd;
}

Result<uint64_t> GetReplicaVisibleLength(const DatanodeInfo& node, const BlockRef& block,
                                         int timeout_ms) {
  using apache::thrift::transport::TSocket;
  const std::string where = "getReplicaVisibleLength of " + block.Name() + " on datanode " +
                            node.host + ":" + std::to_string(node.rpc_port);
  auto socket = std::make_shared<TSocket>(node.host, node.rpc_port);
  socket->setConnTimeout(timeout_ms);
  socket->setRecvTimeout(timeout_ms);
  socket->setSendTimeout(timeout_ms);
  auto transport = std::make_shared<apache::thrift::transport::TFramedTransport>(socket);
  rpc::DatanodeProtocolClient client(
      std::make_shared<apache::thrift::protocol::TBinaryProtocol>(transport));
  rpc::ExtendedBlock wire;
  wire.block_id = static_cast<int64_t>(block.block_id);
  wire.generation_stamp = static_cast<int64_t>(block.genstamp);
  wire.num_bytes = static_cast<int64_t>(block.num_bytes);
  try {
    transport->open();
    int64_t length = client.getReplicaVisibleLength(wire);
    transport->close();
    if (length < 0) return Status::Internal(where + ": negative length");
    return static_cast<uint64_t>(length);
  } catch (const rpc::TalusError& e) {
    return FromThriftError(e).Prepend(where);
  } catch (const apache::thrift::transport::TTransportException& e) {
    return Status::Unavailable(where + ": " + e.what());
  } catch (const apache::thrift::TException& e) {
    return Status::IoError(where + ": " + e.what());
  }
}

Result<BlockCrc> GetBlockCrc(const DatanodeInfo& node, const BlockRef& block, int timeout_ms) {
  const std::string where = "BLOCK_CHECKSUM of " + block.Name() + " on " + node.DataAddress();
  ASSIGN_OR_RETURN(transfer::UniqueFd fd, ConnectDataPort(node, timeout_ms));
  const transfer::Deadline deadline = transfer::DeadlineAfterMs(timeout_ms);
  transfer::BlockChecksumOp op;
  op.block_id = block.block_id;
  op.genstamp = block.genstamp;
  op.length = block.num_bytes;
  RETURN_NOT_OK_PREPEND(transfer::WriteOp(fd.get(), op, deadline), where);
  Result<transfer::OpResponse> response = transfer::ReadResponse(fd.get(), deadline);
  if (!response.ok()) return response.status().Prepend(where);
  if (response->status != transfer::TransferStatus::kSuccess) {
    return transfer::TransferStatusToStatus(response->status, response->message).Prepend(where);
  }
  if (response->block_crc_length != block.num_bytes) {
    return Status::Corruption(where + ": the datanode covered " +
                              std::to_string(response->block_crc_length) + " bytes, expected " +
                              std::to_string(block.num_bytes));
  }
  return BlockCrc{response->block_crc, response->block_crc_length};
}

}  // namespace talus::client
