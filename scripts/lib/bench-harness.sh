# scripts/lib/bench-harness.sh: the start of the benchmarks that run daemons in the shared
# harness's namespaces (bench-memory.sh, bench-million.sh, bench-rotating.sh). Sourced
# with the script's name, for messages:
#
#   . "$(dirname "$0")/lib/bench-harness.sh" bench-million
#
# Sets ROOT (the project) and BENCH (../shared/bench, or $KNOCK_BENCH_DIR) and loads the
# harness's lib/common.sh (die, need, require_root, add_daemon, netns_up, cleanup_all, $PY),
# or stops saying where it looked.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH=${KNOCK_BENCH_DIR:-$ROOT/../shared/bench}
[ -f "$BENCH/lib/common.sh" ] || { echo "$1: harness not found at $BENCH (set KNOCK_BENCH_DIR)" >&2; exit 1; }
BENCH_DIR=$BENCH
. "$BENCH/lib/common.sh"

# knockd and knock-server, unless a --daemon NAME=TEMPLATE was given.
default_daemons() {
  [ ${#DAEMON_NAMES[@]} -gt 0 ] && return
  add_daemon "knockd=/usr/sbin/knockd -i {iface} -c {conf}"
  add_daemon "knock-server=$(command -v node) $ROOT/server/bin/knock-server.js -i {iface} -c {conf}"
}

# bench_dirs NAME: WORK, a new /tmp/knockbench-NAME.* directory, and RESULTS_DIR (default
# bench-results/ in the project), made; at exit the daemons, the namespaces' leftovers
# (cleanup_all) and WORK go.
bench_dirs() {
  WORK=$(mktemp -d "/tmp/knockbench-$1.XXXXXX")
  RESULTS_DIR=${RESULTS_DIR:-$ROOT/bench-results}
  mkdir -p "$RESULTS_DIR"
  trap 'cleanup_all; rm -rf "$WORK"' EXIT
  trap 'exit 130' INT TERM
}
