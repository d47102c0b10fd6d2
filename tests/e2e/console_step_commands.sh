#!/bin/sh
# console_step_commands.sh -- issue 15 item 4 in the console: a step whose
# command block sits under its heading (before its checklist, or with no
# checklist at all) shows "x: <step id>" on its row, its items' details show
# the step's command, and x on the step's row runs it through the same plan,
# confirmation and output pane as an item's command.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/e2e/console.inc"
trap e2e_cleanup EXIT
D=$E2E_DIR
cp "$top_srcdir/tests/fixtures/runbooks/step-commands.md" "$D/runbook.md"
printf 'USE_NEW_DB=false\nUSE_LEGACY=true\n' > "$D/.env"
cat > "$CFG" <<JSON
{"runbook": "runbook.md", "source": "service=old", "target": "service=new",
 "state": "$D/state.db", "workdir": "$D",
 "flags": ["USE_NEW_DB", "USE_LEGACY"], "env_file": ".env"}
JSON

E2E_COLS=110 E2E_ROWS=30 console_start
wait_screen 'DRIVER' 20; ok $? "console opens"
keys 1
wait_screen 'Snapshot the old database' 5
like "$(screen)" '1\.1 Snapshot the old database .*x: 1\.s1' "the step's row says x runs its own command"
like "$(screen)" '1\.2 Announce .*x: 1\.s2' "so does the step without checkboxes"

keys /; text 'Snapshot taken'; keys Enter
wait_screen 'found in 1\.1' 5
keys c
wait_screen "The step's command \(bash, line 7; x on step 1\.s1 runs it\)" 5; ok $? "the item's details show its step's command"
like "$(screen)" 'echo snapshot > snap\.txt' "the command itself"
keys Escape
wait_screen_not "The step's command" 5

keys k
keys x
wait_screen 'pgcutover will run:' 5; ok $? "x on the step's row shows what will run"
like "$(screen)" 'echo snapshot > snap\.txt' "the step's block"
wait_screen 'Run 1\.s1\? type the item id or yes, then Enter' 5; ok $? "and asks as for an item"
ok "$([ ! -e "$D/snap.txt" ]; echo $?)" "nothing ran before the answer"
text yes; keys Enter
wait_screen '1\.s1: ok, exit 0' 10; ok $? "it ran"
is "$(cat "$D/snap.txt" 2>/dev/null)" snapshot "the step's command wrote its file"
is "$(pgc log --json | jq -r '[.[] | select(.kind == "command_end")][-1].item')" 1.s1 "the audit names the step"
keys Escape
keys q
wait_exit >/dev/null
done_testing
