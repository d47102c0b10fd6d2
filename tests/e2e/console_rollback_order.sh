#!/bin/sh
# console_rollback_order.sh -- issue 13 items 6, 7 and 2 in the console.
# R shows the rollback block in its written order (the stop, then its
# flag lines and the restores of the flags it does not name, in one
# write), runs it so (the .env a snapshot took right after the stop still
# holds the cutover's values; one backup for the three flags), and when the
# step then fails the rail and the header mark the phase "rollback failed
# at ITEM, flags restored" (and `status` says the same) until a rollback
# succeeds.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/actions.sh"
. "$top_srcdir/tests/e2e/console.inc"

D=$E2E_DIR/act
act_fixture "$D" 60
CFG=$D/pgcutover.json
cat >"$D/rb.md" <<'RB'
# Order fixture

## Phase 5: Production Cutover

### 5.1 Cutover Window (02:00-03:00)

- [ ] Switch to the new database
  ```sh
  ./svc.sh stop
  USE_NEW_DB=true
  USE_LEGACY_SUPABASE=false
  READ_FROM_NEW_DB=true
  ./svc.sh start
  ```

### 5.4 Rollback (if needed)

- [ ] Restart on the old database
  ```sh
  ./svc.sh stop
  cp .env env_at_stop
  USE_NEW_DB=false
  USE_LEGACY_SUPABASE=true
  if [ -f fail_rollback ]; then echo "pm2: start failed" >&2; exit 5; fi
  ./svc.sh start
  ```
RB
jq '.flags += ["READ_FROM_NEW_DB"] | .env_backups = 100' "$CFG" >"$CFG.tmp" && mv "$CFG.tmp" "$CFG"
echo "READ_FROM_NEW_DB=false" >>"$D/.env"
flags() { printf '%s,%s,%s' "$(sed -n 's/^export USE_NEW_DB=\([^ ]*\).*/\1/p' "$1")" \
	"$(sed -n 's/^USE_LEGACY_SUPABASE=//p' "$1")" "$(sed -n 's/^READ_FROM_NEW_DB=//p' "$1")"; }
backups() { ls -a "$D" | grep -c '^\.env\.bak-'; }
trap '[ -f "$D/app.pid" ] && kill "$(cat "$D/app.pid")" 2>/dev/null; e2e_cleanup' EXIT
(cd "$D" && pgc run 5.1 --yes >/dev/null 2>&1)
is "$(flags "$D/.env")" "true,false,true" "the cutover set the flags"
step=$(pgc rollback 5 --dry-run --json | jq -r '.steps[0].item')
touch "$D/fail_rollback"
b0=$(backups)

E2E_COLS=160 E2E_ROWS=48 console_start
wait_screen 'DRIVER' 20; ok $? "console opens"
keys 5
wait_screen 'Phase 5'
keys Tab Tab R
wait_screen 'pgcutover will roll back:' 5; ok $? "R shows the rollback"
like "$(screen)" "restore flags with step $step's flag lines, in one write" "the restores are placed with the step's flag lines"
like "$(screen)" 'these 3 flags in one write' "the three flags are one write"
s=$(screen)
stop_at=$(printf '%s\n' "$s" | grep -n 'svc.sh stop' | head -1 | cut -d: -f1)
flag_at=$(printf '%s\n' "$s" | grep -n 'flag USE_NEW_DB' | head -1 | cut -d: -f1)
[ -n "$stop_at" ] && [ -n "$flag_at" ] && [ "$stop_at" -lt "$flag_at" ]
ok $? "the stop is shown before the flag lines, as written"
wait_screen 'type the phase id or yes' 5; ok $? "asks for the phase id"
text 5
keys Enter
wait_screen 'NOT marked rolled back' 20; ok $? "the step fails"
is "$(flags "$D/env_at_stop")" "true,false,true" "the stop ran while .env held the cutover's values"
is "$(flags "$D/.env")" "false,true,false" "the flags were restored before the step failed"
is "$(backups)" "$((b0 + 1))" "one backup for the three flags"
keys Escape
wait_screen "[0-9]+/[0-9]+ R rollback failed at $step" 5; ok $? "the rail marks the phase: rollback failed at the step"
like "$(screen)" "phase 5 rollback failed at $step, flags restored" "the header says it whole"
unlike "$(screen)" '[0-9]+/[0-9]+ R (in progress|not started)|phase 5 (in progress|not started)' "neither says the phase is in progress or not started"
like "$(pgc status)" "rollback failed at $step, flags restored" "status says the same"

# A rollback that succeeds clears the mark.
rm -f "$D/fail_rollback"
keys R
wait_screen 'type the phase id or yes' 5
text 5
keys Enter
wait_screen 'phase 5 rolled back' 20; ok $? "the second rollback succeeds"
keys Escape
wait_screen '[0-9]+/[0-9]+ R rolled back' 5; ok $? "the rail: rolled back"
unlike "$(screen)" 'rollback failed' "the mark is gone"
keys q
is "$(wait_exit 15)" 0 "quit"
done_testing
