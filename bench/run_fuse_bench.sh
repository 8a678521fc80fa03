#!/usr/bin/env bash
# FUSE mount benchmark (issue 5), as recorded in bench/RESULTS.md: the same fio and metadata jobs
# on the raw disk (a directory on the disk under /tmp), on a MooseFS reference built from
# Debian's packages on loopback (one mfsmaster, three mfschunkservers with their own data
# dirs, goal 3, mfsmount) and on a Talus mount (a local cluster of one namenode and three
# datanodes, replication 3, talus-fuse), in the same run, R runs each, medians printed.
#   bench/run_fuse_bench.sh [--runs R] [--size-mb M] [--files N] [--randread-s S]
#                           [--targets "raw moosefs talus"] [--fuse-flags "FLAGS"]
#                           [-- extra Talus daemon flags]
# Jobs, per run and per target (targets interleaved within a run so drift hits them alike):
#   seq write  fio --rw=write --bs=1M --size=M MiB --end_fsync=1 (psync, fallocate=none)
#   seq read   cold: page cache dropped and the FUSE client restarted (mfsmount and
#              talus-fuse keep caches that drop_caches does not empty); then warm: the same
#              read again at once (invalidate=0)
#   randread   fio --rw=randread --bs=4k over the M MiB file, S s (default 30), psync, one
#              job, iodepth 1, buffered (direct=0), from cold caches as above
#   metadata   talus-meta-files: N (default 10,000) empty files in one directory, single
#              thread: creates/s; cold; `ls -l` of the directory (s); cold; stats/s; cold;
#              unlinks/s
#   reference  raw disk only: fio 4 KiB writes with fdatasync after each (syncs/s), the floor
#              under every journaled namenode mutation
# Must run as root (drop_caches, mounts). Installs fio and the MooseFS packages with apt-get
# when missing. Needs build/bin/{talus,talus-namenode,talus-datanode,talus-fuse,
# talus-meta-files} (BIN=... to use another build); without talus-fuse the Talus column is
# skipped with a note. Everything started is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/bin}
RUNS=3
SIZE_MB=1024
FILES=10000
RANDREAD_S=30
TARGETS="raw moosefs talus"
FUSE_FLAGS=""
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    --size-mb) SIZE_MB=$2; shift 2 ;;
    --files) FILES=$2; shift 2 ;;
    --randread-s) RANDREAD_S=$2; shift 2 ;;
    --targets) TARGETS=$2; shift 2 ;;
    --fuse-flags) FUSE_FLAGS=$2; shift 2 ;;
    --) shift; EXTRA=("$@"); break ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" != 0 ]; then echo "run as root (drop_caches, mounts)" >&2; exit 2; fi

# --- packages --------------------------------------------------------------------------------
missing=()
for p in fio moosefs-master moosefs-chunkserver moosefs-client moosefs-cli fuse3; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "# installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

DIR=$(mktemp -d /tmp/talus-fuse-bench.XXXXXX)
MFS=$DIR/mfs
MFS_MNT=$DIR/mfs-mnt
TALUS_MNT=$DIR/talus-mnt
RAW=$DIR/raw
mkdir -p "$RAW" "$MFS_MNT" "$TALUS_MNT"
FUSE_PID=""
MFS_UP=0
TALUS_UP=0

is_mounted() { mountpoint -q "$1" 2>/dev/null; }
wait_until() {  # wait_until SECONDS CMD...: polls CMD every 0.1 s, false after SECONDS
  local deadline=$((SECONDS + $1)); shift
  while ! "$@"; do
    [ "$SECONDS" -ge "$deadline" ] && return 1
    sleep 0.1
  done
}
not_mounted() { ! is_mounted "$1"; }

mfs_umount() {
  if is_mounted "$MFS_MNT"; then
    umount "$MFS_MNT" 2>/dev/null || umount -l "$MFS_MNT" 2>/dev/null || true
  fi
  # mfsmount forks a daemon that exits after the unmount; do not start another before that.
  wait_until 30 not_mounted "$MFS_MNT" || true
  local pid
  for pid in $(pgrep -f "^mfsmount $MFS_MNT " || true); do
    wait_until 30 bash -c "! kill -0 $pid 2>/dev/null" || kill -9 "$pid" 2>/dev/null || true
  done
}
talus_fuse_stop() {
  if is_mounted "$TALUS_MNT"; then
    fusermount3 -u "$TALUS_MNT" 2>/dev/null || umount -l "$TALUS_MNT" 2>/dev/null || true
  fi
  if [ -n "$FUSE_PID" ]; then
    # talus-fuse exits 0 once unmounted; a hung one is killed after 30 s.
    if ! wait_until 30 bash -c "! kill -0 $FUSE_PID 2>/dev/null"; then
      kill -9 "$FUSE_PID" 2>/dev/null || true
    fi
    wait "$FUSE_PID" 2>/dev/null || true
    FUSE_PID=""
  fi
}
cleanup() {
  set +e
  talus_fuse_stop
  [ "$TALUS_UP" = 1 ] && "$BIN/talus" cluster down --dir "$DIR/talus-cluster" >/dev/null 2>&1
  mfs_umount
  if [ "$MFS_UP" = 1 ]; then
    for i in 1 2 3; do timeout 60 mfschunkserver -c "$MFS/cs$i/mfschunkserver.cfg" stop >/dev/null 2>&1; done
    timeout 60 mfsmaster -c "$MFS/master/mfsmaster.cfg" stop >/dev/null 2>&1
  fi
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

median() {  # median DIGITS V1 V2 ...
  python3 -c 'import sys,statistics; d=int(sys.argv[1]); v=round(statistics.median([float(x) for x in sys.argv[2:]]), d); print(v if d else int(v))' "$@"
}
fio_field() {  # fio_field read|write bw|iops < fio json
  python3 -c 'import json,sys; j=json.load(sys.stdin)["jobs"][0][sys.argv[1]]; print(round(j["bw"]/1024, 1) if sys.argv[2]=="bw" else round(j["iops"]))' "$1" "$2"
}
json_field() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])[sys.argv[1]])' "$1"; }
drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }
port_free() { ! ss -Htln "sport = :$1" | grep -q .; }

# --- MooseFS on loopback ---------------------------------------------------------------------
# MooseFS refuses a chunkserver whose address is 127.x ("you cannot use localhost for
# communication between chunkserver and master"). Everything listens on 127.0.0.1; the
# chunkservers are pointed at master 0.0.0.0, which Linux delivers to 127.0.0.1 over lo; the
# master then remaps each chunkserver's address 127.0.0.1 to 0.0.0.0 (REMAP_BITS = 32) before
# that check, and hands 0.0.0.0:PORT to clients as chunk locations, which again means loopback.
mfs_up() {
  local base=${MFS_BASE_PORT:-19419} p
  for p in $(seq "$base" $((base + 5))); do
    port_free "$p" || { echo "port $p is in use (set MFS_BASE_PORT)" >&2; exit 1; }
  done
  MFS_CL_PORT=$((base + 2))
  mkdir -p "$MFS/master"
  cp /var/lib/mfs/metadata.mfs.empty "$MFS/master/metadata.mfs"
  printf '127.0.0.1 / rw,alldirs,maproot=0\n' > "$MFS/master/mfsexports.cfg"
  : > "$MFS/master/mfstopology.cfg"
  cat > "$MFS/master/mfsmaster.cfg" <<EOF
WORKING_USER = root
WORKING_GROUP = root
NICE_LEVEL = 0
DATA_PATH = $MFS/master
EXPORTS_FILENAME = $MFS/master/mfsexports.cfg
TOPOLOGY_FILENAME = $MFS/master/mfstopology.cfg
MATOML_LISTEN_HOST = 127.0.0.1
MATOML_LISTEN_PORT = $base
MATOCS_LISTEN_HOST = 127.0.0.1
MATOCS_LISTEN_PORT = $((base + 1))
MATOCL_LISTEN_HOST = 127.0.0.1
MATOCL_LISTEN_PORT = $MFS_CL_PORT
REMAP_BITS = 32
REMAP_SOURCE_IP_CLASS = 127.0.0.1
REMAP_DESTINATION_IP_CLASS = 0.0.0.0
EOF
  MFS_UP=1
  mfsmaster -c "$MFS/master/mfsmaster.cfg" start >"$MFS/master.log" 2>&1
  local i
  for i in 1 2 3; do
    mkdir -p "$MFS/cs$i" "$MFS/hdd$i"
    echo "$MFS/hdd$i" > "$MFS/cs$i/mfshdd.cfg"
    cat > "$MFS/cs$i/mfschunkserver.cfg" <<EOF
WORKING_USER = root
WORKING_GROUP = root
NICE_LEVEL = 0
DATA_PATH = $MFS/cs$i
HDD_CONF_FILENAME = $MFS/cs$i/mfshdd.cfg
HDD_LEAVE_SPACE_DEFAULT = 1GiB
MASTER_HOST = 0.0.0.0
MASTER_PORT = $((base + 1))
CSSERV_LISTEN_HOST = 127.0.0.1
CSSERV_LISTEN_PORT = $((base + 2 + i))
EOF
    mfschunkserver -c "$MFS/cs$i/mfschunkserver.cfg" start >"$MFS/cs$i.log" 2>&1
  done
  three_cs() { [ "$(mfscli -H 127.0.0.1 -P "$MFS_CL_PORT" -SCS 2>/dev/null | grep -c '^chunk servers:')" = 3 ]; }
  wait_until 60 three_cs || { echo "MooseFS: three chunkservers did not register" >&2; cat "$MFS"/*.log >&2; exit 1; }
  mfs_mount
  mfssetgoal -r 3 "$MFS_MNT" >/dev/null
  echo "MooseFS: master 127.0.0.1:$MFS_CL_PORT, chunkservers $(mfscli -H 127.0.0.1 -P "$MFS_CL_PORT" -SCS | awk -F'\t' '/^chunk servers:/ {printf "%s:%s ", $2, $3}'); goal $(mfsgetgoal "$MFS_MNT" | awk '{print $2}')"
}
mfs_mount() {
  mfsmount "$MFS_MNT" -H 127.0.0.1 -P "$MFS_CL_PORT" >"$MFS/mount.log" 2>&1
  wait_until 30 is_mounted "$MFS_MNT" || { echo "mfsmount failed" >&2; cat "$MFS/mount.log" >&2; exit 1; }
}
# Prints every TCP connection of the MooseFS processes and fails if one is not loopback.
mfs_check_loopback() {
  echo "## ss -tnp: MooseFS connections (after the first write)"
  ss -Htnp | grep -E '"mfs(master|chunkserver|mount)"' | awk '{printf "  %-22s %-22s %s\n", $4, $5, $6}'
  local bad
  bad=$(ss -Htnp | grep -E '"mfs(master|chunkserver|mount)"' | awk '$4 !~ /^127\./ || $5 !~ /^127\./' || true)
  if [ -n "$bad" ]; then echo "MooseFS uses a non-loopback address: $bad" >&2; exit 1; fi
  ss -Htlnp | grep -E '"mfs(master|chunkserver)"' | awk '$4 !~ /^127\./ {print "listening beyond loopback: " $0; exit 1}' >&2
  echo "  (all $(ss -Htnp | grep -cE '"mfs(master|chunkserver|mount)"') endpoints on 127.0.0.1; listeners on 127.0.0.1 only)"
}

# --- Talus --------------------------------------------------------------------------------
talus_up() {
  "$BIN/talus" cluster up --dir "$DIR/talus-cluster" ${EXTRA[@]+-- "${EXTRA[@]}"} >/dev/null
  TALUS_UP=1
  TALUS_FS=$(sed -n 's/^TALUS_FS=//p' "$DIR/talus-cluster/cluster.env")
  talus_fuse_start
  echo "Talus: $TALUS_FS, 3 datanodes, mounted by talus-fuse ${FUSE_FLAGS:-(default flags)}"
}
talus_fuse_start() {
  # --foreground in the background: this script owns the process and can always stop it.
  # shellcheck disable=SC2086
  "$BIN/talus-fuse" --fs="$TALUS_FS" --foreground $FUSE_FLAGS "$TALUS_MNT" \
    >>"$DIR/talus-fuse.log" 2>&1 &
  FUSE_PID=$!
  if ! wait_until 30 is_mounted "$TALUS_MNT"; then
    echo "talus-fuse did not mount" >&2; tail -20 "$DIR/talus-fuse.log" >&2; exit 1
  fi
}

target_dir() {
  case "$1" in
    raw) echo "$RAW" ;;
    moosefs) echo "$MFS_MNT/bench" ;;
    talus) echo "$TALUS_MNT/bench" ;;
  esac
}
# Cold caches: the kernel's page, dentry and inode caches, and the FUSE client's own.
cold() {
  drop_caches
  case "$1" in
    moosefs) mfs_umount; mfs_mount ;;
    talus) talus_fuse_stop; talus_fuse_start ;;
  esac
}

declare -A R   # R[target,job] = "v1 v2 v3"
record() { R[$1,$2]="${R[$1,$2]:-} $3"; }

run_target() {  # run_target TARGET RUN
  local t=$1 d f out
  d=$(target_dir "$t")
  mkdir -p "$d"
  f=$d/seq.dat
  local fio=(fio --name=job --filename="$f" --size="${SIZE_MB}m" --ioengine=psync --fallocate=none
             --output-format=json)
  out=$("${fio[@]}" --rw=write --bs=1M --end_fsync=1 | fio_field write bw); record "$t" write "$out"
  if [ "$t" = moosefs ] && [ "$2" = 1 ]; then
    mfs_check_loopback
    echo "  mfsfileinfo of the written file: $(mfsfileinfo "$f" | grep -c 'chunk [0-9]') chunks, $(mfsfileinfo "$f" | grep -c 'copy [0-9].*VALID') valid copies"
  fi
  if [ "$t" = talus ] && [ "$2" = 1 ]; then
    echo "  talus fsck of the written file: $("$BIN/talus" fsck -fs "$TALUS_FS" /bench/seq.dat 2>/dev/null | grep -E 'Average block replication|is (HEALTHY|CORRUPT)' | tr -s ' \t' ' ' | paste -sd';')"
  fi
  cold "$t"
  out=$("${fio[@]}" --rw=read --bs=1M --invalidate=1 | fio_field read bw); record "$t" read_cold "$out"
  out=$("${fio[@]}" --rw=read --bs=1M --invalidate=0 | fio_field read bw); record "$t" read_warm "$out"
  cold "$t"
  out=$("${fio[@]}" --rw=randread --bs=4k --invalidate=0 --time_based --runtime="$RANDREAD_S" \
        | fio_field read iops); record "$t" randread "$out"
  rm -f "$f"
  if [ "$t" = raw ]; then
    # What one durable metadata mutation can cost at least: Talus's namenode fdatasyncs its
    # journal before answering (MooseFS's master does not), so this bounds Talus's creates/s
    # (create + complete: two journaled mutations) and unlinks/s.
    out=$(fio --name=sync --filename="$d/sync.dat" --rw=write --bs=4k --size=8m --fdatasync=1 \
            --output-format=json | fio_field write iops)
    record "$t" fdatasync "$out"
    rm -f "$d/sync.dat"
  fi
  local m=$d/meta
  mkdir -p "$m"
  out=$("$BIN/talus-meta-files" --op create --dir "$m" --files "$FILES" | json_field ops_per_s)
  record "$t" create "$out"
  cold "$t"
  local t0 t1
  t0=$(date +%s.%N); ls -l "$m" >/dev/null; t1=$(date +%s.%N)
  record "$t" ls "$(python3 -c "print(round($t1 - $t0, 3))")"
  cold "$t"
  out=$("$BIN/talus-meta-files" --op stat --dir "$m" --files "$FILES" | json_field ops_per_s)
  record "$t" stat "$out"
  cold "$t"
  out=$("$BIN/talus-meta-files" --op unlink --dir "$m" --files "$FILES" | json_field ops_per_s)
  record "$t" unlink "$out"
  rmdir "$m"
  echo "  run $2 $t: write ${R[$t,write]##* } MiB/s, read cold ${R[$t,read_cold]##* } warm ${R[$t,read_warm]##* } MiB/s, randread ${R[$t,randread]##* } IOPS, create ${R[$t,create]##* } ls ${R[$t,ls]##* } s stat ${R[$t,stat]##* } unlink ${R[$t,unlink]##* } /s"
}

echo "# $(date -u +%FT%TZ) $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'); $RUNS runs; ${SIZE_MB} MiB files, $FILES files, randread ${RANDREAD_S} s; disk under $DIR: $(df --output=source,fstype "$DIR" | tail -1 | tr -s ' ')"
ACTIVE=""
for t in $TARGETS; do
  case "$t" in
    raw) ACTIVE+=" raw" ;;
    moosefs) mfs_up; ACTIVE+=" moosefs" ;;
    talus)
      if [ ! -x "$BIN/talus-fuse" ]; then echo "Talus: no $BIN/talus-fuse, column skipped"; continue; fi
      talus_up; ACTIVE+=" talus" ;;
    *) echo "unknown target $t" >&2; exit 2 ;;
  esac
done
for r in $(seq "$RUNS"); do
  for t in $ACTIVE; do run_target "$t" "$r"; done
done

echo "## medians of $RUNS runs (runs in brackets)"
printf "%-22s" job; for t in $ACTIVE; do printf "%-34s" "$t"; done; echo
for job in write read_cold read_warm randread create stat unlink ls fdatasync; do
  case $job in
    write) label="seq write MiB/s" ;; read_cold) label="seq read cold MiB/s" ;;
    read_warm) label="seq read warm MiB/s" ;; randread) label="4K randread IOPS" ;;
    create) label="creates/s" ;; stat) label="stats/s" ;; unlink) label="unlinks/s" ;;
    ls) label="ls -l ${FILES} s" ;;
    fdatasync) label="4K fdatasync/s" ;;
  esac
  printf "%-22s" "$label"
  for t in $ACTIVE; do
    # shellcheck disable=SC2086
    digits=0; [ "$job" = ls ] && digits=3
    if [ -z "${R[$t,$job]:-}" ]; then printf "%-34s" "-"; continue; fi
    printf "%-34s" "$(median $digits ${R[$t,$job]}) [$(echo ${R[$t,$job]} | tr ' ' ',')]"
  done
  echo
done
