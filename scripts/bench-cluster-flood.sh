#!/usr/bin/env bash
# scripts/bench-cluster-flood.sh: the shared flood benchmark (../shared/bench/flood.sh) on
# knock-server alone and on knock-server as a cluster node (a private redis-server on a
# unix socket, started here and stopped at exit), in one run: drops and CPU per packet.
#
#   bash scripts/bench-cluster-flood.sh [--noise 200000] [--sources 10000] [--rate 50000] [--repeat 2]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=${KNOCK_BENCH_DIR:-$ROOT/../shared/bench}
NOISE=200000 SOURCES=10000 RATE=50000 REPEAT=2
while [ $# -gt 0 ]; do
  case "$1" in
    --noise) NOISE=$2; shift 2 ;;
    --sources) SOURCES=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "bench-cluster-flood: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "bench-cluster-flood: run as root" >&2; exit 13; }
command -v redis-server >/dev/null || { echo "bench-cluster-flood: missing redis-server: run scripts/setup.sh" >&2; exit 1; }
dir=$(mktemp -d /tmp/knock-bench-redis.XXXXXX)
redis-server --port 0 --unixsocket "$dir/redis.sock" --unixsocketperm 700 --save '' --appendonly no \
  --dir "$dir" --daemonize no >"$dir/redis.log" 2>&1 &
redis_pid=$!
trap 'kill "$redis_pid" 2>/dev/null; wait "$redis_pid" 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do redis-cli -s "$dir/redis.sock" ping >/dev/null 2>&1 && break; sleep 0.05; done
SINGLE="single=$(command -v node) $ROOT/server/bin/knock-server.js -i {iface} -c {conf}"
CLUSTER="cluster=$ROOT/scripts/bench-cluster-daemon.sh {iface} {conf} $dir/redis.sock"
bash "$BENCH/flood.sh" --noise "$NOISE" --rates "" --msweep "$SOURCES" --msweep-rate "$RATE" \
  --repeat "$REPEAT" --daemon "$SINGLE" --daemon "$CLUSTER"
echo "cluster keys after the runs: $(redis-cli -s "$dir/redis.sock" --scan --pattern 'knock:bench-flood:*' | wc -l) (the node's heartbeat; the doors here run commands, not grants)"
