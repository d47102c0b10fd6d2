#!/bin/sh
# console_demo.sh -- the console against the real demo (`pgcutover demo`:
# two PostgreSQL clusters, the example booking runbook): open, navigate to
# phase 3, tick an item, add a note, untick with a reason, resize to 60x20
# and back, quit (the demo says what still runs and how to reopen or remove
# it); then `log --json` holds the tick, note and untick with the operator,
# and `status --json` agrees with what the console showed.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
pg_require
pg_tmp
. "$top_srcdir/tests/e2e/console.inc"

dir=$PGC_TMP/demo
CFG=$dir/pgcutover.json
pg_atexit "\"\$PGCUTOVER\" demo --stop --dir \"$dir\" >/dev/null 2>&1"

pane_run "env TERM=$E2E_TERM LANG=$E2E_LANG '$PGCUTOVER' --operator alice demo --rows 200 --dir '$dir'"
wait_screen 'DRIVER' 180; ok $? "demo opens the console"
like "$(screen)" 'postgres@demo/pg:[0-9]+ → postgres@demo/pg:[0-9]+' "header shows the demo's source → target"
like "$(screen)" "Counts live|Row counts" "side pane present"

keys 3
wait_screen 'Phase 3 · Data Migration'; ok $? "navigate to phase 3"
keys /
text "Freeze schema"
keys Enter
wait_screen 'found in 3\.'; ok $? "search finds the item"
item=$(screen | sed -n 's/.*found in \(3\.[0-9]*\).*/\1/p' | head -1)
keys Space
wait_screen '\[x\] Freeze schema changes'; ok $? "tick"
keys n
wait_screen "Note on item $item"
text "merge freeze announced in #ops"
keys Enter
wait_screen 'text: merge freeze announced'; ok $? "note"
keys Space
wait_screen "Untick $item"
text "freeze moved to Friday"
keys Enter
wait_screen '\[ \] Freeze schema changes'; ok $? "untick with reason"

# the console counts both demo servers itself, in its own loop, and records
# each snapshot; the side pane shows the live figures
wait_screen "Counts live|Row counts" 10
end=$(( $(date +%s) + 60 ))
first=""
while [ -z "$first" ] && [ "$(date +%s)" -lt "$end" ]; do
	# the pane lists the largest difference first (then the equal tables)
	first=$(pgc log --json | jq -r '[.[] | select(.kind=="counts" and .operator=="alice")][-1].payload.tables // empty
		| ([.[] | select(.source != null and .target != null and .source != .target)]
		   | sort_by(-(.target - .source | if . < 0 then -. else . end)) | .[0]) // .[0]
		| "\(.table[0:5]) \(.source) \(.target)"')
	[ -n "$first" ] || sleep 0.5
done
[ -n "$first" ]; ok $? "the console recorded a counts snapshot of its own (by alice)"
set -- $first
wait_screen "$1.* $2 +$3 +(DIFF|=)" 20; ok $? "side pane: the first table shown ($first) live, with both figures and a verdict in words"
tm resize-window -t e2e -x 60 -y 20
wait_screen 'enlarge to 80×24'; ok $? "60x20: enlarge notice"
tm resize-window -t e2e -x 100 -y 30
wait_screen 'Phase 3 · Data Migration'; ok $? "back after resize"
keys q
is "$(wait_exit 30)" 0 "quit; demo exits 0"
# what is left running, and the two commands to come back or clean up
# (wrapped lines joined: the paths are long)
wait_screen 'servers are still running' 5; ok $? "on quitting, the demo says its servers are still running"
joined=$(tm capture-pane -p -J -t e2e)
reopen=$(printf '%s\n' "$joined" | sed -n 's/^ *reopen the console: //p')
stop=$(printf '%s\n' "$joined" | sed -n 's/^ *stop and remove it: //p')
like "$reopen" "-c $CFG console\$" "it names the command that reopens the console"
like "$stop" " demo --stop --dir $dir\$" "and the one that stops and removes it"
is "$(eval "${reopen% console} status --json" | jq -r '.phases[] | select(.id=="3") | .total > 0')" true \
	"the reopen command, pasted (with status --json for console), reads this demo"

log=$(pgc log --json)
is "$(printf '%s' "$log" | jq -r --arg i "$item" '[.[] | select(.item==$i) | "\(.kind):\(.operator)"] | join(" ")')" \
	"tick:alice note:alice untick:alice" "log --json: tick, note, untick by alice in order"
is "$(printf '%s' "$log" | jq -r '[.[] | select(.kind=="untick")][0].payload.reason')" "freeze moved to Friday" "log --json: untick reason"
is "$(printf '%s' "$log" | jq -r '[.[] | select(.kind=="note")][0].payload.text')" "merge freeze announced in #ops" "log --json: note text"
is "$(pgc status --json | jq -r '.phases[] | select(.id=="3") | .done')" 0 "status --json: phase 3 back to 0 done"
done_testing
