#pragma once

#include <cstdint>
#include <functional>

#include "common/result.h"
#include "common/thread_pool.h"
#include "datanode/server/replica_recovery.h"
#include "talus_rpc/DatanodeProtocol.h"

namespace talus::datanode {

// The DatanodeProtocol Thrift service on the datanode's RPC port: validates and converts, then
// delegates. Recovery calls stop writers and sync files, so they run on `pool`, never on an
// event loop; the visible length is answered inline.
class DatanodeProtocolService : public rpc::DatanodeProtocolCobSvIf {
 public:
  using ExnCob = std::function<void(apache::thrift::TDelayedException*)>;
  using VisibleLengthFn = std::function<Result<uint64_t>(uint64_t block_id, uint64_t genstamp)>;

  // All must outlive the service.
  DatanodeProtocolService(VisibleLengthFn visible_length, ReplicaRecovery* recovery,
                          ThreadPool* pool)
      : visible_length_(std::move(visible_length)), recovery_(recovery), pool_(pool) {}

  void getReplicaVisibleLength(std::function<void(const int64_t&)> cob, ExnCob exn_cob,
                               const rpc::ExtendedBlock& block) override;
  void initReplicaRecovery(std::function<void(const rpc::ReplicaRecoveryInfo&)> cob,
                           ExnCob exn_cob, const rpc::ExtendedBlock& block,
                           int64_t recovery_id) override;
  void updateReplicaUnderRecovery(std::function<void(const rpc::ExtendedBlock&)> cob,
                                  ExnCob exn_cob, const rpc::ExtendedBlock& block,
                                  int64_t recovery_id, int64_t new_length) override;

 private:
  const VisibleLengthFn visible_length_;
  ReplicaRecovery* const recovery_;
  ThreadPool* const pool_;
};

}  // namespace talus::datanode
