#pragma once

// The subcommands of talus-bench; each takes the whole argv (argv[1] is its name).
int MetaBenchMain(int argc, char** argv);
int IoBenchMain(int argc, char** argv);
