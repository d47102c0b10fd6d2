#!/bin/sh
# bench/kill.sh -- issue 19's kill bench: hundreds of kill -9s of every
# writer at random moments (the checks of tests/lib/kill.sh after each:
# acknowledged events present, chain intact, integrity_check ok, .env old or
# new byte for byte, no stray files, command starts closed, the next command
# works), then prints the counts.  tests/integration/kill_writers.sh is the
# same with a few dozen kills.
#   usage: bench/kill.sh [BUILD_DIR]       (default: current directory)
#   env:   ROUNDS=60 (per headless writer)  CONSOLE_ROUNDS=15 (per console kind)
#          KILL_SEED (default: the time; printed, to replay a run)
#          WRITERS="note tick flag downtime run console_tick console_run"
# Exit status: 0 when every check held (a next command that needed
# --take-over is counted, not failed: that is lease item 5).
B=$(cd "${1:-${top_builddir:-.}}" && pwd)
PGCUTOVER=${PGCUTOVER:-$B/pgcutover}
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
export PGCUTOVER top_srcdir
ROUNDS=${ROUNDS:-60}
CONSOLE_ROUNDS=${CONSOLE_ROUNDS:-15}
[ -x "$PGCUTOVER" ] || { echo "bench/kill.sh: $PGCUTOVER not built" >&2; exit 1; }
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/e2e/console.inc"
. "$top_srcdir/tests/lib/kill.sh"

t0=$(date +%s)
kill_setup "$E2E_DIR/k" $((CONSOLE_ROUNDS * 2 + 2)) || { echo "bench/kill.sh: fixture failed" >&2; exit 1; }
echo "kill bench: seed $KILL_SEED, $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg), one-shot command ~$((KILL_MS / 2)) ms"
printf '%-14s %6s %6s %6s %6s\n' writer kills acked fails take-over
for w in ${WRITERS:-note tick flag downtime run console_tick console_run}; do
	n0=$KILL_N a0=$KILL_ACKED l0=$KILL_LEASE
	i=0
	case $w in
	console_*) n=$CONSOLE_ROUNDS ;;
	*) n=$ROUNDS ;;
	esac
	while [ "$i" -lt "$n" ]; do
		case $w in
		console_*) "kill_$w" "$i" ;;
		*) kill_round "$w" "$i" ;;
		esac
		i=$((i + 1))
	done
	tag=$(echo "$w" | tr _ -)
	printf '%-14s %6d %6d %6d %6d\n' "$w" $((KILL_N - n0)) $((KILL_ACKED - a0)) \
		"$(grep -c "^$tag:" "$KILL_ERRS")" $((KILL_LEASE - l0))
done
kill_final
echo "kills: $KILL_N"
echo "acknowledged events checked: $KILL_ACKED"
echo "failures: $KILL_FAILS"
echo "next command needed --take-over: $KILL_LEASE (lease item 5)"
echo "seconds: $(( $(date +%s) - t0 ))"
[ "$KILL_FAILS" -eq 0 ] || { echo "failures:"; head -40 "$KILL_ERRS"; exit 1; }
