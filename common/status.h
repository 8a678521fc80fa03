#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>

namespace talus {

// One error space for the whole system. The numeric values are written into the journal and
// sent on the wire (thrift/common.thrift mirrors them): never renumber, only append.
enum class ErrorCode : int32_t {
  kOk = 0,
  kNotFound = 1,          // ENOENT
  kAlreadyExists = 2,     // EEXIST
  kPermissionDenied = 3,  // EACCES
  kNotPermitted = 4,      // EPERM
  kNotADirectory = 5,     // ENOTDIR
  kIsADirectory = 6,      // EISDIR
  kNotEmpty = 7,          // ENOTEMPTY
  kInvalidArgument = 8,   // EINVAL
  kNameTooLong = 9,       // ENAMETOOLONG
  kIoError = 10,          // EIO
  kNoSpace = 11,          // ENOSPC
  kReadOnly = 12,         // EROFS
  kCorruption = 13,       // EIO, but says why
  kNotLeader = 14,        // this namenode cannot serve mutations; detail() holds the leader hint
  kSafeMode = 15,         // namenode is in safe mode: EROFS for file systems
  kLeaseConflict = 16,    // another client holds the lease: EBUSY
  kTimedOut = 17,         // ETIMEDOUT
  kUnavailable = 18,      // peer unreachable: EHOSTUNREACH
  kInternal = 19,         // a bug; EIO
  kNotSupported = 20,     // EOPNOTSUPP
  kBusy = 21,             // EBUSY
  kCrossDevice = 22,      // EXDEV
  kQuotaExceeded = 23,    // EDQUOT
};

// Returns the errno a POSIX caller should see for this code (0 for kOk).
int ToErrno(ErrorCode code);
// A short stable name, e.g. "NOT_FOUND".
const char* ErrorCodeName(ErrorCode code);
// Maps an int received from outside to an ErrorCode; unknown values become kInternal.
ErrorCode ErrorCodeFromInt(int32_t value);

// The result of an operation that can fail. Cheap when OK (one null pointer).
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string_view message, std::string_view detail = {});
  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status OK() { return Status(); }
  static Status NotFound(std::string_view msg) { return Status(ErrorCode::kNotFound, msg); }
  static Status AlreadyExists(std::string_view msg) { return Status(ErrorCode::kAlreadyExists, msg); }
  static Status PermissionDenied(std::string_view msg) {
    return Status(ErrorCode::kPermissionDenied, msg);
  }
  static Status NotPermitted(std::string_view msg) { return Status(ErrorCode::kNotPermitted, msg); }
  static Status NotADirectory(std::string_view msg) { return Status(ErrorCode::kNotADirectory, msg); }
  static Status IsADirectory(std::string_view msg) { return Status(ErrorCode::kIsADirectory, msg); }
  static Status NotEmpty(std::string_view msg) { return Status(ErrorCode::kNotEmpty, msg); }
  static Status InvalidArgument(std::string_view msg) {
    return Status(ErrorCode::kInvalidArgument, msg);
  }
  static Status NameTooLong(std::string_view msg) { return Status(ErrorCode::kNameTooLong, msg); }
  static Status IoError(std::string_view msg) { return Status(ErrorCode::kIoError, msg); }
  static Status NoSpace(std::string_view msg) { return Status(ErrorCode::kNoSpace, msg); }
  static Status Corruption(std::string_view msg) { return Status(ErrorCode::kCorruption, msg); }
  static Status NotLeader(std::string_view msg, std::string_view leader_hint) {
    return Status(ErrorCode::kNotLeader, msg, leader_hint);
  }
  static Status SafeMode(std::string_view msg) { return Status(ErrorCode::kSafeMode, msg); }
  static Status LeaseConflict(std::string_view msg) { return Status(ErrorCode::kLeaseConflict, msg); }
  static Status TimedOut(std::string_view msg) { return Status(ErrorCode::kTimedOut, msg); }
  static Status Unavailable(std::string_view msg) { return Status(ErrorCode::kUnavailable, msg); }
  static Status Internal(std::string_view msg) { return Status(ErrorCode::kInternal, msg); }
  static Status NotSupported(std::string_view msg) { return Status(ErrorCode::kNotSupported, msg); }
  static Status Busy(std::string_view msg) { return Status(ErrorCode::kBusy, msg); }
  // errno from a failed system call, with what was being done.
  static Status FromErrno(int err, std::string_view context);

  bool ok() const { return state_ == nullptr; }
  ErrorCode code() const { return state_ ? state_->code : ErrorCode::kOk; }
  const std::string& message() const;
  // Extra machine-readable data: the leader address for kNotLeader, empty otherwise.
  const std::string& detail() const;
  bool IsNotFound() const { return code() == ErrorCode::kNotFound; }
  bool IsAlreadyExists() const { return code() == ErrorCode::kAlreadyExists; }

  // "NOT_FOUND: message".
  std::string ToString() const;
  // A copy with "context: " put in front of the message.
  Status Prepend(std::string_view context) const;

 private:
  struct State {
    ErrorCode code;
    std::string message;
    std::string detail;
  };
  std::unique_ptr<State> state_;
};

std::ostream& operator<<(std::ostream& os, const Status& s);

}  // namespace talus

#define TALUS_CONCAT_INNER(a, b) a##b
#define TALUS_CONCAT(a, b) TALUS_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function if it is not OK.
#define RETURN_NOT_OK(expr)                        \
  do {                                             \
    ::talus::Status _talus_s = (expr);             \
    if (!_talus_s.ok()) return _talus_s;           \
  } while (0)

#define RETURN_NOT_OK_PREPEND(expr, context)                 \
  do {                                                       \
    ::talus::Status _talus_s = (expr);                       \
    if (!_talus_s.ok()) return _talus_s.Prepend(context);    \
  } while (0)
