#!/usr/bin/env bash
# scripts/bench.sh: knock-server against Debian's knockd, side by side, in one run.
#
# Runs the project's shared benchmark harness (../shared/bench: flood.sh and
# latency.sh, two network namespaces, tcpreplay floods) with both daemons, then the
# client: cold start (bench-client.mjs), knock proxy vs nc (bench-proxy.sh). Raw TSVs go to
# $RESULTS_DIR (default bench-results/ here). Needs root.
#
#   npm run bench                 # full run (several minutes per daemon)
#   npm run bench -- --quick      # the harness's quick mode (about a minute)
#   npm run bench -- --only client|flood|latency|million|memory|status|cluster|rotating
#     memory: every process of each daemon's tree (RSS, PSS), idle with the seed's
#             config and at 1,000,000 sources mid-sequence (bench-memory.sh)
#     status: the flood with 10 clients polling `knock-server status` every 10 ms,
#             against the same flood without them (drops, CPU per packet)
#     cluster: three nodes over one redis-server: fan-out latency, a 1,000-grant burst,
#             the flood alone and as a cluster node (bench-cluster.mjs, bench-cluster-flood.sh)
#     rotating: a rotating door beside a fixed one: floods to random ports of the range
#               and to the doors' ports, latency (bench-rotating.sh)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=${KNOCK_BENCH_DIR:-$ROOT/../shared/bench}
export RESULTS_DIR=${RESULTS_DIR:-$ROOT/bench-results}
mkdir -p "$RESULTS_DIR"
QUICK=()
ONLY=all
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=(--quick); shift ;;
    --only) ONLY=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "bench: run as root (namespaces, packet capture)" >&2; exit 13; }
[ -x "$BENCH/flood.sh" ] || [ -f "$BENCH/flood.sh" ] || { echo "bench: harness not found at $BENCH (set KNOCK_BENCH_DIR)" >&2; exit 1; }
for t in tcpreplay tcpdump knockd; do command -v "$t" >/dev/null || { echo "bench: missing $t: run scripts/setup.sh" >&2; exit 1; }; done

KNOCKD="knockd=/usr/sbin/knockd -i {iface} -c {conf}"
OURS="knock-server=$(command -v node) $ROOT/server/bin/knock-server.js -i {iface} -c {conf}"

if [ "$ONLY" = all ] || [ "$ONLY" = flood ]; then
  echo "== flood: detection, drops, CPU and memory under a SYN flood"
  bash "$BENCH/flood.sh" "${QUICK[@]}" --daemon "$KNOCKD" --daemon "$OURS"
fi
if [ "$ONLY" = all ] || [ "$ONLY" = latency ]; then
  echo "== latency: from starting knock to the door command"
  runs=20; [ ${#QUICK[@]} -gt 0 ] && runs=5
  bash "$BENCH/latency.sh" --runs "$runs" --daemon "$KNOCKD" --daemon "$OURS"
fi
if [ "$ONLY" = all ] || [ "$ONLY" = client ]; then
  echo "== client cold start: start to last knock sent (knock 127.0.0.1 1228 1227), 30 runs each"
  node "$ROOT/scripts/bench-client.mjs" 30
  echo "== knock proxy relay: ssh with ProxyCommand 'knock proxy %h %p' against 'nc %h %p', 3 runs each"
  proxy_size=256; [ ${#QUICK[@]} -gt 0 ] && proxy_size=64
  bash "$ROOT/scripts/bench-proxy.sh" --runs 3 --size "$proxy_size"
fi
if [ "$ONLY" = all ] || [ "$ONLY" = rotating ]; then
  echo "== rotating: a rotating door against a fixed door (flood to random ports of the range, flood to the doors' ports, latency)"
  rot=(); [ ${#QUICK[@]} -gt 0 ] && rot=(--packets 50000 --runs 5)
  bash "$ROOT/scripts/bench-rotating.sh" "${rot[@]}" --only flood
  bash "$ROOT/scripts/bench-rotating.sh" "${rot[@]}" --only flood --hits
  bash "$ROOT/scripts/bench-rotating.sh" "${rot[@]}" --only latency
fi
bash "$BENCH/netns.sh" down >/dev/null 2>&1 || true
if [ "$ONLY" = all ] || [ "$ONLY" = status ]; then
  echo "== status polling: the flood with 10 clients asking knock-server status every 10 ms, and without"
  POLLED="knock-server+status-polls=bash $ROOT/scripts/lib/with-status-pollers.sh $(command -v node) $ROOT/server/bin/knock-server.js -i {iface} -c {conf}"
  export KNOCK_POLL_REPORT="$RESULTS_DIR/status-polls-$(date +%Y%m%d-%H%M%S)-$$.txt"
  bash "$BENCH/flood.sh" "${QUICK[@]}" --daemon "$OURS" --daemon "$POLLED"
  # The harness's drop column is empty for the polled daemon (each status resets the
  # socket's kernel counters); the daemon's own counters, one line per run, in run order:
  cat "$KNOCK_POLL_REPORT"
  bash "$BENCH/netns.sh" down >/dev/null 2>&1 || true
fi
if [ "$ONLY" = memory ]; then
  echo "== memory: every process of each daemon's tree, idle (seed config) and at 1,000,000 sources"
  memory=(); [ ${#QUICK[@]} -gt 0 ] && memory=(--quick)
  bash "$ROOT/scripts/bench-memory.sh" "${memory[@]}" --daemon "$KNOCKD" --daemon "$OURS"
  bash "$BENCH/netns.sh" down >/dev/null 2>&1 || true
fi
if [ "$ONLY" = all ] || [ "$ONLY" = million ]; then
  echo "== million: 1,000,000 sources mid-sequence (drops while the table grows, peak RSS, RSS after expiry)"
  million=(); [ ${#QUICK[@]} -gt 0 ] && million=(--quick)
  bash "$ROOT/scripts/bench-million.sh" "${million[@]}" --daemon "$KNOCKD" --daemon "$OURS"
  bash "$BENCH/netns.sh" down >/dev/null 2>&1 || true
fi
if [ "$ONLY" = all ] || [ "$ONLY" = cluster ]; then
  echo "== cluster: fan-out latency and a 1,000-grant burst over Redis (three nodes), then the flood with the cluster on and off"
  knocks=100 burst=1000 repeat=2; [ ${#QUICK[@]} -gt 0 ] && knocks=20 burst=200 repeat=1
  node "$ROOT/scripts/bench-cluster.mjs" --knocks "$knocks" --burst "$burst"
  bash "$ROOT/scripts/bench-cluster-flood.sh" --repeat "$repeat"
  bash "$BENCH/netns.sh" down >/dev/null 2>&1 || true
fi
