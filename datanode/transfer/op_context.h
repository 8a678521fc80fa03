#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "common/transfer/ops.h"
#include "common/transfer/protocol.h"
#include "common/transfer/socket_io.h"
#include "datanode/storage/dataset.h"
#include "datanode/transfer/transfer_server.h"
#include "datanode/transfer/write_tracker.h"

// What every op handler of the transfer server works with, and helpers they share.
namespace talus::datanode {

struct OpContext {
  int fd = -1;            // the connection's socket
  std::string peer;       // "host:port" of the other end, for logs
  DataSet* data = nullptr;
  ReplicaEvents* events = nullptr;
  const TransferServerOptions* options = nullptr;
  WriteTracker* tracker = nullptr;
  TransferServer::AtomicCounters* counters = nullptr;

  // Every read or write on a connection gets the socket timeout from when it starts.
  transfer::Deadline IoDeadline() const {
    return transfer::DeadlineAfterMs(options->socket_timeout_ms);
  }
  // "node: " for messages, or "" when the node has no name.
  std::string NodePrefix() const {
    return options->node_name.empty() ? std::string() : options->node_name + ": ";
  }
};

// The wire status for a storage error.
transfer::TransferStatus TransferStatusFor(const Status& status);

// How many bytes of the replica a reader may see: the acknowledged length while a pipeline
// writes it (or last wrote it), else its length on disk.
uint64_t ReplicaVisibleLength(const ReplicaInfo& info, const WriteTracker& tracker);

// Looks the replica up for a reader holding `genstamp`: kErrorUnknownBlock if absent,
// kErrorStaleGenstamp if the replica's stamp is older than the reader's.
struct ReplicaLookup {
  transfer::TransferStatus status = transfer::TransferStatus::kSuccess;
  Status error;
  ReplicaInfo info;
};
ReplicaLookup LookupForReader(const DataSet& data, uint64_t block_id, uint64_t genstamp);

// Sends an error RESPONSE (best effort: the peer may be gone) and logs the reason at WARNING.
void RespondError(const OpContext& ctx, const char* op, transfer::TransferStatus status,
                  const std::string& message);

}  // namespace talus::datanode
