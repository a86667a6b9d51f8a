#!/usr/bin/env bash
# scripts/bench-memory.sh: the memory of each daemon's whole process tree (issue 15).
#
# Part idle: each daemon runs the seed deployment's config
# (shared/test/fixtures/seed-knockd.conf, plus the harness's [ready] door so the
# script knows when it listens); after --settle seconds, every process of its tree
# (the daemon, knock-server's command runner and ready shells) is listed with its RSS
# and PSS, then the total, then where the daemon's own RSS goes (code, libs, ring,
# heap, other: see lib/proc-tree.py).
# Part million (unless --idle-only): scripts/bench-million.sh, which lists the same
# tree once 1,000,000 sources are mid-sequence (--quick: 100,000).
#
#   bash scripts/bench-memory.sh [--settle 10] [--quick] [--idle-only] [--daemon NAME=TEMPLATE]...
# Needs root. Raw output in $RESULTS_DIR (default bench-results/ in the project).
set -uo pipefail
. "$(dirname "$0")/lib/bench-harness.sh" bench-memory

SETTLE=10
MILLION=(--)
IDLE_ONLY=0
DAEMON_ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --settle) SETTLE=$2; shift 2 ;;
    --quick) MILLION=(-- --quick); SETTLE=5; shift ;;
    --idle-only) IDLE_ONLY=1; shift ;;
    --daemon) add_daemon "$2"; DAEMON_ARGS+=(--daemon "$2"); shift 2 ;;
    -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
default_daemons
require_root
need ip nc "$PY"
netns_up

bench_dirs memory
OUT=$RESULTS_DIR/memory-$(date +%Y%m%d-%H%M%S)-$$.tsv

SEED=$ROOT/shared/test/fixtures/seed-knockd.conf
printf 'part\tdaemon\tpid\tppid\tcommand\trss_kB\tpss_kB\n' > "$OUT"
for di in "${!DAEMON_NAMES[@]}"; do
  dn=${DAEMON_NAMES[$di]}
  wd=$WORK/idle-$dn; mkdir -p "$wd"
  # The seed's doors and options, its pidfile moved into the work dir, and the
  # harness's readiness door and log file.
  {
    printf '[options]\n  logfile = %s\n' "$wd/daemon.log"
    sed -e '/^\[options\]/d' -e "s|^\(\s*pidfile\s*=\).*|\1 $wd/daemon.pid|" "$SEED"
    printf '\n[ready]\n  sequence = 1299\n  seq_timeout = 5\n  tcpflags = syn\n  command = touch %s\n' "$wd/ready"
  } > "$wd/knockd.conf"
  : > "$wd/result"
  daemon_start "${DAEMON_TMPLS[$di]}" "$wd"
  if ! daemon_wait_ready "$wd"; then daemon_stop; continue; fi
  sleep "$SETTLE"
  "$PY" "$ROOT/scripts/lib/proc-tree.py" "$DAEMON_PID" --label "$dn" | sed 's/^/idle\t/' >> "$OUT"
  daemon_stop
done
echo "== idle, seed config ($SETTLE s after ready): every process of each daemon's tree, kB"
awk -F'\t' 'NR > 1 && $1 == "idle"' "$OUT" | cut -f2- | column -t -s $'\t'
if [ "$IDLE_ONLY" = 0 ]; then
  echo "== 1,000,000 sources mid-sequence, 100,000 with --quick (scripts/bench-million.sh)"
  bash "$ROOT/scripts/bench-million.sh" "${MILLION[@]:1}" "${DAEMON_ARGS[@]}"
fi
echo "raw results: $OUT"
