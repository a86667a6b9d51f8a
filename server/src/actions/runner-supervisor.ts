// The command runner's supervisor: a POSIX shell script, written to a private directory
// and run with /bin/sh by command-runner.ts. Its line protocol is described there.

/**
 * The supervisor, run as `/bin/sh DIR/knock-runner.sh DIR`. It ignores the
 * signals meant for the daemon (a trap, so the shells it starts get the default
 * actions back), ends when the daemon says `quit` or is gone, and then ends the ready
 * shells nobody took.
 */
export const SUPERVISOR = `dir=$1
n=0
fails=0
trap : INT TERM HUP QUIT
slot() {
  n=$((n + 1))
  if ! mkfifo -m 600 "$dir/$n.in" "$dir/$n.err"; then echo "nofifo $n"; return; fi
  (
    trap : INT TERM HUP QUIT
    setsid /bin/sh -s 2>"$dir/$n.err" <"$dir/$n.in" >/dev/null &
    r=$!
    echo "$r" >"$dir/$n.pid"
    echo "shell $n $r"
    while :; do
      wait "$r"
      s=$?
      kill -0 "$r" 2>/dev/null || break
    done
    rm -f "$dir/$n.pid"
    echo "exit $n $r $s"
  ) &
}
cleanup() {
  for p in "$dir"/*.pid; do
    [ -e "$p" ] || continue
    [ -p "\${p%.pid}.in" ] && kill -KILL "$(cat "$p")" 2>/dev/null
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
