#include "client/shell/errors.h"

namespace talus::shell {

namespace {

std::string WithDetail(const char* text, const std::string& detail) {
  if (detail.empty()) return text;
  return std::string(text) + ": " + detail;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

std::string Quote(std::string_view display) { return "`" + std::string(display) + "'"; }

}  // namespace

std::string DescribeStatus(const Status& status) {
  const std::string& msg = status.message();
  switch (status.code()) {
    case ErrorCode::kOk:
      return "OK";
    case ErrorCode::kNotFound:
      return "No such file or directory";
    case ErrorCode::kAlreadyExists:
      return "File exists";
    case ErrorCode::kIsADirectory:
      return "Is a directory";
    case ErrorCode::kNotADirectory:
      return "Is not a directory";
    case ErrorCode::kNotEmpty:
      return "Directory is not empty";
    case ErrorCode::kPermissionDenied:
      if (StartsWith(msg, "Permission denied")) return msg;
      return WithDetail("Permission denied", msg);
    case ErrorCode::kNotPermitted:
      return WithDetail("Operation not permitted", msg);
    case ErrorCode::kInvalidArgument:
      return WithDetail("Invalid argument", msg);
    case ErrorCode::kNameTooLong:
      return WithDetail("File name too long", msg);
    case ErrorCode::kNoSpace:
      return WithDetail("No space left on device", msg);
    case ErrorCode::kReadOnly:
      return WithDetail("Read-only file system", msg);
    case ErrorCode::kSafeMode:
      return WithDetail("Name node is in safe mode", msg);
    case ErrorCode::kLeaseConflict:
      return WithDetail("File is being written by another client", msg);
    case ErrorCode::kTimedOut:
      return WithDetail("Timed out", msg);
    case ErrorCode::kUnavailable:
      return WithDetail("Cannot reach the namenode", msg);
    case ErrorCode::kNotSupported:
      return WithDetail("Operation not supported", msg);
    case ErrorCode::kBusy:
      return WithDetail("Device or resource busy", msg);
    case ErrorCode::kCrossDevice:
      return WithDetail("Does not match target filesystem", msg);
    case ErrorCode::kQuotaExceeded:
      return WithDetail("Quota exceeded", msg);
    case ErrorCode::kNotLeader:
      return WithDetail("No namenode can serve the request", msg);
    case ErrorCode::kIoError:
    case ErrorCode::kCorruption:
    case ErrorCode::kInternal:
      return WithDetail("Input/output error", msg);
  }
  return WithDetail("Input/output error", msg);
}

bool IsConnectionError(const Status& status) {
  switch (status.code()) {
    case ErrorCode::kUnavailable:
    case ErrorCode::kTimedOut:
    case ErrorCode::kNotLeader:
    case ErrorCode::kSafeMode:
      return true;
    default:
      return false;
  }
}

Status PathError(std::string_view display, const Status& cause) {
  // The namenode's permission errors already name the user and the inode, as HDFS's do.
  bool self_describing = cause.code() == ErrorCode::kPermissionDenied &&
                         StartsWith(cause.message(), "Permission denied") &&
                         cause.message().find("user=") != std::string::npos;
  if (IsConnectionError(cause) || self_describing) {
    return Status(cause.code(), DescribeStatus(cause));
  }
  return Status(cause.code(), Quote(display) + ": " + DescribeStatus(cause));
}

Status PathError(std::string_view display, ErrorCode code) {
  return PathError(display, Status(code, ""));
}

Status PathError(std::string_view display, std::string_view text) {
  return Status(ErrorCode::kIoError, Quote(display) + ": " + std::string(text));
}

Status PathPairError(std::string_view from, std::string_view to, std::string_view text) {
  return Status(ErrorCode::kIoError, Quote(from) + " to " + Quote(to) + ": " + std::string(text));
}

Status PathPairError(std::string_view from, std::string_view to, const Status& cause) {
  Status single = PathError(from, cause);
  if (single.message().rfind("`", 0) != 0) return single;  // not about the paths
  return Status(cause.code(), Quote(from) + " to " + Quote(to) + ": " + DescribeStatus(cause));
}

}  // namespace talus::shell
