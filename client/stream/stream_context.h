#pragma once

#include <string>

#include "client/stream/data_namenode.h"
#include "client/stream/lease_renewer.h"
#include "talus/file_system.h"

namespace talus::client {

// What a stream borrows from the FileSystem that opened it (which must outlive the stream).
struct StreamContext {
  DataNamenode* namenode = nullptr;
  std::string client_name;
  ClientOptions options;
  LeaseRenewer* leases = nullptr;  // null: no renewal (tests)
};

}  // namespace talus::client
