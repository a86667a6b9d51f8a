#!/usr/bin/env bash
# scripts/bench-rotating.sh: a rotating door against a fixed door (issue 11, "Performance").
#
# Uses the shared harness's namespaces and helpers (../shared/bench: kc/ks, 10.199.0.0/24,
# the [ready] door, PACKET_STATISTICS). knock-server only: knockd has no rotating doors.
#
# flood    The same pcap for both doors, one daemon run each, back to back: --packets
#          SYNs (default 200,000) from --sources spoofed addresses (10.128.0.0/15, default
#          10,000) to random ports in the rotating range 10000-65000, replayed at --rate
#          (default 100,000/s); then the legitimate knock from 10.199.0.1 with our client
#          (`knock HOST` with a rotating profile; the fixed door's 4 ports for the other).
#          Per door: drops (the daemon's capture socket), legit knock opened, spoofed
#          opens (none may happen), CPU seconds and µs of CPU per flood packet sent.
#          --hits: instead of random ports, each spoofed source knocks one port of the
#          door, again and again (the fixed door's 4 ports; the rotating door's IPv4
#          ports of the previous, current and next step): every packet reaches the
#          detector (a first knock, or a wrong knock that starts over), none completes.
# latency  One daemon with both doors (the rotating one with Sequence_Step = 1, so that
#          each run knocks a sequence of its own), --runs runs per door, interleaved, each
#          from its own source address: from starting `knock HOST` (our client, a
#          profile for each door) to the door command's own timestamp.
#
#   bash scripts/bench-rotating.sh [--packets 200000] [--rate 100000] [--sources 10000]
#        [--hits] [--runs 20] [--only flood|latency]
# Needs root. Raw TSV in $RESULTS_DIR (default bench-results/ in the project).
set -uo pipefail
. "$(dirname "$0")/lib/bench-harness.sh" bench-rotating

PACKETS=200000
RATE=100000
SOURCES=10000
RUNS=20
ONLY=all
HITS=0
while [ $# -gt 0 ]; do
  case "$1" in
    --packets) PACKETS=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --sources) SOURCES=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --hits) HITS=1; shift ;;
    -h | --help) sed -n '2,22p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
require_root
need ip tcpreplay timeout "$PY" node
netns_up

NODE=$(command -v node)
SERVER="$NODE $ROOT/server/bin/knock-server.js -i {iface} -c {conf} --state-dir {tmp}/state"
KNOCK=("$NODE" "$ROOT/client-cli/bin/knock.js")
FIXED_PORTS="20001 30002 40003 50004"
bench_dirs rotating
STAMP=$(date +%Y%m%d-%H%M%S)-$$

# The secret: made by the real command (0600 file), the same for every run.
"$NODE" "$ROOT/server/bin/knock-server.js" secret new rot --file "$WORK/rot.secret" --no-qr > /dev/null ||
  die "knock-server secret new failed"
chmod 600 "$WORK/rot.secret"

# CPU time of every thread of a process, in ns (schedstat: finer than /proc/PID/stat's ticks).
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%d", s }'; }

# conf_for WORKDIR DOOR...: the harness config plus the doors asked for.
conf_for() {
  local wd=$1 door
  shift
  render_conf "$wd"
  for door in "$@"; do
    case "$door" in
      fixed) printf '\n[fixed4]\n    sequence    = %s\n    seq_timeout = 15\n    tcpflags    = syn\n    command     = echo "fixed %%IP%% $(date +%%s%%N)" >> %s\n' \
        "${FIXED_PORTS// /,}" "$wd/result" ;;
      rotating) printf '\n[rot]\n    sequence_secret_file = %s\n    seq_timeout = 15\n    tcpflags = syn\n    command = echo "rot %%IP%% $(date +%%s%%N)" >> %s\n' \
        "$WORK/rot.secret" "$wd/result" ;;
      rotating1) printf '\n[rot]\n    sequence_secret_file = %s\n    sequence_step = 1\n    seq_timeout = 15\n    tcpflags = syn\n    command = echo "rot %%IP%% $(date +%%s%%N)" >> %s\n' \
        "$WORK/rot.secret" "$wd/result" ;;
    esac
  done >> "$wd/knockd.conf"
  # The client's profiles (inside kc, our knock resolves the address itself).
  cat > "$wd/profiles.toml" <<EOF_TOML
[hosts."$T4"]
secret_file = "$WORK/rot.secret"
door = "rot"
step = $([ "${*: -1}" = rotating1 ] && echo 1 || echo 30)
family = "ipv4"
EOF_TOML
}

if [ "$ONLY" = all ] || [ "$ONLY" = flood ]; then
  # make_pcap FILE PORTS: PORTS empty = random ports 10000-65000
  make_pcap() {
    log "generating $1 ($PACKETS SYNs from $SOURCES sources to ${2:-random ports 10000-65000})"
    "$PY" - "$1" "$PACKETS" "$SOURCES" "$2" <<'EOF_PY' || die "pcap generation failed"
import random, struct, sys
out, n, sources = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ports = [int(p) for p in sys.argv[4].split(",")] if sys.argv[4] else []
SRC_MAC, DST_MAC = bytes.fromhex("029900000001"), bytes.fromhex("029900000002")
DST = bytes([10, 199, 0, 2])
rng = random.Random(11)

def csum(data):
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF

with open(out, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    base = (10 << 24) | (128 << 16) | 1
    for i in range(n):
        k = i % sources
        src = struct.pack("!I", base + k)
        dport = ports[k % len(ports)] if ports else rng.randint(10000, 65000)
        tcp = struct.pack("!HHIIBBHHH", 1024 + i % 60000, dport,
                          rng.getrandbits(32), 0, 5 << 4, 0x02, 64240, 0, 0)
        tcp = tcp[:16] + struct.pack("!H", csum(src + DST + b"\0\x06\0\x14" + tcp)) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, i & 0xFFFF, 0x4000, 64, 6, 0, src, DST)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        fr = DST_MAC + SRC_MAC + b"\x08\x00" + ip + tcp
        t = (i + 1) * 10
        f.write(struct.pack("<IIII", t // 1000000, t % 1000000, len(fr), len(fr)))
        f.write(fr)
EOF_PY
  }
  # The rotating door's IPv4 ports around now (steps T-1, T, T+1), from the built shared package.
  rotating_ports() {
    "$NODE" --input-type=module -e "
      import { readFileSync } from 'node:fs';
      import { deriveSequence, parseSecret, ROTATING_DEFAULTS as D, stepAt } from '$ROOT/shared/dist/index.js';
      const text = readFileSync('$WORK/rot.secret', 'utf8').split('\\n').filter((l) => !l.startsWith('#')).join('');
      const spec = { secret: parseSecret(text).secret, label: 'rot', length: D.length, step: D.step, low: D.low, high: D.high, protocols: 'tcp' };
      const t = stepAt(Date.now(), D.step);
      console.log([t - 1, t, t + 1].flatMap((s) => deriveSequence(spec, 4, s).map((k) => k.port)).join(','));
    "
  }
  [ "$HITS" = 0 ] && make_pcap "$WORK/flood.pcap" ""
  FLOOD_TSV=$RESULTS_DIR/rotating-flood-$STAMP.tsv
  printf 'door\tpackets\trate\tactual_pps\tsent\tcap_pkts\tcap_drops\tdrop_pct\tlegit\tspoofed_opens\tcpu_s\tus_per_sent\tpeak_kB\n' > "$FLOOD_TSV"
  for door in fixed rotating; do
    wd=$WORK/flood-$door; mkdir -p "$wd"; conf_for "$wd" "$door"
    PCAP=$WORK/flood.pcap
    if [ "$HITS" = 1 ]; then
      PCAP=$WORK/flood-$door.pcap
      if [ "$door" = fixed ]; then make_pcap "$PCAP" "${FIXED_PORTS// /,}"; else make_pcap "$PCAP" "$(rotating_ports)"; fi
    fi
    log "flood, $door door: starting knock-server"
    daemon_start "$SERVER" "$wd"
    if ! daemon_wait_ready "$wd"; then daemon_stop; printf '%s\tERROR\n' "$door" >> "$FLOOD_TSV"; continue; fi
    pid=$DAEMON_PID
    sleep 2
    "$PY" "$BENCH/lib/pktstats.py" "$pid" > /dev/null 2>&1 # zero the counters
    c0=$(cpu_ns "$pid")
    ip netns exec "$NS_C" timeout 600 tcpreplay -i "$IF_C" -K --pps="$RATE" "$PCAP" > "$wd/tcpreplay.out" 2>&1
    # the backlog: CPU flat for 1 s (at most 60 s)
    last=$(proc_cpu_ticks "$pid"); idle_since=$SECONDS
    for _ in $(seq 1 600); do
      sleep 0.1; cur=$(proc_cpu_ticks "$pid")
      if [ "$cur" -gt $((last + 1)) ]; then last=$cur; idle_since=$SECONDS
      elif [ $((SECONDS - idle_since)) -ge 1 ]; then break; fi
    done
    c1=$(cpu_ns "$pid")
    read -r cap_p cap_d _ < <("$PY" "$BENCH/lib/pktstats.py" "$pid" 2>/dev/null || echo "n/a n/a 0")
    # the legitimate knock, with our client, from 10.199.0.1
    if [ "$door" = fixed ]; then
      # shellcheck disable=SC2086
      ip netns exec "$NS_C" "${KNOCK[@]}" "$T4" $FIXED_PORTS
      tag=fixed
    else
      ip netns exec "$NS_C" env KNOCK_CONFIG="$wd/profiles.toml" "${KNOCK[@]}" "$T4"
      tag=rot
    fi
    legit=no
    for _ in $(seq 1 100); do grep -q "^$tag $C4 " "$wd/result" && { legit=yes; break; }; sleep 0.05; done
    hwm=$(proc_status_kb "$pid" VmHWM)
    daemon_stop
    spoofed=$(awk '$1 != "ready" && $2 ~ /^10\.12[89]\./' "$wd/result" | wc -l)
    sent=$(awk '/Successful packets:/ {print $3}' "$wd/tcpreplay.out")
    actual=$(awk '/^Rated:/ {for (i=1;i<=NF;i++) if ($i=="pps") printf "%d", $(i-1)}' "$wd/tcpreplay.out")
    drop_pct=$(awk -v p="$cap_p" -v d="$cap_d" 'BEGIN { if (p ~ /^[0-9]+$/ && p > 0) printf "%.2f", 100*d/p; else print "0.00" }')
    cpu_s=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.4f", (b-a)/1e9 }')
    us=$(awk -v a="$c0" -v b="$c1" -v n="${sent:-0}" 'BEGIN { if (n > 0) printf "%.4f", (b-a)/1e3/n; else print "n/a" }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$door" "$PACKETS" "$RATE" "${actual:-?}" \
      "${sent:-?}" "$cap_p" "$cap_d" "$drop_pct" "$legit" "$spoofed" "$cpu_s" "$us" "${hwm:-?}" >> "$FLOOD_TSV"
    log "  $door: drops $cap_d/$cap_p, legit knock $legit, spoofed opens $spoofed, CPU ${cpu_s} s (${us} µs per packet sent)"
  done
  column -t -s $'\t' "$FLOOD_TSV"
  "$PY" - "$FLOOD_TSV" <<'EOF_PY'
import csv, sys
rows = {r["door"]: r for r in csv.DictReader(open(sys.argv[1]), delimiter="\t")}
f, r = rows.get("fixed"), rows.get("rotating")
if f and r and f.get("us_per_sent") not in (None, "n/a") and r.get("us_per_sent") not in (None, "n/a"):
    ratio = float(r["us_per_sent"]) / float(f["us_per_sent"]) if float(f["us_per_sent"]) > 0 else float("nan")
    print("rotating flood: drops %s%% (fixed %s%%), legit knock %s, spoofed opens %s, CPU per packet %.2fx the fixed door's"
          % (r["drop_pct"], f["drop_pct"], r["legit"], r["spoofed_opens"], ratio))
print("raw results: " + sys.argv[1])
EOF_PY
fi

if [ "$ONLY" = all ] || [ "$ONLY" = latency ]; then
  wd=$WORK/latency; mkdir -p "$wd"; conf_for "$wd" fixed rotating1
  cat >> "$wd/profiles.toml" <<EOF_TOML

[hosts."fixed.bench"]
sequence = "${FIXED_PORTS// /,}"
family = "ipv4"
EOF_TOML
  mkdir -p "/etc/netns/$NS_C"
  HOSTS_BACKUP=""
  [ -f "/etc/netns/$NS_C/hosts" ] && HOSTS_BACKUP=$(cat "/etc/netns/$NS_C/hosts")
  printf '127.0.0.1 localhost\n%s fixed.bench\n' "$T4" > "/etc/netns/$NS_C/hosts"
  log "latency: one daemon with a fixed 4-port door and a rotating door (1 s steps); $RUNS runs each"
  daemon_start "$SERVER" "$wd"
  daemon_wait_ready "$wd" || die "daemon not ready"
  # The knocks as they arrive: the daemon's own share of the latency (last knock -> command).
  ip netns exec "$NS_S" tcpdump -i "$IF_S" -tt -nn -l -Q in 'tcp[tcpflags] & tcp-syn != 0 and src net 10.199.0.0/24' > "$wd/wire.txt" 2> /dev/null &
  WIRE_PID=$!
  CLEANUP_PIDS+=("$WIRE_PID")
  sleep 1
  LAT_TSV=$RESULTS_DIR/rotating-latency-$STAMP.tsv
  printf 'door\trun\tsrc\tlatency_ms\tfire_ns\n' > "$LAT_TSV"
  idx=0
  for ((r = -1; r <= RUNS; r++)); do # two warm-up runs (r = -1, 0)
    for door in rotating fixed; do
      src=10.199.0.$((100 + idx % 150)); idx=$((idx + 1))
      if [ "$door" = fixed ]; then host=fixed.bench; tag=fixed; else host=$T4; tag=rot; fi
      t0=$(ip netns exec "$NS_C" bash -c "ip route replace $T4/32 dev $IF_C src $src; t=\$EPOCHREALTIME; KNOCK_CONFIG=$wd/profiles.toml ${KNOCK[*]} $host; echo \${t/./}000")
      fire=-
      for _ in $(seq 1 200); do
        line=$(grep -m1 "^$tag $src " "$wd/result") && { fire=${line##* }; break; }
        sleep 0.01
      done
      if [ "$r" -ge 1 ]; then
        lat=$(awk -v a="$t0" -v b="$fire" 'BEGIN { if (b == "-") print "miss"; else printf "%.2f", (b - a) / 1e6 }')
        printf '%s\t%s\t%s\t%s\t%s\n' "$door" "$r" "$src" "$lat" "$fire" >> "$LAT_TSV"
      fi
      # the next rotating run must fall in a step of its own (1 s steps, each opens once)
      [ "$door" = fixed ] && sleep 1.05
    done
  done
  ip netns exec "$NS_C" ip route del "$T4/32" dev "$IF_C" 2>/dev/null || true
  sleep 0.5
  kill -INT "$WIRE_PID" 2>/dev/null || true
  if [ -n "$HOSTS_BACKUP" ]; then printf '%s\n' "$HOSTS_BACKUP" > "/etc/netns/$NS_C/hosts"; else rm -f "/etc/netns/$NS_C/hosts"; fi
  daemon_stop
  "$PY" - "$LAT_TSV" "$wd/wire.txt" <<'EOF_PY'
import csv, re, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
# the last knock (SYN) seen from each source before its command ran
syns = {}
for line in open(sys.argv[2]):
    m = re.match(r"^(\d+\.\d+) IP (\d+\.\d+\.\d+\.\d+)\.\d+ > ", line)
    if m:
        syns.setdefault(m.group(2), []).append(float(m.group(1)))
wire = {"fixed": [], "rotating": []}
for r in rows:
    if r["fire_ns"] == "-" or r["src"] not in syns:
        continue
    fire = int(r["fire_ns"]) / 1e9
    before = [t for t in syns[r["src"]] if t <= fire]
    if before:
        wire[r["door"]].append((fire - max(before)) * 1000)
med = {}
for door in ("fixed", "rotating"):
    vals = [r["latency_ms"] for r in rows if r["door"] == door]
    ok = sorted(float(v) for v in vals if v != "miss")
    if not ok:
        print("%s: no run opened" % door)
        continue
    p90 = ok[min(len(ok) - 1, int(round(0.9 * (len(ok) - 1))))]
    med[door] = statistics.median(ok)
    print("%-9s runs %d, missed %d, min %.2f, median %.2f, p90 %.2f, max %.2f ms" % (door, len(vals), len(vals) - len(ok), ok[0], med[door], p90, ok[-1]))
for door, vals in wire.items():
    if vals:
        vals.sort()
        print("%-9s last knock on the wire -> command: median %.2f ms, p90 %.2f ms (%d runs)"
              % (door, statistics.median(vals), vals[min(len(vals) - 1, int(round(0.9 * (len(vals) - 1))))], len(vals)))
if wire["fixed"] and wire["rotating"]:
    print("rotating daemon-side latency: median %.2f ms against %.2f ms (%+.2f ms)"
          % (statistics.median(wire["rotating"]), statistics.median(wire["fixed"]),
             statistics.median(wire["rotating"]) - statistics.median(wire["fixed"])))
if len(med) == 2:
    print("rotating latency: median %.2f ms against %.2f ms for the fixed door (%+.2f ms)" % (med["rotating"], med["fixed"], med["rotating"] - med["fixed"]))
print("(ms, from starting our knock client to the door command's own timestamp)")
print("raw results: " + sys.argv[1])
EOF_PY
fi
