#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace talus::datanode {

// The identity a datanode registers with (the namenode's storage_id, "DN-<uuid>"), kept in
// every volume as ROOT/datanode_id so that it survives restarts and the loss of any one volume.
// Volumes that lack the file get it; volumes that carry different ids belong to different
// datanodes and are refused (a mix-up of data directories must not merge two nodes' replicas).
Result<std::string> LoadOrCreateDatanodeId(const std::vector<std::string>& volume_roots);

}  // namespace talus::datanode
