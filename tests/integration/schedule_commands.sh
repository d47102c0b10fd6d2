#!/bin/sh
# schedule_commands.sh -- `pgcutover downtime` and `pgcutover due` headless:
# the window and its planned length, start/end recorded as events (a second
# start refused), elapsed and explicit flags in --json, the same object in
# `status --json`; duties inactive until their phase starts, then due, a
# --done recorded with who, exit 1 when one is overdue (an interval that
# has passed: a duty every 1 second), a non-duty refused.  Without an
# explicit start, the clock starts at the first command run inside the
# window, before that item is ticked.
. "$top_srcdir/tests/lib/tap.sh"
command -v jq >/dev/null 2>&1 || skip_all "jq is not installed"
D=$(mktemp -d "${TMPDIR:-/tmp}/pgc-sched.XXXXXX")
trap 'rm -rf "$D"' EXIT
cat > "$D/rb.md" <<'RB'
# Sched

## Phase 4: Parallel run (48 hours)

- [ ] Dual write on
- [ ] Every 2 hours: Error logs checked
- [ ] Every 1 second: Pulse

## Phase 5: Production Cutover

### 5.2 Cutover Window (02:00-06:00)

#### Stop Services (02:00, 5 min)
- [ ] Stop the app
  ```sh
  echo stopping
  ```
RB
printf '{"runbook":"rb.md","state":"state.db"}\n' > "$D/pgcutover.json"
pgc() { "$PGCUTOVER" -c "$D/pgcutover.json" --operator carol "$@"; }

out=$(pgc --json downtime)
is "$(printf '%s' "$out" | jq -r '"\(.phase) \(.window_from)-\(.window_to) \(.planned_s) \(.running)"')" "5 02:00-06:00 14400 false" \
	"downtime --json: the window, planned 4 h, not running"
pgc downtime start >/dev/null; is "$?" 0 "downtime start"
pgc downtime start 2>"$D/err" >/dev/null; is "$?" 75 "a second start is refused (75)"
like "$(cat "$D/err")" 'already running' "and says why"
out=$(pgc --json downtime)
is "$(printf '%s' "$out" | jq -r '"\(.running) \(.explicit_start)"')" "true true" "running, explicitly started"
is "$(pgc --json status | jq -r '.downtime.running')" true "status --json has the same downtime object"
pgc downtime end >/dev/null; is "$?" 0 "downtime end"
out=$(pgc --json downtime)
is "$(printf '%s' "$out" | jq -r '"\(.running) \(.explicit_end) \(.ended_at != null)"')" "false true true" "ended, with its time"
is "$(pgc --json log | jq -r '[.[] | select(.kind == "downtime_start" or .kind == "downtime_end") | "\(.kind):\(.operator)"] | join(",")')" \
	"downtime_start:carol,downtime_end:carol" "the log has both events, by the operator"

out=$(pgc --json due); rc=$?
is "$rc" 0 "due: nothing overdue before the phase starts"
is "$(printf '%s' "$out" | jq -r '[.[] | "\(.item):\(.active)"] | join(",")')" "4.2:false,4.3:false" "duties listed, inactive"
pgc tick 4.1 >/dev/null
sleep 1.2
out=$(pgc --json due); rc=$?
is "$rc" 1 "due: exit 1 once a duty is overdue"
is "$(printf '%s' "$out" | jq -r '[.[] | "\(.item):\(.active):\(.overdue)"] | join(",")')" "4.2:true:false,4.3:true:true" \
	"phase started: both active, the 1-second one overdue"
pgc due 4.3 --done >/dev/null
out=$(pgc --json due)
is "$(printf '%s' "$out" | jq -r '.[] | select(.item == "4.3") | "\(.count) \(.last_done_by)"')" "1 carol" "due --done: recorded, by whom"
pgc due 4.1 --done 2>"$D/err"; is "$?" 65 "a non-duty is refused (65)"
like "$(cat "$D/err")" 'not a recurring duty' "and says why"

# a second state: no downtime start; running the window's first command starts the clock
pgc2() { pgc -s "$D/state2.db" "$@"; }
pgc2 note "second try" >/dev/null
is "$(pgc2 --json downtime | jq -r .running)" false "second state: not running"
pgc2 run 5.1 --yes >/dev/null 2>&1; is "$?" 0 "the window's first command runs"
ran=$(pgc2 --json log | jq -r '[.[] | select(.kind == "command_start")][0].ts')
out=$(pgc2 --json downtime)
is "$(printf '%s' "$out" | jq -r --arg ran "$ran" '"\(.running) \(.explicit_start) \(.started_at == $ran)"')" "true false true" \
	"downtime: running from the command's start, before any tick"
done_testing
