#!/bin/sh
# ops_parity.sh -- the console and the headless commands are one set of
# operations (ops.c): the same scenario is driven through `pgcutover tick`,
# `untick`, `note`, `downtime` and `due --done` on one fresh state and
# through the console in tmux on another, and the two event logs must
# match kind by kind (kind, phase, item and payload keys; times, operators
# and hashes aside).  The scenario: a tick; a tick that completes a phase
# while an earlier one is open (refused / Esc, then with a reason); a phase
# completed in order; a tick past an unmet counts gate (refused / Esc at the
# gate prompt records nothing, then with a reason); an untick; a note; the
# downtime clock started and ended; a recurring duty done.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/e2e/console.inc"

cat > "$E2E_DIR/runbook.md" <<'RB'
# Parity

## Phase 0: Prep

- [ ] Announce the window
- [ ] Freeze deploys

## Phase 1: Copy

- [ ] Copy the data

## Phase 2: Switch

- [ ] Point the app at the target

## Phase 3: Watch

- [ ] Every 2 hours: Error logs checked
RB
# Phase 1 is gated and no counts are ever recorded (the servers do not
# exist), so its gate is never met.
for side in console cli; do
	cat > "$E2E_DIR/$side.json" <<JS
{"runbook": "runbook.md", "state": "$side.db",
 "source": "host=/nonexistent dbname=a", "target": "host=/nonexistent dbname=b",
 "tables": ["items"], "gates": ["1"]}
JS
done
CFG="$E2E_DIR/console.json"
cli() { "$PGCUTOVER" -c "$E2E_DIR/cli.json" --operator bob "$@"; }
nevents() { "$PGCUTOVER" -c "$1" log --json | jq length; }

# The operator's events, one line each: kind phase item payload-keys.
# What only a console writes about itself (its session and lease, the counts it
# tries) and what every first write records are left out.
digest() {
	"$PGCUTOVER" -c "$1" log --json | jq -r '.[]
		| select(.kind | IN("state_created", "runbook_loaded", "session_start", "session_end", "counts",
		                   "lease_acquired", "lease_released", "lease_takeover") | not)
		| "\(.kind) \(.phase // "-") \(.item // "-") \(.payload | keys | sort | join(","))"'
}

# ---- headless ----
cli tick 0.1 >/dev/null; ok $? "cli: tick 0.1"
n=$(nevents "$E2E_DIR/cli.json")
cli tick 2.1 >/dev/null 2>&1; is "$?" 64 "cli: 2.1 completes phase 2 with phase 0 open: refused (64)"
is "$(nevents "$E2E_DIR/cli.json")" "$n" "cli: nothing recorded"
cli tick 2.1 --override "phase 0 is paperwork" >/dev/null; ok $? "cli: with --override"
cli tick 0.2 >/dev/null; ok $? "cli: 0.2 completes phase 0"
n=$(nevents "$E2E_DIR/cli.json")
cli tick 1.1 >/dev/null 2>&1; is "$?" 64 "cli: 1.1 past the unmet gate: refused (64)"
is "$(nevents "$E2E_DIR/cli.json")" "$n" "cli: nothing recorded"
cli tick 1.1 --override "counts after the sync" >/dev/null; ok $? "cli: with --override"
cli untick 0.1 --reason "announce again" >/dev/null; ok $? "cli: untick"
cli note 0.2 "deploys frozen by chatops" >/dev/null; ok $? "cli: note"
cli downtime start >/dev/null; ok $? "cli: downtime start"
cli downtime end >/dev/null; ok $? "cli: downtime end"
cli due 3.1 --done >/dev/null; ok $? "cli: duty done"

# ---- console ----
find_item() {   # find_item TEXT ID: search and put the cursor on it
	keys /
	text "$1"
	keys Enter
	wait_screen "found in $2"
}
console_start
wait_screen 'DRIVER' 20; ok $? "console opens"
find_item "Announce the window" 0.1
keys Space
wait_screen 'ticked 0\.1' 5; ok $? "console: tick 0.1"
find_item "Point the app" 2.1
n=$(nevents "$CFG")
keys Space
wait_screen 'completes phase 2, but phase 0 is open' 5; ok $? "console: 2.1 asks for a reason"
keys Escape
wait_screen 'cancelled; nothing recorded' 5
is "$(nevents "$CFG")" "$n" "console: asking and Esc at the order prompt record nothing"
keys Space
wait_screen 'completes phase 2, but phase 0 is open' 5
text "phase 0 is paperwork"
keys Enter
wait_screen 'ticked 2\.1; phase complete: 2' 5; ok $? "console: with the reason"
find_item "Freeze deploys" 0.2
keys Space
wait_screen 'ticked 0\.2; phase complete: 0' 5; ok $? "console: 0.2 completes phase 0"
find_item "Copy the data" 1.1
n=$(nevents "$CFG")
keys Space
wait_screen 'gated on row counts' 5; ok $? "console: 1.1 asks for a gate reason"
keys Escape
wait_screen 'cancelled; nothing recorded' 5
is "$(nevents "$CFG")" "$n" "console: asking and Esc at the gate prompt record nothing (no tick, no override)"
like "$(screen)" '\[ \] Copy the data' "console: 1.1 is shown open"
keys Space
wait_screen 'gated on row counts' 5
text "counts after the sync"
keys Enter
wait_screen 'ticked 1\.1; phase complete: 1' 5; ok $? "console: with the reason"
find_item "Announce the window" 0.1
keys Space
wait_screen 'Untick 0\.1' 5
text "announce again"
keys Enter
wait_screen 'unticked 0\.1' 5; ok $? "console: untick"
find_item "Freeze deploys" 0.2
keys Escape   # ends the search: n is the next match while one is on, as in less
keys n
wait_screen 'Enter records the note' 5
text "deploys frozen by chatops"
keys Enter
wait_screen 'note recorded on 0\.2' 5; ok $? "console: note"
keys D
wait_screen 'Downtime starts now' 5
text yes; keys Enter
wait_screen 'downtime started' 5; ok $? "console: downtime start"
keys D
wait_screen 'Downtime ends now' 5
text yes; keys Enter
wait_screen 'downtime ended' 5; ok $? "console: downtime end"
find_item "Error logs" 3.1
keys u
wait_screen 'duty 3\.1 done' 5; ok $? "console: duty done"
keys q
is "$(wait_exit 15)" 0 "console quits"

# ---- the two logs ----
want="tick 0 0.1 hash
phase_override 2 - item,open_phase,reason
tick 2 2.1 hash
phase_complete 2 - done,total
tick 0 0.2 hash
phase_complete 0 - done,total
phase_override 1 - gate,item,reason
tick 1 1.1 hash
phase_complete 1 - done,gate_overridden,total
untick 0 0.1 hash,reason
note 0 0.2 hash,text
downtime_start - - reason
downtime_end - - elapsed_s,over
duty_done 3 3.1 hash"
is "$(digest "$E2E_DIR/cli.json")" "$want" "headless: the scenario's events"
is "$(digest "$CFG")" "$(digest "$E2E_DIR/cli.json")" "console and headless logs match kind by kind"

done_testing
