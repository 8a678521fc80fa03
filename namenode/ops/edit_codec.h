#pragma once
// Edit <-> journal entry bytes (the Edit struct of thrift/edits.thrift, binary protocol).

#include <string>
#include <string_view>

#include "common/status.h"
#include "namenode/ops/edit_ops.h"

namespace talus {

inline constexpr int32_t kEditVersion = 1;

std::string EncodeEdit(const Edit& edit);
// kCorruption for bytes that are not a well-formed edit of a known version and kind.
Status DecodeEdit(std::string_view bytes, Edit* edit);

}  // namespace talus
