#include "common/status.h"

#include <cerrno>
#include <cstring>

namespace talus {

namespace {
const std::string& EmptyString() {
  static const std::string* empty = new std::string();
  return *empty;
}
}  // namespace

int ToErrno(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return 0;
    case ErrorCode::kNotFound: return ENOENT;
    case ErrorCode::kAlreadyExists: return EEXIST;
    case ErrorCode::kPermissionDenied: return EACCES;
    case ErrorCode::kNotPermitted: return EPERM;
    case ErrorCode::kNotADirectory: return ENOTDIR;
    case ErrorCode::kIsADirectory: return EISDIR;
    case ErrorCode::kNotEmpty: return ENOTEMPTY;
    case ErrorCode::kInvalidArgument: return EINVAL;
    case ErrorCode::kNameTooLong: return ENAMETOOLONG;
    case ErrorCode::kIoError: return EIO;
    case ErrorCode::kNoSpace: return ENOSPC;
    case ErrorCode::kReadOnly: return EROFS;
    case ErrorCode::kCorruption: return EIO;
    case ErrorCode::kNotLeader: return EAGAIN;
    case ErrorCode::kSafeMode: return EROFS;
    case ErrorCode::kLeaseConflict: return EBUSY;
    case ErrorCode::kTimedOut: return ETIMEDOUT;
    case ErrorCode::kUnavailable: return EHOSTUNREACH;
    case ErrorCode::kInternal: return EIO;
    case ErrorCode::kNotSupported: return EOPNOTSUPP;
    case ErrorCode::kBusy: return EBUSY;
    case ErrorCode::kCrossDevice: return EXDEV;
    case ErrorCode::kQuotaExceeded: return EDQUOT;
  }
  return EIO;
}

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "OK";
    case ErrorCode::kNotFound: return "NOT_FOUND";
    case ErrorCode::kAlreadyExists: return "ALREADY_EXISTS";
    case ErrorCode::kPermissionDenied: return "PERMISSION_DENIED";
    case ErrorCode::kNotPermitted: return "NOT_PERMITTED";
    case ErrorCode::kNotADirectory: return "NOT_A_DIRECTORY";
    case ErrorCode::kIsADirectory: return "IS_A_DIRECTORY";
    case ErrorCode::kNotEmpty: return "NOT_EMPTY";
    case ErrorCode::kInvalidArgument: return "INVALID_ARGUMENT";
    case ErrorCode::kNameTooLong: return "NAME_TOO_LONG";
    case ErrorCode::kIoError: return "IO_ERROR";
    case ErrorCode::kNoSpace: return "NO_SPACE";
    case ErrorCode::kReadOnly: return "READ_ONLY";
    case ErrorCode::kCorruption: return "CORRUPTION";
    case ErrorCode::kNotLeader: return "NOT_LEADER";
    case ErrorCode::kSafeMode: return "SAFE_MODE";
    case ErrorCode::kLeaseConflict: return "LEASE_CONFLICT";
    case ErrorCode::kTimedOut: return "TIMED_OUT";
    case ErrorCode::kUnavailable: return "UNAVAILABLE";
    case ErrorCode::kInternal: return "INTERNAL";
    case ErrorCode::kNotSupported: return "NOT_SUPPORTED";
    case ErrorCode::kBusy: return "BUSY";
    case ErrorCode::kCrossDevice: return "CROSS_DEVICE";
    case ErrorCode::kQuotaExceeded: return "QUOTA_EXCEEDED";
  }
  return "UNKNOWN";
}

ErrorCode ErrorCodeFromInt(int32_t value) {
  if (value < 0 || value > static_cast<int32_t>(ErrorCode::kQuotaExceeded)) {
    return ErrorCode::kInternal;
  }
  return static_cast<ErrorCode>(value);
}

Status::Status(ErrorCode code, std::string_view message, std::string_view detail) {
  if (code != ErrorCode::kOk) {
    state_ = std::make_unique<State>(State{code, std::string(message), std::string(detail)});
  }
}

Status::Status(const Status& other)
    : state_(other.state_ ? std::make_unique<State>(*other.state_) : nullptr) {}

Status& Status::operator=(const Status& other) {
  if (this != &other) {
    state_ = other.state_ ? std::make_unique<State>(*other.state_) : nullptr;
  }
  return *this;
}

Status Status::FromErrno(int err, std::string_view context) {
  std::string msg(context);
  msg += ": ";
  msg += std::strerror(err);
  switch (err) {
    case ENOENT: return Status(ErrorCode::kNotFound, msg);
    case EEXIST: return Status(ErrorCode::kAlreadyExists, msg);
    case EACCES: return Status(ErrorCode::kPermissionDenied, msg);
    case EPERM: return Status(ErrorCode::kNotPermitted, msg);
    case ENOTDIR: return Status(ErrorCode::kNotADirectory, msg);
    case EISDIR: return Status(ErrorCode::kIsADirectory, msg);
    case ENOTEMPTY: return Status(ErrorCode::kNotEmpty, msg);
    case EINVAL: return Status(ErrorCode::kInvalidArgument, msg);
    case ENAMETOOLONG: return Status(ErrorCode::kNameTooLong, msg);
    case ENOSPC: return Status(ErrorCode::kNoSpace, msg);
    case EROFS: return Status(ErrorCode::kReadOnly, msg);
    case ETIMEDOUT: return Status(ErrorCode::kTimedOut, msg);
    case ECONNREFUSED:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case ECONNRESET: return Status(ErrorCode::kUnavailable, msg);
    default: return Status(ErrorCode::kIoError, msg);
  }
}

const std::string& Status::message() const { return state_ ? state_->message : EmptyString(); }
const std::string& Status::detail() const { return state_ ? state_->detail : EmptyString(); }

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out = ErrorCodeName(state_->code);
  out += ": ";
  out += state_->message;
  return out;
}

Status Status::Prepend(std::string_view context) const {
  if (ok()) return Status();
  std::string msg(context);
  msg += ": ";
  msg += state_->message;
  return Status(state_->code, msg, state_->detail);
}

std::ostream& operator<<(std::ostream& os, const Status& s) { return os << s.ToString(); }

}  // namespace talus
