#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace talus::shell {

// Runs `talus fsck [GENERIC OPTIONS] <path> [-files [-blocks [-locations]]] [-openforwrite]
// [-list-corruptfileblocks]` (args exclude "fsck"), HDFS's fsck: walks the tree under <path>,
// checks every block's replicas and prints the report ending with "The filesystem under path
// '<path>' is HEALTHY" or "... is CORRUPT". Exit code: 0 HEALTHY (or a path that does not
// exist, as HDFS), 1 CORRUPT, 255 usage error or failure (printed on `err`).
// Without a path, "/" is checked.
int RunFsckCommand(const std::vector<std::string>& args, FILE* out = stdout, FILE* err = stderr);

}  // namespace talus::shell
