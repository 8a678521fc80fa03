#!/usr/bin/env bash
# Installs the Debian 12 packages that building and testing Talus needs. Does nothing (and
# needs no network or root) when they are all present; otherwise runs apt-get update and
# installs only the missing ones, as root or through sudo.
#   scripts/setup.sh           what building and running a cluster needs
#   scripts/setup.sh --tests   and what the whole test suite needs besides (a browser)
set -euo pipefail

with_tests=false
for arg in "$@"; do
  case "$arg" in
    --tests) with_tests=true ;;
    *) echo "usage: scripts/setup.sh [--tests]" >&2; exit 2 ;;
  esac
done

PACKAGES=(
  # Toolchain and build.
  build-essential cmake pkg-config
  # RPC: the Thrift compiler and C++ library; Thrift's C++ headers include Boost headers.
  thrift-compiler libthrift-dev libboost-dev
  # The namespace store. leveldb's CMake package links -lsnappy, which only the -dev
  # package provides, and libleveldb-dev does not pull it in.
  libleveldb-dev libsnappy-dev
  # Hashing and TLS primitives.
  libssl-dev
  # Flags and logging.
  libgflags-dev libgoogle-glog-dev
  # Tests and benchmarks.
  libgtest-dev libgmock-dev libbenchmark-dev
  # The FUSE mount.
  libfuse3-dev fuse3
  # The web status pages and JSON API.
  libcpp-httplib-dev nlohmann-json3-dev
  # Metrics kept and written in the Prometheus text format (the daemons and talus_common link
  # its core library; /metrics is served by our own HTTP server).
  prometheus-cpp-dev
  # Tools the tests and benchmarks run: fio (disk reference figures), ps/pgrep, ss.
  fio procps iproute2
  # Programs the fuse tests run inside a mount (git, sqlite3; cc comes with build-essential).
  git sqlite3
)
# Only the tests need these (a few hundred MB): the browser test (test/browser) drives the
# status page in headless Chromium through chromedriver.
if [[ "$with_tests" == true ]]; then
  PACKAGES+=(chromium chromium-driver)
fi

missing=()
for package in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
  if [[ "$status" != "installed" ]]; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#PACKAGES[@]} required packages are installed"
  exit 0
fi

if [[ -r /etc/os-release ]]; then
  . /etc/os-release
  if [[ "${ID:-}" != "debian" || "${VERSION_ID:-}" != "12" ]]; then
    echo "setup: warning: made for Debian 12, this is ${PRETTY_NAME:-unknown}; trying anyway" >&2
  fi
fi

if [[ $(id -u) -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "setup: missing packages: ${missing[*]}" >&2
  echo "setup: run this script as root (or install sudo) to install them" >&2
  exit 1
fi

echo "setup: installing ${missing[*]}"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  "${missing[@]}"
echo "setup: done"
