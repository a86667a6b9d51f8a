#!/usr/bin/env bash
# scripts/demo.sh: knock-server guarding a real sshd, told as a short story.
#
# Builds two network namespaces joined by a veth pair (documentation addresses
# only; nothing leaves them), runs sshd and knock-server in the "server" one with
# a config like the 2006 deployment it replaces (open door 1228,1227 for 300 s,
# five ban doors, a trusted list), then shows from the "client" namespace:
#   ssh refused -> a trusted host gets in -> knock -> ssh works -> the grant is
#   listed with its remaining time -> a ban door locks an address out for good.
# Everything it created is removed at the end, also on Ctrl-C or an error.
# Exit status: 0 when every step turned out as told, 1 otherwise.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
KNOCK="node $ROOT/client-cli/bin/knock.js"
KNOCK_SERVER="node $ROOT/server/bin/knock-server.js"
. "$ROOT/scripts/lib/lab-sshd.sh"

[ "$(id -u)" = 0 ] || { echo "demo: run as root (it creates network namespaces and firewall rules)" >&2; exit 13; }
for tool in ip sshd ssh ssh-keygen nft; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || { echo "demo: missing $tool: run scripts/setup.sh" >&2; exit 1; }
done

ID=$$
NS_C=kdemo-client-$ID
NS_S=kdemo-server-$ID
IF_C=kdc$ID
IF_S=kds$ID
C4=192.0.2.1          # the laptop that knocks
TRUSTED4=192.0.2.20   # a lab machine on the trusted list
INTRUDER4=192.0.2.66  # a scanner that finds a ban door
S4=192.0.2.2          # the ssh server
WORK=$(mktemp -d /tmp/knock-demo.XXXXXX)
FAILED=0
SERVER_PID=""

bold() { printf '\033[1m%s\033[0m\n' "$*"; }
say() { printf '\n'; bold "== $*"; }
ok() { printf '   \033[32mOK\033[0m   %s\n' "$*"; }
bad() { printf '   \033[31mFAIL\033[0m %s\n' "$*"; FAILED=1; }
run_c() { ip netns exec "$NS_C" "$@"; }
run_s() { ip netns exec "$NS_S" "$@"; }

cleanup() {
  trap - EXIT INT TERM
  [ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  for ns in "$NS_C" "$NS_S"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  rm -rf "$WORK"
  printf '\nCleaned up: namespaces %s and %s, their firewall table, sshd and knock-server are gone.\n' "$NS_C" "$NS_S"
}
trap cleanup EXIT
trap 'echo; echo "demo: interrupted"; exit 130' INT TERM

# ssh from one of the client's addresses; prints the remote command's output.
try_ssh() {
  local src=$1
  run_c ssh -b "$src" -i "$WORK/id_ed25519" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o BatchMode=yes -o ConnectTimeout=2 -o LogLevel=ERROR "root@$S4" 'echo "hello from $(hostname) as $(whoami)"' 2>&1
}

say "Setting the stage"
ip netns add "$NS_C" && ip netns add "$NS_S" || exit 1
ip link add "$IF_C" netns "$NS_C" type veth peer name "$IF_S" netns "$NS_S" || exit 1
run_c ip addr add "$C4/24" dev "$IF_C"
run_c ip addr add "$TRUSTED4/24" dev "$IF_C"
run_c ip addr add "$INTRUDER4/24" dev "$IF_C"
run_s ip addr add "$S4/24" dev "$IF_S"
for ns in "$NS_C" "$NS_S"; do ip -n "$ns" link set lo up; done
run_c ip link set "$IF_C" up
run_s ip link set "$IF_S" up
# Wait (bounded) for the link to carry traffic both ways before anything listens on it.
for _ in $(seq 1 50); do run_c ping -c1 -W1 "$S4" >/dev/null 2>&1 && break; sleep 0.1; done
echo "   two network namespaces: client $NS_C ($C4, $TRUSTED4, $INTRUDER4) and server $NS_S ($S4)"

lab_sshd_files "$WORK" "$S4" || exit 1
run_s /usr/sbin/sshd -f "$WORK/sshd_config" -E "$WORK/sshd.log" || { echo "demo: sshd did not start"; cat "$WORK/sshd.log"; exit 1; }
echo "   sshd listens on $S4:22 in the server namespace"

echo "$TRUSTED4   # the lab's own machine: always let in" > "$WORK/knockd.trusted"
cat > "$WORK/knockd.conf" <<CONF
# The 2006 deployment's knockd.conf, with the init script's job built in:
# Open_Ports/Open_Timeout replace "command = /etc/rc.d/init.d/knockd accept %IP%",
# Ban replaces "command = /etc/rc.d/init.d/knockd drop %IP%".
[options]
  LogFile = $WORK/knock-server.log
  Firewall = nftables
  Trusted_File = $WORK/knockd.trusted

[opencloseSSH]
  sequence     = 1228,1227
  seq_timeout  = 15
  tcpflags     = syn
  open_ports   = 22/tcp
  open_timeout = 300
CONF
n=1
for seq in 1220,1221 1224,1225 1226,1226 1223,1224 1222,1222; do
  printf '\n[banned%d]\n  sequence    = %s\n  seq_timeout = 15\n  tcpflags    = syn\n  ban         = 0\n' "$n" "$seq" >> "$WORK/knockd.conf"
  n=$((n + 1))
done
echo "   config: $(grep -c '^\[' "$WORK/knockd.conf") sections (1 open door, 5 ban doors), trusted list: $TRUSTED4"
$KNOCK_SERVER check -c "$WORK/knockd.conf" >/dev/null || { bad "knock-server check rejected the demo config"; exit 1; }

say "knock-server starts on $IF_S"
run_s $KNOCK_SERVER -i "$IF_S" -c "$WORK/knockd.conf" -v > "$WORK/server.out" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
  grep -q 'listening on' "$WORK/server.out" 2>/dev/null && break
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.1
done
if ! grep -q 'listening on' "$WORK/server.out"; then
  bad "knock-server did not start:"; sed 's/^/   | /' "$WORK/server.out"; exit 1
fi
sed 's/^/   | /' "$WORK/server.out"

say "1. Nobody gets to sshd without knocking"
out=$(try_ssh "$C4")
if [ $? -ne 0 ]; then ok "ssh from $C4 is refused: ${out:-timed out}"; else bad "ssh from $C4 got in without knocking: $out"; fi

say "2. A trusted machine gets in without knocking"
out=$(try_ssh "$TRUSTED4")
if [ $? -eq 0 ]; then ok "ssh from $TRUSTED4 (trusted): $out"; else bad "trusted $TRUSTED4 was refused: $out"; fi

say "3. The laptop knocks 1228 then 1227"
echo "   \$ knock -v $S4 1228 1227"
run_c $KNOCK -v "$S4" 1228 1227 | sed 's/^/   /'
sleep 0.3
grep -E 'Stage|OPEN SESAME' "$WORK/server.out" | sed 's/^/   server | /'

say "4. Now ssh works from the laptop"
out=$(try_ssh "$C4")
if [ $? -eq 0 ]; then ok "ssh from $C4: $out"; else bad "ssh from $C4 still refused after the knock: $out"; fi

say "5. The grant is in the kernel, with its remaining time"
echo "   \$ knock-server fw list"
run_s $KNOCK_SERVER fw list -c "$WORK/knockd.conf" | sed 's/^/   /'
if run_s $KNOCK_SERVER fw list -c "$WORK/knockd.conf" | grep -q "$C4"; then ok "grant for $C4 listed"; else bad "no grant listed for $C4"; fi

say "6. A scanner hits a ban door, then even the right knock does not help"
# Packets to the server leave from $INTRUDER4 while this route is in place.
run_c ip route replace "$S4/32" dev "$IF_C" src "$INTRUDER4"
echo "   \$ knock $S4 1220 1221        (from $INTRUDER4: ban door banned1)"
run_c $KNOCK "$S4" 1220 1221
sleep 0.3
echo "   \$ knock $S4 1228 1227        (from $INTRUDER4: the right sequence)"
run_c $KNOCK "$S4" 1228 1227
sleep 0.3
run_c ip route del "$S4/32" dev "$IF_C"
out=$(try_ssh "$INTRUDER4")
if [ $? -ne 0 ]; then ok "ssh from $INTRUDER4 is refused: banned"; else bad "banned $INTRUDER4 got in: $out"; fi
grep -F "$INTRUDER4" "$WORK/server.out" | sed 's/^/   server | /'
echo "   \$ knock-server fw list"
run_s $KNOCK_SERVER fw list -c "$WORK/knockd.conf" | sed 's/^/   /'

say "The end"
if [ "$FAILED" = 0 ]; then
  echo "   Every step turned out as told: refused, trusted, knocked, opened, listed, banned."
else
  echo "   Some steps did not turn out as told (FAIL above). Server log:"; sed 's/^/   | /' "$WORK/knock-server.log" 2>/dev/null
fi
exit "$FAILED"
