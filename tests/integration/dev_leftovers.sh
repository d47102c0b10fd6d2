#!/bin/sh
# dev_leftovers.sh -- the last check of `dev.sh test`: a process the suite
# started that still runs and a file left in the run's directory are each
# named on a "FAIL: leftover:" line, counted, and removed; a process that
# does not carry the run's marker (someone else's test on the same machine)
# and the run's initdb template are left alone.  Uses dev.sh's own functions
# (everything above its command dispatch), in a directory of this test's.
. "$top_srcdir/tests/lib/tap.sh"
T=$(mktemp -d)
other=""
trap '[ -n "$other" ] && kill "$other" 2>/dev/null; rm -rf "$T"' EXIT
sed '/^cmd=\${1:-build}/,$d' "$top_srcdir/dev.sh" >"$T/devfuncs.sh"
grep -q '^suite_check_leftovers()' "$T/devfuncs.sh"; ok $? "dev.sh defines suite_check_leftovers before its dispatch"

# alive: running, and not a zombie its new parent has yet to reap
alive() { [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null; }
sleep 300 &
other=$!
out=$(cd "$T" && PGC_SUITE_ROOT=$T sh -c '
	. ./devfuncs.sh
	set +e
	suite_begin
	suite_run sh -c "sleep 301 >/dev/null 2>&1 & echo \$! >\"\$TMPDIR/../leftover.pid\"
		touch \"\$TMPDIR/stray file\"; mkdir \"\$PGC_TMPROOT/pgc-initdb-0-1\""
	suite_check_leftovers
	echo "count=$SUITE_LEFTOVERS"
	echo "dir=$SUITE_TMP"
' 2>&1)
left=$(cat "$T/leftover.pid" 2>/dev/null)
like "$out" "FAIL: leftover: process $left \([a-z0-9_-]+\) still running: sleep 301" \
	"a process of the run still running is named, with its command line"
like "$out" "FAIL: leftover: $T/pgc-suite\.[A-Za-z0-9]+/stray file \(a test did not remove it\)" \
	"a file left in the run's directory is named"
is "$(printf '%s\n' "$out" | sed -n 's/^count=//p')" 2 "each counts as one failure"
unlike "$out" "pgc-initdb" "the run's initdb template is not a leftover"
unlike "$out" "process $other " "a process without the run's marker is not named"
alive "$other"; ok $? "and is not stopped"
end=$(( $(date +%s) + 5 ))
while alive "$left" && [ "$(date +%s)" -lt "$end" ]; do sleep 0.1; done
! alive "$left"; ok $? "the leftover process is stopped"
dir=$(printf '%s\n' "$out" | sed -n 's/^dir=//p')
[ -n "$dir" ] && [ ! -e "$dir" ]; ok $? "the run's directory is removed at exit"
done_testing
