#!/bin/sh
# console_run_guard.sh -- the console's actions where they must hold back
# (tests/lib/actions.sh fixture, auto_tick on): a zero exit ticks the item
# and a non-zero one does not, stderr shown in the pane; a secret-looking
# variable is typed blind, masked in the output and absent from the log;
# while a command runs only one runs, Ctrl-C outside the output pane and q
# do not quit (q asks), nor does Ctrl-C in the pane once the command ended,
# and the pane scrolls back; health checks (the config's and a runbook
# `curl URL` item) run in the loop, a hung one never freezes the console;
# a flag whose .env changed after Enter is refused, not overwritten; a
# rollback past the point of no return with no counts says the rows gained
# are unknown, runs its steps in order and stops at the first failure,
# recording no rollback; after the console is killed while its command runs,
# the next one says in its status line that the command's end is unknown.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/actions.sh"
. "$top_srcdir/tests/e2e/console.inc"
command -v ps >/dev/null 2>&1 || skip_all "ps is not installed"

D=$E2E_DIR/act
act_fixture "$D" 60
CFG=$D/pgcutover.json
N_LINES=200
# phase 1 gets a long-output item; the rollback section a failing step and
# one after it that must never run
awk -v n="$N_LINES" '/^## Phase 5/ { print "- [ ] Count lines\n  ```sh\n  seq 1 " n "\n  ```\n" } { print }' \
	"$D/rb.md" > "$D/rb.tmp" && mv "$D/rb.tmp" "$D/rb.md"
cat >>"$D/rb.md" <<'RB'
- [ ] Rollback step that fails
  ```sh
  echo "rollback step failing" >&2
  exit 3
  ```
- [ ] Tell the team
  ```sh
  echo told > told.txt
  ```
RB
python3 "$top_srcdir/tests/lib/httpd-health.py" "$E2E_DIR/port" &
srv=$!
trap 'kill $srv 2>/dev/null; e2e_cleanup' EXIT
i=0
while [ ! -s "$E2E_DIR/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
BASE="http://127.0.0.1:$(cat "$E2E_DIR/port")"
HANG_MS=3000
# a runbook item that is a single `curl URL` is a health check too
awk -v u="$BASE/slow" '/^## Phase 5/ { print "- [ ] `curl -fsS " u "`\n" } { print }' \
	"$D/rb.md" > "$D/rb.tmp" && mv "$D/rb.tmp" "$D/rb.md"
jq --arg hang "$BASE/hang" --argjson ms "$HANG_MS" \
	'.point_of_no_return = "5.1" | .auto_tick = true | .health = [{"name": "hung", "url": $hang, "timeout_ms": $ms}]' \
	"$CFG" > "$CFG.tmp" && mv "$CFG.tmp" "$CFG"
end_of() { pgc log --json | jq -r "[.[] | select(.kind == \"command_end\" and .item == \"$1\")][-1].payload | \"\(.status // \"none\") \(.exit // \"-\")\""; }
ticked() { pgc status --json >/dev/null; pgc log --json | jq "[.[] | select(.kind == \"tick\" and .item == \"$1\")] | length"; }
find_item() { keys /; text "$1"; keys Enter; wait_screen "found in $2" 5; }

pgc tick 5.1 --override "order is not what this tests" >/dev/null   # the point of no return is passed, no counts recorded
E2E_COLS=120 E2E_ROWS=36 console_start
wait_screen 'DRIVER' 20; ok $? "console opens"
keys 1
wait_screen 'Phase 1 · Preparation'

# auto_tick: a zero exit ticks, a non-zero one does not
find_item Greet '1\.1'
keys x
wait_screen 'Run 1\.1\?' 5
text yes; keys Enter
wait_screen '1\.1: ok \(exit 0\) in [0-9.]+s; ticked' 10; ok $? "auto_tick: a zero exit ticks the item"
is "$(ticked 1.1)" 1 "log --json: tick of 1.1"
keys Escape
find_item 'Fail with seven' '1\.2'
keys x
wait_screen 'Run 1\.2\?' 5
text yes; keys Enter
wait_screen '1\.2: failed, exit 7' 10; ok $? "a non-zero exit: failed, its exit code shown"
like "$(screen)" 'about to fail' "stderr is shown in the pane"
is "$(end_of 1.2)" "failed 7" "log --json: command_end failed, exit_code 7"
is "$(ticked 1.2)" 0 "a non-zero exit never ticks"
keys Escape

# a secret-looking variable: typed blind, masked, never recorded
SECRET="tok-$$-9f8e7d6c5b"
find_item 'Needs a secret' '1\.8'
keys x
wait_screen 'DEPLOY_TOKEN_NOT_SET, defined nowhere' 5; ok $? "a secret-looking variable is asked for"
like "$(screen)" 'secret-looking: typed blind, used once, never recorded' "and said to be typed blind, never recorded"
text "$SECRET"
unlike "$(screen)" "$SECRET" "the secret is typed blind"
keys Enter
wait_screen 'Run 1\.8\?' 5
text yes; keys Enter
wait_screen '1\.8: ok' 10; ok $? "the run with the secret ends"
like "$(screen)" 'using \*+' "the secret is masked in the output"
unlike "$(screen)" "$SECRET" "the secret never reaches the screen"
pgc log --json | grep -q -- "$SECRET"; isnt $? 0 "the secret is not in the log"
keys Escape

# the pane scrolls back over long output
find_item 'Count lines' '1\.9'
keys x
wait_screen 'Run 1\.9\?' 5
text yes; keys Enter
wait_screen '1\.9: ok' 10
like "$(screen)" "│ $N_LINES +│" "the pane follows the end of the output"
keys g
wait_screen 'pgcutover will run:' 5; ok $? "g scrolls the pane back to its first line"
keys G
wait_screen "1\\.9: ok" 5; ok $? "G back to the end"
keys Escape

# one command at a time; Ctrl-C outside the pane and q do not quit
find_item 'Sleep a long time' '1\.5'
keys x
wait_screen 'Run 1\.5\?' 5
text yes; keys Enter
wait_screen 'running for' 10; ok $? "the long command runs"
end=$(( $(date +%s) + 10 )); while [ ! -s "$D/sleeper.pid" ] && [ "$(date +%s)" -lt "$end" ]; do sleep 0.1; done
sleeper=$(cat "$D/sleeper.pid" 2>/dev/null)
keys Escape
wait_screen_not 'Output: item' 5
keys C-c
wait_screen 'a command is running: o shows it' 5; ok $? "Ctrl-C outside the pane: the console says a command runs"
act_alive "$sleeper"; ok $? "and the command keeps running"
find_item Greet '1\.1'
keys x
wait_screen 'item 1\.5 is still running' 5; ok $? "x while a command runs: refused, one at a time"
keys q
wait_screen 'item 1\.5 is running\. Quit anyway\? \(y/n, then Enter\)' 5; ok $? "q asks before quitting"
text n; keys Enter
wait_screen_not 'Quit anyway' 5
like "$(screen)" 'DRIVER' "n: the console stays"
keys o
wait_screen 'Output: item 1\.5' 5
keys C-c
wait_screen '1\.5: cancelled, signal [0-9]+ \(' 15; ok $? "Ctrl-C in the pane cancels: the signal that ended it shown"
is "$(end_of 1.5 | cut -d' ' -f1)" cancelled "log --json: command_end cancelled"
keys C-c
wait_screen 'no command running: \^C in the output pane only cancels' 5
ok $? "Ctrl-C again in the pane once the command ended: said, not quit"
like "$(screen)" 'DRIVER' "the console is still running"
keys Escape

# a flag whose file changed after Enter is refused
keys F
wait_screen '\.env flags' 5
keys g Enter
wait_screen 'New value of USE_NEW_DB' 5
sed -i 's/^APP_NAME=.*/APP_NAME="renamed behind the back"/' "$D/.env"
text "true"
keys Enter
wait_screen "Set USE_NEW_DB to true\?" 5
text USE_NEW_DB; keys Enter
wait_screen 'USE_NEW_DB NOT set' 5; ok $? "a flag whose file changed since shown is refused"
grep -q '^export USE_NEW_DB=false' "$D/.env"; ok $? ".env: the flag unchanged"
grep -q '^APP_NAME="renamed behind the back"' "$D/.env"; ok $? ".env: the other change kept"
is "$(pgc log --json | jq '[.[] | select(.kind == "flag_set")] | length')" 0 "log --json: no flag_set"
keys Escape

# health: checks run in the loop; a hung one does not freeze the console
keys H
wait_screen 'Health checks' 5
wait_screen 'checking\.\.\.' 5; ok $? "H: the checks run"
keys Escape '?'
wait_screen '─ Keys ─' 2; ok $? "the console answers keys while a check hangs"
like "$(pgc log --json | jq '[.[] | select(.kind == "health")] | length')" '^0$' "the hung check has not ended yet"
keys Escape H
wait_screen 'FAIL +hung' $((HANG_MS / 1000 + 10)); ok $? "the hung check fails on its timeout"
like "$(screen)" "PASS +.*curl -fsS $BASE/slow" "the runbook's curl item is checked and passes"
like "$(screen)" 'HTTP 200 in [0-9]+ ms' "with its status and latency"
is "$(pgc log --json | jq -r '[.[] | select(.kind == "health")][-1].payload | "\(.all_ok) \(.checks | length)"')" "false 2" \
	"log --json: the health run recorded, both checks"
keys Escape

# rollback past the point of no return, no counts: unknown; stops at the first failure
keys 5
wait_screen 'Phase 5'
keys Tab Tab R
wait_screen 'type rollback to roll back anyway' 5; ok $? "R past the point of no return wants rollback typed"
like "$(screen)" 'rows the target gained since: unknown' "no counts: the rows gained are unknown"
text rollback
keys Enter
wait_screen 'type the phase id or yes' 5
text yes
keys Enter
wait_screen 'phase 5 NOT marked rolled back: 5\.3 failed' 20; ok $? "the rollback stops at the failing step"
is "$(end_of 5.2)" "ok 0" "log --json: the first step ran"
is "$(end_of 5.3)" "failed 3" "log --json: the failing step"
is "$(end_of 5.4)" "none -" "log --json: the step after it never ran"
[ -e "$D/told.txt" ]; isnt $? 0 "the step after the failure left no trace"
is "$(pgc log --json | jq '[.[] | select(.kind == "phase_rolled_back")] | length')" 0 "log --json: no phase_rolled_back"
keys Escape q
is "$(wait_exit 15)" 0 "quit"

# pgcutover killed while its command runs: the next console says the end is unknown
rm -f "$D/sleeper.pid"
console_start
wait_screen 'DRIVER' 20
keys 1
find_item 'Sleep a long time' '1\.5'
keys x
wait_screen 'Run 1\.5\?' 5
text yes; keys Enter
wait_screen 'running for' 10
end=$(( $(date +%s) + 10 )); while [ ! -s "$D/sleeper.pid" ] && [ "$(date +%s)" -lt "$end" ]; do sleep 0.1; done
kill -KILL "$(console_pid)"
kill "$(cat "$D/sleeper.pid")" 2>/dev/null
console_start --take-over
wait_screen 'DRIVER' 20; ok $? "the console opens again, taking over the dead one's lease"
wait_screen '1 command \(item 1\.5\): end unknown: pgcutover exited while it ran' 5
ok $? "and says in its status line that the command's end is unknown"
is "$(pgc log --json | jq -r '[.[] | select(.kind == "command_unknown")] | map(.item) | join(" ")')" 1.5 \
	"log --json: one command_unknown, for 1.5"
keys q
is "$(wait_exit 15)" 0 "quit"
[ -f "$D/app.pid" ] && kill "$(cat "$D/app.pid")" 2>/dev/null

done_testing
