#!/bin/sh
# console_monitor_follow.sh -- a monitor follows the phase and item its
# driver works on (issue 13: "the monitor cannot follow the driver's
# phase"): the header says "following alice"; once the monitor's operator
# moves the cursor it stays where they put it ("not following alice (f)")
# until f follows again.  The driver is a real console in a second tmux
# session holding the lease.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/e2e/console.inc"

e2e_fixture
drv_screen() { tm capture-pane -p -t drv 2>/dev/null; }
drv_wait() {
	_dw_end=$(( $(date +%s) + ${2:-$E2E_TIMEOUT} ))
	until drv_screen | grep -Eq -- "$1"; do
		[ "$(date +%s)" -ge "$_dw_end" ] && { drv_screen | sed 's/^/# driver: /' >&2; return 1; }
		sleep 0.1
	done
}
drv_keys() { tm send-keys -t drv "$@"; }

# the driver first (it creates the state), in a session of its own; the
# monitor in the e2e session
tm new-session -d -s drv -x 120 -y 30 "env TERM=$E2E_TERM LANG=$E2E_LANG LC_ALL= '$PGCUTOVER' -c '$CFG' --operator alice console"
drv_wait 'DRIVER'; ok $? "alice's console drives"
E2E_COLS=120 E2E_ROWS=30 pane_run "env TERM=$E2E_TERM LANG=$E2E_LANG LC_ALL= '$PGCUTOVER' -c '$CFG' --operator carol monitor"
wait_screen 'MONITOR'; ok $? "monitor opens"
wait_screen 'following alice' 15; ok $? "the monitor's header: following alice"

drv_keys 3 g j j Space
drv_wait '\[x\] customers'; ok $? "alice ticks 3.2"
wait_screen 'Phase 3 · Data Migration' 10; ok $? "the monitor follows her to phase 3"
wait_screen '▶ +3\.2 +\[x\] customers' 10; ok $? "its cursor on the item she ticked"

keys k
wait_screen 'not following alice \(f\)'; ok $? "moving the cursor stops following, said in the header"
drv_keys 1 g Space
drv_wait '\[x\] Create roles on the target'; ok $? "alice ticks 1.1"
wait_screen 'tick +1\.1' 10; ok $? "the monitor shows her tick in the events"
like "$(screen)" 'Phase 3 · Data Migration' "and stays at phase 3, where its operator looks"

keys f
wait_screen 'Phase 1 · Schema' 10; ok $? "f: following again, to her phase"
like "$(screen)" '▶ +1\.1 +\[x\] Create roles' "and her item"
like "$(screen | head -1)" 'following alice' "the header says so"

drv_keys q
drv_wait 'nothing' 2 >/dev/null 2>&1
keys q
is "$(wait_exit 15)" 0 "the monitor quits"
is "$(pgc log --json | jq '[.[] | select(.operator == "carol")] | length')" 0 "the monitor recorded nothing"

done_testing
