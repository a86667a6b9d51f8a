#!/usr/bin/env bash
# scripts/bench-proxy.sh: `knock proxy` as an ssh ProxyCommand against `nc`, in one run.
#
# Two fresh network namespaces joined by a veth pair (192.0.2.1 client, 192.0.2.2
# server, documentation range only, no default route: nothing leaves them), a real
# sshd in the server one, a knock profile for 192.0.2.2. From the client namespace it
# copies SIZE MiB of zeros through ssh, alternately with
#   ProxyCommand knock proxy %h %p      and      ProxyCommand nc %h %p
# and prints each run, the median MiB/s of each and the ratio knock/nc.
#
# Throughput is timed on the server, from the start of the remote command to the end
# of its input, so it measures the relay and not the start of ssh or of knock (the
# seconds for the whole ssh command are printed too). The remote side counts the
# bytes: a short copy is an error, not a fast one. Cipher aes128-gcm (AES-NI): the
# cheaper ssh's own work, the more the relay shows.
# Everything it creates is removed at the end, also on Ctrl-C or an error. Needs root.
#
#   scripts/bench-proxy.sh [--runs N] [--size MIB]     (default 3 runs each, 256 MiB)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/lib/lab-sshd.sh"
RUNS=3
SIZE=256
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=${2:-}; shift; shift || true ;;
    --size) SIZE=${2:-}; shift; shift || true ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "bench-proxy: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
for n in "$RUNS" "$SIZE"; do
  case "$n" in "" | *[!0-9]* | 0*) echo "bench-proxy: --runs and --size want a whole number from 1" >&2; exit 2 ;; esac
done
[ "$(id -u)" = 0 ] || { echo "bench-proxy: run as root (it creates network namespaces)" >&2; exit 13; }
for tool in ip ssh ssh-keygen nc node; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench-proxy: missing $tool: run scripts/setup.sh" >&2; exit 1; }
done
[ -x /usr/sbin/sshd ] || { echo "bench-proxy: missing /usr/sbin/sshd: run scripts/setup.sh" >&2; exit 1; }
[ -f "$ROOT/client-cli/dist/bin/knock.js" ] || { echo "bench-proxy: knock is not built: run npm run build" >&2; exit 1; }

ID=$$
NS_C=kbench-client-$ID
NS_S=kbench-server-$ID
IF_C=kbc$ID
IF_S=kbs$ID
C4=192.0.2.1
S4=192.0.2.2
WORK=$(mktemp -d /tmp/knock-bench-proxy.XXXXXX)

cleanup() {
  trap - EXIT INT TERM
  for ns in "$NS_C" "$NS_S"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'echo "bench-proxy: interrupted" >&2; exit 130' INT TERM

ip netns add "$NS_C"
ip netns add "$NS_S"
ip link add "$IF_C" netns "$NS_C" type veth peer name "$IF_S" netns "$NS_S"
ip -n "$NS_C" addr add "$C4/24" dev "$IF_C"
ip -n "$NS_S" addr add "$S4/24" dev "$IF_S"
for ns in "$NS_C" "$NS_S"; do ip -n "$ns" link set lo up; done
ip -n "$NS_C" link set "$IF_C" up
ip -n "$NS_S" link set "$IF_S" up
for _ in $(seq 1 50); do ip netns exec "$NS_C" ping -c1 -W1 "$S4" >/dev/null 2>&1 && break; sleep 0.1; done

lab_sshd_files "$WORK" "$S4"
cat > "$WORK/ssh_config" <<CONF
Host *
  User root
  IdentityFile $WORK/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $WORK/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking no
  BatchMode yes
  ConnectTimeout 5
  LogLevel ERROR
  Ciphers aes128-gcm@openssh.com
  Compression no
CONF
# The profile `knock proxy` knocks (nothing listens for the knocks here: the relay is measured).
cat > "$WORK/config.toml" <<CONF
[hosts."$S4"]
sequence = "1228,1227"
port = 22
CONF
ip netns exec "$NS_S" /usr/sbin/sshd -f "$WORK/sshd_config" -E "$WORK/sshd.log" ||
  { echo "bench-proxy: sshd did not start:" >&2; cat "$WORK/sshd.log" >&2; exit 1; }

KNOCK="$(command -v node) $ROOT/client-cli/bin/knock.js"
BYTES=$((SIZE * 1024 * 1024))
# The remote command: nanoseconds from its start to the end of its input, then the byte count.
REMOTE='a=$(date +%s%N); n=$(wc -c); b=$(date +%s%N); echo "$((b - a)) $n"'

# One copy; prints "MiB/s wall-seconds".
copy() {
  local proxy=$1 t0 t1 out ns n
  t0=$(date +%s%N)
  out=$(head -c "$BYTES" /dev/zero |
    KNOCK_CONFIG="$WORK/config.toml" ip netns exec "$NS_C" \
      ssh -F "$WORK/ssh_config" -o "ProxyCommand=$proxy" "$S4" "$REMOTE")
  t1=$(date +%s%N)
  read -r ns n <<<"$out"
  [ "$n" = "$BYTES" ] || { echo "bench-proxy: $proxy delivered ${n:-nothing} of $BYTES bytes" >&2; exit 1; }
  awk -v b="$BYTES" -v ns="$ns" -v w=$((t1 - t0)) 'BEGIN { printf "%.1f %.2f\n", b / 1048576 / (ns / 1e9), w / 1e9 }'
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# A warm-up connection of each kind (host key, page cache), not counted.
copy "$KNOCK proxy %h %p" >/dev/null
copy "nc %h %p" >/dev/null

echo "ssh through a ProxyCommand, $SIZE MiB of zeros to 'wc -c' on the server, $RUNS runs each, interleaved"
printf '%-22s %4s %10s %12s\n' "ProxyCommand" run "MiB/s" "ssh wall s"
: > "$WORK/knock.txt"
: > "$WORK/nc.txt"
for run in $(seq 1 "$RUNS"); do
  for kind in knock nc; do
    if [ "$kind" = knock ]; then proxy="$KNOCK proxy %h %p"; label="knock proxy %h %p"; else proxy="nc %h %p"; label="nc %h %p"; fi
    read -r rate wall <<<"$(copy "$proxy")"
    echo "$rate" >> "$WORK/$kind.txt"
    printf '%-22s %4s %10s %12s\n' "$label" "$run" "$rate" "$wall"
  done
done
K=$(median < "$WORK/knock.txt")
N=$(median < "$WORK/nc.txt")
echo
echo "| ProxyCommand | median MiB/s |"
echo "| --- | ---: |"
echo "| knock proxy %h %p | $K |"
echo "| nc %h %p | $N |"
awk -v k="$K" -v n="$N" 'BEGIN { printf "knock proxy / nc: %.1f %%\n", 100 * k / n }'
