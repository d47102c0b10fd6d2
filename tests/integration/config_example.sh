#!/bin/sh
# config_example.sh -- examples/pgcutover.json stays in step with
# examples/booking-runbook.md: its tables and flags are what `pgcutover init`
# finds in that runbook, it loads through `check`, and its
# point_of_no_return names an item the runbook has.
. "$top_srcdir/tests/lib/tap.sh"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"

ex="$top_srcdir/examples/pgcutover.json"
rb="$top_srcdir/examples/booking-runbook.md"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
XDG_STATE_HOME="$tmp/state"; export XDG_STATE_HOME

"$PGCUTOVER" -q init "$rb" -o "$tmp/init.json" >/dev/null 2>&1
is "$?" 0 "init on the booking runbook"
is "$(jq -c '[.tables[] | if type == "object" then .name else . end]' "$ex")" \
   "$(jq -c '.tables' "$tmp/init.json")" "example tables = the runbook's dependency order"
is "$(jq -c '.flags | sort' "$ex")" "$(jq -c '.flags | sort' "$tmp/init.json")" \
   "example flags = the runbook's flag lines"

is "$(jq -c '[.health[] | if type == "object" then .url else . end]' "$ex")" \
   "$(jq -c '.health' "$tmp/init.json")" "example health URLs = the runbook's curl items"
is "$(jq -r .point_of_no_return "$ex")" "$(jq -r .point_of_no_return "$tmp/init.json")" \
   "example point_of_no_return = the runbook's checkpoint"

"$PGCUTOVER" -c "$ex" check >/dev/null 2>"$tmp/err"
is "$?" 0 "pgcutover -c examples/pgcutover.json check"
is "$(cat "$tmp/err")" "" "no warning about the example config"

ponr=$(jq -r .point_of_no_return "$ex")
"$PGCUTOVER" -c "$ex" -s "$tmp/s.db" tick "$ponr" >/dev/null 2>&1
is "$?" 0 "point_of_no_return ($ponr) is an item of the runbook"
gate=$(jq -r '.gates[0]' "$ex")
"$PGCUTOVER" check --json "$rb" | jq -e --arg g "$gate" '[.phases[].id] | index($g) != null' >/dev/null
ok $? "gate $gate is a phase of the runbook"
done_testing
