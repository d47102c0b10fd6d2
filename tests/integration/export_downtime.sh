#!/bin/sh
# export_downtime.sh -- the post-mortem's downtime is `pgcutover downtime`'s
# (issue 13, item 4): D start, the cutover run and then rolled back (its
# items unticked), D end; `export --format md` gives the same actual
# downtime as `downtime --json` (its elapsed_s), where it used to say "not
# recorded" for want of a ticked window item.  While there, the report
# reads like one: times to the second with the zone stated (no ISO
# milliseconds), a note's newline a <br> (not '?'), a runbook's **bold**
# kept, a plan of "3-5 days" shown as written and a 3-day one as 3d (not
# 72h00m).
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/actions.sh"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"
T=$(mktemp -d)
trap '[ -f "$T/app.pid" ] && kill "$(cat "$T/app.pid")" 2>/dev/null; rm -rf "$T"' EXIT
act_fixture "$T"
cd "$T" || exit 1
P() { "$PGCUTOVER" -c "$T/pgcutover.json" --operator dora "$@"; }

P downtime start >/dev/null; is "$?" 0 "downtime start"
P run 5.1 --yes >/dev/null 2>&1; is "$?" 0 "the cutover step ran"
P rollback 5 --yes >/dev/null 2>&1; is "$?" 0 "phase 5 rolled back"
is "$(P --json status | jq -r '[.phases[] | select(.id == "5") | .done] | .[0]')" 0 \
	"the rollback left no item of the window done"
sleep 2
P downtime end >/dev/null; is "$?" 0 "downtime end"
dt=$(P --json downtime)
el=$(printf '%s' "$dt" | jq -r .elapsed_s)
[ "$el" -ge 2 ] 2>/dev/null; ok $? "downtime --json: elapsed_s $el, at least the 2 s slept"

md=$(P export --format md); is "$?" 0 "export --format md"
sect=$(printf '%s\n' "$md" | sed -n '/^## Downtime/,/^## /p')
unlike "$sect" "not recorded" "the post-mortem does not say the downtime was not recorded"
like "$sect" "^Actual: [0-9dhms]+ \($el s\), from " "Actual: the same $el s as downtime --json"
like "$sect" "\(downtime start\) to .* \(downtime end\)" "measured from the downtime start to its end"
start=$(printf '%s' "$dt" | jq -r '.started_at | sub("T"; " ") | sub("\\.[0-9]+Z$"; "")')
like "$sect" "from $start \(downtime start\)" "the start as downtime --json has it ($start), to the second"
like "$md" "^- Times: UTC" "the zone of the times is stated"
unlike "$md" "[0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9]{3}Z" "no ISO time with milliseconds"

# A runbook of days, a note over two lines, bold in an item.
cat > days.md <<'MD'
# Days

## Phase 1: Parallel run

**Duration:** 3-5 days

- [ ] Check **both** databases

## Phase 2: Soak

**Duration:** 3 days

- [ ] Watch
MD
S="$T/days.db"
Q() { "$PGCUTOVER" -r days.md -s "$S" --operator erin "$@"; }
Q tick 1.1 --note 'first line
second line' >/dev/null
Q note 1.1 'a **bold** note' >/dev/null
md=$(Q export --format md)
like "$md" "\| 1 \| Parallel run \| [a-z_]+ \| 1/1 \| 3-5 days \|" "a planned 3-5 days is shown as written"
like "$md" "\| 2 \| Soak \| [a-z_]+ \| 0/1 \| 3d \|" "a planned 3 days as 3d"
unlike "$md" "72h00m|120h00m" "no day-long plan in hours"
like "$md" "first line<br>second line" "a note's newline is a <br> in its table cell"
unlike "$md" "first line\?second" "not a '?'"
like "$md" "Check \*\*both\*\* databases" "the item's **bold** kept as Markdown"
like "$md" "a \*\*bold\*\* note" "a note's **bold** kept"

done_testing
