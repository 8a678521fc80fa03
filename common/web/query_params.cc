#include "common/web/query_params.h"

#include "common/path.h"

namespace talus::web {

Result<std::optional<std::string>> QueryParam(const httplib::Request& req,
                                              const std::string& name) {
  const size_t count = req.get_param_value_count(name);
  if (count == 0) return std::optional<std::string>();
  // Two values would leave it to chance which one is checked and which one is used.
  if (count > 1) return Status::InvalidArgument("parameter " + name + " is given more than once");
  return std::optional<std::string>(req.get_param_value(name));
}

Result<std::string> PathParam(const httplib::Request& req) {
  ASSIGN_OR_RETURN(std::optional<std::string> path, QueryParam(req, "path"));
  if (!path) return Status::InvalidArgument("parameter path is missing");
  RETURN_NOT_OK(ValidatePath(*path));
  return std::move(*path);
}

std::string EncodeQueryValue(const std::string& value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size() * 3);
  for (unsigned char c : value) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace talus::web
