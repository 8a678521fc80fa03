#!/usr/bin/env bash
# Configures and builds Talus: binaries in build/bin, test binaries in build/tests.
# BUILD_DIR and CMAKE_BUILD_TYPE (default RelWithDebInfo) may be set in the environment;
# extra arguments go to `cmake --build` (e.g. --target talus).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
# A build directory configured for another checkout (copied or moved here) makes CMake refuse
# to run: forget that configuration and start over from this source tree.
if [[ -f "$build_dir/CMakeCache.txt" ]]; then
  configured_for=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build_dir/CMakeCache.txt")
  if [[ "$(realpath -m "$configured_for")" != "$(pwd -P)" ]]; then
    echo "build: $build_dir was configured for $configured_for; configuring it afresh here"
    rm -rf "$build_dir/CMakeCache.txt" "$build_dir/CMakeFiles"
  fi
fi
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-RelWithDebInfo}"
cmake --build "$build_dir" -j"$(nproc)" "$@"
