#pragma once

// The Raft transport (thrift/raft.thrift): a server that hands validated messages and received
// snapshots to the node, and one sender per peer.
//
// Senders: each peer has its own thread, a bounded queue and one persistent connection (sync
// Thrift client, connect and RPC timeouts). A round sends everything queued as one step() call,
// so messages batch up by themselves while a call is in flight. Messages are dropped, never
// waited for, when the queue is full, the peer is down (reconnects back off exponentially) or
// a call fails: Raft resends what matters.
//
// Server: the event-driven AsyncThriftServer; handlers only validate and queue (or, for snapshot
// chunks, write to the staging file), so the node thread never waits for the network.
//
// Fault hook (tests): SetBlockedPeers drops every message and snapshot chunk to and from those
// peers in this process, as a network partition would.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "raft/core/messages.h"
#include "raft/transport/snapshot_receiver.h"

namespace talus::raft {

struct TransportOptions {
  NodeId id = kNoNode;
  std::string client_address;   // advertised in every envelope
  std::string listen_address;   // host:port this node's server binds
  std::map<NodeId, std::string> peers;  // the other members' host:port
  std::string snapshot_dir;     // staging of snapshots being received
  bool enable_fault_injection = false;
  int connect_timeout_ms = 500;
  int rpc_timeout_ms = 3000;
  int snapshot_rpc_timeout_ms = 30000;
  size_t max_queued_messages = 4096;      // per peer
  size_t max_queued_bytes = 64 << 20;     // per peer
  size_t max_batch_bytes = 8 << 20;       // per step() call (at least one message)
  int max_frame_bytes = 128 << 20;  // what the server accepts in one call (peers: the same)
  int min_backoff_ms = 20;
  int max_backoff_ms = 1000;
  int io_threads = 2;  // a snapshot chunk being written does not hold up the messages
};

// What the transport delivers; called on server threads, must not block.
class TransportHandler {
 public:
  virtual ~TransportHandler() = default;
  // Messages addressed to this node from a known peer, in the order sent.
  virtual void OnMessages(NodeId from, const std::string& client_address,
                          std::vector<Message> msgs) = 0;
  // A complete, CRC-checked snapshot file.
  virtual void OnSnapshot(ReceivedSnapshot snapshot, const std::string& client_address) = 0;
};

class Transport {
 public:
  // Binds the server and starts one sender per peer. `handler` must outlive Stop().
  static Result<std::unique_ptr<Transport>> Start(TransportOptions options,
                                                  TransportHandler* handler);
  ~Transport();  // Stop()

  // Queues messages to their peers (never blocks on the network).
  void Send(std::vector<Message> msgs);

  // Streams the snapshot file at `path` (holding `meta`) to `to` in chunks, on the calling
  // thread. OK once the receiver has the whole file and checked it. Fails when `cancel` turns
  // true, the peer is blocked or unreachable, or the receiver refuses a chunk.
  Status SendSnapshot(NodeId to, Term term, const SnapshotMeta& meta, const std::string& path,
                      size_t chunk_bytes, const std::atomic<bool>& cancel);

  void SetBlockedPeers(const std::set<NodeId>& peers);
  std::set<NodeId> BlockedPeers() const;

  int port() const;
  // Stops the server (no handler call after it returns), the senders and any snapshot stream.
  // Idempotent.
  void Stop();

 private:
  class Impl;
  explicit Transport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Counts n messages dropped for `reason` (talus_raft_messages_dropped_total{reason}); reasons
// are a few fixed words.
void CountDroppedMessages(const char* reason, size_t n);

// "host:port" → host, port (1..65535).
Result<std::pair<std::string, int>> ParseHostPort(const std::string& address);

// Tests: asks the node serving Raft at `raft_address` to block these peers (see
// Transport::SetBlockedPeers); the node must run with fault injection enabled. Empty heals.
Status SetRemoteBlockedPeers(const std::string& raft_address, const std::vector<NodeId>& peers,
                             int timeout_ms = 2000);

}  // namespace talus::raft
