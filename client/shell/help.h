#pragma once

#include <cstdio>

#include "client/shell/command.h"

namespace talus::shell {

inline constexpr const char* kUsagePrefix = "Usage: talus dfs [generic options]";

// "Usage: talus dfs [generic options]", one "\t[-cmd ...]" line per command and the generic
// options, as `hdfs dfs -usage` prints them.
void PrintAllUsage(FILE* out);
// The same followed by every command's help.
void PrintAllHelp(FILE* out);
// "Usage: talus dfs [generic options] -ls [-C] ..."
void PrintCommandUsage(FILE* out, const Command& command);
// "-ls [-C] ... :" and the description, indented.
void PrintCommandHelp(FILE* out, const Command& command);
void PrintGenericOptions(FILE* out);

}  // namespace talus::shell
