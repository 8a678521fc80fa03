#!/usr/bin/env bash
# Runs the data-path benchmark as recorded in bench/RESULTS.md: a fresh local cluster (three
# datanodes, all on this disk), the raw disk measured in the same run (sequential write of the
# same total size ending in an fsync; sequential read after dropping the page cache), then
# `talus-bench io` write and read with 1 and 4 clients, R runs each, printing the medians, and
# the datanodes' resident memory before and after.
#   bench/run_io_bench.sh [--files N] [--size-mb M] [--runs R] [--clients-list "1 4"]
#                         [--big-write-gib G] [--warm-read]
# --big-write-gib G  also writes G GiB (4 clients, 1 GiB files) and reports datanode RSS around it.
# --warm-read        reads without dropping the page cache first (default: dropped before every
#                    read run, as before the raw read).
# Dropping the page cache needs root; without it the script says so and reads stay warm.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/bin}
FILES=4
SIZE_MB=256
RUNS=3
CLIENTS_LIST="1 4"
BIG_GIB=0
WARM=0
while [ $# -gt 0 ]; do
  case "$1" in
    --files) FILES=$2; shift 2 ;;
    --size-mb) SIZE_MB=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --clients-list) CLIENTS_LIST=$2; shift 2 ;;
    --big-write-gib) BIG_GIB=$2; shift 2 ;;
    --warm-read) WARM=1; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
TOTAL_MB=$((FILES * SIZE_MB))
DIR=$(mktemp -d /tmp/talus-io-bench.XXXXXX)
cleanup() { "$BIN/talus" cluster down --dir "$DIR/cluster" >/dev/null 2>&1 || true; rm -rf "$DIR"; }
trap cleanup EXIT

median() { python3 -c 'import sys,statistics; print(round(statistics.median([float(x) for x in sys.argv[1:]]), 1))' "$@"; }
json_field() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])[sys.argv[1]])' "$1"; }
drop_caches() {
  sync
  if echo 3 2>/dev/null >/proc/sys/vm/drop_caches; then return 0; fi
  echo "  (could not drop the page cache: not root?)" >&2
  return 0
}
datanode_rss() {
  for pid in $(pgrep -f "talus-datanode.*$DIR/cluster" || true); do
    printf "pid %s %s %s; " "$pid" "$(grep VmRSS /proc/"$pid"/status | tr -s ' \t' ' ')" \
      "$(grep VmHWM /proc/"$pid"/status | tr -s ' \t' ' ')"
  done
  echo
}

echo "# $(date -u +%FT%TZ) $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'); $FILES files x $SIZE_MB MiB = $TOTAL_MB MiB per run, $RUNS runs"
echo "## reference: raw disk in $DIR (fio, 1 MiB sequential, $TOTAL_MB MiB)"
raw_w=(); raw_r=()
for r in $(seq "$RUNS"); do
  w=$(fio --name=raw --directory="$DIR" --rw=write --bs=1M --size="${TOTAL_MB}m" --end_fsync=1 \
        --output-format=json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["jobs"][0]["write"]["bw"]/1024)')
  drop_caches
  rd=$(fio --name=raw --directory="$DIR" --rw=read --bs=1M --size="${TOTAL_MB}m" \
        --output-format=json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["jobs"][0]["read"]["bw"]/1024)')
  rm -f "$DIR"/raw.*
  raw_w+=("$w"); raw_r+=("$rd")
done
echo "raw write + fsync: $(median "${raw_w[@]}") MiB/s (runs: ${raw_w[*]})"
# The same with dd, as the issue's reference was taken (zeros, 1 MiB blocks, fdatasync at end).
dd_rate=$(dd if=/dev/zero of="$DIR/dd.raw" bs=1M count="$TOTAL_MB" conv=fdatasync 2>&1 |
  python3 -c 'import re,sys; m=re.search(r"^(\d+) bytes.*copied, ([\d.]+) s", sys.stdin.read(), re.M); print(round(int(m.group(1))/2**20/float(m.group(2)), 1))')
rm -f "$DIR/dd.raw"
echo "raw write + fdatasync (dd, one run): $dd_rate MiB/s"
echo "raw read, cold cache: $(median "${raw_r[@]}") MiB/s (runs: ${raw_r[*]})"

"$BIN/talus" cluster up --dir "$DIR/cluster" >/dev/null
FS=$(sed -n 's/^TALUS_FS=//p' "$DIR/cluster/cluster.env")
echo "## datanode memory at start: $(datanode_rss)"

echo "## talus-bench io against $FS (median of $RUNS; replication 3)"
printf "%-6s %8s %12s  %s\n" mode clients median_MiB/s runs
for k in $CLIENTS_LIST; do
  for mode in write read; do
    rates=()
    for r in $(seq "$RUNS"); do
      # Each read run reads what the write runs of the same client count left.
      [ "$mode" = read ] && [ "$WARM" = 0 ] && drop_caches
      line=$("$BIN/talus-bench" io --mode "$mode" --clients "$k" --files "$FILES" \
               --size-mb "$SIZE_MB" -fs "$FS" 2>/dev/null | tail -1)
      rates+=("$(echo "$line" | json_field mb_per_s)")
    done
    printf "%-6s %8s %12s  %s\n" "$mode" "$k" "$(median "${rates[@]}")" "$(IFS=,; echo "${rates[*]}")"
  done
done
echo "## datanode memory after: $(datanode_rss)"

if [ "$BIG_GIB" -gt 0 ]; then
  echo "## $BIG_GIB GiB write (4 clients, $BIG_GIB files of 1 GiB)"
  echo "before: $(datanode_rss)"
  "$BIN/talus-bench" io --mode write --clients 4 --files "$BIG_GIB" --size-mb 1024 -fs "$FS" \
    --dir /benchmarks/io-big 2>/dev/null | tail -1
  echo "after:  $(datanode_rss)"
fi
