#!/bin/sh
# console_run.sh -- running the runbook from the console (tests/lib/actions.sh
# fixture: real commands, a real .env, a fake service manager): x shows the
# command and asks before running it, the output pane streams it and the
# audit has its end; X is a dry run; a variable defined nowhere is asked for;
# escape sequences in the output never reach the terminal raw; Ctrl-C in the
# output pane cancels a running command and leaves the console running; a
# phase 5 step needs the item id typed; R rolls phase 5 back (the .env flags
# restored, phase_rolled_back recorded), and past the point of no return it
# says so and wants a second, typed confirmation.  F shows the flags (a
# change behind pgcutover's back flagged) and sets one; H runs the health
# checks against a real HTTP server on loopback and records them.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/actions.sh"
. "$top_srcdir/tests/e2e/console.inc"
command -v ps >/dev/null 2>&1 || skip_all "ps is not installed"

D=$E2E_DIR/act
act_fixture "$D" 60
CFG=$D/pgcutover.json
python3 "$top_srcdir/tests/lib/httpd-health.py" "$E2E_DIR/port" &
srv=$!
trap 'kill $srv 2>/dev/null; e2e_cleanup' EXIT
i=0
while [ ! -s "$E2E_DIR/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
BASE="http://127.0.0.1:$(cat "$E2E_DIR/port")"
jq --arg ok "$BASE/ok" --arg bad "$BASE/fail" \
	'.point_of_no_return = "5.1" | .health = [{"name": "app", "url": $ok}, {"name": "api", "url": $bad}]' \
	"$CFG" > "$CFG.tmp" && mv "$CFG.tmp" "$CFG"
end_status() { pgc log --json | jq -r "[.[] | select(.kind == \"command_end\" and .item == \"$1\")][-1].payload.status // \"none\""; }
find_item() { keys /; text "$1"; keys Enter; wait_screen "found in $2" 5; }

E2E_COLS=120 E2E_ROWS=36 console_start
wait_screen 'DRIVER' 20; ok $? "console opens"
keys 1
wait_screen 'Phase 1 · Preparation'

# x: shown, asked, run
find_item Greet '1\.1'
keys x
wait_screen 'pgcutover will run:' 5; ok $? "x shows what will run"
like "$(screen)" 'echo "hello from \$PGCUTOVER_ITEM"' "the exact command is shown"
wait_screen 'Run 1\.1\? type the item id or yes, then Enter' 5; ok $? "and asks for the item id or yes, then Enter"
is "$(end_status 1.1)" none "nothing ran before the answer"
text yes; keys Enter
wait_screen 'hello from 1\.1' 10; ok $? "output streams into the pane"
wait_screen '1\.1: ok, exit 0' 10; ok $? "the pane says how it ended"
is "$(end_status 1.1)" ok "log --json: command_end ok"
keys Escape
wait_screen_not 'Output: item' 5; ok $? "Esc closes the pane"
keys o
wait_screen 'hello from 1\.1' 5; ok $? "o reopens the last output"
keys Escape

# n: declined
find_item 'Fail with seven' '1\.2'
keys x
wait_screen 'Run 1\.2\?' 5
text n; keys Enter
wait_screen '1\.2 not run' 5; ok $? "n: not run"
is "$(end_status 1.2)" none "declined: no command events"
keys Escape

# X: dry run
find_item 'Switch to the new database' '5\.1'
keys X
wait_screen 'dry run, nothing is changed' 5; ok $? "X: a dry run"
like "$(screen)" 'USE_NEW_DB' "the dry run shows the flag it would change"
keys Escape
grep -q '^export USE_NEW_DB=false' "$D/.env"; ok $? "dry run: .env unchanged"

# a variable nobody defined is asked for
keys 1
find_item 'Needs a variable' '1\.7'
keys x
wait_screen 'RELEASE_TAG_NOT_SET, defined nowhere' 5; ok $? "a variable defined nowhere is asked for"
text "v1.2.3"
keys Enter
wait_screen 'Run 1\.7\?' 5
text yes; keys Enter
wait_screen 'deploying v1\.2\.3' 10; ok $? "the answer is used for the run"
keys Escape

# escape sequences in the output
find_item Escapes '1\.4'
keys x
wait_screen 'Run 1\.4\?' 5
text yes; keys Enter
wait_screen '1\.4: ok' 10; ok $? "the escapes command ran"
like "$(screen)" '\?\[31mRED\?\[0m' "the escape sequences are shown replaced, not interpreted"
ESC=$(printf '\033')
unlike "$(tm capture-pane -p -e -t e2e)" "$ESC\\[31mRED" "no red from the command's output on the terminal"
isnt "$(tm display-message -p -t e2e '#{pane_title}')" "pwned" "the pane title was not set by the command"
keys Escape

# 10 MB of output: the pane keeps the end, the console keeps up
find_item 'Big output' '1\.3'
keys x
wait_screen 'Run 1\.3\?' 5
text yes; keys Enter
wait_screen '── 1\.3: ok, exit 0' 30; ok $? "10 MB of output: the run ends and says so"
is "$(pgc log --json | jq -r '[.[] | select(.kind == "command_end" and .item == "1.3")][-1].payload | "\(.output_bytes) \(.truncated)"')" \
	"10000000 true" "log --json: all 10 MB counted, head and tail kept"
keys Escape

# Ctrl-C in the output pane cancels
find_item 'Sleep a long time' '1\.5'
keys x
wait_screen 'Run 1\.5\?' 5
text yes; keys Enter
wait_screen 'running for' 10; ok $? "the long command runs"
end=$(( $(date +%s) + 10 )); while [ ! -s "$D/sleeper.pid" ] && [ "$(date +%s)" -lt "$end" ]; do sleep 0.1; done
sleeper=$(cat "$D/sleeper.pid" 2>/dev/null)
keys C-c
wait_screen '1\.5: cancelled' 15; ok $? "Ctrl-C cancels it"
is "$(end_status 1.5)" cancelled "log --json: command_end cancelled"
act_alive "$sleeper"; isnt "$?" 0 "the command's process group is gone"
like "$(screen)" 'DRIVER' "the console is still running"
keys Escape

# phase 5 needs the id typed
keys 5
find_item 'Switch to the new database' '5\.1'
keys x
wait_screen 'Cutover step 5\.1: type the item id or yes' 5; ok $? "phase 5: typed confirmation asked"
text "y"
keys Enter
wait_screen 'not run: the answer was neither 5\.1 nor yes' 5; ok $? "y alone is not enough"
is "$(end_status 5.1)" none "nothing ran"
keys Escape x
wait_screen 'type the item id or yes' 5
text "5.1"
keys Enter
wait_screen '5\.1: ok, exit 0' 15; ok $? "typed id: the step runs"
grep -q '^export USE_NEW_DB=true' "$D/.env"; ok $? ".env: USE_NEW_DB flipped to true in place"
grep -q '^USE_LEGACY_SUPABASE=false' "$D/.env"; ok $? ".env: USE_LEGACY_SUPABASE flipped to false"
keys Escape Space
wait_screen 'completes phase 5, but phase 1 is open' 5
text "phase 1 leftovers are cosmetic"
keys Enter
wait_screen 'ticked 5\.1' 5; ok $? "5.1 ticked: the point of no return is passed"

# R: rollback of phase 5, past the point of no return (5.1 is ticked)
like "$(screen)" '[0-9]+/[0-9]+ R (not started|in progress|done|rolled back|down)' "the rail marks the phase that has a rollback step with R"
keys Tab Tab
keys R
wait_screen 'pgcutover will roll back:' 5; ok $? "R shows the rollback"
like "$(screen)" 'USE_NEW_DB' "the flags to restore are listed"
like "$(screen)" 'PAST THE POINT OF NO RETURN' "past the point of no return: said loudly"
wait_screen 'type rollback to roll back anyway' 5; ok $? "and a typed 'rollback' is wanted first"
text "yes"
keys Enter
wait_screen 'not rolled back' 5; ok $? "yes is not enough past the point of no return"
is "$(pgc log --json | jq '[.[] | select(.kind == "phase_rolled_back")] | length')" 0 "nothing rolled back"
keys Escape R
wait_screen 'type rollback' 5
text "rollback"
keys Enter
wait_screen 'Roll back phase 5: type the phase id or yes' 5; ok $? "then the phase id"
text "5"
keys Enter
wait_screen 'phase 5 rolled back' 20; ok $? "rolled back"
grep -q '^export USE_NEW_DB=false' "$D/.env"; ok $? ".env: USE_NEW_DB restored"
grep -q '^USE_LEGACY_SUPABASE=true' "$D/.env"; ok $? ".env: USE_LEGACY_SUPABASE restored"
is "$(pgc log --json | jq -r '[.[] | select(.kind == "phase_rolled_back")][-1] | "\(.phase) \(.payload.past_point_of_no_return)"')" "5 true" \
	"log --json: phase_rolled_back for phase 5, past the point of no return"
is "$(pgc status --json | jq -r '.phases[] | select(.id == "5") | "\(.status) \(.done)"')" "rolled_back 0" \
	"phase 5 reopened: marked rolled back, its tick taken back (kept in the log)"
keys Escape

# F: the flags panel
keys F
wait_screen '\.env flags' 5; ok $? "F opens the flags panel"
wait_screen 'USE_NEW_DB +false +false by alice at [0-9]{2}:[0-9]{2}' 5; ok $? "a flag: the file's value and the last value pgcutover set, by whom, when"
sed -i 's/^USE_LEGACY_SUPABASE=true/USE_LEGACY_SUPABASE=maybe/' "$D/.env"
wait_screen 'USE_LEGACY_SUPABASE +maybe .*CHANGED BEHIND BACK' 5; ok $? "a change behind pgcutover's back is flagged"
keys g Enter
wait_screen 'New value of USE_NEW_DB' 5; ok $? "Enter asks for a value"
text "true"
keys Enter
wait_screen "Set USE_NEW_DB to true\? type the flag's name or yes, then Enter" 5; ok $? "then the one confirmation"
grep -q '^export USE_NEW_DB=false' "$D/.env"; ok $? ".env: not written before it"
text yes; keys Enter
wait_screen 'USE_NEW_DB: false -> true' 5; ok $? "set, old and new value in the status line"
grep -q '^export USE_NEW_DB=true' "$D/.env"; ok $? ".env: written in place"
is "$(pgc log --json | jq -r '[.[] | select(.kind == "flag_set")][-1].payload | "\(.name) \(.manual)"')" "USE_NEW_DB true" \
	"log --json: a manual flag_set"
keys Escape

# H: the health panel
keys H
wait_screen 'Health checks' 5; ok $? "H opens the health panel"
wait_screen 'PASS +app' 10; ok $? "a passing check"
wait_screen 'FAIL +api' 10; ok $? "a failing check"
like "$(screen)" 'HTTP 500' "with its status"
is "$(pgc log --json | jq -r '[.[] | select(.kind == "health")][-1].payload.all_ok')" false "log --json: the run is recorded"
keys H
wait_screen 'history \+\+' 10; ok $? "H again: a second run in the history"
keys Escape q
is "$(wait_exit 15)" 0 "quit"

done_testing
