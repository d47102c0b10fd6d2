#!/bin/sh
# console_rehearsal.sh -- `pgcutover console --plan-from STATE`: a
# rehearsal's timings in the live console.  Each item the rehearsal ticked
# shows how long it took there; the header says how far ahead of or behind
# the rehearsal the live run is and when the downtime (the runbook's cutover
# window) would end at this pace -- the same figures `rehearsal plan --json`
# reports; on a narrower terminal a short form of it.  A missing rehearsal
# state is refused before the screen opens.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/e2e/console.inc"

e2e_fixture
cd "$E2E_DIR" || exit 1
# The rehearsal: slow, with pauses between the ticks.
pgc -s r.db --operator rob tick 1.1 >/dev/null 2>&1 && sleep 2 &&
pgc -s r.db --operator rob tick 1.2 >/dev/null 2>&1 && sleep 1 &&
pgc -s r.db --operator rob tick 5.1 >/dev/null 2>&1 && sleep 2 &&
pgc -s r.db --operator rob tick 5.2 --override "this rehearsal skips phase 3" >/dev/null 2>&1 &&
pgc -s r.db --operator rob rehearsal mark >/dev/null 2>&1
ok $? "a rehearsal recorded and marked"
# The live run: faster.
pgc --operator alice tick 1.1 >/dev/null 2>&1 && pgc --operator alice tick 1.2 >/dev/null 2>&1
ok $? "the live run ticks the first phase at once"

plan=$(pgc rehearsal plan --plan-from r.db --json)
fmt() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }
r12=$(printf '%s' "$plan" | jq '.items[] | select(.id == "1.2") | .rehearsal_s | floor')
delta=$(printf '%s' "$plan" | jq '.live.delta_s | fabs | floor')
pace=$(printf '%s' "$plan" | jq -r '.live.pace')
is "$pace" ahead "rehearsal plan says the live run is ahead"

E2E_COLS=130 console_start --plan-from r.db
wait_screen 'DRIVER'; ok $? "console opens with --plan-from"
keys 1
wait_screen "Apply the schema dump.*reh $(fmt "$r12")"; ok $? "item 1.2 shows its rehearsal duration ($(fmt "$r12"))"
wait_screen "$(fmt "$delta") ahead of rehearsal"; ok $? "the header: $(fmt "$delta") ahead of the rehearsal"

# downtime end: the live first tick + the rehearsal's offset of its last
# tick in the cutover window (5.2) + the delta; to the minute, either side
# of a second of rounding.
t0=$(pgc log --json | jq '[.[] | select(.kind == "tick")][0].ts | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601')
ms=$(pgc log --json | jq -r '[.[] | select(.kind == "tick")][0].ts | capture("\\.(?<ms>[0-9]+)Z$").ms')
off=$(printf '%s' "$plan" | jq '.items[] | select(.id == "5.2") | .offset_s')
d=$(printf '%s' "$plan" | jq '.live.delta_s')
end=$(awk -v a="$t0.$ms" -v b="$off" -v c="$d" 'BEGIN { printf "%d", a + b + c }')
e1=$(date -d "@$((end - 1))" +%H:%M); e2=$(date -d "@$((end + 1))" +%H:%M)
wait_screen "downtime end ~($e1|$e2)"; ok $? "the header: projected end of downtime ~$e2"
# narrower: the short form, the endpoints keep some room
tm resize-window -t e2e -x 100 -y 30
wait_screen "rehearsal: $(fmt "$delta") ahead, end ~($e1|$e2)"; ok $? "100 columns: the header's short form"
like "$(screen | sed -n 2p)" '^ [^ ]{12,}' "and the source still has some room on its line"
keys q
is "$(wait_exit)" 0 "quit"

console_start --plan-from nope.db
is "$(wait_exit)" 66 "a missing rehearsal state: exit 66 before the screen opens"
done_testing
