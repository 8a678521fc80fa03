#!/usr/bin/env bash
# The namenode group against a single namenode, as recorded in bench/RESULTS.md (issue 7):
#  1. metadata throughput and latency (talus-bench meta) of a 1-namenode cluster and a
#     3-namenode Raft group on this machine, alternated RUNS times so both see the same noise;
#     medians per op and thread count, plus the raw disk's fdatasync rate as the reference;
#  2. failover time: SIGKILL the leader, then time until a mkdir through the group URI
#     succeeds (each probe a fresh `talus dfs -mkdir` with a 50 ms retry deadline, so the
#     figure includes up to ~60 ms of probe granularity), with default Raft timings and with the
#     tests' (--raft_tick_ms=50: election timeout 0.5-1 s).
#   bench/run_ha_bench.sh [--ops N] [--runs R] [--failovers K] [--skip-throughput] [--skip-failover]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/bin}
OPS=8000
RUNS=3
FAILOVERS=5
DO_THROUGHPUT=1
DO_FAILOVER=1
while [ $# -gt 0 ]; do
  case "$1" in
    --ops) OPS=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --failovers) FAILOVERS=$2; shift 2 ;;
    --skip-throughput) DO_THROUGHPUT=0; shift ;;
    --skip-failover) DO_FAILOVER=0; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
DIR=$(mktemp -d /tmp/talus-ha-bench.XXXXXX)
cleanup() { "$BIN/talus" cluster down --dir "$DIR/cluster" >/dev/null 2>&1 || true; rm -rf "$DIR"; }
trap cleanup EXIT

median() { python3 -c 'import sys,statistics; v=[float(x) for x in sys.argv[1:]]; print(round(statistics.median(v)))' "$@"; }
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

up() {  # up NAMENODES [-- DAEMON_FLAGS...]
  local n=$1; shift
  "$BIN/talus" cluster down --dir "$DIR/cluster" >/dev/null 2>&1 || true
  rm -rf "$DIR/cluster"
  "$BIN/talus" cluster up --dir "$DIR/cluster" --namenodes "$n" "$@" >/dev/null
  FS=$(sed -n 's/^TALUS_FS=//p' "$DIR/cluster/cluster.env")
}

echo "# $(date -u +%FT%TZ) $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "## reference: raw disk fdatasync rate in $DIR (fio, 4 KiB sequential writes)"
iops=$(fio --name=ref --directory="$DIR" --rw=write --bs=4k --size=16m --fdatasync=1 \
         --output-format=json 2>/dev/null | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["jobs"][0]["write"]["iops"]))')
echo "fio --rw=write --bs=4k --fdatasync=1: $iops syncs/s"
rm -f "$DIR"/ref.*

if [ "$DO_THROUGHPUT" = 1 ]; then
  CASES="create:1 create:16 create:64 mkdirs:16 getFileInfo:16"
  declare -A rate p50 p99
  for r in $(seq "$RUNS"); do
    for n in 1 3; do
      up "$n"
      for c in $CASES; do
        op=${c%%:*}; t=${c##*:}
        ops=$OPS
        [ "$t" = 1 ] && ops=$((OPS / 4))
        line=$("$BIN/talus-bench" meta --op "$op" --threads "$t" --ops "$ops" -fs "$FS" 2>/dev/null | tail -1)
        rate[$n,$c]+="$(field "$line" ops_per_s) "
        p50[$n,$c]+="$(field "$line" p50_us) "
        p99[$n,$c]+="$(field "$line" p99_us) "
      done
    done
  done
  echo "## talus-bench meta, 1 namenode vs a 3-namenode group ($RUNS alternated runs; median)"
  printf "%-12s %4s | %9s %7s %8s | %9s %7s %8s | %6s %6s\n" op T "1nn op/s" p50_us p99_us \
    "3nn op/s" p50_us p99_us ratio p99x
  for c in $CASES; do
    op=${c%%:*}; t=${c##*:}
    # shellcheck disable=SC2086
    r1=$(median ${rate[1,$c]}); r3=$(median ${rate[3,$c]})
    # shellcheck disable=SC2086
    a1=$(median ${p50[1,$c]}); a3=$(median ${p50[3,$c]})
    # shellcheck disable=SC2086
    b1=$(median ${p99[1,$c]}); b3=$(median ${p99[3,$c]})
    printf "%-12s %4s | %9s %7s %8s | %9s %7s %8s | %5s%% %5sx\n" "$op" "$t" "$r1" "$a1" "$b1" \
      "$r3" "$a3" "$b3" "$(python3 -c "print(round(100*$r3/max($r1,1)))")" \
      "$(python3 -c "print(round($b3/max($b1,1),2))")"
  done
fi

leader_pid() {  # the pid of the namenode `cluster status` shows as leader
  "$BIN/talus" cluster status --dir "$DIR/cluster" 2>/dev/null |
    awk '/namenode/ && /role=leader/ { for (i = 1; i <= NF; i++) if ($i ~ /^pid=/) { sub("pid=", "", $i); print $i } }' |
    head -1
}

failover_round() {  # failover_round LABEL [-- DAEMON_FLAGS...]
  local label=$1; shift
  up 3 "$@"
  "$BIN/talus" dfs -fs "$FS" -mkdir -p /failover
  local times=()
  for k in $(seq "$FAILOVERS"); do
    local pid=""
    for _ in $(seq 100); do pid=$(leader_pid); [ -n "$pid" ] && break; sleep 0.1; done
    [ -n "$pid" ] || { echo "no leader found" >&2; exit 1; }
    kill -9 "$pid"
    local start end ok=0
    start=$(date +%s.%N)
    for _ in $(seq 2000); do
      if "$BIN/talus" dfs -fs "$FS" -D talus.client.retry-deadline-ms=50 \
           -mkdir "/failover/$label-$k" >/dev/null 2>&1; then ok=1; break; fi
    done
    end=$(date +%s.%N)
    [ "$ok" = 1 ] || { echo "no mkdir succeeded after killing the leader" >&2; exit 1; }
    times+=("$(python3 -c "print(round(($end - $start) * 1000))")")
    # Bring the killed namenode back and let it catch up before the next round.
    "$BIN/talus" cluster up --dir "$DIR/cluster" >/dev/null
    for _ in $(seq 100); do
      [ "$("$BIN/talus" cluster status --dir "$DIR/cluster" | grep -c 'role=\(leader\|follower\)')" = 3 ] && break
      sleep 0.1
    done
  done
  echo "$label: leader SIGKILL → first successful mkdir, ms: ${times[*]} (median $(median "${times[@]}"))"
}

if [ "$DO_FAILOVER" = 1 ]; then
  echo "## failover ($FAILOVERS SIGKILLs of the leader each)"
  failover_round defaults
  failover_round test-timings -- --raft_tick_ms=50
fi
