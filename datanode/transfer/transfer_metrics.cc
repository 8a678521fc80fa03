#include "datanode/transfer/transfer_metrics.h"

namespace talus::datanode {

const DatanodeMetrics& GetDatanodeMetrics() {
  static const DatanodeMetrics* m = [] {
    metrics::Registry& r = metrics::DefaultRegistry();
    auto ops = [&](const char* op) {
      return r.GetCounter("talus_datanode_transfer_ops_total", "Data transfer ops started, by op.",
                          {{"op", op}});
    };
    auto op_seconds = [&](const char* op) {
      return r.GetHistogram("talus_datanode_transfer_op_seconds",
                            "Duration of data transfer ops, by op, seconds.",
                            metrics::LatencyBuckets(), {{"op", op}});
    };
    auto checksum = [&](const char* source) {
      return r.GetCounter("talus_datanode_checksum_failures_total",
                          "Block data that failed its checksum, by where it was found: a "
                          "received packet (write), a replica read for a peer (read), the block "
                          "scanner (scanner).",
                          {{"source", source}});
    };
    auto copies = [&](const char* result) {
      return r.GetCounter("talus_datanode_block_copies_total",
                          "Copies of local replicas sent to other datanodes (replication, "
                          "rebuilt pipelines), by result.",
                          {{"result", result}});
    };
    return new DatanodeMetrics{
        ops("write_block"),
        ops("read_block"),
        ops("transfer_block"),
        ops("block_checksum"),
        op_seconds("write_block"),
        op_seconds("read_block"),
        op_seconds("transfer_block"),
        op_seconds("block_checksum"),
        r.GetCounter("talus_datanode_transfer_ops_failed_total",
                     "Data transfer ops answered with an error or cut short."),
        r.GetGauge("talus_datanode_active_transfers", "Data transfer ops running now."),
        r.GetCounter("talus_datanode_refused_connections_total",
                     "Data connections refused at the connection limit."),
        r.GetCounter("talus_datanode_bytes_read_total",
                     "Block data sent to readers (clients and peers), bytes."),
        r.GetCounter("talus_datanode_bytes_written_total",
                     "Block data received and stored (client writes and copies), bytes."),
        r.GetCounter("talus_datanode_blocks_read_total", "Block reads served to their end."),
        r.GetCounter("talus_datanode_blocks_written_total",
                     "Replicas finalized after being written here."),
        r.GetHistogram("talus_datanode_packet_write_seconds",
                       "Time to store one received packet (data and checksums), seconds.",
                       metrics::LatencyBuckets()),
        checksum("write"),
        checksum("read"),
        checksum("scanner"),
        copies("ok"),
        copies("error"),
        r.GetCounter("talus_datanode_copy_bytes_total",
                     "Block data sent by completed copies to other datanodes, bytes."),
        r.GetCounter("talus_datanode_scanner_bytes_verified_total",
                     "Bytes the block scanner read and verified against their checksums."),
        r.GetCounter("talus_datanode_scanner_replicas_verified_total",
                     "Replicas the block scanner verified to the end."),
        r.GetCounter("talus_datanode_scanner_missing_replicas_total",
                     "Replicas the block scanner found missing from disk."),
    };
  }();
  return *m;
}

}  // namespace talus::datanode
