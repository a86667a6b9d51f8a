#!/usr/bin/env bash
# scripts/lib/with-status-pollers.sh DAEMON-ARGV...: runs the daemon (exec: the
# benchmark harness keeps its pid) with 10 clients asking `knock-server status` over
# the control socket every 10 ms in the background, for the status-polling flood
# benchmark (bench.sh --only status). The pollers end when the daemon does. Their own
# CPU is theirs: the harness measures the daemon's. With KNOCK_POLL_REPORT=FILE, each
# run appends the pollers' count and the daemon's own drop counters to FILE.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
node "$here/status-pollers.mjs" "${KNOCK_CONTROL_SOCKET:-/run/knock-server.sock}" 10 10 "$$" ${KNOCK_POLL_REPORT:+"$KNOCK_POLL_REPORT"} &
exec "$@"
