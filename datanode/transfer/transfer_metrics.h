#pragma once
// The datanode's metrics, counted where the work happens (data port, copies, block scanner).
// Process-wide: a datanode process has one data port.
#include "common/metrics/metrics.h"

namespace talus::datanode {

struct DatanodeMetrics {
  // Ops on the data port by kind (op="write_block|read_block|transfer_block|block_checksum").
  metrics::Counter* ops_write_block;
  metrics::Counter* ops_read_block;
  metrics::Counter* ops_transfer_block;
  metrics::Counter* ops_block_checksum;
  // Their durations, from the op header read to the op's end (a write: the whole block as the
  // client sends it).
  metrics::Histogram* op_seconds_write_block;
  metrics::Histogram* op_seconds_read_block;
  metrics::Histogram* op_seconds_transfer_block;
  metrics::Histogram* op_seconds_block_checksum;
  metrics::Counter* ops_failed;              // answered with an error or cut short
  metrics::Gauge* active_transfers;          // ops running now
  metrics::Counter* connections_refused;     // turned away at the connection limit
  metrics::Counter* bytes_read;              // block data sent to readers (READ_BLOCK)
  metrics::Counter* bytes_written;           // block data received and stored (WRITE_BLOCK)
  metrics::Counter* blocks_read;             // READ_BLOCK ops served to their end
  metrics::Counter* blocks_written;          // replicas finalized after a WRITE_BLOCK
  metrics::Histogram* packet_write_seconds;  // storing one received packet (data and checksums)
  // Data that failed its checksum, by where it was found.
  metrics::Counter* checksum_failures_write;    // source="write": a received packet
  metrics::Counter* checksum_failures_read;     // source="read": a replica read for a peer
  metrics::Counter* checksum_failures_scanner;  // source="scanner": the block scanner
  // Copies of local replicas to other datanodes (replication and rebuilt pipelines).
  metrics::Counter* copies_ok;
  metrics::Counter* copies_failed;
  metrics::Counter* copy_bytes;
  // The block scanner.
  metrics::Counter* scanner_bytes_verified;
  metrics::Counter* scanner_replicas_verified;
  metrics::Counter* scanner_missing_replicas;
};

// Registered in metrics::DefaultRegistry() on first use.
const DatanodeMetrics& GetDatanodeMetrics();

}  // namespace talus::datanode
