#!/bin/sh
# console_navigate.sh -- what operators expect of the checklist (issue 13,
# "Missing"): O jumps to the next open item (on into the next phases), v
# filters the rows (all, open items, items whose last run failed, blocked
# items), U undoes
# the operator's own last tick after asking why (an audited untick).
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/e2e/console.inc"

e2e_fixture
# a blocked item ([!] in the runbook) for v's blocked filter
awk '/^## Phase 5/ { print "- [!] Waiting on the DNS TTL"; print "" } { print }' "$E2E_DIR/runbook.md" >"$E2E_DIR/rb.tmp" &&
	mv "$E2E_DIR/rb.tmp" "$E2E_DIR/runbook.md"
pgc --operator alice tick 1.1 >/dev/null; ok $? "alice ticked 1.1 headless"
pgc --operator bob tick 0.1 >/dev/null 2>&1   # 0.1 is [x] in the file: nothing recorded
pgc run 3.4 --yes >/dev/null 2>&1
is "$(pgc status --json | jq -r '.phases[] | select(.id == "3") | .done')" 0 "3.4's command failed (nothing ticked)"

E2E_COLS=120 E2E_ROWS=30 console_start
wait_screen 'DRIVER'; ok $? "console opens"
wait_screen 'Phase 1 · Schema'; ok $? "at phase 1, in progress"
like "$(screen)" '▶ +1\.2 +\[ \] Apply the schema dump' "the cursor on its first open item"

# ---- O: the next open item ----
keys O
wait_screen 'Phase 3 · Data Migration'; ok $? "O past the phase's last open item goes on to the next phase's"
like "$(screen)" '▶ +3\.1 +[^ ]+ +\[ \] Copy in dependency order' "on its first open item"
like "$(screen)" 'next open item: 3\.1' "the status line names it"
keys O
wait_screen '▶ +3\.2 +\[ \] customers'; ok $? "O again: the next one (a sub-item)"

# ---- v: filters ----
keys 1
wait_screen 'Phase 1 · Schema'
keys v
wait_screen 'v: open '; ok $? "v: only open items, said in the pane's title"
unlike "$(screen)" 'Create roles on the target' "the done item 1.1 is hidden"
like "$(screen)" 'Apply the schema dump' "the open item 1.2 is shown"
keys v 3
wait_screen 'v: last run failed'; ok $? "v again: items whose last run failed"
wait_screen 'Check row counts'; ok $? "3.4 (its command failed) is shown"
unlike "$(screen)" 'Copy in dependency order' "3.1 (never run) is hidden"
keys v
wait_screen 'v: blocked'; ok $? "v again: blocked items"
wait_screen 'Waiting on the DNS TTL'; ok $? "a [!] item is shown"
unlike "$(screen)" 'Check row counts' "3.4 (open, not blocked: no gate) is hidden"
keys v
wait_screen 'Copy in dependency order'; ok $? "v again: every row"
unlike "$(screen)" 'v: (open|last run)' "and the title says no filter"

# ---- U: undo my last tick ----
keys U
wait_screen 'Undo your last tick: untick 1\.1\? Reason'; ok $? "U names alice's last tick and asks why"
like "$(screen)" 'Phase 1 · Schema' "and shows its phase"
keys Enter
wait_screen 'a reason is required'; ok $? "a reason is required"
text "ticked the wrong item"
keys Enter
wait_screen '\[ \] Create roles on the target'; ok $? "the untick is recorded"
keys U
wait_screen 'nothing to undo'; ok $? "U with no tick of alice's left says so"
keys q
is "$(wait_exit 15)" 0 "quit"
is "$(pgc log --json | jq -r '[.[] | select(.kind == "untick")] | last | "\(.operator) \(.item) \(.payload.reason)"')" \
	"alice 1.1 ticked the wrong item" "the log: alice unticked 1.1 with her reason"

done_testing
