#!/bin/sh
# console_subitems.sh -- a parent item is not ticked while its nested items
# are open, without a word (issue 13): `tick` exits 64 naming the open
# sub-items unless --override gives a reason; the console's Space names the
# same sub-items and asks for a reason (Esc records nothing); both record
# the reason with the tick.  The fixture's 3.1 has sub-items 3.2 and 3.3.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/e2e/console.inc"

e2e_fixture

# ---- headless ----
err=$(pgc tick 3.1 2>&1 >/dev/null); rc=$?
is "$rc" 64 "tick of a parent with open sub-items exits 64"
like "$err" '3\.1 has 2 open sub-items: 3\.2, 3\.3' "stderr names the open sub-items"
like "$err" 'override REASON' "and says how to tick it anyway"
is "$(pgc status --json | jq -r '[.phases[] | select(.id == "3") | .done] | .[0]')" 0 "nothing recorded"
is "$(pgc tick 3.1 --json 2>/dev/null | jq -r .outcome)" open_children "--json: outcome open_children"
pgc tick 3.2 >/dev/null
err=$(pgc tick 3.1 2>&1 >/dev/null)
like "$err" '3\.1 has 1 open sub-item: 3\.3;' "a done sub-item is no longer named"
out=$(pgc tick 3.1 --override 'orders copied by hand'); is "$?" 0 "--override REASON ticks it"
like "$(pgc log --json | jq -r '[.[] | select(.kind == "tick" and .item == "3.1")][0].payload.note')" \
	'1 open sub-item \(3\.3\): orders copied by hand' "the reason and the open sub-item are recorded with the tick"
pgc untick 3.1 --reason 'again from the console' >/dev/null
pgc untick 3.2 --reason 'again from the console' >/dev/null

# ---- the console: the same outcome, a prompt ----
console_start
wait_screen 'DRIVER'; ok $? "console opens"
keys 3
wait_screen 'Phase 3 · Data Migration'; ok $? "phase 3"
keys g j Space
wait_screen '3\.1 has 2 open sub-items: 3\.2, 3\.3\. Tick anyway\? Reason:'; ok $? "Space on the parent names its open sub-items and asks"
keys Escape
wait_screen 'nothing recorded'; ok $? "Esc records nothing"
like "$(screen)" '\[ \] Copy in dependency order' "the parent is still open"
keys Space
wait_screen 'Tick anyway'
text "copied by the script"
keys Enter
wait_screen '\[x\] Copy in dependency order'; ok $? "with a reason it is ticked"
keys q
is "$(wait_exit 15)" 0 "quit"
like "$(pgc log --json | jq -r '[.[] | select(.kind == "tick" and .item == "3.1")] | last | .payload.note')" \
	'2 open sub-items \(3\.2, 3\.3\): copied by the script' "the console records what tick --override records"
is "$(pgc log --json | jq '[.[] | select(.kind == "tick" and .item == "3.1")] | length')" 2 "one tick from each, none from Esc"

done_testing
