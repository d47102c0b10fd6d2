#!/bin/sh
# check_rollback.sh -- which headings are rollback procedures and which are
# ordinary work that merely names a rollback (readiness, preparedness in a
# go/no-go list, rehearsal, monitoring), as `check` explains it (human and
# --json) and as `status` counts it: the two agree on item totals, ticks on
# rollback work count, an operator's <!-- pgcutover: ... --> marker wins,
# and a runbook that is only a rollback plan does not read 0/0.
. "$top_srcdir/tests/lib/tap.sh"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"
P=$PGCUTOVER
FX="$top_srcdir/tests/fixtures/runbooks"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export XDG_STATE_HOME="$T/xdg"
cd "$T" || exit 1
cp "$FX/rollback-shapes.md" rb.md
cp "$FX/rollback-plan-only.md" only.md

read_as() {   # read_as TITLE -> rollback | work
	printf '%s' "$j" | jq -r --arg t "$1" '.rollback_sections[] | select(.title == $t) | .read_as'
}
j=$($P check --json rb.md)
is "$(read_as 'Rollback readiness')" work "## Rollback readiness is work"
is "$(read_as 'Rollback Preparedness')" work "#### Rollback Preparedness in a go/no-go list is work"
is "$(read_as 'Rollback')" work "a bare #### Rollback inside the go/no-go list is work (structure)"
like "$(printf '%s' "$j" | jq -r '.rollback_sections[] | select(.title == "Rollback") | .why')" \
     'inside "Go/No-Go"' "and check says it was the go/no-go list that decided"
is "$(read_as 'Rollback Monitoring')" work "### Rollback Monitoring is work"
is "$(read_as 'Rollback rehearsal (staging only)')" work "Phase 7.5 Rollback rehearsal is work"
is "$(read_as '5.4 Rollback (if needed)')" rollback "5.4 Rollback (if needed) is a procedure"
is "$(read_as 'Emergency Rollback')" rollback "Emergency Rollback is a procedure"
is "$(read_as 'Revert')" rollback "Revert is a procedure"
is "$(read_as 'Rollback procedure')" rollback "## Rollback procedure is a procedure"
is "$(read_as 'Rollback notes')" work "the operator's <!-- pgcutover: work --> marker overrides the words"
like "$(printf '%s' "$j" | jq -r '.rollback_sections[] | select(.title == "Rollback readiness") | .why')" \
     'readiness' "why names the word that decided"

# check and status agree: every checklist line either counts or is a
# rollback step, and the rollback steps are those under the procedures
lines=$(grep -c '^ *- \[' rb.md)
proc=$(awk '/^#/ { p = ($0 ~ /if needed|Emergency|Revert|Rollback procedure/) } p && /^ *- \[/ { n++ } END { print n + 0 }' rb.md)
is "$(printf '%s' "$j" | jq .rollback_items)" "$proc" "rollback items are exactly those under the four procedures"
is "$(printf '%s' "$j" | jq .counted)" "$((lines - proc))" "every other item counts"
s=$($P -r rb.md status --json)
is "$(printf '%s' "$s" | jq .items_total)" "$(printf '%s' "$j" | jq .counted)" "status and check agree on the total"
is "$(printf '%s' "$s" | jq -c '[.phases[].total]')" "$(printf '%s' "$j" | jq -c '[.phases[].counted]')" \
   "status and check agree phase by phase"
is "$(printf '%s' "$s" | jq -r '.phases[] | select(.id == "rollback-readiness") | .total')" 3 \
   "Rollback readiness reads 0/3, not 0/0"
$P -r rb.md tick rollback-readiness.1 >/dev/null; ok $? "tick an item of Rollback readiness"
is "$($P -r rb.md status --json | jq -r '.phases[] | select(.id == "rollback-readiness") | "\(.done)/\(.total)"')" \
   "1/3" "the tick counts: 1/3"
h=$($P check rb.md)
like "$h" "status counts $((lines - proc)) items" "human check says what status counts"
like "$h" "rollback +line [0-9]+ \"Revert\" \\(1 item\\): says \"Revert\"" \
     "human check lists a procedure with its reason"
like "$h" "work +line [0-9]+ \"Rollback Preparedness\"" "human check lists rollback work too"
is "$(printf '%s\n' "$h" | awk 'length($0) > 80' | wc -l)" 0 "within 80 columns (no COLUMNS, no terminal)"

# the marker on its own line under the heading, both ways
cat > m.md <<'MD'
# M
## Phase 1: Prep
### Rollback readiness
<!-- pgcutover: rollback -->
- [ ] a
### Undo the switch
<!-- pgcutover: rollback -->
- [ ] b
### Rollback (if needed)
- [ ] c
### Checks
- [ ] d
MD
j=$($P check --json m.md)
is "$(printf '%s' "$j" | jq -r '[.rollback_sections[] | "\(.title)=\(.read_as)"] | join(",")')" \
   "Rollback readiness=rollback,Undo the switch=rollback,Rollback (if needed)=rollback" \
   "a marker line under a heading makes it a procedure, words or not"
is "$(printf '%s' "$j" | jq .counted)" 1 "only the one item outside them counts"
is "$($P -r m.md status --json | jq .items_total)" 1 "in status too"

# a runbook that is only a rollback plan
j=$($P check --json only.md)
is "$(printf '%s' "$j" | jq .rollback_plan)" true "a file of rollback sections only is a rollback plan"
is "$(printf '%s' "$j" | jq .counted)" "$(grep -c '^ *- \[' only.md)" "all its items count"
is "$($P -r only.md status --json | jq -r '"\(.items_done)/\(.items_total)"')" \
   "$(grep -c '^ *- \[[xX]\]' only.md)/$(grep -c '^ *- \[' only.md)" "status does not read 0/0"
like "$(printf '%s' "$j" | jq -r '.warnings[]')" "read as a rollback plan" "check says so"
done_testing
