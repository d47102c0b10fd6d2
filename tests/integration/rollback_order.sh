# rollback_order.sh -- issue 13 items 6, 7 and 2, headless.  The rollback
# block runs in its written order: its `svc.sh stop` runs while .env still
# holds the cutover's values (a snapshot taken right after the stop shows
# them), and its flag lines restore them where they stand, together with
# the flags the block does not name, in ONE write of .env and ONE backup
# (a watcher reading .env in a loop never sees a mix of old and new
# values).  A rollback whose step fails after its flags were restored is
# recorded, and `status` (text and --json) marks the phase "rollback
# failed at ITEM, flags restored" until a rollback succeeds.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/actions.sh"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"
command -v setsid >/dev/null 2>&1 || skip_all "setsid not installed"
T=$(mktemp -d)
trap '[ -f "$T/app.pid" ] && kill "$(cat "$T/app.pid")" 2>/dev/null; [ -n "$W" ] && kill "$W" 2>/dev/null; rm -rf "$T"' EXIT
act_fixture "$T"
cd "$T" || exit 1
P() { "$PGCUTOVER" -c "$T/pgcutover.json" "$@"; }

# Three flags; the cutover sets them in one block, the rollback block
# names two of them between its stop and its start (a comment between
# them), and fails on demand after them.
cat >rb.md <<'RB'
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
  # back to Supabase
  USE_LEGACY_SUPABASE=true
  cp .env env_after_flags
  if [ -f fail_rollback ]; then echo "pm2: start failed" >&2; exit 5; fi
  ./svc.sh start
  ```
RB
jq '.flags += ["READ_FROM_NEW_DB"] | .env_backups = 100' pgcutover.json >cfg.tmp && mv cfg.tmp pgcutover.json
echo "READ_FROM_NEW_DB=false" >>.env
flags() { printf '%s,%s,%s' "$(sed -n 's/^export USE_NEW_DB=\([^ ]*\).*/\1/p' "$1")" \
	"$(sed -n 's/^USE_LEGACY_SUPABASE=//p' "$1")" "$(sed -n 's/^READ_FROM_NEW_DB=//p' "$1")"; }
old=$(flags .env)
is "$old" "false,true,false" "fixture: the flags before the cutover"
backups() { ls -a | grep -c '^\.env\.bak-'; }

b0=$(backups)
P run 5.1 --yes >/dev/null 2>&1; is "$?" 0 "cutover step ran"
new=$(flags .env)
is "$new" "true,false,true" "the cutover set the three flags"
is "$(backups)" "$((b0 + 1))" "three consecutive flag lines: one backup"

step=$(P rollback 5 --dry-run --json | jq -r '.steps[0].item')
js=$(P rollback 5 --dry-run --json)
is "$(printf '%s' "$js" | jq -r '.restore_with_step')" "$step" "the restores go with the step's flag lines"
is "$(printf '%s' "$js" | jq -r '[.steps[0].segments[] | .kind + ":" + (.name // (.text | split("\n")[0]))] | join(" ")')" \
   "shell:./svc.sh stop flag:USE_NEW_DB shell:# back to Supabase flag:USE_LEGACY_SUPABASE flag:READ_FROM_NEW_DB shell:cp .env env_after_flags" \
   "the plan keeps the block's order; the flag it does not name joins its flag lines"
human=$(P rollback 5 --dry-run)
like "$human" 'USE_LEGACY_SUPABASE: false -> true' "the block's own line shows the change it makes (not true -> true)"
like "$human" 'these 3 flags in one write' "the plan says the three flags are one write"
stop_line=$(printf '%s\n' "$human" | grep -n 'svc.sh stop' | head -1 | cut -d: -f1)
flag_line=$(printf '%s\n' "$human" | grep -n 'flag USE_NEW_DB' | head -1 | cut -d: -f1)
[ -n "$stop_line" ] && [ -n "$flag_line" ] && [ "$stop_line" -lt "$flag_line" ]
ok $? "the human plan lists the stop before the flag lines"

# Item 2: the step fails after its flags were written.
touch fail_rollback
P rollback 5 --yes >/dev/null 2>err; rc=$?
is "$rc" 5 "the failing rollback step's exit status"
is "$(flags env_at_stop)" "$new" "the stop ran while .env still held the cutover's values"
is "$(flags env_after_flags)" "$old" "the block's flag lines restored all three where they stand"
is "$(act_events "$T" phase_rolled_back | wc -l)" 0 "a failed rollback is not recorded as rolled back"
fe=$(act_events "$T" phase_rollback_failed)
is "$(printf '%s' "$fe" | jq -r '.payload.failed_at')" "$step" "phase_rollback_failed names the step"
is "$(printf '%s' "$fe" | jq -r '.payload.restored | sort | join(",")')" \
   "READ_FROM_NEW_DB,USE_LEGACY_SUPABASE,USE_NEW_DB" "phase_rollback_failed names the flags restored"
st=$(P status)
like "$st" "rollback failed at $step, flags restored" "status marks the phase"
is "$(P status --json | jq -r '.phases[] | select(.id == "5") | .rollback_failed')" \
   "rollback failed at $step, flags restored" "status --json marks the phase"

# A rollback that succeeds resolves it; one write, no mixed state seen.
rm -f fail_rollback
P run 5.1 --yes >/dev/null 2>&1; is "$?" 0 "cutover step ran again"
is "$(flags .env)" "$new" "flags set again"
: >seen
# one read of the file per look (one open: a rename swaps it whole), then
# its three values
( while [ ! -f stop_watch ]; do cat .env >watch.tmp; flags watch.tmp >>seen; echo >>seen; done ) &
W=$!
b1=$(backups)
P rollback 5 --yes >/dev/null 2>&1; is "$?" 0 "rollback succeeds"
touch stop_watch
wait "$W"; W=
is "$(flags env_at_stop)" "$new" "again: the stop ran before any flag changed"
is "$(flags .env)" "$old" "flags restored"
is "$(backups)" "$((b1 + 1))" "the rollback's flag lines and restores: one backup"
mixed=$(sort -u seen | grep -v -x -e '' -e "$old" -e "$new" -e ',,' | head -3)
is "$mixed" "" "the watcher never saw a mix of old and new values"
like "$(sort -u seen | paste -sd' ')" "$old" "the watcher saw the file (after the rollback)"
unlike "$(P status)" "rollback failed" "a successful rollback clears the mark"
is "$(P status --json | jq -r '.phases[] | select(.id == "5") | .rollback_failed')" null "status --json: cleared"

done_testing
