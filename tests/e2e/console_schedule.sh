#!/bin/sh
# console_schedule.sh -- the downtime clock and recurring duties in the
# console: D asks, then starts the clock (the header shows it running
# against the plan) and D again ends it; a duty shows when it is next due
# once its phase runs, u records it done; both land in `log --json`.  The
# console announces the downtime to the config's webhook (a real HTTP
# server on loopback) from its own loop.
. "$top_srcdir/tests/lib/tap.sh"
command -v python3 >/dev/null 2>&1 || skip_all "python3 not installed"
. "$top_srcdir/tests/e2e/console.inc"
python3 "$top_srcdir/tests/lib/httpd-health.py" "$E2E_DIR/port" "$E2E_DIR/hooks" &
srv=$!
trap 'kill $srv 2>/dev/null; e2e_cleanup' EXIT
i=0
while [ ! -s "$E2E_DIR/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
E2E_ENV="PGC_TEST_HOOK=http://127.0.0.1:$(cat "$E2E_DIR/port")/hook/x"
cat > "$E2E_DIR/rb.md" <<'RB'
# Sched

## Phase 4: Parallel run (48 hours)

- [ ] Dual write on
- [ ] Every 2 hours: Error logs checked

## Phase 5: Production Cutover

### 5.2 Cutover Window (02:00-06:00)

#### Stop Services (02:00, 5 min)
- [ ] Stop the app
RB
printf '{"runbook":"rb.md","state":"state.db","notify":{"webhook_env":"PGC_TEST_HOOK"}}\n' > "$CFG"

console_start
wait_screen 'DRIVER' 10; ok $? "console opens"
like "$(screen)" 'downtime plan 4h00m' "header: the planned downtime"
keys D
wait_screen 'Downtime starts now\?' 5; ok $? "D asks first"
text n; keys Enter
wait_screen 'downtime clock unchanged' 5; ok $? "n: nothing recorded"
keys D
wait_screen 'Downtime starts now\?' 5
text yes; keys Enter
wait_screen 'downtime [0-9]+m[0-9]+s of 4h00m' 5; ok $? "y: the header shows the clock running against the plan"
is "$(pgc log --json | jq -r '[.[] | select(.kind == "downtime_start")] | length')" 1 "log --json: downtime_start"
end=$(( $(date +%s) + 5 )); while ! grep -q 'downtime started' "$E2E_DIR/hooks" 2>/dev/null && [ "$(date +%s)" -lt "$end" ]; do sleep 0.1; done
grep -q 'downtime started (alice)' "$E2E_DIR/hooks"; ok $? "the console announced it to the webhook"
keys D
wait_screen 'Downtime ends now\?' 5; ok $? "D again offers to end it"
text yes; keys Enter
wait_screen 'downtime ended' 5; ok $? "ended"
wait_screen 'of 4h00m \(ended\)' 5; ok $? "the header says it ended"
wait_screen '0/1 down [0-9]+m[0-9]+s' 5; ok $? "the rail shows the actual downtime on the window's phase"
is "$(pgc log --json | jq -r '[.[] | select(.kind == "downtime_end")][0].payload.over')" false "downtime_end: not over the plan"

keys 4
wait_screen 'Phase 4'
keys Space
wait_screen 'ticked 4\.1' 5; ok $? "phase 4 started"
keys j
wait_screen 'next [0-9]{2}:[0-9]{2}' 5; ok $? "the duty shows when it is next due"
keys u
wait_screen 'duty 4\.2 done; next due' 5; ok $? "u records the duty"
is "$(pgc log --json | jq -r '[.[] | select(.kind == "duty_done")][0] | "\(.item) \(.operator)"')" "4.2 alice" "log --json: duty_done by the operator"
keys k u
wait_screen '4\.1 is not a recurring duty' 5; ok $? "u on an ordinary item says so"
keys q
is "$(wait_exit 10)" 0 "quit"
kill $srv 2>/dev/null
done_testing
