#!/usr/bin/env bash
# Runs the test suite built by scripts/build.sh: every test except those labelled soak.
# Extra arguments go to ctest, e.g. `scripts/test.sh -L unit` or `scripts/test.sh -R launcher`.
set -euo pipefail
cd "$(dirname "$0")/.."
ctest --test-dir "${BUILD_DIR:-build}" -j2 --output-on-failure -LE soak "$@"
