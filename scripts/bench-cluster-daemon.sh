#!/usr/bin/env bash
# Used by bench-cluster-flood.sh as a flood.sh daemon template: the harness's knockd.conf
# plus a Cluster on the given Redis socket, then exec knock-server (the harness needs the
# daemon's own PID for its CPU and memory figures).
#   bench-cluster-daemon.sh IFACE CONF REDIS_SOCKET
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
iface=$1 conf=$2 socket=$3
sed -e "s|^\[options\]|[options]\n    Cluster = unix://$socket\n    Cluster_Name = bench-flood\n    Cluster_Node = flood|" "$conf" > "$conf.cluster"
exec "$(command -v node)" "$ROOT/server/bin/knock-server.js" -i "$iface" -c "$conf.cluster"
