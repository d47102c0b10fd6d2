#!/bin/sh
# console_restart.sh -- a restarted console opens where the cutover is
# (issue 13): at the phase the header names (ledger_current_words: the one
# in progress), not at phase 1, with the cursor on its first open item;
# every item row shows its id (what tick, run and rollback take), and a
# narrow pane hides the ids before the text.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/e2e/console.inc"

e2e_fixture
# phase 1 never started; phase 3 in progress, its first two items done
pgc tick 3.2 >/dev/null && pgc tick 3.1 --override 'copied by hand' >/dev/null
ok $? "phase 3 worked on headless"

E2E_COLS=120 E2E_ROWS=30 console_start
wait_screen 'DRIVER'; ok $? "console opens"
wait_screen 'Phase 3 · Data Migration'; ok $? "it opens at the phase in progress, not phase 1"
unlike "$(screen)" 'Apply the schema dump' "phase 1's items are not on the checklist"
like "$(screen)" '▶ +3\.3 +\[ \] +orders' "the cursor is on its first open item, its id left of the mark"
like "$(screen)" '3\.1 +[^ ]+ +\[x\] Copy in dependency order' "every row shows its item id"
keys Space
wait_screen '\[x\] +orders'; ok $? "Space ticks the item the cursor opened on"
is "$(pgc log --json | jq -r '[.[] | select(.kind == "tick")] | last | .item')" 3.3 "the tick is 3.3's"

tm resize-window -t e2e -x 80 -y 24
# wait for the redrawn 80-column list (the text's longer piece) before
# looking at the ids (at 120 it reads "dependency order"): a capture taken
# mid-redraw holds both layouts
wait_screen '\[x\] Copy in dependency …'; ok $? "the text keeps the room"
unlike "$(screen)" '3\.1 +[^ ]+ +\[x\] Copy' "at 80 columns the ids make room for the text"
keys q
is "$(wait_exit 15)" 0 "quit"

done_testing
