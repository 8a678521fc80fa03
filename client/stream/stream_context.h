#pragma once

#include <memory>
#include <string>

#include "client/stream/data_namenode.h"
#include "client/stream/datanode_connection_cache.h"
#include "client/stream/lease_renewer.h"
#include "talus/file_system.h"

namespace talus::client {

// What a stream borrows from the FileSystem that opened it.
struct StreamContext {
  DataNamenode* namenode = nullptr;
  std::string client_name;
  ClientOptions options;
  LeaseRenewer* leases = nullptr;  // null: no renewal (tests)
  // Idle datanode connections shared by every reader of the FileSystem; null: a new
  // connection per block read (tests).
  DatanodeConnectionCache* connections = nullptr;
  // After create/append/open, name the file by its inode path ("/.reserved/.inodes/<id>") in
  // every namenode call, so a rename of the file or its directories cannot misdirect a writer.
  // Off for fake namenodes that only know real paths.
  bool address_by_inode = false;
  // Keeps what the pointers above point to alive while a stream uses them.
  std::shared_ptr<const void> keep_alive;
};

}  // namespace talus::client
