// The command runner's supervisor: a POSIX shell script, written to a private directory
// and run with /bin/sh by command-runner.ts. Its line protocol is described there.

/**
 * The supervisor, run as `/bin/sh DIR/knock-runner.sh DIR`. It ignores the
 * signals meant for the daemon (a trap, so the shells it starts get the default
 * actions back), ends when the daemon says `quit` or is gone, and then ends the ready
 * shells nobody took.
 *
 * Pids are reused (pid_max is often 32768: a busy machine wraps in minutes), so a pid
 * remembered here is signalled only while it is still the same process: its start
 * time (field 22 of /proc/PID/stat, in clock ticks since boot; a reused pid has a later
 * one) is read by the watcher while the shell is its unwaited child, so surely the
 * shell, and compared again before a kill (its 10 ms resolution is enough: a pid comes
 * back only after a wrap, tens of thousands of forks later). Where /proc is missing it is
 * `-` and a live pid is trusted, as before. The watcher itself holds the pid safely
 * until its `wait` returns (a zombie keeps its pid); the daemon side is in
 * command-runner.ts.
 */
export const SUPERVISOR = `dir=$1
n=0
fails=0
trap : INT TERM HUP QUIT
starttime() {
  st=
  IFS= read -r st 2>/dev/null </proc/$1/stat || return 1
  st=\${st##*) }
  set -- $st
  st=\${20}
}
ours() {
  if [ "$2" = - ]; then kill -0 "$1" 2>/dev/null
  else starttime "$1" && [ "$st" = "$2" ]; fi
}
slot() {
  n=$((n + 1))
  if ! mkfifo -m 600 "$dir/$n.in" "$dir/$n.err"; then echo "nofifo $n"; return; fi
  (
    trap : INT TERM HUP QUIT
    setsid /bin/sh -s 2>"$dir/$n.err" <"$dir/$n.in" >/dev/null &
    r=$!
    starttime "$r" || st=-
    t=$st
    echo "$r $t" >"$dir/$n.pid"
    echo "shell $n $r $t"
    while :; do
      wait "$r"
      s=$?
      ours "$r" "$t" || break
    done
    rm -f "$dir/$n.pid"
    echo "exit $n $r $s"
  ) &
}
cleanup() {
  for p in "$dir"/*.pid; do
    [ -e "$p" ] || continue
    [ -p "\${p%.pid}.in" ] && read -r r t <"$p" && ours "$r" "$t" && kill -KILL "$r" 2>/dev/null
  done
  rm -rf "$dir"
  exit 0
}
echo "ready $$"
while :; do
  if IFS= read -r line; then
    fails=0
    case $line in
      spawn) slot ;;
      quit) cleanup ;;
    esac
  else
    kill -0 "$PPID" 2>/dev/null || cleanup
    fails=$((fails + 1))
    [ "$fails" -lt 5 ] || cleanup
  fi
done
`;
