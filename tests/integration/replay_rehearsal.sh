#!/bin/sh
# replay_rehearsal.sh -- `rehearsal mark` records one audited rehearsal
# event (a second mark does not add one); `rehearsal plan --plan-from`
# gives each item's rehearsal duration and offset as the rehearsal's log
# says (computed here with jq), and a live run that went slower is shown
# behind by the difference, with a projected end.
. "$top_srcdir/tests/lib/tap.sh"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"
P=$PGCUTOVER
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
cat > rb.md <<'MD'
# Rehearsal test

## Phase 1: Copy

- [ ] Stop writes
- [ ] Copy customers
- [ ] Copy orders
MD
$P -r rb.md -s r.db rehearsal mark --note "dry run" >/dev/null; ok $? "rehearsal mark"
$P -r rb.md -s r.db rehearsal mark >/dev/null
is "$($P -s r.db log --json | jq '[.[] | select(.kind=="rehearsal")] | length')" "1" "marked once, audited"
$P -r rb.md -s r.db tick 1.1 >/dev/null
sleep 1.1
$P -r rb.md -s r.db tick 1.2 >/dev/null
$P -r rb.md -s l.db tick 1.1 >/dev/null
sleep 2.5
$P -r rb.md -s l.db tick 1.2 >/dev/null

# seconds between the first and second tick of a state, from its log
gap() { $P -s "$1" log --json | jq '[.[] | select(.kind=="tick") | .ts | sub("Z$"; "") | split(".") | (.[0] + "Z" | fromdateiso8601) + ("0." + .[1] | tonumber)] | .[1] - .[0]'; }
rgap=$(gap r.db) lgap=$(gap l.db)
j=$($P -r rb.md -s l.db rehearsal plan --plan-from r.db --json)
is "$(printf '%s' "$j" | jq .marked)" "true" "the plan knows the state is a rehearsal"
is "$(printf '%s' "$j" | jq '.items[1].rehearsal_s')" "$(awk -v g="$rgap" 'BEGIN { printf "%d", g + 0.5 }')" "item 1.2 took as long as in the rehearsal log"
is "$(printf '%s' "$j" | jq '.items[2].rehearsal_s')" "null" "an item not done in rehearsal has no duration"
is "$(printf '%s' "$j" | jq -r '.live.pace')" "behind" "the slower live run is behind"
is "$(printf '%s' "$j" | jq '.live.delta_s')" "$(awk -v a="$lgap" -v b="$rgap" 'BEGIN { printf "%d", a - b }')" "behind by the difference of the two gaps"
like "$(printf '%s' "$j" | jq -r '.live.projected_end')" "^[0-9-]+T[0-9:.]+Z$" "projected end"
$P -r rb.md rehearsal plan --plan-from nope.db >/dev/null 2>&1; is "$?" "66" "a missing rehearsal state: 66"
done_testing
