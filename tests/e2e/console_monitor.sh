#!/bin/sh
# console_monitor.sh -- `pgcutover monitor`: the console on a read-only state
# while someone else drives.  It takes no lease (a headless writer still
# works), follows the driver's ticks within seconds, refuses write keys, says
# when the driver falls silent, and writes nothing to the state.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/e2e/console.inc"

e2e_fixture
pgc --operator bob note "before the monitor opens" >/dev/null 2>&1
ok $? "bob writes a first event headless"
before=$(pgc log --json | jq length)

monitor_start() {
	pane_run "env TERM=$E2E_TERM LANG=$E2E_LANG LC_ALL= '$PGCUTOVER' -c '$CFG' --operator carol monitor"
}
monitor_start
wait_screen 'MONITOR'; ok $? "monitor opens in MONITOR mode"

pgc --operator bob tick 3.2 >/dev/null 2>&1
ok $? "a headless driver can write while the monitor watches (it holds no lease)"
keys 3
wait_screen '✔ bob' 10; ok $? "the monitor shows bob's tick"

keys j Space
wait_screen 'MONITOR mode' 10; ok $? "write keys are refused"

# The key bar offers no key this console only refuses (issue 13: it listed
# r, Recount, which the monitor answers with "no live counts here").
wait_screen_not 'is disabled' 15
bar=$(screen | grep -v '^ *$' | tail -n 1)
case "$bar" in *Help*Quit*|*Quit*Help*) ok 0 "the key bar is shown: $bar" ;; *) ok 1 "the key bar is shown: $bar" ;; esac
case "$bar" in *Recount*) ok 1 "the monitor's key bar does not offer r (Recount)" ;;
               *) ok 0 "the monitor's key bar does not offer r (Recount)" ;; esac
keys r
wait_screen 'no live counts here' 10; ok $? "r, pressed anyway, says why not"

# A driver that holds the lease and then goes quiet: a lease hold that is
# stopped stops heart-beating; the monitor says so once it is stale.
"$PGCUTOVER" -c "$CFG" --operator dave lease hold 300 >/dev/null 2>&1 &
holder=$!
end=$(( $(date +%s) + 20 ))
until [ "$(pgc lease --json 2>/dev/null | jq -r .liveness)" = live ] || [ "$(date +%s)" -ge "$end" ]; do sleep 0.2; done
kill -STOP "$holder"
wait_screen 'driver dave@.* silent' 60; ok $? "the monitor says the driver fell silent"
kill -CONT "$holder"; kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null

keys q
is "$(wait_exit)" 0 "quit"
after=$(pgc log --json | jq '[.[] | select(.operator == "carol")] | length')
is "$after" 0 "the monitor recorded nothing"
[ "$(pgc log --json | jq length)" -gt "$before" ]; ok $? "the driver's events are there"
done_testing
