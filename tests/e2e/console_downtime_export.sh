#!/bin/sh
# console_downtime_export.sh -- issue 13, item 4: in the console, D starts
# the downtime, the cutover step runs, R rolls phase 5 back (its tick taken
# back), D ends the downtime; the post-mortem (`export --format md`) then
# gives the same actual downtime as `downtime --json`, where it used to say
# "Actual: not recorded" for want of a ticked item in the window.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/actions.sh"
. "$top_srcdir/tests/e2e/console.inc"
command -v jq >/dev/null 2>&1 || skip_all "jq is not installed"

D=$E2E_DIR/act
act_fixture "$D" 60
CFG=$D/pgcutover.json
trap 'e2e_cleanup' EXIT
find_item() { keys /; text "$1"; keys Enter; wait_screen "found in $2" 5; }

E2E_COLS=120 E2E_ROWS=36 console_start
wait_screen 'DRIVER' 20; ok $? "console opens"
keys D
wait_screen 'Downtime starts now\?' 5; ok $? "D asks"
text yes; keys Enter
wait_screen 'downtime [0-9]+m[0-9]+s of 1h00m' 5; ok $? "the downtime clock runs"

keys 5
find_item 'Switch to the new database' '5\.1'
keys x
wait_screen 'type the item id or yes' 5
text "5.1"
keys Enter
wait_screen '5\.1: ok, exit 0' 15; ok $? "the cutover step ran"
keys Escape Tab Tab R
wait_screen 'Roll back phase 5: type the phase id or yes' 5; ok $? "R asks for the phase id"
text "5"
keys Enter
wait_screen 'phase 5 rolled back' 20; ok $? "phase 5 rolled back"
is "$(pgc status --json | jq -r '.phases[] | select(.id == "5") | "\(.status) \(.done)"')" "rolled_back 0" \
	"no item of the window is done any more"
keys Escape
sleep 1
keys D
wait_screen 'Downtime ends now\?' 5; ok $? "D offers to end the downtime"
text yes; keys Enter
wait_screen 'downtime ended' 5; ok $? "ended"
keys q
is "$(wait_exit 15)" 0 "quit"

el=$(pgc --json downtime | jq -r .elapsed_s)
[ "$el" -ge 1 ] 2>/dev/null; ok $? "downtime --json: elapsed_s $el"
md=$(pgc export --format md)
sect=$(printf '%s\n' "$md" | sed -n '/^## Downtime/,/^## Who/p')
unlike "$sect" "not recorded" "the post-mortem does not say 'not recorded'"
like "$sect" "^Actual: [0-9dhms]+ \($el s\), from .* \(downtime start\) to .* \(downtime end\)" \
	"the post-mortem's actual downtime is downtime --json's ($el s)"
done_testing
