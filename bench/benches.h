#pragma once

// The subcommands of talus-bench; each takes the whole argv (argv[1] is its name).
int MetaBenchMain(int argc, char** argv);
int IoBenchMain(int argc, char** argv);

#include <string>

// The file system a benchmark runs against: `fs` (its -fs argument) when given, else the
// client's default (FileSystem::DefaultUri). False, with the reason on stderr, when neither.
bool ResolveBenchUri(const std::string& fs, std::string* uri);
