#!/usr/bin/env bash
# scripts/bench-million.sh: 1,000,000 sources mid-sequence (issue 4, "Performance").
#
# The shared harness (../shared/bench) cannot build this case: its spoofed range
# (10.128.0.0/15) holds 131,072 sources, its noise sends ports that start no door, and
# 1,000,000 packets at 50,000/s outlast its 15 s Seq_Timeout. So this script writes
# its own pcap: one SYN from each of N distinct sources (10.128.0.1 + i), each the
# first knock of a multi-port door of the harness config (1228, 1220, 1226, 2001 in
# turn), then the legitimate opencloseSSH knock (1228, 1227) from 10.199.0.1. The
# harness config is used with Seq_Timeout raised to --timeout (default 30 s), so
# every attempt is still in progress when the replay ends.
#
# For each daemon (same --daemon NAME=TEMPLATE convention as the harness):
#   idle_kB     VmRSS once ready (after --settle s)
#   peak_kB     VmHWM at the end of the run (peak RSS)
#   grown_kB    VmRSS right after the replay (every attempt in the table)
#   after_kB    VmRSS once every attempt has expired (--timeout + --settle s after
#               the replay), and after/idle as a ratio (goal: within 1.2)
#   drops       PACKET_STATISTICS of the daemon's packet socket while the table grew
#   fired       the legitimate knock's command ran; noise_fires: commands for
#               spoofed sources (none can happen: no source completes a door)
#   timeouts    'sequence timeout' lines in the daemon's log (attempts expired
#               by a timer; knockd only notices a timeout at a later packet)
#   tree_idle_kB, tree_grown_kB  the same VmRSS summed over the daemon's whole process
#               tree (knock-server: the daemon, its command runner and ready shells);
#               each process is listed after the table (lib/proc-tree.py)
#
#   bash scripts/bench-million.sh [--sources 1000000] [--rate 50000] [--timeout 30]
#        [--settle 10] [--daemon NAME=TEMPLATE]...     (default: knockd and knock-server)
# Needs root. Raw TSV in $RESULTS_DIR (default bench-results/ in the project).
set -uo pipefail
. "$(dirname "$0")/lib/bench-harness.sh" bench-million

SOURCES=1000000
RATE=50000
TIMEOUT=30
SETTLE=10
while [ $# -gt 0 ]; do
  case "$1" in
    --sources) SOURCES=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --timeout) TIMEOUT=$2; shift 2 ;;
    --settle) SETTLE=$2; shift 2 ;;
    --quick) SOURCES=100000; SETTLE=5; shift ;;
    --daemon) add_daemon "$2"; shift 2 ;;
    -h | --help) sed -n '2,30p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
default_daemons
[ "$SOURCES" -ge 1 ] && [ "$SOURCES" -le 1048000 ] || die "--sources must be 1 to 1048000 (10.128.0.1 + i stays inside 10.128.0.0/12)"
require_root
need ip nc tcpreplay timeout "$PY"
netns_up

bench_dirs million
OUT_TSV=$RESULTS_DIR/million-$(date +%Y%m%d-%H%M%S)-$$.tsv

PCAP=$WORK/million.pcap
log "generating $PCAP ($SOURCES sources)"
"$PY" - "$PCAP" "$SOURCES" <<'EOF_PY' || die "pcap generation failed"
import struct, sys
out, n = sys.argv[1], int(sys.argv[2])
SRC_MAC, DST_MAC = bytes.fromhex("029900000001"), bytes.fromhex("029900000002")
DST = bytes([10, 199, 0, 2])
FIRST = (1228, 1220, 1226, 2001)   # first steps of opencloseSSH, banned1, repeat, tcp3

def csum(data):
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF

def frame(src, sport, dport, seq, ipid):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x02, 64240, 0, 0)
    tcp = tcp[:16] + struct.pack("!H", csum(src + DST + b"\0\x06\0\x14" + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, ipid, 0x4000, 64, 6, 0, src, DST)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return DST_MAC + SRC_MAC + b"\x08\x00" + ip + tcp

with open(out, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    base = (10 << 24) | (128 << 16) | 1
    for i in range(n + 2):
        if i < n:
            fr = frame(struct.pack("!I", base + i), 1024 + i % 64000, FIRST[i % 4],
                       (i * 2654435761) & 0xFFFFFFFF, i & 0xFFFF)
        else:   # the legitimate knock, last
            fr = frame(bytes([10, 199, 0, 1]), 40000 + i - n, (1228, 1227)[i - n], 7 + i, i & 0xFFFF)
        t = (i + 1) * 10
        f.write(struct.pack("<IIII", t // 1000000, t % 1000000, len(fr), len(fr)))
        f.write(fr)
EOF_PY

COLS="daemon sources rate actual_pps sent cap_pkts cap_drops drop_pct fired noise_fires idle_kB grown_kB peak_kB after_kB after_idle timeouts cpu_s us_pkt tree_idle_kB tree_grown_kB"
echo "$COLS" | tr ' ' '\t' > "$OUT_TSV"

run_one() { # name template
  local dn=$1 dt=$2 wd pid idle grown after hwm cap_p cap_d sent actual c0 c1 tree_idle tree_grown
  wd=$WORK/run-$dn; mkdir -p "$wd"; render_conf "$wd"
  sed -i -E "s/^([[:space:]]*seq_timeout[[:space:]]*=[[:space:]]*)15\$/\1$TIMEOUT/" "$wd/knockd.conf"
  daemon_start "$dt" "$wd"
  if ! daemon_wait_ready "$wd"; then
    daemon_stop
    printf '%s\t%s\t%s\tERROR\n' "$dn" "$SOURCES" "$RATE" >> "$OUT_TSV"
    return
  fi
  pid=$DAEMON_PID
  sleep "$SETTLE"
  idle=$(proc_status_kb "$pid" VmRSS)
  "$PY" "$ROOT/scripts/lib/proc-tree.py" "$pid" --label "$dn" | sed 's/^/idle\t/' > "$WORK/tree-idle-$dn.tsv"
  tree_idle=$(awk -F'\t' '$3 == "total" {print $6}' "$WORK/tree-idle-$dn.tsv")
  "$PY" "$BENCH/lib/pktstats.py" "$pid" > /dev/null 2>&1 # zero the counters
  c0=$(proc_cpu_ticks "$pid")
  log "  $dn: idle RSS ${idle} kB; replaying $SOURCES first knocks at $RATE/s"
  ip netns exec "$NS_C" timeout 600 tcpreplay -i "$IF_C" -K --pps="$RATE" "$PCAP" > "$wd/tcpreplay.out" 2>&1
  local t_end=$SECONDS i
  # let the daemon work through its backlog (CPU flat for 1 s, at most 60 s)
  local last idle_since=$SECONDS cur
  last=$(proc_cpu_ticks "$pid")
  for i in $(seq 1 600); do
    sleep 0.1
    cur=$(proc_cpu_ticks "$pid")
    if [ "$cur" -gt $((last + 1)) ]; then last=$cur; idle_since=$SECONDS
    elif [ $((SECONDS - idle_since)) -ge 1 ]; then break; fi
  done
  c1=$(proc_cpu_ticks "$pid")
  grown=$(proc_status_kb "$pid" VmRSS)
  "$PY" "$ROOT/scripts/lib/proc-tree.py" "$pid" --label "$dn" | sed 's/^/1M\t/' > "$WORK/tree-grown-$dn.tsv"
  tree_grown=$(awk -F'\t' '$3 == "total" {print $6}' "$WORK/tree-grown-$dn.tsv")
  read -r cap_p cap_d _ < <("$PY" "$BENCH/lib/pktstats.py" "$pid" 2>/dev/null || echo "n/a n/a 0")
  log "  $dn: after the replay RSS ${grown} kB, peak $(proc_status_kb "$pid" VmHWM) kB; waiting for the attempts to expire"
  # every attempt expires at most TIMEOUT s after the replay ended; then settle
  while [ $((SECONDS - t_end)) -lt $((TIMEOUT + SETTLE)) ]; do sleep 1; done
  after=$(proc_status_kb "$pid" VmRSS)
  hwm=$(proc_status_kb "$pid" VmHWM)
  daemon_stop
  sent=$(awk '/Successful packets:/ {print $3}' "$wd/tcpreplay.out")
  actual=$(awk '/^Rated:/ {for (i=1;i<=NF;i++) if ($i=="pps") printf "%d", $(i-1)}' "$wd/tcpreplay.out")
  local fired=no noise drop_pct ratio timeouts cpu_s us_pkt
  grep -q '^open 10\.199\.0\.1 ' "$wd/result" && fired=yes
  noise=$(awk '$2 != "10.199.0.1"' "$wd/result" | wc -l)
  drop_pct=$(awk -v p="$cap_p" -v d="$cap_d" 'BEGIN { if (p ~ /^[0-9]+$/ && p > 0) printf "%.1f", 100*d/p; else print "n/a" }')
  ratio=$(awk -v a="$after" -v i="$idle" 'BEGIN { if (i > 0) printf "%.2f", a/i; else print "n/a" }')
  timeouts=$(grep -c 'sequence timeout' "$wd/daemon.log" 2>/dev/null || true)
  cpu_s=$(awk -v a="$c0" -v b="$c1" -v h="$CLK_TCK" 'BEGIN { printf "%.2f", (b-a)/h }')
  us_pkt=$(awk -v c="$cpu_s" -v n="${sent:-0}" -v p="$cap_p" -v d="$cap_d" 'BEGIN {
      if (p ~ /^[0-9]+$/ && p - d > 0) n = p - d
      if (n > 0) printf "%.2f", c*1e6/n; else print "n/a" }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
    "$dn" "$SOURCES" "$RATE" "${actual:-?}" "${sent:-?}" "$cap_p" "$cap_d" "$drop_pct" "$fired" "$noise" \
    "$idle" "$grown" "$hwm" "$after" "$ratio" "${timeouts:-0}" "$cpu_s" "$us_pkt" "${tree_idle:-?}" "${tree_grown:-?}" >> "$OUT_TSV"
  log "  $dn: drops $cap_d/$cap_p, fired=$fired, peak ${hwm} kB, after expiry ${after} kB (${ratio}x idle)"
}

for di in "${!DAEMON_NAMES[@]}"; do
  log "daemon ${DAEMON_NAMES[$di]}: ${DAEMON_TMPLS[$di]}"
  run_one "${DAEMON_NAMES[$di]}" "${DAEMON_TMPLS[$di]}"
done

echo "N=$SOURCES sources, one first knock each at $RATE/s, Seq_Timeout $TIMEOUT s, then opencloseSSH from 10.199.0.1"
column -t -s $'\t' "$OUT_TSV"
echo "every process of each tree, idle and with every source mid-sequence (pid, ppid, command, RSS kB, PSS kB):"
cat "$WORK"/tree-*.tsv 2>/dev/null | column -t -s $'\t'
echo "raw results: $OUT_TSV"
"$PY" - "$OUT_TSV" <<'EOF_PY'
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1]), delimiter="\t") if r.get("actual_pps") != "ERROR"]
print("million: " + " | ".join(
    "%s: %s%% dropped while the table grew, legit knock %s, peak RSS %.1f MB, after expiry %.1f MB (%sx idle %.1f MB), whole tree %s MB idle, %s MB mid-sequence"
    % (r["daemon"], r["drop_pct"], "caught" if r["fired"] == "yes" else "MISSED",
       int(r["peak_kB"]) / 1024, int(r["after_kB"]) / 1024, r["after_idle"], int(r["idle_kB"]) / 1024,
       "%.1f" % (int(r["tree_idle_kB"]) / 1024) if r.get("tree_idle_kB", "?").isdigit() else "?",
       "%.1f" % (int(r["tree_grown_kB"]) / 1024) if r.get("tree_grown_kB", "?").isdigit() else "?")
    for r in rows))
EOF_PY
