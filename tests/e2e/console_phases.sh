#!/bin/sh
# console_phases.sh -- phase rules in the console: the step schedule and
# rollback steps are shown, steps fold and unfold, ticking a phase's last
# item records "phase complete", and completing a phase while an earlier
# one is open first asks for an override reason (Esc records nothing; the
# reason is audited).  The rail follows with done/total and status words.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/e2e/console.inc"

e2e_fixture
console_start
wait_screen 'DRIVER'; ok $? "console opens"
like "$(screen)" 'Phase 1 · Schema' "opens on the first phase that is not done"

keys 5
wait_screen 'Phase 5 · Production Cutover'; ok $? "5 jumps to phase 5"
like "$(screen)" 'Stop Services.*01:00, 5 min' "step schedule shown"
like "$(screen)" 'Rollback \(if needed\).*ROLLBACK' "rollback step marked in words"

keys /
text "Stop the app"
keys Enter
wait_screen 'found in 5\.1'; ok $? "/ finds an item"
keys k Enter
wait_screen_not 'Stop the app'; ok $? "Enter on a step folds it"
keys Enter
wait_screen 'Stop the app'; ok $? "Enter again unfolds it"
like "$(screen)" 'downtime plan 2h00m' "downtime clock: planned from the cutover window (01:00-03:00)"
keys j Space
wait_screen '\[x\] Stop the app'; ok $? "tick 5.1"
wait_screen 'downtime [0-9]+m[0-9]+s of 2h00m'; ok $? "downtime clock runs from the first tick in the window"

keys /
text "Point the app"
keys Enter
wait_screen 'found in 5\.2'
keys Space
wait_screen 'completes phase 5, but phase 1 is open'; ok $? "completing phase 5 before phase 1 asks for a reason"
keys Escape
wait_screen 'cancelled; nothing recorded'; ok $? "Esc cancels"
like "$(screen)" '\[ \] Point the app' "nothing ticked after Esc"
keys Space
wait_screen 'completes phase 5'
text "window moved up by the client"
keys Enter
wait_screen 'phase complete: 5'; ok $? "override reason recorded, phase complete"
like "$(screen)" '2/2 done' "rail shows the phase done"
like "$(screen)" 'downtime [0-9]+m[0-9]+s of 2h00m \(ended\)' "downtime clock stops when the window's items are done"
like "$(screen)" 'window moved up by the client' "override reason shown as a phase note"

keys 1
wait_screen 'Phase 1 · Schema'
keys Space
wait_screen '\[x\] Create roles'
keys j Space
wait_screen 'phase complete: 1'; ok $? "ticking phase 1's last item completes it without a question"

keys Tab Tab
wait_screen '\[Phases\]'; ok $? "Tab moves focus to the rail"
keys k
wait_screen 'Phase 0 · Access and tooling'; ok $? "k in the rail selects the previous phase"
keys q
is "$(wait_exit)" 0 "quit"

log=$(pgc log --json)
is "$(printf '%s' "$log" | jq -r '[.[] | select(.phase=="5" and (.kind=="phase_override" or .kind=="tick" or .kind=="phase_complete")) | .kind] | join(",")')" \
	"tick,phase_override,tick,phase_complete" "log: override before the tick that completes phase 5"
is "$(printf '%s' "$log" | jq -r '[.[] | select(.kind=="phase_override")][0].payload.reason')" "window moved up by the client" "log: override reason"
is "$(printf '%s' "$log" | jq -r '[.[] | select(.kind=="phase_override")] | length')" 1 "log: one override (Esc recorded nothing)"
is "$(printf '%s' "$log" | jq -r '[.[] | select(.kind=="phase_complete") | .phase] | join(",")')" "5,1" "log: phases completed"
is "$(pgc status --json | jq -r '.phases[] | select(.id=="5") | .status')" done "status: phase 5 done (headless sees it)"
done_testing
