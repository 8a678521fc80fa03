#include "client/shell/generic_options.h"

#include <cctype>
#include <charconv>
#include <limits>

#include "client/shell/mode_parser.h"

namespace talus::shell {

namespace {

Status AddProperty(const std::string& text, GenericOptions* out) {
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    return Status::InvalidArgument("-D expects property=value, got '" + text + "'");
  }
  out->properties.emplace_back(text.substr(0, eq), text.substr(eq + 1));
  return Status::OK();
}

Result<int64_t> ParseInt(const std::string& key, const std::string& value, int64_t min,
                         int64_t max) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size() || n < min ||
      n > max) {
    return Status::InvalidArgument("-D " + key + "=" + value + ": expected an integer from " +
                                   std::to_string(min) + " to " + std::to_string(max));
  }
  return n;
}

// "128m", "1g", "4096": sizes with HDFS's binary suffixes.
Result<int64_t> ParseSize(const std::string& key, const std::string& value) {
  std::string digits = value;
  int shift = 0;
  if (!digits.empty() && std::isalpha(static_cast<unsigned char>(digits.back()))) {
    switch (std::tolower(static_cast<unsigned char>(digits.back()))) {
      case 'k':
        shift = 10;
        break;
      case 'm':
        shift = 20;
        break;
      case 'g':
        shift = 30;
        break;
      case 't':
        shift = 40;
        break;
      case 'p':
        shift = 50;
        break;
      default:
        return Status::InvalidArgument("-D " + key + "=" + value +
                                       ": expected a size such as 134217728 or 128m");
    }
    digits.pop_back();
  }
  int64_t max = std::numeric_limits<int64_t>::max() >> shift;
  Result<int64_t> n = ParseInt(key, digits, 1, max);
  if (!n.ok()) {
    return Status::InvalidArgument("-D " + key + "=" + value +
                                   ": expected a positive size such as 134217728 or 128m");
  }
  return *n << shift;
}

}  // namespace

Result<GenericOptions> ParseGenericOptions(const std::vector<std::string>& args) {
  GenericOptions out;
  size_t i = 0;
  while (i < args.size()) {
    const std::string& word = args[i];
    if (word == "-fs" || word == "-D") {
      if (i + 1 >= args.size()) {
        return Status::InvalidArgument("Missing argument for option: " + word.substr(1));
      }
      if (word == "-fs") {
        if (args[i + 1].empty()) return Status::InvalidArgument("-fs needs a URI");
        out.fs_uri = args[i + 1];
      } else {
        RETURN_NOT_OK(AddProperty(args[i + 1], &out));
      }
      i += 2;
    } else if (word.size() > 2 && word.rfind("-D", 0) == 0) {
      RETURN_NOT_OK(AddProperty(word.substr(2), &out));
      ++i;
    } else {
      break;
    }
  }
  out.consumed = i;
  return out;
}

Result<ShellConfig> MakeShellConfig(const GenericOptions& options) {
  ShellConfig config;
  for (const auto& [key, value] : options.properties) {
    if (key == "fs.defaultFS") {
      config.fs_uri = value;
    } else if (key == "talus.user") {
      if (value.empty()) return Status::InvalidArgument("-D talus.user needs a user name");
      config.client.user = value;
    } else if (key == "fs.permissions.umask-mode") {
      Result<uint32_t> umask = ParseUmask(value);
      if (!umask.ok()) return umask.status().Prepend("-D " + key);
      config.client.umask = *umask;
    } else if (key == "dfs.replication") {
      ASSIGN_OR_RETURN(int64_t n, ParseInt(key, value, 1, 32767));
      config.client.default_replication = static_cast<int16_t>(n);
    } else if (key == "dfs.blocksize") {
      ASSIGN_OR_RETURN(config.client.default_block_size, ParseSize(key, value));
    } else if (key == "talus.client.rpc-timeout-ms") {
      ASSIGN_OR_RETURN(int64_t n, ParseInt(key, value, 1, std::numeric_limits<int>::max()));
      config.client.rpc_timeout_ms = static_cast<int>(n);
    } else if (key == "talus.client.connect-timeout-ms") {
      ASSIGN_OR_RETURN(int64_t n, ParseInt(key, value, 1, std::numeric_limits<int>::max()));
      config.client.connect_timeout_ms = static_cast<int>(n);
    } else if (key == "talus.client.retry-deadline-ms") {
      ASSIGN_OR_RETURN(int64_t n, ParseInt(key, value, 0, std::numeric_limits<int>::max()));
      config.client.retry_deadline_ms = static_cast<int>(n);
    }
  }
  // -fs wins over -D fs.defaultFS, as in HDFS.
  if (!options.fs_uri.empty()) config.fs_uri = options.fs_uri;
  return config;
}

}  // namespace talus::shell
