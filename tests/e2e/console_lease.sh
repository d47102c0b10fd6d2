#!/bin/sh
# console_lease.sh -- the console drives under the state's lease and keeps
# it alive with heartbeats; when it falls silent (stopped longer than the
# stale limit) and another process takes the lease over, the console, once
# resumed, stops writing and carries on as MONITOR: write keys refused,
# the new driver's ticks followed on screen.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/e2e/console.inc"

e2e_fixture
console_start
wait_screen 'DRIVER'; ok $? "console drives"
keys 3
wait_screen 'Phase 3 · Data Migration'
pid=$(console_pid)

kill -STOP "$pid"
# bob may take over only once the console's heartbeat is stale: retry,
# bounded, until the takeover is accepted
took=1
end=$(( $(date +%s) + 90 ))
while [ "$(date +%s)" -lt "$end" ]; do
	if pgc --operator bob --take-over tick 3.4 >/dev/null 2>&1; then took=0; break; fi
	sleep 1
done
ok $took "a silent console's lease can be taken over"
kill -CONT "$pid"

wait_screen 'MONITOR' 20; ok $? "the resumed console drops to MONITOR"
# waited for, not read once: a capture mid-frame can hold the new header
# (top) before the status line (bottom) is written
wait_screen 'lease taken over' 5; ok $? "and says why"
wait_screen '✔ bob'; ok $? "it follows the new driver's tick"
keys j Space
wait_screen 'MONITOR mode: Space is disabled'; ok $? "write keys are refused in MONITOR mode"
keys q
is "$(wait_exit)" 0 "quit"

log=$(pgc log --json)
is "$(printf '%s' "$log" | jq -r '[.[] | select(.kind=="lease_takeover")][0].operator')" bob "log: takeover by bob"
last_alice=$(printf '%s' "$log" | jq -r '[.[] | select(.operator=="alice")][-1].id')
first_bob=$(printf '%s' "$log" | jq -r '[.[] | select(.operator=="bob")][0].id')
[ "$last_alice" -lt "$first_bob" ]; ok $? "log: nothing written by the console after the takeover"
done_testing
