#pragma once

#include <functional>
#include <string>

#include "client/shell/path_item.h"
#include "client/shell/shell_context.h"

namespace talus::shell {

// Destinations of the copying commands (-put, -cp, -appendToFile), as HDFS's
// CommandWithDestination resolves them.

// The cluster path a destination argument names: a glob must match one path, a pattern that
// matches nothing names a new path; "" is the working directory. Errors are ready to print.
Result<PathItem> ResolveClusterDestination(ShellContext* ctx, const std::string& arg);

// With several sources the destination must be an existing directory; with one it may also be
// an existing path or a new path whose parent directory exists.
Status CheckClusterDestination(const PathItem& dst, size_t num_sources);

// Where a source named `name` lands: below `dst` when it is an existing directory, else `dst`.
Result<PathItem> ClusterTarget(const PathItem& dst, const std::string& name);

// Writes the cluster file `target` with `fill`, as HDFS does: into TARGET._COPYING_, renamed
// onto the target once complete (`direct` writes the target itself). An existing target is an
// error ("File exists") unless `overwrite`, and a directory always is. On failure the partial
// file is removed.
Status WriteClusterFile(const PathItem& target, bool overwrite, bool direct,
                        const std::function<Status(OutputStream*)>& fill);

// The temporary name a copy is written under before it is renamed into place, as in HDFS.
inline constexpr char kCopyingSuffix[] = "._COPYING_";

}  // namespace talus::shell
