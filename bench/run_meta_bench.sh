#!/usr/bin/env bash
# Runs the metadata benchmark as recorded in bench/RESULTS.md: a fresh local cluster, the raw
# fsync rate of the disk under it (the reference), then talus-bench meta for each op at
# T = 1, 16, 64, three runs each, printing the median ops/s and latencies.
#   bench/run_meta_bench.sh [--ops N] [--runs R] [--ops-list "mkdirs create ..."] [--million]
# --million also creates 1,000,000 files (64 threads) and reports the namenode's resident memory.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/bin}
OPS=20000
RUNS=3
OPS_LIST="mkdirs create getFileInfo getListing rename delete stat-root"
MILLION=0
while [ $# -gt 0 ]; do
  case "$1" in
    --ops) OPS=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --ops-list) OPS_LIST=$2; shift 2 ;;
    --million) MILLION=1; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
DIR=$(mktemp -d /tmp/talus-bench.XXXXXX)
cleanup() { "$BIN/talus" cluster down --dir "$DIR/cluster" >/dev/null 2>&1 || true; rm -rf "$DIR"; }
trap cleanup EXIT

echo "# $(date -u +%FT%TZ) $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "## reference: raw disk fsync rate in $DIR (fio, 4 KiB sequential writes)"
for sync in fsync fdatasync; do
  iops=$(fio --name=ref --directory="$DIR" --rw=write --bs=4k --size=16m --"$sync"=1 \
           --output-format=json 2>/dev/null | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["jobs"][0]["write"]["iops"]))')
  echo "fio --rw=write --bs=4k --$sync=1: $iops syncs/s"
  rm -f "$DIR"/ref.*
done

"$BIN/talus" cluster up --dir "$DIR/cluster" >/dev/null
FS=$(sed -n 's/^TALUS_FS=//p' "$DIR/cluster/cluster.env")
NN_PID=$(pgrep -f "talus-namenode.*$DIR/cluster" | head -1)

median() { python3 -c 'import sys,statistics; v=[float(x) for x in sys.argv[1:]]; print(round(statistics.median(v)))' "$@"; }

echo "## talus-bench meta against $FS ($RUNS runs each; median)"
printf "%-12s %8s %10s %10s %10s\n" op threads ops_per_s p50_us p99_us
for op in $OPS_LIST; do
  for t in 1 16 64; do
    n=$OPS
    [ "$t" = 1 ] && n=$((OPS / 4))
    rates=(); p50s=(); p99s=()
    for r in $(seq "$RUNS"); do
      line=$("$BIN/talus-bench" meta --op "$op" --threads "$t" --ops "$n" -fs "$FS" 2>/dev/null | tail -1)
      rates+=("$(echo "$line" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ops_per_s"])')")
      p50s+=("$(echo "$line" | python3 -c 'import json,sys; print(json.load(sys.stdin)["p50_us"])')")
      p99s+=("$(echo "$line" | python3 -c 'import json,sys; print(json.load(sys.stdin)["p99_us"])')")
    done
    printf "%-12s %8s %10s %10s %10s\n" "$op" "$t" "$(median "${rates[@]}")" \
      "$(median "${p50s[@]}")" "$(median "${p99s[@]}")"
  done
done

if [ "$MILLION" = 1 ]; then
  echo "## 1,000,000 files"
  "$BIN/talus-bench" meta --op create --threads 64 --ops 1000000 -fs "$FS" --keep 2>/dev/null | tail -1
  grep -E "VmRSS|VmHWM" "/proc/$NN_PID/status"
  du -sh "$DIR/cluster"/namenode* 2>/dev/null || du -sh "$DIR/cluster"
fi
