// Types shared by every Talus protocol. Field ids are on the wire and in the journal: never
// renumber or reuse one; add new optional fields instead.
namespace cpp talus.rpc

// Mirrors talus::ErrorCode in common/status.h, value for value.
enum ErrorCode {
  OK = 0,
  NOT_FOUND = 1,
  ALREADY_EXISTS = 2,
  PERMISSION_DENIED = 3,
  NOT_PERMITTED = 4,
  NOT_A_DIRECTORY = 5,
  IS_A_DIRECTORY = 6,
  NOT_EMPTY = 7,
  INVALID_ARGUMENT = 8,
  NAME_TOO_LONG = 9,
  IO_ERROR = 10,
  NO_SPACE = 11,
  READ_ONLY = 12,
  CORRUPTION = 13,
  NOT_LEADER = 14,
  SAFE_MODE = 15,
  LEASE_CONFLICT = 16,
  TIMED_OUT = 17,
  UNAVAILABLE = 18,
  INTERNAL = 19,
  NOT_SUPPORTED = 20,
  BUSY = 21,
  CROSS_DEVICE = 22,
  QUOTA_EXCEEDED = 23,
}

// The one exception every Talus call throws. `leader_hint` ("host:port") is set with NOT_LEADER.
exception TalusError {
  1: required ErrorCode code,
  2: required string message,
  3: optional string leader_hint,
}

// Sent with every call. `user` is the caller's stated identity (simple authentication).
// (client_id, call_id) names a mutating call so that a retry of it is answered from the
// namenode's retry cache instead of being applied twice; client_id is 16 random bytes chosen
// once per client, call_id increases per call. Reads may leave call_id at 0.
struct RequestHeader {
  1: required string user,
  2: required binary client_id,
  3: required i64 call_id,
}

// Seconds since the epoch (64-bit) and nanoseconds.
struct Timespec {
  1: required i64 sec,
  2: required i32 nsec,
}

enum FileType {
  FILE = 1,
  DIRECTORY = 2,
  SYMLINK = 3,
}

struct DatanodeId {
  1: required string storage_id,   // stable identity of the datanode
  2: required string host,
  3: required i32 data_port,
  4: required i32 rpc_port,
  5: optional string rack,
  6: optional i32 http_port,      // status page, /metrics, downloads; 0 or absent: none
}

// A block and the version of its data (generation stamp) and length.
struct ExtendedBlock {
  1: required i64 block_id,
  2: required i64 generation_stamp,
  3: required i64 num_bytes,
}
