#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace talus::shell {

// What `-chown [OWNER][:[GROUP]]` asks for; an empty field is left unchanged.
struct OwnerGroup {
  std::string owner;
  std::string group;
};

// Names may use letters, digits and - _ . / @ (as HDFS allows); at least one of owner and group
// must be given. The errors carry HDFS's wording.
Result<OwnerGroup> ParseOwnerGroup(std::string_view text);
// The GROUP of `-chgrp GROUP`.
Result<std::string> ParseGroup(std::string_view text);

}  // namespace talus::shell
