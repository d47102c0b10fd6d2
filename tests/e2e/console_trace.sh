#!/bin/sh
# console_trace.sh -- a command's run leaves a trace once its pane closes
# (issue 13, item 3): a block calling pm2, which is not installed, run with
# x exits 127; after Esc the item's row says "exit 127" and when, the events
# pane shows the command_end with its exit code and duration, status --json
# has the same last run, the log (L) finds it by "/exit 127" and by a word of
# its output ("/pm2"), and Enter opens the event's every field with the
# output tail.  A long-running command shows its running time on its row and
# in the header; in ASCII at 80x24 the glyphs have their ASCII forms.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/e2e/console.inc"

D=$E2E_DIR/trace
mkdir -p "$D"
command -v pm2 >/dev/null 2>&1 && skip_all "pm2 is installed here: the block would not exit 127"
cat >"$D/rb.md" <<'RB'
# Trace cutover

## Phase 1: Preparation

- [ ] Restart the app
  ```sh
  echo "restarting the app"
  pm2 restart app
  ```
- [ ] Wait for the queue to drain
  ```sh
  sleep 300 &
  echo $! >sleeper.pid
  wait
  ```
RB
cat >"$D/pgcutover.json" <<'CFG'
{ "runbook": "rb.md", "state": "state.db", "command_timeout": 600 }
CFG
CFG=$D/pgcutover.json
find_item() { keys /; text "$1"; keys Enter; wait_screen "found in $2" 5; }
sleeper_kill() { [ -s "$D/sleeper.pid" ] && kill "$(cat "$D/sleeper.pid")" 2>/dev/null; }
trap 'sleeper_kill; e2e_cleanup' EXIT

E2E_COLS=120 E2E_ROWS=36 console_start
wait_screen 'DRIVER' 20; ok $? "console opens"
keys 1
wait_screen 'Phase 1 · Preparation'

find_item 'Restart the app' '1\.1'
keys x
wait_screen 'Run 1\.1\? type the item id or yes, then Enter' 5; ok $? "x asks before running"
text yes; keys Enter
wait_screen '1\.1: failed, exit 127' 10; ok $? "the pane says exit 127"
keys Escape
wait_screen_not 'Output: item' 5; ok $? "Esc closes the pane"

wait_screen 'Restart the app .*✗ exit 127 [0-9][0-9]:[0-9][0-9]' 5
ok $? "the item's row keeps its last run: ✗ exit 127 and when"
wait_screen 'command_end +1\.1 exit 127 \([0-9.]+s\)' 5
ok $? "the events pane shows the command_end's exit code and duration"
is "$(pgc status --json | jq -c '.last_run["1.1"] | [.state, .status, .exit, (.duration_s >= 0)]')" \
	'["failed","failed",127,true]' "status --json has the same last run"
is "$(pgc status --json | jq -c '.last_run["1.2"]')" null "an item never run has none"
pgc log | grep -Eq 'command_end +1\.1 +exit 127 \([0-9.]+s\)  \{'
ok $? "pgcutover log: the same exit 127 (duration) before the payload"

# the log: search in the line and in the payload, Enter for the detail
keys L
wait_screen 'Audit log' 5; ok $? "L opens the log"
keys g /; text 'exit 127'; keys Enter
wait_screen 'match: event #[0-9]+' 5; ok $? "/exit 127 finds the command_end"
end_id=$(pgc log --json | jq -r '[.[] | select(.kind == "command_end")][-1].id')
like "$(screen)" "match: event #$end_id " "... the command_end itself (#$end_id)"
keys Enter
wait_screen "Event #$end_id" 5; ok $? "Enter opens the event's detail"
like "$(screen)" 'exit: 127' "the detail has the exit code"
like "$(screen)" 'status: failed' "... the status"
like "$(screen)" 'output_tail:' "... the output tail"
like "$(screen)" 'pm2: .*not found' "... with the shell's own words"
keys Escape
wait_screen 'Audit log' 5; ok $? "Esc goes back to the log"
keys G g /; text 'pm2'; keys Enter
wait_screen 'match: event #[0-9]+' 5; ok $? "/pm2 finds a word of the payload only"
keys Enter
wait_screen 'Event #[0-9]+' 5
keys /; text 'exit 127'; keys Enter
wait_screen "Audit log.*search: \"exit 127\"" 5; ok $? "/ in the detail searches on in the list"
like "$(screen)" "match: event #$end_id " "... and finds the command_end again"
keys Escape
wait_screen_not 'Audit log' 5

# a long-running command: its row and the header say how long it has run
find_item 'Wait for the queue' '1\.2'
keys x
wait_screen 'Run 1\.2\?' 5
text yes; keys Enter
wait_screen 'running for' 10; ok $? "the long command runs"
keys Escape
wait_screen_not 'Output: item' 5
wait_screen 'Wait for the queue to drain .*⟳ 0m[0-9][0-9]s' 5
ok $? "its row shows ⟳ and the time it has run"
wait_screen 'pgcutover .*⟳ 1\.2 0m[0-9][0-9]s' 5
ok $? "the header shows the running command"
is "$(pgc status --json | jq -r '.last_run["1.2"].state')" running "status --json: running"
keys o
wait_screen 'running for' 5
keys C-c
wait_screen '1\.2: cancelled' 15; ok $? "Ctrl-C cancels it"
keys Escape
wait_screen 'Wait for the queue to drain .*✗ cancelled [0-9][0-9]:[0-9][0-9]' 5
ok $? "the row says cancelled and when"
wait_screen_not '⟳' 5; ok $? "nothing shows as running any more"
keys q
is "$(wait_exit)" 0 "q quits"

# ASCII at 80x24: the same facts with the ASCII glyphs, after a restart
# (the ledger reads them back from the log)
E2E_LANG=C E2E_TERM=vt100 E2E_COLS=80 E2E_ROWS=24 console_start
wait_screen 'DRIVER' 20; ok $? "console opens at 80x24 in ASCII"
keys 1
wait_screen 'Restart the app .*x exit 127 [0-9][0-9]:[0-9][0-9]' 5
ok $? "80x24 ASCII: the row says x exit 127"
keys q
is "$(wait_exit)" 0 "q quits"

done_testing
