#include "namenode/namespace/reserved_path.h"
#include "namenode/ops/op_context.h"

namespace talus {

namespace {

Status Canonicalize(const NamespaceTxn& txn, std::string* path) {
  if (!IsReservedPath(*path)) return Status::OK();
  ASSIGN_OR_RETURN(std::string real, CanonicalPathForUpdate(txn, *path));
  *path = std::move(real);
  return Status::OK();
}

}  // namespace

bool HasReservedPath(const EditOp& op) {
  return std::visit(
      [](const auto& o) {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, RenameOp>) {
          return IsReservedPath(o.src) || IsReservedPath(o.dst);
        } else {
          return IsReservedPath(o.path);
        }
      },
      op);
}

Status CanonicalizeOpPaths(const NamespaceTxn& txn, EditOp* op) {
  return std::visit(
      [&txn](auto& o) -> Status {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, RenameOp>) {
          RETURN_NOT_OK(Canonicalize(txn, &o.src));
          return Canonicalize(txn, &o.dst);
        } else {
          return Canonicalize(txn, &o.path);
        }
      },
      *op);
}

}  // namespace talus
