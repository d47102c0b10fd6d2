#!/bin/sh
# console_checklist.sh -- the operator's basic round trip through the real
# console in tmux: open, jump to phase 3, tick an item, add a note, untick
# with a reason (a reason is required), resize below 80x24 and back, help
# and the searchable log, a headless tick refused while the console drives,
# quit; then the audit log (log --json) holds every change with the operator.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/e2e/console.inc"

e2e_fixture
console_start
wait_screen 'DRIVER'; ok $? "console opens in DRIVER mode"
like "$(screen)" 'Shop DB: Heroku Postgres → self-hosted PostgreSQL 16' "header shows the runbook title"
like "$(screen)" 'alice@' "header shows operator@host"
like "$(screen)" 'shop@/nonexistent → shop_new@/nonexistent' "header shows source → target"
like "$(screen)" 'not configured|no counts recorded yet|/nonexistent' "side pane says there are no counts (or why not)"
like "$(screen)" 'Help' "key bar lists keys"

keys 3
wait_screen 'Phase 3 · Data Migration'; ok $? "3 jumps to phase 3"
like "$(screen)" 'Checkpoint: counts match on every table' "checkpoint shown"
like "$(screen)" 'HIGH' "risk shown in the rail"

keys j Space
# 3.1's sub-items are open: the console names them and asks (console_subitems.sh)
wait_screen 'open sub-items: 3\.2, 3\.3\. Tick anyway'; ok $? "Space on a parent with open sub-items asks first"
text "copied by the script"
keys Enter
wait_screen '\[x\] Copy in dependency order'; ok $? "Space ticks the item under the cursor"
like "$(screen)" '✔ alice [0-9]{2}:[0-9]{2}' "who ticked it and when"
like "$(screen)" 'Copy data \(Day 1\).*elapsed [0-9]+m[0-9]{2}s' "its step shows its time since its first tick"
# the strip may be drawn a frame after the row (slow under valgrind)
wait_screen 'tick +3\.1'; ok $? "event strip shows the tick"
like "$(screen)" '1/4 in progress' "rail shows progress in words"

keys n
wait_screen 'Note on item 3\.1'; ok $? "n asks for a note on the item"
text "checked by Zoë"
keys Enter
wait_screen 'text: checked by Zoë'; ok $? "the note is recorded and shown in the events"

keys Space
wait_screen 'Untick 3\.1: reason'; ok $? "untick asks for a reason"
keys Enter
wait_screen 'a reason is required'; ok $? "an empty reason is refused"
text "wrong item"
keys Enter
wait_screen '\[ \] Copy in dependency order'; ok $? "untick with a reason clears the mark"
wait_screen 'reason: wrong item'; ok $? "event strip shows the reason"

keys n
wait_screen 'Note on item 3\.1' && text "never mind" && keys Escape
wait_screen 'cancelled; nothing recorded'; ok $? "Esc cancels a prompt"

tm resize-window -t e2e -x 60 -y 20
wait_screen 'enlarge to 80×24'; ok $? "below 80x24 a notice asks to enlarge"
tm resize-window -t e2e -x 100 -y 30
wait_screen 'Phase 3 · Data Migration'; ok $? "back to full screen after resizing"

keys '?'
wait_screen 'Space +tick/untick the item'; ok $? "? shows help from the key table"
keys G
wait_screen 'q +quit the console'; ok $? "help lists q (at its end)"
keys Escape
wait_screen_not 'tick/untick the item'; ok $? "Esc closes the help"

out=$(pgc --operator bob tick 3.4 2>&1)
is "$?" 75 "a headless tick while the console drives is refused (one driver)"
like "$out" 'driven by alice@.*console' "the refusal names the console's operator"

keys L
wait_screen 'Audit log'; ok $? "L opens the full log"
keys /
text "wrong"
keys Enter
wait_screen 'match: event #[0-9]+'; ok $? "/ searches the log"
keys Escape
wait_screen_not 'Audit log'; ok $? "Esc closes the log"

keys Enter
keys c
wait_screen 'Item 3\.1'; ok $? "c shows the item's details"
keys Escape

keys 4
wait_screen 'no phase 4'; ok $? "a missing phase number says so"

keys 1 j    # typed ahead: j acts on phase 1's rows before they are drawn
wait_screen '▶ +(1\.[0-9]+ +)?\[ \] Apply the schema dump'; ok $? "keys typed ahead act on the new phase"

keys q
is "$(wait_exit)" 0 "q quits with status 0"
is "$(tm display-message -p -t e2e '#{alternate_on} #{cursor_flag}')" "0 1" "terminal restored: main screen, cursor visible"

log=$(pgc log --json)
is "$(printf '%s' "$log" | jq -r '[.[] | select(.kind=="tick" and .item=="3.1")][0].operator')" alice "log: tick by alice"
is "$(printf '%s' "$log" | jq -r '[.[] | select(.kind=="note" and .item=="3.1")][0].payload.text')" "checked by Zoë" "log: note text"
is "$(printf '%s' "$log" | jq -r '[.[] | select(.kind=="untick")][0] | "\(.operator) \(.item) \(.payload.reason)"')" "alice 3.1 wrong item" "log: untick with reason"
is "$(printf '%s' "$log" | jq -r '[.[] | select(.kind=="tick" and .item=="3.4")] | length')" 0 "log: the refused tick wrote nothing"
is "$(printf '%s' "$log" | jq -r '[.[] | select(.kind=="session_end")] | length')" 1 "log: session end recorded"
is "$(printf '%s' "$log" | jq -r '[.[] | select(.kind=="untick")] | length')" 1 "log: one untick (the refused and the cancelled prompt wrote nothing)"
is "$(printf '%s' "$log" | jq -r '[.[] | select(.kind=="note")] | length')" 1 "log: one note (Esc wrote nothing)"
pgc log --verify >/dev/null; ok $? "hash chain intact"
done_testing
