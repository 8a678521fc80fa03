#!/usr/bin/env bash
# Re-replication benchmark, as recorded in bench/RESULTS.md: how long a cluster takes to copy
# back to three replicas what one lost datanode held, against the raw disk measured in the same
# run, and what client writes keep of their speed while that copying runs.
#   bench/run_rereplication_bench.sh [--lost-gib "1 10"] [--datanodes 4] [--client-mb 1024]
#                                    [-- extra daemon flags]
# For each size G: a fresh local cluster of --datanodes nodes (all on this disk) is filled until
# datanode-0 holds about G GiB; datanode-0 is then SIGKILLed and its data directory removed (a
# lost disk). Reported: time from the kill to the namenode declaring it dead, from then to no
# under-replicated block, and the copy throughput (bytes the node held / copy time). For the
# largest G, a 1-client write of --client-mb MiB is timed before the loss (unloaded) and again
# while the copies run.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/bin}
LOST_GIB="1 10"
DATANODES=4
CLIENT_MB=1024
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --lost-gib) LOST_GIB=$2; shift 2 ;;
    --datanodes) DATANODES=$2; shift 2 ;;
    --client-mb) CLIENT_MB=$2; shift 2 ;;
    --) shift; EXTRA=("$@"); break ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
DIR=$(mktemp -d /tmp/talus-rerepl-bench.XXXXXX)
cleanup() { "$BIN/talus" cluster down --dir "$DIR/cluster" >/dev/null 2>&1 || true; rm -rf "$DIR"; }
trap cleanup EXIT
now() { date +%s.%N; }
secs() { python3 -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 1))" "$1" "$2"; }
json_field() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])[sys.argv[1]])' "$1"; }
report_field() {  # report_field "Under replicated blocks" < dfsadmin -report output
  python3 -c 'import re,sys; m=re.search(r"^\s*"+re.escape(sys.argv[1])+r"\s*:\s*(\d+)", sys.stdin.read(), re.M); print(m.group(1) if m else -1)' "$1"
}
LARGEST=$(echo "$LOST_GIB" | tr ' ' '\n' | sort -n | tail -1)

echo "# $(date -u +%FT%TZ) $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'); $DATANODES datanodes; extra flags: ${EXTRA[*]:-none}"
echo "## reference: raw disk in $DIR (fio, 1 MiB sequential write + fsync, 4 GiB)"
raw=$(fio --name=raw --directory="$DIR" --rw=write --bs=1M --size=4g --end_fsync=1 \
        --output-format=json 2>/dev/null | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["jobs"][0]["write"]["bw"]/1024, 1))')
rm -f "$DIR"/raw.*
echo "raw write + fsync: $raw MiB/s"

for G in $LOST_GIB; do
  "$BIN/talus" cluster down --dir "$DIR/cluster" >/dev/null 2>&1 || true
  rm -rf "$DIR/cluster"
  "$BIN/talus" cluster up --dir "$DIR/cluster" --datanodes "$DATANODES" -- \
    --heartbeat_interval_ms=1000 --datanode_dead_after_ms=10000 ${EXTRA[@]+"${EXTRA[@]}"} >/dev/null
  FS=$(sed -n 's/^TALUS_FS=//p' "$DIR/cluster/cluster.env")
  # Each datanode holds 3/DATANODES of what is written.
  logical_mb=$((G * 1024 * DATANODES / 3))
  files=$(( (logical_mb + 255) / 256 ))
  echo "## lost node holds ~$G GiB: writing $files files x 256 MiB (4 clients)"
  "$BIN/talus-bench" io --mode write --clients 4 --files "$files" --size-mb 256 -fs "$FS" \
    --dir /fill 2>/dev/null | tail -1 | json_field mb_per_s | sed 's/^/fill rate MiB\/s: /'
  if [ "$G" = "$LARGEST" ]; then
    unloaded=$("$BIN/talus-bench" io --mode write --clients 1 --files 1 --size-mb "$CLIENT_MB" \
                 -fs "$FS" --dir /unloaded 2>/dev/null | tail -1 | json_field mb_per_s)
    echo "client write, unloaded: $unloaded MiB/s"
  fi
  victim_dir="$DIR/cluster/datanode-0/data"
  lost_bytes=$(du -sb "$victim_dir" | cut -f1)
  victim=$(pgrep -f "talus-datanode.*--dir=$DIR/cluster/datanode-0( |$)" | head -1)
  sync
  t_kill=$(now)
  kill -9 "$victim"
  rm -rf "$victim_dir"
  t_dead=""
  loaded=""
  while true; do
    rep=$("$BIN/talus" dfsadmin -fs "$FS" -report 2>/dev/null || true)
    if [ -z "$t_dead" ] && echo "$rep" | grep -q "^Dead datanodes (1)"; then
      t_dead=$(now)
      if [ "$G" = "$LARGEST" ]; then
        # In the background, so the copy time is measured as it happens.
        ("$BIN/talus-bench" io --mode write --clients 1 --files 1 --size-mb "$CLIENT_MB" \
           -fs "$FS" --dir /loaded 2>/dev/null | tail -1 | json_field mb_per_s > "$DIR/loaded") &
        loaded_pid=$!
      fi
    fi
    under=$(echo "$rep" | report_field "Under replicated blocks")
    missing=$(echo "$rep" | report_field "Missing blocks")
    if [ -n "$t_dead" ] && [ "$under" = 0 ] && [ "$missing" = 0 ]; then break; fi
    if [ "$(secs "$t_kill" "$(now)" | cut -d. -f1)" -gt 3600 ]; then echo "gave up after 1 h" >&2; exit 1; fi
    sleep 0.5
  done
  t_full=$(now)
  if [ -n "${loaded_pid:-}" ]; then
    wait "$loaded_pid"
    loaded=$(cat "$DIR/loaded")
    unset loaded_pid
  fi
  copy_s=$(secs "$t_dead" "$t_full")
  rate=$(python3 -c "import sys; print(round(int(sys.argv[1]) / 2**20 / max(float(sys.argv[2]), 0.1), 1))" "$lost_bytes" "$copy_s")
  echo "lost $(python3 -c "print(round($lost_bytes / 2**30, 2))") GiB: kill -> dead $(secs "$t_kill" "$t_dead") s, dead -> fully replicated $copy_s s, total $(secs "$t_kill" "$t_full") s; copy rate $rate MiB/s = $(python3 -c "print(round(100 * $rate / $raw))") % of raw write"
  if [ -n "$loaded" ]; then
    echo "client write during re-replication: $loaded MiB/s = $(python3 -c "print(round(100 * $loaded / $unloaded))") % of unloaded"
  fi
done
