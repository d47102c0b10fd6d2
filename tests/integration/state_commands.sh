#!/bin/sh
# state_commands.sh -- the headless progress commands against a real state
# file: tick/untick/note/status/log round trip read back with jq, exit codes
# (64 usage, 65 unknown item), already-done no-op, phase_complete on the last
# item, operator/host/pid in events, file modes, config and -s resolution,
# runbook change detection, and `log --verify` catching a forged event.
. "$top_srcdir/tests/lib/tap.sh"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"
command -v sqlite3 >/dev/null 2>&1 || skip_all "sqlite3 not installed"
P=$PGCUTOVER
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export XDG_STATE_HOME="$T/xdg"
cd "$T" || exit 1

cat > rb.md <<'MD'
# Shop DB: Heroku → self-hosted

## Prerequisites

### ✅ Phase 0: Access and tooling

- [x] Jump host provisioned
- [x] Read-only role on source created

## Phase 1: Copy

- [ ] Stop writes
- [ ] Copy customers
- [ ] Copy orders

## Phase 2: Cutover

- [ ] Point the app at the new database
MD

# status before any state exists: the file's [x] only, nothing created.
out=$($P -r rb.md status --json)
is "$(printf '%s' "$out" | jq -r '.phases[0].status')" "done" "status: phase 0 all [x] is done"
is "$(printf '%s' "$out" | jq -r '.phases[1].status')" "not_started" "status: phase 1 not started"
is "$(printf '%s' "$out" | jq -r '.items_done')" "2" "status: items_done counts the file's [x]"
is "$(printf '%s' "$out" | jq -r '.items_total')" "6" "status: items_total"
is "$(printf '%s' "$out" | jq -r '.last_event_id')" "0" "status: no events"
[ ! -e "$XDG_STATE_HOME/pgcutover/rb.db" ]; ok $? "status does not create the state file"

$P -r rb.md --operator alice tick 1.1 --note "writes stopped" >/dev/null
ok $? "tick 1.1"
db="$XDG_STATE_HOME/pgcutover/rb.db"
[ -f "$db" ]; ok $? "state created at the default path under XDG_STATE_HOME"
is "$(stat -c %a "$db")" "600" "state file mode 0600"
is "$(stat -c %a "$XDG_STATE_HOME/pgcutover")" "700" "state directory mode 0700"

ev=$($P -r rb.md log --json | jq -c '[.[] | select(.kind == "tick")][0]')
is "$(printf '%s' "$ev" | jq -r .operator)" "alice" "tick records --operator"
is "$(printf '%s' "$ev" | jq -r .host)" "$(uname -n)" "tick records the host"
like "$(printf '%s' "$ev" | jq -r .pid)" '^[0-9]+$' "tick records a pid"
is "$(printf '%s' "$ev" | jq -r .item)" "1.1" "tick names the item"
is "$(printf '%s' "$ev" | jq -r .phase)" "1" "tick names the phase"
is "$(printf '%s' "$ev" | jq -r .payload.note)" "writes stopped" "tick payload carries the note"
like "$(printf '%s' "$ev" | jq -r .payload.hash)" '^[0-9a-f]{16}$' "tick payload carries the item hash"
like "$(printf '%s' "$ev" | jq -r .ts)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$' "log ts is ISO-8601"
like "$(printf '%s' "$ev" | jq -r .hash)" '^[0-9a-f]{64}$' "log shows the hash"
kinds=$($P -r rb.md log --json | jq -r '[.[].kind] | join(",")')
is "$kinds" "state_created,runbook_loaded,tick" "first write records state_created and runbook_loaded"

out=$($P -r rb.md tick 1.1 2>&1); rc=$?
is "$rc" "0" "ticking a done item exits 0"
like "$out" "already done.*alice" "and says who ticked it"
n1=$($P -r rb.md status --json | jq .last_event_id)
out=$($P -r rb.md tick 0.1 2>&1); rc=$?
is "$rc" "0" "ticking an item [x] in the file exits 0"
like "$out" "marked \[x\] in the runbook" "and says the file has it done"
is "$($P -r rb.md status --json | jq .last_event_id)" "$n1" "a no-op tick appends nothing"

$P -r rb.md tick 1.9 >/dev/null 2>"$T/err"; rc=$?
is "$rc" "65" "unknown item exits 65"
like "$(cat "$T/err")" "no item 1\.9 in rb\.md" "message names the item and the runbook"
$P -r rb.md tick >/dev/null 2>&1; is "$?" "64" "tick without an item exits 64"
$P -r rb.md untick 1.1 >/dev/null 2>&1; is "$?" "64" "untick without --reason exits 64"

$P -r rb.md --operator bob tick 1.2 >/dev/null
out=$($P -r rb.md --operator bob --json tick 1.3)
is "$(printf '%s' "$out" | jq -r .phase_complete)" "true" "ticking the last open item completes the phase"
is "$($P -r rb.md log --json --limit 1 | jq -r '.[0].kind')" "phase_complete" "phase_complete event appended"
out=$($P -r rb.md status --json)
is "$(printf '%s' "$out" | jq -r '.phases[1].status')" "done" "status: phase 1 done"
is "$(printf '%s' "$out" | jq -r '.phases[1].done')/$(printf '%s' "$out" | jq -r '.phases[1].total')" "3/3" "status: 3/3"
[ "$(printf '%s' "$out" | jq -r '.phases[1].completed_at')" != "null" ]; ok $? "status: completed_at set"
[ "$(printf '%s' "$out" | jq -r '.phases[1].started_at')" != "null" ]; ok $? "status: started_at set"

$P -r rb.md untick 1.3 --reason "counts differ" >/dev/null
ok $? "untick with a reason"
out=$($P -r rb.md status --json)
is "$(printf '%s' "$out" | jq -r '.phases[1].status')" "in_progress" "untick reopens the phase"
is "$(printf '%s' "$out" | jq -r '.phases[1].completed_at')" "null" "untick clears completed_at"
is "$($P -r rb.md log --json --limit 1 | jq -r '.[0].payload.reason')" "counts differ" "untick reason logged"
out=$($P -r rb.md untick 1.3 --reason again 2>&1); is "$?" "0" "unticking an open item exits 0"
like "$out" "not done" "and says so"

$P -r rb.md note 1.2 copied twice >/dev/null
is "$($P -r rb.md log --json --limit 1 | jq -c '[.[0].item, .[0].payload.text]')" '["1.2","copied twice"]' "note on an item"
$P -r rb.md note 2 waiting for the DBA >/dev/null
is "$($P -r rb.md log --json --limit 1 | jq -c '[.[0].phase, .[0].item, .[0].payload.text]')" '["2",null,"waiting for the DBA"]' "note on a phase"
$P -r rb.md note "all quiet" >/dev/null
is "$($P -r rb.md log --json --limit 1 | jq -c '[.[0].phase, .[0].item, .[0].payload.text]')" '[null,null,"all quiet"]' "general note"
$P -r rb.md note 1.8 text >/dev/null 2>&1; is "$?" "65" "note on an unknown item exits 65"
$P -r rb.md note >/dev/null 2>&1; is "$?" "64" "note without text exits 64"

# log options
all=$($P -r rb.md log --json | jq length)
is "$($P -r rb.md log --json --limit 3 | jq length)" "3" "--limit 3"
is "$($P -r rb.md log --json --limit 3 | jq '.[2].id')" "$all" "--limit keeps the newest"
is "$($P -r rb.md log --json --since 2000-01-01 | jq length)" "$all" "--since in the past: everything"
is "$($P -r rb.md log --json --since 2999-01-01 | jq length)" "0" "--since in the future: nothing"
is "$($P -r rb.md log | wc -l | tr -d ' ')" "$all" "text log: one line per event"
$P -r rb.md log --since yesterday-ish >/dev/null 2>&1; is "$?" "64" "bad --since exits 64"
out=$($P -r rb.md log --verify); rc=$?
is "$rc" "0" "log --verify: intact"
like "$out" "chain intact: $all events" "log --verify prints the count"
is "$($P -r rb.md log --verify --json | jq -r .intact)" "true" "log --verify --json"

# -s and a config file resolve the same state
is "$($P -s "$db" log --json | jq length)" "$all" "-s alone reads the log (no runbook needed)"
cat > pgcutover.json <<JSON
{"runbook": "rb.md", "state": "$T/cfg-state.db", "operator": "carol"}
JSON
# 2.1 completes phase 2 while phase 1 is open: the console asks for a
# reason, so the command refuses (64) and records nothing without one
$P tick 2.1 >/dev/null 2>"$T/err"; is "$?" 64 "tick completing phase 2 with phase 1 open: refused (64)"
like "$(cat "$T/err")" "completes phase 2, but phase 1 is open \\(0/3\\).*--override" "stderr says which phase is open and what to give"
is "$($P log --json | jq '[.[] | select(.kind == "tick")] | length')" 0 "nothing recorded without the reason"
$P tick 2.1 --override "phase 1 runs in parallel" >/dev/null; ok $? "tick with ./pgcutover.json (and --override)"
is "$($P log --json | jq -r '[.[] | select(.kind == "phase_override" or .kind == "tick" or .kind == "phase_complete") | .kind] | join(",")')" \
	"phase_override,tick,phase_complete" "--override: the override, the tick and phase_complete"
is "$($P log --json | jq -r '[.[] | select(.kind == "phase_override")][0].payload | "\(.reason)|\(.open_phase)|\(.item)"')" \
	"phase 1 runs in parallel|1|2.1" "the override's reason, the open phase and the item"
[ -f "$T/cfg-state.db" ]; ok $? "the config's state path is used"
is "$($P log --json --limit 1 | jq -r '.[0].operator')" "carol" "the config's operator is recorded"
$P --operator dave note hello >/dev/null
is "$($P log --json --limit 1 | jq -r '.[0].operator')" "dave" "--operator overrides the config's operator"
is "$($P status --json | jq -r .state)" "$T/cfg-state.db" "status reports the config's state"
is "$($P -s "$db" status --json | jq -r .state)" "$db" "-s overrides the config's state"
rm pgcutover.json
$P -c nope.json status >/dev/null 2>"$T/err"; rc=$?
[ "$rc" -ne 0 ]; ok $? "-c with a missing file fails"
like "$(cat "$T/err")" "nope\.json" "and names the file"
$P status >/dev/null 2>"$T/err"; is "$?" "64" "no runbook at all: exit 64"

# Runbook change: insert an item before "Copy customers", edit "Copy orders".
sed -i 's/^- \[ \] Stop writes$/- [ ] Stop writes\n- [ ] Take a backup/; s/Copy orders/Copy all orders/' rb.md
out=$($P -r rb.md status --json 2>"$T/err")
like "$(cat "$T/err")" "changed since it was last loaded" "status reports a changed runbook"
like "$(cat "$T/err")" "1\.2->1\.3" "report names the moved item"
is "$(printf '%s' "$out" | jq -r '.phases[1].done')" "2" "ticks follow moved text; the edited item is open"
$P -r rb.md note "after the edit" >/dev/null 2>"$T/err"
ok $? "a write after the change"
ch=$($P -r rb.md log --json | jq -c '[.[] | select(.kind == "runbook_changed")][0].payload')
is "$(printf '%s' "$ch" | jq -c '.moved | map(.[0:2])')" '[["1.2","1.3"]]' "runbook_changed: moved"
is "$(printf '%s' "$ch" | jq -c '.appeared | map(.[0])')" '["1.2","1.4"]' "runbook_changed: appeared"
is "$(printf '%s' "$ch" | jq -c '.vanished | map(.[0])')" '["1.3"]' "runbook_changed: vanished"
is "$($P -r rb.md log --json | jq '[.[] | select(.kind == "runbook_loaded")] | length')" "2" "a second runbook_loaded"
$P -r rb.md note "again" >/dev/null 2>"$T/err"
is "$(cat "$T/err")" "" "no change report once the new runbook is recorded"

# Concurrent ticks of one item are recorded once (decided under the lock).
for i in 1 2 3 4 5 6; do $P -r rb.md tick 2.1 --override "early" >/dev/null 2>&1 & done
wait
is "$($P -r rb.md log --json | jq '[.[] | select(.kind == "tick" and .item == "2.1")] | length')" "1" \
	"six concurrent ticks of one item record one tick"
is "$($P -r rb.md log --json | jq '[.[] | select(.kind == "phase_override" and .phase == "2")] | length')" "1" \
	"and one override (the others found it done under the lock)"

# Tampering is caught by log --verify (exit 1, naming the event).
sqlite3 "$db" "DROP TRIGGER events_no_update; UPDATE events SET operator = 'mallory' WHERE id = 3;"
out=$($P -s "$db" log --verify); rc=$?
is "$rc" "1" "log --verify exits 1 after an edit"
like "$out" "event 3" "and names the edited event"
is "$($P -s "$db" log --verify --json | jq .bad_event)" "3" "log --verify --json: bad_event"
done_testing
