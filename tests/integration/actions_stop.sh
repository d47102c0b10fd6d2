# actions_stop.sh -- commands that do not end by themselves: a timeout
# (SIGTERM then SIGKILL to the process group, exit 124), a cancel with
# Ctrl-C (SIGINT to pgcutover, exit 130), and a crash of pgcutover while a
# command runs (kill -9): the next start (taking over the dead driver's
# lease) records command_unknown and says so, once.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/actions.sh"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"
T=$(mktemp -d)
cleanup() {
	for f in "$T"/*/sleeper.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT

# Waits up to ~20 s for a file to appear.
wait_for() {
	i=0
	while [ ! -s "$1" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
	[ -s "$1" ]
}
# Waits up to ~20 s for a process to go away.
wait_gone() {
	i=0
	while act_alive "$1" && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
	! act_alive "$1"
}

# --- timeout ----------------------------------------------------------------------------
act_fixture "$T/to" 1
cd "$T/to" || exit 1
"$PGCUTOVER" -c "$T/to/pgcutover.json" run 1.5 --yes >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 124 "timed-out command: exit 124"
like "$(cat "$T/err")" "timed_out" "says it timed out"
end=$(act_events "$T/to" command_end | tail -1)
is "$(printf '%s' "$end" | jq -r .payload.status)" timed_out "command_end status timed_out"
like "$(printf '%s' "$end" | jq -r .payload.error)" "timed out after 1s" "command_end says after how long"
[ -s sleeper.pid ]; ok $? "the command's child wrote its pid"
wait_gone "$(cat sleeper.pid)"; ok $? "the whole process group was stopped (child gone)"

# --- cancel with Ctrl-C ----------------------------------------------------------------------
act_fixture "$T/cx" 300
cd "$T/cx" || exit 1
"$PGCUTOVER" -c "$T/cx/pgcutover.json" run 1.5 --yes >"$T/out" 2>"$T/err" &
pg=$!
wait_for sleeper.pid; ok $? "command started"
kill -INT $pg
wait $pg; rc=$?
is "$rc" 130 "cancelled command: exit 130"
end=$(act_events "$T/cx" command_end | tail -1)
is "$(printf '%s' "$end" | jq -r .payload.status)" cancelled "command_end status cancelled"
wait_gone "$(cat sleeper.pid)"; ok $? "cancel stopped the command's children"

# --- pgcutover killed while its command runs ------------------------------------------------
act_fixture "$T/kx" 300
cd "$T/kx" || exit 1
"$PGCUTOVER" -c "$T/kx/pgcutover.json" run 1.5 --yes >"$T/out" 2>"$T/err" &
pg=$!
wait_for sleeper.pid; ok $? "command started"
kill -KILL $pg
wait $pg 2>/dev/null
kill "$(cat sleeper.pid)" 2>/dev/null
start=$(act_events "$T/kx" command_start | tail -1)
is "$(act_events "$T/kx" command_end | wc -l | tr -d ' ')" 0 "no command_end after the crash"
# The state's driver lease of the killed process is taken over explicitly.
"$PGCUTOVER" -c "$T/kx/pgcutover.json" --take-over run 1.1 --yes >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 0 "next run works"
like "$(cat "$T/err")" "end unknown: pgcutover exited while it ran" "next start says the command's end is unknown"
like "$(cat "$T/err")" "item 1\.5" "and names the item"
unk=$(act_events "$T/kx" command_unknown)
is "$(printf '%s\n' "$unk" | grep -c .)" 1 "one command_unknown event"
is "$(printf '%s' "$unk" | jq -r .payload.start_id)" "$(printf '%s' "$start" | jq -r .id)" "command_unknown points at the start"
is "$(printf '%s' "$unk" | jq -r .item)" 1.5 "command_unknown names the item"
"$PGCUTOVER" -c "$T/kx/pgcutover.json" run 1.1 --yes >"$T/out" 2>"$T/err"
is "$(act_events "$T/kx" command_unknown | grep -c .)" 1 "recorded once, not on every start"

done_testing
